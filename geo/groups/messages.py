"""Relay messages to a group's leader: sending (rate-limited) and listing them."""

from __future__ import annotations

from datetime import date, timedelta

from psycopg import AsyncConnection

from geo import audit
from geo.access import PUBLIC, Principal
from geo.errors import (
    Forbidden,
)
from geo.groups.access import require_free_slot, sender_limits
from geo.groups.models import Message, MessageInput, MessageReceipt
from geo.groups.reads import visible_group_row
from geo.registry_rules import DEFAULT_RULES, GroupRules
from geo.sqlfiles import fetch_rows, read_sql


async def list_messages(
    conn: AsyncConnection,
    reference: str,
    principal: Principal,
    on: date,
    rules: GroupRules = DEFAULT_RULES,
    *,
    limit: int = 100,
    offset: int = 0,
) -> list[Message]:
    """Return the messages sent through a group's relay form, latest first.

    Raises
    ------
    Unauthenticated, Forbidden
        Unless the caller is an admin, an officer of the group's districts or its manager.
    GroupNotFound
        If there is no such group.
    """
    principal.require("group_manager", "officer")
    row, private = await visible_group_row(conn, reference, principal, on, rules)
    if not private:
        raise Forbidden("only the group's managers, its districts' officers and admins read this")
    records = await fetch_rows(
        conn,
        read_sql("geo", "groups/message_list.sql"),
        {"group_id": row["id"], "limit": limit, "offset": offset},
    )
    return [Message.model_validate(r) for r in records]


async def send_message(
    conn: AsyncConnection,
    reference: str,
    data: MessageInput,
    fingerprint: str,
    on: date,
    rules: GroupRules = DEFAULT_RULES,
) -> MessageReceipt:
    """Relay a message to a listed group's leader (stored for its managers), audited.

    The sender's name, e-mail and text are private to the group's managers, its officers and
    admins; the audit log records only that a message arrived. Abuse limits per sender
    fingerprint: ``messages_per_hour`` in a rolling hour and ``messages_per_day`` in a day.

    Raises
    ------
    TooManyRequests
        If a limit is reached.
    GroupNotFound
        If there is no such listed group.
    """
    async with conn.transaction():
        row, _ = await visible_group_row(conn, reference, PUBLIC, on, rules)
        limits = await sender_limits(
            conn,
            fingerprint,
            "groups/message_limits.sql",
            {"per_hour": rules.messages_per_hour, "per_day": rules.messages_per_day},
        )
        require_free_slot(
            limits["in_hour"],
            rules.messages_per_hour,
            f"at most {rules.messages_per_hour} messages per sender in an hour",
            limits["now"],
            limits["hour_slot_taken_at"],
            timedelta(hours=1),
        )
        require_free_slot(
            limits["in_day"],
            rules.messages_per_day,
            f"at most {rules.messages_per_day} messages per sender in a day",
            limits["now"],
            limits["day_slot_taken_at"],
            timedelta(days=1),
        )
        cur2 = await conn.execute(
            read_sql("geo", "groups/message_insert.sql"),
            {
                "group_id": row["id"],
                "sender_name": data.name.strip(),
                "sender_email": data.email,
                "message": data.message.strip(),
                "fingerprint": fingerprint,
            },
        )
        message = await cur2.fetchone()
        assert message is not None
        await audit.record(
            conn,
            "public",
            "group.message",
            "group_message",
            str(message[0]),
            None,
            {"group": reference, "private_recorded": ["sender_name", "sender_email", "message"]},
        )
    return MessageReceipt(
        group=reference,
        received_at=message[1],
        detail="your message was passed on to the group's leader, who will reply by e-mail",
    )
