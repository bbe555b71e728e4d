"""Real servers for tests: ``platoons serve`` in a subprocess, or uvicorn in a thread, on a
loopback port."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import uvicorn

PLATOONS = Path(sys.executable).with_name("platoons")
STARTUP_TIMEOUT_S = 60.0


def free_port() -> int:
    """A loopback port nothing listens on now (the service binds it a moment later)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class ServiceProcess:
    """One ``platoons serve`` process (with its uvicorn workers) and the log it writes."""

    port: int
    log: Path
    process: subprocess.Popen[bytes]
    client: httpx.Client = field(init=False)

    def __post_init__(self) -> None:
        self.client = httpx.Client(base_url=self.url, timeout=30.0)

    @property
    def url(self) -> str:
        """The base URL."""
        return f"http://127.0.0.1:{self.port}"

    def log_text(self) -> str:
        """What the process and its workers have written to stderr and stdout so far."""
        return self.log.read_text(encoding="utf-8", errors="replace")

    def wait_until_healthy(self, timeout: float = STARTUP_TIMEOUT_S) -> None:
        """Wait until ``/health`` answers 200 (every worker shares the socket)."""
        deadline = time.monotonic() + timeout
        while True:
            assert self.process.poll() is None, f"the service exited:\n{self.log_text()}"
            try:
                if self.client.get("/health").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, f"the service did not start:\n{self.log_text()}"
            time.sleep(0.1)

    def stop(self) -> None:
        """Stop the process group gracefully (SIGTERM, as a process manager does)."""
        self.client.close()
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)


def start_service(
    dsn: str, log: Path, env: dict[str, str] | None = None, workers: int = 1
) -> ServiceProcess:
    """Start ``platoons serve --workers N`` against ``dsn`` on a free port (not yet healthy)."""
    port = free_port()
    environment = {
        **os.environ,
        "PLATOONS_DATABASE_URL": dsn,
        "PLATOONS_POOL_MIN_SIZE": "1",
        "PLATOONS_LOG_FORMAT": "json",
        **(env or {}),
    }
    command = [str(PLATOONS), "serve", "--port", str(port), "--workers", str(workers)]
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, env=environment, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    return ServiceProcess(port=port, log=log, process=process)


@contextmanager
def serving_in_thread(config: uvicorn.Config, timeout: float = 15.0) -> Iterator[str]:
    """Serve ``config``'s app with uvicorn in a thread on a free loopback port; yield its URL.

    The socket is bound here (port 0) and handed to uvicorn, so no other process can take the
    port between choosing and listening. The lifespan runs; ``should_exit`` stops it.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="test-server", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        assert thread.is_alive(), "the server stopped while starting"
        assert time.monotonic() < deadline, "the server did not start in time"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout)
        sock.close()
        assert not thread.is_alive(), "the server did not shut down"
