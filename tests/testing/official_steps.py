"""Steps a user of the official ``onecodex`` client takes, run unmodified against the simulator.

Runs in the official client's own virtualenv (``bench/.venv-official``, built by
``bench/official.py``; the client does not co-install with Airflow) as
``python tests/testing/official_steps.py`` with ``{"url", "api_key", "ids": {...}, "n_samples",
"workdir"}`` as JSON on stdin; prints one JSON line: ``{"version", "steps": [[name, ok, error]]}``.
Standard library and ``onecodex`` only: the provider is not installed there.
"""

from __future__ import annotations

import json
import os
import sys
import traceback
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any


def main() -> None:
    req = json.loads(sys.stdin.read())
    os.environ["ONE_CODEX_API_BASE"] = req["url"]
    os.environ.pop("ONE_CODEX_API_KEY", None)
    warnings.simplefilter("ignore")
    from onecodex import Api
    from onecodex.version import __version__

    api = Api(api_key=req["api_key"], telemetry=False, load_extensions=False)
    ids: dict[str, str] = req["ids"]
    workdir = Path(req["workdir"])
    steps: list[list[Any]] = []

    def step(name: str, check: Callable[[], object]) -> None:
        try:
            outcome = check()
            if outcome is False:
                raise AssertionError("check returned False")
            steps.append([name, True, None])
        except Exception as exc:  # every failure is a result to report, not a crash
            last = traceback.extract_tb(exc.__traceback__)[-1]
            steps.append(
                [name, False, f"{type(exc).__name__}: {str(exc)[:600]} (at {last.name}:{last.lineno})"]
            )

    def lists(model: Any, minimum: int = 1) -> Callable[[], bool]:
        return lambda: len(model.all()) >= minimum

    def gets(model: Any, record_id: str) -> Callable[[], bool]:
        return lambda: model.get(record_id) is not None and model.get(record_id).id == record_id

    step("account", lambda: api._client.get(f"{api._base_url}/api/v1/account").json()["email"] is not None)
    # every resource the client models: list, then get one
    for name, model, key in (
        ("samples", api.Samples, "sample"),
        ("metadata", api.Metadata, "metadata"),
        ("tags", api.Tags, "tag"),
        ("users", api.Users, "user"),
        ("jobs", api.Jobs, "job"),
        ("projects", api.Projects, "project"),
        ("documents", api.Documents, "document"),
        ("assets", api.Assets, "asset"),
        ("analyses", api.Analyses, "analysis"),
        ("alignments", api.Alignments, "alignment"),
        ("classifications", api.Classifications, "classification"),
        ("panels", api.Panels, "panel"),
        ("functional_profiles", api.FunctionalProfiles, "functional_profile"),
        ("mlsts", api.Mlsts, "mlst"),
        ("workflows", api.Workflows, "workflow"),
    ):
        step(f"list {name}", lists(model))
        step(f"get {name}", gets(model, ids[key]))

    # cursor paging: every own sample and metadata record, past the first page of 100
    step("all samples (cursor paging)", lambda: len(api.Samples.all()) == req["n_samples"])
    step("all metadata (cursor paging)", lambda: len(api.Metadata.all()) >= req["n_samples"])
    step("samples limit", lambda: len(api.Samples.all(limit=5)) == 5)
    step("public samples", lambda: len(api.Samples.where(public=True)) >= 1)
    step("organization samples", lambda: len(api.Samples.where(organization=True)) >= 1)

    # filters
    sample = api.Samples.get(ids["sample"])
    step(
        "samples by filename",
        lambda: [s.id for s in api.Samples.where(filename=sample.filename)] == [sample.id],
    )
    step(
        "samples by tag",
        lambda: sample.id in [s.id for s in api.Samples.where(tags=[api.Tags.get(ids["tag"])])],
    )
    step(
        "tags by name",
        lambda: [t.id for t in api.Tags.where(name=api.Tags.get(ids["tag"]).name)] == [ids["tag"]],
    )
    step(
        "analyses by type",
        lambda: all(a.analysis_type == "alignment" for a in api.Analyses.where(analysis_type="alignment")),
    )
    step("jobs by analysis type", lambda: len(api.Jobs.where(analysis_type="classification")) >= 1)
    step("samples by id list", lambda: [s.id for s in api.Samples.where(ids["sample"])] == [ids["sample"]])

    # a sample's analyses and their results
    step(
        "a sample's alignments",
        lambda: ids["alignment"] in [a.id for a in api.Alignments.where(sample=sample)],
    )
    step("a sample's classifications", lambda: len(api.Classifications.where(sample=sample.id)) >= 1)
    step("sample metadata reference", lambda: sample.metadata.id == ids["metadata"])
    step("sample primary classification", lambda: sample.primary_classification is not None)
    classification = api.Classifications.get(ids["classification"])
    step("classification results (results_uri)", lambda: len(classification.results()["table"]) > 0)
    step("classification results (no results_uri)",
         lambda: len(api.Classifications.get(ids["classification_without_uri"]).results()["table"]) > 0)  # fmt: skip
    step("alignment record", lambda: api.Alignments.get(ids["alignment"]).sample.id == sample.id)
    step("panel results", lambda: "panel_results" in api.Panels.get(ids["panel"]).results())
    step("mlst results", lambda: "mlstResults" in api.Mlsts.get(ids["mlst"]).results())
    step(
        "functional profile results",
        lambda: "table" in api.FunctionalProfiles.get(ids["functional_profile"]).results(),
    )

    # metadata read and update
    def update_metadata() -> bool:
        record = api.Metadata.get(ids["metadata"])
        record.description = "checked by the official client"
        record.save()
        return api.Metadata.get(ids["metadata"]).description == "checked by the official client"

    step("metadata read", lambda: api.Metadata.get(ids["metadata"]).sample.id == ids["sample"])
    step("metadata update", update_metadata)

    def update_metadata_custom() -> bool:
        api.Metadata.get(ids["metadata"]).update(custom={"checked": True}, platform="Illumina MiSeq")
        record = api.Metadata.get(ids["metadata"])
        return record.custom == {"checked": True} and record.platform == "Illumina MiSeq"

    step("metadata update (custom, enum)", update_metadata_custom)

    # tags
    def tag_sample() -> bool:
        target = api.Samples.get(ids["untagged_sample"])
        target.tags.append(api.Tags.get(ids["tag"]))
        target.save()
        return ids["tag"] in [t.id for t in api.Samples.get(ids["untagged_sample"]).tags]

    step("tag a sample", tag_sample)

    # jobs
    step("job record", lambda: api.Jobs.get(ids["job"]).analysis_type != "")
    step("job of an analysis", lambda: api.Alignments.get(ids["alignment"]).job.id is not None)

    # documents
    def download_document() -> bool:
        document = api.Documents.get(ids["document"])
        target = workdir / document.filename
        document.download(path=str(target))
        return target.stat().st_size == document.size

    step("document download", download_document)
    print(json.dumps({"version": __version__, "steps": steps}))


if __name__ == "__main__":
    main()
