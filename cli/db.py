"""``platoons db``: migrate the schema and report its revision."""

from __future__ import annotations

import typer

from cli.console import console, fail
from config.settings import DatabaseSettings

db_cli = typer.Typer(help="Database schema tasks.", no_args_is_help=True)


@db_cli.command("upgrade")
def db_upgrade() -> None:
    """Create the PostGIS extension and migrate the schema to the newest revision."""
    from data import schema  # Alembic: only for the commands that migrate

    settings = DatabaseSettings()
    try:
        schema.upgrade(settings.sqlalchemy_url)
    except Exception as exc:  # noqa: BLE001 - any driver/Alembic failure ends the command
        raise fail(f"migration failed: {exc}") from exc
    console.print(f"schema at {schema.head_revision(settings.sqlalchemy_url)}")


@db_cli.command("status")
def db_status() -> None:
    """Show the database's migration revision against the newest one."""
    from data import schema

    settings = DatabaseSettings()
    current = schema.current_revision(settings.sqlalchemy_url)
    head = schema.head_revision(settings.sqlalchemy_url)
    console.print(f"database revision: {current or 'none'}; newest: {head}")
    if current != head:
        raise typer.Exit(code=1)
