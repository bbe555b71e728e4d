"""Screenshots of the running demo for the README: each map's first view and the front page.

Run against a server started by ``make run`` (or ``platoons serve``)::

    .venv/bin/python scripts/screenshots.py --base http://127.0.0.1:8000 --out docs/screenshots

Debian's headless Chromium (``/usr/bin/chromium``) draws each map at 1280x800 for the README
(``docs/screenshots/``) and at 800x500 for the front page's previews
(``app/static/previews/``), then the front page itself; a map is captured once every tile
layer has drawn (``window.PlatoonsMaps``), so the images show what a newcomer sees first.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
MAPS = ("deprivation", "eligibility", "assets", "coverage")
SETTLED = "() => !!window.PlatoonsMaps && window.PlatoonsMaps.settled()"


def capture(page: Page, url: str, out: Path, *, is_map: bool) -> Path:
    """Open ``url``, wait until it has drawn, and save a PNG at ``out``."""
    page.goto(url)
    if is_map:
        page.wait_for_function(SETTLED, timeout=60_000)
    page.wait_for_timeout(600)  # tile fade-in and labels
    page.screenshot(path=str(out))
    return out


def main() -> None:
    """Capture the front page and the four maps of a running server."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--base", default="http://127.0.0.1:8000")
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    parser.add_argument(
        "--previews",
        type=Path,
        default=Path("app/static/previews"),
        help="where the front page's small map previews go (800x500)",
    )
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    args.previews.mkdir(parents=True, exist_ok=True)
    written = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        # The previews first: the front page's full-size screenshot shows them.
        small = browser.new_page(viewport={"width": 800, "height": 500})
        for name in MAPS:
            out = args.previews / f"map-{name}.png"
            written.append(capture(small, f"{args.base}/maps/{name}", out, is_map=True))
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        for name in MAPS:
            out = args.out / f"map-{name}.png"
            written.append(capture(page, f"{args.base}/maps/{name}", out, is_map=True))
        page.set_viewport_size({"width": 1280, "height": 1100})
        written.append(capture(page, f"{args.base}/", args.out / "front-page.png", is_map=False))
        browser.close()
    for path in written:
        print(f"wrote {path}")  # noqa: T201


if __name__ == "__main__":
    main()
