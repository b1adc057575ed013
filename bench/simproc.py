"""Run the local One Codex simulator in its own process for the benchmarks, driven over stdin.

``python -m bench.simproc SCENARIO.json [--manual-clock | --held-clock]`` starts a
:class:`~airflow_provider_onecodex.testing.server.SimulatorServer` on loopback and prints one JSON
line ``{"url", "api_key", "t0"}``; then it answers one JSON line per command read from stdin:

- ``restart``: make "now" the simulator start (``complete_after`` counts from here) -> ``{"t0"}``
- ``advance SECONDS``: move the manual clock (``--manual-clock`` only) -> ``{"now"}``
- ``hold`` / ``go`` (``--held-clock`` only): stop the clock at the start (every analysis pending
  again) / run it from now on in real time -> ``{"t0"}``, the machine's ``time.monotonic()`` at
  which ``complete_after`` counts from (the same clock in every process of the machine)
- ``log``: the API requests seen so far -> ``{"requests": [[at, method, path], ...]}``, ``at`` in
  seconds since the simulator start, on the simulator's clock
- ``reset``: forget the request log -> ``{}``
- ``quit`` (or end of input): stop.

The simulator runs out of the benchmark's process so that its CPU time, memory and GIL do not
count against the client being measured. One bench-only adjustment, stated in docs/benchmarks.md
(list routes need none: the simulator answers ``$uri``/``sample`` lookups from indexes and renders
only the page asked for when nothing filters or sorts):

- accepted connections get ``TCP_NODELAY``: the simulator's listening socket is created with
  protocol 0, so asyncio does not set ``TCP_NODELAY`` on accepted sockets, and every keep-alive
  response (headers and body written separately) stalls ~40 ms on Nagle + delayed ACK. Creating
  the listening socket with ``IPPROTO_TCP`` removes the stall; harmless once the simulator does it.
"""

from __future__ import annotations

import argparse
import json
import socket
import sys
import types
from typing import Any


def _tcp_socket_module() -> Any:
    """A stand-in for the ``socket`` module whose ``socket()`` defaults TCP sockets to IPPROTO_TCP."""
    shim = types.ModuleType("socket")
    shim.__dict__.update({k: v for k, v in vars(socket).items() if not k.startswith("__")})

    def tcp_socket(
        family: int = socket.AF_INET, type: int = socket.SOCK_STREAM, proto: int = 0, *a: Any
    ) -> Any:
        if proto == 0 and type == socket.SOCK_STREAM and family in (socket.AF_INET, socket.AF_INET6):
            proto = socket.IPPROTO_TCP
        return socket.socket(family, type, proto, *a)

    shim.socket = tcp_socket  # type: ignore[attr-defined]
    return shim


def _reply(data: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(data) + "\n")
    sys.stdout.flush()


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.simproc")
    parser.add_argument("scenario")
    parser.add_argument("--manual-clock", action="store_true")
    parser.add_argument("--held-clock", action="store_true")
    args = parser.parse_args()

    import airflow_provider_onecodex.testing.server as server_module
    from airflow_provider_onecodex.testing.state import GatedClock, ManualClock

    server_module.socket = _tcp_socket_module()  # type: ignore[attr-defined]
    held = GatedClock() if args.held_clock else None
    clock = ManualClock() if args.manual_clock else held
    server = server_module.SimulatorServer(scenario=args.scenario, clock=clock)
    state = server.state
    server.start()
    _reply({"url": server.base_url, "api_key": server.api_key, "t0": state._t0})
    try:
        for line in sys.stdin:
            command, _, arg = line.strip().partition(" ")
            if command == "restart":
                state.restart_clock()
                _reply({"t0": state._t0})
            elif command == "advance" and isinstance(clock, ManualClock):
                clock.advance(float(arg))
                _reply({"now": state.elapsed()})
            elif command == "hold" and held is not None:
                held.hold()
                state.restart_clock()
                _reply({})
            elif command == "go" and held is not None:
                t0 = held.release()
                state.restart_clock()
                state.reset_counters()
                _reply({"t0": t0})
            elif command == "log":
                t0 = state._t0
                _reply({"requests": [[r.at - t0, r.method, r.path] for r in state.requests]})
            elif command == "reset":
                state.reset_counters()
                _reply({})
            elif command == "quit":
                break
            else:
                _reply({"error": f"unknown command {line.strip()!r}"})
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
