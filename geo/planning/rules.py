"""Neighbourhood planning: the statutory lifecycles of areas, forums and plans (pure, no I/O).

Law modelled (England):

* Town and Country Planning Act 1990 ("the 1990 Act") ss.61F (neighbourhood forums) and 61G
  (neighbourhood areas), as inserted by the Localism Act 2011 Sch. 9, and Sch. 4B (the
  process for neighbourhood development orders, applied to plans by s.38A of the Planning and
  Compulsory Purchase Act 2004, "the 2004 Act"); s.38A(4)-(6) and s.38B(2) of the 2004 Act.
* The Neighbourhood Planning (General) Regulations 2012 (SI 2012/637, "the 2012
  Regulations") as amended by SI 2015/20, SI 2016/873 and SI 2017/1243: regs 5, 5A, 6, 6A
  (areas), 8, 9, 9A, 10 (forums), 14, 15, 16, 17, 17A, 18, 18A, 19 (plans).

Every statutory date is computed by one function, :func:`statutory_date`, from a
:class:`Period` that carries its counting rule and the provision that sets it:

``from_date``
    "not less than 6 weeks from the date on which [it] is first publicised" (regs 6(c), 9(d),
    14(a)(iv), 16(a)(v)): the last day for representations is the same weekday 6 weeks after
    the day of publicity (publicised Monday 5 Jan: representations until Monday 16 Feb).
``from_day_after``
    "the date N weeks from the date immediately following that on which ..." (regs 6A(2),
    9A(2), 17A(2), 18A(1)): the deadline is N weeks after the day after the event
    (publicised Monday 5 Jan, 13 weeks: decision due Tuesday 7 April).
``beginning_with``
    "the period of five years beginning with the day on which it is made" (s.61F(8)): the
    period includes that day, so it ends the day before the same date five years later
    (months clamp to the month's end, as in :mod:`geo.rights`).

Simplifications (said, not hidden)
----------------------------------
* The determination deadlines of regs 6A and 9A are modelled with their three cases: whole
  parish (reg 5A: the authority must designate; regs 6 and 6A do not apply, so there is no
  publicity period nor deadline), an area across two or more local planning authorities
  (20 weeks) and every other area (13 weeks). Designating a different area than applied for
  (s.61G(5)) is not modelled: the officer refuses and a new application is made.
* Reg 6A(3) (the consequence of an authority missing the reg 6A date) and reg 9A's exception
  for competing forum applications are not enforced, for these reasons. Their operative text
  could not be read while this was built: legislation.gov.uk's annotations confirm that both
  were inserted by SI 2016/873 (regs 2(4)(b) and 2(5), in force 1 October 2016), but the
  searches (the regulation pages of uksi/2012/637, SI 2016/873, the planning practice
  guidance) returned the text of regs 5, 5A, 6 and 9, not of 6A(3) or 9A. Enforcing a rule
  that was not read would mean inventing its exceptions. And Platoons records decisions an
  authority has taken, it does not take them: a refusal after the reg 6A date is still the
  authority's decision, so it is recorded, flagged ``decided_late`` (in the area, its history
  and the audit log) rather than refused, which would leave the register wrong about what
  the authority did. Reg 9A's exception cannot arise here: a forum application is refused
  while the area has a live one (the one-forum rule of s.61F(7)(a), applied at application
  rather than designation; stricter than the Act), so competing applications are never
  recorded side by side.
* Reg 17A's later dates (a decision differing from the examiner's, with a further 6 weeks
  for representations; a later date agreed with the qualifying body) are not modelled: the
  decision deadline shown is the ordinary 5 weeks, and a later decision is flagged late.
* The referendum's own timetable (the Neighbourhood Planning (Referendums) Regulations 2012)
  is not computed; the referendum date is recorded as it happened.
* A plan is modelled from its first draft to made (or failed, or withdrawn); modification
  proposals (2004 Act Sch. A2) and neighbourhood development orders are not.

Decisions before a statutory period has ended (designating before the last day for
representations, submitting before pre-submission consultation has run) are refused with the
date the period ends and the steps that are legal; decisions after their deadline are
allowed and flagged ``late``, because the authority must still decide.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any, Generic, Literal, TypeVar, get_args

from geo import rights
from geo.errors import DateInFuture, IllegalTransition, InvalidInput, OutsideStatutoryWindow
from geo.rights import Deadline

AreaKind = Literal["standard", "cross_authority", "whole_parish"]
ApplicantType = Literal["parish_council", "prospective_forum", "neighbourhood_group"]
AreaStatus = Literal["applied", "publicised", "designated", "refused", "withdrawn"]
AreaStep = Literal["publicise", "designate", "refuse", "withdraw"]
ForumStatus = Literal[
    "applied", "publicised", "designated", "refused", "withdrawn", "revoked", "expired"
]
ForumStep = Literal["publicise", "designate", "refuse", "withdraw", "revoke"]
PlanStatus = Literal[
    "draft",
    "pre_submission",
    "submitted",
    "publicised",
    "examination",
    "examiner_reported",
    "referendum_ordered",
    "referendum_passed",
    "made",
    "failed",
    "withdrawn",
]
PlanStep = Literal[
    "start_consultation",
    "submit",
    "publicise",
    "examine",
    "receive_report",
    "order_referendum",
    "refuse",
    "hold_referendum",
    "make",
    "withdraw",
]
Counting = Literal["from_date", "from_day_after", "beginning_with"]

AREA_KINDS: tuple[AreaKind, ...] = get_args(AreaKind)
APPLICANT_TYPES: tuple[ApplicantType, ...] = get_args(ApplicantType)
AREA_STATUSES: tuple[AreaStatus, ...] = get_args(AreaStatus)
AREA_STEPS: tuple[AreaStep, ...] = get_args(AreaStep)
FORUM_STATUSES: tuple[ForumStatus, ...] = get_args(ForumStatus)
FORUM_STEPS: tuple[ForumStep, ...] = get_args(ForumStep)
PLAN_STATUSES: tuple[PlanStatus, ...] = get_args(PlanStatus)
PLAN_STEPS: tuple[PlanStep, ...] = get_args(PlanStep)

# s.61F(5)(b)/(c): open membership, at least 21 individuals who live or work in the area or
# are its elected members, and a written constitution.
MIN_FORUM_MEMBERS = 21


@dataclass(frozen=True)
class Period:
    """A statutory period: its length, how it is counted, and the provision that sets it."""

    name: str
    counting: Counting
    weeks: int = 0
    months: int = 0
    authority: str = ""


def _application_periods(what: str, regs: tuple[str, str, str]) -> tuple[Period, Period, Period]:
    """The periods of an application for designation: at least 6 weeks of representations
    from its first publicity, then a decision within 13 weeks of the day after it, 20 for an
    area in two or more authorities' areas (``regs``: the three provisions that set them)."""
    application = f"the {what} application"
    return (
        Period(f"representations on {application}", "from_date", weeks=6, authority=regs[0]),
        Period(f"decision on {application}", "from_day_after", weeks=13, authority=regs[1]),
        Period(
            f"decision on {application} (two or more authorities)",
            "from_day_after",
            weeks=20,
            authority=regs[2],
        ),
    )


