"""Read and validate source files into tables, before anything touches the database.

Every problem with a file (missing, truncated, wrong columns, malformed numbers or codes,
bad geometry, wrong CRS) becomes a :class:`geo.errors.LoadError` naming the file, the
column and a few offending rows, so ``platoons load`` can stop with a clear message.
"""

from __future__ import annotations

import gzip
import hashlib
import re
import zlib
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyogrio
import shapely

from data.manifest import BoundariesDataset
from geo.errors import LoadError

# Longitude/latitude box around Great Britain and Northern Ireland: coordinates outside it
# mean the file is not in EPSG:4326 (for example British National Grid metres).
UK_LON_LAT_BOX = (-9.0, 49.0, 2.5, 61.5)
ANY_GSS_CODE = re.compile(r"^[EWSNK][0-9]{8}$")
_READ_ERRORS = (EOFError, zlib.error, gzip.BadGzipFile, UnicodeDecodeError, pd.errors.ParserError)


def sha256_of(path: Path) -> str:
    """Return the hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _require_file(path: Path) -> None:
    """Raise a LoadError if ``path`` is not a readable file."""
    if not path.is_file():
        raise LoadError(f"{path}: file not found")


def read_csv_columns(path: Path, columns: list[str]) -> pd.DataFrame:
    """Read a (possibly gzipped, BOM-prefixed) CSV as text, checking the named columns exist."""
    _require_file(path)
    try:
        frame = pd.read_csv(
            path,
            dtype=str,
            encoding="utf-8-sig",
            keep_default_na=False,
            compression="infer",
        )
    except pd.errors.EmptyDataError as exc:
        raise LoadError(f"{path}: the file is empty") from exc
    except _READ_ERRORS as exc:
        raise LoadError(f"{path}: cannot read the file, truncated or corrupt ({exc})") from exc
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise LoadError(
            f"{path}: missing column(s) {missing}; the file has {list(frame.columns)[:12]}"
        )
    if frame.empty:
        raise LoadError(f"{path}: the file has a header but no rows")
    return frame[columns]


def bad_rows(mask: pd.Series, values: pd.Series) -> str:
    """Describe up to five offending rows as 'line N: value'."""
    rows = values[mask].head(5)
    # +2: one for the header line, one because files count lines from 1.
    return ", ".join(f"line {int(i) + 2}: {v!r}" for i, v in rows.items())


def _numbers(text: pd.Series) -> pd.Series:
    """A text column's numbers, missing where a value is not one (``pd.to_numeric``'s
    ``errors="coerce"``).

    When every value is a number, Arrow casts the column at once; ``pd.to_numeric`` goes
    value by value through Python objects, about ten times slower (2.5 s of the 92 columns of
    single years of age of an England load). A column with a value Arrow cannot read, such
    as a blank, takes ``pd.to_numeric``'s way, so bad values are reported as before.
    """
    try:
        numbers = pc.cast(pa.array(text), pa.float64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
        return pd.to_numeric(text, errors="coerce")
    return pd.Series(numbers.to_numpy(zero_copy_only=False), index=text.index)


def parse_integers(frame: pd.DataFrame, column: str, path: Path) -> pd.Series:
    """Parse a column of whole numbers written with optional thousands separators or '.00'."""
    text = frame[column].str.replace(",", "", regex=False).str.strip()
    numbers = _numbers(text)
    if (numbers.abs() >= 2**53).any():  # beyond a double's whole numbers: parse them exactly
        numbers = pd.to_numeric(text, errors="coerce")
    bad = numbers.isna() | (numbers != np.floor(numbers))
    if bad.any():
        raise LoadError(
            f"{path}: column {column!r} must hold whole numbers; {bad_rows(bad, frame[column])}"
        )
    return numbers.astype("int64")


def parse_floats(frame: pd.DataFrame, column: str, path: Path) -> pd.Series:
    """Parse a column of decimal numbers (no blanks allowed)."""
    numbers = _numbers(frame[column].str.strip())
    bad = numbers.isna() | ~np.isfinite(numbers)
    if bad.any():
        raise LoadError(
            f"{path}: column {column!r} must hold numbers; {bad_rows(bad, frame[column])}"
        )
    return numbers.astype("float64")


def check_codes(codes: pd.Series, pattern: str, path: Path, column: str) -> None:
    """Raise a LoadError listing codes that do not match ``pattern`` or repeat."""
    bad = ~codes.str.fullmatch(pattern)
    if bad.any():
        raise LoadError(
            f"{path}: column {column!r} has codes that are not {pattern}: {bad_rows(bad, codes)}"
        )
    duplicated = codes.duplicated()
    if duplicated.any():
        raise LoadError(f"{path}: column {column!r} repeats codes: {bad_rows(duplicated, codes)}")


def read_boundaries(path: Path, dataset: BoundariesDataset) -> pd.DataFrame:
    """Read a boundary GeoJSON, keep the codes matching the dataset's pattern (England).

    Returns a frame with ``code``, ``name`` and ``wkb`` (EPSG:4326 WKB, repaired later in
    PostGIS where GEOS reports it invalid).
    """
    _require_file(path)
    try:
        # GDAL reads gzip through its virtual file system, not by file extension.
        gdal_path = f"/vsigzip/{path}" if path.suffix == ".gz" else str(path)
        frame = pyogrio.read_dataframe(gdal_path, columns=[dataset.code, dataset.label])
    except Exception as exc:  # noqa: BLE001 - GDAL raises many types for a bad file
        raise LoadError(
            f"{path}: cannot read the boundaries, truncated or corrupt ({exc})"
        ) from exc
    for column in (dataset.code, dataset.label):
        if column not in frame.columns:
            raise LoadError(f"{path}: missing property {column!r}; has {list(frame.columns)}")
    if frame.crs is None or frame.crs.to_epsg() != 4326:
        raise LoadError(f"{path}: expected EPSG:4326 (WGS84 lon/lat), found {frame.crs}")
    if frame.empty:
        raise LoadError(f"{path}: the file has no features")
    codes = frame[dataset.code].astype(str)
    unknown = ~codes.str.fullmatch(ANY_GSS_CODE)
    if unknown.any():
        raise LoadError(
            f"{path}: features with codes that are not GSS codes: {bad_rows(unknown, codes)}"
        )
    frame = frame[codes.str.fullmatch(dataset.code_pattern)]
    if frame.empty:
        raise LoadError(f"{path}: no feature has a code matching {dataset.code_pattern}")
    check_codes(frame[dataset.code], dataset.code_pattern, path, dataset.code)

    geometries = frame.geometry.values
    missing = shapely.is_missing(geometries) | shapely.is_empty(geometries)
    if missing.any():
        raise LoadError(f"{path}: empty geometry for {list(frame[dataset.code][missing][:5])}")
    kinds = shapely.get_type_id(geometries)
    not_polygonal = ~np.isin(kinds, [3, 6])  # 3 = Polygon, 6 = MultiPolygon
    if not_polygonal.any():
        raise LoadError(
            f"{path}: non-polygon geometry for {list(frame[dataset.code][not_polygonal][:5])}"
        )
    xmin, ymin, xmax, ymax = shapely.total_bounds(geometries)
    box = UK_LON_LAT_BOX
    if xmin < box[0] or ymin < box[1] or xmax > box[2] or ymax > box[3]:
        raise LoadError(
            f"{path}: coordinates ({xmin:.1f}, {ymin:.1f}, {xmax:.1f}, {ymax:.1f}) are not UK"
            " longitudes/latitudes; is the file in another CRS?"
        )
    return pd.DataFrame(
        {
            "code": frame[dataset.code].to_numpy(),
            "name": frame[dataset.label].to_numpy(),
            "wkb": shapely.to_wkb(geometries),
        }
    )
