"""Import police.uk street-level crime: read, check and place every crime, then write at once.

Inputs are police.uk monthly ``YYYY-MM-<force>-street.csv`` files, archives of them (zip),
gzipped files, directories of any of these, and reduced extracts, each read through a column
mapping declared in ``data/crime_formats.toml``. Every file is read and checked before the
database is touched: a malformed row stops the import with its file and line, and nothing is
stored. The write is one transaction and is idempotent per force and month: the force-months
the files carry replace what was held for them (never doubled), provenance is recorded in
``crime_load``, the counts per LSOA and per location of the force-months replaced are
counted again, and the aggregate layers are rebuilt. The import drops and rebuilds the crime
table's secondary indexes (much faster than maintaining them row by row), so readers of that
table wait for the few seconds until it commits; then the crime table is analysed and the
tables summaries read are vacuumed. Crimes are placed by their distinct places (point,
police.uk's code, the month's generation), each once (``_Places``, ``_place``).

Area rule: where the file gives an LSOA code, it is kept (police.uk assigns it; its points are
snapped to anonymous map points, so a point-in-polygon test can disagree). Otherwise the LSOA
is found by point in polygon in the generation police.uk used for the month (2011 before
``first_month_2021``, 2021 from it). The other generation follows from the ONS best-fit
lookup (a split LSOA takes the part containing the point), then the ward and district; the H3
cell (resolution 9, as the coverage grid) comes from the point.
"""

from __future__ import annotations

import csv
import fnmatch
import gzip
import hashlib
import io
import re
import time
import tomllib
import zipfile
import zlib
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import h3
import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from geo.crime.types import crime_type_names
from geo.errors import LoadError
from geo.sqlfiles import read_sql

FORMATS_FILE = Path(__file__).resolve().parent / "crime_formats.toml"
H3_RESOLUTION = 9  # the coverage grid's base resolution (geo/coverage.py)
H3_PARENT_RESOLUTIONS = (7, 8)  # the coarser crime layers
MONTH = re.compile(r"^[0-9]{4}-(0[1-9]|1[0-2])\Z")
GIVEN_LSOA = re.compile(r"^[EW]01[0-9]{6}\Z")  # police.uk covers England and Wales
STREET_FILE = re.compile(r"^(?P<month>[0-9]{4}-[0-9]{2})-(?P<force>[a-z-]+?)-street\.csv")
UK_BOX = (-9.0, 49.0, 2.5, 61.5)  # lon/lat around the UK: anything else is a malformed row
MAX_REPORTED_ERRORS = 10
REQUIRED_FIELDS = ("month", "crime_type", "longitude", "latitude")

ProgressCallback = Callable[[str, int, int], None]  # description, completed, total


@dataclass(frozen=True)
class CrimeFormat:
    """A file format: the header names each field may have (and an exact header, if fixed)."""

    name: str
    description: str
    fields: dict[str, tuple[str, ...]]
    header: tuple[str, ...] | None = None

    def match(self, header: Sequence[str]) -> dict[str, int] | None:
        """Return field -> column index if the header fits this format, else None."""
        if self.header is not None and tuple(header) != self.header:
            return None
        positions = {name: i for i, name in enumerate(header)}
        found: dict[str, int] = {}
        for field_name, names in self.fields.items():
            index = next((positions[n] for n in names if n in positions), None)
            if index is not None:
                found[field_name] = index
        if any(f not in found for f in REQUIRED_FIELDS):
            return None
        return found


@dataclass(frozen=True)
class CrimeConfig:
    """Everything ``crime_formats.toml`` declares."""

    formats: tuple[CrimeFormat, ...]
    forces: dict[str, str]  # police.uk force id -> name
    extracts: tuple[tuple[str, str], ...]  # (file-name glob, force id)
    first_month_2021: str
    zeroed_is_no_location: bool
    publisher: str
    licence: str
    attribution: str

    def force_name(self, force_id: str) -> str:
        """Return the force's name for a police.uk force id (the id itself if unknown)."""
        return self.forces.get(force_id, force_id)


