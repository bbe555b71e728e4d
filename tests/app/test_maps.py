"""The map pages and the district export, over HTTP and the CLI: assets, layers, settings; the
assets map's card and the search box's postcode answers."""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, get_args

import mapbox_vector_tile
import morecantile
import pandas as pd
import psycopg
import pytest
import shapely
import shapely.geometry
import shapely.wkt
from fastapi.testclient import TestClient
from pydantic import ValidationError
from typer.testing import CliRunner

from app import maps
from app.http import today_utc
from app.maps import DECILE_COLOURS
from app.routers.maps import map_settings
from cli.main import cli
from config.settings import DatabaseSettings, MapSettings
from geo import rights
from geo.area_models import EditionRef
from geo.collections import IOD_DOMAINS, get_collection
from tests.browser.coverage_data import CoverageExample, record_coverage_example
from tests.utils import factories, sources
from tests.utils.geojson import lonlat_box

PAGES = ["/maps/deprivation", "/maps/eligibility", "/maps/assets", "/maps/coverage"]
WEB_MERCATOR = morecantile.tms.get("WebMercatorQuad")
TRAFFORD = "E08000009"
# Hosts folium's defaults would pull from; none may appear in a page.
CDN_MARKERS = (
    "cdn.jsdelivr.net",
    "code.jquery.com",
    "cdnjs.cloudflare.com",
    "bootstrapcdn",
    "fontawesome",
    "openstreetmap",
    "unpkg.com",
)
IOD2025 = sources.csv(sources.IOD2025).set_index("lsoa21_code")
LOOKUP_2021 = sources.csv(sources.LOOKUP_2021).set_index("lsoa21_code")
FILE_1 = sources.csv(sources.FILE_1).set_index("LSOA code (2011)")


class AssetParser(HTMLParser):
    """Collect what a page makes the browser fetch (scripts, stylesheets, icons, images)."""

    FETCHING = {"script": "src", "link": "href", "img": "src", "iframe": "src", "source": "src"}

    def __init__(self) -> None:
        super().__init__()
        self.fetched: list[str] = []
        self.inline_scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        url = dict(attrs).get(self.FETCHING.get(tag, ""))
        if url:
            self.fetched.append(url)
        self._in_script = tag == "script" and url is None

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.inline_scripts.append(data)


def parse(html: str) -> AssetParser:
    parser = AssetParser()
    parser.feed(html)
    return parser


def js_calls(html: str, call: str) -> list[Any]:
    """The JSON argument after ``call`` (a regex ending where the JSON starts), per call."""
    decoder = json.JSONDecoder()
    # Only calls with a literal argument (the helper's own comments name the calls too).
    return [decoder.raw_decode(html, m.end())[0] for m in re.finditer(call + r"(?=\{)", html)]


PLANNING = "neighbourhood-areas"


@pytest.fixture(scope="module")
def planning_area(settings: DatabaseSettings) -> Iterator[str]:
    """An EXAMPLE neighbourhood area applied for in Trafford, so the planning overlay is drawn.

    Whether other modules left areas behind then no longer decides which layers a page has.
    The officer's key is dropped afterwards; the area stays, as other modules' areas do.
    """
    made = factories.Made()

    async def record(aconn: psycopg.AsyncConnection) -> str:
        officer = await made.key(aconn, "officer", ["E08000009"])
        area = await factories.example_neighbourhood_area(
            aconn,
            officer.principal,
            "EXAMPLE maps test neighbourhood area",
            lonlat_box(-2.345, 53.445, -2.335, 53.452),
            "EXAMPLE forum (map tests)",
        )
        return area.reference

    yield factories.run(settings.dsn, record)
    with psycopg.connect(settings.dsn, autocommit=True) as conn:
        made.drop(conn)


def layers(html: str) -> dict[str, dict[str, Any]]:
    calls = js_calls(html, r"L\.platoons\.(?:vectorTiles|pointTiles)\(")
    return {options["key"]: options for options in calls}


def tile_path(template: str, lon: float, lat: float, zoom: int) -> str:
    tile = WEB_MERCATOR.tile(lon, lat, zoom)
    return (
        template.replace("{z}", str(zoom)).replace("{y}", str(tile.y)).replace("{x}", str(tile.x))
    )


