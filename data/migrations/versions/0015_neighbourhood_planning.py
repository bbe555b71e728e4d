"""Neighbourhood planning: areas, forums, plans, their audit trail, levy receipts and the map.

Revision ID: 0015_neighbourhood_planning
Revises: 0013_housekeeping_run
Create Date: 2026-12-07

``neighbourhood_area`` holds each area application: its geometry in EPSG:27700 (and 4326),
every district it touches, its kind (standard, across authorities, whole parish; the kind
sets the deadlines of geo/planning/rules.py) and its lifecycle dates; statutory deadlines are
computed, never stored as typed input. ``neighbourhood_forum`` and ``neighbourhood_plan``
hang off an area; at most one forum is designated for an area and at most one plan is live
(in progress or made) per area, both held by partial unique indexes as well as by the code.
``planning_event`` records every step (append-only, like ``asset_event``).
``levy_receipt`` holds the levy receipts an officer records, and ``area_dwelling_count`` the
council-tax dwellings (and the cap's index figures) per financial year with their source.
``neighbourhood_area_serving`` is the map layer (collection ``neighbourhood-areas``).
"""

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

from data.migrations.helpers import (
    audit_columns,
    create_serving_table,
    drop_append_only_table,
    flag,
    identity_key,
    lifecycle_step_columns,
    make_append_only,
    now_timestamp,
    one_of,
    optional,
    register_entry_key,
    register_layer_key,
    required,
)

revision = "0015_neighbourhood_planning"
down_revision = "0013_housekeeping_run"
branch_labels = None
depends_on = None

AREA_KINDS = ("standard", "cross_authority", "whole_parish")
APPLICANT_TYPES = ("parish_council", "prospective_forum", "neighbourhood_group")
AREA_STATUSES = ("applied", "publicised", "designated", "refused", "withdrawn")
FORUM_STATUSES = (
    "applied",
    "publicised",
    "designated",
    "refused",
    "withdrawn",
    "revoked",
    "expired",
)
PLAN_STATUSES = (
    "draft",
    "pre_submission",
    "submitted",
    "publicised",
    "examination",
    "examiner_reported",
    "referendum_ordered",
    "referendum_passed",
    "made",
    "failed",
    "withdrawn",
)


