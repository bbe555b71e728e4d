"""England's envelope and the grid's area of use: the one point test and the box clipping."""

from __future__ import annotations

import pytest

from geo.crs import (
    BNG_AREA_OF_USE,
    CRS84,
    ENGLAND_BOUNDS,
    clip_to_area_of_use,
    clip_to_england,
    require_point_in_england,
)
from geo.errors import PointOutsideCoverage

WEST, SOUTH, EAST, NORTH = ENGLAND_BOUNDS


@pytest.mark.parametrize(
    ("lon", "lat"), [(WEST, SOUTH), (EAST, NORTH), ((WEST + EAST) / 2, (SOUTH + NORTH) / 2)]
)
def test_a_point_on_or_inside_the_envelope_passes(lon: float, lat: float) -> None:
    require_point_in_england(lon, lat)


@pytest.mark.parametrize(
    ("lon", "lat"), [(WEST - 0.01, SOUTH), (EAST, NORTH + 0.01), (2.35, 48.86)]
)
def test_a_point_outside_the_envelope_is_outside_coverage(lon: float, lat: float) -> None:
    with pytest.raises(PointOutsideCoverage, match="is outside England"):
        require_point_in_england(lon, lat)


def test_a_box_is_clipped_to_england() -> None:
    inside = (WEST + 1, SOUTH + 1, EAST - 1, NORTH - 1)
    assert clip_to_england(inside) == inside
    assert clip_to_england((-20.0, SOUTH + 1, 20.0, 80.0)) == (WEST, SOUTH + 1, EAST, NORTH)


@pytest.mark.parametrize(
    "box",
    [
        (EAST + 1, SOUTH, EAST + 2, NORTH),  # east of England
        (EAST, SOUTH, EAST + 2, NORTH),  # meets it only along its eastern edge
        (WEST, NORTH, EAST, NORTH + 1),  # only along its northern edge
    ],
)
def test_a_box_with_no_area_in_england_clips_to_none(box: tuple[float, ...]) -> None:
    assert clip_to_england((box[0], box[1], box[2], box[3])) is None


def test_the_area_of_use_keeps_an_edge_that_england_does_not() -> None:
    edge = BNG_AREA_OF_USE[2]  # the area of use's eastern edge, east of England's
    south, north = 50.0, 51.0
    assert clip_to_area_of_use((edge, south, edge + 1, north), CRS84) == (edge, south, edge, north)
    assert clip_to_area_of_use((edge + 0.5, south, edge + 1, north), CRS84) is None
