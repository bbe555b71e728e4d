"""Bids to run threatened amenities: groups offering to take over state-owned parks, libraries.

The second community-rights process over assets, beside the ACV lifecycle of
:mod:`geo.rights`. It is a programme process, not a statutory one: a community group
expresses interest in running an amenity owned by the state (central government, an
arm's-length body or a council) that faces closure, disposal or reduced service; an officer of
the asset's district accepts or rejects it; an accepted bid ends *transferred* (the group runs
it, on terms recorded) or *fell through*; the group may withdraw while the bid is open.

================ ==================== ============== ==========================================
step             from                 to             who
================ ==================== ============== ==========================================
express_interest (none)               expressed      group (its manager's key) or an officer
accept           expressed            accepted       officer
reject           expressed            rejected       officer (reason)
withdraw         expressed, accepted  withdrawn      group or officer (reason)
complete         accepted             transferred    officer (terms)
fall_through     accepted             fell_through   officer (reason)
================ ==================== ============== ==========================================

The officer's decision is due within :data:`DECISION_PERIOD` (8 weeks beginning with the
expression of interest, computed by :func:`geo.rights.period_end` like every statutory date;
this one is programme policy, not statute). A decision after it is still accepted and the bid
shows it as overdue. One group may hold one open bid per asset; several groups may bid for the
same amenity. Every step is dated (never in the future, never before the previous step), locks
the bid, checks its version, and is written with its event, the audit log and the asset's map
row (``open_amenity_bids``) in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Literal, get_args

import psycopg.errors
from psycopg import AsyncConnection
from psycopg.rows import dict_row
from pydantic import BaseModel, ConfigDict, Field

from geo import assets, audit, rights
from geo.access import Principal
from geo.errors import (
    AmenityBidNotFound,
    Conflict,
    DateInFuture,
    Forbidden,
    IllegalTransition,
    InvalidInput,
    StaleVersion,
    UnknownGroup,
)
from geo.sqlfiles import read_sql

BidStatus = Literal["expressed", "accepted", "rejected", "withdrawn", "transferred", "fell_through"]
BidStep = Literal["accept", "reject", "withdraw", "complete", "fall_through"]
Threat = Literal["closure", "disposal", "reduced_service", "other"]
BID_STEPS: tuple[BidStep, ...] = get_args(BidStep)
OPEN_STATUSES: frozenset[str] = frozenset({"expressed", "accepted"})
STATE_OWNERS: frozenset[str] = frozenset(
    {"central_government", "arms_length_body", "local_authority"}
)
DECISION_PERIOD = rights.Period(
    "officer's decision on the expression of interest", weeks=8, authority="programme policy"
)


@dataclass(frozen=True)
class BidTransition:
    """One step of a bid: the statuses it may follow, where it leads, who takes it."""

    step: BidStep
    from_statuses: frozenset[str]
    to_status: BidStatus
    actor: Literal["group", "officer"]
    needs: Literal["reason", "terms"] | None = None


BID_TRANSITIONS: dict[BidStep, BidTransition] = {
    t.step: t
    for t in (
        BidTransition("accept", frozenset({"expressed"}), "accepted", "officer"),
        BidTransition("reject", frozenset({"expressed"}), "rejected", "officer", "reason"),
        BidTransition("withdraw", OPEN_STATUSES, "withdrawn", "group", "reason"),
        BidTransition("complete", frozenset({"accepted"}), "transferred", "officer", "terms"),
        BidTransition("fall_through", frozenset({"accepted"}), "fell_through", "officer", "reason"),
    )
}


def allowed_bid_steps(status: str) -> list[BidStep]:
    """Return the steps a bid in ``status`` may take next (none once it has ended)."""
    return [step for step, t in BID_TRANSITIONS.items() if status in t.from_statuses]


class BidInput(BaseModel):
    """An expression of interest in running a threatened amenity."""

    model_config = ConfigDict(extra="forbid")

    threat: Threat = Field(description="What threatens the amenity.")
    proposal: str = Field(min_length=10, max_length=5000, description="How the group would run it.")
    group: str | None = Field(
        default=None,
        max_length=200,
        description="The group (an officer recording for a group; a group's key acts as itself).",
    )
    effective_on: date | None = Field(
        default=None, description="When the interest was expressed (default today); not future."
    )


class BidStepInput(BaseModel):
    """What a step on a bid needs: when it took effect and its reason or terms."""

    model_config = ConfigDict(extra="forbid")

    effective_on: date | None = None
    reason: str | None = Field(default=None, max_length=2000)
    terms: str | None = Field(
        default=None, max_length=2000, description="Terms of a transfer (lease, licence, ...)."
    )


class AmenityBid(BaseModel):
    """A bid with its dates and the steps legal now."""

    id: int
    asset_id: int
    asset_name: str
    lad_code: str
    group: str
    threat: Threat
    proposal: str
    status: BidStatus
    expressed_on: date
    decision_due: date
    decision_overdue: bool
    decided_on: date | None
    ended_on: date | None
    reason: str | None
    terms: str | None
    allowed_steps: list[BidStep]
    version: int


class AmenityBidEvent(BaseModel):
    """One step of a bid, as recorded (append-only)."""

    step: str
    from_status: str | None
    to_status: str
    effective_on: date
    recorded_on: date
    actor: str
    details: dict[str, Any]


def _bid(row: dict[str, Any], on: date) -> AmenityBid:
    due = rights.period_end(row["expressed_on"], DECISION_PERIOD)
    decided = row["decided_on"] or (row["ended_on"] if row["status"] != "expressed" else None)
    return AmenityBid(
        id=row["id"],
        asset_id=row["asset_id"],
        asset_name=row["asset_name"],
        lad_code=row["lad_code"],
        group=row["group_name"],
        threat=row["threat"],
        proposal=row["proposal"],
        status=row["status"],
        expressed_on=row["expressed_on"],
        decision_due=due,
        decision_overdue=(decided or on) > due,
        decided_on=row["decided_on"],
        ended_on=row["ended_on"],
        reason=row["reason"],
        terms=row["terms"],
        allowed_steps=allowed_bid_steps(row["status"]),
        version=row["version"],
    )


async def _rows(
    conn: AsyncConnection,
    *,
    bid_id: int | None = None,
    asset_id: int | None = None,
    lad: str | None = None,
    status: str | None = None,
    lock: bool = False,
) -> list[dict[str, Any]]:
    query = read_sql("geo", "amenity_bids/select.sql") + (" FOR UPDATE OF b" if lock else "")
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(query, {"id": bid_id, "asset_id": asset_id, "lad": lad, "status": status})
        return await cur.fetchall()


async def _bid_row(conn: AsyncConnection, bid_id: int, *, lock: bool = False) -> dict[str, Any]:
    """One stored bid (locked for update when ``lock``); AmenityBidNotFound if none."""
    rows = await _rows(conn, bid_id=bid_id, lock=lock)
    if not rows:
        raise AmenityBidNotFound(f"no amenity bid has id {bid_id}")
    return rows[0]


async def get_bid(conn: AsyncConnection, bid_id: int, on: date) -> AmenityBid:
    """Return one bid as of ``on``.

    Raises
    ------
    AmenityBidNotFound
        If there is no such bid.
    """
    return _bid(await _bid_row(conn, bid_id), on)


async def list_bids(
    conn: AsyncConnection,
    on: date,
    *,
    asset_id: int | None = None,
    lad: str | None = None,
    status: BidStatus | None = None,
) -> list[AmenityBid]:
    """Return bids, newest first, optionally of one asset, district or status."""
    if asset_id is not None:
        await assets.get_asset(conn, asset_id, on)  # 404 for an unknown asset, not []
    rows = await _rows(conn, asset_id=asset_id, lad=lad, status=status)
    return [_bid(row, on) for row in rows]


async def history(conn: AsyncConnection, bid_id: int) -> list[AmenityBidEvent]:
    """Every step of a bid in order.

    Raises
    ------
    AmenityBidNotFound
        If there is no such bid.
    """
    await _bid_row(conn, bid_id)
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(read_sql("geo", "amenity_bids/history.sql"), {"id": bid_id})
        return [AmenityBidEvent(**row) for row in await cur.fetchall()]


def _effective(requested: date | None, on: date, not_before: date | None) -> date:
    """The step's date: today unless given; never in the future, never before the last step."""
    effective = requested or on
    if effective > on:
        raise DateInFuture(f"a step cannot take effect in the future ({effective} > {on})")
    if not_before is not None and effective < not_before:
        raise InvalidInput(
            f"a step cannot take effect on {effective}, before the bid's last step ({not_before})",
            parameter="effective_on",
        )
    return effective


