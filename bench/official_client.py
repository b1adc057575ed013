"""Listing and fetching with the official ``onecodex`` Python client, for comparison.

Runs in the bench's separate virtualenv (``bench/.venv-official``; the official client does not
co-install with Airflow) as ``python bench/official_client.py`` with a JSON request on stdin; prints
one JSON line of results. Standard library and ``onecodex`` only: the provider is not installed there.

The official client pages with a fixed ``DEFAULT_PAGE_SIZE`` (100) and sends ``expand=all``; other
page sizes are measured by setting that module constant.
"""

from __future__ import annotations

import gc
import json
import os
import sys
import time
import tracemalloc
import warnings
from typing import Any


def main() -> None:
    req = json.loads(sys.stdin.read())
    os.environ["ONE_CODEX_API_BASE"] = req["url"]
    os.environ.pop("ONE_CODEX_API_KEY", None)
    warnings.simplefilter("ignore")
    import onecodex.models.base as base
    from onecodex import Api
    from onecodex.version import __version__

    api = Api(api_key=req["api_key"], telemetry=False, load_extensions=False)
    out: dict[str, Any] = {"version": __version__, "list": {}, "list_mem": {}, "fetch": []}

    def listing(per_page: int, limit: int | None) -> int:
        base.DEFAULT_PAGE_SIZE = per_page
        return len(api.Alignments.where(limit=limit))

    # one warm-up (imports, pydantic schema build), then timed runs
    listing(100, 100)
    for _ in range(req["reps"]):
        for per_page in req["page_sizes"]:
            for n in req["sizes"]:
                gc.collect()
                w, c = time.perf_counter(), time.process_time()
                got = listing(per_page, n)
                w, c = time.perf_counter() - w, time.process_time() - c
                assert got == n, (got, n)
                out["list"].setdefault(f"{per_page}/{n}", []).append([w, c])
    for per_page in req["mem_page_sizes"]:  # tracemalloc slows pydantic validation ~5x
        for n in req["sizes"]:
            gc.collect()
            tracemalloc.start()
            start = tracemalloc.get_traced_memory()[0]
            listing(per_page, n)
            out["list_mem"][f"{per_page}/{n}"] = tracemalloc.get_traced_memory()[1] - start
            tracemalloc.stop()
    ids = req["fetch_ids"]
    for _ in range(req["reps"]):
        gc.collect()
        w, c = time.perf_counter(), time.process_time()
        for record_id in ids:
            assert api.Alignments.get(record_id) is not None
        out["fetch"].append([time.perf_counter() - w, time.process_time() - c])
    print(json.dumps(out))


if __name__ == "__main__":
    main()
