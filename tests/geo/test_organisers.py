"""Community organisers in the domain layer: patches measured against values computed here from
the source boundaries, contacts private to admins and the patch's officers, the groups they
helped start, the map layer, and progress against the national target of 5,000."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import date
from typing import Any

import psycopg
import pytest

from config.settings import DatabaseSettings
from geo import groups, organisers
from geo.access import PUBLIC
from geo.errors import (
    AreaOutOfRange,
    DateInFuture,
    Forbidden,
    OrganiserNotFound,
    StaleVersion,
    Unauthenticated,
)
from geo.groups import GroupChanges, GroupInput
from geo.organisers import (
    OrganiserChanges,
    OrganiserInput,
    OrganiserPrivate,
    OrganiserPublic,
)
from tests.geo.test_groups import (
    MANCHESTER,
    TODAY,
    TRAFFORD,
    Keys,
    as_drawn,
    geography,
    group_body,
    inside,
    marker,
    on_border,
    square,
    table_state,
)
from tests.utils import factories

pytestmark = pytest.mark.anyio

ORGANISER_TABLES = ("organiser", "organiser_serving", "organiser_lsoa", "audit_log", "data_version")


@pytest.fixture(scope="module")
def keys(settings: DatabaseSettings) -> Iterator[Keys]:
    made = factories.Made()

    async def setup(aconn: psycopg.AsyncConnection) -> Keys:
        return Keys(
            manager=await made.key(aconn, "group_manager"),
            other_manager=await made.key(aconn, "group_manager"),
            officer=await made.key(aconn, "officer", [TRAFFORD]),
            other_officer=await made.key(aconn, "officer", ["E06000009"]),
            admin=await made.key(aconn, "admin"),
        )

    found = factories.run(settings.dsn, setup)
    yield found
    with psycopg.connect(settings.dsn, autocommit=True) as conn:
        conn.execute("DELETE FROM group_manager WHERE key_id = ANY(%s)", (made.key_ids,))
        made.drop(conn)


def organiser_body(x: float, y: float, side: float = 3000.0, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": f"Test Organiser {uuid.uuid4().hex[:6]}",
        "email": f"{marker('organiser-email')}@example.invalid",
        "phone": "0161 " + str(uuid.uuid4().int % 10**7).zfill(7),
        "training_centre": "Manchester Community Organising Centre",
        "trained_on": "2026-06-30",
        "geometry": square(x, y, side),
    }
    return body | overrides


async def create(
    aconn: psycopg.AsyncConnection, keys: Keys, body: dict[str, Any]
) -> OrganiserPrivate:
    return await organisers.create_organiser(
        aconn, OrganiserInput.model_validate(body), keys.admin.principal, TODAY
    )


async def test_an_organiser_s_patch_is_measured_and_names_its_districts(
    aconn: psycopg.AsyncConnection, keys: Keys
) -> None:
    x, y = on_border(TRAFFORD, MANCHESTER)
    body = organiser_body(x, y, side=3000)
    made = await create(aconn, keys, body)
    drawn = as_drawn(body["geometry"])
    shares = geography().lad_shares(drawn)
    assert made.patch_area_km2 == pytest.approx(drawn.area / 1e6, rel=1e-6)
    assert made.lad_codes == sorted(
        lad for lad, m2 in shares.items() if m2 > 0.01 * drawn.area or m2 > 10_000
    )
    assert made.reference.startswith("CO-") and made.email == body["email"]
    assert made.groups_started == 0 and made.active
    row = await organisers.get_organiser(aconn, made.reference, PUBLIC)
    assert isinstance(row, OrganiserPublic) and row.geometry is not None


async def test_only_admins_record_organisers_and_bad_input_writes_nothing(
    aconn: psycopg.AsyncConnection, conn: psycopg.Connection, keys: Keys
) -> None:
    x, y = inside(TRAFFORD)
    before = table_state(conn, ORGANISER_TABLES)
    for principal, error in (
        (PUBLIC, Unauthenticated),
        (keys.manager.principal, Forbidden),
        (keys.officer.principal, Forbidden),
    ):
        with pytest.raises(error):
            await organisers.create_organiser(
                aconn, OrganiserInput.model_validate(organiser_body(x, y)), principal, TODAY
            )
    with pytest.raises(AreaOutOfRange, match="at most 500.00 km²"):
        await create(aconn, keys, organiser_body(x, y, side=25_000))
    with pytest.raises(DateInFuture):
        await create(aconn, keys, organiser_body(x, y, trained_on="2026-11-26"))
    assert table_state(conn, ORGANISER_TABLES) == before
    with pytest.raises(ValueError, match="exactly one of geometry or lsoa_codes"):
        OrganiserInput.model_validate(organiser_body(x, y, lsoa_codes=["E01005061"]))
    with pytest.raises(ValueError, match="not an e-mail address"):
        OrganiserInput.model_validate(organiser_body(x, y, email="nobody"))


async def test_contacts_are_shown_only_to_admins_and_the_patch_s_officers(
    aconn: psycopg.AsyncConnection, keys: Keys
) -> None:
    made = await create(aconn, keys, organiser_body(*inside(TRAFFORD)))
    private = {
        who: isinstance(await organisers.get_organiser(aconn, made.reference, p), OrganiserPrivate)
        for who, p in {
            "public": PUBLIC,
            "manager": keys.manager.principal,
            "officer": keys.officer.principal,
            "other_officer": keys.other_officer.principal,
            "admin": keys.admin.principal,
        }.items()
    }
    assert private == {
        "public": False,
        "manager": False,
        "officer": True,
        "other_officer": False,
        "admin": True,
    }
    page = await organisers.list_organisers(aconn, lad=TRAFFORD, limit=1000)
    assert made.reference in [o.reference for o in page.organisers]
    assert made.email is not None and made.email not in json.dumps(page.model_dump(mode="json"))
    assert not {"email", "phone"} & set(OrganiserPublic.model_fields)
    with pytest.raises(OrganiserNotFound):
        await organisers.get_organiser(aconn, "CO-99999999", PUBLIC)


async def test_groups_started_are_counted_on_the_record_and_the_map_layer(
    aconn: psycopg.AsyncConnection, conn: psycopg.Connection, keys: Keys
) -> None:
    first = await create(aconn, keys, organiser_body(*inside(TRAFFORD)))
    second = await create(aconn, keys, organiser_body(*inside(MANCHESTER)))
    x, y = inside(TRAFFORD)
    started = [
        await groups.create_group(
            aconn,
            GroupInput.model_validate(group_body(x, y, started_by_organiser=first.reference)),
            keys.manager.principal,
            TODAY,
        )
        for _ in range(3)
    ]
    hidden = await groups.create_group(
        aconn,
        GroupInput.model_validate(
            group_body(x, y, started_by_organiser=first.reference, listed=False)
        ),
        keys.manager.principal,
        TODAY,
    )
    assert hidden.started_by_organiser == first.reference

    def served(reference: str) -> int:
        row = conn.execute(
            "SELECT groups_started FROM organiser_serving WHERE reference = %s", (reference,)
        ).fetchone()
        assert row is not None
        return int(row[0])

    record = await organisers.get_organiser(aconn, first.reference, PUBLIC)
    assert record.groups_started == 3 == served(first.reference)  # the unlisted one is not shown
    assert record.groups_started_references == [g.reference for g in started]
    # A group moved to the other organiser counts there instead.
    await groups.update_group(
        aconn,
        started[0].reference,
        GroupChanges(started_by_organiser=second.reference),
        keys.manager.principal,
        TODAY,
    )
    assert (served(first.reference), served(second.reference)) == (2, 1)
    await groups.update_group(
        aconn, started[1].reference, GroupChanges(listed=False), keys.manager.principal, TODAY
    )
    assert served(first.reference) == 1
    with pytest.raises(OrganiserNotFound):
        await groups.update_group(
            aconn,
            started[2].reference,
            GroupChanges(started_by_organiser="CO-99999999"),
            keys.manager.principal,
            TODAY,
        )


async def test_edits_check_the_version_and_move_the_patch(
    aconn: psycopg.AsyncConnection, conn: psycopg.Connection, keys: Keys
) -> None:
    made = await create(aconn, keys, organiser_body(*inside(TRAFFORD)))
    mx, my = inside(MANCHESTER)
    moved = await organisers.update_organiser(
        aconn,
        made.reference,
        OrganiserChanges(geometry=square(mx, my, 2000), phone=None, active=False),
        keys.admin.principal,
        TODAY,
        expected_version=made.version,
    )
    assert moved.lad_codes == [MANCHESTER] and moved.phone is None and not moved.active
    assert moved.patch_area_km2 == pytest.approx(4.0, rel=1e-3)
    before = table_state(conn, ORGANISER_TABLES)
    with pytest.raises(StaleVersion):
        await organisers.update_organiser(
            aconn,
            made.reference,
            OrganiserChanges(name="Late"),
            keys.admin.principal,
            TODAY,
            expected_version=made.version,
        )
    with pytest.raises(Forbidden):
        await organisers.update_organiser(
            aconn, made.reference, OrganiserChanges(name="Mine"), keys.officer.principal, TODAY
        )
    assert table_state(conn, ORGANISER_TABLES) == before
    audit = conn.execute(
        "SELECT after FROM audit_log WHERE entity = 'organiser' AND entity_id = %s ORDER BY id",
        (made.reference,),
    ).fetchall()
    assert audit[-1][0]["private_changed"] == ["phone"]
    assert "PLTSECRET" not in json.dumps([a[0] for a in audit])
    served = conn.execute(
        "SELECT active, patch_area_km2 FROM organiser_serving WHERE reference = %s",
        (made.reference,),
    ).fetchone()
    assert served == (False, pytest.approx(moved.patch_area_km2))


async def test_progress_counts_trained_active_organisers_and_their_groups(
    aconn: psycopg.AsyncConnection, conn: psycopg.Connection, keys: Keys
) -> None:
    before = await organisers.progress(aconn, TODAY)
    x, y = inside(TRAFFORD)
    a = await create(aconn, keys, organiser_body(x, y, trained_on="2026-11-01"))
    await create(aconn, keys, organiser_body(x, y, trained_on="2026-10-01", active=False))
    await groups.create_group(
        aconn,
        GroupInput.model_validate(group_body(x, y, started_by_organiser=a.reference)),
        keys.manager.principal,
        TODAY,
    )
    # A generated organiser counts only when asked for.
    conn.execute(
        "INSERT INTO organiser (reference, name, training_centre, trained_on, patch,"
        " patch_area_km2, lad_codes, is_synthetic, created_by)"
        " SELECT %s, 'Synthetic organiser', 'Nowhere', '2026-01-01', area,"
        " area_km2, lad_codes, true, 'tests' FROM community_group LIMIT 1",
        (f"CO-9{uuid.uuid4().int % 10**8:08d}",),
    )
    after = await organisers.progress(aconn, TODAY)
    assert (after.trained, after.active, after.groups_started) == (
        before.trained + 2,
        before.active + 1,
        before.groups_started + 1,
    )
    assert after.target == 5000 and after.share_of_target == pytest.approx(after.trained / 5000)
    assert after.synthetic_organisers == before.synthetic_organisers + 1
    with_synthetic = await organisers.progress(aconn, TODAY, synthetic=True)
    assert with_synthetic.trained == after.trained + after.synthetic_organisers
    earlier = await organisers.progress(aconn, date(2026, 10, 15))
    trained_by = conn.execute(
        "SELECT count(*) FROM organiser WHERE NOT is_synthetic AND trained_on <= '2026-10-15'"
    ).fetchone()
    assert trained_by is not None and earlier.trained == trained_by[0]


async def test_the_organisers_layer_is_rewritten_set_based(
    aconn: psycopg.AsyncConnection, conn: psycopg.Connection, keys: Keys
) -> None:
    await create(aconn, keys, organiser_body(*inside(TRAFFORD)))
    query = (
        "SELECT fid, reference, groups_started, ST_AsText(geom) FROM organiser_serving ORDER BY fid"
    )
    served = conn.execute(query).fetchall()
    await organisers.rewrite_organiser_serving(aconn, None)
    # Every organiser is served (synthetic ones too), and the full rewrite changes nothing.
    everyone = conn.execute("SELECT count(*) FROM organiser").fetchone()
    rewritten = conn.execute(query).fetchall()
    assert everyone is not None and len(rewritten) == everyone[0]
    assert [r for r in rewritten if r in served] == served
    columns = {
        r[0]
        for r in conn.execute(
            "SELECT column_name FROM information_schema.columns"
            " WHERE table_name = 'organiser_serving'"
        ).fetchall()
    }
    assert not columns & {"email", "phone"}
