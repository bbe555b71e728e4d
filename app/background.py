"""The service's background tasks (housekeeping, the replica monitor): stopping one."""

from __future__ import annotations

import asyncio
import contextlib


async def cancel_and_wait(task: asyncio.Task[None] | None) -> None:
    """Cancel ``task`` (if there is one) and wait until it has unwound.

    What it was doing is interrupted where it awaits: a database job in progress rolls back.
    """
    if task is None:
        return
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
