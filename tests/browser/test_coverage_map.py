"""The coverage map in headless chromium, against the demo data and registered groups.

Two groups and an organiser are registered through the project's own functions
(:mod:`tests.browser.coverage_data`). Expected coverage comes from outside the service: an LSOA
inside the active group's area (a union of whole LSOAs) has all its adults covered, its adults
are the mid-2019 estimate's 18-and-over columns, and the H3 cell under a point is the ``h3``
library's.
"""

from __future__ import annotations

from collections.abc import Iterator

import h3
import httpx
import psycopg
import pytest

from app.maps import COVERAGE_BREAKS, H3_RESOLUTION_FROM_ZOOM
from config.settings import DatabaseSettings
from tests.browser.conftest import WatchedPage, off_the_browser_thread
from tests.browser.coverage_data import (
    CoverageExample,
    adults_by_lsoa,
    record_coverage_example,
)
from tests.utils import factories, figures, sources

POINTS_2021 = sources.points_on_surface(sources.LSOA21_BOUNDARIES, "lsoa21_code")
IOD2025 = sources.csv(sources.IOD2025).set_index("lsoa21_code")
ADULTS = adults_by_lsoa()
POPUP = ".leaflet-popup-content"
LAYER = "coverage-lsoa"


def coverage_colour(share: float) -> str:
    """The colour of a covered share, as the page's breaks give it."""
    return next(colour for upper, colour, _ in COVERAGE_BREAKS if share <= upper)


@pytest.fixture(scope="module")
def example(settings: DatabaseSettings) -> Iterator[CoverageExample]:
    """The groups and organiser (registered before the browser opens its event loop)."""
    made = factories.Made()
    yield off_the_browser_thread(lambda: record_coverage_example(settings.dsn, made))
    with psycopg.connect(settings.dsn, autocommit=True) as conn:
        made.drop(conn)


def open_coverage_map(watched: WatchedPage, live_server: str) -> None:
    watched.page.goto(f"{live_server}/maps/coverage")
    watched.settle()


def choose(watched: WatchedPage, label: str) -> None:
    watched.page.locator(".leaflet-control-layers label", has_text=label).click()
    watched.settle()


def popup_coverage(watched: WatchedPage) -> dict[str, str]:
    return dict(
        watched.evaluate(
            "() => ({...window.PlatoonsMaps.lastPopup.querySelector('.platoons-coverage').dataset})"
        )
    )


def popup_groups(watched: WatchedPage) -> dict[str, str]:
    """Each group the popup lists: reference -> 'true' if active."""
    return dict(
        watched.evaluate(
            "() => Object.fromEntries([...window.PlatoonsMaps.lastPopup"
            ".querySelectorAll('.platoons-groups-list li')]"
            ".map((li) => [li.dataset.reference, li.dataset.active]))"
        )
    )


def test_coverage_page_loads_from_its_own_host_without_errors(
    watched: WatchedPage, live_server: str, example: CoverageExample
) -> None:
    open_coverage_map(watched, live_server)
    watched.assert_clean_and_tiled_from(live_server, LAYER)
    page = watched.page
    assert page.locator(".leaflet-control-layers-base input").count() == 2
    overlays = page.inner_text(".leaflet-control-layers-overlays")
    for name in ("Cold spots", "groups' areas", "organisers' patches", "District boundaries"):
        assert name in overlays
    legend = page.inner_text(".platoons-legend")
    assert "by LSOA" in legend and "Cold spots" in legend and "groups' areas" in legend
    assert "organisers" not in legend  # that overlay starts hidden
    assert page.locator(".platoons-legend li").count() >= len(COVERAGE_BREAKS) + 3
    assert page.locator(".platoons-search input").count() == 1
    credits = page.inner_text(".leaflet-control-attribution")
    assert "Open Government Licence v3.0" in credits and "Crown copyright" in credits
    watched.screenshot("coverage-page")


