"""Load council payment files (Local Government Transparency Code) line by line into PostGIS.

Each publisher's column titles, date format and conventions are declared in
``data/spending_publishers.toml``. A file (a zip holding one CSV, or a CSV) is streamed into a
staging table with PostgreSQL ``COPY``, checked (every declared column present; required
values, dates and amounts well formed, reported with the file, column and line numbers), then
written in the same transaction: a file loads whole or not at all. Loading a file already
loaded with the same bytes changes nothing; a changed file replaces its earlier lines.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import tomllib
import zipfile
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from fnmatch import fnmatch
from importlib.resources import files
from pathlib import Path
from typing import IO

import psycopg
from psycopg import sql

from geo.errors import LoadError
from geo.spending import rules
from geo.sqlfiles import read_sql

PUBLISHERS_FILE = Path(str(files("data").joinpath("spending_publishers.toml")))

# The Code's national fields, in the order the staging table holds them.
FIELDS = (
    "organisation_label",
    "organisation_uri",
    "effective_date",
    "service",
    "beneficiary_name",
    "beneficiary_other_id",
    "payment_date",
    "transaction_number",
    "amount",
    "irrecoverable_vat",
    "purpose",
    "category",
    "category_code",
    "invoice_number",
    "profit_centre",
    "vat_registration_number",
)
# Fields every line must carry. The service (OrganisationalUnit) is required by the LGA spend
# file schema too, but Trafford leaves it empty (NA) on about 0.5% of its lines, which are kept
# with no service: every published line counts.
REQUIRED_VALUES = ("beneficiary_name", "payment_date", "amount")
DATE_FIELDS = ("payment_date", "effective_date")
AMOUNT_FIELDS = ("amount", "irrecoverable_vat")

# Supported date formats: the declaration's name, a pattern for the text, and how to read it
# in Python (checking) and PostgreSQL (writing).
DATE_FORMATS = {
    "YYYY-MM-DD": (r"^\d{4}-\d{2}-\d{2}$", "%Y-%m-%d"),
    "DD/MM/YYYY": (r"^\d{2}/\d{2}/\d{4}$", "%d/%m/%Y"),
}
# Pounds with at most two decimal places: anything finer is not an exact amount of money.
AMOUNT_PATTERN = r"^-?[0-9]+(\.[0-9]{1,2})?$"
COPY_CHUNK = 1 << 20
BAD_LINES_SHOWN = 10


@dataclass(frozen=True)
class Publisher:
    """One council's payment file conventions, as declared in the publishers file."""

    key: str
    name: str
    district_code: str
    licence: str
    file_pattern: str
    date_format: str
    columns: dict[str, str]
    null_values: tuple[str, ...] = ("",)
    redacted_values: tuple[str, ...] = ()
    publishes_all_payments: bool = False


@dataclass
class SpendingFileReport:
    """What loading one file did."""

    path: Path
    publisher: str
    status: str  # "loaded", "replaced" or "unchanged"
    lines: int
    total: Decimal
    first_payment_date: date | None
    last_payment_date: date | None
    sha256: str
    warnings: list[str] = field(default_factory=list)


ProgressCallback = Callable[[int], None]


def load_publishers(path: Path = PUBLISHERS_FILE) -> dict[str, Publisher]:
    """Read the publisher declarations; a malformed declaration is a :class:`LoadError`."""
    try:
        declared = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise LoadError(f"{path}: cannot read the publisher declarations: {exc}") from exc
    publishers: dict[str, Publisher] = {}
    for entry in declared.get("publisher", []):
        unknown = sorted(set(entry["columns"]) - set(FIELDS))
        missing = sorted(set(REQUIRED_VALUES) - set(entry["columns"]))
        if unknown or missing or entry["date_format"] not in DATE_FORMATS:
            raise LoadError(
                f"{path}: publisher {entry.get('key')!r}: unknown fields {unknown}, missing "
                f"required fields {missing}, date format {entry['date_format']!r} "
                f"(supported: {', '.join(DATE_FORMATS)})"
            )
        publishers[entry["key"]] = Publisher(
            key=entry["key"],
            name=entry["name"],
            district_code=entry["district_code"],
            licence=entry["licence"],
            file_pattern=entry["file_pattern"],
            date_format=entry["date_format"],
            columns=dict(entry["columns"]),
            null_values=tuple(entry.get("null_values", [""])),
            redacted_values=tuple(entry.get("redacted_values", [])),
            publishes_all_payments=bool(entry.get("publishes_all_payments", False)),
        )
    return publishers


