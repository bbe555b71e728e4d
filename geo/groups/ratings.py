"""Ratings of neighbourhood groups: listing, submitting (rate-limited) and moderation."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from psycopg import AsyncConnection
from psycopg.rows import dict_row

from geo import audit
from geo.access import PUBLIC, Principal
from geo.errors import (
    Forbidden,
    RatingNotFound,
    TooManyRequests,
)
from geo.groups.access import require_free_slot, retry_after_seconds, sender_limits
from geo.groups.models import Decision, RatingInput, RatingPrivate, RatingPublic, RatingStatus
from geo.groups.reads import visible_group_row
from geo.groups.writes import keep_derived_in_step, lock_group_row
from geo.registry_rules import DEFAULT_RULES, GroupRules
from geo.sqlfiles import fetch_rows, read_sql


def rating_public_view(row: dict[str, Any]) -> RatingPublic:
    """A rating's public form."""
    return RatingPublic(
        id=row["id"],
        stars=row["stars"],
        comment=row["comment"],
        status=row["status"],
        rated_on=row["created_at"].date(),
    )


def rating_private_view(row: dict[str, Any]) -> RatingPrivate:
    """A rating as moderators see it."""
    return RatingPrivate(
        **rating_public_view(row).model_dump(),
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
    row, private = await visible_group_row(conn, reference, principal, on, rules)
    records = await fetch_rows(
        conn,
        read_sql("geo", "groups/rating_list.sql"),
        {
            "group_id": row["id"],
            "status": status if private else None,
            "published_only": not private,
            "limit": limit,
            "offset": offset,
        },
    )
    if private:
        return [rating_private_view(r) for r in records]
    return [rating_public_view(r) for r in records]


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
        row, _ = await visible_group_row(conn, reference, PUBLIC, on, rules)
        limits = await sender_limits(
            conn,
            fingerprint,
            "groups/rating_limits.sql",
            {
                "group_id": row["id"],
                "repeat_days": rules.rating_repeat_days,
                "per_day": rules.ratings_per_day,
            },
        )
        if limits["last_here"] is not None:
            raise TooManyRequests(
                f"you rated {reference} in the last {rules.rating_repeat_days} days; one rating "
                "of a group per sender in that time",
                retry_after=retry_after_seconds(
                    limits["now"], limits["last_here"], timedelta(days=rules.rating_repeat_days)
                ),
            )
        require_free_slot(
            limits["in_day"],
            rules.ratings_per_day,
            f"at most {rules.ratings_per_day} ratings per sender in a day",
            limits["now"],
            limits["day_slot_taken_at"],
            timedelta(days=1),
        )
        async with conn.cursor(row_factory=dict_row) as cur:
            await cur.execute(
                read_sql("geo", "groups/rating_insert.sql"),
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
    return rating_public_view(rating)


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
        row = await lock_group_row(conn, reference, principal, on, rules)
        if principal.role == "officer" and not set(principal.lad_codes) & set(row["lad_codes"]):
            raise Forbidden(
                f"this key acts in {', '.join(principal.lad_codes)}; the group's area lies in "
                f"{', '.join(row['lad_codes'])}"
            )
        params = {"id": rating_id, "group_id": row["id"]}
        async with conn.cursor(row_factory=dict_row) as cur:
            await cur.execute(read_sql("geo", "groups/rating_get.sql"), params)
            before = await cur.fetchone()
            if before is None:
                raise RatingNotFound(
                    f"group {reference} has no rating {rating_id}", parameter="ratingId"
                )
            status = "published" if decision == "publish" else "rejected"
            await cur.execute(
                read_sql("geo", "groups/rating_moderate.sql"),
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
        await keep_derived_in_step(conn, int(row["id"]), on, rules, coverage_changed=False)
    return rating_private_view(after)
