"""Assets from a council's land-and-buildings file: how each point was found.

Revision ID: 0017_asset_land_and_buildings
Revises: 0015_neighbourhood_planning
Create Date: 2026-12-07

A Local Government Transparency Code land-and-buildings file gives coordinates for most
sites, only a postcode or a postcode district for others. ``asset.location_basis`` says which
placed the asset: ``published_point`` (the file's coordinates), ``postcode`` (the postcode's
centroid), ``postcode_district`` (the postcode of the directory nearest the middle of that
district's postcodes) or ``owner_district`` (a point inside the council's own district); NULL
for assets whose recorder gave the point. The UPRN and source already have columns (0006);
imports are idempotent on the reference made from the council's own asset code (the UPRN is
missing or shared by several sites in real files), with a unique index on the UPRN per source
impossible for the same reason.
"""

import sqlalchemy as sa
from alembic import op

from data.migrations.helpers import one_of

revision = "0017_asset_land_and_buildings"
down_revision = "0015_neighbourhood_planning"
branch_labels = None
depends_on = None

BASES = ("published_point", "postcode", "postcode_district", "owner_district")


def upgrade() -> None:
    op.add_column("asset", sa.Column("location_basis", sa.Text))
    op.create_check_constraint(
        "ck_asset_location_basis",
        "asset",
        "location_basis IS NULL OR " + one_of("location_basis", BASES),
    )
    op.create_index(
        "ix_asset_uprn", "asset", ["uprn"], postgresql_where=sa.text("uprn IS NOT NULL")
    )


def downgrade() -> None:
    op.drop_index("ix_asset_uprn", "asset")
    op.drop_constraint("ck_asset_location_basis", "asset")
    op.drop_column("asset", "location_basis")
