"""The simulator's sample uploads (actions reference §5): the routes.

Routes (under ``/api/v1``, authenticated): ``POST /samples/preupload``, ``POST
/samples/init_multipart_upload``, ``POST <callback_url>``, ``POST /samples/cancel_upload``; admin:
``GET/POST /_sim/uploads``. One Codex does not document the route behind ``callback_url``: the
simulator points it at ``POST /api/v1/samples/confirm_upload`` (listed in the OpenAPI file with a
``{"sample_id"}`` body) and takes both that body and the official client's callback body
``{"s3_path", "filename"}``.

The S3 side is moto's S3 server (:mod:`.upload_store`); the provider reaches it through the
connection extra ``upload_s3_endpoint_url``, which only the simulator's connection sets. An
uploaded sample goes ``awaiting_data`` -> (callback) ``importing`` -> ``validating`` ->
``available``, or ``failed_validation`` when the file is empty, not FASTA/FASTQ, or named in
``state.uploads.bad_filenames``; on ``available`` its primary classification exists and completes
``classification_seconds`` later. A cancelled upload shows its sample ``deleted`` (what One Codex
does is not documented).

Faults: ``state.s3.fail_parts(n)`` (the next n part/object PUTs answer 500), the fault layer's
rules on the callback path (``503`` before processing, ``{"kind": "reset", "after": true}`` = processed, then the
connection drops).
"""

from __future__ import annotations

import bz2
import json
import re
import secrets
import zlib
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from airflow_provider_onecodex.testing.ids import is_id, ref, ref_id
from airflow_provider_onecodex.testing.routing import ApiError, json_body, v1_router
from airflow_provider_onecodex.testing.state import SimulatorState
from airflow_provider_onecodex.testing.upload_store import BUCKET, UploadTarget

# One Codex's file name pattern (OpenAPI), kept apart from the provider's copy on purpose
FILENAME_RE = re.compile(r"^[\w\.]+[\w\-\.\[\]\(\)\{\} ]*\.[\w\.]+$", re.ASCII)
HEAD_BYTES = 1024 * 1024  # what the simulator reads of an uploaded file to validate it
CALLBACK_PATH = "/api/v1/samples/confirm_upload"
_TIMINGS = ("import_seconds", "validate_seconds", "classification_seconds")


def _validation_problem(name: str, head: bytes) -> str | None:
    """Why One Codex's validation would refuse a file starting with ``head``, or None."""
    if not head:
        return f"{name} is empty"
    try:
        if head.startswith(b"\x1f\x8b"):
            head = zlib.decompressobj(zlib.MAX_WBITS | 16).decompress(head, 4096)
        elif head.startswith(b"BZh"):
            head = bz2.BZ2Decompressor().decompress(head, 4096)
    except (zlib.error, OSError, EOFError):
        return f"{name} is not a valid compressed file"
    first = head.lstrip()[:1]
    if first not in (b">", b"@"):
        return f"{name} is not a FASTA or FASTQ file"
    return None


