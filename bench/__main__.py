"""Run every benchmark and print one table: ``python -m bench`` (``make bench``).

Each benchmark compares against a baseline measured in the same run, on the same machine, against
the local simulator (its own process, on loopback); figures are medians, ratios are ours over the
baseline, and ``x N->10N`` columns say how a cost grows when N grows tenfold (10 = linear). They
are measurements, not tests: nothing here fails on a slow machine. Options:

- ``--only import,listing,sensors,waiting``: a subset;
- ``--quick``: smaller N and fewer repetitions, to try the harness (not for the record).

Progress goes to stderr; the table to stdout and, with the raw figures, to ``bench/results/``.
See docs/benchmarks.md for what each row measures.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any

from bench._common import HOME, ROOT, airflow_env, fmt, median, percentile, ratio, run_worker

SECTIONS = ("import", "listing", "sensors", "waiting")
INTERVAL = 2.0  # s, poll / poke interval
SPREAD = 20.0  # s, completion times are uniform in [0, SPREAD]
SEED = 3


LOADS: list[float] = []  # 1-minute load averages seen at each progress line: the machine is shared


def log(message: str) -> None:
    LOADS.append(os.getloadavg()[0])
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


class Table:
    """Sections of aligned text columns (widths per section), notes, and the targets' verdicts."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, Any]] = []
        self.verdicts: list[tuple[str, bool | None, str]] = []

    def title(self, text: str) -> None:
        self.rows.append(("title", text))

    def note(self, text: str) -> None:
        self.rows.append(("note", text))

    def row(self, *cells: Any) -> None:
        self.rows.append(("row", [c if isinstance(c, str) else fmt(c) for c in cells]))

    def target(self, name: str, met: bool | None, figures: str) -> None:
        self.verdicts.append((name, met, figures))

    def render(self) -> str:
        lines: list[str] = []
        sections: list[list[tuple[str, Any]]] = []
        for kind, value in self.rows:
            if kind == "title" or not sections:
                sections.append([])
            sections[-1].append((kind, value))
        for section in sections:
            widths: dict[int, int] = {}
            for kind, value in section:
                if kind == "row":
                    for i, cell in enumerate(value):
                        widths[i] = max(widths.get(i, 0), len(cell))
            for kind, value in section:
                if kind == "title":
                    lines += ["", f"== {value}"]
                elif kind == "note":
                    lines.append(f"   ({value})")
                else:
                    lines.append("   " + "  ".join(c.ljust(widths[i]) for i, c in enumerate(value)).rstrip())
        lines += ["", "== Targets"]
        for name, met, figures in self.verdicts:
            verdict = {True: "MET", False: "MISSED", None: "n/a"}[met]
            lines.append(f"   {verdict:<6}  {name}: {figures}")
        return "\n".join(lines)


def growth(values: list[float]) -> list[str]:
    """Cost at 10N over cost at N for consecutive sizes."""
    return [f"x{fmt(ratio(b, a))}" for a, b in itertools.pairwise(values)]


# -- parse time ----------------------------------------------------------------------------------
def bench_import(table: Table, quick: bool) -> dict[str, Any]:
    from bench import importcost

    log("import cost: fresh interpreters")
    res = importcost.measure(runs=3 if quick else 7, cold_runs=1)
    sdk, ours, anchor = median(res["sdk_s"]), median(res["ours_s"]), median(res["anchor_s"])
    anchor_note = "" if res["http_installed"] else " (http provider not installed)"
    table.title(
        f"Parse time (issue 6): median of {res['runs']} fresh processes each, imports after `import airflow.sdk`"
    )
    table.row("import", "median", "vs anchor", "modules added")
    table.row("airflow.sdk alone", f"{sdk * 1000:.0f} ms", "", "")
    table.row(
        "our operators + sensors",
        f"{ours * 1000:.1f} ms",
        f"x{fmt(ratio(ours, anchor))}",
        str(len(res["ours_added"])),
    )
    table.row(
        f"anchor {res['anchor']}{anchor_note}", f"{anchor * 1000:.1f} ms", "x1", str(res["anchor_added"])
    )
    cold_ours, cold_anchor = median(res["ours_cold_s"]), median(res["anchor_cold_s"])
    table.row(
        f"no bytecode cache ({res['cold_runs']} run each): ours / anchor",
        f"{cold_ours * 1000:.0f} ms",
        f"x{fmt(ratio(cold_ours, cold_anchor))}",
        f"anchor {cold_anchor * 1000:.0f} ms",
    )
    table.note(
        "slowest of ours, self time under -X importtime: "
        + ", ".join(
            f"{name.removeprefix('airflow_provider_onecodex.')} {us / 1000:.1f} ms"
            for name, us, _ in res["top_self"][:5]
        )
    )
    table.target(
        "parse time <= 20 ms over airflow.sdk",
        ours * 1000 <= 20,
        f"{ours * 1000:.1f} ms (anchor {res['anchor']}: {anchor * 1000:.1f} ms)",
    )
    return res


