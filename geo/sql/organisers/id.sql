-- The id of the organiser with a reference.
SELECT id FROM organiser WHERE reference = %(reference)s;
