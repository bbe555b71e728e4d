-- Money per LSOA some money reached (placed on it, or split onto it), against the LSOA's own
-- residents, for each source; LSOAs no money reached are left out.
, funded AS (
    SELECT source, lsoa_code, lad_code, decile, sum(amount) AS amount,
           count(DISTINCT grant_key) AS grants
    FROM lsoa_money
    WHERE %(area)s::text IS NULL OR lad_code = %(area)s::text
    GROUP BY source, lsoa_code, lad_code, decile
)
SELECT f.source, f.lsoa_code, f.lad_code, f.decile, round(p.residents)::bigint AS residents,
       f.amount, f.grants
FROM funded f
JOIN lsoa_population p ON p.edition_code = %(edition)s AND p.lsoa_code = f.lsoa_code
ORDER BY f.source, f.lsoa_code;
