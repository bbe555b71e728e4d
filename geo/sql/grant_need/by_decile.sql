-- Money per IMD decile of the LSOAs funded, against the residents of each decile in the area
-- (a district, or every LSOA loaded), for each source.
, residents AS (
    SELECT d.imd_decile AS decile, round(sum(p.residents))::bigint AS residents, count(*) AS lsoas
    FROM lsoa_deprivation d
    JOIN lsoa_population p ON p.edition_code = d.edition_code AND p.lsoa_code = d.code
    WHERE d.edition_code = %(edition)s
      AND (%(area)s::text IS NULL OR d.lad_code = %(area)s::text)
    GROUP BY d.imd_decile
)
SELECT s.source, r.decile, r.residents, r.lsoas, coalesce(sum(m.amount), 0) AS amount,
       count(DISTINCT m.grant_key) AS grants
FROM residents r
CROSS JOIN (VALUES ('imported'), ('platoons')) AS s (source)
LEFT JOIN lsoa_money m ON m.decile = r.decile AND m.source = s.source
    AND (%(area)s::text IS NULL OR m.lad_code = %(area)s::text)
GROUP BY s.source, r.decile, r.residents, r.lsoas
ORDER BY s.source, r.decile;
