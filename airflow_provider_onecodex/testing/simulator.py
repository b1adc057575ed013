"""Command line: run the One Codex API simulator until SIGTERM/SIGINT.

``python -m airflow_provider_onecodex.testing.simulator --port 0 --scenario demo``
prints the base URL (``http://127.0.0.1:<port>``, or ``--public-url``) as its first stdout line,
then serves. To serve other machines: ``--host 0.0.0.0 --port 8000 --public-url http://NAME:8000``
(the printed URL and pre-signed download links then use NAME). The API key comes from
``--api-key`` or the scenario and is never printed.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType

from airflow_provider_onecodex.testing.scenario import ScenarioError
from airflow_provider_onecodex.testing.server import SimulatorServer


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m airflow_provider_onecodex.testing.simulator",
        description="Local One Codex API simulator (loopback HTTP).",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port; 0 picks a free one (default)")
    parser.add_argument("--scenario", default="demo", help="scenario JSON file, or 'demo' (default)")
    parser.add_argument("--api-key", default=None, help="API key to accept (default: the scenario's)")
    parser.add_argument(
        "--public-url",
        default=None,
        help="URL clients on other machines use, printed and put in pre-signed links "
        "(default http://HOST:PORT; with a wildcard --host, this machine's hostname)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    # our own handlers: uvicorn's would re-raise the signal after shutdown (non-zero exit)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        server = SimulatorServer(
            scenario=args.scenario,
            api_key=args.api_key,
            host=args.host,
            port=args.port,
            public_url=args.public_url,
        )
        server.start()
    except (ScenarioError, OSError, RuntimeError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        return 2
    print(server.base_url, flush=True)
    print(
        f"One Codex simulator: scenario {server.state.name!r}, {len(server.state.samples)} samples, "
        f"{len(server.state.analyses)} analyses; API at {server.base_url}/api/v1; "
        f"listening on {args.host}:{server.port}",
        file=sys.stderr,
        flush=True,
    )
    try:
        while not stop.wait(0.5):
            pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
