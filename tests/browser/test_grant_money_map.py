"""Grant money against need on the deprivation map, in headless chromium: the layer of each
level and source paints districts or LSOAs by pounds per resident, a click and the chart by
decile give the figures ``GET /grants/need`` gives, and the imported files are credited."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import httpx
import psycopg
import pytest

from app.maps import GRANT_MONEY_BREAKS, GRANT_MONEY_NONE
from config.settings import DatabaseSettings
from data import giving360_import
from geo.grants.need import SOURCES
from tests.browser.conftest import WatchedPage, off_the_browser_thread
from tests.utils import sources

REPO = Path(__file__).resolve().parents[2]
TRAFFORD = "E08000009"
TRAFFORD_GRANTS = (
    REPO / "data" / "national" / "grants" / "trafford_council_voluntary_sector_grants_360giving.csv"
)
# 360Giving's loader test data (grants placed on LSOAs by postcode): used here to test the LSOA
# layer and the chart, never to show figures; removed again after this module.
TESTDATA = REPO / "tests" / "fixtures" / "360giving" / "TESTDATA_power_to_change_grantnav.json.gz"
TESTDATA_SOURCE = "TESTDATA-power-to-change-map"
POINTS_2021 = sources.points_on_surface(sources.LSOA21_BOUNDARIES, "lsoa21_code")
LOOKUP_2021 = sources.csv(sources.LOOKUP_2021).set_index("lsoa21_code")
LABELS = {
    ("lad", "imported"): "by district: grants by other funders",
    ("lad", "platoons"): "by district: grants platoons approved",
    ("lsoa", "imported"): "by LSOA: grants by other funders",
    ("lsoa", "platoons"): "by LSOA: grants platoons approved",
}


@pytest.fixture(scope="module")
def grants_imported(settings: DatabaseSettings) -> Iterator[None]:
    """Trafford's 555 grants (placed on the district) and the test data (placed on LSOAs)."""

    def load() -> None:
        with psycopg.connect(settings.dsn) as conn:
            giving360_import.import_grants(conn, TRAFFORD_GRANTS)
            giving360_import.import_grants(conn, TESTDATA, TESTDATA_SOURCE)

    def remove() -> None:
        with psycopg.connect(settings.dsn, autocommit=True) as conn:
            conn.execute("DELETE FROM grant_import WHERE source_name = %s", (TESTDATA_SOURCE,))

    off_the_browser_thread(load)
    yield
    off_the_browser_thread(remove)


def money_colour(pounds_per_resident: str | None) -> str:
    """The layer's colour for an area's figure (pale grey where none was placed)."""
    if pounds_per_resident is None:
        return GRANT_MONEY_NONE
    value = float(pounds_per_resident)
    return next(colour for upper, colour, _ in GRANT_MONEY_BREAKS if value <= upper)


def figures(need: dict, level: str, source: str) -> dict[str, dict]:
    found = next(s for s in need["sources"] if s["source"] == source)
    return {d["code"]: d for d in found["by_district" if level == "lad" else "by_lsoa"]}


def show_layer(watched: WatchedPage, level: str, source: str) -> str:
    """Choose a level's and source's layer, wait for its figures; its key in the registry."""
    watched.page.locator(".leaflet-control-layers label", has_text=LABELS[level, source]).click()
    key = watched.evaluate(
        "([level, source]) => Object.keys(window.PlatoonsMaps.layers).find((k) => "
        "k.startsWith(level + '-') && k.endsWith(':grants:' + source))",
        [level, source],
    )
    watched.page.wait_for_function(
        "(key) => window.PlatoonsMaps.layers[key].options.grantMoney.loaded", arg=key
    )
    watched.settle()
    return str(key)


def clicked_figure(watched: WatchedPage, lon: float, lat: float) -> dict[str, str]:
    """Click the map; the grant money block's data attributes."""
    watched.evaluate("() => window.PlatoonsMaps.map.closePopup()")
    watched.click_map(lon, lat)
    return dict(
        watched.evaluate(
            "() => ({...window.PlatoonsMaps.lastPopup"
            ".querySelector('.platoons-grant-money').dataset})"
        )
    )


def test_each_level_and_source_paints_and_a_click_gives_the_need_figure(
    watched: WatchedPage, live_server: str, grants_imported: None
) -> None:
    need = httpx.get(f"{live_server}/grants/need", params={"edition": "IoD2025"}).json()
    funded = figures(need, "lsoa", "imported")
    # A Trafford LSOA the test data's money reached (by postcode), and one it did not.
    lsoa = sorted(c for c in funded if c in POINTS_2021 and funded[c]["lad_code"] == TRAFFORD)[0]
    unfunded = sorted(
        c for c in POINTS_2021 if LOOKUP_2021.loc[c, "ltla24_code"] == TRAFFORD and c not in funded
    )[0]
    assert Decimal(figures(need, "lad", "imported")[TRAFFORD]["amount"]) > 0
    watched.page.goto(f"{live_server}/maps/deprivation")
    watched.settle()
    for level in ("lad", "lsoa"):
        for place in (lsoa, unfunded):
            lon, lat = POINTS_2021[place]
            watched.show(lon, lat, 11 if level == "lad" else 14)
            area = place if level == "lsoa" else str(LOOKUP_2021.loc[place, "ltla24_code"])
            for source in ("imported", "platoons"):
                key = show_layer(watched, level, source)
                shown = figures(need, level, source).get(area, {})
                figure = shown.get("pounds_per_resident")
                # The layer paints the area by its figure, and only its own source's.
                assert watched.colour_at(key, lon, lat) == money_colour(figure), (key, area)
                assert SOURCES[source] in watched.page.inner_text(".platoons-legend h2")
                block = clicked_figure(watched, lon, lat)
                assert (block["grantSource"], block["level"], block["code"]) == (
                    source,
                    level,
                    area,
                )
                assert block["poundsPerResident"] == (figure or "")
                assert block["amount"] == shown.get("amount", "0")
    assert money_colour(funded[lsoa]["pounds_per_resident"]) != GRANT_MONEY_NONE
    watched.screenshot("grant-money-lsoa")

    # The chart by IMD decile: both sources side by side, each bar the answer's figure.
    bars = watched.page.locator(".platoons-grant-chart rect.platoons-grant-bar")
    shown_bars = {
        (bar.get_attribute("data-source"), int(bar.get_attribute("data-decile") or 0)): (
            bar.get_attribute("data-pounds-per-resident")
        )
        for bar in (bars.nth(i) for i in range(bars.count()))
    }
    expected = {
        (s["source"], d["decile"]): d["pounds_per_resident"]
        for s in need["sources"]
        for d in s["by_decile"]
    }
    assert shown_bars == expected and len(shown_bars) == 20
    assert any(Decimal(v) > 0 for (source, _), v in shown_bars.items() if source == "imported")
    chart = watched.page.inner_text(".platoons-grant-chart")
    # Trafford's grants were placed on the whole district: said, not spread over deciles.
    assert "no single decile" in chart
    credits = watched.page.inner_text(".leaflet-control-attribution")
    assert "Grants Platoons approved or paid" in credits

    show_layer(watched, "lad", "imported")
    credits = watched.page.inner_text(".leaflet-control-attribution")
    assert TRAFFORD_GRANTS.name in credits and TESTDATA_SOURCE in credits and "licence" in credits
    assert "Open Government Licence v3.0" in credits  # the boundaries and residents
    watched.screenshot("grant-money-district")
    assert watched.errors == [] and watched.off_host(live_server) == []
