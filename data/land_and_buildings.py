"""A council's land-and-buildings file (Transparency Code) into the asset register.

Every English council publishes its land and buildings under the Local Government Transparency
Code 2015 in one national column set (declared in ``land_and_buildings.toml``, not here). Each
site becomes a council-owned asset (owner type ``local_authority``) in the ``recorded`` state,
with its UPRN, its source file and the council's own asset code in its reference, so the right
to bid and threatened-amenity bids have the state's real places to act on.

The file is read whole first: a malformed row (no name or asset code, a UPRN that is not a
number, half a coordinate pair, an unknown coordinate system, a point far from England, an
asset code given twice) refuses the file with every such line, and nothing is stored. Sites are
then placed, in this order: the file's own coordinates (a pair written latitude first is read
the right way round, with a warning); else the postcode's centroid; else, for a postcode
district alone ("M33"), the postcode of the directory nearest the middle of that district's
postcodes; else a point inside the council's own district (the district holding most of the
file's published points). ``asset.location_basis`` records which, so approximate places say so.
A site whose place no loaded LSOA contains (land a council holds outside the loaded districts)
is reported and not stored. Everything is written in one transaction; a re-import of the same
file changes nothing (the reference is ``<organisation>-land-<asset code>``: real files leave
the UPRN empty for many sites and give one UPRN to several).
"""

from __future__ import annotations

import csv
import io
import re
import tomllib
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from importlib.resources import files
from typing import Any

from psycopg import AsyncConnection
from pyproj import Transformer

from geo.assets.models import AssetInput
from geo.assets.recorded import LocationBasis, refresh_serving_many, upsert_recorded
from geo.crs import ENGLAND_BOUNDS
from geo.errors import LoadError, PlatoonsError
from geo.postcodes import normalise_postcode
from geo.sqlfiles import read_sql

OUTWARD_CODE = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?)(?:\s*[0-9][A-Z]{0,2})?$")
UPRN = re.compile(r"^[0-9]{1,12}$")
MAX_MALFORMED_LISTED = 50
_BNG_TO_WGS84 = Transformer.from_crs(27700, 4326, always_xy=True)


@cache
def spec() -> dict[str, Any]:
    """The national column set, coordinate systems and category rules (the TOML file)."""
    text = files("data").joinpath("land_and_buildings.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


@dataclass
class Site:
    """One row of the file, read and checked, not yet placed."""

    line: int
    organisation: str
    asset_code: str
    name: str
    uprn: int | None
    address: str | None
    postcode: str | None
    outward_code: str | None
    point: tuple[float, float] | None
    category: str
    notes: str
    description: str
    warnings: list[str] = field(default_factory=list)

    @property
    def reference(self) -> str:
        """The register reference: the organisation's slug, 'land', the council's asset code."""
        slug = re.sub(r"[^a-z0-9]+", "-", self.organisation.lower()).strip("-")
        return f"{slug}-land-{self.asset_code}"


@dataclass
class LandImportReport:
    """What an import did: references inserted, updated, unchanged; sites not stored."""

    source: str
    inserted: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    not_stored: list[tuple[int, str, str]] = field(default_factory=list)
    warnings: list[tuple[int, str]] = field(default_factory=list)
    location_basis: Counter[str] = field(default_factory=Counter)


def is_land_and_buildings(text: str) -> bool:
    """Whether a CSV's header carries the national land-and-buildings column set."""
    header = next(csv.reader(io.StringIO(text.lstrip("\ufeff"))), [])
    columns = spec()["columns"]
    return all(
        columns[f] in {h.strip() for h in header} for f in spec()["file"]["required_columns"]
    )


def category_of(text: str) -> str:
    """The register category the TOML's word rules give a site's name and detail."""
    lowered = text.lower()
    for rule in spec()["category"]:
        for word in rule["words"]:
            if re.search(rf"\b{re.escape(word)}\b", lowered):
                return str(rule["category"])
    return "other"


def _float(text: str, column: str) -> float:
    """A coordinate as a number; ValueError naming the column."""
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"{column} {text!r} is not a number") from None


def _in_england(lon: float, lat: float) -> bool:
    """Whether a WGS84 point lies within England's extent (with its margin)."""
    west, south, east, north = ENGLAND_BOUNDS
    return west <= lon <= east and south <= lat <= north


