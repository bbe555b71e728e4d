-- Staged lines into a file's new partition of spending_line (ids from the table's identity
-- sequence): exact decimals, dates parsed with the publisher's format, the beneficiary key
-- and redaction flag from the key table computed by geo.spending.rules, and the Code's
-- "exceeding £500" flag with the rules' threshold (credits by their size).
INSERT INTO {partition} (
    id, file_id, line_number, publisher, organisation_label, organisation_uri, effective_date,
    service, beneficiary_name, beneficiary_key, beneficiary_other_id, redacted, payment_date,
    transaction_number, amount, irrecoverable_vat, purpose, category, category_code,
    invoice_number, profit_centre, vat_registration_number, over_500
)
WITH s AS (
    -- The publisher's "no value" spellings (e.g. NA) read as NULL.
    SELECT line_number,
           nullif_any(organisation_label, %(nulls)s) AS organisation_label,
           nullif_any(organisation_uri, %(nulls)s) AS organisation_uri,
           nullif_any(effective_date, %(nulls)s) AS effective_date,
           nullif_any(service, %(nulls)s) AS service,
           nullif_any(beneficiary_name, %(nulls)s) AS beneficiary_name,
           nullif_any(beneficiary_other_id, %(nulls)s) AS beneficiary_other_id,
           nullif_any(payment_date, %(nulls)s) AS payment_date,
           nullif_any(transaction_number, %(nulls)s) AS transaction_number,
           nullif_any(amount, %(nulls)s) AS amount,
           nullif_any(irrecoverable_vat, %(nulls)s) AS irrecoverable_vat,
           nullif_any(purpose, %(nulls)s) AS purpose,
           nullif_any(category, %(nulls)s) AS category,
           nullif_any(category_code, %(nulls)s) AS category_code,
           nullif_any(invoice_number, %(nulls)s) AS invoice_number,
           nullif_any(profit_centre, %(nulls)s) AS profit_centre,
           nullif_any(vat_registration_number, %(nulls)s) AS vat_registration_number
    FROM spending_stage
)
SELECT nextval(%(id_sequence)s::regclass), %(file_id)s, s.line_number, %(publisher)s,
       coalesce(s.organisation_label, %(publisher_name)s),
       s.organisation_uri, to_date(s.effective_date, %(date_format)s), s.service,
       s.beneficiary_name, k.beneficiary_key, s.beneficiary_other_id, k.redacted,
       to_date(s.payment_date, %(date_format)s), s.transaction_number, s.amount::numeric(14, 2),
       s.irrecoverable_vat::numeric(14, 2), s.purpose, s.category, s.category_code,
       s.invoice_number, s.profit_centre, s.vat_registration_number,
       abs(s.amount::numeric(14, 2)) > %(threshold)s
FROM s
JOIN spending_stage_key k ON k.beneficiary_name = s.beneficiary_name;
