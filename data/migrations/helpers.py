"""Table-building pieces the migrations share: geometry columns, GiST indexes, event tables.

Each helper emits exactly the DDL the migrations wrote out by hand before it existed, so a
migration that uses one creates the same schema. Change a helper only by adding an argument
whose default keeps what it emits today: migrations already applied must never change.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects.postgresql import JSONB

# The exact geometries (EPSG:27700, 4326, 3857), then the two simplified for the vector tiles'
# low and middle zooms (tolerances in the serving tables' refresh SQL).
EXACT_GEOMETRIES = ("geom", "geom_4326", "geom_3857")
SERVING_GEOMETRIES = (*EXACT_GEOMETRIES, "geom_3857_low", "geom_3857_mid")


def one_of(column: str, values: Sequence[str]) -> str:
    """Return the CHECK expression ``column IN ('a', 'b', ...)``."""
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def geometry_columns(geometry_type: str, nullable: bool = False) -> list[sa.Column]:
    """Return the three exact geometry columns (27700, 4326, 3857) of a table."""
    return [
        sa.Column(name, Geometry(geometry_type, srid=srid, spatial_index=False), nullable=nullable)
        for name, srid in zip(EXACT_GEOMETRIES, (27700, 4326, 3857), strict=True)
    ]


def serving_geometry_columns(
    geometry_type: str, simplified_type: str = "GEOMETRY"
) -> list[sa.Column]:
    """Return a served layer's geometry columns: the exact three, then the two simplified."""
    return [
        *geometry_columns(geometry_type),
        sa.Column("geom_3857_low", Geometry(simplified_type, srid=3857, spatial_index=False)),
        sa.Column("geom_3857_mid", Geometry(simplified_type, srid=3857, spatial_index=False)),
    ]


def gist_indexes(table: str, columns: Sequence[str], leading: Sequence[str] = ()) -> None:
    """Create ``ix_<table>_<column>``, a GiST index on ``(*leading, column)``, per column."""
    for column in columns:
        op.create_index(f"ix_{table}_{column}", table, [*leading, column], postgresql_using="gist")


def created_updated_columns() -> list[sa.Column]:
    """Return the ``created_at`` and ``updated_at`` columns, both defaulting to now()."""
    return [
        sa.Column(name, sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now())
        for name in ("created_at", "updated_at")
    ]


def event_table(table: str, parent_column: str, parent_table: str, index: str) -> None:
    """Create a lifecycle's event table: one row per step, indexed by parent then id."""
    op.create_table(
        table,
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column(
            parent_column, sa.BigInteger, sa.ForeignKey(f"{parent_table}.id"), nullable=False
        ),
        sa.Column("step", sa.Text, nullable=False),
        sa.Column("from_status", sa.Text),
        sa.Column("to_status", sa.Text, nullable=False),
        sa.Column("effective_on", sa.Date, nullable=False),
        sa.Column("recorded_on", sa.Date, nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("details", JSONB, nullable=False, server_default="{}"),
    )
    op.create_index(index, table, [parent_column, "id"])


def drop_append_only_table(table: str) -> None:
    """Drop a table made append-only by ``<table>_is_append_only()``, its triggers, then it."""
    op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
    op.execute(f"DROP TRIGGER IF EXISTS {table}_no_update_delete ON {table}")
    op.drop_table(table)
    op.execute(f"DROP FUNCTION IF EXISTS {table}_is_append_only()")


def make_append_only(table: str) -> None:
    """Make ``table`` refuse UPDATE, DELETE and TRUNCATE, by trigger, as history should."""
    op.execute(
        f"""
        CREATE FUNCTION {table}_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION '{table} is append-only: % refused', TG_OP
                USING ERRCODE = 'insufficient_privilege';
        END $$;
        CREATE TRIGGER {table}_no_update_delete BEFORE UPDATE OR DELETE ON {table}
            FOR EACH ROW EXECUTE FUNCTION {table}_is_append_only();
        CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}
            FOR EACH STATEMENT EXECUTE FUNCTION {table}_is_append_only();
        """
    )
