"""Python commands the tests run to their end in a subprocess (the CLI, a module, a script)."""

from __future__ import annotations

import os
import subprocess
import sys


def run_python(
    *args: str, dsn: str | None = None, timeout: float = 300, **env: str
) -> subprocess.CompletedProcess[str]:
    """Run ``python ARGS`` with this interpreter; its output captured as text, its exit status
    left to the caller to check.

    With ``dsn`` the command works on that database (PLATOONS_DATABASE_URL, and no
    DATABASE_URL to take its place); ``env`` adds further variables.
    """
    environment = {**os.environ, **env}
    if dsn is not None:
        environment["PLATOONS_DATABASE_URL"] = dsn
        environment.pop("DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, *args],
        env=environment,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
