"""Import other funders' grants from 360Giving files (CSV summary tables and JSON packages).

A file is read (the CSV's column titles mapped to the standard's JSON paths by
``data/giving360_columns.toml``), validated against the official schema (failures reported by
grant and field: nothing is imported from a file that fails), and each grant placed:

1. by its beneficiary locations, in order: an LSOA code (checked against both the 2011 and the
   2021 generation, since the 360Giving codelist cannot say which), a ward code or a district
   code, each checked against the generations loaded;
2. otherwise by the recipient organisation's postcode, where Platoons' postcode data covers it
   (Trafford only in the published files);
3. otherwise not placed, with the reason.

How each grant was placed is stored beside it. A file is imported in one transaction; the same
bytes again change nothing, changed bytes replace the file's grants.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from importlib.resources import files
from pathlib import Path
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from data.giving360_schema import package_problems
from geo.errors import LoadError

COLUMNS_FILE = Path(str(files("data").joinpath("giving360_columns.toml")))
PROBLEMS_SHOWN = 20

# geoCodeType codelist values (codelists/geoCodeType.csv) Platoons places grants by, and the
# entity part of the GSS codes each one takes.
PLACEABLE_TYPES = {
    "LSOA": "lsoa",
    "WD": "ward",
    "MD": "lad",
    "NMD": "lad",
    "UA": "lad",
    "LONB": "lad",
}
_LEVEL_OF_ENTITY = {
    "E01": "lsoa",
    "W01": "lsoa",
    "E05": "ward",
    "W05": "ward",
    "E06": "lad",
    "E07": "lad",
    "E08": "lad",
    "E09": "lad",
    "W06": "lad",
}
_LEVEL_LABELS = {"lsoa": "LSOA", "ward": "ward", "lad": "district"}
_POSTCODE = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?)\s*([0-9][A-Z]{2})$")


@dataclass(frozen=True)
class Placement:
    """Where a grant was placed and how (``placed_by``), with a sentence saying why."""

    level: str | None
    code: str | None
    vintage: int | None
    placed_by: str  # beneficiary_location, recipient_postcode or not_placed
    note: str


@dataclass
class Geography:
    """The codes loaded, per level and generation, and the postcodes Platoons knows."""

    codes: dict[str, dict[int, set[str]]]
    postcodes: dict[str, tuple[str, int]]

    @classmethod
    def read(cls, conn: psycopg.Connection) -> Geography:
        """Read every loaded LSOA, ward and district code, and the postcode lookup."""
        codes: dict[str, dict[int, set[str]]] = {"lsoa": {}, "ward": {}, "lad": {}}
        for level in codes:
            rows = conn.execute(f"SELECT vintage, code FROM {level}").fetchall()  # fixed names
            for vintage, code in rows:
                codes[level].setdefault(vintage, set()).add(code)
        postcodes = {
            p: (code, vintage)
            for p, code, vintage in conn.execute(
                "SELECT postcode, lsoa_code, lsoa_vintage FROM postcode"
            ).fetchall()
        }
        return cls(codes, postcodes)


@dataclass
class GrantImportReport:
    """What importing one file did, and how its grants were placed."""

    path: Path
    source_name: str
    file_format: str
    status: str  # imported, replaced or unchanged
    grants: int
    placements: dict[str, int] = field(default_factory=dict)
    ignored_columns: list[str] = field(default_factory=list)


def normalise_postcode(text: str | None) -> str | None:
    """A UK postcode in the ``AA9A 9AA`` form (one space), or ``None`` if it is not one."""
    if not text:
        return None
    match = _POSTCODE.match(text.strip().upper())
    return f"{match[1]} {match[2]}" if match else None


def place_grant(grant: dict[str, Any], geography: Geography) -> Placement:
    """Place one grant by its beneficiary location codes, else by its recipient's postcode."""
    notes = []
    for location in grant.get("beneficiaryLocation") or []:
        code = (location.get("geoCode") or "").strip().upper()
        declared = (location.get("geoCodeType") or "").strip().upper()
        if not code:
            continue
        level = _LEVEL_OF_ENTITY.get(code[:3])
        if declared and PLACEABLE_TYPES.get(declared) != level:
            notes.append(
                f"{code}: geoCodeType {declared or '(none)'} does not match the code"
                + (f" (a {level} code by its GSS entity)" if level else "")
            )
        if level is None:
            notes.append(f"{code}: not an LSOA, ward or district code")
            continue
        label = _LEVEL_LABELS[level]
        generations = sorted(
            (v for v, known in geography.codes[level].items() if code in known), reverse=True
        )
        if not generations:
            loaded = ", ".join(str(v) for v in sorted(geography.codes[level])) or "none"
            notes.append(f"{code}: in none of the {label} code sets loaded ({loaded})")
            continue
        vintage = generations[0]
        if len(generations) > 1:
            both = " and ".join(str(v) for v in sorted(generations))
            note = f"{code}: {label} code in both the {both} sets; placed on {vintage}"
        else:
            note = f"{code}: {label} code of the {vintage} set"
        return Placement(level, code, vintage, "beneficiary_location", "; ".join([*notes, note]))
    recipients = grant.get("recipientOrganization") or []
    postcode = normalise_postcode(recipients[0].get("postalCode") if recipients else None)
    if postcode and postcode in geography.postcodes:
        lsoa, vintage = geography.postcodes[postcode]
        note = f"recipient postcode {postcode} lies in the {vintage} LSOA {lsoa}"
        return Placement("lsoa", lsoa, vintage, "recipient_postcode", "; ".join([*notes, note]))
    if postcode:
        notes.append(f"recipient postcode {postcode} is outside Platoons' postcode data")
    else:
        notes.append("no recipient postcode")
    if not grant.get("beneficiaryLocation"):
        notes.insert(0, "no beneficiary location")
    return Placement(None, None, None, "not_placed", "; ".join(notes))


