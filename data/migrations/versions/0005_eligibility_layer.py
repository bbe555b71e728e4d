"""Eligibility layer: for each grant programme, which LSOAs qualify (a served collection).

Revision ID: 0005_eligibility_layer
Revises: 0004_grants_access_audit
Create Date: 2026-11-25

Rebuilt for a programme whenever it is saved, and for all programmes after every data load,
by the same rule engine that answers eligibility checks (geo/grants/layer.py).
"""

import sqlalchemy as sa
from alembic import op

from data.migrations.helpers import create_serving_table, required, text_keys

revision = "0005_eligibility_layer"
down_revision = "0004_grants_access_audit"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_serving_table(
        "programme_lsoa_eligibility",
        *text_keys("programme_id", "code"),
        # OGC feature id "<programme>:<lsoa>"; integer tile id from the LSOA code's digits.
        sa.Column("feature_id", sa.Text, nullable=False, unique=True),
        sa.Column("fid", sa.BigInteger, nullable=False),
        *required(sa.Text, "programme_name", "edition_code", "name", "lad_code"),
        sa.Column("ward_code", sa.Text),
        sa.Column("imd_decile", sa.Integer),
        sa.Column("qualifies", sa.Boolean, nullable=False),
        sa.Column("assessed_as", sa.Text, nullable=False),
        geometry_type="MULTIPOLYGON",
        leading=["programme_id"],
    )


def downgrade() -> None:
    op.drop_table("programme_lsoa_eligibility")
