"""Load boundaries, deprivation indices, populations and lookups into PostGIS.

A load reads and validates every source file first, then replaces all foundation tables in
ONE transaction: a failed or killed load leaves the previous data intact and visible
(readers keep seeing the old rows until commit, since rows are deleted, not truncated), and
re-running a load gives the same state. Provenance (file, sha256, licence, attribution, rows,
time) is written in the same transaction.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import psycopg
from psycopg.types.json import Jsonb

from data import coverage_base
from data.manifest import (
    BoundariesDataset,
    Edition,
    IndexValuesDataset,
    LsoaChangeDataset,
    LsoaLookupDataset,
    Manifest,
    MsoaLookupDataset,
    PopulationDenominatorsDataset,
    PopulationEstimateDataset,
    PostcodesDataset,
    PublishedLadSummariesDataset,
    RegionLookupDataset,
    load_manifest,
)
from data.readers import (
    bad_rows,
    check_codes,
    parse_floats,
    parse_integers,
    read_boundaries,
    read_csv_columns,
    sha256_of,
)
from geo import coverage
from geo.errors import LoadError
from geo.grants import layer as eligibility_layer
from geo.gss import LAD_PATTERN, LSOA_PATTERN, WARD_PATTERN
from geo.indices import lad_summary_measures
from geo.postcodes import normalise_postcode
from geo.sqlfiles import read_sql

ADULT_AGES = range(18, 91)  # single years 18..89 and the 90+ column

StepCallback = Callable[[str], None]


@dataclass
class Provenance:
    """Where one dataset came from, as recorded in ``dataset_load``."""

    dataset: str
    source_file: str
    sha256: str
    publisher: str
    licence: str
    attribution: str
    row_count: int
    notes: dict = field(default_factory=dict)


@dataclass
class Staged:
    """Everything read and validated from the source files, ready to write."""

    boundaries: dict[tuple[str, int], pd.DataFrame] = field(default_factory=dict)
    lsoa_lookups: dict[int, pd.DataFrame] = field(default_factory=dict)
    msoa: dict[int, pd.DataFrame] = field(default_factory=dict)
    regions: dict[int, pd.DataFrame] = field(default_factory=dict)
    lsoa_change: pd.DataFrame | None = None
    index_values: dict[str, pd.DataFrame] = field(default_factory=dict)
    index_lads: dict[str, pd.DataFrame] = field(default_factory=dict)
    index_checks: list[tuple[str, pd.DataFrame, str]] = field(default_factory=list)
    # Published district summaries per edition: lad, domain, measure, value, rank, sort_order.
    published_lad: dict[str, pd.DataFrame] = field(default_factory=dict)
    denominators: dict[str, pd.DataFrame] = field(default_factory=dict)
    population: dict[tuple[int, int], pd.DataFrame] = field(default_factory=dict)
    postcodes: pd.DataFrame | None = None
    provenance: list[Provenance] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@dataclass
class LoadReport:
    """What a load wrote: rows per table, repairs, warnings and the new data version."""

    source_dir: Path
    rows: dict[str, int]
    repaired_geometries: dict[str, list[str]]
    warnings: list[str]
    data_version: int
    seconds: float


def count_steps(manifest: Manifest | None = None) -> int:
    """Return how many progress steps :func:`load_all` reports (for a progress bar)."""
    manifest = manifest or load_manifest()
    return len(manifest.dataset) + 3


def load_all(
    conn: psycopg.Connection,
    source_dir: Path,
    on_step: StepCallback | None = None,
    manifest: Manifest | None = None,
) -> LoadReport:
    """Read, validate and load every dataset of the manifest from ``source_dir``.

    Raises :class:`geo.errors.LoadError` (and writes nothing) if any file is missing,
    malformed or inconsistent with the others.
    """
    started = time.perf_counter()
    manifest = manifest or load_manifest()
    step = on_step or (lambda _name: None)
    if not source_dir.is_dir():
        raise LoadError(f"{source_dir}: source directory not found")
    staged = read_sources(source_dir, manifest, step)
    validate(staged, manifest)
    step("validated joins")
    with conn.transaction():
        # Group and organiser writes wait for the load (geo.coverage.lock_writes).
        coverage.lock_writes_sync(conn)
        rows, repaired = write(conn, staged, manifest)
        step("wrote tables")
        rows["lad_summary_measure"] = write_lad_summary_measures(conn, staged, manifest)
        rows["lad_published_measure"] = write_published_lad_measures(conn, staged, manifest)
        check_published_agreement(conn, manifest)
        rows["lsoa_population"] = refresh_population(conn)
        rows.update(refresh_serving_tables(conn))
        rows["programme_lsoa_eligibility"] = eligibility_layer.refresh_all(conn)
        # Coverage layers follow the new LSOAs and adults (geo/coverage.py), recomputed today.
        rows.update(coverage_base.rebuild_after_load(conn, as_of=datetime.now(UTC).date()))
        data_version = bump_data_version(conn)
        write_provenance(conn, staged.provenance, repaired)
    step("computed LAD summary measures")
    with conn.cursor() as cur:
        cur.execute(read_sql("data", "foundation/analyze_foundation.sql"))
    return LoadReport(
        source_dir=source_dir,
        rows=rows,
        repaired_geometries=repaired,
        warnings=staged.warnings,
        data_version=data_version,
        seconds=time.perf_counter() - started,
    )


# ---------------------------------------------------------------------------------------------
# Reading


def read_sources(source_dir: Path, manifest: Manifest, step: StepCallback) -> Staged:
    """Read every dataset of the manifest into a :class:`Staged` bundle."""
    staged = Staged()
    readers: dict[type, Callable] = {
        BoundariesDataset: _read_boundaries,
        LsoaLookupDataset: _read_lsoa_lookup,
        MsoaLookupDataset: _read_msoa_lookup,
        RegionLookupDataset: _read_region_lookup,
        LsoaChangeDataset: _read_lsoa_change,
        IndexValuesDataset: _read_index_values,
        PublishedLadSummariesDataset: _read_published_lad_summaries,
        PopulationDenominatorsDataset: _read_denominators,
        PopulationEstimateDataset: _read_population_estimate,
        PostcodesDataset: _read_postcodes,
    }
    for dataset in manifest.dataset:
        path = source_dir / dataset.path
        rows = readers[type(dataset)](path, dataset, staged, manifest)
        staged.provenance.append(
            Provenance(
                dataset=dataset.name,
                source_file=dataset.path,
                sha256=sha256_of(path),
                publisher=dataset.publisher,
                licence=dataset.licence,
                attribution=manifest.attribution_for(dataset),
                row_count=rows,
            )
        )
        step(f"read {dataset.name}")
    return staged


def _read_boundaries(path: Path, ds: BoundariesDataset, staged: Staged, _m: Manifest) -> int:
    frame = read_boundaries(path, ds)
    staged.boundaries[(ds.level, ds.vintage)] = frame
    return len(frame)


def _read_lsoa_lookup(path: Path, ds: LsoaLookupDataset, staged: Staged, _m: Manifest) -> int:
    cols = ds.columns
    frame = read_csv_columns(path, [cols["lsoa"], cols["ward"], cols["ward_name"], cols["lad"]])
    frame.columns = ["lsoa", "ward", "ward_name", "lad"]
    frame = frame[frame["lsoa"].str.startswith("E")].reset_index(drop=True)
    check_codes(frame["lsoa"], LSOA_PATTERN, path, cols["lsoa"])
    bad_lad = ~frame["lad"].str.fullmatch(LAD_PATTERN)
    bad_ward = ~frame["ward"].str.fullmatch(WARD_PATTERN)
    if bad_lad.any() or bad_ward.any():
        raise LoadError(f"{path}: England LSOAs with non-English ward or LAD codes")
    staged.lsoa_lookups[ds.lsoa_vintage] = frame
    return len(frame)


def _read_msoa_lookup(path: Path, ds: MsoaLookupDataset, staged: Staged, _m: Manifest) -> int:
    frame = read_csv_columns(path, [ds.columns["lsoa"], ds.columns["msoa"]])
    frame.columns = ["lsoa", "msoa"]
    frame = frame[frame["lsoa"].str.startswith("E")].reset_index(drop=True)
    check_codes(frame["lsoa"], LSOA_PATTERN, path, ds.columns["lsoa"])
    staged.msoa[ds.lsoa_vintage] = frame
    return len(frame)


def _read_region_lookup(path: Path, ds: RegionLookupDataset, staged: Staged, _m: Manifest) -> int:
    frame = read_csv_columns(
        path, [ds.columns["lad"], ds.columns["region"], ds.columns["region_name"]]
    )
    frame.columns = ["lad", "region", "region_name"]
    check_codes(frame["lad"], LAD_PATTERN, path, ds.columns["lad"])
    staged.regions[ds.lad_vintage] = frame
    return len(frame)


def _read_lsoa_change(path: Path, ds: LsoaChangeDataset, staged: Staged, _m: Manifest) -> int:
    cols = ds.columns
    frame = read_csv_columns(path, [cols["lsoa11"], cols["lsoa21"], cols["change"], cols["lad22"]])
    frame.columns = ["lsoa11", "lsoa21", "change", "lad22"]
    frame = frame[frame["lsoa11"].str.startswith("E") | frame["lsoa21"].str.startswith("E")]
    bad = ~frame["change"].isin(["U", "S", "M", "X"])
    if bad.any():
        raise LoadError(
            f"{path}: change codes must be U, S, M or X; found {set(frame['change'][bad])}"
        )
    staged.lsoa_change = frame.drop_duplicates(["lsoa11", "lsoa21"]).reset_index(drop=True)
    return len(frame)


def _read_index_values(path: Path, ds: IndexValuesDataset, staged: Staged, m: Manifest) -> int:
    edition = m.edition_by_code(ds.edition)
    known = {d.code for d in edition.domains}
    columns = [ds.lsoa, *([ds.lad] if ds.lad else []), *ds.values.values()]
    frame = read_csv_columns(path, columns)
    check_codes(frame[ds.lsoa], LSOA_PATTERN, path, ds.lsoa)
    fields: dict[str, dict[str, pd.Series]] = {}
    for key, column in ds.values.items():
        domain, _, kind = key.partition(".")
        if domain not in known:
            raise LoadError(f"sources.toml: {ds.name} names domain {domain!r}, not in {ds.edition}")
        if kind == "score":
            fields.setdefault(domain, {})["score"] = parse_floats(frame, column, path)
        else:
            values = parse_integers(frame, column, path)
            low, high = (1, edition.national_lsoa_count) if kind == "rank" else (1, 10)
            bad = (values < low) | (values > high)
            if bad.any():
                raise LoadError(
                    f"{path}: column {column!r} must lie in {low}..{high}; "
                    f"found {sorted(values[bad].unique())[:5]}"
                )
            fields.setdefault(domain, {})[kind] = values
    long = pd.concat(
        [
            pd.DataFrame(
                {
                    "domain": domain,
                    "lsoa": frame[ds.lsoa].to_numpy(),
                    "score": values.get("score", pd.Series(np.nan, index=frame.index)).to_numpy(),
                    "rank": values["rank"].to_numpy(),
                    "decile": values["decile"].to_numpy(),
                }
            )
            for domain, values in fields.items()
        ],
        ignore_index=True,
    )
    if ds.kind == "index_check":
        staged.index_checks.append((ds.edition, long, str(path)))
        return len(frame)
    if ds.lad:
        lads = pd.DataFrame({"lsoa": frame[ds.lsoa], "lad": frame[ds.lad]})
        staged.index_lads[ds.edition] = pd.concat(
            [staged.index_lads.get(ds.edition), lads]
        ).drop_duplicates()
    combined = pd.concat([staged.index_values.get(ds.edition), long], ignore_index=True)
    duplicated = combined.duplicated(["domain", "lsoa"])
    if duplicated.any():
        raise LoadError(f"{path}: values repeated from another {ds.edition} file")
    staged.index_values[ds.edition] = combined
    return len(frame)


def _read_denominators(
    path: Path, ds: PopulationDenominatorsDataset, staged: Staged, _m: Manifest
) -> int:
    frame = read_csv_columns(path, [ds.lsoa, *ds.columns.values()])
    check_codes(frame[ds.lsoa], LSOA_PATTERN, path, ds.lsoa)
    result = pd.DataFrame({"lsoa": frame[ds.lsoa]})
    for name, column in ds.columns.items():
        result[name] = parse_integers(frame, column, path)
    staged.denominators[ds.edition] = result
    return len(result)


def _read_published_lad_summaries(
    path: Path, ds: PublishedLadSummariesDataset, staged: Staged, m: Manifest
) -> int:
    """Read an edition's published district summaries: every district, every index, once."""
    edition = m.edition_by_code(ds.edition)
    if edition.national_lad_count is None:
        raise LoadError(f"sources.toml: {ds.name} needs {ds.edition}'s national_lad_count")
    measure_columns = [c for spec in ds.measures.values() for c in (spec.value, spec.rank)]
    frame = read_csv_columns(path, [ds.lad, ds.index, *measure_columns]).reset_index(drop=True)
    codes = frame[ds.lad].str.strip()
    bad = ~codes.str.fullmatch(LAD_PATTERN)
    if bad.any():
        raise LoadError(
            f"{path}: column {ds.lad!r} has codes that are not English district codes: "
            f"{bad_rows(bad, frame[ds.lad])}"
        )
    titles = frame[ds.index].str.strip()
    unknown = ~titles.isin(ds.indices)
    if unknown.any():
        raise LoadError(
            f"{path}: column {ds.index!r} names indices sources.toml does not declare: "
            f"{bad_rows(unknown, frame[ds.index])}"
        )
    domains = titles.map(ds.indices)
    repeated = pd.DataFrame({"lad": codes, "domain": domains}).duplicated()
    if repeated.any():
        raise LoadError(
            f"{path}: districts listed twice for one index: {bad_rows(repeated, codes)}"
        )
    expected = list(ds.indices.values())
    present = domains.groupby(codes).agg(set)
    lacking = {lad: [d for d in expected if d not in got] for lad, got in present.items()}
    lacking = {lad: missing for lad, missing in lacking.items() if missing}
    if lacking:
        described = "; ".join(f"{lad} lacks {', '.join(d)}" for lad, d in list(lacking.items())[:5])
        raise LoadError(
            f"{path}: {len(lacking)} districts lack indices (each needs {len(expected)}): "
            f"{described}"
        )
    if len(present) != edition.national_lad_count:
        raise LoadError(
            f"{path}: {len(present)} districts, but {edition.code} ranks "
            f"{edition.national_lad_count} (national_lad_count in sources.toml)"
        )
    order = {domain: position for position, domain in enumerate(expected)}
    parts = []
    for measure, spec in ds.measures.items():
        ranks = parse_integers(frame, spec.rank, path)
        out_of_range = (ranks < 1) | (ranks > edition.national_lad_count)
        if out_of_range.any():
            raise LoadError(
                f"{path}: column {spec.rank!r} must lie in 1..{edition.national_lad_count}; "
                f"{bad_rows(out_of_range, frame[spec.rank])}"
            )
        parts.append(
            pd.DataFrame(
                {
                    "lad": codes,
                    "domain": domains,
                    "measure": measure,
                    "value": parse_floats(frame, spec.value, path),
                    "rank": ranks,
                    "sort_order": domains.map(order),
                }
            )
        )
    staged.published_lad[ds.edition] = pd.concat(parts, ignore_index=True)
    return len(frame)


