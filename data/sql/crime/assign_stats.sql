-- What placing the staged crimes found: police.uk codes a point-in-polygon test could check,
-- those it would have moved, codes of the other generation, crimes outside the loaded
-- boundaries, crimes without a location.
SELECT count(*) FILTER (WHERE lsoa_code_given IS NOT NULL AND pip_in_given_generation IS NOT NULL),
       count(*) FILTER (WHERE lsoa_code_given IS NOT NULL
                          AND pip_in_given_generation <> lsoa_code_given),
       count(*) FILTER (WHERE lsoa_given_vintage <> rule_generation),
       count(*) FILTER (WHERE outside_boundaries),
       count(*) FILTER (WHERE no_location)
FROM crime_assigned;
