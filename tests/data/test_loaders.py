"""Loading: row counts, values equal to the sources, idempotence, and clean failures."""

from __future__ import annotations

import gzip
import io
import json
import shutil
from pathlib import Path

import geopandas as gpd
import psycopg
import pytest

from config.settings import DatabaseSettings
from data import DEMO_DIR, schema
from data.loaders import load_all
from data.manifest import load_manifest
from data.readers import sha256_of
from geo.errors import LoadError
from tests.utils import sources
from tests.utils.commands import run_python
from tests.utils.databases import (
    FOUNDATION_TABLES,
    one_row,
    schema_description,
    throwaway_database,
)


def table_fingerprints(conn: psycopg.Connection) -> dict[str, tuple[int, str]]:
    """Return (row count, md5 of all rows in a fixed order) for every foundation table."""
    result = {}
    for table in FOUNDATION_TABLES:
        row = conn.execute(
            "SELECT count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), ''))"
            f" FROM {table} t"
        ).fetchone()
        assert row is not None
        result[table] = (row[0], row[1])
    return result


def data_version(conn: psycopg.Connection) -> int:
    row = conn.execute("SELECT version FROM data_version").fetchone()
    assert row is not None
    return int(row[0])


@pytest.fixture
def demo_copy(tmp_path: Path) -> Path:
    """A writable copy of the demo extract, to corrupt."""
    target = tmp_path / "demo"
    shutil.copytree(DEMO_DIR, target)
    return target


def test_row_counts_match_the_source_files(conn: psycopg.Connection) -> None:
    counts = dict(
        conn.execute(
            "SELECT edition_code || ':' || domain_code, count(*) FROM lsoa_index_value GROUP BY 1"
        ).fetchall()
    )
    file_2 = sources.csv(sources.FILE_2)
    iod2025 = sources.csv(sources.IOD2025)
    assert counts["IoD2019:imd"] == counts["IoD2019:idaci"] == len(file_2)
    assert counts["IoD2025:imd"] == counts["IoD2025:living_environment"] == len(iod2025)
    assert len(counts) == 10 + 8  # IoD2019: IMD, 7 domains, IDACI, IDAOPI; IoD2025: IMD, 7
    postcodes = conn.execute("SELECT count(*) FROM postcode").fetchone()
    assert postcodes == (len(sources.csv(sources.POSTCODES)),)
    lads = conn.execute("SELECT vintage, count(*) FROM lad GROUP BY vintage ORDER BY 1").fetchall()
    n_lads = file_2["Local Authority District code (2019)"].nunique()
    assert lads == [(2019, n_lads), (2024, n_lads)]


@pytest.mark.parametrize("row_number", [0, 57, 211, 400, 612])
def test_iod2019_values_equal_file_2_and_3(conn: psycopg.Connection, row_number: int) -> None:
    row2 = sources.csv(sources.FILE_2).iloc[row_number]
    code = row2["LSOA code (2011)"]
    row3 = sources.csv(sources.FILE_3).set_index("LSOA code (2011)").loc[code]
    stored = {
        domain: (rank, decile, score)
        for domain, rank, decile, score in conn.execute(
            "SELECT domain_code, rank, decile, score FROM lsoa_index_value"
            " WHERE edition_code = 'IoD2019' AND lsoa_code = %s",
            (code,),
        )
    }
    assert stored["imd"] == (row2.iloc[4], row2.iloc[5], None)
    assert stored["income"] == (row2.iloc[6], row2.iloc[7], None)
    assert stored["living_environment"] == (row2.iloc[18], row2.iloc[19], None)
    assert stored["idaci"] == (int(row3.iloc[5]), int(row3.iloc[6]), None)
    assert stored["idaopi"] == (int(row3.iloc[7]), int(row3.iloc[8]), None)


@pytest.mark.parametrize("row_number", [0, 99, 300, 630])
def test_iod2025_values_equal_the_source(conn: psycopg.Connection, row_number: int) -> None:
    row = sources.csv(sources.IOD2025).iloc[row_number]
    stored = {
        domain: (score, rank, decile)
        for domain, score, rank, decile in conn.execute(
            "SELECT domain_code, score, rank, decile FROM lsoa_index_value"
            " WHERE edition_code = 'IoD2025' AND lsoa_code = %s",
            (row["lsoa21_code"],),
        )
    }
    assert stored["imd"] == (row["IMD_score"], row["IMD_rank"], row["IMD_decile"])
    assert stored["barriers"] == (
        row["Housing_and_Services_score"],
        row["Housing_and_Services_rank"],
        row["Housing_and_Services_decile"],
    )


