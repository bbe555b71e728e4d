"""Interactive maps built with folium: the deprivation, grant-eligibility, assets of community
value and group coverage pages, and the self-contained map of one district that
``platoons export-map`` writes (deprivation only).

Presentation only: the router and the CLI fetch data through ``geo`` and pass it in.

Offline by construction. A default folium map pulls Leaflet, jQuery, Bootstrap, Font Awesome
and awesome-markers from public CDNs and OpenStreetMap tiles; here ``default_js`` and
``default_css`` name only Leaflet (from the ``xstatic-leaflet`` package, served by the app
under :data:`LEAFLET_URL`) and our own helper (``app/static/maps``), no folium plugin or
``folium.Icon`` is used, and there is no basemap unless :class:`MapSettings` configures one.
Layers are drawn from the service's own vector tiles (``/collections/{id}/tiles/...``) by
``L.platoons.vectorTiles`` (points, the assets, by ``L.platoons.pointTiles`` as clickable
markers), so no page embeds an all-England GeoJSON. The export inlines
Leaflet, our helper and the district's LSOAs, so it opens from a file with no network at all.
"""

from __future__ import annotations

import base64
import html
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any, get_args
from urllib.parse import urlencode

import folium
from branca.element import Element, MacroElement
from folium.template import Template

from app.map_assets import LEAFLET_DIR, LEAFLET_URL, STATIC_DIR, STATIC_URL
from config.settings import MapSettings
from geo import tiles
from geo.area_models import EditionRef
from geo.assets import Category, OwnerType
from geo.collections import IOD_ATTRIBUTION, IOD_DOMAINS, Collection, get_collection
from geo.coverage import ACTIVE_MONTHS_DEFAULT, COLD_SPOT_THRESHOLD
from geo.grants.need import SOURCES as GRANT_SOURCES
from geo.grants.programmes import Programme
from geo.map_queries import LadLsoas, edition_codes, edition_collection

MAPS_JS = STATIC_DIR / "maps" / "platoons-maps.js"
MAPS_CSS = STATIC_DIR / "maps" / "platoons-maps.css"
ELIGIBILITY_COLLECTION = "grant-eligibility"
ASSETS_COLLECTION = "assets-of-community-value"
COVERAGE_COLLECTION = "coverage-lsoa"
CRIME_COLLECTION = "crime-lsoa"
# Crimes per 1,000 residents in the 12 months to the force's latest published month.
CRIME_RATE_BREAKS: tuple[tuple[float, str, str], ...] = (
    (5.0, "#fee5d9", "under 5"),
    (10.0, "#fcae91", "5 to 10"),
    (25.0, "#fb6a4a", "10 to 25"),
    (50.0, "#de2d26", "25 to 50"),
    (1e12, "#a50f15", "50 or more"),
)
# Grant money per resident of a district (GET /grants/need), ColorBrewer YlGn, 6 classes;
# districts no money from the source reached are left pale grey.
GRANT_MONEY_BREAKS: tuple[tuple[float, str, str], ...] = (
    (0.5, "#ffffcc", "under £0.50"),
    (1.0, "#d9f0a3", "£0.50–£1"),
    (2.5, "#addd8e", "£1–£2.50"),
    (5.0, "#78c679", "£2.50–£5"),
    (10.0, "#31a354", "£5–£10"),
    (1e12, "#006837", "£10 or more"),
)
GRANT_MONEY_NONE = "#eeeeee"
# Each source's own colour in the chart by decile: the two are never one bar.
GRANT_SOURCE_COLOURS: dict[str, str] = {"imported": "#1b9e77", "platoons": "#7570b3"}
GRANT_SOURCE_CREDITS: dict[str, str] = {
    "imported": "Grants by other funders, imported from 360Giving files",
    "platoons": "Grants Platoons approved or paid (its own records, as its 360Giving export "
    "publishes them)",
}
COLD_SPOTS_COLLECTION = "coverage-cold-spots"
GROUPS_COLLECTION = "neighbourhood-groups"
PLANNING_COLLECTION = "neighbourhood-areas"
# Neighbourhood areas by status: designated green, pending amber, closed grey.
PLANNING_COLOURS: dict[str, str] = {
    "designated": "#1a7f37",
    "publicised": "#bf8700",
    "applied": "#bf8700",
    "refused": "#8c959f",
    "withdrawn": "#8c959f",
}
PLANNING_OPACITY = 0.2
ORGANISERS_COLLECTION = "community-organisers"

# ColorBrewer RdYlBu, 10 classes (colorbrewer2.org, Cynthia Brewer, Apache 2.0): decile 1,
# the most deprived 10% of LSOAs, is dark red; decile 10 dark blue. Colour-blind safe.
DECILE_COLOURS: tuple[str, ...] = (
    "#a50026",
    "#d73027",
    "#f46d43",
    "#fdae61",
    "#fee090",
    "#e0f3f8",
    "#abd9e9",
    "#74add1",
    "#4575b4",
    "#313695",
)
QUALIFIES_COLOUR = "#6a3d9a"
NOT_QUALIFYING_COLOUR = "#e3e3e3"
# Share of a district's LSOAs in the most deprived 10% nationally (ColorBrewer RdPu).
LAD_SHARE_BREAKS: tuple[tuple[float, str, str], ...] = (
    (0.0, "#ffffff", "none"),
    (0.05, "#fde0dd", "up to 5%"),
    (0.10, "#fcc5c0", "5–10%"),
    (0.20, "#fa9fb5", "10–20%"),
    (0.30, "#f768a1", "20–30%"),
    (0.40, "#c51b8a", "30–40%"),
    (1.0, "#7a0177", "over 40%"),
)
# Assets of community value by lifecycle status, in geo.rights.Status order: the Okabe-Ito
# palette (Okabe and Ito 2008, "Color Universal Design"), distinguishable with every common
# colour-vision deficiency, plus grey for assets recorded but not yet nominated. Markers have a
# dark ring so they stand out on any decile colour.
STATUS_STYLES: tuple[tuple[str, str, str], ...] = (
    ("recorded", "#999999", "recorded, not nominated"),
    ("nominated", "#e69f00", "nominated: decision due"),
    ("listed", "#0072b2", "listed"),
    ("not_listed", "#f0e442", "not listed"),
    ("under_review", "#56b4e9", "listed, owner's review"),
    ("disposal_notified", "#d55e00", "disposal notified: interim moratorium"),
    ("full_moratorium", "#cc79a7", "full moratorium: a group will bid"),
    ("disposed", "#009e73", "disposed of"),
    ("removed", "#000000", "removed from the list"),
)
STATUS_COLOURS: dict[str, str] = {status: colour for status, colour, _ in STATUS_STYLES}
STATUS_LABELS: dict[str, str] = {status: label for status, _, label in STATUS_STYLES}
MARKER_RING = "#1b1b1b"
# Share of adults living where an active neighbourhood group works: ColorBrewer YlGn, 6 classes
# (pale: no group reaches anyone; dark green: every adult is covered).
COVERAGE_BREAKS: tuple[tuple[float, str, str], ...] = (
    (0.0, "#ffffcc", "none"),
    (0.25, "#d9f0a3", "up to 25%"),
    (0.5, "#addd8e", "25–50%"),
    (0.75, "#78c679", "50–75%"),
    (0.999, "#31a354", "75–99.9%"),
    (1.0, "#006837", "all"),
)
COLD_SPOT_COLOUR = "#d7191c"
ACTIVE_GROUP_COLOUR = "#6a3d9a"
INACTIVE_GROUP_COLOUR = "#9e9e9e"
GROUP_AREA_OPACITY = 0.35
ORGANISER_COLOUR = "#e66101"
# H3 resolution drawn from each zoom: cells stay some 10-40 pixels across (an r6 cell is about
# 7 km across, r7 2.6 km, r8 1 km, r9 0.37 km); never before the collection's first zoom.
H3_RESOLUTION_FROM_ZOOM: tuple[tuple[int, int], ...] = ((5, 6), (9, 7), (11, 8), (13, 9))
OGL_URL = "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/"
# Leaflet stops requesting tiles just inside the collection's extent: the tile route answers
# 404 for tiles outside it, and rounding must never make the two disagree at an edge.
BOUNDS_INSET_DEGREES = 1e-6