def _audit_view(row: dict[str, Any]) -> dict[str, Any]:
    keys = ("status", "group_name", "expressed_on", "decided_on", "ended_on", "reason", "terms")
    view = {k: row[k].isoformat() if isinstance(row[k], date) else row[k] for k in keys}
    return {**view, "version": row["version"]}


# The bid lifecycle's event table and audit names.
BID_STEP_LOG = audit.StepLog("amenity_bid", "amenity_bids/event_insert.sql", _audit_view)


async def _acting_group(
    conn: AsyncConnection, principal: Principal, named: str | None, lad: str
) -> str:
    """The group a caller acts for: a group key is its own group; an officer names one."""
    if principal.role == "group_manager":
        if named and named.strip().lower() != principal.name.lower():
            raise Forbidden("a group manager's key acts only for its own group")
        return principal.name
    if not principal.may_act_in(lad):
        raise Forbidden(f"this key may not act for assets in {lad}")
    if not named or not named.strip():
        raise InvalidInput("an officer recording a bid must name the group", parameter="group")
    if not await assets.group_known(conn, named.strip()):
        raise UnknownGroup(f"no community group named {named!r} is known", parameter="group")
    return named.strip()


async def express_interest(
    conn: AsyncConnection, asset_id: int, data: BidInput, principal: Principal, on: date
) -> AmenityBid:
    """Record a group's expression of interest in running a threatened state-owned amenity.

    Raises
    ------
    AssetNotFound
        If there is no such asset.
    InvalidInput
        If the asset is not state-owned, or has been disposed of or removed.
    Conflict
        If the group already has an open bid for the asset.
    Forbidden, Unauthenticated, UnknownGroup, DateInFuture
        As named.
    """
    principal.require("group_manager", "officer")
    async with conn.transaction():
        asset = await assets.get_asset(conn, asset_id, on)
        group = await _acting_group(conn, principal, data.group, asset.lad_code)
        if asset.owner_type not in STATE_OWNERS:
            raise InvalidInput(
                f"only state-owned amenities can be bid for; this one is owned by "
                f"{asset.owner_type.replace('_', ' ')} (a commercial asset's route is the "
                "community right to bid: nominate it as an asset of community value)",
                parameter="assetId",
            )
        if asset.status in ("disposed", "removed"):
            raise InvalidInput(f"the asset has been {asset.status}: there is nothing to run")
        effective = _effective(data.effective_on, on, None)
        try:
            async with conn.transaction():  # a savepoint: the duplicate check is the index
                cur = await conn.execute(
                    read_sql("geo", "amenity_bids/insert.sql"),
                    {
                        "asset_id": asset_id,
                        "group_name": group,
                        "threat": data.threat,
                        "proposal": data.proposal.strip(),
                        "expressed_on": effective,
                        "created_by": principal.actor,
                    },
                )
        except psycopg.errors.UniqueViolation as exc:
            raise Conflict(f"{group} already has an open bid for this asset", allowed=[]) from exc
        inserted = await cur.fetchone()
        assert inserted is not None
        row = await _bid_row(conn, int(inserted[0]))
        details = {"group": group, "threat": data.threat}
        await audit.record_step(
            conn,
            BID_STEP_LOG,
            row["id"],
            "express_interest",
            None,
            row,
            effective,
            on,
            principal.actor,
            details,
        )
        await assets.refresh_serving(conn, row["asset_id"], on)
    return _bid(row, on)


