"""District summary measures as the publisher published them, beside the computed ones.

Revision ID: 0016_published_lad_measures
Revises: 0012_h3_children_adults
Create Date: 2026-12-07

``lad_summary_measure`` holds what Platoons computes from the LSOA data (IoD technical
report, Appendix N); where the inputs are missing (IoD2025 was published without population
denominators in our sources) its values are unavailable. ``lad_published_measure`` holds the
edition's own district summaries (MHCLG File 10 measures: average rank, average score, the
proportion of LSOAs in the most deprived 10%, each with its rank among districts) for every
index the file carries, including IDACI and IDAOPI, which have no IoD2025 LSOA rows here and so
no ``index_domain`` row to refer to: the domain code is checked against the manifest by the
load, not by a foreign key. ``dataset`` names the ``dataset_load`` row saying where the figures
came from. ``lad_deprivation`` gains the published IMD measures, served by the district
collections and tiles.
"""

import sqlalchemy as sa
from alembic import op

from data.migrations.helpers import parent_reference, text_keys

revision = "0016_published_lad_measures"
down_revision = "0012_h3_children_adults"
branch_labels = None
depends_on = None

# Published IMD measures served as lad_deprivation columns published_imd_<measure>[_rank].
PUBLISHED_MEASURES = ("average_rank", "average_score", "proportion_most_deprived_10pct")


def upgrade() -> None:
    op.create_table(
        "lad_published_measure",
        parent_reference("edition_code", "index_edition.code", sa.Text, primary_key=True),
        *text_keys("lad_code", "domain_code", "measure"),
        sa.Column("value", sa.Float, nullable=False),
        sa.Column("rank", sa.Integer, nullable=False),
        # The index's place in the published file's order (IMD first), for listing.
        sa.Column("sort_order", sa.SmallInteger, nullable=False),
        sa.Column("dataset", sa.Text, nullable=False),
        sa.CheckConstraint("rank >= 1", name="ck_published_measure_rank"),
        sa.CheckConstraint(
            "measure IN ('average_rank', 'average_score', 'extent', 'local_concentration', "
            "'proportion_most_deprived_10pct')",
            name="ck_published_measure_name",
        ),
    )
    for measure in PUBLISHED_MEASURES:
        op.add_column("lad_deprivation", sa.Column(f"published_imd_{measure}", sa.Float))
        op.add_column("lad_deprivation", sa.Column(f"published_imd_{measure}_rank", sa.Integer))


def downgrade() -> None:
    for measure in PUBLISHED_MEASURES:
        op.drop_column("lad_deprivation", f"published_imd_{measure}_rank")
        op.drop_column("lad_deprivation", f"published_imd_{measure}")
    op.drop_table("lad_published_measure")
