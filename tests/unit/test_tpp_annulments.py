"""RULES.md "Annulled cuts" in the TPP domain, the arithmetic written out from RULES.md
(Bekasi rule set) — never copied from the code's output."""

from __future__ import annotations

from datetime import date

import pytest

from services.kernel.ruleset import load_ruleset
from services.tpp.domain import (
    Annulment,
    DayRecord,
    annulments_for,
    apply_annulments,
    compute_statement,
    line_codes,
    parse_annulment,
    statement_from_dict,
)

BEKASI = load_ruleset("bekasi-perwali-69-2019")
PERIOD = "2026-10"
ANI, BUDI = "199001012015011001", "199202022016022002"
OPD_A, OPD_B = "Dinas Kesehatan", "Dinas Pendidikan"


def day(n: int) -> date:
    return date(2026, 10, n)


def annulment(n: int, *, nip: str | None = None, opd: str | None = None, code: str | None = None):
    return Annulment(f"a{n}-{code}", day(n), nip, opd, code, "Mesin sidik jari rusak")


def codes(_: date) -> list[str]:
    return line_codes(BEKASI)


def test_a_nip_annulment_names_that_nip_only() -> None:
    mine = annulment(5, nip=ANI)
    assert annulments_for(ANI, [mine], lambda d: OPD_A) == [mine]
    assert annulments_for(BUDI, [mine], lambda d: OPD_A) == []


def test_an_opd_annulment_names_whoever_was_in_that_opd_on_that_date() -> None:
    # Budi moved from OPD A to OPD B on the 16th: an OPD A annulment of the 5th names him,
    # one of the 20th does not (and OPD B's of the 20th does); not active: named by none.
    def budi_opd(d: date) -> str | None:
        return OPD_A if d < day(16) else OPD_B

    early, late_a, late_b = (
        annulment(5, opd=OPD_A),
        annulment(20, opd=OPD_A),
        annulment(20, opd=OPD_B),
    )
    assert annulments_for(BUDI, [early, late_a, late_b], budi_opd) == [early, late_b]
    assert annulments_for(BUDI, [early], lambda d: None) == []


# Pagu 10.000.000: disiplin 4.000.000, produktivitas 6.000.000. On the 5th Ani is 37 minutes
# late (TL1 0,25% = 25.000) and leaves 70 minutes early (PSW2 0,5% = 50.000); her report of
# the 5th is not approved, the 6th's is: 2 required report days, LKH 6.000.000 / 2 =
# 3.000.000 for the 5th. Net before: 10.000.000 - 75.000 - 3.000.000 = 6.925.000.
PAGU = 10_000_000
DAYS = [DayRecord(day(5), "present", 37, 70), DayRecord(day(6), "present", 0, 0)]


def test_an_opd_annulment_without_a_code_annuls_every_line_of_the_date() -> None:
    st = compute_statement(ANI, PERIOD, PAGU, DAYS, {day(6)}, BEKASI, [annulment(5, opd=OPD_A)])
    assert [(ln.code, ln.amount, ln.annulled_amount) for ln in st.lines] == [
        ("LKH", 0, 3_000_000),
        ("PSW2", 0, 50_000),
        ("TL1", 0, 25_000),
    ]
    assert {ln.annulled_reason for ln in st.lines} == {"Mesin sidik jari rusak"}
    # the 5th stays a required report day without an approved report
    assert (st.required_report_days, st.approved_report_days) == (2, 1)
    assert (st.attendance_deduction, st.productivity_deduction, st.net) == (0, 0, 10_000_000)


def test_an_annulment_with_a_code_leaves_the_other_lines_of_the_date() -> None:
    st = compute_statement(
        ANI, PERIOD, PAGU, DAYS, {day(6)}, BEKASI, [annulment(5, nip=ANI, code="TL1")]
    )
    by_code = {ln.code: ln for ln in st.lines}
    assert (by_code["TL1"].amount, by_code["TL1"].annulled_amount) == (0, 25_000)
    assert (by_code["PSW2"].amount, by_code["PSW2"].annulled_amount) == (50_000, None)
    assert by_code["LKH"].amount == 3_000_000
    # 10.000.000 - 50.000 - 3.000.000
    assert st.net == 6_950_000


