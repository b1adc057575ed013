"""`make demo-events`: One Codex news starts DAG runs, through a real scheduler and triggerer.

``airflow dags test`` cannot show event scheduling, so this starts the local One Codex simulator
and a real Airflow on loopback (api-server, scheduler, dag-processor, triggerer; SQLite,
LocalExecutor, home under ``.demo-events/``) with only ``dags_examples/onecodex_on_new_sample.py``
in its DAGs folder. The DAG's asset is watched by ``OneCodexNewSampleTrigger`` (1 s interval).
Then it adds two samples at run time through the simulator's admin route ``POST /_sim/samples``
(each importing for 1 s, with a classification and an alignment finishing 2-3 s later), and
shows exactly two DAG runs, one per sample, with their QC lines. It stops everything it started
and exits non-zero if the runs differ from that. About a minute on 2 cores.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
WORKDIR = ROOT / ".demo-events"
sys.path.insert(0, str(ROOT))  # the Airflow process helpers live with the end-to-end tests

from tests.e2e.airflow._event_stack import DAG_ID, EventStack, event_stack  # noqa: E402


def qc_lines(stack: EventStack, run_id: str) -> Any:
    entry = stack.api.get(
        f"/api/v2/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances/qc/xcomEntries/return_value",
        params={"deserialize": True},
        expect=(200, 404),
    )
    value = (entry or {}).get("value")
    return json.loads(value) if isinstance(value, str) else value


def main() -> int:
    shutil.rmtree(WORKDIR, ignore_errors=True)
    WORKDIR.mkdir()
    problems: list[str] = []
    print(f"demo-events: starting the simulator and Airflow (logs in {WORKDIR.relative_to(ROOT)}/) ...")
    with event_stack(WORKDIR, "demo-events") as stack:
        print(f"demo-events: {DAG_ID} is watching {stack.sim.base_url}/api/v1/samples")
        added = []
        for n, name in enumerate(("patient-17.fastq.gz", "patient-18.fastq.gz"), start=1):
            sample_id = stack.add_sample(name)
            added.append(sample_id)
            print(f"demo-events: added sample {sample_id} ({name}) through POST /_sim/samples")
            stack.wait_runs(n)
            print(f"demo-events: DAG run {n} created for it")
        runs = stack.wait_finished()
        print(f"\n== {DAG_ID}: {len(runs)} runs")
        for run in runs:
            print(f"  {run['run_id']}  {run['run_type']}  {run['state']}  samples {run['sample_ids']}")
            for line in qc_lines(stack, run["run_id"]) or []:
                print(f"    QC {line['sample_id']}: {line['verdict']} (top species {line['top_species']}, "
                      f"{line['alignments']} alignments, {line['failed_alignments']} failed)")  # fmt: skip
        if sorted(sample for run in runs for sample in run["sample_ids"]) != sorted(added) or len(runs) != 2:
            problems.append(f"expected two runs, one per sample {added}; got {runs}")
        problems += [f"run {r['run_id']} ended {r['state']}" for r in runs if r["state"] != "success"]
    for problem in problems:
        print(f"demo-events: PROBLEM: {problem}")
    print("demo-events: " + ("OK: two samples, two runs" if not problems else "FAILED"))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
