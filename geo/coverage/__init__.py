"""Coverage: how many adults live where an active neighbourhood group (or organiser) works.

A group is **active** on a date when it is listed and its latest recorded activity (a meeting,
project or event) is no older than the activity window (12 months unless configured): see
:func:`active_since`. An organiser counts while ``organiser.active`` is true.

Coverage is computed on the IoD2025 geography (LSOA 2021) with the adults apportioned in
``lsoa_population`` (migration 0008 describes the tables):

- **LSOA**: the share of an LSOA's area inside at least one active group's area, measured in
  EPSG:27700 as the area of the union of the active groups' pieces in that LSOA (so
  overlapping groups are not counted twice), clipped to [0, 1]; adults are assumed spread
  evenly over the LSOA, so ``adults_covered = adults x covered_share``.
- **H3 grid** (resolutions 6-9): each resolution-9 cell whose centre lies in an LSOA holds an
  equal share of that LSOA's adults (an LSOA too small to hold any cell centre gives its
  adults to the cell containing its point on surface); a cell is covered when its centre lies
  in an active group's area; coarser cells sum their resolution-9 descendants.
- **Cold spots**: LSOAs in IMD deciles 1-2 whose covered share is below a threshold
  (:data:`COLD_SPOT_THRESHOLD` for the stored flag), ranked by adults not covered.

A write to one group or organiser re-cuts its pieces and recomputes only the LSOAs and cells
they touch (:func:`refresh_group`, :func:`refresh_organiser`); :func:`refresh_all` recomputes
everything set-based (after a data load, and daily, since the activity window moves with
time). Each refresh runs in one transaction (a savepoint inside the caller's), holding the
coverage write lock (:func:`lock_writes`) to its end, so writes queue behind a national
recompute instead of deadlocking with it.

The H3 base grid is built at load time by :mod:`data.h3_grid`, and the coverage tables
follow a load through :func:`data.coverage_base.rebuild_after_load`.
"""

# The package re-exports the names callers used from the single module it replaced; new code
# imports from the module that defines a thing.
from geo.coverage.models import (
    ACTIVE_MONTHS_DEFAULT,
    COLD_SPOT_THRESHOLD,
    COVERAGE_EDITION,
    COVERAGE_VINTAGE,
    MAX_COLD_SPOTS,
    ColdSpot,
    CoverageTotals,
    LsoaCoverage,
    RefreshSummary,
    Snapshot,
    active_since,
)
from geo.coverage.reads import (
    cold_spots,
    england_coverage,
    lad_coverage,
    lsoa_coverage_at,
    lsoa_coverage_by_code,
    lsoa_coverage_for_postcode,
)
from geo.coverage.recompute import (
    lock_writes,
    lock_writes_sync,
    national_steps,
    recompute_params,
    refresh_all,
    refresh_group,
    refresh_organiser,
)
from geo.coverage.snapshots import (
    computed_since,
    snapshot_taken,
    snapshots,
    take_snapshot,
)

__all__ = [
    "ACTIVE_MONTHS_DEFAULT",
    "COLD_SPOT_THRESHOLD",
    "COVERAGE_EDITION",
    "COVERAGE_VINTAGE",
    "ColdSpot",
    "CoverageTotals",
    "LsoaCoverage",
    "MAX_COLD_SPOTS",
    "RefreshSummary",
    "Snapshot",
    "active_since",
    "cold_spots",
    "computed_since",
    "england_coverage",
    "lad_coverage",
    "lock_writes",
    "lock_writes_sync",
    "lsoa_coverage_at",
    "lsoa_coverage_by_code",
    "lsoa_coverage_for_postcode",
    "national_steps",
    "recompute_params",
    "refresh_all",
    "refresh_group",
    "refresh_organiser",
    "snapshot_taken",
    "snapshots",
    "take_snapshot",
]
