-- A day's snapshot replaces any taken earlier that day (snapshots are idempotent per day).
DELETE FROM coverage_snapshot WHERE taken_on = %(taken_on)s;
