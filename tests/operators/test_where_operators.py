"""Every ``where`` operator of the API reference, on every filterable field of every resource, goes
to One Codex as given: from the list operators, and from the sensors' sample waits.

The simulator's field table and operator grammar (the reference's §4.1) drive the cases; each case
runs over real HTTP and the simulator must receive the very clause the DAG wrote.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs

import pytest

from airflow_provider_onecodex.api.resources import ANALYSIS_RESOURCES
from airflow_provider_onecodex.api.waiting import WaitSpec
from airflow_provider_onecodex.testing.query import _OPERATORS, Kind
from airflow_provider_onecodex.testing.registry import RESOURCE_FIELDS

SAMPLE = "a1b2c3d4e5f60718"
SOME_ID = "0123456789abcdef"
DATE, LATER = "2026-01-01T00:00:00+00:00", "2030-01-01T00:00:00+00:00"


def operand(resource: str, field: str, kind: Kind, target: str | None, op: str) -> Any:
    """A well-typed operand of ``op`` for a field of ``kind``."""
    one: Any = {
        Kind.URI: f"/api/v1/{resource}/{SOME_ID}",
        Kind.STRING: "1280" if field == "tax_id" else "a",
        Kind.NUMBER: 1,
        Kind.DATETIME: DATE,
        Kind.BOOL: True,
        Kind.REF: {"$ref": f"/api/v1/{target}/{SOME_ID}"},
        Kind.REFLIST: {"$ref": f"/api/v1/{target}/{SOME_ID}"},
    }[kind]
    if op == "$in":
        second = {Kind.STRING: "562" if field == "tax_id" else "b", Kind.NUMBER: 2, Kind.BOOL: False}
        return [one, second.get(kind, one)]
    if op == "$between":
        return [0, 10**12] if kind is Kind.NUMBER else [DATE, LATER]
    if op in ("$containsany", "$containsall"):
        return [one]
    return one


def cases(resources: Any) -> list[Any]:
    out = []
    for resource in sorted(resources):
        for field, spec in RESOURCE_FIELDS[resource].items():
            ops = sorted(_OPERATORS[spec.kind]) + ([] if spec.kind is Kind.REFLIST else ["literal"])
            for op in ops:
                value = operand(resource, field, spec.kind, spec.target, op)
                clause = value if op == "literal" else {op: value}
                out.append(pytest.param(resource, field, clause, id=f"{resource}-{field}-{op}"))
    return out


def sent_where(sim: Any, path: str) -> dict[str, Any]:
    listings = [r for r in sim.state.requests if r.method == "GET" and r.path == path]
    assert listings, f"no listing of {path}"
    return json.loads(parse_qs(listings[-1].query)["where"][0])


@pytest.mark.parametrize(("resource", "field", "clause"), cases(RESOURCE_FIELDS))
def test_list_operator_sends_every_operator_on_every_field(
    onecodex_simulator, onecodex_connection, resource, field, clause
):
    from airflow_provider_onecodex.operators.onecodex import OneCodexListRecordsOperator

    where = {field: clause}
    records = OneCodexListRecordsOperator(task_id="list", resource=resource, where=where).execute({})
    assert isinstance(records, list)
    assert sent_where(onecodex_simulator, f"/api/v1/{resource}") == where


SENSOR_RESOURCES = sorted(set(RESOURCE_FIELDS) & ANALYSIS_RESOURCES)


@pytest.mark.parametrize(
    ("resource", "field", "clause"),
    [c for c in cases(SENSOR_RESOURCES) if c.values[1] != "sample"],  # sample_id sets "sample"
)
def test_sample_wait_sends_every_operator_on_every_field(
    onecodex_simulator, onecodex_manual_clock, onecodex_connection, resource, field, clause
):
    from airflow_provider_onecodex.sensors.onecodex import OneCodexAnalysisSensor

    onecodex_manual_clock.advance(100)  # every demo analysis is complete: one poke ends the wait
    where = {field: clause}
    spec = WaitSpec.build(resource, sample_id=SAMPLE, where=where, min_count=0)
    assert WaitSpec.from_dict(json.loads(json.dumps(spec.to_dict()))) == spec  # survives trigger kwargs
    sensor = OneCodexAnalysisSensor(
        task_id="wait",
        resource=resource,
        sample_id=SAMPLE,
        where=where,
        min_count=0,
        failure_policy="report",
        poke_interval=1,
        timeout=30,
    )
    records = sensor.execute({})
    assert isinstance(records, list)
    assert sent_where(onecodex_simulator, f"/api/v1/{resource}") == {
        **where,
        "sample": {"$ref": f"/api/v1/samples/{SAMPLE}"},
    }


def test_sample_wait_with_tax_id_in_where_finds_both_references(onecodex_manual_clock, onecodex_connection):
    """The case from the field: ``where={"tax_id": {"$in": [...]}}`` failed every poke."""
    from airflow_provider_onecodex.sensors.onecodex import OneCodexAlignmentSensor

    sensor = OneCodexAlignmentSensor(
        task_id="wait",
        sample_id=SAMPLE,
        where={"tax_id": {"$in": ["1280", "562"]}},
        failure_policy="report",
        poke_interval=1,
        timeout=60,
    )
    onecodex_manual_clock.advance(100)  # every demo alignment is complete
    records = sensor.execute({})
    assert sorted(r["tax_id"] for r in records) == ["1280", "562"]