# -- listing and fetching ------------------------------------------------------------------------
def bench_listing(table: Table, quick: bool) -> dict[str, Any]:
    from bench import official

    log("listing: preparing the official client's venv")
    python, version_or_reason = official.ensure()
    reps = 2 if quick else 5
    sizes = [1000, 10000]
    page_sizes = [50, 100, 500]
    log(f"listing: {reps} repetitions x page sizes {page_sizes} x {sizes} records")
    res: dict[str, Any] = run_worker(
        "bench.listing",
        {
            "reps": reps,
            "page_sizes": page_sizes,
            "sizes": sizes,
            "fetch_sizes": [100, 1000],
            "official_python": python,
            "official_error": None if python else version_or_reason,
        },
        airflow_env(),
        timeout=900,
    )
    off = res["official"]
    off_ok = "error" not in off
    big = sizes[-1]

    def wall(variant: dict[str, Any], key: str) -> float:
        return median([w for w, _ in variant[key]])

    def cpu(variant: dict[str, Any], key: str) -> float:
        return median([c for _, c in variant[key]])

    table.title(
        f"Listing {big:,} alignments (issue 7): median of {reps} runs; ratios over the raw requests loop "
        f"(the floor); official = onecodex {version_or_reason if off_ok else 'n/a'}"
    )
    table.row(
        "client",
        "per_page",
        "wall s",
        "x raw",
        "CPU s",
        "x raw",
        "peak MB",
        "x raw",
        f"wall x {sizes[0]:,}->{big:,}",
    )
    worst_hook = 0.0
    official_faster: list[bool] = []
    for per_page in page_sizes:
        key, small = f"{per_page}/{big}", f"{per_page}/{sizes[0]}"
        raw = res["list"]["raw"]
        rw, rc, rm = wall(raw, key), cpu(raw, key), res["mem"]["raw"][key]
        rows: list[tuple[str, float, float, float, float]] = []
        for name in ("raw", "hook_list", "hook_iter"):
            v = res["list"][name]
            rows.append((name, wall(v, key), cpu(v, key), res["mem"][name][key], wall(v, small)))
        if off_ok:
            o = off["list"]
            mem = off["list_mem"].get(key, math.nan)
            rows.append(
                (
                    "official",
                    median([w for w, _ in o[key]]),
                    median([c for _, c in o[key]]),
                    mem,
                    median([w for w, _ in o[small]]),
                )
            )
        else:
            rows.append(("official", math.nan, math.nan, math.nan, math.nan))
        label = {
            "raw": "raw requests loop",
            "hook_list": "hook list_alignments",
            "hook_iter": "hook iter_alignments",
            "official": "official Alignments.where",
        }
        for name, w, c, m, w_small in rows:
            table.row(
                label[name],
                str(per_page),
                w,
                f"x{fmt(ratio(w, rw))}",
                c,
                f"x{fmt(ratio(c, rc))}",
                m / 1e6 if not math.isnan(m) else math.nan,
                f"x{fmt(ratio(m, rm))}" if not math.isnan(m) else "n/a",
                f"x{fmt(ratio(w, w_small))}",
            )
        hook_w = wall(res["list"]["hook_list"], key)
        worst_hook = max(worst_hook, ratio(hook_w, rw))
        if off_ok:
            official_faster.append(hook_w < median([w for w, _ in off["list"][key]]))
    table.target(
        "hook listing within 1.15x of the raw loop", worst_hook <= 1.15, f"worst page size: x{worst_hook:.2f}"
    )
    if off_ok:
        table.target(
            "hook listing faster than the official client",
            all(official_faster),
            f"faster at {sum(official_faster)} of {len(official_faster)} page sizes",
        )
    else:
        table.target("hook listing faster than the official client", None, off["error"])

    # memory: iterate vs collect
    table.title("Listing memory (issue 7): tracemalloc peak, per_page=100")
    table.row("records", "iter_alignments MB", "list_alignments MB", "iter / list")
    peaks_iter, peaks_list = [], []
    for size in sizes:
        key = f"100/{size}"
        it, li = res["mem"]["hook_iter"][key], res["mem"]["hook_list"][key]
        peaks_iter.append(it)
        peaks_list.append(li)
        table.row(f"{size:,}", it / 1e6, li / 1e6, f"x{fmt(ratio(it, li))}")
    table.row("growth x10 records", growth(peaks_iter)[0], growth(peaks_list)[0], "")
    table.target(
        "listing memory flat when iterating",
        ratio(peaks_iter[1], peaks_iter[0]) < 2,
        f"iterate peak x{ratio(peaks_iter[1], peaks_iter[0]):.2f} from 1k to 10k "
        f"(collecting: x{ratio(peaks_list[1], peaks_list[0]):.2f})",
    )

    # fetching one by one
    table.title(f"Fetching alignments one by one (issue 7): median of {reps} runs")
    table.row("client", "records", "wall s", "ms / record", "CPU s", "x reuse", "x 100->1,000")
    f = res["fetch"]
    for name, fetch_label in (("reuse", "hook, one session"), ("new_conn", "hook, new connection each")):
        w100, w1000 = median([w for w, _ in f[name]["100"]]), median([w for w, _ in f[name]["1000"]])
        reuse1000 = median([w for w, _ in f["reuse"]["1000"]])
        table.row(
            fetch_label,
            "1,000",
            w1000,
            w1000,
            median([c for _, c in f[name]["1000"]]),
            f"x{fmt(ratio(w1000, reuse1000))}",
            f"x{fmt(ratio(w1000, w100))}",
        )
    if off_ok:
        ow = median([w for w, _ in off["fetch"]])
        table.row(
            "official Alignments.get",
            "1,000",
            ow,
            ow,
            median([c for _, c in off["fetch"]]),
            f"x{fmt(ratio(ow, median([w for w, _ in f['reuse']['1000']])))}",
            "",
        )
    per_reuse = median([w for w, _ in f["reuse"]["1000"]]) / 1000
    per_new = median([w for w, _ in f["new_conn"]["1000"]]) / 1000
    gain = ratio(per_new, per_reuse)
    # Over a network with round trip r, a reused connection costs t + r per request and a new TLS 1.3
    # connection t + c + 3r (TCP handshake, TLS handshake, request): 2x once r >= t - c.
    break_even = max(0.0, per_reuse - (per_new - per_reuse)) * 1000
    table.note(
        f"loopback has no round trip to save: a new connection adds {(per_new - per_reuse) * 1000:.2f} ms "
        f"to {per_reuse * 1000:.2f} ms; with TLS 1.3 (+2 round trips per new connection) reuse is 2x "
        f"faster from a round-trip time of {break_even:.2f} ms"
    )
    table.target(
        "session reuse >= 2x faster than a new connection per request",
        gain >= 2,
        f"x{gain:.2f} on loopback (model: 2x over any network with RTT >= {break_even:.2f} ms)",
    )
    return res


