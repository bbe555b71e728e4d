"""The H3 base grid, built at load time in Python (PostgreSQL here has no H3 extension)."""

from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from itertools import chain
from typing import Any

import h3
import numpy as np
import pandas as pd
import psycopg
import shapely
from h3.api import basic_int as h3i
from psycopg.copy import QueuedLibpqWriter
from psycopg.rows import dict_row
from pyproj import Transformer

from data import deferred_indexes
from data.deferred_indexes import Deferred
from data.foundation.staged import StepTimes
from geo.coverage.models import DEPRIVED_DECILE_MAX
from geo.sqlfiles import read_sql

H3_BASE_RESOLUTION = 9


H3_RESOLUTIONS = (6, 7, 8, 9)


# Tile geometry bands (geo/tiles.py): low for zooms <= 7, mid for 8-10. The coverage-h3
# collections start at zoom 5 (r6), 7 (r7), 9 (r8) and 10 (r9), so only r6-r7 cells need a
# low-zoom copy; the mid-zoom one is geom_3857 itself (the view h3_coverage_serving serves it
# under both names, migration 0021). Hexagons have nothing to simplify.
H3_LOW_ZOOM_RESOLUTIONS = (6, 7)


# Cells whose centres or figures are built and sent at a time (all England's 1.4 million at
# once held ~200 MB more at the first load's peak).
ROWS_CHUNK = 131_072


# Cells whose geometries are built and sent at a time when the grid is written (as fast as
# 50,000 for England's 1.4 million resolution-9 cells, 7.4 s; the demo's 4,601 make two).
GEOMETRY_CHUNK = 4_096


TO_BNG = Transformer.from_crs(4326, 27700, always_xy=True)


TO_MERCATOR = Transformer.from_crs(4326, 3857, always_xy=True)


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


# Every resolution's cells (sorted), adults and deprived adults.
Levels = dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]]


# A resolution-9 descendant's centre lies within this many degrees of its resolution-7
# ancestor's hexagon (descendants overhang their ancestor by under a resolution-8 edge, about
# 0.5 km; 0.03 degrees is at least 2 km in England).
_ANCESTOR_MARGIN_DEGREES = 0.03


_SEARCH_RESOLUTION = 7


# When more than this share of the grid is new, its spatial indexes, the cells' LSOA index and
# the three tables' keys are built after the rows.
_BULK_SHARE = 0.2


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
    coverage/h3_parents.sql computes the same in SQL.
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


# Pieces of COPY data (psycopg's, of at most 128 KiB) queued for the sending thread: enough
# to keep the server reading while Python builds the next chunk, few enough that a server
# slower than Python does not pile the data up in memory (psycopg's default is 1,024: up to
# 128 MiB, which raised a first load's peak RSS by up to ~170 MiB).
COPY_QUEUE = 32


class _CopyWriter(QueuedLibpqWriter):
    """psycopg's queued COPY writer with a short queue (:data:`COPY_QUEUE`)."""

    def __init__(self, cursor: psycopg.Cursor[Any]) -> None:
        super().__init__(cursor)
        self._queue.maxsize = COPY_QUEUE


def _copy_binary(cur: psycopg.Cursor[Any], statement: str, chunks: Iterable[bytes]) -> None:
    """Run ``COPY ... FROM STDIN (FORMAT binary)`` with the given tuple chunks.

    A worker thread sends the chunks (waiting on the socket without the GIL) while this one
    makes the next, so the server reads rows while Python builds more.
    """
    with cur.copy(statement, writer=_CopyWriter(cur)) as copy:
        copy.write(_COPY_HEADER)
        for chunk in chunks:
            copy.write(chunk)
        copy.write(_COPY_TRAILER)


_HEX_DIGITS = np.frombuffer(b"0123456789abcdef", dtype="S1")


_NAME_SHIFTS = np.arange(56, -1, -4, dtype=np.int64)


def cell_names(cells: np.ndarray) -> np.ndarray:
    """The H3 string names (``h3.int_to_str``: lower-case hexadecimal) of cells, vectorised.

    A cell's index has its top four bits 0 and its mode (1) in the next four, so its name is
    15 digits, the first 8; other indexes are refused.
    """
    cells = np.asarray(cells, dtype=np.int64)
    if len(cells) and not bool(np.all((cells >> 56) == 8)):
        raise ValueError("not H3 cell indexes (mode 1)")
    digits = _HEX_DIGITS[(cells[:, None] >> _NAME_SHIFTS) & 0xF]
    return np.ascontiguousarray(digits).view("S15").reshape(-1)


