"""The ``platoons`` command line: database, loading and serving tasks."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import date
from importlib.resources import files
from pathlib import Path
from typing import Annotated, TypeVar

import psycopg
import typer
import yaml
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from app.settings import DatabaseSettings, ServerSettings
from data import schema
from data.loaders import LoadReport, count_steps, load_all
from geo import access, grants
from geo.errors import LoadError, PlatoonsError

T = TypeVar("T")

cli = typer.Typer(help="Platoons: neighbourhood analytics for England.", no_args_is_help=True)
db_cli = typer.Typer(help="Database schema tasks.", no_args_is_help=True)
load_cli = typer.Typer(
    help="Load boundaries, deprivation indices and lookups.", no_args_is_help=True
)
keys_cli = typer.Typer(help="API keys: create, list, revoke.", no_args_is_help=True)
programmes_cli = typer.Typer(help="Grant programmes.", no_args_is_help=True)
cli.add_typer(db_cli, name="db")
cli.add_typer(load_cli, name="load")
cli.add_typer(keys_cli, name="keys")
cli.add_typer(programmes_cli, name="programmes")

console = Console(stderr=True, soft_wrap=True)  # never break a path across lines
DEMO_DIR = Path(str(files("data").joinpath("demo")))
DEFAULT_ENGLAND_DIR = Path("../shared/data/raw")


def _fail(message: str) -> typer.Exit:
    """Print an error in red and return the exit to raise (status 1)."""
    console.print(f"[bold red]error:[/] {escape(message)}")
    return typer.Exit(code=1)


@db_cli.command("upgrade")
def db_upgrade() -> None:
    """Create the PostGIS extension and migrate the schema to the newest revision."""
    settings = DatabaseSettings()
    try:
        schema.upgrade(settings.sqlalchemy_url)
    except Exception as exc:  # noqa: BLE001 - any driver/Alembic failure ends the command
        raise _fail(f"migration failed: {exc}") from exc
    console.print(f"schema at {schema.head_revision(settings.sqlalchemy_url)}")


@db_cli.command("status")
def db_status() -> None:
    """Show the database's migration revision against the newest one."""
    settings = DatabaseSettings()
    current = schema.current_revision(settings.sqlalchemy_url)
    head = schema.head_revision(settings.sqlalchemy_url)
    console.print(f"database revision: {current or 'none'}; newest: {head}")
    if current != head:
        raise typer.Exit(code=1)


def _progress_bar() -> Progress:
    """A rich progress bar for a load: step name, bar, steps done and time elapsed."""
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )


def _run_load(source_dir: Path) -> LoadReport:
    """Load ``source_dir`` with a progress bar; exit 1 with the reason if it fails."""
    settings = DatabaseSettings()
    progress = _progress_bar()
    try:
        with psycopg.connect(settings.dsn) as conn, progress:
            task = progress.add_task("loading", total=count_steps())

            def step(name: str) -> None:
                progress.update(task, advance=1, description=name)

            report = load_all(conn, source_dir, on_step=step)
    except LoadError as exc:
        raise _fail(f"{exc.message}\nnothing was changed: the previous data is intact") from exc
    except psycopg.OperationalError as exc:
        raise _fail(f"cannot reach the database at {settings.database_url}: {exc}") from exc
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
    for level, codes in report.repaired_geometries.items():
        console.print(f"repaired {len(codes)} invalid {level} geometries: {', '.join(codes[:10])}")
    for warning in report.warnings:
        console.print(f"[yellow]warning:[/] {warning}")
    console.print(f"data version {report.data_version}")


@load_cli.command("demo")
def load_demo() -> None:
    """Load the small real extract shipped in the repository (four whole LADs)."""
    _run_load(DEMO_DIR)


@load_cli.command("england")
def load_england(
    source: Annotated[
        Path, typer.Option(help="Directory laid out like ../shared/data/raw (or its parent).")
    ] = DEFAULT_ENGLAND_DIR,
) -> None:
    """Load all of England from the published files (both index editions)."""
    if (source / "raw").is_dir():
        source = source / "raw"
    _run_load(source)


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
    progress = _progress_bar()
    try:
        with psycopg.connect(settings.dsn) as conn, progress:
            task = progress.add_task("reading", total=None)

            def step(description: str, completed: int, total: int) -> None:
                progress.update(task, description=description, completed=completed, total=total)

            report = load_crime(
                conn, paths, force=force, only_loaded_areas=only_loaded_areas, on_progress=step
            )
    except LoadError as exc:
        raise _fail(f"{exc.message}\nnothing was changed: the previous data is intact") from exc
    except psycopg.OperationalError as exc:
        raise _fail(f"cannot reach the database at {settings.database_url}: {exc}") from exc
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


