"""What the maps draw and answer: which collection holds each edition's layers, one district's
LSOAs, an asset's card for the assets map, and the LSOA a postcode names for the search box.

Web-free and SQL-free: the district's LSOAs come through the OGC features query
(:func:`geo.features.items`) and its name through :func:`geo.areas.area_by_code`, so an
exported map shows exactly what ``/collections/.../items`` serves; an asset's card comes from
:func:`geo.assets.get_asset` with its next deadline from :func:`geo.rights.next_deadline`; a
postcode is placed by :func:`geo.place_resolution.resolve`, as the eligibility answers place it.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from datetime import date
from typing import Any, Literal

from psycopg import AsyncConnection
from pydantic import BaseModel

from geo import assets, features, place_resolution, rights
from geo.area_models import EditionRef
from geo.areas import area_by_code, find_edition
from geo.collections import IOD_DOMAINS, Collection, all_collections
from geo.errors import AreaNotFound, CollectionNotFound, InvalidInput
from geo.postcodes import normalise_postcode

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


# --- the assets map ---------------------------------------------------------------------------

# The stored facts that drive an asset's deadlines (rights.Lifecycle), all on the public Asset
# but ``last_step_on``, which no deadline uses.
_LIFECYCLE_FIELDS: tuple[str, ...] = tuple(
    f.name for f in fields(rights.Lifecycle) if f.name != "last_step_on"
)


class AssetCard(BaseModel):
    """What a click on an asset shows: what it is, where, its status and next deadline."""

    id: int
    reference: str
    name: str
    category: str
    owner_type: str
    status: rights.Status
    address: str | None
    lsoa_code: str
    lad_code: str
    imd_decile: int | None
    is_example: bool
    on: date
    next_deadline: assets.DeadlineOut | None
    next_steps: list[str]


# The card's fields the asset itself gives, as it gives them; the date and deadline are the card's.
_CARD_FACTS: tuple[str, ...] = tuple(
    name for name in AssetCard.model_fields if name not in ("on", "next_deadline")
)


async def asset_card(conn: AsyncConnection, asset_id: int, on: date) -> AssetCard:
    """Return an asset's card as of ``on``: its public facts and its next statutory deadline.

    The map layer's ``next_deadline`` is computed when the asset last changed; the card's is
    computed for ``on`` by :func:`geo.rights.next_deadline` (the first deadline of the current
    status ending on or after ``on``), so a click never shows a deadline already past.

    Parameters
    ----------
    conn
        An open connection to the Platoons database.
    asset_id
        The asset's id (the map layer's feature id).
    on
        The date asked about (today, UTC, in the service).

    Raises
    ------
    AssetNotFound
        If there is no such asset.
    """
    asset = await assets.get_asset(conn, asset_id, on)
    life = rights.Lifecycle(**{name: getattr(asset, name) for name in _LIFECYCLE_FIELDS})
    upcoming = rights.next_deadline(life, on)
    return AssetCard(
        **{name: getattr(asset, name) for name in _CARD_FACTS},
        on=on,
        next_deadline=None if upcoming is None else assets.DeadlineOut(**asdict(upcoming)),
    )


# --- the search box ---------------------------------------------------------------------------


class PostcodePlace(BaseModel):
    """The LSOA a postcode lies in, by the postcode directory, in one edition's geography."""

    postcode: str
    edition: str
    lsoa_code: str
    lsoa_name: str


async def postcode_place(
    conn: AsyncConnection, postcode: str, edition_code: str | None = None
) -> PostcodePlace:
    """Return the LSOA of a postcode, as the postcode directory gives it (not point-in-polygon).

    Parameters
    ----------
    conn
        An open connection to the Platoons database.
    postcode
        A UK postcode, in any case and spacing.
    edition_code
        Index edition whose LSOA geography answers; the current edition when None.

    Raises
    ------
    InvalidInput
        If the text is not a UK postcode.
    PostcodeNotCovered
        If the loaded postcode directory does not hold it.
    EditionNotFound
        If the edition is not loaded.
    """
    edition = await find_edition(conn, edition_code)
    area, facts = await place_resolution.resolve(
        conn, place_resolution.Place(postcode=postcode), edition, "lsoa"
    )
    assert area.code is not None  # a postcode stands for one LSOA
    return PostcodePlace(
        postcode=normalise_postcode(postcode) or postcode,
        edition=edition.code,
        lsoa_code=area.code,
        lsoa_name=area.name or facts.lsoas[0].name,
    )
