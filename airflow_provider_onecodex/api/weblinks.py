"""One Codex web-app URLs for records (One Codex API reference, "Web-app URL patterns").

``/classification/{id}`` for classifications and ``/analysis/{id}`` for every other analysis type
(alignment ids are analysis ids). No public page pattern is known for a single sample.
"""

from __future__ import annotations

from airflow_provider_onecodex.api.resources import ANALYSIS_RESOURCES


def web_url(base_url: str, resource: str, record_id: str | None) -> str | None:
    """The web-app page of a record, on the same host as the API; ``None`` when none is known."""
    if not record_id or resource not in ANALYSIS_RESOURCES:
        return None
    page = "classification" if resource == "classifications" else "analysis"
    return f"{base_url.rstrip('/')}/{page}/{record_id}"