def load_config(path: Path = FORMATS_FILE) -> CrimeConfig:
    """Read the formats, forces and rules declared in ``crime_formats.toml``."""
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    formats = tuple(
        CrimeFormat(
            name=f["name"],
            description=f["description"],
            fields={k: tuple(v) for k, v in f["fields"].items()},
            header=tuple(f["header"]) if "header" in f else None,
        )
        for f in raw["format"]
    )
    return CrimeConfig(
        formats=formats,
        forces=dict(raw["forces"]),
        extracts=tuple((e["glob"], e["force"]) for e in raw.get("extract", [])),
        first_month_2021=raw["lsoa_generation"]["first_month_2021"],
        zeroed_is_no_location=bool(raw["no_location"]["zeroed_coordinates"]),
        publisher=raw["source"]["publisher"],
        licence=raw["source"]["licence"],
        attribution=raw["source"]["attribution"],
    )


@dataclass(frozen=True)
class CrimeInput:
    """One CSV to read: a plain or gzipped file, or a member of a zip archive."""

    name: str  # as shown to users: path, or path!member for archives
    path: Path
    member: str | None = None

    def read_bytes(self) -> bytes:
        """Return the CSV's (decompressed) bytes."""
        if self.member is not None:
            with zipfile.ZipFile(self.path) as archive, archive.open(self.member) as member:
                return member.read()
        if self.path.name.endswith(".gz"):
            with gzip.open(self.path, "rb") as unzipped:
                return unzipped.read()
        return self.path.read_bytes()

    @property
    def file_name(self) -> str:
        """The CSV's own file name (the member's name for archive members)."""
        return Path(self.member).name if self.member else self.path.name.removesuffix(".gz")


def expand_inputs(paths: Sequence[Path]) -> list[CrimeInput]:
    """List the CSVs the given files, archives and directories hold, in a stable order.

    Raises
    ------
    LoadError
        If a path does not exist, or is not a CSV, gzipped CSV, zip archive or directory.
    """
    inputs: list[CrimeInput] = []
    for path in paths:
        if path.is_dir():
            found = sorted(
                p
                for p in path.rglob("*")
                if p.is_file() and p.name.lower().endswith((".csv", ".csv.gz", ".zip"))
            )
            inputs.extend(expand_inputs(found))
        elif not path.exists():
            raise LoadError(f"{path}: no such file or directory")
        elif path.name.lower().endswith(".zip"):
            try:
                with zipfile.ZipFile(path) as archive:
                    members = sorted(m for m in archive.namelist() if m.lower().endswith(".csv"))
            except zipfile.BadZipFile as exc:
                raise LoadError(f"{path}: not a readable zip archive ({exc})") from exc
            if not members:
                raise LoadError(f"{path}: the archive holds no .csv file")
            inputs.extend(CrimeInput(f"{path}!{m}", path, m) for m in members)
        elif path.name.lower().endswith((".csv", ".csv.gz")):
            inputs.append(CrimeInput(str(path), path))
        else:
            raise LoadError(f"{path}: not a .csv, .csv.gz or .zip file")
    return inputs


@dataclass
class ParsedFile:
    """The rows of one CSV, checked, with what was noticed while reading it."""

    source: CrimeInput
    format: str
    sha256: str
    # force, month, crime type, known, crime ref, location, place id (see _Places)
    rows: list[tuple] = field(default_factory=list)
    no_location: int = 0
    unknown_types: Counter[str] = field(default_factory=Counter)
    types: set[str] = field(default_factory=set)
    forces: set[str] = field(default_factory=set)
    months: set[str] = field(default_factory=set)


