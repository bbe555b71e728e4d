"""Community rights over assets: the statutory lifecycle as an explicit state machine.

Localism Act 2011, Part 5 Chapter 3 (ss.87-108) and the Assets of Community Value (England)
Regulations 2012 (SI 2012/2421, "the 2012 Regulations"). This module is pure: no database, no
web. It says which step may follow which status, on which dates, and computes every statutory
date with one function, :func:`period_end`.

The date rule
-------------
A period of N weeks or months *beginning with* day D includes D, so it ends on the day before
the same date N weeks/months later. Month arithmetic clamps to the month's last day: 31 Aug +
6 months = 28 Feb (29 Feb in a leap year), so a six-month period beginning with 31 Aug ends on
27 Feb (28 Feb in a leap year). Years are counted as 12 months (29 Feb + 5 years = 28 Feb).

State and transition table (``TRANSITIONS``)
--------------------------------------------
================== ======================= ============================================ =========
step               from                    to                                           who
================== ======================= ============================================ =========
nominate           recorded, not_listed,   nominated                                    group
                   removed
list               nominated               listed                                       officer
decline            nominated               not_listed (reason)                          officer
request_review     listed                  under_review (8 weeks from the listing)      officer
uphold_review      under_review            listed                                       officer
overturn_review    under_review            removed                                      officer
notify_disposal    listed, disposed        disposal_notified (interim moratorium)       officer
request_to_bid     disposal_notified       full_moratorium (within the interim window)  group
sell               disposal_notified,      disposed (after the moratorium, within the   officer
                   full_moratorium         protected period; anytime to a community
                                           interest group)
record_exempt_...  listed, disposal_not.., disposed (an exempt disposal, Sch. 3)        officer
                   full_moratorium
withdraw_notice    disposal_notified,      listed (the notice's periods end with it)    officer
                   full_moratorium
remove             listed, under_review,   removed (reason: expiry, review, ...)        officer
                   disposal_notified,
                   full_moratorium, disposed
================== ======================= ============================================ =========

"group" steps are taken by a group manager's key (as its group) or recorded by an officer for
a named group. Every step is checked against the date it takes effect (``on``, today in UTC
unless frozen by tests): once a listing has expired (5 years) only ``remove`` is legal; an
owner's review request after its 8 weeks, a request to be treated as a bidder after the
interim moratorium, and a sale inside a moratorium or after the protected period are refused
with the reason and the steps that are legal.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Literal, get_args

from geo.errors import DateInFuture, IllegalTransition, InvalidInput, OutsideStatutoryWindow

Status = Literal[
    "recorded",
    "nominated",
    "listed",
    "not_listed",
    "under_review",
    "disposal_notified",
    "full_moratorium",
    "disposed",
    "removed",
]
Step = Literal[
    "nominate",
    "list",
    "decline",
    "request_review",
    "uphold_review",
    "overturn_review",
    "notify_disposal",
    "request_to_bid",
    "sell",
    "record_exempt_disposal",
    "withdraw_notice",
    "remove",
]
Actor = Literal["group", "officer"]
STATUSES: tuple[Status, ...] = get_args(Status)
STEPS: tuple[Step, ...] = get_args(Step)

# Bodies that may nominate (s.89(2)(b)(iii); 2012 Regulations reg. 5): an unincorporated
# group needs at least 21 members on the electoral register of the area (reg. 5(1)(c)).
NOMINATING_BODY_TYPES: tuple[str, ...] = (
    "neighbourhood_forum",
    "parish_council",
    "charity",
    "community_interest_company",
    "community_benefit_society",
    "company_limited_by_guarantee",
    "unincorporated_group",
)
MIN_UNINCORPORATED_ELECTORS = 21
# Exempt disposals (s.95(5) and Schedule 3 of the 2012 Regulations), in short.
EXEMPTIONS: tuple[str, ...] = (
    "gift",
    "inheritance",
    "family_transfer",
    "going_concern",
    "court_order",
    "partnership_change",
    "trust_change",
    "lease_under_25_years",
    "other_schedule_3",
)
LISTED_FAMILY: frozenset[Status] = frozenset(
    {"listed", "under_review", "disposal_notified", "full_moratorium", "disposed"}
)


@dataclass(frozen=True)
class Transition:
    """One step of the lifecycle: the statuses it may follow, where it leads, who takes it."""

    step: Step
    sources: tuple[Status, ...]
    target: Status
    actor: Actor


TRANSITIONS: dict[Step, Transition] = {
    t.step: t
    for t in (
        Transition("nominate", ("recorded", "not_listed", "removed"), "nominated", "group"),
        Transition("list", ("nominated",), "listed", "officer"),
        Transition("decline", ("nominated",), "not_listed", "officer"),
        Transition("request_review", ("listed",), "under_review", "officer"),
        Transition("uphold_review", ("under_review",), "listed", "officer"),
        Transition("overturn_review", ("under_review",), "removed", "officer"),
        Transition("notify_disposal", ("listed", "disposed"), "disposal_notified", "officer"),
        Transition("request_to_bid", ("disposal_notified",), "full_moratorium", "group"),
        Transition("sell", ("disposal_notified", "full_moratorium"), "disposed", "officer"),
        Transition(
            "record_exempt_disposal",
            ("listed", "disposal_notified", "full_moratorium"),
            "disposed",
            "officer",
        ),
        Transition(
            "withdraw_notice", ("disposal_notified", "full_moratorium"), "listed", "officer"
        ),
        Transition(
            "remove",
            ("listed", "under_review", "disposal_notified", "full_moratorium", "disposed"),
            "removed",
            "officer",
        ),
    )
}


@dataclass(frozen=True)
class Period:
    """A statutory period: its length in weeks or months and the provision that sets it."""

    name: str
    weeks: int = 0
    months: int = 0
    authority: str = ""


NOMINATION_DECISION = Period(
    "decision on the nomination", weeks=8, authority="2012 Regulations reg. 7"
)
OWNER_REVIEW_REQUEST = Period(
    "owner's request for a review", weeks=8, authority="Localism Act 2011 s.92; 2012 Regs Sch. 2"
)
REVIEW_DECISION = Period("decision on the review", weeks=8, authority="2012 Regulations Sch. 2")
LISTING = Period("listing", months=60, authority="2012 Regulations reg. 2 (five years)")
INTERIM_MORATORIUM = Period("interim moratorium", weeks=6, authority="Localism Act 2011 s.95(6)")
FULL_MORATORIUM = Period("full moratorium", months=6, authority="Localism Act 2011 s.95(6)")
PROTECTED_PERIOD = Period("protected period", months=18, authority="Localism Act 2011 s.95(6)")


def period_end(start: date, period: Period) -> date:
    """Return the last day of a statutory period beginning with ``start``.

    The one function that computes every statutory date. A period of N weeks or months
    *beginning with* day D includes D, so it ends on the day before the same date N
    weeks/months later (Localism Act 2011 s.95(6): periods "beginning with the date on which
    the local authority receives notification"; the 2012 Regulations use the same words).
    Month arithmetic clamps to the month's last day: 31 Aug + 6 months = 28 Feb (29 Feb in a
    leap year), so six months beginning with 31 Aug 2025 end on 27 Feb 2026.

    Parameters
    ----------
    start
        The first day of the period (day D).
    period
        The period's length, in weeks or in months (years as 12 months).

    Returns
    -------
    date
        The period's last day (inclusive).
    """
    if period.weeks:
        same_date_later = start + timedelta(weeks=period.weeks)
    else:
        month_index = start.year * 12 + start.month - 1 + period.months
        year, month = divmod(month_index, 12)
        last_day = calendar.monthrange(year, month + 1)[1]
        same_date_later = date(year, month + 1, min(start.day, last_day))
    return same_date_later - timedelta(days=1)


@dataclass(frozen=True)
class Lifecycle:
    """The statutory facts of one asset: its status and the dates that drive its deadlines."""

    status: Status = "recorded"
    nominated_on: date | None = None
    nominating_group: str | None = None
    decided_on: date | None = None
    listed_on: date | None = None
    review_requested_on: date | None = None
    notice_received_on: date | None = None
    bid_requested_on: date | None = None
    interest_group: str | None = None
    disposed_on: date | None = None
    removed_on: date | None = None
    last_step_on: date | None = None


@dataclass(frozen=True)
class Deadline:
    """A statutory date that matters in the asset's current status."""

    kind: str
    period: str
    begins: date
    ends: date
    authority: str


