"""Coverage-guided fuzzing of origin and request-header parsing with atheris (libFuzzer).

    python fuzz/fuzz_crossorigin.py -runs=20000 fuzz/seeds          # a short run
    python fuzz/fuzz_crossorigin.py -max_total_time=3600 CORPUS fuzz/seeds

See fuzz/README.md. The checks themselves live in fuzz/targets.py.
"""

from __future__ import annotations

import os
import sys

import atheris

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

with atheris.instrument_imports(include=["flask_crossorigin", "targets"]):
    import targets


def main() -> None:
    atheris.Setup(sys.argv, targets.one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
