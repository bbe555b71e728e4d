"""Debian's headless Chromium as the browser tests and bench/maps.py launch it.

Always ``/usr/bin/chromium`` (installed by ``scripts/setup.sh``), never one downloaded by
``playwright install``, with the flags that keep it from reaching out on its own.
"""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Browser, Playwright

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1280, "height": 800}


def launch_chromium(playwright: Playwright) -> Browser:
    """Debian's chromium, headless, with CHROMIUM_ARGS."""
    assert CHROMIUM.exists(), "Debian chromium is missing: run scripts/setup.sh"
    return playwright.chromium.launch(
        executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
    )
