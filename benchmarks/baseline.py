"""A/B: this checkout's flask_crossorigin against another commit's, in one interleaved run.

    python -m benchmarks.baseline --ref main --only 'simple_*' --rounds 301
    python -m benchmarks.baseline --ref main --only 'simple_*' --hooks   # + the hooks alone

The package at ``--ref`` is exported with ``git archive`` into a temporary
directory under another name (its imports are relative, so it imports as
``flask_crossorigin_baseline``) and measured as one more contestant,
``baseline``, beside bare Flask and this checkout, in the same shuffled rounds.
The report is the paired difference per round (this checkout minus the
baseline): its median and quartiles per scenario, which is what "unchanged
within noise" means here. The baseline is configured like ``crossorigin``,
except that scenarios which add a newer option (``report_only``) give it the
policy alone. Other options are those of ``python -m benchmarks``.
"""

from __future__ import annotations

import argparse
import fnmatch
import importlib
import io
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
from typing import Any

from . import __main__ as cli
from . import contestants, measure, scenarios

BASELINE = "baseline"
PACKAGE = "flask_crossorigin"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def export(ref: str, into: str) -> str:
    """Extract ``flask_crossorigin/`` at ``ref`` as ``<into>/flask_crossorigin_baseline``."""
    archive = subprocess.run(
        ["git", "-C", ROOT, "archive", ref, PACKAGE], capture_output=True, check=True
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        members = []
        for member in tar.getmembers():
            member.name = PACKAGE + "_baseline" + member.name[len(PACKAGE):]
            members.append(member)
        # Our own repository's archive; the "data" filter where this Python has it.
        safe = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
        tar.extractall(into, members=members, **safe)
    commit = subprocess.run(
        ["git", "-C", ROOT, "rev-parse", "--short", ref], capture_output=True, text=True,
        check=True,
    ).stdout.strip()
    return commit


def register(ref: str, commit: str) -> None:
    def factory() -> contestants.Contestant:
        module = importlib.import_module(PACKAGE + "_baseline")
        return contestants.Contestant(
            key=BASELINE,
            label=f"flask_crossorigin@{ref}",
            version=commit,
            extension=module.CORS,
            decorator=module.cross_origin,
            resource_prefix=lambda prefix: prefix + "/*",
            subdomain_origin=lambda domain: "https://*." + domain,
            location=os.path.dirname(module.__file__ or ""),
        )

    contestants._FACTORIES[BASELINE] = factory


def paired(doc: dict[str, Any]) -> list[str]:
    """One line per scenario: medians, overheads, and this checkout minus the baseline."""
    lines = [
        f"{'scenario':22s} {'bare µs':>8s} {'baseline (+overhead)':>21s} "
        f"{'this (+overhead)':>17s}  this - baseline, paired: median [quartiles] µs",
    ]
    for name, scenario in doc["scenarios"].items():
        entries = scenario["contestants"]
        if any(entries.get(k, {}).get("samples_us") is None
               for k in (contestants.BARE, contestants.CROSSORIGIN, BASELINE)):
            lines.append(f"{name:22s} (not measured: {entries})")
            continue
        ours, base = entries[contestants.CROSSORIGIN], entries[BASELINE]
        bare = entries[contestants.BARE]
        diffs = sorted(a - b for a, b in zip(ours["samples_us"], base["samples_us"]))
        q1, _, q3 = statistics.quantiles(diffs, n=4)
        lines.append(
            f"{name:22s} {bare['median_us']:8.1f} "
            f"{base['median_us']:10.1f} ({base['overhead_us']:+6.2f}) "
            f"{ours['median_us']:7.1f} ({ours['overhead_us']:+6.2f})  "
            f"{statistics.median(diffs):+6.2f} [{q1:+.2f} .. {q3:+.2f}]"
        )
    return lines


def hook_pairs(rest: list[str], rounds: int) -> dict[str, tuple[float, float, float]]:
    """Per scenario: the hooks of this checkout minus the baseline's, paired per round
    (quartiles and median, µs); much less noisy than whole requests."""
    args = cli.parse_args(rest)
    chosen = [s for s in scenarios.all_scenarios()
              if not args.only or any(fnmatch.fnmatch(s.name, g) for g in args.only)]
    loaded, _ = contestants.load((contestants.CROSSORIGIN, BASELINE))
    found: dict[str, tuple[float, float, float]] = {}
    for case_pair in _pairs(measure.prepare(chosen, loaded)):
        ours, base = case_pair
        diffs = sorted(measure.hook_cost_pairs(base, ours, rounds))
        q1, _, q3 = statistics.quantiles(diffs, n=4) if len(diffs) > 1 else (diffs[0],) * 3
        found[ours.scenario.name] = (q1, statistics.median(diffs), q3)
    return found


def _pairs(cases: list[measure.Case]) -> list[tuple[measure.Case, measure.Case]]:
    by_scenario: dict[str, dict[str, measure.Case]] = {}
    for case in cases:
        if case.problem is None:
            by_scenario.setdefault(case.scenario.name, {})[case.contestant.key] = case
    return [(pair[contestants.CROSSORIGIN], pair[BASELINE]) for pair in by_scenario.values()
            if contestants.CROSSORIGIN in pair and BASELINE in pair]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.baseline", add_help=False)
    parser.add_argument("--ref", default="main", help="the commit to compare with")
    parser.add_argument("--hooks", action="store_true",
                        help="also time the extension's hooks alone, paired")
    parser.add_argument("-h", "--help", action="store_true")
    args, rest = parser.parse_known_args(argv)
    if args.help:
        print(__doc__)
        return 0
    if not any(arg.startswith("--contestants") for arg in rest):
        rest += ["--contestants", f"{contestants.BARE},{contestants.CROSSORIGIN},{BASELINE}"]
    with tempfile.TemporaryDirectory() as into:
        commit = export(args.ref, into)
        sys.path.insert(0, into)
        register(args.ref, commit)
        try:
            doc = cli.run([*rest, "--no-startup", "--quiet"], log=sys.stderr)
            hooks = hook_pairs(rest, doc["config"]["rounds"]) if args.hooks else {}
        finally:
            sys.path.remove(into)
            contestants._FACTORIES.pop(BASELINE, None)
            for name in [m for m in sys.modules if m.startswith(PACKAGE + "_baseline")]:
                del sys.modules[name]
    meta = doc["meta"]
    print(f"# {meta['python']} on {meta['cpu']} ({meta['nproc']} cores); this checkout at "
          f"{meta['commit']}, baseline {args.ref} at {commit}; {doc['config']['rounds']} rounds")
    for line in paired(doc):
        print(line)
    if args.hooks:
        print("the extension's hooks alone (first before_request + its after_request), "
              "this - baseline, paired: median [quartiles] µs")
        for name, (q1, median, q3) in hooks.items():
            print(f"{name:22s} {median:+6.3f} [{q1:+.3f} .. {q3:+.3f}]")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
