"""``platoons export-map``: a district's deprivation map as one self-contained HTML file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from cli.connection import with_connection
from cli.console import console, fail


def export_map(
    lad: Annotated[
        str, typer.Option(help="GSS code of a local authority district, e.g. E08000009.")
    ],
    out: Annotated[Path, typer.Option(help="The HTML file to write, e.g. trafford.html.")],
    edition: Annotated[
        str | None, typer.Option(help="Index edition, e.g. IoD2019 (default: the current one).")
    ] = None,
) -> None:
    """Write a self-contained HTML map of one district's LSOAs by IMD decile (for email).

    Leaflet, the map code and the LSOAs are inside the file: it opens with no server and no
    network.
    """
    # Imported here: folium and the map code are only needed by this command.
    from app import maps
    from geo.map_queries import lad_lsoas

    data = with_connection(lambda conn: lad_lsoas(conn, lad, edition))
    html = maps.render_page(maps.lad_export_map(data))
    try:
        out.write_text(html, encoding="utf-8")
    except OSError as exc:
        raise fail(f"cannot write {out}: {exc}") from exc
    console.print(
        f"wrote {out}: {data.lsoa_count} LSOAs of {escape(data.lad_name)} ({data.lad_code}), "
        f"{data.edition.code}, {len(html) / 1024:.0f} KiB"
    )
