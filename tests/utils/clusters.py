"""Throwaway PostgreSQL clusters for tests: a primary and its streaming replica.

Debian's PostgreSQL 15 binaries, run as user ``postgres`` (PostgreSQL refuses root), in a
temporary directory with trust authentication on 127.0.0.1 only. Every statement is logged
with the client's ``application_name`` (``log_statement = 'all'``), so a test can see which
server ran what.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg

from tests.utils.services import free_port

BIN = Path("/usr/lib/postgresql/15/bin")
SETTINGS = """
listen_addresses = '127.0.0.1'
fsync = off
shared_buffers = 32MB
max_wal_senders = 5
wal_level = replica
hot_standby = on
log_statement = 'all'
log_line_prefix = '%m [%p] app=%a: '
"""


# application_name of the tests' own connections (told apart from the service's in the logs).
TEST_CLIENT = "platoons-tests"


def as_postgres(*command: str | Path) -> subprocess.CompletedProcess[str]:
    """Run a PostgreSQL program as user postgres; fail with its output if it fails."""
    done = subprocess.run(
        ["runuser", "-u", "postgres", "--", *map(str, command)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, f"{command[0]} failed:\n{done.stdout}\n{done.stderr}"
    return done


@dataclass
class Cluster:
    """One running (or stopped) cluster: its data directory, port and server log."""

    data: Path
    port: int

    @property
    def log(self) -> Path:
        """The server log (every statement, with its application_name)."""
        return self.data.parent / f"{self.data.name}.log"

    def dsn(self, database: str = "postgres") -> str:
        """A URL of one of its databases."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        options = f"-p {self.port} -k {self.data}"
        as_postgres(BIN / "pg_ctl", "-D", self.data, "-l", self.log, "-o", options, "-w", "start")

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (``fast``: roll back sessions and shut down cleanly)."""
        as_postgres(BIN / "pg_ctl", "-D", self.data, "-m", mode, "-w", "stop")

    def running(self) -> bool:
        """Whether the server is running."""
        status = subprocess.run(
            [
                "runuser",
                "-u",
                "postgres",
                "--",
                str(BIN / "pg_ctl"),
                "-D",
                str(self.data),
                "status",
            ],
            capture_output=True,
            check=False,
        )
        return status.returncode == 0

    def log_size(self) -> int:
        """The log's length now (a mark to read what is logged after it)."""
        return self.log.stat().st_size if self.log.exists() else 0

    def log_since(self, mark: int) -> str:
        """What the server logged since ``mark``."""
        with self.log.open("rb") as log:
            log.seek(mark)
            return log.read().decode("utf-8", errors="replace")


def make_primary(root: Path) -> Cluster:
    """initdb a new cluster under ``root`` (replication allowed from 127.0.0.1) and start it."""
    cluster = Cluster(root / "primary", free_port())
    as_postgres(
        BIN / "initdb", "-D", cluster.data, "-A", "trust", "-U", "postgres", "-E", "UTF8",
        "--locale=C.UTF-8", "--no-sync",
    )  # fmt: skip
    with (cluster.data / "postgresql.conf").open("a") as conf:
        conf.write(SETTINGS)
    # initdb's pg_hba.conf already lets 127.0.0.1 replicate with trust; say so explicitly.
    with (cluster.data / "pg_hba.conf").open("a") as hba:
        hba.write("host replication postgres 127.0.0.1/32 trust\n")
    cluster.start()
    return cluster


def make_replica(primary: Cluster, root: Path) -> Cluster:
    """Clone ``primary`` with ``pg_basebackup -R`` (a streaming standby) and start it."""
    replica = Cluster(root / "replica", free_port())
    as_postgres(
        BIN / "pg_basebackup", "-h", "127.0.0.1", "-p", str(primary.port), "-U", "postgres",
        "-D", replica.data, "-R", "-X", "stream", "--checkpoint=fast", "--no-sync",
    )  # fmt: skip
    replica.start()
    return replica


def make_root() -> Path:
    """A new directory the postgres user owns."""
    root = Path(tempfile.mkdtemp(prefix="platoons-clusters-"))
    shutil.chown(root, "postgres", "postgres")
    return root


def remove(root: Path, *clusters: Cluster) -> None:
    """Stop the clusters (immediately) and delete their directory."""
    for cluster in clusters:
        if cluster.running():
            cluster.stop("immediate")
    shutil.rmtree(root, ignore_errors=True)


def wait_for_replay(primary_dsn: str, replica_dsn: str, timeout: float = 30.0) -> None:
    """Wait until the replica has replayed everything the primary has written."""
    with psycopg.connect(primary_dsn, autocommit=True) as conn:
        row = conn.execute("SELECT pg_current_wal_lsn()::text").fetchone()
    assert row is not None
    deadline = time.monotonic() + timeout
    while True:
        try:
            with psycopg.connect(
                replica_dsn, autocommit=True, connect_timeout=2, application_name=TEST_CLIENT
            ) as conn:
                replayed = conn.execute(
                    "SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", (row[0],)
                ).fetchone()
            if replayed == (True,):
                return
        except psycopg.OperationalError:
            pass
        assert time.monotonic() < deadline, "the replica did not catch up"
        time.sleep(0.05)
