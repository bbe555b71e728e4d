"""GeoJSON geometries given by a caller: checked to be of the kinds expected, then parsed.

A route that takes a GeoJSON geometry names the kinds it accepts and the error (with the
parameter) that reports a wrong or malformed one; the rest of its checks (size, extent,
validity) stay with the caller, which knows its limits.
"""

from __future__ import annotations

from typing import Any

import shapely.geometry
from shapely.geometry.base import BaseGeometry

from geo.errors import PlatoonsError


def parse_geometry(
    geometry: Any,
    kinds: tuple[str, ...],
    error: type[PlatoonsError],
    parameter: str,
    messages: tuple[str, str],
) -> BaseGeometry:
    """The shape of a GeoJSON ``geometry`` of one of ``kinds``.

    ``messages`` are the wrong kind's message and the malformed one's opening words (the
    parser's own reason follows them).

    Raises
    ------
    PlatoonsError
        ``error`` naming ``parameter``, if the geometry is not a GeoJSON object of one of
        ``kinds`` or does not parse.
    """
    wrong_kind, malformed = messages
    if not isinstance(geometry, dict) or geometry.get("type") not in kinds:
        raise error(wrong_kind, parameter=parameter)
    try:
        return shapely.geometry.shape(geometry)
    except Exception as exc:  # noqa: BLE001 - shapely raises several types for bad GeoJSON
        raise error(f"{malformed}: {exc}", parameter=parameter) from exc
