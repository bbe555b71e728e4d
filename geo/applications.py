"""Grant applications: drafts, matched-funding pledges, submission checks and decisions.

A group applies to a programme for an amount, for an area (a GSS code or a drawn polygon), with
pledges of matched funding. The application moves through a small state machine:

========== ======================= =============================================
status     next steps              who
========== ======================= =============================================
draft      edit, submit            the key that created it
submitted  approve, reject         officers of its principal district, admins
approved   pay                     officers of its principal district, admins
rejected   (final)
paid       (final)
========== ======================= =============================================

Submission checks the programme's rules all at once (eligibility of the area, open dates,
award limits, remaining budget, matched funding) and reports every failure. Approval commits
the money under a row lock on the programme, so parallel approvals queue and can never commit
more than the budget; the table's CHECK constraint is the last line of defence. Every write,
with the audit entry that records it, happens in one transaction.

Who may see an application: the key that created it, officers whose districts include its
principal district (where most of its residents live), and admins. Everyone else is told it
does not exist, so ids leak nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_UP, Decimal
from typing import Annotated, Any, Literal

import psycopg.errors
import shapely
import shapely.geometry
from psycopg import AsyncConnection
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema, field_validator, model_validator
from pyproj import Transformer

from geo import audit, place_resolution
from geo.access import Principal
from geo.areas import find_edition
from geo.drawn_areas import WORLD_BOUNDS, drawn_area_schema
from geo.errors import (
    ApplicationNotFound,
    BudgetExhausted,
    Forbidden,
    IllegalTransition,
    InvalidInput,
    StaleVersion,
    SubmissionRefused,
)
from geo.grants import checks
from geo.sqlfiles import read_sql

Status = Literal["draft", "submitted", "approved", "rejected", "paid"]
Step = Literal["edit", "submit", "approve", "reject", "pay"]

# The state machine: what may follow each status, and where each step leads.
NEXT_STEPS: dict[str, tuple[Step, ...]] = {
    "draft": ("edit", "submit"),
    "submitted": ("approve", "reject"),
    "approved": ("pay",),
    "rejected": (),
    "paid": (),
}
STEP_LEADS_TO: dict[Step, Status] = {
    "edit": "draft",
    "submit": "submitted",
    "approve": "approved",
    "reject": "rejected",
    "pay": "paid",
}
# Steps only the applicant (the creating key) takes; the others are officers' decisions.
APPLICANT_STEPS: frozenset[Step] = frozenset({"edit", "submit"})

# A 360Giving organisation identifier: a registered list prefix (org-id.guide, e.g. GB-CHC for
# the Charity Commission) and the organisation's id on that list, or 360G-<funder>-<id> for
# organisations on no list (360Giving identifier guidance).
ORG_ID_PATTERN = r"^(?:[A-Z]{2}-[A-Z0-9]{2,}|360G)-[A-Za-z0-9][A-Za-z0-9._/-]*$"
CURRENCY_SYMBOLS = {"GBP": "£", "EUR": "€", "USD": "$"}
_PENNY = Decimal("0.01")
_TO_WGS84 = Transformer.from_crs(27700, 4326, always_xy=True)


class Pledge(BaseModel):
    """Matched funding promised from a non-government source (the evidence is private)."""

    model_config = ConfigDict(extra="forbid")

    source_name: str = Field(min_length=2, max_length=200, examples=["Trafford Community Trust"])
    source_type: str = Field(description=f"One of {', '.join(checks.MATCH_SOURCE_TYPES)}.")
    amount: Decimal = Field(gt=0, max_digits=14, decimal_places=2)
    evidence_reference: str = Field(
        min_length=1,
        max_length=500,
        description="Where the promise can be checked (a letter, an offer document). Private: "
        "shown only to the applicant, officers and admins; never published.",
    )

    @field_validator("source_type")
    @classmethod
    def _known_source_type(cls, value: str) -> str:
        if value not in checks.MATCH_SOURCE_TYPES:
            raise ValueError(
                f"unknown source type {value!r}; use one of {list(checks.MATCH_SOURCE_TYPES)}"
            )
        return value


class AreaChoice(BaseModel):
    """The area an application is for: a GSS code or a GeoJSON polygon, not both."""

    model_config = ConfigDict(extra="forbid")

    code: str | None = Field(
        None, max_length=16, description="An LSOA (E01), ward (E05) or district (E06-E09) code."
    )
    geometry: Annotated[dict[str, Any], WithJsonSchema(drawn_area_schema(WORLD_BOUNDS))] | None = (
        Field(
            None, description="A GeoJSON Polygon or MultiPolygon in longitude/latitude (EPSG:4326)."
        )
    )

    @model_validator(mode="after")
    def _exactly_one(self) -> AreaChoice:
        if (self.code is None) == (self.geometry is None):
            raise ValueError("give the area as exactly one of code or geometry")
        return self

    def place(self) -> place_resolution.Place:
        """The area as a place to resolve."""
        if self.code is not None:
            return place_resolution.Place(code=self.code.strip().upper())
        return place_resolution.Place(geometry=self.geometry)


class ApplicationDraft(BaseModel):
    """A new application, as a group writes it."""

    model_config = ConfigDict(extra="forbid")

    programme: str = Field(max_length=64, description="The programme's id.")
    applicant_name: str = Field(min_length=2, max_length=200)
    applicant_org_id: str = Field(
        max_length=100,
        pattern=ORG_ID_PATTERN,
        description="The group's 360Giving organisation identifier, e.g. GB-CHC-1234567.",
        examples=["GB-CHC-1234567"],
    )
    title: str = Field(min_length=3, max_length=140)
    description: str = Field("", max_length=5000)
    amount: Decimal = Field(gt=0, max_digits=14, decimal_places=2)
    area: AreaChoice
    pledges: list[Pledge] = Field(default_factory=list, max_length=50)


class ApplicationChanges(BaseModel):
    """Changes to a draft: only the fields given change; ``pledges`` replaces the list."""

    model_config = ConfigDict(extra="forbid")

    programme: str | None = Field(None, max_length=64)
    applicant_name: str | None = Field(None, min_length=2, max_length=200)
    applicant_org_id: str | None = Field(None, max_length=100, pattern=ORG_ID_PATTERN)
    title: str | None = Field(None, min_length=3, max_length=140)
    description: str | None = Field(None, max_length=5000)
    amount: Decimal | None = Field(None, gt=0, max_digits=14, decimal_places=2)
    area: AreaChoice | None = None
    pledges: list[Pledge] | None = Field(None, max_length=50)

    @model_validator(mode="after")
    def _something(self) -> ApplicationChanges:
        if not self.model_fields_set:
            raise ValueError("give at least one field to change")
        for name in self.model_fields_set:
            if getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null; leave it out to keep it")
        return self


class ApplicationArea(BaseModel):
    """The area applied for: its code, or the polygon in longitude/latitude."""

    code: str | None
    geometry: dict[str, Any] | None


class Application(BaseModel):
    """An application as its applicant, officers and admins see it."""

    id: int
    programme: str
    status: Status
    next_steps: list[Step] = Field(description="What may happen next, given the status.")
    applicant_name: str
    applicant_org_id: str
    title: str
    description: str
    amount: Decimal
    currency: str
    area: ApplicationArea
    principal_lad: str | None = Field(
        description="The district holding most of the area's residents; its officers decide."
    )
    pledges: list[Pledge]
    eligibility: dict[str, Any] | None = Field(
        description="The eligibility check stored when the application was submitted."
    )
    decision_reason: str | None
    decided_by: str | None
    decided_at: datetime | None
    paid_at: datetime | None
    created_by: str
    created_at: datetime
    updated_at: datetime
    version: int


@dataclass(frozen=True)
class _Stored:
    """An application as read from the database, with who owns it."""

    application: Application
    owner_key_id: int | None


def format_money(amount: Decimal, currency: str) -> str:
    """Money as people read it: ``£1,250.00`` (the ISO code for currencies without a symbol)."""
    symbol = CURRENCY_SYMBOLS.get(currency)
    text = f"{amount.quantize(_PENNY):,.2f}"
    return f"{symbol}{text}" if symbol else f"{currency} {text}"


def next_steps(status: str) -> list[Step]:
    """The steps the state machine allows after a status."""
    return list(NEXT_STEPS[status])


# ---------------------------------------------------------------------------------------------
# Reading


async def get_application(
    conn: AsyncConnection, application_id: int, principal: Principal
) -> Application:
    """Return an application the caller may see.

    Raises
    ------
    ApplicationNotFound
        If there is no such application, or the caller is neither its creator, an officer of
        its principal district nor an admin (the two are indistinguishable on purpose).
    """
    stored = await _load(conn, application_id)
    if not _may_see(principal, stored):
        raise ApplicationNotFound(f"no grant application {application_id}")
    return stored.application


# ---------------------------------------------------------------------------------------------
# Writing


async def create_application(
    conn: AsyncConnection, draft: ApplicationDraft, principal: Principal
) -> Application:
    """Create a draft application (group managers, officers, admins), audited.

    Raises
    ------
    InvalidInput
        If the programme does not exist, or the area is malformed.
    NotFound
        If the area is not in the programme edition's geography, or lies outside England.
    """
    principal.require("group_manager", "officer")
    programme = await _programme(conn, draft.programme)
    area_code, wkb = await _validated_area(conn, draft.area, programme)
    async with conn.transaction():
        cur = await conn.execute(
            read_sql("geo", "applications/insert.sql"),
            {
                "programme_id": programme.id,
                "applicant_name": draft.applicant_name,
                "applicant_org_id": draft.applicant_org_id,
                "title": draft.title,
                "description": draft.description,
                "amount": draft.amount,
                "area_code": area_code,
                "wkb": wkb,
                "created_by": principal.actor,
                "owner_key_id": principal.key_id,
            },
        )
        row = await cur.fetchone()
        assert row is not None
        application_id = int(row[0])
        await _insert_pledges(conn, application_id, draft.pledges)
        created = (await _load(conn, application_id)).application
        await _audit(conn, principal, "create", None, created)
    return created


async def update_application(
    conn: AsyncConnection,
    application_id: int,
    changes: ApplicationChanges,
    principal: Principal,
    expected_version: int | None,
) -> Application:
    """Change a draft (its creator only), audited.

    ``expected_version`` is the version the caller last saw; ``None`` skips the check.

    Raises
    ------
    ApplicationNotFound, Forbidden, StaleVersion, IllegalTransition
        If the caller may not see it, is not its creator, saw an older version, or it is no
        longer a draft.
    """
    principal.require("group_manager", "officer")
    async with conn.transaction():
        before = await _guarded(conn, application_id, principal, "edit", expected_version)
        old = before.application
        programme = await _programme(conn, changes.programme or old.programme)
        values = {
            "id": application_id,
            "programme_id": programme.id,
            "applicant_name": changes.applicant_name or old.applicant_name,
            "applicant_org_id": changes.applicant_org_id or old.applicant_org_id,
            "title": changes.title or old.title,
            "description": old.description if changes.description is None else changes.description,
            "amount": changes.amount or old.amount,
            "keep_area": True,
            "area_code": None,
            "wkb": None,
        }
        area = changes.area
        if area is None and programme.id != old.programme:
            # The area must exist in the new programme's geography too.
            area = AreaChoice(code=old.area.code, geometry=old.area.geometry)
        if area is not None:
            values["area_code"], values["wkb"] = await _validated_area(conn, area, programme)
            values["keep_area"] = False
        await conn.execute(read_sql("geo", "applications/update.sql"), values)
        if changes.pledges is not None:
            await conn.execute(
                "DELETE FROM match_pledge WHERE application_id = %s", (application_id,)
            )
            await _insert_pledges(conn, application_id, changes.pledges)
        after = (await _load(conn, application_id)).application
        await _audit(conn, principal, "edit", old, after)
    return after


async def submit_application(
    conn: AsyncConnection,
    application_id: int,
    principal: Principal,
    today: date,
    expected_version: int | None = None,
) -> Application:
    """Submit a draft (its creator only) after checking it against its programme, audited.

    Every check runs, and every failure is reported: the area's eligibility (the programme's
    rule on the area, stored as a snapshot on success), the programme being open ``today``,
    the award limits, the programme's remaining budget, and matched funding (pledges from the
    programme's counted source types at least ``match_ratio`` times the amount).

    Raises
    ------
    SubmissionRefused
        With every failed check as a reason; the application stays a draft.
    ApplicationNotFound, Forbidden, StaleVersion, IllegalTransition
        As for :func:`update_application`.
    """
    principal.require("group_manager", "officer")
    async with conn.transaction():
        before = await _guarded(conn, application_id, principal, "submit", expected_version)
        old = before.application
        programme = await checks.get_programme(conn, old.programme)
        reasons = _money_reasons(old, programme, today)
        answer = (await checks.check_eligibility(conn, _place_of(old), programme.id, today))[0]
        if not answer.eligible:
            reasons.insert(0, answer.explanation)
        if reasons:
            raise SubmissionRefused(reasons)
        snapshot = await _snapshot(conn, old, programme, answer, today)
        after = await _set_status(conn, old, "submit", principal, eligibility=snapshot)
    return after


async def approve_application(
    conn: AsyncConnection,
    application_id: int,
    principal: Principal,
    expected_version: int | None = None,
) -> Application:
    """Approve a submitted application and commit its amount to the programme, audited.

    The programme's row is locked (``SELECT ... FOR UPDATE``) before the remaining budget is
    checked and ``committed`` raised in the same transaction, so concurrent approvals of one
    programme run one after another and none can spend money another has committed.

    Raises
    ------
    BudgetExhausted
        If the amount exceeds what is left of the budget (the application stays submitted).
    ApplicationNotFound, Forbidden, StaleVersion, IllegalTransition
        If the caller is not an officer of its district or an admin, saw an older version, or
        it is not submitted.
    """
    principal.require("officer")
    async with conn.transaction():
        before = await _guarded(conn, application_id, principal, "approve", expected_version)
        old = before.application
        cur = await conn.execute(
            read_sql("geo", "applications/programme_lock.sql"), {"id": old.programme}
        )
        locked = await cur.fetchone()
        assert locked is not None
        _, budget, committed, currency = locked
        remaining = budget - committed
        if old.amount > remaining:
            raise _budget_exhausted(old, remaining, currency)
        try:
            cur = await conn.execute(
                read_sql("geo", "applications/programme_commit.sql"),
                {"id": old.programme, "amount": old.amount},
            )
        except psycopg.errors.CheckViolation as exc:  # the last line of defence
            raise _budget_exhausted(old, remaining, currency) from exc
        row = await cur.fetchone()
        assert row is not None
        await audit.record(
            conn,
            principal.actor,
            "programme.commit",
            "grant_programme",
            old.programme,
            {"committed": str(committed), "budget": str(budget)},
            {"committed": str(row[0]), "budget": str(row[1]), "application": old.id},
        )
        after = await _set_status(conn, old, "approve", principal)
    return after


async def reject_application(
    conn: AsyncConnection,
    application_id: int,
    principal: Principal,
    reason: str,
    expected_version: int | None = None,
) -> Application:
    """Reject a submitted application with a reason (officers of its district, admins)."""
    if not reason.strip():
        raise InvalidInput("a rejection needs a reason", parameter="reason")
    principal.require("officer")
    async with conn.transaction():
        before = await _guarded(conn, application_id, principal, "reject", expected_version)
        after = await _set_status(
            conn, before.application, "reject", principal, reason=reason.strip()
        )
    return after


async def pay_application(
    conn: AsyncConnection,
    application_id: int,
    principal: Principal,
    expected_version: int | None = None,
) -> Application:
    """Record that an approved grant has been paid (officers of its district, admins)."""
    principal.require("officer")
    async with conn.transaction():
        before = await _guarded(conn, application_id, principal, "pay", expected_version)
        after = await _set_status(conn, before.application, "pay", principal)
    return after


# ---------------------------------------------------------------------------------------------
# Helpers


async def _programme(conn: AsyncConnection, programme_id: str) -> checks.Programme:
    """The programme an application names; an unknown one is bad input, not a missing page."""
    try:
        return await checks.get_programme(conn, programme_id)
    except checks.ProgrammeNotFound as exc:
        raise InvalidInput(f"no grant programme {programme_id!r}", parameter="programme") from exc


async def _validated_area(
    conn: AsyncConnection, area: AreaChoice, programme: checks.Programme
) -> tuple[str | None, bytes | None]:
    """Check the area resolves in the programme's geography; return its code or BNG WKB."""
    edition = await find_edition(conn, programme.edition_code)
    place = area.place()
    await place_resolution.resolve(conn, place, edition, "lsoa")
    if place.geometry is not None:
        projected, _ = place_resolution.polygon_in_bng(place.geometry)
        return None, shapely.to_wkb(projected)
    return place.code, None


