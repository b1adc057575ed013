"""Sample uploads as one operation (actions reference §5): find or create the sample, send the bytes, finalise.

:func:`upload_sample` is a generator in the :mod:`.ops` style. Besides :class:`~.ops.ApiCall` and
:class:`~.ops.Listing` it yields two effects that only the sync hook performs:

- :class:`SampleCreated`: the sample exists (its id must be persisted before any byte moves, so a
  retry uploads into the same sample);
- :class:`S3Put`: stream one file to ``s3_bucket``/``key`` with the returned keys, multipart with
  :func:`~.fastx.choose_chunk_size` parts and ``ServerSideEncryption: AES256``.

The steps: an existing sample (``sample_id``, or the one whose metadata has ``external_sample_id``)
is reused; one whose upload already went through (``importing``, ``validating``, ``available``,
``failed_validation``) is returned as is. Else ``POST /api/v1/samples/preupload`` creates it with
the metadata, tags and project; ``POST /api/v1/samples/init_multipart_upload`` with its
``sample_id`` gives the bucket, keys and credentials; R2 goes first, then R1 (or the single file),
then ``POST <callback_url>`` naming R1's S3 path. A preupload or callback whose outcome is unknown
(connection dropped, timeout, 5xx) is never resent blindly: the sample is looked up first.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Generator, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from airflow_provider_onecodex.api.errors import (
    OneCodexAPIError,
    OneCodexError,
    OneCodexResponseError,
    is_transient,
)
from airflow_provider_onecodex.api.fastx import SequenceFile, choose_chunk_size, order_pair
from airflow_provider_onecodex.api.ids import API_PREFIX, build_uri, id_from_uri, validate_id
from airflow_provider_onecodex.api.metadata import validate_metadata_fields
from airflow_provider_onecodex.api.metadata_values import METADATA_RULES
from airflow_provider_onecodex.api.ops import ApiCall, Effect, Listing
from airflow_provider_onecodex.api.tags import validate_tag_names

log = logging.getLogger(__name__)

T = TypeVar("T")
EXTERNAL_SAMPLE_ID_MAX = METADATA_RULES["external_sample_id"].max_length or 60  # One Codex: "Up to 60"
ALREADY_UPLOADED = frozenset({"importing", "validating", "available", "failed_validation"})
CANCEL_TOO_LATE = "Upload already successful"


class S3TransferError(OneCodexError):
    """The S3 step of an upload failed after its retries (the message never holds keys or URLs).

    A retry of the task uploads the whole file again into the same sample.
    """


@dataclass(frozen=True)
class SampleCreated:
    """Effect: the sample the bytes go to exists; persist ``sample_id`` before going on."""

    sample_id: str


@dataclass(frozen=True)
class S3Put:
    """Effect: stream the file of role ``role`` (``"source"``/``"paired_source"``) to S3.

    The keys are excluded from ``repr`` (and must never be logged).
    """

    role: str
    bucket: str
    key: str = field(repr=False)
    access_key_id: str = field(repr=False)
    secret_access_key: str = field(repr=False)
    chunk_size: int = 0


UploadEffect = Effect | SampleCreated | S3Put
UploadOp = Generator[UploadEffect, Any, T]


@dataclass(frozen=True)
class UploadRequest:
    """A checked upload: files in One Codex order and what the new sample gets.

    :ivar r1: the single file, or R1 of a pair; ``r1_role`` says which argument it came from.
    :ivar r2: R2 of a pair, or ``None``.
    """

    r1: SequenceFile
    r1_role: str
    r2: SequenceFile | None
    r2_role: str | None
    metadata: dict[str, Any] | None
    tags: list[str]
    project_id: str | None
    external_sample_id: str | None


def build_request(
    source: SequenceFile,
    paired_source: SequenceFile | None = None,
    *,
    metadata: object = None,
    tags: object = None,
    project_id: object = None,
    external_sample_id: object = None,
) -> UploadRequest:
    """Check everything but the files themselves (see :mod:`.fastx`) and order a pair R1, R2.

    ``metadata`` follows the metadata PATCH rules (flat ``custom``); its ``external_sample_id``
    and the argument must agree. ``tags`` are names (at most 30 characters).

    :raises TypeError, ValueError: naming the bad argument, before any request.
    """
    meta = None
    external: str | None = None
    if metadata is not None and metadata != {}:
        meta = validate_metadata_fields(metadata, "metadata")
    if external_sample_id is not None:
        if not isinstance(external_sample_id, str) or not external_sample_id.strip():
            raise TypeError(f"external_sample_id must be a non-empty string, got {external_sample_id!r}")
        if len(external_sample_id) > EXTERNAL_SAMPLE_ID_MAX:
            raise ValueError(
                f"external_sample_id must be at most {EXTERNAL_SAMPLE_ID_MAX} characters, "
                f"got {len(external_sample_id)}: {external_sample_id!r}"
            )
        in_meta = (meta or {}).get("external_sample_id")
        if in_meta is not None and in_meta != external_sample_id:
            raise ValueError(
                f"metadata['external_sample_id'] {in_meta!r} differs from external_sample_id "
                f"{external_sample_id!r}"
            )
        meta = {**(meta or {}), "external_sample_id": external_sample_id}
        external = external_sample_id
    elif meta and isinstance(meta.get("external_sample_id"), str):
        external = meta["external_sample_id"]
    names = [] if tags is None else validate_tag_names(tags, "tags", allow_empty=True)
    project = None if project_id is None else validate_id(project_id, "project_id", resource="projects")
    if paired_source is None:
        return UploadRequest(source, "source", None, None, meta, names, project, external)
    r1, r2 = order_pair(source, paired_source)
    roles = ("source", "paired_source") if r1 is source else ("paired_source", "source")
    return UploadRequest(r1, roles[0], r2, roles[1], meta, names, project, external)


# -- requests and answers ------------------------------------------------------------------------


def preupload_call(request: UploadRequest) -> ApiCall:
    """``POST /api/v1/samples/preupload`` -> ``{"sample_id"}``; creates a sample: never resent."""
    body: dict[str, Any] = {
        "metadata": request.metadata,
        "project": {"$ref": build_uri("projects", request.project_id)} if request.project_id else None,
        "tags": [{"name": t} for t in request.tags],
    }
    return ApiCall("POST", f"{API_PREFIX}/samples/preupload", json_body=body, retry=False)


def init_call(request: UploadRequest, sample_id: str) -> ApiCall:
    """``POST /api/v1/samples/init_multipart_upload`` attaching the files to ``sample_id``.

    With a ``sample_id`` the call creates no sample, so the retry policy may resend it.
    """
    body: dict[str, Any] = {"filename": request.r1.name, "sample_id": sample_id, "external_sample_id": None}
    if request.r2 is not None:
        body["paired_end_filename"] = request.r2.name
    return ApiCall("POST", f"{API_PREFIX}/samples/init_multipart_upload", json_body=body, retry=True)


@dataclass(frozen=True)
class UploadTarget:
    """The answer of ``init_multipart_upload`` (credentials and keys excluded from ``repr``)."""

    sample_id: str
    bucket: str
    file_id: str = field(repr=False)
    paired_end_file_id: str | None = field(repr=False)
    access_key_id: str = field(repr=False)
    secret_access_key: str = field(repr=False)
    callback_url: str = field(repr=False)


def parse_init(body: object, request: UploadRequest) -> UploadTarget:
    """Read an ``init_multipart_upload`` answer; every key is required.

    :raises OneCodexResponseError: a missing or non-string key, no ``paired_end_file_id`` for a
        pair, or a ``callback_url`` that is not a path on the API host (the API key goes with it).
    """
    path = f"{API_PREFIX}/samples/init_multipart_upload"

    def bad(why: str) -> OneCodexResponseError:
        return OneCodexResponseError(200, "POST", path, f"unexpected init_multipart_upload answer: {why}")

    if not isinstance(body, Mapping):
        raise bad("not a JSON object")
    keys = (
        "sample_id",
        "s3_bucket",
        "file_id",
        "upload_aws_access_key_id",
        "upload_aws_secret_access_key",
        "callback_url",
    )
    missing = [k for k in keys if not isinstance(body.get(k), str) or not body.get(k)]
    if missing:
        raise bad(f"missing or empty {missing}")
    paired = body.get("paired_end_file_id")
    if request.r2 is not None and (not isinstance(paired, str) or not paired):
        raise bad("no paired_end_file_id for a paired upload")
    callback = body["callback_url"]
    if not callback.startswith("/") or callback.startswith("//"):
        raise bad("callback_url is not a path on the API host")
    return UploadTarget(
        body["sample_id"],
        body["s3_bucket"],
        body["file_id"],
        paired if request.r2 is not None else None,
        body["upload_aws_access_key_id"],
        body["upload_aws_secret_access_key"],
        callback,
    )


def callback_call(target: UploadTarget, filename: str) -> ApiCall:
    """``POST <callback_url>`` with ``{"s3_path": "s3://<bucket>/<file_id>", "filename"}`` (R1 only)."""
    body = {"s3_path": f"s3://{target.bucket}/{target.file_id}", "filename": filename}
    return ApiCall("POST", target.callback_url, json_body=body, expect=None, retry=False)


def cancel_call(sample_id: object) -> ApiCall:
    """``POST /api/v1/samples/cancel_upload`` ``{"sample_id"}`` -> ``{"message", "success"}``."""
    ident = validate_id(sample_id, "sample_id", resource="samples")
    return ApiCall("POST", f"{API_PREFIX}/samples/cancel_upload", json_body={"sample_id": ident}, retry=True)


def _sample_of_metadata(record: Mapping[str, Any]) -> str | None:
    return id_from_uri(record.get("sample"))


# -- the operations -------------------------------------------------------------------------------


def _put(request: UploadRequest, target: UploadTarget, r2: bool) -> S3Put:
    file, role, key = (
        (request.r2, request.r2_role, target.paired_end_file_id)
        if r2
        else (request.r1, request.r1_role, target.file_id)
    )
    assert file is not None and role is not None and key is not None
    return S3Put(
        role, target.bucket, key, target.access_key_id, target.secret_access_key, choose_chunk_size(file.size)
    )


def find_by_external_id(external_sample_id: str) -> UploadOp[dict[str, Any] | None]:
    """The sample whose metadata has ``external_sample_id`` (``GET /api/v1/metadata?where=``), or None.

    A match whose sample is ``deleted`` or gone counts as none.

    :raises ValueError: several live samples have it (pass ``sample_id`` to choose).
    """
    found = yield Listing("metadata", where={"external_sample_id": external_sample_id}, max_records=10)
    samples = []
    for record in found:
        ident = _sample_of_metadata(record)
        if ident is None:
            continue
        try:
            sample = yield ApiCall("GET", f"{API_PREFIX}/samples/{ident}")
        except OneCodexAPIError as exc:
            if exc.status == 404:
                continue
            raise
        if sample.get("status") != "deleted":
            samples.append(sample)
    if len(samples) > 1:
        ids = sorted(str(id_from_uri(s.get("$uri"))) for s in samples)
        raise ValueError(
            f"{len(samples)} samples have external_sample_id {external_sample_id!r} ({ids}); "
            "pass sample_id to choose one"
        )
    return samples[0] if samples else None


def _create(request: UploadRequest) -> UploadOp[str]:
    try:
        answer = yield preupload_call(request)
    except OneCodexAPIError as exc:
        if not is_transient(exc) or request.external_sample_id is None:
            raise
        # outcome unknown: the sample may exist; look before anything is resent
        existing = yield from find_by_external_id(request.external_sample_id)
        if existing is None:
            raise
        adopted = validate_id(existing.get("$uri"), "sample", resource="samples")
        log.warning(
            "The answer to POST preupload was lost (%s); adopted sample %s found by external_sample_id %r",
            exc.message, adopted, request.external_sample_id,
        )
        return adopted
    sample_id = answer.get("sample_id") if isinstance(answer, Mapping) else None
    if not isinstance(sample_id, str) or not sample_id:
        raise OneCodexResponseError(200, "POST", f"{API_PREFIX}/samples/preupload", "answer has no sample_id")
    return sample_id


def upload_sample(request: UploadRequest, sample_id: str | None = None) -> UploadOp[str]:
    """Upload ``request`` into one sample and return its id (see the module docstring).

    :param sample_id: upload into this existing (pre-uploaded, or created by an earlier attempt)
        sample; its metadata, tags and project are then not sent again.
    :raises ValueError: ``sample_id`` names a deleted sample, or several samples have the
        ``external_sample_id``.
    :raises OneCodexAPIError: a call failed (after the lookups that make a retry safe).
    """
    sample: dict[str, Any] | None = None
    if sample_id is not None:
        sample_id = validate_id(sample_id, "sample_id", resource="samples")
        sample = yield ApiCall("GET", f"{API_PREFIX}/samples/{sample_id}")
        if sample.get("status") == "deleted":
            raise ValueError(f"sample_id {sample_id} is deleted; upload into a new sample")
    elif request.external_sample_id is not None:
        sample = yield from find_by_external_id(request.external_sample_id)
        if sample is not None:
            sample_id = validate_id(sample.get("$uri"), "sample", resource="samples")
    if sample is not None and sample.get("status") in ALREADY_UPLOADED:
        assert sample_id is not None
        log.info(
            "Sample %s already holds this upload (status %s): not uploading again",
            sample_id, sample.get("status"),
        )
        yield SampleCreated(sample_id)
        return sample_id  # the bytes went through before: never a second upload
    if sample_id is None:
        sample_id = yield from _create(request)
    yield SampleCreated(sample_id)
    target = parse_init((yield init_call(request, sample_id)), request)
    if target.sample_id != sample_id:
        raise OneCodexResponseError(
            200,
            "POST",
            f"{API_PREFIX}/samples/init_multipart_upload",
            f"answer names sample {target.sample_id}, not {sample_id}",
        )
    if request.r2 is not None:
        yield _put(request, target, r2=True)  # R2 first: the callback names R1 only
    yield _put(request, target, r2=False)
    try:
        yield callback_call(target, request.r1.name)
    except OneCodexAPIError as exc:
        if not is_transient(exc):
            raise
        # outcome unknown: if the sample moved on, the callback was processed
        now = yield ApiCall("GET", f"{API_PREFIX}/samples/{sample_id}")
        if now.get("status") not in ALREADY_UPLOADED:
            log.warning("The upload callback's answer was lost (%s) and sample %s did not move on: "
                        "sending the callback once more", exc.message, sample_id)
            yield callback_call(target, request.r1.name)
        else:
            log.warning("The upload callback's answer was lost (%s); sample %s is %s: it was processed",
                        exc.message, sample_id, now.get("status"))
    return sample_id


def cancel_upload(sample_id: str) -> UploadOp[dict[str, Any]]:
    """``POST /api/v1/samples/cancel_upload``; ``{"cancelled": bool, "message": str}``.

    An answer (error or ``success: false``) saying "Upload already successful" is not an error: the
    sample is complete (``cancelled`` False).

    :raises OneCodexAPIError: any other failure.
    """
    call = cancel_call(sample_id)
    try:
        answer = yield call
    except OneCodexAPIError as exc:
        if CANCEL_TOO_LATE.lower() in exc.message.lower():
            return {"cancelled": False, "message": exc.message}
        raise
    if not isinstance(answer, Mapping):
        raise OneCodexResponseError(200, "POST", call.path, "answer is not a JSON object")
    message = str(answer.get("message") or "")
    if answer.get("success") is True:
        return {"cancelled": True, "message": message}
    if CANCEL_TOO_LATE.lower() in message.lower():
        return {"cancelled": False, "message": message}
    raise OneCodexResponseError(200, "POST", call.path, f"cancel_upload refused: {json.dumps(message)}")
