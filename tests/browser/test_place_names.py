"""Place names on every map, offline: districts at first sight, wards from zoom 11, LSOAs on
hover, written as text in the page; and no request leaves the host by default."""

from __future__ import annotations

import pytest

from tests.browser.conftest import TIMEOUT_MS, WatchedPage, _origin
from tests.utils import sources

MAPS = ("deprivation", "eligibility", "assets", "coverage")
DEMO_DISTRICTS = {"Trafford", "Manchester", "Blackpool", "Wokingham"}
LOOKUP_2021 = sources.csv(sources.LOOKUP_2021)
TRAFFORD_WARDS = set(
    LOOKUP_2021.loc[LOOKUP_2021["ltla24_code"] == "E08000009", "ward24_name"].unique()
)
POINTS_2021 = sources.points_on_surface(sources.LSOA21_BOUNDARIES, "lsoa21_code")
LSOA_NAMES = LOOKUP_2021.set_index("lsoa21_code")["lsoa21_name"]
STRETFORD = (-2.3091, 53.4460)


def label_texts(watched: WatchedPage, level: str) -> list[str]:
    """The place names of one level as the page shows them (DOM text)."""
    return list(
        watched.page.locator(f".platoons-place-{level} .platoons-place-name").all_text_contents()
    )


def wait_for_labels(watched: WatchedPage, level: str) -> list[str]:
    watched.page.wait_for_selector(
        f".platoons-place-{level} .platoons-place-name", timeout=TIMEOUT_MS
    )
    return label_texts(watched, level)


@pytest.mark.parametrize("name", MAPS)
def test_first_view_paints_features_and_names_the_districts(
    live_server: str, watched: WatchedPage, name: str
) -> None:
    watched.page.goto(f"{live_server}/maps/{name}")
    watched.settle()
    drawn = watched.evaluate(
        "() => Object.values(window.PlatoonsMaps.layers).filter((l) => l._map)"
        ".reduce((n, l) => n + (l.featuresDrawn || 0), 0)"
    )
    assert drawn > 0
    districts = wait_for_labels(watched, "district")
    assert set(districts) == DEMO_DISTRICTS, districts
    # Text a browser's find and a screen reader read: not painted into a canvas.
    assert watched.page.get_by_text("Trafford", exact=True).count() >= 1
    assert watched.off_host(_origin(live_server)) == []
    assert watched.errors == []


def test_ward_names_from_zoom_11_and_lsoa_names_on_hover(
    live_server: str, watched: WatchedPage
) -> None:
    watched.page.goto(f"{live_server}/maps/deprivation")
    watched.settle()
    watched.show(*STRETFORD, 12)
    watched.page.wait_for_function(
        "() => document.querySelectorAll('.platoons-place-ward .platoons-place-name').length >= 3",
        timeout=TIMEOUT_MS,
    )
    wards = label_texts(watched, "ward")
    assert "Stretford & Humphrey Park" in wards
    assert len(set(wards) & TRAFFORD_WARDS) >= 3
    assert label_texts(watched, "district") == []  # districts give way to wards
    # Resting the pointer on an LSOA names it in a tooltip (the lookup's answer).
    code = min(c for c in POINTS_2021 if c in LSOA_NAMES and LSOA_NAMES[c].startswith("Trafford"))
    lon, lat = POINTS_2021[code]
    watched.show(lon, lat, 14)
    watched.page.mouse.move(*watched.screen_point(lon, lat))
    tooltip = watched.page.wait_for_selector(".platoons-hover-lsoa", timeout=TIMEOUT_MS)
    assert tooltip is not None
    assert tooltip.text_content() == f"{LSOA_NAMES[code]} ({code})"
    assert watched.off_host(_origin(live_server)) == []


def test_no_request_leaves_the_host_by_default(live_server: str, watched: WatchedPage) -> None:
    """Every request of every map page, zoomed and hovered, goes to the app's own host."""
    hosts: set[str] = set()
    watched.page.route(
        "**/*", lambda route: (hosts.add(_origin(route.request.url)), route.continue_())
    )
    for name in MAPS:
        watched.page.goto(f"{live_server}/maps/{name}")
        watched.settle()
        watched.show(*STRETFORD, 12)
        watched.page.mouse.move(640, 400)
        watched.page.wait_for_timeout(600)
    assert hosts == {_origin(live_server)}
    assert watched.off_host(_origin(live_server)) == []