@pytest.fixture
def configured_client(client: TestClient) -> Iterator[TestClient]:
    """The app with a basemap configured (as PLATOONS_BASEMAP_URL would)."""
    settings = MapSettings(
        basemap_url="https://{s}.tiles.example.org/{z}/{x}/{y}.png",
        basemap_attribution="© Example Tiles",
    )
    client.app.dependency_overrides[map_settings] = lambda: settings  # type: ignore[attr-defined]
    try:
        yield client
    finally:
        client.app.dependency_overrides.clear()  # type: ignore[attr-defined]


@pytest.fixture
def map_examples(
    example_programmes: list[str], example_assets: int, coverage_example: CoverageExample
) -> None:
    """The example programmes, assets, groups and organiser the map pages draw, recorded."""


@pytest.mark.parametrize("path", PAGES)
def test_pages_fetch_only_what_the_service_serves(
    client: TestClient,
    map_examples: None,
    path: str,
) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    assert not [marker for marker in CDN_MARKERS if marker in html]
    fetched = parse(html).fetched
    assert "/static/leaflet/leaflet.js" in fetched
    assert "/static/leaflet/leaflet.css" in fetched
    for url in fetched:
        if url.startswith("data:"):
            continue
        assert url.startswith("/") and not url.startswith("//"), url
        asset = client.get(url)
        assert asset.status_code == 200, url
    csp = response.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "connect-src 'self'" in csp
    assert "img-src 'self' data:;" in csp  # no basemap host unless configured


@pytest.mark.parametrize("path", PAGES)
def test_pages_embed_no_features_and_credit_the_data(
    client: TestClient,
    map_examples: None,
    planning_area: str,
    path: str,
) -> None:
    html = client.get(path).text
    assert "FeatureCollection" not in html
    assert len(html) < 60_000  # options and legends only: the features come from tiles
    assert "L.tileLayer" not in html  # no basemap unless configured
    for key, options in layers(html).items():
        if key == PLANNING:  # the register's own entries, drawn by officers, over credited layers
            assert options["attribution"] == maps.attribution_html(get_collection(key).attribution)
            assert "Platoons register" in options["attribution"]
            continue
        assert "Open Government Licence v3.0</a>" in options["attribution"]
        assert "Crown copyright" in options["attribution"]


def test_leaflet_is_the_packaged_version_with_its_licence_noted(client: TestClient) -> None:
    script = client.get("/static/leaflet/leaflet.js")
    assert script.headers["content-type"].startswith(("application/javascript", "text/javascript"))
    assert "Leaflet 1.9.3" in script.text[:300]
    notes = Path("app/static/LICENSES.md").read_text(encoding="utf-8")
    assert "BSD 2-Clause" in notes and "xstatic-leaflet" in notes


def test_deprivation_layers_are_both_editions_and_the_district_summary(
    client: TestClient, settings: DatabaseSettings, crime_loaded: int
) -> None:
    html = client.get("/maps/deprivation").text
    found = layers(html)
    assert set(found) == {
        "lsoa-iod2025",
        "lsoa-iod2019",
        "lad-iod2025",
        "crime-lsoa",  # the street-level crime overlay, drawn once crime is loaded
        "lad-iod2025:outlines",
        # Grant money per resident, one layer per level and source
        # (tests/browser/test_grant_money_map.py)
        "lad-iod2025:grants:imported",
        "lad-iod2025:grants:platoons",
        "lsoa-iod2025:grants:imported",
        "lsoa-iod2025:grants:platoons",
    }
    assert not found["lad-iod2025:outlines"]["style"].get("fill", True)
    for level in ("lad", "lsoa"):
        for source in ("imported", "platoons"):
            money = found[f"{level}-iod2025:grants:{source}"]
            assert money["grantMoney"]["source"] == source and not money["overlay"]
            assert money["grantMoney"]["level"] == level
            assert money["grantMoney"]["url"] == "/grants/need?edition=IoD2025"
    assert [o["overlay"] for o in found.values()].count(True) == 2
    # A Trafford LSOA in the page's own tile URL, decoded: the decile the source file gives.
    code = "E01006112"
    lon, lat = sources.points_on_surface(sources.LSOA21_BOUNDARIES, "lsoa21_code")[code]
    options = found["lsoa-iod2025"]
    assert options["url"] == "/collections/lsoa-iod2025/tiles/WebMercatorQuad/{z}/{y}/{x}"
    assert options["style"]["categories"] == {str(d): c for d, c in enumerate(DECILE_COLOURS, 1)}
    tile = client.get(tile_path(options["url"], lon, lat, 13))
    assert tile.status_code == 200
    features = mapbox_vector_tile.decode(tile.content)["lsoa-iod2025"]["features"]
    by_code = {f["properties"]["code"]: f["properties"] for f in features}
    assert by_code[code]["imd_decile"] == IOD2025.loc[code, "IMD_decile"]
    # The legend lists the ten decile colours, most deprived first.
    legend = options["legend"]
    assert [item["colour"] for item in legend["items"]] == list(DECILE_COLOURS)
    assert legend["items"][0]["label"].startswith("1 – most deprived")


