"""Schemathesis against the service's own OpenAPI document, as an outside client runs it.

The ``schemathesis`` command line runs every check (``--checks all``) in every phase
(examples, coverage, fuzzing, stateful) over every operation the document lists, new
domains' included, against the service on loopback, with a fixed seed and a bounded number
of examples and seconds, and the test fails on any finding (the command's exit status). It
runs as an anonymous client (as issue #22's outside run did), then the stateful phase again
with an officer's and an admin's key, so that the links from each creation (app/links.py)
carry write operations past authentication. The rules JSON Schema cannot state are in
``schemathesis.toml`` (an outside run from the repository's folder reads it too). Every path
is also asked with a method it does not have, which must be a 405 naming exactly the path's
methods.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from app.main import create_app
from tests.security.conftest import Cast, Served

SCHEMATHESIS = str(Path(sys.executable).with_name("schemathesis"))
# The rules the document cannot state, each for its operations only (read it for why).
CONFIG = Path(__file__).resolve().parents[2] / "schemathesis.toml"
SEED = 22  # issue #22: the same requests every run, so a failure reproduces
# (who, phases, examples per operation, seconds): the outside run, then writes past
# authentication. The time budget bounds the run on a busy 2-core machine.
RUNS = (
    ("anonymous", "examples,coverage,fuzzing,stateful", 5, 100),
    ("officer", "stateful", 5, 30),
    ("admin", "stateful", 5, 30),
)


def run_schemathesis(
    base: str, headers: dict[str, str], phases: str, examples: int, seconds: int, workdir: Path
) -> str:
    """Run the schemathesis command over the whole document; its report if it found anything.

    It runs in ``workdir`` so that its crash cache (``.schemathesis/``, replayed first by a
    later run) is the run's own: every run starts from the seed alone.
    """
    command = [
        SCHEMATHESIS,
        "--config-file",
        str(CONFIG),
        "run",
        f"{base}/openapi.json",
        "--checks",
        "all",
        "--phases",
        phases,
        "--max-examples",
        str(examples),
        "--max-time",
        str(seconds),
        "--seed",
        str(SEED),
        "--generation-deterministic",
        # One worker: with two, schemathesis' threads call hypothesis' ast.parse at once, and
        # CPython 3.11 shares the AST builder's recursion counter between threads
        # (python/cpython#106905: "SystemError: AST constructor recursion depth mismatch",
        # seen here once as a runtime error of the run, no finding of the service's).
        "--workers",
        "1",
        "--request-timeout",
        "30",
        "--warnings",
        "off",
    ]
    for name, value in headers.items():
        command += ["--header", f"{name}: {value}"]
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=900, check=False, cwd=workdir
    )
    if done.returncode == 0:
        return ""
    report = workdir / "schemathesis-report.txt"
    report.write_text(done.stdout + done.stderr, encoding="utf-8")
    return f"the whole report: {report}\n" + done.stdout[-20_000:] + done.stderr[-5_000:]


@pytest.mark.parametrize(("who", "phases", "examples", "seconds"), RUNS, ids=[r[0] for r in RUNS])
def test_schemathesis_finds_nothing(
    logged_server: Served,
    cast: Cast,
    tmp_path: Path,
    who: str,
    phases: str,
    examples: int,
    seconds: int,
) -> None:
    report = run_schemathesis(
        logged_server.url, cast.headers(who), phases, examples, seconds, tmp_path
    )
    assert not report, report


def test_a_method_a_path_does_not_have_is_a_405_naming_the_allowed_ones(
    logged_server: Served,
) -> None:
    document = create_app().openapi()
    with httpx.Client(base_url=logged_server.url, timeout=30) as http:
        for path, operations in document["paths"].items():
            url = path.replace("{", "").replace("}", "")  # any segment will do
            allowed = {m.upper() for m in operations}
            for method in sorted({"DELETE", "PATCH", "PUT", "TRACE", "OPTIONS"} - allowed):
                response = http.request(method, url)
                if response.status_code == 404:
                    continue  # a literal placeholder that names nothing (e.g. a tile)
                assert response.status_code == 405, (method, path, response.text)
                assert response.headers["content-type"] == "application/problem+json"
                # Every method of the path, whichever route has it (app/problems.py).
                named = set(response.headers["allow"].replace(" ", "").split(","))
                assert named - {"HEAD"} == allowed, (method, path, named)
