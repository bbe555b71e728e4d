"""Assets of community value: the register, its append-only history and its serving table.

Revision ID: 0006_assets_of_community_value
Revises: 0005_eligibility_layer
Create Date: 2026-11-26

``asset`` holds each asset's facts and lifecycle dates (statutory deadlines are computed from
them by geo/rights.py, never stored as typed input); its LSOA, district and IMD decile are
derived in SQL from its point. ``asset_event`` records every step (who, when, what), and
refuses updates and deletes like ``audit_log``. ``asset_serving`` is the map layer
(collection ``assets-of-community-value``), rewritten in the transaction of every write.
"""

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

from data.migrations.helpers import (
    audit_columns,
    create_serving_table,
    drop_append_only_table,
    event_table,
    flag,
    make_append_only,
    one_of,
    optional,
    register_entry_key,
    register_layer_key,
    required,
)

revision = "0006_assets_of_community_value"
down_revision = "0005_eligibility_layer"
branch_labels = None
depends_on = None

CATEGORIES = (
    "pub",
    "shop",
    "post_office",
    "library",
    "park_green_space",
    "community_centre",
    "sports_facility",
    "other",
)
OWNER_TYPES = (
    "central_government",
    "arms_length_body",
    "local_authority",
    "commercial",
    "charity",
    "other",
)
STATUSES = (
    "recorded",
    "nominated",
    "listed",
    "not_listed",
    "under_review",
    "disposal_notified",
    "full_moratorium",
    "disposed",
    "removed",
)


def upgrade() -> None:
    op.create_table(
        "asset",
        *register_entry_key(),
        *required(sa.Text, "category", "owner_type"),
        sa.Column("description", sa.Text, nullable=False, server_default=""),
        *optional(sa.Text, "address", "postcode"),
        sa.Column("uprn", sa.BigInteger),
        *optional(sa.Text, "organisation", "notes"),
        flag("is_example"),
        sa.Column("source", sa.Text, nullable=False, server_default="api"),
        # Derived in SQL from the point (IoD2025 geography), never typed.
        *required(sa.Text, "edition_code", "lsoa_code", "lad_code"),
        sa.Column("imd_decile", sa.Integer),
        sa.Column("geom", Geometry("POINT", srid=27700, spatial_index=True), nullable=False),
        sa.Column("site_geom", Geometry("MULTIPOLYGON", srid=27700, spatial_index=False)),
        # The lifecycle (geo/rights.py): status and the dates that drive the deadlines.
        sa.Column("status", sa.Text, nullable=False, server_default="recorded"),
        sa.Column("nominated_on", sa.Date),
        sa.Column("nominating_group", sa.Text),
        sa.Column("nominating_body_type", sa.Text),
        sa.Column("decided_on", sa.Date),
        sa.Column("listed_on", sa.Date),
        sa.Column("decline_reason", sa.Text),
        sa.Column("review_requested_on", sa.Date),
        sa.Column("notice_received_on", sa.Date),
        sa.Column("bid_requested_on", sa.Date),
        sa.Column("interest_group", sa.Text),
        sa.Column("disposed_on", sa.Date),
        sa.Column("exemption", sa.Text),
        sa.Column("removed_on", sa.Date),
        sa.Column("removal_reason", sa.Text),
        sa.Column("last_step_on", sa.Date),
        *audit_columns(),
        sa.CheckConstraint(one_of("category", CATEGORIES), name="ck_asset_category"),
        sa.CheckConstraint(one_of("owner_type", OWNER_TYPES), name="ck_asset_owner_type"),
        sa.CheckConstraint(one_of("status", STATUSES), name="ck_asset_status"),
        sa.CheckConstraint("uprn IS NULL OR uprn > 0", name="ck_asset_uprn"),
    )
    op.create_index("ix_asset_lad_status", "asset", ["lad_code", "status"])
    event_table("asset_event", "asset_id", "asset", index="ix_asset_event_asset")
    make_append_only("asset_event")
    create_serving_table(
        "asset_serving",
        *register_layer_key(),
        *required(sa.Text, "category", "owner_type", "status", "lsoa_code", "lad_code"),
        sa.Column("imd_decile", sa.Integer),
        *optional(sa.Text, "next_deadline", "next_deadline_kind", "listed_on"),
        sa.Column("is_example", sa.Boolean, nullable=False),
        geometry_type="POINT",
        simplified_type="POINT",
    )


def downgrade() -> None:
    op.drop_table("asset_serving")
    drop_append_only_table("asset_event")
    op.drop_table("asset")
