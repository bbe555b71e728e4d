"""Grant programmes, applications and pledges; API keys; the append-only audit log.

Revision ID: 0004_grants_access_audit
Revises: 0003_population_by_edition
Create Date: 2026-11-25

Money is ``numeric(14, 2)`` in the programme's currency. A programme's ``committed`` amount
moves only inside the transaction that approves (or releases) an application, under a row
lock on the programme, and a CHECK keeps it within the budget: concurrent approvals cannot
overspend. ``audit_log`` refuses UPDATE, DELETE and TRUNCATE by trigger, so history is
append-only at the database level.
"""

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

from data.migrations.helpers import (
    created_updated_columns,
    drop_append_only_table,
    flag,
    identity_key,
    make_append_only,
    now_timestamp,
    optional,
    parent_reference,
    required,
    version_column,
)

revision = "0004_grants_access_audit"
down_revision = "0003_population_by_edition"
branch_labels = None
depends_on = None

MONEY = sa.Numeric(14, 2)


def upgrade() -> None:
    op.create_table(
        "grant_programme",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("description", sa.Text, nullable=False, server_default=""),
        *required(sa.Text, "funder_name", "funder_id"),
        sa.Column("currency", sa.CHAR(3), nullable=False, server_default="GBP"),
        sa.Column("budget", MONEY, nullable=False),
        sa.Column("committed", MONEY, nullable=False, server_default="0"),
        *required(sa.Date, "opens_on", "closes_on"),
        *required(sa.Text, "edition_code", "geography_level"),
        sa.Column("rule", JSONB, nullable=False),
        sa.Column("min_population_share", sa.Float, nullable=False),
        *required(MONEY, "award_min", "award_max"),
        sa.Column("match_ratio", sa.Numeric(6, 3), nullable=False),
        sa.Column("match_source_types", ARRAY(sa.Text), nullable=False),
        flag("is_example"),
        *created_updated_columns(),
        version_column(),
        sa.CheckConstraint("id ~ '^[a-z0-9][a-z0-9-]{2,63}$'", name="ck_programme_id"),
        sa.CheckConstraint("currency ~ '^[A-Z]{3}$'", name="ck_programme_currency"),
        sa.CheckConstraint("budget > 0", name="ck_programme_budget"),
        sa.CheckConstraint(
            "committed >= 0 AND committed <= budget", name="ck_programme_no_overspend"
        ),
        sa.CheckConstraint("closes_on >= opens_on", name="ck_programme_dates"),
        sa.CheckConstraint("geography_level IN ('lsoa', 'ward', 'lad')", name="ck_programme_level"),
        sa.CheckConstraint("min_population_share BETWEEN 0 AND 1", name="ck_programme_share"),
        sa.CheckConstraint("award_min > 0 AND award_min <= award_max", name="ck_programme_awards"),
        sa.CheckConstraint("match_ratio >= 0", name="ck_programme_match_ratio"),
    )

    op.create_table(
        "grant_application",
        identity_key(),
        sa.Column("programme_id", sa.Text, sa.ForeignKey("grant_programme.id"), nullable=False),
        *required(sa.Text, "applicant_name", "applicant_org_id", "title"),
        sa.Column("description", sa.Text, nullable=False, server_default=""),
        sa.Column("amount", MONEY, nullable=False),
        sa.Column("area_code", sa.Text),
        sa.Column("area", Geometry("MULTIPOLYGON", srid=27700, spatial_index=False)),
        sa.Column("status", sa.Text, nullable=False, server_default="draft"),
        sa.Column("eligibility", JSONB),
        *optional(sa.Text, "decision_reason", "decided_by"),
        *optional(sa.TIMESTAMP(timezone=True), "decided_at", "paid_at"),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.Column("owner_key_id", sa.BigInteger),
        *created_updated_columns(),
        version_column(),
        sa.CheckConstraint("amount > 0", name="ck_application_amount"),
        sa.CheckConstraint(
            "status IN ('draft', 'submitted', 'approved', 'rejected', 'paid')",
            name="ck_application_status",
        ),
        sa.CheckConstraint("(area_code IS NULL) <> (area IS NULL)", name="ck_application_one_area"),
    )
    op.create_index("ix_application_programme", "grant_application", ["programme_id", "status"])
    op.create_index("ix_application_area", "grant_application", ["area"], postgresql_using="gist")

    op.create_table(
        "match_pledge",
        identity_key(),
        parent_reference("application_id", "grant_application.id"),
        *required(sa.Text, "source_name", "source_type"),
        sa.Column("amount", MONEY, nullable=False),
        # Evidence references are private: shown to officers and the applicant, never published.
        sa.Column("evidence_reference", sa.Text, nullable=False),
        sa.CheckConstraint("amount > 0", name="ck_pledge_amount"),
    )
    op.create_index("ix_pledge_application", "match_pledge", ["application_id"])

    op.create_table(
        "api_key",
        identity_key(),
        sa.Column("name", sa.Text, nullable=False),
        # SHA-256 of the secret; the secret itself is shown once, at creation, and never stored.
        sa.Column("key_hash", sa.Text, nullable=False, unique=True),
        sa.Column("key_prefix", sa.Text, nullable=False),
        sa.Column("role", sa.Text, nullable=False),
        sa.Column("lad_codes", ARRAY(sa.Text), nullable=False, server_default="{}"),
        now_timestamp("created_at"),
        sa.Column("revoked_at", sa.TIMESTAMP(timezone=True)),
        sa.CheckConstraint("role IN ('group_manager', 'officer', 'admin')", name="ck_api_key_role"),
    )

    op.create_table(
        "audit_log",
        identity_key(),
        now_timestamp("at"),
        *required(sa.Text, "actor", "action", "entity", "entity_id"),
        *optional(JSONB, "before", "after"),
    )
    op.create_index("ix_audit_entity", "audit_log", ["entity", "entity_id", "id"])
    make_append_only("audit_log")


def downgrade() -> None:
    drop_append_only_table("audit_log")
    op.drop_table("api_key")
    op.drop_table("match_pledge")
    op.drop_table("grant_application")
    op.drop_table("grant_programme")
