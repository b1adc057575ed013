"""Bad input is refused before any request, at every public entry point, with a message that names
the argument and the value it got.

One table: each row calls one entry point (hook and async hook methods, both clients, sensors and
operators after template rendering, the trigger constructor, ``WaitSpec.build``, connection extras)
with one bad value. The simulator must see zero requests for every row.
"""

from __future__ import annotations

import asyncio
import inspect
import itertools
from collections.abc import Callable
from typing import Any

from airflow_provider_onecodex.api import ops
from tests._reliability import GOOD_ID, SAMPLE_ID, connect, run_as_trigger  # noqa: F401  (connect: a fixture)

SAMPLE_URI = f"/api/v1/samples/{SAMPLE_ID}"
ALIGNMENT_URI = f"/api/v1/alignments/{GOOD_ID}"


class Env:
    """What a row needs: connections to the simulator, hooks, clients, and a task runner."""

    def __init__(self, sim: Any, connect: Callable[..., str]) -> None:
        self.sim = sim
        self._connect = connect
        self._numbers = itertools.count()
        self.conn_id = connect(sim)

    def conn(self, **extra: Any) -> str:
        """A fresh connection id to the simulator with these extras."""
        return self._connect(self.sim, f"onecodex_bad_{next(self._numbers)}", **extra)

    def hook(self, **extra: Any) -> Any:
        from airflow_provider_onecodex.hooks.onecodex import OneCodexHook

        return OneCodexHook(self.conn(**extra) if extra else self.conn_id)

    async def arun(self, op: Any, **extra: Any) -> Any:
        """``op`` the way the triggers run it: the connection read now, then the async client."""
        return await run_as_trigger(self.conn(**extra) if extra else self.conn_id, op)

    def config(self) -> Any:
        from airflow_provider_onecodex.api.config import ClientConfig

        return ClientConfig(api_key=self.sim.api_key, base_url=self.sim.base_url)

    def client(self) -> Any:
        from airflow_provider_onecodex.api.client import OneCodexClient

        return OneCodexClient(self.config())

    def aclient(self) -> Any:
        from airflow_provider_onecodex.api.async_client import AsyncOneCodexClient

        return AsyncOneCodexClient(self.config())

    def task(self, cls_name: str, params: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        """Build a sensor or operator, render its templates with ``params``, then execute it."""
        from airflow_provider_onecodex.operators import onecodex as operators
        from airflow_provider_onecodex.sensors import onecodex as sensors

        cls = getattr(sensors, cls_name, None) or getattr(operators, cls_name)
        if cls.__module__ == sensors.__name__:
            kwargs = {"poke_interval": 0.05, "timeout": 10, **kwargs}
        task = cls(task_id="bad_input", onecodex_conn_id=self.conn_id, **kwargs)
        context = {"params": params or {}}
        task.render_template_fields(context)
        return task.execute(context)

    def trigger(self, spec: Any, poll_interval: Any = 1.0) -> Any:
        from airflow_provider_onecodex.triggers.onecodex import OneCodexAnalysisTrigger

        return OneCodexAnalysisTrigger(spec=spec, onecodex_conn_id=self.conn_id, poll_interval=poll_interval)

    @staticmethod
    def spec(resource: Any, **kwargs: Any) -> Any:
        from airflow_provider_onecodex.api.waiting import WaitSpec

        return WaitSpec.build(resource, **kwargs)


def one_id(value: Any) -> dict[str, Any]:
    return {"resource": "alignments", "ids": [value], "single": True}


SENSOR = "OneCodexAlignmentSensor"
ANY_SENSOR = "OneCodexAnalysisSensor"
ID_TEMPLATE = "{{ params.value }}"

# (label, call, argument named in the message, value shown in the message; None: Airflow's own
# check, whose message names the argument only)
Row = tuple[str, Callable[[Env], Any], str, "str | None"]
TABLE: list[Row] = [
    # -- ids, through the sync hook ----------------------------------------------------------
    ("hook id None", lambda e: e.hook().get_alignment(None), "alignment_id", "None"),
    ("hook id empty", lambda e: e.hook().get_alignment(""), "alignment_id", "''"),
    ("hook id whitespace", lambda e: e.hook().get_alignment("   "), "alignment_id", "'   '"),
    ("hook id uppercase", lambda e: e.hook().get_alignment(GOOD_ID.upper()), "alignment_id", GOOD_ID.upper()),
    ("hook id short", lambda e: e.hook().get_alignment(GOOD_ID[:-1]), "alignment_id", f"'{GOOD_ID[:-1]}'"),
    ("hook id long", lambda e: e.hook().get_alignment(GOOD_ID + "0"), "alignment_id", f"'{GOOD_ID}0'"),
    (
        "hook id non-hex",
        lambda e: e.hook().get_alignment("a1a100000000128g"),
        "alignment_id",
        "a1a100000000128g",
    ),
    ("hook id int", lambda e: e.hook().get_alignment(1234567890123456), "alignment_id", "1234567890123456"),
    ("hook $uri of a sample", lambda e: e.hook().get_alignment(SAMPLE_URI), "alignment_id", SAMPLE_URI),
    (
        "hook sample $uri of an alignment",
        lambda e: e.hook().get_sample(ALIGNMENT_URI),
        "sample_id",
        ALIGNMENT_URI,
    ),
    (
        "hook unknown resource",
        lambda e: e.hook().get_record("alignmnets", GOOD_ID),
        "resource",
        "'alignmnets'",
    ),
    ("hook ids empty", lambda e: e.hook().list_by_ids("alignments", []), "ids", "[]"),
    ("hook ids a string", lambda e: e.hook().list_by_ids("alignments", GOOD_ID), "ids", f"'{GOOD_ID}'"),
    ("hook conn id empty", lambda e: e.hook().__class__(onecodex_conn_id=""), "onecodex_conn_id", "''"),
    # -- where/sort/paging, through the sync hook ----------------------------------------------
    ("hook where list", lambda e: e.hook().list_records("alignments", where=[1, 2]), "where", "[1, 2]"),
    ("hook where int", lambda e: e.hook().list_alignments(where=5), "where", "got 5"),
    ("hook where bad JSON", lambda e: e.hook().list_alignments(where="{not json"), "where", "'{not json'"),
    ("hook sort non-bool", lambda e: e.hook().list_alignments(sort={"created_at": "desc"}), "sort", "'desc'"),
    (
        "hook sort JSON list",
        lambda e: e.hook().list_alignments(sort='["created_at"]'),
        "sort",
        "['created_at']",
    ),
    ("hook per_page 0", lambda e: e.hook().list_alignments(per_page=0), "per_page", "got 0"),
    ("hook per_page 1001", lambda e: e.hook().list_alignments(per_page=1001), "per_page", "1001"),
    ("hook max_records 0", lambda e: e.hook().list_alignments(max_records=0), "max_records", "got 0"),
    ("hook max_records text", lambda e: e.hook().list_alignments(max_records="10"), "max_records", "'10'"),
    ("hook sample_id bad", lambda e: e.hook().list_alignments(sample_id="XYZ"), "sample_id", "'XYZ'"),
    (
        "hook tax_id a name",
        lambda e: e.hook().list_alignments(sample_id=SAMPLE_ID, tax_id="E. coli"),
        "tax_id",
        "'E. coli'",
    ),
    # -- both clients ------------------------------------------------------------------------
    (
        "client id non-hex",
        lambda e: e.client().get_record("alignments", "nothexnothexnoth"),
        "alignment_id",
        "nothexnothexnoth",
    ),
    (
        "client max_pages 0",
        lambda e: e.client().iter_records("alignments", max_pages=0),
        "max_pages",
        "got 0",
    ),
    (
        "client variant",
        lambda e: e.client().iter_records("alignments", variant="private"),
        "variant",
        "'private'",
    ),
    ("async client id empty", lambda e: e.aclient().get_record("alignments", ""), "alignment_id", "''"),
    ("async client resource", lambda e: e.aclient().list_records("alignmentz"), "resource", "'alignmentz'"),
    ("async client per_page", lambda e: e.aclient().list_records("samples", per_page=-1), "per_page", "-1"),
    (
        "async (trigger) id uppercase",
        lambda e: e.arun(ops.get_record("alignments", GOOD_ID.upper())),
        "alignment_id",
        GOOD_ID.upper(),
    ),
    (
        "async (trigger) sort value",
        lambda e: e.arun(ops.list_records("alignments", sort={"created_at": "up"})),
        "sort",
        "'up'",
    ),
    (
        "async (trigger) where list",
        lambda e: e.arun(ops.list_records("samples", where=["a"])),
        "where",
        "['a']",
    ),
    # -- sensors, after templating -----------------------------------------------------------
    (
        "sensor templated id",
        lambda e: e.task(SENSOR, {"value": "XYZ"}, alignment_id=ID_TEMPLATE),
        "alignment_id",
        "'XYZ'",
    ),
    (
        "deferrable sensor templated id",
        lambda e: e.task(SENSOR, {"value": GOOD_ID.upper()}, alignment_id=ID_TEMPLATE, deferrable=True),
        "alignment_id",
        GOOD_ID.upper(),
    ),
    ("sensor ids empty", lambda e: e.task(SENSOR, alignment_ids=[]), "alignment_ids", "[]"),
    (
        "sensor templated tax_id",
        lambda e: e.task(SENSOR, {"value": "staph"}, sample_id=SAMPLE_ID, tax_id=ID_TEMPLATE),
        "tax_id",
        "'staph'",
    ),
    (
        "sensor poke_interval 0",
        lambda e: e.task(SENSOR, alignment_id=GOOD_ID, poke_interval=0),
        "poke_interval",
        "got 0",
    ),
    (
        "sensor poke_interval < 0",
        lambda e: e.task(SENSOR, alignment_id=GOOD_ID, poke_interval=-1),
        "poke_interval",
        None,
    ),
    ("sensor timeout 0", lambda e: e.task(SENSOR, alignment_id=GOOD_ID, timeout=0), "timeout", "got 0"),
    ("sensor timeout < 0", lambda e: e.task(SENSOR, alignment_id=GOOD_ID, timeout=-5), "timeout", None),
    (
        "sensor max_consecutive_failures 0",
        lambda e: e.task(SENSOR, alignment_id=GOOD_ID, max_consecutive_failures=0),
        "max_consecutive_failures",
        "got 0",
    ),
    (
        "sensor max_consecutive_failures < 0",
        lambda e: e.task(SENSOR, alignment_id=GOOD_ID, max_consecutive_failures=-3, deferrable=True),
        "max_consecutive_failures",
        "-3",
    ),
    (
        "sensor max_consecutive_failures text",
        lambda e: e.task(SENSOR, alignment_id=GOOD_ID, max_consecutive_failures="3"),
        "max_consecutive_failures",
        "'3'",
    ),
    (
        "sensor unknown resource",
        lambda e: e.task(ANY_SENSOR, analysis_id=GOOD_ID, resource="alignmnets"),
        "resource",
        "'alignmnets'",
    ),
    (
        "sensor where JSON list",
        lambda e: e.task(ANY_SENSOR, sample_id=SAMPLE_ID, where="[1]"),
        "where",
        "[1]",
    ),
    (
        "sensor failure_policy",
        lambda e: e.task(ANY_SENSOR, analysis_id=GOOD_ID, failure_policy="ignore"),
        "failure_policy",
        "'ignore'",
    ),
    (
        "sensor min_count < 0",
        lambda e: e.task(ANY_SENSOR, sample_id=SAMPLE_ID, min_count=-1),
        "min_count",
        "-1",
    ),
    # -- operators, after templating ---------------------------------------------------------
    (
        "get operator templated id",
        lambda e: e.task("OneCodexGetAlignmentOperator", {"value": "0123"}, alignment_id=ID_TEMPLATE),
        "alignment_id",
        "'0123'",
    ),
    (
        "get operator resource",
        lambda e: e.task("OneCodexGetRecordOperator", resource="nope", record_id=GOOD_ID),
        "resource",
        "'nope'",
    ),
    (
        "get operator $uri of another resource",
        lambda e: e.task("OneCodexGetRecordOperator", resource="samples", record_id=ALIGNMENT_URI),
        "record_id",
        ALIGNMENT_URI,
    ),
    (
        "list operator where",
        lambda e: e.task("OneCodexListRecordsOperator", resource="alignments", where="[1]"),
        "where",
        "[1]",
    ),
    (
        "list operator sort",
        lambda e: e.task("OneCodexListRecordsOperator", resource="alignments", sort='{"created_at": "yes"}'),
        "sort",
        "'yes'",
    ),
    (
        "list operator per_page",
        lambda e: e.task("OneCodexListRecordsOperator", resource="samples", per_page=0),
        "per_page",
        "got 0",
    ),
    (
        "list operator max_records",
        lambda e: e.task("OneCodexListRecordsOperator", resource="samples", max_records=-5),
        "max_records",
        "-5",
    ),
    (
        "list operator variant",
        lambda e: e.task("OneCodexListRecordsOperator", resource="samples", variant="mine"),
        "variant",
        "'mine'",
    ),
    (
        "list alignments templated sample",
        lambda e: e.task("OneCodexListAlignmentsOperator", {"value": "123"}, sample_id=ID_TEMPLATE),
        "sample_id",
        "'123'",
    ),
    # -- trigger constructor -----------------------------------------------------------------
    ("trigger spec id", lambda e: e.trigger(one_id("XYZ")), "alignment_id", "'XYZ'"),
    (
        "trigger spec resource",
        lambda e: e.trigger({**one_id(GOOD_ID), "resource": "nope"}),
        "resource",
        "'nope'",
    ),
    (
        "trigger spec ids empty",
        lambda e: e.trigger({"resource": "alignments", "ids": []}),
        "alignment_ids",
        "[]",
    ),
    ("trigger spec unknown key", lambda e: e.trigger({**one_id(GOOD_ID), "bogus": 1}), "spec", "'bogus'"),
    ("trigger spec not a dict", lambda e: e.trigger([GOOD_ID]), "spec", f"['{GOOD_ID}']"),
    (
        "trigger poll_interval 0",
        lambda e: e.trigger(one_id(GOOD_ID), poll_interval=0),
        "poll_interval",
        "got 0",
    ),
    (
        "trigger poll_interval < 0",
        lambda e: e.trigger(one_id(GOOD_ID), poll_interval=-1),
        "poll_interval",
        "-1",
    ),
    (
        "trigger poll_interval text",
        lambda e: e.trigger(one_id(GOOD_ID), poll_interval="5"),
        "poll_interval",
        "'5'",
    ),
    # -- WaitSpec.build ----------------------------------------------------------------------
    (
        "spec $uri of a sample",
        lambda e: e.spec("alignments", record_id=SAMPLE_URI),
        "alignment_id",
        SAMPLE_URI,
    ),
    ("spec not an analyses route", lambda e: e.spec("samples", record_id=GOOD_ID), "resource", "'samples'"),
    ("spec min_count", lambda e: e.spec("alignments", sample_id=SAMPLE_ID, min_count=-1), "min_count", "-1"),
    (
        "spec failure_policy",
        lambda e: e.spec("alignments", record_id=GOOD_ID, failure_policy="sometimes"),
        "failure_policy",
        "'sometimes'",
    ),
    (
        "spec where bad JSON",
        lambda e: e.spec("alignments", sample_id=SAMPLE_ID, where="not json"),
        "where",
        "'not json'",
    ),
    # -- connection extras (read when the hook is first used) ----------------------------------
    (
        "extra read_timeout text",
        lambda e: e.hook(read_timeout="abc").get_alignment(GOOD_ID),
        "read_timeout",
        "'abc'",
    ),
    (
        "extra read_timeout 0",
        lambda e: e.hook(read_timeout=0).get_alignment(GOOD_ID),
        "read_timeout",
        "got 0",
    ),
    (
        "extra read_timeout inf",
        lambda e: e.hook(read_timeout="inf").get_alignment(GOOD_ID),
        "read_timeout",
        "inf",
    ),
    (
        "extra connect_timeout < 0",
        lambda e: e.hook(connect_timeout=-1).get_alignment(GOOD_ID),
        "connect_timeout",
        "-1",
    ),
    ("extra max_retries < 0", lambda e: e.hook(max_retries=-1).get_alignment(GOOD_ID), "max_retries", "-1"),
    (
        "extra max_retries fraction",
        lambda e: e.hook(max_retries="2.5").get_alignment(GOOD_ID),
        "max_retries",
        "'2.5'",
    ),
    ("extra page_size 0", lambda e: e.hook(page_size=0).list_alignments(), "page_size", "got 0"),
    ("extra page_size 5000", lambda e: e.hook(page_size=5000).list_alignments(), "page_size", "5000"),
    (
        "extra auth_style",
        lambda e: e.hook(auth_style="digest").get_alignment(GOOD_ID),
        "auth_style",
        "'digest'",
    ),
    (
        "extra max_retry_after NaN",
        lambda e: e.hook(max_retry_after="nan").get_alignment(GOOD_ID),
        "max_retry_after",
        "nan",
    ),
    (
        "extra retry_initial_wait < 0",
        lambda e: e.hook(retry_initial_wait=-1).get_alignment(GOOD_ID),
        "retry_initial_wait",
        "-1",
    ),
    (
        "async extra read_timeout",
        lambda e: e.arun(ops.get_record("alignments", GOOD_ID), read_timeout="soon"),
        "read_timeout",
        "'soon'",
    ),
]


def _call(env: Env, call: Callable[[Env], Any]) -> None:
    result = call(env)
    if inspect.isawaitable(result):

        async def finish() -> None:
            await result

        asyncio.run(finish())


def test_bad_input_is_refused_before_any_request(onecodex_simulator, connect):
    env = Env(onecodex_simulator, connect)
    problems: list[str] = []
    for label, call, name, shown in TABLE:
        onecodex_simulator.state.reset_counters()
        try:
            _call(env, call)
        except (TypeError, ValueError) as exc:
            message = str(exc)
            if name not in message:
                problems.append(f"{label}: message does not name {name!r}: {message}")
            if shown is not None and shown not in message:
                problems.append(f"{label}: message does not show {shown!r}: {message}")
        except Exception as exc:
            problems.append(f"{label}: {type(exc).__name__} instead of ValueError/TypeError: {exc}")
        else:
            problems.append(f"{label}: accepted")
        if onecodex_simulator.state.count():
            problems.append(f"{label}: {onecodex_simulator.state.count()} request(s) sent")

    assert len(TABLE) >= 40
    assert len({label for label, *_ in TABLE}) == len(TABLE)
    assert not problems, "\n".join(problems)