AREA_PERIODS = _application_periods(
    "area", ("2012 Regs reg 6(c)", "2012 Regs reg 6A(2)", "2012 Regs reg 6A(2)(a)")
)
FORUM_PERIODS = _application_periods(
    "forum", ("2012 Regs reg 9(d)", "2012 Regs reg 9A", "2012 Regs reg 9A")
)
AREA_REPRESENTATIONS, AREA_DECISION, AREA_DECISION_CROSS = AREA_PERIODS
FORUM_REPRESENTATIONS, FORUM_DECISION, FORUM_DECISION_CROSS = FORUM_PERIODS
FORUM_DESIGNATION = Period(
    "forum designation", "beginning_with", months=60, authority="1990 Act s.61F(8) (five years)"
)
PRE_SUBMISSION_CONSULTATION = Period(
    "pre-submission consultation", "from_date", weeks=6, authority="2012 Regs reg 14(a)(iv)"
)
SUBMISSION_PUBLICITY = Period(
    "representations on the submitted plan", "from_date", weeks=6, authority="2012 Regs reg 16"
)
EXAMINER_REPORT_DECISION = Period(
    "decision on the examiner's report",
    "from_day_after",
    weeks=5,
    authority="2012 Regs reg 17A(2)",
)
MAKING_THE_PLAN = Period(
    "making the plan after the referendum",
    "from_day_after",
    weeks=8,
    authority="2012 Regs reg 18A; 2004 Act s.38A(4)",
)


