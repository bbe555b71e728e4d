"""Neighbourhood grant programmes and their eligibility checks.

Programmes are data: a validated specification (YAML/JSON through the CLI or the officer API)
stored in ``grant_programme``. An eligibility check resolves the place to the area each
programme assesses (``geo.place_resolution``), evaluates the programme's rule
(``geo.grants.rules``) and returns every rule's result with the area's actual values and a
one-line explanation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from psycopg import AsyncConnection
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from pydantic import BaseModel

from geo import audit, place_resolution
from geo.areas import EditionRef, find_edition
from geo.errors import InvalidInput, PlatoonsError
from geo.figures import Adults, Share
from geo.grants import layer as eligibility_layer
from geo.grants import rules as eligibility
from geo.grants.programmes import MATCH_SOURCE_TYPES, Programme, ProgrammeNotFound, ProgrammeSpec
from geo.sqlfiles import read_sql
from geo.tiles import read_data_version

__all__ = [
    "MATCH_SOURCE_TYPES",
    "Catalogue",
    "CatalogueCache",
    "EligibilityAnswer",
    "Programme",
    "ProgrammeNotFound",
    "ProgrammeSpec",
    "check_eligibility",
    "get_programme",
    "list_programmes",
    "load_catalogue",
    "save_programme",
]


class ProgrammeRef(BaseModel):
    """A programme as named in an answer."""

    id: str
    name: str
    is_example: bool
    open: bool
    edition: str
    geography_level: str


class LsoaVerdict(BaseModel):
    """One LSOA of the assessed area and whether it qualifies."""

    code: str
    name: str
    lad_code: str
    qualifies: bool
    fraction_in_area: Share
    residents_in_area: Adults
    imd_decile: int | None


class EligibilityAnswer(BaseModel):
    """Whether an area is eligible for one programme, and why."""

    programme: ProgrammeRef
    eligible: bool
    explanation: str
    rules: eligibility.RuleResult
    area: place_resolution.AssessedArea
    qualifying_lsoas: list[str]
    lsoas: list[LsoaVerdict]


async def save_programme(conn: AsyncConnection, spec: ProgrammeSpec, actor: str) -> Programme:
    """Insert or update a programme from its specification, audited (committed money is kept).

    Raises
    ------
    InvalidInput
        If the edition is not loaded, or the new budget is below what is already committed.
    """
    await find_edition(conn, spec.edition_code)
    values = spec.model_dump()
    values["rule"] = Jsonb(spec.rule.model_dump(mode="json", exclude_none=True))
    async with conn.transaction(), conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            read_sql("geo", "grants/programme_get.sql") + " FOR UPDATE", {"id": spec.id}
        )
        before = await cur.fetchone()
        await cur.execute(read_sql("geo", "grants/programme_upsert.sql"), values)
        row = await cur.fetchone()
        if row is None:
            raise InvalidInput(
                f"the budget of {spec.id} cannot be cut below the amount already committed",
                parameter="budget",
            )
        saved = Programme.model_validate(row)
        edition = await find_edition(conn, saved.edition_code)
        await eligibility_layer.refresh_programme(conn, saved, edition.national_lsoa_count)
        await cur.execute(read_sql("geo", "tiles/bump_data_version.sql"))
        await audit.record(
            conn,
            actor,
            "programme.save",
            "grant_programme",
            saved.id,
            None if before is None else Programme.model_validate(before).model_dump(mode="json"),
            saved.model_dump(mode="json"),
        )
    return saved


async def get_programme(conn: AsyncConnection, programme_id: str) -> Programme:
    """Return one programme."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(read_sql("geo", "grants/programme_get.sql"), {"id": programme_id})
        row = await cur.fetchone()
    if row is None:
        raise ProgrammeNotFound(f"no grant programme {programme_id!r}", parameter="programme")
    return Programme.model_validate(row)


async def list_programmes(conn: AsyncConnection, open_on: date | None = None) -> list[Programme]:
    """Return every programme, or those open on a date."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(read_sql("geo", "grants/programme_list.sql"), {"open_on": open_on})
        rows = await cur.fetchall()
    return [Programme.model_validate(r) for r in rows]


@dataclass(frozen=True)
class Catalogue:
    """Every programme and the editions they use, as of one data version: what each check
    reads before any place.
    """

    programmes: tuple[Programme, ...]
    editions: dict[str, EditionRef]
    data_version: int = 0

    def programme(self, programme_id: str) -> Programme:
        """Return one programme; ProgrammeNotFound if there is none."""
        for programme in self.programmes:
            if programme.id == programme_id:
                return programme
        raise ProgrammeNotFound(f"no grant programme {programme_id!r}", parameter="programme")

    def open_on(self, today: date) -> list[Programme]:
        """The programmes open on ``today``, by id."""
        return [p for p in self.programmes if p.is_open(today)]


async def load_catalogue(conn: AsyncConnection) -> Catalogue:
    """Read every programme and the editions they use (loaded editions only)."""
    # The version first: rows saved after it make the catalogue newer than its version, so
    # the next check sees the version move and reads again (never the other way round).
    version = await read_data_version(conn)
    programmes = await list_programmes(conn)
    editions: dict[str, EditionRef] = {}
    for code in sorted({p.edition_code for p in programmes}):
        editions[code] = await find_edition(conn, code)
    return Catalogue(programmes=tuple(programmes), editions=editions, data_version=version)


class CatalogueCache:
    """The catalogue of the latest data version seen (a programme save or a load bumps it).

    The service keeps one per process, so a check costs only the queries about the place. A
    click, postcode or code is checked against the cached catalogue and the data version read
    in the same statement as the place; a check that finds the version moved (or fails) is
    done again on a catalogue read afresh. A polygon reads the version first. The areas
    clicks resolve to are kept beside it, per data version (``units``).
    """

    def __init__(self) -> None:
        self.latest: Catalogue | None = None
        self.units = place_resolution.UnitCache()

    async def current(self, conn: AsyncConnection) -> Catalogue:
        """The catalogue of the database's current data version (one indexed read if cached)."""
        if self.latest is None or self.latest.data_version != await read_data_version(conn):
            self.latest = await load_catalogue(conn)
        return self.latest