def _read_population_estimate(
    path: Path, ds: PopulationEstimateDataset, staged: Staged, _m: Manifest
) -> int:
    ages = [str(a) for a in range(90)] + ["90+"]
    frame = read_csv_columns(path, [ds.lsoa, ds.total, *ages])
    frame = frame[frame[ds.lsoa].str.startswith("E")].reset_index(drop=True)
    check_codes(frame[ds.lsoa], LSOA_PATTERN, path, ds.lsoa)
    by_age = np.column_stack([parse_integers(frame, a, path).to_numpy() for a in ages])
    total = parse_integers(frame, ds.total, path).to_numpy()
    mismatch = by_age.sum(axis=1) != total
    if mismatch.any():
        raise LoadError(
            f"{path}: single years of age do not sum to {ds.total!r} for "
            f"{list(frame[ds.lsoa][mismatch][:5])}"
        )
    staged.population[(ds.lsoa_vintage, ds.reference_year)] = pd.DataFrame(
        {
            "lsoa": frame[ds.lsoa],
            "total": total,
            "adults_18_plus": by_age[:, ADULT_AGES.start :].sum(axis=1),
            "by_age": list(by_age.tolist()),
        }
    )
    return len(frame)


def _read_postcodes(path: Path, ds: PostcodesDataset, staged: Staged, _m: Manifest) -> int:
    cols = ds.columns
    frame = read_csv_columns(
        path, [cols["postcode"], cols["lsoa"], cols["lad"], cols["lon"], cols["lat"]]
    )
    result = pd.DataFrame(
        {
            "postcode": frame[cols["postcode"]].map(normalise_postcode),
            "lsoa": frame[cols["lsoa"]],
            "lad": frame[cols["lad"]],
            "lon": parse_floats(frame, cols["lon"], path),
            "lat": parse_floats(frame, cols["lat"], path),
        }
    )
    if result["postcode"].isna().any():
        bad = result["postcode"].isna()
        raise LoadError(f"{path}: malformed postcodes: {list(frame[cols['postcode']][bad][:5])}")
    check_codes(result["postcode"], r"^[A-Z0-9]{2,4} [0-9][A-Z]{2}$", path, cols["postcode"])
    staged.postcodes = result
    return len(result)


