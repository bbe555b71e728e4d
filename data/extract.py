"""Build a small, real demo extract of the raw Platoons data for a few whole local authorities.

The raw files (described in the project's shared ``data/SOURCES.md``) are filtered row by row
and feature by feature; nothing is recomputed.  Every kept CSV line is written back verbatim
(byte-order mark, CRLF line endings, quoting and thousands separators such as ``"29,199"``
included), so the extract has the same relative paths, file names, compression and column
layouts as the raw tree and can stand in for it (e.g. in tests and the demo app).  GeoJSON
features are json-loaded and dumped back one per line with their coordinates untouched.

Gzip output is written with ``mtime=0`` so re-running the script produces identical bytes.

Usage (from the repository root)::

    python data/extract.py --lad E08000009 --lad E08000003 --lad E06000009 --lad E06000041
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import json
import re
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SOURCE = REPO_ROOT / ".." / "shared" / "data" / "raw"
DEFAULT_OUT = REPO_ROOT / "data" / "demo"
DEFAULT_LADS = ("E08000009", "E08000003", "E06000009", "E06000041")

# Raw files, relative to the source directory.
IOD19_FILE1 = "iod2019/File_1_-_IMD2019_Index_of_Multiple_Deprivation.csv.gz"
IOD19_FILE2 = "iod2019/File_2_-_IoD2019_Domains_of_Deprivation.csv.gz"
IOD19_FILE3 = "iod2019/File_3_-_IoD2019_Supplementary_Indices_-_IDACI_and_IDAOPI.csv.gz"
IOD19_FILE6 = "iod2019/File_6_-_IoD2019_Population_Denominators.csv.gz"
IMD25 = "iod2025/imd2025_england_lsoa21.csv.gz"
# The published district summaries are national figures (ranks among all 296 districts): the
# extract keeps the file whole, and a load skips the districts it does not load.
IOD25_LAD_SUMMARIES = "iod2025/iod2025_lad24_summaries_published.csv.gz"
POP19 = "population/population_mid2019_lsoa11_syoa.csv.gz"
LK_LSOA11_MSOA11 = "lookups/lookup_lsoa11_msoa11_gb.csv.gz"
LK_LSOA11_LTLA19 = "lookups/lookup_lsoa11_ltla19.csv"
LK_LSOA11_WD19 = "lookups/lookup_lsoa11_wd19_lad19_ew.csv.gz"
LK_LSOA11_LSOA21 = "lookups/lookup_lsoa11_lsoa21_ltla22.csv"
LK_LSOA21_WD24 = "lookups/lookup_lsoa21_wd24_lad24_ew.csv.gz"
LK_WD19_UK = "lookups/lookup_wd19_lad19_cty19_rgn19_ctry19_uk.csv.gz"
LK_LTLA19_RGN19 = "lookups/lookup_ltla19_region19.csv"
POSTCODES = "postcodes/trafford_postcodes_onspd_subset.csv"
B_LSOA11 = "boundaries/lsoa11_boundaries_ew.geojson.gz"
B_LSOA21 = "boundaries/lsoa21_boundaries_ew.geojson.gz"
B_LAD19 = "boundaries/lad19_boundaries_uk_buc.geojson.gz"
B_LAD24 = "boundaries/lad24_boundaries_uk_buc.geojson.gz"
B_WARDS20 = "boundaries/wards20_boundaries_uk_bsc.geojson.gz"

IOD19_LSOA = "LSOA code (2011)"
IOD19_LAD = "Local Authority District code (2019)"
IOD19_LAD_NAME = "Local Authority District name (2019)"

BOM = "\ufeff"
OGL_URL = "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/"

Row = Mapping[str, str]


@contextmanager
def _open_read(path: Path) -> Iterator[IO[str]]:
    """Open a raw text file (gzip or plain) for reading with line endings preserved."""
    if path.suffix == ".gz":
        with gzip.open(path, "rt", encoding="utf-8", newline="") as fh:
            yield fh
    else:
        with path.open("r", encoding="utf-8", newline="") as fh:
            yield fh


@contextmanager
def _open_write(path: Path) -> Iterator[IO[str]]:
    """Open an output text file (gzip with mtime=0, or plain) with line endings preserved."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".gz":
        with (
            path.open("wb") as raw,
            gzip.GzipFile(filename=path.name[:-3], fileobj=raw, mode="wb", mtime=0) as gz,
            io.TextIOWrapper(gz, encoding="utf-8", newline="") as fh,
        ):
            yield fh
    else:
        with path.open("w", encoding="utf-8", newline="") as fh:
            yield fh


