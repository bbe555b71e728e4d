-- Run first in the transaction that renders a large tile (geo.tiles.LARGE_TILE_MAX_ZOOM: many
-- thousands of features): no JIT and no parallel workers for the tile statement, for that
-- transaction only. JIT compiled for 60-200 ms of CPU per z6-z7 England tile (PostGIS
-- functions, which JIT cannot compile, do the work), and parallel workers are started and fed
-- for each z6-z10 tile; on a busy server both only add CPU to the same work (issue 20).
SELECT set_config('jit', 'off', true),
       set_config('max_parallel_workers_per_gather', '0', true)
