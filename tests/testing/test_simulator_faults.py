"""Fault injection as a `requests` client sees it, fault counters and the /_sim admin routes."""

from __future__ import annotations

import json
import random
import threading
import time
from typing import Any

import pytest
import requests

from airflow_provider_onecodex.testing.faults import Fault
from airflow_provider_onecodex.testing.server import SimulatorServer

ACCOUNT = "/api/v1/account"
ALIGNMENTS = "/api/v1/alignments"


def call(sim: SimulatorServer, path: str, timeout: float = 5, **params: str | int) -> requests.Response:
    return requests.get(sim.base_url + path, params=params, auth=(sim.api_key, ""), timeout=timeout)


@pytest.mark.parametrize("code", [429, 500, 502, 503, 504])
def test_status_json(sim: SimulatorServer, code: int) -> None:
    sim.state.faults.script(ACCOUNT, [Fault.http_error(code, retry_after=2)])
    response = call(sim, ACCOUNT)
    assert response.status_code == code
    assert response.json() == {"message": response.reason, "status": code}
    assert response.headers["Retry-After"] == "2"
    assert call(sim, ACCOUNT).status_code == 200  # the script is used up


def test_status_html_and_empty(sim: SimulatorServer) -> None:
    http_date = "Wed, 21 Oct 2026 07:28:00 GMT"
    sim.state.faults.script(
        ACCOUNT, [{"status": 502, "body": "html"}, {"code": 503, "body": "empty", "retry_after": http_date}]
    )
    html = call(sim, ACCOUNT)
    assert html.status_code == 502
    assert html.headers["content-type"].startswith("text/html")
    assert "<center><h1>502 Bad Gateway</h1></center>" in html.text and "nginx" in html.text
    assert "Retry-After" not in html.headers
    empty = call(sim, ACCOUNT)
    assert (empty.status_code, empty.content, empty.headers["Retry-After"]) == (503, b"", http_date)


def test_reset_is_a_connection_error(sim: SimulatorServer) -> None:
    sim.state.faults.script(ALIGNMENTS, ["reset"])
    with pytest.raises(requests.exceptions.ConnectionError):
        call(sim, ALIGNMENTS)
    assert call(sim, ALIGNMENTS).status_code == 200
    assert sim.state.requests[0].status is None and sim.state.requests[0].fault == "reset"


def test_hang_is_a_read_timeout(sim: SimulatorServer) -> None:
    sim.state.faults.script(ACCOUNT, [Fault.hang()])
    started = time.monotonic()
    with pytest.raises(requests.exceptions.ReadTimeout):
        call(sim, ACCOUNT, timeout=0.3)
    assert time.monotonic() - started < 2
    assert call(sim, ACCOUNT).status_code == 200


def test_slow_answers_after_the_delay(sim: SimulatorServer) -> None:
    sim.state.faults.script(ALIGNMENTS, [Fault.slow(0.4)])
    started = time.monotonic()
    response = call(sim, ALIGNMENTS)
    assert time.monotonic() - started >= 0.4
    assert response.status_code == 200 and len(response.json()) == 4
    sim.state.faults.script(ALIGNMENTS, [Fault.slow(5)])
    with pytest.raises(requests.exceptions.ReadTimeout):
        call(sim, ALIGNMENTS, timeout=0.3)


def test_slow_patch_keeps_its_body() -> None:
    with SimulatorServer() as sim:
        sim.state.faults.script("/api/v1/metadata", [Fault.slow(0.2)], method="PATCH")
        response = requests.patch(
            f"{sim.base_url}/api/v1/metadata/3e7a000000000002",
            json={"name": "renamed"},
            auth=(sim.api_key, ""),
            timeout=5,
        )
        assert response.status_code == 200 and response.json()["name"] == "renamed"


def test_html200(sim: SimulatorServer) -> None:
    sim.state.faults.script(ALIGNMENTS, ["html200"])
    response = call(sim, ALIGNMENTS)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    with pytest.raises(ValueError):
        response.json()