# ---------------------------------------------------------------------------------------------
# Validation across files


def _difference(left: Iterable[str], right: Iterable[str]) -> tuple[list[str], list[str]]:
    """Return (in left not right, in right not left), each sorted."""
    a, b = set(left), set(right)
    return sorted(a - b), sorted(b - a)


def _require_same(
    what_left: str, left: Iterable[str], what_right: str, right: Iterable[str]
) -> None:
    """Raise a LoadError describing codes present on one side only."""
    only_left, only_right = _difference(left, right)
    if only_left or only_right:
        raise LoadError(
            f"{what_left} and {what_right} disagree: {len(only_left)} only in {what_left} "
            f"{only_left[:8]}, {len(only_right)} only in {what_right} {only_right[:8]}"
        )


def validate(staged: Staged, manifest: Manifest) -> None:
    """Check that the files join up: every index row has a boundary and vice versa, etc."""
    for edition in manifest.edition:
        boundaries = staged.boundaries.get(("lsoa", edition.lsoa_vintage))
        values = staged.index_values.get(edition.code)
        if boundaries is None or values is None:
            raise LoadError(
                f"{edition.code}: no LSOA boundaries or no index values in the manifest"
            )
        for domain in edition.domains:
            codes = values.loc[values["domain"] == domain.code, "lsoa"]
            if codes.empty:
                raise LoadError(f"{edition.code}: no file provides domain {domain.code!r}")
            _require_same(
                f"{edition.code} {domain.code} rows",
                codes,
                f"LSOA {edition.lsoa_vintage} boundaries",
                boundaries["code"],
            )
        lookup = staged.lsoa_lookups[edition.lsoa_vintage]
        _require_same(
            f"LSOA {edition.lsoa_vintage} lookup",
            lookup["lsoa"],
            f"LSOA {edition.lsoa_vintage} boundaries",
            boundaries["code"],
        )
        lads = staged.boundaries[("lad", edition.lad_vintage)]
        _require_same(
            f"LADs of the LSOA {edition.lsoa_vintage} lookup",
            lookup["lad"].unique(),
            f"LAD {edition.lad_vintage} boundaries",
            lads["code"],
        )
        if edition.code in staged.index_lads:
            merged = staged.index_lads[edition.code].merge(
                lookup, on="lsoa", suffixes=("", "_lookup")
            )
            disagree = merged[merged["lad"] != merged["lad_lookup"]]
            if not disagree.empty:
                raise LoadError(
                    f"{edition.code}: the index file and the lookup place LSOAs in different "
                    f"LADs: {disagree['lsoa'].head(5).tolist()}"
                )
        if edition.population_denominators:
            _require_same(
                f"{edition.code} population denominators",
                staged.denominators[edition.code]["lsoa"],
                f"LSOA {edition.lsoa_vintage} boundaries",
                boundaries["code"],
            )
    for edition_code, check, path in staged.index_checks:
        merged = staged.index_values[edition_code].merge(check, on=["domain", "lsoa"], how="right")
        disagree = merged[
            (merged["rank_x"] != merged["rank_y"]) | (merged["decile_x"] != merged["decile_y"])
        ]
        if not disagree.empty:
            raise LoadError(
                f"{path}: disagrees with the other {edition_code} files for "
                f"{disagree['lsoa'].head(5).tolist()}"
            )
    _validate_published_lad(staged, manifest)
    for (vintage, year), population in staged.population.items():
        _require_same(
            f"mid-{year} population estimates",
            population["lsoa"],
            f"LSOA {vintage} boundaries",
            staged.boundaries[("lsoa", vintage)]["code"],
        )
    for edition in manifest.edition:
        loaded = staged.boundaries[("lsoa", edition.lsoa_vintage)]["code"].nunique()
        if loaded != edition.national_lsoa_count:
            staged.warnings.append(
                f"{edition.code}: {loaded:,} of {edition.national_lsoa_count:,} LSOAs loaded (a "
                "partial extract): LADs are not ranked against each other"
            )
    ward_boundaries = [key for key in staged.boundaries if key[0] == "ward"]
    for _level, vintage in ward_boundaries:
        wards = staged.boundaries[("ward", vintage)]
        lookup_wards = _lookup_for_ward_vintage(staged, manifest, vintage)["ward"].unique()
        missing = sorted(set(lookup_wards) - set(wards["code"]))
        if missing:
            raise LoadError(
                f"ward {vintage} boundaries lack {len(missing)} wards of the lookup: {missing[:8]}"
            )
    if staged.postcodes is not None:
        lsoa21 = set(staged.boundaries[("lsoa", 2021)]["code"])
        outside = ~staged.postcodes["lsoa"].isin(lsoa21)
        if outside.any():
            staged.warnings.append(
                f"{int(outside.sum())} postcodes lie in LSOAs that are not loaded; skipped"
            )
            staged.postcodes = staged.postcodes[~outside]


