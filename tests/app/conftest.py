"""A real HTTP server for tests that drive the service with outside clients (GDAL, OWSLib)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import uvicorn
from fastapi.testclient import TestClient

from app.main import create_app
from config.settings import DatabaseSettings
from tests.utils.service import service_settings
from tests.utils.services import serving_in_thread

STARTUP_TIMEOUT_S = 15.0


@pytest.fixture(scope="session")
def live_server(settings: DatabaseSettings) -> Iterator[str]:
    """Serve ``create_app(settings)`` with uvicorn on a free loopback port; yield its base URL.

    The server runs its lifespan (the pool opens and closes) in a background thread
    (:func:`tests.utils.services.serving_in_thread`).
    """
    config = uvicorn.Config(
        create_app(service_settings(settings)),
        log_level="warning",
        access_log=False,
        lifespan="on",
        # Plain h11 and no websockets: the fewest moving parts for a test server.
        http="h11",
        ws="none",
    )
    with serving_in_thread(config, STARTUP_TIMEOUT_S) as url:
        yield url


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
