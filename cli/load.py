"""``platoons load`` and ``platoons extract-demo``: the published files into the database."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import psycopg
import typer
from rich.markup import escape
from rich.table import Table

from cli.console import console, fail, progress_bar
from config.settings import DatabaseSettings
from data import DEMO_DIR, NATIONAL_DIR
from geo.errors import LoadError

if TYPE_CHECKING:
    from data.loaders import LoadReport

load_cli = typer.Typer(
    help="Load boundaries, deprivation indices, lookups, council spending and 360Giving grants.",
    no_args_is_help=True,
)
DEFAULT_ENGLAND_DIR = NATIONAL_DIR


def run_load(source_dir: Path) -> LoadReport:
    """Load ``source_dir`` with a progress bar; exit 1 with the reason if it fails."""
    from data.loaders import count_steps, load_all  # pandas and the readers: only when loading

    settings = DatabaseSettings()
    progress = progress_bar()
    try:
        with psycopg.connect(settings.dsn) as conn, progress:
            task = progress.add_task("loading", total=count_steps())

            def step(name: str) -> None:
                progress.update(task, advance=1, description=name)

            report = load_all(conn, source_dir, on_step=step)
    except LoadError as exc:
        raise fail(f"{exc.message}\nnothing was changed: the previous data is intact") from exc
    except psycopg.OperationalError as exc:
        raise fail(f"cannot reach the database at {settings.database_url}: {exc}") from exc
    _print_report(report)
    return report


def _print_report(report: LoadReport) -> None:
    """Print rows per table, repairs and warnings of a finished load."""
    table = Table(title=f"Loaded {report.source_dir} in {report.seconds:.1f} s")
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name, rows in sorted(report.rows.items()):
        table.add_row(name, f"{rows:,}")
    console.print(table)
    steps = Table(title="Where the load's time went")
    for column in ("step", "wall s", "loader CPU s", "server CPU s"):
        steps.add_column(column, justify="left" if column == "step" else "right")
    for name, spent in report.step_times.items():
        steps.add_row(
            name, f"{spent.wall:.2f}", f"{spent.loader_cpu:.2f}", f"{spent.server_cpu:.2f}"
        )
    console.print(steps)
    for level, codes in report.repaired_geometries.items():
        console.print(f"repaired {len(codes)} invalid {level} geometries: {', '.join(codes[:10])}")
    for warning in report.warnings:
        console.print(f"[yellow]warning:[/] {warning}")
    console.print(f"data version {report.data_version}")


@load_cli.command("demo")
def load_demo() -> None:
    """Load the small real extract shipped in the repository (four whole LADs)."""
    run_load(DEMO_DIR)


@load_cli.command("england")
def load_england(
    source: Annotated[
        Path, typer.Option(help="Directory laid out like data/national (or its parent).")
    ] = DEFAULT_ENGLAND_DIR,
) -> None:
    """Load all of England from the published files (both index editions)."""
    if (source / "raw").is_dir():
        source = source / "raw"
    run_load(source)


@load_cli.command("crime")
def load_crime_command(
    paths: Annotated[
        list[Path],
        typer.Argument(help="police.uk street-level CSVs (plain, .gz), zip archives or folders."),
    ],
    force: Annotated[
        str | None,
        typer.Option(help="police.uk force id for files whose rows and names give none."),
    ] = None,
    only_loaded_areas: Annotated[
        bool,
        typer.Option(help="Store only crimes inside the loaded LSOA boundaries (the demo)."),
    ] = False,
) -> None:
    """Import police.uk street-level crime; a re-import replaces the force-months it carries."""
    from data.crime import load_crime

    settings = DatabaseSettings()
    progress = progress_bar()
    try:
        with psycopg.connect(settings.dsn) as conn, progress:
            task = progress.add_task("reading", total=None)

            def step(description: str, completed: int, total: int) -> None:
                progress.update(task, description=description, completed=completed, total=total)

            report = load_crime(
                conn, paths, force=force, only_loaded_areas=only_loaded_areas, on_progress=step
            )
    except LoadError as exc:
        raise fail(f"{exc.message}\nnothing was changed: the previous data is intact") from exc
    except psycopg.OperationalError as exc:
        raise fail(f"cannot reach the database at {settings.database_url}: {exc}") from exc
    table = Table(title=f"Crime imported in {report.seconds:.1f} s")
    table.add_column("")
    table.add_column("count", justify="right")
    rows = [
        ("files", len(report.files)),
        ("crimes stored", report.crimes),
        ("force-months (replaced if held)", report.force_months),
        ("crimes replaced", report.replaced_crimes),
        ("no location (kept)", report.no_location),
        ("outside the loaded boundaries (kept, flagged)", report.outside_boundaries),
        ("outside the loaded boundaries (not stored)", report.dropped_outside),
        ("police.uk LSOA codes checkable by point in polygon", report.given_lsoa_checked),
        ("... of which point in polygon would move", report.given_lsoa_moved_by_pip),
    ]
    for label, value in rows:
        table.add_row(label, f"{value:,}")
    console.print(table)
    if report.moved_share is not None:
        console.print(
            f"point in polygon would have moved {report.moved_share:.1%} of the police.uk LSOA "
            "codes it could check; the codes were kept"
        )
    for warning in report.warnings:
        console.print(f"[yellow]warning:[/] {escape(warning)}")
    console.print(f"data version {report.data_version}")


def extract_demo(
    source: Annotated[Path, typer.Option(help="The raw data directory.")] = DEFAULT_ENGLAND_DIR,
    out: Annotated[Path, typer.Option(help="Where to write the extract.")] = DEMO_DIR,
    lad: Annotated[list[str] | None, typer.Option(help="LAD code to include (repeat).")] = None,
) -> None:
    """Rebuild the demo extract from the raw files for whole local authorities."""
    from data.extract import DEFAULT_LADS, write_extract

    counts = write_extract(source, out, lad or list(DEFAULT_LADS))
    console.print(f"wrote {len(counts)} files to {out}")
