"""The map pages and the district export in headless chromium, against the real demo data."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import httpx
import pandas as pd
import pytest
from typer.testing import CliRunner

from app.maps import (
    DECILE_COLOURS,
    LAD_SHARE_BREAKS,
    NOT_QUALIFYING_COLOUR,
    QUALIFIES_COLOUR,
)
from cli.main import cli
from config.settings import DatabaseSettings
from tests.browser.conftest import WatchedPage, off_the_browser_thread
from tests.utils import sources

POINTS_2021 = sources.points_on_surface(sources.LSOA21_BOUNDARIES, "lsoa21_code")
POINTS_2011 = sources.points_on_surface(sources.LSOA11_BOUNDARIES, "lsoa11_code")
IOD2025 = sources.csv(sources.IOD2025).set_index("lsoa21_code")
IOD2019 = sources.csv(sources.FILE_1).set_index("LSOA code (2011)")[
    "Index of Multiple Deprivation (IMD) Decile"
]
LOOKUP_2021 = sources.csv(sources.LOOKUP_2021).set_index("lsoa21_code")
CHANGES = sources.csv("lookups/lookup_lsoa11_lsoa21_ltla22.csv")
POSTCODES = sources.csv(sources.POSTCODES)
# IoD2025 source columns of each domain's decile (the popup's rows, in the API's order).
DOMAIN_COLUMNS = sources.IOD2025_DECILE_COLUMNS
POPUP = ".leaflet-popup-content"


def first_lsoa_in_decile(
    deciles: pd.Series, points: dict[str, tuple[float, float]], decile: int
) -> str:
    """The lowest code of an LSOA in a decile (a stable, real example)."""
    return str(sorted(code for code, d in deciles.items() if d == decile and code in points)[0])


def lad_share_colour(share: float) -> str:
    """The district layer's colour for a share of LSOAs in decile 1 (as the page's breaks)."""
    return next(colour for upper, colour, _ in LAD_SHARE_BREAKS if share <= upper)


def open_map(watched: WatchedPage, url: str) -> None:
    watched.page.goto(url)
    watched.settle()


def choose_layer(watched: WatchedPage, label: str) -> None:
    """Click a layer's entry in the layer control and wait for its tiles."""
    watched.page.locator(".leaflet-control-layers label", has_text=label).click()
    watched.settle()


def popup_lsoa(watched: WatchedPage) -> dict[str, str]:
    block = watched.page.locator(f"{POPUP} .platoons-lsoa")
    return {
        "code": block.get_attribute("data-lsoa-code") or "",
        "imd": block.get_attribute("data-imd-decile") or "",
        "edition": block.get_attribute("data-edition") or "",
    }


def popup_deciles(watched: WatchedPage) -> dict[str, int]:
    rows = watched.page.locator(f"{POPUP} .platoons-deciles tr")
    return {
        rows.nth(i).get_attribute("data-domain") or "": int(
            rows.nth(i).locator(".platoons-chip").inner_text()
        )
        for i in range(rows.count())
    }


@pytest.mark.parametrize("page", ["deprivation", "eligibility"])
def test_page_loads_from_its_own_host_without_errors(
    watched: WatchedPage,
    live_server: str,
    example_programmes: list[str],
    crime_loaded: int,
    page: str,
) -> None:
    open_map(watched, f"{live_server}/maps/{page}")
    assert watched.errors == []
    assert watched.off_host(live_server) == []
    tile_requests = [u for u in watched.requests if "/tiles/WebMercatorQuad/" in u]
    assert tile_requests and all(u.startswith(f"{live_server}/collections/") for u in tile_requests)
    assert watched.evaluate("() => window.PlatoonsMaps.firstFeaturesAt") > 0
    controls = watched.page
    assert controls.locator(".platoons-legend li").count() >= 2
    assert controls.locator(".leaflet-control-layers-base input").count() >= 3
    # District boundaries; on the deprivation map also the street-level crime overlay.
    overlays = controls.locator(".leaflet-control-layers-overlays input").count()
    assert overlays == {"deprivation": 2, "eligibility": 1}[page]
    if page == "deprivation":
        labels = controls.inner_text(".leaflet-control-layers-overlays")
        assert "Street-level crime by LSOA (police.uk)" in labels
    assert controls.locator(".platoons-search input").count() == 1
    credits = controls.inner_text(".leaflet-control-attribution")
    assert "Open Government Licence v3.0" in credits and "Crown copyright" in credits
    watched.screenshot(f"{page}-page")


