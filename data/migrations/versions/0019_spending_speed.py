"""Council spending made fast: payment lines partitioned by file, totals kept per file and level.

Revision ID: 0019_spending_speed
Revises: 0013_crime
Create Date: 2026-12-07

``spending_line`` becomes a table partitioned by ``file_id`` (one partition per payment file,
``spending_line_<file id>``). A load writes its file's lines into a new table with no index,
builds the indexes once over the whole file (a sorted build, about half the time of keeping
four indexes up to date line by line) and attaches it; replacing a file drops its partition
instead of deleting its lines one by one. The line id is still drawn from the table's identity
sequence; the primary key is now the file and line number (a partitioned table's unique keys
must hold the partition key), and the page index keeps (payment date, id) for keyset paging.

``spending_month_total`` now holds each file's month totals (``file_id``), so a load or a
replacement touches only its own rows, and ``spending_rollup`` holds coarser totals derived
from them by the same load, in the same transaction: by month alone, by beneficiary, by service
and by category (all months), and by month with the service or the category. A query sums the
smallest of these that keeps every column its filter and grouping use (a few hundred to a few
thousand rows) rather than the ~70,000 rows of the month totals or the ~490,000 lines.
"""

from alembic import op

revision = "0019_spending_speed"
down_revision = "0013_crime"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE spending_line RENAME TO spending_line_0014")
    op.execute("ALTER TABLE spending_line_0014 DROP CONSTRAINT spending_line_pkey")
    op.execute("ALTER TABLE spending_line_0014 DROP CONSTRAINT uq_spending_line")
    for index in ("page", "beneficiary", "service"):
        op.execute(f"DROP INDEX ix_spending_line_{index}")
    # The same columns, checks and identity, partitioned by file.
    op.execute(
        "CREATE TABLE spending_line (LIKE spending_line_0014 INCLUDING DEFAULTS"
        " INCLUDING CONSTRAINTS INCLUDING IDENTITY,"
        " CONSTRAINT pk_spending_line PRIMARY KEY (file_id, line_number))"
        " PARTITION BY LIST (file_id)"
    )
    # Keyset paging: newest first, ties broken by id (stable under equal dates); with the
    # amount, a count and sum over a date window reads the index alone.
    op.execute(
        "CREATE INDEX ix_spending_line_page ON spending_line (payment_date DESC, id DESC)"
        " INCLUDE (amount)"
    )
    op.execute(
        "CREATE INDEX ix_spending_line_beneficiary ON spending_line "
        "(beneficiary_key text_pattern_ops)"
    )
    op.execute("CREATE INDEX ix_spending_line_service ON spending_line (service)")
    # The lines already loaded, one partition per file (as a load now writes them).
    op.execute(
        """
        DO $$
        DECLARE f integer;
        BEGIN
            FOR f IN SELECT id FROM spending_file ORDER BY id LOOP
                EXECUTE format('CREATE TABLE %I PARTITION OF spending_line FOR VALUES IN (%s)',
                               'spending_line_' || f, f);
                EXECUTE format('INSERT INTO %I OVERRIDING SYSTEM VALUE'
                               ' SELECT * FROM spending_line_0014 WHERE file_id = %s',
                               'spending_line_' || f, f);
            END LOOP;
        END $$
        """
    )
    op.execute(
        "SELECT setval(pg_get_serial_sequence('spending_line', 'id'), max(id))"
        " FROM spending_line_0014 HAVING max(id) IS NOT NULL"
    )
    op.execute("DROP TABLE spending_line_0014")

    # Month totals per file, recomputed from the lines.
    op.execute("DELETE FROM spending_month_total")
    op.execute("ALTER TABLE spending_month_total ADD COLUMN file_id integer NOT NULL")
    op.execute(
        """
        INSERT INTO spending_month_total (file_id, publisher, month, beneficiary_key, service,
                                          category, over_500, redacted, amount, lines)
        SELECT file_id, publisher, date_trunc('month', payment_date)::date, beneficiary_key,
               service, category, over_500, redacted, sum(amount), count(*)
        FROM spending_line
        GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
        """
    )
    op.execute("CREATE INDEX ix_spending_month_total_file ON spending_month_total (file_id)")
    op.execute(
        """
        CREATE TABLE spending_rollup (
            file_id integer NOT NULL,
            publisher text NOT NULL,
            level text NOT NULL CHECK (level IN ('month', 'beneficiary', 'service', 'category',
                                                 'month_service', 'month_category')),
            month date,
            beneficiary_key text,
            service text,
            category text,
            over_500 boolean NOT NULL,
            redacted boolean NOT NULL,
            amount numeric(16, 2) NOT NULL,
            lines integer NOT NULL
        )
        """
    )
    op.execute("CREATE INDEX ix_spending_rollup ON spending_rollup (level, publisher, month)")
    op.execute("CREATE INDEX ix_spending_rollup_file ON spending_rollup (file_id)")
    # Each file's coarser totals, as a load wrote them when this migration was made
    # (data/sql/spending/rollup_insert.sql then, for all files at once: every grouping set
    # holds the file). Written out here: history does not follow the live SQL.
    op.execute(
        """
        INSERT INTO spending_rollup (
            file_id, publisher, level, month, beneficiary_key, service, category, over_500,
            redacted, amount, lines
        )
        SELECT file_id, publisher,
               CASE GROUPING(month, beneficiary_key, service, category)
                   WHEN 7 THEN 'month' WHEN 11 THEN 'beneficiary' WHEN 13 THEN 'service'
                   WHEN 14 THEN 'category' WHEN 5 THEN 'month_service'
                   WHEN 6 THEN 'month_category'
               END,
               month, beneficiary_key, service, category, over_500, redacted, sum(amount),
               sum(lines)
        FROM spending_month_total
        GROUP BY GROUPING SETS (
            (file_id, publisher, over_500, redacted, month),
            (file_id, publisher, over_500, redacted, beneficiary_key),
            (file_id, publisher, over_500, redacted, service),
            (file_id, publisher, over_500, redacted, category),
            (file_id, publisher, over_500, redacted, month, service),
            (file_id, publisher, over_500, redacted, month, category)
        )
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE spending_rollup")
    op.execute("DROP INDEX ix_spending_month_total_file")
    op.execute("DELETE FROM spending_month_total")
    op.execute("ALTER TABLE spending_month_total DROP COLUMN file_id")
    op.execute(
        """
        INSERT INTO spending_month_total (publisher, month, beneficiary_key, service, category,
                                          over_500, redacted, amount, lines)
        SELECT publisher, date_trunc('month', payment_date)::date, beneficiary_key, service,
               category, over_500, redacted, sum(amount), count(*)
        FROM spending_line
        GROUP BY 1, 2, 3, 4, 5, 6, 7
        """
    )
    op.execute("ALTER TABLE spending_line RENAME TO spending_line_0019")
    for index in ("page", "beneficiary", "service"):
        op.execute(f"ALTER INDEX ix_spending_line_{index} RENAME TO ix_spending_line_0019_{index}")
    op.execute(
        "CREATE TABLE spending_line (LIKE spending_line_0019 INCLUDING DEFAULTS"
        " INCLUDING CONSTRAINTS INCLUDING IDENTITY,"
        " PRIMARY KEY (id), CONSTRAINT uq_spending_line UNIQUE (file_id, line_number))"
    )
    op.execute("INSERT INTO spending_line OVERRIDING SYSTEM VALUE SELECT * FROM spending_line_0019")
    op.execute(
        "SELECT setval(pg_get_serial_sequence('spending_line', 'id'), max(id))"
        " FROM spending_line HAVING max(id) IS NOT NULL"
    )
    op.execute("DROP TABLE spending_line_0019")
    op.execute("CREATE INDEX ix_spending_line_page ON spending_line (payment_date DESC, id DESC)")
    op.execute(
        "CREATE INDEX ix_spending_line_beneficiary ON spending_line "
        "(beneficiary_key text_pattern_ops)"
    )
    op.execute("CREATE INDEX ix_spending_line_service ON spending_line (service)")
