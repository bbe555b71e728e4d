"""``platoons serve``: run the HTTP service under uvicorn."""

from __future__ import annotations

from typing import Annotated

import typer

from config.settings import ServerSettings


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
    )
