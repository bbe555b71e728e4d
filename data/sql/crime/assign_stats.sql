-- What placing the staged crimes found: police.uk codes a point-in-polygon test could check,
-- those it would have moved, codes of the other generation, crimes outside the loaded
-- boundaries, crimes without a location.
SELECT count(*) FILTER (WHERE p.lsoa_code_given IS NOT NULL
                          AND p.pip_in_given_generation IS NOT NULL),
       count(*) FILTER (WHERE p.lsoa_code_given IS NOT NULL
                          AND p.pip_in_given_generation <> p.lsoa_code_given),
       count(*) FILTER (WHERE p.lsoa_given_vintage <> p.rule_generation),
       count(*) FILTER (WHERE p.outside_boundaries),
       count(*) FILTER (WHERE p.no_location)
FROM crime_stage s JOIN crime_placed p ON p.place_id = s.place_id;
