-- Store the placed crimes (with only_loaded, those outside the loaded boundaries are dropped).
INSERT INTO crime (load_id, force, month, crime_type, crime_type_known, crime_ref, location,
                   lsoa_code_given, lsoa_given_vintage, lsoa_assigned_by, lsoa11_code,
                   lsoa21_code, ward_code, lad_code, h3_cell, h3_fid, no_location,
                   outside_boundaries, geom, geom_4326, geom_3857)
SELECT load_id, force, month, crime_type, crime_type_known, crime_ref, location,
       lsoa_code_given, lsoa_given_vintage, lsoa_assigned_by, lsoa11_code, lsoa21_code,
       ward_code, lad_code, h3_cell, h3_fid, no_location, outside_boundaries, geom,
       geom_4326, geom_3857
FROM crime_assigned
WHERE NOT (%(only_loaded)s AND outside_boundaries);
