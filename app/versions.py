"""Optimistic concurrency over HTTP: a row's version as its ETag, and the version If-Match names.

Applications, assets (and their amenity bids), neighbourhood groups and organisers carry a
``version`` that every write increments; a write names the version it last saw in ``If-Match``
(RFC 9110, 13.1.1) and a stale one is answered 412.
"""

from __future__ import annotations

from typing import Annotated, Protocol, TypeVar

from fastapi import Header, Response

# The version columns are PostgreSQL `integer` (grant_application, asset, amenity_bid,
# community_group, organiser: data/migrations/versions/0004, 0006, 0008, 0009), so no stored
# version is above 2**31 - 1 (ten digits): a larger number can only be stale.
MAX_VERSION = 2**31 - 1
# What an If-Match that is not one of our ETags names: no row has it, so the check fails (412).
NO_VERSION = -1

IfMatch = Annotated[
    str | None,
    Header(
        max_length=64,
        description='The version last seen, as its ETag (`"3"`); a stale one gets 412.',
    ),
]


def etag(version: int) -> str:
    """The (strong) ETag of a version: the number in quotes."""
    return f'"{version}"'


class Versioned(Protocol):
    """A row that carries the version every write increments."""

    @property
    def version(self) -> int:
        """The row's version."""
        ...


VersionedRow = TypeVar("VersionedRow", bound=Versioned)


def tagged(response: Response, row: VersionedRow, location: str | None = None) -> VersionedRow:
    """Answer ``row``: its version's ETag, and for a row just created its ``Location``, set."""
    if location is not None:
        response.headers["Location"] = location
    response.headers["ETag"] = etag(row.version)
    return row


def version_from_if_match(if_match: str | None) -> int | None:
    """The version an If-Match header names: None for no header or ``*`` (any version).

    Only the first entity tag counts; a weak one (``W/"3"``) is taken as its version, since
    compression weakens our ETags on the way. Anything that is not an ASCII number up to
    :data:`MAX_VERSION` is :data:`NO_VERSION`, which never matches.
    """
    if if_match is None or if_match.strip() == "*":
        return None
    tag = if_match.split(",")[0].strip().removeprefix("W/").strip('"')
    # isascii first: str.isdigit() also accepts digits such as "²" that int() refuses.
    if not (tag.isascii() and tag.isdigit() and len(tag) <= len(str(MAX_VERSION))):
        return NO_VERSION
    version = int(tag)
    return version if version <= MAX_VERSION else NO_VERSION
