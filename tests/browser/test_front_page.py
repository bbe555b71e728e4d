"""The front page in Chromium: it links every map, and each link opens a map that draws."""

from __future__ import annotations

from tests.browser.conftest import WatchedPage, _origin

MAPS = {
    "Deprivation map": "/maps/deprivation",
    "Grant eligibility map": "/maps/eligibility",
    "Assets map": "/maps/assets",
    "Group coverage map": "/maps/coverage",
}


def test_the_front_page_links_every_map(live_server: str, watched: WatchedPage) -> None:
    for title, path in MAPS.items():
        watched.page.goto(f"{live_server}/")
        assert watched.page.locator(".maps img").count() == 4
        watched.page.wait_for_function(
            "() => [...document.querySelectorAll('.maps img')]"
            ".every((img) => img.complete && img.naturalWidth > 0)"
        )
        watched.page.get_by_role("link", name=title, exact=True).click()
        watched.page.wait_for_url(f"{live_server}{path}")
        watched.settle()
    assert watched.off_host(_origin(live_server)) == []
    assert watched.errors == []
