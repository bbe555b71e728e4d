-- A national re-cut, computed apart from where it is stored: CREATE TABLE ... AS may run its
-- query as a parallel plan (an INSERT ... SELECT never does in PostgreSQL 15), so the cut of
-- every area (coverage/cut.sql for all owners, inserted below) is shared among the parallel
-- workers.
-- coverage/cut_store.sql then replaces the pieces with these.
DROP TABLE IF EXISTS coverage_cut;
CREATE TEMP TABLE coverage_cut ON COMMIT DROP AS
{cut}
