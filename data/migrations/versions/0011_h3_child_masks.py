"""Resolution-9 coverage held as bits of the resolution-8 parent, not as figures of its own.

Revision ID: 0011_h3_child_masks
Revises: 0010_h3_cell_geometry
Create Date: 2026-11-25

Whether a resolution-9 cell is covered (its centre in an active group's area) and organised (in
an active organiser's patch) is one bit each. A national recompute from nothing wrote those
bits as figures into ~950,000 resolution-9 rows (about 3 s of a 12 s recompute on England
with 10,000 synthetic groups, measured on this machine), then summed them into the ancestors.
Now every resolution-8 row carries two 7-bit masks, ``covered_children`` and
``organised_children``: bit ``d`` is its child whose resolution-9 digit is ``d`` (H3 index
bits 18-20). The ~145,000 resolution-8 rows are written anyway for their sums, so the children
cost nothing more. Resolution-9 rows keep their grid figures (``adults``,
``deprived_adults``); their covered figures are no longer stored (checked to be 0) and the
view ``h3_coverage_serving`` derives them from the parent's bits, so the collections and tiles
read the same columns as before.
"""

from alembic import op

revision = "0011_h3_child_masks"
down_revision = "0010_h3_cell_geometry"
branch_labels = None
depends_on = None

# H3 index bits (H3 specification): resolution in bits 52-55, one 3-bit digit per resolution,
# unused digits 7. A cell's resolution-8 parent keeps its digits 1-8 and sets the rest to 7;
# a resolution-9 cell's own digit is bits 18-20.
PARENT_8 = "(({fid} & ~(15::bigint << 52)) | (8::bigint << 52)) | ((1::bigint << 21) - 1)"
DIGIT_9 = "(({fid} >> 18) & 7)::int"

GEOMETRIES = "g.geom, g.geom_4326, g.geom_3857, g.geom_3857_low, g.geom_3857_mid"

OLD_VIEW = f"""
CREATE VIEW h3_coverage_serving AS
SELECT h.resolution, h.cell, h.fid, h.adults, h.adults_covered, h.covered_share,
       h.deprived_adults, h.deprived_adults_covered, h.adults_organiser_covered,
       {GEOMETRIES}
FROM h3_coverage h
JOIN h3_cell_geometry g ON g.fid = h.fid AND g.resolution = h.resolution
"""

# One query, not a UNION of resolutions, so that the planner sees a LIMIT (ordered paging of
# 1.4 million resolution-9 cells stays an index scan). A filter on resolution reaches both
# tables' indexes (the geometries' indexes are partial, per resolution); only resolution-9
# rows look their parent up (for others the key is NULL, which an index scan answers at once).
VIEW = f"""
CREATE VIEW h3_coverage_serving AS
SELECT h.resolution, h.cell, h.fid, h.adults,
       CASE WHEN h.resolution < 9 THEN h.adults_covered
            WHEN b.covered THEN h.adults ELSE 0 END AS adults_covered,
       CASE WHEN h.resolution < 9 THEN h.covered_share
            WHEN b.covered AND h.adults > 0 THEN 1 ELSE 0 END AS covered_share,
       h.deprived_adults,
       CASE WHEN h.resolution < 9 THEN h.deprived_adults_covered
            WHEN b.covered THEN h.deprived_adults ELSE 0 END AS deprived_adults_covered,
       CASE WHEN h.resolution < 9 THEN h.adults_organiser_covered
            WHEN b.organised THEN h.adults ELSE 0 END AS adults_organiser_covered,
       {GEOMETRIES}
FROM h3_coverage h
JOIN h3_cell_geometry g ON g.fid = h.fid AND g.resolution = h.resolution
LEFT JOIN h3_coverage p
       ON p.fid = CASE WHEN h.resolution = 9 THEN {PARENT_8.format(fid="h.fid")} END
CROSS JOIN LATERAL (
    SELECT coalesce((p.covered_children >> {DIGIT_9.format(fid="h.fid")}) & 1 = 1, false)
               AS covered,
           coalesce((p.organised_children >> {DIGIT_9.format(fid="h.fid")}) & 1 = 1, false)
               AS organised
) b
"""


