"""``platoons keys``: API keys are created, listed and revoked here (only a hash is stored)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from cli.connection import with_connection
from cli.console import console, fail
from geo import access

keys_cli = typer.Typer(help="API keys: create, list, revoke.", no_args_is_help=True)


@keys_cli.command("create")
def keys_create(
    name: Annotated[str, typer.Option(help="Who or what the key is for.")],
    role: Annotated[str, typer.Option(help="group_manager, officer or admin.")],
    lad: Annotated[
        list[str] | None, typer.Option(help="District an officer acts for (repeat).")
    ] = None,
) -> None:
    """Create an API key and print its secret (shown once; only a hash is stored)."""
    key_id, secret = with_connection(lambda conn: access.create_key(conn, name, role, lad))  # type: ignore[arg-type]
    console.print(f"key {key_id} ({role}) created; store this secret now, it is not shown again:")
    typer.echo(secret)


@keys_cli.command("revoke")
def keys_revoke(key_id: Annotated[int, typer.Argument(help="The key's id.")]) -> None:
    """Revoke an API key at once."""
    if not with_connection(lambda conn: access.revoke_key(conn, key_id)):
        raise fail(f"no live key {key_id}")
    console.print(f"key {key_id} revoked")


@keys_cli.command("list")
def keys_list() -> None:
    """List keys (ids, names, roles, districts; never secrets)."""

    table = Table("id", "name", "role", "districts", "prefix", "revoked")
    for key_id, name, role, lads, prefix, revoked in with_connection(access.list_keys):
        table.add_row(
            str(key_id), name, role, ", ".join(lads), prefix + "…", "yes" if revoked else ""
        )
    console.print(table)
