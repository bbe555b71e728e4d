-- The ward or LAD (of the edition's geography) that holds an LSOA, with its name.
SELECT CASE %(level)s WHEN 'ward' THEN l.ward_code ELSE l.lad_code END AS code,
       CASE %(level)s WHEN 'ward' THEN w.name ELSE d.name END AS name
FROM lsoa l
LEFT JOIN ward w ON w.vintage = l.ward_vintage AND w.code = l.ward_code
JOIN lad d ON d.vintage = l.lad_vintage AND d.code = l.lad_code
WHERE l.vintage = %(vintage)s AND l.code = %(lsoa)s;
