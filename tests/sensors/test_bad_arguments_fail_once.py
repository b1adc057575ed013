"""Bad sensor arguments fail the task without retries (``AirflowFailException``, still the
original ``TypeError``/``ValueError``), in every mode; literal ones fail when the DAG is parsed.
A failed analysis under ``failure_policy="report"`` is logged as completed-and-failed."""

from __future__ import annotations

import pytest
from airflow.sdk.exceptions import AirflowFailException
from structlog.testing import capture_logs

from airflow_provider_onecodex.sensors.onecodex import OneCodexAlignmentSensor, OneCodexAnalysisSensor
from tests._modes import MODES
from tests._reliability import FAILED_ID, FAILED_MSG, GOOD_ID, SAMPLE_ID

OTHER_ID = "a1a1000000001639"


def rendered(sensor, **values):
    """The sensor as Airflow leaves it after templating: template fields hold the rendered text."""
    for name, value in values.items():
        setattr(sensor, name, value)
    return sensor


@pytest.mark.parametrize("mode", MODES)
def test_a_templated_list_rendered_to_text_of_bad_ids_fails_once(use_sim, drive, mode) -> None:
    def make(**kw):
        sensor = OneCodexAlignmentSensor(task_id="w", alignment_ids="{{ params.ids }}", poke_interval=0.1, **kw)
        return rendered(sensor, alignment_ids="['a1a1000000001280', 'not-an-id']")

    result = drive(mode, make)
    assert issubclass(result.exc_type, AirflowFailException) and issubclass(result.exc_type, ValueError)
    assert result.message == (
        "alignment_ids[1] must be a One Codex id (16 lowercase hex characters), got 'not-an-id'"
    )
    assert use_sim.state.count() == 0


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("text", [f"['{GOOD_ID}', '{OTHER_ID}']", f'["{GOOD_ID}", "{OTHER_ID}"]'])
def test_a_templated_list_rendered_to_python_or_json_text_is_read_as_the_list(
    use_sim, drive, mode, text
) -> None:
    def make(**kw):
        sensor = OneCodexAlignmentSensor(
            task_id="w", alignment_ids="{{ params.ids }}", failure_policy="report", poke_interval=0.1, **kw
        )
        return rendered(sensor, alignment_ids=text)

    result = drive(mode, make)
    assert result.exc_type is None, result.message
    assert [r["$uri"].rsplit("/", 1)[1] for r in result.xcom] == [GOOD_ID, OTHER_ID]


@pytest.mark.parametrize("mode", MODES)
def test_text_that_is_not_a_list_is_a_type_error_without_retries(use_sim, drive, mode) -> None:
    def make(**kw):
        sensor = OneCodexAlignmentSensor(task_id="w", alignment_ids="{{ params.ids }}", **kw)
        return rendered(sensor, alignment_ids="a1a1000000001280,a1a1000000001639")

    result = drive(mode, make)
    assert issubclass(result.exc_type, AirflowFailException) and issubclass(result.exc_type, TypeError)
    assert result.message == (
        "alignment_ids must be a list of One Codex ids, got 'a1a1000000001280,a1a1000000001639'"
    )


@pytest.mark.parametrize("mode", MODES)
def test_a_misspelled_templated_analysis_type_fails_once(use_sim, drive, mode) -> None:
    def make(**kw):
        sensor = OneCodexAnalysisSensor(task_id="w", sample_id=SAMPLE_ID, analysis_type="{{ t }}", **kw)
        return rendered(sensor, analysis_type="classificaton")

    result = drive(mode, make)
    assert issubclass(result.exc_type, AirflowFailException)
    assert result.message == (
        "analysis_type must be one of ['alignment', 'assembly_run', 'classification', 'control', 'functional', "
        "'mlst', 'panel', 'report', 'typing', 'workflow'], got 'classificaton'"
    )
    assert use_sim.state.count() == 0


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (
            lambda: OneCodexAlignmentSensor(task_id="w", alignment_id=GOOD_ID, failure_policy="ignore"),
            ValueError,
            "failure_policy must be one of ('fail_fast', 'report'), got 'ignore'",
        ),
        (
            lambda: OneCodexAlignmentSensor(task_id="w", alignment_id=GOOD_ID, sample_id=SAMPLE_ID),
            ValueError,
            "give exactly one of alignment_id, alignment_ids or sample_id; got ['alignment_id', 'sample_id']",
        ),
        (
            lambda: OneCodexAnalysisSensor(task_id="w", analysis_id=GOOD_ID, resource="samples"),
            ValueError,
            "resource must be one of ['alignments', 'analyses', 'classifications', 'functional_profiles', "
            "'mlsts', 'panels', 'workflows'], got 'samples'",
        ),
        (
            lambda: OneCodexAlignmentSensor(task_id="w", alignment_ids=[GOOD_ID, "bad"]),
            ValueError,
            "alignment_ids[1] must be a One Codex id (16 lowercase hex characters), got 'bad'",
        ),
        (
            lambda: OneCodexAlignmentSensor(task_id="w", alignment_ids=[]),
            ValueError,
            "alignment_ids must not be empty, got []",
        ),
        (
            lambda: OneCodexAnalysisSensor(task_id="w", analysis_ids=[GOOD_ID, 123]),
            TypeError,
            "analysis_ids[1] must be a One Codex id (16 lowercase hex characters), got 123",
        ),
        (
            lambda: OneCodexAnalysisSensor(task_id="w", sample_id=SAMPLE_ID, analysis_type="classificaton"),
            ValueError,
            "analysis_type must be one of ['alignment', 'assembly_run', 'classification', 'control', 'functional', "
            "'mlst', 'panel', 'report', 'typing', 'workflow'], got 'classificaton'",
        ),
    ],
)
def test_literal_bad_arguments_fail_when_the_dag_is_parsed(make, error, message) -> None:
    with pytest.raises(error) as raised:
        make()
    assert str(raised.value) == message


def test_templated_ids_inside_a_literal_list_wait_for_rendering() -> None:
    sensor = OneCodexAlignmentSensor(task_id="w", alignment_ids=[GOOD_ID, "{{ params.other }}"])
    assert sensor.alignment_ids == [GOOD_ID, "{{ params.other }}"]


@pytest.mark.parametrize("mode", MODES)
def test_a_failed_alignment_under_report_is_logged_as_failed(use_sim, drive, mode) -> None:
    with capture_logs() as logs:
        result = drive(
            mode,
            lambda **kw: OneCodexAlignmentSensor(
                task_id="w", alignment_id=FAILED_ID, failure_policy="report", poke_interval=0.1, **kw
            ),
        )
    assert result.xcom["success"] is False
    lines = [e["event"] % tuple(e.get("positional_args", ())) for e in logs]
    done = [line for line in lines if line.startswith("One Codex wait done")]
    assert done == [f"One Codex wait done: alignment {FAILED_ID} completed: failed ({FAILED_MSG})"]
