"""What the group and organiser registries share: their limits, contact checks and page size."""

from __future__ import annotations

import re
from dataclasses import dataclass

from geo.coverage import ACTIVE_MONTHS_DEFAULT
from geo.place_resolution import MAX_POLYGON_VERTICES

# White space spelt out (Python's ``str.isspace``), for a pattern's character class: ``\s``
# differs between Python, the service's validator (Rust) and OpenAPI clients (ECMA-262).
SPACE_CLASS = r"\t\n\v\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
# Not "@", "<", ">", NUL nor white space.
_PART = rf"[^@<>\x00{SPACE_CLASS}]+"
EMAIL_PATTERN = rf"^{_PART}@{_PART}\.{_PART}$"
EMAIL = re.compile(EMAIL_PATTERN.removesuffix("$") + r"\Z")


PHONE = re.compile(r"^\+?[0-9 ()-]{6,25}$")


MAX_PAGE = 1000


@dataclass(frozen=True)
class GroupRules:
    """The configurable limits of the registry (from ``GroupSettings`` in the service)."""

    active_months: int = ACTIVE_MONTHS_DEFAULT
    max_area_km2: float = 50.0
    min_area_km2: float = 0.001
    organiser_max_area_km2: float = 500.0
    max_vertices: int = MAX_POLYGON_VERTICES
    rating_repeat_days: int = 30
    ratings_per_day: int = 5
    messages_per_hour: int = 5
    messages_per_day: int = 20


DEFAULT_RULES = GroupRules()


def clean_text(text: str | None) -> str | None:
    """Strip surrounding white space; empty text is no text."""
    if text is None:
        return None
    text = text.strip()
    return text or None


def checked_email(value: str) -> str:
    """An e-mail address of the usual shape, stripped; ValueError otherwise."""
    value = value.strip()
    if not EMAIL.match(value):
        raise ValueError("not an e-mail address")
    return value


def checked_optional_email(value: str | None) -> str | None:
    """An e-mail address of the usual shape, or None for none (empty text is none)."""
    value = clean_text(value)
    return None if value is None else checked_email(value)


def checked_optional_phone(value: str | None) -> str | None:
    """Digits, spaces, brackets, hyphens and a leading +, or None for none."""
    value = clean_text(value)
    if value is not None and not PHONE.match(value):
        raise ValueError("not a telephone number")
    return value
