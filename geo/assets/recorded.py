"""Assets recorded from a published file (a council's land and buildings): insert or update.

A file is imported again when its publisher updates it, so each of its assets is recorded once
(by its reference) and afterwards only has its facts brought up to date; its lifecycle is never
touched by an import, and an unchanged row writes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any, Literal

from psycopg import AsyncConnection

from geo import audit
from geo.areas import find_edition
from geo.assets.models import AssetInput
from geo.assets.reads import asset_row
from geo.assets.writes import (
    ASSET_STEP_LOG,
    check_asset_point,
    insert_asset,
    point_placed_sql,
    record_new_asset,
    upsert_asset_serving,
)
from geo.errors import AssetOutsideEngland
from geo.postcodes import normalise_postcode
from geo.sqlfiles import read_sql

LocationBasis = Literal["published_point", "postcode", "postcode_district", "owner_district"]
ImportOutcome = Literal["inserted", "updated", "unchanged"]


async def upsert_recorded(
    conn: AsyncConnection,
    data: AssetInput,
    *,
    reference: str,
    source: str,
    location_basis: LocationBasis,
    actor: str,
    on: date,
    details: dict[str, Any],
) -> tuple[int, ImportOutcome]:
    """Record an asset from a source file, or bring its facts up to date; idempotent.

    An asset new to the register is recorded (status ``recorded``), with its ``record`` step
    in its history and the audit log; one already there (same reference) has its facts
    rewritten only where they differ (step ``update_facts``), its lifecycle untouched; an
    unchanged row writes nothing. The caller runs the transaction and then rewrites the map
    layer for the assets returned (:func:`refresh_serving_many`).

    Raises
    ------
    AssetOutsideEngland
        If no loaded English LSOA contains the point.
    InvalidInput
        If the postcode is malformed.
    """
    found = await conn.execute(
        read_sql("geo", "assets/id_by_reference.sql"), {"reference": reference}
    )
    existing = await found.fetchone()
    if existing is None:
        asset_id, _ = await insert_asset(conn, data, actor, reference=reference, source=source)
        await conn.execute(
            read_sql("geo", "assets/set_location_basis.sql"),
            {"id": asset_id, "location_basis": location_basis},
        )
        await record_new_asset(conn, asset_id, on, actor, {**details, "source": source})
        return asset_id, "inserted"
    asset_id = int(existing[0])
    check_asset_point(data.lon, data.lat)
    before = await asset_row(conn, asset_id)
    edition = await find_edition(conn, None)
    params = {
        **data.model_dump(exclude={"site", "postcode"}),
        "postcode": normalise_postcode(data.postcode) if data.postcode else None,
        "source": source,
        "location_basis": location_basis,
        "edition": edition.code,
        "id": asset_id,
    }
    cur = await conn.execute(point_placed_sql("update_facts.sql"), params)
    if await cur.fetchone() is None:
        inside = await conn.execute(
            read_sql("geo", "areas/lsoa_code_at_point.sql"),
            {"vintage": edition.lsoa_vintage, "lon": data.lon, "lat": data.lat},
        )
        if await inside.fetchone() is None:
            raise AssetOutsideEngland(
                f"no English LSOA of the {edition.code} geography contains "
                f"({data.lon}, {data.lat})",
                parameter="lon",
            )
        return asset_id, "unchanged"
    after = await asset_row(conn, asset_id)
    await audit.record_step(
        conn,
        ASSET_STEP_LOG,
        asset_id,
        "update_facts",
        before,
        after,
        on,
        on,
        actor,
        {**details, "source": source},
    )
    return asset_id, "updated"


async def refresh_serving_many(conn: AsyncConnection, asset_ids: Iterable[int], on: date) -> None:
    """Rewrite the map features of these assets and bump the data version once (if any)."""
    ids = list(asset_ids)
    for asset_id in ids:
        await upsert_asset_serving(conn, asset_id, on)
    if ids:
        await conn.execute(read_sql("geo", "tiles/bump_data_version.sql"))
