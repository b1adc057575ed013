"""`make demo-distributed`: the alignment workflow on CeleryExecutor, and a triggerer lost mid-wait.

Stands up, on loopback and from a throwaway folder: PostgreSQL and Redis (installed with apt-get when
missing), an api-server, a scheduler, a dag-processor, two Celery workers and two triggerers, with
``onecodex_default`` pointing at an in-process One Codex simulator. Then:

1. triggers ``onecodex_alignment_workflow_deferrable`` for the demo sample, which has five alignments
   here (the demo's three plus two added). The simulator's clock stands still, so every alignment
   stays pending until all five waits are deferred and each trigger runs on a triggerer;
2. SIGKILLs the triggerer running most of the waits (a lost machine: no clean shutdown) and starts
   the simulator's clock: three alignments finish 3-6 s later, while nobody watches them, two at
   40 and 70 s;
3. measures how long the killed triggerer's waits take to move to the other triggerer (in the
   metadata DB, then the first poll naming them), and waits for the run to end;
4. checks that every wait ended as designed (success, or failed with the alignment's error), exactly
   once, on its first try; and that the summary lists all five;
5. stops everything it started, Postgres and Redis included, and checks that nothing is left.

Exits non-zero when anything differs. ``--report FILE`` writes the figures as JSON; ``--keep``
keeps the throwaway folder (logs of every component under ``logs/``; kept anyway on failure);
``--graceful`` stops the triggerer with SIGTERM instead (a clean shutdown, as in a rolling restart).
"""

from __future__ import annotations

import argparse
import json
import shutil
import signal
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "e2e" / "airflow"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _airflow_proc import wait_for  # noqa: E402
from _distributed_stack import DistributedStack, processes_mentioning  # noqa: E402

from airflow_provider_onecodex.testing.server import SimulatorServer  # noqa: E402
from airflow_provider_onecodex.testing.state import GatedClock  # noqa: E402

DAG_ID = "onecodex_alignment_workflow_deferrable"
WAIT_TASK = "wait_for_alignment"
SAMPLE = "a1b2c3d4e5f60718"
LOW_COVERAGE = "Reference genome coverage too low to call an alignment."
#: [triggerer] triggerer_health_check_threshold, Airflow's default (the demo does not change it)
HEALTH_CHECK_THRESHOLD = 30
# alignment id -> (tax_id, seconds after the kill until it completes, success, error_msg)
ADDED = {
    "a1a1000000028901": ("28901", 40.0, True, None),
    "a1a1000000001313": ("1313", 70.0, False, "Too few reads mapped to the reference."),
}
EXPECTED = {  # alignment id -> (wait task state, summary status, error_msg)
    "a1a1000000001280": ("success", "succeeded", None),
    "a1a1000000000562": ("success", "succeeded", None),
    "a1a1000000001639": ("failed", "failed", LOW_COVERAGE),
    "a1a1000000028901": ("success", "succeeded", None),
    "a1a1000000001313": ("failed", "failed", "Too few reads mapped to the reference."),
}


def _listed_uris(sim: SimulatorServer, since: int = 0) -> list[tuple[float, set[str]]]:
    """(simulator time, ``$uri`` ``$in`` set) of each alignment listing from request ``since`` on."""
    found = []
    for record in sim.state.requests[since:]:
        if record.method == "GET" and record.path == "/api/v1/alignments":
            where = json.loads(parse_qs(record.query).get("where", ["{}"])[0])
            uris = where.get("$uri", {}).get("$in") if isinstance(where.get("$uri"), dict) else None
            if isinstance(uris, list):
                found.append((record.at, {u.rsplit("/", 1)[-1] for u in uris}))
    return found


def _since(moment: datetime, stamp: str | None) -> float | None:
    if not stamp:
        return None
    return round((datetime.fromisoformat(stamp.replace("Z", "+00:00")) - moment).total_seconds(), 1)


