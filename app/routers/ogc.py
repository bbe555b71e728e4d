"""OGC API - Features (Parts 1, 2 and 3) over every registered collection.

One set of routes serves every collection of ``geo.collections``: the router parses the
request, calls ``geo.features`` and encodes the answer as GeoJSON/JSON or HTML.
"""

from __future__ import annotations

import json
from contextlib import nullcontext
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape

from app.caching import collection_extent, current_data_version, document_etag, etag_matches
from app.db import lend_connection
from app.http import base_url
from app.replicas import ReadDbDep
from geo import features, overview
from geo.collections import Collection, all_collections, get_collection
from geo.crs import CRS_NAMES, STORAGE_CRS, SUPPORTED, parse_bbox, parse_crs
from geo.errors import InvalidInput, NotFound
from geo.filters import parse_filter

router = APIRouter(tags=["OGC API - Features"])
templates = Environment(
    loader=PackageLoader("app", "templates"), autoescape=select_autoescape(["html"])
)

GEOJSON = "application/geo+json"
OGC_REL = "http://www.opengis.net/def/rel/ogc/1.0"
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
    "http://www.opengis.net/spec/cql2/1.0/conf/advanced-comparison-operators",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions-plus",
    "http://www.opengis.net/spec/cql2/1.0/conf/spatial-functions",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tileset",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tilesets-list",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/geodata-tilesets",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/mvt",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/geojson",
]
ITEMS_PARAMETERS = {
    "f",
    "limit",
    "offset",
    "bbox",
    "bbox-crs",
    "crs",
    "properties",
    "sortby",
    "filter",
    "filter-lang",
    "filter-crs",
}
# The CRS names parse_crs accepts, listed in the document (an unlisted one is a 400 naming the
# parameter, as OGC API - Features Part 2 asks).
CRS_ENUM: dict[str, Any] = {"enum": list(CRS_NAMES)}
FormatQuery = Annotated[
    str | None, Query(description="json (default) or html", pattern="^(json|geojson|html)$")
]
# The media types each route answers in (f or Accept chooses), for the API definition.
JSON_OR_HTML: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/json": {}, "text/html": {}}}
}
GEOJSON_OR_HTML: dict[int | str, dict[str, Any]] = {
    200: {"content": {GEOJSON: {}, "text/html": {}}}
}
SCHEMA_OR_HTML: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/schema+json": {}, "text/html": {}}}
}


def _reject_unknown(request: Request, allowed: set[str]) -> None:
    """OGC API /req/core/query-param-unknown: a parameter the API does not define is a 400."""
    unknown = [k for k in request.query_params if k not in allowed]
    if unknown:
        raise InvalidInput(f"unknown query parameters {unknown}", parameter=unknown[0])


def _wants_html(request: Request, f: str | None) -> bool:
    """Content negotiation: ``f`` decides; else a browser's Accept asks for HTML."""
    if f is not None:
        return f == "html"
    accept = request.headers.get("accept", "")
    return "text/html" in accept and "json" not in accept


def _html(template: str, headers: dict[str, str] | None = None, **context: Any) -> HTMLResponse:
    """Render one of the HTML encodings."""
    return HTMLResponse(templates.get_template(template).render(**context), headers=headers)


def _collection_or_404(collection_id: str) -> Collection:
    collection = get_collection(collection_id)
    if collection is None:
        raise NotFound(
            f"no collection {collection_id!r}; see /collections", parameter="collectionId"
        )
    return collection


def _link(href: str, rel: str, type_: str, title: str | None = None) -> dict[str, str]:
    link = {"href": href, "rel": rel, "type": type_}
    if title:
        link["title"] = title
    return link


# The four maps as the front page offers them, each with a preview image made from the running
# demo by scripts/screenshots.py (app/static/previews/).
FRONT_PAGE_MAPS: tuple[tuple[str, str, str], ...] = (
    (
        "deprivation",
        "Deprivation map",
        "Every LSOA by its IMD decile (IoD2025 and IoD2019), with each domain on a click.",
    ),
    (
        "eligibility",
        "Grant eligibility map",
        "Which areas each grant programme may fund, and why, opened on an open programme.",
    ),
    (
        "assets",
        "Assets map",
        "Assets of community value and council land and buildings: what a group may do today.",
    ),
    (
        "coverage",
        "Group coverage map",
        "Where neighbourhood groups reach adults, and the deprived places nobody reaches.",
    ),
)


