"""Coverage: how many adults live where an active neighbourhood group (or organiser) works.

A group is **active** on a date when it is listed and its latest recorded activity (a meeting,
project or event) is no older than the activity window (12 months unless configured): see
:func:`active_since`.
"""

from __future__ import annotations

from datetime import date

from dateutil.relativedelta import relativedelta

ACTIVE_MONTHS_DEFAULT = 12


def active_since(as_of: date, months: int = ACTIVE_MONTHS_DEFAULT) -> date:
    """Return the earliest activity date that keeps a group active on ``as_of``.

    The window is ``months`` calendar months ending on ``as_of``, both ends included:
    activity on 2025-11-25 keeps a group active through 2026-11-25 and not on 2026-11-26. A
    window starting on a day the month lacks starts on that month's last day (a year before
    2024-02-29 is 2023-02-28).

    Parameters
    ----------
    as_of
        The date the question is asked for (today, in the service).
    months
        Length of the activity window in calendar months (at least 1).
    """
    if months < 1:
        raise ValueError(f"the activity window must be at least 1 month, not {months}")
    return as_of - relativedelta(months=months)