def statutory_date(start: date, period: Period) -> date:
    """Return the statutory date of ``period`` counted from ``start``: the one date function.

    ``from_date`` (regs 6, 9, 14, 16: "not less than 6 weeks from the date on which ... first
    publicised"): ``start`` + N weeks, the last day for representations.
    ``from_day_after`` (regs 6A, 9A, 17A, 18A: "the date N weeks from the date immediately
    following that on which ..."): ``start`` + 1 day + N weeks, the deadline.
    ``beginning_with`` (s.61F(8): "five years beginning with the day on which it is made"):
    the day before the same date N months later, the last day of the period, counted as the
    assets' periods "beginning with" a day are (:func:`geo.rights.period_end`).
    """
    if period.counting == "from_date":
        return start + timedelta(weeks=period.weeks)
    if period.counting == "from_day_after":
        return start + timedelta(days=1) + timedelta(weeks=period.weeks)
    return rights.period_end(start, rights.Period(period.name, months=period.months))


def _deadline(kind: str, start: date, period: Period) -> Deadline:
    """The deadline of ``period`` counted from ``start``."""
    return Deadline(kind, period.name, start, statutory_date(start, period), period.authority)


def next_deadline(found: list[Deadline], on: date) -> Deadline | None:
    """The first deadline ending on or after ``on``; else the last one passed (overdue)."""
    ahead = [d for d in found if d.ends >= on]
    if ahead:
        return min(ahead, key=lambda d: (d.ends, d.kind))
    return max(found, key=lambda d: (d.ends, d.kind)) if found else None


@dataclass(frozen=True)
class StepRequest:
    """What a caller says about a step: when it took effect and the facts it needs."""

    effective_on: date | None = None
    reason: str | None = None
    members: int | None = None
    members_confirmed_on: date | None = None
    open_membership: bool = False
    written_constitution: bool = False
    referendum_passed: bool | None = None


def _effective(request: StepRequest, on: date, last_step_on: date | None) -> date:
    """The step's effective date: given or today; never after today nor before the last step."""
    effective = request.effective_on or on
    if effective > on:
        raise DateInFuture(
            f"the step cannot take effect on {effective.isoformat()}, after today "
            f"({on.isoformat()})",
            parameter="on",
        )
    if last_step_on and effective < last_step_on:
        raise InvalidInput(
            f"the step cannot take effect on {effective.isoformat()}, before the previous step "
            f"({last_step_on.isoformat()})",
            parameter="on",
        )
    return effective


def _need_reason(step: str, request: StepRequest) -> None:
    """Raise InvalidInput unless the request gives a reason."""
    if not (request.reason or "").strip():
        raise InvalidInput(f"{step} needs a reason", parameter="reason")


def _by_date(found: list[Deadline]) -> list[Deadline]:
    """Deadlines earliest first (by kind on the same day)."""
    return sorted(found, key=lambda d: (d.ends, d.kind))


def _late(found: list[Deadline], kinds: tuple[str, ...], effective: date) -> bool:
    """Whether a decision on ``effective`` comes after the first deadline of ``kinds``."""
    due = next((d for d in found if d.kind in kinds), None)
    return bool(due and effective > due.ends)


def _application_deadlines(
    publicised_on: date, cross_authority: bool, periods: tuple[Period, Period, Period]
) -> list[Deadline]:
    """An application's last day for representations and its decision date (``periods``:
    representations, decision, decision across two or more authorities)."""
    representations, decision, decision_cross = periods
    return [
        _deadline("representations_end", publicised_on, representations),
        _deadline("decision_due", publicised_on, decision_cross if cross_authority else decision),
    ]


def _representations_open(publicised_on: date, representations: Period, on: date) -> str | None:
    """Why the authority may not decide on ``on``: representations are still open (or None)."""
    ends = statutory_date(publicised_on, representations)
    if on > ends:
        return None
    provision = representations.authority.removeprefix("2012 Regs ")
    return (
        f"representations may be made until {ends.isoformat()} (6 weeks from the "
        f"publicity of {publicised_on.isoformat()}, {provision}): the authority may "
        f"decide from {(ends + timedelta(days=1)).isoformat()}"
    )


