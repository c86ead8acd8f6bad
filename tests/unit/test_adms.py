"""ZKTeco ADMS push protocol: bodies as devices send them (tests/fixtures/adms/)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from services.attendance.adms import (
    CMD_REBOOT,
    DEFAULT_DEVICE_TZ,
    AttLog,
    DeviceCommand,
    HandshakeOptions,
    device_tz,
    parse_attlog,
    parse_cdata_post,
    parse_devicecmd,
    parse_query,
    query_attlog_command,
    render_getrequest,
    render_handshake,
    render_post_ack,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "adms"
WIB7 = timezone(timedelta(hours=7))


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


# --- query and handshake ----------------------------------------------------------------


def test_handshake_query_from_a_device() -> None:
    q = parse_query(fixture("handshake_query.txt").decode().strip())
    assert q.sn == "CQZ7232460123"
    assert q.is_handshake and q.table is None
    assert q.pushver == "2.4.1" and q.language == "69"
    assert q.extra == {"pushcommkey": "a1b2c3"}


def test_query_keys_are_case_insensitive_and_table_upper() -> None:
    q = parse_query({"sn": "X1", "Table": "attlog", "STAMP": "9999"})
    assert (q.sn, q.table, q.stamp, q.is_handshake) == ("X1", "ATTLOG", "9999", False)


def test_query_without_sn_is_refused() -> None:
    with pytest.raises(ValueError, match="SN"):
        parse_query("options=all")


def test_render_handshake_default_lines() -> None:
    text = render_handshake("CQZ7232460123")
    assert text.startswith("GET OPTION FROM: CQZ7232460123\r\n")
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", "")
    lines = text.split("\r\n")[1:-1]
    options = dict(line.split("=", 1) for line in lines)
    assert options == {
        "Stamp": "0",
        "OpStamp": "0",
        "PhotoStamp": "0",
        "ErrorDelay": "30",
        "Delay": "10",
        "TransTimes": "00:00;14:05",
        "TransInterval": "1",
        "TransFlag": "1111000000",
        "Realtime": "1",
        "Encrypt": "0",
        "TimeZone": "7",
    }


def test_render_handshake_with_stored_stamps() -> None:
    text = render_handshake("S1", HandshakeOptions(stamp="771234", op_stamp="12", delay=30))
    assert "\r\nStamp=771234\r\n" in text and "\r\nOpStamp=12\r\n" in text
    assert "\r\nDelay=30\r\n" in text


# --- ATTLOG -----------------------------------------------------------------------------


def test_attlog_realtime_line() -> None:
    records, errors = parse_attlog(fixture("attlog_realtime.txt"))
    assert errors == []
    assert records == [
        AttLog(
            line_no=1,
            pin="1001",
            local_time=datetime(2026, 1, 5, 7, 31, 2),
            ts=datetime(2026, 1, 5, 7, 31, 2, tzinfo=WIB7),
            status=0,
            verify=1,
            workcode="0",
            extra=("0", "0"),
        )
    ]
    # 07:31:02 at +7 is 00:31:02 UTC
    assert records[0].ts.astimezone(UTC) == datetime(2026, 1, 5, 0, 31, 2, tzinfo=UTC)


def test_attlog_batch_crlf_blank_line_trailing_fields() -> None:
    records, errors = parse_attlog(fixture("attlog_batch_crlf.txt"))
    assert errors == []
    # line 3 is blank: the third record is on line 4
    assert [(r.line_no, r.pin, r.local_time.strftime("%H:%M:%S")) for r in records] == [
        (1, "199001012015011001", "07:31:02"),
        (2, "198503152010122002", "07:44:59"),
        (4, "199001012015011001", "16:02:11"),
    ]
    assert records[0].extra == ("0", "0")  # the trailing empty fields are dropped
    assert (records[1].verify, records[1].workcode) == (15, None)  # empty workcode field
    assert records[2].status == 1


def test_attlog_prefix_and_spaces() -> None:
    records, errors = parse_attlog(fixture("attlog_prefixed_spaces.txt"))
    assert errors == []
    assert [(r.pin, r.local_time, r.status, r.verify) for r in records] == [
        ("1001", datetime(2026, 1, 5, 7, 31, 2), 0, 1),
        ("1002", datetime(2026, 1, 5, 7, 35, 0), 0, 1),
    ]
    assert records[0].workcode == "0" and records[1].workcode is None


def test_attlog_bad_lines_reported_good_lines_kept() -> None:
    records, errors = parse_attlog(fixture("attlog_with_bad_lines.txt"))
    assert [r.pin for r in records] == ["1001", "1005"]
    assert [e.line_no for e in errors] == [2, 3, 4]
    assert "kolom kurang" in errors[0].reason
    assert "tidak ada" in errors[1].reason  # month 13
    assert "format waktu" in errors[2].reason  # dd/mm/yyyy is not what devices send
    assert errors[0].raw == "1002"


def test_attlog_str_body_minimal_fields_and_cr_only() -> None:
    records, errors = parse_attlog("7\t2026-01-05 07:30\r8\t2026-01-05 07:30:59\t1")
    assert errors == []
    assert records[0].local_time == datetime(2026, 1, 5, 7, 30, 0)
    assert (records[0].status, records[0].verify, records[0].workcode) == (None, None, None)
    assert (records[1].line_no, records[1].status) == (2, 1)


def test_attlog_device_time_zone() -> None:
    # A device configured at +8 (WITA): 07:31:02 local is 06:31:02 WIB (one hour less)
    records, _ = parse_attlog(fixture("attlog_realtime.txt"), device_tz(8))
    assert records[0].ts == datetime(2026, 1, 5, 6, 31, 2, tzinfo=WIB7)
    assert records[0].local_time == datetime(2026, 1, 5, 7, 31, 2)


@pytest.mark.parametrize(
    ("value", "minutes"), [(None, 420), ("", 420), (7, 420), ("8", 480), ("420", 420), (-3, -180)]
)
def test_device_tz(value: object, minutes: int) -> None:
    assert device_tz(value).utcoffset(None) == timedelta(minutes=minutes)  # type: ignore[arg-type]


def test_device_tz_invalid() -> None:
    with pytest.raises(ValueError, match="zona waktu"):
        device_tz("WIB")
    with pytest.raises(ValueError, match="rentang"):
        device_tz(2000)


def test_default_tz_is_plus_seven() -> None:
    assert DEFAULT_DEVICE_TZ.utcoffset(None) == timedelta(hours=7)


# --- other tables -----------------------------------------------------------------------


def test_cdata_post_attlog() -> None:
    post = parse_cdata_post("attlog", fixture("attlog_with_bad_lines.txt"))
    assert (post.table, post.ignored, post.known) == ("ATTLOG", False, True)
    assert (len(post.records), len(post.errors), post.line_count) == (2, 3, 5)


def test_cdata_post_operlog_ignored() -> None:
    post = parse_cdata_post("OPERLOG", fixture("operlog.txt"))
    assert (post.ignored, post.known, post.records, post.errors) == (True, True, [], [])
    assert post.line_count == 3


def test_cdata_post_attphoto_binary_ignored() -> None:
    body = (
        b"PIN=20260105073102-1001.jpg\nSN=CQZ7232460123\nsize=4\nCMD=uploadphoto\x00"
        b"\xff\xd8\xff\xe0"  # the start of the JPEG
    )
    post = parse_cdata_post("ATTPHOTO", body)
    assert (post.table, post.ignored, post.known) == ("ATTPHOTO", True, True)


def test_cdata_post_unknown_table_is_ignored_but_marked() -> None:
    post = parse_cdata_post("NEWTHING", "a\tb\n")
    assert (post.ignored, post.known) == (True, False)


def test_post_ack() -> None:
    assert render_post_ack() == "OK"


# --- getrequest / devicecmd -------------------------------------------------------------


def test_getrequest_nothing_queued() -> None:
    assert render_getrequest([]) == "OK"


def test_getrequest_with_commands() -> None:
    start, end = datetime(2026, 1, 5, 0, 0, 0), datetime(2026, 1, 5, 23, 59, 59)
    text = render_getrequest(
        [DeviceCommand(17, query_attlog_command(start, end)), DeviceCommand(18, CMD_REBOOT)]
    )
    assert text == (
        "C:17:DATA QUERY ATTLOG StartTime=2026-01-05 00:00:00\tEndTime=2026-01-05 23:59:59\n"
        "C:18:REBOOT\n"
    )


def test_device_command_validation() -> None:
    with pytest.raises(ValueError, match="satu baris"):
        DeviceCommand(1, "REBOOT\nCLEAR DATA")
    with pytest.raises(ValueError, match="ID"):
        DeviceCommand("a:b", "REBOOT")


def test_devicecmd_results() -> None:
    results, errors = parse_devicecmd(fixture("devicecmd.txt"))
    assert errors == []
    assert [(r.id, r.return_code, r.cmd, r.ok) for r in results] == [
        ("17", 0, "DATA", True),
        ("18", -1002, "REBOOT", False),
    ]


def test_devicecmd_info_payload_and_bad_lines() -> None:
    body = (
        "ID=5&Return=0&CMD=INFO\n~DeviceName=SpeedFace\nFWVersion=Ver 6.60\n"
        "Return=0&CMD=DATA\nID=6&Return=x&CMD=DATA\n"
    )
    results, errors = parse_devicecmd(body)
    assert [(r.id, r.cmd) for r in results] == [("5", "INFO")]  # info lines belong to ID 5
    assert [e.line_no for e in errors] == [4, 5]
    assert "tanpa ID" in errors[0].reason and "bukan angka" in errors[1].reason


@pytest.mark.parametrize(
    ("when", "tz"),
    [
        ("0001-01-01 00:00:00", WIB7),  # a reset clock: 7 hours before year 1 in UTC
        ("9999-12-31 23:59:59", timezone(timedelta(hours=-12))),  # past year 9999 in UTC
        ("1899-12-31 23:59:59", WIB7),  # representable, but no clock of ours says this
        ("3000-01-01 07:00:00", WIB7),
    ],
)
def test_attlog_time_outside_the_scan_range_is_a_bad_line(when: str, tz: timezone) -> None:
    body = f"1001\t{when}\t0\t1\n1002\t2026-01-05 07:31:02\t0\t1\n"
    records, errors = parse_attlog(body, tz)
    assert [r.pin for r in records] == ["1002"]
    assert [e.line_no for e in errors] == [1]
    assert "di luar rentang" in errors[0].reason and when in errors[0].reason


def test_attlog_time_at_the_edges_of_the_scan_range_is_kept() -> None:
    records, errors = parse_attlog("1\t1900-01-01 07:00:00\n2\t2999-12-31 23:59:59\n")
    assert errors == []
    assert [r.ts.astimezone(UTC).year for r in records] == [1900, 2999]
