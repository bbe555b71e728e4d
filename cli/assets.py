"""``platoons assets``: registers of assets of community value imported and exported."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Literal

import typer
from rich.markup import escape

from cli.connection import with_connection
from cli.console import console, fail
from geo import assets

assets_cli = typer.Typer(
    help="Assets of community value: import and export registers.", no_args_is_help=True
)


@assets_cli.command("import")
def assets_import(
    path: Annotated[
        Path,
        typer.Argument(help="A national-format CSV/GeoJSON or a council CSV register."),
    ],
    example: Annotated[
        bool, typer.Option(help="Mark the entries as illustrative example data.")
    ] = False,
) -> None:
    """Import a register; rows that cannot be placed are reported (exit 1 only if none import)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise fail(f"{path}: cannot read: {exc}") from exc
    fmt: Literal["csv", "geojson"] = (
        "geojson" if path.suffix.lower() in (".geojson", ".json") else "csv"
    )
    today = datetime.now(UTC).date()
    report = with_connection(
        lambda conn: assets.import_register(
            conn, text, fmt, path.name, "cli", today, is_example=example
        )
    )
    console.print(f"{escape(report.source)}: imported {len(report.imported)} asset(s)")
    for line, name, reason in report.skipped:
        console.print(f"[yellow]line {line}[/] {escape(name)}: not imported: {escape(reason)}")
    for line, warning in report.warnings:
        console.print(f"[cyan]line {line}[/] warning: {escape(warning)}")
    if not report.imported:
        raise fail("nothing could be imported")


@assets_cli.command("export")
def assets_export(
    out: Annotated[Path, typer.Argument(help="The file to write (.csv or .geojson).")],
    lad: Annotated[str | None, typer.Option(help="Only this district (GSS code).")] = None,
) -> None:
    """Export the register in the national planning data format (CSV or GeoJSON)."""
    records = with_connection(lambda conn: assets.export_register(conn, lad))
    if out.suffix.lower() in (".geojson", ".json"):
        text = json.dumps(assets.to_geojson(records), indent=1)
    else:
        text = assets.to_csv(records)
    try:
        out.write_text(text, encoding="utf-8", newline="")
    except OSError as exc:
        raise fail(f"cannot write {out}: {exc}") from exc
    console.print(f"wrote {len(records)} asset(s) to {out}")


@assets_cli.command("refresh-deadlines")
def assets_refresh_deadlines() -> None:
    """Move the map layer's next deadline on for assets whose stored one has passed."""
    today = datetime.now(UTC).date()
    moved = with_connection(lambda conn: assets.refresh_passed_deadlines(conn, today))
    console.print(f"{moved} asset(s) had a passed deadline on the map; moved on as of {today}")