def _column_map() -> dict[str, dict[str, str]]:
    """The spreadsheet titles the CSV reader knows, with their JSON paths and types."""
    return tomllib.loads(COLUMNS_FILE.read_text(encoding="utf-8"))["columns"]


def _convert(value: str, kind: str, title: str, line: int, path: Path) -> Any:
    """A cell as the JSON value its column's type says."""
    if kind == "number":
        try:
            number = Decimal(value.replace(",", ""))
        except InvalidOperation as exc:
            raise LoadError(
                f"{path}: line {line}: column {title}: {value!r} is not a number"
            ) from exc
        return int(number) if number == number.to_integral_value() else float(number)
    if kind == "integer":
        try:
            return int(value)
        except ValueError as exc:
            raise LoadError(f"{path}: line {line}: column {title}: {value!r} is not whole") from exc
    if kind == "list":
        return [part.strip() for part in value.split(";") if part.strip()]
    return value


def _set_path(target: dict[str, Any], path: str, value: Any) -> None:
    """Set a value at a flatten-tool path (``recipientOrganization/0/id``)."""
    parts = path.split("/")
    node: Any = target
    for part, following in zip(parts, parts[1:], strict=False):
        key: Any = int(part) if part.isdigit() else part
        if isinstance(node, list):
            while len(node) <= key:
                node.append({} if not following.isdigit() else [])
            node = node[key]
        else:
            node = node.setdefault(key, [] if following.isdigit() else {})
    last = parts[-1]
    if isinstance(node, list):
        node.append(value)
    else:
        node[last] = value


def read_csv_package(path: Path, text: str) -> tuple[dict[str, Any], list[str]]:
    """A 360Giving summary-table CSV as a package, and the column titles it ignored."""
    columns = _column_map()
    reader = csv.DictReader(io.StringIO(text))
    titles = [t.strip() for t in reader.fieldnames or []]
    ignored = [t for t in titles if t not in columns]
    grants = []
    for line, row in enumerate(reader, start=2):
        grant: dict[str, Any] = {}
        for title, value in row.items():
            spec = columns.get((title or "").strip())
            if spec is None or value is None or not value.strip():
                continue
            converted = _convert(value.strip(), spec.get("type", "text"), title, line, path)
            _set_path(grant, spec["path"], converted)
        grants.append(grant)
    return {"grants": grants}, ignored


def read_package(path: Path) -> tuple[dict[str, Any], str, list[str]]:
    """Read a 360Giving file: a JSON package (``.json``, ``.json.gz``) or a CSV summary table."""
    if not path.is_file():
        raise LoadError(f"{path}: no such file")
    raw = path.read_bytes()
    if path.name.endswith(".gz"):
        raw = gzip.decompress(raw)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise LoadError(f"{path}: not UTF-8 text: {exc}") from exc
    if path.name.removesuffix(".gz").endswith(".json"):
        try:
            package = json.loads(text)
        except json.JSONDecodeError as exc:
            raise LoadError(f"{path}: not JSON: {exc}") from exc
        return package, "json", []
    package, ignored = read_csv_package(path, text)
    return package, "csv", ignored


def _date(value: str) -> date:
    """A 360Giving date or date-time as a date."""
    return (
        date.fromisoformat(value)
        if len(value) == 10
        else datetime.fromisoformat(value.replace("Z", "+00:00")).date()
    )


def _money(value: Any) -> Decimal | None:
    """A JSON number as exact money (via its text, so 0.1 stays 0.1)."""
    return None if value is None else Decimal(str(value))


