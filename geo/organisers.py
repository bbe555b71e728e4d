"""Community organisers: who was trained where and when, the patches they work, the groups they
helped start, and progress against the national target of 5,000 trained organisers.

An organiser's name, training centre and date and patch are public; their e-mail and phone are
private, shown only to admins and to officers of a district the patch touches (two shapes,
:class:`OrganiserPublic` and :class:`OrganiserPrivate`, sharing no class). Admins record and
edit organisers; every write locks the row, writes the organiser, the audit log, the map layer
(:func:`rewrite_organiser_serving`) and the coverage of the LSOAs the patch touches
(:func:`geo.coverage.refresh_organiser`) and bumps the data version, in one transaction.
Patches are validated and measured like group areas (:func:`geo.drawn_areas.measure_area`), with a
larger size limit.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from psycopg import AsyncConnection
from psycopg.rows import dict_row
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from geo import audit, coverage
from geo.access import Principal
from geo.drawn_areas import AreaFields, MeasuredArea, measure_area
from geo.errors import DateInFuture, InvalidInput, OrganiserNotFound, StaleVersion
from geo.figures import COORDINATE, SHARE, AreaKm2, Coordinate, Share
from geo.registry_rules import (
    DEFAULT_RULES,
    MAX_PAGE,
    GroupRules,
    checked_optional_email,
    checked_optional_phone,
)
from geo.sqlfiles import read_sql

NATIONAL_TARGET = 5000
ORGANISER_REFERENCE = re.compile(r"^CO-[0-9]{5,18}$")
# The least a patch may measure (a few streets); the most is GroupRules.organiser_max_area_km2.
MIN_PATCH_KM2 = 0.01


class _Contact(BaseModel):
    """Validators of an organiser's private contact details."""

    @field_validator("email", check_fields=False)
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        """An e-mail address of the usual shape."""
        return checked_optional_email(value)

    @field_validator("phone", check_fields=False)
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        """Digits, spaces, brackets, hyphens and a leading +."""
        return checked_optional_phone(value)


class OrganiserInput(AreaFields, _Contact):
    """A trained community organiser and the patch they work."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=2, max_length=200)
    email: str | None = Field(default=None, max_length=254, description="Private.")
    phone: str | None = Field(default=None, max_length=25, description="Private.")
    training_centre: str = Field(min_length=2, max_length=200)
    trained_on: date = Field(description="When training was completed: today or earlier.")
    active: bool = True

    @model_validator(mode="after")
    def _one_area(self) -> OrganiserInput:
        """Exactly one of geometry and lsoa_codes (the patch)."""
        if (self.geometry is None) == (self.lsoa_codes is None):
            raise ValueError("give the patch as exactly one of geometry or lsoa_codes")
        return self


class OrganiserChanges(AreaFields, _Contact):
    """An edit of an organiser: only the fields given change."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=2, max_length=200)
    email: str | None = Field(default=None, max_length=254)
    phone: str | None = Field(default=None, max_length=25)
    training_centre: str | None = Field(default=None, min_length=2, max_length=200)
    trained_on: date | None = None
    active: bool | None = None

    @model_validator(mode="after")
    def _at_most_one_area(self) -> OrganiserChanges:
        """At most one of geometry and lsoa_codes; required fields are never cleared."""
        if self.geometry is not None and self.lsoa_codes is not None:
            raise ValueError("give the new patch as one of geometry or lsoa_codes, not both")
        for required in ("name", "training_centre", "trained_on", "active"):
            if required in self.model_fields_set and getattr(self, required) is None:
                raise ValueError(f"{required} cannot be cleared")
        return self


class _OrganiserListing(BaseModel):
    """What anyone may know about an organiser."""

    model_config = ConfigDict(extra="forbid")

    reference: str
    name: str
    training_centre: str
    trained_on: date
    active: bool
    groups_started: int = Field(description="Listed groups the organiser helped start.")
    groups_started_references: list[str]
    patch_area_km2: AreaKm2
    lad_codes: list[str]
    is_synthetic: bool
    bbox: list[Coordinate] = Field(
        description=COORDINATE.describe("Extent of the patch: lon/lat min, then max.")
    )
    geometry: dict[str, Any] | None = Field(
        default=None, description="The patch (GeoJSON, CRS84); in single answers only."
    )