# From this zoom the maps write ward names instead of district names.
WARD_LABEL_ZOOM = 11

Bounds = Sequence[float]  # lon_min, lat_min, lon_max, lat_max (CRS84), as geo.features.extent


# --- folium elements --------------------------------------------------------------------------


class RawHtml(Element):
    """Markup placed as it is (not parsed as a Jinja template, unlike ``Element(text)``)."""

    _template = Template("{{ this.markup }}")

    def __init__(self, markup: str) -> None:
        super().__init__()
        self.markup = markup


def inline(tag: str, text: str) -> RawHtml:
    """Return a ``<script>`` or ``<style>`` element holding ``text`` inline.

    Raises
    ------
    ValueError
        If the text would end the element early (holds ``</script`` or ``</style``).
    """
    if f"</{tag}" in text.lower():
        raise ValueError(f"cannot inline text containing </{tag}")
    return RawHtml(f"<{tag}>\n{text}\n</{tag}>")


class VectorTileLayer(folium.map.Layer):
    """One collection's vector tiles from this service, drawn by ``L.platoons.vectorTiles``."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            var {{ this.get_name() }} = L.platoons.vectorTiles({{ this.options|tojson }});
        {% endmacro %}
        """
    )

    def __init__(
        self,
        collection: Collection,
        name: str,
        *,
        extent: Bounds,
        style: dict[str, Any],
        legend: dict[str, Any] | None = None,
        edition: str | None = None,
        filters: Mapping[str, str] | None = None,
        overlay: bool = False,
        show: bool = True,
        base_path: str = "",
        key: str | None = None,
        first_render: bool | None = None,
        pane: str | None = None,
        sources: Sequence[ZoomSource] = (),
    ) -> None:
        # Leaflet's layer control writes names as HTML: escape what officers typed.
        super().__init__(name=html.escape(name), overlay=overlay, control=True, show=show)
        self._name = "PlatoonsVectorTiles"
        url = _tile_url(collection, filters, base_path)
        # The layer's name in window.PlatoonsMaps.layers (tests and the benchmark use it).
        key = key or collection.id + "".join(f":{v}" for _, v in sorted((filters or {}).items()))
        self.key = key
        self.options = {
            "key": key,
            "url": url,
            "layerName": collection.id,  # the MVT layer is named after the collection
            "minZoom": collection.minzoom,
            # Past its last zoom the layer draws that zoom's tiles itself, still as vectors.
            "dataMaxZoom": collection.maxzoom,
            "bounds": leaflet_bounds(extent, inset=BOUNDS_INSET_DEGREES),
            "attribution": attribution_html(collection.attribution),
            "style": style,
            "legend": legend,
            "edition": edition,
            "overlay": overlay,
            "pane": pane
            or ("platoons-outlines" if style.get("fill") is False else "platoons-data"),
        }
        if first_render is not None:
            # Whether its first features mark the page's first meaningful render (default:
            # base layers do, overlays do not).
            self.options["firstRender"] = first_render
        if sources:
            # One layer drawing a different collection at each zoom band (H3 resolutions).
            ordered = sorted(sources, key=lambda s: s.min_zoom)
            self.options["sources"] = [_zoom_source(s, filters, base_path) for s in ordered]
            self.options["boundsInset"] = BOUNDS_INSET_DEGREES
            self.options["minZoom"] = ordered[0].min_zoom
            self.options["dataMaxZoom"] = min(s.collection.maxzoom for s in ordered)


@dataclass(frozen=True)
class ZoomSource:
    """A collection a zoom-switching layer draws from ``min_zoom`` (until the next one's).

    Each collection's own extent bounds its tile requests (the tile route refuses tiles outside
    it). Without ``extent`` the page reads it from the collection's TileJSON when the zoom
    first needs that collection: the extent of 1.4 million resolution-9 cells costs more than
    the rest of the page, and the H3 layer is not the one shown first.
    """

    min_zoom: int
    collection: Collection
    extent: Bounds | None = None


def _zoom_source(
    source: ZoomSource, filters: Mapping[str, str] | None, base_path: str
) -> dict[str, Any]:
    """The options of one collection of a zoom-switching layer."""
    url = _tile_url(source.collection, filters, base_path)
    found: dict[str, Any] = {
        "minZoom": source.min_zoom,
        "url": url,
        "layerName": source.collection.id,
        "key": source.collection.id,
    }
    if source.extent is not None:
        found["bounds"] = leaflet_bounds(source.extent, inset=BOUNDS_INSET_DEGREES)
    else:
        template = tiles.tile_url_template(base_path, source.collection, tiles.WEB_MERCATOR)
        found["tilejson"] = template.split("/{tileMatrix}", 1)[0] + "/tilejson.json"
    return found