def test_revoked_the_line_comes_back() -> None:
    # a revoked annulment is not among the active ones handed in: the statement is as before
    with_it = compute_statement(
        ANI, PERIOD, PAGU, DAYS, {day(6)}, BEKASI, [annulment(5, nip=ANI, code="TL1")]
    )
    without = compute_statement(ANI, PERIOD, PAGU, DAYS, {day(6)}, BEKASI, [])
    assert with_it.net == 6_950_000
    assert without.net == 6_925_000
    assert [ln.annulled_amount for ln in without.lines] == [None, None, None]


def test_an_annulled_tk_line_frees_room_under_the_disiplin_cap() -> None:
    # Pagu 1.000.000: disiplin 40% = 400.000, produktivitas 600.000. Eight TK days cost
    # 8 x 5% x 1.000.000 = 8 x 50.000 = 400.000, a TL1 day 0,25% = 2.500: 402.500 uncapped,
    # held to the disiplin 400.000 (every report approved: no LKH line). Net 600.000.
    # Annul the TK of the 5th: standing 350.000 + 2.500 = 352.500 < 400.000, so the
    # deduction is 352.500 and the net 1.000.000 - 352.500 = 647.500 (not 650.000: the
    # 2.500 over the cap before is now inside it; not 600.000 + 50.000 either).
    tk = [5, 6, 7, 8, 9, 12, 13, 14]
    days = [DayRecord(day(n), "tanpa_keterangan", None, None) for n in tk]
    days.append(DayRecord(day(15), "present", 20, 0))
    every = {day(n) for n in [*tk, 15]}
    before = compute_statement(ANI, PERIOD, 1_000_000, days, every, BEKASI)
    assert (before.attendance_deduction_uncapped, before.attendance_deduction) == (
        402_500,
        400_000,
    )
    assert before.net == 600_000
    after = compute_statement(
        ANI, PERIOD, 1_000_000, days, every, BEKASI, [annulment(5, nip=ANI, code="TK")]
    )
    assert (after.attendance_deduction_uncapped, after.attendance_deduction) == (352_500, 352_500)
    assert after.net == 647_500
    assert after.required_report_days == before.required_report_days == 9


def test_apply_annulments_keeps_the_first_reason_and_round_trips() -> None:
    st = compute_statement(ANI, PERIOD, PAGU, DAYS, {day(6)}, BEKASI)
    first = Annulment("x1", day(5), ANI, None, "TL1", "listrik padam")
    second = Annulment("x2", day(5), None, OPD_A, None, "jaringan putus")
    lines = apply_annulments(st.lines, [first, second])
    assert [(ln.code, ln.annulment_id, ln.annulled_reason) for ln in lines] == [
        ("LKH", "x2", "jaringan putus"),
        ("PSW2", "x2", "jaringan putus"),
        ("TL1", "x1", "listrik padam"),
    ]
    stored = compute_statement(ANI, PERIOD, PAGU, DAYS, {day(6)}, BEKASI, [first])
    back = statement_from_dict(stored.to_dict(), nip=ANI, period=PERIOD, rules=BEKASI.name)
    assert back.lines == stored.lines


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (("2026-13-05", ANI, "", "", "x"), "YYYY-MM-DD"),
        (("2026-10-05", "", "", "", "x"), "keduanya kosong"),
        (("2026-10-05", ANI, OPD_A, "", "x"), "keduanya terisi"),
        (("2026-10-05", "12345", "", "", "x"), "18 digit"),
        (("2026-10-05", ANI, "", "TL9", "x"), "tidak dikenal"),
        (("2026-10-05", ANI, "", "", "   "), "alasan"),
        (("2026-10-09", ANI, "", "", "x"), "belum terjadi"),
    ],
)
def test_parse_annulment_refuses_in_bahasa(fields: tuple[str, ...], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_annulment(*fields, codes_of=codes, today=day(8))


def test_parse_annulment_reads_a_good_line() -> None:
    got = parse_annulment("2026-10-05", "", " Dinas Kesehatan ", "tk", " Mesin  rusak ", codes)
    assert (got.day, got.nip, got.opd, got.code, got.reason) == (
        day(5),
        None,
        OPD_A,
        "TK",
        "Mesin rusak",
    )