StepT = TypeVar("StepT", bound=str)
LifeT = TypeVar("LifeT", "AreaLife", "ForumLife", "PlanLife")


@dataclass(frozen=True)
class StepMachine(Generic[StepT, LifeT]):
    """One statutory lifecycle: the steps, the statuses each may follow and leads to, and why
    a step's statutory window is shut. Areas, forums and plans each have one; the checks
    every step makes (the status allows it, its date is not in the future nor before the last
    step, the window is open, a reason where one is needed) are made here once.
    """

    what: str
    transitions: Mapping[StepT, tuple[tuple[str, ...], str]]
    window_problem: Callable[[LifeT, StepT, date], str | None]
    needs_reason: frozenset[str]

    def allowed(self, life: LifeT, on: date) -> list[StepT]:
        """The steps the status allows and whose statutory windows are open on ``on``."""
        return [
            step
            for step, (sources, _) in self.transitions.items()
            if life.status in sources and self.window_problem(life, step, on) is None
        ]

    def begin(self, life: LifeT, step: StepT, request: StepRequest, on: date) -> LifeT:
        """The life in the step's target status as of its effective date, or why it cannot be.

        Raises
        ------
        IllegalTransition
            If the status does not allow the step (``allowed`` lists those it does).
        OutsideStatutoryWindow
            If the step is too early (``allowed`` as above; the detail names the date).
        DateInFuture, InvalidInput
            If the effective date is after today or before the previous step, or a step that
            needs a reason has none.
        """
        sources, target = self.transitions[step]
        if life.status not in sources:
            raise IllegalTransition(
                f"a {self.what} that is {life.status.replace('_', ' ')} cannot take the step "
                f"{step!r}",
                allowed=list(self.allowed(life, on)),
            )
        effective = _effective(request, on, life.last_step_on)
        problem = self.window_problem(life, step, effective)
        if problem:
            raise OutsideStatutoryWindow(problem, allowed=list(self.allowed(life, on)))
        if step in self.needs_reason:
            _need_reason(step, request)
        moved: dict[str, Any] = {"status": target, "last_step_on": effective}
        return replace(life, **moved)


# ---------------------------------------------------------------------------------------------
# Neighbourhood areas (1990 Act s.61G; 2012 Regs regs 5-7)


@dataclass(frozen=True)
class AreaLife:
    """The statutory facts of one area application."""

    kind: AreaKind
    status: AreaStatus = "applied"
    applied_on: date | None = None
    publicised_on: date | None = None
    decided_on: date | None = None
    decided_late: bool = False
    last_step_on: date | None = None


# step -> (statuses it may follow, status it leads to)
AREA_TRANSITIONS: dict[AreaStep, tuple[tuple[AreaStatus, ...], AreaStatus]] = {
    "publicise": (("applied",), "publicised"),
    "designate": (("applied", "publicised"), "designated"),
    "refuse": (("publicised",), "refused"),
    "withdraw": (("applied", "publicised"), "withdrawn"),
}


def area_kind(applicant_type: ApplicantType, whole_parish: bool, authorities: int) -> AreaKind:
    """The kind of area that sets its deadlines (reg 5A; reg 6A(2)(a): two or more authorities).

    A parish council applying for its whole parish is reg 5A's case even where the parish's
    districts differ, as long as it lies in one authority's area; an area in two or more
    local planning authorities' areas has 20 weeks; every other area 13.
    """
    if whole_parish and applicant_type != "parish_council":
        raise InvalidInput(
            "only a parish council applies for its whole parish (reg 5A)", parameter="whole_parish"
        )
    if authorities >= 2:
        return "cross_authority"
    return "whole_parish" if whole_parish else "standard"


def area_deadlines(life: AreaLife) -> list[Deadline]:
    """The statutory dates of an area application in its current status, earliest first."""
    found: list[Deadline] = []
    if life.status == "publicised" and life.publicised_on and life.kind != "whole_parish":
        cross = life.kind == "cross_authority"
        found += _application_deadlines(life.publicised_on, cross, AREA_PERIODS)
    return _by_date(found)


