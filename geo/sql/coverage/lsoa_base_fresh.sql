-- The coverage edition's LSOAs as a load leaves them: boundary and simplified tile copies from
-- lsoa_deprivation, IMD decile, adults (inserted as {fresh} by the statements after a load).
SELECT d.code, d.fid, d.name, d.lad_code, d.lad_name, d.imd_decile,
       coalesce(p.adults_18_plus, 0) AS adults,
       d.geom, d.geom_4326, d.geom_3857, d.geom_3857_low, d.geom_3857_mid
FROM lsoa_deprivation d
LEFT JOIN lsoa_population p ON p.edition_code = d.edition_code AND p.lsoa_code = d.code
WHERE d.edition_code = %(edition)s
