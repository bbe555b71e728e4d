-- Bring lsoa_index_value in line with the values staged by the load (after
-- foundation/index_domains_prune.sql): values no longer staged, or staged differently, go;
-- staged values not held come. A reload of the same files writes no value, so none is
-- checked against its foreign key again or added to the indexes (600,000 rows deleted and
-- copied in again took 9-13 s of server CPU). Readers keep seeing the previous values until
-- the load commits.
DELETE FROM lsoa_index_value v
WHERE NOT EXISTS (
    SELECT 1 FROM stage_index_value s
    WHERE s.edition_code = v.edition_code AND s.domain_code = v.domain_code
      AND s.lsoa_code = v.lsoa_code AND s.score IS NOT DISTINCT FROM v.score
      AND s.rank = v.rank AND s.decile = v.decile
);
INSERT INTO lsoa_index_value (edition_code, domain_code, lsoa_code, score, rank, decile)
SELECT s.edition_code, s.domain_code, s.lsoa_code, s.score, s.rank, s.decile
FROM stage_index_value s
WHERE NOT EXISTS (
    SELECT 1 FROM lsoa_index_value v
    WHERE v.edition_code = s.edition_code AND v.domain_code = s.domain_code
      AND v.lsoa_code = s.lsoa_code
);
