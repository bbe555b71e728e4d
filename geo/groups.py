"""Neighbourhood groups: the registry, its public listing, activity, ratings and relay messages.

A neighbourhood group (the programme's definition) is a new group or an existing
not-for-dividend one (residents' association, scouts, social enterprise, charity) of people
living in a defined area, with a named leader who gives contact details and an address and
accepts the neighbourhood code of conduct. It is listed publicly so people can ask to join
(through a relay form: the leader's address is never shown), rate it and give feedback.

Private and public are two shapes, never one with fields blanked: :class:`GroupPublic` has no
field that could hold the leader's contact details, and :class:`GroupPrivate` is served only to
admins, officers whose districts the area touches, and the group's own managers (see
:func:`may_see_private`). The public map layer (``group_serving``) has no such column either.

Areas are drawn (a GeoJSON Polygon/MultiPolygon in lon/lat) or named (LSOA 2021 codes, whose
union is the area); either is validated (valid without repair, vertex, size and England
limits) and measured in EPSG:27700. A group is **active** on a date when it is listed and its
latest activity is no older than the activity window (:func:`geo.coverage.active_since`).

Every write locks the group's row, writes the group, the audit log, the map layer
(:func:`rewrite_group_serving`) and the coverage of the LSOAs it touches
(:func:`geo.coverage.refresh_group`) and bumps the data version, in one transaction.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Literal

import shapely
import shapely.geometry
from psycopg import AsyncConnection
from psycopg.rows import dict_row
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from geo import audit, coverage
from geo.access import Principal
from geo.areas import find_edition
from geo.coverage import ACTIVE_MONTHS_DEFAULT, active_since
from geo.crs import ENGLAND_BOUNDS
from geo.errors import (
    AreaOutOfRange,
    AreaOutsideEngland,
    CodeOfConductNotAccepted,
    DateInFuture,
    Forbidden,
    GroupNotFound,
    InvalidArea,
    InvalidInput,
    PointOutsideCoverage,
    RatingNotFound,
    StaleVersion,
    TooManyRequests,
)
from geo.gss import LSOA_CODE
from geo.places import MAX_GEOJSON_BYTES, MAX_POLYGON_VERTICES, PostcodeNotCovered
from geo.postcodes import normalise_postcode
from geo.sqlfiles import read_sql

GroupKind = Literal[
    "new_group",
    "residents_association",
    "tenants_association",
    "scouts_guides",
    "social_enterprise",
    "charity",
    "community_interest_company",
    "faith_group",
    "other_not_for_dividend",
]
ActivityKind = Literal["meeting", "project", "event"]
RatingStatus = Literal["pending", "published", "rejected"]
Decision = Literal["publish", "reject"]

GROUP_REFERENCE = re.compile(r"^NG-[0-9]{6,18}$")
EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")
PHONE = re.compile(r"^\+?[0-9 ()-]{6,25}$")

CODE_OF_CONDUCT_VERSION = "2026-1"
CODE_OF_CONDUCT_ISSUED_ON = date(2026, 1, 1)
CODE_OF_CONDUCT_TEXT = (
    "Neighbourhood code of conduct (version 2026-1)\n\n"
    "1. The group is open to everyone who lives in its area, whatever their background, "
    "and treats every member and neighbour with respect.\n"
    "2. The group is not for profit: any money it raises is used for its purposes, never "
    "shared out as dividends.\n"
    "3. The group is independent of political parties and does not campaign for any.\n"
    "4. The leader answers enquiries from people who ask to join, and keeps members' "
    "personal details private and safe.\n"
    "5. Activities are safe: the group follows safeguarding good practice for children and "
    "adults at risk, and the law.\n"
    "6. The group keeps an honest public listing: where and when it meets, and what it does.\n"
    "7. Disputes are settled openly and fairly; harassment, abuse and discrimination are not "
    "tolerated.\n"
)
# Activity this many years old can never make a group active; older dates are most likely
# typing errors, so they are refused rather than recorded.
MAX_ACTIVITY_AGE_YEARS = 5
ENGLAND_SHARE_REQUIRED = 0.99
# A district counts among an area's districts (officer scope) when it holds more than 1% of
# the area or more than 0.01 km² of it; smaller pieces are slivers of generalised boundaries.
LAD_SHARE_MIN = 0.01
LAD_M2_MIN = 10_000.0
MAX_LSOA_CODES = 500
MAX_PAGE = 1000


@dataclass(frozen=True)
class GroupRules:
    """The configurable limits of the registry (from ``GroupSettings`` in the service)."""

    active_months: int = ACTIVE_MONTHS_DEFAULT
    max_area_km2: float = 50.0
    min_area_km2: float = 0.001
    organiser_max_area_km2: float = 500.0
    max_vertices: int = MAX_POLYGON_VERTICES
    rating_repeat_days: int = 30
    ratings_per_day: int = 5
    messages_per_hour: int = 5
    messages_per_day: int = 20


DEFAULT_RULES = GroupRules()


# ---------------------------------------------------------------------------------------------
# Input


def clean_text(text: str | None) -> str | None:
    """Strip surrounding white space; empty text is no text."""
    if text is None:
        return None
    text = text.strip()
    return text or None


class LeaderInput(BaseModel):
    """The group's named leader: the name is public; contact details and address are private."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=2, max_length=200, description="Shown publicly.")
    email: str = Field(max_length=254, description="Private: for enquiries.")
    phone: str | None = Field(default=None, max_length=25, description="Private.")
    address: str | None = Field(default=None, max_length=500, description="Private.")

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        """An e-mail address of the usual shape."""
        value = value.strip()
        if not EMAIL.match(value):
            raise ValueError("not an e-mail address")
        return value

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        """Digits, spaces, brackets, hyphens and a leading +."""
        value = clean_text(value)
        if value is not None and not PHONE.match(value):
            raise ValueError("not a telephone number")
        return value


class CodeOfConductAcceptance(BaseModel):
    """The leader's acceptance of the neighbourhood code of conduct."""

    model_config = ConfigDict(extra="forbid")

    version: str = Field(max_length=20, description=f"The current is {CODE_OF_CONDUCT_VERSION}.")
    accepted_on: date


class AreaFields(BaseModel):
    """Exactly one way to give an area: a drawn polygon or LSOA codes."""

    geometry: dict[str, Any] | None = Field(
        default=None,
        description="A GeoJSON Polygon or MultiPolygon in longitude/latitude (CRS84).",
    )
    lsoa_codes: list[str] | None = Field(
        default=None,
        max_length=MAX_LSOA_CODES,
        description="LSOA 2021 codes whose union is the area (instead of a geometry).",
    )

    @field_validator("lsoa_codes")
    @classmethod
    def _codes(cls, codes: list[str] | None) -> list[str] | None:
        """LSOA 2021 codes, upper-cased and deduplicated; at least one."""
        if codes is None:
            return None
        cleaned = sorted({c.strip().upper() for c in codes})
        bad = [c for c in cleaned if not LSOA_CODE.match(c)]
        if bad:
            raise ValueError(f"not LSOA codes (E01 and six digits): {', '.join(bad[:5])}")
        if not cleaned:
            raise ValueError("give at least one LSOA code")
        return cleaned


