"""Coverage: how many adults live where an active neighbourhood group (or organiser) works.

A group is **active** on a date when it is listed and its latest recorded activity (a meeting,
project or event) is no older than the activity window (12 months unless configured): see
:func:`active_since`. An organiser counts while ``organiser.active`` is true.

Coverage is computed on the IoD2025 geography (LSOA 2021) with the adults apportioned in
``lsoa_population`` (migration 0008 describes the tables):

- **LSOA**: the share of an LSOA's area inside at least one active group's area, measured in
  EPSG:27700 as the area of the union of the active groups' pieces in that LSOA (so
  overlapping groups are not counted twice), clipped to [0, 1]; adults are assumed spread
  evenly over the LSOA, so ``adults_covered = adults x covered_share``.
- **H3 grid** (resolutions 6-9): each resolution-9 cell whose centre lies in an LSOA holds an
  equal share of that LSOA's adults (an LSOA too small to hold any cell centre gives its
  adults to the cell containing its point on surface); a cell is covered when its centre lies
  in an active group's area; coarser cells sum their resolution-9 descendants.
- **Cold spots**: LSOAs in IMD deciles 1-2 whose covered share is below a threshold
  (:data:`COLD_SPOT_THRESHOLD` for the stored flag), ranked by adults not covered.

A write to one group or organiser re-cuts its pieces and recomputes only the LSOAs and cells
they touch (:func:`refresh_group`, :func:`refresh_organiser`); :func:`refresh_all` recomputes
everything set-based (after a data load, and daily, since the activity window moves with
time). Each refresh runs in one transaction (a savepoint inside the caller's), holding the
coverage write lock (:func:`lock_writes`) to its end, so writes queue behind a national
recompute instead of deadlocking with it.
"""

from __future__ import annotations

import math
import struct
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from itertools import chain
from typing import Any, Literal

import h3
import numpy as np
import psycopg
import shapely
from dateutil.relativedelta import relativedelta
from h3.api import basic_int as h3i
from psycopg import AsyncConnection, sql
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from pydantic import BaseModel, Field
from pyproj import Transformer

from geo import audit, places
from geo.crs import require_point_in_england
from geo.errors import AreaNotFound, DataUnavailable, InvalidInput, PointOutsideCoverage
from geo.gss import LAD_CODE, LSOA_CODE
from geo.sqlfiles import read_sql

ACTIVE_MONTHS_DEFAULT = 12
# The IoD edition whose geography (LSOA 2021) and adults coverage is computed on.
COVERAGE_EDITION = "IoD2025"
COVERAGE_VINTAGE = 2021
# An LSOA is a cold spot when it is deprived and less than this share of it is covered; the
# stored ``cold_spot`` column and the collection use this value, /coverage/cold-spots others.
COLD_SPOT_THRESHOLD = 0.5
# Deprived: IMD deciles 1-2 (the most deprived 20% of LSOAs nationally).
DEPRIVED_DECILE_MAX = 2
H3_BASE_RESOLUTION = 9
H3_RESOLUTIONS = (6, 7, 8, 9)
ENGLAND_CODE = "E92000001"
MAX_COLD_SPOTS = 10_000
# Tile geometry bands (geo/tiles.py): low for zooms <= 7, mid for 8-10. The coverage-h3
# collections start at zoom 5 (r6), 7 (r7), 9 (r8) and 10 (r9), so only r6-r7 cells need a
# low-zoom copy; every resolution needs a mid-zoom one. Hexagons have nothing to simplify.
H3_LOW_ZOOM_RESOLUTIONS = (6, 7)
# Cells whose geometries are built and sent at a time when the grid is written (as fast as
# 50,000 for England's 1.4 million resolution-9 cells, 7.4 s; the demo's 4,601 make two).
_GEOMETRY_CHUNK = 4_096
_TO_BNG = Transformer.from_crs(4326, 27700, always_xy=True)
_TO_MERCATOR = Transformer.from_crs(4326, 3857, always_xy=True)


def active_since(as_of: date, months: int = ACTIVE_MONTHS_DEFAULT) -> date:
    """Return the earliest activity date that keeps a group active on ``as_of``.

    The window is ``months`` calendar months ending on ``as_of``, both ends included:
    activity on 2025-11-25 keeps a group active through 2026-11-25 and not on 2026-11-26. A
    window starting on a day the month lacks starts on that month's last day (a year before
    2024-02-29 is 2023-02-28).

    Parameters
    ----------
    as_of
        The date the question is asked for (today, in the service).
    months
        Length of the activity window in calendar months (at least 1).
    """
    if months < 1:
        raise ValueError(f"the activity window must be at least 1 month, not {months}")
    return as_of - relativedelta(months=months)


# ---------------------------------------------------------------------------------------------
# Results


@dataclass(frozen=True)
class RefreshSummary:
    """What a national recompute did, and England's coverage after it."""

    as_of: date
    active_since: date
    groups: int
    active_groups: int
    organisers: int
    active_organisers: int
    group_pieces: int
    organiser_pieces: int
    lsoas: int
    lsoas_changed: int
    # H3 rows written: resolutions 6-8 (a resolution-9 cell is a bit of its parent's row).
    cells_changed: int
    adults: float
    adults_covered: float
    seconds: float
    # Seconds per statement of the recompute, by step name, in order (see _national_steps).
    step_seconds: dict[str, float] = field(default_factory=dict)


class CoverageTotals(BaseModel):
    """Coverage of an area (England or a district), summed over its LSOAs."""

    scope: Literal["england", "lad"]
    code: str
    name: str
    lsoas: int
    adults: float = Field(description="Adults (18+) living in the area.")
    adults_covered: float = Field(description="Of those, living where an active group works.")
    covered_share: float
    deprived_adults: float = Field(description="Adults in LSOAs of IMD deciles 1-2.")
    deprived_adults_covered: float
    deprived_covered_share: float
    adults_organiser_covered: float = Field(description="Adults inside an organiser's patch.")
    organiser_share: float
    active_groups: int = Field(description="Active groups working in the area.")
    active_organisers: int = Field(description="Active organisers whose patch touches it.")
    cold_spots: int = Field(description="LSOAs flagged cold spots (at cold_spot_threshold).")
    cold_spot_threshold: float = COLD_SPOT_THRESHOLD
    as_of: str | None = Field(description="Latest date the activity test used (ISO date).")


class GroupWorking(BaseModel):
    """A listed group working in an LSOA: its public fields only."""

    reference: str
    name: str
    kind: str
    active: bool
    meeting_place: str | None
    last_activity_on: date | None
    share_of_lsoa: float = Field(description="Share of the LSOA's area inside the group's area.")


class LsoaCoverage(BaseModel):
    """One LSOA's coverage, with the groups working there."""

    code: str
    name: str
    lad_code: str
    lad_name: str
    imd_decile: int | None
    adults: float
    covered_share: float
    adults_covered: float
    adults_uncovered: float
    active_groups: int
    organiser_share: float
    adults_organiser_covered: float
    organisers: int = Field(description="Active organisers whose patch touches the LSOA.")
    cold_spot: bool
    as_of: str
    groups: list[GroupWorking]


