"""The migrations (data/migrations): their downgrades undo them, and the vocabularies they froze
into CHECK constraints are still the ones the live code speaks.

A migration keeps its own copy of every list of allowed values: it must build the same schema
for ever, so it cannot import them from geo/, which changes. These tests are what keeps the two
copies equal: a value added to a ``Literal`` in geo/ without a migration that widens the CHECK
fails here, not on the first insert in production.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import get_args

import psycopg
import pytest
from alembic import command

from config.settings import DatabaseSettings
from data import schema, spending
from geo import amenity_bids, rights
from geo.assets import models as asset_models
from geo.groups import models as group_models
from geo.planning import rules as planning_rules
from tests.utils import spending as spending_files
from tests.utils.databases import schema_description, throwaway_database

# Each CHECK constraint of a lifecycle or category column, and the live values it must allow.
VOCABULARIES: dict[str, Sequence[str]] = {
    "ck_asset_category": get_args(asset_models.Category),
    "ck_asset_owner_type": get_args(asset_models.OwnerType),
    "ck_asset_status": rights.STATUSES,
    "ck_group_kind": get_args(group_models.GroupKind),
    "ck_activity_kind": get_args(group_models.ActivityKind),
    "ck_rating_status": get_args(group_models.RatingStatus),
    "ck_amenity_bid_status": get_args(amenity_bids.BidStatus),
    "ck_amenity_bid_threat": get_args(amenity_bids.Threat),
    "ck_neighbourhood_area_kind": planning_rules.AREA_KINDS,
    "ck_neighbourhood_area_applicant": planning_rules.APPLICANT_TYPES,
    "ck_neighbourhood_area_status": planning_rules.AREA_STATUSES,
    "ck_neighbourhood_forum_status": planning_rules.FORUM_STATUSES,
    "ck_neighbourhood_plan_status": planning_rules.PLAN_STATUSES,
}


def check_values(conn: psycopg.Connection, constraint: str) -> set[str]:
    """Return the quoted values a CHECK constraint of the public schema allows."""
    row = conn.execute(
        "SELECT pg_get_constraintdef(c.oid) FROM pg_constraint c"
        " JOIN pg_namespace n ON n.oid = c.connamespace"
        " WHERE n.nspname = 'public' AND c.contype = 'c' AND c.conname = %s",
        (constraint,),
    ).fetchone()
    assert row is not None, f"no CHECK constraint {constraint}"
    return set(re.findall(r"'([^']*)'::text", row[0]))


@pytest.mark.parametrize(("constraint", "live"), VOCABULARIES.items(), ids=list(VOCABULARIES))
def test_live_vocabularies_equal_the_schema_checks(
    conn: psycopg.Connection, constraint: str, live: Sequence[str]
) -> None:
    assert check_values(conn, constraint) == set(live)


# Left after a downgrade to nothing: Alembic's table and PostGIS's own table and views.
POSTGIS_RELATIONS = {"spatial_ref_sys", "geometry_columns", "geography_columns"}
EMPTY_SCHEMA_TABLES = {"alembic_version", *POSTGIS_RELATIONS}


def test_downgrade_to_nothing_then_upgrade_builds_the_same_schema(
    settings: DatabaseSettings,
) -> None:
    """Every migration's downgrade undoes it: from head down to no revision leaves no table of
    ours, and upgrading again builds the schema the first upgrade built, to the letter."""
    with throwaway_database(settings, "migrations_round_trip") as url:
        own = DatabaseSettings(database_url=url)  # type: ignore[call-arg]
        schema.upgrade(own.sqlalchemy_url)
        first = schema_description(own.dsn)
        assert {t for t, *_ in first["columns"]} >= {"asset", "crime", "lsoa", "spending_line"}
        command.downgrade(schema.alembic_config(own.sqlalchemy_url), "base")
        emptied = schema_description(own.dsn)
        assert {t for t, *_ in emptied["columns"]} <= EMPTY_SCHEMA_TABLES
        assert emptied["triggers"] == [] and emptied["functions"] == []
        assert {v for v, _ in emptied["views"]} <= POSTGIS_RELATIONS
        schema.upgrade(own.sqlalchemy_url)
        assert schema_description(own.dsn) == first


ROLLUPS = (
    "SELECT file_id, publisher, level, month, beneficiary_key, service, category, over_500,"
    " redacted, amount, lines FROM spending_rollup ORDER BY 1, 2, 3, 4, 5, 6, 7, 8, 9"
)


def test_spending_rollups_made_by_migration_0019_equal_a_loads(
    settings: DatabaseSettings,
) -> None:
    """Migration 0019 builds each loaded file's rollups with SQL of its own (frozen history):
    downgraded past it and upgraded again, a database holds the rollups the load wrote."""
    with throwaway_database(settings, "migrations_spending") as url:
        own = DatabaseSettings(database_url=url)  # type: ignore[call-arg]
        schema.upgrade(own.sqlalchemy_url)
        with psycopg.connect(own.dsn) as conn:
            reports = spending.load_spending(conn, [spending_files.FILE_2025_26])
            loaded = conn.execute(ROLLUPS).fetchall()
        assert [r.status for r in reports] == ["loaded"] and len(loaded) > 1000
        assert {row[2] for row in loaded} == {
            "month",
            "beneficiary",
            "service",
            "category",
            "month_service",
            "month_category",
        }
        command.downgrade(schema.alembic_config(own.sqlalchemy_url), "0013_crime")
        with psycopg.connect(own.dsn) as conn:
            assert conn.execute("SELECT to_regclass('spending_rollup')").fetchone() == (None,)
        schema.upgrade(own.sqlalchemy_url)
        with psycopg.connect(own.dsn) as conn:
            assert conn.execute(ROLLUPS).fetchall() == loaded