class GroupInput(AreaFields):
    """A new neighbourhood group, as its leader (or an officer) registers it."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=2, max_length=200)
    kind: GroupKind = Field(description="A new group, or the kind of existing group.")
    registration_number: str | None = Field(
        default=None, max_length=50, description="Charity, company or society number, if any."
    )
    description: str = Field(default="", max_length=5000)
    meeting_place: str | None = Field(default=None, max_length=500)
    how_to_join: str | None = Field(default=None, max_length=2000)
    website: str | None = Field(default=None, max_length=300, pattern=r"^https?://\S+$")
    leader: LeaderInput
    code_of_conduct: CodeOfConductAcceptance | None = Field(
        default=None,
        description=f"Required: the current version ({CODE_OF_CONDUCT_VERSION}) and when the "
        "leader accepted it (GET /groups/code-of-conduct).",
    )
    started_by_organiser: str | None = Field(
        default=None, max_length=20, description="Reference of the organiser who helped."
    )
    listed: bool = Field(default=True, description="Shown in the public listing and map.")

    @model_validator(mode="after")
    def _one_area(self) -> GroupInput:
        """Exactly one of geometry and lsoa_codes."""
        if (self.geometry is None) == (self.lsoa_codes is None):
            raise ValueError("give the area as exactly one of geometry or lsoa_codes")
        return self


class GroupChanges(AreaFields):
    """An edit of a group: only the fields given change (``null`` clears an optional one)."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=2, max_length=200)
    kind: GroupKind | None = None
    registration_number: str | None = Field(default=None, max_length=50)
    description: str | None = Field(default=None, max_length=5000)
    meeting_place: str | None = Field(default=None, max_length=500)
    how_to_join: str | None = Field(default=None, max_length=2000)
    website: str | None = Field(default=None, max_length=300, pattern=r"^https?://\S+$")
    leader: LeaderInput | None = None
    code_of_conduct: CodeOfConductAcceptance | None = None
    started_by_organiser: str | None = Field(default=None, max_length=20)
    listed: bool | None = None

    @model_validator(mode="after")
    def _at_most_one_area(self) -> GroupChanges:
        """At most one of geometry and lsoa_codes; required fields are never cleared."""
        if self.geometry is not None and self.lsoa_codes is not None:
            raise ValueError("give the new area as one of geometry or lsoa_codes, not both")
        for required in ("name", "kind", "description", "leader", "code_of_conduct", "listed"):
            if required in self.model_fields_set and getattr(self, required) is None:
                raise ValueError(f"{required} cannot be cleared")
        return self


class ActivityInput(BaseModel):
    """A meeting, project or event a group held."""

    model_config = ConfigDict(extra="forbid")

    kind: ActivityKind
    held_on: date = Field(description="When it happened: today or earlier.")
    title: str = Field(min_length=2, max_length=200)
    description: str = Field(default="", max_length=5000)
    attendance: int | None = Field(default=None, ge=0, le=1_000_000)


class RatingInput(BaseModel):
    """A member of the public's rating of a group, with feedback."""

    model_config = ConfigDict(extra="forbid")

    stars: int = Field(ge=1, le=5)
    comment: str = Field(default="", max_length=2000)


class ModerationInput(BaseModel):
    """An officer's decision on a rating."""

    model_config = ConfigDict(extra="forbid")

    decision: Decision


class MessageInput(BaseModel):
    """A message to a group's leader through the relay form (to ask to join, or a question)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=2, max_length=200)
    email: str = Field(max_length=254)
    message: str = Field(min_length=2, max_length=5000)

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        """An e-mail address of the usual shape (the leader replies to it)."""
        value = value.strip()
        if not EMAIL.match(value):
            raise ValueError("not an e-mail address")
        return value


class ManagerInput(BaseModel):
    """A group manager's API key to add to a group's managers."""

    model_config = ConfigDict(extra="forbid")

    key_id: int = Field(ge=1, le=2**63 - 1)


# ---------------------------------------------------------------------------------------------
# Output: the public and the private shapes share no class, so a public answer cannot carry a
# private field (extra fields are refused when an answer is validated).


class _GroupListing(BaseModel):
    """What anyone may know about a group (its public listing)."""

    model_config = ConfigDict(extra="forbid")

    reference: str
    name: str
    kind: str
    registration_number: str | None
    description: str
    meeting_place: str | None
    how_to_join: str | None
    website: str | None
    leader_name: str
    join_url: str = Field(description="The relay form: ask to join without seeing contacts.")
    area_km2: float
    lad_codes: list[str]
    principal_lad_code: str
    area_lsoa_codes: list[str] | None
    started_by_organiser: str | None
    active: bool = Field(description="Listed, with activity in the activity window.")
    last_activity_on: date | None
    rating_average: float | None
    rating_count: int
    is_synthetic: bool
    bbox: list[float] = Field(description="Extent of the area: lon/lat min, then max.")
    geometry: dict[str, Any] | None = Field(
        default=None, description="The area (GeoJSON, CRS84); in single-group answers only."
    )


class GroupPublic(_GroupListing):
    """A group's public listing."""


class GroupPrivate(_GroupListing):
    """A group with its private fields, for admins, its districts' officers and its managers."""

    listed: bool
    leader_email: str
    leader_phone: str | None
    leader_address: str | None
    code_of_conduct_version: str
    code_of_conduct_accepted_on: date
    managers: list[int] = Field(description="API key ids of the group's managers.")
    created_by: str
    created_at: datetime
    updated_at: datetime
    version: int


class GroupPage(BaseModel):
    """One page of the public listing."""

    model_config = ConfigDict(extra="forbid")

    number_matched: int
    limit: int
    offset: int
    as_of: date
    groups: list[GroupPublic]


class NearbyGroup(BaseModel):
    """A group covering the point asked about, with how far its centre is."""

    model_config = ConfigDict(extra="forbid")

    distance_m: float = Field(description="From the point to the area's centroid (EPSG:27700).")
    group: GroupPublic


class GroupsNear(BaseModel):
    """The active groups whose areas cover a point, nearest first."""

    model_config = ConfigDict(extra="forbid")

    lon: float
    lat: float
    postcode: str | None
    as_of: date
    groups: list[NearbyGroup]


class ActivityPublic(BaseModel):
    """What anyone may see of a group's activity."""

    model_config = ConfigDict(extra="forbid")

    kind: str
    held_on: date
    title: str


class ActivityPrivate(BaseModel):
    """A group's activity record in full."""

    model_config = ConfigDict(extra="forbid")

    id: int
    kind: str
    held_on: date
    title: str
    description: str
    attendance: int | None
    recorded_by: str
    at: datetime


class RatingPublic(BaseModel):
    """A published rating (or the receipt of a new one, pending moderation)."""

    model_config = ConfigDict(extra="forbid")

    id: int
    stars: int
    comment: str
    status: str
    rated_on: date


class RatingPrivate(BaseModel):
    """A rating as its moderators see it, with the sender's keyed fingerprint."""

    model_config = ConfigDict(extra="forbid")

    id: int
    stars: int
    comment: str
    status: str
    rated_on: date
    rater_fingerprint: str
    created_at: datetime
    moderated_by: str | None
    moderated_at: datetime | None


class MessageReceipt(BaseModel):
    """That a relay message was received (the leader answers by e-mail)."""

    model_config = ConfigDict(extra="forbid")

    group: str
    received_at: datetime
    detail: str


class Message(BaseModel):
    """A message sent through a group's relay form."""

    model_config = ConfigDict(extra="forbid")

    id: int
    sender_name: str
    sender_email: str
    message: str
    created_at: datetime
    read_at: datetime | None


class CodeOfConduct(BaseModel):
    """The neighbourhood code of conduct groups accept."""

    model_config = ConfigDict(extra="forbid")

    version: str
    issued_on: date
    text: str


class Managers(BaseModel):
    """A group's managers (API key ids)."""

    model_config = ConfigDict(extra="forbid")

    reference: str
    managers: list[int]


CODE_OF_CONDUCT = CodeOfConduct(
    version=CODE_OF_CONDUCT_VERSION, issued_on=CODE_OF_CONDUCT_ISSUED_ON, text=CODE_OF_CONDUCT_TEXT
)


