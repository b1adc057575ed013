"""What a user reads when the connection is wrong: every bad extra at once, the connection id named,
and a host that is not a One Codex API said to be one (a 404 on a route every One Codex API has)."""

from __future__ import annotations

import pytest

from airflow_provider_onecodex.api.batch import list_by_ids
from airflow_provider_onecodex.api.config import OneCodexConfigError
from airflow_provider_onecodex.api.errors import OneCodexNotFoundError
from airflow_provider_onecodex.hooks.onecodex import OneCodexHook
from tests._reliability import run_as_trigger

ALIGNMENT = "0123456789abcdef"


def test_every_bad_extra_is_named_at_once_with_the_connection(onecodex_connection) -> None:
    onecodex_connection(conn_id="oc_badextra", auth_style="bearer", page_size=0, read_timeout=-1)
    with pytest.raises(OneCodexConfigError) as raised:
        OneCodexHook("oc_badextra").config  # noqa: B018
    assert str(raised.value) == (
        "connection `oc_badextra` extra 'auth_style' must be one of ('basic', 'header'), got 'bearer'; "
        "extra 'read_timeout' must be a finite number of seconds > 0, got -1; "
        "extra 'page_size' must be between 1 and 1000, got 0"
    )


def test_extras_of_the_wrong_type_are_named_with_range_errors(onecodex_connection) -> None:
    onecodex_connection(conn_id="oc_types", max_retries="many", connect_timeout="soon", max_retry_after=-1)
    ok, message = OneCodexHook("oc_types").test_connection()
    assert (ok, message) == (
        False,
        "Connection settings are not usable: connection `oc_types` extra 'max_retries' must be an "
        "integer, got 'many'; extra 'max_retry_after' must be >= 0, got -1; extra 'connect_timeout' "
        "must be a number, got 'soon'",
    )


def test_an_empty_password_names_the_connection(onecodex_simulator, onecodex_connection) -> None:
    onecodex_connection(conn_id="oc_nokey", password="")
    ok, message = OneCodexHook("oc_nokey").test_connection()
    assert (ok, message) == (
        False,
        "Connection settings are not usable: connection `oc_nokey` has an empty password: "
        "it must hold the One Codex API key",
    )
    assert onecodex_simulator.state.count() == 0


def test_a_listing_404_says_the_host_is_probably_not_one_codex(
    onecodex_simulator, onecodex_connection
) -> None:
    # The simulator under another path prefix: an HTTP service that has no One Codex routes.
    onecodex_connection(conn_id="oc_other", host=onecodex_simulator.base_url + "/elsewhere")
    target = onecodex_simulator.base_url.removeprefix("http://")
    with pytest.raises(OneCodexNotFoundError) as raised:
        OneCodexHook("oc_other").list_records("alignments")
    text = str(raised.value)
    assert text.startswith(
        f"{target} is probably not a One Codex API (check the host of connection `oc_other`): "
        "it answered 404 on GET /api/v1/alignments: "
    )
    assert onecodex_simulator.api_key not in text


async def test_the_async_hook_says_the_same(onecodex_simulator, onecodex_connection) -> None:
    onecodex_connection(conn_id="oc_other", host=onecodex_simulator.base_url + "/elsewhere")
    with pytest.raises(OneCodexNotFoundError) as sync_error:
        OneCodexHook("oc_other").list_records("alignments")
    with pytest.raises(OneCodexNotFoundError) as async_error:
        await run_as_trigger("oc_other", list_by_ids("alignments", [ALIGNMENT]))
    assert str(async_error.value).split(": it answered")[0] == str(sync_error.value).split(": it answered")[0]


def test_a_404_on_one_record_still_means_no_such_record(onecodex_simulator, onecodex_connection) -> None:
    with pytest.raises(OneCodexNotFoundError) as raised:
        OneCodexHook().get_record("alignments", ALIGNMENT)
    assert str(raised.value).startswith(f"One Codex API error 404 on GET /api/v1/alignments/{ALIGNMENT}: ")


def test_test_connection_to_another_service_asks_whether_it_is_one_codex(
    onecodex_simulator, onecodex_connection
) -> None:
    onecodex_connection(conn_id="oc_other", host=onecodex_simulator.base_url + "/elsewhere")
    target = onecodex_simulator.base_url.removeprefix("http://")
    assert OneCodexHook("oc_other").test_connection() == (
        False,
        f"{target} is probably not a One Codex API (check the host of connection `oc_other`): "
        "it answered HTTP 404 to GET /api/v1/account",
    )