def run(
    stack: DistributedStack, clock: GatedClock, report: dict[str, Any], graceful: bool = False
) -> list[str]:
    """Steps 1-4 of the module docstring; returns the problems found."""
    api, sim, times = stack.api, stack.sim, report["times"]
    assert stack.comps is not None
    check = stack.comps.check_alive
    runs = f"/api/v2/dags/{DAG_ID}/dagRuns"
    started = time.monotonic()
    wait_for(
        f"the dag-processor to serialize {DAG_ID}",
        lambda: api.get(f"/api/v2/dags/{DAG_ID}", expect=(200, 404)).get("dag_id") == DAG_ID,
        timeout=180,
        on_fail=stack.tails,
        check=check,
    )
    api.patch(f"/api/v2/dags/{DAG_ID}", {"is_paused": False})
    run_id = api.post(runs, {"logical_date": None, "conf": {"sample_id": SAMPLE}})["dag_run_id"]
    tis_path = f"{runs}/{run_id}/taskInstances?limit=100"

    def waits() -> dict[int, dict[str, Any]]:
        tis = api.get(tis_path)["task_instances"]
        return {t["map_index"]: t for t in tis if t["task_id"] == WAIT_TASK}

    def all_deferred_and_assigned() -> dict[int, int] | None:
        current = waits()
        if any(t["state"] in ("success", "failed", "up_for_retry") for t in current.values()):
            raise AssertionError(f"a wait ended while every alignment was pending: {current}")
        if len(current) != len(EXPECTED) or any(t["state"] != "deferred" for t in current.values()):
            return None
        assigned = stack.assignments(DAG_ID, run_id, WAIT_TASK)
        if len(assigned) != len(EXPECTED) or None in assigned.values():
            return None
        polled = set().union(*(uris for _, uris in _listed_uris(sim)))
        return {m: t for m, t in assigned.items() if t is not None} if polled >= set(EXPECTED) else None

    assigned = wait_for(
        "all five waits to be deferred, each trigger on a triggerer and polled",
        all_deferred_and_assigned,
        timeout=300,
        interval=1.0,
        on_fail=stack.tails,
        check=check,
    )
    times["trigger -> all waits deferred and polled"] = round(time.monotonic() - started, 1)
    alignment_of = {m: t["rendered_fields"]["alignment_id"] for m, t in waits().items()}
    per_job = {job: sorted(m for m, j in assigned.items() if j == job) for job in stack.triggerers}
    victim = max(per_job, key=lambda job: len(per_job[job]))
    survivor = next(job for job in stack.triggerers if job != victim)
    moved = per_job[victim]
    name = {job: comp.name for job, comp in stack.triggerers.items()}
    report["before_kill"] = {name[j]: [alignment_of[m] for m in ms] for j, ms in per_job.items()}
    print(f"\nall {len(assigned)} waits deferred; triggers per triggerer: {report['before_kill']}")

    # -- 2. lose a triggerer; alignments start to finish -------------------------------------------
    seen_before = len(sim.state.requests)
    # Reassignment waits until the lost triggerer's last heartbeat is [triggerer]
    # triggerer_health_check_threshold (30 s) old: how old it already is now explains the move time.
    (age,) = stack.query(
        "SELECT EXTRACT(EPOCH FROM now() - latest_heartbeat) FROM job WHERE id = %s", victim
    )[0]
    killed_at, killed_wall = time.monotonic(), datetime.now(timezone.utc)
    clock.release()  # from now on, simulator time = seconds since the kill
    stack.kill_triggerer(victim, graceful=graceful)
    how = "sent SIGTERM to" if graceful else "SIGKILLed"
    print(f"{how} {name[victim]} (running {len(moved)} waits); simulated time starts")

    # -- 3. the move ------------------------------------------------------------------------------
    def moved_to_survivor() -> bool:
        now = stack.assignments(DAG_ID, run_id, WAIT_TASK)
        return all(now.get(m, survivor) == survivor for m in moved)

    wait_for(f"the waits of {name[victim]} to move to {name[survivor]}", moved_to_survivor, 180, check=check)
    move_s = round(time.monotonic() - killed_at, 1)
    moved_ids = {alignment_of[m] for m in moved}
    wait_for(
        f"{name[survivor]} to poll the moved waits",
        lambda: [(a, u) for a, u in _listed_uris(sim, seen_before) if u & moved_ids],
        timeout=60,
        check=check,
    )
    polls = [(at, uris) for at, uris in _listed_uris(sim, seen_before) if uris & moved_ids]
    report["move"] = {
        "killed": name[victim],
        "signal": "SIGTERM" if graceful else "SIGKILL",
        "waits_moved": len(moved),
        "reassigned_after_s": move_s,
        "first_poll_after_s": round(polls[0][0], 1),
        "heartbeat_age_at_kill_s": round(float(age), 1),
        "health_check_threshold_s": HEALTH_CHECK_THRESHOLD,
    }
    print(f"{len(moved)} waits reassigned to {name[survivor]} {move_s} s after the kill (its last heartbeat "
          f"was {float(age):.1f} s old at the kill; the threshold is {HEALTH_CHECK_THRESHOLD} s); its poller named them "
          f"{polls[0][0]:.1f} s after the kill")  # fmt: skip

    # -- 4. the run ends as designed --------------------------------------------------------------
    def ended() -> str | None:
        state = api.get(f"{runs}/{run_id}")["state"]
        return state if state in ("success", "failed") else None

    report["run_state"] = wait_for(f"run {run_id} to end", ended, timeout=300, interval=1.0, check=check)
    times["kill -> run ended"] = round(time.monotonic() - killed_at, 1)
    return _check_outcomes(stack, runs, run_id, alignment_of, moved, killed_wall, report)