def _validate_published_lad(staged: Staged, manifest: Manifest) -> None:
    """Check published district summaries against the loaded LAD boundaries of the edition.

    Every loaded district needs published figures. With the whole edition loaded the file's
    districts must equal the boundaries'; a partial extract (the demo) skips, and counts, the
    rows of districts it does not load, since the published figures are national.
    """
    for ds in manifest.datasets_of(PublishedLadSummariesDataset):
        edition = manifest.edition_by_code(ds.edition)
        published = staged.published_lad[ds.edition]
        lads = set(staged.boundaries[("lad", edition.lad_vintage)]["code"])
        missing = sorted(lads - set(published["lad"]))
        if missing:
            raise LoadError(
                f"{ds.path}: no published figures for {len(missing)} loaded LAD "
                f"{edition.lad_vintage} districts: {missing[:8]}"
            )
        loaded = staged.boundaries[("lsoa", edition.lsoa_vintage)]["code"].nunique()
        outside = ~published["lad"].isin(lads)
        if not outside.any():
            continue
        extra = sorted(published.loc[outside, "lad"].unique())
        if loaded == edition.national_lsoa_count:
            _require_same(
                f"{ds.path} districts",
                published["lad"].unique(),
                f"LAD {edition.lad_vintage} boundaries",
                lads,
            )
        skipped_rows = len(published.loc[outside, ["lad", "domain"]].drop_duplicates())
        staged.warnings.append(
            f"{ds.name}: {len(extra)} of the edition's districts are not loaded; their "
            f"{skipped_rows} rows of published figures skipped"
        )
        for provenance in staged.provenance:
            if provenance.dataset == ds.name:
                provenance.notes.update(districts_skipped=len(extra), rows_skipped=skipped_rows)
        staged.published_lad[ds.edition] = published[~outside].reset_index(drop=True)