# ---------------------------------------------------------------------------------------------
# Areas (shared with geo.organisers)


@dataclass(frozen=True)
class MeasuredArea:
    """A validated area in EPSG:27700: WKB, size, the districts it touches and its LSOA codes."""

    wkb: bytes
    area_km2: float
    lad_codes: list[str]
    principal_lad_code: str
    lsoa_codes: list[str] | None


def _drawn_wkb(geometry: Any, max_vertices: int, parameter: str) -> bytes:
    """Check a drawn area's structure (GeoJSON polygon, finite lon/lat, vertices); its WKB."""
    if not isinstance(geometry, dict) or geometry.get("type") not in ("Polygon", "MultiPolygon"):
        raise InvalidArea(
            "the area must be a GeoJSON Polygon or MultiPolygon in longitude, latitude",
            parameter=parameter,
        )
    if len(json.dumps(geometry)) > MAX_GEOJSON_BYTES:
        raise InvalidArea(f"geometry larger than {MAX_GEOJSON_BYTES:,} bytes", parameter=parameter)
    try:
        shape = shapely.geometry.shape(geometry)
    except Exception as exc:  # noqa: BLE001 - shapely raises several types for bad GeoJSON
        raise InvalidArea(f"malformed GeoJSON geometry: {exc}", parameter=parameter) from exc
    if shape.is_empty:
        raise InvalidArea("the area is empty", parameter=parameter)
    coordinates = shapely.get_coordinates(shape)
    if len(coordinates) > max_vertices:
        raise InvalidArea(
            f"the area has {len(coordinates):,} vertices; at most {max_vertices:,}",
            parameter=parameter,
        )
    if not all(math.isfinite(v) for v in coordinates.ravel()):
        raise InvalidArea("coordinates must be finite numbers", parameter=parameter)
    lon, lat = coordinates[:, 0], coordinates[:, 1]
    if lon.min() < -180 or lon.max() > 180 or lat.min() < -90 or lat.max() > 90:
        raise InvalidArea(
            "coordinates must be longitude, latitude (CRS84 / EPSG:4326)", parameter=parameter
        )
    # A cheap first test (and a guard: British National Grid is meaningless far away); the
    # exact one, against the loaded districts, follows in measure_area.
    west, south, east, north = ENGLAND_BOUNDS
    if lon.min() < west or lon.max() > east or lat.min() < south or lat.max() > north:
        raise AreaOutsideEngland(
            f"the area reaches beyond England ({west}..{east} E, {south}..{north} N); "
            "give longitude then latitude",
            parameter=parameter,
        )
    return bytes(shapely.to_wkb(shapely.force_2d(shape)))


async def measure_area(
    conn: AsyncConnection,
    *,
    geometry: dict[str, Any] | None,
    lsoa_codes: list[str] | None,
    max_km2: float,
    min_km2: float,
    max_vertices: int = MAX_POLYGON_VERTICES,
    parameter: str = "geometry",
) -> MeasuredArea:
    """Validate an area and measure it in EPSG:27700.

    The area is a drawn GeoJSON (multi)polygon in lon/lat, or the union of LSOA 2021 codes.
    A drawn area must be valid as given (never repaired: the error carries GEOS's
    ``ST_IsValidReason``, e.g. a self-intersection or overlapping parts), have at most
    ``max_vertices`` vertices, and measure between ``min_km2`` and ``max_km2``. At least 99%
    of it must lie in the loaded English districts (cut by the current edition's LSOAs). Its
    districts are those holding more than 1% of it or more than 0.01 km²; the principal one
    holds the most.

    Raises
    ------
    InvalidArea
        If the geometry is malformed or invalid, or an LSOA code is not loaded.
    AreaOutOfRange
        If the area is larger than ``max_km2`` or smaller than ``min_km2``.
    AreaOutsideEngland
        If more than 1% of it lies outside the loaded English districts.
    """
    edition = await find_edition(conn, None)
    wkb: bytes | None = None
    if geometry is not None:
        wkb = _drawn_wkb(geometry, max_vertices, parameter)
        async with conn.cursor(row_factory=dict_row) as cur:
            await cur.execute(read_sql("geo", "group_area_validity.sql"), {"wkb": wkb})
            validity = await cur.fetchone()
        assert validity is not None
        if not validity["valid"]:
            raise InvalidArea(f"invalid geometry: {validity['reason']}", parameter=parameter)
        if not validity["valid_27700"]:
            raise InvalidArea(
                f"invalid geometry in British National Grid: {validity['reason_27700']}",
                parameter=parameter,
            )
    elif not lsoa_codes:
        raise InvalidArea("give the area as a geometry or LSOA codes", parameter=parameter)
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            read_sql("geo", "group_area_measure.sql"),
            {"wkb": wkb, "lsoa_codes": lsoa_codes or [], "vintage": edition.lsoa_vintage},
        )
        row = await cur.fetchone()
    assert row is not None
    if lsoa_codes is not None and geometry is None:
        missing = sorted(set(lsoa_codes) - set(row["lsoa_codes_found"]))
        if missing:
            raise InvalidArea(
                f"not LSOAs of the {edition.code} geography loaded here: {', '.join(missing[:10])}",
                parameter="lsoa_codes",
            )
        parameter = "lsoa_codes"
    area_m2 = float(row["m2"])
    km2 = area_m2 / 1e6
    if km2 > max_km2:
        raise AreaOutOfRange(
            f"the area measures {km2:,.2f} km²; at most {max_km2:,.2f} km² is allowed",
            parameter=parameter,
        )
    if km2 < min_km2:
        raise AreaOutOfRange(
            f"the area measures {area_m2:,.0f} m²; at least {min_km2 * 1e6:,.0f} m² is needed",
            parameter=parameter,
        )
    lad_m2: dict[str, float] = {k: float(v) for k, v in row["lad_m2"].items()}
    inside = sum(lad_m2.values())
    if inside < ENGLAND_SHARE_REQUIRED * area_m2:
        raise AreaOutsideEngland(
            f"{100 * (1 - inside / area_m2):.1f}% of the area lies outside the loaded English "
            f"districts ({row['loaded_lads']} districts of the {edition.code} geography are "
            f"loaded here); at most {100 * (1 - ENGLAND_SHARE_REQUIRED):.0f}% may",
            parameter=parameter,
        )
    lads = sorted(
        lad for lad, m2 in lad_m2.items() if m2 > LAD_SHARE_MIN * area_m2 or m2 > LAD_M2_MIN
    )
    principal = min(lad_m2, key=lambda lad: (-lad_m2[lad], lad))
    if principal not in lads:  # cannot happen (it holds at least 1/N of 99%); kept total
        lads = sorted({*lads, principal})
    return MeasuredArea(
        wkb=bytes(row["wkb"]),
        area_km2=round(km2, 6),
        lad_codes=lads,
        principal_lad_code=principal,
        lsoa_codes=lsoa_codes if geometry is None else None,
    )


# ---------------------------------------------------------------------------------------------
# Access


def may_see_private(principal: Principal, lad_codes: list[str], managers: list[int]) -> bool:
    """Whether the caller sees private fields: admins, officers of a district the area
    touches, and the group's own managers."""
    if principal.role == "admin":
        return True
    if principal.role == "officer":
        return bool(set(principal.lad_codes) & set(lad_codes))
    return (
        principal.role == "group_manager"
        and principal.key_id is not None
        and principal.key_id in managers
    )


