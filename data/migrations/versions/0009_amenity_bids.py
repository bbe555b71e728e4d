"""Bids to run threatened amenities: a second process over assets, beside the ACV lifecycle.

Revision ID: 0009_amenity_bids
Revises: 0008_groups_organisers_coverage
Create Date: 2026-11-25

A group expresses interest in running a state-owned amenity (a park, a library) that faces
closure or disposal; an officer accepts or rejects it; an accepted bid ends transferred or
fallen through; the group may withdraw. The steps and dates are geo/amenity_bids.py's.
``amenity_bid_event`` is append-only like ``asset_event``; ``asset_serving`` gains the number
of open bids so the map shows them.
"""

import sqlalchemy as sa
from alembic import op

from data.migrations.helpers import (
    drop_append_only_table,
    event_table,
    identity_key,
    make_append_only,
    now_timestamp,
    one_of,
    optional,
    required,
    version_column,
)

revision = "0009_amenity_bids"
down_revision = "0008_groups_organisers_coverage"
branch_labels = None
depends_on = None

STATUSES = ("expressed", "accepted", "rejected", "withdrawn", "transferred", "fell_through")
THREATS = ("closure", "disposal", "reduced_service", "other")


def upgrade() -> None:
    op.create_table(
        "amenity_bid",
        identity_key(),
        sa.Column("asset_id", sa.BigInteger, sa.ForeignKey("asset.id"), nullable=False),
        *required(sa.Text, "group_name", "threat", "proposal", "status"),
        sa.Column("expressed_on", sa.Date, nullable=False),
        *optional(sa.Date, "decided_on", "ended_on"),
        *optional(sa.Text, "reason", "terms"),
        sa.Column("last_step_on", sa.Date, nullable=False),
        sa.Column("created_by", sa.Text, nullable=False),
        now_timestamp("created_at"),
        version_column(),
        sa.CheckConstraint(one_of("status", STATUSES), name="ck_amenity_bid_status"),
        sa.CheckConstraint(one_of("threat", THREATS), name="ck_amenity_bid_threat"),
    )
    op.create_index("ix_amenity_bid_asset", "amenity_bid", ["asset_id", "status"])
    # One open bid per group per asset: a second expression of interest is a duplicate.
    op.create_index(
        "ux_amenity_bid_open_per_group",
        "amenity_bid",
        ["asset_id", sa.text("lower(group_name)")],
        unique=True,
        postgresql_where=sa.text("status IN ('expressed', 'accepted')"),
    )
    event_table("amenity_bid_event", "bid_id", "amenity_bid", index="ix_amenity_bid_event_bid")
    make_append_only("amenity_bid_event")
    op.add_column(
        "asset_serving",
        sa.Column("open_amenity_bids", sa.Integer, nullable=False, server_default="0"),
    )


def downgrade() -> None:
    op.drop_column("asset_serving", "open_amenity_bids")
    drop_append_only_table("amenity_bid_event")
    op.drop_table("amenity_bid")
