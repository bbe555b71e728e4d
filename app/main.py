"""The composition root: builds the FastAPI application."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from fastapi.staticfiles import StaticFiles

from app import map_assets
from app.alternatives import declare_alternatives
from app.caching import CompressionMiddleware, start_caching
from app.db import create_pool
from app.housekeeping import Housekeeper, daily_jobs
from app.links import declare_links
from app.problems import register_problem_handlers
from app.replicas import start_read_router
from app.routers import applications, areas, grants, health, ogc
from app.routers import assets as assets_router
from app.routers import coverage as coverage_router
from app.routers import crime as crime_router
from app.routers import groups as groups_router
from app.routers import maps as maps_router
from app.routers import organisers as organisers_router
from app.routers import planning as planning_router
from app.routers import spending as spending_router
from app.routers import tiles as tiles_router
from app.security import install as install_security
from app.security import refuse_default_secrets
from app.strings import declare_strings, refuse_nul
from config.settings import Settings

logger = logging.getLogger("platoons")


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the application from one settings bundle (read from the environment if none).

    The pool opens in the lifespan and closes after it; handlers reach the settings through
    ``app.state.settings`` (see ``app/dependencies.py``).
    """
    settings = settings or Settings()
    refuse_default_secrets(settings.server.environment, settings.database, settings.groups)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        pool = create_pool(settings.database)
        # wait=False: the service starts even while the database is down; /health says so.
        await pool.open(wait=False)
        app.state.pool = pool
        app.state.extent_cache = {}
        data_version = await start_caching(app, settings.database.dsn)
        # Read-only routes read fit replicas (app/replicas.py): those at the data version the
        # watcher follows on the primary.
        read_router = await start_read_router(
            pool, settings.database, settings.replicas, lambda: data_version.current
        )
        app.state.read_router = read_router
        server = settings.server
        housekeeper = None
        if server.housekeeping:
            jobs = daily_jobs(settings.groups.group_active_months)
            housekeeper = Housekeeper(pool, jobs, server.housekeeping_check_seconds)
            housekeeper.start()
        app.state.housekeeper = housekeeper
        try:
            yield
        finally:
            if housekeeper is not None:
                await housekeeper.stop()
            if read_router is not None:
                await read_router.stop()
            await data_version.stop()
            await pool.close()

    app = FastAPI(
        title="Platoons",
        summary="Neighbourhood analytics for England: boundaries and deprivation indices.",
        description=(
            "English LSOAs, wards and local authority districts with the English Indices of "
            "Deprivation (IoD2025 and IoD2019). Contains public sector information licensed "
            "under the Open Government Licence v3.0; Source: Office for National Statistics "
            "licensed under the Open Government Licence v3.0; Contains OS data © Crown "
            "copyright and database right."
        ),
        version="0.1.0",
        lifespan=lifespan,
        # PostgreSQL text holds no NUL: refused in any parameter, naming it (app/strings.py).
        dependencies=[Depends(refuse_nul)],
    )
    app.state.settings = settings
    register_problem_handlers(app)
    declare_alternatives(app)
    declare_links(app)
    declare_strings(app)
    app.add_middleware(CompressionMiddleware)
    # Outside compression: request ids, security headers, CORS and the body limit.
    install_security(app, settings.security)
    app.include_router(health.router)
    app.include_router(areas.router)
    app.include_router(ogc.router)
    app.include_router(tiles_router.router)
    app.include_router(grants.router)
    app.include_router(applications.router)
    app.include_router(assets_router.router)
    app.include_router(groups_router.router)
    app.include_router(organisers_router.router)
    app.include_router(coverage_router.router)
    app.include_router(planning_router.router)
    app.include_router(crime_router.router)
    app.include_router(maps_router.router)
    app.include_router(spending_router.router)
    # Map assets, served by the app itself (the maps work offline): Leaflet from the
    # xstatic-leaflet package, then our own files. The more specific mount comes first.
    app.mount(map_assets.LEAFLET_URL, StaticFiles(directory=map_assets.LEAFLET_DIR), name="leaflet")
    app.mount(map_assets.STATIC_URL, StaticFiles(directory=map_assets.STATIC_DIR), name="static")
    return app
