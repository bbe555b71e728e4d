"""The statutory lifecycle: the date rule, every transition, and every statutory window."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest

from geo import rights
from geo.errors import DateInFuture, IllegalTransition, InvalidInput, OutsideStatutoryWindow
from geo.rights import Lifecycle, StepRequest

DAY = timedelta(days=1)


@pytest.mark.parametrize(
    ("start", "period", "end"),
    [
        # Weeks: 8 weeks beginning with Monday 6 Jan 2025 end on Sunday 2 Mar 2025.
        (date(2025, 1, 6), rights.NOMINATION_DECISION, date(2025, 3, 2)),
        (date(2025, 12, 29), rights.INTERIM_MORATORIUM, date(2026, 2, 8)),
        (date(2024, 2, 1), rights.INTERIM_MORATORIUM, date(2024, 3, 13)),  # through 29 Feb
        # Months: the day before the same date N months later.
        (date(2025, 3, 15), rights.FULL_MORATORIUM, date(2025, 9, 14)),
        (date(2025, 1, 1), rights.FULL_MORATORIUM, date(2025, 6, 30)),
        # Month ends clamp: 31 Aug + 6 months = 28 Feb (29 Feb in a leap year), less a day.
        (date(2025, 8, 31), rights.FULL_MORATORIUM, date(2026, 2, 27)),
        (date(2023, 8, 31), rights.FULL_MORATORIUM, date(2024, 2, 28)),
        (date(2025, 8, 30), rights.FULL_MORATORIUM, date(2026, 2, 27)),
        (date(2025, 8, 29), rights.FULL_MORATORIUM, date(2026, 2, 27)),
        (date(2025, 8, 28), rights.FULL_MORATORIUM, date(2026, 2, 27)),
        (date(2025, 8, 27), rights.FULL_MORATORIUM, date(2026, 2, 26)),
        (date(2025, 10, 31), rights.PROTECTED_PERIOD, date(2027, 4, 29)),  # 30 Apr less a day
        (date(2026, 8, 31), rights.PROTECTED_PERIOD, date(2028, 2, 28)),  # 29 Feb 2028 less 1
        # Years as 60 months: 29 Feb + 5 years = 28 Feb, less a day.
        (date(2024, 2, 29), rights.LISTING, date(2029, 2, 27)),
        (date(2025, 2, 24), rights.LISTING, date(2030, 2, 23)),
        (date(2025, 12, 31), rights.LISTING, date(2030, 12, 30)),
    ],
)
def test_period_end(start: date, period: rights.Period, end: date) -> None:
    assert rights.period_end(start, period) == end


def test_every_status_and_step_is_in_the_table() -> None:
    targets = {t.target for t in rights.TRANSITIONS.values()}
    sources = {s for t in rights.TRANSITIONS.values() for s in t.sources}
    assert set(rights.TRANSITIONS) == set(rights.STEPS)
    assert targets | sources == set(rights.STATUSES) - set()  # every status reachable/left
    assert "recorded" not in targets and "recorded" in sources


# A lifecycle in each status, with dates such that every window is open on ON.
ON = date(2026, 3, 2)
LIVES: dict[str, Lifecycle] = {
    "recorded": Lifecycle(),
    "nominated": Lifecycle("nominated", nominated_on=ON - 10 * DAY, last_step_on=ON - 10 * DAY),
    "listed": Lifecycle("listed", listed_on=ON - 5 * DAY, last_step_on=ON - 5 * DAY),
    "not_listed": Lifecycle("not_listed", decided_on=ON - 5 * DAY, last_step_on=ON - 5 * DAY),
    "under_review": Lifecycle(
        "under_review", listed_on=ON - 20 * DAY, review_requested_on=ON - DAY, last_step_on=ON
    ),
    "disposal_notified": Lifecycle(
        "disposal_notified", listed_on=ON - 400 * DAY, notice_received_on=ON - DAY
    ),
    "full_moratorium": Lifecycle(
        "full_moratorium", listed_on=ON - 400 * DAY, notice_received_on=ON - 10 * DAY
    ),
    "disposed": Lifecycle("disposed", listed_on=ON - 900 * DAY, notice_received_on=ON - 600 * DAY),
    "removed": Lifecycle("removed", removed_on=ON - DAY, last_step_on=ON - DAY),
}
FULL = StepRequest(
    group="Friends", reason="because", exemption="gift", to_community_interest_group=True
)


@pytest.mark.parametrize(
    ("status", "step"),
    [
        (s, step)
        for s in rights.STATUSES
        for step in rights.STEPS
        if s not in rights.TRANSITIONS[step].sources
    ],
)
def test_every_illegal_transition_is_refused_with_the_allowed_steps(status: str, step) -> None:
    life = LIVES[status]
    with pytest.raises(IllegalTransition) as caught:
        rights.apply(life, step, FULL, ON)
    assert caught.value.allowed == rights.allowed_steps(life, ON)
    for allowed in caught.value.allowed:
        assert status in rights.TRANSITIONS[allowed].sources


@pytest.mark.parametrize(
    ("status", "step"),
    [(s, t.step) for t in rights.TRANSITIONS.values() for s in t.sources],
)
def test_every_legal_transition_leads_to_its_target(status: str, step) -> None:
    after = rights.apply(LIVES[status], step, FULL, ON)
    assert after.status == rights.TRANSITIONS[step].target
    assert after.last_step_on == ON


@pytest.mark.parametrize("step", ["nominate", "request_to_bid"])
def test_group_steps_need_a_group(step) -> None:
    status = rights.TRANSITIONS[step].sources[0]
    with pytest.raises(InvalidInput, match="group"):
        rights.apply(LIVES[status], step, StepRequest(group=" "), ON)


@pytest.mark.parametrize("step", ["decline", "remove", "overturn_review"])
def test_refusals_and_removals_need_a_reason(step) -> None:
    status = rights.TRANSITIONS[step].sources[0]
    with pytest.raises(InvalidInput, match="reason"):
        rights.apply(LIVES[status], step, StepRequest(), ON)


def test_exempt_disposal_needs_a_known_exemption() -> None:
    with pytest.raises(InvalidInput, match="exempt"):
        rights.apply(LIVES["listed"], "record_exempt_disposal", StepRequest(exemption="x"), ON)


def test_dates_in_the_future_and_before_the_last_step_are_refused() -> None:
    life = LIVES["nominated"]
    with pytest.raises(DateInFuture):
        rights.apply(life, "list", StepRequest(effective_on=ON + DAY), ON)
    with pytest.raises(InvalidInput, match="previous step"):
        rights.apply(life, "list", StepRequest(effective_on=ON - 11 * DAY), ON)


def _listed(on: date) -> Lifecycle:
    return Lifecycle("listed", listed_on=on, decided_on=on, last_step_on=on)


def test_owner_review_window_boundaries() -> None:
    listed = date(2025, 8, 31)
    life = _listed(listed)
    due = rights.period_end(listed, rights.OWNER_REVIEW_REQUEST)
    assert due == date(2025, 10, 25)
    for day in (due - DAY, due):
        assert rights.apply(life, "request_review", StepRequest(), day).status == "under_review"
    with pytest.raises(OutsideStatutoryWindow, match="2025-10-25") as caught:
        rights.apply(life, "request_review", StepRequest(), due + DAY)
    assert "request_review" not in caught.value.allowed
    assert "notify_disposal" in caught.value.allowed


def test_interim_moratorium_boundaries_for_a_request_to_bid() -> None:
    notice = date(2026, 1, 30)
    life = rights.apply(_listed(date(2025, 1, 1)), "notify_disposal", StepRequest(), notice)
    ends = rights.period_end(notice, rights.INTERIM_MORATORIUM)
    assert ends == date(2026, 3, 12)
    bid = StepRequest(group="Friends")
    for day in (ends - DAY, ends):
        assert rights.apply(life, "request_to_bid", bid, day).status == "full_moratorium"
    with pytest.raises(OutsideStatutoryWindow, match="interim moratorium ended on 2026-03-12"):
        rights.apply(life, "request_to_bid", bid, ends + DAY)


@pytest.mark.parametrize("bid", [False, True])
def test_sale_only_after_the_moratorium_and_within_the_protected_period(bid: bool) -> None:
    notice = date(2025, 8, 31)
    life = rights.apply(_listed(date(2025, 1, 1)), "notify_disposal", StepRequest(), notice)
    if bid:
        life = rights.apply(life, "request_to_bid", StepRequest(group="G"), notice + DAY)
    period = rights.FULL_MORATORIUM if bid else rights.INTERIM_MORATORIUM
    moratorium_ends = rights.period_end(notice, period)
    protected_ends = rights.period_end(notice, rights.PROTECTED_PERIOD)
    assert protected_ends == date(2027, 2, 27)
    with pytest.raises(OutsideStatutoryWindow, match=period.name):
        rights.apply(life, "sell", StepRequest(), moratorium_ends)
    # ...but a sale to a community interest group may happen inside the moratorium.
    to_group = StepRequest(to_community_interest_group=True)
    assert rights.apply(life, "sell", to_group, moratorium_ends).status == "disposed"
    for day in (moratorium_ends + DAY, protected_ends - DAY, protected_ends):
        assert rights.apply(life, "sell", StepRequest(), day).status == "disposed"
    with pytest.raises(OutsideStatutoryWindow, match="protected period ended on 2027-02-27"):
        rights.apply(life, "sell", StepRequest(), protected_ends + DAY)


def test_an_expired_listing_can_only_be_removed() -> None:
    life = _listed(date(2024, 2, 29))
    expires = rights.period_end(date(2024, 2, 29), rights.LISTING)
    assert expires == date(2029, 2, 27)
    assert rights.apply(life, "notify_disposal", StepRequest(), expires).status == (
        "disposal_notified"
    )
    with pytest.raises(OutsideStatutoryWindow, match="expired on 2029-02-27") as caught:
        rights.apply(life, "notify_disposal", StepRequest(), expires + DAY)
    assert caught.value.allowed == ["remove"]


def test_deadlines_follow_the_status() -> None:
    notice = date(2026, 1, 5)
    life = Lifecycle("disposal_notified", listed_on=date(2025, 1, 1), notice_received_on=notice)
    kinds = [d.kind for d in rights.deadlines(life)]
    assert kinds == ["interim_moratorium_ends", "protected_period_ends", "listing_expires"]
    full = replace(life, status="full_moratorium")
    assert [d.kind for d in rights.deadlines(full)][0] == "full_moratorium_ends"
    assert rights.next_deadline(life, date(2026, 2, 16)) is not None
    assert rights.next_deadline(life, date(2026, 2, 16)).kind == "protected_period_ends"  # type: ignore[union-attr]


def test_a_new_nomination_clears_the_old_lifecycle() -> None:
    life = Lifecycle("removed", listed_on=date(2020, 1, 1), removed_on=date(2025, 1, 1))
    after = rights.apply(life, "nominate", StepRequest(group="G"), date(2026, 1, 1))
    assert after.listed_on is None and after.removed_on is None
    assert after.nominating_group == "G"


@pytest.mark.parametrize(
    ("body_type", "electors", "ok"),
    [
        ("parish_council", None, True),
        ("unincorporated_group", 21, True),
        ("unincorporated_group", 20, False),
        ("book_club", 100, False),
        (None, None, False),
    ],
)
def test_nominating_bodies(body_type: str | None, electors: int | None, ok: bool) -> None:
    if ok:
        rights.check_nominating_body(body_type, electors)
    else:
        with pytest.raises(InvalidInput):
            rights.check_nominating_body(body_type, electors)
