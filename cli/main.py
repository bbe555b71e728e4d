"""The ``platoons`` typer app: each concern's commands, from the module for that concern."""

from __future__ import annotations

import typer

from cli.assets import assets_cli
from cli.coverage import coverage_cli
from cli.db import db_cli
from cli.housekeeping import housekeeping
from cli.keys import keys_cli
from cli.load import extract_demo, load_cli
from cli.maps import export_map
from cli.programmes import programmes_cli
from cli.serve import serve

cli = typer.Typer(help="Platoons: neighbourhood analytics for England.", no_args_is_help=True)
cli.add_typer(db_cli, name="db")
cli.add_typer(load_cli, name="load")
cli.add_typer(keys_cli, name="keys")
cli.add_typer(programmes_cli, name="programmes")
cli.command("serve")(serve)
cli.command("extract-demo")(extract_demo)
cli.command("export-map")(export_map)
cli.add_typer(assets_cli, name="assets")
cli.add_typer(coverage_cli, name="coverage")
cli.command("housekeeping")(housekeeping)