def _figure_rows(
    cells: np.ndarray, resolution: int, adults: np.ndarray, deprived: np.ndarray
) -> bytes:
    """Binary COPY tuples of new ``h3_coverage`` rows (the figures; coverage starts at 0)."""
    names = cell_names(cells)
    return _copy_tuples(
        [np.full(len(cells), resolution, dtype=np.int16), names, cells, adults, deprived],
        len(cells),
    )


def _geometry_rows(cells: np.ndarray, resolution: int) -> Iterable[bytes]:
    """Binary COPY tuples of new ``h3_cell_geometry`` rows, :data:`GEOMETRY_CHUNK` cells at a
    time (England's 1.4 million resolution-9 cells at once took 22.7 s and 3.7 GiB more
    memory, in chunks 7.4 s and none to speak of)."""
    for start in range(0, len(cells), GEOMETRY_CHUNK):
        yield from _geometry_chunk(cells[start : start + GEOMETRY_CHUNK], resolution)


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
    # Neighbouring hexagons share vertices (the same doubles): each is transformed once.
    vertex, distinct = pd.factorize(vertices[:, 1] + 1j * vertices[:, 0])
    east, north = TO_BNG.transform(distinct.real, distinct.imag)
    all_east, all_north = east[vertex], north[vertex]
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
            ],
            len(pick),
        )


def _centre_rows(grid: GridCells, pick: np.ndarray) -> Iterable[bytes]:
    """Binary COPY tuples of new ``h3_cell_adults`` rows (centres in EPSG:27700), in order,
    :data:`ROWS_CHUNK` cells at a time."""
    for start in range(0, len(pick), ROWS_CHUNK):
        yield from _centre_chunk(grid, pick[start : start + ROWS_CHUNK])


def _centre_chunk(grid: GridCells, pick: np.ndarray) -> Iterable[bytes]:
    """:func:`_centre_rows` of a few cells: a run of cells whose LSOA has a decile at a time,
    then a run without (its decile NULL)."""
    centres = grid.centres[pick]
    east, north = TO_BNG.transform(centres[:, 1], centres[:, 0])
    columns = [
        grid.cells[pick],
        grid.lsoa_codes[pick],
        grid.adults[pick],
        grid.imd_deciles[pick],
        _point_ewkb(east, north, 27700),
    ]
    has_decile = columns[3] != 0
    edges = np.flatnonzero(np.diff(has_decile)) + 1
    for start, stop in zip([0, *edges.tolist()], [*edges.tolist(), len(pick)], strict=True):
        if stop > start:
            run = [column[start:stop] for column in columns]
            if not has_decile[start]:
                run[3] = None
            yield _copy_tuples(run, stop - start)


