"""Upload throughput and memory: ``OneCodexHook.upload_sample`` vs the official client's ``Samples.upload``.

``python -m bench.uploads [--size-mb 200] [--reps 3]`` generates a FASTQ file of that size, starts
the simulator (its own process; its S3 side is moto's server), and uploads the same file with each
client, alternately, each upload in a fresh process:

- throughput: file bytes / wall seconds of the upload call (init, S3 parts, callback);
- tracemalloc peak: the largest Python heap growth during the upload (a separate run, as tracing
  slows the upload);
- RSS: the process's peak resident set minus its resident set just before the upload.

The official client runs in ``bench/.venv-official`` (see :mod:`bench.official`); its boto3 reaches
moto through ``AWS_ENDPOINT_URL_S3`` and path-style addressing (an AWS config file), the only
change to its environment. Medians are printed with the ratio hook / official.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench._common import ROOT, airflow_env, median

READ = (
    b"@bench:%09d\nACGTTGCAAGCTTAGCACGTTGCAAGCTTAGCACGTTGCAAGCTTAGCACGTTGCAAGCTTAGCA\n+\n" + b"I" * 64 + b"\n"
)


def log(message: str) -> None:
    print(f"[bench.uploads {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def generate(path: Path, size: int) -> None:
    """A FASTQ file of at least ``size`` bytes, written in 1 MiB blocks."""
    with open(path, "wb") as f:
        written, i = 0, 0
        while written < size:
            block = b"".join(READ % n for n in range(i, i + 6000))
            i += 6000
            f.write(block)
            written += len(block)


def _rss_kib() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def worker(request: dict[str, Any]) -> dict[str, Any]:
    """One upload with the hook, in this (fresh) process."""
    import resource
    import tracemalloc

    from airflow_provider_onecodex.hooks.onecodex import OneCodexHook

    hook = OneCodexHook("onecodex_bench")
    hook.get_account()  # connection, session and imports outside the measurement
    import boto3  # noqa: F401

    before = _rss_kib()
    if request["trace"]:
        tracemalloc.start()
    started = time.perf_counter()
    sample_id = hook.upload_sample(request["path"])
    seconds = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1] if request["trace"] else None
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "sample_id": sample_id,
        "seconds": seconds,
        "trace_peak": peak,
        "rss_delta": (maxrss - before) * 1024,
    }


def _run_hook(sim: dict[str, str], path: Path, trace: bool) -> dict[str, Any]:
    env = airflow_env()
    env["AIRFLOW_CONN_ONECODEX_BENCH"] = json.dumps(
        {
            "conn_type": "onecodex",
            "host": sim["url"],
            "password": sim["api_key"],
            "extra": {"upload_s3_endpoint_url": sim["s3"]},
        }
    )
    out = subprocess.run(
        [sys.executable, "-m", "bench.uploads", "--worker"],
        input=json.dumps({"path": str(path), "trace": trace}),
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        check=True,
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def _run_official(
    python: str, sim: dict[str, str], path: Path, trace: bool, aws_config: Path
) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "ONE_CODEX"))}
    env.update(AWS_ENDPOINT_URL_S3=sim["s3"], AWS_CONFIG_FILE=str(aws_config))
    out = subprocess.run(
        [python, str(ROOT / "bench" / "official_upload.py")],
        input=json.dumps({"url": sim["url"], "api_key": sim["api_key"], "path": str(path), "trace": trace}),
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def _start_simulator() -> tuple[subprocess.Popen[str], dict[str, str]]:
    import requests

    api_key = os.urandom(16).hex()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "airflow_provider_onecodex.testing.simulator",
            "--port",
            "0",
            "--api-key",
            api_key,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        cwd=ROOT,
    )
    assert proc.stdout is not None
    url = proc.stdout.readline().strip()
    s3 = requests.get(f"{url}/_sim/uploads", timeout=60).json()["s3_endpoint_url"]
    return proc, {"url": url, "api_key": api_key, "s3": s3}


def _empty_bucket(sim: dict[str, str]) -> None:
    import boto3

    from airflow_provider_onecodex.testing.upload_store import BUCKET

    s3 = boto3.session.Session().client(
        "s3",
        endpoint_url=sim["s3"],
        region_name="us-east-1",
        aws_access_key_id="b",
        aws_secret_access_key="b",
    )
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET):
        for item in page.get("Contents", []):
            s3.delete_object(Bucket=BUCKET, Key=item["Key"])


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.uploads")
    parser.add_argument("--size-mb", type=int, default=200)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(json.loads(sys.stdin.read()))))
        return 0

    from bench import official

    python, version = official.ensure()
    with tempfile.TemporaryDirectory(prefix="onecodex-upload-bench-") as tmp:
        path = Path(tmp) / "bench_reads.fastq"
        generate(path, args.size_mb * 1000 * 1000)
        size = path.stat().st_size
        aws_config = Path(tmp) / "aws_config"
        aws_config.write_text("[default]\nregion = us-east-1\ns3 =\n    addressing_style = path\n")
        log(f"file: {size} bytes; official client: {version if python else 'unavailable: ' + version}")
        proc, sim = _start_simulator()
        results: dict[str, dict[str, list[Any]]] = {"hook": {}, "official": {}}
        try:
            for rep in range(-1, args.reps + 1):  # a warm-up round; the last round traces memory
                trace = rep == args.reps
                for name in ("official", "hook") if rep % 2 else ("hook", "official"):
                    if name == "official" and python is None:
                        continue
                    log(f"{name} upload {rep + 1}{' (tracemalloc)' if trace else ''}")
                    if name == "hook":
                        r = _run_hook(sim, path, trace)
                    else:
                        r = _run_official(python, sim, path, trace, aws_config)  # type: ignore[arg-type]
                    _empty_bucket(sim)  # the simulator's S3 keeps every object otherwise
                    for key, value in r.items():
                        if rep >= 0 and (key == "trace_peak") == trace:
                            results[name].setdefault(key, []).append(value)
        finally:
            proc.terminate()
            proc.wait(timeout=30)

    def row(name: str) -> tuple[float, float, float]:
        r = results[name]
        return (
            size / median(r["seconds"]) / 1e6,
            float(r["trace_peak"][0]) / 2**20,
            median(r["rss_delta"]) / 2**20,
        )

    hook = row("hook")
    print(
        f"\nUpload of a {size / 1e6:.0f} MB FASTQ to the simulator (moto S3), {args.reps} runs each, medians"
    )
    print(f"{'client':<28}{'MB/s':>8}{'tracemalloc peak MiB':>22}{'RSS growth MiB':>16}")
    print(f"{'OneCodexHook.upload_sample':<28}{hook[0]:>8.1f}{hook[1]:>22.1f}{hook[2]:>16.1f}")
    if python is not None:
        off = row("official")
        print(f"{'onecodex ' + version + ' Samples.upload':<28}{off[0]:>8.1f}{off[1]:>22.1f}{off[2]:>16.1f}")
        print(
            f"{'ratio hook / official':<28}{hook[0] / off[0]:>8.2f}{hook[1] / off[1]:>22.2f}"
            f"{hook[2] / off[2] if off[2] else float('nan'):>16.2f}"
        )
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "uploads.json").write_text(json.dumps({"size": size, "results": results}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
