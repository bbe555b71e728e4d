-- One snapshot row (England or a district).
INSERT INTO coverage_snapshot (
    taken_on, scope, code, adults, adults_covered, deprived_adults, deprived_adults_covered,
    adults_organiser_covered, active_groups, active_organisers, cold_spots, details
) VALUES (
    %(taken_on)s, %(scope)s, %(code)s, %(adults)s, %(adults_covered)s, %(deprived_adults)s,
    %(deprived_adults_covered)s, %(adults_organiser_covered)s, %(active_groups)s,
    %(active_organisers)s, %(cold_spots)s, %(details)s
);