async def _insert_pledges(
    conn: AsyncConnection, application_id: int, pledges: list[Pledge]
) -> None:
    """Store an application's pledges."""
    for pledge in pledges:
        await conn.execute(
            read_sql("geo", "applications/pledge_insert.sql"),
            {"application_id": application_id, **pledge.model_dump()},
        )


async def _load(conn: AsyncConnection, application_id: int, *, lock: bool = False) -> _Stored:
    """Read an application, its pledges and principal district (optionally locking its row)."""
    query = read_sql("geo", "applications/get.sql") + (" FOR UPDATE OF a" if lock else "")
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(query, {"id": application_id})
        row = await cur.fetchone()
        if row is None:
            raise ApplicationNotFound(f"no grant application {application_id}")
        await cur.execute(read_sql("geo", "applications/pledges.sql"), {"id": application_id})
        pledges = [Pledge.model_validate(p) for p in await cur.fetchall()]
        await cur.execute(read_sql("geo", "applications/principal_lad.sql"), {"id": application_id})
        lad = await cur.fetchone()
    geometry = None
    if row["area_wkb"] is not None:
        shape = shapely.from_wkb(bytes(row["area_wkb"]))
        wgs84 = shapely.transform(shape, _TO_WGS84.transform, interleaved=False)
        geometry = shapely.geometry.mapping(wgs84)
    application = Application(
        id=row["id"],
        programme=row["programme_id"],
        status=row["status"],
        next_steps=next_steps(row["status"]),
        applicant_name=row["applicant_name"],
        applicant_org_id=row["applicant_org_id"],
        title=row["title"],
        description=row["description"],
        amount=row["amount"],
        currency=row["currency"],
        area=ApplicationArea(code=row["area_code"], geometry=_plain(geometry)),
        principal_lad=None if lad is None else lad["lad_code"],
        pledges=pledges,
        eligibility=row["eligibility"],
        decision_reason=row["decision_reason"],
        decided_by=row["decided_by"],
        decided_at=row["decided_at"],
        paid_at=row["paid_at"],
        created_by=row["created_by"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        version=row["version"],
    )
    return _Stored(application=application, owner_key_id=row["owner_key_id"])


def _plain(value: Any) -> Any:
    """GeoJSON from shapely's mapping with tuples turned into lists (plain JSON)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _is_owner(principal: Principal, stored: _Stored) -> bool:
    """Whether the caller's key created the application."""
    return principal.key_id is not None and principal.key_id == stored.owner_key_id


def _may_see(principal: Principal, stored: _Stored) -> bool:
    """The creator, officers of the principal district and admins may see an application."""
    lad = stored.application.principal_lad
    return (
        principal.role == "admin"
        or _is_owner(principal, stored)
        or (lad is not None and principal.may_act_in(lad))
    )


async def _guarded(
    conn: AsyncConnection,
    application_id: int,
    principal: Principal,
    step: Step,
    expected_version: int | None,
) -> _Stored:
    """Lock an application and check, in order, that the caller may see it, may take the step,
    has seen the current version, and that its status allows the step."""
    stored = await _load(conn, application_id, lock=True)
    if not _may_see(principal, stored):
        raise ApplicationNotFound(f"no grant application {application_id}")
    application = stored.application
    if step in APPLICANT_STEPS:
        if not _is_owner(principal, stored):
            raise Forbidden("only the key that created an application may edit or submit it")
    elif application.principal_lad is None or not principal.may_act_in(application.principal_lad):
        raise Forbidden(
            f"only officers of {application.principal_lad} or admins may {step} this application"
        )
    if expected_version is not None and expected_version != application.version:
        raise StaleVersion(
            f"application {application_id} is at version {application.version}, not "
            f"{expected_version}: fetch it again and reapply your change"
        )
    allowed = next_steps(application.status)
    if step not in allowed:
        follow = (
            f"allowed next: {', '.join(allowed)}"
            if allowed
            else f"an application that is {application.status} is final"
        )
        raise IllegalTransition(
            f"cannot {step} application {application_id}: it is {application.status}; {follow}",
            allowed=list(allowed),
        )
    return stored


async def _set_status(
    conn: AsyncConnection,
    old: Application,
    step: Step,
    principal: Principal,
    *,
    eligibility: dict[str, Any] | None = None,
    reason: str | None = None,
) -> Application:
    """Move a locked application along one step and audit the change."""
    await conn.execute(
        read_sql("geo", "applications/set_status.sql"),
        {
            "id": old.id,
            "from_status": old.status,
            "status": STEP_LEADS_TO[step],
            "eligibility": None if eligibility is None else Jsonb(eligibility),
            "reason": reason,
            "decided": step in ("approve", "reject"),
            "actor": principal.actor,
        },
    )
    after = (await _load(conn, old.id)).application
    await _audit(conn, principal, step, old, after)
    return after


async def _audit(
    conn: AsyncConnection,
    principal: Principal,
    step: str,
    before: Application | None,
    after: Application,
) -> None:
    """Append the audit entry of one write (in the caller's transaction)."""
    await audit.record(
        conn,
        principal.actor,
        f"application.{step}",
        "grant_application",
        str(after.id),
        None if before is None else before.model_dump(mode="json"),
        after.model_dump(mode="json"),
    )


def _place_of(application: Application) -> place_resolution.Place:
    """The application's area as a place for an eligibility check."""
    if application.area.code is not None:
        return place_resolution.Place(code=application.area.code)
    return place_resolution.Place(geometry=application.area.geometry)


def _ratio(ratio: Decimal) -> str:
    """A match ratio as people write it: ``1:1``, ``0.5:1``."""
    return f"{format(ratio.normalize(), 'f')}:1"


def _money_reasons(application: Application, programme: checks.Programme, today: date) -> list[str]:
    """Every failed money and date check of a submission, in words."""
    reasons = []
    currency = programme.currency
    amount = application.amount

    def money(value: Decimal) -> str:
        return format_money(value, currency)

    if today < programme.opens_on:
        reasons.append(f"the programme {programme.id} opens on {programme.opens_on.isoformat()}")
    elif today > programme.closes_on:
        reasons.append(f"the programme {programme.id} closed on {programme.closes_on.isoformat()}")
    if amount < programme.award_min:
        reasons.append(
            f"{money(amount)} is below the programme's minimum award of "
            f"{money(programme.award_min)}"
        )
    if amount > programme.award_max:
        reasons.append(
            f"{money(amount)} is above the programme's maximum award of "
            f"{money(programme.award_max)}"
        )
    if amount > programme.remaining:
        reasons.append(
            f"the programme has {money(programme.remaining)} of its budget left, less than the "
            f"{money(amount)} asked for"
        )
    counted_types = set(programme.match_source_types)
    counted = sum(
        (p.amount for p in application.pledges if p.source_type in counted_types), Decimal(0)
    )
    needed = (programme.match_ratio * amount).quantize(_PENNY, rounding=ROUND_UP)
    if counted < needed:
        if counted_types == set(checks.MATCH_SOURCE_TYPES):
            sources = "non-government sources"
        else:
            kinds = ", ".join(t.replace("_", " ") for t in programme.match_source_types)
            sources = f"non-government sources of the kinds this programme counts ({kinds})"
        reason = (
            f"matched funding short by {money(needed - counted)}: needs {money(needed)} from "
            f"{sources} at {_ratio(programme.match_ratio)}, has {money(counted)}"
        )
        uncounted = [p for p in application.pledges if p.source_type not in counted_types]
        if uncounted:
            kinds = ", ".join(sorted({p.source_type.replace("_", " ") for p in uncounted}))
            total = sum((p.amount for p in uncounted), Decimal(0))
            reason += f" ({money(total)} pledged from {kinds} does not count here)"
        reasons.append(reason)
    return reasons


async def _snapshot(
    conn: AsyncConnection,
    application: Application,
    programme: checks.Programme,
    answer: checks.EligibilityAnswer,
    today: date,
) -> dict[str, Any]:
    """What submission found, kept with the application: the eligibility answer, the money
    checks and the beneficiary location the 360Giving export publishes."""
    lad = application.principal_lad
    code = application.area.code or lad
    name = None
    if code is not None:
        cur = await conn.execute(read_sql("geo", "applications/area_name.sql"), {"code": code})
        row = await cur.fetchone()
        name = None if row is None else row[0]
    counted = sum(
        (p.amount for p in application.pledges if p.source_type in programme.match_source_types),
        Decimal(0),
    )
    return {
        "checked_on": today.isoformat(),
        "programme_version": programme.version,
        "edition": programme.edition_code,
        "eligible": answer.eligible,
        "explanation": answer.explanation,
        "answer": answer.model_dump(mode="json"),
        "principal_lad": lad,
        "beneficiary": {"code": code, "name": name},
        "match": {
            "ratio": str(programme.match_ratio),
            "needed": str((programme.match_ratio * application.amount).quantize(_PENNY, ROUND_UP)),
            "counted": str(counted),
        },
    }


def _budget_exhausted(
    application: Application, remaining: Decimal, currency: str
) -> BudgetExhausted:
    """The refusal of an approval the budget cannot cover."""
    return BudgetExhausted(
        f"approving {format_money(application.amount, currency)} would exceed the budget of "
        f"programme {application.programme}: {format_money(remaining, currency)} is left",
        allowed=["reject"],
    )
