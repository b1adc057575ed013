"""One Codex's own Python client (``onecodex``, pinned in ``bench/official.py``), unmodified, against
the simulator: every step a user takes must pass (steps in ``official_steps.py``).

The client runs in its own virtualenv, built on first use by ``bench/official.py`` (it does not
co-install with Airflow), so this test is slow the first time.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from bench.official import ensure

STEPS = Path(__file__).with_name("official_steps.py")
EXTRA_SAMPLES = 150  # the demo's 3 own samples + these: more than the client's page of 100
IDS = {
    "sample": "a1b2c3d4e5f60718",
    "untagged_sample": "b2c3d4e5f6071829",
    "metadata": "3e7a000000000001",
    "tag": "7a90000000000001",
    "user": "a11ce5e7b0b1c2d3",
    "job": "1d0b0000000000a1",
    "project": "9f0e000000000001",
    "document": "d0c0000000000001",
    "asset": "a55e000000000001",
    "analysis": "c1a5000000000001",
    "alignment": "a1a1000000001280",
    "classification": "c1a5000000000001",
    "classification_without_uri": "c1a5000000000003",
    "panel": "9a4e000000000001",
    "functional_profile": "f0f0000000000001",
    "mlst": "e1e1000000000001",
    "workflow": "d1d1000000000001",
}


@pytest.mark.slow
def test_official_client_steps_all_pass(onecodex_simulator, onecodex_manual_clock, tmp_path):
    python, version = ensure()
    assert python is not None, (
        f"the official client's virtualenv could not be built: {version}. This test installs "
        "One Codex's client (onecodex, pinned in bench/official.py) from PyPI into its own "
        "virtualenv on first use: it needs access to PyPI (or a mirror pip/uv is configured for)"
    )
    for i in range(EXTRA_SAMPLES):
        onecodex_simulator.state.add_sample(f"extra_{i:03d}.fastq.gz")
    onecodex_manual_clock.advance(100)  # every demo analysis complete
    request = {
        "url": onecodex_simulator.base_url,
        "api_key": onecodex_simulator.api_key,
        "ids": IDS,
        "n_samples": EXTRA_SAMPLES + 3,
        "workdir": str(tmp_path),
    }

    proc = subprocess.run(
        [python, str(STEPS)], input=json.dumps(request), capture_output=True, text=True, timeout=600
    )

    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    steps = result["steps"]
    failed = [(name, error) for name, ok, error in steps if not ok]
    print(f"official onecodex {result['version']}: {len(steps) - len(failed)} of {len(steps)} steps pass")
    assert result["version"] == version
    assert len(steps) >= 55 and not failed, failed
    # the client really paged past its first 100 samples by cursor
    sample_lists = [r for r in onecodex_simulator.state.requests if r.path == "/api/v1/samples"]
    assert any("cursor=" in r.query for r in sample_lists)
