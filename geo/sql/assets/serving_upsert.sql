-- Keep the map layer (collection assets-of-community-value) in step with one asset, in the
-- transaction of the write. Points need no generalisation: the low and mid zoom columns hold
-- the same point. next_deadline is computed by geo/rights.py as of the write;
-- open_amenity_bids counts the bids to run it that are expressed or accepted.
INSERT INTO asset_serving (fid, reference, name, category, owner_type, status, lsoa_code,
                           lad_code, imd_decile, next_deadline, next_deadline_kind, listed_on,
                           is_example, open_amenity_bids, geom, geom_4326, geom_3857,
                           geom_3857_low, geom_3857_mid)
SELECT a.id, a.reference, a.name, a.category, a.owner_type, a.status, a.lsoa_code, a.lad_code,
       a.imd_decile, %(next_deadline)s, %(next_deadline_kind)s, a.listed_on::text, a.is_example,
       (SELECT count(*) FROM amenity_bid b
        WHERE b.asset_id = a.id AND b.status IN ('expressed', 'accepted')),
       a.geom, ST_Transform(a.geom, 4326), ST_Transform(a.geom, 3857),
       ST_Transform(a.geom, 3857), ST_Transform(a.geom, 3857)
FROM asset a
WHERE a.id = %(id)s
ON CONFLICT (fid) DO UPDATE SET
    reference = EXCLUDED.reference, name = EXCLUDED.name, category = EXCLUDED.category,
    owner_type = EXCLUDED.owner_type, status = EXCLUDED.status, lsoa_code = EXCLUDED.lsoa_code,
    lad_code = EXCLUDED.lad_code, imd_decile = EXCLUDED.imd_decile,
    next_deadline = EXCLUDED.next_deadline, next_deadline_kind = EXCLUDED.next_deadline_kind,
    listed_on = EXCLUDED.listed_on, is_example = EXCLUDED.is_example,
    open_amenity_bids = EXCLUDED.open_amenity_bids, geom = EXCLUDED.geom,
    geom_4326 = EXCLUDED.geom_4326, geom_3857 = EXCLUDED.geom_3857,
    geom_3857_low = EXCLUDED.geom_3857_low, geom_3857_mid = EXCLUDED.geom_3857_mid;
