"""Files in the national planning data format: CSV and GeoJSON in and out, imported by row.

The planning data platform (digital-land) publishes each dataset as CSV (kebab-case field
names, WKT geometry, ISO dates) and GeoJSON (the same fields as properties). The assets'
register (:mod:`geo.assets.register_files`) and neighbourhood planning
(:mod:`geo.planning.exchange`) read and write their datasets through these functions, and
import a file the same way: every row in a savepoint of one transaction, so a bad row is
reported with its reason and never half-written while the good rows are kept.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, TypeVar

from psycopg import AsyncConnection

from geo.errors import InvalidInput, PlatoonsError


def header(name: str) -> str:
    """A field name reduced for matching: lower case, words joined by hyphens."""
    return re.sub(r"[\s_-]+", "-", name.strip().lower())


def to_csv(fields: Iterable[str], records: Iterable[Mapping[str, Any]]) -> str:
    """Records as CSV text in the dataset's field order (other keys are left out)."""
    out = io.StringIO()
    writer = csv.DictWriter(
        out, fieldnames=list(fields), lineterminator="\r\n", extrasaction="ignore"
    )
    writer.writeheader()
    writer.writerows(records)
    return out.getvalue()


def csv_rows(text: str) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """A CSV file's field names (reduced by :func:`header`) and its rows by line number."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    headers = [header(h) for h in (reader.fieldnames or [])]
    rows = [
        (line, {header(k): (v or "") for k, v in r.items() if k is not None})
        for line, r in enumerate(reader, start=2)
    ]
    return headers, rows


def geojson_features(text: str) -> list[tuple[int, dict[str, Any], dict[str, Any] | None]]:
    """A FeatureCollection's features by number: properties (names reduced) and geometry.

    Raises
    ------
    InvalidInput
        If the text is not a GeoJSON FeatureCollection.
    """
    try:
        features = json.loads(text)["features"]
    except (ValueError, KeyError, TypeError) as exc:
        raise InvalidInput("not a GeoJSON FeatureCollection") from exc
    return [
        (
            number,
            {header(k): v for k, v in (feature.get("properties") or {}).items()},
            feature.get("geometry"),
        )
        for number, feature in enumerate(features, start=1)
    ]


@dataclass
class ImportReport:
    """What an import did: rows imported, and each row skipped with its line and reason."""

    source: str
    imported: list[str] = field(default_factory=list)
    skipped: list[tuple[int, str, str]] = field(default_factory=list)
    warnings: list[tuple[int, str]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """The report as plain JSON."""
        return asdict(self)


RowT = TypeVar("RowT")


async def import_each(
    conn: AsyncConnection,
    rows: Iterable[tuple[int, str, RowT]],
    import_one: Callable[[RowT, list[str]], Awaitable[str]],
    report: ImportReport,
) -> None:
    """Import rows (line, name, row), each in a savepoint of one transaction.

    ``import_one`` writes one row and returns its reference, appending any warnings to the
    list it is given; a row it refuses (any :class:`PlatoonsError`) is rolled back to its
    savepoint and reported as skipped with its line, name and reason.
    """
    async with conn.transaction():
        for line, name, row in rows:
            warnings: list[str] = []
            try:
                async with conn.transaction():
                    reference = await import_one(row, warnings)
            except PlatoonsError as exc:
                report.skipped.append((line, name, exc.message))
                continue
            report.imported.append(reference)
            report.warnings.extend((line, w) for w in warnings)
