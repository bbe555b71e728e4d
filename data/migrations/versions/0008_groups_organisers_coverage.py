"""Neighbourhood groups, community organisers and coverage of adults by active groups.

Revision ID: 0008_groups_organisers_coverage
Revises: 0007_eligibility_indexes
Create Date: 2026-11-25

Private and public data live in different tables. ``community_group`` holds everything about a
group, including its leader's contact details; ``group_serving`` (the public map layer,
collection ``neighbourhood-groups``) has no column that could hold them, so no tile, feature
or export built from it can leak them.

Coverage is computed on the IoD2025 geography (LSOA 2021) with the adults apportioned in
``lsoa_population`` (geo/coverage.py):

- ``group_lsoa`` / ``organiser_lsoa``: each area's piece inside each LSOA it touches, cut once
  when the area is written, so a change recomputes only the LSOAs it touches.
- ``lsoa_coverage``: per LSOA, the share of its area (so of its adults, area-weighted) inside at
  least one active group's area and inside at least one organiser's patch; served as a
  collection with the LSOA boundary.
- ``h3_cell_adults``: the H3 resolution-9 cells, each with the adults of the LSOA its centre
  falls in, shared equally among that LSOA's cells; ``h3_coverage`` sums them to resolutions
  6-9 with the adults whose cell centre lies in an active group's area.
- ``coverage_snapshot``: England and LAD totals on a date, for trends.
"""

from typing import Any

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

from data.migrations.helpers import (
    audit_columns,
    create_serving_table,
    flag,
    identity_key,
    now_timestamp,
    one_of,
    optional,
    parent_reference,
    register_entry_key,
    register_layer_key,
    required,
    serving_geometry_columns,
)

revision = "0008_groups_organisers_coverage"
down_revision = "0007_eligibility_indexes"
branch_labels = None
depends_on = None

GROUP_KINDS = (
    "new_group",
    "residents_association",
    "tenants_association",
    "scouts_guides",
    "social_enterprise",
    "charity",
    "community_interest_company",
    "faith_group",
    "other_not_for_dividend",
)
ACTIVITY_KINDS = ("meeting", "project", "event")
RATING_STATUSES = ("pending", "published", "rejected")


def _starts_at_zero(name: str, type_: Any = sa.Float) -> sa.Column:
    """Return ``name``: a NOT NULL figure or count that is 0 until first computed."""
    return sa.Column(name, type_, nullable=False, server_default="0")


