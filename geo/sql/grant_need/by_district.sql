-- Money per district (LSOA, ward and district placements together) against its residents.
, money AS (
    SELECT source, grant_key, lad_code, amount FROM lsoa_money
    UNION ALL
    SELECT source, grant_key, lad_code, amount FROM area_money
),
districts AS (
    SELECT d.lad_code, min(d.lad_name) AS name, round(sum(p.residents))::bigint AS residents
    FROM lsoa_deprivation d
    JOIN lsoa_population p ON p.edition_code = d.edition_code AND p.lsoa_code = d.code
    WHERE d.edition_code = %(edition)s
    GROUP BY d.lad_code
)
SELECT m.source, m.lad_code, d.name, d.residents, sum(m.amount) AS amount,
       count(DISTINCT m.grant_key) AS grants
FROM money m
LEFT JOIN districts d ON d.lad_code = m.lad_code
WHERE %(area)s::text IS NULL OR m.lad_code = %(area)s::text
GROUP BY m.source, m.lad_code, d.name, d.residents
ORDER BY m.source, sum(m.amount) DESC;
