"""What every command prints through: one console on stderr, errors in red, date options."""

from __future__ import annotations

from datetime import UTC, date, datetime

import typer
from rich.console import Console
from rich.markup import escape

console = Console(stderr=True, soft_wrap=True)  # never break a path across lines


def fail(message: str) -> typer.Exit:
    """Print an error in red and return the exit to raise (status 1)."""
    console.print(f"[bold red]error:[/] {escape(message)}")
    return typer.Exit(code=1)


def date_option(text: str | None, name: str) -> date:
    """A YYYY-MM-DD option's date (today in UTC when omitted); exit 1 if malformed."""
    if text is None:
        return datetime.now(UTC).date()
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise fail(f"--{name} must be a date like 2026-11-25, not {text!r}") from exc
