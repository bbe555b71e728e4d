"""Neighbourhood area applications in the database: record one, take its steps (s.61G).

Designations take one advisory lock (``designation_lock.sql``) besides the area's row lock, so
the overlap check of s.61G(7) and the designation it allows cannot interleave with another.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import psycopg.errors
from psycopg import AsyncConnection

from geo.access import Principal
from geo.drawn_areas import measure_area
from geo.errors import (
    AreaOutOfRange,
    AreaOutsideEngland,
    AreasOverlap,
    Forbidden,
    InvalidArea,
    InvalidInput,
    UnprocessableGeometry,
)
from geo.planning import rules, steps
from geo.planning.models import Area, AreaInput, StepInput
from geo.planning.reads import get_area
from geo.planning.serving import refresh_serving

# Neighbourhood areas range from a few streets to large rural parishes.
MIN_AREA_KM2 = 0.005
MAX_AREA_KM2 = 1500.0
# Slivers left where two drawn boundaries meet are not overlaps (s.61G(7) is about area).
OVERLAP_TOLERANCE_M2 = 1.0
# The application's fields stored as given.
AREA_COLUMNS = {"name", "applicant_type", "whole_parish", "applied_on", "website", "is_example"}


async def _measure(conn: AsyncConnection, geometry: dict[str, Any]) -> Any:
    """Validate and measure a drawn area; a 422 UnprocessableGeometry naming the problem."""
    try:
        return await measure_area(
            conn,
            geometry=geometry,
            lsoa_codes=None,
            max_km2=MAX_AREA_KM2,
            min_km2=MIN_AREA_KM2,
            parameter="geometry",
        )
    except (InvalidArea, AreaOutsideEngland, AreaOutOfRange) as exc:
        raise UnprocessableGeometry(exc.message, parameter="geometry") from exc


def _check_applicant(data: AreaInput, principal: Principal) -> None:
    """Raise unless the applicant is named the way its type needs (and the caller may apply)."""
    if data.applicant_type == "neighbourhood_group":
        if not data.group:
            raise InvalidInput(
                "a neighbourhood group applies by its NG- reference", parameter="group"
            )
    elif data.group:
        raise InvalidInput(
            "group is given only for applicant_type neighbourhood_group", parameter="group"
        )
    elif principal.role == "group_manager":
        raise Forbidden("a group manager applies only for its own registered group")
    elif not (data.applicant_name or "").strip():
        raise InvalidInput("name the applicant (applicant_name)", parameter="applicant_name")


async def create_area(
    conn: AsyncConnection,
    data: AreaInput,
    principal: Principal,
    on: date,
    *,
    reference: str | None = None,
    source: str = "api",
) -> Area:
    """Record an area application (and its publicity, if given), audited, in one transaction.

    Officers record applications touching their districts; a group manager records its own
    registered group's application (``applicant_type`` ``neighbourhood_group``).

    Raises
    ------
    UnprocessableGeometry
        If the geometry is invalid, self-overlapping, outside England or out of range.
    UnknownGroup, Forbidden, DateInFuture, InvalidInput
        As named; also a whole-parish application that is publicised (reg 5A(3)).
    """
    principal.require("group_manager", "officer")
    steps.check_dates(("applied_on", data.applied_on), ("publicised_on", data.publicised_on), on=on)
    if data.publicised_on and data.publicised_on < data.applied_on:
        raise InvalidInput("publicised_on is before applied_on", parameter="publicised_on")
    _check_applicant(data, principal)
    async with conn.transaction():
        group_row = await steps.group_of(conn, data.group, principal) if data.group else None
        measured = await _measure(conn, data.geometry)
        if principal.role == "officer":
            steps.require_officer_of(principal, measured.lad_codes)
        kind = rules.area_kind(data.applicant_type, data.whole_parish, len(measured.lad_codes))
        if kind == "whole_parish" and data.publicised_on:
            raise InvalidInput(
                "a parish council's whole-parish application is not publicised for comment "
                "(reg 5A(3)): leave publicised_on out",
                parameter="publicised_on",
            )
        try:
            inserted = await steps.insert(
                conn,
                "area_insert",
                {
                    **data.model_dump(include=AREA_COLUMNS),
                    "reference": reference,
                    "applicant_name": data.applicant_name or (group_row or {}).get("name", ""),
                    "group_id": None if group_row is None else group_row["id"],
                    "kind": kind,
                    "wkb": measured.wkb,
                    "lad_codes": measured.lad_codes,
                    "principal_lad_code": measured.principal_lad_code,
                    "source": source,
                    "actor": principal.actor,
                },
            )
        except psycopg.errors.UniqueViolation as exc:
            raise InvalidInput(f"reference {reference!r} is already recorded") from exc
        area_id = int(inserted[0])
        event = steps.Event("area", area_id, area_id, "apply", None, "applied", data.applied_on)
        details = {"kind": kind, "lad_codes": measured.lad_codes, "source": source}
        publicity = (data.publicised_on, _area_step_locked)
        await steps.record_application(conn, event, principal, on, details, publicity)
        await refresh_serving(conn, area_id, on)
        return await get_area(conn, area_id, on)


async def _refuse_overlap(conn: AsyncConnection, row: dict[str, Any], on: date) -> None:
    """Raise AreasOverlap if the area would overlap a designated one (s.61G(7))."""
    params = {"id": row["id"], "tolerance_m2": OVERLAP_TOLERANCE_M2}
    overlaps = await steps.rows(conn, "area_overlaps", params)
    if overlaps:
        first = overlaps[0]
        raise AreasOverlap(
            f"designated neighbourhood areas may not overlap (1990 Act s.61G(7)): this area "
            f"overlaps {first['reference']} ({first['name']}) by "
            f"{first['overlap_ha']:.2f} ha (EPSG:27700)"
            + (f" and {len(overlaps) - 1} other area(s)" if len(overlaps) > 1 else ""),
            allowed=[
                s
                for s in rules.area_allowed_steps(steps.life_of(rules.AreaLife, row), on)
                if s != "designate"
            ],
        )


async def _area_step_locked(
    conn: AsyncConnection, area_id: int, step: rules.AreaStep, taking: steps.Taking
) -> rules.AreaLife:
    """Apply and store one area step (the caller holds the transaction)."""
    request, on = taking.request, taking.on
    if step == "designate":
        await conn.execute(steps.sql("designation_lock"))
    await conn.execute(steps.sql("area_lock"), {"id": area_id})
    row = await steps.area_row(conn, area_id)
    stored = steps.life_of(rules.AreaLife, row)
    life = rules.apply_area_step(stored, step, steps.step_request(request), on)
    if step == "designate":
        await _refuse_overlap(conn, row, on)
    details = {"late": life.decided_late} if step in ("designate", "refuse") else {}
    event = ("area", step)
    await steps.store_step(conn, row, event, life, taking, ({}, details))
    return life


async def take_area_step(
    conn: AsyncConnection,
    area_id: int,
    step: rules.AreaStep,
    request: StepInput,
    principal: Principal,
    on: date,
) -> Area:
    """Take one step on an area application (officers of its districts), audited.

    Raises
    ------
    IllegalTransition, OutsideStatutoryWindow, AreasOverlap
        409 with the steps that are legal.
    DateInFuture, InvalidInput, Forbidden, NeighbourhoodAreaNotFound
        As named.
    """
    principal.require("officer")
    row = await steps.area_row(conn, area_id)
    steps.require_officer_of(principal, row["lad_codes"])
    async with conn.transaction():
        await _area_step_locked(conn, area_id, step, steps.Taking(request, principal, on))
        await refresh_serving(conn, area_id, on)
    return await get_area(conn, area_id, on)
