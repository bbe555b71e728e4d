-- After a load: LSOAs no longer in the coverage edition leave the coverage layer. The layer is
-- brought in line row by row (deleted, updated, inserted; never truncated), so readers see the
-- old rows until the load commits and a reload of the same data writes nothing.
DELETE FROM lsoa_coverage c
WHERE NOT EXISTS (
    SELECT 1 FROM lsoa_deprivation d WHERE d.edition_code = %(edition)s AND d.code = c.code
);
