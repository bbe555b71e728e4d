"""Table-building pieces the migrations share: keys, audit columns, geometries, event tables.

Each helper emits exactly the DDL the migrations wrote out by hand before it existed, so a
migration that uses one creates the same schema. These are frozen history: a helper that an
applied migration calls must emit the same DDL for ever, or the schema an old migration
builds would change under it (and a fresh database would differ from a migrated one). Change
a helper only by adding an argument whose default keeps what it emits today; a migration that
needs other columns writes them itself or adds such an argument. Migrations import these
helpers and nothing of the live code (geo/, app/): the live code changes, history does not.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

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


def text_keys(*names: str) -> list[sa.Column]:
    """Return ``names``, in that order: the text columns of the table's primary key."""
    return [sa.Column(name, sa.Text, primary_key=True) for name in names]


def required(type_: Any, *names: str) -> list[sa.Column]:
    """Return ``names``, in that order: NOT NULL columns of ``type_``, with no default."""
    return [sa.Column(name, type_, nullable=False) for name in names]


def optional(type_: Any, *names: str) -> list[sa.Column]:
    """Return ``names``, in that order: nullable columns of ``type_``, with no default."""
    return [sa.Column(name, type_) for name in names]


def identity_key() -> sa.Column:
    """Return ``id``: the table's bigint identity primary key."""
    return sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True)


def parent_reference(
    column: str, target: str, type_: Any = sa.BigInteger, primary_key: bool = False
) -> sa.Column:
    """Return ``column``, NOT NULL, referring to ``target`` ("table.column"), deleted with it.

    ``primary_key`` makes it (part of) the primary key, as in a child table keyed by its parent.
    """
    return sa.Column(
        column,
        type_,
        sa.ForeignKey(target, ondelete="CASCADE"),
        nullable=False,
        primary_key=primary_key,
    )


def flag(name: str, default: bool = False) -> sa.Column:
    """Return ``name``: a NOT NULL boolean defaulting to ``default``."""
    return sa.Column(
        name, sa.Boolean, nullable=False, server_default=sa.true() if default else sa.false()
    )


def now_timestamp(name: str) -> sa.Column:
    """Return ``name``: a NOT NULL ``timestamptz`` defaulting to now() (when a row was written)."""
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now())


def created_updated_columns() -> list[sa.Column]:
    """Return the ``created_at`` and ``updated_at`` columns, both defaulting to now()."""
    return [now_timestamp(name) for name in ("created_at", "updated_at")]


def version_column() -> sa.Column:
    """Return ``version``: a row's edit counter (optimistic locking), starting at 1."""
    return sa.Column("version", sa.Integer, nullable=False, server_default="1")


def audit_columns() -> list[sa.Column]:
    """Return ``created_by``, ``created_at``, ``updated_at`` and ``version``, in that order."""
    return [
        sa.Column("created_by", sa.Text, nullable=False),
        *created_updated_columns(),
        version_column(),
    ]


def reference_and_name() -> list[sa.Column]:
    """Return a register entry's public ``reference`` (unique) and its ``name``, NOT NULL."""
    return [
        sa.Column("reference", sa.Text, nullable=False, unique=True),
        sa.Column("name", sa.Text, nullable=False),
    ]


def register_entry_key() -> list[sa.Column]:
    """Return ``id``, ``reference`` and ``name``: how a register (assets, groups) keys an entry."""
    return [identity_key(), *reference_and_name()]


def register_layer_key() -> list[sa.Column]:
    """Return ``fid`` (the tile feature id, primary key), ``reference`` and ``name``.

    How the map layer of a register (assets, groups, organisers, areas) keys a feature.
    """
    return [sa.Column("fid", sa.BigInteger, primary_key=True), *reference_and_name()]


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


def create_serving_table(
    table: str,
    *columns: sa.Column | sa.Constraint,
    geometry_type: str,
    simplified_type: str = "GEOMETRY",
    leading: Sequence[str] = (),
    **options: Any,
) -> None:
    """Create a served layer: ``columns``, then its five geometries, each GiST-indexed.

    The indexes lead with ``leading`` (as ``gist_indexes``); ``options`` go to create_table.
    """
    op.create_table(
        table, *columns, *serving_geometry_columns(geometry_type, simplified_type), **options
    )
    gist_indexes(table, SERVING_GEOMETRIES, leading=leading)


def lifecycle_step_columns(to_status_nullable: bool = False) -> list[sa.Column]:
    """Return an event row's step columns: the step, the statuses, its dates, who and details."""
    return [
        sa.Column("step", sa.Text, nullable=False),
        sa.Column("from_status", sa.Text),
        sa.Column("to_status", sa.Text, nullable=to_status_nullable),
        sa.Column("effective_on", sa.Date, nullable=False),
        sa.Column("recorded_on", sa.Date, nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        now_timestamp("at"),
        sa.Column("details", JSONB, nullable=False, server_default="{}"),
    ]


def event_table(table: str, parent_column: str, parent_table: str, index: str) -> None:
    """Create a lifecycle's event table: one row per step, indexed by parent then id."""
    op.create_table(
        table,
        identity_key(),
        sa.Column(
            parent_column, sa.BigInteger, sa.ForeignKey(f"{parent_table}.id"), nullable=False
        ),
        *lifecycle_step_columns(),
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
