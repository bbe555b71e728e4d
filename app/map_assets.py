"""Where the maps' static assets are served from: Leaflet (xstatic-leaflet) and our own files.

Apart from :mod:`app.maps` so that mounting the assets (``app.main``) and linking them (the
crime pack) do not import folium, and with it pandas and numpy: those cost a server process
about 75 MB of resident memory, and only the map pages need them (imported on the first).
"""

from __future__ import annotations

from pathlib import Path

import xstatic.pkg.leaflet

STATIC_URL = "/static"
LEAFLET_URL = f"{STATIC_URL}/leaflet"
STATIC_DIR = Path(__file__).resolve().parent / "static"
LEAFLET_DIR = Path(xstatic.pkg.leaflet.BASE_DIR)
