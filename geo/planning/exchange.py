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

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal
from urllib.parse import urlsplit

import shapely.geometry
import shapely.wkt
from psycopg import AsyncConnection

from geo.access import Principal
from geo.errors import InvalidInput
from geo.national_files import ImportReport, csv_rows, geojson_features, import_each
from geo.national_files import to_csv as csv_text
from geo.planning import areas, forums, plans, reads, rules
from geo.planning.models import AreaInput, Document, ForumInput, PlanInput, StepInput
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
        "notes",
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
        "referendum-ordered-date",
        "referendum-date",
        "made-date",
        "document-urls",
        "notes",
        "entry-date",
        "start-date",
        "end-date",
    ),
}


@dataclass(frozen=True)
class ImportContext:
    """An import's connection, where its file came from, who imports it and as of when, and
    whether its rows are example data."""

    conn: AsyncConnection
    source: str
    principal: Principal
    on: date
    is_example: bool = False


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
                        "notes": "EXAMPLE data" if f.is_example else "",
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
                        "referendum-ordered-date": _iso(p.referendum_ordered_on),
                        "referendum-date": _iso(p.referendum_on),
                        "made-date": _iso(p.made_on),
                        "document-urls": ";".join(d.url for d in p.documents),
                        "notes": "EXAMPLE data" if p.is_example else "",
                        "entry-date": _iso(p.consultation_started_on or p.made_on),
                        "start-date": _iso(p.made_on),
                        "end-date": _iso(p.ended_on),
                        "_geometry": a.geometry,
                    }
                )
    return records


def to_csv(dataset: Dataset, records: list[dict[str, Any]]) -> str:
    """Records as CSV text in the dataset's field order."""
    return csv_text(FIELDS[dataset], records)


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


def read_rows(text: str, fmt: Literal["csv", "geojson"]) -> list[tuple[int, dict[str, Any]]]:
    """Parse a national-format file into (line or feature number, fields) rows.

    The geometry is in ``_geometry`` as GeoJSON: a feature's own, or a CSV row's WKT
    ``geometry`` read (``{"type": "Invalid"}`` where it is not WKT).
    """
    if fmt == "geojson":
        return [(n, {**props, "_geometry": g}) for n, props, g in geojson_features(text)]
    rows: list[tuple[int, dict[str, Any]]] = []
    for line, values in csv_rows(text)[1]:
        wkt = values.get("geometry", "").strip()
        try:
            geometry = shapely.geometry.mapping(shapely.wkt.loads(wkt)) if wkt else None
        except Exception:  # noqa: BLE001 - shapely raises several types for bad WKT
            geometry = {"type": "Invalid"}
        rows.append((line, {**values, "_geometry": geometry}))
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


async def _import_area(ctx: ImportContext, fields: dict[str, Any]) -> str:
    """Import one area row (in the caller's savepoint); its reference.

    The row is recorded as applied (and publicised, if it has a publicity-date), then
    designated or refused on its decision-date where its status says so; the statutory
    windows and the overlap rule apply as for the API.
    """
    conn, principal, on = ctx.conn, ctx.principal, ctx.on
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
            is_example=ctx.is_example,
        )
    except ValueError as exc:
        raise InvalidInput(f"invalid row: {exc}".splitlines()[0]) from exc
    area = await areas.create_area(
        conn, data, principal, on, reference=reference, source=ctx.source
    )
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


# Fields only a neighbourhood-plan row has (a forum row has members; both name their area).
PLAN_ONLY_FIELDS = frozenset(FIELDS["neighbourhood-plan"]) - frozenset(
    FIELDS["neighbourhood-forum"]
)


def dataset_of(rows: list[tuple[int, dict[str, Any]]]) -> Dataset:
    """Which dataset a file's rows are: forum and plan rows name their area
    (``neighbourhood-plan-area``); plan rows have a plan's stage dates or documents."""
    first = rows[0][1] if rows else {}
    if "neighbourhood-plan-area" not in first:
        return "neighbourhood-plan-area"
    return "neighbourhood-plan" if PLAN_ONLY_FIELDS & set(first) else "neighbourhood-forum"


def _flag(fields: dict[str, Any], name: str) -> bool:
    """A true/false field (true, yes, 1, y)."""
    return str(fields.get(name) or "").strip().lower() in ("true", "yes", "1", "y")


async def _import_forum(ctx: ImportContext, fields: dict[str, Any]) -> str:
    """Import one forum row for an area already recorded (in the caller's savepoint).

    The row is an application (and its publicity, if dated), designated on its
    ``start-date`` where its status says so, with the s.61F(5) facts the row states
    (members, members-confirmed-date, open-membership, written-constitution): a row lacking
    them is reported, never designated on a guess. Returns the forum's reference.
    """
    conn, principal, on = ctx.conn, ctx.principal, ctx.on
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
            is_example=ctx.is_example,
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