def router(state: SimulatorState) -> APIRouter:
    """The upload routes under ``/api/v1``."""
    router = v1_router(state)

    def create_sample(body: dict[str, Any]) -> str:
        metadata, project, tags = body.get("metadata"), body.get("project"), body.get("tags") or []
        if metadata is not None and not isinstance(metadata, dict):
            raise ApiError(400, "'metadata' must be an object or null")
        project_id = ref_id(project, "projects") if isinstance(project, dict) else project
        if project is not None and not is_id(project_id):
            raise ApiError(400, '\'project\' must be {"$ref": "/api/v1/projects/<id>"} or null')
        try:
            with state._lock:
                tag_ids = state._tag_ids(tags)
                sample_id = state.add_sample(
                    "", size=None, status="awaiting_data", visibility="awaiting data",
                    tags=tag_ids, project=project_id, metadata=metadata,
                )  # fmt: skip
                sample = state.samples[sample_id]
                sample.filename, sample.updated_at = None, sample.created_at
                state.metadata[sample.metadata or ""].name = (metadata or {}).get("name")
        except ValueError as exc:  # InvalidChange is a ValueError
            raise ApiError(400, str(exc)) from None
        return sample_id

    def awaiting(sample_id: object, name: str = "sample_id") -> str:
        if not isinstance(sample_id, str) or sample_id not in state.samples:
            raise ApiError(400, f"{name} {sample_id!r} does not match a pre-uploaded sample")
        return sample_id

    @router.post("/samples/preupload")
    async def preupload(request: Request) -> JSONResponse:
        """``{metadata, project, tags}`` (each optional) -> ``{"sample_id"}``: a sample awaiting its files."""
        body = await json_body(request) if await request.body() else {}
        return JSONResponse({"sample_id": create_sample(body)})

    @router.post("/samples/init_multipart_upload")
    async def init_multipart_upload(request: Request) -> JSONResponse:
        """-> ``sample_id``, ``s3_bucket``, ``file_id``, ``paired_end_file_id``, keys, ``callback_url``."""
        body = await json_body(request)
        names = [body.get("filename"), body.get("paired_end_filename")]
        for i, name in enumerate(names):
            if (i == 0 or name is not None) and (
                not isinstance(name, str) or not name.isascii() or not FILENAME_RE.fullmatch(name)
            ):
                raise ApiError(
                    400, f"{['filename', 'paired_end_filename'][i]} {name!r} is not a valid file name"
                )
        if body.get("sample_id") and body.get("external_sample_id"):
            raise ApiError(400, "give sample_id or external_sample_id, not both")
        if body.get("sample_id"):
            sample_id = awaiting(body["sample_id"])
        elif body.get("external_sample_id"):
            matches = [
                m.sample
                for m in state.metadata.values()
                if m.external_sample_id == body["external_sample_id"]
            ]
            sample_id = awaiting(matches[0] if matches else None, "external_sample_id")
        else:
            sample_id = create_sample(body)
        if state.samples[sample_id].status != "awaiting_data":
            raise ApiError(400, f"sample {sample_id} already has its files")
        client = state.s3.client()
        try:
            client.head_bucket(Bucket=BUCKET)
        except Exception:
            client.create_bucket(Bucket=BUCKET)
        token = secrets.token_hex(8)  # a fresh key per init, as One Codex hands out
        file_id = f"{sample_id}/{token}/{names[0]}"
        paired_id = f"{sample_id}/{token}/{names[1]}" if names[1] else None
        state.uploads.targets[sample_id] = UploadTarget(
            sample_id, str(names[0]), file_id, names[1], paired_id
        )
        return JSONResponse(
            {
                "sample_id": sample_id,
                "s3_bucket": BUCKET,
                "file_id": file_id,
                "paired_end_file_id": paired_id,
                "upload_aws_access_key_id": "AKIA" + secrets.token_hex(8).upper(),
                "upload_aws_secret_access_key": secrets.token_urlsafe(30),
                "callback_url": CALLBACK_PATH,
            }
        )

    @router.post("/samples/confirm_upload")
    async def confirm_upload(request: Request) -> JSONResponse:
        """The callback: ``{"s3_path": "s3://<bucket>/<file_id>", "filename"}`` (or ``{"sample_id"}``)
        -> ``{"sample_id", "sample": {"$ref"}, "message", "success"}``; the import starts. A repeat
        answers the same."""
        body = await json_body(request)
        if "s3_path" in body:
            found = [
                t for t in state.uploads.targets.values() if body["s3_path"] == f"s3://{BUCKET}/{t.file_id}"
            ]
            if not found or body.get("filename") != found[0].filename:
                raise ApiError(400, "s3_path and filename must name the file of an upload in progress")
            target = found[0]
        else:
            known = state.uploads.targets.get(str(body.get("sample_id")))
            if known is None:
                raise ApiError(400, f"no upload in progress for sample_id {body.get('sample_id')!r}")
            target = known
        sample = state.samples.get(target.sample_id)
        if sample is None or sample.status == "deleted":
            raise ApiError(404, f"the upload of sample {target.sample_id} was cancelled")
        if sample.status == "awaiting_data":
            finish(target)
        return JSONResponse(
            {
                "sample_id": target.sample_id,
                "sample": ref("samples", target.sample_id),
                "message": "Upload confirmed",
                "success": True,
            }
        )

    def finish(target: UploadTarget) -> None:
        client = state.s3.client()
        keys = [target.file_id] + ([target.paired_end_file_id] if target.paired_end_file_id else [])
        problem, size = None, 0
        for key, name in zip(keys, [target.filename, target.paired_end_filename], strict=False):
            try:
                length = client.head_object(Bucket=BUCKET, Key=key)["ContentLength"]
            except Exception:
                raise ApiError(400, f"{name} was not uploaded") from None
            size += length
            head = b""
            if length:
                read = client.get_object(Bucket=BUCKET, Key=key, Range=f"bytes=0-{HEAD_BYTES - 1}")
                head = read["Body"].read()
            if problem is None:
                problem = _validation_problem(str(name), head)
            if problem is None and name in state.uploads.bad_filenames:
                problem = f"{name} failed validation"
        with state._lock:
            sample = state.samples[target.sample_id]
            now = state.elapsed()
            book = state.uploads
            sample.filename, sample.size, sample.visibility = target.filename, size, "private"
            sample.updated_at = now
            sample.status = "failed_validation" if problem else "available"
            sample.error_msg = problem
            sample.pending_status = "importing"
            sample.pending_steps = [(now + book.import_seconds, "validating")]
            ready = book.import_seconds + book.validate_seconds
            sample.ready_after = now + ready
            if problem is None:
                sample.primary_classification = state.add_analysis(
                    "classification", sample.id, complete_after=ready + book.classification_seconds
                )

    @router.post("/samples/cancel_upload")
    async def cancel_upload(request: Request) -> JSONResponse:
        """``{"sample_id"}`` -> ``{"message", "success"}``; too late: 400 "Upload already successful"."""
        sample_id = (await json_body(request)).get("sample_id")
        with state._lock:
            sample = state.samples.get(sample_id) if isinstance(sample_id, str) else None
            if sample is None:
                raise ApiError(404, f"sample {sample_id!r} not found")
            if sample.status == "deleted":  # a repeated cancel: same intent, same outcome
                return JSONResponse({"message": "Upload already cancelled", "success": True})
            if sample.status != "awaiting_data":
                raise ApiError(400, "Upload already successful")
            # what One Codex does to a cancelled sample is not documented: it is shown as deleted
            sample.status, sample.error_msg = "deleted", "Upload cancelled"
            sample.updated_at = state.elapsed()
            state.uploads.targets.pop(sample.id, None)
        return JSONResponse({"message": "Upload cancelled", "success": True})

    return router