# -- poke / reschedule ---------------------------------------------------------------------------
def bench_sensors(table: Table, quick: bool) -> dict[str, Any]:
    ns = [10, 100] if quick else [10, 100, 1000]
    modes = ("poke", "reschedule", "deferrable")
    out: dict[str, dict[int, Any]] = {mode: {} for mode in modes}
    for n in ns:
        log(f"sensors: {', '.join(modes)} N={n}")
        res = run_worker(
            "bench.sensors",
            {"modes": modes, "n": n, "interval": INTERVAL, "spread": SPREAD, "seed": SEED},
            airflow_env(),
            timeout=600,
        )
        for mode in modes:
            out[mode][n] = res[mode]
    table.title(
        f"Poke / reschedule / deferrable (issue 7): poke_interval {INTERVAL:g} s, completions over "
        f"{SPREAD:g} s, virtual clock, real HTTP; one run per N"
    )
    head = [f"N={n:,}" for n in ns]
    grow = [f"x {a:,}->{b:,}" for a, b in itertools.pairwise(ns)]
    table.row("metric", "mode", *head, *grow)

    def add(metric: str, mode: str, values: list[float]) -> None:
        table.row(metric, mode, *values, *growth(values))

    for mode in ("poke", "reschedule", "deferrable"):
        per = []
        for n in ns:
            r = out[mode][n]
            per.append(r["requests"] / n)
        add("requests / alignment", mode, per)
    for mode in ("poke", "reschedule"):
        add("latency median s", mode, [median(out[mode][n]["latencies"]) for n in ns])
        add("latency p99 s", mode, [percentile(out[mode][n]["latencies"], 99) for n in ns])
    for mode in ("poke", "reschedule", "deferrable"):
        add("worker-slot s / alignment", mode, [sum(out[mode][n]["slot_s"]) / n for n in ns])
    for mode in ("poke", "reschedule", "deferrable"):
        add("total worker-slot s", mode, [sum(out[mode][n]["slot_s"]) for n in ns])
    for mode in ("poke", "reschedule", "deferrable"):
        add("wall ms / poke", mode, [out[mode][n]["poke_s"] * 1000 / out[mode][n]["requests"] for n in ns])
    for mode in ("poke", "reschedule", "deferrable"):
        add(
            "client CPU ms / poke",
            mode,
            [out[mode][n]["poke_cpu_s"] * 1000 / out[mode][n]["requests"] for n in ns],
        )
    table.note(
        "deferrable: the first poke in the worker slot only (the trigger's requests: next table); "
        "reschedule: excludes the seconds Airflow spends starting each try"
    )
    return out