class OrganiserPublic(_OrganiserListing):
    """An organiser's public record."""


class OrganiserPrivate(_OrganiserListing):
    """An organiser with contact details, for admins and officers of the patch's districts."""

    email: str | None
    phone: str | None
    created_by: str
    created_at: datetime
    updated_at: datetime
    version: int


class OrganiserPage(BaseModel):
    """One page of organisers."""

    model_config = ConfigDict(extra="forbid")

    number_matched: int
    limit: int
    offset: int
    organisers: list[OrganiserPublic]


class Progress(BaseModel):
    """Progress towards the national target of trained community organisers."""

    model_config = ConfigDict(extra="forbid")

    target: int
    as_of: date
    trained: int = Field(description="Organisers trained by the date.")
    active: int = Field(description="Of those, working now.")
    groups_started: int = Field(description="Listed groups organisers helped start.")
    share_of_target: Share = Field(description=SHARE.describe("trained / target"))
    includes_synthetic: bool
    synthetic_organisers: int = Field(description="Generated organisers in the database.")


def may_see_private(principal: Principal, lad_codes: list[str]) -> bool:
    """Whether the caller sees an organiser's contacts: admins, officers of the patch."""
    return principal.role == "admin" or (
        principal.role == "officer" and bool(set(principal.lad_codes) & set(lad_codes))
    )


def _listing(row: dict[str, Any]) -> dict[str, Any]:
    return {k: row[k] for k in _OrganiserListing.model_fields if k in row}


def public_view(row: dict[str, Any]) -> OrganiserPublic:
    """A stored organiser's public record."""
    return OrganiserPublic.model_validate(_listing(row))


def private_view(row: dict[str, Any]) -> OrganiserPrivate:
    """A stored organiser with contact details."""
    return OrganiserPrivate.model_validate(
        _listing(row) | {k: row[k] for k in OrganiserPrivate.model_fields if k in row}
    )


async def _select(conn: AsyncConnection, **given: Any) -> tuple[int, list[dict[str, Any]]]:
    """The number matched and the page of organisers/select.sql."""
    params: dict[str, Any] = {
        "id": None,
        "reference": None,
        "lad": None,
        "active": None,
        "with_geometry": False,
        "limit": 1,
        "offset": 0,
    } | given
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(read_sql("geo", "organisers/select.sql"), params)
        rows = list(await cur.fetchall())
    matched = int(rows[0]["matched"]) if rows else 0
    return matched, [r for r in rows if r["id"] is not None]


async def organiser_id(conn: AsyncConnection, reference: str, *, parameter: str) -> int:
    """The id of the organiser with ``reference``.

    Raises
    ------
    OrganiserNotFound
        If there is none.
    """
    if not ORGANISER_REFERENCE.match(reference):
        raise OrganiserNotFound(f"no community organiser {reference!r}", parameter=parameter)
    cur = await conn.execute(read_sql("geo", "organisers/id.sql"), {"reference": reference})
    row = await cur.fetchone()
    if row is None:
        raise OrganiserNotFound(f"no community organiser {reference}", parameter=parameter)
    return int(row[0])


async def _row(
    conn: AsyncConnection, reference: str, *, with_geometry: bool = False
) -> dict[str, Any]:
    """One stored organiser; OrganiserNotFound if there is none."""
    if not ORGANISER_REFERENCE.match(reference):
        raise OrganiserNotFound(f"no community organiser {reference!r}", parameter="reference")
    _, rows = await _select(conn, reference=reference, with_geometry=with_geometry)
    if not rows:
        raise OrganiserNotFound(f"no community organiser {reference}", parameter="reference")
    return rows[0]


async def get_organiser(
    conn: AsyncConnection, reference: str, principal: Principal
) -> OrganiserPublic | OrganiserPrivate:
    """Return an organiser: with contacts to those who may see them, else the public record.

    Raises
    ------
    OrganiserNotFound
        If there is no such organiser.
    """
    row = await _row(conn, reference, with_geometry=True)
    return private_view(row) if may_see_private(principal, row["lad_codes"]) else public_view(row)


