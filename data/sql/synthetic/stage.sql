-- Staging tables for one synthetic generation (data/synthetic.py), dropped at commit. The plan
-- is made in Python (seeded); every geometry is built and measured here, in EPSG:27700.
CREATE TEMP TABLE synthetic_organiser_plan (
    ordinal integer PRIMARY KEY,
    name text NOT NULL UNIQUE,
    email text NOT NULL,
    training_centre text NOT NULL,
    trained_on date NOT NULL,
    active boolean NOT NULL,
    x double precision NOT NULL,
    y double precision NOT NULL,
    radius_m double precision NOT NULL
) ON COMMIT DROP;

CREATE TEMP TABLE synthetic_group_plan (
    ordinal integer PRIMARY KEY,
    name text NOT NULL UNIQUE,
    kind text NOT NULL,
    description text NOT NULL,
    meeting_place text NOT NULL,
    how_to_join text NOT NULL,
    leader_name text NOT NULL,
    leader_email text NOT NULL,
    code_of_conduct_version text NOT NULL,
    code_of_conduct_accepted_on date NOT NULL,
    -- Either the LSOAs whose union is the area, or a circle (x, y, radius_m) clipped to land.
    lsoa_codes text[],
    x double precision NOT NULL,
    y double precision NOT NULL,
    radius_m double precision,
    organiser_name text,
    last_activity_on date
) ON COMMIT DROP;

CREATE TEMP TABLE synthetic_activity_plan (
    group_ordinal integer NOT NULL,
    kind text NOT NULL,
    held_on date NOT NULL,
    title text NOT NULL,
    attendance integer NOT NULL
) ON COMMIT DROP;
