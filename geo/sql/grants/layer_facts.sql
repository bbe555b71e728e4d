-- Every LSOA of an edition with what rules look at: its ward and district, residents and the
-- rank/decile of each domain.
SELECT l.code, l.name, l.lad_code, l.ward_code, p.residents,
       json_object_agg(v.domain_code, json_build_array(v.rank, v.decile)) AS values
FROM index_edition e
JOIN lsoa l ON l.vintage = e.lsoa_vintage
JOIN lsoa_population p ON p.edition_code = e.code AND p.lsoa_code = l.code
JOIN lsoa_index_value v ON v.edition_code = e.code AND v.lsoa_code = l.code
WHERE e.code = %(edition)s
GROUP BY l.code, l.name, l.lad_code, l.ward_code, p.residents;
