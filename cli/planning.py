"""``platoons planning``: neighbourhood areas, forums and plans from national-format files."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from cli.connection import with_connection
from cli.console import console, fail

planning_cli = typer.Typer(
    help="Neighbourhood planning: import areas, forums and plans.", no_args_is_help=True
)


@planning_cli.command("import")
def planning_import(
    path: Annotated[
        Path, typer.Argument(help="An area, forum or plan file (national format, CSV or GeoJSON).")
    ],
    example: Annotated[
        bool, typer.Option(help="Mark the entries as illustrative example data.")
    ] = False,
) -> None:
    """Import neighbourhood areas, forums or plans; bad rows are reported (exit 1 only if none
    import)."""
    from data import planning  # only for this command

    today = datetime.now(UTC).date()
    report = with_connection(
        lambda conn: planning.import_file(conn, path, today, is_example=example)
    )
    console.print(f"{escape(report.source)}: imported {len(report.imported)} row(s)")
    for line, name, reason in report.skipped:
        console.print(f"[yellow]row {line}[/] {escape(name)}: not imported: {escape(reason)}")
    if not report.imported:
        raise fail("nothing could be imported")