@pytest.mark.parametrize("path", PAGES)
def test_layer_bounds_never_ask_for_a_tile_the_service_refuses(
    client: TestClient,
    map_examples: None,
    path: str,
) -> None:
    """Leaflet requests no tile outside a layer's bounds; every tile at their corners exists.

    A layer switching collection by zoom requests, in each zoom band, the tiles within both its
    own bounds and that collection's extent, which the page reads from the TileJSON named.
    """
    for options in layers(client.get(path).text).values():
        (south, west), (north, east) = options["bounds"]
        bands = [(options["minZoom"], options["dataMaxZoom"], options)]
        if "sources" in options:
            starts = [s["minZoom"] for s in options["sources"]]
            ends = [z - 1 for z in starts[1:]] + [options["dataMaxZoom"]]
            bands = list(zip(starts, ends, options["sources"], strict=True))
        for first, last, source in bands:
            tilejson = source.get("tilejson") or (
                f"/collections/{source['layerName']}/tiles/WebMercatorQuad/tilejson.json"
            )
            extent = client.get(tilejson).json()["bounds"]
            if "sources" in options:  # the page keeps to both boxes
                west, south = max(west, extent[0]), max(south, extent[1])
                east, north = min(east, extent[2]), min(north, extent[3])
            assert extent[0] <= west < east <= extent[2] and extent[1] <= south < north <= extent[3]
            for zoom in (first, last):
                for lon, lat in ((west, south), (west, north), (east, south), (east, north)):
                    url = tile_path(source["url"], lon, lat, zoom)
                    assert client.get(url).status_code == 200, url


def test_eligibility_page_has_a_layer_per_programme_filtered_by_id(
    client: TestClient, example_programmes: list[str]
) -> None:
    html = client.get("/maps/eligibility").text
    found = layers(html)
    programmes = {p["id"]: p for p in client.get("/programmes").json()}
    eligibility = {k: v for k, v in found.items() if v["layerName"] == "grant-eligibility"}
    assert set(eligibility) == {f"grant-eligibility:{pid}" for pid in programmes}
    assert set(example_programmes) <= set(programmes)
    shown = [k for k, v in eligibility.items() if not v["overlay"]]
    assert len(shown) == len(eligibility)  # base layers: one programme at a time
    # The 10%-most-deprived example: a decile-1 LSOA qualifies in its tile, a decile-10 does not.
    options = eligibility["grant-eligibility:example-most-deprived-10pct"]
    assert options["url"].endswith("?programme_id=example-most-deprived-10pct")
    assert options["edition"] == programmes["example-most-deprived-10pct"]["edition_code"]
    points = sources.points_on_surface(sources.LSOA21_BOUNDARIES, "lsoa21_code")
    for decile, qualifies in ((1, True), (10, False)):
        code = str(IOD2025[IOD2025["IMD_decile"] == decile].index.sort_values()[0])
        tile = client.get(tile_path(options["url"], *points[code], 13))
        features = mapbox_vector_tile.decode(tile.content)["grant-eligibility"]["features"]
        verdict = {f["properties"]["code"]: f["properties"]["qualifies"] for f in features}
        assert verdict[code] is qualifies
    (setup,) = js_calls(html, r"L\.platoons\.setup\(\w+, ")
    assert setup["click"] == "eligibility" and setup["eligibilityUrl"] == "/eligibility"


def test_page_names_are_escaped_for_the_layer_control(client: TestClient) -> None:
    from app.maps import VectorTileLayer
    from geo.collections import get_collection

    collection = get_collection("lsoa-iod2025")
    assert collection is not None
    layer = VectorTileLayer(
        collection, "<img src=x onerror=alert(1)>", extent=(-3, 51, -2, 52), style={}
    )
    assert layer.layer_name == "&lt;img src=x onerror=alert(1)&gt;"


