"""Approval domain: decisions, authority (atasan and Plt), period lock, bulk approve, waiting
age, overdue reminder, transfer.

Calendar used below (October 2026):
    Mo Tu We Th Fr Sa Su
              1  2  3  4
     5  6  7  8  9 10 11
    12 13 14 15 16 17 18
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.approval.domain import (
    BKPSDM,
    WIB,
    Decision,
    DecisionKind,
    Delegation,
    DomainError,
    Penilai,
    QueueItem,
    QueueStatus,
    age_in_working_days,
    atasan_on_date,
    bulk_approve,
    decide,
    is_period_locked,
    make_decision,
    may_decide,
    overdue,
    period_of,
    queue_of,
    route_by_date,
    transfer_pending,
    validate_delegation,
    validate_penilai,
)
from services.kernel.calendar import WorkCalendar
from services.kernel.employment import Period

ATASAN_A = "197501012000011001"
ATASAN_B = "197602022001021002"
PLT_P = "198003032005011003"  # Plt named by A
PLT_Q = "198104042006042004"  # Plt named by B
E1 = "199001012015011005"
E2 = "199102022016022006"
E3 = "199203032017011007"  # B's subordinate

ATASAN_OF: dict[str, str | None] = {E1: ATASAN_A, E2: ATASAN_A, E3: ATASAN_B, PLT_P: ATASAN_A}
PLAIN = WorkCalendar.from_dates([])
THU, FRI, SAT, SUN, MON, TUE, WED = (date(2026, 10, d) for d in range(1, 8))
THU8, FRI9, SAT10, MON12 = (
    date(2026, 10, 8),
    date(2026, 10, 9),
    date(2026, 10, 10),
    date(2026, 10, 12),
)

# A delegates to P for Monday 5 – Friday 9 October (A on cuti); B to Q for the same week.
DELEGATIONS = [Delegation(ATASAN_A, PLT_P, MON, FRI9), Delegation(ATASAN_B, PLT_Q, MON, FRI9)]


def wib(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hh, mm, tzinfo=WIB)


def item(
    rid: str,
    owner: str = E1,
    report_date: date = THU,
    filed: datetime | None = None,
    status: QueueStatus = QueueStatus.PENDING,
) -> QueueItem:
    return QueueItem(
        rid, owner, report_date, filed or wib(report_date, 16), ATASAN_OF[owner], status
    )


# --------------------------------------------------------------------------- decisions


def test_reject_needs_a_reason_and_revision_a_note() -> None:
    assert make_decision("approve") == Decision(DecisionKind.APPROVE, None)
    for blank in (None, "", "   \n"):
        with pytest.raises(DomainError) as err:
            make_decision(DecisionKind.REJECT, blank)
        assert err.value.code == "reason_required"
        with pytest.raises(DomainError) as err:
            make_decision(DecisionKind.REQUEST_REVISION, blank)
        assert err.value.code == "note_required"
    assert make_decision("reject", "  bukan tugas Anda ").text == "bukan tugas Anda"
    with pytest.raises(DomainError) as err:
        make_decision("reject", "x" * 1001)
    assert err.value.code == "text_too_long"
    with pytest.raises(ValueError):
        make_decision("approve_all")


# --------------------------------------------------------------------------- authority


def test_direct_atasan_may_decide() -> None:
    auth = may_decide(ATASAN_A, E1, THU, ATASAN_OF, [], THU)
    assert auth is not None and auth.as_plt_for is None
    assert auth.label == "sebagai atasan langsung"


def test_others_may_not() -> None:
    assert may_decide(ATASAN_B, E1, THU, ATASAN_OF, DELEGATIONS, THU) is None  # not E1's atasan
    assert may_decide(E2, E1, THU, ATASAN_OF, DELEGATIONS, THU) is None  # a colleague
    assert may_decide(E1, E1, THU, ATASAN_OF, DELEGATIONS, THU) is None  # oneself
    assert may_decide(ATASAN_A, "unknown", THU, ATASAN_OF, [], THU) is None  # no relation
    assert may_decide(ATASAN_A, E1, THU, {E1: None}, [], THU) is None


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (SUN, False),  # day before the window (4 Oct)
        (MON, True),  # first day, inclusive
        (WED, True),  # inside
        (FRI9, True),  # last day, inclusive
        (SAT10, False),  # day after the window
    ],
)
def test_plt_window_is_checked_on_the_decision_date(today: date, expected: bool) -> None:
    auth = may_decide(PLT_P, E1, THU, ATASAN_OF, DELEGATIONS, today)
    assert (auth is not None) is expected
    if auth is not None:
        assert auth.as_plt_for == ATASAN_A
        assert auth.label == f"sebagai Plt untuk {ATASAN_A}"


def test_plt_window_ignores_the_report_date() -> None:
    # Report of Wed 7 Oct (inside the window) decided on Mon 12 Oct (after it): A is back.
    assert may_decide(PLT_P, E1, WED, ATASAN_OF, DELEGATIONS, MON12) is None
    # Report of Thu 1 Oct (before the window) decided on Tue 6 Oct (inside): the Plt clears it.
    assert may_decide(PLT_P, E1, THU, ATASAN_OF, DELEGATIONS, TUE) is not None


def test_another_atasans_plt_has_no_authority() -> None:
    # Q is B's Plt in the same week; E1 belongs to A.
    assert may_decide(PLT_Q, E1, THU, ATASAN_OF, DELEGATIONS, TUE) is None
    assert may_decide(PLT_Q, E3, THU, ATASAN_OF, DELEGATIONS, TUE) is not None


def test_plt_cannot_approve_own_report() -> None:
    # P is also A's subordinate: during the Plt week P still cannot decide P's own report.
    assert may_decide(PLT_P, PLT_P, THU, ATASAN_OF, DELEGATIONS, TUE) is None


def test_validate_delegation() -> None:
    validate_delegation(Delegation(ATASAN_A, PLT_P, MON, MON))  # one day is a window
    with pytest.raises(DomainError) as err:
        validate_delegation(Delegation(ATASAN_A, PLT_P, TUE, MON))
    assert err.value.code == "invalid_window"
    with pytest.raises(DomainError) as err:
        validate_delegation(Delegation(ATASAN_A, ATASAN_A, MON, TUE))
    assert err.value.code == "self_delegation"


# --------------------------------------------------------------------------- decide


def test_decide_records_audit_as_plt() -> None:
    reject = make_decision("reject", "Uraian tidak sesuai SKP")
    done = decide(item("r1"), PLT_P, reject, wib(TUE, 9, 30), ATASAN_OF, DELEGATIONS)
    assert done.item.status is QueueStatus.REJECTED
    audit = done.audit
    assert (audit.actor_nip, audit.action, audit.reason, audit.as_plt_for) == (
        PLT_P,
        DecisionKind.REJECT,
        "Uraian tidak sesuai SKP",
        ATASAN_A,
    )
    assert audit.at == wib(TUE, 9, 30)
    assert f"sebagai Plt untuk {ATASAN_A}" in audit.summary()
    assert "06-10-2026 09.30 WIB" in audit.summary()


def test_decide_refusals() -> None:
    approve = make_decision("approve")
    now = wib(TUE, 9)
    with pytest.raises(DomainError) as err:
        decide(item("r1"), ATASAN_B, approve, now, ATASAN_OF, [])
    assert err.value.code == "forbidden"
    decided = item("r1", status=QueueStatus.APPROVED)
    with pytest.raises(DomainError) as err:
        decide(decided, ATASAN_A, approve, now, ATASAN_OF, [])
    assert err.value.code == "not_pending" and "sudah disetujui" in err.value.message
    with pytest.raises(ValueError):
        decide(item("r1"), ATASAN_A, approve, datetime(2026, 10, 6, 9), ATASAN_OF, [])


def test_decision_date_is_taken_in_wib() -> None:
    # 2026-10-04 17:30 UTC = Monday 5 Oct 00:30 WIB: the first day of P's window.
    now = datetime(2026, 10, 4, 17, 30, tzinfo=UTC)
    done = decide(item("r1"), PLT_P, make_decision("approve"), now, ATASAN_OF, DELEGATIONS)
    assert done.audit.as_plt_for == ATASAN_A


def test_period_lock() -> None:
    assert is_period_locked("2026-09", ["2026-09"], []) is True
    assert is_period_locked("2026-09", ["2026-09"], ["2026-09"]) is False  # reopened by BKPSDM
    assert is_period_locked("2026-10", ["2026-09"], []) is False  # another month
    assert is_period_locked("2026-9", ["2026-09"], []) is True  # same month, other spelling
    with pytest.raises(ValueError):
        is_period_locked("September", [], [])
    assert period_of(date(2026, 9, 30)) == "2026-09"

    sept = item("r9", report_date=date(2026, 9, 30))
    approve = make_decision("approve")
    with pytest.raises(DomainError) as err:
        decide(sept, ATASAN_A, approve, wib(THU, 9), ATASAN_OF, [], ["2026-09"], [])
    assert err.value.code == "period_locked" and "2026-09" in err.value.message
    done = decide(sept, ATASAN_A, approve, wib(THU, 9), ATASAN_OF, [], ["2026-09"], ["2026-09"])
    assert done.item.status is QueueStatus.APPROVED


def test_bulk_approve_continues_past_a_bad_item() -> None:
    selection = [
        item("r1", E1),
        item("r2", E3),  # B's subordinate: A may not decide → forbidden
        item("r3", E2, status=QueueStatus.WITHDRAWN),  # no longer waiting → not_pending
        item("r4", E2, report_date=date(2026, 9, 30)),  # September is closed → period_locked
        item("r1", E1),  # selected twice
        item("r5", E2),
    ]
    results = bulk_approve(selection, ATASAN_A, wib(TUE, 9), ATASAN_OF, [], ["2026-09"])
    assert [(r.report_id, r.code) for r in results] == [
        ("r1", "ok"),
        ("r2", "forbidden"),
        ("r3", "not_pending"),
        ("r4", "period_locked"),
        ("r1", "duplicate"),
        ("r5", "ok"),
    ]
    assert [r.ok for r in results] == [True, False, False, False, False, True]
    ok = [r.result for r in results if r.result is not None]
    assert all(d.item.status is QueueStatus.APPROVED for d in ok)
    assert all(d.audit.action is DecisionKind.APPROVE and d.audit.reason is None for d in ok)


# --------------------------------------------------------------------------- waiting


def test_age_across_a_weekend() -> None:
    # Filed Friday 2 Oct. Sat and Sun are not working days, so they do not age it.
    assert age_in_working_days(FRI, FRI, PLAIN) == 0
    assert age_in_working_days(FRI, SAT, PLAIN) == 0
    assert age_in_working_days(FRI, SUN, PLAIN) == 0
    assert age_in_working_days(FRI, MON, PLAIN) == 1  # Mon
    assert age_in_working_days(FRI, TUE, PLAIN) == 2  # Mon, Tue
    # Filed on Saturday: Monday is still 1.
    assert age_in_working_days(SAT, MON, PLAIN) == 1
    # A holiday on Monday 5 Oct: Tuesday is only 1 (Tue).
    assert age_in_working_days(FRI, TUE, WorkCalendar.from_dates([MON])) == 1


@given(
    start=st.dates(date(2026, 1, 1), date(2026, 12, 31)),
    a=st.integers(0, 40),
    b=st.integers(0, 40),
)
def test_age_adds_up(start: date, a: int, b: int) -> None:
    mid, end = start + timedelta(days=a), start + timedelta(days=a + b)
    total = age_in_working_days(start, end, PLAIN)
    assert total == age_in_working_days(start, mid, PLAIN) + age_in_working_days(mid, end, PLAIN)
    assert 0 <= total <= a + b


def test_overdue_for_the_morning_reminder() -> None:
    queue = [
        item("fri", E1, FRI, wib(FRI, 16)),  # Tue: age 2 (Mon, Tue) > 1 → overdue
        item("thu", E2, THU, wib(THU, 16)),  # Tue: age 3 (Fri, Mon, Tue) → overdue, oldest
        item("mon", E1, MON, wib(MON, 16)),  # Tue: age 1, not more than one → not yet
        item("b", E3, FRI, wib(FRI, 16)),  # B's queue, age 2
        item("done", E1, THU, wib(THU, 16), QueueStatus.APPROVED),  # decided: never reminded
        # filed at 2026-10-01 18:00 UTC = Fri 2 Oct 01:00 WIB → counted from Friday: age 2
        item("utc", E2, THU, datetime(2026, 10, 1, 18, 0, tzinfo=UTC)),
    ]
    found = overdue(queue, TUE, PLAIN)
    assert set(found) == {ATASAN_A, ATASAN_B}
    # oldest first: by age, then by filing time ("utc" Fri 01:00 WIB before "fri" Fri 16:00)
    assert [(o.item.report_id, o.age) for o in found[ATASAN_A]] == [
        ("thu", 3),
        ("utc", 2),
        ("fri", 2),
    ]
    assert [o.item.report_id for o in found[ATASAN_B]] == ["b"]
    # Monday 09:00: Friday's report is 1 (Mon) → not overdue; Thursday's is 2 (Fri, Mon).
    monday = overdue(queue, MON, PLAIN)
    assert [o.item.report_id for o in monday[ATASAN_A]] == ["thu"]
    # threshold is a parameter: with 2, only age 3 and more
    assert [o.item.report_id for o in overdue(queue, TUE, PLAIN, threshold=2)[ATASAN_A]] == ["thu"]


# --------------------------------------------------------------------------- transfer


def test_transfer_moves_open_reports_only() -> None:
    queue = [
        item("p", E1),
        item("rev", E1, status=QueueStatus.REVISION_REQUESTED),
        item("ok", E1, status=QueueStatus.APPROVED),
        item("other", E2),
    ]
    result = transfer_pending(queue, E1, ATASAN_B)
    assert result.moved == ("p", "rev")
    by_id = {i.report_id: i for i in result.queue}
    assert by_id["p"].atasan_nip == ATASAN_B
    assert by_id["rev"].atasan_nip == ATASAN_B
    assert by_id["ok"].atasan_nip == ATASAN_A  # decided by A: stays A's record
    assert by_id["other"].atasan_nip == ATASAN_A  # another employee
    assert [i.report_id for i in queue_of(result.queue, ATASAN_B)] == ["p"]
    assert [i.report_id for i in queue_of(result.queue, ATASAN_A)] == ["other"]
    # moving again to the same atasan moves nothing
    assert transfer_pending(result.queue, E1, ATASAN_B).moved == ()
    with pytest.raises(DomainError):
        transfer_pending(queue, E1, E1)


def test_bulk_approve_takes_the_lock_of_each_owner() -> None:
    # tpp closes a month per employee: September is closed for OWNER_A only, so in one
    # selection A's September report is refused and B's is approved.
    from services.approval.domain import QueueItem, bulk_approve

    owner_a, owner_b, boss = "198501012010011001", "199002022015022002", "197003032000031003"
    filed = datetime(2026, 10, 1, 9, tzinfo=UTC)
    a = QueueItem("ra", owner_a, date(2026, 9, 30), filed, boss)
    b = QueueItem("rb", owner_b, date(2026, 9, 30), filed, boss)
    closed_for = {owner_a: ["2026-09"], owner_b: []}
    results = bulk_approve(
        [a, b],
        boss,
        datetime(2026, 10, 2, 9, tzinfo=UTC),
        {owner_a: boss, owner_b: boss},
        [],
        locks_of=lambda item: (closed_for[item.owner_nip], []),
    )
    assert [(r.report_id, r.code) for r in results] == [("ra", "period_locked"), ("rb", "ok")]


# --------------------------------------------------------------------------- by date, penilai
# (issue 14) A transfer on Friday 16 October: E1 reports to A until Thursday 15, to B from
# the 16th. HEAD (a Kepala OPD) has no atasan; SEKDA is named their penilai.

HEAD = "197001012000011009"
SEKDA = "196901012000011008"
OFFICER = "197201012000011010"  # a BKPSDM officer
THU15, FRI16, MON19 = date(2026, 10, 15), date(2026, 10, 16), date(2026, 10, 19)


def _period(first: date | None, last: date | None, atasan: str | None) -> Period:
    return Period(first, last, "Pegawai", "Dinas Uji", "Staf", 7, atasan, 3_000_000)


TRANSFERRED = [_period(date(2026, 10, 1), THU15, ATASAN_A), _period(FRI16, None, ATASAN_B)]


def test_atasan_of_the_reports_date() -> None:
    assert atasan_on_date(TRANSFERRED, E1, THU15) == ATASAN_A
    assert atasan_on_date(TRANSFERRED, E1, FRI16) == ATASAN_B
    # before the first period: the first one's; in a gap: the period before it
    assert atasan_on_date(TRANSFERRED, E1, date(2026, 9, 30)) == ATASAN_A
    gap = [_period(None, THU, ATASAN_A), _period(MON12, None, ATASAN_B)]
    assert atasan_on_date(gap, E1, FRI9) == ATASAN_A
    assert atasan_on_date([], E1, THU) is None  # not known yet
    assert atasan_on_date([_period(None, None, E1)], E1, THU) is None  # named themself


def test_after_a_transfer_the_old_atasan_decides_the_days_before_it() -> None:
    def by_date(nip: str, day: date) -> str | None:
        return atasan_on_date(TRANSFERRED, nip, day)

    assert may_decide(ATASAN_A, E1, THU15, by_date, [], MON19) is not None
    assert may_decide(ATASAN_B, E1, THU15, by_date, [], MON19) is None
    assert may_decide(ATASAN_B, E1, FRI16, by_date, [], MON19) is not None
    assert may_decide(ATASAN_A, E1, FRI16, by_date, [], MON19) is None
    # the Plt of the old atasan decides the old days only
    plt = [Delegation(ATASAN_A, PLT_P, MON19, MON19)]
    assert may_decide(PLT_P, E1, THU15, by_date, plt, MON19) is not None
    assert may_decide(PLT_P, E1, FRI16, by_date, plt, MON19) is None


def test_transfer_moves_only_the_open_reports_dated_from_it() -> None:
    queue = [
        QueueItem("r15", E1, THU15, wib(THU15, 16), ATASAN_A),
        QueueItem("r16", E1, FRI16, wib(FRI16, 16), ATASAN_A),
        QueueItem("d16", E1, FRI16, wib(FRI16, 16), ATASAN_A, QueueStatus.APPROVED),
    ]
    moved = route_by_date(queue, E1, lambda day: atasan_on_date(TRANSFERRED, E1, day))
    assert moved.moved == ("r16",)
    assert [i.atasan_nip for i in moved.queue] == [ATASAN_A, ATASAN_B, ATASAN_A]


def test_penilai_decides_for_an_employee_without_atasan() -> None:
    no_atasan: dict[str, str | None] = {HEAD: None}
    sekda = Penilai(HEAD, SEKDA, FRI16, None, OFFICER)
    assert may_decide(SEKDA, HEAD, THU15, no_atasan, [], MON19, penilai=sekda) is None
    auth = may_decide(SEKDA, HEAD, FRI16, no_atasan, [], MON19, penilai=sekda)
    assert auth is not None and (auth.as_penilai, auth.label) == (SEKDA, "sebagai penilai")
    assert (
        may_decide(OFFICER, HEAD, FRI16, no_atasan, [], MON19, penilai=sekda, bkpsdm=True) is None
    )
    assert may_decide(HEAD, HEAD, FRI16, no_atasan, [], MON19, penilai=sekda) is None
    # the Sekda's Plt stands in for them
    plt = [Delegation(SEKDA, PLT_P, MON19, MON19)]
    auth = may_decide(PLT_P, HEAD, FRI16, no_atasan, plt, MON19, penilai=sekda)
    assert auth is not None and (auth.as_plt_for, auth.as_penilai) == (SEKDA, SEKDA)
    # BKPSDM as penilai: any BKPSDM officer, recorded as such; nobody else
    bkpsdm = Penilai(HEAD, BKPSDM, None, None, OFFICER)
    auth = may_decide(OFFICER, HEAD, THU15, no_atasan, [], MON19, penilai=bkpsdm, bkpsdm=True)
    assert auth is not None and auth.label == "sebagai penilai (BKPSDM)"
    assert may_decide(SEKDA, HEAD, THU15, no_atasan, [], MON19, penilai=bkpsdm) is None
    # an employee with an atasan: a penilai (set by mistake) does not count
    assert may_decide(SEKDA, E1, THU, ATASAN_OF, [], MON19, penilai=Penilai(E1, SEKDA)) is None


def test_penilai_rules() -> None:
    with pytest.raises(DomainError) as err:
        validate_penilai(Penilai(HEAD, HEAD), "Kepala")
    assert err.value.code == "self_penilai"
    with pytest.raises(DomainError) as err:
        validate_penilai(Penilai(HEAD, SEKDA, FRI16, THU15), "Sekda")
    assert err.value.code == "invalid_window"
    with pytest.raises(DomainError) as err:
        validate_penilai(Penilai(HEAD, SEKDA), "  ")
    assert err.value.code == "nama_required"
    validate_penilai(Penilai(HEAD, BKPSDM), "")  # BKPSDM needs no name
    until15, from16 = Penilai(HEAD, SEKDA, None, THU15), Penilai(HEAD, BKPSDM, FRI16, None)
    assert not until15.overlaps(from16) and not from16.overlaps(until15)
    assert Penilai(HEAD, SEKDA).overlaps(from16)
    assert Penilai(HEAD, SEKDA, THU15, FRI16).overlaps(from16)


def test_overdue_reminds_the_penilai_official_not_bkpsdm() -> None:
    queue = [
        QueueItem("h1", HEAD, THU, wib(THU, 16), None),
        QueueItem("h2", E2, THU, wib(THU, 16), None),
    ]
    penilai = [Penilai(HEAD, SEKDA), Penilai(E2, BKPSDM)]
    # filed Thursday 1, today Tuesday 6: Fri, Mon, Tue = 3 working days > 1
    found = overdue(queue, TUE, PLAIN, 1, penilai)
    assert {k: [(o.item.report_id, o.age) for o in v] for k, v in found.items()} == {
        SEKDA: [("h1", 3)]
    }
