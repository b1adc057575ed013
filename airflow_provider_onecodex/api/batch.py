"""Many records by id in few requests: ``GET /api/v1/<resource>?where={"$uri": {"$in": [...]}}``.

One listing request per :data:`ID_BATCH` ids. The ids travel in the URL's query string, so the
batch is sized for the request line, not for One Codex's page size (up to 1000): gunicorn, a common
server of Flask APIs such as One Codex's, refuses request lines over 4094 bytes by default
(``limit_request_line``), and many proxies sit at 4-8 KB. With every character of ``"/api/v1/<resource>/<16 hex>",`` percent-encoded
(what ``requests`` does; ``httpx`` encodes less) an id costs at most :data:`ENCODED_URI_BYTES`
bytes for the longest resource name; :data:`LINE_OVERHEAD` bytes cover the method, the route, the
rest of the ``where`` clause, ``page``/``per_page`` and ``HTTP/1.1``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from airflow_provider_onecodex.api.ids import validate_ids
from airflow_provider_onecodex.api.ops import Listing, Op
from airflow_provider_onecodex.api.resources import RESOURCES, uri_in_where, validate_resource

#: gunicorn's default ``limit_request_line``: the longest request line it accepts, in bytes.
REQUEST_LINE_LIMIT = 4094
#: bytes of one id in the encoded ``where``: ``"/api/v1/<longest resource>/<16 hex>",`` encoded.
ENCODED_URI_BYTES = max(len(quote(f'"/api/v1/{r}/{"0" * 16}",', safe="")) for r in RESOURCES)
#: bytes of a request line around the ids (110 measured for the longest route; kept generous).
LINE_OVERHEAD = 256
#: ids per listing request: the one batch size of the hook, the sensors and the trigger's poller.
ID_BATCH = (REQUEST_LINE_LIMIT - LINE_OVERHEAD) // ENCODED_URI_BYTES


def records_by_ids(resource: str, ids: list[str]) -> Op[list[dict[str, Any]]]:
    """The records of ``ids`` (already checked, e.g. taken from server records), one request per
    :data:`ID_BATCH`; no request for no ids. Ids the key cannot see are absent from the result."""
    records: list[dict[str, Any]] = []
    for start in range(0, len(ids), ID_BATCH):
        chunk = ids[start : start + ID_BATCH]
        where = uri_in_where(resource, chunk)
        records += yield Listing(resource, where=where, per_page=len(chunk), max_records=len(chunk))
    return records


def list_by_ids(resource: str, ids: list[str]) -> Op[list[dict[str, Any]]]:
    """The records of ``ids`` (a non-empty list of ids or ``$uri`` s), in few listing requests.

    :raises TypeError, ValueError: a bad ``resource`` or id, before any request.
    """
    resource = validate_resource(resource)
    return (yield from records_by_ids(resource, validate_ids(ids, "ids", resource=resource)))
