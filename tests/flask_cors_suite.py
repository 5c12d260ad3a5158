"""Run flask-cors's own behaviour tests against flask-crossorigin.

The flask-cors sdist is fetched from the package index the first time
(``pip download``), cached in the temporary directory and never committed. Its
``tests/decorator`` and ``tests/extension`` run in a subprocess pytest whose
``sys.path`` starts with ``tests/flask_cors_shim``: a ``flask_cors`` package that
is flask-crossorigin. Each test's outcome is compared with
:data:`tests.flask_cors_expected.EXPECTED_FAILURES` by ``tests/test_flask_cors_suite.py``.

After a change that moves outcomes, regenerate the table's input with::

    python -m tests.flask_cors_suite --report

which prints the pass count, then each failing test with its first assertion
line, then a ready-to-paste table in which new entries are marked ``TODO``.
``CROSSORIGIN_FLASK_CORS_SDIST=/path/to/flask_cors-6.0.5.tar.gz`` uses a local
sdist instead of the cache (machines without access to the index).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

VERSION = "6.0.5"
SUITES = ("tests/decorator", "tests/extension")
HERE = Path(__file__).resolve().parent
SHIM = HERE / "flask_cors_shim"
ROOT = HERE.parent
CACHE = Path(tempfile.gettempdir()) / f"flask-crossorigin-flask-cors-{VERSION}"

# Loaded by the subprocess pytest (-p): writes {node id: [outcome, first line]}.
_PLUGIN = '''
import json, os

_results = {}

def _first_line(report):
    text = str(report.longrepr)
    lines = [line[1:].strip() for line in text.splitlines() if line.startswith("E ")]
    if lines and lines[0].endswith(":") and len(lines) > 1:
        return lines[0] + " " + lines[1]  # "N problems in the CORS configuration:" + the first
    if lines:
        return lines[0]
    return text.strip().splitlines()[-1] if text.strip() else ""

def pytest_runtest_logreport(report):
    if report.when == "call" or report.outcome != "passed":
        if report.skipped:
            outcome, line = "skipped", ""
        elif report.failed:
            outcome, line = "failed", _first_line(report)
        else:
            outcome, line = "passed", ""
        if report.nodeid not in _results or outcome != "passed":
            _results[report.nodeid] = [outcome, line]

def pytest_sessionfinish(session):
    with open(os.environ["FLASK_CORS_SUITE_RESULTS"], "w") as out:
        json.dump(_results, out, indent=1, sort_keys=True)
'''


def sdist() -> Path:
    """The flask-cors sdist: given by the environment, cached, or downloaded now."""
    given = os.environ.get("CROSSORIGIN_FLASK_CORS_SDIST")
    if given:
        return Path(given)
    archive = CACHE / f"flask_cors-{VERSION}.tar.gz"
    if not archive.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        command = [
            sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
            "--no-deps", "--no-binary", ":all:", f"flask-cors=={VERSION}", "-d", str(CACHE),
        ]
        done = subprocess.run(command, capture_output=True, text=True, timeout=600)
        if done.returncode != 0 or not archive.exists():
            raise RuntimeError(
                f"could not download the flask-cors {VERSION} sdist ({' '.join(command)}):\n"
                f"{done.stderr}\nSet CROSSORIGIN_FLASK_CORS_SDIST to a local copy."
            )
    return archive


def suite_dir() -> Path:
    """The sdist's ``tests`` package alone (never its ``flask_cors``), extracted once."""
    archive = sdist()
    target = CACHE / f"suite-{archive.stat().st_size}"
    if (target / "tests" / "base_test.py").exists():
        return target
    staging = Path(tempfile.mkdtemp(dir=CACHE.parent, prefix="flask-cors-suite-"))
    prefix = f"flask_cors-{VERSION}/tests/"
    with tarfile.open(archive) as tar:
        members = [m for m in tar.getmembers() if m.name.startswith(prefix) and m.isfile()
                   and ".." not in m.name.split("/")]
        for member in members:
            member.name = "tests/" + member.name[len(prefix):]
        if hasattr(tarfile, "data_filter"):
            tar.extractall(staging, members=members, filter="data")
        else:  # Python < 3.11.4: names were checked above to stay under tests/
            tar.extractall(staging, members=members)
    (staging / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")  # our config stays out
    try:
        staging.rename(target)
    except OSError:  # another run got there first
        shutil.rmtree(staging, ignore_errors=True)
    return target


def run() -> dict[str, tuple[str, str]]:
    """Run the suites; ``{node id: (outcome, first assertion line)}``."""
    where = suite_dir()
    scratch = Path(tempfile.mkdtemp(prefix="flask-cors-suite-"))
    results = scratch / "results.json"
    (scratch / "suite_report_plugin.py").write_text(_PLUGIN, encoding="utf-8")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(SHIM), str(ROOT), str(scratch), str(where)])
    env["FLASK_CORS_SUITE_RESULTS"] = str(results)
    env.pop("PYTEST_ADDOPTS", None)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
             "-p", "suite_report_plugin", "--rootdir", str(where), *SUITES],
            cwd=where, env=env, capture_output=True, text=True, timeout=600,
        )
        if done.returncode not in (0, 1):  # 1: some tests failed; anything else: no run
            raise RuntimeError(f"the flask-cors suite did not run:\n{done.stdout}\n{done.stderr}")
        raw = json.loads(results.read_text(encoding="utf-8"))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return {node: (outcome, line) for node, (outcome, line) in raw.items()}


def report() -> None:
    from tests.flask_cors_expected import EXPECTED_FAILURES

    outcomes = run()
    ran = {node: o for node, o in outcomes.items() if o[0] != "skipped"}
    failed = {node: line for node, (outcome, line) in ran.items() if outcome == "failed"}
    print(f"flask-cors {VERSION}: {len(ran) - len(failed)} of {len(ran)} pass "
          f"({len(outcomes) - len(ran)} skipped by the suite itself)\n")
    for node, line in sorted(failed.items()):
        print(f"FAILED {node}\n    {line}")
    print("\nEXPECTED_FAILURES = {")
    for node in sorted(failed):
        number, kind = EXPECTED_FAILURES.get(node, ("TODO", "TODO"))
        print(f"    {node!r}: ({number!r}, {kind!r}),")
    print("}")
    passing = sorted(set(EXPECTED_FAILURES) - set(failed))
    if passing:
        print("\nlisted but no longer failing (remove them):")
        for node in passing:
            print(f"    {node}")


if __name__ == "__main__":
    if sys.argv[1:] != ["--report"]:
        sys.exit("usage: python -m tests.flask_cors_suite --report")
    report()
