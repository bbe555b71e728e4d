-- The districts of some LSOAs of one generation.
SELECT DISTINCT lad_code FROM lsoa WHERE vintage = %(generation)s AND code = ANY(%(codes)s);
