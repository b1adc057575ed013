"""What the simulator's state raises, and the routes turn into One Codex's answers."""

from __future__ import annotations


class NotFound(KeyError):
    """No record with that id (the API answers 404)."""


class InvalidChange(ValueError):
    """A rejected write, e.g. a metadata PATCH touching ``sample`` (the API answers 400)."""


class NotAvailable(KeyError):
    """Results of an analysis that has not succeeded (the API answers 404, as documented for
    failed analyses)."""


class PresignRefused(Exception):
    """A request to a pre-signed link that S3 would refuse: ``status``, S3 error ``code``, ``message``."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
