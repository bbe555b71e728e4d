-- The loaded index editions with how many LSOAs and districts each holds (current first).
SELECT e.code, e.title, e.published, e.is_current, e.national_lsoa_count,
       count(d.code) AS lsoas, count(DISTINCT d.lad_code) AS districts
FROM index_edition e
LEFT JOIN lsoa_deprivation d ON d.edition_code = e.code
GROUP BY e.code
ORDER BY e.is_current DESC, e.code DESC;
