-- Residents and adults per LSOA of each edition's geography (see migration 0003).
DELETE FROM lsoa_population;

-- Editions on the estimates' own geography: the estimates as published.
INSERT INTO lsoa_population (edition_code, lsoa_code, residents, adults_18_plus, reference_year, method)
SELECT e.code, p.lsoa_code, p.total, p.adults_18_plus, p.reference_year,
       'ONS mid-' || p.reference_year || ' LSOA population estimates'
FROM index_edition e
JOIN lsoa_population_estimate p ON p.lsoa_vintage = e.lsoa_vintage;

-- Editions on 2021 LSOAs: apportion 2011 estimates through the 2011->2021 lookup by the area
-- each 2011 LSOA shares with each 2021 LSOA it maps to (British National Grid, m2).
WITH pairs AS (
    SELECT c.lsoa11_code, c.lsoa21_code, p.total, p.adults_18_plus, p.reference_year,
           CASE WHEN c.change_code = 'U' THEN 1.0
                ELSE ST_Area(ST_Intersection(l11.geom, l21.geom)) END AS shared
    FROM lsoa_2011_2021 c
    JOIN lsoa_population_estimate p ON p.lsoa_vintage = 2011 AND p.lsoa_code = c.lsoa11_code
    JOIN lsoa l11 ON l11.vintage = 2011 AND l11.code = c.lsoa11_code
    JOIN lsoa l21 ON l21.vintage = 2021 AND l21.code = c.lsoa21_code
), weighted AS (
    SELECT *, shared / nullif(sum(shared) OVER (PARTITION BY lsoa11_code), 0) AS fraction
    FROM pairs
)
INSERT INTO lsoa_population (edition_code, lsoa_code, residents, adults_18_plus, reference_year, method)
SELECT e.code, w.lsoa21_code, sum(w.total * coalesce(w.fraction, 0)),
       sum(w.adults_18_plus * coalesce(w.fraction, 0)), max(w.reference_year),
       'ONS mid-' || max(w.reference_year) || ' estimates on 2011 LSOAs, apportioned to 2021 LSOAs by shared area'
FROM index_edition e
JOIN weighted w ON e.lsoa_vintage = 2021
JOIN lsoa l ON l.vintage = 2021 AND l.code = w.lsoa21_code
GROUP BY e.code, w.lsoa21_code;
