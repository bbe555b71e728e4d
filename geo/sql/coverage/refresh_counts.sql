-- What a national recompute leaves: groups, organisers, pieces and England's adults.
SELECT (SELECT count(*) FROM community_group) AS groups,
       (SELECT count(*) FROM community_group
        WHERE listed AND last_activity_on >= %(since)s) AS active_groups,
       (SELECT count(*) FROM organiser) AS organisers,
       (SELECT count(*) FROM organiser WHERE active) AS active_organisers,
       (SELECT count(*) FROM group_lsoa) AS group_pieces,
       (SELECT count(*) FROM organiser_lsoa) AS organiser_pieces,
       count(*) AS lsoas,
       coalesce(sum(adults), 0) AS adults,
       coalesce(sum(adults_covered), 0) AS adults_covered
FROM lsoa_coverage;