async def list_organisers(
    conn: AsyncConnection,
    *,
    lad: str | None = None,
    active: bool | None = None,
    limit: int = 100,
    offset: int = 0,
) -> OrganiserPage:
    """Return a page of organisers' public records (oldest first), by district and activity.

    Raises
    ------
    InvalidInput
        If the page is out of range.
    """
    if not 1 <= limit <= MAX_PAGE or offset < 0:
        raise InvalidInput(f"limit is 1 to {MAX_PAGE} and offset at least 0", parameter="limit")
    matched, rows = await _select(conn, lad=lad, active=active, limit=limit, offset=offset)
    return OrganiserPage(
        number_matched=matched,
        limit=limit,
        offset=offset,
        organisers=[public_view(r) for r in rows],
    )


async def progress(conn: AsyncConnection, on: date, *, synthetic: bool = False) -> Progress:
    """Return progress towards the national target of 5,000 trained organisers on ``on``.

    Generated (synthetic) organisers and the groups they started count only if ``synthetic``.
    """
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            read_sql("geo", "organisers/progress.sql"), {"on": on, "synthetic": synthetic}
        )
        row = await cur.fetchone()
    assert row is not None
    return Progress(
        target=NATIONAL_TARGET,
        as_of=on,
        trained=row["trained"],
        active=row["active"],
        groups_started=row["groups_started"],
        share_of_target=row["trained"] / NATIONAL_TARGET,
        includes_synthetic=synthetic,
        synthetic_organisers=row["synthetic"],
    )


async def rewrite_organiser_serving(conn: AsyncConnection, organiser_ids: list[int] | None) -> None:
    """Rewrite the organisers' map layer for some organisers, or all (``None``).

    Set-based (one statement), in the caller's transaction: public fields, the number of
    listed groups each helped start and simplified tile geometries; organisers that no longer
    exist are removed. Bumps the data version, so cached tiles are dropped on commit.
    """
    await conn.execute(read_sql("geo", "organisers/serving_upsert.sql"), {"ids": organiser_ids})
    await conn.execute(read_sql("geo", "tiles/bump_data_version.sql"))


async def _refresh_coverage(
    conn: AsyncConnection, organiser: int, on: date, active_months: int
) -> None:
    """Recompute coverage of the LSOAs the patch touches (geo.coverage), same transaction."""
    await coverage.refresh_organiser(conn, organiser, as_of=on, active_months=active_months)


def _audit_view(row: dict[str, Any]) -> dict[str, Any]:
    """The audited form of an organiser: everything but their contact details."""
    return {
        "reference": row["reference"],
        "name": row["name"],
        "training_centre": row["training_centre"],
        "trained_on": row["trained_on"].isoformat(),
        "active": row["active"],
        "patch_area_km2": row["patch_area_km2"],
        "lad_codes": row["lad_codes"],
        "version": row["version"],
    }


def _check_trained_on(trained_on: date, on: date) -> None:
    if trained_on > on:
        raise DateInFuture(f"trained_on {trained_on} is in the future", parameter="trained_on")


async def _measured_patch(
    conn: AsyncConnection, given: AreaFields, rules: GroupRules
) -> MeasuredArea:
    """A patch measured like a group's area, between MIN_PATCH_KM2 and the organiser maximum."""
    return await measure_area(
        conn,
        geometry=given.geometry,
        lsoa_codes=given.lsoa_codes,
        max_km2=rules.organiser_max_area_km2,
        min_km2=MIN_PATCH_KM2,
        max_vertices=rules.max_vertices,
    )