def _tile_url(collection: Collection, filters: Mapping[str, str] | None, base_path: str) -> str:
    """The XYZ template of a collection's Web Mercator vector tiles, with its filters."""
    url = tiles.tile_url_template(base_path, collection, tiles.WEB_MERCATOR, xyz=True)
    if filters:
        url += "?" + urlencode(sorted(filters.items()))
    return url


class PointTileLayer(VectorTileLayer):
    """A point collection's vector tiles drawn as clickable circle markers (assets)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            var {{ this.get_name() }} = L.platoons.pointTiles({{ this.options|tojson }});
        {% endmacro %}
        """
    )

    def __init__(self, collection: Collection, name: str, **kwargs: Any) -> None:
        super().__init__(collection, name, pane="platoons-point-tiles", **kwargs)
        self._name = "PlatoonsPointTiles"


class EmbeddedFeatures(folium.map.Layer):
    """A GeoJSON FeatureCollection embedded in the page (one district, for the export)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            var {{ this.get_name() }} = L.platoons.featureLayer(
                {{ this.data|tojson }}, {{ this.options|tojson }});
        {% endmacro %}
        """
    )

    def __init__(
        self, data: dict[str, Any], name: str, *, key: str, options: dict[str, Any]
    ) -> None:
        super().__init__(name=html.escape(name), overlay=False, control=True, show=True)
        self._name = "PlatoonsFeatures"
        self.data = data
        self.options = {"key": key, **options}


class MapSetup(MacroElement):
    """Legend, search box and click handling (``L.platoons.setup``); added after the layers."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            L.platoons.setup({{ this._parent.get_name() }}, {{ this.config|tojson }});
        {% endmacro %}
        """
    )

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__()
        self._name = "PlatoonsMapSetup"
        self.config = config


# --- styles and legends -----------------------------------------------------------------------


def decile_style(prop: str = "imd_decile") -> dict[str, Any]:
    """Fill LSOAs by decile; white outlines once they are big enough to see (zoom 11+)."""
    return {
        "property": prop,
        "categories": {str(d): colour for d, colour in enumerate(DECILE_COLOURS, start=1)},
        "stroke": "#ffffff",
        "strokeWidth": 0.5,
        "strokeMinZoom": 11,
    }


def decile_legend(title: str) -> dict[str, Any]:
    """Legend of the decile colours (1 = most deprived 10% of LSOAs in England)."""
    labels = {1: "1 – most deprived 10%", 10: "10 – least deprived 10%"}
    return {
        "title": title,
        "items": [
            {"colour": colour, "label": labels.get(d, str(d))}
            for d, colour in enumerate(DECILE_COLOURS, start=1)
        ],
        "note": "Deciles rank LSOAs across England. Click the map for an area's values.",
    }


def compact_decile_legend(title: str) -> dict[str, Any]:
    """The decile colours on one row, for a map whose subject is another layer."""
    return {
        "title": title,
        "compact": True,
        "items": [
            {"colour": colour, "label": str(d)} for d, colour in enumerate(DECILE_COLOURS, start=1)
        ],
        "note": "1 = most deprived 10% of LSOAs in England; 10 = least deprived.",
    }


def lad_share_style() -> dict[str, Any]:
    """Fill districts by their share of LSOAs in the most deprived 10% nationally."""
    return {
        "property": "imd_proportion_most_deprived_10pct",
        "breaks": [[upper, colour] for upper, colour, _ in LAD_SHARE_BREAKS],
        "stroke": "#555555",
        "strokeWidth": 0.8,
    }


def lad_share_legend(edition: str) -> dict[str, Any]:
    """Legend of the district summary layer."""
    return {
        "title": f"Districts: LSOAs in the most deprived 10% ({edition})",
        "items": [{"colour": colour, "label": label} for _, colour, label in LAD_SHARE_BREAKS],
        "note": (
            "IoD technical report, Appendix N: share of a district's LSOAs in decile 1. Click a "
            "district for its IMD ranks among districts, published by MHCLG where Platoons "
            "computes none."
        ),
    }


def outline_style() -> dict[str, Any]:
    """District boundaries only, no fill."""
    return {"property": "code", "fill": False, "stroke": "#1b1b1b", "strokeWidth": 1.2}


def status_style() -> dict[str, Any]:
    """Asset markers filled by lifecycle status, with a dark ring."""
    return {
        "property": "status",
        "categories": dict(STATUS_COLOURS),
        "radius": 7,
        "stroke": MARKER_RING,
        "strokeWidth": 1.5,
        # (from zoom, radius, ring width): dots over a country, rings over a town.
        "sizeByZoom": [[0, 2.5, 0.5], [8, 4, 1], [11, 6, 1.5], [14, 7, 1.5]],
    }


def status_legend() -> dict[str, Any]:
    """Legend of the asset markers."""
    return {
        "title": "Assets of community value, by status",
        "items": [
            {"colour": colour, "label": label, "shape": "dot", "border": MARKER_RING}
            for _, colour, label in STATUS_STYLES
        ],
        "note": (
            "Localism Act 2011, Part 5 Chapter 3. Click an asset for its next statutory deadline "
            "and, for the group in the Group box, whether it may nominate or bid."
        ),
    }


def coverage_style() -> dict[str, Any]:
    """Fill areas by the share of their adults an active group reaches."""
    return {
        "property": "covered_share",
        "breaks": [[upper, colour] for upper, colour, _ in COVERAGE_BREAKS],
        "stroke": "#ffffff",
        "strokeWidth": 0.5,
        "strokeMinZoom": 12,
    }


def coverage_legend(title: str, note: str) -> dict[str, Any]:
    """Legend of a coverage choropleth."""
    return {
        "title": title,
        "compact": True,
        "columns": 2,
        "items": [{"colour": colour, "label": label} for _, colour, label in COVERAGE_BREAKS],
        "note": note,
    }


def crime_rate_style() -> dict[str, Any]:
    """Fill LSOAs by street-level crimes per 1,000 residents in the latest 12 months."""
    return {
        "property": "rate_per_1000_last_12_months",
        "breaks": [[upper, colour] for upper, colour, _ in CRIME_RATE_BREAKS],
        "stroke": "#ffffff",
        "strokeWidth": 0.5,
        "strokeMinZoom": 12,
        "opacity": 0.7,
    }


