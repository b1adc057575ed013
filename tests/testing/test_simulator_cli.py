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


def test_cli_public_url_is_printed_and_signs_download_links() -> None:
    """Serving other machines: the printed URL and pre-signed links name the public address, while
    the server listens where it was told (the stderr line says where)."""
    key = "d" * 32
    public = "http://sim.lab.example:8443"
    proc, url = _start("--host", "0.0.0.0", "--api-key", key, "--public-url", public + "/")
    try:
        assert url == public
        assert proc.stderr is not None
        banner = proc.stderr.readline()
        assert "listening on 0.0.0.0:" in banner and f"API at {public}/api/v1" in banner
        port = int(banner.rsplit(":", 1)[1])
        local = f"http://127.0.0.1:{port}"
        details = requests.get(
            f"{local}/api/v1/analyses/c1a5000000000002/file_details", auth=(key, ""), timeout=5
        ).json()
        links = [f["url"] for f in details["files"]]
        assert links and all(link.startswith(f"{public}/_files/analyses/c1a5000000000002/") for link in links)
        # The signature covers the path, not the host: the link works wherever the proxy forwards it.
        fetched = requests.get(links[0].replace(public, local), timeout=5)
        assert fetched.status_code == 200 and len(fetched.content) == details["files"][0]["size"]
    finally:
        proc.terminate()
        proc.communicate(timeout=10)
    assert proc.returncode == 0


@pytest.mark.parametrize("bad", ["sim.lab.example:8443", "ftp://sim.lab.example", "http://", "http://h/?a=1"])
def test_cli_bad_public_url_exits_2(bad: str) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", MODULE, "--public-url", bad], capture_output=True, text=True, timeout=30
    )
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.strip() == (
        "error: public_url must be an http:// or https:// URL with a host and no query, "
        f"e.g. http://sim.lab.example:8000, not {bad!r}"
    )
