"""The Content-Security-Policy does not break the HTML pages: Chromium reports no violation.

Debian's chromium (never one from ``playwright install``), headless, against the real server.
Every CSP violation the browser raises on a page is collected through the standard
``securitypolicyviolation`` event. The API docs pages load their bundles from a CDN, which is
unreachable here: that is a network failure, not a violation, and is not counted.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, sync_playwright

from tests.security.conftest import AREA, Served
from tests.utils.browser import launch_chromium

PAGES = [
    "/?f=html",
    "/conformance?f=html",
    "/collections?f=html",
    "/collections/lsoa-iod2025?f=html",
    "/collections/lsoa-iod2025/queryables?f=html",
    "/collections/lsoa-iod2025/items?f=html&limit=5",
    f"/collections/lsoa-iod2025/items/{AREA}?f=html",
    "/docs",
    "/redoc",
]
WATCH = """
window.__violations = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__violations.push(`${e.violatedDirective} ${e.blockedURI} line ${e.lineNumber}`);
});
"""


@pytest.fixture(scope="module")
def browser(logged_server: Served) -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = launch_chromium(playwright)
        try:
            yield launched
        finally:
            launched.close()


def test_no_page_violates_its_content_security_policy(
    browser: Browser, logged_server: Served
) -> None:
    context = browser.new_context()
    context.add_init_script(WATCH)
    # Offline: the CDN is refused at once instead of timing out.
    context.route("https://**/*", lambda route: route.abort())
    page = context.new_page()
    found = {}
    styled = 0
    for path in PAGES:
        response = page.goto(logged_server.url + path, wait_until="load")
        assert response is not None and response.status == 200, path
        violations = page.evaluate("window.__violations")
        if violations:
            found[path] = violations
        # The inline stylesheet applied (a blocked one leaves the default serif font).
        if path.endswith("f=html") or "f=html&" in path:
            family = page.evaluate("getComputedStyle(document.body).fontFamily")
            styled += "system-ui" in family
    context.close()
    assert not found, found
    assert styled == sum("f=html" in p for p in PAGES)
