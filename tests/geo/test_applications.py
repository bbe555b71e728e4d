"""Grant applications in the domain layer: the workflow, its checks, budget safety and audit."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

import psycopg
import pydantic
import pytest
import shapely
import shapely.geometry
from pyproj import Transformer

from config.settings import DatabaseSettings
from geo import applications
from geo.access import PUBLIC
from geo.applications import Application, ApplicationChanges, ApplicationDraft
from geo.errors import (
    ApplicationNotFound,
    BudgetExhausted,
    Forbidden,
    IllegalTransition,
    InvalidInput,
    NotFound,
    PointOutsideCoverage,
    StaleVersion,
    SubmissionRefused,
    Unauthenticated,
)
from geo.grants import checks
from tests.utils import factories, sources

pytestmark = pytest.mark.anyio

TRAFFORD = "E08000009"
BLACKPOOL = "E06000009"
LOOKUP = sources.csv(sources.LOOKUP_2021).set_index("lsoa21_code")
IMD = sources.csv(sources.IOD2025).set_index("lsoa21_code")["IMD_decile"]
TRAFFORD_LSOAS = sorted(LOOKUP.index[LOOKUP["ltla24_code"] == TRAFFORD])
# A Trafford LSOA in the most deprived decile and one in the least deprived (IoD2025).
DEPRIVED = min(c for c in TRAFFORD_LSOAS if IMD[c] == 1)
AFFLUENT = min(c for c in TRAFFORD_LSOAS if IMD[c] == 10)

# The transition table as the issue specifies it: what each status allows next.
ALLOWED = {
    "draft": ["edit", "submit"],
    "submitted": ["approve", "reject"],
    "approved": ["pay"],
    "rejected": [],
    "paid": [],
}
STEPS = ("edit", "submit", "approve", "reject", "pay")


@dataclass(frozen=True)
class Keys:
    """The callers of these tests."""

    owner: factories.Key
    other_group: factories.Key
    officer: factories.Key  # Trafford
    other_officer: factories.Key  # Blackpool
    admin: factories.Key


@pytest.fixture
def made(conn: psycopg.Connection) -> Iterator[factories.Made]:
    registry = factories.Made()
    yield registry
    registry.drop(conn)


@pytest.fixture
async def keys(aconn: psycopg.AsyncConnection, made: factories.Made) -> Keys:
    return Keys(
        owner=await made.key(aconn, "group_manager"),
        other_group=await made.key(aconn, "group_manager"),
        officer=await made.key(aconn, "officer", [TRAFFORD]),
        other_officer=await made.key(aconn, "officer", [BLACKPOOL]),
        admin=await made.key(aconn, "admin"),
    )


async def apply(
    aconn: psycopg.AsyncConnection,
    key: factories.Key,
    programme: checks.Programme,
    amount: str = "3000.00",
    area: dict[str, Any] | None = None,
    **overrides: Any,
) -> Application:
    body = factories.draft(programme.id, area or {"code": DEPRIVED}, amount, **overrides)
    return await applications.create_application(
        aconn, ApplicationDraft.model_validate(body), key.principal
    )


async def take(
    aconn: psycopg.AsyncConnection, keys: Keys, application: Application, step: str
) -> Application:
    """Take a step as the caller entitled to it (the owner or the district's officer)."""
    if step == "edit":
        changes = ApplicationChanges(title="Community garden, phase 2")
        return await applications.update_application(
            aconn, application.id, changes, keys.owner.principal, None
        )
    if step == "submit":
        return await applications.submit_application(
            aconn, application.id, keys.owner.principal, factories.today()
        )
    if step == "approve":
        return await applications.approve_application(aconn, application.id, keys.officer.principal)
    if step == "reject":
        return await applications.reject_application(
            aconn, application.id, keys.officer.principal, "outside the programme's aims"
        )
    assert step == "pay"
    return await applications.pay_application(aconn, application.id, keys.officer.principal)


PATHS = {
    "draft": (),
    "submitted": ("submit",),
    "approved": ("submit", "approve"),
    "rejected": ("submit", "reject"),
    "paid": ("submit", "approve", "pay"),
}


async def in_state(
    aconn: psycopg.AsyncConnection, keys: Keys, programme: checks.Programme, state: str
) -> Application:
    application = await apply(aconn, keys.owner, programme)
    for step in PATHS[state]:
        application = await take(aconn, keys, application, step)
    assert application.status == state
    return application


async def audit_trail(aconn: psycopg.AsyncConnection, application_id: int) -> list[dict[str, Any]]:
    cur = await aconn.execute(
        "SELECT action, actor, before, after FROM audit_log"
        " WHERE entity = 'grant_application' AND entity_id = %s ORDER BY id",
        (str(application_id),),
    )
    return [
        {"action": a, "actor": actor, "before": before, "after": after}
        for a, actor, before, after in await cur.fetchall()
    ]


async def committed(aconn: psycopg.AsyncConnection, programme_id: str) -> Decimal:
    cur = await aconn.execute(
        "SELECT committed FROM grant_programme WHERE id = %s", (programme_id,)
    )
    row = await cur.fetchone()
    assert row is not None
    return Decimal(row[0])


# ---------------------------------------------------------------------------------------------
# The workflow


async def test_the_full_workflow_from_draft_to_paid_is_audited_at_every_step(
    aconn: psycopg.AsyncConnection, made: factories.Made, keys: Keys
) -> None:
    programme = await made.programme(aconn, budget=Decimal("50000"))
    draft = await apply(aconn, keys.owner, programme, "4000.00")
    assert (draft.status, draft.version, draft.next_steps) == ("draft", 1, ["edit", "submit"])
    assert draft.principal_lad == LOOKUP.loc[DEPRIVED, "ltla24_code"]
    assert draft.eligibility is None

    edited = await applications.update_application(
        aconn,
        draft.id,
        ApplicationChanges.model_validate(
            {"amount": "4500.00", "pledges": [factories.pledge("4500.00")]}
        ),
        keys.owner.principal,
        expected_version=1,
    )
    assert (edited.amount, edited.version, edited.title) == (Decimal("4500.00"), 2, draft.title)

    submitted = await take(aconn, keys, edited, "submit")
    assert submitted.status == "submitted"
    snapshot = submitted.eligibility
    assert snapshot is not None and snapshot["eligible"] is True
    assert snapshot["answer"]["area"]["code"] == DEPRIVED
    assert snapshot["beneficiary"] == {
        "code": DEPRIVED,
        "name": LOOKUP.loc[DEPRIVED, "lsoa21_name"],
    }
    assert snapshot["checked_on"] == factories.today().isoformat()

    before = await committed(aconn, programme.id)
    approved = await take(aconn, keys, submitted, "approve")
    assert approved.status == "approved"
    assert approved.decided_by == keys.officer.principal.actor
    assert approved.decided_at is not None
    assert await committed(aconn, programme.id) == before + Decimal("4500.00")

    paid = await take(aconn, keys, approved, "pay")
    assert (paid.status, paid.next_steps, paid.version) == ("paid", [], 5)
    assert paid.paid_at is not None and paid.paid_at >= approved.decided_at

    trail = await audit_trail(aconn, draft.id)
    assert [e["action"] for e in trail] == [
        "application.create",
        "application.edit",
        "application.submit",
        "application.approve",
        "application.pay",
    ]
    assert [e["actor"] for e in trail] == [keys.owner.principal.actor] * 3 + [
        keys.officer.principal.actor
    ] * 2
    assert trail[0]["before"] is None
    statuses = (
        [(e["before"] or {}).get("status") for e in trail],
        [e["after"]["status"] for e in trail],
    )
    assert statuses == (
        [None, "draft", "draft", "submitted", "approved"],
        ["draft", "draft", "submitted", "approved", "paid"],
    )
    assert [e["after"]["version"] for e in trail] == [1, 2, 3, 4, 5]
    cur = await aconn.execute(
        "SELECT before, after FROM audit_log WHERE entity = 'grant_programme' AND entity_id = %s"
        " AND action = 'programme.commit'",
        (programme.id,),
    )
    [(commit_before, commit_after)] = await cur.fetchall()
    assert Decimal(commit_after["committed"]) - Decimal(commit_before["committed"]) == Decimal(
        "4500"
    )


async def test_a_matched_funding_shortfall_is_refused_with_the_amount_missing(
    aconn: psycopg.AsyncConnection, made: factories.Made, keys: Keys
) -> None:
    programme = await made.programme(aconn, match_ratio=Decimal("1"))
    pledges = [factories.pledge("2500.00"), factories.pledge("1250.00", "business")]
    application = await apply(aconn, keys.owner, programme, "5000.00", pledges=pledges)
    with pytest.raises(SubmissionRefused) as refused:
        await take(aconn, keys, application, "submit")
    assert refused.value.reasons == [
        "matched funding short by £1,250.00: needs £5,000.00 from non-government sources at "
        "1:1, has £3,750.00"
    ]
    again = await applications.get_application(aconn, application.id, keys.owner.principal)
    assert (again.status, again.version, again.eligibility) == ("draft", 1, None)
    assert [e["action"] for e in await audit_trail(aconn, application.id)] == ["application.create"]


async def test_pledges_of_kinds_the_programme_does_not_count_are_left_out_of_the_match(
    aconn: psycopg.AsyncConnection, made: factories.Made, keys: Keys
) -> None:
    programme = await made.programme(
        aconn, match_ratio=Decimal("0.5"), match_source_types=["charitable_trust", "business"]
    )
    pledges = [factories.pledge("1000.00"), factories.pledge("900.00", "lottery_distributor")]
    application = await apply(aconn, keys.owner, programme, "4000.00", pledges=pledges)
    with pytest.raises(SubmissionRefused) as refused:
        await take(aconn, keys, application, "submit")
    [reason] = refused.value.reasons
    assert reason.startswith("matched funding short by £1,000.00: needs £2,000.00 from ")
    assert "(charitable trust, business) at 0.5:1, has £1,000.00" in reason
    assert reason.endswith("(£900.00 pledged from lottery distributor does not count here)")
    enough = ApplicationChanges.model_validate(
        {"pledges": [factories.pledge("1000.00"), factories.pledge("1000.00", "business")]}
    )
    await applications.update_application(aconn, application.id, enough, keys.owner.principal, 1)
    assert (await take(aconn, keys, application, "submit")).status == "submitted"


@pytest.mark.parametrize(
    ("amount", "accepted"),
    [("499.99", False), ("500.00", True), ("25000.00", True), ("25000.01", False)],
)
async def test_award_limits_are_inclusive(
    aconn: psycopg.AsyncConnection, made: factories.Made, keys: Keys, amount: str, accepted: bool
) -> None:
    programme = await made.programme(
        aconn, award_min=Decimal("500.00"), award_max=Decimal("25000.00")
    )
    application = await apply(aconn, keys.owner, programme, amount)
    if accepted:
        assert (await take(aconn, keys, application, "submit")).status == "submitted"
        return
    with pytest.raises(SubmissionRefused) as refused:
        await take(aconn, keys, application, "submit")
    side, limit = ("below", "minimum award of £500.00")
    if Decimal(amount) > 500:
        side, limit = ("above", "maximum award of £25,000.00")
    assert refused.value.reasons == [f"£{Decimal(amount):,} is {side} the programme's {limit}"]


@pytest.mark.parametrize("when", ["closed", "not yet open"])
async def test_every_failed_check_is_reported_at_once(
    aconn: psycopg.AsyncConnection,
    conn: psycopg.Connection,
    made: factories.Made,
    keys: Keys,
    when: str,
) -> None:
    today = factories.today()
    dates = (
        {"opens_on": today - timedelta(days=60), "closes_on": today - timedelta(days=1)}
        if when == "closed"
        else {"opens_on": today + timedelta(days=1), "closes_on": today + timedelta(days=60)}
    )
    programme = await made.programme(
        aconn,
        rule={"kind": "index", "domain": "imd", "decile_at_most": 1},
        budget=Decimal("20000"),
        award_max=Decimal("10000"),
        **dates,
    )
    conn.execute("UPDATE grant_programme SET committed = 19000 WHERE id = %s", (programme.id,))
    application = await apply(
        aconn,
        keys.owner,
        programme,
        "12000.00",
        area={"code": AFFLUENT},
        pledges=[factories.pledge("100.00")],
    )
    with pytest.raises(SubmissionRefused) as refused:
        await take(aconn, keys, application, "submit")
    reasons = refused.value.reasons
    assert len(reasons) == 5, reasons
    assert reasons[0].startswith("Not eligible: ") and AFFLUENT in reasons[0]
    assert "IMD decile 10" in reasons[0]
    date_reason = (
        f"closed on {dates['closes_on'].isoformat()}"
        if when == "closed"
        else f"opens on {dates['opens_on'].isoformat()}"
    )
    assert date_reason in reasons[1]
    assert reasons[2] == "£12,000.00 is above the programme's maximum award of £10,000.00"
    assert reasons[3] == (
        "the programme has £1,000.00 of its budget left, less than the £12,000.00 asked for"
    )
    assert reasons[4].startswith("matched funding short by £11,900.00")
    assert (
        await applications.get_application(aconn, application.id, keys.owner.principal)
    ).status == "draft"


# ---------------------------------------------------------------------------------------------
# The state machine


@pytest.mark.parametrize("state", sorted(ALLOWED))
async def test_every_illegal_transition_from_every_state_is_a_conflict_listing_the_allowed_steps(
    aconn: psycopg.AsyncConnection, made: factories.Made, keys: Keys, state: str
) -> None:
    programme = await made.programme(aconn)
    for step in STEPS:
        if step in ALLOWED[state]:
            continue
        application = await in_state(aconn, keys, programme, state)
        trail = await audit_trail(aconn, application.id)
        with pytest.raises(IllegalTransition) as conflict:
            await take(aconn, keys, application, step)
        assert conflict.value.allowed == ALLOWED[state], (state, step)
        assert (
            f"cannot {step} application {application.id}: it is {state}" in conflict.value.message
        )
        unchanged = await applications.get_application(aconn, application.id, keys.admin.principal)
        assert (unchanged.status, unchanged.version) == (state, application.version)
        assert await audit_trail(aconn, application.id) == trail


async def test_a_rejection_needs_a_reason_and_keeps_it(
    aconn: psycopg.AsyncConnection, made: factories.Made, keys: Keys
) -> None:
    programme = await made.programme(aconn)
    application = await in_state(aconn, keys, programme, "submitted")
    with pytest.raises(InvalidInput, match="needs a reason"):
        await applications.reject_application(aconn, application.id, keys.officer.principal, "  ")
    rejected = await applications.reject_application(
        aconn, application.id, keys.admin.principal, "the project is outside the area"
    )
    assert (rejected.status, rejected.decision_reason) == (
        "rejected",
        "the project is outside the area",
    )
    assert rejected.decided_by == keys.admin.principal.actor
    assert await committed(aconn, programme.id) == 0


async def test_a_stale_version_is_refused_and_changes_nothing(
    aconn: psycopg.AsyncConnection, made: factories.Made, keys: Keys
) -> None:
    programme = await made.programme(aconn)
    application = await apply(aconn, keys.owner, programme)
    changes = ApplicationChanges(title="First edit")
    await applications.update_application(aconn, application.id, changes, keys.owner.principal, 1)
    with pytest.raises(StaleVersion, match="at version 2, not 1"):
        await applications.update_application(
            aconn, application.id, ApplicationChanges(title="Lost update"), keys.owner.principal, 1
        )
    current = await applications.get_application(aconn, application.id, keys.owner.principal)
    assert (current.title, current.version) == ("First edit", 2)


# ---------------------------------------------------------------------------------------------
# Budget safety


async def test_concurrent_approvals_never_exceed_the_budget(
    aconn: psycopg.AsyncConnection,
    settings: DatabaseSettings,
    made: factories.Made,
    keys: Keys,
) -> None:
    budget, amount = Decimal("10000.00"), Decimal("3000.00")  # each asks for 30% of the budget
    programme = await made.programme(aconn, budget=budget, award_max=Decimal("5000.00"))
    submitted = [
        await take(aconn, keys, await apply(aconn, keys.owner, programme, str(amount)), "submit")
        for _ in range(8)
    ]
    connections = [
        await psycopg.AsyncConnection.connect(settings.dsn, autocommit=True) for _ in submitted
    ]
    try:
        results = await asyncio.gather(
            *(
                applications.approve_application(c, a.id, keys.officer.principal)
                for c, a in zip(connections, submitted, strict=True)
            ),
            return_exceptions=True,
        )
    finally:
        for connection in connections:
            await connection.close()
    approved = [r for r in results if isinstance(r, Application)]
    refused = [r for r in results if isinstance(r, BudgetExhausted)]
    assert (len(approved), len(refused)) == (3, 5), results
    expected_left = budget - 3 * amount
    for error in refused:
        assert error.message.endswith(f"£{expected_left:,.2f} is left")
        assert error.allowed == ["reject"]
    assert await committed(aconn, programme.id) == 3 * amount <= budget
    cur = await aconn.execute(
        "SELECT status, count(*) FROM grant_application WHERE programme_id = %s GROUP BY status",
        (programme.id,),
    )
    assert dict(await cur.fetchall()) == {"approved": 3, "submitted": 5}
    cur = await aconn.execute(
        "SELECT count(*) FROM audit_log WHERE entity = 'grant_programme' AND entity_id = %s"
        " AND action = 'programme.commit'",
        (programme.id,),
    )
    assert await cur.fetchone() == (3,)


async def test_the_database_refuses_an_overspend_even_without_the_lock(
    aconn: psycopg.AsyncConnection, made: factories.Made
) -> None:
    programme = await made.programme(
        aconn, budget=Decimal("10000.00"), award_max=Decimal("5000.00")
    )
    with pytest.raises(psycopg.errors.CheckViolation, match="ck_programme_no_overspend"):
        await aconn.execute(
            "UPDATE grant_programme SET committed = budget + 0.01 WHERE id = %s", (programme.id,)
        )
    assert await committed(aconn, programme.id) == 0


async def test_a_refused_approval_writes_nothing(
    aconn: psycopg.AsyncConnection, conn: psycopg.Connection, made: factories.Made, keys: Keys
) -> None:
    programme = await made.programme(
        aconn, budget=Decimal("10000.00"), award_max=Decimal("5000.00")
    )
    application = await in_state(aconn, keys, programme, "submitted")
    conn.execute("UPDATE grant_programme SET committed = 8000 WHERE id = %s", (programme.id,))
    trail = await audit_trail(aconn, application.id)
    with pytest.raises(BudgetExhausted, match="£2,000.00 is left"):
        await take(aconn, keys, application, "approve")
    assert await committed(aconn, programme.id) == Decimal("8000")
    again = await applications.get_application(aconn, application.id, keys.officer.principal)
    assert (again.status, again.version, again.decided_at) == (
        "submitted",
        application.version,
        None,
    )
    assert await audit_trail(aconn, application.id) == trail


# ---------------------------------------------------------------------------------------------
# Who may see and do what


async def test_only_the_owner_officers_of_the_district_and_admins_see_an_application(
    aconn: psycopg.AsyncConnection, made: factories.Made, keys: Keys
) -> None:
    programme = await made.programme(aconn)
    application = await apply(aconn, keys.owner, programme)
    for key in (keys.owner, keys.officer, keys.admin):
        assert (
            await applications.get_application(aconn, application.id, key.principal)
        ).id == application.id
    for key in (keys.other_group, keys.other_officer):
        with pytest.raises(ApplicationNotFound):
            await applications.get_application(aconn, application.id, key.principal)
    # An officer who can see it still may not edit or submit it: that is the applicant's.
    with pytest.raises(Forbidden):
        await applications.submit_application(
            aconn, application.id, keys.officer.principal, factories.today()
        )
    submitted = await take(aconn, keys, application, "submit")
    with pytest.raises(ApplicationNotFound):
        await applications.approve_application(aconn, submitted.id, keys.other_officer.principal)
    with pytest.raises(Forbidden):
        await applications.approve_application(aconn, submitted.id, keys.owner.principal)


async def test_a_polygon_application_belongs_to_its_district_and_is_published_as_it(
    aconn: psycopg.AsyncConnection, made: factories.Made, keys: Keys
) -> None:
    # A 150 m circle around a point inside a Trafford LSOA, drawn in British National Grid.
    lon, lat = sources.points_on_surface(sources.LSOA21_BOUNDARIES, "lsoa21_code")[DEPRIVED]
    to_bng = Transformer.from_crs(4326, 27700, always_xy=True)
    to_wgs84 = Transformer.from_crs(27700, 4326, always_xy=True)
    centre = shapely.Point(*to_bng.transform(lon, lat))
    circle = shapely.transform(centre.buffer(150), to_wgs84.transform, interleaved=False)
    geometry = shapely.geometry.mapping(circle)
    programme = await made.programme(aconn)
    application = await apply(aconn, keys.owner, programme, area={"geometry": geometry})
    assert application.area.code is None
    assert application.principal_lad == LOOKUP.loc[DEPRIVED, "ltla24_code"]
    stored = shapely.geometry.shape(application.area.geometry)
    assert stored.symmetric_difference(circle).area < 1e-5 * circle.area  # projected and back
    # The officer reads back the same application, its drawn area included.
    read = await applications.get_application(aconn, application.id, keys.officer.principal)
    assert read == application
    submitted = await take(aconn, keys, application, "submit")
    assert submitted.eligibility is not None
    assert submitted.eligibility["answer"]["area"]["kind"] == "polygon"
    lad = LOOKUP.loc[DEPRIVED]
    assert submitted.eligibility["beneficiary"] == {
        "code": lad["ltla24_code"],
        "name": lad["ltla24_name"],
    }


# ---------------------------------------------------------------------------------------------
# Bad input


async def test_bad_programmes_and_areas_are_refused_with_the_reason(
    aconn: psycopg.AsyncConnection, made: factories.Made, keys: Keys
) -> None:
    programme = await made.programme(aconn)
    unknown = factories.draft("no-such-programme", {"code": DEPRIVED}, "1000.00")
    with pytest.raises(InvalidInput, match="no grant programme 'no-such-programme'"):
        await applications.create_application(
            aconn, ApplicationDraft.model_validate(unknown), keys.owner.principal
        )
    bowtie = {
        "type": "Polygon",
        "coordinates": [
            [[-2.3, 53.44], [-2.28, 53.45], [-2.28, 53.44], [-2.3, 53.45], [-2.3, 53.44]]
        ],
    }
    paris = {
        "type": "Polygon",
        "coordinates": [[[2.33, 48.85], [2.35, 48.85], [2.35, 48.86], [2.33, 48.85]]],
    }
    changes = sources.csv("lookups/lookup_lsoa11_lsoa21_ltla22.csv")
    gone = changes.loc[changes["change_code"] == "S", "lsoa11_code"].iloc[0]  # 2011 only
    for area, error, message in [
        ({"geometry": bowtie}, InvalidInput, "invalid geometry"),
        ({"geometry": paris}, PointOutsideCoverage, "outside England"),
        ({"code": "W01000001"}, InvalidInput, "not an LSOA"),
        ({"code": gone}, NotFound, "not a loaded lsoa of the IoD2025 geography"),
    ]:
        body = factories.draft(programme.id, area, "1000.00")
        with pytest.raises(error, match=message):
            await applications.create_application(
                aconn, ApplicationDraft.model_validate(body), keys.owner.principal
            )
    cur = await aconn.execute(
        "SELECT count(*) FROM grant_application WHERE programme_id = %s", (programme.id,)
    )
    assert await cur.fetchone() == (0,)


@pytest.mark.parametrize("amount", ["-5", "0", "0.00", "abc", "1.234", "NaN", "Infinity", ""])
def test_amounts_must_be_positive_sums_of_money(amount: str) -> None:
    with pytest.raises(pydantic.ValidationError):
        ApplicationDraft.model_validate(
            factories.draft("any-programme", {"code": DEPRIVED}, amount)
        )
    with pytest.raises(pydantic.ValidationError):
        ApplicationDraft.model_validate(
            factories.draft(
                "any-programme", {"code": DEPRIVED}, "100", pledges=[factories.pledge(amount)]
            )
        )


async def test_the_public_cannot_apply(
    aconn: psycopg.AsyncConnection, made: factories.Made
) -> None:
    programme = await made.programme(aconn)
    body = ApplicationDraft.model_validate(factories.draft(programme.id, {"code": DEPRIVED}, "900"))
    with pytest.raises(Unauthenticated):
        await applications.create_application(aconn, body, PUBLIC)
