"""Assets of community value: the register, its lifecycle steps, queries, import and export.

An asset is a point (and optionally a site polygon) with a name, category and owner type; its
LSOA, district and IMD decile are derived in SQL from the point (IoD2025 geography), never
typed. Its statutory lifecycle lives in :mod:`geo.rights`; this module stores it. Every step
locks the asset's row, checks the caller's version, applies the step on the date given (today,
UTC, in the service), and in one transaction writes the asset, appends to ``asset_event`` and
``audit_log``, rewrites the asset's row of the map layer and bumps the data version (so cached
tiles are dropped). Two parallel steps on one asset queue on the lock: the second sees the
first's status and is refused, or fails its version check.

Import and export use the national planning data format for ``asset-of-community-value``
(CSV or GeoJSON), and plain council register CSVs (name, address, postcode, nominating group,
listing date) placed by postcode; rows that cannot be placed are reported, never guessed.
"""

# The package re-exports the names callers used from the single module it replaced; new code
# imports from the module that defines a thing.
from geo.assets.calendar import (
    deadlines_ics,
)
from geo.assets.models import (
    Asset,
    AssetEvent,
    AssetInput,
    Category,
    DeadlineOut,
    Eligibility,
    ImportReport,
    OwnerType,
    StepInput,
    UpcomingDeadline,
)
from geo.assets.reads import (
    asset_row,
    asset_view,
    eligibility,
    get_asset,
    group_known,
    history,
    lifecycle_of,
    list_assets,
    local_connection_problem,
    select_assets,
    upcoming_deadlines,
)
from geo.assets.register_files import (
    COUNCIL_COLUMNS,
    NATIONAL_FIELDS,
    POSTCODE_IN_TEXT,
    RegisterRow,
    export_register,
    import_register,
    read_rows,
    to_csv,
    to_geojson,
)
from geo.assets.writes import (
    ASSET_STEP_LOG,
    MAX_SITE_DISTANCE_M,
    TO_BNG,
    asset_audit_view,
    check_asset_point,
    create_asset,
    insert_asset,
    refresh_passed_deadlines,
    refresh_serving,
    site_wkb,
    take_step,
    upsert_asset_serving,
)

__all__ = [
    "Asset",
    "ASSET_STEP_LOG",
    "AssetEvent",
    "AssetInput",
    "COUNCIL_COLUMNS",
    "Category",
    "DeadlineOut",
    "Eligibility",
    "ImportReport",
    "MAX_SITE_DISTANCE_M",
    "NATIONAL_FIELDS",
    "OwnerType",
    "POSTCODE_IN_TEXT",
    "RegisterRow",
    "StepInput",
    "TO_BNG",
    "UpcomingDeadline",
    "asset_audit_view",
    "asset_row",
    "asset_view",
    "check_asset_point",
    "create_asset",
    "deadlines_ics",
    "eligibility",
    "export_register",
    "get_asset",
    "group_known",
    "history",
    "import_register",
    "insert_asset",
    "lifecycle_of",
    "list_assets",
    "local_connection_problem",
    "read_rows",
    "refresh_passed_deadlines",
    "refresh_serving",
    "select_assets",
    "site_wkb",
    "take_step",
    "to_csv",
    "to_geojson",
    "upcoming_deadlines",
    "upsert_asset_serving",
]
