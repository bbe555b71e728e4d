"""Coordinate reference systems Platoons serves (OGC API - Features Part 2)."""

from __future__ import annotations

from dataclasses import dataclass

from pyproj import Transformer

from geo.errors import InvalidInput, PointOutsideCoverage


@dataclass(frozen=True)
class Crs:
    """A CRS as named in OGC APIs, with its SRID and axis order."""

    uri: str
    srid: int
    # EPSG:4326 as an OGC URI is latitude first (its authority's axis order); CRS84 is lon/lat.
    lat_first: bool
    # Decimal places worth writing: about 1 cm in each CRS.
    decimals: int


CRS84 = Crs("http://www.opengis.net/def/crs/OGC/1.3/CRS84", 4326, False, 7)
EPSG_4326 = Crs("http://www.opengis.net/def/crs/EPSG/0/4326", 4326, True, 7)
BRITISH_NATIONAL_GRID = Crs("http://www.opengis.net/def/crs/EPSG/0/27700", 27700, False, 2)
WEB_MERCATOR = Crs("http://www.opengis.net/def/crs/EPSG/0/3857", 3857, False, 2)
SUPPORTED: tuple[Crs, ...] = (CRS84, EPSG_4326, BRITISH_NATIONAL_GRID, WEB_MERCATOR)
STORAGE_CRS = BRITISH_NATIONAL_GRID
_BY_NAME = (
    {c.uri: c for c in SUPPORTED}
    | {
        # Safe CURIEs and plain codes are accepted too.
        f"[EPSG:{c.srid}]": c
        for c in SUPPORTED
        if c is not CRS84
    }
    | {f"EPSG:{c.srid}": c for c in SUPPORTED if c is not CRS84}
    | {
        "[OGC:CRS84]": CRS84,
        "OGC:CRS84": CRS84,
        "CRS84": CRS84,
    }
)

# Every name parse_crs accepts (and "", for the default, CRS84): what OpenAPI lists.
CRS_NAMES: tuple[str, ...] = ("", *_BY_NAME)

# England's envelope in lon/lat, generously (the Isles of Scilly to Berwick, Lowestoft): a point
# outside it is outside England without asking the database.
ENGLAND_BOUNDS: tuple[float, float, float, float] = (-6.5, 49.8, 1.9, 55.9)
# EPSG:27700's area of use in lon/lat (the EPSG dataset, as pyproj reports it). Far outside it
# PROJ's transverse Mercator fails ("Point outside of projection domain") or gives meaningless
# numbers, so a caller's coordinates are tested against it before anything is transformed to
# British National Grid. Every English feature lies well inside it.
BNG_AREA_OF_USE: tuple[float, float, float, float] = (-9.01, 49.75, 2.01, 61.01)
_TO_WEB_MERCATOR = Transformer.from_crs(4326, 3857, always_xy=True)
# The same area in each CRS a caller may give coordinates in (x/y order). In EPSG:27700 itself
# nothing is transformed on the way in, so the whole plane is allowed.
_AREA_OF_USE_IN = {
    4326: BNG_AREA_OF_USE,
    3857: (
        *_TO_WEB_MERCATOR.transform(BNG_AREA_OF_USE[0], BNG_AREA_OF_USE[1]),
        *_TO_WEB_MERCATOR.transform(BNG_AREA_OF_USE[2], BNG_AREA_OF_USE[3]),
    ),
}


def require_point_in_england(lon: float, lat: float) -> None:
    """Raise PointOutsideCoverage for a lon/lat point outside England's envelope.

    Every operation that takes a point calls this before the point meets PostGIS, so a valid
    coordinate anywhere on Earth is a 404 problem, never a transformation error. A caller that
    answers otherwise (a hover label's nulls, an asset's 400) catches the error; the test itself
    is written only here.
    """
    west, south, east, north = ENGLAND_BOUNDS
    if not (west <= lon <= east and south <= lat <= north):
        raise PointOutsideCoverage(
            f"({lon}, {lat}) is outside England: give longitude then latitude (EPSG:4326)"
        )


def area_of_use(crs: Crs) -> tuple[float, float, float, float] | None:
    """British National Grid's area of use in ``crs`` (x/y order); None where it is 27700."""
    return _AREA_OF_USE_IN.get(crs.srid)


