"""OneCodexHook and OneCodexAsyncHook with connections from ``AIRFLOW_CONN_ONECODEX_DEFAULT``."""

from __future__ import annotations

import base64
import json
import socket
import time
from collections.abc import Callable, Iterator
from typing import Any
from unittest import mock

import pytest

from airflow_provider_onecodex.api import ops
from airflow_provider_onecodex.api.batch import ID_BATCH, list_by_ids
from airflow_provider_onecodex.api.ops import ApiCall, call
from airflow_provider_onecodex.hooks.onecodex import OneCodexAsyncHook, OneCodexHook
from airflow_provider_onecodex.testing.app import UNAUTHORIZED_MESSAGE
from airflow_provider_onecodex.triggers.connection import ConnectionClient
from tests._reliability import run_as_trigger

DEMO_SAMPLE = "a1b2c3d4e5f60718"
PUBLIC_SAMPLE = "c3d4e5f60718293a"
DONE_ALIGNMENT = "a1a1000000000028"  # alignment of PUBLIC_SAMPLE, complete from the start


@pytest.fixture
def set_conn(monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    """Define ``onecodex_default`` from connection fields (JSON form of ``AIRFLOW_CONN_*``)."""

    def set_conn(**fields: Any) -> None:
        monkeypatch.setenv("AIRFLOW_CONN_ONECODEX_DEFAULT", json.dumps({"conn_type": "onecodex", **fields}))

    return set_conn


def basic_token(key: str) -> str:
    return base64.b64encode(f"{key}:".encode()).decode()


# -- construction and configuration ----------------------------------------------------------


@pytest.mark.parametrize("hook_class", [OneCodexHook, OneCodexAsyncHook])
def test_init_does_no_io_and_a_missing_connection_fails_on_use(hook_class, monkeypatch) -> None:
    from airflow.sdk.exceptions import AirflowNotFoundException

    monkeypatch.delenv("AIRFLOW_CONN_NO_SUCH_CONN", raising=False)
    with (
        mock.patch("airflow.sdk.BaseHook.get_connection", side_effect=AssertionError("I/O in __init__")),
        mock.patch("airflow.sdk.BaseHook.aget_connection", side_effect=AssertionError("I/O in __init__")),
    ):
        hook = hook_class("no_such_conn")
    assert hook.onecodex_conn_id == "no_such_conn"
    if hook_class is OneCodexHook:
        with pytest.raises(AirflowNotFoundException, match="no_such_conn"):
            hook.config  # noqa: B018


@pytest.mark.parametrize("hook_class", [OneCodexHook, OneCodexAsyncHook])
@pytest.mark.parametrize(
    ("bad", "error", "message"),
    [
        ("", ValueError, "must be a non-empty string"),
        ("   ", ValueError, "must be a non-empty string"),
        (None, TypeError, r"must be a connection id \(a string\)"),
        (7, TypeError, r"must be a connection id \(a string\)"),
    ],
)
def test_bad_conn_id_is_refused(hook_class, bad, error, message) -> None:
    with pytest.raises(error, match=f"onecodex_conn_id {message}, got {bad!r}"):
        hook_class(bad)


@pytest.mark.parametrize(
    ("fields", "base_url"),
    [
        ({}, "https://app.onecodex.com"),
        ({"host": ""}, "https://app.onecodex.com"),
        ({"host": "app.onecodex.com"}, "https://app.onecodex.com"),
        ({"host": "https://app.onecodex.com/api/v1/"}, "https://app.onecodex.com"),
        ({"host": "http://127.0.0.1:8000/"}, "http://127.0.0.1:8000"),
        ({"host": "localhost", "port": 9000, "schema": "http"}, "http://localhost:9000"),
        ({"host": "onecodex.internal.example", "port": 8443}, "https://onecodex.internal.example:8443"),
    ],
)
def test_host_defaults_and_full_urls(fields, base_url, set_conn) -> None:
    set_conn(password="k" * 32, **fields)
    with mock.patch("airflow.sdk.log.mask_secret"):
        assert OneCodexHook().config.base_url == base_url


def test_extras_reach_the_client_config(set_conn) -> None:
    set_conn(
        password="k" * 32,
        extra={
            "auth_style": "header",
            "connect_timeout": "3",
            "read_timeout": 7,
            "max_retries": 2,
            "page_size": 50,
        },
    )
    with mock.patch("airflow.sdk.log.mask_secret"):
        config = OneCodexHook().config
    assert (config.auth_style, config.timeout, config.retry.max_attempts, config.page_size) == (
        "header",
        (3.0, 7.0),
        3,
        50,
    )
    assert "k" * 32 not in repr(config)


def test_mask_secret_gets_the_key_and_its_basic_token(set_conn) -> None:
    key = "0a1b2c3d4e5f67890a1b2c3d4e5f6789"
    set_conn(password=key)
    with mock.patch("airflow.sdk.log.mask_secret") as mask:
        OneCodexHook().config  # noqa: B018
    assert [c.args[0] for c in mask.call_args_list] == [key, basic_token(key)]


# -- requests against the simulator ------------------------------------------------------------


def test_get_list_and_list_by_ids(sim, connect) -> None:
    hook = OneCodexHook()
    record = hook.get_alignment(DONE_ALIGNMENT)
    assert (record["$uri"], record["complete"], record["success"], record["tax_id"]) == (
        f"/api/v1/alignments/{DONE_ALIGNMENT}",
        True,
        True,
        "28901",
    )
    assert hook.list_alignments(sample_id=PUBLIC_SAMPLE) == [record]
    assert [r["tax_id"] for r in hook.list_alignments(sample_id=DEMO_SAMPLE, tax_id="562")] == ["562"]

    ids = [sim.state.add_alignment(DEMO_SAMPLE, tax_id="1280") for _ in range(150)]
    sim.state.reset_counters()
    unknown = "0e0e0e0e0e0e0e0e"
    got = hook.list_by_ids("alignments", [*ids, unknown])
    assert sorted(r["$uri"].rsplit("/", 1)[1] for r in got) == sorted(ids)  # unknown ids are absent
    assert sim.state.count("/api/v1/alignments") == -(-151 // ID_BATCH)  # one listing per batch
    hook.close()


def test_bad_arguments_are_refused_before_any_request(sim, connect) -> None:
    hook = OneCodexHook()
    with pytest.raises(ValueError, match=r"alignment_id must be a One Codex id .*'nope'"):
        hook.get_alignment("nope")
    with pytest.raises(ValueError, match=r"resource must be one of .*'alignment'"):
        hook.get_record("alignment", DONE_ALIGNMENT)
    with pytest.raises(TypeError, match="ids must be a list of One Codex ids"):
        hook.list_by_ids("alignments", DONE_ALIGNMENT)  # type: ignore[arg-type]
    assert sim.state.count() == 0


def test_errors_never_carry_the_key(sim, connect) -> None:
    from airflow_provider_onecodex.api.errors import OneCodexAuthError

    wrong = "d" * 32
    connect(password=wrong)
    with pytest.raises(OneCodexAuthError) as raised:
        OneCodexHook().get_alignment(DONE_ALIGNMENT)
    assert raised.value.status == 401
    assert wrong not in str(raised.value) and basic_token(wrong) not in str(raised.value)


# -- test_connection ------------------------------------------------------------------------------


def test_test_connection_ok(sim, connect) -> None:
    ok, message = OneCodexHook().test_connection()
    assert (ok, message) == (True, f"Connected to One Codex at {sim.base_url} as alice.nguyen@example.org")
    assert sim.state.count("/api/v1/account", method="GET") == 1


def test_test_connection_with_a_wrong_key(sim, connect) -> None:
    wrong = "c" * 32
    connect(password=wrong)
    ok, message = OneCodexHook().test_connection()
    assert ok is False
    assert message == "Authentication failed (HTTP 401): check the API key in the connection"
    assert wrong not in message and UNAUTHORIZED_MESSAGE[:40] not in message
    assert sim.state.count() == 1  # no retries


def test_test_connection_does_not_retry_a_server_error(sim, connect) -> None:
    sim.state.faults.script("/api/v1/account", [{"status": 503, "body": "html"}])
    assert OneCodexHook().test_connection() == (False, "One Codex answered HTTP 503 to GET /api/v1/account")
    assert sim.state.count() == 1


def test_test_connection_to_a_closed_port_fails_quickly(set_conn) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    set_conn(host=f"http://127.0.0.1:{port}", password="b" * 32)
    started = time.monotonic()
    ok, message = OneCodexHook().test_connection()
    assert time.monotonic() - started < 3
    assert ok is False
    assert message.startswith(f"Could not reach http://127.0.0.1:{port}: ")
    assert "b" * 32 not in message


def test_test_connection_with_the_masked_placeholder_sends_nothing(sim, connect) -> None:
    connect(password="***")
    ok, message = OneCodexHook().test_connection()
    assert ok is False
    assert "placeholder '***'" in message
    assert sim.state.count() == 0


def test_test_connection_with_no_key_sends_nothing(sim, set_conn) -> None:
    set_conn(host=sim.base_url)
    ok, message = OneCodexHook().test_connection()
    assert (ok, message) == (
        False,
        "Connection settings are not usable: connection `onecodex_default` has an empty password: "
        "it must hold the One Codex API key",
    )
    assert sim.state.count() == 0


# -- the async hook -----------------------------------------------------------------------------


@pytest.fixture
def no_sync_lookup() -> Iterator[None]:
    with mock.patch(
        "airflow.sdk.BaseHook.get_connection", side_effect=AssertionError("sync lookup in async code")
    ):
        yield


async def test_async_hook_reads_the_connection_without_blocking(sim, set_conn, no_sync_lookup) -> None:
    set_conn(host=sim.base_url, password=sim.api_key)  # no extra: Airflow would mask a non-empty one too
    with mock.patch("airflow.sdk.log.amask_secret") as amask:
        hook = OneCodexAsyncHook()
        config = await hook.aget_config()
    assert config.base_url == sim.base_url
    assert [c.args[0] for c in amask.call_args_list] == [sim.api_key, basic_token(sim.api_key)]


async def test_async_get_list_and_list_by_ids(sim, connect, no_sync_lookup) -> None:
    hook = ConnectionClient("onecodex_default")
    try:
        record = await (await hook.current()).run(ops.get_record("alignments", DONE_ALIGNMENT))
        assert record == sim.state.get_json("alignments", DONE_ALIGNMENT)
        where = {"sample": {"$ref": f"/api/v1/samples/{PUBLIC_SAMPLE}"}}
        assert await (await hook.current()).run(ops.list_records("alignments", where=where)) == [record]
        sample = await (await hook.current()).run(ops.get_record("samples", PUBLIC_SAMPLE))
        assert sample == sim.state.get_json("samples", PUBLIC_SAMPLE)
        ids = [sim.state.add_alignment(DEMO_SAMPLE, tax_id="562") for _ in range(120)]
        sim.state.reset_counters()
        got = await (await hook.current()).run(list_by_ids("alignments", [*ids, "0c0c0c0c0c0c0c0c"]))
        assert sorted(r["$uri"].rsplit("/", 1)[1] for r in got) == sorted(ids)
        assert sim.state.count("/api/v1/alignments") == -(-121 // ID_BATCH)  # one request per batch
        account = await (await hook.current()).run(call(ApiCall("GET", "/api/v1/account")))
        assert account["email"] == "alice.nguyen@example.org"
    finally:
        await hook.aclose()


async def test_async_hook_errors_match_the_sync_hook(sim, connect) -> None:
    from airflow_provider_onecodex.api.errors import OneCodexAuthError, OneCodexNotFoundError

    missing = "0d0d0d0d0d0d0d0d"
    with pytest.raises(OneCodexNotFoundError) as sync_error:
        OneCodexHook().get_alignment(missing)
    sync_lookup = mock.patch("airflow.sdk.BaseHook.get_connection", side_effect=AssertionError("sync lookup"))
    with sync_lookup, pytest.raises(OneCodexNotFoundError) as async_error:
        await run_as_trigger("onecodex_default", ops.get_record("alignments", missing))
    assert str(async_error.value) == str(sync_error.value)

    connect(password="a" * 32)
    with pytest.raises(OneCodexAuthError) as auth_error:
        await run_as_trigger("onecodex_default", ops.get_record("samples", PUBLIC_SAMPLE))
    assert auth_error.value.status == 401 and "a" * 32 not in str(auth_error.value)


async def test_async_hook_with_a_missing_connection_fails_on_use(monkeypatch) -> None:
    from airflow.sdk.exceptions import AirflowNotFoundException

    monkeypatch.delenv("AIRFLOW_CONN_NO_SUCH_CONN", raising=False)
    hook = OneCodexAsyncHook("no_such_conn")
    with pytest.raises(AirflowNotFoundException, match="no_such_conn"):
        await hook.aget_config()


@pytest.mark.parametrize("filename", ["../escape.tsv.gz", "a/b.tsv", ".", ""])
def test_an_unsafe_download_name_is_a_value_error_before_any_request(
    sim, connect, tmp_path, filename
) -> None:
    from airflow_provider_onecodex.api.errors import OneCodexError

    with pytest.raises(ValueError, match="filename must be a plain file name") as info:
        OneCodexHook().download_readlevel("c1a5000000000001", destination=tmp_path, filename=filename)
    assert not isinstance(info.value, OneCodexError)
    assert sim.state.count() == 0 and list(tmp_path.iterdir()) == []


def test_a_listing_past_max_pages_is_a_permanent_value_error(sim, connect) -> None:
    from airflow_provider_onecodex.api.errors import is_transient

    with pytest.raises(ValueError, match="max_pages=1") as info:
        OneCodexHook().list_alignments(per_page=1, max_pages=1, max_records=None)
    assert not is_transient(info.value) and sim.state.count() == 1