def client_fingerprint(address: str, key: bytes) -> str:
    """The keyed hash (HMAC-SHA256) of a client address kept for abuse limits.

    The address itself is never stored; without the key the fingerprint cannot be reversed
    or linked to an address by trying them all.
    """
    return hmac.new(key, address.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()


def _check_reference(reference: str) -> None:
    """Raise GroupNotFound for a reference of the wrong shape (never reaches SQL)."""
    if not GROUP_REFERENCE.match(reference):
        raise GroupNotFound(f"no neighbourhood group {reference!r}", parameter="reference")


# ---------------------------------------------------------------------------------------------
# Reading


def _params(**given: Any) -> dict[str, Any]:
    """Parameters of group_select.sql, every filter off unless given."""
    base: dict[str, Any] = {
        "id": None,
        "ids": None,
        "reference": None,
        "listed_only": True,
        "lad": None,
        "kind": None,
        "organiser_id": None,
        "active": None,
        "active_since": date.min,
        "q": None,
        "bbox": None,
        "with_geometry": False,
        "limit": 1,
        "offset": 0,
    }
    return base | given


async def _select(conn: AsyncConnection, **given: Any) -> tuple[int, list[dict[str, Any]]]:
    """The number matched and the page of group_select.sql."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(read_sql("geo", "group_select.sql"), _params(**given))
        rows = list(await cur.fetchall())
    matched = int(rows[0]["matched"]) if rows else 0
    return matched, [r for r in rows if r["id"] is not None]


def _listing(row: dict[str, Any]) -> dict[str, Any]:
    """The public fields of a stored group."""
    fields = {k: row[k] for k in _GroupListing.model_fields if k in row}
    fields["join_url"] = f"/groups/{row['reference']}/messages"
    return fields


def public_view(row: dict[str, Any]) -> GroupPublic:
    """A stored group's public listing."""
    return GroupPublic.model_validate(_listing(row))


def private_view(row: dict[str, Any]) -> GroupPrivate:
    """A stored group with its private fields."""
    fields = _listing(row) | {k: row[k] for k in GroupPrivate.model_fields if k in row}
    return GroupPrivate.model_validate(fields)


async def _group_row(
    conn: AsyncConnection,
    reference: str,
    *,
    active_since_: date,
    with_geometry: bool = False,
) -> dict[str, Any]:
    """One stored group (listed or not); GroupNotFound if there is none."""
    _check_reference(reference)
    _, rows = await _select(
        conn,
        reference=reference,
        listed_only=False,
        active_since=active_since_,
        with_geometry=with_geometry,
    )
    if not rows:
        raise GroupNotFound(f"no neighbourhood group {reference}", parameter="reference")
    return rows[0]


async def _visible_row(
    conn: AsyncConnection,
    reference: str,
    principal: Principal,
    on: date,
    rules: GroupRules,
    *,
    with_geometry: bool = False,
) -> tuple[dict[str, Any], bool]:
    """A group the caller may see and whether they see its private fields.

    An unlisted group is not found for anyone who may not see its private fields.
    """
    row = await _group_row(
        conn,
        reference,
        active_since_=active_since(on, rules.active_months),
        with_geometry=with_geometry,
    )
    private = may_see_private(principal, row["lad_codes"], row["managers"])
    if not row["listed"] and not private:
        raise GroupNotFound(f"no neighbourhood group {reference}", parameter="reference")
    return row, private


async def get_group(
    conn: AsyncConnection,
    reference: str,
    principal: Principal,
    on: date,
    rules: GroupRules = DEFAULT_RULES,
) -> GroupPublic | GroupPrivate:
    """Return a group: its private shape to those who may see it, else its public listing.

    ``active`` is decided as of ``on`` with the rules' activity window.

    Raises
    ------
    GroupNotFound
        If there is no such group, or it is unlisted and the caller may not see it.
    """
    row, private = await _visible_row(conn, reference, principal, on, rules, with_geometry=True)
    return private_view(row) if private else public_view(row)


async def list_groups(
    conn: AsyncConnection,
    on: date,
    rules: GroupRules = DEFAULT_RULES,
    *,
    lad: str | None = None,
    active: bool | None = None,
    kind: str | None = None,
    bbox: tuple[float, float, float, float] | None = None,
    q: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> GroupPage:
    """Return a page of the public listing (listed groups, oldest first), filtered.

    ``lad`` keeps groups whose area touches the district; ``active`` those active (or not)
    on ``on``; ``bbox`` (lon/lat min, then max) those whose area meets the box; ``q`` those
    whose name or description contains the text (any case).

    Raises
    ------
    InvalidInput
        If the box is not a box or the page is out of range.
    """
    if bbox is not None:
        west, south, east, north = bbox
        if not all(math.isfinite(v) for v in bbox) or not (
            -180 <= west < east <= 180 and -90 <= south < north <= 90
        ):
            raise InvalidInput(
                "bbox is min longitude, min latitude, max longitude, max latitude (CRS84)",
                parameter="bbox",
            )
    if not 1 <= limit <= MAX_PAGE or offset < 0:
        raise InvalidInput(f"limit is 1 to {MAX_PAGE} and offset at least 0", parameter="limit")
    if bbox is not None:
        # Only England's part of the box matters (and keeps the projection meaningful).
        bbox = (
            max(bbox[0], ENGLAND_BOUNDS[0]),
            max(bbox[1], ENGLAND_BOUNDS[1]),
            min(bbox[2], ENGLAND_BOUNDS[2]),
            min(bbox[3], ENGLAND_BOUNDS[3]),
        )
        if bbox[0] >= bbox[2] or bbox[1] >= bbox[3]:
            return GroupPage(number_matched=0, limit=limit, offset=offset, as_of=on, groups=[])
    matched, rows = await _select(
        conn,
        lad=lad,
        active=active,
        kind=kind,
        q=clean_text(q),
        bbox=list(bbox) if bbox else None,
        active_since=active_since(on, rules.active_months),
        limit=limit,
        offset=offset,
    )
    return GroupPage(
        number_matched=matched,
        limit=limit,
        offset=offset,
        as_of=on,
        groups=[public_view(r) for r in rows],
    )


async def groups_near(
    conn: AsyncConnection,
    on: date,
    rules: GroupRules = DEFAULT_RULES,
    *,
    lon: float | None = None,
    lat: float | None = None,
    postcode: str | None = None,
    limit: int = 20,
) -> GroupsNear:
    """Return the active groups whose area covers a point or postcode, nearest first.

    Nearness is the distance in metres (EPSG:27700) from the point to the centroid of the
    group's area. A postcode stands for its centroid in the postcode directory.

    Raises
    ------
    InvalidInput
        If neither or both of a point and a postcode are given, or the postcode is malformed.
    PostcodeNotCovered
        If the postcode is not in the loaded directory.
    PointOutsideCoverage
        If no loaded English LSOA contains the point.
    """
    if (postcode is None) == (lon is None or lat is None):
        raise InvalidInput("give either lon and lat, or a postcode", parameter="postcode")
    found_postcode = None
    if postcode is not None:
        found_postcode = normalise_postcode(postcode)
        if found_postcode is None:
            raise InvalidInput(f"{postcode!r} is not a UK postcode", parameter="postcode")
        async with conn.cursor(row_factory=dict_row) as cur:
            await cur.execute(
                read_sql("geo", "group_postcode_point.sql"), {"postcode": found_postcode}
            )
            point = await cur.fetchone()
        if point is None:
            raise PostcodeNotCovered(
                f"postcode {found_postcode} is not covered: the postcode data loaded covers only "
                "some areas (Trafford); give lon and lat instead"
            )
        lon, lat = float(point["lon"]), float(point["lat"])
    assert lon is not None and lat is not None
    edition = await find_edition(conn, None)
    west, south, east, north = ENGLAND_BOUNDS
    if not (west <= lon <= east and south <= lat <= north):
        raise PointOutsideCoverage(
            f"({lon}, {lat}) is outside England: give longitude then latitude (EPSG:4326)"
        )
    inside = await conn.execute(
        read_sql("geo", "lsoa_code_at_point.sql"),
        {"vintage": edition.lsoa_vintage, "lon": lon, "lat": lat},
    )
    if await inside.fetchone() is None:
        raise PointOutsideCoverage(
            f"no LSOA of the {edition.code} geography contains ({lon}, {lat}): the point is "
            "outside England or outside the loaded area"
        )
    since = active_since(on, rules.active_months)
    async with conn.cursor(row_factory=dict_row) as cur2:
        await cur2.execute(
            read_sql("geo", "group_near.sql"),
            {"lon": lon, "lat": lat, "active_since": since, "limit": limit},
        )
        near = {int(r["id"]): float(r["distance_m"]) for r in await cur2.fetchall()}
    _, rows = await _select(conn, ids=list(near), active_since=since, limit=max(1, len(near)))
    by_id = {int(r["id"]): r for r in rows}
    return GroupsNear(
        lon=lon,
        lat=lat,
        postcode=found_postcode,
        as_of=on,
        groups=[
            NearbyGroup(distance_m=round(distance, 1), group=public_view(by_id[group_id]))
            for group_id, distance in near.items()
            if group_id in by_id
        ],
    )


async def list_activities(
    conn: AsyncConnection,
    reference: str,
    principal: Principal,
    on: date,
    rules: GroupRules = DEFAULT_RULES,
    *,
    limit: int = 100,
    offset: int = 0,
) -> list[ActivityPublic] | list[ActivityPrivate]:
    """Return a group's activity, latest first: kind, date and title for the public; whole
    records for those who see the group's private fields.

    Raises
    ------
    GroupNotFound
        If there is no such group, or it is unlisted and the caller may not see it.
    """
    row, private = await _visible_row(conn, reference, principal, on, rules)
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            read_sql("geo", "group_activity_list.sql"),
            {"group_id": row["id"], "limit": limit, "offset": offset},
        )
        records = await cur.fetchall()
    if private:
        return [ActivityPrivate.model_validate(r) for r in records]
    return [ActivityPublic(kind=r["kind"], held_on=r["held_on"], title=r["title"]) for r in records]


def _rating_public(row: dict[str, Any]) -> RatingPublic:
    """A rating's public form."""
    return RatingPublic(
        id=row["id"],
        stars=row["stars"],
        comment=row["comment"],
        status=row["status"],
        rated_on=row["created_at"].date(),
    )


def _rating_private(row: dict[str, Any]) -> RatingPrivate:
    """A rating as moderators see it."""
    return RatingPrivate(
        id=row["id"],
        stars=row["stars"],
        comment=row["comment"],
        status=row["status"],
        rated_on=row["created_at"].date(),
        rater_fingerprint=row["rater_fingerprint"],
        created_at=row["created_at"],
        moderated_by=row["moderated_by"],
        moderated_at=row["moderated_at"],
    )


async def list_ratings(
    conn: AsyncConnection,
    reference: str,
    principal: Principal,
    on: date,
    rules: GroupRules = DEFAULT_RULES,
    *,
    status: RatingStatus | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[RatingPublic] | list[RatingPrivate]:
    """Return a group's ratings, latest first: the published ones for the public; every one
    (optionally of one ``status``), with fingerprints, for those who see private fields.

    Raises
    ------
    GroupNotFound
        If there is no such group, or it is unlisted and the caller may not see it.
    """
    row, private = await _visible_row(conn, reference, principal, on, rules)
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            read_sql("geo", "group_rating_list.sql"),
            {
                "group_id": row["id"],
                "status": status if private else None,
                "published_only": not private,
                "limit": limit,
                "offset": offset,
            },
        )
        records = await cur.fetchall()
    if private:
        return [_rating_private(r) for r in records]
    return [_rating_public(r) for r in records]


async def list_messages(
    conn: AsyncConnection,
    reference: str,
    principal: Principal,
    on: date,
    rules: GroupRules = DEFAULT_RULES,
    *,
    limit: int = 100,
    offset: int = 0,
) -> list[Message]:
    """Return the messages sent through a group's relay form, latest first.

    Raises
    ------
    Unauthenticated, Forbidden
        Unless the caller is an admin, an officer of the group's districts or its manager.
    GroupNotFound
        If there is no such group.
    """
    principal.require("group_manager", "officer")
    row, private = await _visible_row(conn, reference, principal, on, rules)
    if not private:
        raise Forbidden("only the group's managers, its districts' officers and admins read this")
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            read_sql("geo", "group_message_list.sql"),
            {"group_id": row["id"], "limit": limit, "offset": offset},
        )
        return [Message.model_validate(r) for r in await cur.fetchall()]


