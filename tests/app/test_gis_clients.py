"""Real GIS clients against a live server: GDAL's OAPIF driver and OWSLib read every feature.

The expected values come from the demo source files (``tests.utils.sources``) or from the
service's own ``/areas`` route, never from constants written here.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import geopandas as gpd
import httpx
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from owslib.ogcapi.features import Features

from tests.utils import sources

COLLECTION_IDS = {"lsoa-iod2025", "lad-iod2025", "lsoa-iod2019", "lad-iod2019"}
GDAL_TIMEOUT_S = 60
# IoD2025 CSV column prefixes -> the service's domain names.
IOD2025_DOMAINS = {
    "IMD": "imd",
    "Income": "income",
    "Employment": "employment",
    "Education": "education",
    "Health": "health",
    "Crime": "crime",
    "Housing_and_Services": "barriers",
    "Environment": "living_environment",
}


def run_gdal(*args: str) -> subprocess.CompletedProcess[str]:
    """Run a GDAL command line tool; fail the test with its stderr if it fails."""
    result = subprocess.run(
        list(args), capture_output=True, text=True, timeout=GDAL_TIMEOUT_S, check=False
    )
    assert result.returncode == 0, f"{args[0]} failed:\n{result.stderr}"
    return result


def items_requests(debug_output: str, collection_id: str) -> list[dict[str, list[str]]]:
    """The query strings of the /items requests GDAL reports in its --debug output."""
    pattern = re.compile(rf"HTTP: Fetch\((\S*/collections/{re.escape(collection_id)}/items\S*)\)")
    return [parse_qs(urlsplit(url).query) for url in pattern.findall(debug_output)]


def copy_to_geopackage(
    live_server: str, collection_id: str, directory: Path, *options: str
) -> tuple[gpd.GeoDataFrame, str]:
    """ogr2ogr one collection into a GeoPackage; return it read back and GDAL's debug log."""
    out = directory / f"{collection_id}.gpkg"
    result = run_gdal(
        "ogr2ogr",
        "--debug",
        "ON",
        "-f",
        "GPKG",
        str(out),
        f"OAPIF:{live_server}",
        collection_id,
        *options,
    )
    return pyogrio.read_dataframe(out, layer=collection_id), result.stderr


def iod2025_expected() -> pd.DataFrame:
    """Every IoD2025 value of the source CSV, indexed by LSOA code, in the service's names."""
    source = sources.csv(sources.IOD2025).set_index("lsoa21_code")
    columns = {
        f"{prefix}_{kind}": f"{name}_{kind}"
        for prefix, name in IOD2025_DOMAINS.items()
        for kind in ("score", "rank", "decile")
    }
    return source[list(columns)].rename(columns=columns).rename_axis("code")


def test_ogrinfo_lists_the_four_collections(live_server: str) -> None:
    result = run_gdal("ogrinfo", "-ro", "-q", f"OAPIF:{live_server}")
    layers = re.findall(r"^\d+: (\S+) \(title: ", result.stdout, flags=re.MULTILINE)
    assert set(layers) >= COLLECTION_IDS  # the deprivation layers, beside any others
    served = httpx.get(f"{live_server}/collections", timeout=10).json()["collections"]
    assert layers == [c["id"] for c in served]


def test_ogrinfo_reports_the_feature_count_of_the_source_file(live_server: str) -> None:
    result = run_gdal("ogrinfo", "-ro", "-so", f"OAPIF:{live_server}", "lsoa-iod2019")
    assert f"Feature Count: {len(sources.csv(sources.FILE_1))}" in result.stdout


@pytest.mark.parametrize("page_size", [50, 1000])
def test_ogr2ogr_copies_every_iod2025_lsoa_with_its_values(
    live_server: str, tmp_path: Path, page_size: int
) -> None:
    copied, debug = copy_to_geopackage(
        live_server, "lsoa-iod2025", tmp_path, "-oo", f"PAGE_SIZE={page_size}"
    )
    expected = iod2025_expected()
    assert len(copied) == len(expected)
    assert copied["code"].is_unique and set(copied["code"]) == set(expected.index)
    assert (copied["id"] == copied["code"]).all()
    got = copied.set_index("code").loc[expected.index, list(expected.columns)]
    pd.testing.assert_frame_equal(got, expected, check_dtype=False, check_exact=False, rtol=1e-12)

    # GDAL walked the pages: every request asked for page_size features, at every offset.
    requests = items_requests(debug, "lsoa-iod2025")
    assert {r["limit"][0] for r in requests} == {str(page_size)}
    offsets = {int(r.get("offset", ["0"])[0]) for r in requests}
    assert offsets == set(range(0, len(expected), page_size))


