"""Command line: ``python -m benchmarks [--smoke] [--json FILE] [--rst FILE] ...``."""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import platform
import statistics
import subprocess
import sys
from typing import Any

from . import contestants as contestants_module
from . import measure, report
from . import metrics as metrics_module
from . import scenarios as scenarios_module

SMOKE = {"rounds": 3, "number": 3, "warmup": 1, "startup_reps": 1}
FULL = {"rounds": 201, "number": 0, "warmup": 50, "startup_reps": 7}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Bare Flask, flask-cors and flask_crossorigin side by side, "
        "interleaved, medians in µs.",
    )
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="tiny counts, a few seconds; for CI (no timing asserted)",
    )
    parser.add_argument("--rounds", type=int, help=f"interleaved rounds (default {FULL['rounds']})")
    parser.add_argument(
        "--number",
        type=int,
        help="requests per timed sample (default: as many as fill --sample-ms, per case)",
    )
    parser.add_argument(
        "--sample-ms", type=float, default=5.0, help="target duration of one sample (default 5)"
    )
    parser.add_argument(
        "--warmup", type=int, help=f"untimed requests per case first (default {FULL['warmup']})"
    )
    parser.add_argument(
        "--startup-reps",
        type=int,
        help=f"repetitions of each start-up (default {FULL['startup_reps']})",
    )
    parser.add_argument(
        "--only", action="append", metavar="GLOB", help="scenarios to run (repeatable, fnmatch)"
    )
    parser.add_argument(
        "--contestants",
        default=",".join(contestants_module.ALL_KEYS),
        help="comma-separated subset of: " + ", ".join(contestants_module.ALL_KEYS),
    )
    parser.add_argument(
        "--no-startup", action="store_true", help="skip start-up cost and memory per policy"
    )
    parser.add_argument(
        "--no-metrics", action="store_true",
        help="skip the metrics rows (what metrics='prometheus'/'opentelemetry' add)"
    )
    parser.add_argument("--seed", type=int, default=4, help="seed of the round order shuffle")
    parser.add_argument(
        "--json", metavar="FILE", help="write the full results (with every sample) as JSON"
    )
    parser.add_argument(
        "--rst", metavar="FILE", help="write the results table as an RST list-table"
    )
    parser.add_argument(
        "--profile",
        metavar="SCENARIO",
        help="instead of benchmarking, profile the scenarios matching a glob for --contestants",
    )
    parser.add_argument("--profiler", choices=("cprofile", "pyinstrument"), default="cprofile")
    parser.add_argument("--quiet", action="store_true", help="print nothing but the final table")
    args = parser.parse_args(argv)
    base = SMOKE if args.smoke else FULL
    for name, value in base.items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    return args