@dataclass(frozen=True)
class StepRequest:
    """What a caller says about a step: when it took effect and the facts it needs."""

    effective_on: date | None = None
    group: str | None = None
    reason: str | None = None
    exemption: str | None = None
    to_community_interest_group: bool = False


def _deadline(kind: str, start: date, period: Period) -> Deadline:
    """A deadline of ``period`` beginning with ``start``."""
    return Deadline(kind, period.name, start, period_end(start, period), period.authority)


def deadlines(life: Lifecycle) -> list[Deadline]:
    """Return the statutory dates that matter in the asset's current status, earliest first."""
    found: list[Deadline] = []
    status = life.status
    if status == "nominated" and life.nominated_on:
        found.append(_deadline("decision_due", life.nominated_on, NOMINATION_DECISION))
    if status in LISTED_FAMILY and life.listed_on:
        found.append(_deadline("listing_expires", life.listed_on, LISTING))
        if status == "listed":
            found.append(_deadline("review_request_due", life.listed_on, OWNER_REVIEW_REQUEST))
    if status == "under_review" and life.review_requested_on:
        found.append(_deadline("review_decision_due", life.review_requested_on, REVIEW_DECISION))
    notice = life.notice_received_on
    if notice and status in ("disposal_notified", "full_moratorium", "disposed"):
        if status == "disposal_notified":
            found.append(_deadline("interim_moratorium_ends", notice, INTERIM_MORATORIUM))
        if status == "full_moratorium":
            found.append(_deadline("full_moratorium_ends", notice, FULL_MORATORIUM))
        found.append(_deadline("protected_period_ends", notice, PROTECTED_PERIOD))
    return sorted(found, key=lambda d: (d.ends, d.kind))