# -- deferrable waiting in one triggerer --------------------------------------------------------
def _waiting_figures(r: dict[str, Any], interval: float) -> dict[str, float]:
    from bench.waiting import LOG_SCALE

    rounds = r["wall_s"] / interval  # nominal; "rounds run / due" says when a round ran long
    scale = LOG_SCALE if r["variant"] == "ours" else 1
    return {
        "requests / round": len(r["requests"]) / rounds,
        # ours: the shared poller's rounds; anchors: GETs per wait (each wait polls on its own)
        "rounds run / due": (r["rounds"] if r["variant"] == "ours" else len(r["requests"]) / r["n"]) / rounds,
        "CPU s / round": r["cpu_s"] / rounds,
        "CPU ms / round / 1,000 waits": r["cpu_s"] / rounds / r["n"] * 1e6,
        "loop lag p50 ms": percentile(r["lags"], 50) * 1000,
        "loop lag p99 ms": percentile(r["lags"], 99) * 1000,
        "loop lag max ms": max(r["lags"], default=math.nan) * 1000,
        "full (gen 2) GCs / round": r["gen2"]["count"] / rounds,
        "detection latency median s": median(r["latencies"]),
        "detection latency p99 s": percentile(r["latencies"], 99),
        "RSS KB / wait": (r["rss_ready"] - r["rss_base"]) / r["n"] / 1000,
        "waiting logs MB / hour": r["log"]["waiting"] / r["wall_s"] * 3600 / scale / 1e6,
        "runner's own lines KB / finished wait": r["log"]["lifecycle"] / max(1, len(r["latencies"])) / 1000,
        "creating the triggers s": r["create_s"],
        "failed triggers": r["n_failures"],
        "completed waits without an event": r["unfinished"],
    }


