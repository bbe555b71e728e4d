-- The per-LSOA layer (2021 generation): crimes held, and in the 12 months to the latest month
-- the LSOA's force published, with the rate per 1,000 residents of the current edition.
DELETE FROM crime_lsoa_serving;
WITH edition AS (
    SELECT code FROM index_edition WHERE lsoa_vintage = 2021 ORDER BY is_current DESC, code LIMIT 1
), force_latest AS (
    SELECT force, min(month) AS first_month, max(month) AS last_month,
           to_char(to_date(max(month), 'YYYY-MM') - interval '11 months', 'YYYY-MM') AS since
    FROM crime_month GROUP BY force
), counts AS (
    SELECT c.lsoa21_code AS code, min(f.first_month) AS first_month,
           max(f.last_month) AS last_month, count(*) AS crimes,
           count(*) FILTER (WHERE c.month >= f.since) AS recent
    FROM crime c JOIN force_latest f ON f.force = c.force
    WHERE c.lsoa21_code IS NOT NULL
    GROUP BY c.lsoa21_code
)
INSERT INTO crime_lsoa_serving (fid, code, name, lad_code, lad_name, first_month, last_month,
                                crimes, crimes_last_12_months, residents,
                                rate_per_1000_last_12_months, geom, geom_4326, geom_3857,
                                geom_3857_low, geom_3857_mid)
SELECT d.fid, d.code, d.name, d.lad_code, d.lad_name, c.first_month, c.last_month, c.crimes,
       c.recent, p.residents,
       CASE WHEN p.residents > 0 THEN c.recent * 1000.0 / p.residents END,
       d.geom, d.geom_4326, d.geom_3857, d.geom_3857_low, d.geom_3857_mid
FROM counts c
JOIN lsoa_deprivation d ON d.edition_code = (SELECT code FROM edition) AND d.code = c.code
LEFT JOIN lsoa_population p ON p.edition_code = d.edition_code AND p.lsoa_code = d.code;