def next_deadline(life: Lifecycle, on: date) -> Deadline | None:
    """The first deadline of the current status ending on or after ``on`` (None if none)."""
    return next((d for d in deadlines(life) if d.ends >= on), None)


def _listing_expired(life: Lifecycle, on: date) -> date | None:
    """The expiry date if the listing has expired by ``on``, else None."""
    if life.status in LISTED_FAMILY and life.listed_on:
        expires = period_end(life.listed_on, LISTING)
        if on > expires:
            return expires
    return None


def window_problem(life: Lifecycle, step: Step, on: date, request: StepRequest) -> str | None:
    """Why ``step`` may not take effect on ``on`` given the asset's dates (None if it may).

    Only the statutory windows are checked here; the status and the request's own fields are
    checked by :func:`apply`.
    """
    expired = _listing_expired(life, on)
    if expired and step != "remove":
        return f"the listing expired on {expired.isoformat()} (five years); it can only be removed"
    notice = life.notice_received_on
    if step == "request_review" and life.listed_on:
        due = period_end(life.listed_on, OWNER_REVIEW_REQUEST)
        if on > due:
            return (
                f"an owner's review had to be requested by {due.isoformat()} (8 weeks beginning "
                f"with the listing decision of {life.listed_on.isoformat()})"
            )
    if step == "request_to_bid" and notice:
        ends = period_end(notice, INTERIM_MORATORIUM)
        if on > ends:
            return (
                f"the interim moratorium ended on {ends.isoformat()} (6 weeks beginning with "
                f"the notice received {notice.isoformat()}); a request to be treated as a "
                "potential bidder is too late"
            )
    if step == "sell" and notice:
        protected = period_end(notice, PROTECTED_PERIOD)
        if on > protected:
            return (
                f"the protected period ended on {protected.isoformat()}: the notice of "
                f"{notice.isoformat()} has lapsed and a new notice is needed before a sale"
            )
        if not request.to_community_interest_group:
            period = FULL_MORATORIUM if life.status == "full_moratorium" else INTERIM_MORATORIUM
            ends = period_end(notice, period)
            if on <= ends:
                return (
                    f"the {period.name} runs until {ends.isoformat()}: before then the asset "
                    "may be sold only to a community interest group (s.95(5))"
                )
    return None


def allowed_steps(life: Lifecycle, on: date) -> list[Step]:
    """The steps the status allows and whose statutory windows are open on ``on``."""
    return [
        t.step
        for t in TRANSITIONS.values()
        if life.status in t.sources
        and window_problem(life, t.step, on, StepRequest(to_community_interest_group=True)) is None
    ]


