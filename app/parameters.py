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

# An LSOA (E01) or a district (E06-E09): what /areas/{code} describes.
LSOA_OR_LAD_PATTERN = r"^E0(1|[6-9])[0-9]{6}$"
# An LSOA, a ward or a district: the areas eligibility is checked for.
ELIGIBILITY_AREA_PATTERN = r"^E0(1|5|[6-9])[0-9]{6}$"
# A calendar date as OpenAPI's ``format: date`` (RFC 3339 full-date) writes it.
ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _full_date(value: object) -> object:
    """Refuse a date that is not written YYYY-MM-DD (pydantic alone takes "0", a Unix time)."""
    if isinstance(value, str) and not ISO_DATE.fullmatch(value):
        raise ValueError("a date is written YYYY-MM-DD")
    return value


# A date parameter: its ``format: date`` is what the service accepts.
FullDate = Annotated[date, BeforeValidator(_full_date)]
# One decimal number (no exponent: what a map client writes).
_NUMBER = r"-?[0-9]{1,10}(\.[0-9]{1,15})?"
# Four numbers separated by commas: min longitude, min latitude, max longitude, max latitude.
BBOX_PATTERN = rf"^{_NUMBER},{_NUMBER},{_NUMBER},{_NUMBER}$"

LadCodeQuery = Annotated[
    str | None,
    Query(
        max_length=9,
        pattern=gss.LAD_PATTERN,
        description="A district (LAD) GSS code, e.g. E08000009.",
    ),
]
PostcodeQuery = Annotated[
    str | None,
    Query(
        max_length=16,
        pattern=POSTCODE_PATTERN,
        description="A UK postcode, e.g. M15 4AB (either case, the space optional).",
    ),
]
BboxQuery = Annotated[
    str | None,
    Query(
        max_length=200,
        pattern=BBOX_PATTERN,
        description=(
            "min lon, min lat, max lon, max lat (CRS84), four decimal numbers. Values are "
            "clipped to the world; a box whose minimum is not below its maximum matches nothing."
        ),
    ),
]

LsoaCodePath = Annotated[
    str, Path(max_length=9, pattern=gss.LSOA_PATTERN, description="An LSOA 2021 GSS code.")
]
LadCodePath = Annotated[
    str, Path(max_length=9, pattern=gss.LAD_PATTERN, description="A district (LAD) GSS code.")
]