def test_ogr2ogr_geometries_are_the_source_boundaries_in_lon_lat(
    live_server: str, tmp_path: Path
) -> None:
    copied, _ = copy_to_geopackage(live_server, "lsoa-iod2025", tmp_path, "-oo", "PAGE_SIZE=1000")
    assert copied.crs.to_epsg() == 4326
    assert copied.geometry.is_valid.all()
    # A point inside each source polygon (shapely, from the boundary file) lies inside the
    # copied feature of the same code: geometries, their axis order and ids all line up.
    inside = sources.points_on_surface(sources.LSOA21_BOUNDARIES, "lsoa21_code")
    by_code = copied.set_index("code").geometry
    codes = sorted(inside)
    points = shapely.points([inside[c] for c in codes])
    assert shapely.contains(np.array(by_code.loc[codes]), points).all()


def test_ogr2ogr_copies_the_lads_with_the_summary_measures_the_api_serves(
    live_server: str, tmp_path: Path
) -> None:
    copied, _ = copy_to_geopackage(live_server, "lad-iod2019", tmp_path)
    file_1 = sources.csv(sources.FILE_1)
    lad_codes = file_1["Local Authority District code (2019)"]
    assert len(copied) == lad_codes.nunique() == 4
    assert set(copied["code"]) == set(lad_codes)
    for row in copied.itertuples():
        area = httpx.get(
            f"{live_server}/areas/{row.code}", params={"edition": "IoD2019"}, timeout=10
        ).json()
        measures = {
            m["measure"]: m["value"] for m in area["summary_measures"] if m["domain"] == "imd"
        }
        assert row.imd_extent == pytest.approx(measures["extent"], rel=1e-12, abs=1e-15)
        assert row.imd_average_rank == pytest.approx(measures["average_rank"], rel=1e-12)
        assert row.name == area["lad"]["name"]
        assert row.lsoa_count == (lad_codes == row.code).sum() == area["lsoa_count"]


def test_owslib_lists_and_describes_the_collections(live_server: str) -> None:
    service = Features(live_server)
    listed = service.collections()["collections"]
    assert {c["id"] for c in listed} >= COLLECTION_IDS
    described = service.collection("lsoa-iod2019")
    assert described["id"] == "lsoa-iod2019"
    assert "http://www.opengis.net/def/crs/EPSG/0/27700" in described["crs"]
    # The extent encloses every LSOA 2011 of the boundary file.
    (minx, miny, maxx, maxy) = described["extent"]["spatial"]["bbox"][0]
    points = sources.points_on_surface(sources.LSOA11_BOUNDARIES, "lsoa11_code")
    assert all(minx <= x <= maxx and miny <= y <= maxy for x, y in points.values())
    conformance = service.conformance()["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core" in conformance


def test_owslib_pages_items_with_number_matched(live_server: str) -> None:
    service = Features(live_server)
    codes = sorted(sources.csv(sources.FILE_1)["LSOA code (2011)"])
    first = service.collection_items("lsoa-iod2019", limit=7)
    assert first["numberMatched"] == len(codes)
    assert first["numberReturned"] == len(first["features"]) == 7
    assert [f["id"] for f in first["features"]] == codes[:7]
    second = service.collection_items("lsoa-iod2019", limit=7, offset=7)
    assert [f["id"] for f in second["features"]] == codes[7:14]


def test_owslib_filters_and_sorts(live_server: str) -> None:
    service = Features(live_server)
    file_1 = sources.csv(sources.FILE_1)
    trafford = file_1[file_1["Local Authority District code (2019)"] == "E08000009"]
    page = service.collection_items(
        "lsoa-iod2019",
        filter="lad_code = 'E08000009'",
        sortby=("imd_rank", "desc"),
        limit=1000,
    )
    assert page["numberMatched"] == len(trafford)
    ranks = trafford.set_index("LSOA code (2011)")["Index of Multiple Deprivation (IMD) Rank"]
    expected = ranks.sort_values(ascending=False).index.tolist()
    assert [f["id"] for f in page["features"]] == expected


def test_owslib_reads_the_queryables(live_server: str) -> None:
    service = Features(live_server)
    queryables = service.collection_queryables("lsoa-iod2019")["properties"]
    feature = service.collection_items("lsoa-iod2019", limit=1)["features"][0]
    assert set(queryables) == set(feature["properties"]) | {"geometry"}