def crime_overlay(extents: Mapping[str, Bounds | None], base_path: str) -> VectorTileLayer | None:
    """The street-level crime overlay (hidden at first; none while no crime is loaded)."""
    collection = _registered(CRIME_COLLECTION)
    extent = extents.get(collection.id)
    if extent is None:
        return None
    return VectorTileLayer(
        collection,
        "Street-level crime by LSOA (police.uk)",
        extent=extent,
        style=crime_rate_style(),
        legend={
            "title": "Crimes per 1,000 residents, latest 12 months",
            "compact": True,
            "columns": 2,
            "items": [{"colour": c, "label": label} for _, c, label in CRIME_RATE_BREAKS],
            "note": "police.uk street-level crime in the 12 months to the force's latest month; "
            "/crime/pack?area=<code> gives an area's beat-meeting pack.",
        },
        overlay=True,
        show=False,
        pane="platoons-overlays",
        base_path=base_path,
    )


GRANT_LEVELS: dict[str, tuple[str, str]] = {
    # level: (the name in a layer's title, what its figures are)
    "lad": (
        "district",
        "Money a district's places received (LSOA, ward and district placements) over its "
        "residents.",
    ),
    "lsoa": (
        "LSOA",
        "Money placed on an LSOA (a drawn area's split between its qualifying LSOAs by "
        "residents) over the LSOA's residents; money placed on a ward or a whole district is "
        "in the district layer only.",
    ),
}


def grant_money_layers(
    areas: Mapping[str, tuple[Collection, Bounds]], edition: str, base_path: str
) -> list[VectorTileLayer]:
    """Areas shaded by grant money per resident: one layer per level and source.

    ``areas`` maps a level (``lad``, ``lsoa``) to its collection and extent. The sources are
    never added together: each is a base layer of its own. The figures are read by the page
    from ``GET /grants/need`` (all England, the edition's areas and residents) when a layer is
    first shown, so the map, its popups and its chart by decile show exactly that answer.
    """
    layers = []
    for level, (collection, extent) in areas.items():
        area_name, meaning = GRANT_LEVELS[level]
        for source, label in GRANT_SOURCES.items():
            layer = VectorTileLayer(
                collection,
                f"Grant money per resident by {area_name}: {label}",
                extent=extent,
                style={
                    "property": "pounds_per_resident",
                    "breaks": [[upper, colour] for upper, colour, _ in GRANT_MONEY_BREAKS],
                    "missing": GRANT_MONEY_NONE,
                    "stroke": "#555555" if level == "lad" else "#ffffff",
                    "strokeWidth": 0.8 if level == "lad" else 0.5,
                    "strokeMinZoom": 0 if level == "lad" else 11,
                },
                legend={
                    "title": f"£ per resident by {area_name}, {edition}: {label}",
                    "items": [
                        *({"colour": c, "label": text} for _, c, text in GRANT_MONEY_BREAKS),
                        {"colour": GRANT_MONEY_NONE, "label": f"none placed in the {area_name}"},
                    ],
                    "note": (
                        f"{meaning} From GET /grants/need. This source only: imported grants "
                        "and Platoons' own are separate layers, never added together. Click "
                        f"a {area_name} for its figure."
                    ),
                },
                edition=edition,
                show=False,
                base_path=base_path,
                key=f"{collection.id}:grants:{source}",
            )
            layer.options["attribution"] = html.escape(
                f"{GRANT_SOURCE_CREDITS[source]}. Residents: the {edition} population "
                "denominators. "
            ) + attribution_html(collection.attribution)
            layer.options["grantMoney"] = {
                "source": source,
                "level": level,
                "label": label,
                "url": f"{base_path}/grants/need?{urlencode({'edition': edition})}",
                "colours": GRANT_SOURCE_COLOURS,
            }
            layers.append(layer)
    return layers


def cold_spot_style() -> dict[str, Any]:
    """Cold spots outlined in red over the coverage fill."""
    return {
        "property": "code",
        "fill": False,
        "stroke": COLD_SPOT_COLOUR,
        "strokeWidth": 2.5,
    }


def cold_spot_legend(threshold: float) -> dict[str, Any]:
    """Legend of the cold spots overlay."""
    return {
        "title": "Cold spots",
        "items": [
            {
                "colour": COLD_SPOT_COLOUR,
                "label": f"IMD decile 1–2, under {threshold:.0%} of adults covered",
                "shape": "line",
                "border": COLD_SPOT_COLOUR,
            }
        ],
        "note": "GET /coverage/cold-spots ranks them by adults not covered.",
    }


def group_area_style() -> dict[str, Any]:
    """Groups' areas: translucent purple where active, grey where not, outlined."""
    return {
        "property": "active",
        "categories": {"true": ACTIVE_GROUP_COLOUR, "false": INACTIVE_GROUP_COLOUR},
        "opacity": GROUP_AREA_OPACITY,
        "stroke": ACTIVE_GROUP_COLOUR,
        "strokeCategories": {"true": ACTIVE_GROUP_COLOUR, "false": INACTIVE_GROUP_COLOUR},
        "strokeWidth": 2,
    }


def group_area_legend(active_months: int) -> dict[str, Any]:
    """Legend of the groups' areas overlay."""
    return {
        "title": "Neighbourhood groups' areas",
        "items": [
            {
                "colour": ACTIVE_GROUP_COLOUR,
                "label": "active group",
                "border": ACTIVE_GROUP_COLOUR,
                "opacity": GROUP_AREA_OPACITY,
            },
            {
                "colour": INACTIVE_GROUP_COLOUR,
                "label": "listed, not active",
                "border": INACTIVE_GROUP_COLOUR,
                "opacity": GROUP_AREA_OPACITY,
            },
        ],
        "note": (
            f"Active: a meeting, project or event recorded in the last {active_months} months."
        ),
    }


def organiser_style() -> dict[str, Any]:
    """Organisers' patches as dashed outlines."""
    return {
        "property": "reference",
        "fill": False,
        "stroke": ORGANISER_COLOUR,
        "strokeWidth": 2,
        "dash": [6, 4],
    }


def organiser_legend() -> dict[str, Any]:
    """Legend of the organisers' patches overlay."""
    return {
        "title": "Community organisers' patches",
        "items": [
            {
                "colour": ORGANISER_COLOUR,
                "label": "an organiser's patch",
                "shape": "line",
                "border": ORGANISER_COLOUR,
            }
        ],
        "note": "Where trained community organisers work (no contact details are shown).",
    }


