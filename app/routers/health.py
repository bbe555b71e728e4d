"""Health route: is the database reachable and are editions loaded."""

from fastapi import APIRouter

from app.db import DbDep
from app.problems import Problems
from geo import areas
from geo.area_models import Health

router = APIRouter(tags=["service"])


@router.get("/health", response_model=Health, responses=Problems({503: "Database down."}).all())
async def health(conn: DbDep) -> Health:
    """Report database reachability, PostGIS version and the editions loaded."""
    return await areas.health(conn)