async def create_organiser(
    conn: AsyncConnection,
    data: OrganiserInput,
    principal: Principal,
    on: date,
    rules: GroupRules = DEFAULT_RULES,
) -> OrganiserPrivate:
    """Record an organiser and their patch (admins only), audited.

    Raises
    ------
    DateInFuture
        If ``trained_on`` is after ``on``.
    InvalidArea, AreaOutOfRange, AreaOutsideEngland
        If the patch is invalid, too large or small, or outside the loaded English districts.
    Forbidden, Unauthenticated
        Unless the caller is an admin.
    """
    principal.require("admin")
    _check_trained_on(data.trained_on, on)
    async with conn.transaction():
        await coverage.lock_writes(conn)
        patch = await _measured_patch(conn, data, rules)
        cur = await conn.execute(
            read_sql("geo", "organisers/insert.sql"),
            {
                "name": data.name.strip(),
                "email": data.email,
                "phone": data.phone,
                "training_centre": data.training_centre.strip(),
                "trained_on": data.trained_on,
                "active": data.active,
                "patch_wkb": patch.wkb,
                "patch_area_km2": patch.area_km2,
                "lad_codes": patch.lad_codes,
                "actor": principal.actor,
            },
        )
        created = await cur.fetchone()
        assert created is not None
        new_id, reference = int(created[0]), str(created[1])
        row = await _row(conn, reference, with_geometry=True)
        await audit.record(
            conn,
            principal.actor,
            "organiser.create",
            "organiser",
            reference,
            None,
            _audit_view(row),
        )
        await rewrite_organiser_serving(conn, [new_id])
        await _refresh_coverage(conn, new_id, on, rules.active_months)
    return private_view(row)


async def update_organiser(
    conn: AsyncConnection,
    reference: str,
    changes: OrganiserChanges,
    principal: Principal,
    on: date,
    rules: GroupRules = DEFAULT_RULES,
    expected_version: int | None = None,
) -> OrganiserPrivate:
    """Edit an organiser (admins only; only the fields given), audited.

    Raises
    ------
    StaleVersion
        If ``expected_version`` is not the current version.
    DateInFuture, InvalidArea, AreaOutOfRange, AreaOutsideEngland, Forbidden,
    Unauthenticated, OrganiserNotFound
        As for :func:`create_organiser`.
    """
    principal.require("admin")
    given = changes.model_fields_set
    async with conn.transaction():
        await coverage.lock_writes(conn)
        row = await _row(conn, reference)
        await conn.execute(read_sql("geo", "organisers/lock.sql"), {"id": row["id"]})
        row = await _row(conn, reference)
        if expected_version is not None and expected_version != row["version"]:
            raise StaleVersion(
                f"organiser {reference} is at version {row['version']}, not {expected_version}"
            )
        values = {
            k: row[k]
            for k in (
                "name",
                "email",
                "phone",
                "training_centre",
                "trained_on",
                "active",
                "patch_area_km2",
                "lad_codes",
            )
        }
        for name in ("email", "phone"):
            if name in given:
                values[name] = getattr(changes, name)
        if changes.name is not None:
            values["name"] = changes.name.strip()
        if changes.training_centre is not None:
            values["training_centre"] = changes.training_centre.strip()
        if changes.trained_on is not None:
            _check_trained_on(changes.trained_on, on)
            values["trained_on"] = changes.trained_on
        if changes.active is not None:
            values["active"] = changes.active
        patch_wkb = None
        if changes.geometry is not None or changes.lsoa_codes is not None:
            patch = await _measured_patch(conn, changes, rules)
            patch_wkb = patch.wkb
            values |= {"patch_area_km2": patch.area_km2, "lad_codes": patch.lad_codes}
        cur = await conn.execute(
            read_sql("geo", "organisers/update.sql"),
            {**values, "patch_wkb": patch_wkb, "id": row["id"], "version": row["version"]},
        )
        if cur.rowcount != 1:  # cannot happen under the row lock; the guard is the backstop
            raise StaleVersion(f"organiser {reference} changed meanwhile; read it again")
        after = await _row(conn, reference, with_geometry=True)
        contact_changed = [k for k in ("email", "phone") if after[k] != row[k]]
        await audit.record(
            conn,
            principal.actor,
            "organiser.edit",
            "organiser",
            reference,
            _audit_view(row),
            _audit_view(after) | {"private_changed": contact_changed},
        )
        await rewrite_organiser_serving(conn, [int(row["id"])])
        if patch_wkb is not None or after["active"] != row["active"]:
            await _refresh_coverage(conn, int(row["id"]), on, rules.active_months)
    return private_view(after)