def _point(
    values: dict[str, str], headings: dict[str, str], warnings: list[str]
) -> tuple[float, float] | None:
    """The row's point in WGS84 from GeoX/GeoY and its coordinate system, or None if absent."""
    x_text, y_text = values.get("x", ""), values.get("y", "")
    if not x_text and not y_text:
        return None
    if not x_text or not y_text:
        raise ValueError(f"only one of {headings['x']} and {headings['y']} is given")
    x, y = _float(x_text, headings["x"]), _float(y_text, headings["y"])
    crs_text = values.get("crs", "")
    if crs_text:
        epsg = next((v for k, v in spec()["crs"].items() if k.lower() == crs_text.lower()), None)
        if epsg is None:
            known = ", ".join(spec()["crs"])
            raise ValueError(f"{headings['crs']} {crs_text!r} is not one of {known}")
    else:
        epsg = 4326 if abs(x) <= 180 and abs(y) <= 180 else 27700
    if epsg == 27700:
        x, y = _BNG_TO_WGS84.transform(x, y)
    if _in_england(x, y):
        return x, y
    if _in_england(y, x):
        warnings.append(
            f"{headings['x']}/{headings['y']} ({x_text}, {y_text}) are latitude then longitude: "
            "read the right way round"
        )
        return y, x
    raise ValueError(f"({x_text}, {y_text}) in {crs_text or 'EPSG:' + str(epsg)} is not in England")


def _postcode(text: str, heading: str, warnings: list[str]) -> tuple[str | None, str | None]:
    """The full postcode (or None) and the postcode district of a row's postcode text.

    A letter O where the inward code's digit belongs ("M32 OXZ") is read as a zero, with a
    warning; text that is no postcode at all is a warning too (it only helps to place a site
    that has no coordinates), never a reason to refuse the file.
    """
    if not text:
        return None, None
    postcode = normalise_postcode(text)
    if postcode is None:
        repaired = re.sub(r"\s+O([A-Z]{2})$", r" 0\1", text.strip())
        postcode = normalise_postcode(repaired) if repaired != text.strip() else None
        if postcode is not None:
            warnings.append(f"{heading} {text!r} read as {postcode} (a letter O for a zero)")
    if postcode is not None:
        return postcode, postcode.split(" ")[0]
    matched = OUTWARD_CODE.match(text.strip())
    if matched is None:
        warnings.append(f"{heading} {text!r} is not a postcode: not used")
        return None, None
    return None, matched.group(1)


def _site(line: int, values: dict[str, str], headings: dict[str, str]) -> Site:
    """A checked site from one row's values; ValueError with the reason if malformed."""
    for required in spec()["file"]["required_values"]:
        if not values.get(required):
            raise ValueError(f"{headings[required]} is empty")
    uprn_text = values.get("uprn", "")
    if uprn_text and not UPRN.match(uprn_text):
        raise ValueError(f"{headings['uprn']} {uprn_text!r} is not a UPRN (1 to 12 digits)")
    warnings: list[str] = []
    point = _point(values, headings, warnings)
    postcode_text = values.get("postcode", "").upper()
    postcode, outward = _postcode(postcode_text, headings["postcode"], warnings)
    street = " ".join(v for v in (values.get("street_number"), values.get("street")) if v)
    address = ", ".join(v for v in (street, values.get("town"), postcode_text) if v) or None
    facts = [
        ("tenure", values.get("tenure")),
        ("tenure detail", values.get("tenure_detail")),
        ("holding", values.get("holding")),
        ("building size m²", values.get("building_size")),
        ("land area ha", values.get("land_area")),
        ("energy rating", values.get("energy_rating")),
        ("effective date", values.get("effective_date")),
    ]
    notes = "; ".join(f"{k}: {v}" for k, v in facts if v)
    name = values["name"][:200]
    return Site(
        line=line,
        organisation=values["organisation"],
        asset_code=values["asset_code"],
        name=name if len(name) >= 2 else f"{name} ({values['asset_code']})",
        uprn=int(uprn_text) if uprn_text else None,
        address=address,
        postcode=postcode,
        outward_code=outward,
        point=point,
        category=category_of(f"{values['name']} {values.get('other_detail', '')}"),
        notes=notes,
        description=values.get("other_detail", ""),
        warnings=warnings,
    )


