-- The start of a national recompute: settings for its transaction only, and no work tables
-- left from an earlier recompute in the same transaction (they are temporary, dropped at
-- commit). Its plans are cheap to make and dearer to JIT-compile than to run; its hash joins
-- and aggregates over ~1 million H3 cells fit in 64 MB instead of spilling to disk in 32
-- batches; the per-area work (the cut, the cells in each area, the LSOAs' unions) may be
-- shared among parallel workers even though the tables of areas are smaller than the size
-- PostgreSQL otherwise starts workers for, and rows cost nothing to pass from a worker. With
-- Gather Merge off too, the LSOAs' covers (coverage/lsoa_covers_all.sql) run as a Parallel
-- Append of whole aggregates, one process each, instead of one after another.
SET LOCAL jit = off;
SET LOCAL work_mem = '64MB';
SET LOCAL min_parallel_table_scan_size = 0;
SET LOCAL parallel_setup_cost = 0;
SET LOCAL parallel_tuple_cost = 0;
SET LOCAL enable_gathermerge = off;
DROP TABLE IF EXISTS coverage_cut, coverage_parent_masks, coverage_lsoa_covers;