def _lookup_for_ward_vintage(staged: Staged, manifest: Manifest, ward_vintage: int) -> pd.DataFrame:
    """Return the LSOA lookup whose wards are of ``ward_vintage``."""
    for ds in manifest.datasets_of(LsoaLookupDataset):
        if ds.ward_vintage == ward_vintage:
            return staged.lsoa_lookups[ds.lsoa_vintage]
    raise LoadError(f"no LSOA lookup names wards of {ward_vintage}")


# ---------------------------------------------------------------------------------------------
# Writing (inside the caller's transaction)


def _copy(cur: psycopg.Cursor, table: str, columns: Sequence[str], rows: Iterable[Sequence]) -> int:
    """COPY rows into a table (a fixed identifier from this module) and return the count."""
    count = 0
    with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
            count += 1
    return count


def _none_if_nan(value: object) -> object:
    """Return None for NaN so COPY writes NULL."""
    return None if isinstance(value, float) and np.isnan(value) else value


def write(
    conn: psycopg.Connection, staged: Staged, manifest: Manifest
) -> tuple[dict[str, int], dict[str, list[str]]]:
    """Replace the foundation tables with the staged data; return rows and repaired codes."""
    rows: dict[str, int] = {}
    with conn.cursor() as cur:
        cur.execute(read_sql("data", "foundation/clear_foundation.sql"))
        cur.execute(read_sql("data", "foundation/create_staging.sql"))

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

        cur.execute(read_sql("data", "foundation/insert_boundaries.sql"))
        cur.execute(
            "SELECT (SELECT count(*) FROM lad), (SELECT count(*) FROM ward),"
            " (SELECT count(*) FROM lsoa)"
        )
        rows["lad"], rows["ward"], rows["lsoa"] = cur.fetchone() or (0, 0, 0)

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
            values = staged.index_values[edition.code]
            rows[f"lsoa_index_value:{edition.code}"] = _copy(
                cur,
                "lsoa_index_value",
                ["edition_code", "domain_code", "lsoa_code", "score", "rank", "decile"],
                (
                    (
                        edition.code,
                        v.domain,
                        v.lsoa,
                        _none_if_nan(v.score),
                        int(v.rank),
                        int(v.decile),
                    )
                    for v in values.itertuples()
                ),
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

        for (vintage, year), population in staged.population.items():
            rows["lsoa_population_estimate"] = _copy(
                cur,
                "lsoa_population_estimate",
                [
                    "lsoa_vintage",
                    "lsoa_code",
                    "reference_year",
                    "total",
                    "adults_18_plus",
                    "by_single_year_of_age",
                ],
                (
                    (vintage, r.lsoa, year, int(r.total), int(r.adults_18_plus), r.by_age)
                    for r in population.itertuples()
                ),
            )
        if staged.lsoa_change is not None:
            rows["lsoa_2011_2021"] = _copy(
                cur,
                "lsoa_2011_2021",
                ["lsoa11_code", "lsoa21_code", "change_code", "lad22_code"],
                staged.lsoa_change[["lsoa11", "lsoa21", "change", "lad22"]].itertuples(index=False),
            )
        if staged.postcodes is not None:
            _copy(
                cur,
                "stage_postcode",
                ["postcode", "lsoa_code", "lad_code", "lon", "lat"],
                staged.postcodes[["postcode", "lsoa", "lad", "lon", "lat"]].itertuples(index=False),
            )
            cur.execute(read_sql("data", "foundation/insert_postcodes.sql"))
            rows["postcode"] = cur.rowcount

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
