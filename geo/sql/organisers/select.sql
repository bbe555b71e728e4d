-- Organisers with every stored field (the caller picks the public or private shape) and the
-- listed groups they helped start, filtered by whichever parameters are given (NULL: any).
-- One row always comes back: the number matched, with the page's columns NULL when empty.
WITH matched AS (
    SELECT o.id
    FROM organiser o
    WHERE (%(id)s::bigint IS NULL OR o.id = %(id)s::bigint)
      AND (%(reference)s::text IS NULL OR o.reference = %(reference)s::text)
      AND (%(lad)s::text IS NULL OR o.lad_codes @> ARRAY[%(lad)s::text])
      AND (%(active)s::boolean IS NULL OR o.active = %(active)s::boolean)
), total AS (
    SELECT count(*) AS matched FROM matched
)
SELECT total.matched, page.*
FROM total
LEFT JOIN LATERAL (
    SELECT o.id, o.reference, o.name, o.email, o.phone, o.training_centre, o.trained_on,
           o.active, o.patch_area_km2, o.lad_codes, o.is_synthetic, o.created_by,
           o.created_at, o.updated_at, o.version,
           coalesce(s.groups, '{}') AS groups_started_references,
           coalesce(cardinality(s.groups), 0) AS groups_started,
           ARRAY[ST_XMin(b.box), ST_YMin(b.box), ST_XMax(b.box), ST_YMax(b.box)] AS bbox,
           CASE WHEN %(with_geometry)s::boolean
                THEN ST_AsGeoJSON(ST_Transform(o.patch, 4326), 6)::json END AS geometry
    FROM matched
    JOIN organiser o ON o.id = matched.id
    CROSS JOIN LATERAL (SELECT ST_Transform(o.patch, 4326)::box2d AS box) b
    LEFT JOIN LATERAL (
        SELECT array_agg(g.reference ORDER BY g.id) AS groups
        FROM community_group g
        WHERE g.started_by_organiser_id = o.id AND g.listed
    ) s ON true
    ORDER BY o.id
    LIMIT %(limit)s OFFSET %(offset)s
) page ON true;