@pytest.mark.parametrize("where", ["covered", "shared", "patch_only"])
def test_clicking_an_lsoa_shows_the_adults_covered_and_the_groups_there(
    watched: WatchedPage, live_server: str, example: CoverageExample, where: str
) -> None:
    code = getattr(example, where)
    lon, lat = POINTS_2021[code]
    open_coverage_map(watched, live_server)
    watched.show(lon, lat, 14)
    clicked = watched.click_map(lon, lat)
    shown = popup_coverage(watched)
    groups = popup_groups(watched)
    assert shown["lsoaCode"] == code
    # The adults: the mid-2019 estimate for the unchanged LSOA, from the source file.
    assert float(shown["adults"]) == pytest.approx(float(ADULTS[code]))
    if where in ("covered", "shared"):
        # Wholly inside the active group's area: every adult is covered, whatever else is.
        assert float(shown["coveredShare"]) == pytest.approx(1.0, abs=1e-6)
        assert float(shown["adultsCovered"]) == pytest.approx(float(ADULTS[code]))
        assert float(shown["adultsUncovered"]) == pytest.approx(0.0, abs=1e-6)
        assert shown["coldSpot"] == "false"
        assert groups[example.active_group] == "true"
    if where == "shared":
        assert groups[example.inactive_group] == "false"  # listed, never active
    if where == "patch_only":
        assert example.active_group not in groups and example.inactive_group not in groups
    # The popup says what the service says, and the fill is the share's colour.
    answer = httpx.get(
        f"{live_server}/coverage/at", params={"lon": clicked["lon"], "lat": clicked["lat"]}
    ).json()
    assert shown["lsoaCode"] == answer["code"]
    assert float(shown["coveredShare"]) == pytest.approx(answer["covered_share"])
    assert groups == {g["reference"]: str(g["active"]).lower() for g in answer["groups"]}
    decile = int(IOD2025.loc[code, "IMD_decile"])
    assert shown["coldSpot"] == str(decile <= 2 and answer["covered_share"] < 0.5).lower()
    assert watched.colour_at(LAYER, lon, lat) == coverage_colour(answer["covered_share"])
    text = watched.page.inner_text(POPUP)
    assert "leader@example.org" not in text and "Example Leader" not in text  # public only
    assert watched.errors == [] and watched.off_host(live_server) == []
    watched.screenshot(f"coverage-click-{where}")


def test_the_h3_layer_follows_the_zoom(
    watched: WatchedPage, live_server: str, example: CoverageExample
) -> None:
    lon, lat = POINTS_2021[example.covered]
    open_coverage_map(watched, live_server)
    choose(watched, "H3 grid")
    on_map = "(key) => Boolean(window.PlatoonsMaps.layers[key]._map)"
    assert watched.evaluate(on_map, "coverage-h3") and not watched.evaluate(on_map, LAYER)
    assert "H3 cells" in watched.page.inner_text(".platoons-legend")
    # A zoom inside each resolution's band (from 8: lower zooms' tiles carry no cell index).
    for zoom, resolution in ((8, 6), (10, 7), (12, 8), (14, 9)):
        band = [r for first, r in H3_RESOLUTION_FROM_ZOOM if first <= zoom][-1]
        assert band == resolution
        watched.show(lon, lat, zoom)
        collection = f"coverage-h3-r{resolution}"
        assert any(f"/collections/{collection}/tiles/" in u for u in watched.requests)
        drawn = watched.evaluate("() => window.PlatoonsMaps.layers['coverage-h3'].visibleCodes()")
        # The cell under the point, by the h3 library, is among the cells drawn.
        assert h3.latlng_to_cell(lat, lon, resolution) in drawn, (zoom, resolution)
        watched.screenshot(f"coverage-h3-r{resolution}")
    assert watched.errors == [] and watched.off_host(live_server) == []


def test_the_overlays_come_and_go(
    watched: WatchedPage, live_server: str, example: CoverageExample
) -> None:
    lon, lat = POINTS_2021[example.covered]
    open_coverage_map(watched, live_server)
    watched.show(lon, lat, 13)
    visible = "(key) => window.PlatoonsMaps.layers[key].visibleCodes()"
    on_map = "(key) => Boolean(window.PlatoonsMaps.layers[key]._map)"
    assert example.active_group in watched.evaluate(visible, "neighbourhood-groups")
    assert not watched.evaluate(on_map, "community-organisers")

    choose(watched, "organisers' patches")
    assert example.organiser in watched.evaluate(visible, "community-organisers")
    assert "organisers' patches" in watched.page.inner_text(".platoons-legend")
    watched.screenshot("coverage-overlays-organisers")

    choose(watched, "groups' areas")
    assert not watched.evaluate(on_map, "neighbourhood-groups")
    assert "groups' areas" not in watched.page.inner_text(".platoons-legend")
    choose(watched, "Cold spots")
    assert not watched.evaluate(on_map, "coverage-cold-spots")
    watched.screenshot("coverage-overlays-off")
    choose(watched, "groups' areas")
    assert example.active_group in watched.evaluate(visible, "neighbourhood-groups")
    assert watched.errors == []