def read_sites(text: str) -> list[Site]:
    """Read and check a whole file; LoadError listing every malformed line, nothing kept."""
    columns: dict[str, str] = spec()["columns"]
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    present = {h.strip() for h in reader.fieldnames or []}
    missing = [columns[f] for f in spec()["file"]["required_columns"] if columns[f] not in present]
    if missing:
        raise LoadError(
            f"not a Transparency Code land-and-buildings file: no column {', '.join(missing)}"
        )
    headings = {f: columns[f] for f in columns}
    sites: list[Site] = []
    problems: list[str] = []
    first_line: dict[str, int] = {}
    for number, raw in enumerate(reader, start=2):
        values = {f: (raw.get(h) or "").strip() for f, h in columns.items()}
        try:
            site = _site(number, values, headings)
            if site.asset_code in first_line:
                raise ValueError(
                    f"{headings['asset_code']} {site.asset_code!r} is also on line "
                    f"{first_line[site.asset_code]}"
                )
        except ValueError as exc:
            problems.append(f"line {number}: {exc}")
            continue
        first_line[site.asset_code] = number
        sites.append(site)
    if problems:
        listed = problems[:MAX_MALFORMED_LISTED]
        more = len(problems) - len(listed)
        raise LoadError(
            f"{len(problems)} malformed row(s), nothing stored:\n"
            + "\n".join(listed)
            + (f"\n... and {more} more" if more else "")
        )
    if not sites:
        raise LoadError("the file holds no sites")
    return sites


async def _owner_district_point(
    conn: AsyncConnection, sites: list[Site]
) -> tuple[float, float] | None:
    """A point inside the district holding most of the file's published points, or None."""
    points = [s.point for s in sites if s.point is not None]
    if not points:
        return None
    cur = await conn.execute(
        read_sql("data", "land_and_buildings/owner_district.sql"),
        {"lons": [p[0] for p in points], "lats": [p[1] for p in points]},
    )
    row = await cur.fetchone()
    return None if row is None else (float(row[0]), float(row[1]))


async def _place(
    conn: AsyncConnection, site: Site, owner_point: tuple[float, float] | None
) -> tuple[float, float, LocationBasis] | None:
    """Where to put a site and on what basis; None when nothing we hold places it."""
    if site.point is not None:
        return site.point[0], site.point[1], "published_point"
    if site.postcode is not None:
        cur = await conn.execute(
            read_sql("geo", "assets/postcode_point.sql"), {"postcode": site.postcode}
        )
        row = await cur.fetchone()
        if row is not None:
            return float(row[0]), float(row[1]), "postcode"
        site.warnings.append(f"postcode {site.postcode} is not in the postcode directory")
    if site.outward_code is not None:
        cur = await conn.execute(
            read_sql("data", "land_and_buildings/postcode_district.sql"),
            {"outward": site.outward_code},
        )
        row = await cur.fetchone()
        if row is not None:
            return float(row[0]), float(row[1]), "postcode_district"
        site.warnings.append(f"postcode district {site.outward_code} is not in the directory")
    if owner_point is not None:
        return owner_point[0], owner_point[1], "owner_district"
    return None


async def import_land_and_buildings(
    conn: AsyncConnection, text: str, source: str, actor: str, on: date
) -> LandImportReport:
    """Import a land-and-buildings file in one transaction; see the module docstring.

    Raises
    ------
    LoadError
        If the file is not in the national column set or any row is malformed (every such
        line is listed; nothing is stored).
    """
    sites = read_sites(text)
    report = LandImportReport(source=source)
    touched: list[int] = []
    async with conn.transaction():
        owner_point = await _owner_district_point(conn, sites)
        for site in sites:
            placed = await _place(conn, site, owner_point)
            report.warnings.extend((site.line, w) for w in site.warnings)
            if placed is None:
                report.not_stored.append((site.line, site.name, "nothing we hold places it"))
                continue
            lon, lat, basis = placed
            data = AssetInput(
                name=site.name,
                category=site.category,  # type: ignore[arg-type]
                owner_type="local_authority",
                lon=lon,
                lat=lat,
                address=site.address[:500] if site.address else None,
                postcode=site.postcode,
                uprn=site.uprn,
                description=site.description[:5000],
                organisation=site.organisation[:200],
                notes=site.notes[:2000] or None,
            )
            try:
                async with conn.transaction():
                    asset_id, outcome = await upsert_recorded(
                        conn,
                        data,
                        reference=site.reference,
                        source=source,
                        location_basis=basis,
                        actor=actor,
                        on=on,
                        details={"line": site.line, "location_basis": basis},
                    )
            except PlatoonsError as exc:
                report.not_stored.append((site.line, site.name, exc.message))
                continue
            report.location_basis[basis] += 1
            getattr(report, outcome).append(site.reference)
            if outcome != "unchanged":
                touched.append(asset_id)
        await refresh_serving_many(conn, touched, on)
    return report