def upgrade() -> None:
    op.create_table(
        "organiser",
        *register_entry_key(),
        # Private: shown only to officers of the patch's districts and to admins.
        *optional(sa.Text, "email", "phone"),
        sa.Column("training_centre", sa.Text, nullable=False),
        sa.Column("trained_on", sa.Date, nullable=False),
        flag("active", default=True),
        sa.Column(
            "patch", Geometry("MULTIPOLYGON", srid=27700, spatial_index=True), nullable=False
        ),
        sa.Column("patch_area_km2", sa.Float, nullable=False),
        sa.Column("lad_codes", ARRAY(sa.Text), nullable=False),
        flag("is_synthetic"),
        *audit_columns(),
    )
    op.create_index("ix_organiser_lad_codes", "organiser", ["lad_codes"], postgresql_using="gin")

    op.create_table(
        "community_group",
        *register_entry_key(),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("registration_number", sa.Text),
        sa.Column("description", sa.Text, nullable=False, server_default=""),
        *optional(sa.Text, "meeting_place", "how_to_join", "website"),
        # The leader is named publicly; their contact details and address are private.
        *required(sa.Text, "leader_name", "leader_email"),
        *optional(sa.Text, "leader_phone", "leader_address"),
        sa.Column("code_of_conduct_version", sa.Text, nullable=False),
        sa.Column("code_of_conduct_accepted_on", sa.Date, nullable=False),
        sa.Column("area", Geometry("MULTIPOLYGON", srid=27700, spatial_index=True), nullable=False),
        sa.Column("area_km2", sa.Float, nullable=False),
        # How the area was given: a drawn polygon, or the LSOA codes whose union it is.
        sa.Column("area_lsoa_codes", ARRAY(sa.Text)),
        # Districts the area touches (officer scope) and the one holding most of it.
        sa.Column("lad_codes", ARRAY(sa.Text), nullable=False),
        sa.Column("principal_lad_code", sa.Text, nullable=False),
        sa.Column("started_by_organiser_id", sa.BigInteger, sa.ForeignKey("organiser.id")),
        flag("listed", default=True),
        sa.Column("last_activity_on", sa.Date),
        flag("is_synthetic"),
        *audit_columns(),
        sa.CheckConstraint(one_of("kind", GROUP_KINDS), name="ck_group_kind"),
        sa.CheckConstraint("area_km2 > 0", name="ck_group_area_positive"),
    )
    op.create_index("ix_group_lad_codes", "community_group", ["lad_codes"], postgresql_using="gin")
    op.create_index("ix_group_organiser", "community_group", ["started_by_organiser_id"])

    # Which group-manager keys manage which groups (the creating key, and any an admin adds).
    op.create_table(
        "group_manager",
        parent_reference("group_id", "community_group.id", primary_key=True),
        sa.Column("key_id", sa.BigInteger, sa.ForeignKey("api_key.id"), primary_key=True),
    )
    op.create_index("ix_group_manager_key", "group_manager", ["key_id"])

    op.create_table(
        "group_activity",
        identity_key(),
        parent_reference("group_id", "community_group.id"),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("held_on", sa.Date, nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("description", sa.Text, nullable=False, server_default=""),
        sa.Column("attendance", sa.Integer),
        sa.Column("recorded_by", sa.Text, nullable=False),
        now_timestamp("at"),
        sa.CheckConstraint(one_of("kind", ACTIVITY_KINDS), name="ck_activity_kind"),
        sa.CheckConstraint("attendance IS NULL OR attendance >= 0", name="ck_activity_attendance"),
    )
    op.create_index("ix_group_activity_group", "group_activity", ["group_id", "held_on"])

    op.create_table(
        "group_rating",
        identity_key(),
        parent_reference("group_id", "community_group.id"),
        sa.Column("stars", sa.SmallInteger, nullable=False),
        sa.Column("comment", sa.Text, nullable=False, server_default=""),
        # A keyed hash of the rater's address, for abuse limits; never the address itself.
        sa.Column("rater_fingerprint", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False, server_default="pending"),
        sa.Column("moderated_by", sa.Text),
        sa.Column("moderated_at", sa.DateTime(timezone=True)),
        now_timestamp("created_at"),
        sa.CheckConstraint("stars BETWEEN 1 AND 5", name="ck_rating_stars"),
        sa.CheckConstraint(one_of("status", RATING_STATUSES), name="ck_rating_status"),
    )
    op.create_index("ix_group_rating_group", "group_rating", ["group_id", "status"])
    op.create_index("ix_group_rating_rater", "group_rating", ["rater_fingerprint", "created_at"])

    # The relay form: people ask to join without seeing the leader's address.
    op.create_table(
        "group_message",
        identity_key(),
        parent_reference("group_id", "community_group.id"),
        *required(sa.Text, "sender_name", "sender_email", "message", "sender_fingerprint"),
        now_timestamp("created_at"),
        sa.Column("read_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_group_message_group", "group_message", ["group_id", "created_at"])
    op.create_index(
        "ix_group_message_sender", "group_message", ["sender_fingerprint", "created_at"]
    )

    # The public map layer of groups (collection neighbourhood-groups): public fields only.
    create_serving_table(
        "group_serving",
        *register_layer_key(),
        *required(sa.Text, "kind", "description"),
        sa.Column("meeting_place", sa.Text),
        *required(sa.Text, "leader_name", "principal_lad_code"),
        sa.Column("area_km2", sa.Float, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("last_activity_on", sa.Text),
        sa.Column("rating_average", sa.Float),
        _starts_at_zero("rating_count", sa.Integer),
        sa.Column("is_synthetic", sa.Boolean, nullable=False),
        geometry_type="MULTIPOLYGON",
    )

    # Organisers' patches as a public layer (collection community-organisers): no contacts.
    create_serving_table(
        "organiser_serving",
        *register_layer_key(),
        *required(sa.Text, "training_centre", "trained_on"),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("groups_started", sa.Integer, nullable=False),
        sa.Column("patch_area_km2", sa.Float, nullable=False),
        sa.Column("is_synthetic", sa.Boolean, nullable=False),
        geometry_type="MULTIPOLYGON",
    )

    # Each group's (or organiser's) area cut by the LSOAs it touches (IoD2025 geography).
    for owner, table in (("group_id", "group_lsoa"), ("organiser_id", "organiser_lsoa")):
        parent = "community_group" if owner == "group_id" else "organiser"
        op.create_table(
            table,
            parent_reference(owner, f"{parent}.id", primary_key=True),
            sa.Column("lsoa_code", sa.Text, primary_key=True),
            sa.Column(
                "piece", Geometry("MULTIPOLYGON", srid=27700, spatial_index=False), nullable=False
            ),
        )
        op.create_index(f"ix_{table}_lsoa", table, ["lsoa_code"])

    create_serving_table(
        "lsoa_coverage",
        sa.Column("code", sa.Text, primary_key=True),
        sa.Column("fid", sa.BigInteger, nullable=False),
        *required(sa.Text, "name", "lad_code", "lad_name"),
        sa.Column("imd_decile", sa.Integer),
        sa.Column("adults", sa.Float, nullable=False),
        _starts_at_zero("covered_share"),
        _starts_at_zero("adults_covered"),
        sa.Column("adults_uncovered", sa.Float, nullable=False),
        _starts_at_zero("active_groups", sa.Integer),
        _starts_at_zero("organiser_share"),
        _starts_at_zero("adults_organiser_covered"),
        _starts_at_zero("organisers", sa.Integer),
        # IMD decile 1-2 and covered_share below the default threshold (geo/coverage.py);
        # /coverage/cold-spots takes other thresholds.
        flag("cold_spot"),
        sa.Column("as_of", sa.Text, nullable=False),  # ISO date the activity test used
        sa.CheckConstraint("covered_share BETWEEN 0 AND 1", name="ck_coverage_share"),
        sa.CheckConstraint("organiser_share BETWEEN 0 AND 1", name="ck_coverage_organiser"),
        geometry_type="MULTIPOLYGON",
        # Room on each page for a new version of every row: a recompute then updates rows in
        # place (heap-only tuples), without new entries in the five GiST indexes.
        postgresql_with={"fillfactor": 50},
    )
    op.create_index("ix_lsoa_coverage_lad", "lsoa_coverage", ["lad_code"])
    # No coverage column is indexed (an indexed column that changes forbids in-place updates).
    op.create_index("ix_lsoa_coverage_cold", "lsoa_coverage", ["imd_decile"])

    op.create_table(
        "h3_cell_adults",
        sa.Column("cell", sa.BigInteger, primary_key=True),
        sa.Column("lsoa_code", sa.Text, nullable=False),
        sa.Column("adults", sa.Float, nullable=False),
        sa.Column("imd_decile", sa.Integer),
        sa.Column("centre", Geometry("POINT", srid=27700, spatial_index=True), nullable=False),
    )
    op.create_index("ix_h3_cell_adults_lsoa", "h3_cell_adults", ["lsoa_code"])

    op.create_table(
        "h3_coverage",
        sa.Column("resolution", sa.SmallInteger, primary_key=True),
        sa.Column("cell", sa.Text, primary_key=True),
        sa.Column("fid", sa.BigInteger, nullable=False),
        sa.Column("adults", sa.Float, nullable=False),
        _starts_at_zero("adults_covered"),
        _starts_at_zero("covered_share"),
        _starts_at_zero("deprived_adults"),
        _starts_at_zero("deprived_adults_covered"),
        _starts_at_zero("adults_organiser_covered"),
        *serving_geometry_columns("POLYGON"),
        sa.CheckConstraint("resolution BETWEEN 6 AND 9", name="ck_h3_resolution"),
        # Coverage changes update rows in place (see lsoa_coverage).
        postgresql_with={"fillfactor": 50},
    )
    # One plain GiST index per resolution and geometry a query uses (bbox and CQL2 filters use
    # geom; tiles the 3857 bands a resolution's zooms reach: low only for r6-r7, which start at
    # zooms 5 and 7): cheaper to build and maintain than (resolution, geometry) btree_gist
    # indexes (measured on 200,000 cells: 2.6 s added to the insert by a plain index, 9.4 s
    # by a (resolution, geometry) one); geom_4326 is only read, never searched.
    for resolution in (6, 7, 8, 9):
        columns = ["geom", "geom_3857", "geom_3857_mid"]
        if resolution <= 7:
            columns.append("geom_3857_low")
        for column in columns:
            op.create_index(
                f"ix_h3_coverage_r{resolution}_{column}",
                "h3_coverage",
                [column],
                postgresql_using="gist",
                postgresql_where=sa.text(f"resolution = {resolution}"),
            )
    op.create_index("ix_h3_coverage_fid", "h3_coverage", ["fid"], unique=True)

    op.create_table(
        "coverage_snapshot",
        sa.Column("taken_on", sa.Date, primary_key=True),
        sa.Column("scope", sa.Text, primary_key=True),  # 'england' or 'lad'
        sa.Column("code", sa.Text, primary_key=True),  # 'E92000001' or the LAD code
        *required(
            sa.Float,
            "adults",
            "adults_covered",
            "deprived_adults",
            "deprived_adults_covered",
            "adults_organiser_covered",
        ),
        *required(sa.Integer, "active_groups", "active_organisers", "cold_spots"),
        sa.Column("details", JSONB, nullable=False, server_default="{}"),
        now_timestamp("at"),
        sa.CheckConstraint("scope IN ('england', 'lad')", name="ck_snapshot_scope"),
    )


def downgrade() -> None:
    for table in (
        "coverage_snapshot",
        "h3_coverage",
        "h3_cell_adults",
        "lsoa_coverage",
        "organiser_lsoa",
        "group_lsoa",
        "organiser_serving",
        "group_serving",
        "group_message",
        "group_rating",
        "group_activity",
        "group_manager",
        "community_group",
        "organiser",
    ):
        op.drop_table(table)