def test_a_configured_basemap_is_added_and_allowed(configured_client: TestClient) -> None:
    response = configured_client.get("/maps/deprivation")
    html = response.text
    assert "https://{s}.tiles.example.org/{z}/{x}/{y}.png" in html
    assert "\\u00a9 Example Tiles" in html  # the credit, JSON-escaped in the script
    assert (
        "img-src 'self' data: https://*.tiles.example.org"
        in (response.headers["content-security-policy"])
    )


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"basemap_url": "https://tiles.example.org/{z}/{x}/{y}.png"}, "ATTRIBUTION"),
        (
            {"basemap_url": "https://tiles.example.org/{z}/{x}.png", "basemap_attribution": "x"},
            "{y}",
        ),
    ],
)
def test_basemap_settings_are_checked(values: dict[str, str], message: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(message)):
        MapSettings(**values)


def test_basemap_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLATOONS_BASEMAP_URL", "https://t.example/{z}/{x}/{y}.png")
    monkeypatch.setenv("PLATOONS_BASEMAP_ATTRIBUTION", "© T")
    assert MapSettings().basemap_url == "https://t.example/{z}/{x}/{y}.png"
    monkeypatch.delenv("PLATOONS_BASEMAP_URL")
    assert MapSettings().basemap_url is None


# The current edition as the service describes it, for pages built without a database.
IOD2025_EDITION = EditionRef(
    code="IoD2025",
    title="English Indices of Deprivation 2025",
    country="England",
    published="2025-10",
    lsoa_vintage=2021,
    lad_vintage=2024,
    national_lsoa_count=33755,
    is_current=True,
)


def deprivation_extents(edition: EditionRef, extent: list[float]) -> dict[str, list[float]]:
    """The same extent for every collection the deprivation map draws."""
    return {c.id: extent for c in maps.deprivation_collections([edition])}


def fitted_bounds(html: str) -> list[list[float]]:
    """The ``[[south, west], [north, east]]`` a page's map is fitted to when it opens."""
    (found,) = re.findall(r"\.fitBounds\(\s*(\[\[.*?\]\])", html, re.S)
    bounds: list[list[float]] = json.loads(found)
    return bounds


def test_pages_open_on_the_configured_home_box_else_on_their_data() -> None:
    edition = IOD2025_EDITION
    extents = deprivation_extents(edition, [-3.1, 51.3, -0.7, 53.9])
    own = maps.render_page(maps.deprivation_map([edition], extents, MapSettings()))
    assert fitted_bounds(own) == [[51.3, -3.1], [53.9, -0.7]]
    home = MapSettings(map_home=(-2.479, 53.340, -2.147, 53.545))
    homed = maps.render_page(maps.deprivation_map([edition], extents, home))
    assert fitted_bounds(homed) == [[53.34, -2.479], [53.545, -2.147]]


def test_the_home_box_comes_from_the_environment_and_is_checked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PLATOONS_MAP_HOME", "[-2.479, 53.340, -2.147, 53.545]")
    assert MapSettings().map_home == (-2.479, 53.34, -2.147, 53.545)
    for wrong in (
        "[-2.1, 53.3, -2.4, 53.5]",
        "[-2.4, 53.5, -2.1, 53.3]",
        "[-2.4, 53.3, 190, 53.5]",
    ):
        monkeypatch.setenv("PLATOONS_MAP_HOME", wrong)
        with pytest.raises(ValidationError, match="PLATOONS_MAP_HOME must be"):
            MapSettings()
    monkeypatch.setenv("PLATOONS_MAP_HOME", "[-2.4, 53.3]")
    with pytest.raises(ValidationError):
        MapSettings()


# --- platoons export-map ---------------------------------------------------------------------


def export(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, settings: DatabaseSettings, *args: str
) -> tuple[int, str, Path]:
    monkeypatch.setenv("PLATOONS_DATABASE_URL", settings.dsn)
    out = tmp_path / "map.html"
    result = CliRunner().invoke(cli, ["export-map", *args, "--out", str(out)])
    return result.exit_code, result.output, out


def embedded_features(html: str) -> list[dict[str, Any]]:
    (data,) = js_calls(html, r"L\.platoons\.featureLayer\(\s*")
    return list(data["features"])