def children_adults(
    parents: np.ndarray, cells: np.ndarray, adults: np.ndarray, deprived: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The adults and deprived adults of each resolution-8 cell's resolution-9 children by
    digit, in whole billionths of an adult: (n, 7) arrays, row i for ``parents[i]`` (sorted),
    column d for the child whose resolution-9 digit (index bits 18-20) is d, 0 for none.

    Rounded as PostgreSQL casts ``adults * 1e9`` to bigint (to the nearest, halves to even).
    """
    row = np.searchsorted(parents, h3_parents(cells, 8))
    digit = (cells >> 18) & 7
    out = []
    for values in (adults, deprived):
        table = np.zeros((len(parents), 7), dtype=np.int64)
        table[row, digit] = np.rint(values * 1e9).astype(np.int64)
        out.append(table)
    return out[0], out[1]


def _int8_arrays(values: np.ndarray) -> np.ndarray:
    """Binary COPY values of one-dimensional ``bigint[]`` arrays (no NULLs), one per row of
    ``values``: dimensions, flags, element type (int8), length and lower bound (1), then each
    element's length and value."""
    count, length = values.shape
    record = np.dtype(
        [
            ("ndim", ">i4"),
            ("flags", ">i4"),
            ("element_type", ">i4"),
            ("length", ">i4"),
            ("lower_bound", ">i4"),
            ("elements", [("size", ">i4"), ("value", ">i8")], (length,)),
        ]
    )
    out = np.empty(count, dtype=record)
    out["ndim"], out["flags"], out["element_type"] = 1, 0, 20
    out["length"], out["lower_bound"] = length, 1
    out["elements"]["size"] = 8
    out["elements"]["value"] = values
    return out.view(f"V{record.itemsize}")


def grid_inputs_fingerprint(cur: psycopg.Cursor[Any]) -> str:
    """A fingerprint of what the grid is made from (LSOA codes, boundaries, adults, deciles)."""
    cur.execute(read_sql("data", "h3_grid/fingerprint.sql"))
    row = cur.fetchone()
    return str(row[0]) if row else ""


def _compare_with_stored(
    cur: psycopg.Cursor[Any],
    grid: GridCells,
    levels: Levels,
    written: dict[str, int],
) -> tuple[np.ndarray, dict[int, np.ndarray]]:
    """Stage the computed grid beside the stored one: delete the cells that left, update those
    whose figures changed (counted in ``written``), and return the new resolution-9 cells and
    the new cells of each resolution."""
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
        ("h3_grid/delete.sql", "h3_coverage"),
        ("h3_grid/update.sql", "h3_coverage"),
        ("h3_grid/cells_delete.sql", "h3_cell_adults"),
        ("h3_grid/cells_update.sql", "h3_cell_adults"),
    ):
        cur.execute(read_sql("data", name))
        written[table] += max(cur.rowcount, 0)
    cur.execute(read_sql("data", "h3_grid/new_cells.sql"))
    new_cells = np.array([c for (c,) in cur.fetchall()], dtype=np.int64)
    new_fids: dict[int, np.ndarray] = {}
    for resolution in H3_RESOLUTIONS:
        cur.execute(read_sql("data", "h3_grid/new_fids.sql"), {"resolution": resolution})
        new_fids[resolution] = np.array([c for (c,) in cur.fetchall()], dtype=np.int64)
    return new_cells, new_fids


def _grid(lsoas: Sequence[GridLsoa]) -> tuple[GridCells, Levels]:
    """The resolution-9 grid of ``lsoas`` and every resolution's cells, adults and deprived
    adults (coarser cells sum their resolution-9 descendants)."""
    grid = grid_cells(lsoas)
    levels: Levels = {H3_BASE_RESOLUTION: (grid.cells, grid.adults, grid.deprived_adults)}
    for resolution in H3_RESOLUTIONS:
        if resolution != H3_BASE_RESOLUTION:
            parents, index = np.unique(h3_parents(grid.cells, resolution), return_inverse=True)
            levels[resolution] = (
                parents,
                np.bincount(index, weights=grid.adults, minlength=len(parents)),
                np.bincount(index, weights=grid.deprived_adults, minlength=len(parents)),
            )
    return grid, levels


@dataclass(frozen=True)
class GridAhead:
    """A grid being computed in a thread from ``lsoas`` while the load writes other tables."""

    lsoas: list[GridLsoa]
    future: Future[tuple[GridCells, Levels]]


def grid_ahead(conn: psycopg.Connection[Any], edition: str) -> GridAhead | None:
    """On a first build (no grid stored), start computing the grid of ``edition``'s LSOAs as
    the load has written them, in a thread, while the server writes the serving tables (the
    thread holds the GIL; the load's own thread waits on the server without it).

    :func:`rebuild_grid` takes the result only if ``lsoa_coverage`` gives the same LSOAs
    (codes, boundaries, points inside, adults, deciles, in order); else it computes again.
    """
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute("SELECT EXISTS (SELECT 1 FROM h3_cell_adults)")
        if bool((cur.fetchone() or {"exists": True})["exists"]):
            return None
        cur.execute(read_sql("data", "h3_grid/lsoas_ahead.sql"), {"edition": edition})
        lsoas = [GridLsoa(**row) for row in cur.fetchall()]
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="h3-grid")
    future = pool.submit(_grid, lsoas)
    pool.shutdown(wait=False)
    return GridAhead(lsoas, future)