@cli.command("serve")
def serve(
    host: Annotated[str | None, typer.Option(help="Interface to bind.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
    workers: Annotated[int, typer.Option(help="Worker processes.")] = 1,
) -> None:
    """Run the HTTP service."""
    import uvicorn

    server = ServerSettings()
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=host or server.host,
        port=port or server.port,
        workers=workers,
        proxy_headers=True,
    )


@cli.command("extract-demo")
def extract_demo(
    source: Annotated[Path, typer.Option(help="The raw data directory.")] = DEFAULT_ENGLAND_DIR,
    out: Annotated[Path, typer.Option(help="Where to write the extract.")] = DEMO_DIR,
    lad: Annotated[list[str] | None, typer.Option(help="LAD code to include (repeat).")] = None,
) -> None:
    """Rebuild the demo extract from the raw files for whole local authorities."""
    from data.extract import DEFAULT_LADS, write_extract

    counts = write_extract(source, out, lad or list(DEFAULT_LADS))
    console.print(f"wrote {len(counts)} files to {out}")


def _with_connection(work: Callable[[psycopg.AsyncConnection], Awaitable[T]]) -> T:
    """Run async domain code on one connection, in one transaction; domain errors exit 1."""

    async def run() -> T:
        async with await psycopg.AsyncConnection.connect(DatabaseSettings().dsn) as conn:
            async with conn.transaction():
                return await work(conn)

    try:
        return asyncio.run(run())
    except PlatoonsError as exc:
        raise _fail(exc.message) from exc
    except psycopg.OperationalError as exc:
        raise _fail(f"cannot reach the database: {exc}") from exc


@keys_cli.command("create")
def keys_create(
    name: Annotated[str, typer.Option(help="Who or what the key is for.")],
    role: Annotated[str, typer.Option(help="group_manager, officer or admin.")],
    lad: Annotated[
        list[str] | None, typer.Option(help="District an officer acts for (repeat).")
    ] = None,
) -> None:
    """Create an API key and print its secret (shown once; only a hash is stored)."""
    key_id, secret = _with_connection(lambda conn: access.create_key(conn, name, role, lad))  # type: ignore[arg-type]
    console.print(f"key {key_id} ({role}) created; store this secret now, it is not shown again:")
    typer.echo(secret)


@keys_cli.command("revoke")
def keys_revoke(key_id: Annotated[int, typer.Argument(help="The key's id.")]) -> None:
    """Revoke an API key at once."""
    if not _with_connection(lambda conn: access.revoke_key(conn, key_id)):
        raise _fail(f"no live key {key_id}")
    console.print(f"key {key_id} revoked")


@keys_cli.command("list")
def keys_list() -> None:
    """List keys (ids, names, roles, districts; never secrets)."""

    table = Table("id", "name", "role", "districts", "prefix", "revoked")
    for key_id, name, role, lads, prefix, revoked in _with_connection(access.list_keys):
        table.add_row(
            str(key_id), name, role, ", ".join(lads), prefix + "…", "yes" if revoked else ""
        )
    console.print(table)


def _read_specs(path: Path) -> list[grants.ProgrammeSpec]:
    """Read and validate programme specifications from YAML or JSON (one or a list)."""
    try:
        text = path.read_text(encoding="utf-8")
        document = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (OSError, ValueError, yaml.YAMLError) as exc:
        raise _fail(f"{path}: cannot read: {exc}") from exc
    items = document if isinstance(document, list) else [document]
    specs, problems = [], []
    for number, item in enumerate(items, start=1):
        try:
            specs.append(grants.ProgrammeSpec.model_validate(item))
        except (ValidationError, PlatoonsError) as exc:
            problems.append(f"programme {number}: {exc}")
    if problems:
        raise _fail(f"{path}: nothing imported:\n" + "\n".join(problems))
    return specs


@programmes_cli.command("import")
def programmes_import(
    path: Annotated[Path, typer.Argument(help="YAML or JSON file of programme specifications.")],
) -> None:
    """Validate and store grant programmes (all or none)."""
    specs = _read_specs(path)

    async def save(conn: psycopg.AsyncConnection) -> list[grants.Programme]:
        return [await grants.save_programme(conn, spec, actor="cli") for spec in specs]

    for programme in _with_connection(save):
        console.print(f"{programme.id}: {programme.name} (version {programme.version})")


@cli.command("export-map")
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
    from geo.maps_data import lad_lsoas

    data = _with_connection(lambda conn: lad_lsoas(conn, lad, edition))
    html = maps.render_page(maps.lad_export_map(data))
    try:
        out.write_text(html, encoding="utf-8")
    except OSError as exc:
        raise _fail(f"cannot write {out}: {exc}") from exc
    console.print(
        f"wrote {out}: {data.lsoa_count} LSOAs of {escape(data.lad_name)} ({data.lad_code}), "
        f"{data.edition.code}, {len(html) / 1024:.0f} KiB"
    )


assets_cli = typer.Typer(
    help="Assets of community value: import and export registers.", no_args_is_help=True
)
cli.add_typer(assets_cli, name="assets")


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
    from datetime import UTC, datetime
    from typing import Literal

    from geo import assets

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise _fail(f"{path}: cannot read: {exc}") from exc
    fmt: Literal["csv", "geojson"] = (
        "geojson" if path.suffix.lower() in (".geojson", ".json") else "csv"
    )
    today = datetime.now(UTC).date()
    report = _with_connection(
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
        raise _fail("nothing could be imported")


@assets_cli.command("export")
def assets_export(
    out: Annotated[Path, typer.Argument(help="The file to write (.csv or .geojson).")],
    lad: Annotated[str | None, typer.Option(help="Only this district (GSS code).")] = None,
) -> None:
    """Export the register in the national planning data format (CSV or GeoJSON)."""
    from geo import assets

    records = _with_connection(lambda conn: assets.export_register(conn, lad))
    if out.suffix.lower() in (".geojson", ".json"):
        text = json.dumps(assets.to_geojson(records), indent=1)
    else:
        text = assets.to_csv(records)
    try:
        out.write_text(text, encoding="utf-8", newline="")
    except OSError as exc:
        raise _fail(f"cannot write {out}: {exc}") from exc
    console.print(f"wrote {len(records)} asset(s) to {out}")


@assets_cli.command("refresh-deadlines")
def assets_refresh_deadlines() -> None:
    """Move the map layer's next deadline on for assets whose stored one has passed."""
    from datetime import UTC, datetime

    from geo import assets

    today = datetime.now(UTC).date()
    moved = _with_connection(lambda conn: assets.refresh_passed_deadlines(conn, today))
    console.print(f"{moved} asset(s) had a passed deadline on the map; moved on as of {today}")


coverage_cli = typer.Typer(
    help="Coverage of adults by active neighbourhood groups: recompute and snapshots.",
    no_args_is_help=True,
)
cli.add_typer(coverage_cli, name="coverage")


def _date_option(text: str | None, name: str) -> date:
    """A YYYY-MM-DD option's date (today in UTC when omitted); exit 1 if malformed."""
    from datetime import UTC, datetime

    if text is None:
        return datetime.now(UTC).date()
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise _fail(f"--{name} must be a date like 2026-11-25, not {text!r}") from exc


@coverage_cli.command("refresh")
def coverage_refresh(
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Judge activity on this date (default today).")
    ] = None,
    snapshot: Annotated[
        bool, typer.Option(help="Then record the day's snapshot of England and every district.")
    ] = False,
    recut: Annotated[
        bool, typer.Option(help="Cut every group's and organiser's area by the LSOAs again.")
    ] = True,
) -> None:
    """Recompute coverage nationally (run daily: the 12-month activity window moves)."""
    from app.settings import GroupSettings
    from geo import coverage

    on = _date_option(as_of, "as-of")
    months = GroupSettings().group_active_months

    async def work(conn: psycopg.AsyncConnection) -> coverage.RefreshSummary:
        summary = await coverage.refresh_all(
            conn, as_of=on, active_months=months, recut=recut, actor="cli"
        )
        if snapshot:
            await coverage.take_snapshot(conn, on, actor="cli")
        return summary

    summary = _with_connection(work)
    share = summary.adults_covered / summary.adults if summary.adults else 0.0
    console.print(
        f"coverage on {summary.as_of}: {summary.active_groups:,} of {summary.groups:,} groups "
        f"active, {summary.active_organisers:,} of {summary.organisers:,} organisers; "
        f"{summary.adults_covered:,.0f} of {summary.adults:,.0f} adults covered ({share:.1%}); "
        f"{summary.lsoas_changed:,} LSOAs and {summary.cells_changed:,} H3 cells changed "
        f"in {summary.seconds:.1f} s" + ("; snapshot recorded" if snapshot else "")
    )


@coverage_cli.command("snapshot")
def coverage_snapshot(
    on: Annotated[
        str | None, typer.Option(help="The snapshot's date (default today); replaces that day's.")
    ] = None,
) -> None:
    """Record England's and every district's coverage as it stands (one snapshot a day)."""
    from geo import coverage

    taken_on = _date_option(on, "on")
    written = _with_connection(lambda conn: coverage.take_snapshot(conn, taken_on, actor="cli"))
    england = written[0]
    console.print(
        f"snapshot {taken_on}: England {england.covered_share:.1%} of adults covered, "
        f"{england.cold_spots:,} cold spots; {len(written) - 1} districts recorded"
    )


@cli.command("housekeeping")
def housekeeping() -> None:
    """Run today's daily jobs (deadlines, coverage, snapshot) that are not done yet, for cron."""
    from app.housekeeping import daily_jobs, run_daily_jobs
    from app.http import today_utc
    from app.settings import GroupSettings

    async def run() -> tuple[list[str], list[str]]:
        url = DatabaseSettings().dsn
        async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
            jobs = daily_jobs(GroupSettings().group_active_months)
            return await run_daily_jobs(conn, today_utc(), jobs)

    try:
        ran, failed = asyncio.run(run())
    except psycopg.OperationalError as exc:
        raise _fail(f"cannot reach the database: {exc}") from exc
    console.print(f"ran: {', '.join(ran) or 'nothing (done today, or another process runs it)'}")
    if failed:
        raise _fail(f"failed: {', '.join(failed)} (see the log)")