def _check_outcomes(
    stack: DistributedStack,
    runs: str,
    run_id: str,
    alignment_of: dict[int, str],
    moved: list[int],
    killed_wall: datetime,
    report: dict[str, Any],
) -> list[str]:
    api = stack.api
    problems = [] if report["run_state"] == "success" else [f"run ended {report['run_state']}"]
    tis = api.get(f"{runs}/{run_id}/taskInstances?limit=100")["task_instances"]
    rows = []
    for ti in sorted((t for t in tis if t["task_id"] == WAIT_TASK), key=lambda t: t["map_index"]):
        alignment = alignment_of[ti["map_index"]]
        want_state = EXPECTED[alignment][0]
        log = api.get(
            f"{runs}/{run_id}/taskInstances/{WAIT_TASK}/logs/{ti['try_number']}",
            params={"map_index": ti["map_index"]},
            headers={"Accept": "application/json"},
        )
        events = [c.get("event", "") for c in log["content"] if isinstance(c, dict)]
        fired = sum(e == "Trigger fired event" for e in events)
        row = {
            "alignment_id": alignment,
            "moved": ti["map_index"] in moved,
            "state": ti["state"],
            "try_number": ti["try_number"],
            "trigger_events": fired,
            "ended_after_kill_s": _since(killed_wall, ti["end_date"]),
        }
        rows.append(row)
        if (ti["state"], ti["try_number"], fired) != (want_state, 1, 1):
            problems.append(
                f"wait for {alignment}: state {ti['state']} try {ti['try_number']} with {fired} trigger "
                f"event(s); expected {want_state} on try 1 with exactly one event"
            )
    report["waits"] = rows
    entry = api.get(
        f"{runs}/{run_id}/taskInstances/summarize/xcomEntries/return_value", params={"deserialize": True}
    )
    value = entry["value"]
    summary = json.loads(value) if isinstance(value, str) else value
    got = {r["alignment_id"]: (r["status"], r["error_msg"]) for r in summary["alignments"]}
    want = {a: (status, error) for a, (_, status, error) in EXPECTED.items()}
    if got != want:
        problems.append(f"summary {got}, expected {want}")
    report["workers"] = {
        comp.name: comp.output().count("Executing workload in Celery")
        for comp in (stack.comps.items if stack.comps else [])
        if comp.name.startswith("worker")
    }
    return problems


