"""Statistics, the targets (issues 4, 10 and 23), and the text, RST and JSON outputs.

Overheads are paired: in each round the bare-Flask sample of a scenario is
subtracted from the contestant's sample of the same round, and the median of
those differences is reported. Targets print PASS or MISS; timing never makes
the run fail.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import Any

from .contestants import BARE, CROSSORIGIN, FLASK_CORS
from .scenarios import CSRF_VARIANT

OURS = CROSSORIGIN
ADVERSARIAL_HEADER_BYTES = 64 * 1024


def summarize(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    quartiles = statistics.quantiles(ordered, n=4) if len(ordered) >= 2 else [ordered[0]] * 3
    return {
        "median_us": statistics.median(ordered),
        "q1_us": quartiles[0],
        "q3_us": quartiles[2],
        "min_us": ordered[0],
        "rounds": len(ordered),
    }


def paired_overhead(samples: list[float], bare: list[float]) -> float:
    return statistics.median(s - b for s, b in zip(samples, bare))


@dataclass
class Target:
    key: str
    text: str
    measured: float | None
    limit: float | None
    unit: str
    detail: str = ""

    @property
    def status(self) -> str:
        if self.measured is None or self.limit is None:
            return "N/A"
        return "PASS" if self.measured <= self.limit else "MISS"

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "text": self.text,
            "measured": self.measured,
            "limit": self.limit,
            "unit": self.unit,
            "status": self.status,
            "detail": self.detail,
        }


#: (variant, plain, whole requests?) scenarios whose targets are timed back to back,
#: round after round (``measure.hook_cost_pairs``): the extension's hooks alone where
#: they are the only part of the request that differs (the same request, origins kept
#: in another way), whole requests where the answer differs too (a refusal writes fewer
#: header lines than a grant, and that is part of what it costs).
HOOK_PAIRS = (
    ("simple_refused", "simple_allowed", True),
    ("origins_cached_10000", "origins_10000", False),
    ("origins_cached_10000_refused", "origins_10000_refused", False),
    ("origins_lookup_10000", "origins_10000", False),
    ("origins_lookup_10000_refused", "origins_10000_refused", False),
)


def evaluate_targets(
    scenarios: dict[str, Any], request_memory: dict[str, dict[str, int]],
    hook_pairs: dict[str, dict[str, float]] | None = None,
) -> list[Target]:
    pairs = hook_pairs or {}

    def get(scenario: str, contestant: str, field: str) -> float | None:
        return scenarios.get(scenario, {}).get("contestants", {}).get(contestant, {}).get(field)

    def ratio_target(
        key: str, text: str, num: float | None, den: float | None, limit: float, detail: str
    ) -> Target:
        if num is None or den is None or den <= 0:
            return Target(key, text, None, limit, "ratio", detail + " (not measurable)")
        return Target(key, text, num / den, limit, "ratio", detail)

    ours_simple = get("simple_allowed", OURS, "overhead_us")
    fc_simple = get("simple_allowed", FLASK_CORS, "overhead_us")
    bare_simple = get("simple_allowed", BARE, "median_us")
    targets = [
        ratio_target(
            "simple_vs_flask_cors",
            "simple request overhead <= 0.22 of flask-cors's",
            ours_simple,
            fc_simple,
            0.22,
            f"{_f(ours_simple)} µs vs {_f(fc_simple)} µs",
        ),
        ratio_target(
            "simple_vs_bare",
            "simple request overhead <= 13 % of the bare Flask request (stretch: 10 %)",
            ours_simple,
            bare_simple,
            0.13,
            f"{_f(ours_simple)} µs vs {_f(bare_simple)} µs",
        ),
        refused_target(get("simple_refused", OURS, "samples_us"),
                       get("simple_allowed", OURS, "samples_us"),
                       pairs.get("simple_refused-simple_allowed")),
    ]
    for family, many, words in (
        ("resources", "resources_1000", "resources"),
        ("origins", "origins_1000", "origins"),
        ("glob", "glob_1000", "glob patterns sharing a prefix, uncached path,"),
    ):
        one = get(f"{family}_1", OURS, "overhead_us")
        big = get(many, OURS, "overhead_us")
        targets.append(
            ratio_target(
                f"{family}_1000_vs_1",
                f"overhead with 1000 {words} <= 1.2x the overhead with one",
                big,
                one,
                1.2,
                f"{_f(big)} µs vs {_f(one)} µs",
            )
        )
    # Paired difference against Flask's automatic OPTIONS: must be <= 0.
    pre = get("preflight", OURS, "overhead_us")
    targets.append(
        Target(
            "preflight_vs_automatic_options",
            "preflight answered by the extension costs no more than Flask's automatic OPTIONS",
            pre,
            0.0 if pre is not None else None,
            "µs",
            f"extension {_f(get('preflight', OURS, 'median_us'))} µs, "
            f"automatic OPTIONS {_f(get('preflight', BARE, 'median_us'))} µs",
        )
    )
    adv = get("preflight_adversarial", OURS, "median_us")
    normal = get("preflight", OURS, "median_us")
    targets.append(
        ratio_target(
            "adversarial_vs_preflight",
            "adversarial request headers <= 2x a normal preflight",
            adv,
            normal,
            2.0,
            f"{_f(adv)} µs vs {_f(normal)} µs",
        )
    )
    mem = request_memory.get(OURS, {})
    if "preflight_adversarial" in mem and "preflight" in mem:
        extra = mem["preflight_adversarial"] - mem["preflight"]
        targets.append(
            Target(
                "adversarial_memory",
                "adversarial preflight: extra peak memory <= the header's own size (64 KiB)",
                float(extra),
                float(ADVERSARIAL_HEADER_BYTES),
                "bytes",
                f"peak {mem['preflight_adversarial']} B vs {mem['preflight']} B "
                "for a normal preflight",
            )
        )
    else:
        targets.append(
            Target(
                "adversarial_memory",
                "adversarial preflight memory bounded",
                None,
                None,
                "bytes",
                "not measured",
            )
        )
    for key, text, scenario, limit in (
        ("csrf_safe_method", "csrf_protection: a safe-method request pays <= 0.5 µs more",
         "csrf_get", 0.5),
        ("csrf_write", "csrf_protection: a trusted cross-origin write pays <= 3 µs more",
         "csrf_write", 3.0),
    ):
        def extra(field: str, scenario: str = scenario) -> float | None:
            return get(scenario, CSRF_VARIANT, field)

        targets.append(Target(
            key, text, extra("hooks_extra_us"), limit, "µs",
            f"{scenario}, the extension's hooks with it minus without it, paired per round "
            f"[quartiles {_f(extra('hooks_extra_q1_us'), 2)} .. "
            f"{_f(extra('hooks_extra_q3_us'), 2)}]; whole request "
            f"{_f(extra('extra_us'), 2)} µs [{_f(extra('extra_q1_us'), 2)} .. "
            f"{_f(extra('extra_q3_us'), 2)}]"))
    for suffix, what in (("", "granted"), ("_refused", "refused")):
        static = get(f"origins_10000{suffix}", OURS, "overhead_us")
        cached = get(f"origins_cached_10000{suffix}", OURS, "overhead_us")
        looked_up = get(f"origins_lookup_10000{suffix}", OURS, "overhead_us")
        for key, text, mode, whole in (
            (f"cached_vs_static{suffix or '_granted'}",
             f"a {what} request under 10,000 origins loaded by CachedOrigins costs no more "
             "than 1.1x the same 10,000 listed statically", "cached", cached),
            (f"lookup_cached_vs_static{suffix or '_granted'}",
             f"a {what} request answered from the per-origin cache (CachedOrigins(lookup=)) "
             "costs no more than 1.1x a static list's lookup", "lookup", looked_up),
        ):
            targets.append(_against_static(
                key, text, whole, static,
                pairs.get(f"origins_{mode}_10000{suffix}-origins_10000{suffix}")))
    dec = get("decorator", OURS, "overhead_us")
    targets.append(
        ratio_target(
            "decorator_vs_extension",
            "decorator overhead <= 1.2x the extension's",
            dec,
            ours_simple,
            1.2,
            f"{_f(dec)} µs vs {_f(ours_simple)} µs",
        )
    )
    return targets


def _against_static(key: str, text: str, whole: float | None, static: float | None,
                    hooks: dict[str, float] | None) -> Target:
    """A mode of loaded origins against the same origins listed statically: the static
    overhead plus the difference of the extension's hooks timed back to back (the only
    part of the request the origins' mode changes), as a ratio; the whole-request
    ratio (two scenarios timed apart, noisier) beside it."""
    if static is None or static <= 0:
        return Target(key, text, None, 1.1, "ratio", "not measurable")
    whole_text = (f"whole request {_f(whole)} µs vs {_f(static)} µs"
                  + (f" ({whole / static:.2f}x)" if whole is not None else ""))
    if hooks is None:
        if whole is None:
            return Target(key, text, None, 1.1, "ratio", "not measurable")
        return Target(key, text, whole / static, 1.1, "ratio", whole_text)
    return Target(
        key, text, (static + hooks["median_us"]) / static, 1.1, "ratio",
        f"static +{static:.1f} µs, hooks alone {hooks['median_us']:+.2f} µs "
        f"[quartiles {hooks['q1_us']:+.2f} .. {hooks['q3_us']:+.2f}]; {whole_text}")


def refused_target(refused: list[float] | None, granted: list[float] | None,
                   hooks: dict[str, float] | None = None) -> Target:
    """A refused simple request costs no more than a granted one: the median over rounds
    of (refused - granted) of the extension's hooks timed back to back (``hooks``), or
    of whole requests, both samples of the same round."""
    text = "a refused simple request costs no more than a granted one"
    if not refused or not granted:
        return Target("refused_vs_granted", text, None, 0.0, "µs", "not measured")
    diffs = sorted(r - g for r, g in zip(refused, granted))
    q1, q3 = (statistics.quantiles(diffs, n=4)[::2] if len(diffs) > 1 else (diffs[0],) * 2)
    whole = (f"whole requests {statistics.median(diffs):+.2f} µs, paired per round "
             f"[quartiles {q1:+.2f} .. {q3:+.2f}]")
    if hooks is None:
        return Target("refused_vs_granted", text, statistics.median(diffs), 0.0, "µs",
                      f"refused - granted: {whole}")
    return Target(
        "refused_vs_granted", text, hooks["median_us"], 0.0, "µs",
        f"refused - granted, whole requests back to back {hooks['median_us']:+.2f} µs "
        f"[quartiles {hooks['q1_us']:+.2f} .. {hooks['q3_us']:+.2f}]; in the table's "
        f"rounds, {whole}")


def _f(value: float | None, digits: int = 1) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def _cell(entry: dict[str, Any] | None, with_overhead: bool) -> str:
    if entry is None:
        return "-"
    if entry.get("problem"):
        return "CHECK FAILED"
    text = _f(entry["median_us"])
    if with_overhead:
        text += f" ({entry['overhead_us']:+.1f})"
    return text


def table_rows(doc: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    keys = [k for k in (BARE, FLASK_CORS, CROSSORIGIN) if k in doc["contestants"]]
    head = ["scenario"] + [
        f"{doc['contestants'][k]['label']} µs" + ("" if k == BARE else " (+overhead)") for k in keys
    ]
    both = FLASK_CORS in keys and CROSSORIGIN in keys
    if both:
        head.append("overhead ours/flask-cors")
    rows = []
    for name, scenario in doc["scenarios"].items():
        entries = scenario["contestants"]
        row = [name] + [_cell(entries.get(k), k != BARE) for k in keys]
        if both:
            ours, theirs = entries.get(CROSSORIGIN), entries.get(FLASK_CORS)
            if (
                ours
                and theirs
                and not ours.get("problem")
                and not theirs.get("problem")
                and theirs["overhead_us"] > 0
            ):
                row.append(f"{ours['overhead_us'] / theirs['overhead_us']:.2f}")
            else:
                row.append("-")
        rows.append(row)
    return head, rows


def csrf_rows(doc: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(scenario, hooks extra, whole-request extra) of the csrf_protection variant, in µs
    with quartiles."""
    rows = []
    for name, scenario in doc["scenarios"].items():
        entry = scenario["contestants"].get(CSRF_VARIANT)
        if entry and entry.get("extra_us") is not None:
            rows.append((name, *(
                f"{entry[f'{p}_us']:+.2f} [{entry[f'{p}_q1_us']:+.2f} .. "
                f"{entry[f'{p}_q3_us']:+.2f}]" for p in ("hooks_extra", "extra"))))
    return rows


