"""The beat-meeting pack in headless chromium: offline, complete, and printable on A4."""

from __future__ import annotations

import re

import httpx

from tests.browser.conftest import WatchedPage

TRAFFORD = "E08000009"
A4_POINTS = (595.0, 842.0)  # 210 x 297 mm at 72 points an inch


def _open(watched: WatchedPage, base: str, query: str) -> None:
    watched.page.goto(f"{base}/crime/pack?{query}")
    watched.page.wait_for_function("() => window.crimePack && window.crimePack.ready")


def test_the_pack_shows_the_area_offline_and_prints_on_a4(
    watched: WatchedPage, live_server: str, crime_loaded: int
) -> None:
    _open(watched, live_server, f"area={TRAFFORD}&months=6&to=2019-01")
    page = watched.page
    assert watched.errors == [], watched.errors  # CSP refusals would be console errors
    assert watched.off_host(live_server) == []
    summary = httpx.get(
        f"{live_server}/crime/summary",
        params={"area": TRAFFORD, "from": "2018-08", "to": "2019-01"},
    ).json()
    assert page.inner_text("h1") == "Street-level crime: Trafford"
    assert page.inner_text("#total") == str(summary["total"])
    headers = page.locator("#month-table thead th").all_inner_texts()
    assert headers == ["Type", "2018-08", "2018-09", "2018-10", "2018-11", "2018-12", "2019-01",
                       "Total"]  # fmt: skip
    burglary = page.locator("#month-table tbody tr").first.locator("td").all_inner_texts()
    assert burglary == ["Burglary", *(str(m["total"]) for m in summary["by_month"]),
                        str(summary["total"])]  # fmt: skip
    assert page.inner_text("#verdict").startswith(summary["year_on_year"]["verdict"])
    # The map drew the area's outline and a marker per map point, with no background tiles.
    markers = page.locator("#map path.leaflet-interactive").count()
    assert markers == page.evaluate("() => window.crimePack.points") + 1 > 100
    assert page.locator("#map .leaflet-tile").count() == 0
    assert page.locator("svg.trend").count() == 1  # one main type in this source
    assert "anonymised" in page.inner_text(".caveats") or "map points" in page.inner_text(
        ".caveats"
    )
    assert "no location descriptions" in page.inner_text("#top-locations")

    pdf = page.pdf(format="A4", print_background=True)
    assert pdf.startswith(b"%PDF-")
    boxes = re.findall(rb"/MediaBox \[0 0 ([0-9.]+) ([0-9.]+)\]", pdf)
    assert boxes
    for width, height in boxes:  # chromium rounds A4 to whole hundredths of an inch
        assert abs(float(width) - A4_POINTS[0]) < 2 and abs(float(height) - A4_POINTS[1]) < 2
    pages = len(re.findall(rb"/Type /Page\b", pdf))
    assert 1 <= pages <= 3


def test_months_without_data_read_no_data_in_the_pack(
    watched: WatchedPage, live_server: str, crime_loaded: int
) -> None:
    _open(watched, live_server, f"area={TRAFFORD}&months=6&to=2019-04")
    cells = watched.page.locator("#month-table tbody tr").first.locator("td").all_inner_texts()
    assert cells[4:7] == ["no data", "no data", "no data"]
    assert "no data for 2019-02, 2019-03, 2019-04" in watched.page.inner_text(".facts")
    assert watched.errors == []


def test_the_pack_of_an_lsoa_with_police_uk_locations(
    watched: WatchedPage, live_server: str, crime_loaded: int
) -> None:
    """A Merseyside LSOA (outside the demo's boundaries): its top map points are listed."""
    _open(watched, live_server, "area=E01006493&months=12&to=2020-05")
    rows = watched.page.locator("#top-locations tbody tr").all_inner_texts()
    assert rows and rows[0].startswith("On or near ")
    assert watched.errors == []