class ColdSpot(BaseModel):
    """A deprived LSOA little covered by active groups, in ranking order."""

    rank: int
    code: str
    name: str
    lad_code: str
    lad_name: str
    imd_decile: int
    adults: float
    covered_share: float
    adults_covered: float
    adults_uncovered: float
    active_groups: int
    organisers: int


class Snapshot(BaseModel):
    """England's or a district's coverage on a date."""

    taken_on: date
    scope: Literal["england", "lad"]
    code: str
    adults: float
    adults_covered: float
    covered_share: float
    deprived_adults: float
    deprived_adults_covered: float
    deprived_covered_share: float
    adults_organiser_covered: float
    active_groups: int
    active_organisers: int
    cold_spots: int
    details: dict[str, Any]


# ---------------------------------------------------------------------------------------------
# The H3 base grid (built in Python with the h3 library; PostgreSQL here has no H3 extension)


@dataclass(frozen=True)
class GridLsoa:
    """What the grid needs of one LSOA: its boundary in WGS84, a point inside, its adults."""

    code: str
    boundary_wkb: bytes
    inside_lon: float
    inside_lat: float
    adults: float
    imd_decile: int | None


@dataclass(frozen=True)
class GridCells:
    """The resolution-9 cells of a set of LSOAs and the adults each holds.

    ``lsoa_codes[i]`` is the LSOA whose area holds cell ``cells[i]``'s centre (for a cell
    holding no LSOA's centre but given to an LSOA too small to hold one, that LSOA).
    ``adults`` and ``deprived_adults`` sum every LSOA's share given to the cell.
    """

    cells: np.ndarray
    lsoa_codes: np.ndarray
    adults: np.ndarray
    deprived_adults: np.ndarray
    imd_deciles: np.ndarray  # 0 where the LSOA has no decile
    centres: np.ndarray  # (n, 2): latitude, longitude of each cell's centre
    lsoas_without_centre: list[str]


# A resolution-9 descendant's centre lies within this many degrees of its resolution-7
# ancestor's hexagon (descendants overhang their ancestor by under a resolution-8 edge, about
# 0.5 km; 0.03 degrees is at least 2 km in England).
_ANCESTOR_MARGIN_DEGREES = 0.03
_SEARCH_RESOLUTION = 7
# When more than this share of the grid is new, its spatial indexes are built after the rows.
_BULK_SHARE = 0.2
_INDEX_BUILD_MEMORY = "256MB"


