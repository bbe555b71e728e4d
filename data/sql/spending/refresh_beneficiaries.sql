-- New beneficiary keys of the staged file, with their commonest spelling in it (ties: the
-- first alphabetically, as mode() would choose); keys already known keep theirs.
INSERT INTO spending_beneficiary (beneficiary_key, name, redacted)
SELECT DISTINCT ON (k.beneficiary_key) k.beneficiary_key, k.beneficiary_name,
       bool_or(k.redacted) OVER (PARTITION BY k.beneficiary_key)
FROM (
    SELECT beneficiary_name, count(*) AS lines
    FROM spending_stage
    GROUP BY beneficiary_name
) n
JOIN spending_stage_key k ON k.beneficiary_name = n.beneficiary_name
ORDER BY k.beneficiary_key, n.lines DESC, k.beneficiary_name
ON CONFLICT (beneficiary_key) DO NOTHING;
