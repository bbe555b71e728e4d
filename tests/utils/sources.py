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
LOOKUP_2021 = "lookups/lookup_lsoa21_wd24_lad24_ew.csv.gz"
POSTCODES = "postcodes/trafford_postcodes_onspd_subset.csv"
LSOA11_BOUNDARIES = "boundaries/lsoa11_boundaries_ew.geojson.gz"
LSOA21_BOUNDARIES = "boundaries/lsoa21_boundaries_ew.geojson.gz"


@cache
def csv(name: str, source: Path = DEMO_DIR) -> pd.DataFrame:
    """Return a source CSV with pandas' own parsing (thousands separators, BOM)."""
    return pd.read_csv(source / name, encoding="utf-8-sig", thousands=",")


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