@pytest.mark.parametrize("decile", [1, 5, 10])
def test_clicking_an_lsoa_shows_its_code_and_deciles(
    watched: WatchedPage, live_server: str, decile: int
) -> None:
    code = first_lsoa_in_decile(IOD2025["IMD_decile"], POINTS_2021, decile)
    lon, lat = POINTS_2021[code]
    open_map(watched, f"{live_server}/maps/deprivation")
    watched.show(lon, lat, 15)
    assert watched.colour_at("lsoa-iod2025", lon, lat) == DECILE_COLOURS[decile - 1]
    watched.click_map(lon, lat)
    assert popup_lsoa(watched) == {"code": code, "imd": str(decile), "edition": "IoD2025"}
    expected = {domain: int(IOD2025.loc[code, column]) for domain, column in DOMAIN_COLUMNS.items()}
    assert popup_deciles(watched) == expected
    assert watched.errors == [] and watched.off_host(live_server) == []
    watched.screenshot(f"deprivation-click-decile-{decile}")


def test_the_2019_layer_answers_for_2011_lsoas(watched: WatchedPage, live_server: str) -> None:
    # An LSOA split or merged in 2021: its 2011 code exists only in the IoD2019 geography.
    changed = CHANGES[CHANGES["change_code"] != "U"]["lsoa11_code"]
    code = str(sorted(c for c in changed if c in POINTS_2011)[0])
    lon, lat = POINTS_2011[code]
    open_map(watched, f"{live_server}/maps/deprivation")
    choose_layer(watched, "IoD2019")
    watched.show(lon, lat, 15)
    decile = int(IOD2019[code])
    assert watched.colour_at("lsoa-iod2019", lon, lat) == DECILE_COLOURS[decile - 1]
    watched.click_map(lon, lat)
    assert popup_lsoa(watched) == {"code": code, "imd": str(decile), "edition": "IoD2019"}
    assert watched.errors == []


def test_the_layer_control_changes_what_is_drawn(watched: WatchedPage, live_server: str) -> None:
    # An LSOA unchanged in 2021 whose IMD decile moved between the editions.
    unchanged = CHANGES[CHANGES["change_code"] == "U"]["lsoa21_code"]
    code = str(
        sorted(
            c
            for c in unchanged
            if c in POINTS_2021 and IOD2025.loc[c, "IMD_decile"] != IOD2019.get(c)
        )[0]
    )
    lon, lat = POINTS_2021[code]
    before, after = int(IOD2025.loc[code, "IMD_decile"]), int(IOD2019[code])
    open_map(watched, f"{live_server}/maps/deprivation")
    watched.show(lon, lat, 14)
    on_map = "(key) => Boolean(window.PlatoonsMaps.layers[key]._map)"
    visible = "(key) => window.PlatoonsMaps.layers[key].visibleCodes()"
    assert watched.colour_at("lsoa-iod2025", lon, lat) == DECILE_COLOURS[before - 1]
    codes_2021 = watched.evaluate(visible, "lsoa-iod2025")
    assert code in codes_2021 and set(codes_2021) <= set(POINTS_2021)
    watched.screenshot("layers-iod2025")

    choose_layer(watched, "IoD2019")
    assert not watched.evaluate(on_map, "lsoa-iod2025")
    assert watched.colour_at("lsoa-iod2019", lon, lat) == DECILE_COLOURS[after - 1]
    codes_2011 = watched.evaluate(visible, "lsoa-iod2019")
    assert code in codes_2011 and set(codes_2011) <= set(POINTS_2011)
    assert "IoD2019" in watched.page.inner_text(".platoons-legend h2")
    watched.screenshot("layers-iod2019")

    # The district summary: the share of the district's LSOAs in decile 1, from the source.
    choose_layer(watched, "Districts")
    lad = str(LOOKUP_2021.loc[code, "ltla24_code"])
    lsoas = IOD2025.loc[LOOKUP_2021.index[LOOKUP_2021["ltla24_code"] == lad], "IMD_decile"]
    share = float((lsoas == 1).mean())
    assert watched.colour_at("lad-iod2025", lon, lat) == lad_share_colour(share)
    assert lad in watched.evaluate(visible, "lad-iod2025")
    watched.screenshot("layers-districts")

    # The boundaries overlay goes and comes back with its checkbox.
    outlines = "lad-iod2025:outlines"
    canvases = (
        "() => window.PlatoonsMaps.map.getPane('platoons-outlines')"
        ".querySelectorAll('canvas').length"
    )
    assert watched.evaluate(on_map, outlines) and watched.evaluate(canvases) > 0
    watched.page.locator(".leaflet-control-layers label", has_text="District boundaries").click()
    assert not watched.evaluate(on_map, outlines) and watched.evaluate(canvases) == 0
    choose_layer(watched, "District boundaries")
    assert watched.evaluate(on_map, outlines) and watched.evaluate(canvases) > 0
    assert watched.errors == []