class _Places:
    """Where an import's crimes are, numbered once each while reading.

    A place is a map point (or none), police.uk's LSOA code (or none) and the LSOA generation
    the month's rule names: all the import needs to put a crime in its areas. police.uk's
    anonymised points repeat (about 30,000 places for 100,000 crimes), so the database places
    each place once, not each crime, and the H3 cell is computed once per point.
    """

    def __init__(self, first_month_2021: str) -> None:
        self.first_month_2021 = first_month_2021
        self.cells: dict[tuple[float, float], tuple[str, int]] = {}
        self.ids: dict[tuple[float | None, float | None, str | None, int], int] = {}
        # place id, lon, lat, LSOA code given, the rule's generation, h3 cell, h3 fid
        self.rows: list[tuple] = []

    def place(self, lon: float | None, lat: float | None, lsoa: str | None, month: str) -> int:
        """Return the id of a crime's place (2011 LSOAs before ``first_month_2021``)."""
        generation = 2011 if month < self.first_month_2021 else 2021
        key = (lon, lat, lsoa, generation)
        found = self.ids.get(key)
        if found is None:
            found = self.ids[key] = len(self.rows)
            cell = (None, None) if lon is None or lat is None else self._cell(lon, lat)
            self.rows.append((found, lon, lat, lsoa, generation, *cell))
        return found

    def _cell(self, lon: float, lat: float) -> tuple[str, int]:
        """Return the resolution-9 cell (text and integer) holding a point."""
        cell = self.cells.get((lon, lat))
        if cell is None:
            text = h3.latlng_to_cell(lat, lon, H3_RESOLUTION)
            cell = self.cells[(lon, lat)] = (text, int(text, 16))
        return cell


def _force_for_file(source: CrimeInput, config: CrimeConfig, force: str | None) -> str | None:
    """The force of a file whose rows carry none: --force, the extract list, or the file name."""
    if force:
        return config.force_name(force)
    for pattern, force_id in config.extracts:
        if fnmatch.fnmatch(source.file_name, pattern):
            return config.force_name(force_id)
    named = STREET_FILE.match(source.file_name)
    return config.force_name(named["force"]) if named else None