# ---------------------------------------------------------------------------------------------
# The map layer, the data version and coverage


async def rewrite_group_serving(
    conn: AsyncConnection,
    group_ids: list[int] | None,
    *,
    as_of: date,
    active_months: int = ACTIVE_MONTHS_DEFAULT,
) -> None:
    """Rewrite the public map layer (``group_serving``) for some groups, or all (``None``).

    Set-based (one statement), in the caller's transaction: listed groups are upserted with
    their public fields, whether active on ``as_of``, their published ratings and simplified
    tile geometries; unlisted or deleted groups are removed. Bumps the data version, so cached
    tiles are dropped when the transaction commits.
    """
    await conn.execute(
        read_sql("geo", "group_serving_upsert.sql"),
        {"ids": group_ids, "active_since": active_since(as_of, active_months)},
    )
    await conn.execute(read_sql("geo", "bump_data_version.sql"))


async def _after_write(
    conn: AsyncConnection,
    group_id: int,
    on: date,
    rules: GroupRules,
    *,
    coverage_changed: bool,
    organiser_ids: set[int | None] | None = None,
) -> None:
    """Keep what derives from a group in step, in the write's transaction.

    The map layer always; the organisers' layer when the group's organiser or listing
    changed; coverage of the LSOAs the group touches when its area, listing or activity
    (hence whether it is active) changed.
    """
    from geo import organisers  # the organisers' module imports this one

    await rewrite_group_serving(conn, [group_id], as_of=on, active_months=rules.active_months)
    ids = sorted(i for i in (organiser_ids or set()) if i is not None)
    if ids:
        await organisers.rewrite_organiser_serving(conn, ids)
    if coverage_changed:
        await _refresh_coverage(conn, group_id, on, rules)


async def _refresh_coverage(
    conn: AsyncConnection, group_id: int, on: date, rules: GroupRules
) -> None:
    """Recompute coverage of the LSOAs the group touches (geo.coverage), same transaction."""
    await coverage.refresh_group(conn, group_id, as_of=on, active_months=rules.active_months)


# ---------------------------------------------------------------------------------------------
# Writing


def _check_code_of_conduct(acceptance: CodeOfConductAcceptance | None, on: date) -> None:
    """Raise CodeOfConductNotAccepted unless the current version was accepted by ``on``."""
    if acceptance is None:
        raise CodeOfConductNotAccepted(
            f"a group's leader must accept the neighbourhood code of conduct: give "
            f'code_of_conduct {{"version": "{CODE_OF_CONDUCT_VERSION}", "accepted_on": <date>}} '
            "(the text is at GET /groups/code-of-conduct)",
            parameter="code_of_conduct",
        )
    if acceptance.version != CODE_OF_CONDUCT_VERSION:
        raise CodeOfConductNotAccepted(
            f"code of conduct version {acceptance.version!r} is not the current one "
            f"({CODE_OF_CONDUCT_VERSION}); accept the current version",
            parameter="code_of_conduct.version",
        )
    if acceptance.accepted_on > on:
        raise DateInFuture(
            f"code of conduct accepted_on {acceptance.accepted_on} is in the future",
            parameter="code_of_conduct.accepted_on",
        )
    if acceptance.accepted_on < CODE_OF_CONDUCT_ISSUED_ON:
        raise CodeOfConductNotAccepted(
            f"version {CODE_OF_CONDUCT_VERSION} was issued on {CODE_OF_CONDUCT_ISSUED_ON}: it "
            f"cannot have been accepted on {acceptance.accepted_on}",
            parameter="code_of_conduct.accepted_on",
        )