def front_page_maps(base: str) -> list[dict[str, str]]:
    """The front page's map entries: link, title, one line, preview image."""
    return [
        {
            "href": f"{base}/maps/{name}",
            "title": title,
            "description": description,
            "preview": f"{base}/static/previews/map-{name}.png",
        }
        for name, title, description in FRONT_PAGE_MAPS
    ]


@router.get("/", summary="Landing page", responses=JSON_OR_HTML)
async def landing_page(request: Request, f: FormatQuery = None) -> Response:
    """The OGC API landing page: links to the API definition, conformance and data."""
    _reject_unknown(request, {"f"})
    base = base_url(request)
    body = {
        "title": "Platoons",
        "description": "Neighbourhood analytics for England: LSOAs and local authorities with the "
        "English Indices of Deprivation, as OGC API Features and Tiles.",
        "links": [
            _link(f"{base}/?f=json", "self", "application/json", "this document"),
            _link(f"{base}/?f=html", "alternate", "text/html", "this document as HTML"),
            _link(
                f"{base}/openapi.json",
                "service-desc",
                "application/vnd.oai.openapi+json;version=3.0",
                "API definition",
            ),
            _link(f"{base}/docs", "service-doc", "text/html", "API documentation"),
            _link(f"{base}/conformance", "conformance", "application/json", "conformance classes"),
            _link(f"{base}/collections", "data", "application/json", "collections"),
            _link(
                f"{base}/tileMatrixSets",
                f"{OGC_REL}/tiling-schemes",
                "application/json",
                "tile matrix sets",
            ),
        ],
    }
    if _wants_html(request, f):
        async with lend_connection(request) as conn:
            data = await overview.loaded_data(conn)
        return _html(
            "front.html",
            headers={"Cache-Control": "no-cache"},
            page=body,
            data=data,
            maps=front_page_maps(base),
            base=base,
        )
    return JSONResponse(body)


@router.get("/conformance", summary="Conformance classes", responses=JSON_OR_HTML)
async def conformance_declaration(request: Request, f: FormatQuery = None) -> Response:
    """The conformance classes this service implements."""
    _reject_unknown(request, {"f"})
    body = {"conformsTo": CONFORMANCE}
    if _wants_html(request, f):
        return _html("conformance.html", page=body)
    return JSONResponse(body)


async def _collection_document(
    request: Request, conn: ReadDbDep, collection: Collection
) -> dict[str, Any]:
    """The JSON description of one collection, with its extent from the data."""
    base = base_url(request)
    url = f"{base}/collections/{collection.id}"
    bbox = await _cached_extent(request, conn, collection)
    document: dict[str, Any] = {
        "id": collection.id,
        "title": collection.title,
        "description": collection.description,
        "keywords": list(collection.keywords),
        "itemType": "feature",
        "crs": [c.uri for c in SUPPORTED],
        "storageCrs": STORAGE_CRS.uri,
        "attribution": collection.attribution,
        "links": [
            _link(url, "self", "application/json", "this collection"),
            _link(f"{url}?f=html", "alternate", "text/html", "this collection as HTML"),
            _link(f"{url}/items", "items", GEOJSON, "features as GeoJSON"),
            _link(f"{url}/items?f=html", "items", "text/html", "features as HTML"),
            _link(
                f"{url}/queryables",
                f"{OGC_REL}/queryables",
                "application/schema+json",
                "queryables",
            ),
            _link(
                f"{url}/tiles", f"{OGC_REL}/tilesets-vector", "application/json", "vector tilesets"
            ),
            _link(
                "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/",
                "license",
                "text/html",
                "Open Government Licence v3.0",
            ),
        ],
    }
    if bbox is not None:
        document["extent"] = {
            "spatial": {"bbox": [bbox], "crs": "http://www.opengis.net/def/crs/OGC/1.3/CRS84"}
        }
    return document


async def _cached_extent(
    request: Request, conn: ReadDbDep, collection: Collection
) -> list[float] | None:
    """A collection's extent, computed once per data version."""
    version = await _data_version(request, conn)
    return await collection_extent(request, collection, version, lambda: nullcontext(conn))


async def _data_version(request: Request, conn: ReadDbDep) -> int:
    """The current data version (from the watcher when running, else from the database)."""
    return await current_data_version(request, lambda: nullcontext(conn))