def eligibility_style() -> dict[str, Any]:
    """Qualifying LSOAs in purple, the others pale grey."""
    return {
        "property": "qualifies",
        "categories": {"true": QUALIFIES_COLOUR, "false": NOT_QUALIFYING_COLOUR},
        "stroke": "#ffffff",
        "strokeWidth": 0.5,
        "strokeMinZoom": 11,
    }


def eligibility_legend(programme: Programme, today: date) -> dict[str, Any]:
    """Legend of one programme's eligibility layer."""
    status = "open" if programme.is_open(today) else "closed"
    return {
        "title": programme.name,
        "items": [
            {"colour": QUALIFIES_COLOUR, "label": "qualifies"},
            {"colour": NOT_QUALIFYING_COLOUR, "label": "does not qualify"},
        ],
        "note": (
            f"{programme.edition_code}, assessed by {programme.geography_level}; {status} "
            f"{programme.opens_on.isoformat()} to {programme.closes_on.isoformat()}. Click the "
            "map for every open programme's verdict and the area's deciles (colours as on the "
            "deprivation map)."
        ),
    }


def attribution_html(text: str) -> str:
    """Return a collection's plain-text attribution as HTML, the licence name linked."""
    escaped = html.escape(text or IOD_ATTRIBUTION)
    link = f'<a href="{OGL_URL}">Open Government Licence v3.0</a>'
    return escaped.replace("Open Government Licence v3.0", link, 1)


def leaflet_bounds(extent: Bounds, inset: float = 0.0) -> list[list[float]]:
    """Return a lon/lat extent as Leaflet's ``[[south, west], [north, east]]``."""
    lon_min, lat_min, lon_max, lat_max = extent
    return [[lat_min + inset, lon_min + inset], [lat_max - inset, lon_max - inset]]


# --- assets -----------------------------------------------------------------------------------


def _served_assets(m: folium.Map, base_path: str) -> None:
    """Point the map at Leaflet and our helper as this service serves them."""
    m.default_js = [
        ("leaflet", f"{base_path}{LEAFLET_URL}/leaflet.js"),
        ("platoons_maps", f"{base_path}{STATIC_URL}/maps/platoons-maps.js"),
    ]
    m.default_css = [
        ("leaflet_css", f"{base_path}{LEAFLET_URL}/leaflet.css"),
        ("platoons_maps_css", f"{base_path}{STATIC_URL}/maps/platoons-maps.css"),
    ]


@cache
def _inline_leaflet_css() -> str:
    """Leaflet's stylesheet with its images (layer control, markers) as data: URIs."""
    css = (LEAFLET_DIR / "leaflet.css").read_text(encoding="utf-8")

    def data_uri(match: re.Match[str]) -> str:
        image = (LEAFLET_DIR / "images" / match.group(1)).read_bytes()
        return f"url(data:image/png;base64,{base64.b64encode(image).decode('ascii')})"

    return re.sub(r"url\(images/([A-Za-z0-9_.-]+\.png)\)", data_uri, css)


def _inline_assets(m: folium.Map) -> None:
    """Put Leaflet and our helper inside the page itself (nothing is fetched)."""
    m.default_js = []
    m.default_css = []
    header = m.get_root().header  # type: ignore[attr-defined]
    header.add_child(inline("style", _inline_leaflet_css()))
    header.add_child(inline("style", MAPS_CSS.read_text(encoding="utf-8")))
    header.add_child(inline("script", (LEAFLET_DIR / "leaflet.js").read_text(encoding="utf-8")))
    header.add_child(inline("script", MAPS_JS.read_text(encoding="utf-8")))


# --- maps -------------------------------------------------------------------------------------


def _new_map(
    title: str, fit: Bounds | None, *, min_zoom: int, prefer_canvas: bool = False
) -> folium.Map:
    """An empty map, fitted to ``fit``, with no basemap and none of folium's CDN assets."""
    m = folium.Map(
        location=None,
        tiles=None,
        control_scale=True,
        prefer_canvas=prefer_canvas,
        font_size="13px",
        # Map options (folium passes these through; min_zoom/max_zoom only reach its tiles).
        minZoom=min_zoom,
        maxZoom=18,
    )
    header = m.get_root().header  # type: ignore[attr-defined]
    header.add_child(RawHtml(f"<title>{html.escape(title)}</title>"))
    # An empty icon: browsers would otherwise ask the server for /favicon.ico.
    header.add_child(RawHtml('<link rel="icon" href="data:,">'))
    if fit is not None:
        # Fitted before any layer is added, so the first tiles requested are the ones shown.
        m.fit_bounds(leaflet_bounds(fit))
    return m


PMTILES_JS = f"{STATIC_URL}/pmtiles/pmtiles.js"


def _use_tile_archives(m: folium.Map, settings: MapSettings, base_path: str) -> None:
    """Let the layers with a static tile archive read it (platoons-maps.js, with PMTiles)."""
    if not settings.tile_archives:
        return
    m.default_js = [*m.default_js, ("pmtiles", f"{base_path}{PMTILES_JS}")]
    archives = json.dumps(settings.tile_archives).replace("</", "<\\/")
    header = m.get_root().header  # type: ignore[attr-defined]
    header.add_child(RawHtml(f"<script>window.PlatoonsTileArchives = {archives};</script>"))


def _add_basemap(m: folium.Map, settings: MapSettings) -> None:
    """Add the configured basemap (an overlay under the data), if there is one."""
    if settings.basemap_url is None:
        return
    folium.TileLayer(
        tiles=settings.basemap_url,
        attr=settings.basemap_attribution,
        name="Basemap",
        overlay=True,
        control=True,
        show=True,
        max_zoom=settings.basemap_max_zoom,
    ).add_to(m)


def _service_map(
    title: str, fit: Bounds | None, settings: MapSettings, base_path: str
) -> folium.Map:
    """A service page's empty map: its assets served by the app, the configured basemap and
    tile archives (every page but the offline export starts so), opened on the configured home
    box when there is one, else on ``fit``."""
    m = _new_map(title, settings.map_home or fit, min_zoom=5)
    _served_assets(m, base_path)
    _add_basemap(m, settings)
    _use_tile_archives(m, settings, base_path)
    return m


