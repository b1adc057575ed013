"""The simulator's upload bookkeeping and its S3 endpoint: moto's S3 server on loopback.

:class:`S3Endpoint` starts ``ThreadedMotoServer`` (test extra: moto, flask) on first use, behind a
small WSGI layer that can fail object and part uploads (:meth:`S3Endpoint.fail_parts`).
:class:`UploadBook` holds what the upload routes (:mod:`.uploads`) need per state.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

BUCKET = "onecodex-sim-uploads"


class S3Endpoint:
    """moto's S3 server (``ThreadedMotoServer``) on loopback, started on first use.

    :ivar part_failures: the next this many object/part PUTs answer 500 (``fail_parts``).
    """

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host
        self._server: Any = None
        self._client: Any = None
        self._lock = threading.Lock()
        self.part_failures = 0

    @property
    def endpoint_url(self) -> str:
        """``http://127.0.0.1:<port>``; starts the server (needs the test extra: moto, flask)."""
        with self._lock:
            if self._server is None:
                self._server = _start_moto(self)
            host, port = self._server.get_host_and_port()
            return f"http://{host}:{port}"

    def client(self) -> Any:
        """A boto3 client of this endpoint (the simulator's own reads), made once."""
        import boto3

        endpoint_url = self.endpoint_url
        with self._lock:
            if self._client is None:
                self._client = boto3.session.Session().client(
                    "s3",
                    endpoint_url=endpoint_url,
                    region_name="us-east-1",
                    aws_access_key_id="simulator",
                    aws_secret_access_key="simulator",
                )
            return self._client

    def fail_parts(self, count: int) -> None:
        """Make the next ``count`` object or part uploads answer HTTP 500 (InternalError)."""
        with self._lock:
            self.part_failures = count

    def _take_failure(self) -> bool:
        with self._lock:
            if self.part_failures > 0:
                self.part_failures -= 1
                return True
            return False

    def stop(self) -> None:
        with self._lock:
            if self._server is not None:
                self._server.stop()
                self._server = self._client = None


def _start_moto(endpoint: S3Endpoint) -> Any:
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no access log per part

    class FaultyMotoServer(ThreadedMotoServer):
        def _server_entry(self) -> None:
            from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
            from werkzeug.serving import make_server

            app = _FaultyS3(DomainDispatcherApplication(create_backend_app), endpoint)
            self._server = make_server(self._ip_address, self._port, app, True)
            self._server_ready_event.set()
            self._server.serve_forever()

    server = FaultyMotoServer(ip_address=endpoint.host, port=0, verbose=False)
    server.start()
    return server


class _FaultyS3:
    """WSGI layer in front of moto: fails object/part PUTs on demand."""

    def __init__(self, app: Any, endpoint: S3Endpoint) -> None:
        self.app, self.endpoint = app, endpoint

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        is_object_put = environ["REQUEST_METHOD"] == "PUT" and environ.get("PATH_INFO", "").strip("/").count(
            "/"
        )
        if is_object_put and self.endpoint._take_failure():
            length = int(environ.get("CONTENT_LENGTH") or 0)
            if length:
                environ["wsgi.input"].read(length)
            body = b"<Error><Code>InternalError</Code><Message>injected part failure</Message></Error>"
            start_response("500 Internal Server Error", [("Content-Type", "application/xml")])
            return [body]
        return self.app(environ, start_response)


@dataclass
class UploadTarget:
    sample_id: str
    filename: str
    file_id: str
    paired_end_filename: str | None
    paired_end_file_id: str | None


@dataclass
class UploadBook:
    """Upload bookkeeping of one simulator state (reset with it).

    :ivar bad_filenames: file names whose upload ends in ``failed_validation``.
    :ivar import_seconds, validate_seconds: how long ``importing`` and ``validating`` last.
    :ivar classification_seconds: from ``available`` until the primary classification completes.
    """

    bad_filenames: set[str] = field(default_factory=set)
    import_seconds: float = 1.0
    validate_seconds: float = 1.0
    classification_seconds: float = 2.0
    targets: dict[str, UploadTarget] = field(default_factory=dict)


# -- routes -------------------------------------------------------------------------------------