def _centre_cells(
    boundaries: np.ndarray, resolution: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every H3 cell whose centre lies in one of ``boundaries`` (lon/lat): the cells, the
    index of the boundary holding each, and the centres (lat, lng).

    The result equals ``h3.polygon_to_cells`` run on each boundary (a cell belongs to a polygon
    when its centre does; tests compare both), but searches once: the resolution-7 cells near
    any boundary are found from a coarse cover of their extent, their resolution-9 descendants'
    centres are then placed in the boundaries with one vectorised spatial-index query.
    """
    tree = shapely.STRtree(boundaries)
    west, south, east, north = shapely.total_bounds(boundaries)
    margin = 2 * _ANCESTOR_MARGIN_DEGREES
    extent = h3.LatLngPoly(
        [
            (south - margin, west - margin),
            (south - margin, east + margin),
            (north + margin, east + margin),
            (north + margin, west - margin),
        ]
    )
    coarse = np.array(h3i.h3shape_to_cells(extent, _SEARCH_RESOLUTION), dtype=np.int64)
    corners = np.array([h3i.cell_to_boundary(c) for c in coarse.tolist()])  # (n, 6, lat/lng)
    # Bounding boxes widened by the margin: a generous, cheap first filter (envelopes only).
    boxes = shapely.box(
        corners[..., 1].min(axis=1) - _ANCESTOR_MARGIN_DEGREES,
        corners[..., 0].min(axis=1) - _ANCESTOR_MARGIN_DEGREES,
        corners[..., 1].max(axis=1) + _ANCESTOR_MARGIN_DEGREES,
        corners[..., 0].max(axis=1) + _ANCESTOR_MARGIN_DEGREES,
    )
    near, _ = tree.query(boxes)
    candidates = np.array(
        [
            child
            for parent in coarse[np.unique(near)].tolist()
            for child in h3i.cell_to_children(parent, resolution)
        ],
        dtype=np.int64,
    )
    centres = np.array([h3i.cell_to_latlng(c) for c in candidates.tolist()], dtype=np.float64)
    points = shapely.points(centres[:, 1], centres[:, 0])
    point_index, boundary_index = tree.query(points, predicate="intersects")
    # A centre on the edge between two LSOAs goes to the first (in the given order).
    order = np.lexsort((boundary_index, point_index))
    point_index, boundary_index = point_index[order], boundary_index[order]
    first = np.unique(point_index, return_index=True)[1]
    chosen = point_index[first]
    return candidates[chosen], boundary_index[first], centres[chosen]


def grid_cells(lsoas: Sequence[GridLsoa], resolution: int = H3_BASE_RESOLUTION) -> GridCells:
    """Share each LSOA's adults equally among the H3 cells whose centres it holds.

    An LSOA holding no cell centre gives its adults to the cell containing its point on
    surface (that cell keeps the LSOA holding its centre, if one does, as its own).

    Parameters
    ----------
    lsoas
        The LSOAs, with boundaries in EPSG:4326.
    resolution
        The H3 resolution of the cells (9 in the service).
    """
    if not lsoas:
        empty = np.array([], dtype=np.int64)
        return GridCells(
            empty, np.array([], dtype="S9"), empty * 1.0, empty * 1.0, empty, np.empty((0, 2)), []
        )
    boundaries = shapely.from_wkb([lsoa.boundary_wkb for lsoa in lsoas])
    cells, owner, centres = _centre_cells(boundaries, resolution)
    counts = np.bincount(owner, minlength=len(lsoas))
    orphans = np.flatnonzero(counts == 0)
    orphan_cells = np.array(
        [
            h3i.latlng_to_cell(lsoas[i].inside_lat, lsoas[i].inside_lon, resolution)
            for i in orphans.tolist()
        ],
        dtype=np.int64,
    )
    orphan_centres = np.array(
        [h3i.cell_to_latlng(c) for c in orphan_cells.tolist()], dtype=np.float64
    ).reshape(-1, 2)
    # Each (cell, LSOA) share: every centre cell, then each orphan's cell.
    share_cell = np.concatenate([cells, orphan_cells])
    share_centre = np.concatenate([centres, orphan_centres])
    share_lsoa = np.concatenate([owner, orphans])
    counts[orphans] = 1
    adults = np.array([lsoa.adults for lsoa in lsoas], dtype=np.float64)
    deciles = np.array([lsoa.imd_decile or 0 for lsoa in lsoas], dtype=np.int32)
    deprived = (deciles >= 1) & (deciles <= DEPRIVED_DECILE_MAX)
    share = adults[share_lsoa] / counts[share_lsoa]
    unique, first, index = np.unique(share_cell, return_index=True, return_inverse=True)
    cell_adults = np.bincount(index, weights=share, minlength=len(unique))
    cell_deprived = np.bincount(index, weights=share * deprived[share_lsoa], minlength=len(unique))
    # The cell's own LSOA: the one holding its centre, else the orphan given it.
    cell_owner = np.full(len(unique), -1, dtype=np.int64)
    cell_owner[index[len(cells) :][::-1]] = orphans[::-1]
    cell_owner[index[: len(cells)]] = owner
    codes = np.array([lsoa.code for lsoa in lsoas], dtype="S9")
    return GridCells(
        cells=unique,
        lsoa_codes=codes[cell_owner],
        adults=cell_adults,
        deprived_adults=cell_deprived,
        imd_deciles=deciles[cell_owner],
        centres=share_centre[first],
        lsoas_without_centre=[lsoas[i].code for i in orphans.tolist()],
    )


def h3_parents(cells: np.ndarray, resolution: int) -> np.ndarray:
    """The parents at ``resolution`` of H3 cells (as 64-bit integers) of a finer resolution.

    An H3 index holds its resolution in bits 52-55 and one 3-bit digit per resolution below
    that, unused digits set to 7 (H3 index specification); a parent keeps the leading digits.
    coverage_h3_parents.sql computes the same in SQL.
    """
    unused = np.int64((1 << (3 * (15 - resolution))) - 1)
    cleared = cells & ~np.int64(0xF << 52)
    return cleared | np.int64(resolution << 52) | unused


def _mercator(lng: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """EPSG:3857 (spherical Web Mercator, R = 6,378,137 m) from EPSG:4326, vectorised."""
    radius = 6_378_137.0
    x = radius * np.radians(lng)
    y = radius * np.log(np.tan(np.pi / 4 + np.radians(lat) / 2))
    return x, y


def _polygon_ewkb(xy: np.ndarray, srid: int) -> np.ndarray:
    """EWKB (little endian, with SRID) of one-ring polygons, from (n, k, 2) open rings."""
    count, vertices = xy.shape[0], xy.shape[1] + 1
    record = np.dtype(
        [
            ("order", "u1"),
            ("type", "<u4"),
            ("srid", "<u4"),
            ("rings", "<u4"),
            ("points", "<u4"),
            ("xy", "<f8", (vertices, 2)),
        ]
    )
    out = np.empty(count, dtype=record)
    out["order"], out["type"], out["srid"] = 1, 3 | 0x20000000, srid
    out["rings"], out["points"] = 1, vertices
    out["xy"][:, :-1] = xy
    out["xy"][:, -1] = xy[:, 0]
    return out.view(f"V{record.itemsize}")


def _point_ewkb(x: np.ndarray, y: np.ndarray, srid: int) -> np.ndarray:
    """EWKB (little endian, with SRID) of points."""
    record = np.dtype([("order", "u1"), ("type", "<u4"), ("srid", "<u4"), ("xy", "<f8", (2,))])
    out = np.empty(len(x), dtype=record)
    out["order"], out["type"], out["srid"] = 1, 1 | 0x20000000, srid
    out["xy"][:, 0], out["xy"][:, 1] = x, y
    return out.view(f"V{record.itemsize}")


_COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0)
_COPY_TRAILER = struct.pack(">h", -1)


def _copy_tuples(columns: Sequence[np.ndarray | None], count: int) -> bytes:
    """PostgreSQL binary COPY tuples of fixed-width fields (None: a column of NULLs).

    Integers and floats are sent big-endian as int2/int4/int8/float8, ``S`` arrays as text,
    ``V`` arrays (EWKB) as geometry, which the server reads with its binary input functions.
    """
    fields: list[tuple[str, Any]] = [("fields", ">i2")]
    for number, column in enumerate(columns):
        fields.append((f"length{number}", ">i4"))
        if column is not None:
            dtype = column.dtype if column.dtype.kind in "SV" else column.dtype.newbyteorder(">")
            fields.append((f"value{number}", dtype))
    out = np.empty(count, dtype=np.dtype(fields))
    out["fields"] = len(columns)
    for number, column in enumerate(columns):
        if column is None:
            out[f"length{number}"] = -1
        else:
            out[f"length{number}"] = column.dtype.itemsize
            out[f"value{number}"] = column
    return out.tobytes()


def _copy_binary(cur: psycopg.Cursor[Any], statement: str, chunks: Iterable[bytes]) -> None:
    """Run ``COPY ... FROM STDIN (FORMAT binary)`` with the given tuple chunks."""
    with cur.copy(statement) as copy:
        copy.write(_COPY_HEADER)
        for chunk in chunks:
            copy.write(chunk)
        copy.write(_COPY_TRAILER)


def _figure_rows(
    cells: np.ndarray, resolution: int, adults: np.ndarray, deprived: np.ndarray
) -> bytes:
    """Binary COPY tuples of new ``h3_coverage`` rows (the figures; coverage starts at 0)."""
    names = np.array([h3i.int_to_str(c) for c in cells.tolist()], dtype="S15")
    return _copy_tuples(
        [np.full(len(cells), resolution, dtype=np.int16), names, cells, adults, deprived],
        len(cells),
    )


def _geometry_rows(cells: np.ndarray, resolution: int) -> Iterable[bytes]:
    """Binary COPY tuples of new ``h3_cell_geometry`` rows, :data:`_GEOMETRY_CHUNK` cells at a
    time (England's 1.4 million resolution-9 cells at once took 22.7 s and 3.7 GiB more
    memory, in chunks 7.4 s and none to speak of)."""
    for start in range(0, len(cells), _GEOMETRY_CHUNK):
        yield from _geometry_chunk(cells[start : start + _GEOMETRY_CHUNK], resolution)


def _geometry_chunk(cells: np.ndarray, resolution: int) -> Iterable[bytes]:
    """:func:`_geometry_rows` of a few cells, grouped by their vertex counts."""
    boundaries = [h3i.cell_to_boundary(c) for c in cells.tolist()]
    sizes = np.fromiter(map(len, boundaries), dtype=np.int64, count=len(boundaries))
    vertices = np.fromiter(
        chain.from_iterable(chain.from_iterable(boundaries)),
        dtype=np.float64,
        count=2 * int(sizes.sum()),
    ).reshape(-1, 2)
    first_vertex = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    all_east, all_north = _TO_BNG.transform(vertices[:, 1], vertices[:, 0])
    for size in np.unique(sizes).tolist():
        pick = np.flatnonzero(sizes == size)
        take = first_vertex[pick][:, None] + np.arange(size)
        lng, lat = vertices[take, 1], vertices[take, 0]
        east, north = all_east[take], all_north[take]
        mx, my = _mercator(lng, lat)
        mercator = _polygon_ewkb(np.stack([mx, my], axis=-1), 3857)
        low = mercator if resolution in H3_LOW_ZOOM_RESOLUTIONS else None
        yield _copy_tuples(
            [
                cells[pick],
                np.full(len(pick), resolution, dtype=np.int16),
                _polygon_ewkb(np.stack([east, north], axis=-1), 27700),
                _polygon_ewkb(np.stack([lng, lat], axis=-1), 4326),
                mercator,
                low,
                mercator,
            ],
            len(pick),
        )


def _centre_rows(grid: GridCells, pick: np.ndarray) -> bytes:
    """Binary COPY tuples of new ``h3_cell_adults`` rows (centres in EPSG:27700)."""
    centres = grid.centres[pick]
    east, north = _TO_BNG.transform(centres[:, 1], centres[:, 0])
    return _copy_tuples(
        [
            grid.cells[pick],
            grid.lsoa_codes[pick],
            grid.adults[pick],
            grid.imd_deciles[pick],
            _point_ewkb(east, north, 27700),
        ],
        len(pick),
    )


def _grid_inputs(cur: psycopg.Cursor[Any]) -> str:
    """A fingerprint of what the grid is made from (LSOA codes, boundaries, adults, deciles)."""
    cur.execute(read_sql("geo", "coverage_grid_fingerprint.sql"))
    row = cur.fetchone()
    return str(row[0]) if row else ""


def rebuild_grid(conn: psycopg.Connection[Any]) -> dict[str, int]:
    """Bring ``h3_cell_adults``, the H3 cells and their geometries, and the adults of each
    resolution-8 cell's children (``h3_children_adults``) in line with the LSOAs.

    Runs in the caller's transaction (the load's) on a synchronous connection. The new grid
    is computed in Python and compared with the stored one: cells that left are deleted,
    cells whose adults changed are updated (their coverage reset for the recompute that
    follows), and only new cells get geometries, so a reload of the same boundaries writes
    nothing. When most of the grid is new (the first load), the resolution-9 spatial indexes
    are dropped and built again after the rows, in the same transaction (readers of the H3
    layers wait for the load's commit meanwhile). Returns the rows written per table.
    """
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(read_sql("geo", "coverage_base_grid_lsoas.sql"))
        lsoas = [GridLsoa(**row) for row in cur.fetchall()]
    grid = grid_cells(lsoas)
    levels: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {
        H3_BASE_RESOLUTION: (grid.cells, grid.adults, grid.deprived_adults)
    }
    for resolution in H3_RESOLUTIONS:
        if resolution != H3_BASE_RESOLUTION:
            parents, index = np.unique(h3_parents(grid.cells, resolution), return_inverse=True)
            levels[resolution] = (
                parents,
                np.bincount(index, weights=grid.adults, minlength=len(parents)),
                np.bincount(index, weights=grid.deprived_adults, minlength=len(parents)),
            )
    written = {"h3_cell_adults": 0, "h3_coverage": 0}
    with conn.cursor() as cur:
        cur.execute(read_sql("geo", "coverage_grid_stage.sql"))
        _copy_binary(
            cur,
            "COPY coverage_grid_stage (resolution, fid, adults, deprived_adults)"
            " FROM STDIN (FORMAT binary)",
            (
                _copy_tuples([np.full(len(c), r, dtype=np.int16), c, a, d], len(c))
                for r, (c, a, d) in levels.items()
            ),
        )
        _copy_binary(
            cur,
            "COPY coverage_grid_cell_stage (cell, lsoa_code, adults, imd_decile)"
            " FROM STDIN (FORMAT binary)",
            [
                _copy_tuples(
                    [grid.cells, grid.lsoa_codes, grid.adults, grid.imd_deciles],
                    len(grid.cells),
                )
            ],
        )
        cur.execute("ANALYZE coverage_grid_stage, coverage_grid_cell_stage")
        for name, table in (
            ("coverage_grid_delete.sql", "h3_coverage"),
            ("coverage_grid_update.sql", "h3_coverage"),
            ("coverage_grid_cells_delete.sql", "h3_cell_adults"),
            ("coverage_grid_cells_update.sql", "h3_cell_adults"),
        ):
            cur.execute(read_sql("geo", name))
            written[table] += max(cur.rowcount, 0)
        cur.execute(read_sql("geo", "coverage_grid_new_cells.sql"))
        new_cells = np.array([c for (c,) in cur.fetchall()], dtype=np.int64)
        new_fids: dict[int, np.ndarray] = {}
        for resolution in H3_RESOLUTIONS:
            cur.execute(read_sql("geo", "coverage_grid_new_fids.sql"), {"resolution": resolution})
            new_fids[resolution] = np.array([c for (c,) in cur.fetchall()], dtype=np.int64)
        # A first build (or a new geography): build the spatial indexes once, afterwards. The
        # tables' readers wait for the load's commit meanwhile; they had nothing to read.
        bulk = len(new_cells) > _BULK_SHARE * len(grid.cells)
        if bulk:
            cur.execute(read_sql("geo", "coverage_grid_gist_indexes.sql"))
            indexes = list(cur.fetchall())
            cur.execute(f"SET LOCAL maintenance_work_mem = '{_INDEX_BUILD_MEMORY}'")
            for name, _ in indexes:
                cur.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(name)))
        if len(new_cells):
            pick = (
                np.arange(len(grid.cells))
                if len(new_cells) == len(grid.cells)
                else np.flatnonzero(np.isin(grid.cells, new_cells))
            )
            _copy_binary(
                cur,
                "COPY coverage_grid_new_cell (cell, lsoa_code, adults, imd_decile, centre)"
                " FROM STDIN (FORMAT binary)",
                [_centre_rows(grid, pick)],
            )
            cur.execute(read_sql("geo", "coverage_grid_cells_insert.sql"))
            written["h3_cell_adults"] += len(pick)
        for resolution, (cells, adults, deprived) in sorted(levels.items()):
            if not len(new_fids[resolution]):
                continue
            pick = (
                np.arange(len(cells))
                if len(new_fids[resolution]) == len(cells)
                else np.flatnonzero(np.isin(cells, new_fids[resolution]))
            )
            _copy_binary(
                cur,
                "COPY h3_coverage (resolution, cell, fid, adults, deprived_adults)"
                " FROM STDIN (FORMAT binary)",
                [_figure_rows(cells[pick], resolution, adults[pick], deprived[pick])],
            )
            _copy_binary(
                cur,
                "COPY h3_cell_geometry (fid, resolution, geom, geom_4326, geom_3857,"
                " geom_3857_low, geom_3857_mid) FROM STDIN (FORMAT binary)",
                _geometry_rows(cells[pick], resolution),
            )
            written["h3_coverage"] += len(pick)
        if bulk:
            for _, definition in indexes:
                cur.execute(definition)
        if written["h3_coverage"]:
            # Cells came, went or changed their adults: their parents' children adults follow.
            cur.execute(read_sql("geo", "coverage_grid_children.sql"))
    return written


# ---------------------------------------------------------------------------------------------
# Recomputing coverage

# Fixed SQL fragments choosing what a statement covers (never built from input).
_ALL_LSOAS = "SELECT code FROM lsoa_coverage"
_SOME_LSOAS = "SELECT DISTINCT unnest(%(codes)s::text[]) AS code"
_SOME_CELLS = "SELECT DISTINCT unnest(%(cells)s::bigint[]) AS cell"
_ALL_OWNERS = "TRUE"
_ONE_OWNER = "o.id = %(id)s"
# The LSOAs whose covers coverage_lsoa_cover.sql computes: a write's (its scope), all, or one
# of two halves of them (a national recompute's organisers, in two processes).
_SCOPE_LSOAS = "c.code IN (SELECT code FROM scope)"
_EVERY_LSOA = "TRUE"
_LSOA_HALVES = ("hashtext(c.code) & 1 = 0", "hashtext(c.code) & 1 = 1")
_STORED_COVER = "SELECT * FROM coverage_lsoa_covers WHERE kind = '{}'"
# The recompute's plans are cheap to make and dearer to JIT-compile than to run.
_NO_JIT = "SET LOCAL jit = off"
_Query = sql.SQL | sql.Composed
_OWNERS: dict[str, dict[str, str]] = {
    "group": {
        "pieces": "group_lsoa",
        "owner": "group_id",
        "table": "community_group",
        "area": "area",
        "active": "o.listed AND o.last_activity_on >= %(since)s",
    },
    "organiser": {
        "pieces": "organiser_lsoa",
        "owner": "organiser_id",
        "table": "organiser",
        "area": "patch",
        "active": "o.active",
    },
}


def _statement(name: str, **fragments: str) -> _Query:
    """A SQL file with its ``{placeholders}`` filled by fixed fragments of this module."""
    text = read_sql("geo", name)
    if not fragments:
        return sql.SQL(text)
    return sql.SQL(text).format(**{k: sql.SQL(v) for k, v in fragments.items()})


def _parents_update(name: str, **fragments: str) -> _Query:
    """A statement writing H3 parents (coverage_h3_cells.sql, coverage_h3_parents.sql,
    coverage_h3_all.sql) with the write they share in it."""
    return _statement(name, write=read_sql("geo", "coverage_h3_parents_update.sql"), **fragments)


def _r8_sums(masks: str) -> str:
    """coverage_h3_parent_sums.sql: resolution-8 figures from the bits in ``masks``."""
    return read_sql("geo", "coverage_h3_parent_sums.sql").format(masks=masks)


def _params(as_of: date, active_months: int) -> dict[str, Any]:
    """The parameters the recompute statements draw from."""
    return {
        "as_of": as_of.isoformat(),
        "since": active_since(as_of, active_months),
        "threshold": COLD_SPOT_THRESHOLD,
        "deprived_decile_max": DEPRIVED_DECILE_MAX,
        "edition": COVERAGE_EDITION,
    }


def _cut(kind: Literal["group", "organiser"], owners: str) -> _Query:
    """coverage_cut.sql for groups or organisers, choosing the owners by a fixed fragment."""
    names = _OWNERS[kind]
    return _statement("coverage_cut.sql", table=names["table"], area=names["area"], owners=owners)


def _lsoa_cover(kind: Literal["group", "organiser"], lsoas: str) -> str:
    """coverage_lsoa_cover.sql: what active groups or organisers cover of the LSOAs ``lsoas``
    (a fixed condition) chooses."""
    names = _OWNERS[kind]
    return read_sql("geo", "coverage_lsoa_cover.sql").format(
        kind=kind,
        pieces=names["pieces"],
        owner=names["owner"],
        table=names["table"],
        active=names["active"],
        lsoas=lsoas,
    )


def _lsoa_update(scope: str, group_cover: str, organiser_cover: str) -> _Query:
    """coverage_lsoa.sql for the LSOAs ``scope`` names, from the given covers."""
    return _statement(
        "coverage_lsoa.sql", scope=scope, group_cover=group_cover, organiser_cover=organiser_cover
    )


def _national_steps(recut: bool) -> list[tuple[str, _Query, bool]]:
    """The statements of a national recompute, in order: (name, statement, takes params)."""
    steps: list[tuple[str, _Query, bool]] = [
        ("begin", _statement("coverage_national_begin.sql"), False)
    ]
    if recut:
        for kind in ("group", "organiser"):
            names = _OWNERS[kind]
            steps += [
                (
                    f"{kind} pieces",
                    sql.SQL(read_sql("geo", "coverage_cut_stage.sql")).format(
                        cut=_cut(kind, _ALL_OWNERS)
                    ),
                    False,
                ),
                (
                    f"{kind} pieces stored",
                    _statement(
                        "coverage_cut_store.sql", pieces=names["pieces"], owner=names["owner"]
                    ),
                    False,
                ),
            ]
    steps += [
        (
            "lsoa covers",
            _statement(
                "coverage_lsoa_covers_all.sql",
                group_cover=_lsoa_cover("group", _EVERY_LSOA),
                organiser_cover_even=_lsoa_cover("organiser", _LSOA_HALVES[0]),
                organiser_cover_odd=_lsoa_cover("organiser", _LSOA_HALVES[1]),
            ),
            True,
        ),
        (
            "lsoas",
            _lsoa_update(
                _ALL_LSOAS, _STORED_COVER.format("group"), _STORED_COVER.format("organiser")
            ),
            True,
        ),
        ("cell bits", _statement("coverage_h3_masks_all.sql"), True),
        # Statistics for the join of coverage_h3_all.sql (0.15 s faster with them).
        ("cell bits analysed", sql.SQL("ANALYZE coverage_parent_masks"), False),
        (
            "cells",
            _parents_update("coverage_h3_all.sql", r8_sums=_r8_sums("coverage_parent_masks")),
            False,
        ),
        ("group serving", _statement("coverage_group_serving_active.sql"), True),
    ]
    return steps


def _summary(
    row: dict[str, Any],
    params: dict[str, Any],
    changed: dict[str, int],
    started: float,
    steps: dict[str, float],
) -> RefreshSummary:
    """The summary of a national recompute from its counts."""
    return RefreshSummary(
        as_of=date.fromisoformat(params["as_of"]),
        active_since=params["since"],
        groups=int(row["groups"]),
        active_groups=int(row["active_groups"]),
        organisers=int(row["organisers"]),
        active_organisers=int(row["active_organisers"]),
        group_pieces=int(row["group_pieces"]),
        organiser_pieces=int(row["organiser_pieces"]),
        lsoas=int(row["lsoas"]),
        lsoas_changed=changed.get("lsoas", 0),
        cells_changed=changed.get("cells", 0),
        adults=float(row["adults"]),
        adults_covered=float(row["adults_covered"]),
        seconds=time.perf_counter() - started,
        step_seconds={name: round(seconds, 3) for name, seconds in steps.items()},
    )


async def lock_writes(conn: AsyncConnection[Any]) -> None:
    """Wait for, then hold to the end of the open transaction, the lock on writing coverage.

    Everything that writes groups, organisers or coverage takes it first, before it writes or
    locks any row (coverage_write_lock.sql says why): the refreshes here take it themselves,
    which is enough for a caller that has written nothing yet in the transaction. Writers
    queue behind a national recompute (seconds) instead of deadlocking with it.
    """
    await conn.execute(read_sql("geo", "coverage_write_lock.sql"))


def lock_writes_sync(conn: psycopg.Connection[Any]) -> None:
    """:func:`lock_writes` on a synchronous connection (the loader's)."""
    conn.execute(read_sql("geo", "coverage_write_lock.sql"))


def refresh_all_sync(
    conn: psycopg.Connection[Any],
    *,
    as_of: date,
    active_months: int = ACTIVE_MONTHS_DEFAULT,
    recut: bool = True,
) -> RefreshSummary:
    """:func:`refresh_all` on a synchronous connection (the loader's); no data-version bump."""
    started = time.perf_counter()
    params = _params(as_of, active_months)
    changed: dict[str, int] = {}
    steps: dict[str, float] = {}
    with conn.transaction(), conn.cursor(row_factory=dict_row) as cur:
        lock_writes_sync(conn)
        for name, statement, takes_params in _national_steps(recut):
            step_started = time.perf_counter()
            cur.execute(statement, params if takes_params else None)
            steps[name] = time.perf_counter() - step_started
            changed[name] = cur.rowcount
        cur.execute(read_sql("geo", "coverage_refresh_counts.sql"), params)
        row = cur.fetchone()
    assert row is not None
    return _summary(row, params, changed, started, steps)


async def refresh_all(
    conn: AsyncConnection[Any],
    *,
    as_of: date,
    active_months: int = ACTIVE_MONTHS_DEFAULT,
    recut: bool = True,
    actor: str | None = None,
) -> RefreshSummary:
    """Recompute all coverage, set-based in SQL, in one transaction; bump the data version.

    Every group's area and organiser's patch is cut again by the LSOAs (unless ``recut`` is
    false: writes and loads keep the pieces current, so only the activity window's move needs
    recomputing); the coverage of every LSOA and of every H3 cell whose coverage may change is
    recomputed on ``as_of``; the public group layer's ``active`` flag follows the window.

    Parameters
    ----------
    conn
        A connection; its open transaction, if any, holds the work (as a savepoint) and the
        coverage write lock (:func:`lock_writes`, which a caller that writes rows before
        this takes first).
    as_of
        The date activity is judged on (today, in the service).
    active_months
        The activity window (see :func:`active_since`).
    recut
        Whether to cut every area by the LSOAs again.
    actor
        Who asked (recorded in the audit log with the summary), if anyone.
    """
    started = time.perf_counter()
    params = _params(as_of, active_months)
    changed: dict[str, int] = {}
    steps: dict[str, float] = {}
    async with conn.transaction(), conn.cursor(row_factory=dict_row) as cur:
        await lock_writes(conn)
        for name, statement, takes_params in _national_steps(recut):
            step_started = time.perf_counter()
            await cur.execute(statement, params if takes_params else None)
            steps[name] = time.perf_counter() - step_started
            changed[name] = cur.rowcount
        await cur.execute(read_sql("geo", "coverage_refresh_counts.sql"), params)
        row = await cur.fetchone()
        assert row is not None
        summary = _summary(row, params, changed, started, steps)
        if actor is not None:
            after = {k: str(v) if isinstance(v, date) else v for k, v in asdict(summary).items()}
            await audit.record(
                conn, actor, "coverage.refresh", "coverage", ENGLAND_CODE, None, after
            )
        await cur.execute(read_sql("geo", "bump_data_version.sql"))
    return summary


def rebuild_after_load(conn: psycopg.Connection[Any], *, as_of: date) -> dict[str, int]:
    """Bring the coverage tables in line with freshly loaded data, in the load's transaction.

    ``lsoa_coverage`` gets one row per IoD2025 LSOA (rows changed, added or removed only),
    the H3 grid is rebuilt when its inputs (LSOA boundaries, adults, deciles) changed, then
    every group and organiser is cut again and all coverage recomputed on ``as_of``. Returns
    rows written per table.
    """
    params = _params(as_of, ACTIVE_MONTHS_DEFAULT)
    fresh = read_sql("geo", "coverage_lsoa_base_fresh.sql")
    rows = {"lsoa_coverage": 0}
    with conn.transaction(), conn.cursor() as cur:
        lock_writes_sync(conn)
        cur.execute(_NO_JIT)
        before = _grid_inputs(cur)
        for name in (
            "coverage_lsoa_base_delete.sql",
            "coverage_lsoa_base_update.sql",
            "coverage_lsoa_base_insert.sql",
        ):
            cur.execute(_statement(name, fresh=fresh), params)
            rows["lsoa_coverage"] += max(cur.rowcount, 0)
        after = _grid_inputs(cur)
        cur.execute("SELECT EXISTS (SELECT 1 FROM h3_cell_adults)")
        has_grid = bool((cur.fetchone() or (False,))[0])
        grid = (
            rebuild_grid(conn)
            if before != after or not has_grid
            else {"h3_cell_adults": 0, "h3_coverage": 0}
        )
        rows.update(grid)
        if rows["lsoa_coverage"] or any(grid.values()):
            cur.execute("ANALYZE lsoa_coverage, h3_cell_adults, h3_coverage, h3_cell_geometry")
        # Every H3 parent is computed whole from its children by the national recompute, so
        # cells that came, went or changed their adults leave no stale sums behind.
        summary = refresh_all_sync(conn, as_of=as_of)
    rows["group_lsoa"] = summary.group_pieces
    rows["organiser_lsoa"] = summary.organiser_pieces
    return rows


async def _refresh_owner(
    conn: AsyncConnection[Any],
    kind: Literal["group", "organiser"],
    owner_id: int,
    as_of: date,
    active_months: int,
) -> None:
    """Re-cut one group's or organiser's area; recompute what it touched, before and after."""
    names = _OWNERS[kind]
    params = {**_params(as_of, active_months), "id": owner_id}

    async def run(statement: _Query, values: dict[str, Any] | None = None) -> None:
        # Never prepared: a generic plan cannot see how few LSOAs and cells are in the arrays
        # and would scan the national tables (seconds instead of milliseconds).
        await cur.execute(statement, values, prepare=False)

    async with conn.transaction(), conn.cursor() as cur:
        await lock_writes(conn)
        await run(sql.SQL(_NO_JIT))
        await run(_statement("coverage_uncut.sql", **names), params)
        old = await cur.fetchone()
        await run(
            sql.SQL(read_sql("geo", "coverage_cut_insert.sql")).format(
                pieces=sql.SQL(names["pieces"]),
                owner=sql.SQL(names["owner"]),
                cut=_cut(kind, _ONE_OWNER),
            ),
            params,
        )
        await run(_statement("coverage_touched.sql", **names), params)
        new = await cur.fetchone()
        assert old is not None and new is not None
        codes = sorted(set(old[0]) | set(new[0]))
        cells = sorted(set(old[1]) | set(new[1]))
        if codes:
            await run(
                _lsoa_update(
                    _SOME_LSOAS,
                    _lsoa_cover("group", _SCOPE_LSOAS),
                    _lsoa_cover("organiser", _SCOPE_LSOAS),
                ),
                {**params, "codes": codes},
            )
        if cells:
            await run(
                _parents_update("coverage_h3_cells.sql", r8_sums=_r8_sums("masks")),
                {**params, "cells": cells},
            )
            changed = [fid for (fid,) in await cur.fetchall()]
            if changed:
                await run(
                    _parents_update("coverage_h3_parents.sql", cells=_SOME_CELLS),
                    {"cells": changed},
                )


async def refresh_group(
    conn: AsyncConnection[Any],
    group_id: int,
    *,
    as_of: date,
    active_months: int = ACTIVE_MONTHS_DEFAULT,
) -> None:
    """Recompute coverage after one group was added or changed (in the caller's transaction).

    The group's pieces are cut again from its current area; the LSOAs its old and new pieces
    touch and the H3 cells whose centres lie in its old or new area (and their parents) are
    recomputed on ``as_of``. A group that is unlisted or no longer active keeps its pieces and
    covers nothing. A group deleted outright takes its pieces with it (ON DELETE CASCADE), so
    unlist it, or call this after unlisting and before deleting. Does not bump the data
    version: the caller's write does.

    Parameters
    ----------
    conn
        The caller's connection; its open transaction holds the work (as a savepoint) and
        the coverage write lock, which the caller takes (:func:`lock_writes`) before it
        writes the group.
    group_id
        The ``community_group.id`` written.
    as_of
        The date activity is judged on (today, in the service).
    active_months
        The activity window (see :func:`active_since`).
    """
    await _refresh_owner(conn, "group", group_id, as_of, active_months)


async def refresh_organiser(
    conn: AsyncConnection[Any],
    organiser_id: int,
    *,
    as_of: date,
    active_months: int = ACTIVE_MONTHS_DEFAULT,
) -> None:
    """Recompute coverage after one organiser was added or changed (as :func:`refresh_group`).

    Organisers count while ``organiser.active`` is true. The LSOAs touched have their group
    coverage recomputed too (on ``as_of`` with ``active_months``), which changes nothing
    unless the activity window moved since their last recompute.
    """
    await _refresh_owner(conn, "organiser", organiser_id, as_of, active_months)


# ---------------------------------------------------------------------------------------------
# Reading coverage


def _lad(code: str) -> str:
    """A district code, checked for form."""
    code = code.strip().upper()
    if not LAD_CODE.match(code):
        raise InvalidInput(f"{code!r} is not a district (LAD) code (E06-E09)", parameter="lad")
    return code


async def _since(conn: AsyncConnection[Any]) -> tuple[date, str]:
    """The activity window's start the stored coverage used, and its date (ISO)."""
    cur = await conn.execute(read_sql("geo", "coverage_latest_as_of.sql"))
    row = await cur.fetchone()
    if row is None or row[0] is None:
        raise DataUnavailable("coverage has not been computed: load the data first")
    as_of = str(row[0])
    return active_since(date.fromisoformat(as_of)), as_of


async def _totals(conn: AsyncConnection[Any], lad: str | None) -> list[dict[str, Any]]:
    """Totals rows of coverage_totals.sql: England first (or one district's LSOAs), districts."""
    since, _ = await _since(conn)
    statement = _statement("coverage_totals.sql", filter="lad_code = %(lad)s" if lad else "TRUE")
    params = {
        "lad": lad,
        "since": since,
        "england": ENGLAND_CODE,
        "deprived_decile_max": DEPRIVED_DECILE_MAX,
    }
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(statement, params)
        return list(await cur.fetchall())


def _share(part: float, whole: float) -> float:
    """``part / whole``, 0 for an empty whole, at most 1."""
    return min(1.0, part / whole) if whole > 0 else 0.0


def _coverage_totals(row: dict[str, Any], scope: Literal["england", "lad"]) -> CoverageTotals:
    adults = float(row["adults"])
    deprived = float(row["deprived_adults"])
    return CoverageTotals(
        scope=scope,
        code=row["code"],
        name=row["name"],
        lsoas=int(row["lsoas"]),
        adults=adults,
        adults_covered=float(row["adults_covered"]),
        covered_share=_share(float(row["adults_covered"]), adults),
        deprived_adults=deprived,
        deprived_adults_covered=float(row["deprived_adults_covered"]),
        deprived_covered_share=_share(float(row["deprived_adults_covered"]), deprived),
        adults_organiser_covered=float(row["adults_organiser_covered"]),
        organiser_share=_share(float(row["adults_organiser_covered"]), adults),
        active_groups=int(row["active_groups"]),
        active_organisers=int(row["active_organisers"]),
        cold_spots=int(row["cold_spots"]),
        as_of=row["as_of"],
    )


async def england_coverage(conn: AsyncConnection[Any]) -> CoverageTotals:
    """England's coverage: adults (and deprived adults) living where an active group works.

    Raises
    ------
    DataUnavailable
        If coverage has not been computed (nothing loaded).
    """
    rows = await _totals(conn, None)
    return _coverage_totals(next(r for r in rows if r["scope"] == "england"), "england")


async def lad_coverage(conn: AsyncConnection[Any], lad_code: str) -> CoverageTotals:
    """One district's coverage, summed over its LSOAs.

    Raises
    ------
    InvalidInput
        If the code is not a district code.
    AreaNotFound
        If no LSOA of the coverage layer is in that district.
    """
    lad = _lad(lad_code)
    rows = [r for r in await _totals(conn, lad) if r["scope"] == "lad"]
    if not rows:
        raise AreaNotFound(f"no LSOA of the {COVERAGE_EDITION} geography is in district {lad}")
    return _coverage_totals(rows[0], "lad")


async def lsoa_coverage_by_code(conn: AsyncConnection[Any], code: str) -> LsoaCoverage:
    """One LSOA's coverage with the listed groups working there (public fields).

    Raises
    ------
    InvalidInput
        If the code is not an LSOA code.
    AreaNotFound
        If the coverage layer has no such LSOA.
    """
    code = code.strip().upper()
    if not LSOA_CODE.match(code):
        raise InvalidInput(f"{code!r} is not an LSOA code (E01)", parameter="code")
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(read_sql("geo", "coverage_lsoa_get.sql"), {"code": code})
        row = await cur.fetchone()
        if row is None:
            raise AreaNotFound(f"{code} is not an LSOA of the {COVERAGE_EDITION} geography")
        since = active_since(date.fromisoformat(row["as_of"]))
        await cur.execute(
            read_sql("geo", "coverage_lsoa_groups_list.sql"), {"code": code, "since": since}
        )
        groups = [GroupWorking(**g) for g in await cur.fetchall()]
    return LsoaCoverage(**row, groups=groups)


async def lsoa_coverage_at(conn: AsyncConnection[Any], lon: float, lat: float) -> LsoaCoverage:
    """The coverage of the LSOA containing a WGS84 point (a map click).

    Raises
    ------
    InvalidInput
        If the coordinates are not finite longitude/latitude.
    PointOutsideCoverage
        If no LSOA of the coverage layer contains the point.
    """
    if not (math.isfinite(lon) and math.isfinite(lat) and -180 <= lon <= 180 and -90 <= lat <= 90):
        raise InvalidInput("lon and lat must be a WGS84 longitude and latitude", parameter="lon")
    require_point_in_england(lon, lat)
    cur = await conn.execute(
        read_sql("geo", "coverage_lsoa_at_point.sql"), {"lon": lon, "lat": lat}
    )
    row = await cur.fetchone()
    if row is None:
        raise PointOutsideCoverage(
            f"no LSOA of the {COVERAGE_EDITION} geography contains ({lon}, {lat}): the point "
            "is outside England or outside the loaded area"
        )
    return await lsoa_coverage_by_code(conn, str(row[0]))


async def lsoa_coverage_for_postcode(conn: AsyncConnection[Any], postcode: str) -> LsoaCoverage:
    """The coverage of a postcode's LSOA (from the postcode directory, not its centroid).

    Raises
    ------
    InvalidInput
        If the text is not a UK postcode.
    PostcodeNotCovered
        If the loaded postcode data does not hold it.
    """
    return await lsoa_coverage_by_code(
        conn, await places.postcode_lsoa(conn, postcode, COVERAGE_VINTAGE)
    )


async def cold_spots(
    conn: AsyncConnection[Any],
    *,
    threshold: float = COLD_SPOT_THRESHOLD,
    lad_code: str | None = None,
    limit: int = 100,
) -> list[ColdSpot]:
    """Deprived LSOAs (IMD deciles 1-2) covered less than ``threshold``, most uncovered first.

    Parameters
    ----------
    threshold
        Covered share (0-1) below which a deprived LSOA is a cold spot.
    lad_code
        Only this district's LSOAs (ranked among themselves).
    limit
        At most this many (1 to 10,000).

    Raises
    ------
    InvalidInput
        For a threshold outside [0, 1], a limit out of range or a malformed district code.
    AreaNotFound
        If the district has no LSOA in the coverage layer.
    """
    if not (math.isfinite(threshold) and 0 <= threshold <= 1):
        raise InvalidInput("threshold must be a share between 0 and 1", parameter="threshold")
    if not 1 <= limit <= MAX_COLD_SPOTS:
        raise InvalidInput(f"limit must be between 1 and {MAX_COLD_SPOTS}", parameter="limit")
    lad = _lad(lad_code) if lad_code is not None else None
    async with conn.cursor(row_factory=dict_row) as cur:
        if lad is not None:
            await cur.execute(read_sql("geo", "coverage_lad_known.sql"), {"lad": lad})
            known = await cur.fetchone()
            if not known or not next(iter(known.values())):
                raise AreaNotFound(f"no LSOA of the coverage layer is in district {lad}")
        await cur.execute(
            read_sql("geo", "coverage_cold_spots.sql"),
            {
                "threshold": threshold,
                "lad": lad,
                "limit": limit,
                "deprived_decile_max": DEPRIVED_DECILE_MAX,
            },
        )
        return [ColdSpot(**row) for row in await cur.fetchall()]


def _snapshot(row: dict[str, Any]) -> Snapshot:
    adults, deprived = float(row["adults"]), float(row["deprived_adults"])
    return Snapshot(
        taken_on=row["taken_on"],
        scope=row["scope"],
        code=row["code"],
        adults=adults,
        adults_covered=float(row["adults_covered"]),
        covered_share=_share(float(row["adults_covered"]), adults),
        deprived_adults=deprived,
        deprived_adults_covered=float(row["deprived_adults_covered"]),
        deprived_covered_share=_share(float(row["deprived_adults_covered"]), deprived),
        adults_organiser_covered=float(row["adults_organiser_covered"]),
        active_groups=int(row["active_groups"]),
        active_organisers=int(row["active_organisers"]),
        cold_spots=int(row["cold_spots"]),
        details=dict(row["details"]),
    )


async def take_snapshot(
    conn: AsyncConnection[Any], taken_on: date, *, actor: str | None = None
) -> list[Snapshot]:
    """Record England's and every district's coverage as it stands, dated ``taken_on``.

    A second snapshot on the same day replaces the first (one per day). The figures are those
    of the stored coverage (recomputed by the last write or :func:`refresh_all`; its date is
    in ``details.coverage_as_of``); ``actor``, if given, is recorded in the audit log. Returns
    the rows written, England first.
    """
    async with conn.transaction():
        rows = await _totals(conn, None)
        written = []
        for row in rows:
            snapshot = {
                **row,
                "taken_on": taken_on,
                "details": {
                    "name": row["name"],
                    "lsoas": int(row["lsoas"]),
                    "coverage_as_of": row["as_of"],
                    "cold_spot_threshold": COLD_SPOT_THRESHOLD,
                    "deprived_deciles": f"1-{DEPRIVED_DECILE_MAX}",
                    "edition": COVERAGE_EDITION,
                },
            }
            written.append(snapshot)
        async with conn.cursor() as cur:
            await cur.execute(
                read_sql("geo", "coverage_snapshot_clear.sql"), {"taken_on": taken_on}
            )
            await cur.executemany(
                read_sql("geo", "coverage_snapshot_insert.sql"),
                [{**w, "details": Jsonb(w["details"])} for w in written],
            )
        if actor is not None:
            await audit.record(
                conn,
                actor,
                "coverage.snapshot",
                "coverage_snapshot",
                taken_on.isoformat(),
                None,
                {"rows": len(written), "coverage_as_of": rows[0]["as_of"] if rows else None},
            )
    return [_snapshot(w) for w in written]


async def snapshots(
    conn: AsyncConnection[Any], scope: Literal["england", "lad"], code: str | None = None
) -> list[Snapshot]:
    """England's (``code`` omitted) or a district's snapshots, oldest first.

    Raises
    ------
    InvalidInput
        For a malformed district code, or a district scope without one.
    AreaNotFound
        If the district has no LSOA in the coverage layer.
    """
    if scope == "england":
        code = ENGLAND_CODE
    else:
        if code is None:
            raise InvalidInput("a district's snapshots need its code", parameter="lad")
        code = _lad(code)
        cur = await conn.execute(read_sql("geo", "coverage_lad_known.sql"), {"lad": code})
        known = await cur.fetchone()
        if not known or not known[0]:
            raise AreaNotFound(f"no LSOA of the coverage layer is in district {code}")
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(read_sql("geo", "coverage_snapshots.sql"), {"scope": scope, "code": code})
        return [_snapshot(row) for row in await cur.fetchall()]


async def computed_since(conn: AsyncConnection[Any], day: date) -> bool:
    """Whether every LSOA's coverage was computed on ``day`` or later (a national recompute)."""
    cur = await conn.execute(
        read_sql("geo", "coverage_computed_since.sql"), {"day": day.isoformat()}
    )
    row = await cur.fetchone()
    return bool(row and row[0])


async def snapshot_taken(conn: AsyncConnection[Any], day: date) -> bool:
    """Whether a coverage snapshot is dated ``day``."""
    cur = await conn.execute(read_sql("geo", "coverage_snapshot_taken.sql"), {"day": day})
    row = await cur.fetchone()
    return bool(row and row[0])
