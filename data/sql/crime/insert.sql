-- Store the staged crimes at their places (with only_loaded, those outside the loaded
-- boundaries are dropped).
INSERT INTO crime (load_id, force, month, crime_type, crime_type_known, crime_ref, location,
                   lsoa_code_given, lsoa_given_vintage, lsoa_assigned_by, lsoa11_code,
                   lsoa21_code, ward_code, lad_code, h3_cell, h3_fid, no_location,
                   outside_boundaries, geom, geom_4326, geom_3857)
SELECT s.load_id, s.force, s.month, s.crime_type, s.crime_type_known, s.crime_ref, s.location,
       p.lsoa_code_given, p.lsoa_given_vintage, p.lsoa_assigned_by, p.lsoa11_code,
       p.lsoa21_code, p.ward_code, p.lad_code, p.h3_cell, p.h3_fid, p.no_location,
       p.outside_boundaries, p.geom, p.geom_4326, p.geom_3857
FROM crime_stage s JOIN crime_placed p ON p.place_id = s.place_id
WHERE NOT (%(only_loaded)s AND p.outside_boundaries);
