"""Every sensor has a useful extra link (sample mode: the sample's page) in every mode, and its
XCom value follows the size policy."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from airflow.sdk.exceptions import AirflowFailException

from airflow_provider_onecodex.links.onecodex import OneCodexLink

DEMO_SAMPLE = "a1b2c3d4e5f60718"  # primary classification c1a5000000000001
MODES = ("poke", "reschedule", "deferrable")


def link_of(sensor: Any) -> str:
    from airflow.sdk.types import TaskInstanceKey

    key = TaskInstanceKey(dag_id="d", task_id=sensor.task_id, run_id="r", try_number=1, map_index=-1)
    return OneCodexLink().get_link(sensor, ti_key=key)


class Keep:
    """Builds sensors for ``drive`` and keeps the last one, to read its link after the run."""

    def __init__(self, cls: Any, **kwargs: Any) -> None:
        self.cls, self.kwargs = cls, kwargs
        self.last: Any = None

    def __call__(self, **mode_kwargs: Any) -> Any:
        self.last = self.cls(task_id="wait", poke_interval=0.05, timeout=30, **self.kwargs, **mode_kwargs)
        return self.last


@pytest.mark.parametrize("mode", MODES)
def test_sample_mode_sensors_link_to_the_sample_page(mode, sim, connect, drive) -> None:
    from airflow_provider_onecodex.sensors.onecodex import OneCodexAnalysisSensor, OneCodexSampleSensor

    page = f"{sim.base_url}/classification/c1a5000000000001"  # where One Codex shows the sample
    analyses = Keep(OneCodexAnalysisSensor, sample_id=DEMO_SAMPLE, min_count=0, failure_policy="report")
    sample = Keep(OneCodexSampleSensor, sample_id=DEMO_SAMPLE)
    for make in (analyses, sample):
        result = drive(mode, make)
        assert result.exc_type is None, result.message
        assert link_of(make.last) == page


def test_a_sample_without_classification_links_to_the_samples_page(sim, connect, drive) -> None:
    from airflow_provider_onecodex.sensors.onecodex import OneCodexSampleSensor

    sample_id = sim.state.add_sample("new_R1.fastq.gz")
    make = Keep(OneCodexSampleSensor, sample_id=sample_id)
    assert drive("poke", make).exc_type is None
    assert link_of(make.last) == f"{sim.base_url}/samples"


@pytest.mark.parametrize("mode", MODES)
def test_a_sensor_value_over_the_limit_goes_to_storage_or_fails_before_pushing(
    mode, sim, connect, drive, tmp_path
) -> None:
    from airflow_provider_onecodex.sensors.onecodex import OneCodexAnalysisSensor

    common = {"sample_id": DEMO_SAMPLE, "min_count": 0, "failure_policy": "report", "xcom_max_bytes": 100}
    stored = drive(mode, Keep(OneCodexAnalysisSensor, destination=str(tmp_path), **common))
    assert stored.exc_type is None, stored.message
    written = json.loads(Path(stored.xcom["uri"].removeprefix("file://")).read_bytes())
    assert stored.xcom["size"] == len(json.dumps(written, separators=(",", ":")).encode())
    assert stored.xcom["summary"] == {
        "kind": "records",
        "count": len(written),
        "ids": [r["$uri"].rsplit("/", 1)[-1] for r in written],
        "resources": ["analyses"],
    }
    failed = drive(mode, Keep(OneCodexAnalysisSensor, **common))
    assert failed.exc_type is not None and issubclass(failed.exc_type, AirflowFailException)
    size = stored.xcom["size"]
    assert failed.message == (
        f"The XCom value of task wait is {size} bytes of JSON, more than xcom_max_bytes=100: not pushed "
        "to XCom. Set destination= to a folder (e.g. 'file:///data/onecodex' or 's3://bucket/prefix') "
        "so the value is written there and XCom gets its location and a summary, narrow the request "
        "(where=, max_records=), or raise xcom_max_bytes."
    )
