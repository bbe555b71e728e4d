-- England's or a district's snapshots, oldest first (the trend).
SELECT taken_on, scope, code, adults, adults_covered, deprived_adults, deprived_adults_covered,
       adults_organiser_covered, active_groups, active_organisers, cold_spots, details
FROM coverage_snapshot
WHERE scope = %(scope)s AND code = %(code)s
ORDER BY taken_on;
