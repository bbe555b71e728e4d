"""The neighbourhood planning state machines, with every statutory date worked by hand."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from typing import Any

import pytest

from geo.errors import DateInFuture, IllegalTransition, InvalidInput, OutsideStatutoryWindow
from geo.planning import rules
from geo.planning.rules import AreaLife, ForumLife, PlanLife, StepRequest

DAY = timedelta(days=1)
REASON = StepRequest(reason="the area is not coherent")
FORUM_OK = StepRequest(
    members=21,
    members_confirmed_on=date(2026, 4, 1),
    open_membership=True,
    written_constitution=True,
)


def test_statutory_date_counts_each_way() -> None:
    # Publicised Monday 5 January 2026.
    assert rules.statutory_date(date(2026, 1, 5), rules.AREA_REPRESENTATIONS) == date(2026, 2, 16)
    assert rules.statutory_date(date(2026, 1, 5), rules.AREA_DECISION) == date(2026, 4, 7)
    assert rules.statutory_date(date(2026, 1, 5), rules.AREA_DECISION_CROSS) == date(2026, 5, 26)
    # Five years beginning with 1 May 2026 end on 30 April 2031; with 29 Feb 2028, 27 Feb 2033.
    assert rules.forum_expiry(date(2026, 5, 1)) == date(2031, 4, 30)
    assert rules.forum_expiry(date(2028, 2, 29)) == date(2033, 2, 27)


def _area(kind: rules.AreaKind, on: date) -> AreaLife:
    """An application received and (unless whole-parish) publicised on ``on``."""
    life = AreaLife(kind=kind, applied_on=on, last_step_on=on)
    if kind == "whole_parish":
        return life
    return rules.apply_area_step(life, "publicise", StepRequest(), on)


@pytest.mark.parametrize(
    ("kind", "decision_due"),
    [("standard", date(2026, 4, 7)), ("cross_authority", date(2026, 5, 26))],
)
def test_area_walk_at_each_boundary_day(kind: rules.AreaKind, decision_due: date) -> None:
    publicised = date(2026, 1, 5)
    life = _area(kind, publicised)
    deadlines = {d.kind: d.ends for d in rules.area_deadlines(life)}
    assert deadlines == {"representations_end": date(2026, 2, 16), "decision_due": decision_due}
    # On the last day for representations the authority may not decide ...
    with pytest.raises(OutsideStatutoryWindow) as early:
        rules.apply_area_step(life, "designate", StepRequest(), date(2026, 2, 16))
    assert "2026-02-16" in early.value.message and "2026-02-17" in early.value.message
    assert early.value.allowed == ["withdraw"]
    with pytest.raises(OutsideStatutoryWindow):
        rules.apply_area_step(life, "refuse", REASON, date(2026, 2, 16))
    # ... the next day it may.
    assert rules.area_allowed_steps(life, date(2026, 2, 17)) == ["designate", "refuse", "withdraw"]
    on_time = rules.apply_area_step(life, "designate", StepRequest(), decision_due)
    assert on_time.status == "designated" and not on_time.decided_late
    late = rules.apply_area_step(life, "designate", StepRequest(), decision_due + DAY)
    assert late.status == "designated" and late.decided_late
    # The next deadline is always known: ahead, or the overdue one.
    found = rules.area_deadlines(life)
    assert rules.next_deadline(found, date(2026, 2, 17)).kind == "decision_due"  # type: ignore[union-attr]
    assert rules.next_deadline(found, decision_due + DAY).ends == decision_due  # type: ignore[union-attr]


def test_whole_parish_is_designated_without_publicity() -> None:
    applied = date(2026, 3, 2)
    life = _area("whole_parish", applied)
    assert rules.area_deadlines(life) == []
    assert rules.area_allowed_steps(life, applied) == ["designate", "withdraw"]
    with pytest.raises(OutsideStatutoryWindow, match="reg 5A"):
        rules.apply_area_step(life, "publicise", StepRequest(), applied)
    designated = rules.apply_area_step(life, "designate", StepRequest(), applied)
    assert designated.status == "designated" and designated.decided_on == applied


def test_area_kind_rules() -> None:
    assert rules.area_kind("parish_council", True, 1) == "whole_parish"
    assert rules.area_kind("parish_council", False, 1) == "standard"
    assert rules.area_kind("prospective_forum", False, 2) == "cross_authority"
    with pytest.raises(InvalidInput):
        rules.area_kind("prospective_forum", True, 1)


def test_a_standard_area_must_be_publicised_before_designation() -> None:
    life = AreaLife(kind="standard", applied_on=date(2026, 1, 5))
    with pytest.raises(OutsideStatutoryWindow, match="publicised"):
        rules.apply_area_step(life, "designate", StepRequest(), date(2026, 6, 1))


def test_dates_in_the_future_or_before_the_last_step_are_refused() -> None:
    life = _area("standard", date(2026, 1, 5))
    with pytest.raises(DateInFuture):
        rules.apply_area_step(
            life, "designate", StepRequest(effective_on=date(2026, 5, 2)), date(2026, 5, 1)
        )
    with pytest.raises(InvalidInput, match="before the previous step"):
        rules.apply_area_step(
            life,
            "withdraw",
            StepRequest(effective_on=date(2026, 1, 4), reason="x"),
            date(2026, 5, 1),
        )
    with pytest.raises(InvalidInput, match="reason"):
        rules.apply_area_step(life, "refuse", StepRequest(), date(2026, 5, 1))


def test_forum_walk_at_each_boundary_day() -> None:
    life = ForumLife(applied_on=date(2026, 2, 20), last_step_on=date(2026, 2, 20))
    life = rules.apply_forum_step(life, "publicise", StepRequest(), date(2026, 3, 2))
    assert {d.kind: d.ends for d in rules.forum_deadlines(life)} == {
        "representations_end": date(2026, 4, 13),
        "decision_due": date(2026, 6, 2),
    }
    cross = replace(life, cross_authority=True)
    assert {d.kind: d.ends for d in rules.forum_deadlines(cross)}["decision_due"] == date(
        2026, 7, 21
    )
    with pytest.raises(OutsideStatutoryWindow, match="2026-04-13"):
        rules.apply_forum_step(life, "designate", FORUM_OK, date(2026, 4, 13))
    twenty = replace(FORUM_OK, members=20)
    with pytest.raises(InvalidInput, match="at least 21"):
        rules.apply_forum_step(life, "designate", twenty, date(2026, 5, 1))
    with pytest.raises(InvalidInput, match="constitution"):
        rules.apply_forum_step(
            life, "designate", replace(FORUM_OK, written_constitution=False), date(2026, 5, 1)
        )
    with pytest.raises(InvalidInput, match="open"):
        rules.apply_forum_step(
            life, "designate", replace(FORUM_OK, open_membership=False), date(2026, 5, 1)
        )
    forum = rules.apply_forum_step(life, "designate", FORUM_OK, date(2026, 5, 1))
    assert forum.designated_on == date(2026, 5, 1) and not forum.decided_late
    assert [d.ends for d in rules.forum_deadlines(forum)] == [date(2031, 4, 30)]
    assert rules.forum_status_on(forum, date(2031, 4, 30)) == "designated"
    assert rules.forum_status_on(forum, date(2031, 5, 1)) == "expired"
    assert rules.forum_allowed_steps(forum, date(2031, 5, 1)) == []
    late = rules.apply_forum_step(life, "designate", FORUM_OK, date(2026, 6, 3))
    assert late.decided_late


def test_plan_walk_at_each_boundary_day() -> None:
    life = PlanLife(last_step_on=date(2026, 5, 1))
    life = rules.apply_plan_step(life, "start_consultation", StepRequest(), date(2026, 6, 1))
    assert [(d.kind, d.ends) for d in rules.plan_deadlines(life)] == [
        ("consultation_ends", date(2026, 7, 13))
    ]
    with pytest.raises(OutsideStatutoryWindow, match="2026-07-14"):
        rules.apply_plan_step(life, "submit", StepRequest(), date(2026, 7, 13))
    life = rules.apply_plan_step(life, "submit", StepRequest(), date(2026, 7, 14))
    life = rules.apply_plan_step(life, "publicise", StepRequest(), date(2026, 7, 20))
    assert rules.plan_deadlines(life)[0].ends == date(2026, 8, 31)
    with pytest.raises(OutsideStatutoryWindow, match="reg 16"):
        rules.apply_plan_step(life, "examine", StepRequest(), date(2026, 8, 31))
    life = rules.apply_plan_step(life, "examine", StepRequest(), date(2026, 9, 1))
    life = rules.apply_plan_step(life, "receive_report", StepRequest(), date(2026, 11, 2))
    assert rules.plan_deadlines(life)[0].ends == date(2026, 12, 8)  # 5 weeks from 3 Nov
    ordered = rules.apply_plan_step(life, "order_referendum", StepRequest(), date(2026, 12, 8))
    assert not ordered.decided_late
    assert rules.apply_plan_step(
        life, "order_referendum", StepRequest(), date(2026, 12, 9)
    ).decided_late
    with pytest.raises(InvalidInput, match="result"):
        rules.apply_plan_step(ordered, "hold_referendum", StepRequest(), date(2027, 3, 4))
    passed = rules.apply_plan_step(
        ordered, "hold_referendum", StepRequest(referendum_passed=True), date(2027, 3, 4)
    )
    assert passed.status == "referendum_passed"
    assert rules.plan_deadlines(passed)[0].ends == date(2027, 4, 30)  # 8 weeks from 5 March
    made = rules.apply_plan_step(passed, "make", StepRequest(), date(2027, 4, 30))
    assert made.status == "made" and not made.decided_late
    assert rules.apply_plan_step(passed, "make", StepRequest(), date(2027, 5, 1)).decided_late
    lost = rules.apply_plan_step(
        ordered, "hold_referendum", StepRequest(referendum_passed=False), date(2027, 3, 4)
    )
    assert lost.status == "failed" and lost.ended_on == date(2027, 3, 4)


# Each lifecycle: its statuses, the function taking a step, and a request giving every fact a
# step may need (so that only the status can refuse it).
MACHINES: dict[str, tuple[Any, ...]] = {
    "area": (rules.AREA_MACHINE, rules.AREA_STATUSES, rules.apply_area_step, REASON),
    "forum": (
        rules.FORUM_MACHINE,
        rules.FORUM_STATUSES,
        rules.apply_forum_step,
        replace(FORUM_OK, reason="r"),
    ),
    "plan": (
        rules.PLAN_MACHINE,
        rules.PLAN_STATUSES,
        rules.apply_plan_step,
        StepRequest(reason="r", referendum_passed=True),
    ),
}
ILLEGAL_STEPS = [
    (entity, status, step)
    for entity, (lifecycle, statuses, _, _) in MACHINES.items()
    for step, (sources, _) in lifecycle.transitions.items()
    for status in statuses
    if status not in sources
]


def _life_in(entity: str, status: str) -> AreaLife | ForumLife | PlanLife:
    """An area, forum or plan in ``status``, with the dates that status implies."""
    if entity == "area":
        return AreaLife(
            kind="standard",
            status=status,  # type: ignore[arg-type]
            applied_on=date(2026, 1, 5),
            publicised_on=date(2026, 1, 5),
        )
    if entity == "forum":
        return ForumLife(
            status=status,  # type: ignore[arg-type]
            applied_on=date(2026, 1, 5),
            publicised_on=date(2026, 1, 5),
            designated_on=date(2026, 3, 1),
        )
    return PlanLife(status=status)  # type: ignore[arg-type]


@pytest.mark.parametrize(("entity", "status", "step"), ILLEGAL_STEPS)
def test_every_illegal_step_from_every_state(entity: str, status: str, step: str) -> None:
    lifecycle, _, apply_step, request = MACHINES[entity]
    life = _life_in(entity, status)
    with pytest.raises(IllegalTransition) as refused:
        apply_step(life, step, request, date(2026, 6, 1))
    assert step not in refused.value.allowed
    assert refused.value.allowed == lifecycle.allowed(life, date(2026, 6, 1))