def test_truncated(sim: SimulatorServer) -> None:
    full = call(sim, ALIGNMENTS).content
    sim.state.faults.script(ALIGNMENTS, ["truncated"])
    response = call(sim, ALIGNMENTS)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.content == full[: len(full) // 2]
    with pytest.raises(ValueError):
        response.json()


def test_vanish_and_no_total(sim: SimulatorServer) -> None:
    full = call(sim, "/api/v1/analyses", per_page=5)
    sim.state.faults.script("/api/v1/analyses", [Fault.vanish(drop=2), "no_total"])
    shrunk = call(sim, "/api/v1/analyses", per_page=5)
    assert shrunk.json() == full.json()[2:]
    assert shrunk.headers["X-Total-Count"] == "12" and "Link" in shrunk.headers
    bare = call(sim, "/api/v1/analyses", per_page=5)
    assert bare.json() == full.json()
    assert "X-Total-Count" not in bare.headers and "Link" not in bare.headers


def test_script_sequence_method_and_regex(sim: SimulatorServer) -> None:
    sim.state.faults.script(ALIGNMENTS, [503, None, "429"], method="GET")
    assert [call(sim, ALIGNMENTS).status_code for _ in range(4)] == [503, 200, 429, 200]
    sim.state.faults.script(path_regex=r"^/api/v1/samples/[0-9a-f]{16}$", faults=[500])
    assert call(sim, "/api/v1/samples").status_code == 200  # the list route does not match
    assert call(sim, "/api/v1/samples/a1b2c3d4e5f60718").status_code == 500
    sim.state.faults.script(ACCOUNT, [500], method="POST")
    assert call(sim, ACCOUNT).status_code == 200
    assert sim.state.faults.rules()[0]["method"] == "POST"


def test_rate_is_seeded_and_scripts_win(sim: SimulatorServer) -> None:
    sim.state.faults.set_rate(0.3, kinds=[500, 503], seed=7, path_prefix=ALIGNMENTS)
    codes = [call(sim, ALIGNMENTS).status_code for _ in range(30)]
    rng = random.Random(7)
    expected = [(rng.choice([500, 503]) if rng.random() < 0.3 else 200) for _ in range(30)]
    assert codes == expected
    assert call(sim, ACCOUNT).status_code == 200  # outside the rule's prefix
    sim.state.faults.script(ALIGNMENTS, [429])
    assert call(sim, ALIGNMENTS).status_code == 429
    sim.state.faults.set_rate(0, path_prefix=ALIGNMENTS)
    assert sim.state.faults.rules() == []


def test_fault_counters(sim: SimulatorServer) -> None:
    sim.state.faults.script(ALIGNMENTS, [503, 503, "truncated", None])
    for _ in range(5):
        call(sim, ALIGNMENTS)
    assert sim.state.faults.counts == {"status": 2, "truncated": 1}
    assert sim.state.count(ALIGNMENTS) == 5
    assert sim.state.count(ALIGNMENTS, status=503) == 2
    assert [r.fault for r in sim.state.requests] == ["status", "status", "truncated", None, None]
    sim.state.reset_counters()
    assert sim.state.faults.counts == {} and sim.state.count() == 0


def test_admin_routes(sim: SimulatorServer) -> None:
    base = sim.base_url + "/_sim"
    rule: dict[str, Any] = {
        "mode": "script",
        "path_prefix": ACCOUNT,
        "faults": [{"kind": "status", "status": 503}, None, "reset"],
    }
    added = requests.post(f"{base}/faults", json=rule, timeout=5)
    assert added.status_code == 200 and added.json()["rules"][0]["mode"] == "script"
    assert call(sim, ACCOUNT).status_code == 503
    assert call(sim, ACCOUNT).status_code == 200
    with pytest.raises(requests.exceptions.ConnectionError):
        call(sim, ACCOUNT)
    rate: dict[str, Any] = {"mode": "rate", "rate": 1.0, "kinds": ["500"], "seed": 1}
    assert requests.post(f"{base}/faults", json=rate, timeout=5).status_code == 200
    assert call(sim, "/api/v1/tags").status_code == 500
    stats = requests.get(f"{base}/stats", timeout=5).json()  # admin routes are never faulted
    assert stats["faults"] == {"total": 3, "by_kind": {"status": 2, "reset": 1}}
    assert stats["requests"]["total"] == 4
    assert stats["requests"]["by_status"] == {"503": 1, "200": 1, "None": 1, "500": 1}
    assert requests.delete(f"{base}/faults", timeout=5).json() == {"rules": []}
    assert call(sim, "/api/v1/tags").status_code == 200
    assert requests.delete(f"{base}/stats", timeout=5).json()["requests"]["total"] == 0
    bad: Any
    for bad in (
        {"mode": "chaos"},
        {"mode": "script", "faults": ["explode"]},
        {"mode": "rate", "rate": 2},
        [1],
    ):
        response = requests.post(f"{base}/faults", json=bad, timeout=5)
        assert response.status_code == 400 and response.json()["status"] == 400


def test_admin_analysis_routes(sim: SimulatorServer) -> None:
    base = sim.base_url + "/_sim/analyses"
    created = requests.post(
        base, json={"sample": "a1b2c3d4e5f60718", "tax_id": "1313", "complete_after": 100}, timeout=5
    )
    assert created.status_code == 201
    new = created.json()
    assert (new["analysis_type"], new["complete"]) == ("alignment", False)
    new_id = new["$uri"].rsplit("/", 1)[1]
    assert call(sim, f"{ALIGNMENTS}/{new_id}").json()["tax_id"] == "1313"
    failed = requests.post(
        f"{base}/{new_id}/outcome", json={"success": False, "error_msg": "nope"}, timeout=5
    ).json()
    assert (failed["complete"], failed["success"], failed["error_msg"]) == (True, False, "nope")
    again = requests.post(f"{base}/{new_id}/outcome", json={"pending": True}, timeout=5).json()
    assert again["complete"] is False
    assert (
        requests.post(f"{base}/ffffffffffffffff/outcome", json={"success": True}, timeout=5).status_code
        == 404
    )
    assert requests.post(base, json={"sample": "0000000000000000"}, timeout=5).status_code == 400


def test_stop_is_quick_with_a_hanging_request() -> None:
    sim = SimulatorServer().start()
    sim.state.faults.script(ACCOUNT, ["hang"])
    errors: list[BaseException] = []

    def hang() -> None:
        try:
            call(sim, ACCOUNT, timeout=30)
        except requests.RequestException as exc:
            errors.append(exc)

    thread = threading.Thread(target=hang)
    thread.start()
    deadline = time.monotonic() + 5
    while sim.state.count(ACCOUNT) == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    started = time.monotonic()
    sim.stop()
    assert time.monotonic() - started < 2
    thread.join(5)
    assert len(errors) == 1 and isinstance(errors[0], requests.exceptions.ConnectionError)


def test_fault_parsing() -> None:
    assert Fault.parse(429) == Fault("status", status=429)
    assert Fault.parse("504") == Fault.http_error(504)
    assert Fault.parse({"kind": "slow", "delay": 0.5}) == Fault.slow(0.5)
    assert Fault.parse({"status": 503, "body": "html"}).body == "html"
    for bad in (
        "explode",
        {"kind": "status", "status": 99},
        {"kind": "reset", "colour": 1},
        {"body": "xml"},
        True,
    ):
        with pytest.raises(ValueError):
            Fault.parse(bad)
    assert json.loads(json.dumps(Fault.hang().to_dict()))["kind"] == "hang"


def test_each_kind_has_a_shortcut_taking_its_one_option() -> None:
    assert Fault.hang(5) == Fault("hang", hang_for=5) and Fault.hang() == Fault("hang")
    assert Fault.slow(0.4) == Fault("slow", delay=0.4) and Fault.vanish(drop=2) == Fault("vanish", drop=2)
    assert Fault.reset(after=True) == Fault("reset", after=True)
    for kind in ("reset", "html200", "truncated", "no_total"):
        assert getattr(Fault, kind)() == Fault.parse(kind)
        with pytest.raises(TypeError, match="by name only"):
            getattr(Fault, kind)(1)
    with pytest.raises(ValueError, match="after=True applies"):
        Fault.slow(after=True)
