"""The API key never leaves the connection: not in logs (DEBUG included), exception messages, XCom
values, rendered template fields, trigger kwargs or events; the hook registers it (and its Basic
token) with Airflow's masker; and it is never read from ``~/.onecodex`` or ``ONE_CODEX_API_KEY``.

Leak checks run with Airflow's secrets masker made inert, so that they see what the provider
emits, not what the masker would hide afterwards.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import traceback
from typing import Any

import pytest
from airflow.sdk.exceptions import AirflowFailException

from airflow_provider_onecodex.api import ops
from airflow_provider_onecodex.api.config import OneCodexConfigError
from airflow_provider_onecodex.api.errors import OneCodexAPIError, OneCodexAuthError
from airflow_provider_onecodex.testing.faults import Fault
from airflow_provider_onecodex.testing.state import ManualClock
from airflow_provider_onecodex.triggers.connection import ConnectionClient
from tests._modes import first_event
from tests._reliability import (  # noqa: F401  (connect: a fixture)
    ALIGNMENTS,
    GOOD_ID,
    LATER,
    SAMPLE_ID,
    RequestClock,
    connect,
    run_as_trigger,
)

WRONG_KEY = "feedfacefeedfacefeedfacefeedface"
OTHER_KEY = "5ca1ab1e5ca1ab1e5ca1ab1e5ca1ab1e"  # what ~/.onecodex and ONE_CODEX_API_KEY hold


def basic_token(key: str) -> str:
    return base64.b64encode(f"{key}:".encode()).decode()


def secret_forms(key: str) -> list[str]:
    return [key, basic_token(key)]


class Evidence:
    """Everything a user or an operator could see, as text."""

    def __init__(self) -> None:
        self.texts: list[str] = []

    def add(self, label: str, value: Any) -> None:
        self.texts.append(
            f"--- {label}\n{value if isinstance(value, str) else json.dumps(value, default=repr)}"
        )

    def exception(self, label: str, exc: BaseException) -> None:
        self.add(label, "".join(traceback.format_exception(exc)) + f"\n{exc!r}\n{exc.args!r}")

    def task(self, label: str, task: Any) -> None:
        self.add(f"{label} rendered fields", {f: getattr(task, f) for f in task.template_fields})

    def raises(self, label: str, call: Any, exc_type: type[BaseException]) -> BaseException:
        with pytest.raises(exc_type) as info:
            call()
        self.exception(label, info.value)
        return info.value

    @property
    def text(self) -> str:
        return "\n".join(self.texts)


@pytest.fixture
def inert_masker(monkeypatch):
    """Airflow's masker with no patterns that ignores new ones; returns the secrets offered to it."""
    from airflow.sdk._shared.secrets_masker import _secrets_masker

    masker = _secrets_masker()
    offered: list[Any] = []
    monkeypatch.setattr(masker, "patterns", set())
    monkeypatch.setattr(masker, "replacer", None)
    monkeypatch.setattr(masker, "add_mask", lambda secret, name=None: offered.append(secret))
    return offered


@pytest.fixture
def debug_logs(caplog):
    """DEBUG from every logger, including those that do not propagate to the root."""
    caplog.set_level(logging.DEBUG)
    for name in ("airflow", "airflow.task", "airflow.triggers", "urllib3", "httpx", "httpcore"):
        caplog.set_level(logging.DEBUG, logger=name)
    isolated = [
        logger
        for logger in logging.root.manager.loggerDict.values()
        if isinstance(logger, logging.Logger) and not logger.propagate
    ]
    for logger in isolated:
        logger.addHandler(caplog.handler)
    yield caplog
    for logger in isolated:
        logger.removeHandler(caplog.handler)


def sensor(conn_id: str, **kwargs: Any) -> Any:
    from airflow_provider_onecodex.sensors.onecodex import OneCodexAlignmentSensor

    return OneCodexAlignmentSensor(
        task_id="wait", onecodex_conn_id=conn_id, poke_interval=0.05, timeout=30, **kwargs
    )


def run_async(coro_fn: Any) -> Any:
    return asyncio.run(coro_fn())


