"""Importing and exporting the register: national planning data (CSV, GeoJSON) and council CSVs."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any, Literal

import shapely
import shapely.geometry
import shapely.wkt
from psycopg import AsyncConnection

from geo import audit, national_files, rights
from geo.assets.models import AssetInput
from geo.assets.reads import asset_row, lifecycle_of, select_assets
from geo.assets.writes import ASSET_STEP_LOG, insert_asset, refresh_serving
from geo.errors import DateInFuture, InvalidInput
from geo.national_files import ImportReport
from geo.postcodes import normalise_postcode
from geo.sqlfiles import read_sql

# The fields of the national planning data format for asset-of-community-value, in order.
NATIONAL_FIELDS: tuple[str, ...] = (
    "reference",
    "name",
    "address-text",
    "description",
    "point",
    "geometry",
    "organisation",
    "nomination-date",
    "nominating-group",
    "decision",
    "decision-date",
    "expiry-date",
    "notification-to-sell-date",
    "interested-group",
    "protected-period-start-date",
    "notes",
    "entry-date",
    "start-date",
    "end-date",
)


POSTCODE_IN_TEXT = re.compile(r"\b([A-Z]{1,2}[0-9][A-Z0-9]?)\s*([0-9][A-Z]{2})\b", re.IGNORECASE)


def _parse_date(text: str | None) -> date | None:
    """A date in ISO (2024-03-31), UK (31/03/2024) or long (31 March 2024) form."""
    text = (text or "").strip()
    if not text:
        return None
    for pattern in ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d %B %Y", "%d %b %Y"):
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise InvalidInput(f"{text!r} is not a date (use YYYY-MM-DD)")


COUNCIL_COLUMNS: dict[str, tuple[str, ...]] = {
    "name": ("name", "asset-name", "asset", "property-name"),
    "address": ("address", "address-text", "asset-address"),
    "postcode": ("postcode", "post-code"),
    "group": ("nominating-group", "nominated-by", "nominator", "group"),
    "listed": ("listing-date", "date-listed", "listed-on", "date-of-listing"),
}


@dataclass(frozen=True)
class RegisterRow:
    """One source row reduced to what the register needs."""

    line: int
    fields: dict[str, str]


async def _row_point(
    conn: AsyncConnection, fields: dict[str, str]
) -> tuple[float, float, str | None]:
    """The row's point: its WKT ``point``, else its postcode (or one in its address)."""
    point = fields.get("point", "").strip()
    if point:
        try:
            shape = shapely.wkt.loads(point)
        except Exception as exc:  # noqa: BLE001 - shapely raises several types for bad WKT
            raise InvalidInput(f"point {point!r} is not WKT") from exc
        if not isinstance(shape, shapely.Point):
            raise InvalidInput("point must be a WKT POINT (longitude latitude)")
        return float(shape.x), float(shape.y), _postcode_of(fields)
    postcode = _postcode_of(fields)
    if postcode is None:
        raise InvalidInput("no point and no postcode: the asset cannot be placed")
    cur = await conn.execute(read_sql("geo", "assets/postcode_point.sql"), {"postcode": postcode})
    found = await cur.fetchone()
    if found is None:
        raise InvalidInput(
            f"postcode {postcode} is not in the loaded postcode directory, so the asset cannot "
            "be placed (add a point)"
        )
    return float(found[0]), float(found[1]), postcode


def _postcode_of(fields: dict[str, str]) -> str | None:
    """The row's postcode column, else the last postcode written in its address."""
    if fields.get("postcode", "").strip():
        return normalise_postcode(fields["postcode"])
    matches = POSTCODE_IN_TEXT.findall(fields.get("address-text", "") or "")
    return normalise_postcode("".join(matches[-1])) if matches else None