def admin_router(state: SimulatorState) -> APIRouter:
    """``/_sim/uploads``: the S3 endpoint and upload settings, for tests and demos out of process."""
    router = APIRouter(prefix="/_sim")

    def settings() -> dict[str, Any]:
        book = state.uploads
        return {
            "s3_endpoint_url": state.s3.endpoint_url,
            "bad_filenames": sorted(book.bad_filenames),
            "import_seconds": book.import_seconds,
            "validate_seconds": book.validate_seconds,
            "classification_seconds": book.classification_seconds,
            "fail_parts": state.s3.part_failures,
        }

    @router.get("/uploads")
    async def get_settings() -> dict[str, Any]:
        """The S3 endpoint (moto, started on first use) and the upload settings."""
        return settings()

    @router.post("/uploads")
    async def set_settings(request: Request) -> dict[str, Any]:
        """``{"bad_filenames": [...], "import_seconds": s, "validate_seconds": s,
        "classification_seconds": s, "fail_parts": n}``, each optional."""
        try:
            body = json.loads(await request.body())
            if not isinstance(body, dict):
                raise ValueError("the body must be a JSON object")
            unknown = set(body) - {"bad_filenames", "fail_parts", *_TIMINGS}
            if unknown:
                raise ValueError(f"unknown keys {sorted(unknown)}")
            book = state.uploads
            if "bad_filenames" in body:
                book.bad_filenames = {str(n) for n in body["bad_filenames"]}
            for name in _TIMINGS:
                if name in body:
                    setattr(book, name, float(body[name]))
            if "fail_parts" in body:
                state.s3.fail_parts(int(body["fail_parts"]))
        except (ValueError, TypeError) as exc:
            raise ApiError(400, str(exc)) from None
        return settings()

    return router
