-- A fingerprint of everything the H3 grid is made from: each coverage LSOA's code, adults, IMD
-- decile and WGS84 boundary. Equal before and after a load: the grid need not be rebuilt.
SELECT md5(coalesce(string_agg(
           code || ':' || adults::text || ':' || coalesce(imd_decile, 0)::text || ':'
           || md5(ST_AsBinary(geom_4326)), ',' ORDER BY code), ''))
FROM lsoa_coverage;
