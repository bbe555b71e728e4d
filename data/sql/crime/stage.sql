-- The rows of one import, as read from the files: each crime with the id of its place, and
-- the places (a map point, police.uk's LSOA code, the LSOA generation of the month's rule,
-- the point's H3 cell; numbered while reading, data/crime.py's _Places); and the H3 layer
-- being rebuilt.
CREATE TEMP TABLE crime_stage (
    load_id bigint NOT NULL,
    force text NOT NULL,
    month text NOT NULL,
    crime_type text NOT NULL,
    crime_type_known boolean NOT NULL,
    crime_ref text,
    location text,
    place_id integer NOT NULL
) ON COMMIT DROP;
CREATE TEMP TABLE crime_place_stage (
    place_id integer NOT NULL,
    lon double precision,
    lat double precision,
    lsoa_code_given text,
    rule_generation smallint NOT NULL,
    h3_cell text,
    h3_fid bigint
) ON COMMIT DROP;
CREATE TEMP TABLE crime_h3_stage (
    fid bigint NOT NULL,
    resolution smallint NOT NULL,
    cell text NOT NULL,
    crimes integer NOT NULL,
    crimes_last_12_months integer NOT NULL,
    boundary text NOT NULL
) ON COMMIT DROP;