async def _organiser_id(conn: AsyncConnection, reference: str | None) -> int | None:
    """The id of the organiser with ``reference`` (None for none); OrganiserNotFound if none."""
    if reference is None:
        return None
    from geo import organisers

    return await organisers.organiser_id(conn, reference, parameter="started_by_organiser")


def _audit_view(row: dict[str, Any]) -> dict[str, Any]:
    """The audited form of a group: everything but the leader's contact details and address.

    Private values never enter the audit log; a change to them is recorded by name only.
    """
    return {
        "reference": row["reference"],
        "name": row["name"],
        "kind": row["kind"],
        "registration_number": row["registration_number"],
        "leader_name": row["leader_name"],
        "code_of_conduct_version": row["code_of_conduct_version"],
        "code_of_conduct_accepted_on": row["code_of_conduct_accepted_on"].isoformat(),
        "area_km2": row["area_km2"],
        "area_lsoa_codes": row["area_lsoa_codes"],
        "lad_codes": row["lad_codes"],
        "principal_lad_code": row["principal_lad_code"],
        "started_by_organiser": row["started_by_organiser"],
        "listed": row["listed"],
        "last_activity_on": None
        if row["last_activity_on"] is None
        else row["last_activity_on"].isoformat(),
        "managers": row["managers"],
        "version": row["version"],
    }


_PRIVATE_COLUMNS = ("leader_email", "leader_phone", "leader_address")


async def create_group(
    conn: AsyncConnection,
    data: GroupInput,
    principal: Principal,
    on: date,
    rules: GroupRules = DEFAULT_RULES,
) -> GroupPrivate:
    """Register a group, audited; a group manager's key becomes its first manager.

    Group managers may register a group anywhere in England; officers only where the area
    touches their districts; admins anywhere.

    Raises
    ------
    CodeOfConductNotAccepted
        If the current code of conduct is not accepted (or the acceptance date is impossible).
    InvalidArea, AreaOutOfRange, AreaOutsideEngland
        If the area is invalid, too large or small, or outside the loaded English districts.
    OrganiserNotFound
        If ``started_by_organiser`` names no organiser.
    Forbidden, Unauthenticated
        If the caller may not register groups (there).
    """
    principal.require("group_manager", "officer")
    _check_code_of_conduct(data.code_of_conduct, on)
    assert data.code_of_conduct is not None
    async with conn.transaction():
        await coverage.lock_writes(conn)
        area = await measure_area(
            conn,
            geometry=data.geometry,
            lsoa_codes=data.lsoa_codes,
            max_km2=rules.max_area_km2,
            min_km2=rules.min_area_km2,
            max_vertices=rules.max_vertices,
        )
        if principal.role == "officer" and not set(principal.lad_codes) & set(area.lad_codes):
            raise Forbidden(
                f"this key acts in {', '.join(principal.lad_codes)}; the area lies in "
                f"{', '.join(area.lad_codes)}"
            )
        organiser_id = await _organiser_id(conn, clean_text(data.started_by_organiser))
        cur = await conn.execute(
            read_sql("geo", "group_insert.sql"),
            {
                "name": data.name.strip(),
                "kind": data.kind,
                "registration_number": clean_text(data.registration_number),
                "description": data.description.strip(),
                "meeting_place": clean_text(data.meeting_place),
                "how_to_join": clean_text(data.how_to_join),
                "website": clean_text(data.website),
                "leader_name": data.leader.name.strip(),
                "leader_email": data.leader.email,
                "leader_phone": data.leader.phone,
                "leader_address": clean_text(data.leader.address),
                "code_of_conduct_version": data.code_of_conduct.version,
                "code_of_conduct_accepted_on": data.code_of_conduct.accepted_on,
                "area_wkb": area.wkb,
                "area_km2": area.area_km2,
                "area_lsoa_codes": area.lsoa_codes,
                "lad_codes": area.lad_codes,
                "principal_lad_code": area.principal_lad_code,
                "started_by_organiser_id": organiser_id,
                "listed": data.listed,
                "actor": principal.actor,
            },
        )
        created = await cur.fetchone()
        assert created is not None
        group_id, reference = int(created[0]), str(created[1])
        if principal.role == "group_manager" and principal.key_id is not None:
            await conn.execute(
                read_sql("geo", "group_manager_add.sql"),
                {"group_id": group_id, "key_id": principal.key_id},
            )
        since = active_since(on, rules.active_months)
        row = await _group_row(conn, reference, active_since_=since, with_geometry=True)
        await audit.record(
            conn,
            principal.actor,
            "group.create",
            "community_group",
            reference,
            None,
            _audit_view(row) | {"private_recorded": list(_PRIVATE_COLUMNS)},
        )
        await _after_write(
            conn, group_id, on, rules, coverage_changed=True, organiser_ids={organiser_id}
        )
    return private_view(row)


def _may_edit(principal: Principal, row: dict[str, Any]) -> None:
    """Raise unless the caller may edit the group (its managers, its officers, admins)."""
    principal.require("group_manager", "officer")
    if not may_see_private(principal, row["lad_codes"], row["managers"]):
        if principal.role == "officer":
            raise Forbidden(
                f"this key acts in {', '.join(principal.lad_codes)}; the group's area lies in "
                f"{', '.join(row['lad_codes'])}"
            )
        raise Forbidden("only the group's managers, its districts' officers and admins may")


async def _locked_row(
    conn: AsyncConnection, reference: str, principal: Principal, on: date, rules: GroupRules
) -> dict[str, Any]:
    """Lock a group's row for a write and return it (GroupNotFound if hidden or missing)."""
    row, _ = await _visible_row(conn, reference, principal, on, rules)
    await conn.execute(read_sql("geo", "group_lock.sql"), {"id": row["id"]})
    # Read again under the lock: a parallel write may have committed in between.
    row, _ = await _visible_row(conn, reference, principal, on, rules)
    return row


