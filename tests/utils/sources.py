"""Read the demo extract's source files directly, independently of the loaders."""

from __future__ import annotations

import gzip
import json
from functools import cache
from pathlib import Path

import pandas as pd
import shapely

from data import DEMO_DIR

FILE_1 = "iod2019/File_1_-_IMD2019_Index_of_Multiple_Deprivation.csv.gz"
FILE_2 = "iod2019/File_2_-_IoD2019_Domains_of_Deprivation.csv.gz"
FILE_3 = "iod2019/File_3_-_IoD2019_Supplementary_Indices_-_IDACI_and_IDAOPI.csv.gz"
FILE_6 = "iod2019/File_6_-_IoD2019_Population_Denominators.csv.gz"
IOD2025 = "iod2025/imd2025_england_lsoa21.csv.gz"
IOD2025_LAD_SUMMARIES = "iod2025/iod2025_lad24_summaries_published.csv.gz"
LOOKUP_2021 = "lookups/lookup_lsoa21_wd24_lad24_ew.csv.gz"
POSTCODES = "postcodes/trafford_postcodes_onspd_subset.csv"
LSOA11_BOUNDARIES = "boundaries/lsoa11_boundaries_ew.geojson.gz"
LSOA21_BOUNDARIES = "boundaries/lsoa21_boundaries_ew.geojson.gz"
# IoD2025 LSOA file: each domain's decile column, in the API's domain order.
IOD2025_DECILE_COLUMNS = {
    "imd": "IMD_decile",
    "income": "Income_decile",
    "employment": "Employment_decile",
    "education": "Education_decile",
    "health": "Health_decile",
    "crime": "Crime_decile",
    "barriers": "Housing_and_Services_decile",
    "living_environment": "Environment_decile",
}
# The published district summaries' index titles -> domain codes (written here independently
# of data/sources.toml).
PUBLISHED_INDICES = {
    "Index of Multiple Deprivation": "imd",
    "Income Deprivation": "income",
    "Employment Deprivation": "employment",
    "Education, Skills and Training Deprivation": "education",
    "Health Deprivation and Disability": "health",
    "Crime": "crime",
    "Barriers to Housing and Services": "barriers",
    "Living Environment Deprivation": "living_environment",
    "Income Deprivation Affecting Children": "idaci",
    "Income Deprivation Affecting Older People": "idaopi",
}


@cache
def csv(name: str, source: Path = DEMO_DIR) -> pd.DataFrame:
    """Return a source CSV with pandas' own parsing (thousands separators, BOM)."""
    return pd.read_csv(source / name, encoding="utf-8-sig", thousands=",")


@cache
def published_lad_summaries(source: Path = DEMO_DIR) -> pd.DataFrame:
    """Return the published IoD2025 district summaries (no thousands separator: exact decimals)."""
    return pd.read_csv(source / IOD2025_LAD_SUMMARIES, encoding="utf-8-sig")


@cache
def points_on_surface(name: str, code_property: str) -> dict[str, tuple[float, float]]:
    """Return a point inside each polygon of a boundary file, computed with shapely."""
    with gzip.open(DEMO_DIR / name, "rt", encoding="utf-8") as handle:
        collection = json.load(handle)
    points = {}
    for feature in collection["features"]:
        point = shapely.point_on_surface(shapely.geometry.shape(feature["geometry"]))
        points[feature["properties"][code_property]] = (point.x, point.y)
    return points
