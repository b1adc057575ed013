"""Separate virtualenvs for what the benchmarks compare against, created on first use.

- ``bench/.venv-official``: the official ``onecodex`` client (it does not co-install with Airflow);
- ``bench/.venv-http``: Airflow with the http provider (``HttpEventTrigger``), the anchor of the
  waiting benchmark, so the project's own environment stays as CI builds it.

Both are git-ignored, installed with the pinned versions below through the ordinary package index
configured for pip/uv on the machine (the http one under the project's constraints, so it runs the
same Airflow), and reused while they hold those versions.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from bench._common import ROOT

ONECODEX_VERSION = "1.2.0"  # newest release when the benchmark was written (the pydantic rewrite)
HTTP_PROVIDER_VERSION = "6.3.0"  # the http provider's release when the waiting anchor was written
_TIMEOUT = 900


@dataclass(frozen=True)
class BenchVenv:
    """A virtualenv holding ``requirements``; ``probe`` prints the version that must equal ``version``."""

    name: str
    requirements: tuple[str, ...]
    probe: str
    version: str
    constrained: bool = False  # install under requirements/constraints.txt (same Airflow as .venv)

    @property
    def path(self) -> Path:
        return ROOT / "bench" / f".venv-{self.name}"

    @property
    def python(self) -> Path:
        return self.path / "bin" / "python"

    def installed_version(self) -> str | None:
        if not self.python.exists():
            return None
        proc = subprocess.run(
            [str(self.python), "-c", self.probe], capture_output=True, text=True, timeout=300
        )
        return proc.stdout.strip() if proc.returncode == 0 else None

    def ensure(self) -> tuple[str | None, str]:
        """``(python, version)`` of the venv, created if needed, or ``(None, why not)``."""
        if self.installed_version() == self.version:
            return str(self.python), self.version
        if self.path.exists():
            shutil.rmtree(self.path)
        wanted = " ".join(self.requirements)
        extra = ["-c", str(ROOT / "requirements" / "constraints.txt")] if self.constrained else []
        uv = Path(sys.executable).parent / "uv"
        if uv.exists():
            steps = [
                [str(uv), "venv", "--quiet", "--python", sys.executable, str(self.path)],
                [
                    str(uv),
                    "pip",
                    "install",
                    "--quiet",
                    "--python",
                    str(self.python),
                    *extra,
                    *self.requirements,
                ],
            ]
        else:
            steps = [
                [sys.executable, "-m", "venv", str(self.path)],
                [
                    str(self.python),
                    "-m",
                    "pip",
                    "install",
                    "--quiet",
                    "--no-input",
                    *extra,
                    *self.requirements,
                ],
            ]
        for step in steps:
            try:
                proc = subprocess.run(step, capture_output=True, text=True, timeout=_TIMEOUT)
            except subprocess.TimeoutExpired:
                return None, f"installing {wanted} timed out"
            if proc.returncode != 0:
                lines = (proc.stderr or proc.stdout).strip().splitlines()
                return None, f"installing {wanted} failed: {lines[-1] if lines else proc.returncode}"
        version = self.installed_version()
        if version != self.version:
            return None, f"{wanted} installed but does not import"
        return str(self.python), self.version


OFFICIAL = BenchVenv(
    "official",
    (f"onecodex=={ONECODEX_VERSION}",),
    "from onecodex.version import __version__; print(__version__)",
    ONECODEX_VERSION,
)
HTTP = BenchVenv(
    "http",
    ("apache-airflow", f"apache-airflow-providers-http=={HTTP_PROVIDER_VERSION}"),
    "from airflow.providers.http import __version__; print(__version__)",
    HTTP_PROVIDER_VERSION,
    constrained=True,
)


def ensure() -> tuple[str | None, str]:
    """``(python, version)`` of the official client's venv, or ``(None, why not)``."""
    return OFFICIAL.ensure()