async def update_group(
    conn: AsyncConnection,
    reference: str,
    changes: GroupChanges,
    principal: Principal,
    on: date,
    rules: GroupRules = DEFAULT_RULES,
    expected_version: int | None = None,
) -> GroupPrivate:
    """Edit a group (only the fields given), audited; checked against ``expected_version``.

    Its managers, officers of its districts and admins may edit it; an officer moving the
    area must still act in one of the new area's districts.

    Raises
    ------
    StaleVersion
        If ``expected_version`` is not the current version.
    CodeOfConductNotAccepted, InvalidArea, AreaOutOfRange, AreaOutsideEngland,
    OrganiserNotFound, Forbidden, Unauthenticated, GroupNotFound
        As for :func:`create_group`.
    """
    principal.require("group_manager", "officer")
    given = changes.model_fields_set
    async with conn.transaction():
        await coverage.lock_writes(conn)
        row = await _locked_row(conn, reference, principal, on, rules)
        _may_edit(principal, row)
        if expected_version is not None and expected_version != row["version"]:
            raise StaleVersion(
                f"group {reference} is at version {row['version']}, not {expected_version}"
            )
        values: dict[str, Any] = {
            k: row[k]
            for k in (
                "name",
                "kind",
                "registration_number",
                "description",
                "meeting_place",
                "how_to_join",
                "website",
                "leader_name",
                "leader_email",
                "leader_phone",
                "leader_address",
                "code_of_conduct_version",
                "code_of_conduct_accepted_on",
                "area_km2",
                "area_lsoa_codes",
                "lad_codes",
                "principal_lad_code",
                "started_by_organiser_id",
                "listed",
            )
        }
        for name in ("registration_number", "meeting_place", "how_to_join", "website"):
            if name in given:
                values[name] = clean_text(getattr(changes, name))
        if "name" in given and changes.name is not None:
            values["name"] = changes.name.strip()
        if "kind" in given and changes.kind is not None:
            values["kind"] = changes.kind
        if "description" in given and changes.description is not None:
            values["description"] = changes.description.strip()
        if "listed" in given and changes.listed is not None:
            values["listed"] = changes.listed
        private_changed: list[str] = []
        if changes.leader is not None:
            new_leader = {
                "leader_name": changes.leader.name.strip(),
                "leader_email": changes.leader.email,
                "leader_phone": changes.leader.phone,
                "leader_address": clean_text(changes.leader.address),
            }
            private_changed = [k for k in _PRIVATE_COLUMNS if new_leader[k] != row[k]]
            values |= new_leader
        if changes.code_of_conduct is not None:
            _check_code_of_conduct(changes.code_of_conduct, on)
            values["code_of_conduct_version"] = changes.code_of_conduct.version
            values["code_of_conduct_accepted_on"] = changes.code_of_conduct.accepted_on
        area_wkb = None
        if changes.geometry is not None or changes.lsoa_codes is not None:
            area = await measure_area(
                conn,
                geometry=changes.geometry,
                lsoa_codes=changes.lsoa_codes,
                max_km2=rules.max_area_km2,
                min_km2=rules.min_area_km2,
                max_vertices=rules.max_vertices,
            )
            if principal.role == "officer" and not set(principal.lad_codes) & set(area.lad_codes):
                raise Forbidden(
                    f"this key acts in {', '.join(principal.lad_codes)}; the new area lies in "
                    f"{', '.join(area.lad_codes)}"
                )
            area_wkb = area.wkb
            values |= {
                "area_km2": area.area_km2,
                "area_lsoa_codes": area.lsoa_codes,
                "lad_codes": area.lad_codes,
                "principal_lad_code": area.principal_lad_code,
            }
        old_organiser = row["started_by_organiser_id"]
        if "started_by_organiser" in given:
            values["started_by_organiser_id"] = await _organiser_id(
                conn, clean_text(changes.started_by_organiser)
            )
        cur = await conn.execute(
            read_sql("geo", "group_update.sql"),
            {**values, "area_wkb": area_wkb, "id": row["id"], "version": row["version"]},
        )
        if cur.rowcount != 1:  # cannot happen under the row lock; the guard is the backstop
            raise StaleVersion(f"group {reference} changed meanwhile; read it again")
        since = active_since(on, rules.active_months)
        after = await _group_row(conn, reference, active_since_=since, with_geometry=True)
        await audit.record(
            conn,
            principal.actor,
            "group.edit",
            "community_group",
            reference,
            _audit_view(row),
            _audit_view(after) | {"private_changed": private_changed},
        )
        listing_changed = after["listed"] != row["listed"]
        await _after_write(
            conn,
            int(row["id"]),
            on,
            rules,
            coverage_changed=area_wkb is not None or listing_changed,
            organiser_ids={old_organiser, after["started_by_organiser_id"]}
            if listing_changed or old_organiser != after["started_by_organiser_id"]
            else None,
        )
    return private_view(after)


async def add_manager(
    conn: AsyncConnection, reference: str, key_id: int, principal: Principal, on: date
) -> Managers:
    """Make a live group manager's key a manager of the group (admins only), audited.

    Raises
    ------
    InvalidInput
        If the key does not exist, is revoked, or is not a group manager's key.
    Forbidden, Unauthenticated, GroupNotFound
        As named.
    """
    principal.require("admin")
    async with conn.transaction():
        row = await _locked_row(conn, reference, principal, on, DEFAULT_RULES)
        async with conn.cursor(row_factory=dict_row) as cur:
            await cur.execute(read_sql("geo", "group_manager_key.sql"), {"key_id": key_id})
            key = await cur.fetchone()
        if key is None or not key["live"]:
            raise InvalidInput(f"no live API key {key_id}", parameter="key_id")
        if key["role"] != "group_manager":
            raise InvalidInput(
                f"key {key_id} is a {key['role']} key; only group manager keys manage groups",
                parameter="key_id",
            )
        cur2 = await conn.execute(
            read_sql("geo", "group_manager_add.sql"), {"group_id": row["id"], "key_id": key_id}
        )
        found = await cur2.fetchone()
        managers = [int(k) for k in (found[0] if found and found[0] else [])]
        await audit.record(
            conn,
            principal.actor,
            "group.add_manager",
            "community_group",
            reference,
            {"reference": reference, "managers": row["managers"]},
            {"reference": reference, "managers": managers},
        )
    return Managers(reference=reference, managers=managers)


async def record_activity(
    conn: AsyncConnection,
    reference: str,
    data: ActivityInput,
    principal: Principal,
    on: date,
    rules: GroupRules = DEFAULT_RULES,
) -> ActivityPrivate:
    """Record a meeting, project or event of a group (its managers, officers, admins), audited.

    The group's latest activity date (what makes it active) follows; so do the map layer and
    coverage. The date may not be in the future, nor more than five years ago.

    Raises
    ------
    DateInFuture
        If ``held_on`` is after ``on``.
    InvalidInput
        If ``held_on`` is more than five years before ``on``.
    Forbidden, Unauthenticated, GroupNotFound
        As named.
    """
    principal.require("group_manager", "officer")
    if data.held_on > on:
        raise DateInFuture(f"held_on {data.held_on} is in the future", parameter="held_on")
    earliest = on - timedelta(days=round(365.25 * MAX_ACTIVITY_AGE_YEARS))
    if data.held_on < earliest:
        raise InvalidInput(
            f"held_on {data.held_on} is more than {MAX_ACTIVITY_AGE_YEARS} years ago; such "
            "activity cannot make a group active",
            parameter="held_on",
        )
    async with conn.transaction():
        await coverage.lock_writes(conn)
        row = await _locked_row(conn, reference, principal, on, rules)
        _may_edit(principal, row)
        async with conn.cursor(row_factory=dict_row) as cur:
            await cur.execute(
                read_sql("geo", "group_activity_insert.sql"),
                {
                    "group_id": row["id"],
                    "kind": data.kind,
                    "held_on": data.held_on,
                    "title": data.title.strip(),
                    "description": data.description.strip(),
                    "attendance": data.attendance,
                    "actor": principal.actor,
                },
            )
            activity = await cur.fetchone()
        assert activity is not None
        cur2 = await conn.execute(read_sql("geo", "group_last_activity.sql"), {"id": row["id"]})
        latest = await cur2.fetchone()
        assert latest is not None
        await audit.record(
            conn,
            principal.actor,
            "group.activity",
            "group_activity",
            str(activity["id"]),
            None,
            {
                "group": reference,
                "kind": data.kind,
                "held_on": data.held_on.isoformat(),
                "title": activity["title"],
                "group_last_activity_on": {
                    "before": _iso(row["last_activity_on"]),
                    "after": _iso(latest[0]),
                },
            },
        )
        await _after_write(
            conn,
            int(row["id"]),
            on,
            rules,
            coverage_changed=latest[0] != row["last_activity_on"],
        )
    return ActivityPrivate.model_validate(activity)