def test_population_denominators_and_adults_equal_the_source(conn: psycopg.Connection) -> None:
    file_6 = sources.csv(sources.FILE_6).set_index("LSOA code (2011)")
    population = sources.csv("population/population_mid2019_lsoa11_syoa.csv.gz")
    adult_columns = [str(a) for a in range(18, 90)] + ["90+"]
    expected_adults = dict(
        zip(population["lsoa11_code"], population[adult_columns].sum(axis=1), strict=True)
    )
    rows = conn.execute(
        "SELECT d.lsoa_code, d.total, d.working_age, e.adults_18_plus"
        " FROM lsoa_population_denominator d"
        " JOIN lsoa_population_estimate e ON e.lsoa_code = d.lsoa_code"
    ).fetchall()
    assert len(rows) == len(file_6)
    for code, total, working_age, adults in rows:
        assert total == file_6.loc[code].iloc[3]
        assert working_age == file_6.loc[code].iloc[7]
        assert adults == expected_adults[code]


def test_provenance_records_every_file_with_its_sha256(conn: psycopg.Connection) -> None:
    rows = conn.execute(
        "SELECT source_file, sha256, licence, attribution FROM dataset_load"
    ).fetchall()
    assert sorted(r[0] for r in rows) == sorted(d.path for d in load_manifest().dataset)
    for source_file, sha256, licence, attribution in rows:
        assert sha256 == sha256_of(DEMO_DIR / source_file)
        assert licence == "Open Government Licence v3.0"
        assert "Open Government Licence" in attribution


def test_a_partial_extract_is_reported_as_such(settings: DatabaseSettings) -> None:
    with psycopg.connect(settings.dsn) as load_conn:
        report = load_all(load_conn, DEMO_DIR)
    partial = [w for w in report.warnings if "partial extract" in w]
    assert len(partial) == 2
    national = load_manifest().edition_by_code("IoD2019").national_lsoa_count
    assert f"{len(sources.csv(sources.FILE_1)):,} of {national:,}" in " ".join(partial)


# Each boundary row's version (xmin: the transaction that wrote it), keyed level:vintage:code.
BOUNDARY_ROW_VERSIONS = """
SELECT 'lad:' || vintage || ':' || code, xmin::text FROM lad
UNION ALL SELECT 'ward:' || vintage || ':' || code, xmin::text FROM ward
UNION ALL SELECT 'lsoa:' || vintage || ':' || code, xmin::text FROM lsoa
"""


def boundary_row_versions(conn: psycopg.Connection) -> dict[str, str]:
    return dict(conn.execute(BOUNDARY_ROW_VERSIONS).fetchall())


def test_reload_changes_nothing_but_the_data_version(
    settings: DatabaseSettings, conn: psycopg.Connection
) -> None:
    before, version = table_fingerprints(conn), data_version(conn)
    versions = boundary_row_versions(conn)
    with psycopg.connect(settings.dsn) as load_conn:
        load_all(load_conn, DEMO_DIR)
    assert table_fingerprints(conn) == before
    assert data_version(conn) == version + 1
    # Not one boundary was deleted and written again (foundation/insert_boundaries.sql).
    assert boundary_row_versions(conn) == versions


def _move_boundary(path: Path, code_field: str, code: str, degrees: float) -> None:
    """Move one feature of a GeoJSON boundary file east by ``degrees``; keep the rest as is.

    Through json, whose floats write back as they were read, not through a GIS writer,
    which may round every coordinate of the file.
    """
    collection = json.loads(gzip.decompress(path.read_bytes()))
    (feature,) = (f for f in collection["features"] if f["properties"][code_field] == code)
    for ring in feature["geometry"]["coordinates"]:
        for point in ring:
            point[0] = round(point[0] + degrees, 6)
    path.write_bytes(gzip.compress(json.dumps(collection).encode("utf-8")))


