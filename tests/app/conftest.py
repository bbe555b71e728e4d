"""A real HTTP server for tests that drive the service with outside clients (GDAL, OWSLib)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn
from fastapi.testclient import TestClient

from app.main import create_app
from config.settings import DatabaseSettings
from tests.utils.service import service_settings

STARTUP_TIMEOUT_S = 15.0
SHUTDOWN_TIMEOUT_S = 15.0


@pytest.fixture(scope="session")
def live_server(settings: DatabaseSettings) -> Iterator[str]:
    """Serve ``create_app(settings)`` with uvicorn on a free loopback port; yield its base URL.

    The socket is bound here (port 0) and handed to uvicorn, so no other process can take
    the port between choosing and listening. The server runs its lifespan (the pool opens
    and closes) in a background thread and is stopped through ``should_exit``.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        create_app(service_settings(settings)),
        log_level="warning",
        access_log=False,
        lifespan="on",
        # Plain h11 and no websockets: the fewest moving parts for a test server.
        http="h11",
        ws="none",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="live-server", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while not server.started:
        assert thread.is_alive(), "the live server stopped while starting"
        assert time.monotonic() < deadline, "the live server did not start in time"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(SHUTDOWN_TIMEOUT_S)
        sock.close()
        assert not thread.is_alive(), "the live server did not shut down"


@pytest.fixture(scope="session")
def lenient_client(settings: DatabaseSettings) -> Iterator[TestClient]:
    """A client that gets a 500 response for an unhandled error instead of the exception.

    Bad-input tests use it so that a server error fails them as a status code (with the
    problem body), exactly as a real client would see it.
    """
    with TestClient(
        create_app(service_settings(settings)), raise_server_exceptions=False
    ) as test_client:
        yield test_client