def _parse_line(line: str) -> list[str]:
    """Parse one physical CSV line into its fields."""
    return next(csv.reader([line.rstrip("\r\n")]), [])


def _read_header(path: Path) -> list[str]:
    """Return the column names of a CSV file, without any byte-order mark."""
    with _open_read(path) as fh:
        return [c.removeprefix(BOM) for c in _parse_line(fh.readline())]


def _iter_rows(path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    """Yield (original line text, row dict) for every data line of a CSV file."""
    with _open_read(path) as fh:
        header = [c.removeprefix(BOM) for c in _parse_line(fh.readline())]
        for lineno, line in enumerate(fh, start=2):
            fields = _parse_line(line)
            if len(fields) != len(header):
                raise ValueError(
                    f"{path}:{lineno}: {len(fields)} fields, header has {len(header)} "
                    "(multi-line records are not supported)"
                )
            yield line, dict(zip(header, fields, strict=True))


def _column_values(path: Path, column: str, keep: Callable[[Row], bool]) -> set[str]:
    """Return the distinct values of ``column`` over the rows of a CSV file that ``keep``."""
    return {row[column] for _, row in _iter_rows(path) if keep(row)}


def filter_csv(src: Path, dst: Path, keep: Callable[[Row], bool]) -> int:
    """Copy the header and every data line that ``keep`` verbatim from src to dst; count rows."""
    kept = 0
    with _open_read(src) as fin, _open_write(dst) as fout:
        header_line = fin.readline()
        header = [c.removeprefix(BOM) for c in _parse_line(header_line)]
        fout.write(header_line)
        for lineno, line in enumerate(fin, start=2):
            fields = _parse_line(line)
            if len(fields) != len(header):
                raise ValueError(f"{src}:{lineno}: {len(fields)} fields, header has {len(header)}")
            if keep(dict(zip(header, fields, strict=True))):
                fout.write(line)
                kept += 1
    return kept


def _load_geojson(path: Path) -> dict[str, Any]:
    """Load a (gzipped) GeoJSON FeatureCollection."""
    with _open_read(path) as fh:
        data: dict[str, Any] = json.load(fh)
    if data.get("type") != "FeatureCollection":
        raise ValueError(f"{path}: not a FeatureCollection")
    return data


def _geojson_codes(path: Path, prop: str) -> dict[str, str]:
    """Return code -> name for the features of a boundary file (name from the sibling property)."""
    name_prop = prop.removesuffix("_code") + "_name"
    return {
        f["properties"][prop]: f["properties"].get(name_prop, "")
        for f in _load_geojson(path)["features"]
    }


def filter_geojson(src: Path, dst: Path, prop: str, codes: set[str]) -> int:
    """Write the features of src whose ``prop`` is in ``codes`` to dst, one feature per line."""
    data = _load_geojson(src)
    features = [f for f in data["features"] if f["properties"].get(prop) in codes]
    members = [(k, v) for k, v in data.items() if k != "features"]
    with _open_write(dst) as fh:
        fh.write("{\n")
        for key, value in members:
            fh.write(f"{json.dumps(key)}: {json.dumps(value, ensure_ascii=False)},\n")
        fh.write('"features": [\n')
        fh.write(",\n".join(json.dumps(f, ensure_ascii=False) for f in features))
        fh.write("\n]\n}\n")
    return len(features)


def _check_one_to_one(label: str, table_codes: Sequence[str], feature_codes: Sequence[str]) -> None:
    """Raise if table codes and boundary feature codes are not the same set, each exactly once."""
    dup_t = sorted(c for c, n in Counter(table_codes).items() if n > 1)
    dup_f = sorted(c for c, n in Counter(feature_codes).items() if n > 1)
    only_t = sorted(set(table_codes) - set(feature_codes))
    only_f = sorted(set(feature_codes) - set(table_codes))
    if dup_t or dup_f or only_t or only_f:
        raise RuntimeError(
            f"{label}: duplicated in table {dup_t[:5]}, duplicated features {dup_f[:5]}, "
            f"without boundary {only_t[:5]}, boundary without row {only_f[:5]}"
        )


def verify_extract(out_dir: Path, lad_codes: Sequence[str]) -> None:
    """Check the extract: LSOA tables and boundaries match one-to-one; LADs have polygons."""

    def feature_codes(rel: str, prop: str) -> list[str]:
        """List the ``prop`` value of every feature in an extracted boundary file."""
        return [f["properties"][prop] for f in _load_geojson(out_dir / rel)["features"]]

    def table_codes(rel: str, column: str) -> list[str]:
        """List the ``column`` value of every row in an extracted CSV file."""
        return [row[column] for _, row in _iter_rows(out_dir / rel)]

    _check_one_to_one(
        "LSOA 2011", table_codes(IOD19_FILE1, IOD19_LSOA), feature_codes(B_LSOA11, "lsoa11_code")
    )
    _check_one_to_one(
        "LSOA 2021", table_codes(IMD25, "lsoa21_code"), feature_codes(B_LSOA21, "lsoa21_code")
    )
    _check_one_to_one("LAD 2019", list(lad_codes), feature_codes(B_LAD19, "ltla19_code"))
    _check_one_to_one("LAD 2024", list(lad_codes), feature_codes(B_LAD24, "ltla24_code"))
    if not table_codes(IOD19_FILE1, IOD19_LSOA):
        raise RuntimeError("extract holds no LSOAs")


def _source_entries(sources_md: Path) -> dict[str, dict[str, str]]:
    """Parse the shared SOURCES.md into {relative raw path: {field: value}} for each section."""
    entries: dict[str, dict[str, str]] = {}
    current: dict[str, str] | None = None
    for line in sources_md.read_text(encoding="utf-8").splitlines():
        heading = re.match(r"^## data/raw/(\S+)\s*$", line)
        if heading:
            current = entries.setdefault(heading.group(1), {})
            continue
        if line.startswith("## "):
            current = None
            continue
        field = re.match(r"^- ([A-Za-z/ ]+): (.*)$", line)
        if current is not None and field:
            current[field.group(1)] = field.group(2).strip()
    return entries


def write_sources_md(
    out_dir: Path,
    sources_md: Path,
    lads: Mapping[str, str],
    counts: Mapping[str, int],
) -> None:
    """Write ``SOURCES.md`` for the extract, copying provenance from the shared SOURCES.md."""
    entries = _source_entries(sources_md)
    lad_args = " ".join(f"--lad {code}" for code in lads)
    lines = [
        "# Demo extract: sources",
        "",
        "This directory is a **real extract** of the raw data files described in the project's",
        "shared `data/SOURCES.md` (`../shared/data/SOURCES.md` from the repository root). Values",
        "are unchanged: rows and features were only filtered, never recomputed. CSV lines are",
        "copied verbatim (byte-order mark, line endings, quoting and thousands separators kept);",
        "GeoJSON features are copied with their properties and coordinates unchanged. Relative",
        "paths, file names, compression and column layouts are the same as in the raw tree.",
        "",
        "Local authority districts (whole areas; codes identical in the 2019 and 2024 LAD sets):",
        "",
    ]
    lines += [f"- {code} {name}" for code, name in lads.items()]
    lines += [
        "",
        "Produced from the repository root with:",
        "",
        "```",
        f"python data/extract.py {lad_args}",
        "```",
        "",
        "Rows kept: LSOA 2011 files keep the LSOAs whose IoD2019 File 1 LAD 2019 code is one of",
        "the above; LSOA 2021 files keep the LSOAs whose LAD 2024 code (LSOA21 -> ward 2024 ->",
        "LAD 2024 lookup) is one of the above; the LSOA 2011 -> 2021 lookup keeps rows matching",
        "either set; ward boundaries keep the 2019 wards those LSOAs best-fit to; LAD, ward and",
        "region lookups and LAD boundaries keep those LADs; postcodes keep those LADs (the raw",
        "postcode file covers Trafford only). Counts exclude header lines.",
        "",
        "## Files",
        "",
    ]
    for rel, count in counts.items():
        entry = entries.get(rel)
        if entry is None:
            raise KeyError(f"{rel} has no section in {sources_md}")
        unit = "features" if rel.endswith(".geojson.gz") else "rows"
        lines += [
            f"### {rel}",
            "",
            f"- Dataset: {entry['Dataset']}",
            f"- Original publisher: {entry['Original publisher']}",
            f"- Licence: {entry['Licence']}",
            f"- Attribution: {entry['Attribution']}",
            f"- Rows kept: {count} {unit} (raw: {entry.get('Rows/features', 'see SOURCES.md')})",
            f"- Produced by: `python data/extract.py {lad_args}`, from `shared/data/raw/{rel}`",
            "",
        ]
    attributions = sorted({entries[rel]["Attribution"] for rel in counts})
    lines += [
        "## Licence",
        "",
        "All files are licensed under the Open Government Licence v3.0",
        f"(<{OGL_URL}>). Attribution statements:",
        "",
    ]
    lines += [f"- {text}" for text in attributions]
    (out_dir / "SOURCES.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


def write_extract(source_dir: Path, out_dir: Path, lad_codes: Sequence[str]) -> dict[str, int]:
    """Write the demo extract for whole LADs to out_dir; return rows written per relative path."""
    lads = list(dict.fromkeys(lad_codes))
    if not lads:
        raise ValueError("at least one LAD code is required")
    lad_set = set(lads)
    src = source_dir

    lad19 = _geojson_codes(src / B_LAD19, "ltla19_code")
    lad24 = _geojson_codes(src / B_LAD24, "ltla24_code")
    changed = sorted(c for c in lads if c not in lad19 or c not in lad24)
    if changed:
        raise ValueError(f"LAD codes not present in both the 2019 and 2024 LAD sets: {changed}")

    lsoa11 = _column_values(src / IOD19_FILE1, IOD19_LSOA, lambda r: r[IOD19_LAD] in lad_set)
    lsoa21 = _column_values(
        src / LK_LSOA21_WD24, "lsoa21_code", lambda r: r["ltla24_code"] in lad_set
    )
    wards19 = _column_values(src / LK_LSOA11_WD19, "WD19CD", lambda r: r["LAD19CD"] in lad_set)
    iod19_lads = _column_values(src / IOD19_FILE1, IOD19_LAD, lambda r: True)
    no_lsoa = sorted(c for c in lads if c not in iod19_lads)
    if no_lsoa:
        raise ValueError(f"LAD codes with no LSOA in IoD2019 File 1 (not English?): {no_lsoa}")

    def by(column: str, codes: set[str]) -> Callable[[Row], bool]:
        """Keep rows whose ``column`` value is in ``codes``."""
        return lambda row: row[column] in codes

    csv_rules: list[tuple[str, Callable[[Row], bool]]] = [
        (IOD19_FILE1, by(IOD19_LSOA, lsoa11)),
        (IOD19_FILE2, by(IOD19_LSOA, lsoa11)),
        (IOD19_FILE3, by(IOD19_LSOA, lsoa11)),
        (IOD19_FILE6, by(IOD19_LSOA, lsoa11)),
        (IMD25, by("lsoa21_code", lsoa21)),
        (IOD25_LAD_SUMMARIES, lambda _row: True),
        (POP19, by("lsoa11_code", lsoa11)),
        (LK_LSOA11_MSOA11, by("lsoa11_code", lsoa11)),
        (LK_LSOA11_LTLA19, by("lsoa11_code", lsoa11)),
        (LK_LSOA11_WD19, by("LSOA11CD", lsoa11)),
        (
            LK_LSOA11_LSOA21,
            lambda row: row["lsoa11_code"] in lsoa11 or row["lsoa21_code"] in lsoa21,
        ),
        (LK_LSOA21_WD24, by("lsoa21_code", lsoa21)),
        (LK_WD19_UK, by("LAD19CD", lad_set)),
        (LK_LTLA19_RGN19, by("ltla19_code", lad_set)),
        (POSTCODES, by("la_code", lad_set)),
    ]
    geo_rules: list[tuple[str, str, set[str]]] = [
        (B_LSOA11, "lsoa11_code", lsoa11),
        (B_LSOA21, "lsoa21_code", lsoa21),
        (B_LAD19, "ltla19_code", lad_set),
        (B_LAD24, "ltla24_code", lad_set),
        (B_WARDS20, "ward_code", wards19),
    ]

    counts: dict[str, int] = {}
    for rel, keep in csv_rules:
        counts[rel] = filter_csv(src / rel, out_dir / rel, keep)
    for rel, prop, codes in geo_rules:
        counts[rel] = filter_geojson(src / rel, out_dir / rel, prop, codes)
    counts = dict(sorted(counts.items()))

    verify_extract(out_dir, lads)
    write_sources_md(out_dir, source_dir.parent / "SOURCES.md", {c: lad19[c] for c in lads}, counts)
    return counts


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--source",
        type=Path,
        default=DEFAULT_SOURCE,
        help="raw data directory (default: ../shared/data/raw relative to the repository root)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_OUT,
        help="output directory (default: data/demo in the repository)",
    )
    parser.add_argument(
        "--lad",
        action="append",
        dest="lads",
        metavar="CODE",
        help=f"LAD code, repeatable (default: {' '.join(DEFAULT_LADS)})",
    )
    args = parser.parse_args()
    counts = write_extract(args.source.resolve(), args.out, args.lads or list(DEFAULT_LADS))
    for rel, count in counts.items():
        print(f"{count:8d}  {rel}")  # noqa: T201
    print(f"wrote {len(counts)} files + SOURCES.md to {args.out}")  # noqa: T201