def test_clicking_a_district_gives_its_published_iod2025_ranks(
    watched: WatchedPage, live_server: str
) -> None:
    code = sorted(c for c in POINTS_2021 if LOOKUP_2021.loc[c, "ltla24_code"] == "E08000009")[0]
    lon, lat = POINTS_2021[code]
    published = sources.published_lad_summaries()
    imd = published[
        (published["area_code"] == "E08000009")
        & (published["index_domain"] == "Index of Multiple Deprivation")
    ].iloc[0]
    open_map(watched, f"{live_server}/maps/deprivation")
    choose_layer(watched, "Districts")
    watched.show(lon, lat, 11)
    watched.click_map(lon, lat)
    block = watched.page.locator(f"{POPUP} .platoons-district")
    assert block.get_attribute("data-lad-code") == "E08000009"
    rows = block.locator("td[data-measure]")
    found = {
        rows.nth(i).get_attribute("data-measure"): (
            int(rows.nth(i).get_attribute("data-rank") or 0),
            rows.nth(i).get_attribute("data-rank-source"),
        )
        for i in range(rows.count())
    }
    # The demo loads four districts, so every rank among the 296 is the published one.
    assert found == {
        "average_rank": (imd["rank_average_rank"], "published"),
        "average_score": (imd["rank_average_score"], "published"),
        "proportion_most_deprived_10pct": (imd["rank_proportion_bottom_decile"], "published"),
    }
    assert "published by MHCLG" in block.inner_text()
    assert watched.errors == [] and watched.off_host(live_server) == []
    watched.screenshot("deprivation-click-district")


@pytest.mark.parametrize("decile", [1, 10])
def test_eligibility_click_gives_every_open_programmes_verdict(
    watched: WatchedPage, live_server: str, example_programmes: list[str], decile: int
) -> None:
    code = first_lsoa_in_decile(IOD2025["IMD_decile"], POINTS_2021, decile)
    lon, lat = POINTS_2021[code]
    open_map(watched, f"{live_server}/maps/eligibility")
    choose_layer(watched, "10% most deprived areas")
    watched.show(lon, lat, 15)
    layer = "grant-eligibility:example-most-deprived-10pct"
    expected_colour = QUALIFIES_COLOUR if decile == 1 else NOT_QUALIFYING_COLOUR
    assert watched.colour_at(layer, lon, lat) == expected_colour
    clicked = watched.click_map(lon, lat)
    assert popup_lsoa(watched) == {"code": code, "imd": str(decile), "edition": "IoD2025"}
    today = datetime.now(UTC).date().isoformat()
    open_ids = {p["id"] for p in httpx.get(f"{live_server}/programmes?open_on={today}").json()}
    answers = httpx.get(
        f"{live_server}/eligibility", params={"lon": clicked["lon"], "lat": clicked["lat"]}
    ).json()["answers"]
    items = watched.page.locator(f"{POPUP} .platoons-programmes li")
    shown = {
        items.nth(i).get_attribute("data-programme"): (
            items.nth(i).get_attribute("data-eligible"),
            items.nth(i).locator(".platoons-explanation").inner_text(),
        )
        for i in range(items.count())
    }
    assert set(shown) == open_ids and set(example_programmes) <= open_ids
    for answer in answers:
        verdict = "true" if answer["eligible"] else "false"
        assert shown[answer["programme"]["id"]] == (verdict, answer["explanation"])
    # Independently of the service: the 10% programme takes exactly the decile-1 LSOAs.
    assert shown["example-most-deprived-10pct"][0] == ("true" if decile == 1 else "false")
    assert watched.errors == [] and watched.off_host(live_server) == []
    watched.screenshot(f"eligibility-click-decile-{decile}")


