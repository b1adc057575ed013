"""The simulator's command line, run as a subprocess: prints its URL, serves, exits 0 on SIGTERM."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from bench.scenarios import make_bulk_scenario

MODULE = "airflow_provider_onecodex.testing.simulator"


def _start(*args: str) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", MODULE, "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    return proc, proc.stdout.readline().strip()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_cli_prints_url_serves_and_exits_cleanly(sig: signal.Signals) -> None:
    key = "c" * 32
    proc, url = _start("--scenario", "demo", "--api-key", key)
    try:
        assert url.startswith("http://127.0.0.1:") and int(url.rsplit(":", 1)[1]) > 0
        assert requests.get(f"{url}/api/v1/account", auth=(key, ""), timeout=5).json()["email"]
        demo_key = "0123456789abcdef0123456789abcdef"
        assert requests.get(f"{url}/api/v1/account", auth=(demo_key, ""), timeout=5).status_code == 401
    finally:
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=10)
    assert proc.returncode == 0
    assert key not in out + err
    assert out.strip() == ""  # nothing after the URL line


def test_cli_scenario_file_and_its_key(tmp_path: Path) -> None:
    scenario = make_bulk_scenario(25, seed=3)
    path = tmp_path / "bulk.json"
    path.write_text(json.dumps(scenario))
    proc, url = _start("--scenario", str(path))
    try:
        response = requests.get(f"{url}/api/v1/alignments", auth=(scenario["api_key"], ""), timeout=5)
        assert response.headers["X-Total-Count"] == "25"
    finally:
        proc.terminate()
        proc.communicate(timeout=10)
    assert proc.returncode == 0


def test_cli_bad_scenario_exits_2(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", MODULE, "--scenario", str(tmp_path / "missing.json")],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert proc.returncode == 2
    assert proc.stdout == "" and "missing.json" in proc.stderr
