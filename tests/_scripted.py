"""Operations run against scripted answers (no HTTP): the tests of ``api/`` operations."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def scripted(answers: list[Any]) -> tuple[Callable[[Any], Any], list[Any]]:
    """``(perform, seen)``: ``perform`` answers effects with ``answers`` in order (an exception is
    raised at its effect) and records every effect in ``seen``."""
    seen: list[Any] = []
    queue = list(answers)

    def perform(effect: Any) -> Any:
        seen.append(effect)
        answer = queue.pop(0)
        if isinstance(answer, BaseException):
            raise answer
        return answer

    return perform, seen