def _rows(
    import_id: int, grants: Iterable[dict[str, Any]], geography: Geography
) -> Iterable[tuple[Any, ...]]:
    """Rows of imported_grant for a package's grants."""
    for grant in grants:
        placement = place_grant(grant, geography)
        recipient = (grant.get("recipientOrganization") or [{}])[0]
        funder = grant["fundingOrganization"][0]
        programme = (grant.get("grantProgramme") or [{}])[0]
        modified = grant.get("dateModified")
        yield (
            import_id,
            grant["id"],
            grant["title"],
            grant["description"],
            grant["currency"],
            _money(grant["amountAwarded"]),
            _money(grant.get("amountAppliedFor")),
            _money(grant.get("amountDisbursed")),
            _date(grant["awardDate"]),
            recipient.get("id"),
            recipient.get("name"),
            normalise_postcode(recipient.get("postalCode")),
            funder["id"],
            funder["name"],
            programme.get("title"),
            Jsonb(grant.get("beneficiaryLocation") or []),
            datetime.fromisoformat(modified.replace("Z", "+00:00")) if modified else None,
            Jsonb(grant),
            placement.level,
            placement.code,
            placement.vintage,
            placement.placed_by,
            placement.note,
        )


IMPORTED_GRANT_COLUMNS = (
    "import_id, grant_id, title, description, currency, amount_awarded, amount_applied_for,"
    " amount_disbursed, award_date, recipient_org_id, recipient_org_name, recipient_postcode,"
    " funding_org_id, funding_org_name, programme_title, beneficiary_locations, date_modified,"
    " grant_object, placed_level, placed_code, placed_vintage, placed_by, placement_note"
)


def import_grants(
    conn: psycopg.Connection, path: Path, source_name: str | None = None
) -> GrantImportReport:
    """Validate, place and store one 360Giving file's grants in one transaction.

    Parameters
    ----------
    conn
        A connection to the Platoons database (not in a transaction).
    path
        A CSV summary table, or a JSON package (optionally gzipped).
    source_name
        The name the import is kept under (the file name by default).

    Returns
    -------
    GrantImportReport
        Its status (``imported``, ``replaced`` or ``unchanged``), grants and placements.

    Raises
    ------
    LoadError
        If the file cannot be read or fails the schema (every failure by grant and field).
    """
    source_name = source_name or path.name
    sha256 = hashlib.sha256(path.read_bytes()).hexdigest()
    package, file_format, ignored = read_package(path)
    problems = package_problems(package)
    if problems:
        offset = 2 if file_format == "csv" else None
        shown = "\n".join(p.describe(offset) for p in problems[:PROBLEMS_SHOWN])
        more = len(problems) - PROBLEMS_SHOWN
        raise LoadError(
            f"{path}: {len(problems)} failure(s) against the 360Giving schema; nothing was "
            f"imported:\n{shown}" + (f"\n... and {more} more" if more > 0 else "")
        )
    grants = package["grants"]
    ids = [g["id"] for g in grants]
    if len(set(ids)) != len(ids):
        repeated = sorted({i for i in ids if ids.count(i) > 1})[:10]
        raise LoadError(f"{path}: grant identifiers repeat: {', '.join(repeated)}")
    with conn.transaction(), conn.cursor() as cur:
        cur.execute("SELECT pg_advisory_xact_lock(hashtext('grant_import:' || %s))", (source_name,))
        existing = cur.execute(
            "SELECT id, sha256 FROM grant_import WHERE source_name = %s", (source_name,)
        ).fetchone()
        placements: dict[str, int]
        if existing is not None and existing[1] == sha256:
            placements = dict(
                cur.execute(
                    "SELECT placed_by, count(*) FROM imported_grant WHERE import_id = %s"
                    " GROUP BY placed_by",
                    (existing[0],),
                ).fetchall()
            )
            return GrantImportReport(
                path, source_name, file_format, "unchanged", len(grants), placements, ignored
            )
        status = "imported"
        if existing is not None:
            cur.execute("DELETE FROM grant_import WHERE id = %s", (existing[0],))
            status = "replaced"
        publisher = package.get("publisher") or {}
        (import_id,) = cur.execute(
            "INSERT INTO grant_import (source_name, file_format, sha256, grant_count,"
            " publisher_name, licence) VALUES (%s, %s, %s, %s, %s, %s) RETURNING id",
            (
                source_name,
                file_format,
                sha256,
                len(grants),
                publisher.get("name"),
                package.get("license"),
            ),
        ).fetchone() or (None,)
        geography = Geography.read(conn)
        with cur.copy(f"COPY imported_grant ({IMPORTED_GRANT_COLUMNS}) FROM STDIN") as copy:
            for row in _rows(import_id, grants, geography):
                copy.write_row(row)
        placements = dict(
            cur.execute(
                "SELECT placed_by, count(*) FROM imported_grant WHERE import_id = %s"
                " GROUP BY placed_by",
                (import_id,),
            ).fetchall()
        )
    return GrantImportReport(
        path, source_name, file_format, status, len(grants), placements, ignored
    )
