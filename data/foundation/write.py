"""Writing a staged, validated load (inside the caller's transaction), and what follows it:
district summaries, populations, serving tables, the data version, provenance."""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pandas as pd
import psycopg
from psycopg.types.json import Jsonb

from data import deferred_indexes
from data.deferred_indexes import Deferred, built_after_rows, secondary_indexes
from data.foundation.staged import Provenance, Staged, StepTimes
from data.manifest import (
    Edition,
    LsoaLookupDataset,
    Manifest,
    PublishedLadSummariesDataset,
)
from geo.errors import LoadError
from geo.indices import lad_summary_measures
from geo.sqlfiles import read_sql

# The boundary tables, in the order foundation/insert_boundaries.sql fills them.
BOUNDARY_TABLES = ("lad", "ward", "lsoa")


def _copy(cur: psycopg.Cursor, table: str, columns: Sequence[str], rows: Iterable[Sequence]) -> int:
    """COPY rows into a table (a fixed identifier from this module) and return the count."""
    count = 0
    with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
            count += 1
    return count


@dataclass(frozen=True)
class _CsvFrame:
    """A frame's columns and rows as CSV text: pandas writes the text in C instead of a
    Python call per row (the index values' 600,000 rows), NaN as an empty field (NULL) and
    each float in its shortest form that reads back as the same double, as the row-by-row
    COPY did."""

    columns: list[str]
    text: str
    rows: int


def _frame_csv(frame: pd.DataFrame) -> _CsvFrame:
    """:class:`_CsvFrame` of ``frame``."""
    buffer = io.StringIO()
    frame.to_csv(buffer, header=False, index=False)
    return _CsvFrame(list(frame.columns), buffer.getvalue(), len(frame))


def _copy_csv(cur: psycopg.Cursor, table: str, csv: _CsvFrame) -> int:
    """COPY CSV rows into a table whose columns they are named as (a fixed identifier from
    this module) and return the count."""
    with cur.copy(f"COPY {table} ({', '.join(csv.columns)}) FROM STDIN (FORMAT csv)") as copy:
        copy.write(csv.text)
    return csv.rows


def _index_values_csv(staged: Staged, manifest: Manifest) -> dict[str, _CsvFrame]:
    """Each edition's index values as ``stage_index_value`` rows, in CSV."""
    out = {}
    for edition in manifest.edition:
        values = staged.index_values[edition.code]
        out[edition.code] = _frame_csv(
            pd.DataFrame(
                {
                    "edition_code": edition.code,
                    "domain_code": values["domain"].to_numpy(),
                    "lsoa_code": values["lsoa"].to_numpy(),
                    "score": values["score"].to_numpy(dtype="float64"),
                    "rank": values["rank"].to_numpy(dtype="int64"),
                    "decile": values["decile"].to_numpy(dtype="int64"),
                }
            )
        )
    return out


def _none_if_nan(value: object) -> object:
    """Return None for NaN so COPY writes NULL."""
    return None if isinstance(value, float) and np.isnan(value) else value


