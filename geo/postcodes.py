"""UK postcodes: normalisation and lookup of postcode centroids."""

from __future__ import annotations

import re

# Outward code (area letters, district digit(s), optional letter) then inward code (digit and
# two letters): the shape of every UK postcode, e.g. "M15 4AB", "WA14 1AB", "SW1A 1AA".
POSTCODE = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?) ?([0-9][A-Z]{2})$")
# What a caller may type, as OpenAPI documents it: either case, spaces between the two parts.
# Every string it matches, normalise_postcode accepts (the converse holds up to other spacing).
POSTCODE_PATTERN = r"^[A-Za-z]{1,2}[0-9][A-Za-z0-9]? *[0-9][A-Za-z]{2}$"


def normalise_postcode(text: str) -> str | None:
    """Return the postcode in canonical form ("M15 4AB"), or None if it is not one."""
    squashed = re.sub(r"\s+", "", text or "").upper()
    match = POSTCODE.match(squashed)
    if match is None:
        return None
    return f"{match.group(1)} {match.group(2)}"