def bench_waiting(table: Table, quick: bool, big: bool) -> dict[str, Any]:
    from bench import official, waiting

    ns = [100, 1000] if quick else [1000, 10000] + ([50000] if big else [])
    small = ns[0]
    log("waiting: preparing the http provider's venv (the anchor)")
    http_python, http_version = official.HTTP.ensure()
    anchors = ["http_event", "http_loop"] if http_python else []
    variants = {n: (["ours", *anchors] if n == small else ["ours"]) for n in ns}
    reps = {n: 1 if quick or n >= 50000 else 2 for n in ns}
    pythons = {"ours": sys.executable, "http_event": http_python or "", "http_loop": http_python or ""}
    out = waiting.measure(ns, variants, pythons, reps, INTERVAL, SPREAD, SEED, log)
    figures = {
        (v, n): {
            k: median([_waiting_figures(r, INTERVAL)[k] for r in runs])
            for k in _waiting_figures(runs[0], INTERVAL)
        }
        for v, by_n in out.items()
        for n, runs in by_n.items()
    }
    table.title(
        f"Deferred waits in one triggerer (issue 16): Airflow's TriggerRunner, one event loop, poll {INTERVAL:g} s; "
        f"N waits, N/10 complete over {SPREAD:g} s after the warm-up (10% failing), the rest never; "
        f"window {SPREAD + 3 * INTERVAL:g} s; medians of {reps[small]} runs at N={small:,} (A B C A B C)"
    )
    head = [f"ours N={small:,}"] + [f"{a} N={small:,}" for a in anchors] + [f"ours/{a}" for a in anchors]
    head += [f"ours N={n:,}" for n in ns[1:]] + [f"x {a:,}->{b:,}" for a, b in itertools.pairwise(ns)]
    table.row("metric", *head)
    for key in figures["ours", small]:
        ours = [figures["ours", n][key] for n in ns]
        cells: list[Any] = [ours[0]]
        cells += [figures[a, small][key] for a in anchors]
        cells += [f"x{fmt(ratio(ours[0], figures[a, small][key]))}" for a in anchors]
        cells += ours[1:] + growth(ours)
        table.row(key, *cells)
    table.note(
        "anchors (bench/.venv-http, apache-airflow-providers-http "
        + (http_version if http_python else f"n/a: {http_version}")
        + "): HttpEventTrigger with a response_check_path reading 'complete', and a hand-rolled "
        "HttpSensorTrigger-style loop; both send one GET per wait per poll"
    )
    table.note(
        f"ours logs 'still waiting' reminders {waiting.LOG_SCALE}x more often here, so the window "
        f"shows {waiting.LOG_SCALE}x its length of logs; MB / hour is scaled back"
    )
    if small in (1000,) and 10000 in ns:
        o1, o10 = figures["ours", 1000], figures["ours", 10000]
        cpu_growth = ratio(o10["CPU s / round"], o1["CPU s / round"])
        table.target(
            "CPU per round grows <= x11 from 1,000 to 10,000 waits", cpu_growth <= 11, f"x{cpu_growth:.2f}"
        )
        lag = o10["loop lag p99 ms"]
        table.target("event-loop lag p99 < 100 ms at 10,000 waits", lag < 100, f"{lag:.0f} ms")
        lat = ratio(o10["detection latency median s"], o1["detection latency median s"])
        table.target(
            "median detection latency at 10,000 within 10 % of 1,000's",
            lat <= 1.10,
            f"{o10['detection latency median s']:.2f} s vs {o1['detection latency median s']:.2f} s (x{lat:.2f})",
        )
        mb = o10["waiting logs MB / hour"]
        table.target("10,000 waits log < 1 MB per hour at INFO", mb < 1, f"{mb:.2f} MB / hour")
        table.target(
            "memory per wait (RSS growth of the triggerer process)",
            None,
            f"{o10['RSS KB / wait']:.1f} KB at 10,000, {o1['RSS KB / wait']:.1f} KB at 1,000",
        )
        if anchors:
            r = ratio(figures["ours", 1000]["CPU s / round"], figures["http_event", 1000]["CPU s / round"])
            table.target("CPU per round at 1,000 vs HttpEventTrigger", r < 1, f"x{r:.3f}")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--only", default=",".join(SECTIONS), help="comma-separated: " + ", ".join(SECTIONS))
    parser.add_argument("--quick", action="store_true", help="small N, few repetitions (not for the record)")
    parser.add_argument(
        "--big",
        action="store_true",
        default=os.environ.get("ONECODEX_BENCH_BIG") == "1",
        help="also 50,000 deferred waits in one triggerer (a few minutes more; env ONECODEX_BENCH_BIG=1)",
    )
    args = parser.parse_args(argv)
    only = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = set(only) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown sections {sorted(unknown)}")
    started = time.monotonic()
    table = Table()
    raw: dict[str, Any] = {}
    if "import" in only:
        raw["import"] = bench_import(table, args.quick)
    if "listing" in only:
        raw["listing"] = bench_listing(table, args.quick)
    waiting_table = Table()
    if "waiting" in only:
        raw["waiting"] = bench_waiting(waiting_table, args.quick, args.big)
    if "sensors" in only:
        raw["sensors"] = bench_sensors(table, args.quick)
    table.rows += waiting_table.rows
    table.verdicts += waiting_table.verdicts
    elapsed = time.monotonic() - started
    LOADS.append(os.getloadavg()[0])
    flags = (" --quick" if args.quick else "") + (" --big" if args.big else "")
    text = table.render() + (
        f"\n\n(python -m bench{flags}: {elapsed:.0f} s on {os.cpu_count()} cores; 1-minute load average "
        f"min {min(LOADS):.1f}, median {median(LOADS):.1f}, max {max(LOADS):.1f} over {len(LOADS)} readings)"
    )
    print(text)
    results = ROOT / "bench" / "results"
    results.mkdir(exist_ok=True)
    (results / "latest.txt").write_text(text + "\n", encoding="utf-8")
    (results / "latest.json").write_text(json.dumps(raw, default=str), encoding="utf-8")
    shutil.rmtree(HOME, ignore_errors=True)
    log(f"done in {elapsed:.0f} s; table and raw figures in {Path('bench/results')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
