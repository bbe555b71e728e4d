-- Staging tables for one load; dropped at commit or rollback.
CREATE TEMP TABLE stage_lad (
    vintage smallint, code text, name text, region_code text, region_name text, wkb bytea
) ON COMMIT DROP;
CREATE TEMP TABLE stage_ward (
    vintage smallint, code text, name text, lad_code text, wkb bytea
) ON COMMIT DROP;
CREATE TEMP TABLE stage_lsoa (
    vintage smallint, code text, name text, lad_vintage smallint, lad_code text,
    ward_vintage smallint, ward_code text, msoa_code text, wkb bytea
) ON COMMIT DROP;
CREATE TEMP TABLE stage_postcode (
    postcode text, lsoa_code text, lad_code text, lon double precision, lat double precision
) ON COMMIT DROP;
CREATE TEMP TABLE stage_index_value (
    edition_code text, domain_code text, lsoa_code text, score double precision, rank integer,
    decile smallint
) ON COMMIT DROP;
CREATE TEMP TABLE stage_repaired (level text, code text) ON COMMIT DROP;
