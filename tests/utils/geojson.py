"""GeoJSON shapes the tests (and bench/load.py) send: boxes in longitude and latitude."""

from __future__ import annotations

from typing import Any


def lonlat_box(west: float, south: float, east: float, north: float) -> dict[str, Any]:
    """A GeoJSON Polygon: the box between two corners, anticlockwise from the south-west."""
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    return {"type": "Polygon", "coordinates": [ring]}


def box_around(
    lon: float, lat: float, half: float, half_lat: float | None = None
) -> dict[str, Any]:
    """A GeoJSON box ``half`` degrees of longitude (``half_lat`` of latitude, else ``half``)
    either side of a point."""
    half_lat = half if half_lat is None else half_lat
    return lonlat_box(lon - half, lat - half_lat, lon + half, lat + half_lat)