@pytest.mark.parametrize(
    ("edition", "expected"),
    [
        (
            None,
            {
                str(code): int(IOD2025.loc[code, "IMD_decile"])
                for code in LOOKUP_2021[LOOKUP_2021["ltla24_code"] == TRAFFORD].index
            },
        ),
        (
            "IoD2019",
            {
                str(code): int(row["Index of Multiple Deprivation (IMD) Decile"])
                for code, row in FILE_1[
                    FILE_1["Local Authority District code (2019)"] == TRAFFORD
                ].iterrows()
            },
        ),
    ],
)
def test_export_map_is_one_self_contained_district(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    settings: DatabaseSettings,
    edition: str | None,
    expected: dict[str, int],
) -> None:
    args = ["--lad", TRAFFORD] + (["--edition", edition] if edition else [])
    code, output, out = export(tmp_path, monkeypatch, settings, *args)
    assert code == 0, output
    html = out.read_text(encoding="utf-8")
    page = parse(html)
    assert page.fetched == ["data:,"]  # only the empty icon: scripts and styles are inline
    # Stylesheet images are data: URIs (url(#default#VML) is an old-IE fragment, never fetched).
    assert not re.search(r"url\((?!data:|#default#VML\))", html)
    assert not [marker for marker in CDN_MARKERS if marker in html]
    assert any("Leaflet 1.9.3" in script for script in page.inline_scripts)
    assert any("L.platoons" in script for script in page.inline_scripts)
    features = embedded_features(html)
    deciles = {f["properties"]["code"]: f["properties"]["imd_decile"] for f in features}
    assert deciles == expected
    first = features[0]["properties"]
    domain_deciles = {f"{d}_decile" for d, _ in IOD_DOMAINS} & set(first)
    assert len(domain_deciles) >= 8
    assert "Trafford" in output and f"{len(expected)} LSOAs" in output
    assert "Open Government Licence v3.0\\u003c/a\\u003e" in html  # the linked credit, in JSON


@pytest.mark.parametrize(
    ("lad", "message"),
    [
        ("E08000099", "is not a loaded local authority district"),
        ("E01006112", "is an LSOA code"),
        ("nonsense", "is not a GSS code"),
    ],
)
def test_export_map_refuses_what_is_not_a_loaded_district(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    settings: DatabaseSettings,
    lad: str,
    message: str,
) -> None:
    code, output, out = export(tmp_path, monkeypatch, settings, "--lad", lad)
    assert code == 1
    assert message in " ".join(output.split())
    assert not out.exists()


def test_export_map_refuses_an_unloaded_edition(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, settings: DatabaseSettings
) -> None:
    code, output, _ = export(
        tmp_path, monkeypatch, settings, "--lad", TRAFFORD, "--edition", "IoD2010"
    )
    assert code == 1
    assert "'IoD2010' is not loaded" in output


def test_eligibility_map_without_programmes_still_draws_districts() -> None:
    extents = {"grant-eligibility": None, "lad-iod2025": [-3.1, 51.3, -0.7, 53.9]}
    html = maps.render_page(
        maps.eligibility_map([], date(2026, 11, 25), "IoD2025", extents, MapSettings())
    )
    assert set(layers(html)) == {"lad-iod2025:outlines"}
    (setup,) = js_calls(html, r"L\.platoons\.setup\(\w+, ")
    assert setup["legend"]["title"] == "No grant programme has eligibility data yet"


def test_pages_under_a_path_prefix_keep_every_url_under_it() -> None:
    edition = IOD2025_EDITION
    extents = deprivation_extents(edition, [-3.1, 51.3, -0.7, 53.9])
    html = maps.render_page(
        maps.deprivation_map([edition], extents, MapSettings(), base_path="/platoons")
    )
    fetched = [u for u in parse(html).fetched if not u.startswith("data:")]
    assert fetched and all(u.startswith("/platoons/static/") for u in fetched)
    assert all(o["url"].startswith("/platoons/collections/") for o in layers(html).values())
    (setup,) = js_calls(html, r"L\.platoons\.setup\(\w+, ")
    assert setup["lookupUrl"] == "/platoons/lookup"


# --- the assets map ---------------------------------------------------------------------------

EXAMPLE_REGISTER = pd.read_csv(
    "data/examples/acv_register_example.csv", dtype=str, keep_default_na=False
).set_index("reference")
ASSETS = "assets-of-community-value"


def register_status(reference: str) -> str:
    """The lifecycle status the example register's columns state for an entry (the Act's terms:
    a listed asset whose owner notified a disposal is in the interim moratorium, or in the full
    one once a community interest group has asked to bid)."""
    row = EXAMPLE_REGISTER.loc[reference]
    if row["decision"] == "listed":
        if row["interested-group"]:
            return "full_moratorium"
        return "disposal_notified" if row["notification-to-sell-date"] else "listed"
    if row["decision"] == "not-listed":
        return "not_listed"
    return "nominated" if row["nomination-date"] else "recorded"


