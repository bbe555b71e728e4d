-- The name of an LSOA, ward or district code in the newest geography that has it.
SELECT name
FROM (
    SELECT name, vintage FROM lsoa WHERE code = %(code)s
    UNION ALL
    SELECT name, vintage FROM ward WHERE code = %(code)s
    UNION ALL
    SELECT name, vintage FROM lad WHERE code = %(code)s
) AS named
ORDER BY vintage DESC
LIMIT 1;
