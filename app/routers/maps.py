"""Map pages (deprivation, grant eligibility, assets of community value, group coverage) drawn
from the service's own vector tiles, and the small JSON answers their clicks and search use."""

from __future__ import annotations

import asyncio
from contextlib import nullcontext
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import HTMLResponse

from app.caching import collection_extent, current_data_version
from app.dependencies import Rules, Today, app_settings
from app.http import today_utc
from app.parameters import Bbox
from app.problems import Problems
from app.replicas import ReadDbDep, lend_read_connection
from config.settings import MapSettings
from geo import areas, labels
from geo import map_queries as maps_data
from geo.area_models import EditionRef
from geo.collections import Collection
from geo.errors import DataUnavailable, EditionNotFound
from geo.grants import checks as grants
from geo.postcodes import POSTCODE_PATTERN

router = APIRouter(tags=["maps"])


def map_settings(request: Request) -> MapSettings:
    """The map settings, from the application's bundle (tests override this dependency)."""
    return app_settings(request).maps


MapSettingsDep = Annotated[MapSettings, Depends(map_settings)]


def _base_path(request: Request) -> str:
    """The path the service is mounted under (empty at the root)."""
    return str(request.scope.get("root_path", "")).rstrip("/")


async def _extents(
    request: Request, conn: ReadDbDep, collections: list[Collection]
) -> dict[str, list[float] | None]:
    """Each collection's extent, read once per data version.

    It shares ``app.state.extent_cache`` (keyed by collection and data version) with the tile
    and collection routes, so a page bounds its tile requests with the very extent the tile
    route checks them against. Extents not cached yet are read at the same time, each on a
    pooled connection of its own (a cold coverage page reads five, 0.1-0.6 s each).
    """
    version = await current_data_version(request, lambda: nullcontext(conn))

    async def extent(collection: Collection) -> tuple[str, list[float] | None]:
        found = await collection_extent(
            request, collection, version, lambda: lend_read_connection(request)
        )
        return collection.id, found

    return dict(await asyncio.gather(*(extent(c) for c in collections)))


async def _editions(conn: ReadDbDep) -> list[EditionRef]:
    """The loaded editions that have map layers."""
    loaded = []
    for code in maps_data.edition_codes():
        try:
            loaded.append(await areas.find_edition(conn, code))
        except EditionNotFound:
            continue
    if not loaded:
        raise DataUnavailable("no index edition is loaded yet; run `platoons load demo`")
    return loaded


def _page(html: str, settings: MapSettings) -> HTMLResponse:
    """An HTML map page; its content security policy allows this service (and the basemap)."""
    images = "'self' data:"
    if settings.basemap_url is not None:
        # Leaflet's {s} subdomain placeholder becomes a CSP wildcard (https://*.tiles.example).
        parts = urlsplit(settings.basemap_url)
        images += f" {parts.scheme}://{parts.netloc.replace('{s}', '*')}"
    # Static tile archives on another origin (a CDN) are read with fetch (HTTP range requests).
    connect = "'self'"
    for archive in sorted(set(settings.tile_archives.values())):
        parts = urlsplit(archive)
        if parts.scheme in ("http", "https") and parts.netloc:
            connect += f" {parts.scheme}://{parts.netloc}"
    headers = {
        # The pages name the programmes and extents of the data loaded now: revalidate.
        "Cache-Control": "no-cache",
        # folium writes its map as inline script; everything else comes from this service.
        "Content-Security-Policy": (
            "default-src 'self'; script-src 'self' 'unsafe-inline'; "
            f"style-src 'self' 'unsafe-inline'; img-src {images}; connect-src {connect}"
        ),
    }
    return HTMLResponse(html, headers=headers)


@router.get("/maps/deprivation", response_class=HTMLResponse, summary="Deprivation map")
async def deprivation_page(
    request: Request, conn: ReadDbDep, settings: MapSettingsDep
) -> HTMLResponse:
    """LSOA IMD deciles of both editions and the district summary layer, with a legend,
    layer control, search box and click-to-inspect (from ``/lookup``)."""
    from app import maps  # folium (and pandas): imported on the first map page

    editions = await _editions(conn)
    extents = await _extents(request, conn, maps.deprivation_collections(editions))
    m = maps.deprivation_map(editions, extents, settings, _base_path(request))
    return _page(maps.render_page(m), settings)