def lsoa_containing(lon: float, lat: float) -> str:
    """The LSOA 2021 whose boundary (in the source file) contains a point, by shapely."""
    point = shapely.Point(lon, lat)
    with gzip.open(sources.DEMO_DIR / sources.LSOA21_BOUNDARIES, "rt", encoding="utf-8") as f:
        boundaries = json.load(f)["features"]
    (code,) = [
        f["properties"]["lsoa21_code"]
        for f in boundaries
        if shapely.geometry.shape(f["geometry"]).contains(point)
    ]
    return str(code)


def asset_id(conn: psycopg.Connection, reference: str) -> int:
    row = conn.execute("SELECT id FROM asset WHERE reference = %s", (reference,)).fetchone()
    assert row is not None, reference
    return int(row[0])


@pytest.fixture
def freeze(client: TestClient) -> Iterator[Callable[[date], None]]:
    """Set the date the service takes as today (restored after the test)."""
    app: Any = client.app

    def set_today(day: date) -> None:
        app.dependency_overrides[today_utc] = lambda: day

    yield set_today
    app.dependency_overrides.pop(today_utc, None)


def test_assets_page_draws_the_register_from_its_tiles(
    client: TestClient, example_assets: int, planning_area: str
) -> None:
    html = client.get("/maps/assets").text
    found = layers(html)
    assert set(found) == {ASSETS, PLANNING, "lsoa-iod2025", "lad-iod2025:outlines"}
    assert list(found)[0] == ASSETS  # the subject leads the layer control and the legend
    points = found[ASSETS]
    assert [o["key"] for o in js_calls(html, r"L\.platoons\.pointTiles\(")] == [ASSETS]
    assert points["url"] == f"/collections/{ASSETS}/tiles/WebMercatorQuad/{{z}}/{{y}}/{{x}}"
    assert points["overlay"] and points["firstRender"] is True
    underlay = found["lsoa-iod2025"]
    assert underlay["overlay"] and underlay["firstRender"] is False
    # Every lifecycle status has its own colour and legend entry, in the statute's order.
    statuses = list(get_args(rights.Status))
    assert set(points["style"]["categories"]) == set(statuses)
    assert len(set(points["style"]["categories"].values())) == len(statuses)
    legend = points["legend"]["items"]
    assert [i["colour"] for i in legend] == [points["style"]["categories"][s] for s in statuses]
    # Each placed example entry is in its tile with the status the register states.
    for reference in ("EXAMPLE-ACV-001", "EXAMPLE-ACV-004"):
        lon, lat = shapely.wkt.loads(EXAMPLE_REGISTER.loc[reference, "point"]).coords[0]
        tile = client.get(tile_path(points["url"], lon, lat, 14))
        assert tile.status_code == 200
        features = mapbox_vector_tile.decode(tile.content)[ASSETS]["features"]
        by_reference = {f["properties"]["reference"]: f["properties"] for f in features}
        assert by_reference[reference]["status"] == register_status(reference)
    (setup,) = js_calls(html, r"L\.platoons\.setup\(\w+, ")
    assert setup["click"] == "assets"
    assert setup["assets"]["cardUrl"] == "/maps/assets/{id}/card"
    assert setup["assets"]["eligibilityUrl"] == "/assets/{id}/eligibility"
    assert setup["groupField"]["label"] == "Group"
    assert setup["groupField"]["searchUrl"] == "/groups"
    assert client.get("/groups", params={"q": "EXAMPLE", "limit": 10}).status_code == 200


def test_assets_map_of_an_empty_register_says_so() -> None:
    extent = [-3.1, 51.3, -0.7, 53.9]
    extents = {ASSETS: None, "lsoa-iod2025": extent, "lad-iod2025": extent}
    html = maps.render_page(maps.assets_map("IoD2025", extents, MapSettings()))
    assert set(layers(html)) == {"lsoa-iod2025", "lad-iod2025:outlines"}
    assert "pointTiles({" not in html
    (setup,) = js_calls(html, r"L\.platoons\.setup\(\w+, ")
    assert setup["legend"]["title"].startswith("No asset of community value")


def test_assets_map_group_box_searches_the_registry_under_the_prefix() -> None:
    extent = [-3.1, 51.3, -0.7, 53.9]
    extents = {ASSETS: extent, "lsoa-iod2025": extent, "lad-iod2025": extent}
    html = maps.render_page(maps.assets_map("IoD2025", extents, MapSettings(), "/platoons"))
    (setup,) = js_calls(html, r"L\.platoons\.setup\(\w+, ")
    assert setup["groupField"]["searchUrl"] == "/platoons/groups"
    assert setup["assets"]["cardUrl"] == "/platoons/maps/assets/{id}/card"
    assert setup["assets"]["eligibilityUrl"] == "/platoons/assets/{id}/eligibility"
    assert setup["postcodeUrl"] == "/platoons/maps/postcode"
    assert all(o["url"].startswith("/platoons/collections/") for o in layers(html).values())