def write(
    conn: psycopg.Connection, staged: Staged, manifest: Manifest, times: StepTimes | None = None
) -> tuple[dict[str, int], dict[str, list[str]]]:
    """Replace the foundation tables with the staged data; return rows and repaired codes."""
    times = times or StepTimes()
    rows: dict[str, int] = {}
    with conn.cursor() as cur:
        with times.step("clear tables"):
            # On a first load (the tables empty; the clear below keeps both): what the
            # boundaries and the index values are written without (data/deferred_indexes.py).
            boundary_indexes = secondary_indexes(cur, BOUNDARY_TABLES)
            cur.execute(read_sql("data", "foundation/index_value_keys.sql"))
            index_value_deferred = [Deferred(*row) for row in cur.fetchall()]
            index_value_deferred += secondary_indexes(cur, ["lsoa_index_value"])
            cur.execute(read_sql("data", "foundation/clear_foundation.sql"))
            cur.execute(read_sql("data", "foundation/create_staging.sql"))
        stop = times.start("boundaries staged")

        lad_vintages = {e.lad_vintage for e in manifest.edition}
        for vintage in sorted(lad_vintages):
            lads = staged.boundaries[("lad", vintage)]
            regions = staged.regions.get(
                vintage, pd.DataFrame(columns=["lad", "region", "region_name"])
            )
            lads = lads.merge(regions, left_on="code", right_on="lad", how="left")
            _copy(
                cur,
                "stage_lad",
                ["vintage", "code", "name", "region_code", "region_name", "wkb"],
                (
                    (
                        vintage,
                        r.code,
                        r.name,
                        _str_or_none(r.region),
                        _str_or_none(r.region_name),
                        r.wkb,
                    )
                    for r in lads.itertuples()
                ),
            )

        for ds in manifest.datasets_of(LsoaLookupDataset):
            lookup = staged.lsoa_lookups[ds.lsoa_vintage]
            wards = lookup.drop_duplicates("ward")
            geoms = staged.boundaries.get(("ward", ds.ward_vintage))
            wkb_by_code = (
                dict(zip(geoms["code"], geoms["wkb"], strict=True)) if geoms is not None else {}
            )
            _copy(
                cur,
                "stage_ward",
                ["vintage", "code", "name", "lad_code", "wkb"],
                (
                    (ds.ward_vintage, w.ward, w.ward_name, w.lad, wkb_by_code.get(w.ward))
                    for w in wards.itertuples()
                ),
            )

            lsoas = staged.boundaries[("lsoa", ds.lsoa_vintage)].merge(
                lookup, left_on="code", right_on="lsoa", how="left"
            )
            msoa = staged.msoa.get(ds.lsoa_vintage)
            if msoa is not None:
                lsoas = lsoas.merge(msoa, on="lsoa", how="left")
            else:
                lsoas["msoa"] = None
            _copy(
                cur,
                "stage_lsoa",
                [
                    "vintage",
                    "code",
                    "name",
                    "lad_vintage",
                    "lad_code",
                    "ward_vintage",
                    "ward_code",
                    "msoa_code",
                    "wkb",
                ],
                (
                    (
                        ds.lsoa_vintage,
                        r.code,
                        r.name,
                        ds.lad_vintage,
                        r.lad,
                        ds.ward_vintage,
                        r.ward,
                        _str_or_none(r.msoa),
                        r.wkb,
                    )
                    for r in lsoas.itertuples()
                ),
            )

        stop()
        # The index values' CSV is written in a thread while the server moves the boundaries
        # in (the thread holds the GIL; this one waits on the server without it).
        with ThreadPoolExecutor(max_workers=1) as pool:
            index_csv = pool.submit(_index_values_csv, staged, manifest)
            with times.step("boundaries"), built_after_rows(cur, boundary_indexes):
                cur.execute(read_sql("data", "foundation/insert_boundaries.sql"))
            index_values = index_csv.result()
        stop = times.start("index values, populations, lookups")
        cur.execute(
            "SELECT (SELECT count(*) FROM lad), (SELECT count(*) FROM ward),"
            " (SELECT count(*) FROM lsoa)"
        )
        rows["lad"], rows["ward"], rows["lsoa"] = cur.fetchone() or (0, 0, 0)
        deferred_indexes.drop(cur, index_value_deferred)

        for edition in manifest.edition:
            cur.execute(
                read_sql("data", "foundation/insert_edition.sql"),
                {**edition.model_dump(exclude={"domains"})},
            )
            for order, domain in enumerate(edition.domains):
                cur.execute(
                    read_sql("data", "foundation/insert_domain.sql"),
                    {"edition_code": edition.code, "sort_order": order, **domain.model_dump()},
                )
            rows[f"lsoa_index_value:{edition.code}"] = _copy_csv(
                cur, "stage_index_value", index_values[edition.code]
            )
            if edition.code in staged.denominators:
                d = staged.denominators[edition.code]
                rows[f"lsoa_population_denominator:{edition.code}"] = _copy(
                    cur,
                    "lsoa_population_denominator",
                    [
                        "edition_code",
                        "lsoa_code",
                        "total",
                        "children_0_15",
                        "aged_16_59",
                        "aged_60_plus",
                        "working_age",
                    ],
                    (
                        (
                            edition.code,
                            r.lsoa,
                            r.total,
                            r.children_0_15,
                            r.aged_16_59,
                            r.aged_60_plus,
                            r.working_age,
                        )
                        for r in d.itertuples()
                    ),
                )

        cur.execute("ANALYZE stage_index_value")
        cur.execute(
            read_sql("data", "foundation/index_domains_prune.sql"),
            {
                "editions": [e.code for e in manifest.edition],
                "domain_editions": [e.code for e in manifest.edition for _ in e.domains],
                "domains": [d.code for e in manifest.edition for d in e.domains],
            },
        )
        cur.execute(read_sql("data", "foundation/index_values_write.sql"))
        deferred_indexes.make_again(cur, index_value_deferred)
        for (vintage, year), population in staged.population.items():
            rows["lsoa_population_estimate"] = _copy_csv(
                cur,
                "lsoa_population_estimate",
                _frame_csv(
                    pd.DataFrame(
                        {
                            "lsoa_vintage": vintage,
                            "lsoa_code": population["lsoa"],
                            "reference_year": year,
                            "total": population["total"].astype("int64"),
                            "adults_18_plus": population["adults_18_plus"].astype("int64"),
                            # PostgreSQL array literals, written as text in one go: a row at
                            # a time, psycopg dumped 91 numbers a row in Python (1.8 s).
                            "by_single_year_of_age": [
                                "{" + ",".join(map(str, ages)) + "}"
                                for ages in population["by_age"]
                            ],
                        }
                    )
                ),
            )
        if staged.lsoa_change is not None:
            rows["lsoa_2011_2021"] = _copy(
                cur,
                "lsoa_2011_2021",
                ["lsoa11_code", "lsoa21_code", "change_code", "lad22_code"],
                staged.lsoa_change[["lsoa11", "lsoa21", "change", "lad22"]].itertuples(index=False),
            )
        stop()
        if staged.postcodes is not None:
            stop = times.start("postcodes")
            _copy(
                cur,
                "stage_postcode",
                ["postcode", "lsoa_code", "lad_code", "lon", "lat"],
                staged.postcodes[["postcode", "lsoa", "lad", "lon", "lat"]].itertuples(index=False),
            )
            cur.execute(read_sql("data", "foundation/insert_postcodes.sql"))
            rows["postcode"] = cur.rowcount
            stop()

        cur.execute("SELECT level, code FROM stage_repaired ORDER BY level, code")
        repaired: dict[str, list[str]] = {}
        for level, code in cur.fetchall():
            repaired.setdefault(level, []).append(code)
    return rows, repaired


