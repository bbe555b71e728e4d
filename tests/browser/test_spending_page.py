"""The spending page in headless chromium over Trafford's real payments: offline, charts, lines."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest

from config.settings import DatabaseSettings
from tests.browser.conftest import WatchedPage
from tests.utils import spending as trafford

READY = "() => document.body.dataset.ready"


@pytest.fixture(scope="module")
def loaded(settings: DatabaseSettings) -> None:
    trafford.load_trafford(settings.dsn)


def open_page(watched: WatchedPage, live_server: str) -> None:
    watched.page.goto(f"{live_server}/spending")
    watched.page.wait_for_function(READY)


def test_the_page_draws_totals_bars_and_months_from_its_own_host(loaded, watched, live_server):
    open_page(watched, live_server)
    api = httpx.get(f"{live_server}/spending/totals", params={"by": "beneficiary", "limit": 20})
    expected = api.json()["totals"]
    rows = watched.page.locator("#totals tbody tr")
    assert rows.count() == len(expected) == 20
    assert [rows.nth(i).get_attribute("data-key") for i in range(3)] == [
        t["key"] for t in expected[:3]
    ]
    assert watched.page.locator("#bars rect.bar").count() == 20
    months = httpx.get(
        f"{live_server}/spending/totals", params={"by": "month", "order": "key", "limit": 1000}
    ).json()["totals"]
    assert watched.page.locator("#months rect.bar").count() == len(months) >= 14
    assert watched.off_host(live_server) == []
    assert watched.errors == []
    watched.screenshot("spending-page")


def test_a_click_on_a_bar_lists_the_lines_adding_up_to_it(loaded, watched, live_server):
    open_page(watched, live_server)
    bar = watched.page.locator("#bars rect.bar").nth(1)
    key = bar.get_attribute("data-key")
    bar.click()
    watched.page.wait_for_function(
        "(key) => document.getElementById('lines-section').dataset.ready === key", arg=key
    )
    shown = watched.evaluate("() => window.PlatoonsSpending.shown")
    total = httpx.get(
        f"{live_server}/spending/totals", params={"by": "beneficiary", "limit": 20}
    ).json()["totals"][1]
    assert shown["key"] == total["key"]
    assert (shown["matched"], Decimal(shown["amount"])) == (
        total["lines"],
        Decimal(total["amount"]),
    )
    assert watched.page.locator("#lines tbody tr").count() == min(50, total["lines"])
    assert watched.errors == []


def test_a_month_bar_and_the_search_box_narrow_what_is_shown(loaded, watched, live_server):
    open_page(watched, live_server)
    month = watched.page.locator("#months rect.bar").first
    key = month.get_attribute("data-key")
    month.click()
    watched.page.wait_for_function(
        "(key) => document.getElementById('lines-section').dataset.ready === key", arg=key
    )
    dates = watched.page.locator("#lines tbody tr td:first-child").all_inner_texts()
    assert dates and all(d.startswith(key) for d in dates)

    watched.evaluate("() => { document.body.dataset.ready = ''; }")
    watched.page.fill("#search", "cherish")
    watched.page.click("#apply")
    watched.page.wait_for_function(READY)
    keys = watched.page.locator("#totals tbody tr").evaluate_all(
        "(rows) => rows.map((r) => r.dataset.key)"
    )
    assert keys and all("cherish" in k for k in keys)
    assert "beneficiary=cherish" in (watched.page.get_attribute("#csv", "href") or "")
    assert watched.errors == []


def test_a_bad_filter_shows_the_problem_naming_the_parameter(loaded, watched, live_server):
    open_page(watched, live_server)
    watched.evaluate("() => { document.body.dataset.ready = ''; }")
    watched.page.fill("#from", "2026-05-01")
    watched.page.fill("#to", "2025-04-01")
    watched.page.click("#apply")
    watched.page.wait_for_function(READY)
    problem = watched.page.locator("#problem")
    assert problem.is_visible()
    assert problem.inner_text().startswith("from:")


def test_the_need_chart_shows_both_sources_side_by_side(loaded, watched, live_server):
    open_page(watched, live_server)
    watched.page.wait_for_function("() => document.getElementById('need').dataset.ready")
    body = httpx.get(f"{live_server}/grants/need").json()
    for source in body["sources"]:
        bars = watched.page.locator(f"#need-chart rect.need.{source['source']}")
        assert bars.count() == len(source["by_decile"]) == 10
        rows = watched.page.locator(f"#need-districts tbody tr[data-source={source['source']}]")
        assert rows.count() == len(source["by_district"])
    assert watched.errors == []
