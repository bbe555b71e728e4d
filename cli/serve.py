"""``platoons serve``: run the HTTP service under uvicorn."""

from __future__ import annotations

from typing import Annotated

import typer

from config.settings import ServerSettings

WORKER_HEALTHCHECK_SECONDS = 60


def serve(
    host: Annotated[str | None, typer.Option(help="Interface to bind.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
    workers: Annotated[int, typer.Option(help="Worker processes.")] = 1,
) -> None:
    """Run the HTTP service."""
    import uvicorn

    server = ServerSettings()
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=host or server.host,
        port=port or server.port,
        workers=workers,
        proxy_headers=True,
        # The app writes its own access line (platoons.access: request id, status, duration,
        # no query string; PLATOONS_ACCESS_LOG); uvicorn's would be a second line per request,
        # with the query string, at a cost of about 0.1 ms a request here.
        access_log=False,
        # uvicorn kills a worker that does not answer its supervisor's ping within this time
        # (5 s by default), and a worker importing the app on a busy host can take longer:
        # measured 12 s at a load average of 10 on 2 cores, when --workers 2 restarted its
        # workers for ever.
        timeout_worker_healthcheck=WORKER_HEALTHCHECK_SECONDS,
    )
