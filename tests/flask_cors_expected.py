"""flask-cors 6.0.5 tests that fail against flask-crossorigin, and why.

Each entry: test node id -> (number of the difference in docs/migrating.rst,
"security" or "correctness"). Regenerate after a change with
``python -m tests.flask_cors_suite --report``.
"""

from __future__ import annotations

KINDS = ("security", "correctness")

_D = "tests/decorator/"
_E = "tests/extension/"

EXPECTED_FAILURES: dict[str, tuple[int, str]] = {
    # 1. Credentials with origins='*' are refused at start-up (here: on first use).
    _D + "test_credentials.py::SupportsCredentialsCase::test_credentials_supported":
        (1, "security"),
    # 2. Regexes match the whole origin: r".*.example.com" no longer admits
    #    'http://a.example.com.com' by prefix.
    _D + "test_origins.py::OriginsTestCase::test_regex_list": (2, "security"),
    _E + "test_app_extension.py::AppExtensionRegexp::test_regex_list": (2, "security"),
    # 8. Vary: Origin on a single-origin policy too.
    _D + "test_vary_header.py::VaryHeaderTestCase::test_consistent_origin": (8, "correctness"),
    # 9. Vary names merged into one line.
    _D + "test_vary_header.py::VaryHeaderTestCase::test_consistent_origin_concat":
        (9, "correctness"),
    # 13. A preflight asking for a header that is not allowed is refused as a whole.
    _D + "test_allow_headers.py::AllowHeadersTestCaseIntegration::"
         "test_allow_headers_with_unmatched_request_headers": (13, "correctness"),
    # 14. Access-Control-Allow-Private-Network only on preflight answers, never 'false'.
    _D + "test_private_network_headers.py::SupportsCredentialsCase::test_credentials_supported":
        (14, "correctness"),
    _D + "test_private_network_headers.py::SupportsCredentialsCase::"
         "test_credentials_unsupported": (14, "correctness"),
}