def _str_or_none(value: object) -> str | None:
    """Return a string, or None for a missing (NaN/None) value."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    return str(value)


def write_lad_summary_measures(conn: psycopg.Connection, staged: Staged, manifest: Manifest) -> int:
    """Compute every edition's LAD summary measures from the staged LSOA data and store them."""
    written = 0
    with conn.cursor() as cur:
        for edition in manifest.edition:
            frames = _summary_inputs(staged, edition)
            loaded = staged.boundaries[("lsoa", edition.lsoa_vintage)]["code"].nunique()
            ranking_reason = None
            if loaded < edition.national_lsoa_count:
                ranking_reason = (
                    f"ranks among LADs need the whole edition loaded "
                    f"({loaded} of {edition.national_lsoa_count} LSOAs are)"
                )
            for domain in edition.domains:
                inputs = frames[frames["domain"] == domain.code]
                population_reason = None
                if edition.population_denominators is None:
                    population_reason = (
                        f"{edition.code} was published without population denominators in our "
                        "source files, so population-weighted measures are not computed"
                    )
                scores_reason = None
                if inputs["score"].isna().any():
                    scores_reason = f"the {edition.code} source files carry no {domain.code} scores"
                measures = lad_summary_measures(
                    inputs.assign(population=inputs[domain.population_base])
                    if population_reason is None
                    else inputs.assign(population=np.nan),
                    edition.national_lsoa_count,
                    population_missing_reason=population_reason,
                    scores_missing_reason=scores_reason,
                    ranking_missing_reason=ranking_reason,
                )
                written += _copy(
                    cur,
                    "lad_summary_measure",
                    [
                        "edition_code",
                        "domain_code",
                        "lad_code",
                        "measure",
                        "value",
                        "rank",
                        "unavailable_reason",
                        "rank_unavailable_reason",
                    ],
                    (
                        (
                            edition.code,
                            domain.code,
                            m.lad_code,
                            m.measure,
                            _none_if_nan(m.value),
                            None if pd.isna(m.rank) else int(m.rank),
                            _str_or_none(m.unavailable_reason),
                            _str_or_none(m.unavailable_reason) or ranking_reason,
                        )
                        for m in measures.itertuples()
                    ),
                )
    return written


def write_published_lad_measures(
    conn: psycopg.Connection, staged: Staged, manifest: Manifest
) -> int:
    """Store each edition's published district summaries (validated, loaded districts only)."""
    written = 0
    with conn.cursor() as cur:
        for ds in manifest.datasets_of(PublishedLadSummariesDataset):
            published = staged.published_lad[ds.edition]
            written += _copy(
                cur,
                "lad_published_measure",
                [
                    "edition_code",
                    "lad_code",
                    "domain_code",
                    "measure",
                    "value",
                    "rank",
                    "sort_order",
                    "dataset",
                ],
                (
                    (
                        ds.edition,
                        r.lad,
                        r.domain,
                        r.measure,
                        r.value,
                        int(r.rank),
                        r.sort_order,
                        ds.name,
                    )
                    for r in published.itertuples()
                ),
            )
    return written


