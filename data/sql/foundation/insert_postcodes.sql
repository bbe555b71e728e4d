-- Postcode centroids: lon/lat (EPSG:4326) transformed explicitly to British National Grid.
INSERT INTO postcode (postcode, lsoa_vintage, lsoa_code, lad_code, geom, geom_4326)
SELECT postcode, 2021, lsoa_code, lad_code,
       ST_Transform(ST_SetSRID(ST_MakePoint(lon, lat), 4326), 27700),
       ST_SetSRID(ST_MakePoint(lon, lat), 4326)
FROM stage_postcode;
