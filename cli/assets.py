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
from geo.errors import LoadError

assets_cli = typer.Typer(
    help="Assets of community value: import and export registers.", no_args_is_help=True
)


@assets_cli.command("import")
def assets_import(
    path: Annotated[
        Path,
        typer.Argument(
            help=(
                "A council's Transparency Code land-and-buildings CSV, a national-format "
                "CSV/GeoJSON register of assets of community value, or a council CSV register."
            )
        ),
    ],
    example: Annotated[
        bool, typer.Option(help="Mark the entries as illustrative example data.")
    ] = False,
) -> None:
    """Import a register or a council's land and buildings; what cannot be placed is reported.

    A land-and-buildings file (recognised by its national column set) is imported whole or not
    at all (malformed rows are listed by line); its sites become council-owned assets in the
    ``recorded`` state, and a re-import changes nothing. A register of assets of community
    value imports row by row (exit 1 only if none import).
    """
    # The registers' and land files' readers (pandas among them): only for the commands.
    from data import land_and_buildings
    from geo import assets

    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise fail(f"{path}: cannot read: {exc}") from exc
    if path.suffix.lower() == ".csv" and land_and_buildings.is_land_and_buildings(text):
        _import_land_and_buildings(path, text, example)
        return
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


def _import_land_and_buildings(path: Path, text: str, example: bool) -> None:
    """Import a council's land-and-buildings file and print what it did."""
    from data import land_and_buildings

    if example:
        raise fail("a land-and-buildings file is a council's published data: not an example")
    today = datetime.now(UTC).date()
    source = f"land-and-buildings:{path.name}"
    try:
        report = with_connection(
            lambda conn: land_and_buildings.import_land_and_buildings(
                conn, text, source, "cli", today
            )
        )
    except LoadError as exc:  # with_connection exits on domain errors; kept for clarity
        raise fail(exc.message) from exc
    console.print(
        f"{escape(path.name)}: {len(report.inserted)} recorded, {len(report.updated)} updated, "
        f"{len(report.unchanged)} unchanged (council-owned land and buildings)"
    )
    bases = ", ".join(
        f"{n} by {b.replace('_', ' ')}" for b, n in sorted(report.location_basis.items())
    )
    console.print(f"placed: {bases}")
    for line, name, reason in report.not_stored:
        console.print(f"[yellow]line {line}[/] {escape(name)}: not stored: {escape(reason)}")
    for line, warning in report.warnings:
        console.print(f"[cyan]line {line}[/] warning: {escape(warning)}")


@assets_cli.command("export")
def assets_export(
    out: Annotated[Path, typer.Argument(help="The file to write (.csv or .geojson).")],
    lad: Annotated[str | None, typer.Option(help="Only this district (GSS code).")] = None,
) -> None:
    """Export the register in the national planning data format (CSV or GeoJSON)."""
    from geo import assets

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
    from geo import assets

    today = datetime.now(UTC).date()
    moved = with_connection(lambda conn: assets.refresh_passed_deadlines(conn, today))
    console.print(f"{moved} asset(s) had a passed deadline on the map; moved on as of {today}")