def apply(life: Lifecycle, step: Step, request: StepRequest, on: date) -> Lifecycle:
    """Return the lifecycle after ``step``, or raise why it cannot be taken.

    Parameters
    ----------
    life
        The asset's lifecycle now.
    step
        The step to take.
    request
        When it took effect (default ``on``; never later than ``on`` nor earlier than the
        previous step) and what it needs (a group, a reason, an exemption).
    on
        Today (UTC), against which windows and future dates are checked.

    Raises
    ------
    IllegalTransition
        If the status does not allow the step (``allowed`` lists the steps it does).
    OutsideStatutoryWindow
        If a statutory period forbids the step on its effective date (``allowed`` as above).
    DateInFuture, InvalidInput
        If the effective date is after ``on`` or before the previous step, or a required fact
        (group, reason, exemption) is missing or unknown.
    """
    transition = TRANSITIONS[step]
    effective = request.effective_on or on
    if life.status not in transition.sources:
        raise IllegalTransition(
            f"an asset that is {life.status} cannot take the step {step!r}",
            allowed=list(allowed_steps(life, on)),
        )
    if effective > on:
        raise DateInFuture(
            f"the step cannot take effect on {effective.isoformat()}, after today "
            f"({on.isoformat()})",
            parameter="effective_on",
        )
    if life.last_step_on and effective < life.last_step_on:
        raise InvalidInput(
            f"the step cannot take effect on {effective.isoformat()}, before the previous "
            f"step ({life.last_step_on.isoformat()})",
            parameter="effective_on",
        )
    problem = window_problem(life, step, effective, request)
    if problem:
        raise OutsideStatutoryWindow(problem, allowed=list(allowed_steps(life, on)))
    _check_facts(step, request)
    return _after(life, step, request, effective)


def _check_facts(step: Step, request: StepRequest) -> None:
    """Raise InvalidInput if the request lacks what the step needs."""
    if step in ("nominate", "request_to_bid") and not (request.group or "").strip():
        raise InvalidInput(f"{step} needs the group's name", parameter="group")
    if step in ("decline", "remove", "overturn_review") and not (request.reason or "").strip():
        raise InvalidInput(f"{step} needs a reason", parameter="reason")
    if step == "record_exempt_disposal" and request.exemption not in EXEMPTIONS:
        raise InvalidInput(
            f"an exempt disposal needs one of {list(EXEMPTIONS)}", parameter="exemption"
        )


def _after(life: Lifecycle, step: Step, request: StepRequest, effective: date) -> Lifecycle:
    """The lifecycle after a checked step that took effect on ``effective``."""
    target = TRANSITIONS[step].target
    new = replace(life, status=target, last_step_on=effective)
    group = (request.group or "").strip() or None
    if step == "nominate":
        return replace(
            new,
            nominated_on=effective,
            nominating_group=group,
            decided_on=None,
            listed_on=None,
            review_requested_on=None,
            notice_received_on=None,
            bid_requested_on=None,
            interest_group=None,
            disposed_on=None,
            removed_on=None,
        )
    if step == "list":
        return replace(new, decided_on=effective, listed_on=effective)
    if step == "decline":
        return replace(new, decided_on=effective)
    if step == "request_review":
        return replace(new, review_requested_on=effective)
    if step == "notify_disposal":
        return replace(
            new,
            notice_received_on=effective,
            bid_requested_on=None,
            interest_group=None,
            disposed_on=None,
        )
    if step == "request_to_bid":
        return replace(new, bid_requested_on=effective, interest_group=group)
    if step in ("sell", "record_exempt_disposal"):
        return replace(new, disposed_on=effective)
    if step == "withdraw_notice":
        return replace(new, notice_received_on=None, bid_requested_on=None, interest_group=None)
    if step in ("remove", "overturn_review"):
        return replace(new, removed_on=effective)
    return new  # uphold_review: back to listed, dates unchanged


def check_nominating_body(body_type: str | None, local_electors: int | None) -> None:
    """Raise InvalidInput unless the body may nominate (2012 Regulations reg. 5)."""
    if body_type not in NOMINATING_BODY_TYPES:
        raise InvalidInput(
            f"nominating body type must be one of {list(NOMINATING_BODY_TYPES)}",
            parameter="body_type",
        )
    if body_type == "unincorporated_group" and (local_electors or 0) < (
        MIN_UNINCORPORATED_ELECTORS
    ):
        raise InvalidInput(
            "an unincorporated group needs at least 21 members on the local electoral "
            "register to nominate (2012 Regulations reg. 5)",
            parameter="local_electors",
        )