# A plan's stages in order: the step and the field holding the date it was taken.
PLAN_STAGE_DATES: tuple[tuple[rules.PlanStep, str], ...] = (
    ("start_consultation", "pre-submission-consultation-date"),
    ("submit", "submission-date"),
    ("publicise", "publicity-date"),
    ("examine", "examination-date"),
    ("receive_report", "examiner-report-date"),
    ("order_referendum", "referendum-ordered-date"),
    ("hold_referendum", "referendum-date"),
    ("make", "made-date"),
)
# How a plan that ended got there, when it was not a referendum lost: the step and reason.
PLAN_ENDINGS: dict[str, tuple[rules.PlanStep, str]] = {
    "failed": ("refuse", "refused (imported)"),
    "withdrawn": ("withdraw", "withdrawn (imported)"),
}


def _documents(fields: dict[str, Any]) -> list[Document]:
    """The row's ``document-urls`` (separated by ``;``), each titled by its file name."""
    found = []
    for url in (u.strip() for u in str(fields.get("document-urls") or "").split(";")):
        if url:
            segments = [part for part in urlsplit(url).path.split("/") if part]
            title = segments[-1] if segments and len(segments[-1]) >= 2 else url
            found.append(Document(title=title[:300], url=url))
    return found


async def _import_plan(ctx: ImportContext, fields: dict[str, Any]) -> str:
    """Import one plan row for an area already recorded (in the caller's savepoint).

    The plan is started (its ``reference`` kept) for its area, which must have a qualifying
    body (a parish council's area, or a designated forum: import the forums first), and the
    stages its dates give are taken in order on those dates; a referendum date with the
    status ``failed`` is a referendum lost, a ``failed`` plan without one was refused on its
    ``end-date``, a ``withdrawn`` one withdrawn then. The status the dates lead to must be the
    row's. Returns the plan's reference.
    """
    conn, principal, on = ctx.conn, ctx.principal, ctx.on
    area_id = await area_id_of(conn, str(fields.get("neighbourhood-plan-area") or "").strip())
    status = str(fields.get("status") or "").strip()
    if status not in rules.PLAN_STATUSES:
        raise InvalidInput(f"status {status!r} is not a plan's: one of {rules.PLAN_STATUSES}")
    dated = [(step, _date(fields, name)) for step, name in PLAN_STAGE_DATES]
    taken = [(step, day) for step, day in dated if day is not None]
    drafted = _date(fields, "entry-date") or (taken[0][1] if taken else None)
    try:
        data = PlanInput(
            name=str(fields.get("name") or "").strip(),
            drafted_on=drafted,
            documents=_documents(fields),
            is_example=ctx.is_example,
        )
    except ValueError as exc:
        raise InvalidInput(f"invalid row: {exc}".splitlines()[0]) from exc
    reference = str(fields.get("reference") or "").strip() or None
    plan = await plans.create_plan(conn, area_id, data, principal, on, reference=reference)
    for step, day in taken:
        passed = status != "failed" if step == "hold_referendum" else None
        request = StepInput(on=day, referendum_passed=passed)
        plan = await plans.take_plan_step(conn, plan.id, step, request, principal, on)
    if status in PLAN_ENDINGS and plan.status != status:
        step, reason = PLAN_ENDINGS[status]
        ended = _date(fields, "end-date")
        if ended is None:
            raise InvalidInput(f"a {status} plan needs its end-date")
        request = StepInput(on=ended, reason=reason)
        plan = await plans.take_plan_step(conn, plan.id, step, request, principal, on)
    if plan.status != status:
        raise InvalidInput(f"the row's dates lead to {plan.status!r}, not its status {status!r}")
    return plan.reference


ROW_IMPORTS: dict[Dataset, Callable[[ImportContext, dict[str, Any]], Awaitable[str]]] = {
    "neighbourhood-plan-area": _import_area,
    "neighbourhood-forum": _import_forum,
    "neighbourhood-plan": _import_plan,
}


async def import_rows(
    ctx: ImportContext, dataset: Dataset, text: str, fmt: Literal["csv", "geojson"]
) -> ImportReport:
    """Import a file of ``dataset``'s rows, replaying each through the statutory rules.

    Areas first, then their forums, then plans (which need their area's qualifying body).
    Rows run in savepoints of one transaction: a bad row is skipped with its reason, never
    half-written. A row already recorded is skipped (its reference, or the area's one live
    forum or plan), so importing a file twice changes nothing.
    """
    import_row = ROW_IMPORTS[dataset]

    async def import_one(fields: dict[str, Any], _: list[str]) -> str:
        return await import_row(ctx, fields)

    report = ImportReport(source=ctx.source)
    named = [
        (line, str(fields.get("name") or "").strip() or f"row {line}", fields)
        for line, fields in read_rows(text, fmt)
    ]
    await import_each(ctx.conn, named, import_one, report)
    return report
