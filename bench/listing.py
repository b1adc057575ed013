"""Issue 7: listing 10,000 alignments and fetching 1,000 one by one (worker process).

``python -m bench.listing`` reads ``{"reps", "page_sizes", "sizes", "n_fetch", "official_python"}``
as JSON on stdin, starts its own simulator process (all analyses complete at 0 s on a clock that never moves; see
:mod:`bench.simproc`), and prints one JSON line:

- ``list[variant][per_page/size]``: ``[[wall_s, cpu_s], ...]`` per repetition, variants
  ``raw`` (hand-written requests loop over the same pages: the floor), ``hook_list``
  (``OneCodexHook.list_alignments``), ``hook_iter`` (iterating ``iter_alignments`` without keeping
  the records);
- ``mem[variant][per_page/size]``: tracemalloc peak bytes of one extra run;
- ``fetch[variant][n]``: ``[[wall_s, cpu_s], ...]``, variants ``reuse`` (one hook, one session)
  and ``new_conn`` (the hook's session closed after each request: a new TCP connection each time);
- ``official``: the same measured with the official client (or ``{"error": ...}``).

Repetitions interleave the variants so that drift on the machine spreads over all of them.
"""

from __future__ import annotations

import functools
import gc
import json
import os
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

from bench._common import CONN_ID, ROOT, Simulator


def _timed(fn: Callable[[], int], expect: int) -> list[float]:
    gc.collect()
    wall, cpu = time.perf_counter(), time.process_time()
    got = fn()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    if got != expect:
        raise AssertionError(f"expected {expect} records, got {got}")
    return [wall, cpu]


def _peak(fn: Callable[[], int]) -> int:
    gc.collect()
    tracemalloc.start()
    start = tracemalloc.get_traced_memory()[0]
    fn()
    peak = tracemalloc.get_traced_memory()[1] - start
    tracemalloc.stop()
    return peak


def main() -> None:
    req = json.loads(sys.stdin.read())
    from bench.scenarios import make_bulk_scenario

    total = max(req["sizes"])
    scenario = make_bulk_scenario(total, seed=7, max_complete_after=0.0)
    with Simulator(scenario, manual_clock=True) as sim:  # clock stays at 0: records never change
        os.environ.update(sim.env())
        import requests

        from airflow_provider_onecodex.hooks.onecodex import OneCodexHook

        headers = OneCodexHook(CONN_ID).client.session.headers  # same auth and headers as the hook

        def raw(per_page: int, limit: int) -> int:
            # The floor: the same pages with a bare session, no validation, no retries.
            records: list[dict[str, Any]] = []
            with requests.Session() as session:
                session.headers.update(headers)
                session.trust_env = False  # as the hook: no proxy/.netrc lookups per request
                page = 1
                while True:
                    response = session.get(
                        sim.url + "/api/v1/alignments",
                        params={"page": page, "per_page": per_page},
                        timeout=(10, 60),
                    )
                    response.raise_for_status()
                    records += response.json()
                    if len(records) >= min(limit, int(response.headers["X-Total-Count"])):
                        return len(records[:limit])
                    page += 1

        def hook_list(per_page: int, limit: int) -> int:
            hook = OneCodexHook(CONN_ID)
            try:
                max_records = None if limit >= total else limit
                return len(hook.list_alignments(per_page=per_page, max_records=max_records))
            finally:
                hook.close()

        def hook_iter(per_page: int, limit: int) -> int:
            hook = OneCodexHook(CONN_ID)
            try:
                max_records = None if limit >= total else limit
                count = 0
                for _ in hook.iter_alignments(per_page=per_page, max_records=max_records):
                    count += 1
                return count
            finally:
                hook.close()

        variants: dict[str, Callable[[int, int], int]] = {
            "raw": raw,
            "hook_list": hook_list,
            "hook_iter": hook_iter,
        }
        ids = [a["id"] for a in scenario["analyses"]]

        def fetch_reuse(n: int) -> int:
            hook = OneCodexHook(CONN_ID)
            try:
                for record_id in ids[:n]:
                    hook.get_alignment(record_id)
                return n
            finally:
                hook.close()

        def fetch_new_conn(n: int) -> int:
            hook = OneCodexHook(CONN_ID)
            for record_id in ids[:n]:
                hook.get_alignment(record_id)
                hook.close()  # next call opens a new session: a new TCP connection
            return n

        fetchers = {"reuse": fetch_reuse, "new_conn": fetch_new_conn}
        out: dict[str, Any] = {"list": {}, "mem": {}, "fetch": {}}
        for per_page in req["page_sizes"]:  # warm-up: imports, connection lookup, first connection
            for fn in variants.values():
                fn(per_page, 1000)
        for fetcher in fetchers.values():
            fetcher(50)
        official: dict[str, Any] = {}
        for rep in range(req["reps"]):
            # A B A B: the official client's repetition runs between ours, not after all of them
            _merge(official, _official(req, sim, ids, memory=rep == 0))
            for per_page in req["page_sizes"]:
                for size in req["sizes"]:
                    for name, fn in variants.items():
                        result = _timed(functools.partial(fn, per_page, size), size)
                        out["list"].setdefault(name, {}).setdefault(f"{per_page}/{size}", []).append(result)
            for n in req["fetch_sizes"]:
                for name, fetcher in fetchers.items():
                    out["fetch"].setdefault(name, {}).setdefault(str(n), []).append(
                        _timed(functools.partial(fetcher, n), n)
                    )
        for per_page in req["page_sizes"]:
            for size in req["sizes"]:
                for name, fn in variants.items():
                    out["mem"].setdefault(name, {})[f"{per_page}/{size}"] = _peak(
                        functools.partial(fn, per_page, size)
                    )

        out["official"] = official
    print(json.dumps(out))


def _merge(into: dict[str, Any], run: dict[str, Any]) -> None:
    """Add one repetition of the official client to the ones before (or keep its error)."""
    if "error" in run or "error" in into:
        into.setdefault("error", run.get("error"))
        return
    into["version"] = run["version"]
    into.setdefault("list_mem", {}).update(run["list_mem"])
    into.setdefault("fetch", []).extend(run["fetch"])
    for key, values in run["list"].items():
        into.setdefault("list", {}).setdefault(key, []).extend(values)


def _official(req: dict[str, Any], sim: Simulator, ids: list[str], memory: bool) -> dict[str, Any]:
    """One repetition of the official client, in its own venv and a fresh interpreter."""
    python = req.get("official_python")
    if not python:
        return {"error": req.get("official_error") or "official client not installed"}
    official_req = {
        "url": sim.url,
        "api_key": sim.api_key,
        "reps": 1,
        "page_sizes": req["page_sizes"],
        "sizes": req["sizes"],
        "mem_page_sizes": [100] if memory else [],
        "fetch_ids": ids[: max(req["fetch_sizes"])],
    }
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "ONE_CODEX"))}
    env["HOME"] = str(ROOT / "bench" / ".venv-official")  # never read a real ~/.onecodex
    proc = subprocess.run(
        [python, str(ROOT / "bench" / "official_client.py")],
        input=json.dumps(official_req),
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        return {"error": f"official client run failed: {proc.stderr.strip().splitlines()[-1:]}"}
    return json.loads(lines[-1])  # type: ignore[no-any-return]


if __name__ == "__main__":
    main()