def format_text(doc: dict[str, Any]) -> str:
    lines = []
    meta = doc["meta"]
    lines.append(f"# {meta['python']} on {meta['cpu']} ({meta['nproc']} cores)")
    lines.append(
        "# "
        + ", ".join(f"{c['label']} {c['version']}" for c in doc["contestants"].values())
        + f"; {doc['config']['rounds']} rounds, samples of "
        + (
            f"{doc['config']['number']} requests"
            if doc["config"]["number"]
            else f"~{doc['config']['sample_ms']} ms"
        )
    )
    for c in doc["contestants"].values():
        if c.get("location"):
            lines.append(f"# {c['label']} from {c['location']}")
    for key, reason in doc.get("skipped", {}).items():
        lines.append(f"# skipped {key}: {reason}")
    lines.append("")
    head, rows = table_rows(doc)
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
    lines.append("  ".join(h.ljust(w) for h, w in zip(head, widths)))
    lines.append("  ".join("-" * w for w in widths))
    for row in rows:
        lines.append(
            "  ".join([row[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(row[1:], widths[1:])])
        )
    problems = [
        f"  {name} / {key}: {entry['problem']}"
        for name, scenario in doc["scenarios"].items()
        for key, entry in scenario["contestants"].items()
        if entry.get("problem")
    ]
    if problems:
        lines += ["", "CHECK FAILED (answers not as expected, not timed):", *problems]
    csrf = csrf_rows(doc)
    if csrf:
        lines += ["", "csrf_protection=True: flask_crossorigin with it minus without it, "
                      "paired per round, µs median [quartiles]:",
                  f"  {'scenario':24s} {'the hooks':28s} whole request"]
        lines += [f"  {name:24s} {hooks:28s} {whole}" for name, hooks, whole in csrf]
    if doc.get("request_memory"):
        lines += ["", "peak bytes allocated while answering one request (tracemalloc):"]
        for key, per in doc["request_memory"].items():
            lines.append(
                f"  {doc['contestants'][key]['label']}: "
                + ", ".join(f"{s} {b}" for s, b in per.items())
            )
    if doc.get("startup"):
        lines += ["", "start-up: install ms / first request ms (median):"]
        for key, per in doc["startup"].items():
            cells = ", ".join(
                f"{p} {v['install_ms']:.2f}/{v['first_request_ms']:.2f}" for p, v in per.items()
            )
            lines.append(f"  {doc['contestants'][key]['label']}: {cells}")
        if "bare_first_request_ms" in doc:
            lines.append(f"  bare Flask first request: {doc['bare_first_request_ms']:.2f} ms")
    if doc.get("memory"):
        lines += ["", "memory retained per policy (bytes, tracemalloc):"]
        for key, per in doc["memory"].items():
            cells = ", ".join(f"{p} {v:.0f}" for p, v in per.items())
            lines.append(f"  {doc['contestants'][key]['label']}: {cells}")
    if doc.get("targets"):
        lines += ["", "targets (ratios from this run; informative, never fatal):"]
        for t in doc["targets"]:
            measured = "n/a" if t["measured"] is None else f"{t['measured']:.2f}"
            limit = "n/a" if t["limit"] is None else f"{t['limit']:.2f}"
            lines.append(
                f"  [{t['status']:4}] {t['text']}: {measured} "
                f"(limit {limit} {t['unit']}) - {t['detail']}"
            )
    return "\n".join(lines)


def _list_table(head: list[str], rows: list[list[str]], title: str) -> list[str]:
    out = [f".. list-table:: {title}", "   :header-rows: 1", ""]
    for row in [head, *rows]:
        out.append(f"   * - {row[0]}")
        out.extend(f"     - {cell}" for cell in row[1:])
    return [*out, ""]


def format_rst(doc: dict[str, Any]) -> str:
    """The results as RST list-tables, to paste into docs/performance.rst."""
    head, rows = table_rows(doc)
    out = _list_table(
        head,
        [[f"``{row[0]}``", *row[1:]] for row in rows],
        "Median µs per request (paired overhead over bare Flask)",
    )
    labels = {k: c["label"] for k, c in doc["contestants"].items()}
    csrf = csrf_rows(doc)
    if csrf:
        out += _list_table(
            ["scenario", "the hooks: µs median [quartiles]",
             "whole request: µs median [quartiles]"],
            [[f"``{name}``", hooks, whole] for name, hooks, whole in csrf],
            "csrf_protection=True: flask_crossorigin with it minus without it, paired per round",
        )
    if doc.get("startup"):
        keys = list(doc["startup"])
        policies = list(next(iter(doc["startup"].values())))
        out += _list_table(
            ["policy", *(f"{labels[k]} install / first request ms" for k in keys)],
            [
                [
                    f"``{p}``",
                    *(
                        f"{doc['startup'][k][p]['install_ms']:.2f} / "
                        f"{doc['startup'][k][p]['first_request_ms']:.2f}"
                        for k in keys
                    ),
                ]
                for p in policies
            ],
            "Start-up: CORS(app, ...) and the first request (median ms)",
        )
    if doc.get("memory"):
        keys = list(doc["memory"])
        policies = list(next(iter(doc["memory"].values())))
        out += _list_table(
            ["policy", *(f"{labels[k]} bytes" for k in keys)],
            [[f"``{p}``", *(f"{doc['memory'][k][p]:,.0f}" for k in keys)] for p in policies],
            "Memory retained by the extension (tracemalloc)",
        )
    if doc.get("request_memory"):
        keys = list(doc["request_memory"])
        scenarios = list(next(iter(doc["request_memory"].values())))
        out += _list_table(
            ["scenario", *(f"{labels[k]} bytes" for k in keys)],
            [
                [f"``{s}``", *(f"{doc['request_memory'][k].get(s, 0):,}" for k in keys)]
                for s in scenarios
            ],
            "Peak memory allocated while answering one request (tracemalloc)",
        )
    if doc.get("targets"):
        rows = []
        for t in doc["targets"]:
            measured = "n/a" if t["measured"] is None else f"{t['measured']:.2f}"
            limit = "n/a" if t["limit"] is None else f"{t['limit']:.2f}"
            rows.append(
                [t["text"], f"{measured} ({t['detail']})", f"{limit} {t['unit']}", t["status"]]
            )
        header = ["target", "measured", "limit", "result"]
        out += _list_table(header, rows, "Targets (issues 4, 10 and 23)")
    return "\n".join(out)
