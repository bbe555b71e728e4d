"""Feature queries for OGC API - Features: items pages, single features, queryables, extents.

Features are assembled as GeoJSON by PostGIS (``ST_AsGeoJSON`` + ``json_build_object``) and
returned as JSON text, so a page of thousands of features is never rebuilt object by object
in Python. Identifiers come from the collection registry (quoted with ``sql.Identifier``);
every value is a bound parameter.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from psycopg import AsyncConnection, sql

from geo.collections import Collection, Property, shown_value
from geo.crs import CRS84, Crs, clip_to_area_of_use
from geo.errors import InvalidInput, NotFound
from geo.figures import COORDINATE
from geo.filters import filter_to_sql

DEFAULT_LIMIT = 10
MAX_LIMIT = 10_000
MAX_OFFSET = 1_000_000


class FeatureNotFound(NotFound):
    """No feature of the collection has the given id."""

    title = "Feature not found"


@dataclass(frozen=True)
class ItemsQuery:
    """What one ``/items`` request asks for, already validated."""

    collection: Collection
    limit: int = DEFAULT_LIMIT
    offset: int = 0
    bbox: tuple[float, float, float, float] | None = None
    bbox_crs: Crs = CRS84
    crs: Crs = CRS84
    properties: tuple[str, ...] | None = None
    equals: dict[str, Any] = field(default_factory=dict)
    sortby: tuple[tuple[str, bool], ...] = ()
    filter: dict[str, Any] | None = None
    filter_crs: Crs = CRS84


@dataclass(frozen=True)
class FeaturePage:
    """A page of features as a JSON array text, with the counts OGC API asks for."""

    features_json: str
    number_matched: int
    number_returned: int


def parse_properties(collection: Collection, value: str | None) -> tuple[str, ...] | None:
    """Validate a ``properties=`` selection (comma-separated names)."""
    if value is None:
        return None
    names = tuple(n.strip() for n in value.split(",") if n.strip())
    unknown = [n for n in names if collection.property(n) is None]
    if unknown:
        raise InvalidInput(f"unknown properties {unknown}", parameter="properties")
    return names


def parse_sortby(collection: Collection, value: str | None) -> tuple[tuple[str, bool], ...]:
    """Validate ``sortby=+a,-b`` into (name, descending) pairs."""
    if not value:
        return ()
    result = []
    for part in value.split(","):
        part = part.strip()
        descending = part.startswith("-")
        name = part.lstrip("+-").strip()
        if collection.property(name) is None:
            raise InvalidInput(f"cannot sort by unknown property {name!r}", parameter="sortby")
        result.append((name, descending))
    return tuple(result)


def reject_nul(value: str, parameter: str) -> str:
    """Refuse text with a NUL character (PostgreSQL text cannot hold one)."""
    if "\x00" in value:
        raise InvalidInput("text contains a NUL character", parameter=parameter)
    return value


def parse_equality(prop: Property, value: str) -> Any:
    """Convert a property equality filter's text to the property's type."""
    reject_nul(value, prop.name)
    try:
        if prop.type == "integer":
            return int(value)
        if prop.type == "number":
            number = float(value)
            if number != number or number in (float("inf"), float("-inf")):
                raise ValueError(value)
            return number
        if prop.type == "boolean":
            return {"true": True, "false": False}[value.lower()]
    except (ValueError, KeyError) as exc:
        raise InvalidInput(f"{prop.name} must be a {prop.type}", parameter=prop.name) from exc
    return value


def _geometry_sql(crs: Crs) -> sql.Composable:
    """The geometry column in the requested CRS, as GeoJSON with sensible precision."""
    column = {4326: "geom_4326", 27700: "geom", 3857: "geom_3857"}[crs.srid]
    geometry: sql.Composable = sql.Identifier(column)
    if crs.lat_first:
        geometry = sql.SQL("ST_FlipCoordinates({})").format(geometry)
    return sql.SQL("ST_AsGeoJSON({}, {})::json").format(geometry, sql.Literal(crs.decimals))


def _feature_sql(collection: Collection, crs: Crs, names: tuple[str, ...]) -> sql.Composable:
    """A json_build_object(...) expression building one GeoJSON Feature."""
    pairs = sql.SQL(", ").join(
        sql.SQL("{}, {}").format(sql.Literal(n), shown_value(collection, n, sql.Identifier(n)))
        for n in names
    )
    return sql.SQL(
        "json_build_object('type', 'Feature', 'id', {id}, 'geometry', {geometry},"
        " 'properties', json_build_object({pairs}))"
    ).format(id=sql.Identifier(collection.id_column), geometry=_geometry_sql(crs), pairs=pairs)


def _where(query: ItemsQuery, params: dict[str, Any]) -> sql.Composable:
    """The WHERE clause: the collection's rows, bbox, equality filters and the CQL2 filter."""
    collection = query.collection
    conditions: list[sql.Composable] = []
    for column, value in collection.where.items():
        name = f"where_{len(params)}"
        params[name] = value
        conditions.append(sql.SQL("{} = {}").format(sql.Identifier(column), sql.Placeholder(name)))
    box = None if query.bbox is None else clip_to_area_of_use(query.bbox, query.bbox_crs)
    if query.bbox is not None and box is None:
        # A box wholly outside British National Grid's area of use holds no English feature.
        conditions.append(sql.SQL("FALSE"))
    elif box is not None:
        for i, corner in enumerate(box):
            params[f"bbox_{i}"] = corner
        # ST_Intersects (which uses the GiST index through its implicit &&): features that
        # touch the box, not merely those whose own bounding box does.
        conditions.append(
            sql.SQL(
                "ST_Intersects(geom, ST_Transform(ST_MakeEnvelope(%(bbox_0)s, %(bbox_1)s,"
                " %(bbox_2)s, %(bbox_3)s, {srid}), 27700))"
            ).format(srid=sql.Literal(query.bbox_crs.srid))
        )
    for name, value in query.equals.items():
        key = f"eq_{len(params)}"
        params[key] = value
        # A figure is matched as it is shown (adults=506.1 finds the 506.05007... stored).
        shown = shown_value(collection, name, sql.Identifier(name))
        conditions.append(sql.SQL("{} = {}").format(shown, sql.Placeholder(key)))
    if query.filter is not None:
        conditions.append(filter_to_sql(query.filter, collection, query.filter_crs, params))
    return sql.SQL(" AND ").join(conditions) if conditions else sql.SQL("TRUE")


