"""The fault soak (``bench/soak.py``): 200 alignments, 20 % of responses faulted, poke and deferrable
sensors; every sensor ends in the right state with a bounded number of requests."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # `bench` is a top-level folder of the repository, not installed
    sys.path.insert(0, str(ROOT))

from bench.soak import SOAK_FAULTS, run_soak  # noqa: E402


@pytest.mark.slow
def test_fault_soak_every_sensor_ends_right_with_bounded_requests():
    report = run_soak(200, seed=7, fault_rate=0.2, spread=12.0, failure_rate=0.15, poll_interval=0.5)
    print(report.summary())

    assert report.problems == []
    assert report.false_successes == [] and report.false_failures == [] and report.errors == {}
    assert len(report.outcomes) == 200
    assert {i: o.kind for i, o in report.outcomes.items()} == report.expected
    for mode in ("poke", "deferrable"):
        counts = report.outcome_counts(mode)
        assert counts.get("success", 0) > 0 and counts.get("failed", 0) > 0, (mode, counts)
    # the faults really happened, at about the asked rate, and of every transient kind
    injected = sum(report.faults.values())
    assert 0.15 <= injected / report.requests <= 0.25
    kinds = {str(f["status"]) if isinstance(f, dict) else f for f in SOAK_FAULTS}
    assert set(report.faults) == kinds
    # bounded requests (bounds checked per alignment in report.problems), and batching pays off
    poke = report.per_alignment("poke")
    deferrable = report.per_alignment("deferrable")
    assert max(poke) <= max(report.poke_bounds.values())
    assert sum(deferrable) / len(deferrable) < sum(poke) / len(poke) / 3
    assert report.seconds < 60