def within_area_of_use(xy: tuple[float, float, float, float], crs: Crs) -> bool:
    """Whether a box (minx, miny, maxx, maxy in ``crs``) lies inside the grid's area of use."""
    bounds = area_of_use(crs)
    if bounds is None:
        return True
    return bounds[0] <= xy[0] and bounds[1] <= xy[1] and xy[2] <= bounds[2] and xy[3] <= bounds[3]


def clip_to_area_of_use(
    box: tuple[float, float, float, float], crs: Crs
) -> tuple[float, float, float, float] | None:
    """The part of a box (x/y order, in ``crs``) inside the grid's area of use; None if none.

    Every feature served lies in England, well inside the area of use, so a box clipped to it
    selects the same features; the part outside could not be transformed to EPSG:27700.
    """
    bounds = area_of_use(crs)
    if bounds is None or within_area_of_use(box, crs):
        return box
    return _clip(box, bounds, keep_edges=True)


def clip_to_england(
    box: tuple[float, float, float, float],
) -> tuple[float, float, float, float] | None:
    """The part of a lon/lat box inside England's envelope; None where it has no area there.

    Only England's part of a box can select anything served (and it keeps the projection
    meaningful), so a box that meets the envelope in no area, or only along its edge, selects
    nothing.
    """
    return _clip(box, ENGLAND_BOUNDS, keep_edges=False)


def _clip(
    box: tuple[float, float, float, float],
    bounds: tuple[float, float, float, float],
    *,
    keep_edges: bool,
) -> tuple[float, float, float, float] | None:
    """The part of ``box`` inside ``bounds`` (same CRS, x/y order); None where none is.

    ``keep_edges``: whether a part without area (a line or a point on the edge) still counts.
    """
    clipped = (
        max(box[0], bounds[0]),
        max(box[1], bounds[1]),
        min(box[2], bounds[2]),
        min(box[3], bounds[3]),
    )
    if keep_edges:
        empty = clipped[0] > clipped[2] or clipped[1] > clipped[3]
    else:
        empty = clipped[0] >= clipped[2] or clipped[1] >= clipped[3]
    return None if empty else clipped


def parse_crs(value: str | None, parameter: str) -> Crs:
    """Return the CRS named by a ``crs``/``bbox-crs``/``filter-crs`` value (CRS84 if None)."""
    if value is None or value == "":
        return CRS84
    found = _BY_NAME.get(value)  # exactly as CRS_NAMES spells them (the document's enum)
    if found is None:
        supported = ", ".join(c.uri for c in SUPPORTED)
        raise InvalidInput(
            f"unsupported CRS {value!r}; use one of {supported}", parameter=parameter
        )
    return found


def parse_bbox(value: str | None, crs: Crs) -> tuple[float, float, float, float] | None:
    """Parse ``minx,miny,maxx,maxy`` in ``crs`` into (minx, miny, maxx, maxy) in x/y order."""
    if value is None:
        return None
    parts = value.split(",")
    if len(parts) == 6:  # minx,miny,minz,maxx,maxy,maxz: heights are ignored
        parts = [parts[0], parts[1], parts[3], parts[4]]
    try:
        numbers = [float(p) for p in parts]
    except ValueError as exc:
        raise InvalidInput(
            "bbox must be four numbers: minx,miny,maxx,maxy", parameter="bbox"
        ) from exc
    if len(numbers) != 4 or not all(abs(n) < 1e9 for n in numbers):
        raise InvalidInput(
            "bbox must be four finite numbers: minx,miny,maxx,maxy", parameter="bbox"
        )
    a, b, c, d = numbers
    if crs.lat_first:
        a, b, c, d = b, a, d, c
    if a > c or b > d:
        raise InvalidInput("bbox minimum exceeds its maximum", parameter="bbox")
    if crs.srid == 4326 and not (
        -180 <= a <= 180 and -180 <= c <= 180 and -90 <= b <= 90 and -90 <= d <= 90
    ):
        raise InvalidInput("bbox longitudes/latitudes out of range", parameter="bbox")
    return a, b, c, d
