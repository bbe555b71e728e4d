-- One programme's staged verdicts, with geometries from the edition's serving table (its old
-- rows are deleted first by grants/layer_clear.sql).
INSERT INTO programme_lsoa_eligibility
SELECT %(programme)s, d.code, %(programme)s || ':' || d.code, d.fid, %(programme_name)s,
       d.edition_code, d.name, d.lad_code, d.ward_code, d.imd_decile, s.qualifies, s.assessed_as,
       d.geom, d.geom_4326, d.geom_3857, d.geom_3857_low, d.geom_3857_mid
FROM stage_eligibility s
JOIN lsoa_deprivation d ON d.edition_code = %(edition)s AND d.code = s.code;
