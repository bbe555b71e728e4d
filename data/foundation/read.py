"""Reading the foundation's source files, as the manifest describes them, into a Staged load."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import fields
from pathlib import Path

import numpy as np
import pandas as pd

from data.foundation.staged import Provenance, Staged, StepCallback
from data.manifest import (
    BoundariesDataset,
    Dataset,
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
from geo.errors import LoadError
from geo.gss import LAD_PATTERN, LSOA_PATTERN, WARD_PATTERN
from geo.postcodes import normalise_postcode

ADULT_AGES = range(18, 91)  # single years 18..89 and the 90+ column


# Files are read this many at a time: pyogrio (GDAL) and pandas' CSV parser release the GIL
# for much of their work, so two threads keep both cores busy.
READ_THREADS = 2


def read_sources(source_dir: Path, manifest: Manifest, step: StepCallback) -> Staged:
    """Read every dataset of the manifest into a :class:`Staged` bundle.

    The files are read side by side (:data:`READ_THREADS`), each task into a bundle of its
    own, merged in the manifest's order; the index value files (whose editions' files are
    checked against each other as they are read) are one task, read in order. The first
    failing dataset in the manifest's order is the error raised, as when read one by one.
    """
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
    tasks: list[list[Dataset]] = []
    index_task: list[Dataset] = []
    for dataset in manifest.dataset:
        if isinstance(dataset, IndexValuesDataset):
            if not index_task:
                tasks.append(index_task)
            index_task.append(dataset)
        else:
            tasks.append([dataset])

    def read_task(datasets: list[Dataset]) -> Staged:
        part = Staged()
        for dataset in datasets:
            path = source_dir / dataset.path
            rows = readers[type(dataset)](path, dataset, part, manifest)
            part.provenance.append(
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
        return part

    staged = Staged()
    with ThreadPoolExecutor(max_workers=READ_THREADS) as pool:
        futures = [(datasets, pool.submit(read_task, datasets)) for datasets in tasks]
        try:
            for datasets, future in futures:
                _merge(staged, future.result())
                for dataset in datasets:
                    step(f"read {dataset.name}")
        finally:
            for _, future in futures:
                future.cancel()
    provenance = {p.dataset: p for p in staged.provenance}
    staged.provenance = [provenance[dataset.name] for dataset in manifest.dataset]
    return staged


def _merge(staged: Staged, part: Staged) -> None:
    """Add one task's bundle to ``staged`` (tasks read distinct keys of each mapping)."""
    for name in (f.name for f in fields(Staged)):
        value = getattr(part, name)
        if isinstance(value, dict):
            getattr(staged, name).update(value)
        elif isinstance(value, list):
            getattr(staged, name).extend(value)
        elif value is not None:
            setattr(staged, name, value)


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
