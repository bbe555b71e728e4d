-- Progress towards the national target of trained community organisers, as of a date:
-- organisers trained by then, those active, and the listed groups they helped start.
-- Generated (synthetic) rows count only when asked for, and are reported apart.
SELECT count(*) FILTER (WHERE o.trained_on <= %(on)s) AS trained,
       count(*) FILTER (WHERE o.trained_on <= %(on)s AND o.active) AS active,
       (SELECT count(*) FROM community_group g
        JOIN organiser s ON s.id = g.started_by_organiser_id
        WHERE g.listed AND (%(synthetic)s::boolean OR NOT s.is_synthetic)) AS groups_started,
       (SELECT count(*) FROM organiser WHERE is_synthetic) AS synthetic
FROM organiser o
WHERE %(synthetic)s::boolean OR NOT o.is_synthetic;