def upgrade() -> None:
    op.create_table(
        "neighbourhood_area",
        *register_entry_key(),
        *required(sa.Text, "applicant_type", "applicant_name"),
        sa.Column("group_id", sa.BigInteger, sa.ForeignKey("community_group.id")),
        sa.Column("kind", sa.Text, nullable=False),
        flag("whole_parish"),
        sa.Column("status", sa.Text, nullable=False, server_default="applied"),
        sa.Column("applied_on", sa.Date, nullable=False),
        *optional(sa.Date, "publicised_on", "decided_on"),
        flag("decided_late"),
        sa.Column("reason", sa.Text),
        sa.Column("last_step_on", sa.Date),
        sa.Column("geom", Geometry("MULTIPOLYGON", srid=27700, spatial_index=True), nullable=False),
        sa.Column(
            "geom_4326", Geometry("MULTIPOLYGON", srid=4326, spatial_index=False), nullable=False
        ),
        sa.Column("area_ha", sa.Float, nullable=False),
        sa.Column("lad_codes", ARRAY(sa.Text), nullable=False),
        sa.Column("principal_lad_code", sa.Text, nullable=False),
        sa.Column("website", sa.Text),
        flag("is_example"),
        sa.Column("source", sa.Text, nullable=False, server_default="api"),
        *audit_columns(),
        sa.CheckConstraint(one_of("kind", AREA_KINDS), name="ck_neighbourhood_area_kind"),
        sa.CheckConstraint(
            one_of("applicant_type", APPLICANT_TYPES), name="ck_neighbourhood_area_applicant"
        ),
        sa.CheckConstraint(one_of("status", AREA_STATUSES), name="ck_neighbourhood_area_status"),
        sa.CheckConstraint("area_ha > 0", name="ck_neighbourhood_area_size"),
    )
    op.create_index("ix_neighbourhood_area_status", "neighbourhood_area", ["status"])
    op.create_index(
        "ix_neighbourhood_area_lads", "neighbourhood_area", ["lad_codes"], postgresql_using="gin"
    )
    op.create_table(
        "neighbourhood_forum",
        identity_key(),
        # A registered group applying keeps its NG- reference: unique among live forums only.
        sa.Column("reference", sa.Text, nullable=False),
        sa.Column("area_id", sa.BigInteger, sa.ForeignKey("neighbourhood_area.id"), nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("group_id", sa.BigInteger, sa.ForeignKey("community_group.id")),
        sa.Column("status", sa.Text, nullable=False, server_default="applied"),
        flag("cross_authority"),
        sa.Column("applied_on", sa.Date, nullable=False),
        *optional(sa.Date, "publicised_on", "designated_on", "decided_on"),
        flag("decided_late"),
        sa.Column("ended_on", sa.Date),
        # s.61F(5): recorded as a count with the date it was confirmed; no member names.
        sa.Column("members", sa.Integer),
        sa.Column("members_confirmed_on", sa.Date),
        flag("open_membership"),
        flag("written_constitution"),
        sa.Column("website", sa.Text),
        sa.Column("reason", sa.Text),
        sa.Column("last_step_on", sa.Date),
        flag("is_example"),
        *audit_columns(),
        sa.CheckConstraint(one_of("status", FORUM_STATUSES), name="ck_neighbourhood_forum_status"),
        sa.CheckConstraint(
            "members IS NULL OR members >= 0", name="ck_neighbourhood_forum_members"
        ),
    )
    op.execute(
        "CREATE UNIQUE INDEX ux_neighbourhood_forum_designated ON neighbourhood_forum (area_id)"
        " WHERE status = 'designated'"
    )
    op.execute(
        "CREATE UNIQUE INDEX ux_neighbourhood_forum_reference ON neighbourhood_forum (reference)"
        " WHERE status IN ('applied', 'publicised', 'designated')"
    )
    op.create_table(
        "neighbourhood_plan",
        identity_key(),
        sa.Column("reference", sa.Text, nullable=False, unique=True),
        sa.Column("area_id", sa.BigInteger, sa.ForeignKey("neighbourhood_area.id"), nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False, server_default="draft"),
        # When the plan reached each stage, in the order of the stages.
        *optional(
            sa.Date,
            "consultation_started_on",
            "submitted_on",
            "publicised_on",
            "examination_started_on",
            "report_received_on",
            "referendum_ordered_on",
            "referendum_on",
            "made_on",
            "ended_on",
        ),
        flag("decided_late"),
        sa.Column("reason", sa.Text),
        sa.Column("documents", JSONB, nullable=False, server_default="[]"),
        sa.Column("last_step_on", sa.Date),
        flag("is_example"),
        *audit_columns(),
        sa.CheckConstraint(one_of("status", PLAN_STATUSES), name="ck_neighbourhood_plan_status"),
    )
    # 2004 Act s.38B(2): only one neighbourhood development plan for each area.
    op.execute(
        "CREATE UNIQUE INDEX ux_neighbourhood_plan_live ON neighbourhood_plan (area_id)"
        " WHERE status NOT IN ('failed', 'withdrawn')"
    )
    op.create_table(
        "planning_event",
        identity_key(),
        sa.Column("entity", sa.Text, nullable=False),
        sa.Column("entity_id", sa.BigInteger, nullable=False),
        sa.Column("area_id", sa.BigInteger, sa.ForeignKey("neighbourhood_area.id"), nullable=False),
        *lifecycle_step_columns(to_status_nullable=True),
        sa.CheckConstraint(
            "entity IN ('area', 'forum', 'plan', 'levy')", name="ck_planning_event_entity"
        ),
    )
    op.create_index("ix_planning_event_area", "planning_event", ["area_id", "id"])
    make_append_only("planning_event")
    op.create_table(
        "levy_receipt",
        identity_key(),
        sa.Column("area_id", sa.BigInteger, sa.ForeignKey("neighbourhood_area.id"), nullable=False),
        sa.Column("development", sa.Text, nullable=False),
        sa.Column("amount", sa.Numeric(14, 2), nullable=False),
        sa.Column("received_on", sa.Date, nullable=False),
        sa.Column("plan_in_effect", sa.Boolean, nullable=False),
        sa.Column("site", Geometry("GEOMETRY", srid=27700, spatial_index=False)),
        sa.Column("notes", sa.Text),
        sa.Column("recorded_by", sa.Text, nullable=False),
        now_timestamp("at"),
        sa.CheckConstraint("amount > 0", name="ck_levy_receipt_amount"),
    )
    op.create_index("ix_levy_receipt_area", "levy_receipt", ["area_id", "received_on"])
    op.create_table(
        "area_dwelling_count",
        sa.Column(
            "area_id", sa.BigInteger, sa.ForeignKey("neighbourhood_area.id"), primary_key=True
        ),
        sa.Column("financial_year", sa.Integer, primary_key=True),
        sa.Column("dwellings", sa.Integer, nullable=False),
        sa.Column("dwellings_source", sa.Text, nullable=False),
        *optional(sa.Numeric(12, 4), "index_year", "index_base"),
        sa.Column("index_source", sa.Text),
        sa.Column("recorded_by", sa.Text, nullable=False),
        now_timestamp("at"),
        sa.CheckConstraint("dwellings >= 0", name="ck_area_dwelling_count_dwellings"),
        sa.CheckConstraint(
            "(index_year IS NULL) = (index_base IS NULL)"
            " AND (index_base IS NULL OR index_base > 0)",
            name="ck_area_dwelling_count_index",
        ),
    )
    create_serving_table(
        "neighbourhood_area_serving",
        *register_layer_key(),
        *required(sa.Text, "status", "kind", "applicant_type", "applicant_name"),
        *optional(sa.Text, "forum_reference", "forum_status"),
        *optional(sa.Text, "plan_reference", "plan_status"),
        sa.Column("stage", sa.Text, nullable=False),
        *optional(sa.Text, "next_deadline", "next_deadline_kind"),
        sa.Column("lad_codes", sa.Text, nullable=False),
        sa.Column("area_ha", sa.Float, nullable=False),
        sa.Column("is_example", sa.Boolean, nullable=False),
        geometry_type="MULTIPOLYGON",
    )


def downgrade() -> None:
    op.drop_table("neighbourhood_area_serving")
    op.drop_table("area_dwelling_count")
    op.drop_table("levy_receipt")
    drop_append_only_table("planning_event")
    op.drop_table("neighbourhood_plan")
    op.drop_table("neighbourhood_forum")
    op.drop_table("neighbourhood_area")
