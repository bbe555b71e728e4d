"""Headless Debian chromium driven by Playwright against the live server: fixtures and helpers.

The browser is Debian's ``/usr/bin/chromium`` (installed by ``scripts/setup.sh``), never one
downloaded by ``playwright install``. Every page is watched: each request it makes, console
errors and uncaught exceptions, so tests can assert a page stayed on its own host.

Playwright's sync API runs an asyncio loop on this thread while the browser is open, so code
that calls ``asyncio.run`` (the CLI, database fixtures) must run first or on another thread
(:func:`off_the_browser_thread`), and the browser lives for one module only.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, Request, sync_playwright

from tests.app.conftest import live_server  # noqa: F401 - the real uvicorn server, reused
from tests.utils.browser import VIEWPORT, launch_chromium

T = TypeVar("T")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artefacts" / "screenshots"
TIMEOUT_MS = 20_000

# Every tile layer on the map has finished loading (and at least one tile was drawn).
MAP_SETTLED = "() => !!window.PlatoonsMaps && window.PlatoonsMaps.settled()"


@dataclass
class WatchedPage:
    """A page and everything it asked for or complained about."""

    page: Page
    requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def off_host(self, origin: str) -> list[str]:
        """Requests to anywhere but ``origin`` (scheme://host:port) and data: URLs."""
        return [u for u in self.requests if not u.startswith("data:") and _origin(u) != origin]

    def assert_clean_and_tiled_from(self, origin: str, layer: str) -> None:
        """Assert no errors, nothing fetched off ``origin``, and ``layer`` first, tiled from it."""
        assert self.errors == []
        assert self.off_host(origin) == []
        tile_requests = [u for u in self.requests if "/tiles/WebMercatorQuad/" in u]
        assert any(f"/collections/{layer}/tiles/" in u for u in tile_requests)
        assert all(u.startswith(f"{origin}/collections/") for u in tile_requests)
        assert self.evaluate("() => window.PlatoonsMaps.firstLayer") == layer

    def settle(self) -> None:
        """Wait until every tile layer on the map has drawn its tiles."""
        self.page.wait_for_function(MAP_SETTLED, timeout=TIMEOUT_MS)

    def evaluate(self, script: str, arg: Any = None) -> Any:
        """Run a script in the page."""
        return self.page.evaluate(script, arg)

    def show(self, lon: float, lat: float, zoom: int) -> None:
        """Centre the map on a point at a zoom and wait for its tiles."""
        self.evaluate(
            "([lat, lon, zoom]) => { window.PlatoonsMaps.map.setView([lat, lon], zoom, "
            "{animate: false}); }",
            [lat, lon, zoom],
        )
        self.settle()

    def screen_point(self, lon: float, lat: float) -> tuple[float, float]:
        """The viewport pixel of a point on the map."""
        x, y = self.evaluate(
            """([lat, lon]) => {
              const map = window.PlatoonsMaps.map;
              const p = map.latLngToContainerPoint([lat, lon]);
              const box = map.getContainer().getBoundingClientRect();
              return [p.x + box.left, p.y + box.top];
            }""",
            [lat, lon],
        )
        return float(x), float(y)

    def click_map(self, lon: float, lat: float) -> dict[str, str]:
        """Click a point on the map and return the popup's data attributes once it is ready."""
        self.evaluate("() => { window.PlatoonsMaps.lastPopup = null; }")
        self.page.mouse.click(*self.screen_point(lon, lat))
        self.page.wait_for_function(
            "() => window.PlatoonsMaps.lastPopup && window.PlatoonsMaps.lastPopup.dataset.ready",
            timeout=TIMEOUT_MS,
        )
        return dict(self.evaluate("() => ({...window.PlatoonsMaps.lastPopup.dataset})"))

    def colour_at(self, layer: str, lon: float, lat: float) -> str | None:
        """The colour a layer drew at a point (sampled from its canvas once Leaflet has drawn
        what it queued: marker canvases redraw on the next animation frame)."""
        return self.evaluate(
            """async ([key, lat, lon]) => {
              await new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)));
              const maps = window.PlatoonsMaps;
              return maps.layers[key].colourAt(maps.map.latLngToContainerPoint([lat, lon]));
            }""",
            [layer, lat, lon],
        )

    def screenshot(self, name: str) -> Path:
        """Save a screenshot to artefacts/screenshots/ (git ignores it)."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.page.wait_for_timeout(300)  # let Leaflet's tile fade-in finish
        path = SCREENSHOTS / f"{re.sub(r'[^A-Za-z0-9_.-]+', '_', name)}.png"
        self.page.screenshot(path=str(path))
        return path


def _origin(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme == "file":
        return f"file://{parts.path}"
    return f"{parts.scheme}://{parts.netloc}"


def off_the_browser_thread(work: Callable[[], T]) -> T:
    """Run ``work`` on a fresh thread (free to use ``asyncio.run``) and return its result."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(work).result()


@pytest.fixture(scope="module")
def browser(example_programmes: list[str]) -> Iterator[Browser]:
    """Debian's chromium, headless, for one test module (the programmes are saved first)."""
    with sync_playwright() as playwright:
        launched = launch_chromium(playwright)
        yield launched
        launched.close()


@pytest.fixture
def watched(browser: Browser) -> Iterator[WatchedPage]:
    """A fresh page (own context: empty cache) recording requests and console errors."""
    context = browser.new_context(viewport=VIEWPORT, service_workers="block")  # type: ignore[arg-type]
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    record = WatchedPage(page)

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            record.errors.append(f"console: {message.text} ({message.location})")

    def on_request(request: Request) -> None:
        record.requests.append(request.url)

    page.on("console", on_console)
    page.on("pageerror", lambda error: record.errors.append(f"page error: {error}"))
    page.on("request", on_request)
    yield record
    context.close()
