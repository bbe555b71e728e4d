"""``platoons programmes``: grant programmes imported from YAML or JSON specifications."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import psycopg
import typer
from pydantic import ValidationError

from cli.connection import with_connection
from cli.console import console, fail
from geo.errors import PlatoonsError

if TYPE_CHECKING:
    from geo.grants import checks as grants

programmes_cli = typer.Typer(help="Grant programmes.", no_args_is_help=True)


def _read_specs(path: Path) -> list[grants.ProgrammeSpec]:
    """Read and validate programme specifications from YAML or JSON (one or a list)."""
    import yaml  # the programmes' modules only for this command

    from geo.grants import checks as grants

    try:
        text = path.read_text(encoding="utf-8")
        document = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (OSError, ValueError, yaml.YAMLError) as exc:
        raise fail(f"{path}: cannot read: {exc}") from exc
    items = document if isinstance(document, list) else [document]
    specs, problems = [], []
    for number, item in enumerate(items, start=1):
        try:
            specs.append(grants.ProgrammeSpec.model_validate(item))
        except (ValidationError, PlatoonsError) as exc:
            problems.append(f"programme {number}: {exc}")
    if problems:
        raise fail(f"{path}: nothing imported:\n" + "\n".join(problems))
    return specs


@programmes_cli.command("import")
def programmes_import(
    path: Annotated[Path, typer.Argument(help="YAML or JSON file of programme specifications.")],
) -> None:
    """Validate and store grant programmes (all or none)."""
    from geo.grants import checks as grants

    specs = _read_specs(path)

    async def save(conn: psycopg.AsyncConnection) -> list[grants.Programme]:
        return [await grants.save_programme(conn, spec, actor="cli") for spec in specs]

    for programme in with_connection(save):
        console.print(f"{programme.id}: {programme.name} (version {programme.version})")