@router.get("/collections", summary="The collections", responses=JSON_OR_HTML)
async def list_collections(request: Request, conn: ReadDbDep, f: FormatQuery = None) -> Response:
    """Every collection Platoons serves."""
    _reject_unknown(request, {"f"})
    base = base_url(request)
    body = {
        "links": [
            _link(f"{base}/collections", "self", "application/json", "this document"),
            _link(f"{base}/collections?f=html", "alternate", "text/html", "this document as HTML"),
        ],
        "collections": [await _collection_document(request, conn, c) for c in all_collections()],
    }
    if _wants_html(request, f):
        return _html("collections.html", page=body)
    return JSONResponse(body)


@router.get("/collections/{collectionId}", summary="One collection", responses=JSON_OR_HTML)
async def describe_collection(
    request: Request,
    conn: ReadDbDep,
    collectionId: str,
    f: FormatQuery = None,  # noqa: N803 - OGC name
) -> Response:
    """One collection's description, extent and links."""
    _reject_unknown(request, {"f"})
    body = await _collection_document(request, conn, _collection_or_404(collectionId))
    if _wants_html(request, f):
        return _html("collection.html", page=body)
    return JSONResponse(body)


@router.get(
    "/collections/{collectionId}/queryables",
    summary="Queryables of a collection",
    responses=SCHEMA_OR_HTML,
)
async def collection_queryables(
    request: Request, collectionId: str, f: FormatQuery = None
) -> Response:  # noqa: N803
    """The properties a filter may use, as JSON Schema."""
    _reject_unknown(request, {"f"})
    body = features.queryables(_collection_or_404(collectionId), base_url(request))
    if _wants_html(request, f):
        return _html("queryables.html", page=body)
    return JSONResponse(body, media_type="application/schema+json")


def _items_query(request: Request, collection: Collection) -> features.ItemsQuery:
    """Parse and validate the query string of an /items request."""
    params = request.query_params
    _reject_unknown(request, ITEMS_PARAMETERS | set(collection.property_index))

    def integer(name: str, default: int) -> int:
        value = params.get(name)
        if value is None:
            return default
        try:
            return int(value)
        except ValueError as exc:
            raise InvalidInput(f"{name} must be a whole number", parameter=name) from exc

    bbox_crs = parse_crs(params.get("bbox-crs"), "bbox-crs")
    filter_text = params.get("filter")
    equals = {}
    for name, value in params.items():
        prop = collection.property(name)
        if prop is not None:
            equals[name] = features.parse_equality(prop, value)
    return features.ItemsQuery(
        collection=collection,
        limit=integer("limit", features.DEFAULT_LIMIT),
        offset=integer("offset", 0),
        bbox=parse_bbox(params.get("bbox"), bbox_crs),
        bbox_crs=bbox_crs,
        crs=parse_crs(params.get("crs"), "crs"),
        properties=features.parse_properties(collection, params.get("properties")),
        equals=equals,
        sortby=features.parse_sortby(collection, params.get("sortby")),
        filter=parse_filter(filter_text, params.get("filter-lang")) if filter_text else None,
        filter_crs=parse_crs(params.get("filter-crs"), "filter-crs"),
    )


def _page_url(request: Request, offset: int, **overrides: str) -> str:
    """The URL of this items request with another offset (and other overrides)."""
    params = dict(request.query_params)
    params["offset"] = str(offset)
    params.update(overrides)
    return f"{base_url(request)}{request.url.path}?{urlencode(params)}"