def check_published_agreement(conn: psycopg.Connection, manifest: Manifest) -> None:
    """Fail the load where a measure both computed and published differs beyond the rounding.

    A computed value agrees with a published one rounded to ``decimal_places`` when they
    differ by at most half a unit of that place (plus 1e-9 for binary floating point).
    """
    for ds in manifest.datasets_of(PublishedLadSummariesDataset):
        measures = list(ds.measures)
        tolerances = [0.5 * 10.0 ** -ds.measures[m].decimal_places + 1e-9 for m in measures]
        rows = conn.execute(
            read_sql("data", "foundation/published_lad_disagreements.sql"),
            {"edition": ds.edition, "measures": measures, "tolerances": tolerances},
        ).fetchall()
        if rows:
            districts = sorted({r[0] for r in rows})
            shown = "; ".join(
                f"{lad} {domain} {measure}: computed {computed:.6f}, published {published}"
                for lad, domain, measure, computed, published in rows[:8]
            )
            raise LoadError(
                f"{ds.path}: {ds.edition} district measures computed from the LSOA data "
                f"disagree with the published figures (beyond their rounding) for "
                f"{len(districts)} districts {districts[:12]}: {shown}"
            )


def _summary_inputs(staged: Staged, edition: Edition) -> pd.DataFrame:
    """Join an edition's LSOA values to their LAD and population denominators."""
    values = staged.index_values[edition.code]
    lookup = staged.lsoa_lookups[edition.lsoa_vintage][["lsoa", "lad"]].rename(
        columns={"lad": "lad_code"}
    )
    frame = values.merge(lookup, on="lsoa", how="left")
    if edition.code in staged.denominators:
        frame = frame.merge(staged.denominators[edition.code], on="lsoa", how="left")
    else:
        for base in ("total", "working_age", "children_0_15", "aged_60_plus"):
            frame[base] = np.nan
    return frame


def refresh_population(conn: psycopg.Connection) -> int:
    """Derive residents and adults per LSOA of every edition (migration 0003 says how)."""
    with conn.cursor() as cur:
        cur.execute(read_sql("data", "foundation/refresh_population.sql"))
        cur.execute("SELECT count(*) FROM lsoa_population")
        (count,) = cur.fetchone() or (0,)
    return int(count)


def refresh_serving_tables(conn: psycopg.Connection) -> dict[str, int]:
    """Rebuild the denormalised tables OGC collections and tiles read; return their rows."""
    with conn.cursor() as cur:
        # On a first load the tables' spatial and other secondary indexes are built after.
        deferred = secondary_indexes(cur, ["lsoa_deprivation", "lad_deprivation"])
        with built_after_rows(cur, deferred):
            cur.execute(read_sql("data", "foundation/refresh_serving.sql"))
        cur.execute(
            "SELECT (SELECT count(*) FROM lsoa_deprivation), (SELECT count(*) FROM lad_deprivation)"
        )
        lsoas, lads = cur.fetchone() or (0, 0)
    return {"lsoa_deprivation": lsoas, "lad_deprivation": lads}


def bump_data_version(conn: psycopg.Connection) -> int:
    """Increase the data version (caches key on it) and return the new value."""
    row = conn.execute(read_sql("geo", "tiles/bump_data_version.sql")).fetchone()
    assert row is not None
    return int(row[0])


def write_provenance(
    conn: psycopg.Connection, provenance: list[Provenance], repaired: dict[str, list[str]]
) -> None:
    """Record where each dataset came from, replacing the previous record of it."""
    with conn.cursor() as cur:
        for p in provenance:
            notes = dict(p.notes)
            level = {"lsoa_boundaries_2011": "lsoa:2011", "lsoa_boundaries_2021": "lsoa:2021"}.get(
                p.dataset
            )
            if level and level in repaired:
                notes["repaired_geometries"] = repaired[level]
            cur.execute(
                read_sql("data", "foundation/upsert_provenance.sql"),
                {
                    "dataset": p.dataset,
                    "source_file": p.source_file,
                    "sha256": p.sha256,
                    "publisher": p.publisher,
                    "licence": p.licence,
                    "attribution": p.attribution,
                    "row_count": p.row_count,
                    "notes": Jsonb(notes),
                },
            )