def parse_file(
    source: CrimeInput, config: CrimeConfig, force: str | None, places: _Places
) -> ParsedFile:
    """Read and check one CSV; raise :class:`LoadError` naming file and lines if malformed."""
    digest = hashlib.sha256()
    errors: list[str] = []
    try:
        data = source.read_bytes()
    except (OSError, EOFError, zlib.error, gzip.BadGzipFile, zipfile.BadZipFile) as exc:
        raise LoadError(f"{source.name}: cannot be read ({exc}); nothing was stored") from exc
    digest.update(data)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise LoadError(
            f"{source.name}: not UTF-8 text (byte {exc.start}); nothing was stored"
        ) from exc
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if header is None:
        raise LoadError(f"{source.name}: the file is empty; nothing was stored")
    header = [h.strip() for h in header]
    chosen = next(((f, m) for f in config.formats if (m := f.match(header)) is not None), None)
    if chosen is None:
        raise LoadError(
            f"{source.name}: line 1: the header {header!r} fits no format of "
            f"data/crime_formats.toml (month, crime type, longitude and latitude are needed)"
        )
    fmt, columns = chosen
    parsed = ParsedFile(source=source, format=fmt.name, sha256="")
    file_force = _force_for_file(source, config, force)
    if "force" not in columns and file_force is None:
        raise LoadError(
            f"{source.name}: the rows name no force and the file name gives none; "
            "pass --force (a police.uk force id, e.g. greater-manchester)"
        )
    known = crime_type_names()
    width = len(header)
    i_month, i_type = columns["month"], columns["crime_type"]
    i_lon, i_lat = columns["longitude"], columns["latitude"]
    i_force, i_ref = columns.get("force"), columns.get("crime_ref")
    i_location, i_lsoa = columns.get("location"), columns.get("lsoa_code")
    min_lon, min_lat, max_lon, max_lat = UK_BOX
    for row in reader:
        line = reader.line_num
        if not row or row == [""]:
            continue
        if len(row) != width:
            errors.append(f"line {line}: {len(row)} fields, the header has {width}")
        else:
            month = row[i_month].strip()
            crime_type = row[i_type].strip()
            lon_text, lat_text = row[i_lon].strip(), row[i_lat].strip()
            row_force = file_force if i_force is None else (row[i_force].strip() or file_force)
            lsoa = row[i_lsoa].strip() if i_lsoa is not None else ""
            problem = None
            lon = lat = None
            if not MONTH.match(month):
                problem = f"month {month!r} is not YYYY-MM"
            elif not crime_type:
                problem = "no crime type"
            elif not row_force:
                problem = "no force (Falls within)"
            elif lsoa and not GIVEN_LSOA.match(lsoa):
                problem = f"LSOA code {lsoa!r} is not an E01/W01 code"
            elif bool(lon_text) != bool(lat_text):
                problem = "only one of longitude and latitude is given"
            elif lon_text:
                try:
                    lon, lat = float(lon_text), float(lat_text)
                except ValueError:
                    problem = f"coordinates {lon_text!r}, {lat_text!r} are not numbers"
                else:
                    if config.zeroed_is_no_location and lon == 0 and lat == 0:
                        lon = lat = None
                    elif not (min_lon <= lon <= max_lon and min_lat <= lat <= max_lat):
                        problem = f"coordinates {lon}, {lat} lie outside the UK"
            if problem is not None:
                errors.append(f"line {line}: {problem}")
            elif not errors:
                is_known = crime_type in known
                if not is_known:
                    parsed.unknown_types[crime_type] += 1
                if lon is None:
                    parsed.no_location += 1
                parsed.rows.append(
                    (
                        row_force,
                        month,
                        crime_type,
                        is_known,
                        (row[i_ref].strip() or None) if i_ref is not None else None,
                        (row[i_location].strip() or None) if i_location is not None else None,
                        places.place(lon, lat, lsoa or None, month),
                    )
                )
                parsed.types.add(crime_type)
                parsed.forces.add(row_force)  # type: ignore[arg-type]
                parsed.months.add(month)
        if len(errors) >= MAX_REPORTED_ERRORS:
            break
    if errors:
        raise LoadError(
            f"{source.name}: malformed rows, nothing was stored:\n  "
            + "\n  ".join(f"{source.name}: {e}" for e in errors)
        )
    if not parsed.rows:
        raise LoadError(f"{source.name}: no crimes in the file; nothing was stored")
    parsed.sha256 = digest.hexdigest()
    return parsed


@dataclass
class CrimeLoadReport:
    """What an import read and wrote."""

    files: list[str]
    crimes: int
    no_location: int
    outside_boundaries: int
    dropped_outside: int
    force_months: int
    replaced_crimes: int
    unknown_types: dict[str, int]
    # Rows with a police.uk LSOA code whose point falls in another LSOA of our boundaries.
    given_lsoa_checked: int
    given_lsoa_moved_by_pip: int
    given_lsoa_other_generation: int
    warnings: list[str]
    data_version: int
    seconds: float

    @property
    def moved_share(self) -> float | None:
        """Share of checkable police.uk LSOA codes a point-in-polygon test would change."""
        if not self.given_lsoa_checked:
            return None
        return self.given_lsoa_moved_by_pip / self.given_lsoa_checked


STAGE_COLUMNS = (
    "load_id",
    "force",
    "month",
    "crime_type",
    "crime_type_known",
    "crime_ref",
    "location",
    "place_id",
)
PLACE_COLUMNS = (
    "place_id",
    "lon",
    "lat",
    "lsoa_code_given",
    "rule_generation",
    "h3_cell",
    "h3_fid",
)