@router.get(
    "/collections/{collectionId}/items",
    summary="Features of a collection",
    responses=GEOJSON_OR_HTML,
    description=(
        f"Paged with `limit` (default {features.DEFAULT_LIMIT}, maximum {features.MAX_LIMIT}) "
        "and `offset`; `next`/`prev` links follow. Filters: `bbox` (+`bbox-crs`), any property "
        "by equality (`?lad_code=E08000009`), and CQL2 (`filter`, `filter-lang` = cql2-text or "
        "cql2-json, `filter-crs`). `properties=` selects attributes, `sortby=+a,-b` orders, "
        "`crs=` reprojects (CRS84, EPSG:4326, EPSG:27700, EPSG:3857)."
    ),
)
async def list_features(
    request: Request,
    conn: ReadDbDep,
    collectionId: str,  # noqa: N803
    f: FormatQuery = None,
    # Declared for the API definition; parsed and validated together in _items_query.
    limit: Annotated[str | None, Query(description=f"1..{features.MAX_LIMIT}")] = None,
    offset: Annotated[str | None, Query(description=f"0..{features.MAX_OFFSET}")] = None,
    bbox: Annotated[str | None, Query(description="minx,miny,maxx,maxy")] = None,
    bbox_crs: Annotated[str | None, Query(alias="bbox-crs", json_schema_extra=CRS_ENUM)] = None,
    crs: Annotated[
        str | None, Query(description="output CRS URI", json_schema_extra=CRS_ENUM)
    ] = None,
    properties: Annotated[str | None, Query(description="comma-separated names")] = None,
    sortby: Annotated[str | None, Query(description="+name or -name, comma-separated")] = None,
    filter: Annotated[str | None, Query(description="CQL2 text or JSON")] = None,  # noqa: A002
    filter_lang: Annotated[str | None, Query(alias="filter-lang")] = None,
    filter_crs: Annotated[str | None, Query(alias="filter-crs", json_schema_extra=CRS_ENUM)] = None,
) -> Response:
    """A page of features as GeoJSON (or HTML)."""
    collection = _collection_or_404(collectionId)
    query = _items_query(request, collection)
    fmt = {"f": "html"} if _wants_html(request, f) else {}
    version = await _data_version(request, conn)
    etag = document_etag(version, request, "html" if fmt else "geojson")
    headers = {
        "ETag": etag,
        "Cache-Control": "public, max-age=60",
        "Content-Crs": f"<{query.crs.uri}>",
        "Vary": "Accept",
    }
    if etag_matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    page = await features.items(conn, query)
    collection_url = f"{base_url(request)}/collections/{collection.id}"
    links = [
        _link(
            _page_url(request, query.offset, **fmt),
            "self",
            "text/html" if fmt else GEOJSON,
            "this page",
        ),
        _link(
            _page_url(request, query.offset, f="html"),
            "alternate",
            "text/html",
            "this page as HTML",
        ),
        _link(collection_url, "collection", "application/json", collection.title),
    ]
    if query.offset + page.number_returned < page.number_matched:
        links.append(
            _link(
                _page_url(request, query.offset + query.limit, **fmt), "next", GEOJSON, "next page"
            )
        )
    if query.offset > 0:
        previous = max(0, query.offset - query.limit)
        links.append(_link(_page_url(request, previous, **fmt), "prev", GEOJSON, "previous page"))
    if fmt:
        return _html(
            "items.html",
            headers=headers,
            collection=collection,
            features=json.loads(page.features_json),
            links=links,
            matched=page.number_matched,
            returned=page.number_returned,
            offset=query.offset,
        )
    head = json.dumps(
        {
            "type": "FeatureCollection",
            "numberMatched": page.number_matched,
            "numberReturned": page.number_returned,
            "links": links,
        }
    ).encode()
    # Splice PostGIS's feature array into the envelope instead of re-encoding it in Python.
    body = head[:-1] + b',"features":' + page.features_json.encode() + b"}"
    return Response(body, media_type=GEOJSON, headers=headers)


@router.get(
    "/collections/{collectionId}/items/{featureId}",
    summary="One feature",
    responses=GEOJSON_OR_HTML,
)
async def get_feature(
    request: Request,
    conn: ReadDbDep,
    collectionId: str,
    featureId: str,  # noqa: N803
    f: FormatQuery = None,
    crs: Annotated[str | None, Query(json_schema_extra=CRS_ENUM)] = None,
) -> Response:
    """One feature as GeoJSON (or HTML)."""
    _reject_unknown(request, {"f", "crs"})
    collection = _collection_or_404(collectionId)
    output_crs = parse_crs(crs, "crs")
    text = await features.item(conn, collection, featureId, output_crs)
    collection_url = f"{base_url(request)}/collections/{collection.id}"
    if _wants_html(request, f):
        return _html("item.html", collection=collection, feature=json.loads(text))
    links = json.dumps(
        [
            _link(f"{collection_url}/items/{featureId}", "self", GEOJSON, "this feature"),
            _link(
                f"{collection_url}/items/{featureId}?f=html", "alternate", "text/html", "as HTML"
            ),
            _link(collection_url, "collection", "application/json", collection.title),
        ]
    ).encode()
    body = text.encode()[:-1] + b',"links":' + links + b"}"
    return Response(body, media_type=GEOJSON, headers={"Content-Crs": f"<{output_crs.uri}>"})
