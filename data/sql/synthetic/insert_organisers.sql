-- The planned organisers with their clipped, measured patches. References come from the
-- identity as for registered organisers ("CO-" and the zero-padded id), in plan order.
INSERT INTO organiser (
    id, reference, name, email, training_centre, trained_on, active, patch, patch_area_km2,
    lad_codes, is_synthetic, created_by
)
SELECT n.id, 'CO-' || lpad(n.id::text, 5, '0'), n.name, n.email, n.training_centre,
       n.trained_on, n.active, n.geom, n.area_km2, n.lad_codes, true, %(actor)s
FROM (
    SELECT nextval(pg_get_serial_sequence('organiser', 'id')) AS id, p.*, a.geom, a.area_km2,
           a.lad_codes
    FROM synthetic_organiser_plan p
    JOIN synthetic_area a ON a.owner = 'organiser' AND a.ordinal = p.ordinal
    ORDER BY p.ordinal
) n
RETURNING id;
