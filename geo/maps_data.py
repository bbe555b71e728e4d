"""What the maps draw: which collection holds each edition's layers, and one district's LSOAs.

Web-free and SQL-free: the district's LSOAs come through the OGC features query
(:func:`geo.features.items`) and its name through :func:`geo.areas.area_by_code`, so an
exported map shows exactly what ``/collections/.../items`` serves.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

from psycopg import AsyncConnection

from geo import features
from geo.areas import area_by_code, find_edition
from geo.collections import IOD_DOMAINS, Collection, all_collections
from geo.errors import AreaNotFound, CollectionNotFound, InvalidInput
from geo.models import EditionRef

LayerKind = Literal["lsoa", "lad"]
# The serving table behind each kind of deprivation layer (geo/collections.py).
LAYER_TABLES: dict[LayerKind, str] = {"lsoa": "lsoa_deprivation", "lad": "lad_deprivation"}

# What an exported LSOA carries: names, the IMD rank and decile and every domain's decile.
EXPORT_PROPERTIES: tuple[str, ...] = (
    "code",
    "name",
    "lad_code",
    "lad_name",
    "ward_name",
    "imd_rank",
    *(f"{domain}_decile" for domain, _ in IOD_DOMAINS),
)


@dataclass(frozen=True)
class LadLsoas:
    """One district's LSOAs in one index edition, as a GeoJSON FeatureCollection (CRS84)."""

    edition: EditionRef
    lad_code: str
    lad_name: str
    feature_collection: dict[str, Any]

    @property
    def lsoa_count(self) -> int:
        """Return how many LSOAs the collection holds."""
        return len(self.feature_collection["features"])


def edition_collection(kind: LayerKind, edition_code: str) -> Collection:
    """Return the registered collection serving an edition's LSOA or district layer.

    Raises
    ------
    CollectionNotFound
        If no collection serves that layer for the edition.
    """
    for collection in all_collections():
        if (
            collection.table == LAYER_TABLES[kind]
            and collection.where.get("edition_code") == edition_code
        ):
            return collection
    raise CollectionNotFound(f"no {kind} collection serves {edition_code}")


def edition_codes() -> list[str]:
    """Return the editions that have both an LSOA and a district collection, in registry order."""
    by_kind = {
        kind: [c.where["edition_code"] for c in all_collections() if c.table == table]
        for kind, table in LAYER_TABLES.items()
    }
    return [code for code in by_kind["lsoa"] if code in by_kind["lad"]]


async def lad_lsoas(
    conn: AsyncConnection, lad_code: str, edition_code: str | None = None
) -> LadLsoas:
    """Return a district's LSOAs with their deciles, for a map of that district alone.

    Parameters
    ----------
    conn
        An open connection to the Platoons database.
    lad_code
        GSS code of a local authority district of the edition's geography (E06-E09).
    edition_code
        Index edition (e.g. ``"IoD2019"``); the current edition when None.

    Raises
    ------
    EditionNotFound
        If the edition is not loaded.
    InvalidInput
        If ``lad_code`` is not a district code.
    AreaNotFound
        If the district is not loaded, or has no LSOAs in the edition.
    """
    edition = await find_edition(conn, edition_code)
    area = await area_by_code(conn, lad_code, edition.code)
    if area.type != "lad":
        raise InvalidInput(
            f"{lad_code} is an LSOA code; give a local authority district code (E06-E09)",
            parameter="lad",
        )
    collection = edition_collection("lsoa", edition.code)
    query = features.ItemsQuery(
        collection=collection,
        limit=features.MAX_LIMIT,
        equals={"lad_code": area.lad.code},
        properties=tuple(p for p in EXPORT_PROPERTIES if collection.property(p) is not None),
    )
    page = await features.items(conn, query)
    if page.number_returned == 0:
        raise AreaNotFound(f"{area.lad.name} ({area.lad.code}) has no LSOAs in {edition.code}")
    if page.number_matched > page.number_returned:  # no district has 10,000 LSOAs; say if one did
        raise InvalidInput(f"{area.lad.code} has more than {features.MAX_LIMIT} LSOAs")
    return LadLsoas(
        edition=edition,
        lad_code=area.lad.code,
        lad_name=area.lad.name,
        feature_collection={
            "type": "FeatureCollection",
            "features": json.loads(page.features_json),
        },
    )
