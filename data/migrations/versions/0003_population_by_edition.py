"""Residents and adults per LSOA of each edition's geography, with how they were derived.

Revision ID: 0003_population_by_edition
Revises: 0002_serving_tables
Create Date: 2026-11-25

The only single-year-of-age estimates we hold are ONS mid-2019 on 2011 LSOAs. IoD2019 uses
2011 LSOAs, so its rows are those estimates as published. IoD2025 uses 2021 LSOAs, so its rows
apportion the 2011 estimates through the ONS 2011->2021 lookup by intersected area (exact for
unchanged and merged LSOAs, area-weighted for splits). ``method`` says which, and answers
that use these figures say so.
"""

import sqlalchemy as sa
from alembic import op

from data.migrations.helpers import required, text_keys

revision = "0003_population_by_edition"
down_revision = "0002_serving_tables"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "lsoa_population",
        *text_keys("edition_code", "lsoa_code"),
        *required(sa.Float, "residents", "adults_18_plus"),
        sa.Column("reference_year", sa.SmallInteger, nullable=False),
        sa.Column("method", sa.Text, nullable=False),
        sa.CheckConstraint("residents >= 0 AND adults_18_plus >= 0", name="ck_population_positive"),
    )


def downgrade() -> None:
    op.drop_table("lsoa_population")