async def items(conn: AsyncConnection, query: ItemsQuery) -> FeaturePage:
    """Return one page of a collection's features matching ``query``."""
    if not 1 <= query.limit <= MAX_LIMIT:
        raise InvalidInput(f"limit must be between 1 and {MAX_LIMIT}", parameter="limit")
    if not 0 <= query.offset <= MAX_OFFSET:
        raise InvalidInput(f"offset must be between 0 and {MAX_OFFSET}", parameter="offset")
    collection = query.collection
    names = (
        query.properties
        if query.properties is not None
        else tuple(p.name for p in collection.properties)
    )
    params: dict[str, Any] = {}
    where = _where(query, params)
    order: list[sql.Composable] = [
        sql.SQL("{} {}").format(sql.Identifier(n), sql.SQL("DESC" if d else "ASC"))
        for n, d in query.sortby
    ]
    order.append(sql.Identifier(collection.id_column))  # a total order: stable paging
    table = sql.Identifier(collection.table)
    order_by = sql.SQL(", ").join(order)
    page = sql.SQL(
        "SELECT coalesce(json_agg({feature} ORDER BY {order}), '[]')::text, count(*) FROM ("
        " SELECT * FROM {table} WHERE {where} ORDER BY {order} LIMIT %(limit)s OFFSET %(offset)s"
        ") AS rows"
    ).format(
        feature=_feature_sql(collection, query.crs, names),
        table=table,
        where=where,
        order=order_by,
    )
    count = sql.SQL("SELECT count(*) FROM {table} WHERE {where}").format(table=table, where=where)
    async with conn.cursor() as cur:
        await cur.execute(page, {**params, "limit": query.limit, "offset": query.offset})
        features_json, returned = await cur.fetchone() or ("[]", 0)
        await cur.execute(count, params)
        (matched,) = await cur.fetchone() or (0,)
    return FeaturePage(features_json, int(matched), int(returned))


async def item(conn: AsyncConnection, collection: Collection, feature_id: str, crs: Crs) -> str:
    """Return one feature of a collection as GeoJSON text.

    Raises
    ------
    FeatureNotFound
        If the collection has no feature with this id.
    """
    params: dict[str, Any] = {"feature_id": reject_nul(feature_id, "featureId")}
    where = _where(ItemsQuery(collection=collection), params)
    query = sql.SQL(
        "SELECT {feature}::text FROM {table} WHERE {where} AND {id} = %(feature_id)s"
    ).format(
        feature=_feature_sql(collection, crs, tuple(p.name for p in collection.properties)),
        table=sql.Identifier(collection.table),
        where=where,
        id=sql.Identifier(collection.id_column),
    )
    async with conn.cursor() as cur:
        await cur.execute(query, params)
        row = await cur.fetchone()
    if row is None:
        raise FeatureNotFound(f"collection {collection.id} has no feature {feature_id!r}")
    return str(row[0])


async def extent(conn: AsyncConnection, collection: Collection) -> list[float] | None:
    """Return the collection's bounding box in CRS84 (lon/lat), or None if it is empty."""
    params: dict[str, Any] = {}
    where = _where(ItemsQuery(collection=collection), params)
    query = sql.SQL(
        "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e)"
        " FROM (SELECT ST_Extent(geom_4326) AS e FROM {table} WHERE {where}) AS x"
    ).format(table=sql.Identifier(collection.table), where=where)
    async with conn.cursor() as cur:
        await cur.execute(query, params)
        row = await cur.fetchone()
    if row is None or row[0] is None:
        return None
    return [COORDINATE.round(v) for v in row]


def queryables(collection: Collection, base_url: str) -> dict[str, Any]:
    """Return the collection's queryables as a JSON Schema (OGC API - Features Part 3)."""
    properties: dict[str, Any] = {
        "geometry": {
            "title": "geometry",
            "format": f"geometry-{collection.geometry_type.lower()}",
            "x-ogc-role": "primary-geometry",
        }
    }
    for prop in collection.properties:
        properties[prop.name] = {
            "title": prop.name,
            "description": prop.described,
            "type": prop.type,
        }
        if prop.name == collection.id_column:
            properties[prop.name]["x-ogc-role"] = "id"
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"{base_url}/collections/{collection.id}/queryables",
        "type": "object",
        "title": collection.title,
        "properties": properties,
        "additionalProperties": False,
    }
