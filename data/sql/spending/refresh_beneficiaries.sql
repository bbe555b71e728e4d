-- New beneficiary keys of a file, with their commonest spelling in it (ties: the first
-- alphabetically); keys already known keep theirs.
INSERT INTO spending_beneficiary (beneficiary_key, name, redacted)
SELECT beneficiary_key, mode() WITHIN GROUP (ORDER BY beneficiary_name), bool_or(redacted)
FROM spending_line
WHERE file_id = %(file_id)s
GROUP BY beneficiary_key
ORDER BY beneficiary_key
ON CONFLICT (beneficiary_key) DO NOTHING;
