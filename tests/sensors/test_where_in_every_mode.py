"""A sample wait filtered with an operator of the reference (``$in`` on ``tax_id``) ends alike in
poke, reschedule and deferrable mode (the deferrable side goes through the shared poller)."""

from __future__ import annotations

import pytest

DEMO_SAMPLE = "a1b2c3d4e5f60718"


@pytest.mark.parametrize("mode", ["poke", "reschedule", "deferrable"])
def test_tax_id_in_where_waits_for_both_references(mode, sim, connect, drive) -> None:
    from airflow_provider_onecodex.sensors.onecodex import OneCodexAlignmentSensor

    wanted = [sim.state.add_alignment(DEMO_SAMPLE, tax_id=t, complete_after=0.3) for t in ("1280", "562")]
    sim.state.add_alignment(DEMO_SAMPLE, tax_id="1639")  # another reference: pending forever, not waited on
    result = drive(
        mode,
        lambda **kw: OneCodexAlignmentSensor(
            task_id="wait",
            sample_id=DEMO_SAMPLE,
            where={
                "tax_id": {"$in": ["1280", "562"]},
                "$uri": {"$in": [f"/api/v1/alignments/{a}" for a in wanted]},
            },
            poke_interval=0.1,
            timeout=30,
            **kw,
        ),
    )
    assert result.exc_type is None, result.message
    assert sorted(r["tax_id"] for r in result.xcom) == ["1280", "562"]
    assert all(r["success"] is True for r in result.xcom)
