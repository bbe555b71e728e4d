-- Whether a coverage snapshot was taken on a date.
SELECT EXISTS (SELECT 1 FROM coverage_snapshot WHERE taken_on = %(day)s);
