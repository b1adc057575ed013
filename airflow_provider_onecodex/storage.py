"""Where the provider writes files: a destination folder as an Airflow ``ObjectStoragePath``.

Used by the hook's downloads and by the results operators' XCom policy. ``airflow.sdk`` is imported
inside the functions: operator modules import this one at DAG parse time.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from airflow.sdk import ObjectStoragePath


def storage_path(
    destination: object, conn_id: str | None = None, name: str = "destination"
) -> ObjectStoragePath:
    """``destination`` as an ``ObjectStoragePath``: an ``ObjectStoragePath``, an fsspec URL
    (``file:///data/x``, ``s3://bucket/prefix``) or a local path (made absolute, ``file://``).

    :param conn_id: Airflow connection of the storage (e.g. an AWS connection for ``s3://``).
    :param name: the argument's name in error messages.
    :raises TypeError: not a string, path or ``ObjectStoragePath``. :raises ValueError: empty, or a
        URL scheme no installed Airflow provider can open (the message names what to install).
    """
    from airflow.sdk import ObjectStoragePath

    if isinstance(destination, ObjectStoragePath):
        return destination
    if isinstance(destination, os.PathLike):
        destination = os.fspath(destination)
    if not isinstance(destination, str):
        raise TypeError(f"{name} must be a path, a URL or an ObjectStoragePath, got {destination!r}")
    text = destination.strip()
    if not text:
        raise ValueError(f"{name} must not be empty")
    if "://" not in text:
        text = "file://" + os.path.abspath(os.path.expanduser(text))
    path = ObjectStoragePath(text, conn_id=conn_id)
    try:
        path.fs  # noqa: B018  (looked up now: a storage Airflow cannot open is an argument error)
    except ValueError as exc:
        scheme = text.split("://", 1)[0]
        raise ValueError(
            f"{name} {text!r}: {exc}: install the Airflow provider of {scheme}:// storage (e.g. "
            "apache-airflow-providers-amazon for s3://, apache-airflow-providers-google for gs://)"
        ) from None
    return path


def prepare_folder(folder: ObjectStoragePath) -> None:
    """Create ``folder`` when it is local; on object stores "mkdir" can mean "create a bucket"."""
    if folder.protocol in ("file", "local", ""):
        folder.mkdir(parents=True, exist_ok=True)


def check_destination(destination: object, conn_id: str | None = None, *, required: bool = False) -> None:
    """Refuse a bad ``destination`` (see :func:`storage_path`) after templating, before any request.

    :param required: ``None``/``""`` is refused too (``ValueError`` saying what to give).
    """
    if destination is None or destination == "":
        if required:
            raise ValueError("destination is required: a folder URL (file://, s3://...) or a local path")
        return
    storage_path(destination, conn_id)


# Executors whose tasks all run on the scheduler's machine: a file:// destination is shared there.
LOCAL_EXECUTORS = frozenset({"LocalExecutor", "SequentialExecutor", "DebugExecutor"})


def warn_if_machine_local(folder: ObjectStoragePath, log: Any) -> bool:
    """Log a warning when ``folder`` is on this machine's disk and Airflow's executor runs tasks on
    other machines (Celery, Kubernetes...): the next task may run where the file is not.

    :returns: whether it warned.
    """
    if folder.protocol not in ("file", "local", ""):
        return False
    from airflow.sdk import conf

    names = [n.strip() for n in str(conf.get("core", "executor", fallback="")).split(",") if n.strip()]
    remote = [n for n in names if n.rsplit(".", 1)[-1].split(":")[-1] not in LOCAL_EXECUTORS]
    if not remote:
        return False
    log.warning(
        "Writing to %s on this worker's disk, but the executor is %s: other tasks may run on other "
        "machines and not see it. Use shared storage (s3://, gs://, a shared mount) as destination.",
        folder,
        ", ".join(remote),
    )
    return True