def publisher_for(
    path: Path, publishers: dict[str, Publisher], key: str | None = None
) -> Publisher:
    """The publisher named, or the one whose file pattern matches the file's name."""
    if key is not None:
        if key not in publishers:
            raise LoadError(f"unknown publisher {key!r}; declared: {', '.join(sorted(publishers))}")
        return publishers[key]
    matching = [p for p in publishers.values() if fnmatch(path.name, p.file_pattern)]
    if len(matching) != 1:
        raise LoadError(
            f"{path}: no single publisher declares a file pattern matching {path.name!r}; "
            "name one with --publisher"
        )
    return matching[0]


def sha256_file(path: Path) -> str:
    """The sha256 of a file's bytes (as published, before unzipping)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(COPY_CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


@contextmanager
def open_payment_csv(path: Path) -> Iterator[tuple[str, int, IO[bytes]]]:
    """Open the CSV inside a zip (exactly one member) or a CSV itself: (member, size, stream)."""
    if not path.is_file():
        raise LoadError(f"{path}: no such file")
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            members = [i for i in archive.infolist() if i.filename.lower().endswith(".csv")]
            if len(members) != 1:
                raise LoadError(
                    f"{path}: a payment zip must hold exactly one CSV; it holds "
                    f"{[i.filename for i in members]}"
                )
            with archive.open(members[0]) as stream:
                yield members[0].filename, members[0].file_size, stream
        return
    with path.open("rb") as stream:
        yield path.name, path.stat().st_size, stream


def _header(stream: IO[bytes], path: Path) -> tuple[list[str], bytes]:
    """The column titles of the first line, and the bytes read to get them."""
    first = stream.readline()
    try:
        text = first.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise LoadError(f"{path}: line 1 (the header) is not UTF-8: {exc}") from exc
    titles = next(csv.reader(io.StringIO(text)), [])
    return [t.strip() for t in titles], first


def _stage_columns(titles: list[str], publisher: Publisher, path: Path) -> list[str]:
    """The staging column each file column goes to; a missing declared column stops the load."""
    by_title = {title: name for name, title in publisher.columns.items()}
    missing = [
        f"{title} ({name})" for name, title in publisher.columns.items() if title not in titles
    ]
    if missing:
        raise LoadError(
            f"{path}: missing column(s) {', '.join(missing)} declared for publisher "
            f"{publisher.key!r} (line 1 has: {', '.join(titles)})",
            parameter="columns",
        )
    return [by_title.get(title, f"ignored_{i}") for i, title in enumerate(titles)]


def _copy_null(publisher: Publisher) -> str:
    """The "no value" spelling COPY turns into NULL: the first non-empty one, else empty."""
    return next((v for v in publisher.null_values if v), "")


def _other_nulls(publisher: Publisher) -> list[str]:
    """The "no value" spellings left for the SQL to test after COPY (always the empty text)."""
    copied = _copy_null(publisher)
    return ["", *(v for v in publisher.null_values if v and v != copied)]


def _bad_lines(lines: Sequence[int], count: int) -> str:
    """A short list of offending line numbers."""
    shown = ", ".join(str(n) for n in lines[:BAD_LINES_SHOWN])
    return f"line(s) {shown}" + (
        f" and {count - BAD_LINES_SHOWN} more" if count > BAD_LINES_SHOWN else ""
    )


def _check_staged(cur: psycopg.Cursor, path: Path, publisher: Publisher) -> None:
    """Required values present, dates and amounts well formed; else a LoadError naming lines.

    One pass over the staged lines counts the missing values and malformed amounts, and one
    more lists each date column's distinct values (a few hundred), checked here in Python; the
    lines at fault are looked up only when something is wrong.
    """
    nulls = _other_nulls(publisher)
    pattern, python_format = DATE_FORMATS[publisher.date_format]
    problems: list[str] = []

    def offending(column: str, reason: str, condition: sql.Composable, params: dict) -> None:
        query = sql.SQL(
            "SELECT array_agg(line_number ORDER BY line_number), count(*) FROM ("
            " SELECT line_number, nullif_any({c}, %(nulls)s) AS v FROM spending_stage) s"
            " WHERE {cond}"
        ).format(c=sql.Identifier(column), cond=condition)
        lines, count = cur.execute(query, {"nulls": nulls, **params}).fetchone() or (None, 0)
        if count:
            title = publisher.columns[column]
            problems.append(f"column {title} ({column}): {reason} at {_bad_lines(lines, count)}")

    missing = sql.SQL("nullif_any({c}, %(nulls)s) IS NULL")
    malformed = sql.SQL("nullif_any({c}, %(nulls)s) !~ %(amount)s")
    amounts = [c for c in AMOUNT_FIELDS if c in publisher.columns]
    counts = (
        cur.execute(
            sql.SQL("SELECT {} FROM spending_stage").format(
                sql.SQL(", ").join(
                    [
                        sql.SQL("count(*) FILTER (WHERE {})").format(
                            test.format(c=sql.Identifier(column))
                        )
                        for test, columns in ((missing, REQUIRED_VALUES), (malformed, amounts))
                        for column in columns
                    ]
                )
            ),
            {"nulls": nulls, "amount": AMOUNT_PATTERN},
        ).fetchone()
        or ()
    )
    for column, count in zip(REQUIRED_VALUES, counts, strict=False):
        if count:
            offending(column, "no value", sql.SQL("v IS NULL"), {})
    dates = [c for c in DATE_FIELDS if c in publisher.columns]
    rows = cur.execute(
        sql.SQL("SELECT {} FROM spending_stage GROUP BY GROUPING SETS ({})").format(
            sql.SQL(", ").join(
                sql.SQL("nullif_any({c}, %(nulls)s)").format(c=sql.Identifier(c)) for c in dates
            ),
            sql.SQL(", ").join(sql.SQL("({})").format(sql.Identifier(c)) for c in dates),
        ),
        {"nulls": nulls},
    ).fetchall()
    well_formed = re.compile(pattern, re.ASCII)
    for index, column in enumerate(dates):
        values = {row[index] for row in rows if row[index] is not None}
        unlike = sorted(v for v in values if not well_formed.fullmatch(v))
        if unlike:
            offending(
                column,
                f"not a date written {publisher.date_format}",
                sql.SQL("v = ANY(%(values)s)"),
                {"values": unlike},
            )
        # Well-formed text may still be no calendar date (2025-02-30).
        impossible = []
        for text in sorted(set(values) - set(unlike)):
            try:
                datetime.strptime(text, python_format)
            except ValueError:
                impossible.append(text)
        if impossible:
            offending(
                column, "no such date", sql.SQL("v = ANY(%(values)s)"), {"values": impossible}
            )
    for column, count in zip(amounts, counts[len(REQUIRED_VALUES) :], strict=True):
        if count:
            offending(
                column,
                "not an amount in pounds with at most two decimal places",
                sql.SQL("v !~ %(pattern)s"),
                {"pattern": AMOUNT_PATTERN},
            )
    if problems:
        raise LoadError(f"{path}: " + "; ".join(problems) + "; nothing was written")


def _write_keys(cur: psycopg.Cursor, publisher: Publisher) -> None:
    """Compute each distinct beneficiary's key and redaction with geo.spending.rules."""
    cur.execute(
        "CREATE TEMPORARY TABLE spending_stage_key (beneficiary_name text PRIMARY KEY,"
        " beneficiary_key text NOT NULL, redacted boolean NOT NULL) ON COMMIT DROP"
    )
    names = cur.execute(
        "SELECT DISTINCT beneficiary_name FROM spending_stage WHERE beneficiary_name IS NOT NULL"
    ).fetchall()
    redacted_values = {v.casefold() for v in publisher.redacted_values}
    with cur.copy(
        "COPY spending_stage_key (beneficiary_name, beneficiary_key, redacted) FROM STDIN"
    ) as copy:
        for (name,) in names:
            redacted = name.strip().casefold() in redacted_values
            copy.write_row((name, rules.beneficiary_key(name, redacted=redacted), redacted))