def test_the_popup_shows_the_figures_as_the_service_rounds_them(
    watched: WatchedPage, live_server: str, settings: DatabaseSettings, example: CoverageExample
) -> None:
    # An LSOA whose adults, apportioned from 2011 LSOAs, are not a whole tenth at full precision.
    with psycopg.connect(settings.dsn) as conn:
        code, adults = conn.execute(
            "SELECT code, adults FROM lsoa_coverage"
            " WHERE adults::numeric <> round(adults::numeric, 1) ORDER BY code LIMIT 1"
        ).fetchone() or (None, None)
    assert code is not None and figures.decimals(adults) > figures.ADULTS
    lon, lat = POINTS_2021[code]
    open_coverage_map(watched, live_server)
    watched.show(lon, lat, 14)
    watched.click_map(lon, lat)
    shown = popup_coverage(watched)
    assert shown["lsoaCode"] == code
    expected = figures.rounded(adults, figures.ADULTS)  # README, Figures: adults to 0.1
    assert float(shown["adults"]) == expected
    facts = dict(
        watched.evaluate(
            "() => [...window.PlatoonsMaps.lastPopup.querySelectorAll('.platoons-facts tr')]"
            ".map((tr) => [tr.cells[0].textContent, tr.cells[1].textContent])"
        )
    )
    assert facts["Adults (18+)"] == f"{expected:,.1f}".removesuffix(".0")
    share = float(shown["coveredShare"])
    assert figures.decimals(share) <= figures.SHARE
    percent = f"{share * 100:,.2f}".rstrip("0").rstrip(".")
    assert facts["Covered"].endswith(f"({percent}%)")
    assert watched.errors == []


# The layer list's entries that something else stands over at their centre, and the gap between
# the list's foot and the legend's top (negative: they overlap).
LAYER_LIST_COVERED = """() => {
  const legend = document.querySelector('.platoons-legend').getBoundingClientRect();
  const list = document.querySelector('.leaflet-control-layers').getBoundingClientRect();
  const covered = [...document.querySelectorAll('.leaflet-control-layers label')].filter((l) => {
    const r = l.getBoundingClientRect();
    return !l.contains(document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2));
  }).map((l) => l.innerText.trim());
  return {covered, gap: legend.top - list.bottom};
}"""


@pytest.mark.parametrize("height", [800, 600, 480])
def test_the_legend_leaves_every_entry_of_the_layer_list_in_view(
    watched: WatchedPage, live_server: str, example: CoverageExample, height: int
) -> None:
    """However high the window, the legend stands below the layer list and scrolls: on the demo
    at 1280x800 it used to cover the list's last two entries, which could not be clicked. Each
    overlay shown changes the legend (and the attribution under it) and it is fitted again;
    with every overlay shown, the legend is at its tallest."""
    watched.page.set_viewport_size({"width": 1280, "height": height})
    open_coverage_map(watched, live_server)
    before = watched.evaluate(LAYER_LIST_COVERED)
    assert before["covered"] == [] and before["gap"] >= 0, before
    overlays = watched.page.locator(".leaflet-control-layers-overlays label")
    hidden = "(labels) => labels.findIndex((l) => !l.querySelector('input').checked)"
    assert overlays.evaluate_all(hidden) >= 0  # one overlay at least starts hidden
    while (first := overlays.evaluate_all(hidden)) >= 0:
        shown = overlays.nth(first).inner_text()
        overlays.nth(first).click()  # times out if something stands over the entry
        watched.settle()
        after = watched.evaluate(LAYER_LIST_COVERED)
        assert after["covered"] == [] and after["gap"] >= 0, (shown, after)
    assert watched.errors == []