def search(watched: WatchedPage, text: str) -> str:
    """Type into the search box, submit, and return the status once the search ends."""
    searches = watched.evaluate("() => window.PlatoonsMaps.searches")
    box = watched.page.locator(".platoons-search input")
    box.fill(text)
    box.press("Enter")
    watched.page.wait_for_function(
        "(n) => window.PlatoonsMaps.searches > n && "
        "document.querySelector('.platoons-search-status').textContent !== 'Searching…'",
        arg=searches,
    )
    return watched.page.inner_text(".platoons-search-status")


def in_view(watched: WatchedPage, points: list[tuple[float, float]]) -> bool:
    return bool(
        watched.evaluate(
            "(points) => points.every(([lon, lat]) => "
            "window.PlatoonsMaps.map.getBounds().contains([lat, lon]))",
            points,
        )
    )


def test_search_zooms_to_codes_and_postcodes(
    watched: WatchedPage, live_server: str, example_programmes: list[str]
) -> None:
    open_map(watched, f"{live_server}/maps/deprivation")
    blackpool = [
        POINTS_2021[c] for c in LOOKUP_2021.index[LOOKUP_2021["ltla24_code"] == "E06000009"]
    ]
    assert (
        not in_view(watched, blackpool)
        or watched.evaluate("() => window.PlatoonsMaps.map.getZoom()") < 9
    )
    assert "Blackpool (E06000009)" in search(watched, "e06000009")
    assert in_view(watched, blackpool)
    assert watched.evaluate("() => window.PlatoonsMaps.map.getZoom()") >= 10

    assert "(E01006112)" in search(watched, "E01006112")
    assert in_view(watched, [POINTS_2021["E01006112"]])
    assert watched.evaluate("() => window.PlatoonsMaps.map.getZoom()") >= 14

    row = POSTCODES.iloc[0]
    status = search(watched, str(row["postcode"]).lower())
    assert str(row["postcode"]) in status and f"({row['lsoa_code']})" in status
    assert in_view(watched, [(float(row["lon"]), float(row["lat"]))])
    watched.screenshot("search-postcode")
    assert watched.errors == [] and watched.off_host(live_server) == []


def test_search_says_what_it_cannot_find(watched: WatchedPage, live_server: str) -> None:
    open_map(watched, f"{live_server}/maps/deprivation")
    assert "E01999999" in search(watched, "E01999999")  # the service's 404 detail
    assert search(watched, "ZZ99 9ZZ")  # an unknown postcode: the service says why
    assert watched.off_host(live_server) == []


def test_export_opens_from_a_file_with_no_requests(
    watched: WatchedPage,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    settings: DatabaseSettings,
) -> None:
    monkeypatch.setenv("PLATOONS_DATABASE_URL", settings.dsn)
    out = tmp_path / "trafford.html"
    result = off_the_browser_thread(
        lambda: CliRunner().invoke(cli, ["export-map", "--lad", "E08000009", "--out", str(out)])
    )
    assert result.exit_code == 0, result.output
    url = out.resolve().as_uri()
    trafford = [str(c) for c in LOOKUP_2021.index[LOOKUP_2021["ltla24_code"] == "E08000009"]]

    watched.page.goto(url)
    watched.page.wait_for_function("() => window.PlatoonsMaps && window.PlatoonsMaps.map")
    assert watched.errors == []
    assert watched.requests == [url]  # the file itself, nothing else (no server, no network)
    drawn = watched.evaluate("() => window.PlatoonsMaps.layers['lsoa-iod2025'].visibleCodes()")
    assert drawn == sorted(trafford)

    code = "E01006112"
    lon, lat = POINTS_2021[code]
    watched.show(lon, lat, 15)
    watched.click_map(lon, lat)
    decile = int(IOD2025.loc[code, "IMD_decile"])
    assert popup_lsoa(watched) == {"code": code, "imd": str(decile), "edition": "IoD2025"}
    assert "Trafford 001D (E01006112)" in search(watched, "trafford 001d")
    watched.screenshot("export-trafford")
    assert watched.errors == [] and watched.requests == [url]
