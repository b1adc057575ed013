"""One upload with the official ``onecodex`` client's ``Samples.upload``, for :mod:`bench.uploads`.

Runs in ``bench/.venv-official`` as ``python bench/official_upload.py`` with a JSON request on stdin
(``url``, ``api_key``, ``path``, ``trace``); prints one JSON line. Standard library and ``onecodex``
only. Its boto3 reaches the simulator's S3 through ``AWS_ENDPOINT_URL_S3`` set by the caller.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
import tracemalloc
import warnings


def _rss_kib() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def main() -> None:
    req = json.loads(sys.stdin.read())
    os.environ["ONE_CODEX_API_BASE"] = req["url"]
    warnings.simplefilter("ignore")
    import boto3  # noqa: F401 - imported before the measurement, as in the hook's worker
    from onecodex import Api

    api = Api(api_key=req["api_key"], telemetry=False, load_extensions=False)
    before = _rss_kib()
    if req["trace"]:
        tracemalloc.start()
    started = time.perf_counter()
    sample = api.Samples.upload(req["path"])
    seconds = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1] if req["trace"] else None
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    sample_id = getattr(sample, "id", None)
    print(
        json.dumps(
            {
                "sample_id": sample_id,
                "seconds": seconds,
                "trace_peak": peak,
                "rss_delta": (maxrss - before) * 1024,
            }
        )
    )


if __name__ == "__main__":
    main()