def area_window_problem(life: AreaLife, step: AreaStep, on: date) -> str | None:
    """Why ``step`` may not take effect on ``on`` given the application's kind and dates."""
    if life.kind == "whole_parish":
        if step == "publicise":
            return (
                "a parish council's application for its whole parish is not publicised for "
                "comment: regs 6 and 6A do not apply (reg 5A(3)); the authority must designate it"
            )
        if step == "refuse":
            return "the authority must designate a parish council's whole parish (reg 5A(2))"
        return None
    if step == "designate" and life.status == "applied":
        return "the application must first be publicised for representations (reg 6)"
    if step in ("designate", "refuse") and life.publicised_on:
        problem = _representations_open(life.publicised_on, AREA_PERIODS[0], on)
        if problem:
            return problem
    if step == "publicise" and life.applied_on and on < life.applied_on:
        return "an application cannot be publicised before it is received"
    return None


AREA_MACHINE: StepMachine[AreaStep, AreaLife] = StepMachine(
    "neighbourhood area application",
    AREA_TRANSITIONS,
    area_window_problem,
    frozenset({"refuse", "withdraw"}),
)


def area_allowed_steps(life: AreaLife, on: date) -> list[AreaStep]:
    """The steps the status allows and whose statutory windows are open on ``on``."""
    return AREA_MACHINE.allowed(life, on)


def apply_area_step(life: AreaLife, step: AreaStep, request: StepRequest, on: date) -> AreaLife:
    """Return the application after ``step``, or raise why it cannot be taken.

    Raises
    ------
    IllegalTransition, OutsideStatutoryWindow, DateInFuture, InvalidInput
        As :meth:`StepMachine.begin` says (a refusal or withdrawal needs a reason).
    """
    new = AREA_MACHINE.begin(life, step, request, on)
    effective = new.last_step_on or on
    if step == "publicise":
        return replace(new, publicised_on=effective)
    if step in ("designate", "refuse"):
        late = _late(area_deadlines(life), ("decision_due",), effective)
        return replace(new, decided_on=effective, decided_late=late)
    return new


# ---------------------------------------------------------------------------------------------
# Neighbourhood forums (1990 Act s.61F; 2012 Regs regs 8-12)


@dataclass(frozen=True)
class ForumLife:
    """The statutory facts of one forum application and designation."""

    cross_authority: bool = False
    status: ForumStatus = "applied"
    applied_on: date | None = None
    publicised_on: date | None = None
    designated_on: date | None = None
    decided_on: date | None = None
    decided_late: bool = False
    ended_on: date | None = None
    last_step_on: date | None = None


FORUM_TRANSITIONS: dict[ForumStep, tuple[tuple[ForumStatus, ...], ForumStatus]] = {
    "publicise": (("applied",), "publicised"),
    "designate": (("publicised",), "designated"),
    "refuse": (("publicised",), "refused"),
    "withdraw": (("applied", "publicised", "designated"), "withdrawn"),
    "revoke": (("designated",), "revoked"),
}


def forum_expiry(designated_on: date) -> date:
    """The last day of a forum's designation: five years beginning with the day (s.61F(8))."""
    return statutory_date(designated_on, FORUM_DESIGNATION)


def forum_status_on(life: ForumLife, on: date) -> ForumStatus:
    """The status on ``on``: a designation past its five years has expired (s.61F(8))."""
    if life.status == "designated" and life.designated_on and on > forum_expiry(life.designated_on):
        return "expired"
    return life.status


def forum_deadlines(life: ForumLife) -> list[Deadline]:
    """The statutory dates of a forum in its current status, earliest first."""
    found: list[Deadline] = []
    if life.status == "publicised" and life.publicised_on:
        found += _application_deadlines(life.publicised_on, life.cross_authority, FORUM_PERIODS)
    if life.status == "designated" and life.designated_on:
        found.append(_deadline("designation_expires", life.designated_on, FORUM_DESIGNATION))
    return _by_date(found)


def forum_conditions_problem(request: StepRequest) -> str | None:
    """Why the forum does not meet s.61F(5) as attested (None if it does)."""
    if request.members is None or request.members < MIN_FORUM_MEMBERS:
        return (
            f"a neighbourhood forum needs at least {MIN_FORUM_MEMBERS} individual members who "
            f"live or work in the area or are its elected councillors (s.61F(5)(b)); "
            f"{request.members or 0} recorded"
        )
    if request.members_confirmed_on is None:
        return "give the date the membership count was confirmed (members_confirmed_on)"
    if not request.open_membership:
        return (
            "a forum's membership must be open to those who live or work in the area (s.61F(5)(b))"
        )
    if not request.written_constitution:
        return "a forum needs a written constitution (s.61F(5)(c))"
    return None


