"""Small request helpers every router shares."""

from __future__ import annotations

from datetime import UTC, date, datetime

from fastapi import Request


def base_url(request: Request) -> str:
    """The service's absolute base URL as the client reached it (no trailing slash)."""
    return str(request.base_url).rstrip("/")


def today_utc() -> date:
    """Today's date in UTC: the day statutory and programme dates are checked against."""
    return datetime.now(UTC).date()