async def check_eligibility(
    conn: AsyncConnection,
    place: place_resolution.Place,
    programme_id: str | None,
    today: date,
    catalogues: CatalogueCache | None = None,
) -> list[EligibilityAnswer]:
    """Check a place against one programme, or against every programme open ``today``.

    ``catalogues`` holds the programmes and editions of the data version last seen (read now
    when not given, or when the data version has moved since). The place is resolved once per
    edition and geography level; a click, postcode or code in one statement for all of them.
    """
    catalogues = catalogues or CatalogueCache()
    catalogue = catalogues.latest
    if catalogue is not None and place.geometry is None:
        try:
            answers, version = await _check(
                conn, place, programme_id, today, catalogue, catalogues.units
            )
        except PlatoonsError:
            version = None  # perhaps a stale catalogue: decide on a fresh one
        if version == catalogue.data_version:
            return answers
    catalogue = await catalogues.current(conn)
    answers, _ = await _check(conn, place, programme_id, today, catalogue, catalogues.units)
    return answers


async def _check(
    conn: AsyncConnection,
    place: place_resolution.Place,
    programme_id: str | None,
    today: date,
    catalogue: Catalogue,
    units: place_resolution.UnitCache,
) -> tuple[list[EligibilityAnswer], int | None]:
    """Check against a catalogue; also return the data version the place was read at."""
    if programme_id is not None:
        programmes = [catalogue.programme(programme_id)]
    else:
        programmes = catalogue.open_on(today)
    # One area per (edition, level); district measures if any of its programmes needs them.
    queries: dict[tuple[str, str], place_resolution.AreaQuery] = {}
    for programme in programmes:
        key = (programme.edition_code, programme.geography_level)
        needs = _uses_lad_measures(programme.rule)
        if key not in queries or (needs and not queries[key].lad_measures):
            queries[key] = place_resolution.AreaQuery(
                catalogue.editions[programme.edition_code], programme.geography_level, needs
            )
    if not queries:
        return [], None
    resolved = await place_resolution.resolve_all(conn, place, list(queries.values()), units)
    areas = dict(zip(queries, resolved.areas, strict=True))
    answers = [
        _programme_answer(p, *areas[(p.edition_code, p.geography_level)], today) for p in programmes
    ]
    return answers, resolved.data_version


def _programme_answer(
    programme: Programme,
    area: place_resolution.AssessedArea,
    facts: eligibility.AreaFacts,
    today: date,
) -> EligibilityAnswer:
    """Evaluate one programme on resolved facts."""
    result = eligibility.evaluate(programme.rule, facts, programme.min_population_share)
    qualifying = set(eligibility.qualifying_lsoas(programme.rule, facts))
    return EligibilityAnswer(
        programme=ProgrammeRef(
            id=programme.id,
            name=programme.name,
            is_example=programme.is_example,
            open=programme.is_open(today),
            edition=programme.edition_code,
            geography_level=programme.geography_level,
        ),
        eligible=result.passed,
        explanation=eligibility.explanation(result),
        rules=result,
        area=area,
        qualifying_lsoas=sorted(qualifying),
        lsoas=[
            LsoaVerdict(
                code=lsoa.code,
                name=lsoa.name,
                lad_code=lsoa.lad_code,
                qualifies=lsoa.code in qualifying,
                fraction_in_area=lsoa.fraction_in_area,
                residents_in_area=lsoa.residents_in_area,
                imd_decile=lsoa.deciles.get("imd"),
            )
            for lsoa in facts.lsoas
        ],
    )


def _uses_lad_measures(rule: Any) -> bool:
    """Whether a rule needs district summary measures."""
    if isinstance(rule, eligibility.LadMeasure):
        return True
    if isinstance(rule, eligibility.AllOf | eligibility.AnyOf):
        return any(_uses_lad_measures(r) for r in rule.rules)
    if isinstance(rule, eligibility.Not):
        return _uses_lad_measures(rule.rule)
    return False