def forum_window_problem(life: ForumLife, step: ForumStep, on: date) -> str | None:
    """Why ``step`` may not take effect on ``on`` given the forum's dates."""
    if life.status == "designated" and life.designated_on:
        expires = forum_expiry(life.designated_on)
        if on > expires:
            return (
                f"the designation expired on {expires.isoformat()} (five years, s.61F(8)); a "
                "new forum application is needed"
            )
    if step in ("designate", "refuse") and life.publicised_on:
        problem = _representations_open(life.publicised_on, FORUM_PERIODS[0], on)
        if problem:
            return problem
    return None


FORUM_MACHINE: StepMachine[ForumStep, ForumLife] = StepMachine(
    "neighbourhood forum",
    FORUM_TRANSITIONS,
    forum_window_problem,
    frozenset({"refuse", "revoke", "withdraw"}),
)


def forum_allowed_steps(life: ForumLife, on: date) -> list[ForumStep]:
    """The steps the status allows and whose statutory windows are open on ``on``."""
    return FORUM_MACHINE.allowed(life, on)


def apply_forum_step(life: ForumLife, step: ForumStep, request: StepRequest, on: date) -> ForumLife:
    """Return the forum after ``step``, or raise why it cannot be taken.

    Designation needs the s.61F(5) conditions attested in the request (members, the date
    they were confirmed, open membership, a written constitution). ``revoke`` is the
    authority's withdrawal of a designation (s.61F(10)); ``withdraw`` is the applicant's
    (before designation) or the forum's own (after, reg 12).

    Raises
    ------
    IllegalTransition, OutsideStatutoryWindow, DateInFuture, InvalidInput
        As :meth:`StepMachine.begin` says; InvalidInput also when the conditions are not met.
    """
    new = FORUM_MACHINE.begin(life, step, request, on)
    effective = new.last_step_on or on
    if step == "designate":
        condition = forum_conditions_problem(request)
        if condition:
            raise InvalidInput(condition, parameter="members")
        if request.members_confirmed_on and request.members_confirmed_on > effective:
            raise DateInFuture(
                "the membership count cannot be confirmed after the designation",
                parameter="members_confirmed_on",
            )
    if step == "publicise":
        return replace(new, publicised_on=effective)
    if step in ("designate", "refuse"):
        late = _late(forum_deadlines(life), ("decision_due",), effective)
        new = replace(new, decided_on=effective, decided_late=late)
        return replace(new, designated_on=effective) if step == "designate" else new
    if step in ("withdraw", "revoke"):
        return replace(new, ended_on=effective)
    return new


# ---------------------------------------------------------------------------------------------
# Neighbourhood development plans (2004 Act s.38A; 1990 Act Sch. 4B; 2012 Regs regs 14-20)


@dataclass(frozen=True)
class PlanLife:
    """The statutory facts of one plan."""

    status: PlanStatus = "draft"
    consultation_started_on: date | None = None
    submitted_on: date | None = None
    publicised_on: date | None = None
    examination_started_on: date | None = None
    report_received_on: date | None = None
    referendum_ordered_on: date | None = None
    referendum_on: date | None = None
    made_on: date | None = None
    ended_on: date | None = None
    decided_late: bool = False
    last_step_on: date | None = None


PLAN_TRANSITIONS: dict[PlanStep, tuple[tuple[PlanStatus, ...], PlanStatus]] = {
    "start_consultation": (("draft",), "pre_submission"),
    "submit": (("pre_submission",), "submitted"),
    "publicise": (("submitted",), "publicised"),
    "examine": (("publicised",), "examination"),
    "receive_report": (("examination",), "examiner_reported"),
    "order_referendum": (("examiner_reported",), "referendum_ordered"),
    "refuse": (("submitted", "publicised", "examination", "examiner_reported"), "failed"),
    "hold_referendum": (("referendum_ordered",), "referendum_passed"),
    "make": (("referendum_passed",), "made"),
    "withdraw": (
        ("draft", "pre_submission", "submitted", "publicised", "examination", "examiner_reported"),
        "withdrawn",
    ),
}