def _national_lifecycle(
    fields: dict[str, str], on: date, warnings: list[str]
) -> tuple[rights.Lifecycle, str | None]:
    """The lifecycle a national-format row states (dates checked, deadlines recomputed)."""
    dates = {
        k: _parse_date(fields.get(k))
        for k in (
            "nomination-date",
            "decision-date",
            "expiry-date",
            "notification-to-sell-date",
            "protected-period-start-date",
            "start-date",
            "end-date",
        )
    }
    for name, value in dates.items():
        if value is not None and value > on and name != "expiry-date":
            raise DateInFuture(f"{name} {value} is in the future")
    decision = national_files.header(fields.get("decision", ""))
    nominated = dates["nomination-date"]
    decided = dates["decision-date"]
    group = (fields.get("nominating-group") or "").strip() or None
    if decision in ("listed", "approved", "successful", "accepted", "list"):
        listed = decided or dates["start-date"]
        if listed is None:
            raise InvalidInput("a listed asset needs a decision-date or start-date")
        life = rights.Lifecycle(
            status="listed",
            nominated_on=nominated,
            nominating_group=group,
            decided_on=listed,
            listed_on=listed,
            last_step_on=listed,
        )
        stated = dates["expiry-date"]
        computed = rights.period_end(listed, rights.LISTING)
        if stated and stated != computed:
            warnings.append(
                f"expiry-date {stated} differs from the statutory {computed}; "
                "the statutory date is used"
            )
        notice = dates["notification-to-sell-date"]
        if notice:
            start = dates["protected-period-start-date"]
            if start and start != notice:
                warnings.append(
                    f"protected-period-start-date {start} differs from the notice {notice}; "
                    "the protected period begins with the notice (s.95(6))"
                )
            interest = (fields.get("interested-group") or "").strip() or None
            life = rights.Lifecycle(
                **{
                    **asdict(life),
                    "status": "full_moratorium" if interest else "disposal_notified",
                    "notice_received_on": notice,
                    "interest_group": interest,
                    "last_step_on": notice,
                }
            )
    elif decision in ("not-listed", "rejected", "refused", "unsuccessful", "declined"):
        life = rights.Lifecycle(
            status="not_listed",
            nominated_on=nominated,
            nominating_group=group,
            decided_on=decided,
            last_step_on=decided or nominated,
        )
    elif nominated:
        life = rights.Lifecycle(
            status="nominated",
            nominated_on=nominated,
            nominating_group=group,
            last_step_on=nominated,
        )
    else:
        life = rights.Lifecycle()
    if dates["end-date"] and life.status in rights.LISTED_FAMILY:
        life = rights.Lifecycle(
            **{**asdict(life), "status": "removed", "removed_on": dates["end-date"]}
        )
    return life, fields.get("reference", "").strip() or None


def read_rows(text: str, fmt: Literal["csv", "geojson"]) -> tuple[str, list[RegisterRow]]:
    """Parse a register file: return its kind (``national`` or ``council``) and rows."""
    if fmt == "geojson":
        rows = []
        for number, found, geometry in national_files.geojson_features(text):
            props = {k: "" if v is None else str(v) for k, v in found.items()}
            if (geometry or {}).get("type") == "Point" and not props.get("point"):
                props["point"] = shapely.geometry.shape(geometry).wkt
            rows.append(RegisterRow(number, props))
        return "national", rows
    headers, lines = national_files.csv_rows(text)
    rows = [RegisterRow(line, fields) for line, fields in lines]
    if "reference" in headers or "point" in headers or "notification-to-sell-date" in headers:
        return "national", rows
    columns = {
        key: next((h for h in headers if h in names), None)
        for key, names in COUNCIL_COLUMNS.items()
    }
    if columns["name"] is None:
        raise InvalidInput("the CSV has no name column (national or council register format)")
    council = []
    for row in rows:
        f = {key: row.fields.get(col or "", "") for key, col in columns.items()}
        council.append(
            RegisterRow(
                row.line,
                {
                    "name": f["name"],
                    "address-text": f["address"],
                    "postcode": f["postcode"],
                    "nominating-group": f["group"],
                    "decision": "listed" if f["listed"].strip() else "",
                    "decision-date": f["listed"],
                },
            )
        )
    return "council", council


async def import_register(
    conn: AsyncConnection,
    text: str,
    fmt: Literal["csv", "geojson"],
    source: str,
    actor: str,
    on: date,
    *,
    is_example: bool = False,
) -> ImportReport:
    """Import a register file; every row placed and valid is imported, the rest reported.

    Each row is placed by its ``point``, else by postcode (the ``postcode`` column, or one
    written in the address) where the postcode directory covers it. Statutory dates are
    recomputed from the row's event dates; a stated date that differs is a warning. Rows run
    in savepoints of one transaction: a bad row is skipped with its reason, never half-written.
    """
    kind, rows = read_rows(text, fmt)
    report = ImportReport(source=f"{source} ({kind} format)")

    async def import_one(row: RegisterRow, warnings: list[str]) -> str:
        return await _import_row(conn, row, source, actor, on, is_example, warnings)

    named = [(r.line, r.fields.get("name", "").strip() or f"line {r.line}", r) for r in rows]
    await national_files.import_each(conn, named, import_one, report)
    return report


