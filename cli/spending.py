"""``platoons load spending`` and ``platoons load grants``: council payments, 360Giving grants."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import psycopg
import typer
from rich.markup import escape
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeElapsedColumn

from cli.console import console, fail
from config.settings import DatabaseSettings
from geo.errors import LoadError


def load_spending(
    paths: Annotated[
        list[Path], typer.Argument(help="Payment files: zips holding one CSV, or CSVs.")
    ],
    publisher: Annotated[
        str | None,
        typer.Option(help="Publisher key (data/spending_publishers.toml); else by file name."),
    ] = None,
    jobs: Annotated[int, typer.Option(min=1, max=8, help="Files loaded at once.")] = 2,
) -> None:
    """Load council payment files line by line (Local Government Transparency Code)."""
    from data import spending

    settings = DatabaseSettings()
    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TimeElapsedColumn(),
        console=console,
    )
    try:
        total = sum(spending.uncompressed_size(p) for p in paths)
        with progress:
            task = progress.add_task("payment lines", total=total)
            reports = spending.load_spending_parallel(
                settings.dsn,
                paths,
                publisher,
                on_bytes=lambda n: progress.advance(task, n),
                on_file=lambda r: progress.console.print(
                    f"{escape(r.path.name)}: {r.status}, {r.lines:,} lines, "
                    f"£{r.total:,.2f}, {r.first_payment_date} to {r.last_payment_date}"
                ),
                jobs=jobs,
            )
    except LoadError as exc:
        raise fail(exc.message) from exc
    except psycopg.OperationalError as exc:
        raise fail(f"cannot reach the database at {settings.database_url}: {exc}") from exc
    console.print(f"{len(reports)} file(s): {sum(r.lines for r in reports):,} lines held")


def load_grants(
    paths: Annotated[
        list[Path], typer.Argument(help="360Giving files: CSV summary tables or JSON packages.")
    ],
) -> None:
    """Import other funders' 360Giving grants: validated, placed, and how each was placed."""
    from data import giving360_import

    settings = DatabaseSettings()
    try:
        with psycopg.connect(settings.dsn) as conn:
            for path in paths:
                report = giving360_import.import_grants(conn, path)
                placed = ", ".join(f"{n} {how}" for how, n in sorted(report.placements.items()))
                console.print(
                    f"{escape(path.name)}: {report.status}, {report.grants} grant(s): {placed}"
                )
                if report.ignored_columns:
                    console.print(f"ignored columns: {escape(', '.join(report.ignored_columns))}")
    except LoadError as exc:
        raise fail(exc.message) from exc
    except psycopg.OperationalError as exc:
        raise fail(f"cannot reach the database at {settings.database_url}: {exc}") from exc
