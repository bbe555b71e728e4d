"""Open grant data: approved and paid grants in the 360Giving Data Standard (JSON and CSV).

Each grant carries the standard's ten required fields (identifier, title, description,
currency, amount awarded, award date, recipient and funding organisation identifiers and
names), the beneficiary location as a GSS code with its ``geoCodeType`` from the 360Giving
codelist, and the grant programme. Only public fields leave the database: pledges, evidence
references, keys, decision notes and who decided are never read here.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime
from decimal import Decimal
from typing import Any

from psycopg import AsyncConnection
from psycopg.rows import dict_row

from geo.sqlfiles import read_sql

# 360Giving grant identifiers are "360G-" + the publisher's prefix + an id from its records
# (360Giving identifier guidance); Platoons' records are application ids.
GRANT_ID_PREFIX = "360G-platoons"

# The 360Giving geoCodeType codelist (codelists/geoCodeType.csv, vendored in data/schemas/)
# by the entity part of an English GSS code.
GEO_CODE_TYPES = {
    "E00": "OA",
    "E01": "LSOA",
    "E02": "MSOA",
    "E05": "WD",
    "E06": "UA",
    "E07": "NMD",
    "E08": "MD",
    "E09": "LONB",
    "E10": "CTY",
    "E12": "RGN/GOR",
    "E14": "WPC",
}

# The 360Giving spreadsheet column titles for the fields exported, in the standard's order.
CSV_COLUMNS = (
    "Identifier",
    "Title",
    "Description",
    "Currency",
    "Amount Applied For",
    "Amount Awarded",
    "Amount Disbursed",
    "Award Date",
    "Recipient Org:Identifier",
    "Recipient Org:Name",
    "Beneficiary Location:Name",
    "Beneficiary Location:Country Code",
    "Beneficiary Location:Geographic Code",
    "Beneficiary Location:Geographic Code Type",
    "Funding Org:Identifier",
    "Funding Org:Name",
    "Grant Programme:Code",
    "Grant Programme:Title",
    "Last modified",
)


def geo_code_type(code: str) -> str | None:
    """The 360Giving ``geoCodeType`` of a GSS code (``E01…`` is ``LSOA``), if it has one."""
    return GEO_CODE_TYPES.get(code[:3].upper())


def grant_identifier(application_id: int) -> str:
    """The 360Giving identifier of the grant an application became."""
    return f"{GRANT_ID_PREFIX}-{application_id}"


async def grants(conn: AsyncConnection, programme: str | None = None) -> list[dict[str, Any]]:
    """Approved and paid grants (of one programme, or all) as 360Giving grant objects.

    Parameters
    ----------
    conn
        An open connection to the Platoons database.
    programme
        A programme id to export alone; every programme when ``None``.

    Returns
    -------
    list of dict
        One object per grant, valid against the 360Giving grant schema.
    """
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(read_sql("geo", "applications/360giving.sql"), {"programme": programme})
        rows = await cur.fetchall()
    return [_grant(row) for row in rows]


async def package(conn: AsyncConnection, programme: str | None = None) -> dict[str, Any]:
    """A 360Giving data package: ``{"grants": [...]}``."""
    return {"grants": await grants(conn, programme)}


async def csv_text(conn: AsyncConnection, programme: str | None = None) -> str:
    """The grants as a 360Giving flat CSV (one row a grant, the standard's column titles)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for grant in await grants(conn, programme):
        location = (grant.get("beneficiaryLocation") or [{}])[0]
        writer.writerow(
            [
                grant["id"],
                grant["title"],
                grant["description"],
                grant["currency"],
                grant["amountAppliedFor"],
                grant["amountAwarded"],
                grant.get("amountDisbursed", ""),
                grant["awardDate"],
                grant["recipientOrganization"][0]["id"],
                grant["recipientOrganization"][0]["name"],
                location.get("name") or "",
                location.get("countryCode") or "",
                location.get("geoCode") or "",
                location.get("geoCodeType") or "",
                grant["fundingOrganization"][0]["id"],
                grant["fundingOrganization"][0]["name"],
                grant["grantProgramme"][0]["code"],
                grant["grantProgramme"][0]["title"],
                grant["dateModified"],
            ]
        )
    return out.getvalue()


def _amount(value: Decimal) -> int | float:
    """Money as a JSON number (whole pounds as integers, pence kept)."""
    return int(value) if value == value.to_integral_value() else float(value)


def _grant(row: dict[str, Any]) -> dict[str, Any]:
    """One grant row as a 360Giving grant object."""
    decided_at: datetime = row["decided_at"]
    grant: dict[str, Any] = {
        "id": grant_identifier(row["id"]),
        "title": row["title"],
        # The standard requires a description; a grant without one repeats its title.
        "description": row["description"] or row["title"],
        "currency": row["currency"],
        "amountAppliedFor": _amount(row["amount"]),
        "amountAwarded": _amount(row["amount"]),
        "awardDate": decided_at.date().isoformat(),
        "recipientOrganization": [{"id": row["applicant_org_id"], "name": row["applicant_name"]}],
        "fundingOrganization": [{"id": row["funder_id"], "name": row["funder_name"]}],
        "grantProgramme": [{"code": row["programme_id"], "title": row["programme_name"]}],
        "dateModified": row["updated_at"].isoformat(),
    }
    if row["status"] == "paid":
        grant["amountDisbursed"] = _amount(row["amount"])
    beneficiary = row["beneficiary"] or {}
    code = beneficiary.get("code")
    if code:
        location: dict[str, Any] = {
            "geoCode": code,
            "geoCodeType": geo_code_type(code),
            "countryCode": "GB",
        }
        if beneficiary.get("name"):
            location["name"] = beneficiary["name"]
        grant["beneficiaryLocation"] = [location]
    return grant
