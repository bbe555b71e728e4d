"""The adults of each resolution-8 H3 cell's children, kept beside it for summing by bits.

Revision ID: 0012_h3_children_adults
Revises: 0011_h3_child_masks
Create Date: 2026-11-25

Since migration 0011 a resolution-8 cell's covered figures are the sums of its resolution-9
children whose bits are set. Summing them read every resolution-9 row (a join of ~1.4 million
rows, 0.6 s of a national recompute on England, measured on this machine). The children's
adults and deprived adults, which change only with the grid, now lie in one row per
resolution-8 cell, ``h3_children_adults``: two arrays of 7 by digit (element d + 1 is the
child whose resolution-9 digit is d; 0 where there is no such child, as for pentagons), in
whole billionths of an adult so that sums are exact and do not depend on order.
``h3_children_sum(bits, values)`` adds the elements whose bits are set; it is one expression,
which PostgreSQL inlines into the statement calling it.
"""

from alembic import op

revision = "0012_h3_children_adults"
down_revision = "0011_h3_child_masks"
branch_labels = None
depends_on = None

# H3 index bits as in migration 0011: resolution-8 parent and resolution-9 digit of a cell.
PARENT_8 = "((fid & ~(15::bigint << 52)) | (8::bigint << 52)) | ((1::bigint << 21) - 1)"
DIGIT_9 = "((fid >> 18) & 7)::int"

SUM_FUNCTION = (
    "CREATE FUNCTION h3_children_sum(bits smallint, values_e9 bigint[]) RETURNS bigint"
    " LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT "
    + " + ".join(f"values_e9[{d + 1}] * ((bits >> {d}) & 1)" for d in range(7))
    + " $$"
)


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE h3_children_adults (
            fid bigint PRIMARY KEY,
            adults_e9 bigint[] NOT NULL,
            deprived_adults_e9 bigint[] NOT NULL,
            CONSTRAINT ck_h3_children_adults_seven CHECK (
                cardinality(adults_e9) = 7 AND cardinality(deprived_adults_e9) = 7)
        )
        """
    )
    op.execute(SUM_FUNCTION)
    op.execute(
        f"""
        INSERT INTO h3_children_adults (fid, adults_e9, deprived_adults_e9)
        SELECT p.fid,
               array_agg(coalesce(c.adults_e9, 0) ORDER BY d.digit),
               array_agg(coalesce(c.deprived_adults_e9, 0) ORDER BY d.digit)
        FROM h3_coverage p
        CROSS JOIN generate_series(0, 6) AS d (digit)
        LEFT JOIN (
            SELECT {PARENT_8} AS parent, {DIGIT_9} AS digit,
                   (adults * 1e9)::bigint AS adults_e9,
                   (deprived_adults * 1e9)::bigint AS deprived_adults_e9
            FROM h3_coverage
            WHERE resolution = 9
        ) c ON c.parent = p.fid AND c.digit = d.digit
        WHERE p.resolution = 8
        GROUP BY p.fid
        """
    )
    op.execute("ANALYZE h3_children_adults")


def downgrade() -> None:
    op.execute("DROP FUNCTION h3_children_sum(smallint, bigint[])")
    op.execute("DROP TABLE h3_children_adults")
