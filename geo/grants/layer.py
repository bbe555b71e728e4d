"""The eligibility layer: every LSOA of a programme's geography marked qualifying or not.

Each LSOA is assessed as the programme assesses a map click on it: on its own for LSOA-level
programmes, as part of its ward or district for ward- and district-level ones, with the same
rule engine (``geo.grants.rules.evaluate``) that answers eligibility checks, so the map and the
answers never disagree. The rows feed the ``grant-eligibility`` collection and its tiles.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

import psycopg
from psycopg import AsyncConnection
from psycopg.rows import dict_row

from geo.grants.programmes import Programme
from geo.grants.rules import AreaFacts, LsoaFacts, evaluate
from geo.sqlfiles import read_sql

COPY_STAGE = "COPY stage_eligibility (code, qualifies, assessed_as) FROM STDIN"


def verdicts(
    programme: Programme,
    lsoa_rows: Iterable[dict[str, Any]],
    measure_rows: Iterable[Sequence[Any]],
    national_lsoa_count: int,
) -> list[tuple[str, bool, str]]:
    """Return (LSOA code, qualifies, assessed as) for every LSOA of the programme's edition."""
    measures = {(lad, d, m): (v, r) for lad, d, m, v, r in measure_rows}
    level = programme.geography_level
    groups: dict[str, list[LsoaFacts]] = defaultdict(list)
    for row in lsoa_rows:
        lsoa = LsoaFacts(
            code=row["code"],
            name=row["name"],
            lad_code=row["lad_code"],
            residents=float(row["residents"]),
            fraction_in_area=1.0,
            ranks={d: v[0] for d, v in row["values"].items()},
            deciles={d: v[1] for d, v in row["values"].items()},
        )
        unit = {
            "lsoa": row["code"],
            "ward": row["ward_code"] or row["code"],
            "lad": row["lad_code"],
        }
        groups[f"{level}:{unit[level]}"].append(lsoa)
    result: list[tuple[str, bool, str]] = []
    for assessed_as, lsoas in groups.items():
        area = AreaFacts(
            lsoas=tuple(lsoas), national_lsoa_count=national_lsoa_count, lad_measures=measures
        )
        passed = evaluate(programme.rule, area, programme.min_population_share).passed
        result.extend((lsoa.code, passed, assessed_as) for lsoa in lsoas)
    return result


def _write_params(programme: Programme) -> dict[str, str]:
    return {
        "programme": programme.id,
        "programme_name": programme.name,
        "edition": programme.edition_code,
    }


async def refresh_programme(
    conn: AsyncConnection, programme: Programme, national_lsoa_count: int
) -> int:
    """Rebuild one programme's rows (in the caller's transaction); return the LSOAs written."""
    params = {"edition": programme.edition_code}
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(read_sql("geo", "grants/layer_facts.sql"), params)
        lsoas = await cur.fetchall()
    async with conn.cursor() as cur:
        await cur.execute(read_sql("geo", "grants/layer_measures.sql"), params)
        rows = verdicts(programme, lsoas, await cur.fetchall(), national_lsoa_count)
        await cur.execute(read_sql("geo", "grants/layer_stage.sql"))
        async with cur.copy(COPY_STAGE) as copy:
            for row in rows:
                await copy.write_row(row)
        await cur.execute(read_sql("geo", "grants/layer_clear.sql"), _write_params(programme))
        await cur.execute(read_sql("geo", "grants/layer_write.sql"), _write_params(programme))
    return len(rows)


def refresh_all(conn: psycopg.Connection) -> int:
    """Rebuild every programme's rows after a data load (sync, in the load's transaction).

    The same steps as :func:`refresh_programme`, on the loader's synchronous connection.
    """
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(read_sql("geo", "grants/programme_list.sql"), {"open_on": None})
        programmes = [Programme.model_validate(r) for r in cur.fetchall()]
        cur.execute("DELETE FROM programme_lsoa_eligibility")
        cur.execute("SELECT code, national_lsoa_count FROM index_edition")
        national = {r["code"]: r["national_lsoa_count"] for r in cur.fetchall()}
    written = 0
    for programme in programmes:
        if programme.edition_code not in national:  # its edition is no longer loaded
            continue
        params = {"edition": programme.edition_code}
        with conn.cursor(row_factory=dict_row) as cur:
            cur.execute(read_sql("geo", "grants/layer_facts.sql"), params)
            lsoas = cur.fetchall()
        with conn.cursor() as cur:
            cur.execute(read_sql("geo", "grants/layer_measures.sql"), params)
            rows = verdicts(programme, lsoas, cur.fetchall(), national[programme.edition_code])
            cur.execute(read_sql("geo", "grants/layer_stage.sql"))
            with cur.copy(COPY_STAGE) as copy:
                for row in rows:
                    copy.write_row(row)
            cur.execute(read_sql("geo", "grants/layer_write.sql"), _write_params(programme))
        written += len(rows)
    return written
