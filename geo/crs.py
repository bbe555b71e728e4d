"""Coordinate reference systems Platoons serves (OGC API - Features Part 2)."""

from __future__ import annotations

from dataclasses import dataclass

from geo.errors import InvalidInput


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


def parse_crs(value: str | None, parameter: str) -> Crs:
    """Return the CRS named by a ``crs``/``bbox-crs``/``filter-crs`` value (CRS84 if None)."""
    if value is None or value == "":
        return CRS84
    found = _BY_NAME.get(value.strip())
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
