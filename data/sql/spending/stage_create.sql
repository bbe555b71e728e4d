-- A payment file's lines as published (all text), numbered as lines of the file: the header is
-- line 1, so the first payment is line 2. Columns are the Code's national field names; a
-- publisher's column it does not declare is read into one of the ignored_* columns.
CREATE TEMPORARY TABLE spending_stage (
    line_number integer GENERATED ALWAYS AS IDENTITY (START WITH 2),
    organisation_label text,
    organisation_uri text,
    effective_date text,
    service text,
    beneficiary_name text,
    beneficiary_other_id text,
    payment_date text,
    transaction_number text,
    amount text,
    irrecoverable_vat text,
    purpose text,
    category text,
    category_code text,
    invoice_number text,
    profit_centre text,
    vat_registration_number text
) ON COMMIT DROP;
