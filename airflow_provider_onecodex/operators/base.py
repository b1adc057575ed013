"""What every One Codex operator shares: :class:`OneCodexOperator`."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator

if TYPE_CHECKING:
    from airflow_provider_onecodex.hooks.onecodex import OneCodexHook


class OneCodexOperator(BaseOperator):
    """Holds ``onecodex_conn_id`` and the hook, built on first use (no I/O at DAG parse time)."""

    def __init__(self, *, onecodex_conn_id: str = "onecodex_default", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.onecodex_conn_id = onecodex_conn_id

    @cached_property
    def hook(self) -> OneCodexHook:
        from airflow_provider_onecodex.hooks.onecodex import OneCodexHook

        return OneCodexHook(self.onecodex_conn_id)