def _finish_page(
    m: folium.Map, config: dict[str, Any], *overlays: folium.map.Layer | None
) -> folium.Map:
    """Add the overlays a page has (``None``: its collection is empty), in order, then the layer
    control and the page's setup (``L.platoons.setup`` with ``config``)."""
    for overlay in overlays:
        if overlay is not None:
            overlay.add_to(m)
    folium.LayerControl(collapsed=False).add_to(m)
    MapSetup(config).add_to(m)
    return m


def _service_config(title: str, click: str, edition: str, base_path: str) -> dict[str, Any]:
    """Settings of ``L.platoons.setup`` for a page served by the app."""
    return {
        "title": title,
        "click": click,
        "defaultEdition": edition,
        "lookupUrl": f"{base_path}/lookup",
        "eligibilityUrl": f"{base_path}/eligibility",
        "areasUrl": f"{base_path}/areas",
        "postcodeUrl": f"{base_path}/maps/postcode",
        # District names below zoom 11, ward names from it; LSOA names on hover (lsoaNameUrl).
        "labelsUrl": f"{base_path}/maps/labels",
        "lsoaNameUrl": f"{base_path}/maps/labels/lsoa",
        "wardLabelZoom": WARD_LABEL_ZOOM,
        "collectionsUrl": f"{base_path}/collections",
        "collections": {
            code: {kind: edition_collection(kind, code).id for kind in ("lsoa", "lad")}
            for code in edition_codes()
        },
        "decileColours": list(DECILE_COLOURS),
        "domains": [list(d) for d in IOD_DOMAINS],
        "search": {"mode": "service", "placeholder": "Postcode, LSOA or district code"},
    }


def deprivation_collections(editions: Sequence[EditionRef]) -> list[Collection]:
    """The collections the deprivation page draws (their extents bound the tile requests)."""
    current = _current(editions)
    lsoas = [edition_collection("lsoa", e.code) for e in editions]
    return [*lsoas, edition_collection("lad", current.code), _registered(CRIME_COLLECTION)]


def eligibility_collections(current_edition: str) -> list[Collection]:
    """The collections the eligibility page draws."""
    collection = get_collection(ELIGIBILITY_COLLECTION)
    assert collection is not None  # registered by geo.collections
    return [collection, edition_collection("lad", current_edition)]


def _current(editions: Sequence[EditionRef]) -> EditionRef:
    """The current edition among those given (else the first)."""
    return next((e for e in editions if e.is_current), editions[0])


def _district_outlines(
    current_edition: str, extents: Mapping[str, Bounds | None], base_path: str
) -> VectorTileLayer | None:
    """The district boundaries overlay (none if the district layer is empty)."""
    lad = edition_collection("lad", current_edition)
    extent = extents.get(lad.id)
    if extent is None:
        return None
    return VectorTileLayer(
        lad,
        "District boundaries",
        extent=extent,
        style=outline_style(),
        edition=current_edition,
        overlay=True,
        base_path=base_path,
        key=f"{lad.id}:outlines",
    )


def planning_area_style() -> dict[str, Any]:
    """Neighbourhood areas: translucent fill and outline by status."""
    return {
        "property": "status",
        "categories": dict(PLANNING_COLOURS),
        "opacity": PLANNING_OPACITY,
        "stroke": PLANNING_COLOURS["designated"],
        "strokeCategories": dict(PLANNING_COLOURS),
        "strokeWidth": 2,
    }


def planning_area_legend() -> dict[str, Any]:
    """Legend of the neighbourhood areas overlay."""
    labels = (
        ("designated", "designated neighbourhood area"),
        ("publicised", "applied for, awaiting decision"),
        ("refused", "refused or withdrawn"),
    )
    return {
        "title": "Neighbourhood planning areas",
        "items": [
            {
                "colour": PLANNING_COLOURS[status],
                "label": label,
                "border": PLANNING_COLOURS[status],
                "opacity": PLANNING_OPACITY,
            }
            for status, label in labels
        ],
        "note": "Stage and next statutory deadline: GET /neighbourhood-areas/{id}.",
    }


def _planning_areas(
    current_edition: str, extents: Mapping[str, Bounds | None], base_path: str
) -> VectorTileLayer | None:
    """The neighbourhood areas overlay (none while no area is recorded)."""
    collection = _registered(PLANNING_COLLECTION)
    extent = extents.get(collection.id)
    if extent is None:
        return None
    return VectorTileLayer(
        collection,
        "Neighbourhood planning areas",
        extent=extent,
        style=planning_area_style(),
        legend=planning_area_legend(),
        edition=current_edition,
        overlay=True,
        first_render=False,
        base_path=base_path,
    )


def deprivation_map(
    editions: Sequence[EditionRef],
    extents: Mapping[str, Bounds | None],
    settings: MapSettings,
    base_path: str = "",
) -> folium.Map:
    """The deprivation map: LSOA IMD deciles of each edition and the district summary layer.

    ``editions`` are the loaded editions with map layers; ``extents`` gives each collection's
    extent (:func:`deprivation_collections`); a layer whose collection is empty is left out.
    """
    current_edition = _current(editions).code
    title = "Platoons: deprivation (English Indices of Deprivation)"
    lad = edition_collection("lad", current_edition)
    fit = extents.get(edition_collection("lsoa", current_edition).id) or extents.get(lad.id)
    m = _service_map(title, fit, settings, base_path)
    for edition in sorted(editions, key=lambda e: e.code != current_edition):
        code = edition.code
        lsoa = edition_collection("lsoa", code)
        extent = extents.get(lsoa.id)
        if extent is None:
            continue
        VectorTileLayer(
            lsoa,
            f"LSOAs {edition.lsoa_vintage}: IMD deciles, {code}",
            extent=extent,
            style=decile_style(),
            legend=decile_legend(f"IMD decile, {code} (LSOA {edition.lsoa_vintage})"),
            edition=code,
            show=code == current_edition,
            base_path=base_path,
        ).add_to(m)
    lad_extent = extents.get(lad.id)
    if lad_extent is not None:
        VectorTileLayer(
            lad,
            f"Districts: share of LSOAs in the most deprived 10%, {current_edition}",
            extent=lad_extent,
            style=lad_share_style(),
            legend=lad_share_legend(current_edition),
            edition=current_edition,
            show=False,
            base_path=base_path,
        ).add_to(m)
    money_areas = {
        level: (collection, extent)
        for level, collection in (
            ("lad", lad),
            ("lsoa", edition_collection("lsoa", current_edition)),
        )
        if (extent := extents.get(collection.id)) is not None
    }
    for layer in grant_money_layers(money_areas, current_edition, base_path):
        layer.add_to(m)
    config = _service_config(title, "lookup", current_edition, base_path)
    config["legend"] = decile_legend(f"IMD decile, {current_edition}")
    return _finish_page(
        m,
        config,
        crime_overlay(extents, base_path),
        _district_outlines(current_edition, extents, base_path),
    )