async def _import_row(
    conn: AsyncConnection,
    row: RegisterRow,
    source: str,
    actor: str,
    on: date,
    is_example: bool,
    warnings: list[str],
) -> str:
    """Import one row (in the caller's savepoint); return its reference."""
    fields = row.fields
    lon, lat, postcode = await _row_point(conn, fields)
    life, reference = _national_lifecycle(fields, on, warnings)
    category = fields.get("category", "").strip() or "other"
    owner_type = fields.get("owner-type", "").strip() or "other"
    try:
        data = AssetInput(
            name=fields.get("name", "").strip(),
            category=category,  # type: ignore[arg-type]
            owner_type=owner_type,  # type: ignore[arg-type]
            lon=lon,
            lat=lat,
            address=(fields.get("address-text") or "").strip() or None,
            postcode=postcode,
            description=(fields.get("description") or "").strip(),
            organisation=(fields.get("organisation") or "").strip() or None,
            notes=(fields.get("notes") or "").strip() or None,
            is_example=is_example,
        )
    except ValueError as exc:
        raise InvalidInput(f"invalid row: {exc}".splitlines()[0]) from exc
    asset_id, _ = await insert_asset(conn, data, actor, reference=reference, source=source)
    await conn.execute(
        read_sql("geo", "assets/update_lifecycle.sql"),
        {
            **asdict(life),
            "id": asset_id,
            "version": 1,
            "nominating_body_type": None,
            "decline_reason": None,
            "exemption": None,
            "removal_reason": "end-date in the source register" if life.removed_on else None,
        },
    )
    after = await asset_row(conn, asset_id)
    await audit.record_step(
        conn,
        ASSET_STEP_LOG,
        asset_id,
        "import",
        None,
        after,
        life.last_step_on or on,
        on,
        actor,
        {"source": source, "line": row.line, "warnings": warnings},
    )
    await refresh_serving(conn, asset_id, on)
    return str(after["reference"])


def _national_record(row: dict[str, Any]) -> dict[str, str]:
    """One asset in the national planning data fields (dates ISO, statutory ones computed)."""
    life = lifecycle_of(row)
    listed = life.listed_on
    decision = ""
    if row["status"] in rights.LISTED_FAMILY or (row["status"] == "removed" and listed):
        decision = "listed"
    elif row["status"] == "not_listed":
        decision = "not-listed"

    def iso(value: date | None) -> str:
        return "" if value is None else value.isoformat()

    return {
        "reference": row["reference"],
        "name": row["name"],
        "address-text": ", ".join(p for p in (row["address"], row["postcode"]) if p),
        "description": row["description"] or "",
        "point": f"POINT({row['lon']:.6f} {row['lat']:.6f})",
        "geometry": row["site_wkt"] or "",
        "organisation": row["organisation"] or "",
        "nomination-date": iso(life.nominated_on),
        "nominating-group": life.nominating_group or "",
        "decision": decision,
        "decision-date": iso(life.decided_on),
        "expiry-date": iso(None if listed is None else rights.period_end(listed, rights.LISTING)),
        "notification-to-sell-date": iso(life.notice_received_on),
        "interested-group": life.interest_group or "",
        "protected-period-start-date": iso(life.notice_received_on),
        "notes": row["notes"] or "",
        "entry-date": row["created_at"].date().isoformat(),
        "start-date": iso(listed),
        "end-date": iso(life.removed_on),
    }


async def export_register(conn: AsyncConnection, lad: str | None = None) -> list[dict[str, str]]:
    """Every asset (of one district, if given) in the national planning data fields."""
    return [_national_record(r) for r in await select_assets(conn, lad=lad, limit=1_000_000)]


def to_csv(records: Iterable[dict[str, str]]) -> str:
    """National-format records as CSV text (the specification's field order)."""
    return national_files.to_csv(NATIONAL_FIELDS, records)


def to_geojson(records: Iterable[dict[str, str]]) -> dict[str, Any]:
    """National-format records as an RFC 7946 FeatureCollection of points."""
    features = []
    for record in records:
        point = shapely.wkt.loads(record["point"])
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [point.x, point.y]},
                "properties": dict(record),
            }
        )
    return {"type": "FeatureCollection", "features": features}
