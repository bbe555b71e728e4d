-- After a load: LSOAs whose name, district, decile, adults (to a millionth: apportioned adults
-- differ in their last bits from load to load) or boundary changed take the new values; adults
-- covered follow the adults (the shares are recomputed right after).
WITH fresh AS ({fresh})
UPDATE lsoa_coverage c
SET fid = f.fid, name = f.name, lad_code = f.lad_code, lad_name = f.lad_name,
    imd_decile = f.imd_decile, adults = f.adults,
    adults_covered = f.adults * c.covered_share,
    adults_uncovered = f.adults - f.adults * c.covered_share,
    adults_organiser_covered = f.adults * c.organiser_share,
    cold_spot = coalesce(f.imd_decile <= %(deprived_decile_max)s
                         AND c.covered_share < %(threshold)s, false),
    geom = f.geom, geom_4326 = f.geom_4326, geom_3857 = f.geom_3857,
    geom_3857_low = f.geom_3857_low, geom_3857_mid = f.geom_3857_mid
FROM fresh f
WHERE c.code = f.code
  AND (c.fid, c.name, c.lad_code, c.lad_name, c.imd_decile, round(c.adults::numeric, 6),
       c.geom::bytea,
       c.geom_4326::bytea, c.geom_3857::bytea, c.geom_3857_low::bytea, c.geom_3857_mid::bytea)
      IS DISTINCT FROM
      (f.fid, f.name, f.lad_code, f.lad_name, f.imd_decile, round(f.adults::numeric, 6),
       f.geom::bytea,
       f.geom_4326::bytea, f.geom_3857::bytea, f.geom_3857_low::bytea, f.geom_3857_mid::bytea);
