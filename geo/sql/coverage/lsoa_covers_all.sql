-- A national recompute's covers of every LSOA (coverage/lsoa_cover.sql: the groups', and the
-- organisers' in two halves of the LSOAs), computed apart from where they are written. As
-- CREATE TABLE AS, the three parts run at once as a Parallel Append, each part whole in one
-- process (so its unions keep their order), where the UPDATE of coverage/lsoa.sql ran them one
-- after the other (coverage/national_begin.sql makes the planner choose it: rows cost nothing
-- to pass from a worker, and no Gather Merge). coverage/lsoa.sql then reads them from here.
CREATE TEMP TABLE coverage_lsoa_covers ON COMMIT DROP AS
{group_cover}
UNION ALL
{organiser_cover_even}
UNION ALL
{organiser_cover_odd}
