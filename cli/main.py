"""The ``platoons`` typer app: each concern's commands, from the module for that concern."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import typer

from cli.assets import assets_cli
from cli.coverage import coverage_cli
from cli.db import db_cli
from cli.demo import demo
from cli.housekeeping import housekeeping
from cli.keys import keys_cli
from cli.load import extract_demo, load_cli
from cli.maps import export_map
from cli.planning import planning_cli
from cli.programmes import programmes_cli
from cli.serve import serve
from cli.spending import load_grants, load_spending
from cli.tiles import export_tiles

# Each concern's group of commands, and the commands that stand alone, by the name they are run
# as (typer lists the commands, then the groups, each in this order).
GROUPS: dict[str, typer.Typer] = {
    "db": db_cli,
    "load": load_cli,
    "keys": keys_cli,
    "programmes": programmes_cli,
    "assets": assets_cli,
    "planning": planning_cli,
    "coverage": coverage_cli,
}
COMMANDS: dict[str, Callable[..., Any]] = {
    "serve": serve,
    "extract-demo": extract_demo,
    "export-map": export_map,
    "housekeeping": housekeeping,
    "export-tiles": export_tiles,
    "demo": demo,
}

load_cli.command("spending")(load_spending)
load_cli.command("grants")(load_grants)
cli = typer.Typer(help="Platoons: neighbourhood analytics for England.", no_args_is_help=True)
for name, command in COMMANDS.items():
    cli.command(name)(command)
for name, group in GROUPS.items():
    cli.add_typer(group, name=name)
