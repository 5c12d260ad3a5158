"""placeholder"""
EXPECTED_FAILURES: dict[str, tuple[int, str]] = {}
