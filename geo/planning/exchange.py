"""Neighbourhood areas, forums and plans in and out of the national planning data formats.

The planning data platform's specification (digital-land/specification) has a
``neighbourhood-forum`` dataset (organisation typology: reference, name, organisation,
website, entry-date, start-date, end-date, with a ``neighbourhood-forum`` field) and a
``neighbourhood-plan-area`` field of the geography typology; it has no neighbourhood plan
dataset. Platoons follows the specification where it exists and its conventions where it
does not (kebab-case field names; ``reference``, ``name``, ``geometry`` as WKT in EPSG:4326,
``organisation``, ``entry-date``, ``start-date``, ``end-date``; dates ISO 8601):

* ``neighbourhood-plan-area``: one row per area application; ``start-date`` is the
  designation date, statutory dates are recomputed on import, never trusted.
* ``neighbourhood-forum``: the specification's fields plus the forum's area and status, and
  its membership as a count with the date it was confirmed (no member names).
* ``neighbourhood-plan``: a plan's stage and the date it entered each stage, its area and
  its documents' links.

``organisation`` is written as the GSS code of the district holding most of the area
(Platoons holds no planning-authority organisation codes; a simplification). Import reads
``neighbourhood-plan-area`` rows (CSV with WKT ``geometry`` or GeoJSON) and replays them
through the statutory rules, so a row whose dates break them is reported, not imported.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any, Literal

import shapely.geometry
import shapely.wkt
from psycopg import AsyncConnection

from geo.access import Principal
from geo.errors import InvalidInput, PlatoonsError
from geo.planning import areas, forums, reads, rules
from geo.planning.models import AreaInput, ForumInput, StepInput
from geo.planning.steps import area_id_of

Dataset = Literal["neighbourhood-plan-area", "neighbourhood-forum", "neighbourhood-plan"]
FIELDS: dict[str, tuple[str, ...]] = {
    "neighbourhood-plan-area": (
        "reference",
        "name",
        "geometry",
        "organisation",
        "local-planning-authorities",
        "applicant-type",
        "applicant",
        "neighbourhood-group",
        "area-kind",
        "status",
        "application-date",
        "publicity-date",
        "decision-date",
        "neighbourhood-forum",
        "neighbourhood-plan",
        "stage",
        "website",
        "notes",
        "entry-date",
        "start-date",
        "end-date",
    ),
    "neighbourhood-forum": (
        "reference",
        "name",
        "neighbourhood-forum",
        "neighbourhood-plan-area",
        "organisation",
        "status",
        "members",
        "members-confirmed-date",
        "open-membership",
        "written-constitution",
        "neighbourhood-group",
        "application-date",
        "publicity-date",
        "website",
        "entry-date",
        "start-date",
        "end-date",
    ),
    "neighbourhood-plan": (
        "reference",
        "name",
        "neighbourhood-plan-area",
        "organisation",
        "status",
        "pre-submission-consultation-date",
        "submission-date",
        "publicity-date",
        "examination-date",
        "examiner-report-date",
        "referendum-date",
        "made-date",
        "document-urls",
        "entry-date",
        "start-date",
        "end-date",
    ),
}


@dataclass
class ImportReport:
    """What an import did: references imported, and each row skipped with its reason."""

    source: str
    imported: list[str] = field(default_factory=list)
    skipped: list[tuple[int, str, str]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """The report as plain JSON."""
        return asdict(self)


def _iso(value: date | None) -> str:
    """An ISO date, or empty."""
    return "" if value is None else value.isoformat()


async def export_records(
    conn: AsyncConnection, dataset: Dataset, on: date, lad: str | None = None
) -> list[dict[str, Any]]:
    """Every area (of a district, if given), or its forums or plans, in ``dataset``'s fields.

    Area records carry a ``_geometry`` (GeoJSON) for the GeoJSON export; CSV drops it.
    """
    areas = await reads.list_areas(conn, on, lad=lad, limit=100_000)
    records: list[dict[str, Any]] = []
    for a in areas:
        if dataset == "neighbourhood-plan-area":
            forum = a.forums[-1] if a.forums else None
            plan = a.plans[-1] if a.plans else None
            records.append(
                {
                    "reference": a.reference,
                    "name": a.name,
                    "geometry": shapely.geometry.shape(a.geometry).wkt,
                    "organisation": a.principal_lad_code,
                    "local-planning-authorities": ";".join(a.lad_codes),
                    "applicant-type": a.applicant_type,
                    "applicant": a.applicant_name,
                    "neighbourhood-group": a.group_reference or "",
                    "area-kind": a.kind,
                    "status": a.status,
                    "application-date": _iso(a.applied_on),
                    "publicity-date": _iso(a.publicised_on),
                    "decision-date": _iso(a.decided_on),
                    "neighbourhood-forum": "" if forum is None else forum.reference,
                    "neighbourhood-plan": "" if plan is None else plan.reference,
                    "stage": a.stage,
                    "website": a.website or "",
                    "notes": "EXAMPLE data" if a.is_example else "",
                    "entry-date": a.created_at.date().isoformat(),
                    "start-date": _iso(a.decided_on if a.status == "designated" else None),
                    "end-date": "",
                    "_geometry": a.geometry,
                }
            )
        elif dataset == "neighbourhood-forum":
            for f in a.forums:
                records.append(
                    {
                        "reference": f.reference,
                        "name": f.name,
                        "neighbourhood-forum": f.reference,
                        "neighbourhood-plan-area": a.reference,
                        "organisation": a.principal_lad_code,
                        "status": f.status,
                        "members": "" if f.members is None else str(f.members),
                        "members-confirmed-date": _iso(f.members_confirmed_on),
                        "open-membership": "true" if f.open_membership else "false",
                        "written-constitution": "true" if f.written_constitution else "false",
                        "neighbourhood-group": f.group_reference or "",
                        "application-date": _iso(f.applied_on),
                        "publicity-date": _iso(f.publicised_on),
                        "website": f.website or "",
                        "entry-date": _iso(f.applied_on),
                        "start-date": _iso(f.designated_on),
                        "end-date": _iso(f.ended_on or f.expires_on),
                        "_geometry": a.geometry,
                    }
                )
        else:
            for p in a.plans:
                records.append(
                    {
                        "reference": p.reference,
                        "name": p.name,
                        "neighbourhood-plan-area": a.reference,
                        "organisation": a.principal_lad_code,
                        "status": p.status,
                        "pre-submission-consultation-date": _iso(p.consultation_started_on),
                        "submission-date": _iso(p.submitted_on),
                        "publicity-date": _iso(p.publicised_on),
                        "examination-date": _iso(p.examination_started_on),
                        "examiner-report-date": _iso(p.report_received_on),
                        "referendum-date": _iso(p.referendum_on),
                        "made-date": _iso(p.made_on),
                        "document-urls": ";".join(d.url for d in p.documents),
                        "entry-date": _iso(p.consultation_started_on or p.made_on),
                        "start-date": _iso(p.made_on),
                        "end-date": _iso(p.ended_on),
                        "_geometry": a.geometry,
                    }
                )
    return records


def to_csv(dataset: Dataset, records: list[dict[str, Any]]) -> str:
    """Records as CSV text in the dataset's field order."""
    out = io.StringIO()
    writer = csv.DictWriter(
        out, fieldnames=list(FIELDS[dataset]), lineterminator="\r\n", extrasaction="ignore"
    )
    writer.writeheader()
    writer.writerows(records)
    return out.getvalue()