# The count tables an import keeps (migration 0020): table, the temporary table of the
# import's counts (counts_replace.sql), the key (the primary key) and the counted columns.
COUNT_TABLES = (
    (
        "crime_lsoa_count",
        "crime_lsoa_counted",
        ("generation", "lsoa_code", "month", "crime_type", "force"),
        ("crimes", "located"),
    ),
    (
        "crime_location_count",
        "crime_location_counted",
        ("generation", "lsoa_code", "month", "crime_type", "force", "location"),
        ("crimes",),
    ),
)


@dataclass
class ReadFiles:
    """Every input of an import, read and checked, and the places of their crimes."""

    files: list[ParsedFile]
    places: _Places


def read_all(
    paths: Sequence[Path],
    config: CrimeConfig,
    force: str | None = None,
    on_progress: ProgressCallback | None = None,
) -> ReadFiles:
    """Read and check every input; raise :class:`LoadError` at the first malformed file."""
    inputs = expand_inputs(paths)
    if not inputs:
        raise LoadError("no crime files found in the paths given")
    places = _Places(config.first_month_2021)
    parsed = []
    for done, source in enumerate(inputs):
        if on_progress:
            on_progress(f"reading {source.file_name}", done, len(inputs))
        parsed.append(parse_file(source, config, force, places))
    return ReadFiles(parsed, places)


def load_crime(
    conn: psycopg.Connection,
    paths: Sequence[Path],
    *,
    force: str | None = None,
    only_loaded_areas: bool = False,
    config: CrimeConfig | None = None,
    on_progress: ProgressCallback | None = None,
) -> CrimeLoadReport:
    """Import crime files in one transaction, replacing the force-months they carry.

    Parameters
    ----------
    conn
        A connection to the Platoons database (its transaction is committed on success).
    paths
        Files, zip archives or directories.
    force
        police.uk force id for files whose rows and names give none.
    only_loaded_areas
        Store only crimes inside the loaded LSOA boundaries (the demo's districts); the others
        are counted as dropped.

    Raises
    ------
    LoadError
        If a file is missing or malformed: nothing is stored, the previous data stays.
    """
    started = time.perf_counter()
    config = config or load_config()
    read = read_all(paths, config, force, on_progress)
    files = read.files
    steps = 5
    total = len(files) + steps

    def step(name: str, number: int) -> None:
        if on_progress:
            on_progress(name, len(files) + number, total)

    with conn.transaction(), conn.cursor() as cur:
        # One import at a time: two writing the same force-months would race.
        cur.execute("SELECT pg_advisory_xact_lock(hashtext('platoons:crime-load'))")
        # JIT compiling the placement's long expressions costs seconds and saves none; the
        # placement's hash joins and aggregates fit in memory with a little more than 4 MB.
        cur.execute("SET LOCAL jit = off")
        cur.execute("SET LOCAL work_mem = '64MB'")
        step("staging", 0)
        cur.execute(read_sql("data", "crime/stage.sql"))
        for parsed in files:
            load_id = _insert_load(cur, parsed, config)
            with cur.copy(f"COPY crime_stage ({', '.join(STAGE_COLUMNS)}) FROM STDIN") as copy:
                for row in parsed.rows:
                    copy.write_row((load_id, *row))
        with cur.copy(f"COPY crime_place_stage ({', '.join(PLACE_COLUMNS)}) FROM STDIN") as copy:
            for place in read.places.rows:
                copy.write_row(place)
        step("placing crimes in areas", 1)
        _place(cur)
        cur.execute(read_sql("data", "crime/assign_stats.sql"))
        checked, moved, other_generation, outside, no_location = cur.fetchone() or (0,) * 5
        step("replacing force-months", 2)
        cur.execute(read_sql("data", "crime/replace.sql"))
        replaced = cur.rowcount
        cur.execute(read_sql("data", "crime/indexes_drop.sql"))
        cur.execute(read_sql("data", "crime/insert.sql"), {"only_loaded": only_loaded_areas})
        inserted = cur.rowcount
        cur.execute(read_sql("data", "crime/indexes_create.sql"))
        _execute_script(
            cur, read_sql("data", "crime/counts_replace.sql"), {"only_loaded": only_loaded_areas}
        )
        for table, counted, key, value in COUNT_TABLES:
            cur.execute(_counts_merge(table, counted, key, value))
        cur.execute(read_sql("data", "crime/insert_months.sql"))
        force_months = cur.rowcount
        cur.execute(read_sql("data", "crime/update_loads.sql"), {"only_loaded": only_loaded_areas})
        step("rebuilding the crime layers", 3)
        refresh_crime_layers(cur)
        step("recording", 4)
        cur.execute(read_sql("geo", "tiles/bump_data_version.sql"))
        version_row = cur.fetchone()
    _vacuum(conn)
    step("done", 5)
    unknown: Counter[str] = Counter()
    for parsed in files:
        unknown.update(parsed.unknown_types)
    warnings = [
        f"unknown crime type {name!r}: {count} rows (kept; not in geo/crime/crime_types.toml)"
        for name, count in sorted(unknown.items())
    ]
    if other_generation:
        warnings.append(
            f"{other_generation} police.uk LSOA codes belong to the other generation than the "
            "month's rule expects (kept as given)"
        )
    dropped = (outside if only_loaded_areas else 0) or 0
    return CrimeLoadReport(
        files=[p.source.name for p in files],
        crimes=inserted,
        no_location=int(no_location or 0),
        outside_boundaries=0 if only_loaded_areas else int(outside or 0),
        dropped_outside=int(dropped),
        force_months=force_months,
        replaced_crimes=replaced,
        unknown_types=dict(unknown),
        given_lsoa_checked=int(checked or 0),
        given_lsoa_moved_by_pip=int(moved or 0),
        given_lsoa_other_generation=int(other_generation or 0),
        warnings=warnings,
        data_version=int(version_row[0]) if version_row else 0,
        seconds=time.perf_counter() - started,
    )