def load_spending_file(
    conn: psycopg.Connection,
    path: Path,
    publisher: Publisher,
    on_bytes: ProgressCallback | None = None,
) -> SpendingFileReport:
    """Load one payment file in one transaction: whole, unchanged, or not at all.

    Parameters
    ----------
    conn
        A connection to the Platoons database (not in a transaction).
    path
        A zip holding one CSV, or a CSV, as the publisher published it.
    publisher
        The declaration its columns and conventions are read with.
    on_bytes
        Called with the number of uncompressed bytes read since the last call.

    Returns
    -------
    SpendingFileReport
        The file's status (``loaded``, ``replaced`` or ``unchanged``), lines, total and dates.
    """
    sha256 = sha256_file(path)
    _roomy_temp_buffers(conn)
    with conn.transaction(), conn.cursor() as cur:
        # Memory for the staging joins; a load need not wait for its WAL to reach the disk
        # before returning (a crash loses the whole transaction, never part of it).
        cur.execute("SET LOCAL work_mem = '256MB'")
        cur.execute("SET LOCAL synchronous_commit = off")
        # Each partition's four indexes are sorted in memory.
        cur.execute("SET LOCAL maintenance_work_mem = '256MB'")
        # One loader per publisher and file name at a time.
        cur.execute(
            "SELECT pg_advisory_xact_lock(hashtext('spending:' || %s || ':' || %s))",
            (publisher.key, path.name),
        )
        existing = cur.execute(
            "SELECT id, sha256, line_count, total_amount, first_payment_date, last_payment_date"
            " FROM spending_file WHERE publisher = %s AND file_name = %s",
            (publisher.key, path.name),
        ).fetchone()
        if existing is not None and existing[1] == sha256:
            if on_bytes:
                on_bytes(uncompressed_size(path))
            return SpendingFileReport(
                path,
                publisher.key,
                "unchanged",
                existing[2],
                existing[3],
                existing[4],
                existing[5],
                sha256,
            )
        with open_payment_csv(path) as (member, _size, stream):
            titles, header_bytes = _header(stream, path)
            columns = _stage_columns(titles, publisher, path)
            cur.execute(read_sql("data", "spending/stage_create.sql"))
            for name in columns:
                if name.startswith("ignored_"):
                    cur.execute(
                        sql.SQL("ALTER TABLE spending_stage ADD COLUMN {} text").format(
                            sql.Identifier(name)
                        )
                    )
            # COPY itself reads one "no value" spelling as NULL (cheaper than testing every
            # value later); empty text is NULL too, and any further spellings are tested after.
            copy_sql = sql.SQL(
                "COPY spending_stage ({}) FROM STDIN"
                " (FORMAT csv, HEADER true, ENCODING 'UTF8', NULL {})"
            ).format(
                sql.SQL(", ").join(sql.Identifier(c) for c in columns),
                sql.Literal(_copy_null(publisher)),
            )
            try:
                with cur.copy(copy_sql) as copy:
                    copy.write(header_bytes)
                    if on_bytes:
                        on_bytes(len(header_bytes))
                    for block in iter(lambda: stream.read(COPY_CHUNK), b""):
                        copy.write(block)
                        if on_bytes:
                            on_bytes(len(block))
            except psycopg.errors.DataError as exc:
                # COPY names the line ("COPY spending_stage, line 12: ..."), as the file does.
                raise LoadError(f"{path}: {exc.diag.message_primary} ({exc.diag.context})") from exc
        _check_staged(cur, path, publisher)
        _write_keys(cur, publisher)
        status = "loaded"
        if existing is not None:
            for table in ("spending_month_total", "spending_rollup", "spending_file"):
                column = "id" if table == "spending_file" else "file_id"
                cur.execute(
                    sql.SQL("DELETE FROM {} WHERE {} = %s").format(
                        sql.Identifier(table), sql.Identifier(column)
                    ),
                    (existing[0],),
                )
            status = "replaced"
        (file_id,) = cur.execute(
            "INSERT INTO spending_file (publisher, file_name, member, sha256, line_count,"
            " total_amount) VALUES (%s, %s, %s, %s, 0, 0) RETURNING id",
            (publisher.key, path.name, member, sha256),
        ).fetchone() or (None,)
        lines, total, first, last = _write_lines(cur, publisher, file_id)
        # Files loading at the same time take turns from here: new beneficiary keys go in one
        # by one, and each attaches its lines (and drops those it replaces) just before it
        # commits, the moment readers see the file's lines and totals change together.
        cur.execute("SELECT pg_advisory_xact_lock(hashtext('spending-totals'))")
        cur.execute(read_sql("data", "spending/refresh_beneficiaries.sql"))
        cur.execute(
            sql.SQL("ALTER TABLE spending_line ATTACH PARTITION {} FOR VALUES IN ({})").format(
                _partition(file_id), sql.Literal(file_id)
            )
        )
        if existing is not None:
            cur.execute(sql.SQL("DROP TABLE {}").format(_partition(existing[0])))
    return SpendingFileReport(path, publisher.key, status, lines, total, first, last, sha256)