def eligibility_map(
    programmes: Sequence[Programme],
    today: date,
    current_edition: str,
    extents: Mapping[str, Bounds | None],
    settings: MapSettings,
    base_path: str = "",
) -> folium.Map:
    """The grant-eligibility map: one layer per programme (open ones first) from the
    ``grant-eligibility`` collection's tiles filtered by ``programme_id``; a click shows the
    LSOA, its deciles and every open programme's verdict with its one-line explanation."""
    title = "Platoons: neighbourhood grant eligibility"
    collection = get_collection(ELIGIBILITY_COLLECTION)
    assert collection is not None  # registered by geo.collections
    extent = extents.get(collection.id)
    fit = extent or extents.get(edition_collection("lad", current_edition).id)
    m = _service_map(title, fit, settings, base_path)
    ordered = sorted(programmes, key=lambda p: (not p.is_open(today), p.name, p.id))
    if extent is not None:
        for index, programme in enumerate(ordered):
            status = "" if programme.is_open(today) else ", closed"
            VectorTileLayer(
                collection,
                f"{programme.name} ({programme.edition_code}{status})",
                extent=extent,
                style=eligibility_style(),
                legend=eligibility_legend(programme, today),
                edition=programme.edition_code,
                filters={"programme_id": programme.id},
                show=index == 0,
                base_path=base_path,
            ).add_to(m)
    config = _service_config(title, "eligibility", current_edition, base_path)
    config["legend"] = {
        "title": "No grant programme has eligibility data yet",
        "items": [],
        "note": "Programmes appear here once saved (platoons programmes import).",
    }
    return _finish_page(
        m,
        config,
        _district_outlines(current_edition, extents, base_path),
    )


def assets_collections(current_edition: str) -> list[Collection]:
    """The collections the assets page draws."""
    return [
        _registered(ASSETS_COLLECTION),
        edition_collection("lsoa", current_edition),
        edition_collection("lad", current_edition),
        _registered(PLANNING_COLLECTION),
    ]


def _registered(collection_id: str) -> Collection:
    """A collection geo.collections registers (a missing one is a programming error)."""
    collection = get_collection(collection_id)
    assert collection is not None, collection_id
    return collection


def _labels(values: Sequence[str]) -> dict[str, str]:
    """Readable labels of code values ("park_green_space" -> "park green space")."""
    return {value: value.replace("_", " ") for value in values}


def assets_map(
    current_edition: str,
    extents: Mapping[str, Bounds | None],
    settings: MapSettings,
    base_path: str = "",
) -> folium.Map:
    """The assets of community value map: markers by status over the LSOAs' IMD deciles.

    A click on a marker shows the asset's card (``/maps/assets/{id}/card``: category, owner,
    status, next statutory deadline) and, for the group typed in the page's Group box (the
    registry's listed groups are offered as one types, from ``/groups?q=``), the service's
    answer to whether it may nominate the asset or ask to be treated as a bidder
    (``/assets/{id}/eligibility``, which also checks a registered group's local connection).
    A click beside the markers shows the LSOA there, as on the deprivation map. Markers come
    from the collection's own vector tiles as the map moves; nothing is embedded.
    """
    title = "Platoons: assets of community value"
    collection = _registered(ASSETS_COLLECTION)
    lsoa = edition_collection("lsoa", current_edition)
    lad = edition_collection("lad", current_edition)
    m = _service_map(title, extents.get(lsoa.id) or extents.get(lad.id), settings, base_path)
    # The subject first: its entries lead the layer control and the legend.
    asset_extent = extents.get(collection.id)
    if asset_extent is not None:
        PointTileLayer(
            collection,
            "Assets of community value",
            extent=asset_extent,
            style=status_style(),
            legend=status_legend(),
            edition=current_edition,
            overlay=True,
            first_render=True,
            base_path=base_path,
        ).add_to(m)
    lsoa_extent = extents.get(lsoa.id)
    if lsoa_extent is not None:
        style = decile_style()
        style["opacity"] = 0.75  # the markers are the subject; the deciles stay readable
        VectorTileLayer(
            lsoa,
            f"LSOA deprivation: IMD deciles, {current_edition}",
            extent=lsoa_extent,
            style=style,
            legend=compact_decile_legend(f"LSOA IMD decile, {current_edition}"),
            edition=current_edition,
            overlay=True,
            first_render=False,
            base_path=base_path,
        ).add_to(m)
    config = _service_config(title, "assets", current_edition, base_path)
    config["planning"] = {"atUrl": f"{base_path}/neighbourhood-areas/at"}
    config["legend"] = {
        "title": "No asset of community value is in the register yet",
        "items": [],
        "note": "Assets appear here once recorded (POST /assets or platoons assets import).",
    }
    config["assets"] = {
        "cardUrl": f"{base_path}/maps/assets/{{id}}/card",
        "eligibilityUrl": f"{base_path}/assets/{{id}}/eligibility",
        "statusColours": dict(STATUS_COLOURS),
        "labels": {
            "status": dict(STATUS_LABELS),
            "category": _labels(get_args(Category)),
            "owner_type": _labels(get_args(OwnerType)),
        },
    }
    config["groupField"] = {
        "label": "Group",
        "placeholder": "a community group's name",
        "searchUrl": f"{base_path}/groups",
    }
    return _finish_page(
        m,
        config,
        _planning_areas(current_edition, extents, base_path),
        _district_outlines(current_edition, extents, base_path),
    )


def coverage_collections(current_edition: str) -> list[Collection]:
    """The collections whose extents the coverage page needs (not the H3 grid's: see
    :class:`ZoomSource`)."""
    ids = [
        COVERAGE_COLLECTION,
        COLD_SPOTS_COLLECTION,
        GROUPS_COLLECTION,
        ORGANISERS_COLLECTION,
        PLANNING_COLLECTION,
        CRIME_COLLECTION,
    ]
    return [*(_registered(i) for i in ids), edition_collection("lad", current_edition)]