def test_no_secret_in_logs_errors_xcom_templates_trigger_kwargs_or_events(
    timed_sim, onecodex_simulator_factory, connect, inert_masker, debug_logs, capsys
):
    from airflow_provider_onecodex.hooks.onecodex import OneCodexHook
    from airflow_provider_onecodex.operators.onecodex import OneCodexListAlignmentsOperator

    clock = ManualClock()
    sim = timed_sim(clock)
    clock.advance(LATER)
    good = connect(sim, "onecodex_good")
    header = connect(sim, "onecodex_header", auth_style="header")
    bad = connect(sim, "onecodex_bad", password=WRONG_KEY)
    seen = Evidence()
    params = {"aid": GOOD_ID, "sid": SAMPLE_ID}

    # success, through the hook (both auth styles) and a templated poke-mode sensor
    seen.add("hook record", OneCodexHook(good).get_alignment(GOOD_ID))
    seen.add("hook record (X-API-Key)", OneCodexHook(header).get_alignment(GOOD_ID))
    task = sensor(good, alignment_id="{{ params.aid }}")
    task.render_template_fields({"params": params})
    seen.task("poke sensor", task)
    seen.add("poke sensor XCom", task.execute({"params": params}))

    # 401
    seen.raises("401 sensor", lambda: sensor(bad, alignment_id=GOOD_ID).execute({}), AirflowFailException)
    seen.raises("401 hook", lambda: OneCodexHook(bad).get_alignment(GOOD_ID), OneCodexAuthError)
    seen.add("401 test_connection", OneCodexHook(bad).test_connection())

    # retries: 429, an HTML 503 and a reset before the answer; then a Retry-After too long to wait
    sim.state.faults.script(
        ALIGNMENTS, [Fault.http_error(429, retry_after=0), Fault.http_error(503, body="html"), Fault.reset()]
    )
    seen.add("retried record", OneCodexHook(good).get_alignment(GOOD_ID))
    sim.state.faults.script(ALIGNMENTS, [Fault.http_error(429, retry_after=7200)])
    seen.raises("429", lambda: OneCodexHook(good).get_alignment(GOOD_ID), OneCodexAPIError)

    # listings: hook, templated operator, async hook
    seen.add("listing", OneCodexHook(good).list_alignments(sample_id=SAMPLE_ID))
    op = OneCodexListAlignmentsOperator(task_id="list", sample_id="{{ params.sid }}", onecodex_conn_id=good)
    op.render_template_fields({"params": params})
    seen.task("list operator", op)
    seen.add("list operator XCom", op.execute({"params": params}))

    async def async_listing():
        return await run_as_trigger(
            good, ops.list_records("alignments", where={"sample": {"$ref": f"/api/v1/samples/{SAMPLE_ID}"}})
        )

    seen.add("async listing", run_async(async_listing))

    async def async_401():
        return await run_as_trigger(bad, ops.get_record("alignments", GOOD_ID))

    seen.raises("401 async hook", lambda: run_async(async_401), OneCodexAuthError)

    # a deferrable wait: defer, run the trigger, resume
    from airflow.sdk.exceptions import TaskDeferred

    later_clock = RequestClock(2)  # pending at the first poke
    later = onecodex_simulator_factory(clock=later_clock)  # the same demo key
    later_clock.sim = later
    deferred_conn = connect(later, "onecodex_deferred")
    waiting = sensor(deferred_conn, alignment_id="{{ params.aid }}", deferrable=True)
    waiting.render_template_fields({"params": params})
    seen.task("deferrable sensor", waiting)
    with pytest.raises(TaskDeferred) as deferral:
        waiting.execute({"params": params})
    trigger = deferral.value.trigger
    seen.add("trigger kwargs", trigger.serialize())
    seen.add("trigger repr", repr(trigger))
    event = asyncio.run(first_event(trigger))
    seen.add("trigger event", event.payload)
    seen.add("deferrable XCom", waiting.execute_complete({}, event.payload))

    # test_connection
    ok, message = OneCodexHook(good).test_connection()
    assert ok, message
    seen.add("test_connection", message)

    captured = capsys.readouterr()
    seen.add("stdout", captured.out)
    seen.add("stderr", captured.err)
    seen.add("log text", debug_logs.text)
    for record in debug_logs.records:
        seen.add(
            f"log record {record.name}", f"{record.getMessage()} {record.args!r} {record.exc_text or ''}"
        )

    text = seen.text
    # the evidence is real: requests, retries and the sensors' own logging were all captured
    for expected in (
        "Starting new HTTP connection",
        "HTTP Request: GET",
        "Attempt 1/5 failed",
        "retrying in",
    ):
        assert expected in text, expected
    assert "One Codex wait done" in text and "authentication" in text.lower() and GOOD_ID in text
    assert any(r.levelno == logging.DEBUG for r in debug_logs.records)
    for secret in secret_forms(sim.api_key) + secret_forms(WRONG_KEY):
        assert secret not in text
    # and it was the provider that kept them out: the masker hid nothing during the run
    from airflow.sdk._shared.secrets_masker import redact

    assert redact(f"x {sim.api_key} y") == f"x {sim.api_key} y"