def _partition(file_id: int) -> sql.Identifier:
    """The table holding one file's lines (a partition of ``spending_line``)."""
    return sql.Identifier(f"spending_line_{file_id}")


def _write_lines(
    cur: psycopg.Cursor, publisher: Publisher, file_id: int
) -> tuple[int, Decimal, date | None, date | None]:
    """Write the staged lines into a new partition, index it, and total it by month and level.

    The partition is filled with no index and then indexed once (a sorted build is about
    twice as fast as keeping four indexes up to date line by line); it is attached by the
    caller. Returns the file's lines, total, and first and last payment dates.
    """
    partition = _partition(file_id)
    file_sql = {"partition": partition, "file_id": sql.Literal(file_id)}
    cur.execute(sql.SQL(read_sql("data", "spending/partition_create.sql")).format(**file_sql))
    (sequence,) = cur.execute(
        "SELECT pg_get_serial_sequence('spending_line', 'id')"
    ).fetchone() or (None,)
    cur.execute(
        sql.SQL(read_sql("data", "spending/insert_lines.sql")).format(**file_sql),
        {
            "id_sequence": sequence,
            "file_id": file_id,
            "publisher": publisher.key,
            "publisher_name": publisher.name,
            "nulls": _other_nulls(publisher),
            "date_format": publisher.date_format,
            "threshold": rules.CODE_THRESHOLD,
        },
    )
    cur.execute(sql.SQL(read_sql("data", "spending/partition_indexes.sql")).format(**file_sql))
    cur.execute(sql.SQL("ANALYZE {}").format(partition))
    summary = cur.execute(
        sql.SQL(read_sql("data", "spending/file_summary.sql")).format(**file_sql),
        {"file_id": file_id},
    ).fetchone() or (0, Decimal(0), None, None)
    cur.execute(
        sql.SQL(read_sql("data", "spending/month_totals_insert.sql")).format(**file_sql),
        {"file_id": file_id},
    )
    cur.execute(read_sql("data", "spending/rollup_insert.sql"), {"file_id": file_id})
    return summary