def coverage_map(
    current_edition: str,
    extents: Mapping[str, Bounds | None],
    settings: MapSettings,
    base_path: str = "",
    *,
    cold_spot_threshold: float = COLD_SPOT_THRESHOLD,
    active_months: int = ACTIVE_MONTHS_DEFAULT,
) -> folium.Map:
    """The coverage map: how many adults live where an active neighbourhood group works.

    Base layers: coverage by LSOA (the share of each LSOA's adults inside an active group's
    area) and the same on the H3 grid, whose resolution follows the zoom (6 to 9). Overlays:
    cold spots (deprived LSOAs little covered), groups' areas, organisers' patches, district
    boundaries. A click shows the LSOA's adults covered and not covered and the groups working
    there, public fields only (``/coverage/at``).
    """
    title = "Platoons: neighbourhood group coverage"
    coverage = _registered(COVERAGE_COLLECTION)
    lad = edition_collection("lad", current_edition)
    fit = extents.get(coverage.id) or extents.get(lad.id)
    m = _service_map(title, fit, settings, base_path)
    note = (
        "Share of adults (18+) living inside the area of at least one active group, "
        "area-weighted within each LSOA. Click the map for the adults covered and the groups."
    )
    extent = extents.get(coverage.id)
    if extent is not None:
        VectorTileLayer(
            coverage,
            "Coverage by LSOA",
            extent=extent,
            style=coverage_style(),
            legend=coverage_legend("Adults covered by active groups, by LSOA", note),
            edition=current_edition,
            base_path=base_path,
        ).add_to(m)
    if extent is not None:
        # Each resolution's extent is read from its TileJSON when its zooms are first shown;
        # the layer itself stays within the LSOAs' extent.
        sources = [
            ZoomSource(zoom, _registered(f"coverage-h3-r{resolution}"))
            for zoom, resolution in H3_RESOLUTION_FROM_ZOOM
        ]
        resolutions = ", ".join(f"r{r} from zoom {z}" for z, r in H3_RESOLUTION_FROM_ZOOM)
        VectorTileLayer(
            sources[0].collection,
            "Coverage on the H3 grid (resolution by zoom)",
            extent=extent,
            style={**coverage_style(), "strokeMinZoom": 14},
            legend=coverage_legend(
                "Adults covered by active groups, H3 cells",
                f"H3 hexagons ({resolutions}); each cell holds the adults of the LSOA its "
                "centre falls in, shared among that LSOA's cells.",
            ),
            edition=current_edition,
            show=False,
            base_path=base_path,
            key="coverage-h3",
            sources=sources,
        ).add_to(m)
    overlays: tuple[tuple[str, str, dict[str, Any], dict[str, Any], bool, str], ...] = (
        (
            COLD_SPOTS_COLLECTION,
            "Cold spots",
            cold_spot_style(),
            cold_spot_legend(cold_spot_threshold),
            True,
            "platoons-outlines",
        ),
        (
            GROUPS_COLLECTION,
            "Neighbourhood groups' areas",
            group_area_style(),
            group_area_legend(active_months),
            True,
            "platoons-overlays",
        ),
        (
            ORGANISERS_COLLECTION,
            "Community organisers' patches",
            organiser_style(),
            organiser_legend(),
            False,
            "platoons-outlines",
        ),
    )
    for collection_id, name, style, legend, show, pane in overlays:
        collection = _registered(collection_id)
        layer_extent = extents.get(collection.id)
        if layer_extent is None:
            continue
        VectorTileLayer(
            collection,
            name,
            extent=layer_extent,
            style=style,
            legend=legend,
            overlay=True,
            show=show,
            pane=pane,
            base_path=base_path,
        ).add_to(m)
    config = _service_config(title, "coverage", current_edition, base_path)
    config["planning"] = {"atUrl": f"{base_path}/neighbourhood-areas/at"}
    config["legend"] = {
        "title": "Coverage has not been computed yet",
        "items": [],
        "note": "It is computed with every load and every group or organiser written.",
    }
    config["coverage"] = {
        "atUrl": f"{base_path}/coverage/at",
        "coldSpotThreshold": cold_spot_threshold,
        "crimePackUrl": f"{base_path}/crime/pack",
    }
    return _finish_page(
        m,
        config,
        _planning_areas(current_edition, extents, base_path),
        crime_overlay(extents, base_path),
        _district_outlines(current_edition, extents, base_path),
    )


def lad_export_map(data: LadLsoas) -> folium.Map:
    """A self-contained map of one district's LSOAs by IMD decile, to share as a file."""
    edition = data.edition.code
    title = f"{data.lad_name} ({data.lad_code}): IMD deciles, {edition}"
    m = _new_map(title, feature_bounds(data.feature_collection), min_zoom=0, prefer_canvas=True)
    _inline_assets(m)
    collection = edition_collection("lsoa", edition)
    style = decile_style()
    style.update(strokeMinZoom=0, opacity=0.9)
    EmbeddedFeatures(
        data.feature_collection,
        f"LSOAs {data.edition.lsoa_vintage}: IMD deciles, {edition}",
        key=collection.id,
        options={
            "style": style,
            "legend": decile_legend(f"IMD decile, {edition} (LSOA {data.edition.lsoa_vintage})"),
            "edition": edition,
            "attribution": attribution_html(collection.attribution),
        },
    ).add_to(m)
    MapSetup(
        {
            "title": title,
            "click": "properties",
            "edition": edition,
            "decileColours": list(DECILE_COLOURS),
            "domains": [list(d) for d in IOD_DOMAINS],
            "search": {"mode": "local", "placeholder": "LSOA code or name"},
            "legend": None,
        }
    ).add_to(m)
    return m


def feature_bounds(feature_collection: Mapping[str, Any]) -> tuple[float, float, float, float]:
    """Return the lon/lat bounds of a GeoJSON FeatureCollection of (Multi)Polygons."""
    xs: list[float] = []
    ys: list[float] = []

    def walk(coordinates: Any) -> None:
        if coordinates and isinstance(coordinates[0], int | float):
            xs.append(float(coordinates[0]))
            ys.append(float(coordinates[1]))
            return
        for part in coordinates:
            walk(part)

    for feature in feature_collection["features"]:
        walk(feature["geometry"]["coordinates"])
    return min(xs), min(ys), max(xs), max(ys)


def render_page(m: folium.Map) -> str:
    """Return the map as a complete HTML document."""
    return str(m.get_root().render())