def test_a_reload_rewrites_only_the_boundaries_that_changed(
    settings: DatabaseSettings, conn: psycopg.Connection, demo_copy: Path
) -> None:
    before, versions = table_fingerprints(conn), boundary_row_versions(conn)
    moved = "E01005061"  # Manchester 018A, a millionth of a degree (7 cm) east
    xmin_sql = "SELECT ST_XMin(geom_4326) FROM lsoa WHERE vintage = 2021 AND code = %s"
    (west,) = one_row(conn, xmin_sql, [moved])
    _move_boundary(demo_copy / sources.LSOA21_BOUNDARIES, "lsoa21_code", moved, 1e-6)
    with psycopg.connect(settings.dsn) as load_conn:
        load_all(load_conn, demo_copy)
    after = boundary_row_versions(conn)
    assert after.keys() == versions.keys()
    assert {key for key, version in versions.items() if after[key] != version} == {
        f"lsoa:2021:{moved}"
    }
    assert one_row(conn, xmin_sql, [moved])[0] == pytest.approx(west + 1e-6, abs=1e-9)
    # Loading the demo's own files again brings back every row as it was.
    with psycopg.connect(settings.dsn) as load_conn:
        load_all(load_conn, DEMO_DIR)
    assert table_fingerprints(conn) == before


# Keys and indexes a first load drops and makes again after the rows
# (data/deferred_indexes.py), one of each kind and write: the H3 grid's
# (data/sql/h3_grid/bulk_indexes.sql), the boundaries', the index values', the serving
# tables' and the coverage LSOAs' secondary indexes.
FIRST_LOAD_BUILDS = (
    "h3_coverage_pkey",
    "h3_cell_geometry_pkey",
    "ix_h3_coverage_fid",
    "ix_h3_cell_adults_lsoa",
    "ix_h3_cell_geometry_r9_geom_3857",
    "ix_lad_geom",
    "ix_ward_lad",
    "ix_lsoa_geom_3857",
    "ix_lsoa_index_value_lsoa",
    "ix_lsoa_deprivation_geom_3857_low",
    "ix_lad_deprivation_geom",
    "ix_lsoa_coverage_geom",
)
INDEX_OIDS = "SELECT array_agg(to_regclass(name)::oid) FROM unnest(%s::text[]) name"