def _roomy_temp_buffers(conn: psycopg.Connection) -> None:
    """Room in memory for the staged file (some 60 MB a year of Trafford's payments).

    PostgreSQL keeps temporary tables in 8 MB of session memory unless told otherwise, and
    can be told only before the session's first temporary table; after that this does nothing.
    """
    try:
        with conn.transaction():
            conn.execute("SET temp_buffers = '256MB'")
    except psycopg.errors.InvalidParameterValue:
        pass  # the session has used a temporary table already: it keeps its setting


def uncompressed_size(path: Path) -> int:
    """The bytes a progress bar will count for a file (the CSV inside a zip, unzipped)."""
    with open_payment_csv(path) as (_member, size, _stream):
        return size


def load_spending(
    conn: psycopg.Connection,
    paths: Sequence[Path],
    publisher_key: str | None = None,
    on_bytes: ProgressCallback | None = None,
    on_file: Callable[[SpendingFileReport], None] | None = None,
) -> list[SpendingFileReport]:
    """Load several payment files, each in its own transaction; stops at the first bad file."""
    publishers = load_publishers()
    plan = [(path, publisher_for(path, publishers, publisher_key)) for path in paths]
    reports: list[SpendingFileReport] = []
    try:
        for path, publisher in plan:
            report = load_spending_file(conn, path, publisher, on_bytes)
            reports.append(report)
            if on_file:
                on_file(report)
    finally:
        # Even if a later file failed, for what did load.
        if any(r.status != "unchanged" for r in reports):
            _after_loading(conn)
    return reports


