"""Load neighbourhood areas, forums and plans from national-format files (CSV or GeoJSON).

The file is read here and written in one transaction by
:func:`geo.planning.exchange.import_rows` (each row in a savepoint: a bad row is
reported, never half-written; a row already recorded is skipped, so a second import of the
same file changes nothing). Forums need their areas, plans their area's qualifying body:
import areas, then forums, then plans. The command line acts as an administrator named
``cli`` in the audit log.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Literal

from psycopg import AsyncConnection

from geo.access import Principal
from geo.errors import LoadError
from geo.national_files import ImportReport
from geo.planning.exchange import ImportContext, dataset_of, import_rows, read_rows

# Key id 0 is never issued (ids start at 1): the audit log names the command line "key:0:cli".
CLI_PRINCIPAL = Principal(role="admin", name="cli", key_id=0)


def file_format(path: Path) -> Literal["csv", "geojson"]:
    """The format of a file by its suffix: GeoJSON (.geojson, .json) or CSV."""
    return "geojson" if path.suffix.lower() in (".geojson", ".json") else "csv"


async def import_file(
    conn: AsyncConnection, path: Path, on: date, *, is_example: bool = False
) -> ImportReport:
    """Import a ``neighbourhood-plan-area``, ``neighbourhood-forum`` or ``neighbourhood-plan``
    file as of ``on`` (which dataset, by its fields: :func:`geo.planning.exchange.dataset_of`).

    Raises
    ------
    LoadError
        If the file cannot be read.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise LoadError(f"{path}: cannot read: {exc}") from exc
    fmt = file_format(path)
    ctx = ImportContext(conn, path.name, CLI_PRINCIPAL, on, is_example)
    return await import_rows(ctx, dataset_of(read_rows(text, fmt)), text, fmt)