def _vacuum(conn: psycopg.Connection) -> None:
    """Vacuum and analyse the crime tables summaries read after an import, when none is open.

    Summaries of areas made of LSOAs read the count tables' indexes alone (index-only scans
    need the pages marked all-visible). The crime table itself is only analysed, so that the
    planner knows its new rows: vacuuming its rows (and, on a re-import, the index entries of
    the rows replaced) took 1.5-2.2 s of a 100,000-crime import, and autovacuum does it soon
    after. Inside a caller's transaction (tests that roll back) this is left to autovacuum.
    """
    if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE or conn.autocommit:
        return
    conn.autocommit = True
    try:
        conn.execute(
            "VACUUM (ANALYZE) crime_lsoa_count, crime_location_count, crime_month,"
            " crime_lsoa_serving, crime_h3_serving"
        )
        # The columns summaries, maps and imports filter or group by; the points' statistics
        # (costly to gather, and PostGIS's defaults already favour the GiST indexes) are left
        # to autovacuum.
        conn.execute(
            "ANALYZE crime (force, month, crime_type, location, lsoa11_code, lsoa21_code,"
            " ward_code, lad_code, h3_fid)"
        )
    finally:
        conn.autocommit = False


def _place(cur: psycopg.Cursor) -> None:
    """Place the staged places in areas (``sql/crime/assign.sql`` says how), into crime_placed.

    Point in polygon runs in 2011 LSOAs for every point, then in 2021 LSOAs for the points
    where the 2021 LSOA decides something (``crime_points21``).
    """
    _execute_script(cur, read_sql("data", "crime/assign.sql"), {})
    _point_in_polygon(cur, 2011, "crime_points")
    _execute_script(cur, read_sql("data", "crime/assign_places.sql"), {})
    _point_in_polygon(cur, 2021, "crime_points21")
    _execute_script(cur, read_sql("data", "crime/assign_placed.sql"), {})