def _after_loading(conn: psycopg.Connection) -> None:
    """Fresh planner statistics for the totals, and the new lines' partitions vacuumed.

    VACUUM marks a new partition's pages all-visible, so a count over a date window (the
    lines matched) reads the page index alone, without visiting the lines (partitions
    vacuumed before are skipped page by page). It runs outside any transaction.
    """
    autocommit = conn.autocommit
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            for table in ("spending_beneficiary", "spending_month_total", "spending_rollup"):
                cur.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(table)))
            cur.execute("VACUUM spending_line")
    finally:
        conn.autocommit = autocommit


def load_spending_parallel(
    dsn: str,
    paths: Sequence[Path],
    publisher_key: str | Publisher | None = None,
    on_bytes: ProgressCallback | None = None,
    on_file: Callable[[SpendingFileReport], None] | None = None,
    jobs: int = 2,
) -> list[SpendingFileReport]:
    """Load several payment files at once, ``jobs`` at a time, each on its own connection.

    Each file is still one transaction of its own (a bad file writes nothing; the others load
    or not on their own, and loading them again changes nothing); only the month totals and
    new beneficiary keys are written one file at a time. The first error is raised once every
    file has finished.
    """
    if isinstance(publisher_key, Publisher):
        plan = [(path, publisher_key) for path in paths]
    else:
        publishers = load_publishers()
        plan = [(path, publisher_for(path, publishers, publisher_key)) for path in paths]

    def one(path: Path, publisher: Publisher) -> SpendingFileReport:
        with psycopg.connect(dsn) as conn:
            report = load_spending_file(conn, path, publisher, on_bytes)
        if on_file:
            on_file(report)
        return report

    reports: list[SpendingFileReport] = []
    failure: BaseException | None = None
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = [pool.submit(one, path, publisher) for path, publisher in plan]
        for future in futures:
            try:
                reports.append(future.result())
            except BaseException as exc:  # noqa: BLE001 - raised below, after the others
                failure = failure or exc
    if any(r.status != "unchanged" for r in reports):
        with psycopg.connect(dsn) as conn:
            _after_loading(conn)
    if failure is not None:
        raise failure
    return reports
