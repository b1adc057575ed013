"""The "One Codex" extra link shown on sensors and operators that know an analysis.

In Airflow 3 the worker calls ``get_link`` when a task phase ends and stores the string; the API
server only reads it. So ``get_link`` does no I/O and never raises: the task sets
``onecodex_url`` while it runs (from the connection's host, so a simulator-backed demo links to the
simulator) and the link returns it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from airflow.sdk import BaseOperatorLink

if TYPE_CHECKING:
    from airflow.sdk import BaseOperator
    from airflow.sdk.types import TaskInstanceKey


class OneCodexLink(BaseOperatorLink):
    """Link to the analysis page in the One Codex web app (``/analysis/{id}``, ``/classification/{id}``)."""

    name = "One Codex"

    def get_link(self, operator: BaseOperator, *, ti_key: TaskInstanceKey) -> str:
        url = getattr(operator, "onecodex_url", None)
        return url if isinstance(url, str) else ""
