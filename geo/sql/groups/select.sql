-- Groups with every stored field (the caller picks the public or private shape), whether each
-- is active on the date asked (listed, and activity on or after %(active_since)s), its published
-- ratings, managers and the organiser who helped start it; filtered by whichever parameters are
-- given (NULL means "any"). One row always comes back: the number matched, with the page's
-- columns NULL when the page is empty.
WITH matched AS (
    SELECT g.id
    FROM community_group g
    WHERE (%(id)s::bigint IS NULL OR g.id = %(id)s::bigint)
      AND (%(ids)s::bigint[] IS NULL OR g.id = ANY(%(ids)s::bigint[]))
      AND (%(reference)s::text IS NULL OR g.reference = %(reference)s::text)
      AND (NOT %(listed_only)s::boolean OR g.listed)
      AND (%(lad)s::text IS NULL OR g.lad_codes @> ARRAY[%(lad)s::text])
      AND (%(kind)s::text IS NULL OR g.kind = %(kind)s::text)
      AND (%(organiser_id)s::bigint IS NULL OR g.started_by_organiser_id = %(organiser_id)s::bigint)
      AND (%(active)s::boolean IS NULL
           OR coalesce(g.listed AND g.last_activity_on >= %(active_since)s::date, false)
              = %(active)s::boolean)
      AND (%(q)s::text IS NULL
           OR strpos(lower(g.name || ' ' || g.description), lower(%(q)s::text)) > 0)
      AND (%(bbox)s::float8[] IS NULL OR (
           g.area && ST_Expand(ST_Transform(ST_MakeEnvelope((%(bbox)s::float8[])[1],
               (%(bbox)s::float8[])[2], (%(bbox)s::float8[])[3], (%(bbox)s::float8[])[4], 4326),
               27700), 2000)
           AND ST_Intersects(ST_Transform(g.area, 4326), ST_MakeEnvelope((%(bbox)s::float8[])[1],
               (%(bbox)s::float8[])[2], (%(bbox)s::float8[])[3], (%(bbox)s::float8[])[4], 4326))))
), total AS (
    SELECT count(*) AS matched FROM matched
)
SELECT total.matched, page.*
FROM total
LEFT JOIN LATERAL (
    SELECT g.id, g.reference, g.name, g.kind, g.registration_number, g.description,
           g.meeting_place, g.how_to_join, g.website, g.leader_name, g.leader_email,
           g.leader_phone, g.leader_address, g.code_of_conduct_version,
           g.code_of_conduct_accepted_on, g.area_km2, g.area_lsoa_codes, g.lad_codes,
           g.principal_lad_code, g.started_by_organiser_id, o.reference AS started_by_organiser,
           g.listed, g.last_activity_on,
           coalesce(g.listed AND g.last_activity_on >= %(active_since)s::date, false) AS active,
           r.rating_average, coalesce(r.rating_count, 0) AS rating_count,
           coalesce(m.managers, '{}') AS managers, g.is_synthetic, g.created_by, g.created_at,
           g.updated_at, g.version,
           ARRAY[ST_XMin(b.box), ST_YMin(b.box), ST_XMax(b.box), ST_YMax(b.box)] AS bbox,
           CASE WHEN %(with_geometry)s::boolean
                THEN ST_AsGeoJSON(ST_Transform(g.area, 4326), 6)::json END AS geometry
    FROM matched
    JOIN community_group g ON g.id = matched.id
    LEFT JOIN organiser o ON o.id = g.started_by_organiser_id
    CROSS JOIN LATERAL (SELECT ST_Transform(g.area, 4326)::box2d AS box) b
    LEFT JOIN LATERAL (
        SELECT avg(stars)::float8 AS rating_average, count(*)::int AS rating_count
        FROM group_rating
        WHERE group_id = g.id AND status = 'published'
    ) r ON true
    LEFT JOIN LATERAL (
        SELECT array_agg(key_id ORDER BY key_id) AS managers
        FROM group_manager
        WHERE group_id = g.id
    ) m ON true
    ORDER BY g.id
    LIMIT %(limit)s OFFSET %(offset)s
) page ON true;
