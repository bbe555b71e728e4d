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
from sqlalchemy.dialects.postgresql import JSONB

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


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def upgrade() -> None:
    op.create_table(
        "asset",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("reference", sa.Text, nullable=False, unique=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("category", sa.Text, nullable=False),
        sa.Column("owner_type", sa.Text, nullable=False),
        sa.Column("description", sa.Text, nullable=False, server_default=""),
        sa.Column("address", sa.Text),
        sa.Column("postcode", sa.Text),
        sa.Column("uprn", sa.BigInteger),
        sa.Column("organisation", sa.Text),
        sa.Column("notes", sa.Text),
        sa.Column("is_example", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("source", sa.Text, nullable=False, server_default="api"),
        # Derived in SQL from the point (IoD2025 geography), never typed.
        sa.Column("edition_code", sa.Text, nullable=False),
        sa.Column("lsoa_code", sa.Text, nullable=False),
        sa.Column("lad_code", sa.Text, nullable=False),
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
        sa.Column("created_by", sa.Text, nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column("version", sa.Integer, nullable=False, server_default="1"),
        sa.CheckConstraint(_in("category", CATEGORIES), name="ck_asset_category"),
        sa.CheckConstraint(_in("owner_type", OWNER_TYPES), name="ck_asset_owner_type"),
        sa.CheckConstraint(_in("status", STATUSES), name="ck_asset_status"),
        sa.CheckConstraint("uprn IS NULL OR uprn > 0", name="ck_asset_uprn"),
    )
    op.create_index("ix_asset_lad_status", "asset", ["lad_code", "status"])
    op.create_table(
        "asset_event",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("asset_id", sa.BigInteger, sa.ForeignKey("asset.id"), nullable=False),
        sa.Column("step", sa.Text, nullable=False),
        sa.Column("from_status", sa.Text),
        sa.Column("to_status", sa.Text, nullable=False),
        sa.Column("effective_on", sa.Date, nullable=False),
        sa.Column("recorded_on", sa.Date, nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("details", JSONB, nullable=False, server_default="{}"),
    )
    op.create_index("ix_asset_event_asset", "asset_event", ["asset_id", "id"])
    op.execute(
        """
        CREATE FUNCTION asset_event_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'asset_event is append-only: % refused', TG_OP
                USING ERRCODE = 'insufficient_privilege';
        END $$;
        CREATE TRIGGER asset_event_no_update_delete BEFORE UPDATE OR DELETE ON asset_event
            FOR EACH ROW EXECUTE FUNCTION asset_event_is_append_only();
        CREATE TRIGGER asset_event_no_truncate BEFORE TRUNCATE ON asset_event
            FOR EACH STATEMENT EXECUTE FUNCTION asset_event_is_append_only();
        """
    )
    op.create_table(
        "asset_serving",
        sa.Column("fid", sa.BigInteger, primary_key=True),
        sa.Column("reference", sa.Text, nullable=False, unique=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("category", sa.Text, nullable=False),
        sa.Column("owner_type", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("lsoa_code", sa.Text, nullable=False),
        sa.Column("lad_code", sa.Text, nullable=False),
        sa.Column("imd_decile", sa.Integer),
        sa.Column("next_deadline", sa.Text),
        sa.Column("next_deadline_kind", sa.Text),
        sa.Column("listed_on", sa.Text),
        sa.Column("is_example", sa.Boolean, nullable=False),
        sa.Column("geom", Geometry("POINT", srid=27700, spatial_index=False), nullable=False),
        sa.Column("geom_4326", Geometry("POINT", srid=4326, spatial_index=False), nullable=False),
        sa.Column("geom_3857", Geometry("POINT", srid=3857, spatial_index=False), nullable=False),
        sa.Column("geom_3857_low", Geometry("POINT", srid=3857, spatial_index=False)),
        sa.Column("geom_3857_mid", Geometry("POINT", srid=3857, spatial_index=False)),
    )
    for column in ("geom", "geom_4326", "geom_3857", "geom_3857_low", "geom_3857_mid"):
        op.create_index(
            f"ix_asset_serving_{column}", "asset_serving", [column], postgresql_using="gist"
        )


def downgrade() -> None:
    op.drop_table("asset_serving")
    op.execute("DROP TRIGGER IF EXISTS asset_event_no_truncate ON asset_event")
    op.execute("DROP TRIGGER IF EXISTS asset_event_no_update_delete ON asset_event")
    op.drop_table("asset_event")
    op.execute("DROP FUNCTION IF EXISTS asset_event_is_append_only()")
    op.drop_table("asset")