def to_geojson(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Records as an RFC 7946 FeatureCollection (the area's polygon as each geometry)."""
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": r["_geometry"],
                "properties": {k: v for k, v in r.items() if not k.startswith("_")},
            }
            for r in records
        ],
    }


def _header(name: str) -> str:
    """A field name in the specification's form (lower case, hyphens)."""
    return name.strip().lower().replace("_", "-").replace(" ", "-")


def read_rows(text: str, fmt: Literal["csv", "geojson"]) -> list[tuple[int, dict[str, Any]]]:
    """Parse a neighbourhood-plan-area file into (line or feature number, fields) rows."""
    if fmt == "geojson":
        try:
            features = json.loads(text)["features"]
        except (ValueError, KeyError, TypeError) as exc:
            raise InvalidInput("not a GeoJSON FeatureCollection") from exc
        rows = []
        for i, feature in enumerate(features, start=1):
            props = {_header(k): v for k, v in (feature.get("properties") or {}).items()}
            props["_geometry"] = feature.get("geometry")
            rows.append((i, props))
        return rows
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    rows = []
    for i, r in enumerate(reader, start=2):
        values: dict[str, Any] = {_header(k): v for k, v in r.items() if k is not None}
        wkt = (values.get("geometry") or "").strip()
        try:
            values["_geometry"] = shapely.geometry.mapping(shapely.wkt.loads(wkt)) if wkt else None
        except Exception:  # noqa: BLE001 - shapely raises several types for bad WKT
            values["_geometry"] = {"type": "Invalid"}
        rows.append((i, values))
    return rows


