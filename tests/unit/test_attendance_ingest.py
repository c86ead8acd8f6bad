"""The device ingest path's shortcuts give exactly what the general code gives: the ATTLOG
fast parser against the regular-expression parser, the unvalidated FingerprintRecorded
against the validated one."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from uuid import UUID

import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st
from pydantic import ValidationError

from contracts.events import FingerprintRecorded
from services.attendance import adms, importer, store

NIP = "199001012015011001"
WIB7 = timezone(timedelta(hours=7))

_pins = st.one_of(
    st.just(NIP),
    st.text(alphabet="0123456789", min_size=1, max_size=20),
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=8),
    st.just("ATTLOG"),
)
_when = st.one_of(
    st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2100, 1, 1)).map(
        lambda d: d.strftime("%Y-%m-%d %H:%M:%S")
    ),
    # near misses: impossible dates/times, short fields, other separators, non-ASCII digits
    st.sampled_from(
        [
            "2026-02-30 07:00:00",
            "2026-01-01 24:00:00",
            "2026-1-5 7:00:00",
            "2026-01-05T07:00:00",
            "2026-01-05 07:00",
            "２０２６-01-05 07:00:00",
            "2026/01/05 07:00:00",
        ]
    ),
    st.text(max_size=20),
)
_rest = st.lists(
    st.one_of(st.sampled_from(["0", "1", "15", "-1", "", " ", "x"]), st.text(max_size=4)),
    max_size=6,
)


@example("199001012015011001", "2000-01-01 00:00:00", ["²"], "\t", "")  # isdigit, not int
@given(_pins, _when, _rest, st.sampled_from(["\t", " "]), st.sampled_from(["", "\r", " "]))
def test_fast_attlog_parser_agrees_with_the_general_one(
    pin: str, when: str, rest: list[str], sep: str, end: str
) -> None:
    line = sep.join([pin, when, *rest]) + end
    # parse_attlog hands the parsers lines of str.splitlines(): never one with a line break
    assume(len(line.splitlines()) <= 1)
    assert adms._parse_attlog_line(3, line, WIB7) == adms._parse_attlog_line_general(3, line, WIB7)


def test_fast_attlog_parser_takes_the_usual_line() -> None:
    # 07:30:05 at +7 is 00:30:05 UTC; status 0, verify 1, workcode "0", two extra fields.
    got = adms._parse_attlog_line_fast(1, f"{NIP}\t2026-10-05 07:30:05\t0\t1\t0\t0\t0\r", WIB7)
    assert got is not None
    assert got.pin == NIP
    assert got.ts.astimezone(UTC) == datetime(2026, 10, 5, 0, 30, 5, tzinfo=UTC)
    assert (got.status, got.verify, got.workcode, got.extra) == (0, 1, "0", ("0", "0"))


def _validated(**kw: object) -> FingerprintRecorded:
    return FingerprintRecorded(producer=store.PRODUCER, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize("flag", [None, "future"])
@pytest.mark.parametrize("device_sn", [None, "SN1"])
def test_unvalidated_event_equals_the_validated_one(
    flag: str | None, device_sn: str | None
) -> None:
    event_id = UUID("12345678-1234-4234-8234-123456789abc")
    received = datetime(2026, 10, 5, 1, 0, tzinfo=UTC)
    scanned = datetime(2026, 10, 5, 7, 30, 5, tzinfo=WIB7)  # 00:30:05 UTC
    kw = dict(
        event_id=event_id,
        nip=NIP,
        scan_id=f"{NIP}@2026-10-05T00:30:05Z",
        scanned_at=scanned,
        work_date=date(2026, 10, 5),
        device_sn=device_sn,
        source="adms",
        flag=flag,
    )
    fast = store.fingerprint_event(received_at=received, **kw)  # type: ignore[arg-type]
    slow = _validated(occurred_at=received, **kw)
    assert fast == slow
    assert fast.model_dump_json() == slow.model_dump_json()
    assert '"scanned_at":"2026-10-05T00:30:05Z"' in fast.model_dump_json()


def test_unusual_values_still_go_through_validation() -> None:
    kw = dict(
        event_id=UUID(int=1),
        scan_id="x",
        scanned_at=datetime(2026, 10, 5, tzinfo=UTC),
        work_date=date(2026, 10, 5),
        device_sn=None,
        flag=None,
    )
    received = datetime(2026, 10, 5, tzinfo=UTC)
    with pytest.raises(ValidationError):  # a NIP of 17 digits
        store.fingerprint_event(received_at=received, nip="1" * 17, source="adms", **kw)  # type: ignore[arg-type]
    with pytest.raises(ValidationError):  # a source outside the contract
        store.fingerprint_event(received_at=received, nip=NIP, source="fax", **kw)  # type: ignore[arg-type]
    # received at +7 is not UTC: validated, and converted to UTC like before
    at7 = datetime(2026, 10, 5, 8, 0, tzinfo=WIB7)
    event = store.fingerprint_event(received_at=at7, nip=NIP, source="api", **kw)  # type: ignore[arg-type]
    assert event.occurred_at == datetime(2026, 10, 5, 1, 0, tzinfo=UTC)


def test_event_ids_are_distinct_version_4_uuids() -> None:
    ids = store._event_ids(1000)
    assert len(set(ids)) == 1000
    assert {u.version for u in ids} == {4}
    assert store._event_ids(0) == []


# --- any line, any time: the parser never raises and what it keeps can be stored ---------

_any_dt = st.datetimes(min_value=datetime.min, max_value=datetime.max)
_dated_line = st.builds(
    lambda pin, dt, sep: f"{pin}{sep}{dt.isoformat(sep=' ', timespec='seconds')}",
    _pins,
    _any_dt,
    st.sampled_from(["\t", " "]),
)


@example(["199001012015011001\t0001-01-01 00:00:00"], 7)
@example(["199001012015011001\t9999-12-31 23:59:59"], -12)
@given(st.lists(st.one_of(st.text(), _dated_line), max_size=8), st.integers(-12, 14))
def test_any_attlog_body_parses_to_storable_records_and_line_errors(
    lines: list[str], offset: int
) -> None:
    body = "\n".join(lines)
    tz = timezone(timedelta(hours=offset))
    records, errors = adms.parse_attlog(body.encode("utf-8", "surrogatepass"), tz)
    numbered = [r.line_no for r in records] + [e.line_no for e in errors]
    assert len(numbered) == len(set(numbered))  # one outcome per line
    assert len(numbered) == sum(1 for ln in body.splitlines() if ln.strip())
    for r in records:
        # What the store does with a scan time (UTC, WIB date, a day either side) works.
        store.domain.scan_key(NIP, r.ts)
        day = store.domain.wib_date(r.ts)
        assert day - timedelta(days=1) < day + timedelta(days=1)
        assert store.domain.flag_scan(r.ts, datetime(2026, 1, 1, tzinfo=UTC)) in (
            None,
            "future",
            "clock_wrong",
        )


@pytest.mark.parametrize(
    "text", ["0001-01-01 00:00:00", "0001-01-01T03:00:00+05:00", "9999-12-31T23:00:00-05:00"]
)
def test_a_scan_time_that_overflows_is_a_clear_error(text: str) -> None:
    with pytest.raises(ValueError, match="di luar rentang"):
        store.domain.parse_scan_time(text)


@pytest.mark.parametrize(
    "value",
    ["01/01/0001 00:00", "31/12/9999 23:59", datetime(1, 1, 1), datetime(1, 1, 1, tzinfo=WIB7)],
)
def test_an_imported_time_that_overflows_is_a_clear_error(value: object) -> None:
    with pytest.raises(ValueError, match="di luar rentang"):
        importer.parse_import_time(value)
