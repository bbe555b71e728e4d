-- Move staged boundaries (EPSG:4326 WKB) into the boundary tables: repair invalid polygons
-- with clean_polygons(), record which were repaired, and transform explicitly to British
-- National Grid (27700) and Web Mercator (3857).
-- Each source geometry is checked once and transformed to 27700 once (OFFSET 0 keeps each
-- subquery's columns computed once, not again where the query above uses them twice; a valid
-- source is what clean_polygons() would make of it, ST_Multi of itself).
CREATE TEMP TABLE stage_geometry ON COMMIT DROP AS
SELECT level, vintage, code, geom_4326, clean_polygons(bng) AS geom,
       NOT source_valid OR NOT ST_IsValid(bng) AS repaired
FROM (
    SELECT level, vintage, code, geom_4326, source_valid, ST_Transform(geom_4326, 27700) AS bng
    FROM (
        SELECT level, vintage, code, source_valid,
               CASE WHEN source_valid THEN ST_Multi(source) ELSE clean_polygons(source) END
                   AS geom_4326
        FROM (
            SELECT level, vintage, code, source, ST_IsValid(source) AS source_valid
            FROM (
                SELECT 'lad' AS level, vintage, code, ST_GeomFromWKB(wkb, 4326) AS source
                FROM stage_lad
                UNION ALL
                SELECT 'ward', vintage, code, ST_GeomFromWKB(wkb, 4326)
                FROM stage_ward WHERE wkb IS NOT NULL
                UNION ALL
                SELECT 'lsoa', vintage, code, ST_GeomFromWKB(wkb, 4326) FROM stage_lsoa
            ) AS staged
            OFFSET 0
        ) AS checked
        OFFSET 0
    ) AS cleaned
    OFFSET 0
) AS transformed;
CREATE INDEX ON stage_geometry (level, vintage, code);

INSERT INTO stage_repaired (level, code)
SELECT level || ':' || vintage, code FROM stage_geometry WHERE repaired;

-- Each level's rows are computed apart (<level>_fresh, in the table's column order), then
-- written where they differ from the stored ones, as the index values are
-- (index_values_write.sql): a reload of the same files deletes and inserts no boundary, so
-- none is added again to the tables' spatial indexes, and readers keep the previous rows
-- until the load commits. A first load finds nothing to delete and inserts every row.
-- The fresh tables have the tables' key, so a code the files give twice fails the load as
-- before; the insert skips by that key the rows that stayed (ON CONFLICT), not by a join
-- against the table it is filling (which can be planned as a scan of the rows it has just
-- added, once per row).
CREATE TEMP TABLE lad_fresh (LIKE lad, PRIMARY KEY (vintage, code)) ON COMMIT DROP;
INSERT INTO lad_fresh (vintage, code, name, region_code, region_name, geom, geom_4326, geom_3857, geom_repaired)
SELECT s.vintage, s.code, s.name, s.region_code, s.region_name,
       g.geom, g.geom_4326, ST_Transform(g.geom_4326, 3857), g.repaired
FROM stage_lad s JOIN stage_geometry g ON g.level = 'lad' AND g.vintage = s.vintage AND g.code = s.code;

CREATE TEMP TABLE ward_fresh (LIKE ward, PRIMARY KEY (vintage, code)) ON COMMIT DROP;
INSERT INTO ward_fresh (vintage, code, name, lad_code, geom, geom_4326, geom_3857, geom_repaired)
SELECT s.vintage, s.code, s.name, s.lad_code,
       g.geom, g.geom_4326, ST_Transform(g.geom_4326, 3857), coalesce(g.repaired, false)
FROM stage_ward s
LEFT JOIN stage_geometry g ON g.level = 'ward' AND g.vintage = s.vintage AND g.code = s.code;

CREATE TEMP TABLE lsoa_fresh (LIKE lsoa, PRIMARY KEY (vintage, code)) ON COMMIT DROP;
INSERT INTO lsoa_fresh (vintage, code, name, lad_vintage, lad_code, ward_vintage, ward_code, msoa_code,
                        geom, geom_4326, geom_3857, geom_repaired)
SELECT s.vintage, s.code, s.name, s.lad_vintage, s.lad_code, s.ward_vintage, s.ward_code, s.msoa_code,
       g.geom, g.geom_4326, ST_Transform(g.geom_4326, 3857), g.repaired
FROM stage_lsoa s JOIN stage_geometry g ON g.level = 'lsoa' AND g.vintage = s.vintage AND g.code = s.code;

-- Geometries compare by = (the same coordinates in the same order), every other column as
-- itself: a row that differs in anything is deleted and inserted afresh.
DELETE FROM lad d
WHERE NOT EXISTS (
    SELECT 1 FROM lad_fresh f
    WHERE f.vintage = d.vintage AND f.code = d.code AND ROW(f.*) IS NOT DISTINCT FROM ROW(d.*)
);
INSERT INTO lad SELECT * FROM lad_fresh ON CONFLICT (vintage, code) DO NOTHING;

DELETE FROM ward d
WHERE NOT EXISTS (
    SELECT 1 FROM ward_fresh f
    WHERE f.vintage = d.vintage AND f.code = d.code AND ROW(f.*) IS NOT DISTINCT FROM ROW(d.*)
);
INSERT INTO ward SELECT * FROM ward_fresh ON CONFLICT (vintage, code) DO NOTHING;

DELETE FROM lsoa d
WHERE NOT EXISTS (
    SELECT 1 FROM lsoa_fresh f
    WHERE f.vintage = d.vintage AND f.code = d.code AND ROW(f.*) IS NOT DISTINCT FROM ROW(d.*)
);
INSERT INTO lsoa SELECT * FROM lsoa_fresh ON CONFLICT (vintage, code) DO NOTHING;

DROP TABLE lad_fresh, ward_fresh, lsoa_fresh;