async def take_bid_step(
    conn: AsyncConnection,
    bid_id: int,
    step: BidStep,
    data: BidStepInput,
    principal: Principal,
    on: date,
    expected_version: int | None = None,
) -> AmenityBid:
    """Take one step on a bid on ``on`` (today, UTC), audited.

    Raises
    ------
    IllegalTransition
        If the bid's status does not allow the step (409 with the legal steps).
    StaleVersion
        If ``expected_version`` is not the current version.
    InvalidInput, DateInFuture
        If a reason or terms are missing or the date is impossible.
    Forbidden, Unauthenticated, AmenityBidNotFound
        As named.
    """
    transition = BID_TRANSITIONS[step]
    if transition.actor == "group":
        principal.require("group_manager", "officer")
    else:
        principal.require("officer")
    async with conn.transaction():
        row = await _bid_row(conn, bid_id, lock=True)
        if principal.role == "group_manager":
            if row["group_name"].lower() != principal.name.lower():
                raise Forbidden("a group manager's key acts only for its own group's bids")
        elif not principal.may_act_in(row["lad_code"]):
            raise Forbidden(f"this key may not act for assets in {row['lad_code']}")
        if expected_version is not None and expected_version != row["version"]:
            raise StaleVersion(
                f"bid {bid_id} is at version {row['version']}, not {expected_version}"
            )
        if row["status"] not in transition.from_statuses:
            raise IllegalTransition(
                f"a bid that is {row['status']} cannot {step.replace('_', ' ')}",
                allowed=list(allowed_bid_steps(row["status"])),
            )
        text = ((data.terms if transition.needs == "terms" else data.reason) or "").strip()
        if transition.needs and not text:
            raise InvalidInput(f"{step} needs {transition.needs}", parameter=transition.needs)
        effective = _effective(data.effective_on, on, row["last_step_on"])
        await conn.execute(
            read_sql("geo", "amenity_bids/update.sql"),
            {
                "id": bid_id,
                "status": transition.to_status,
                "decided_on": effective if step in ("accept", "reject") else None,
                "ended_on": None if transition.to_status in OPEN_STATUSES else effective,
                "reason": text if transition.needs == "reason" else None,
                "terms": text if transition.needs == "terms" else None,
                "last_step_on": effective,
            },
        )
        after = await _bid_row(conn, bid_id)
        details: dict[str, Any] = {transition.needs: text} if transition.needs else {}
        await audit.record_step(
            conn, BID_STEP_LOG, bid_id, step, row, after, effective, on, principal.actor, details
        )
        await assets.refresh_serving(conn, after["asset_id"], on)
    return _bid(after, on)