ON = date(2026, 11, 25)


@pytest.mark.parametrize(
    ("reference", "on", "kind", "ends"),
    [
        # Nominated 2026-10-19: the decision is due 8 weeks beginning with that day.
        ("EXAMPLE-ACV-003", ON, "decision_due", date(2026, 10, 19) + timedelta(weeks=8, days=-1)),
        ("EXAMPLE-ACV-003", date(2026, 12, 14), None, None),  # overdue: nothing ahead
        # Listed: the register's own expiry-date column.
        ("EXAMPLE-ACV-001", ON, "listing_expires", date.fromisoformat("2030-02-23")),
        # Notice 2026-11-02 and a group's request: 6 months, then 18, beginning with the notice.
        ("EXAMPLE-ACV-002", ON, "full_moratorium_ends", date(2027, 5, 2) - timedelta(days=1)),
        ("EXAMPLE-ACV-002", date(2027, 5, 2), "protected_period_ends", date(2028, 5, 1)),
        ("EXAMPLE-ACV-004", ON, None, None),  # not listed: no statutory date runs
    ],
)
def test_asset_card_gives_the_next_deadline_on_the_day_asked(
    client: TestClient,
    conn: psycopg.Connection,
    freeze: Callable[[date], None],
    example_assets: int,
    reference: str,
    on: date,
    kind: str | None,
    ends: date | None,
) -> None:
    identifier = asset_id(conn, reference)
    freeze(on)
    card = client.get(f"/maps/assets/{identifier}/card")
    assert card.status_code == 200, card.text
    body = card.json()
    assert body["on"] == on.isoformat()
    assert body["reference"] == reference and body["status"] == register_status(reference)
    if kind is None:
        assert body["next_deadline"] is None
    else:
        assert (body["next_deadline"]["kind"], body["next_deadline"]["ends"]) == (
            kind,
            ends.isoformat() if ends else None,
        )
    # The card agrees with the register's API and with the source files about the place.
    full = client.get(f"/assets/{identifier}").json()
    for field in ("name", "category", "owner_type", "status", "lsoa_code", "imd_decile"):
        assert body[field] == full[field], field
    assert body["imd_decile"] == IOD2025.loc[body["lsoa_code"], "IMD_decile"]
    assert body["is_example"] is True


def test_asset_card_place_is_the_lsoa_containing_the_point(
    client: TestClient, conn: psycopg.Connection, example_assets: int
) -> None:
    lon, lat = shapely.wkt.loads(EXAMPLE_REGISTER.loc["EXAMPLE-ACV-004", "point"]).coords[0]
    card = client.get(f"/maps/assets/{asset_id(conn, 'EXAMPLE-ACV-004')}/card").json()
    assert card["lsoa_code"] == lsoa_containing(lon, lat)


@pytest.mark.parametrize(
    ("path", "status"),
    [("/maps/assets/999999999/card", 404), ("/maps/assets/0/card", 422)],
)
def test_asset_card_refuses_what_is_not_an_asset(
    client: TestClient, path: str, status: int
) -> None:
    response = client.get(path)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"


# --- the search box ---------------------------------------------------------------------------

POSTCODES = sources.csv(sources.POSTCODES)


@pytest.mark.parametrize("row", [0, len(POSTCODES) // 2, len(POSTCODES) - 1])
def test_postcode_search_gives_the_directory_lsoa(client: TestClient, row: int) -> None:
    entry = POSTCODES.iloc[row]
    typed = str(entry["postcode"]).lower().replace(" ", "")
    body = client.get("/maps/postcode", params={"postcode": typed}).json()
    assert body["postcode"] == entry["postcode"]
    assert body["lsoa_code"] == entry["lsoa_code"] and body["edition"] == "IoD2025"
    assert body["lsoa_name"] == LOOKUP_2021.loc[entry["lsoa_code"], "lsoa21_name"]


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"postcode": "not a postcode"}, 422),
        ({"postcode": "SW1A 1AA"}, 404),  # a real postcode outside the loaded directory
        ({"postcode": "M32 0WR", "edition": "IoD2010"}, 404),
        ({}, 422),
    ],
)
def test_postcode_search_says_why_it_cannot_place(
    client: TestClient, params: dict[str, str], status: int
) -> None:
    response = client.get("/maps/postcode", params=params)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["detail"]