def _iso(value: date | None) -> str | None:
    """A date as ISO text (None stays None)."""
    return None if value is None else value.isoformat()


def _retry_after(now: datetime, taken_at: datetime, window: timedelta) -> int:
    """Seconds until a slot taken at ``taken_at`` leaves a window of ``window``."""
    return max(1, math.ceil((taken_at + window - now).total_seconds()))


async def submit_rating(
    conn: AsyncConnection,
    reference: str,
    data: RatingInput,
    fingerprint: str,
    on: date,
    rules: GroupRules = DEFAULT_RULES,
) -> RatingPublic:
    """Record a member of the public's rating (pending until moderated), audited.

    Abuse limits per sender fingerprint (a keyed hash of their address): one rating of a
    group per ``rating_repeat_days`` days, and ``ratings_per_day`` ratings in any rolling day.
    Parallel requests of one sender queue on a lock, so none slips past a limit. The map
    layer changes only when the rating is published (:func:`moderate_rating`).

    Raises
    ------
    TooManyRequests
        If a limit is reached (``retry_after`` says when the sender may try again).
    GroupNotFound
        If there is no such listed group.
    """
    async with conn.transaction():
        row, _ = await _visible_row(conn, reference, _PUBLIC, on, rules)
        await conn.execute(read_sql("geo", "group_sender_lock.sql"), {"fingerprint": fingerprint})
        async with conn.cursor(row_factory=dict_row) as cur:
            await cur.execute(
                read_sql("geo", "group_rating_limits.sql"),
                {
                    "fingerprint": fingerprint,
                    "group_id": row["id"],
                    "repeat_days": rules.rating_repeat_days,
                    "per_day": rules.ratings_per_day,
                },
            )
            limits = await cur.fetchone()
        assert limits is not None
        if limits["last_here"] is not None:
            raise TooManyRequests(
                f"you rated {reference} in the last {rules.rating_repeat_days} days; one rating "
                "of a group per sender in that time",
                retry_after=_retry_after(
                    limits["now"], limits["last_here"], timedelta(days=rules.rating_repeat_days)
                ),
            )
        if limits["in_day"] >= rules.ratings_per_day:
            raise TooManyRequests(
                f"at most {rules.ratings_per_day} ratings per sender in a day",
                retry_after=_retry_after(
                    limits["now"], limits["day_slot_taken_at"], timedelta(days=1)
                ),
            )
        async with conn.cursor(row_factory=dict_row) as cur:
            await cur.execute(
                read_sql("geo", "group_rating_insert.sql"),
                {
                    "group_id": row["id"],
                    "stars": data.stars,
                    "comment": data.comment.strip(),
                    "fingerprint": fingerprint,
                },
            )
            rating = await cur.fetchone()
        assert rating is not None
        await audit.record(
            conn,
            "public",
            "group.rate",
            "group_rating",
            str(rating["id"]),
            None,
            {"group": reference, "stars": data.stars, "status": rating["status"]},
        )
        # A pending rating changes nothing the map layer shows, so the layer is left alone
        # here (moderation rewrites it): rewriting would bump the data version and drop every
        # cached tile on each public POST.
    return _rating_public(rating)


async def moderate_rating(
    conn: AsyncConnection,
    reference: str,
    rating_id: int,
    decision: Decision,
    principal: Principal,
    on: date,
    rules: GroupRules = DEFAULT_RULES,
) -> RatingPrivate:
    """Publish or reject a rating (officers of the group's districts and admins), audited.

    A group's managers may not moderate its ratings. A decision may be changed later.

    Raises
    ------
    RatingNotFound
        If the group has no such rating.
    Forbidden, Unauthenticated, GroupNotFound
        As named.
    """
    principal.require("officer")
    async with conn.transaction():
        row = await _locked_row(conn, reference, principal, on, rules)
        if principal.role == "officer" and not set(principal.lad_codes) & set(row["lad_codes"]):
            raise Forbidden(
                f"this key acts in {', '.join(principal.lad_codes)}; the group's area lies in "
                f"{', '.join(row['lad_codes'])}"
            )
        params = {"id": rating_id, "group_id": row["id"]}
        async with conn.cursor(row_factory=dict_row) as cur:
            await cur.execute(read_sql("geo", "group_rating_get.sql"), params)
            before = await cur.fetchone()
            if before is None:
                raise RatingNotFound(
                    f"group {reference} has no rating {rating_id}", parameter="ratingId"
                )
            status = "published" if decision == "publish" else "rejected"
            await cur.execute(
                read_sql("geo", "group_rating_moderate.sql"),
                params | {"status": status, "actor": principal.actor},
            )
            after = await cur.fetchone()
        assert after is not None
        await audit.record(
            conn,
            principal.actor,
            "group.moderate_rating",
            "group_rating",
            str(rating_id),
            {"group": reference, "stars": before["stars"], "status": before["status"]},
            {"group": reference, "stars": after["stars"], "status": after["status"]},
        )
        await _after_write(conn, int(row["id"]), on, rules, coverage_changed=False)
    return _rating_private(after)


async def send_message(
    conn: AsyncConnection,
    reference: str,
    data: MessageInput,
    fingerprint: str,
    on: date,
    rules: GroupRules = DEFAULT_RULES,
) -> MessageReceipt:
    """Relay a message to a listed group's leader (stored for its managers), audited.

    The sender's name, e-mail and text are private to the group's managers, its officers and
    admins; the audit log records only that a message arrived. Abuse limits per sender
    fingerprint: ``messages_per_hour`` in a rolling hour and ``messages_per_day`` in a day.

    Raises
    ------
    TooManyRequests
        If a limit is reached.
    GroupNotFound
        If there is no such listed group.
    """
    async with conn.transaction():
        row, _ = await _visible_row(conn, reference, _PUBLIC, on, rules)
        await conn.execute(read_sql("geo", "group_sender_lock.sql"), {"fingerprint": fingerprint})
        async with conn.cursor(row_factory=dict_row) as cur:
            await cur.execute(
                read_sql("geo", "group_message_limits.sql"),
                {
                    "fingerprint": fingerprint,
                    "per_hour": rules.messages_per_hour,
                    "per_day": rules.messages_per_day,
                },
            )
            limits = await cur.fetchone()
        assert limits is not None
        if limits["in_hour"] >= rules.messages_per_hour:
            raise TooManyRequests(
                f"at most {rules.messages_per_hour} messages per sender in an hour",
                retry_after=_retry_after(
                    limits["now"], limits["hour_slot_taken_at"], timedelta(hours=1)
                ),
            )
        if limits["in_day"] >= rules.messages_per_day:
            raise TooManyRequests(
                f"at most {rules.messages_per_day} messages per sender in a day",
                retry_after=_retry_after(
                    limits["now"], limits["day_slot_taken_at"], timedelta(days=1)
                ),
            )
        cur2 = await conn.execute(
            read_sql("geo", "group_message_insert.sql"),
            {
                "group_id": row["id"],
                "sender_name": data.name.strip(),
                "sender_email": data.email,
                "message": data.message.strip(),
                "fingerprint": fingerprint,
            },
        )
        message = await cur2.fetchone()
        assert message is not None
        await audit.record(
            conn,
            "public",
            "group.message",
            "group_message",
            str(message[0]),
            None,
            {"group": reference, "private_recorded": ["sender_name", "sender_email", "message"]},
        )
    return MessageReceipt(
        group=reference,
        received_at=message[1],
        detail="your message was passed on to the group's leader, who will reply by e-mail",
    )


_PUBLIC = Principal(role="public")
