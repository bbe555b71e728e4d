"""``platoons coverage``: national recompute and the daily snapshots."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import psycopg
import typer

from cli.connection import with_connection
from cli.console import console, date_option
from config.settings import GroupSettings

if TYPE_CHECKING:
    from geo import coverage

coverage_cli = typer.Typer(
    help="Coverage of adults by active neighbourhood groups: recompute and snapshots.",
    no_args_is_help=True,
)


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
    from geo import coverage  # only for the commands

    on = date_option(as_of, "as-of")
    months = GroupSettings().group_active_months

    async def work(conn: psycopg.AsyncConnection) -> coverage.RefreshSummary:
        summary = await coverage.refresh_all(
            conn, as_of=on, active_months=months, recut=recut, actor="cli"
        )
        if snapshot:
            await coverage.take_snapshot(conn, on, actor="cli")
        return summary

    summary = with_connection(work)
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

    taken_on = date_option(on, "on")
    written = with_connection(lambda conn: coverage.take_snapshot(conn, taken_on, actor="cli"))
    england = written[0]
    console.print(
        f"snapshot {taken_on}: England {england.covered_share:.1%} of adults covered, "
        f"{england.cold_spots:,} cold spots; {len(written) - 1} districts recorded"
    )
