"""The simulator's upload routes as a client sees them (plain HTTP, no provider code)."""

from __future__ import annotations

import requests


def _post(sim, path, body):
    return requests.post(f"{sim.base_url}/api/v1{path}", json=body, auth=(sim.api_key, ""), timeout=10)


def test_init_checks_names_and_the_sample(onecodex_simulator):
    sim = onecodex_simulator
    bad = _post(sim, "/samples/init_multipart_upload", {"filename": "a/b.fq"})
    assert bad.status_code == 400 and "not a valid file name" in bad.json()["message"]
    unknown = _post(sim, "/samples/init_multipart_upload", {"filename": "a.fq", "sample_id": "0" * 16})
    assert unknown.status_code == 400 and "pre-uploaded" in unknown.json()["message"]
    both = _post(
        sim,
        "/samples/init_multipart_upload",
        {"filename": "a.fq", "sample_id": "x", "external_sample_id": "y"},
    )
    assert both.status_code == 400
    created = _post(sim, "/samples/init_multipart_upload", {"filename": "a.fq", "metadata": {"name": "n"}})
    body = created.json()
    assert created.status_code == 200 and body["paired_end_file_id"] is None
    assert set(body) == {
        "sample_id", "s3_bucket", "file_id", "paired_end_file_id", "upload_aws_access_key_id",
        "upload_aws_secret_access_key", "callback_url",
    }  # fmt: skip
    assert sim.state.samples[body["sample_id"]].status == "awaiting_data"


def test_callback_needs_the_file_and_cancel_comes_too_late_after_it(onecodex_simulator):
    sim = onecodex_simulator
    init = _post(sim, "/samples/init_multipart_upload", {"filename": "a.fq"}).json()
    callback = {"s3_path": f"s3://{init['s3_bucket']}/{init['file_id']}", "filename": "a.fq"}
    assert init["callback_url"] == "/api/v1/samples/confirm_upload"
    missing = _post(sim, init["callback_url"].removeprefix("/api/v1"), callback)
    assert missing.status_code == 400 and "was not uploaded" in missing.json()["message"]
    wrong = _post(sim, init["callback_url"].removeprefix("/api/v1"), {**callback, "filename": "b.fq"})
    assert wrong.status_code == 400
    sim.state.s3.client().put_object(Bucket=init["s3_bucket"], Key=init["file_id"], Body=b"not sequences")
    done = _post(sim, init["callback_url"].removeprefix("/api/v1"), callback)
    assert done.status_code == 200 and done.json()["sample_id"] == init["sample_id"]
    assert done.json()["sample"] == {"$ref": f"/api/v1/samples/{init['sample_id']}"}
    late = _post(sim, "/samples/cancel_upload", {"sample_id": init["sample_id"]})
    assert late.status_code == 400 and late.json()["message"] == "Upload already successful"
    sample = sim.state.samples[init["sample_id"]]
    assert sample.status == "failed_validation" and sample.error_msg == "a.fq is not a FASTA or FASTQ file"


def test_cancel_before_the_callback_removes_the_sample(onecodex_simulator):
    sim = onecodex_simulator
    sample_id = _post(sim, "/samples/preupload", {"metadata": None, "project": None, "tags": []}).json()[
        "sample_id"
    ]
    cancelled = _post(sim, "/samples/cancel_upload", {"sample_id": sample_id})
    assert cancelled.json() == {"message": "Upload cancelled", "success": True}
    assert sim.state.samples[sample_id].status == "deleted"
    repeated = _post(sim, "/samples/cancel_upload", {"sample_id": sample_id})  # same intent, same outcome
    assert repeated.json() == {"message": "Upload already cancelled", "success": True}
    again = _post(sim, "/samples/init_multipart_upload", {"filename": "a.fq", "sample_id": sample_id})
    assert again.status_code == 400


def test_admin_route_reports_the_s3_endpoint_and_takes_settings(onecodex_simulator):
    sim = onecodex_simulator
    got = requests.post(
        f"{sim.base_url}/_sim/uploads", json={"bad_filenames": ["x.fq"], "fail_parts": 2}, timeout=30
    )
    assert got.json()["s3_endpoint_url"].startswith("http://127.0.0.1:") and got.json()["fail_parts"] == 2
    assert requests.post(f"{sim.base_url}/_sim/uploads", json={"nope": 1}, timeout=10).status_code == 400
