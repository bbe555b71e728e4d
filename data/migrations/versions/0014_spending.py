"""Council spending line by line, and other funders' grants imported from 360Giving data.

Revision ID: 0014_spending
Revises: 0017_asset_land_and_buildings
Create Date: 2026-12-07

``spending_file`` records each payment file loaded (publisher, file name, zip member, sha256,
lines, total, first and last payment date): one row per file, replaced whole when the file
changes. ``spending_line`` keeps every line of it, with the Local Government Transparency
Code's fields under national names (the publisher's own column names are declared in
``data/spending_publishers.toml``), the amount as an exact ``numeric(14, 2)`` (credits
negative), whether the line exceeds £500 (``geo.spending.rules``), whether the beneficiary
is redacted, a normalised beneficiary key for grouping beside the original text, and the file
line it came from. Indexes serve keyset paging by (payment date, id) and each filter;
``spending_beneficiary`` lists the distinct beneficiary keys (with the commonest spelling) so
that a word search scans thousands of names rather than every line.

``grant_import`` and ``imported_grant`` hold 360Giving grants read from other funders' files
(CSV summary tables or JSON packages): the standard's fields, the whole grant object as
published, and where the grant was placed (an LSOA, ward or district code with its
generation) and how (from a beneficiary location code, from the recipient's postcode, or not
placed, with the reason).
"""

from alembic import op

revision = "0014_spending"
down_revision = "0017_asset_land_and_buildings"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    # NULL where a value is one of a publisher's "no value" spellings (e.g. NA); inlined.
    op.execute(
        "CREATE FUNCTION nullif_any(value text, nulls text[]) RETURNS text"
        " LANGUAGE sql IMMUTABLE PARALLEL SAFE"
        " AS $$ SELECT CASE WHEN value = '' OR value = ANY(nulls) THEN NULL ELSE value END $$"
    )
    op.execute(
        """
        CREATE TABLE spending_file (
            id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            publisher text NOT NULL,
            file_name text NOT NULL,
            member text NOT NULL,
            sha256 text NOT NULL,
            line_count integer NOT NULL,
            total_amount numeric(16, 2) NOT NULL,
            first_payment_date date,
            last_payment_date date,
            loaded_at timestamptz NOT NULL DEFAULT now(),
            CONSTRAINT uq_spending_file UNIQUE (publisher, file_name)
        )
        """
    )
    op.execute(
        """
        CREATE TABLE spending_line (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            -- No foreign key: its per-row check would double the load time; the loader
            -- deletes a file's lines with the file, in one transaction.
            file_id integer NOT NULL,
            line_number integer NOT NULL,
            publisher text NOT NULL,
            organisation_label text NOT NULL,
            organisation_uri text,
            effective_date date,
            service text,
            beneficiary_name text NOT NULL,
            beneficiary_key text NOT NULL,
            beneficiary_other_id text,
            redacted boolean NOT NULL,
            payment_date date NOT NULL,
            transaction_number text,
            amount numeric(14, 2) NOT NULL,
            irrecoverable_vat numeric(14, 2),
            purpose text,
            category text,
            category_code text,
            invoice_number text,
            profit_centre text,
            vat_registration_number text,
            over_500 boolean NOT NULL,
            CONSTRAINT uq_spending_line UNIQUE (file_id, line_number),
            CONSTRAINT ck_spending_over_500 CHECK (over_500 = (abs(amount) > 500))
        )
        """
    )
    # Keyset paging: newest first, ties broken by id (stable under equal dates).
    op.execute("CREATE INDEX ix_spending_line_page ON spending_line (payment_date DESC, id DESC)")
    op.execute(
        "CREATE INDEX ix_spending_line_beneficiary ON spending_line "
        "(beneficiary_key text_pattern_ops)"
    )
    # Word search over beneficiaries runs on the few thousand distinct keys, not on every line.
    op.execute(
        """
        CREATE TABLE spending_beneficiary (
            beneficiary_key text PRIMARY KEY,
            name text NOT NULL,
            redacted boolean NOT NULL
        )
        """
    )
    # Month totals by every grouping the totals serve: whole-month queries (and the whole set)
    # sum ~60,000 rows instead of ~490,000 lines. Kept in step with the lines by the loader,
    # in the same transaction, for the months a file touches.
    op.execute(
        """
        CREATE TABLE spending_month_total (
            publisher text NOT NULL,
            month date NOT NULL,
            beneficiary_key text NOT NULL,
            service text,
            category text,
            over_500 boolean NOT NULL,
            redacted boolean NOT NULL,
            amount numeric(16, 2) NOT NULL,
            lines integer NOT NULL,
            CONSTRAINT ck_spending_month_first CHECK (extract(day FROM month) = 1)
        )
        """
    )
    op.execute("CREATE INDEX ix_spending_month_total ON spending_month_total (publisher, month)")
    op.execute(
        "CREATE INDEX ix_spending_beneficiary_words ON spending_beneficiary "
        "USING gin (beneficiary_key gin_trgm_ops)"
    )
    op.execute("CREATE INDEX ix_spending_line_service ON spending_line (service)")

    op.execute(
        """
        CREATE TABLE grant_import (
            id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            source_name text NOT NULL UNIQUE,
            file_format text NOT NULL CHECK (file_format IN ('csv', 'json')),
            sha256 text NOT NULL,
            grant_count integer NOT NULL,
            publisher_name text,
            licence text,
            loaded_at timestamptz NOT NULL DEFAULT now()
        )
        """
    )
    op.execute(
        """
        CREATE TABLE imported_grant (
            import_id integer NOT NULL REFERENCES grant_import (id) ON DELETE CASCADE,
            grant_id text NOT NULL,
            title text NOT NULL,
            description text NOT NULL,
            currency char(3) NOT NULL,
            amount_awarded numeric(16, 2) NOT NULL,
            amount_applied_for numeric(16, 2),
            amount_disbursed numeric(16, 2),
            award_date date NOT NULL,
            recipient_org_id text,
            recipient_org_name text,
            recipient_postcode text,
            funding_org_id text NOT NULL,
            funding_org_name text NOT NULL,
            programme_title text,
            beneficiary_locations jsonb NOT NULL DEFAULT '[]',
            date_modified timestamptz,
            grant_object jsonb NOT NULL,
            placed_level text CHECK (placed_level IN ('lsoa', 'ward', 'lad')),
            placed_code text,
            placed_vintage smallint,
            placed_by text NOT NULL CHECK (
                placed_by IN ('beneficiary_location', 'recipient_postcode', 'not_placed')),
            placement_note text NOT NULL,
            PRIMARY KEY (import_id, grant_id),
            CONSTRAINT ck_imported_grant_placed CHECK (
                (placed_by = 'not_placed') = (placed_code IS NULL)
                AND (placed_code IS NULL) = (placed_level IS NULL))
        )
        """
    )
    op.execute("CREATE INDEX ix_imported_grant_place ON imported_grant (placed_level, placed_code)")


def downgrade() -> None:
    op.execute("DROP TABLE imported_grant")
    op.execute("DROP TABLE grant_import")
    op.execute("DROP TABLE spending_month_total")
    op.execute("DROP TABLE spending_beneficiary")
    op.execute("DROP TABLE spending_line")
    op.execute("DROP TABLE spending_file")
    op.execute("DROP FUNCTION nullif_any(text, text[])")
