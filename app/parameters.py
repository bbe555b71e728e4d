"""Query and path parameter shapes every router shares, each declared with its pattern.

FastAPI enforces a declared ``pattern`` (a 422 names the parameter) and writes it into the
OpenAPI document, so the document says exactly what the edge accepts: a value the schema
allows gets past validation to the domain (and then a 2xx or a 404), one it forbids is
refused before it. New routers take these rather than a bare ``str``.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated

from fastapi import Path, Query
from pydantic import BeforeValidator

from geo import gss
from geo.postcodes import POSTCODE_PATTERN


def either_case(pattern: str) -> str:
    """A GSS code pattern (``^E...``) that also takes a lower-case ``e``, as the service does."""
    assert pattern.startswith("^E"), pattern
    return "^[Ee]" + pattern.removeprefix("^E")


LSOA_PATTERN = either_case(gss.LSOA_PATTERN)
LAD_PATTERN = either_case(gss.LAD_PATTERN)
# Any GSS code, either case: /areas/{code} answers 404 for one not of an LSOA or district.
ANY_GSS_PATTERN = r"^[EWSNKewsnk][0-9]{8}$"
# An LSOA, a ward or a district: the areas eligibility is checked for.
ELIGIBILITY_AREA_PATTERN = either_case(r"^E0(1|5|[6-9])[0-9]{6}$")
# A neighbourhood group's reference (geo/groups: NG- and its number).
GROUP_REFERENCE_PATTERN = r"^NG-[0-9]{6,18}$"
# An H3 cell of resolution 6 to 9 (the coverage grid's) as h3 writes it: mode 1, the
# resolution, 13 hex digits. Which of those strings are cells (base cell, digits) a pattern
# cannot say: one that is not answers 404, as a cell outside the grid does.
H3_CELL_PATTERN = r"^8[6-9][0-9a-f]{13}$"
# A calendar month, YYYY-MM (police.uk's months).
MONTH_PATTERN = r"^[0-9]{4}-(0[1-9]|1[0-2])$"


def one_of_patterns(*patterns: str) -> str:
    """One pattern matching what any of ``patterns`` (each ``^...$``) matches."""
    return "^(" + "|".join(p.removeprefix("^").removesuffix("$") for p in patterns) + ")$"


# A calendar date, YYYY-MM-DD, that is one (29 February in leap years only).
_DAY = (
    r"[0-9]{4}-((0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])|(0[13-9]|1[0-2])-(29|30)|(0[13578]|1[02])-31)"
    r"|([0-9]{2}(0[48]|[2468][048]|[13579][26])|(0[48]|[2468][048]|[13579][26])00)-02-29"
)
DAY_PATTERN = rf"^({_DAY})$"
# A calendar date as OpenAPI's ``format: date`` (RFC 3339 full-date) writes it.
ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _full_date(value: object) -> object:
    """Refuse a date that is not written YYYY-MM-DD (pydantic alone takes "0", a Unix time)."""
    if isinstance(value, str) and not ISO_DATE.fullmatch(value):
        raise ValueError("a date is written YYYY-MM-DD")
    return value


# A date parameter: its ``format: date`` is what the service accepts.
FullDate = Annotated[date, BeforeValidator(_full_date)]
# One number as a client writes it (Python's str(float) included; the exponent is bounded, so
# the number stays finite).
_NUMBER = r"-?[0-9]{1,10}(\.[0-9]{1,20})?([eE][-+]?[0-9]{1,2})?"
# Four numbers separated by commas: min longitude, min latitude, max longitude, max latitude.
BBOX_PATTERN = rf"^{_NUMBER},{_NUMBER},{_NUMBER},{_NUMBER}$"

LadCodeQuery = Annotated[
    str | None,
    Query(
        max_length=9,
        pattern=LAD_PATTERN,
        description="A district (LAD) GSS code, e.g. E08000009.",
    ),
]
# A district code in capitals only, as the registers' filters (assets, amenity bids,
# organisers, neighbourhood planning) have always taken it; LadCodeQuery also takes "e".
RegisterLadQuery = Annotated[
    str | None,
    Query(max_length=9, pattern=gss.LAD_PATTERN, description="A district (LAD) code."),
]
PostcodeQuery = Annotated[
    str | None,
    Query(
        max_length=16,
        pattern=POSTCODE_PATTERN,
        description="A UK postcode, e.g. M15 4AB (either case, the space optional).",
    ),
]


def _bbox_query() -> object:
    """The ``bbox`` parameter's declaration (a Query per use: FastAPI keeps one per field)."""
    return Query(
        max_length=200,
        pattern=BBOX_PATTERN,
        description=(
            "min lon, min lat, max lon, max lat (CRS84), four decimal numbers. Values are "
            "clipped to the world; a box whose minimum is not below its maximum matches nothing."
        ),
    )


BboxQuery = Annotated[str | None, _bbox_query()]
Bbox = Annotated[str, _bbox_query()]

LsoaCodePath = Annotated[
    str, Path(max_length=9, pattern=LSOA_PATTERN, description="An LSOA 2021 GSS code.")
]
LadCodePath = Annotated[
    str, Path(max_length=9, pattern=LAD_PATTERN, description="A district (LAD) GSS code.")
]