def _point_in_polygon(cur: psycopg.Cursor, generation: int, points: str) -> None:
    """Find the LSOA of ``generation`` holding each point of the temporary table ``points``."""
    statement = sql.SQL(read_sql("data", "crime/point_in_polygon.sql"))
    cur.execute(statement.format(points=sql.Identifier(points)), {"generation": generation})


def _counts_merge(
    table: str, counted: str, key: Sequence[str], value: Sequence[str]
) -> sql.Composed:
    """``sql/crime/counts_merge.sql`` for one count table and the import's counts for it."""

    def columns(names: Sequence[str], prefix: str | None = None) -> sql.Composed:
        return sql.SQL(", ").join(
            sql.Identifier(prefix, n) if prefix else sql.Identifier(n) for n in names
        )

    return sql.SQL(read_sql("data", "crime/counts_merge.sql")).format(
        table=sql.Identifier(table),
        counted=sql.Identifier(counted),
        key=columns(key),
        c_key=columns(key, "c"),
        value=columns(value),
        c_value=columns(value, "c"),
        excluded_value=columns(value, "excluded"),
    )


def _execute_script(cur: psycopg.Cursor, script: str, params: dict) -> None:
    """Run a file of several statements with bound parameters (one statement at a time)."""
    for statement in script.split(";\n"):
        if statement.strip() and not all(
            line.startswith("--") or not line.strip() for line in statement.splitlines()
        ):
            cur.execute(statement, {k: v for k, v in params.items() if f"%({k})s" in statement})


def _insert_load(cur: psycopg.Cursor, parsed: ParsedFile, config: CrimeConfig) -> int:
    """Record one file's provenance (counts of what was stored are filled in after)."""
    months = sorted(parsed.months)
    cur.execute(
        read_sql("data", "crime/insert_load.sql"),
        {
            "source_file": parsed.source.name,
            "sha256": parsed.sha256,
            "format": parsed.format,
            "forces": sorted(parsed.forces),
            "first_month": months[0],
            "last_month": months[-1],
            "row_count": len(parsed.rows),
            "no_location_count": parsed.no_location,
            "unknown_types": Jsonb(dict(parsed.unknown_types)),
            "publisher": config.publisher,
            "licence": config.licence,
            "attribution": config.attribution,
            "notes": Jsonb({"crime_types": sorted(parsed.types)}),
        },
    )
    row = cur.fetchone()
    assert row is not None
    return int(row[0])


def refresh_crime_layers(cur: psycopg.Cursor) -> None:
    """Rebuild which forces cover which districts and the per-LSOA and per-H3 layers.

    Runs inside an import's transaction (it fills the import's temporary H3 stage).
    """
    cur.execute(read_sql("data", "crime/refresh_force_lad.sql"))
    cur.execute(read_sql("data", "crime/refresh_lsoa_serving.sql"))
    cur.execute(read_sql("data", "crime/h3_counts.sql"))
    counts: dict[str, list[int]] = {}
    for cell, crimes, recent in cur.fetchall():
        counts[cell] = [crimes, recent]
        for resolution in H3_PARENT_RESOLUTIONS:
            totals = counts.setdefault(h3.cell_to_parent(cell, resolution), [0, 0])
            totals[0] += crimes
            totals[1] += recent
    with cur.copy(
        "COPY crime_h3_stage (fid, resolution, cell, crimes, crimes_last_12_months, boundary)"
        " FROM STDIN"
    ) as copy:
        for cell, (crimes, recent) in counts.items():
            copy.write_row(
                (int(cell, 16), h3.get_resolution(cell), cell, crimes, recent, _cell_wkt(cell))
            )
    cur.execute(read_sql("data", "crime/insert_h3_serving.sql"))


def _cell_wkt(cell: str) -> str:
    """The cell's boundary as a WKT polygon in EPSG:4326 (lon lat order, closed)."""
    ring = [(lng, lat) for lat, lng in h3.cell_to_boundary(cell)]
    ring.append(ring[0])
    return "POLYGON((" + ", ".join(f"{x} {y}" for x, y in ring) + "))"
