-- Lock an organiser's row for a write (parallel writes to one organiser queue here).
SELECT id, version FROM organiser WHERE id = %(id)s FOR UPDATE;
