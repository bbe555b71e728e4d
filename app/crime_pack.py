"""The beat-meeting pack: an area's recent street-level crime as a printable A4 HTML page.

The page is self-contained and works offline: Leaflet comes from the app's own static mount
(as the maps do, :mod:`app.maps`), the map has no background tiles (the area's outline and the
crimes' map points only), the trend charts are inline SVG drawn here, and the one script runs
under the request's CSP nonce.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup
from psycopg import AsyncConnection

from app import map_assets
from geo.crime import reads
from geo.crime.models import CrimeSummary

MAIN_TYPES = 4  # trend charts for at most this many types (the most frequent)
CHART_WIDTH, CHART_HEIGHT, CHART_PAD = 340, 90, 22

templates = Environment(
    loader=PackageLoader("app", "templates"), autoescape=select_autoescape(["html"])
)


def trend_svg(months: list[str], values: list[int | None], window_from: str) -> Markup:
    """A small line chart of monthly counts as inline SVG; months with no data are gaps.

    The months from ``window_from`` on (the pack's period) are shaded.
    """
    known = [v for v in values if v is not None]
    top = max(known, default=0) or 1
    count = len(months)
    step = (CHART_WIDTH - 2 * CHART_PAD) / max(count - 1, 1)

    def x(i: int) -> float:
        return CHART_PAD + i * step

    def y(v: int) -> float:
        return CHART_HEIGHT - CHART_PAD + 6 - (CHART_HEIGHT - CHART_PAD - 6) * v / top

    parts = [
        f'<svg viewBox="0 0 {CHART_WIDTH} {CHART_HEIGHT}" role="img" class="trend" '
        f'aria-label="monthly counts from {months[0]} to {months[-1]}">'
    ]
    if window_from in months:
        start = x(months.index(window_from)) - step / 2
        parts.append(
            f'<rect x="{start:.1f}" y="4" width="{CHART_WIDTH - CHART_PAD - start:.1f}" '
            f'height="{CHART_HEIGHT - CHART_PAD - 2}" class="window"/>'
        )
    segment: list[str] = []
    segments: list[list[str]] = []
    for i, value in enumerate(values):
        if value is None:
            if segment:
                segments.append(segment)
            segment = []
        else:
            segment.append(f"{x(i):.1f},{y(value):.1f}")
    if segment:
        segments.append(segment)
    for points in segments:
        parts.append(f'<polyline points="{" ".join(points)}" class="line"/>')
    for i, value in enumerate(values):
        if value is not None:
            parts.append(f'<circle cx="{x(i):.1f}" cy="{y(value):.1f}" r="1.8" class="dot"/>')
        else:
            parts.append(
                f'<text x="{x(i):.1f}" y="{CHART_HEIGHT - CHART_PAD - 2:.1f}" class="nodata">'
                "–</text>"
            )
    parts.append(f'<text x="2" y="12" class="axis">{top}</text>')
    parts.append(f'<text x="2" y="{CHART_HEIGHT - CHART_PAD + 6}" class="axis">0</text>')
    for i, month in enumerate(months):
        if i in (0, count - 1) or month.endswith("-01"):
            parts.append(
                f'<text x="{x(i):.1f}" y="{CHART_HEIGHT - 4}" class="axis" '
                f'text-anchor="middle">{month}</text>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - built here from numbers and YYYY-MM months


def _charts(history: CrimeSummary, window: CrimeSummary) -> list[dict[str, Any]]:
    """A trend chart for each main type of the window (most crimes first)."""
    months = [m.month for m in history.by_month]
    charts = []
    for crime_type in list(window.by_type)[:MAIN_TYPES]:
        values = [
            (m.by_type or {}).get(crime_type, 0) if m.has_data else None for m in history.by_month
        ]
        charts.append({"type": crime_type, "svg": trend_svg(months, values, window.from_month)})
    return charts


def _table(window: CrimeSummary) -> dict[str, Any]:
    """The month-by-type table: a row per type, a column per month (None: no data)."""
    types = sorted(set(window.types_covered) | set(window.by_type))
    rows = [
        {
            "type": t,
            "cells": [(m.by_type or {}).get(t, 0) if m.has_data else None for m in window.by_month],
            "total": window.by_type.get(t, 0),
        }
        for t in types
    ]
    return {"months": [m.month for m in window.by_month], "rows": rows}


async def render_pack(
    request: Request, conn: AsyncConnection, area: str, months: int, to: str | None
) -> str:
    """Render the pack of an area for the ``months`` months to ``to`` (default: the latest)."""
    resolved = await reads.resolve_area(conn, area)
    if to is None:
        to = await reads.latest_month(conn, resolved)
        if to is None:
            raise reads.NoCrimeData(
                "no street-level crime is loaded for this area's police force", parameter="area"
            )
    reads.parse_month(to, "to")
    window_from = reads.shift_month(to, -(months - 1))
    window = await reads.crime_summary(conn, resolved, window_from, to)
    history = await reads.crime_summary(conn, resolved, reads.shift_month(window_from, -12), to)
    area_map = await reads.area_map(conn, resolved, window_from, to)
    base = request.scope.get("root_path", "")
    return templates.get_template("crime_pack.html").render(
        # The figures as the JSON answer shows them (geo.figures), not at full precision.
        summary=window.model_dump(mode="json"),
        table=_table(window),
        charts=_charts(history, window),
        map_data=Markup(json.dumps(area_map).replace("</", "<\\/")),  # noqa: S704 - JSON only
        nonce=getattr(request.state, "csp_nonce", ""),
        leaflet_js=f"{base}{map_assets.LEAFLET_URL}/leaflet.js",
        leaflet_css=f"{base}{map_assets.LEAFLET_URL}/leaflet.css",
        csv_url=f"{base}/crime/summary.csv?area={resolved.ref.code}&from={window_from}&to={to}",
        months=months,
    )