def _print_report(report: dict[str, Any]) -> None:
    print(f"\n== {DAG_ID}: run {report.get('run_state')}")
    for row in report.get("waits", []):
        where = "moved" if row["moved"] else "stayed"
        print(f"  {row['alignment_id']}  {row['state']:<8} try {row['try_number']}  "
              f"{row['trigger_events']} trigger event  ended {row['ended_after_kill_s']} s after the kill ({where})")  # fmt: skip
    if "workers" in report:
        print(f"  tasks run per Celery worker: {report['workers']}")
    print(f"  wall times (s): {report['times']}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--report", type=Path, help="write the figures here as JSON")
    parser.add_argument("--keep", action="store_true", help="keep the throwaway folder (logs)")
    parser.add_argument("--graceful", action="store_true", help="SIGTERM the triggerer instead of SIGKILL")
    args = parser.parse_args(argv)

    def on_term(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)  # unwinds through the finally below: everything is stopped

    signal.signal(signal.SIGTERM, on_term)
    root = Path(tempfile.mkdtemp(prefix="onecodex-distributed-"))
    report: dict[str, Any] = {"times": {}, "problems": []}
    clock = GatedClock()
    sim = SimulatorServer(clock=clock).start()
    for alignment_id, (tax_id, after, success, error) in ADDED.items():
        sim.state.add_alignment(
            SAMPLE, tax_id=tax_id, id=alignment_id, complete_after=after, success=success, error_msg=error
        )
    stack = DistributedStack(root, sim, report["times"])
    print(f"throwaway folder {root}; One Codex simulator at {sim.base_url}")
    try:
        stack.start()
        print(f"up: postgres :{stack.pg.port}, redis :{stack.redis.port}, api-server :{stack.api_port}, "
              f"scheduler, dag-processor, {', '.join(stack.WORKERS)}, {', '.join(stack.TRIGGERERS)}")  # fmt: skip
        report["problems"] += run(stack, clock, report, graceful=args.graceful)
    except (Exception, SystemExit) as exc:  # report it; the finally below stops everything first
        report["problems"].append(f"{type(exc).__name__}: {exc}"[:6000])
        if isinstance(exc, SystemExit) and isinstance(exc.code, int) and exc.code > 128:
            print(f"\ninterrupted by signal {exc.code - 128}: stopping everything", file=sys.stderr)
    finally:
        stopped = stack.close()
        sim.stop()
        report["survivors"] = stopped["survivors"]
        report["stop"] = stopped["stop"]
        time.sleep(0.5)
        left = processes_mentioning(str(root))
        if stopped["survivors"] or left:
            report["problems"].append(f"left behind: {stopped['survivors']} {left}")
    _print_report(report)
    report["ok"] = not report["problems"]
    if args.report:
        args.report.write_text(json.dumps(report, indent=2, default=str))
    if report["problems"]:
        print(f"\nDEMO FAILED (logs kept in {root / 'logs'}):\n  " + "\n  ".join(report["problems"]))
        return 1
    if not args.keep:
        shutil.rmtree(root, ignore_errors=True)
    move = report["move"]
    how = "stopped (SIGTERM)" if move["signal"] == "SIGTERM" else "killed (SIGKILL)"
    print(f"\nDemo OK: {move['killed']} was {how} with {move['waits_moved']} waits; they moved to the other "
          f"triggerer in {move['reassigned_after_s']} s and every wait ended as designed, once, on its first try.")  # fmt: skip
    print(
        f"         Stopped everything it started ({report['stop']}, postgres, redis); nothing left running."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
