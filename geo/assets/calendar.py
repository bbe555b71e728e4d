"""Upcoming statutory deadlines as an iCalendar (RFC 5545) feed."""

from __future__ import annotations

from datetime import date, datetime

from geo.assets.models import UpcomingDeadline


def _ics_text(value: str) -> str:
    """Escape a TEXT value (RFC 5545 s.3.3.11): backslash, semicolon, comma, newline."""
    return (
        value.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
    )


def _fold(line: str) -> str:
    """Fold a content line at 75 octets (RFC 5545 s.3.1), never inside a UTF-8 character."""
    out: list[str] = []
    current = ""
    limit = 75
    for char in line:
        if len((current + char).encode()) > limit:
            out.append(current)
            current = " " + char
            limit = 75
        else:
            current += char
    out.append(current)
    return "\r\n".join(out)


def deadlines_ics(deadlines: list[UpcomingDeadline], stamp: datetime, title: str) -> str:
    """Deadlines as an iCalendar (RFC 5545) feed: one all-day VEVENT per deadline.

    UIDs are stable (asset, kind and date), so calendar clients update rather than duplicate
    events; DTSTAMP is in UTC.
    """
    stamp_text = stamp.strftime("%Y%m%dT%H%M%SZ")
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Platoons//Assets of community value deadlines//EN",
        "CALSCALE:GREGORIAN",
        f"X-WR-CALNAME:{_ics_text(title)}",
    ]
    for d in deadlines:
        day = d.ends.strftime("%Y%m%d")
        following = date.fromordinal(d.ends.toordinal() + 1).strftime("%Y%m%d")
        lines += [
            "BEGIN:VEVENT",
            f"UID:acv-{d.asset_id}-{d.kind}-{day}@platoons",
            f"DTSTAMP:{stamp_text}",
            f"DTSTART;VALUE=DATE:{day}",
            f"DTEND;VALUE=DATE:{following}",
            f"SUMMARY:{_ics_text(f'{d.name}: {d.period} ends')}",
            "DESCRIPTION:"
            + _ics_text(
                f"Asset {d.reference} ({d.status}) in {d.lad_code}: the {d.period} ends on "
                f"{d.ends.isoformat()} ({d.authority})."
            ),
            "TRANSP:TRANSPARENT",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return "".join(_fold(line) + "\r\n" for line in lines)
