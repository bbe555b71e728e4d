"""``platoons demo``, what ``make run`` loads, on a database of its own: every part, twice.

The demo is what a newcomer sees first, so each part is checked against its own file (read
here without the loaders), each is labelled as what it is, and a second run leaves the same
state.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Iterator

import psycopg
import pytest
import yaml
from typer.testing import CliRunner

from cli import demo
from cli.main import cli
from config.settings import DatabaseSettings
from tests.utils.databases import throwaway_database

GROUPS, ORGANISERS = 12, 3
DEMO_ARGS = ["demo", "--groups", str(GROUPS), "--organisers", str(ORGANISERS), "--seed", "7"]

# Rows a second run must leave exactly as the first did, by table.
STATE_QUERIES = {
    "lsoa": "SELECT count(*) FROM lsoa",
    "grant_programme": "SELECT count(*) FROM grant_programme",
    "asset": "SELECT count(*) FROM asset",
    "community_group": "SELECT count(*) FROM community_group WHERE is_synthetic",
    "organiser": "SELECT count(*) FROM organiser WHERE is_synthetic",
    "crime": "SELECT count(*) FROM crime",
    "spending_line": "SELECT count(*) FROM spending_line",
    "imported_grant": "SELECT count(*) FROM imported_grant",
    "neighbourhood_area": "SELECT count(*) FROM neighbourhood_area WHERE is_example",
    "neighbourhood_plan": "SELECT count(*) FROM neighbourhood_plan WHERE is_example",
}


@pytest.fixture(scope="module")
def demo_database(settings: DatabaseSettings) -> Iterator[str]:
    """A database of the demo's own (dropped afterwards), migrated as ``make run`` does."""
    with throwaway_database(settings, "demo") as url:
        env = {"PLATOONS_DATABASE_URL": url}
        upgraded = CliRunner().invoke(cli, ["db", "upgrade"], env=env)
        assert upgraded.exit_code == 0, upgraded.output
        yield url


def _dsn(url: str) -> str:
    return DatabaseSettings(database_url=url).dsn  # type: ignore[call-arg]


def _state(url: str) -> dict[str, int]:
    with psycopg.connect(_dsn(url)) as conn:
        return {table: conn.execute(query).fetchone()[0] for table, query in STATE_QUERIES.items()}


def _zip_rows(path: object) -> int:
    """Data rows of a payment zip's one CSV, read with the csv module alone."""
    with zipfile.ZipFile(path) as archive:
        (name,) = archive.namelist()
        with archive.open(name) as raw:
            return sum(1 for _ in csv.DictReader(io.TextIOWrapper(raw, encoding="utf-8-sig")))


def test_demo_loads_every_part_labelled_and_a_second_run_changes_nothing(
    demo_database: str,
) -> None:
    env = {"PLATOONS_DATABASE_URL": demo_database}
    first = CliRunner().invoke(cli, DEMO_ARGS, env=env)
    assert first.exit_code == 0, first.output
    after_first = _state(demo_database)

    # Each part against its own file.
    programmes = yaml.safe_load(demo.PROGRAMMES_FILE.read_text(encoding="utf-8"))
    assert after_first["grant_programme"] == len(programmes)
    assert after_first["community_group"] == GROUPS
    assert after_first["organiser"] == ORGANISERS
    assert after_first["spending_line"] == sum(_zip_rows(p) for p in demo.SPENDING_FILES)
    with demo.GRANT_FILES[0].open(encoding="utf-8-sig", newline="") as grants_file:
        assert after_first["imported_grant"] == sum(1 for _ in csv.DictReader(grants_file))
    example_areas = json.loads(demo.PLANNING_EXAMPLE_FILES[0].read_text(encoding="utf-8"))
    assert after_first["neighbourhood_area"] == len(example_areas["features"])
    with demo.PLANNING_EXAMPLE_FILES[1].open(encoding="utf-8", newline="") as plans_file:
        assert after_first["neighbourhood_plan"] == sum(1 for _ in csv.DictReader(plans_file))
    assert after_first["asset"] > 600  # Trafford's land and buildings plus the example register
    assert after_first["crime"] > 0
    with psycopg.connect(_dsn(demo_database)) as conn:
        outside = conn.execute(
            "SELECT count(*) FROM crime"
            " WHERE lad_code IS NULL OR lad_code NOT IN (SELECT code FROM lad)"
        ).fetchone()
    assert outside == (0,)  # only the demo districts' crimes are stored

    # Every kind of data says what it is.
    for label in ("REAL", "EXAMPLE", "SYNTHETIC"):
        assert label in first.output
    for words in ("council payments", "voluntary sector grants", "neighbourhood planning"):
        assert words in first.output

    second = CliRunner().invoke(cli, DEMO_ARGS, env=env)
    assert second.exit_code == 0, second.output
    assert _state(demo_database) == after_first
    assert f"{len(example_areas['features'])} already there" in second.output
