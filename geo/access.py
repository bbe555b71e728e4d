"""Who may do what: API keys (hashed at rest), roles and district scopes.

Roles, from least to most: ``public`` (no key: read public layers), ``group_manager``
(manage their own group, nominate assets, apply for grants), ``officer`` (decide listings and
grants, see private contacts, only in the districts on their key), ``admin`` (everything).
A key's secret is shown once when created; only its SHA-256 is stored.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from typing import Literal

from psycopg import AsyncConnection

from geo.errors import Forbidden, InvalidInput, Unauthenticated

Role = Literal["public", "group_manager", "officer", "admin"]
ROLE_ORDER: dict[str, int] = {"public": 0, "group_manager": 1, "officer": 2, "admin": 3}
KEY_PREFIX = "plt_"


@dataclass(frozen=True)
class Principal:
    """The caller of a request: their role, key and the districts they act for."""

    role: Role
    name: str = "public"
    key_id: int | None = None
    lad_codes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def actor(self) -> str:
        """How the caller is named in the audit log (never the secret)."""
        return "public" if self.key_id is None else f"key:{self.key_id}:{self.name}"

    def require(self, *roles: Role) -> None:
        """Raise unless the caller holds one of ``roles`` (admin holds every role)."""
        if self.role == "admin" or self.role in roles:
            return
        if self.key_id is None:
            raise Unauthenticated("this needs an API key (Authorization: Bearer <key>)")
        raise Forbidden(f"a {self.role} key may not do this; needs {' or '.join(roles)}")

    def may_act_in(self, lad_code: str) -> bool:
        """Whether an officer's scope covers a district (admins act everywhere)."""
        return self.role == "admin" or (self.role == "officer" and lad_code in self.lad_codes)


PUBLIC = Principal(role="public")


def hash_secret(secret: str) -> str:
    """The stored form of a key's secret."""
    return hashlib.sha256(secret.encode()).hexdigest()


async def create_key(
    conn: AsyncConnection, name: str, role: Role, lad_codes: list[str] | None = None
) -> tuple[int, str]:
    """Create a key; return its id and the secret (shown once, never stored)."""
    if role not in ROLE_ORDER or role == "public":
        raise InvalidInput(f"role must be group_manager, officer or admin; not {role!r}")
    lads = sorted(set(lad_codes or []))
    if role == "officer" and not lads:
        raise InvalidInput("an officer key needs at least one district (LAD code)")
    secret = KEY_PREFIX + secrets.token_urlsafe(32)
    cur = await conn.execute(
        "INSERT INTO api_key (name, key_hash, key_prefix, role, lad_codes)"
        " VALUES (%s, %s, %s, %s, %s) RETURNING id",
        (name, hash_secret(secret), secret[:10], role, lads),
    )
    row = await cur.fetchone()
    assert row is not None
    return int(row[0]), secret


async def revoke_key(conn: AsyncConnection, key_id: int) -> bool:
    """Revoke a key; return whether a live key was revoked."""
    cur = await conn.execute(
        "UPDATE api_key SET revoked_at = now() WHERE id = %s AND revoked_at IS NULL", (key_id,)
    )
    return cur.rowcount == 1


async def authenticate(conn: AsyncConnection, secret: str | None) -> Principal:
    """Return the principal of a presented secret (the public one when none is presented)."""
    if not secret:
        return PUBLIC
    cur = await conn.execute(
        "SELECT id, name, role, lad_codes FROM api_key WHERE key_hash = %s AND revoked_at IS NULL",
        (hash_secret(secret),),
    )
    row = await cur.fetchone()
    if row is None:
        raise Unauthenticated("unknown or revoked API key")
    key_id, name, role, lads = row
    return Principal(role=role, name=name, key_id=int(key_id), lad_codes=tuple(lads))


async def list_keys(conn: AsyncConnection) -> list[tuple[int, str, str, list[str], str, bool]]:
    """Every key as (id, name, role, districts, secret prefix, revoked); never secrets."""
    cur = await conn.execute(
        "SELECT id, name, role, lad_codes, key_prefix, revoked_at IS NOT NULL"
        " FROM api_key ORDER BY id"
    )
    return list(await cur.fetchall())