@router.get("/maps/eligibility", response_class=HTMLResponse, summary="Grant eligibility map")
async def eligibility_page(
    request: Request, conn: ReadDbDep, settings: MapSettingsDep
) -> HTMLResponse:
    """LSOAs shaded by each grant programme's eligibility; a click shows the LSOA's deciles
    and every open programme's verdict with its explanation (from ``/eligibility``)."""
    from app import maps  # folium (and pandas): imported on the first map page

    current = await areas.find_edition(conn)
    programmes = await grants.list_programmes(conn)
    extents = await _extents(request, conn, maps.eligibility_collections(current.code))
    today = today_utc()
    m = maps.eligibility_map(
        programmes, today, current.code, extents, settings, _base_path(request)
    )
    return _page(maps.render_page(m), settings)


@router.get("/maps/assets", response_class=HTMLResponse, summary="Assets of community value map")
async def assets_page(request: Request, conn: ReadDbDep, settings: MapSettingsDep) -> HTMLResponse:
    """Assets of community value as markers by status over the LSOAs' IMD deciles; a click on
    an asset shows its card and what the group in the page's Group box may do."""
    from app import maps  # folium (and pandas): imported on the first map page

    current = await areas.find_edition(conn)
    extents = await _extents(request, conn, maps.assets_collections(current.code))
    m = maps.assets_map(current.code, extents, settings, _base_path(request))
    return _page(maps.render_page(m), settings)


@router.get("/maps/coverage", response_class=HTMLResponse, summary="Group coverage map")
async def coverage_page(
    request: Request, conn: ReadDbDep, settings: MapSettingsDep, rules: Rules
) -> HTMLResponse:
    """Adults covered by active neighbourhood groups, by LSOA and on the H3 grid, with cold
    spots, groups' areas and organisers' patches; a click shows the adults covered there and
    the groups working there (from ``/coverage/at``)."""
    from app import maps  # folium (and pandas): imported on the first map page

    current = await areas.find_edition(conn)
    extents = await _extents(request, conn, maps.coverage_collections(current.code))
    m = maps.coverage_map(
        current.code,
        extents,
        settings,
        _base_path(request),
        active_months=rules.active_months,
    )
    return _page(maps.render_page(m), settings)


CARD_PROBLEMS = Problems({404: "No such asset"})
POSTCODE_PROBLEMS = Problems(
    {400: "Not a UK postcode", 404: "Postcode not in the loaded directory"}
)


@router.get(
    "/maps/assets/{assetId}/card",
    response_model=maps_data.AssetCard,
    responses=CARD_PROBLEMS.all(),
    summary="An asset as the assets map shows it",
)
async def asset_card(
    conn: ReadDbDep,
    on: Today,
    assetId: Annotated[int, Path(ge=1, le=2**63 - 1)],  # noqa: N803 - the API's parameter name
) -> Any:
    """An asset's public facts, status and next statutory deadline as of today (UTC)."""
    return await maps_data.asset_card(conn, assetId, on)


@router.get(
    "/maps/postcode",
    response_model=maps_data.PostcodePlace,
    responses=POSTCODE_PROBLEMS.all(),
    summary="The LSOA of a postcode, for the maps' search box",
)
async def postcode_place(
    conn: ReadDbDep,
    postcode: Annotated[str, Query(max_length=16, pattern=POSTCODE_PATTERN)],
    edition: Annotated[str | None, Query(max_length=16)] = None,
) -> Any:
    """The LSOA a postcode lies in, from the postcode directory, in an edition's geography."""
    return await maps_data.postcode_place(conn, postcode, edition)


LABEL_PROBLEMS = Problems({400: "Bad bounding box"})


@router.get(
    "/maps/labels",
    response_model=labels.PlaceLabels,
    responses=LABEL_PROBLEMS.all(),
    summary="District or ward names to write on the maps",
)
async def place_labels(
    conn: ReadDbDep,
    level: labels.Level,
    bbox: Bbox,
) -> Any:
    """Names of the districts or wards (current geography) meeting the box, each at a point
    inside it: the maps write them as text, so no base map is needed to read the places."""
    found = await labels.place_labels(conn, level, labels.parse_bbox(bbox))
    return labels.PlaceLabels(level=level, labels=found)


@router.get(
    "/maps/labels/lsoa",
    response_model=labels.LsoaName,
    responses=Problems({404: "No such index edition"}).all(),
    summary="The LSOA name under a point, for the maps' hover label",
)
async def lsoa_name_at(
    conn: ReadDbDep,
    lon: Annotated[float, Query(ge=-180, le=180)],
    lat: Annotated[float, Query(ge=-90, le=90)],
    edition: Annotated[str | None, Query(max_length=16)] = None,
) -> Any:
    """The LSOA under a point (nulls outside the loaded LSOAs: a hover is never an error)."""
    return await labels.lsoa_name_at(conn, lon, lat, edition)