# --- the coverage map -------------------------------------------------------------------------

COVERAGE_LAYERS = {
    "coverage-lsoa",
    "coverage-h3",
    "coverage-cold-spots",
    "neighbourhood-groups",
    "community-organisers",
    "crime-lsoa",  # the street-level crime overlay (crime_loaded)
    PLANNING,  # the neighbourhood areas overlay (planning_area)
    "lad-iod2025:outlines",
}


@pytest.fixture(scope="module")
def coverage_example(settings: DatabaseSettings) -> Iterator[CoverageExample]:
    """Groups and an organiser registered through geo.groups and geo.organisers."""
    made = factories.Made()
    yield record_coverage_example(settings.dsn, made)
    with psycopg.connect(settings.dsn, autocommit=True) as conn:
        made.drop(conn)


def test_coverage_page_draws_every_coverage_layer_from_tiles(
    client: TestClient, coverage_example: CoverageExample, crime_loaded: int, planning_area: str
) -> None:
    response = client.get("/maps/coverage")
    assert response.status_code == 200
    html = response.text
    found = layers(html)
    assert set(found) == COVERAGE_LAYERS
    base = [k for k, o in found.items() if not o["overlay"]]
    assert base == ["coverage-lsoa", "coverage-h3"]
    # The H3 layer switches resolution with the zoom, each from its own collection's tiles,
    # never before that collection's first zoom.
    grid = found["coverage-h3"]["sources"]
    assert [s["layerName"] for s in grid] == [f"coverage-h3-r{r}" for r in (6, 7, 8, 9)]
    assert [s["minZoom"] for s in grid] == sorted(s["minZoom"] for s in grid)
    for source in grid:
        collection = get_collection(source["layerName"])
        assert collection is not None and collection.minzoom <= source["minZoom"]
        assert source["url"] == (
            f"/collections/{source['layerName']}/tiles/WebMercatorQuad/{{z}}/{{y}}/{{x}}"
        )
    # The LSOA wholly inside the active group's area is drawn covered in its tile.
    options = found["coverage-lsoa"]
    lon, lat = sources.points_on_surface(sources.LSOA21_BOUNDARIES, "lsoa21_code")[
        coverage_example.covered
    ]
    tile = client.get(tile_path(options["url"], lon, lat, 14))
    features = mapbox_vector_tile.decode(tile.content)["coverage-lsoa"]["features"]
    by_code = {f["properties"]["code"]: f["properties"] for f in features}
    assert by_code[coverage_example.covered]["covered_share"] == pytest.approx(1.0, abs=1e-6)
    (setup,) = js_calls(html, r"L\.platoons\.setup\(\w+, ")
    assert setup["click"] == "coverage" and setup["coverage"]["atUrl"] == "/coverage/at"


def test_coverage_map_leaves_out_what_is_not_computed_yet() -> None:
    extent = [-3.1, 51.3, -0.7, 53.9]
    html = maps.render_page(maps.coverage_map("IoD2025", {"lad-iod2025": extent}, MapSettings()))
    assert set(layers(html)) == {"lad-iod2025:outlines"}
    (setup,) = js_calls(html, r"L\.platoons\.setup\(\w+, ")
    assert setup["legend"]["title"] == "Coverage has not been computed yet"


def test_coverage_map_reads_each_h3_extent_only_when_its_zooms_are_shown(
    client: TestClient, coverage_example: CoverageExample
) -> None:
    grid = layers(client.get("/maps/coverage").text)["coverage-h3"]
    for source, (zoom, resolution) in zip(
        grid["sources"], maps.H3_RESOLUTION_FROM_ZOOM, strict=True
    ):
        assert source["minZoom"] == zoom and "bounds" not in source
        assert source["tilejson"] == (
            f"/collections/coverage-h3-r{resolution}/tiles/WebMercatorQuad/tilejson.json"
        )
        document = client.get(source["tilejson"]).json()
        assert document["tiles"][0].endswith(source["url"].split("?")[0])
        west, south, east, north = document["bounds"]
        assert west < east and south < north
    # The coverage page no longer reads any H3 extent itself.
    assert not {c.id for c in maps.coverage_collections("IoD2025")} & {
        f"coverage-h3-r{r}" for _, r in maps.H3_RESOLUTION_FROM_ZOOM
    }
