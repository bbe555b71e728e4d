"""The one If-Match rule (app/versions.py) every versioned resource's writes use."""

from __future__ import annotations

import pytest

from app.versions import MAX_VERSION, NO_VERSION, etag, version_from_if_match


@pytest.mark.parametrize(
    ("header", "version"),
    [
        (None, None),  # no header: no check
        ("*", None),  # any version
        (" * ", None),
        ('"3"', 3),
        ("3", 3),  # unquoted, as some clients send it
        ('W/"3"', 3),  # compression weakens our ETags on the way
        ('"3", "4"', 3),  # only the first entity tag counts
        (f'"{MAX_VERSION}"', MAX_VERSION),  # the most a PostgreSQL integer holds
        (f'"{MAX_VERSION + 1}"', NO_VERSION),  # ten digits, but above any stored version
        ('"99999999999"', NO_VERSION),  # eleven digits
        ('"0003"', 3),
        ('"-3"', NO_VERSION),
        ('"3.0"', NO_VERSION),
        ('"²"', NO_VERSION),  # a digit to str.isdigit(), not to int()
        ('"٣"', NO_VERSION),  # an Arabic-Indic three: int() would take it; not our ETag
        ("garbage", NO_VERSION),
        ('""', NO_VERSION),
    ],
)
def test_the_version_an_if_match_names(header: str | None, version: int | None) -> None:
    assert version_from_if_match(header) == version


def test_an_etag_names_its_version_back() -> None:
    assert etag(7) == '"7"'
    assert version_from_if_match(etag(7)) == 7