def test_a_first_load_keeps_every_key_and_index_the_migrations_made(
    settings: DatabaseSettings,
) -> None:
    """The first load builds keys and indexes after the rows: each is a new index afterwards
    (it was built again), and the schema is the migrations' to the letter. A reload keeps
    every index (readers go on using them) and the schema."""
    with throwaway_database(settings, "first_load_schema") as url:
        own = DatabaseSettings(database_url=url)  # type: ignore[call-arg]
        schema.upgrade(own.sqlalchemy_url)
        migrated = schema_description(own.dsn)
        with psycopg.connect(own.dsn, autocommit=True) as probe:
            before = one_row(probe, INDEX_OIDS, (list(FIRST_LOAD_BUILDS),))[0]
            with psycopg.connect(own.dsn) as load_conn:  # the load's own transaction
                load_all(load_conn, DEMO_DIR)
            after = one_row(probe, INDEX_OIDS, (list(FIRST_LOAD_BUILDS),))[0]
            cells = one_row(probe, "SELECT count(*) FROM h3_coverage")[0]
            first_load_schema = schema_description(own.dsn)
            with psycopg.connect(own.dsn) as load_conn:
                load_all(load_conn, DEMO_DIR)
            reloaded = one_row(probe, INDEX_OIDS, (list(FIRST_LOAD_BUILDS),))[0]
        assert None not in before and None not in after
        assert not set(before) & set(after)
        assert cells > 0
        assert first_load_schema == migrated
        assert reloaded == after
        assert schema_description(own.dsn) == migrated


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _drop_column(path: Path, column_index: int) -> None:
    import csv

    with gzip.open(path, "rt", encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    out = io.StringIO()
    csv.writer(out).writerows([r[:column_index] + r[column_index + 1 :] for r in rows])
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        handle.write(out.getvalue())


def _replace_text(path: Path, old: str, new: str, count: int = 1) -> None:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8-sig") as handle:
        text = handle.read()
    assert old in text
    with opener(path, "wt", encoding="utf-8") as handle:
        handle.write(text.replace(old, new, count))


def _reproject_to_bng(path: Path) -> None:
    # Read through Python's gzip, not GDAL's /vsigzip/, whose handle cache is keyed by path.
    frame = gpd.read_file(io.BytesIO(gzip.decompress(path.read_bytes()))).to_crs(27700)
    plain = path.with_suffix("")  # drop .gz
    frame.to_file(plain, driver="GeoJSON")
    with open(plain, "rb") as source, gzip.open(path, "wb") as target:
        target.write(source.read())
    plain.unlink()


def _drop_lsoa_row(path: Path) -> None:
    with gzip.open(path, "rt", encoding="utf-8-sig") as handle:
        lines = handle.readlines()
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        handle.writelines(lines[:10] + lines[11:])


def _edit_published_lines(path: Path, edit: object) -> None:
    """Rewrite the published district summaries' data lines with ``edit(lines) -> lines``."""
    with gzip.open(path, "rt", encoding="utf-8-sig", newline="") as handle:
        header, *lines = handle.readlines()
    with gzip.open(path, "wt", encoding="utf-8", newline="") as handle:
        handle.writelines([header, *edit(lines)])  # type: ignore[operator]


def _without(lines: list[str], prefix: str) -> list[str]:
    kept = [line for line in lines if not line.startswith(prefix)]
    assert len(kept) < len(lines)
    return kept


def _with_field(lines: list[str], prefix: str, position: int, value: str) -> list[str]:
    """Replace one field (counted from the end) of the line starting with ``prefix``."""
    index = next(i for i, line in enumerate(lines) if line.startswith(prefix))
    fields = lines[index].rstrip("\r\n").split(",")
    fields[position] = value
    lines[index] = ",".join(fields) + "\n"
    return lines


TRAFFORD_IMD = "E08000009,Trafford,Local Authority District (2024),2025,Index of Multiple"

CORRUPTIONS = {
    "truncated gzip boundaries": (
        lambda d: _truncate(d / sources.LSOA21_BOUNDARIES),
        "truncated or corrupt",
    ),
    "truncated csv": (lambda d: _truncate(d / sources.IOD2025), "truncated or corrupt"),
    "missing column": (lambda d: _drop_column(d / sources.FILE_2, 8), "missing column"),
    "malformed code": (
        lambda d: _replace_text(d / sources.IOD2025, "\nE01", "\nX01"),
        "codes that are not",
    ),
    "non-numeric rank": (
        lambda d: _replace_text(d / sources.FILE_2, ",9,", ",nine,"),
        "whole numbers",
    ),
    "wrong CRS": (
        lambda d: _reproject_to_bng(d / "boundaries/lad19_boundaries_uk_buc.geojson.gz"),
        "EPSG:4326",
    ),
    "index row without boundary": (lambda d: _drop_lsoa_row(d / sources.FILE_2), "disagree"),
    "missing file": (lambda d: (d / sources.FILE_6).unlink(), "file not found"),
    "published: an index missing": (
        lambda d: _edit_published_lines(
            d / sources.IOD2025_LAD_SUMMARIES,
            lambda lines: _without(
                lines, "E08000009,Trafford,Local Authority District (2024),2025,Crime"
            ),
        ),
        "E08000009 lacks crime",
    ),
    "published: a rank of 297": (
        lambda d: _edit_published_lines(
            d / sources.IOD2025_LAD_SUMMARIES,
            lambda lines: _with_field(lines, TRAFFORD_IMD, -1, "297"),
        ),
        r"'rank_proportion_bottom_decile' must lie in 1\.\.296",
    ),
    "published: a district missing": (
        lambda d: _edit_published_lines(
            d / sources.IOD2025_LAD_SUMMARIES, lambda lines: _without(lines, "E08000009,")
        ),
        "295 districts, but IoD2025 ranks 296",
    ),
    "published: a loaded district under another code": (
        lambda d: _replace_text(
            d / sources.IOD2025_LAD_SUMMARIES, "\nE08000009,", "\nE08000099,", 10
        ),
        r"no published figures for 1 loaded LAD 2024 districts: \['E08000009'\]",
    ),
    "published: a value that is not a number": (
        lambda d: _edit_published_lines(
            d / sources.IOD2025_LAD_SUMMARIES,
            lambda lines: _with_field(lines, TRAFFORD_IMD, -4, "n/a"),
        ),
        "'average_score' must hold numbers",
    ),
    "published: an unknown index": (
        lambda d: _replace_text(
            d / sources.IOD2025_LAD_SUMMARIES, ",Crime,", ",Crime and Disorder,"
        ),
        "names indices sources.toml does not declare",
    ),
    "published: a proportion unlike the LSOA data's": (
        lambda d: _edit_published_lines(
            d / sources.IOD2025_LAD_SUMMARIES,
            lambda lines: _with_field(lines, TRAFFORD_IMD, -2, "0.0433"),
        ),
        r"disagree with the published figures .* 1 districts \['E08000009'\]",
    ),
}


@pytest.mark.parametrize("corruption", sorted(CORRUPTIONS))
def test_a_bad_file_fails_cleanly_and_keeps_the_previous_load(
    settings: DatabaseSettings, conn: psycopg.Connection, demo_copy: Path, corruption: str
) -> None:
    corrupt, message = CORRUPTIONS[corruption]
    corrupt(demo_copy)
    before, version = table_fingerprints(conn), data_version(conn)
    with psycopg.connect(settings.dsn) as load_conn, pytest.raises(LoadError, match=message):
        load_all(load_conn, demo_copy)
    assert table_fingerprints(conn) == before
    assert data_version(conn) == version


def test_the_cli_exits_non_zero_with_the_reason(
    settings: DatabaseSettings, demo_copy: Path
) -> None:
    _truncate(demo_copy / sources.IOD2025)
    result = run_python(
        *("-m", "cli", "load", "england", "--source", str(demo_copy)),
        dsn=settings.dsn,
        timeout=120,
        COLUMNS="200",
    )
    assert result.returncode == 1
    assert "truncated or corrupt" in result.stderr
    assert "previous data is intact" in result.stderr


KILL_DURING_WRITE = """
import os, signal, sys
from pathlib import Path
import psycopg
from data.loaders import load_all
from data.manifest import load_manifest
from data.readers import sha256_of

def step(name):
    if name == "wrote tables":  # inside the transaction, after every table was replaced
        os.kill(os.getpid(), signal.SIGKILL)

with psycopg.connect(sys.argv[1]) as conn:
    load_all(conn, Path(sys.argv[2]), on_step=step)
"""


def test_a_killed_load_leaves_the_previous_data(
    settings: DatabaseSettings, conn: psycopg.Connection
) -> None:
    before, version = table_fingerprints(conn), data_version(conn)
    result = run_python("-c", KILL_DURING_WRITE, settings.dsn, str(DEMO_DIR), timeout=120)
    assert result.returncode == -9
    assert table_fingerprints(conn) == before
    assert data_version(conn) == version  # the killed transaction never committed
    with psycopg.connect(settings.dsn) as load_conn:  # and the next load succeeds
        load_all(load_conn, DEMO_DIR)
    assert table_fingerprints(conn) == before


def test_population_is_apportioned_to_2021_lsoas_without_loss(conn: psycopg.Connection) -> None:
    estimates = sources.csv("population/population_mid2019_lsoa11_syoa.csv.gz")
    residents_2011 = dict(zip(estimates["lsoa11_code"], estimates["total_population"], strict=True))
    changes = sources.csv("lookups/lookup_lsoa11_lsoa21_ltla22.csv")
    served = dict(
        conn.execute(
            "SELECT lsoa_code, residents FROM lsoa_population WHERE edition_code = 'IoD2025'"
        ).fetchall()
    )
    assert sum(served.values()) == pytest.approx(sum(residents_2011.values()))
    for change, group in changes.groupby("change_code"):
        if change == "U":  # unchanged: the same people
            for row in group.itertuples():
                assert served[row.lsoa21_code] == residents_2011[row.lsoa11_code]
        elif change == "M":  # merged: the sum of the 2011 LSOAs
            for code21, parts in group.groupby("lsoa21_code"):
                expected = sum(residents_2011[c] for c in parts["lsoa11_code"])
                assert served[code21] == pytest.approx(expected)
        elif change == "S":  # split: the parts add up to the 2011 LSOA
            for code11, parts in group.groupby("lsoa11_code"):
                total = sum(served[c] for c in parts["lsoa21_code"])
                assert total == pytest.approx(residents_2011[code11])
    method = conn.execute(
        "SELECT DISTINCT method FROM lsoa_population WHERE edition_code = 'IoD2025'"
    ).fetchall()
    assert method == [
        ("ONS mid-2019 estimates on 2011 LSOAs, apportioned to 2021 LSOAs by shared area",)
    ]


def test_published_district_summaries_keep_the_loaded_districts_and_count_the_rest(
    conn: psycopg.Connection,
) -> None:
    published = sources.published_lad_summaries()
    loaded = set(sources.csv(sources.LOOKUP_2021)["ltla24_code"])
    rows = conn.execute(
        "SELECT lad_code, count(DISTINCT domain_code), count(*) FROM lad_published_measure"
        " WHERE edition_code = 'IoD2025' GROUP BY lad_code ORDER BY lad_code"
    ).fetchall()
    assert rows == [(lad, 10, 30) for lad in sorted(loaded)]
    (notes,) = conn.execute(
        "SELECT notes FROM dataset_load WHERE dataset = 'iod2025_lad_summaries_published'"
    ).fetchone() or (None,)
    skipped = published[~published["area_code"].isin(loaded)]
    assert notes == {
        "districts_skipped": skipped["area_code"].nunique(),
        "rows_skipped": len(skipped),
    }
    assert skipped["area_code"].nunique() == 296 - 4