def test_the_hooks_register_the_key_and_its_basic_token_with_the_masker(
    onecodex_simulator, connect, monkeypatch
):
    import airflow.sdk.log

    from airflow_provider_onecodex.hooks.onecodex import OneCodexAsyncHook, OneCodexHook

    calls: list[Any] = []

    def mask_secret(secret, name=None):
        calls.append(("sync", secret))

    async def amask_secret(secret, name=None):
        calls.append(("async", secret))

    monkeypatch.setattr(airflow.sdk.log, "mask_secret", mask_secret)
    monkeypatch.setattr(airflow.sdk.log, "amask_secret", amask_secret)
    conn_id = connect(onecodex_simulator)
    key = onecodex_simulator.api_key

    OneCodexHook(conn_id).config  # noqa: B018  (resolving the connection is what registers)
    assert ("sync", key) in calls and ("sync", basic_token(key)) in calls

    async def resolve():
        await OneCodexAsyncHook(conn_id).aget_config()

    asyncio.run(resolve())
    assert ("async", key) in calls and ("async", basic_token(key)) in calls
    assert onecodex_simulator.state.count() == 0


def test_with_the_real_masker_both_forms_are_redacted_once_the_hook_has_run(onecodex_simulator, connect):
    from airflow.sdk._shared.secrets_masker import redact

    from airflow_provider_onecodex.hooks.onecodex import OneCodexHook

    key = onecodex_simulator.api_key
    OneCodexHook(connect(onecodex_simulator)).get_alignment(GOOD_ID)
    line = f"Authorization: Basic {basic_token(key)} key={key}"
    assert redact(line) == "Authorization: Basic *** key=***"


@pytest.fixture
def other_key_everywhere(monkeypatch, tmp_path):
    """``~/.onecodex`` and ``ONE_CODEX_API_KEY`` both hold OTHER_KEY, as the official client reads them."""
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / ".onecodex").write_text(json.dumps({"api_key": OTHER_KEY, "email": "someone@example.org"}))
    monkeypatch.setenv("ONE_CODEX_API_KEY", OTHER_KEY)
    monkeypatch.setenv("ONE_CODEX_BEARER_TOKEN", OTHER_KEY)


def test_the_key_is_never_taken_from_onecodex_file_or_environment(
    onecodex_simulator_factory, connect, other_key_everywhere
):
    from airflow_provider_onecodex.hooks.onecodex import OneCodexHook

    sim = onecodex_simulator_factory(api_key=OTHER_KEY)  # would accept the file/env key
    keyless = connect(sim, "onecodex_keyless", password=None)
    wrong = connect(sim, "onecodex_wrong", password=WRONG_KEY)

    # no password: a configuration error, before any request
    with pytest.raises(OneCodexConfigError, match="API key"):
        OneCodexHook(keyless).get_alignment(GOOD_ID)
    with pytest.raises(OneCodexConfigError, match="API key"):
        asyncio.run(ConnectionClient(keyless).current())
    ok, message = OneCodexHook(keyless).test_connection()
    assert not ok and "API key" in message
    # the sensor fails the task for good (no retries): a missing key does not fix itself
    with pytest.raises(AirflowFailException, match="API key"):
        sensor(keyless, alignment_id=GOOD_ID).execute({})
    assert sim.state.count() == 0

    # a wrong password is sent as it is, never swapped for the file/env key: 401 every time
    with pytest.raises(OneCodexAuthError):
        OneCodexHook(wrong).get_alignment(GOOD_ID)

    async def async_wrong():
        return await run_as_trigger(wrong, ops.get_record("alignments", GOOD_ID))

    with pytest.raises(OneCodexAuthError):
        asyncio.run(async_wrong())
    assert not OneCodexHook(wrong).test_connection()[0]
    statuses = [r.status for r in sim.state.requests]
    assert statuses == [401, 401, 401] and all(r.auth for r in sim.state.requests)
