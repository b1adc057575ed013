"""One Codex web-app URLs for records (One Codex API reference, "Web-app URL patterns").

``/classification/{id}`` for classifications and ``/analysis/{id}`` for every other analysis type
(alignment ids are analysis ids). No page pattern is known for a single sample: a sample's page is
its primary classification's (where One Codex shows the sample's results), else the samples list.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from airflow_provider_onecodex.api.resources import ANALYSIS_RESOURCES


def web_page_of(resource: str) -> str | None:
    """What the "One Codex" link of a ``resource`` record opens: ``"analysis"`` (analysis routes:
    its page), ``"sample"`` (samples and metadata: the sample's page, see :func:`sample_url`), or
    ``None`` (tags, jobs, projects...: no web-app page is known)."""
    if resource in ANALYSIS_RESOURCES:
        return "analysis"
    return "sample" if resource in ("samples", "metadata") else None


def web_url(base_url: str, resource: str, record_id: str | None) -> str | None:
    """The web-app page of a record, on the same host as the API; ``None`` when none is known."""
    if not record_id or resource not in ANALYSIS_RESOURCES:
        return None
    page = "classification" if resource == "classifications" else "analysis"
    return f"{base_url.rstrip('/')}/{page}/{record_id}"


def sample_url(base_url: str, sample: Mapping[str, Any] | None) -> str:
    """The web-app page of a sample record: its primary classification's page when it has one
    (``/classification/{id}``), else the samples list (``/samples``)."""
    from airflow_provider_onecodex.api.ids import id_from_uri

    classification = id_from_uri(sample.get("primary_classification")) if sample else None
    return web_url(base_url, "classifications", classification) or f"{base_url.rstrip('/')}/samples"