def machine() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        commit = subprocess.run(
            ["git", "-C", root, "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
    except OSError:
        commit = ""
    return {
        "python": f"Python {platform.python_version()} ({platform.python_implementation()})",
        "platform": platform.platform(),
        "cpu": cpu,
        "nproc": os.cpu_count(),
        "commit": commit,
        "argv": sys.argv[1:],
    }


def run(argv: list[str] | None = None, log: Any = None) -> dict[str, Any]:
    """Run the benchmark and return the results document (what --json writes)."""
    args = parse_args(argv)
    meta = machine()  # before the run: the commit measured, not one made meanwhile
    say = (
        (lambda *a: None)
        if (args.quiet or log is None)
        else (lambda *a: print(*a, file=log, flush=True))
    )
    keys = tuple(k.strip() for k in args.contestants.split(",") if k.strip())
    if contestants_module.BARE not in keys:
        keys = (contestants_module.BARE, *keys)  # overheads are measured against it
    contestants, skipped = contestants_module.load(keys)
    chosen = [
        s
        for s in scenarios_module.all_scenarios()
        if not args.only or any(fnmatch.fnmatch(s.name, g) for g in args.only)
    ]
    say(f"building {len(chosen)} scenarios x {len(contestants)} contestants ...")
    cases = measure.prepare(chosen, contestants)

    per_sample = f"{args.number} requests" if args.number else f"about {args.sample_ms} ms"
    say(f"timing: {args.rounds} interleaved rounds, samples of {per_sample} ...")
    step = max(1, args.rounds // 10)
    samples, numbers = measure.run_rounds(
        cases,
        args.rounds,
        args.number or None,
        args.warmup,
        sample_ms=args.sample_ms,
        seed=args.seed,
        progress=lambda r: say(f"  round {r}/{args.rounds}") if r % step == 0 else None,
    )

    scenario_docs: dict[str, Any] = {}
    for s in chosen:
        bare = samples.get((s.name, contestants_module.BARE))
        entries: dict[str, Any] = {}
        for case in (c for c in cases if c.scenario is s):
            key = case.contestant.key
            entry: dict[str, Any] = {"status": case.status, "problem": case.problem}
            entry["response_header_bytes"] = case.response_header_bytes
            if (s.name, key) in samples:
                entry.update(report.summarize(samples[s.name, key]))
                entry["overhead_us"] = (
                    report.paired_overhead(samples[s.name, key], bare) if bare else None
                )
                entry["calls_per_sample"] = numbers[s.name, key]
                entry["samples_us"] = samples[s.name, key]
            entries[key] = entry
        variant = samples.get((s.name, scenarios_module.CSRF_VARIANT))
        plain = samples.get((s.name, contestants_module.CROSSORIGIN))
        if variant and plain:
            # The option's own cost: paired with the same app without it, round by round,
            # for the whole request, and for the extension's hooks alone (less noise).
            pair = {case.contestant.key: case for case in cases
                    if case.scenario is s and case.problem is None}
            hooks = measure.hook_cost_pairs(
                pair[contestants_module.CROSSORIGIN], pair[scenarios_module.CSRF_VARIANT],
                args.rounds)
            entry = entries[scenarios_module.CSRF_VARIANT]
            for prefix, diffs in (("extra", [v - p for v, p in zip(variant, plain)]),
                                  ("hooks_extra", hooks)):
                q1, median, q3 = _quartiles(diffs)
                entry.update({f"{prefix}_us": median, f"{prefix}_q1_us": q1,
                              f"{prefix}_q3_us": q3})
        scenario_docs[s.name] = {
            "description": s.description,
            "request": s.request.describe(),
            "contestants": entries,
        }

    # Pairs of scenarios whose targets compare the extension's own cost: the same hooks
    # timed back to back, round after round (the rest of the request is the same Flask
    # work in both, and only adds noise). Whole-request figures stay in the table.
    by_name = {case.scenario.name: case for case in cases
               if case.contestant.key == contestants_module.CROSSORIGIN
               and case.problem is None}
    hook_pairs: dict[str, dict[str, float]] = {}
    for variant_name, plain_name, whole in report.HOOK_PAIRS:
        if variant_name in by_name and plain_name in by_name:
            say(f"{'whole requests' if whole else 'hooks alone'}, back to back: "
                f"{variant_name} - {plain_name} ...")
            diffs = measure.hook_cost_pairs(
                by_name[plain_name], by_name[variant_name], args.rounds, repeats=3,
                timer=measure.time_batch if whole else None)
            q1, median, q3 = _quartiles(diffs)
            hook_pairs[f"{variant_name}-{plain_name}"] = {
                "median_us": median, "q1_us": q1, "q3_us": q3}

    say("memory per request ...")
    request_memory: dict[str, dict[str, int]] = {}
    for case in cases:
        if (
            case.scenario.name in ("simple_allowed", "preflight", "preflight_adversarial")
            and case.problem is None
        ):
            request_memory.setdefault(case.contestant.key, {})[case.scenario.name] = (
                measure.request_peak_memory(case)
            )

    doc: dict[str, Any] = {
        "meta": meta,
        "config": {
            k: getattr(args, k)
            for k in ("smoke", "rounds", "number", "sample_ms", "warmup", "startup_reps", "seed")
        },
        "contestants": {
            c.key: {"label": c.label, "version": c.version, "location": c.location}
            for c in contestants
        },
        "skipped": skipped,
        "scenarios": scenario_docs,
        "request_memory": request_memory,
        "hook_pairs": hook_pairs,
    }
    if not args.no_startup:
        say("start-up cost and memory per policy ...")
        doc["startup"] = measure.startup_cost(contestants, args.startup_reps)
        bare = next((c for c in contestants if c.is_bare), None)
        if bare is not None:
            doc["bare_first_request_ms"] = measure.bare_first_request_ms(bare, args.startup_reps)
        doc["memory"] = measure.policy_memory(contestants)
    if not args.no_metrics and not args.only:
        say("metrics: the hooks with metrics on vs off, per backend and mode ...")
        doc["metrics"] = metrics_module.run(args.smoke)
    doc["targets"] = [t.as_dict() for t in report.evaluate_targets(scenario_docs, request_memory,
                                                                   hook_pairs)]
    return doc


def _quartiles(values: list[float]) -> tuple[float, float, float]:
    ordered = sorted(values)
    if len(ordered) < 2:
        return ordered[0], ordered[0], ordered[0]
    q1, median, q3 = statistics.quantiles(ordered, n=4)
    return q1, statistics.median(ordered), q3


def profile(args: argparse.Namespace) -> None:
    keys = tuple(
        k.strip() for k in args.contestants.split(",") if k.strip() and k.strip() != "bare"
    ) or (contestants_module.CROSSORIGIN,)
    contestants, skipped = contestants_module.load(keys)
    for key, reason in skipped.items():
        print(f"skipped {key}: {reason}")
    chosen = [s for s in scenarios_module.all_scenarios() if fnmatch.fnmatch(s.name, args.profile)]
    count = max((args.number or 200) * min(args.rounds, 50), 100)
    for case in measure.prepare(chosen, contestants):
        print(f"\n=== {case.scenario.name} / {case.contestant.label}: {count} requests ===")
        if case.problem:
            print(f"check failed: {case.problem}")
        measure.time_batch(case.app, case.environ, args.warmup)
        if args.profiler == "pyinstrument":
            from pyinstrument import Profiler

            profiler = Profiler(interval=0.0001)
            profiler.start()
            measure.time_batch(case.app, case.environ, count)
            profiler.stop()
            print(profiler.output_text(unicode=True, color=False, show_all=False))
        else:
            import cProfile
            import pstats

            prof = cProfile.Profile()
            prof.enable()
            measure.time_batch(case.app, case.environ, count)
            prof.disable()
            pstats.Stats(prof).sort_stats("tottime").print_stats(25)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.profile:
        profile(args)
        return 0
    doc = run(argv, log=sys.stderr)
    print(report.format_text(doc))
    if "metrics" in doc:
        print("\n" + metrics_module.format_text(doc["metrics"]))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(doc, f, indent=1, ensure_ascii=False)
    if args.rst:
        with open(args.rst, "w", encoding="utf-8") as f:
            f.write(report.format_rst(doc) + "\n")
            if "metrics" in doc:
                f.write("\n" + metrics_module.format_rst(doc["metrics"]) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