def upgrade() -> None:
    op.execute("DROP VIEW h3_coverage_serving")
    op.execute(
        "ALTER TABLE h3_coverage"
        " ADD COLUMN covered_children smallint NOT NULL DEFAULT 0,"
        " ADD COLUMN organised_children smallint NOT NULL DEFAULT 0"
    )
    # The bits of the coverage computed so far (a covered cell without adults shows no figure
    # and so no bit; the next recompute sets it).
    op.execute(
        f"""
        UPDATE h3_coverage p
        SET covered_children = m.covered, organised_children = m.organised
        FROM (
            SELECT {PARENT_8.format(fid="fid")} AS fid,
                   bit_or(CASE WHEN adults_covered > 0 THEN 1 << {DIGIT_9.format(fid="fid")}
                               ELSE 0 END)::smallint AS covered,
                   bit_or(CASE WHEN adults_organiser_covered > 0
                               THEN 1 << {DIGIT_9.format(fid="fid")} ELSE 0 END)::smallint
                       AS organised
            FROM h3_coverage
            WHERE resolution = 9 AND (adults_covered > 0 OR adults_organiser_covered > 0)
            GROUP BY 1
        ) m
        WHERE p.fid = m.fid
        """
    )
    op.execute(
        "UPDATE h3_coverage SET adults_covered = 0, covered_share = 0,"
        " deprived_adults_covered = 0, adults_organiser_covered = 0"
        " WHERE resolution = 9 AND (adults_covered <> 0 OR covered_share <> 0"
        " OR deprived_adults_covered <> 0 OR adults_organiser_covered <> 0)"
    )
    op.execute(
        "ALTER TABLE h3_coverage ADD CONSTRAINT ck_h3_coverage_children CHECK ("
        " (resolution = 8 OR (covered_children = 0 AND organised_children = 0))"
        " AND covered_children BETWEEN 0 AND 127 AND organised_children BETWEEN 0 AND 127)"
    )
    op.execute(
        "ALTER TABLE h3_coverage ADD CONSTRAINT ck_h3_coverage_r9_from_parent CHECK ("
        " resolution < 9 OR (adults_covered = 0 AND covered_share = 0"
        " AND deprived_adults_covered = 0 AND adults_organiser_covered = 0))"
    )
    op.execute(VIEW)
    op.execute("ANALYZE h3_coverage")


COVERED = f"(p.covered_children >> {DIGIT_9.format(fid='h.fid')}) & 1 = 1"
ORGANISED = f"(p.organised_children >> {DIGIT_9.format(fid='h.fid')}) & 1 = 1"


def downgrade() -> None:
    op.execute("DROP VIEW h3_coverage_serving")
    op.execute("ALTER TABLE h3_coverage DROP CONSTRAINT ck_h3_coverage_r9_from_parent")
    op.execute("ALTER TABLE h3_coverage DROP CONSTRAINT ck_h3_coverage_children")
    op.execute(
        f"""
        UPDATE h3_coverage h
        SET adults_covered = CASE WHEN {COVERED} THEN h.adults ELSE 0 END,
            covered_share = CASE WHEN {COVERED} AND h.adults > 0 THEN 1 ELSE 0 END,
            deprived_adults_covered = CASE WHEN {COVERED} THEN h.deprived_adults ELSE 0 END,
            adults_organiser_covered = CASE WHEN {ORGANISED} THEN h.adults ELSE 0 END
        FROM h3_coverage p
        WHERE h.resolution = 9 AND p.fid = {PARENT_8.format(fid="h.fid")}
          AND (p.covered_children <> 0 OR p.organised_children <> 0)
        """
    )
    op.execute(
        "ALTER TABLE h3_coverage DROP COLUMN covered_children, DROP COLUMN organised_children"
    )
    op.execute(OLD_VIEW)
