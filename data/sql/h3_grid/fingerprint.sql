-- A fingerprint of everything the H3 grid is made from: each coverage LSOA's code, adults (to a
-- millionth: apportioned adults differ in their last bits from load to load), IMD decile and
-- WGS84 boundary. Equal before and after a load: the grid need not be rebuilt.
SELECT md5(coalesce(string_agg(
           code || ':' || round(adults::numeric, 6)::text || ':' || coalesce(imd_decile, 0)::text || ':'
           || md5(ST_AsBinary(geom_4326)), ',' ORDER BY code), ''))
FROM lsoa_coverage;
