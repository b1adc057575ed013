"""A separate virtualenv with the official ``onecodex`` client (it does not co-install with Airflow).

Created on first use at ``bench/.venv-official`` (git-ignored) with the pinned version, through the
ordinary package index configured for pip/uv on the machine; reused while it holds that version.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from bench._common import ROOT

ONECODEX_VERSION = "1.2.0"  # newest release when the benchmark was written (the pydantic rewrite)
VENV = ROOT / "bench" / ".venv-official"
_TIMEOUT = 600


def _python() -> Path:
    return VENV / "bin" / "python"


def _installed_version() -> str | None:
    if not _python().exists():
        return None
    proc = subprocess.run(
        [str(_python()), "-c", "from onecodex.version import __version__; print(__version__)"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    return proc.stdout.strip() if proc.returncode == 0 else None


def ensure() -> tuple[str | None, str]:
    """``(python, version)`` of the official client's venv, or ``(None, why not)``."""
    if _installed_version() == ONECODEX_VERSION:
        return str(_python()), ONECODEX_VERSION
    if VENV.exists():
        shutil.rmtree(VENV)
    uv = Path(sys.executable).parent / "uv"
    if uv.exists():
        steps = [
            [str(uv), "venv", "--quiet", "--python", sys.executable, str(VENV)],
            [
                str(uv),
                "pip",
                "install",
                "--quiet",
                "--python",
                str(_python()),
                f"onecodex=={ONECODEX_VERSION}",
            ],
        ]
    else:
        steps = [
            [sys.executable, "-m", "venv", str(VENV)],
            [
                str(_python()),
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                f"onecodex=={ONECODEX_VERSION}",
            ],
        ]
    for step in steps:
        try:
            proc = subprocess.run(step, capture_output=True, text=True, timeout=_TIMEOUT)
        except subprocess.TimeoutExpired:
            return None, f"installing onecodex=={ONECODEX_VERSION} timed out"
        if proc.returncode != 0:
            lines = (proc.stderr or proc.stdout).strip().splitlines()
            return (
                None,
                f"installing onecodex=={ONECODEX_VERSION} failed: {lines[-1] if lines else proc.returncode}",
            )
    version = _installed_version()
    if version != ONECODEX_VERSION:
        return None, f"onecodex=={ONECODEX_VERSION} installed but does not import"
    return str(_python()), version