def rebuild_grid(
    conn: psycopg.Connection[Any],
    times: StepTimes | None = None,
    ahead: GridAhead | None = None,
) -> dict[str, int]:
    """Bring ``h3_cell_adults``, the H3 cells and their geometries, and the adults of each
    resolution-8 cell's children (``h3_children_adults``) in line with the LSOAs.

    Runs in the caller's transaction (the load's) on a synchronous connection. The new grid
    is computed in Python and compared with the stored one: cells that left are deleted,
    cells whose adults changed are updated (their coverage reset for the recompute that
    follows), and only new cells get geometries, so a reload of the same boundaries writes
    nothing. When most of the grid is new (the first load), the resolution-9 spatial indexes,
    the cells' LSOA index and the keys of the tables copied into are dropped and built again
    after the rows (``h3_grid/bulk_indexes.sql``), in the same
    transaction (readers of the H3 layers wait for the load's commit meanwhile). A grid
    computed ahead (:func:`grid_ahead`) from the same LSOAs is taken as it is. Returns the
    rows written per table.
    """
    times = times or StepTimes()
    stop = times.start("H3 grid computed")
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(read_sql("data", "h3_grid/lsoas.sql"))
        lsoas = [GridLsoa(**row) for row in cur.fetchall()]
    grid, levels = (
        ahead.future.result() if ahead is not None and ahead.lsoas == lsoas else _grid(lsoas)
    )
    stop()
    written = {"h3_cell_adults": 0, "h3_coverage": 0}
    with conn.cursor() as cur:
        stop = times.start("H3 grid compared")
        cur.execute(read_sql("data", "h3_grid/stage.sql"))
        cur.execute(read_sql("data", "h3_grid/stored.sql"))
        if bool((cur.fetchone() or (True,))[0]):
            new_cells, new_fids = _compare_with_stored(cur, grid, levels, written)
        else:
            new_cells = grid.cells
            new_fids = {resolution: levels[resolution][0] for resolution in H3_RESOLUTIONS}
        # A first build (or a new geography): build the indexes once, afterwards. The
        # tables' readers wait for the load's commit meanwhile; they had nothing to read.
        bulk = len(new_cells) > _BULK_SHARE * len(grid.cells)
        deferred: list[Deferred] = []
        if bulk:
            cur.execute(read_sql("data", "h3_grid/bulk_indexes.sql"))
            deferred = [Deferred(*row) for row in cur.fetchall()]
            deferred_indexes.drop(cur, deferred)
        stop()
        if len(new_cells):
            stop = times.start("H3 cells and centres written")
            pick = (
                np.arange(len(grid.cells))
                if len(new_cells) == len(grid.cells)
                else np.flatnonzero(np.isin(grid.cells, new_cells))
            )
            _copy_binary(
                cur,
                "COPY h3_cell_adults (cell, lsoa_code, adults, imd_decile, centre)"
                " FROM STDIN (FORMAT binary)",
                _centre_rows(grid, pick),
            )
            written["h3_cell_adults"] += len(pick)
            stop()
        for resolution, (cells, adults, deprived) in sorted(levels.items()):
            if not len(new_fids[resolution]):
                continue
            pick = (
                np.arange(len(cells))
                if len(new_fids[resolution]) == len(cells)
                else np.flatnonzero(np.isin(cells, new_fids[resolution]))
            )
            with times.step("H3 figures written"):
                _copy_binary(
                    cur,
                    "COPY h3_coverage (resolution, cell, fid, adults, deprived_adults)"
                    " FROM STDIN (FORMAT binary)",
                    (
                        _figure_rows(cells[part], resolution, adults[part], deprived[part])
                        for part in np.array_split(pick, -(-len(pick) // ROWS_CHUNK))
                    ),
                )
            with times.step("H3 geometries written"):
                _copy_binary(
                    cur,
                    "COPY h3_cell_geometry (fid, resolution, geom, geom_4326, geom_3857,"
                    " geom_3857_low) FROM STDIN (FORMAT binary)",
                    _geometry_rows(cells[pick], resolution),
                )
            written["h3_coverage"] += len(pick)
        if deferred:
            with times.step("H3 indexes built"):
                deferred_indexes.make_again(cur, deferred)
        if written["h3_coverage"]:
            # Cells came, went or changed their adults: their parents' children adults follow.
            with times.step("H3 children's adults"):
                parents = levels[8][0]
                adults_e9, deprived_e9 = children_adults(
                    parents, grid.cells, grid.adults, grid.deprived_adults
                )
                cur.execute(read_sql("data", "h3_grid/children_stage.sql"))
                _copy_binary(
                    cur,
                    "COPY coverage_grid_children (fid, adults_e9, deprived_adults_e9)"
                    " FROM STDIN (FORMAT binary)",
                    [
                        _copy_tuples(
                            [parents, _int8_arrays(adults_e9), _int8_arrays(deprived_e9)],
                            len(parents),
                        )
                    ],
                )
                cur.execute(read_sql("data", "h3_grid/children.sql"))
    return written
