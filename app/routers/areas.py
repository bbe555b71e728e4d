"""Area lookup routes: a point's LSOA and LAD, and an area's profile by GSS code."""

from typing import Annotated

from fastapi import APIRouter, Path, Query

from app.parameters import ANY_GSS_PATTERN
from app.problems import Problems
from app.replicas import ReadDbDep
from geo import areas
from geo.area_models import LadArea, LsoaArea, PointLookup

router = APIRouter(tags=["areas"])

EditionQuery = Annotated[
    str | None,
    Query(
        description="Index edition code, e.g. IoD2025 (current) or IoD2019.",
        max_length=32,
        pattern=r"^[A-Za-z0-9_-]+$",
    ),
]
NOT_FOUND = Problems({404: "No such area, or the point is outside the loaded LSOAs."}).all()


@router.get("/lookup", response_model=PointLookup, responses=NOT_FOUND)
async def lookup_point(
    conn: ReadDbDep,
    lon: Annotated[
        float, Query(ge=-180, le=180, allow_inf_nan=False, description="Longitude (EPSG:4326).")
    ],
    lat: Annotated[
        float, Query(ge=-90, le=90, allow_inf_nan=False, description="Latitude (EPSG:4326).")
    ],
    edition: EditionQuery = None,
) -> PointLookup:
    """Return the LSOA and LAD containing a point, with IMD and every domain's values."""
    return await areas.lsoa_at_point(conn, lon, lat, edition)


@router.get("/areas/{code}", response_model=LsoaArea | LadArea, responses=NOT_FOUND)
async def get_area(
    conn: ReadDbDep,
    code: Annotated[
        str,
        Path(
            description="GSS code of an LSOA (E01…) or LAD (E06…-E09…).",
            max_length=9,
            pattern=ANY_GSS_PATTERN,
        ),
    ],
    edition: EditionQuery = None,
) -> LsoaArea | LadArea:
    """Return an LSOA's deprivation profile or a LAD's summary measures."""
    return await areas.area_by_code(conn, code, edition)
