"""Small request helpers every router shares."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, date, datetime

from fastapi import Request
from fastapi.responses import JSONResponse
from starlette.convertors import Convertor, register_url_convertor


def base_url(request: Request) -> str:
    """The service's absolute base URL as the client reached it (no trailing slash)."""
    return str(request.base_url).rstrip("/")


class GeoJSONResponse(JSONResponse):
    """A JSON response documented and sent as GeoJSON (RFC 7946)."""

    media_type = "application/geo+json"


def today_utc() -> date:
    """Today's date in UTC: the day statutory and programme dates are checked against."""
    return datetime.now(UTC).date()


class ReferenceConvertor(Convertor[str]):
    """A path segment shaped like a reference (a prefix, a hyphen, digits).

    Routes match it only, so ``PATCH /groups/code-of-conduct`` is a 405 (that path has GET
    only), not an attempt to edit a group called "code-of-conduct"; the reference's length
    and exact shape are then checked like any parameter's. :func:`reference_segment` makes one.
    """

    def convert(self, value: str) -> str:
        """The segment as it is."""
        return value

    def to_string(self, value: str) -> str:
        """The reference as a segment."""
        return value


def reference_segment(name: str, prefix: str) -> str:
    """Register a path convertor matching ``<prefix>-`` and digits; return its name for a path."""

    class Reference(ReferenceConvertor):
        regex = f"{re.escape(prefix)}-[0-9]+"

    register_url_convertor(name, Reference())
    return name


class ChoiceConvertor(Convertor[str]):
    """A path segment that is one of a fixed set of words (a lifecycle step, say).

    A route ``/things/{id}/{step:thing_step}`` then matches the steps only, so a literal
    sibling such as ``/things/{id}/history`` answers another method with a 405 naming its own
    methods rather than falling into the step route's 422.
    """

    def convert(self, value: str) -> str:
        """The segment as it is."""
        return value

    def to_string(self, value: str) -> str:
        """The word as a segment."""
        return value


def choice_segment(name: str, choices: Iterable[str]) -> str:
    """Register a path convertor matching exactly ``choices``; return its name for a path."""
    words = sorted(set(choices), key=len, reverse=True)  # longest first: no prefix wins

    class Choice(ChoiceConvertor):
        regex = "|".join(re.escape(word) for word in words)

    register_url_convertor(name, Choice())
    return name
