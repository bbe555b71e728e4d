"""The neighbourhood share of the levy in the database: receipts, dwelling counts, the year.

The rules (CIL Regulations 2010 regs 59A-59F) are :mod:`geo.planning.levy`'s; this module
records an officer's inputs (each audited, in one transaction holding the area's lock) and
feeds them to :func:`geo.planning.levy.compute_year`.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import date
from decimal import Decimal
from typing import Any

from psycopg import AsyncConnection

from geo.access import Principal
from geo.crs import ENGLAND_BOUNDS
from geo.errors import InvalidInput, UnprocessableGeometry
from geo.geojson_input import parse_geometry
from geo.planning import levy, steps
from geo.planning.models import DwellingsInput, ReceiptInput


def _site_json(site: dict[str, Any] | None) -> str | None:
    """A receipt's site as GeoJSON text, checked to be a point or polygon inside England."""
    if site is None:
        return None
    shape = parse_geometry(
        site,
        ("Point", "Polygon", "MultiPolygon"),
        UnprocessableGeometry,
        "site",
        ("site must be a GeoJSON Point, Polygon or MultiPolygon", "malformed site"),
    )
    if shape.is_empty or not shape.is_valid:
        raise UnprocessableGeometry("the site is empty or invalid", parameter="site")
    west, south, east, north = ENGLAND_BOUNDS
    minx, miny, maxx, maxy = shape.bounds
    if minx < west or maxx > east or miny < south or maxy > north:
        raise UnprocessableGeometry(
            "the site lies outside England: give longitude then latitude", parameter="site"
        )
    return json.dumps(site)


async def record_receipt(
    conn: AsyncConnection, area_id: int, data: ReceiptInput, principal: Principal, on: date
) -> int:
    """Record a levy receipt for an area (officers of its districts), audited; its id."""
    principal.require("officer")
    steps.check_dates(("received_on", data.received_on), on=on)
    site = _site_json(data.site)
    async with conn.transaction():
        await steps.lock_area_for_officer(conn, area_id, principal)
        params = data.model_dump(exclude={"site"})
        (receipt_id,) = await steps.insert(
            conn,
            "receipt_insert",
            {**params, "area_id": area_id, "site": site, "actor": principal.actor},
        )
        event = steps.Event("levy", receipt_id, area_id, "receipt", None, None, data.received_on)
        details = {"amount": str(data.amount), "plan_in_effect": data.plan_in_effect}
        await steps.record(conn, event, on, principal.actor, details)
    return int(receipt_id)


async def record_dwellings(
    conn: AsyncConnection, area_id: int, data: DwellingsInput, principal: Principal, on: date
) -> None:
    """Record the council-tax dwellings (and index figures) of a financial year, audited."""
    principal.require("officer")
    if (data.index_year is None) != (data.index_base is None):
        raise InvalidInput("give both index figures or neither", parameter="index_base")
    if data.index_year is not None and not (data.index_source or "").strip():
        raise InvalidInput("say where the index figures come from", parameter="index_source")
    async with conn.transaction():
        await steps.lock_area_for_officer(conn, area_id, principal)
        await conn.execute(
            steps.sql("dwellings_upsert"),
            {**data.model_dump(), "area_id": area_id, "actor": principal.actor},
        )
        details = {
            "financial_year": data.financial_year,
            "dwellings": data.dwellings,
            "source": data.dwellings_source,
        }
        event = steps.Event("levy", area_id, area_id, "dwellings", None, None, on)
        await steps.record(conn, event, on, principal.actor, details)


async def levy_year(conn: AsyncConnection, area_id: int, year: int) -> dict[str, Any]:
    """The neighbourhood portion of an area's receipts in financial year ``year`` (reg 59A-F).

    The recipient is the parish council where one applied for the area (it is the qualifying
    body), else the charging authority (reg 59F).
    """
    area = await steps.area_row(conn, area_id)
    counts = await steps.rows(conn, "dwellings", {"area_id": area_id, "financial_year": year})
    count = counts[0] if counts else {}
    inputs = levy.CapInputs(
        **{name: count.get(name) for name in levy.CapInputs.__dataclass_fields__}
    )
    receipts = [
        levy.Receipt(
            **{name: r[name] for name in levy.Receipt.__dataclass_fields__ if name != "amount"},
            amount=Decimal(r["amount"]),
        )
        for r in await steps.rows(conn, "receipts", {"area_id": area_id})
    ]
    recipient: levy.Recipient = (
        "parish_council" if area["applicant_type"] == "parish_council" else "charging_authority"
    )
    result = levy.compute_year(year, receipts, recipient, inputs)
    return {
        "area_id": area_id,
        "reference": area["reference"],
        "name": area["name"],
        "dwellings": inputs.dwellings,
        "dwellings_source": inputs.dwellings_source,
        **asdict(result),
    }
