"""National LSOA group coverage outside PostGIS: geopandas, and dask-geopandas on a cluster.

The computation is the one ``geo.coverage`` does for ``lsoa_coverage.covered_share`` (see
``geo/sql/coverage/cut.sql`` and ``coverage/lsoa.sql``): every active group's area
is cut by each LSOA it intersects (an LSOA wholly inside the area is its own piece); a piece
counts when it has area; per LSOA, the area of the union of its pieces over the LSOA's area,
clipped to [0, 1], is the covered share, and the pieces are the active groups working there.
All in EPSG:27700, with GEOS (through shapely) as PostGIS uses.

Inputs are GeoParquet files that ``bench/coverage.py`` exports from PostGIS: the LSOAs sorted
along a Hilbert curve and written as spatially coherent partitions (dask-geopandas records each
partition's extent), and the active groups in one file (the area twice: as the geometry to
join on and as a second geometry column carried through the join). Engines:

- ``geopandas``: one process: ``geopandas.sjoin`` of all LSOAs with all groups, then the cut
  and union (:func:`shares`).
- ``dask``: a ``dask.distributed.LocalCluster`` (``--workers`` processes, one thread each):
  ``dask_geopandas.read_parquet`` of the LSOA partitions, ``dask_geopandas.sjoin`` with the
  groups, and :func:`shares` on every joined partition in parallel. Each LSOA lives in one
  partition, so its pieces meet in one task and no shuffle is needed.

Run by ``bench/coverage.py`` in a subprocess per engine (so each engine's peak memory is its
own): ``python -m bench.coverage_dask --engine dask --input DIR --output FILE --repeats 3``.
Prints one JSON object: wall seconds per repetition, cluster start-up, peak RSS of this process
and of each worker. Writes the last repetition's shares to ``--output`` (Parquet).
"""

from __future__ import annotations

import argparse
import json
import logging
import resource
import sys
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

LSOA_DIR = "lsoa"
GROUPS_FILE = "groups.parquet"
SHARES_META = pd.DataFrame(
    {
        "code": pd.Series([], dtype=object),
        "groups": pd.Series([], dtype="int64"),
        "share": pd.Series([], dtype="float64"),
    }
)


def shares(pairs: pd.DataFrame) -> pd.DataFrame:
    """Covered share and active groups per LSOA, from (LSOA, group) pairs that intersect.

    ``pairs`` has the LSOA's ``code`` and geometry (the active geometry), the group's
    ``group_id`` and its area in ``group_geom``. Pieces are unioned in group order, as PostGIS
    does, and only pieces with area count (touching along an edge is not overlapping).
    """
    if pairs.empty:
        return SHARES_META.copy()
    lsoa_geom = np.asarray(pairs.geometry.values)
    group_geom = np.asarray(pairs["group_geom"].values)
    inside = shapely.covered_by(lsoa_geom, group_geom)
    pieces = lsoa_geom.copy()
    cut = ~inside
    pieces[cut] = shapely.intersection(lsoa_geom[cut], group_geom[cut])
    piece_area = shapely.area(pieces)
    keep = piece_area > 0
    codes = pairs["code"].to_numpy()[keep]
    order = np.lexsort((pairs["group_id"].to_numpy()[keep], codes))
    codes, pieces = codes[order], pieces[keep][order]
    lsoa_area = shapely.area(lsoa_geom[keep][order])
    piece_area = piece_area[keep][order]
    unique, starts, counts = np.unique(codes, return_index=True, return_counts=True)
    covered = piece_area[starts].copy()
    for k in np.flatnonzero(counts > 1):
        covered[k] = shapely.area(shapely.union_all(pieces[starts[k] : starts[k] + counts[k]]))
    return pd.DataFrame(
        {
            "code": unique.astype(object),
            "groups": counts.astype("int64"),
            "share": np.clip(covered / lsoa_area[starts], 0.0, 1.0),
        }
    )


def run_geopandas(input_dir: Path) -> pd.DataFrame:
    """Read both inputs and compute the shares in this process."""
    lsoas = gpd.read_parquet(input_dir / LSOA_DIR)
    groups = gpd.read_parquet(input_dir / GROUPS_FILE)
    return shares(gpd.sjoin(lsoas, groups, predicate="intersects"))


def run_dask(input_dir: Path) -> pd.DataFrame:
    """Read and compute on the current dask.distributed client (the LocalCluster)."""
    import dask_geopandas

    lsoas = dask_geopandas.read_parquet(input_dir / LSOA_DIR)
    # The groups are small (one partition, shipped to every task). Read here as a geopandas
    # frame: dask-geopandas 0.5 keeps spatial partitions in the frame's attrs, which pandas 3
    # cannot compare between two such frames when the join builds its metadata.
    groups = gpd.read_parquet(input_dir / GROUPS_FILE)
    pairs = dask_geopandas.sjoin(lsoas, groups, predicate="intersects")
    result: pd.DataFrame = pairs.map_partitions(shares, meta=SHARES_META).compute()
    return result


def peak_rss_mib() -> float:
    """Peak resident set size of this process so far, MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(prog="python -m bench.coverage_dask", description=__doc__)
    parser.add_argument("--engine", choices=("geopandas", "dask"), required=True)
    parser.add_argument("--input", type=Path, required=True, help="directory of the inputs")
    parser.add_argument("--output", type=Path, required=True, help="Parquet file of the shares")
    parser.add_argument("--repeats", type=int, default=3, help="timed repetitions (%(default)s)")
    parser.add_argument("--workers", type=int, default=2, help="dask worker processes")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run one engine ``--repeats`` times; print the timings as JSON; save the shares."""
    args = parse_args(argv)
    report: dict[str, Any] = {"engine": args.engine, "seconds": []}
    result = SHARES_META
    if args.engine == "geopandas":
        for _ in range(args.repeats):
            started = time.perf_counter()
            result = run_geopandas(args.input)
            report["seconds"].append(time.perf_counter() - started)
    else:
        from distributed import Client, LocalCluster

        logging.getLogger("distributed").setLevel(logging.ERROR)
        warnings.filterwarnings("ignore", message="Sending large graph")
        started = time.perf_counter()
        with (
            LocalCluster(
                n_workers=args.workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
            ) as cluster,
            Client(cluster) as client,
        ):
            report["cluster_start_seconds"] = time.perf_counter() - started
            report["workers"] = args.workers
            report["threads_per_worker"] = 1
            for _ in range(args.repeats):
                started = time.perf_counter()
                result = run_dask(args.input)
                report["seconds"].append(time.perf_counter() - started)
            worker_peaks = client.run(peak_rss_mib)
            report["worker_peak_rss_mib"] = sorted(round(v, 1) for v in worker_peaks.values())
    report["peak_rss_mib"] = round(peak_rss_mib(), 1)
    report["lsoas_with_groups"] = len(result)
    result.to_parquet(args.output, index=False)
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
