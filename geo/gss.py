"""GSS codes: the patterns of the English area codes Platoons holds, each defined once.

The Government Statistical Service codes an area by its kind and country: ``E01`` LSOAs,
``E02`` MSOAs, ``E05`` electoral wards, ``E06``-``E09`` local authority districts (unitary,
non-metropolitan, metropolitan, London borough), ``E12`` regions, then six digits. Platoons
holds England only, so Welsh (``W``) and Scottish (``S``) codes are not of any kind here. The
string patterns are what OpenAPI documents and the loaders check columns with; the compiled
ones are what the domain matches.
"""

from __future__ import annotations

import re

LSOA_PATTERN = r"^E01[0-9]{6}$"
WARD_PATTERN = r"^E05[0-9]{6}$"
LAD_PATTERN = r"^E0[6-9][0-9]{6}$"
# Any GSS code of the UK's nations (E, W, S, N) or the UK as a whole (K): a letter, eight digits.
ANY_PATTERN = r"^[EWSNK][0-9]{8}$"


def _whole(pattern: str) -> re.Pattern[str]:
    """Compile a ``^...$`` pattern to match whole strings only (Python's ``$`` also matches
    before a final newline, so ``"E01006112\n"`` would pass ``match``)."""
    return re.compile(pattern.removesuffix("$") + r"\Z")


LSOA_CODE = _whole(LSOA_PATTERN)
WARD_CODE = _whole(WARD_PATTERN)
LAD_CODE = _whole(LAD_PATTERN)
ANY_CODE = _whole(ANY_PATTERN)
