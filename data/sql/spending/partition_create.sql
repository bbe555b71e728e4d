-- A new file's lines go first into a table of their own, with the columns and checks of
-- spending_line and no index; it becomes the file's partition once filled and indexed. The
-- check on the file lets ATTACH PARTITION skip scanning it.
CREATE TABLE {partition} (LIKE spending_line INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
ALTER TABLE {partition} ADD CHECK (file_id = {file_id});
-- No planner statistics for the columns no query filters or groups by: ANALYZE reads less.
ALTER TABLE {partition}
    ALTER COLUMN line_number SET STATISTICS 0,
    ALTER COLUMN organisation_label SET STATISTICS 0,
    ALTER COLUMN organisation_uri SET STATISTICS 0,
    ALTER COLUMN effective_date SET STATISTICS 0,
    ALTER COLUMN beneficiary_name SET STATISTICS 0,
    ALTER COLUMN beneficiary_other_id SET STATISTICS 0,
    ALTER COLUMN transaction_number SET STATISTICS 0,
    ALTER COLUMN irrecoverable_vat SET STATISTICS 0,
    ALTER COLUMN category_code SET STATISTICS 0,
    ALTER COLUMN invoice_number SET STATISTICS 0,
    ALTER COLUMN profit_centre SET STATISTICS 0,
    ALTER COLUMN vat_registration_number SET STATISTICS 0;
