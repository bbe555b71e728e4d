"""Grant money against need on the deprivation map, in headless chromium: the layer of each
source paints the districts by pounds per resident, a click and the chart by decile give the
figures ``GET /grants/need`` gives, and the imported files are credited."""

from __future__ import annotations

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

TRAFFORD = "E08000009"
TRAFFORD_GRANTS = (
    Path(__file__).resolve().parents[2]
    / "data"
    / "national"
    / "grants"
    / "trafford_council_voluntary_sector_grants_360giving.csv"
)
POINTS_2021 = sources.points_on_surface(sources.LSOA21_BOUNDARIES, "lsoa21_code")
LOOKUP_2021 = sources.csv(sources.LOOKUP_2021).set_index("lsoa21_code")


@pytest.fixture(scope="module")
def trafford_grants(settings: DatabaseSettings) -> None:
    """Trafford's 555 voluntary sector grants imported (unchanged if already there)."""

    def load() -> None:
        with psycopg.connect(settings.dsn) as conn:
            giving360_import.import_grants(conn, TRAFFORD_GRANTS)

    off_the_browser_thread(load)


def money_colour(pounds_per_resident: str | None) -> str:
    """The layer's colour for a district's figure (pale grey where none was placed)."""
    if pounds_per_resident is None:
        return GRANT_MONEY_NONE
    value = float(pounds_per_resident)
    return next(colour for upper, colour, _ in GRANT_MONEY_BREAKS if value <= upper)


def by_district(need: dict, source: str) -> dict[str, dict]:
    found = next(s for s in need["sources"] if s["source"] == source)
    return {d["code"]: d for d in found["by_district"]}


def show_source(watched: WatchedPage, source: str, label: str) -> str:
    """Choose a source's layer and wait for its figures; its key in PlatoonsMaps.layers."""
    watched.page.locator(".leaflet-control-layers label", has_text=label).click()
    key = watched.evaluate(
        "(source) => Object.keys(window.PlatoonsMaps.layers)"
        ".find((k) => k.endsWith(':grants:' + source))",
        source,
    )
    watched.page.wait_for_function(
        "(key) => window.PlatoonsMaps.layers[key].options.grantMoney.loaded", arg=key
    )
    watched.settle()
    return str(key)


def test_each_source_paints_districts_and_a_click_gives_the_need_figure(
    watched: WatchedPage, live_server: str, trafford_grants: None
) -> None:
    code = sorted(c for c in POINTS_2021 if LOOKUP_2021.loc[c, "ltla24_code"] == TRAFFORD)[0]
    lon, lat = POINTS_2021[code]
    need = httpx.get(f"{live_server}/grants/need", params={"edition": "IoD2025"}).json()
    imported = by_district(need, "imported")
    assert Decimal(imported[TRAFFORD]["amount"]) > 0  # the imported grants reached Trafford

    watched.page.goto(f"{live_server}/maps/deprivation")
    watched.settle()
    watched.show(lon, lat, 11)
    for source, label in (
        ("imported", "by district: grants by other funders"),
        ("platoons", "by district: grants platoons approved"),
    ):
        key = show_source(watched, source, label)
        figures = by_district(need, source)
        figure = figures.get(TRAFFORD, {}).get("pounds_per_resident")
        # The layer paints Trafford by its figure, and only its own source's figure.
        assert watched.colour_at(key, lon, lat) == money_colour(figure)
        assert SOURCES[source] in watched.page.inner_text(".platoons-legend h2")
        watched.click_map(lon, lat)
        block = watched.evaluate(
            "() => ({...window.PlatoonsMaps.lastPopup"
            ".querySelector('.platoons-grant-money').dataset})"
        )
        assert block["grantSource"] == source and block["district"] == TRAFFORD
        assert block["poundsPerResident"] == (figure or "")
        assert block["amount"] == figures.get(TRAFFORD, {}).get("amount", "0")
        watched.screenshot(f"grant-money-{source}")
        watched.evaluate("() => window.PlatoonsMaps.map.closePopup()")

    # The chart by IMD decile: both sources side by side, each bar the answer's figure.
    bars = watched.page.locator(".platoons-grant-chart rect.platoons-grant-bar")
    shown = {
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
    assert shown == expected and len(shown) == 20
    chart = watched.page.inner_text(".platoons-grant-chart")
    # Trafford's grants were placed on the whole district: said, not spread over deciles.
    assert "no single decile" in chart
    credits = watched.page.inner_text(".leaflet-control-attribution")
    assert "Grants Platoons approved or paid" in credits

    show_source(watched, "imported", "by district: grants by other funders")
    credits = watched.page.inner_text(".leaflet-control-attribution")
    assert TRAFFORD_GRANTS.name in credits and "licence" in credits
    assert "Open Government Licence v3.0" in credits  # the boundaries and residents
    assert watched.errors == [] and watched.off_host(live_server) == []
