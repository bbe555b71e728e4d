"""Small request helpers every router shares."""

from __future__ import annotations

from datetime import UTC, date, datetime

from fastapi import Request
from starlette.convertors import Convertor


def base_url(request: Request) -> str:
    """The service's absolute base URL as the client reached it (no trailing slash)."""
    return str(request.base_url).rstrip("/")


def today_utc() -> date:
    """Today's date in UTC: the day statutory and programme dates are checked against."""
    return datetime.now(UTC).date()


class ReferenceConvertor(Convertor[str]):
    """A path segment shaped like a reference (a prefix, a hyphen, digits).

    Routes match it only, so ``PATCH /groups/code-of-conduct`` is a 405 (that path has GET
    only), not an attempt to edit a group called "code-of-conduct"; the reference's length
    and exact shape are then checked like any parameter's. Subclasses set ``regex``.
    """

    def convert(self, value: str) -> str:
        """The segment as it is."""
        return value

    def to_string(self, value: str) -> str:
        """The reference as a segment."""
        return value
