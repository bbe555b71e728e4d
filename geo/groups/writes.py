"""Writing the group registry: registration, changes, managers and activity, with coverage."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from psycopg import AsyncConnection
from psycopg.rows import dict_row

from geo import audit, coverage, organisers
from geo.access import Principal
from geo.coverage import ACTIVE_MONTHS_DEFAULT, active_since
from geo.drawn_areas import AreaFields, MeasuredArea, measure_area
from geo.errors import (
    CodeOfConductNotAccepted,
    DateInFuture,
    Forbidden,
    InvalidInput,
    StaleVersion,
)
from geo.groups.access import require_may_edit
from geo.groups.models import (
    CODE_OF_CONDUCT_ISSUED_ON,
    CODE_OF_CONDUCT_VERSION,
    MAX_ACTIVITY_AGE_YEARS,
    ActivityInput,
    ActivityPrivate,
    CodeOfConductAcceptance,
    GroupChanges,
    GroupInput,
    GroupPrivate,
    Managers,
)
from geo.groups.reads import group_row, private_view, visible_group_row
from geo.registry_rules import DEFAULT_RULES, GroupRules, clean_text
from geo.sqlfiles import read_sql


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
        read_sql("geo", "groups/serving_upsert.sql"),
        {"ids": group_ids, "active_since": active_since(as_of, active_months)},
    )
    await conn.execute(read_sql("geo", "tiles/bump_data_version.sql"))


async def keep_derived_in_step(
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
    await rewrite_group_serving(conn, [group_id], as_of=on, active_months=rules.active_months)
    ids = sorted(i for i in (organiser_ids or set()) if i is not None)
    if ids:
        await organisers.rewrite_organiser_serving(conn, ids)
    if coverage_changed:
        await refresh_group_coverage(conn, group_id, on, rules)


async def refresh_group_coverage(
    conn: AsyncConnection, group_id: int, on: date, rules: GroupRules
) -> None:
    """Recompute coverage of the LSOAs the group touches (geo.coverage), same transaction."""
    await coverage.refresh_group(conn, group_id, as_of=on, active_months=rules.active_months)


def check_code_of_conduct(acceptance: CodeOfConductAcceptance | None, on: date) -> None:
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


async def _measured_area(
    conn: AsyncConnection, given: AreaFields, principal: Principal, rules: GroupRules, what: str
) -> MeasuredArea:
    """The area ``given`` measured under ``rules`` (geo.drawn_areas.measure_area's checks).

    Raises Forbidden where an officer's key acts in none of the area's districts (``what``
    names the area in the message).
    """
    area = await measure_area(
        conn,
        geometry=given.geometry,
        lsoa_codes=given.lsoa_codes,
        max_km2=rules.max_area_km2,
        min_km2=rules.min_area_km2,
        max_vertices=rules.max_vertices,
    )
    if principal.role == "officer" and not set(principal.lad_codes) & set(area.lad_codes):
        raise Forbidden(
            f"this key acts in {', '.join(principal.lad_codes)}; {what} lies in "
            f"{', '.join(area.lad_codes)}"
        )
    return area


async def started_by_organiser_id(conn: AsyncConnection, reference: str | None) -> int | None:
    """The id of the organiser with ``reference`` (None for none); OrganiserNotFound if none."""
    if reference is None:
        return None
    return await organisers.organiser_id(conn, reference, parameter="started_by_organiser")


def group_audit_view(row: dict[str, Any]) -> dict[str, Any]:
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
    check_code_of_conduct(data.code_of_conduct, on)
    assert data.code_of_conduct is not None
    async with conn.transaction():
        await coverage.lock_writes(conn)
        area = await _measured_area(conn, data, principal, rules, "the area")
        organiser_id = await started_by_organiser_id(conn, clean_text(data.started_by_organiser))
        cur = await conn.execute(
            read_sql("geo", "groups/insert.sql"),
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
                read_sql("geo", "groups/manager_add.sql"),
                {"group_id": group_id, "key_id": principal.key_id},
            )
        since = active_since(on, rules.active_months)
        row = await group_row(conn, reference, active_since_=since, with_geometry=True)
        await audit.record(
            conn,
            principal.actor,
            "group.create",
            "community_group",
            reference,
            None,
            group_audit_view(row) | {"private_recorded": list(_PRIVATE_COLUMNS)},
        )
        await keep_derived_in_step(
            conn, group_id, on, rules, coverage_changed=True, organiser_ids={organiser_id}
        )
    return private_view(row)


async def lock_group_row(
    conn: AsyncConnection, reference: str, principal: Principal, on: date, rules: GroupRules
) -> dict[str, Any]:
    """Lock a group's row for a write and return it (GroupNotFound if hidden or missing)."""
    row, _ = await visible_group_row(conn, reference, principal, on, rules)
    await conn.execute(read_sql("geo", "groups/lock.sql"), {"id": row["id"]})
    # Read again under the lock: a parallel write may have committed in between.
    row, _ = await visible_group_row(conn, reference, principal, on, rules)
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
        row = await lock_group_row(conn, reference, principal, on, rules)
        require_may_edit(principal, row)
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
            check_code_of_conduct(changes.code_of_conduct, on)
            values["code_of_conduct_version"] = changes.code_of_conduct.version
            values["code_of_conduct_accepted_on"] = changes.code_of_conduct.accepted_on
        area_wkb = None
        if changes.geometry is not None or changes.lsoa_codes is not None:
            area = await _measured_area(conn, changes, principal, rules, "the new area")
            area_wkb = area.wkb
            values |= {
                "area_km2": area.area_km2,
                "area_lsoa_codes": area.lsoa_codes,
                "lad_codes": area.lad_codes,
                "principal_lad_code": area.principal_lad_code,
            }
        old_organiser = row["started_by_organiser_id"]
        if "started_by_organiser" in given:
            values["started_by_organiser_id"] = await started_by_organiser_id(
                conn, clean_text(changes.started_by_organiser)
            )
        cur = await conn.execute(
            read_sql("geo", "groups/update.sql"),
            {**values, "area_wkb": area_wkb, "id": row["id"], "version": row["version"]},
        )
        if cur.rowcount != 1:  # cannot happen under the row lock; the guard is the backstop
            raise StaleVersion(f"group {reference} changed meanwhile; read it again")
        since = active_since(on, rules.active_months)
        after = await group_row(conn, reference, active_since_=since, with_geometry=True)
        await audit.record(
            conn,
            principal.actor,
            "group.edit",
            "community_group",
            reference,
            group_audit_view(row),
            group_audit_view(after) | {"private_changed": private_changed},
        )
        listing_changed = after["listed"] != row["listed"]
        await keep_derived_in_step(
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
        row = await lock_group_row(conn, reference, principal, on, DEFAULT_RULES)
        async with conn.cursor(row_factory=dict_row) as cur:
            await cur.execute(read_sql("geo", "groups/manager_key.sql"), {"key_id": key_id})
            key = await cur.fetchone()
        if key is None or not key["live"]:
            raise InvalidInput(f"no live API key {key_id}", parameter="key_id")
        if key["role"] != "group_manager":
            raise InvalidInput(
                f"key {key_id} is a {key['role']} key; only group manager keys manage groups",
                parameter="key_id",
            )
        cur2 = await conn.execute(
            read_sql("geo", "groups/manager_add.sql"), {"group_id": row["id"], "key_id": key_id}
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
        row = await lock_group_row(conn, reference, principal, on, rules)
        require_may_edit(principal, row)
        async with conn.cursor(row_factory=dict_row) as cur:
            await cur.execute(
                read_sql("geo", "groups/activity_insert.sql"),
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
        cur2 = await conn.execute(read_sql("geo", "groups/last_activity.sql"), {"id": row["id"]})
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
                    "before": iso_date_or_none(row["last_activity_on"]),
                    "after": iso_date_or_none(latest[0]),
                },
            },
        )
        await keep_derived_in_step(
            conn,
            int(row["id"]),
            on,
            rules,
            coverage_changed=latest[0] != row["last_activity_on"],
        )
    return ActivityPrivate.model_validate(activity)


def iso_date_or_none(value: date | None) -> str | None:
    """A date as ISO text (None stays None)."""
    return None if value is None else value.isoformat()