def _date(fields: dict[str, Any], name: str) -> date | None:
    """A date field (ISO 8601), or None when empty."""
    text = str(fields.get(name) or "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text[:10])
    except ValueError as exc:
        raise InvalidInput(f"{name} {text!r} is not a date (YYYY-MM-DD)") from exc


async def import_areas(
    conn: AsyncConnection,
    text: str,
    fmt: Literal["csv", "geojson"],
    source: str,
    principal: Principal,
    on: date,
    *,
    is_example: bool = False,
) -> ImportReport:
    """Import ``neighbourhood-plan-area`` rows, replaying their dates through the rules.

    Each row is recorded as applied (and publicised, if it has a publicity-date), then
    designated or refused on its decision-date where its status says so; the statutory
    windows and the overlap rule apply as for the API. Rows run in savepoints of one
    transaction: a bad row is skipped with its reason, never half-written. A reference
    already recorded is skipped, so importing a file twice changes nothing.
    """
    report = ImportReport(source=source)
    async with conn.transaction():
        for line, fields in read_rows(text, fmt):
            name = str(fields.get("name") or "").strip() or f"row {line}"
            try:
                async with conn.transaction():
                    reference = await _import_row(conn, fields, source, principal, on, is_example)
            except PlatoonsError as exc:
                report.skipped.append((line, name, exc.message))
                continue
            report.imported.append(reference)
    return report


async def _import_row(
    conn: AsyncConnection,
    fields: dict[str, Any],
    source: str,
    principal: Principal,
    on: date,
    is_example: bool,
) -> str:
    """Import one area row (in the caller's savepoint); its reference."""
    reference = str(fields.get("reference") or "").strip() or None
    applied = _date(fields, "application-date")
    if applied is None:
        raise InvalidInput("application-date is needed")
    group = str(fields.get("neighbourhood-group") or "").strip() or None
    try:
        data = AreaInput(
            name=str(fields.get("name") or "").strip(),
            geometry=fields.get("_geometry") or {},
            applicant_type=str(fields.get("applicant-type") or "").strip(),  # type: ignore[arg-type]
            applicant_name=str(fields.get("applicant") or "").strip() or None,
            group=group,
            whole_parish=str(fields.get("area-kind") or "") == "whole_parish",
            applied_on=applied,
            publicised_on=_date(fields, "publicity-date"),
            website=str(fields.get("website") or "").strip() or None,
            is_example=is_example,
        )
    except ValueError as exc:
        raise InvalidInput(f"invalid row: {exc}".splitlines()[0]) from exc
    area = await areas.create_area(conn, data, principal, on, reference=reference, source=source)
    status = str(fields.get("status") or "").strip()
    decided = _date(fields, "decision-date") or _date(fields, "start-date")
    if status in ("designated", "refused"):
        if decided is None:
            raise InvalidInput(f"a {status} area needs a decision-date")
        step: rules.AreaStep = "designate" if status == "designated" else "refuse"
        reason = None if step == "designate" else "refused (imported)"
        await areas.take_area_step(
            conn, area.id, step, StepInput(on=decided, reason=reason), principal, on
        )
    return area.reference


def dataset_of(rows: list[tuple[int, dict[str, Any]]]) -> Dataset:
    """Which dataset a file's rows are: forum rows name their area (neighbourhood-plan-area)."""
    first = rows[0][1] if rows else {}
    return (
        "neighbourhood-forum" if "neighbourhood-plan-area" in first else "neighbourhood-plan-area"
    )


def _flag(fields: dict[str, Any], name: str) -> bool:
    """A true/false field (true, yes, 1, y)."""
    return str(fields.get(name) or "").strip().lower() in ("true", "yes", "1", "y")


async def import_forums(
    conn: AsyncConnection,
    text: str,
    fmt: Literal["csv", "geojson"],
    source: str,
    principal: Principal,
    on: date,
    *,
    is_example: bool = False,
) -> ImportReport:
    """Import ``neighbourhood-forum`` rows for areas already recorded, through the rules.

    Each row is an application (and its publicity, if dated), designated on its
    ``start-date`` where its status says so, with the s.61F(5) facts the row states
    (members, members-confirmed-date, open-membership, written-constitution): a row lacking
    them is reported, never designated on a guess. Rows run in savepoints of one transaction.
    """
    report = ImportReport(source=source)
    async with conn.transaction():
        for line, fields in read_rows(text, fmt):
            name = str(fields.get("name") or "").strip() or f"row {line}"
            try:
                async with conn.transaction():
                    reference = await _import_forum(conn, fields, principal, on, is_example)
            except PlatoonsError as exc:
                report.skipped.append((line, name, exc.message))
                continue
            report.imported.append(reference)
    return report


async def _import_forum(
    conn: AsyncConnection,
    fields: dict[str, Any],
    principal: Principal,
    on: date,
    is_example: bool,
) -> str:
    """Import one forum row (in the caller's savepoint); its reference."""
    area_reference = str(fields.get("neighbourhood-plan-area") or "").strip()
    area_id = await area_id_of(conn, area_reference)
    applied = _date(fields, "application-date") or _date(fields, "start-date")
    if applied is None:
        raise InvalidInput("application-date (or start-date) is needed")
    members = str(fields.get("members") or "").strip()
    try:
        data = ForumInput(
            name=str(fields.get("name") or "").strip() or None,
            group=str(fields.get("neighbourhood-group") or "").strip() or None,
            applied_on=applied,
            publicised_on=_date(fields, "publicity-date"),
            members=int(members) if members else None,
            members_confirmed_on=_date(fields, "members-confirmed-date"),
            open_membership=_flag(fields, "open-membership"),
            written_constitution=_flag(fields, "written-constitution"),
            website=str(fields.get("website") or "").strip() or None,
            is_example=is_example,
        )
    except ValueError as exc:
        raise InvalidInput(f"invalid row: {exc}".splitlines()[0]) from exc
    forum = await forums.apply_forum(conn, area_id, data, principal, on)
    status = str(fields.get("status") or "").strip()
    if status in ("designated", "expired"):
        designated = _date(fields, "start-date")
        if designated is None:
            raise InvalidInput("a designated forum needs its start-date")
        await forums.take_forum_step(
            conn, forum.id, "designate", StepInput(on=designated), principal, on
        )
    return forum.reference