def plan_deadlines(life: PlanLife) -> list[Deadline]:
    """The statutory dates of a plan in its current status, earliest first."""
    found: list[Deadline] = []
    if life.status == "pre_submission" and life.consultation_started_on:
        found.append(
            _deadline(
                "consultation_ends", life.consultation_started_on, PRE_SUBMISSION_CONSULTATION
            )
        )
    if life.status == "publicised" and life.publicised_on:
        found.append(_deadline("representations_end", life.publicised_on, SUBMISSION_PUBLICITY))
    if life.status == "examiner_reported" and life.report_received_on:
        found.append(_deadline("decision_due", life.report_received_on, EXAMINER_REPORT_DECISION))
    if life.status == "referendum_passed" and life.referendum_on:
        found.append(_deadline("making_due", life.referendum_on, MAKING_THE_PLAN))
    return _by_date(found)


def plan_window_problem(life: PlanLife, step: PlanStep, on: date) -> str | None:
    """Why ``step`` may not take effect on ``on`` given the plan's dates."""
    if step == "submit" and life.consultation_started_on:
        ends = statutory_date(life.consultation_started_on, PRE_SUBMISSION_CONSULTATION)
        if on <= ends:
            return (
                f"pre-submission consultation runs until {ends.isoformat()} (6 weeks from "
                f"{life.consultation_started_on.isoformat()}, reg 14(a)(iv)): the plan may be "
                f"submitted from {(ends + timedelta(days=1)).isoformat()}"
            )
    if step == "examine" and life.publicised_on:
        ends = statutory_date(life.publicised_on, SUBMISSION_PUBLICITY)
        if on <= ends:
            return (
                f"representations on the submitted plan may be made until {ends.isoformat()} "
                f"(6 weeks from {life.publicised_on.isoformat()}, reg 16): it may be sent for "
                f"examination from {(ends + timedelta(days=1)).isoformat()} (reg 17)"
            )
    return None


PLAN_MACHINE: StepMachine[PlanStep, PlanLife] = StepMachine(
    "neighbourhood plan", PLAN_TRANSITIONS, plan_window_problem, frozenset({"refuse", "withdraw"})
)
# The date each step records, in the field of that name.
PLAN_STEP_DATES: dict[str, str] = {
    "start_consultation": "consultation_started_on",
    "submit": "submitted_on",
    "publicise": "publicised_on",
    "examine": "examination_started_on",
    "receive_report": "report_received_on",
    "order_referendum": "referendum_ordered_on",
    "hold_referendum": "referendum_on",
    "make": "made_on",
}


def plan_allowed_steps(life: PlanLife, on: date) -> list[PlanStep]:
    """The steps the status allows and whose statutory windows are open on ``on``."""
    return PLAN_MACHINE.allowed(life, on)


def apply_plan_step(life: PlanLife, step: PlanStep, request: StepRequest, on: date) -> PlanLife:
    """Return the plan after ``step``, or raise why it cannot be taken.

    ``hold_referendum`` records the referendum's day (``on``) and result
    (``referendum_passed``): a majority leads to ``referendum_passed`` and the duty to make
    the plan (s.38A(4)), otherwise the plan fails. ``refuse`` is the authority's refusal
    (Sch. 4B paras 5-6 at submission; para 12 after the examiner's report).

    Raises
    ------
    IllegalTransition, OutsideStatutoryWindow, DateInFuture, InvalidInput
        As :meth:`StepMachine.begin` says; InvalidInput also for a referendum without a result.
    """
    new = PLAN_MACHINE.begin(life, step, request, on)
    effective = new.last_step_on or on
    if step == "hold_referendum" and request.referendum_passed is None:
        raise InvalidInput(
            "hold_referendum needs the result: referendum_passed true or false",
            parameter="referendum_passed",
        )
    late = _late(plan_deadlines(life), ("decision_due", "making_due"), effective)
    if step in PLAN_STEP_DATES:
        dates: dict[str, Any] = {PLAN_STEP_DATES[step]: effective}
        new = replace(new, **dates)
    if step in ("order_referendum", "make"):
        new = replace(new, decided_late=late)
    if step == "refuse":
        new = replace(new, ended_on=effective, decided_late=late)
    if step == "hold_referendum" and not request.referendum_passed:
        new = replace(new, status="failed", ended_on=effective)
    if step == "withdraw":
        new = replace(new, ended_on=effective)
    return new
