"""The hooks: :class:`OneCodexHook` (requests), composed of one hook per concept (a new concept is
a new module and one more base class below), and :class:`~.base.OneCodexAsyncHook` (httpx, for triggers)."""

from __future__ import annotations

from airflow_provider_onecodex.hooks.analyses import OneCodexAnalysesHook
from airflow_provider_onecodex.hooks.base import OneCodexAsyncHook
from airflow_provider_onecodex.hooks.files import OneCodexFilesHook
from airflow_provider_onecodex.hooks.samples import OneCodexSamplesHook


class OneCodexHook(OneCodexSamplesHook, OneCodexAnalysesHook, OneCodexFilesHook):
    """One Codex for operators and sensors; ``onecodex_conn_id`` default ``onecodex_default``, read
    on first use (no I/O in ``__init__``), one ``requests.Session`` per hook."""


__all__ = ["OneCodexAsyncHook", "OneCodexHook"]
