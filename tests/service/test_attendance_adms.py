"""ZKTeco ADMS endpoints through HTTP, with request bodies as devices send them
(tests/fixtures/adms/), on the in-memory broker."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from prometheus_client import REGISTRY
from sqlmodel import Session, select

from services.attendance.models import Device, DeviceCommand, Scan
from tests.service.test_attendance_support import Harness, make_harness
from tests.support import who


@pytest.fixture
async def harness(tmp_path: Path) -> AsyncIterator[Harness]:
    async with make_harness(tmp_path) as h:
        yield h


FIX = Path(__file__).resolve().parents[1] / "fixtures" / "adms"
NIP1 = "199001012015011001"  # the fixtures' 18-digit PINs are valid NIPs
NIP2 = "198503152010122002"
NIP_PIN = "198807172014032003"  # enrolled on devices as PIN 1001


def body(name: str) -> bytes:
    return (FIX / name).read_bytes()


def metric(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def register(
    h: Harness, sn: str = "CQZ7232460123", tz: str = "7", opd: str = "DISKOMINFO"
) -> None:
    r = await h.client.post(
        "/api/v1/devices", json={"sn": sn, "opd": opd, "lokasi": "Lobi", "zona_waktu": tz}
    )
    assert r.status_code == 201, r.text


def scans(h: Harness) -> list[tuple[str, str, str | None, str]]:
    with Session(h.kit.engine) as s:
        rows = s.exec(select(Scan).order_by(Scan.ts, Scan.nip)).all()  # type: ignore[arg-type]
    return [(r.nip, r.ts.strftime("%Y-%m-%dT%H:%M:%SZ"), r.device_sn, r.source) for r in rows]


async def test_unknown_device_is_refused_in_plain_text_and_counted(harness: Harness) -> None:
    h = harness
    before = metric("sikerja_adms_refused_total", reason="unknown_device")
    query = body("handshake_query.txt").decode().strip()
    r = await h.client.get(f"/iclock/cdata?{query}")
    assert r.status_code == 403
    assert r.headers["content-type"].startswith("text/plain")
    assert r.text.startswith("ERROR:") and "tidak terdaftar" in r.text
    post = await h.client.post(
        "/iclock/cdata?SN=NOPE&table=ATTLOG", content=body("attlog_batch_crlf.txt")
    )
    assert post.status_code == 403 and post.text.startswith("ERROR:")
    # two refusals: the handshake and the post
    assert metric("sikerja_adms_refused_total", reason="unknown_device") - before == 2
    assert scans(h) == []
    no_sn = await h.client.get("/iclock/getrequest")
    assert no_sn.status_code == 400 and "SN" in no_sn.text


async def test_handshake_gives_options_and_the_last_stored_stamp(harness: Harness) -> None:
    h = harness
    await register(h)
    query = body("handshake_query.txt").decode().strip()
    first = await h.client.get(f"/iclock/cdata?{query}")
    assert first.status_code == 200
    lines = first.text.splitlines()
    assert lines[0] == "GET OPTION FROM: CQZ7232460123"
    assert "Stamp=0" in lines and "TimeZone=7" in lines and "Realtime=1" in lines
    posted = await h.client.post(
        "/iclock/cdata?SN=CQZ7232460123&table=ATTLOG&Stamp=9999",
        content=body("attlog_realtime.txt"),
    )
    assert posted.text == "OK"
    again = await h.client.get(f"/iclock/cdata?{query}")
    assert "Stamp=9999" in again.text.splitlines()
    with Session(h.kit.engine) as s:
        device = s.get(Device, "CQZ7232460123")
        assert device is not None and device.firmware == "2.4.1"


async def test_attlog_batch_becomes_scans_and_events_once(harness: Harness) -> None:
    h = harness
    await register(h)
    await h.employee(NIP1)  # a NIP-looking PIN counts only for a known employee
    await h.employee(NIP2)
    url = "/iclock/cdata?SN=CQZ7232460123&table=ATTLOG&Stamp=1"
    r = await h.client.post(url, content=body("attlog_batch_crlf.txt"))
    assert r.status_code == 200 and r.text == "OK"
    # Device time is WIB (+7): 07:31:02 -> 00:31:02Z, 07:44:59 -> 00:44:59Z, 16:02:11 -> 09:02:11Z
    assert scans(h) == [
        (NIP1, "2026-01-05T00:31:02Z", "CQZ7232460123", "adms"),
        (NIP2, "2026-01-05T00:44:59Z", "CQZ7232460123", "adms"),
        (NIP1, "2026-01-05T09:02:11Z", "CQZ7232460123", "adms"),
    ]
    await h.flush()
    events = h.of("FingerprintRecorded")
    assert len(events) == 3
    assert {e.source for e in events} == {"adms"}
    assert {str(e.work_date) for e in events} == {"2026-01-05"}
    # The device resends the same batch (it missed our OK): nothing new.
    again = await h.client.post(url, content=body("attlog_batch_crlf.txt"))
    assert again.text == "OK"
    await h.flush()
    assert len(scans(h)) == 3 and len(h.of("FingerprintRecorded")) == 3


async def test_same_scan_from_two_devices_is_recorded_once(harness: Harness) -> None:
    h = harness
    await register(h, "DEV-A")
    await register(h, "DEV-B")
    await h.employee(NIP1)
    line = f"{NIP1}\t2026-01-05 07:31:02\t0\t1\t0\n".encode()
    for sn in ("DEV-A", "DEV-B"):
        r = await h.client.post(f"/iclock/cdata?SN={sn}&table=ATTLOG", content=line)
        assert r.text == "OK"
    assert scans(h) == [(NIP1, "2026-01-05T00:31:02Z", "DEV-A", "adms")]


async def test_pins_map_through_the_employee_projection_and_bad_lines_are_skipped(
    harness: Harness,
) -> None:
    h = harness
    await register(h)
    await h.employee(NIP_PIN, pin="1001")
    before_bad = metric("sikerja_adms_lines_total", result="bad")
    before_unknown = metric("sikerja_adms_lines_total", result="unknown_pin")
    r = await h.client.post(
        "/iclock/cdata?SN=CQZ7232460123&table=ATTLOG", content=body("attlog_with_bad_lines.txt")
    )
    assert r.status_code == 200 and r.text == "OK"
    # Line 1 (PIN 1001) is kept; lines 2-4 are broken; line 5 (PIN 1005) has no employee
    # yet: it waits in quarantine (tests/service/test_attendance_quarantine.py).
    assert scans(h) == [(NIP_PIN, "2026-01-05T00:31:02Z", "CQZ7232460123", "adms")]
    assert metric("sikerja_adms_lines_total", result="bad") - before_bad == 3
    assert metric("sikerja_adms_lines_total", result="unknown_pin") - before_unknown == 1


async def test_prefixed_lines_and_device_time_zone(harness: Harness) -> None:
    h = harness
    await register(h, "WITA-1", tz="8")
    await h.employee(NIP_PIN, pin="1001")
    await h.employee(NIP2, pin="1002")
    r = await h.client.post(
        "/iclock/cdata?SN=WITA-1&table=ATTLOG", content=body("attlog_prefixed_spaces.txt")
    )
    assert r.text == "OK"
    # A +8 device clock: 07:31:02 local is 23:31:02Z the day before; 07:35:00 is 23:35:00Z.
    assert scans(h) == [
        (NIP_PIN, "2026-01-04T23:31:02Z", "WITA-1", "adms"),
        (NIP2, "2026-01-04T23:35:00Z", "WITA-1", "adms"),
    ]


async def test_other_tables_are_acknowledged_and_ignored(harness: Harness) -> None:
    h = harness
    await register(h)
    for table in ("OPERLOG", "ATTPHOTO", "SOMETHINGNEW"):
        r = await h.client.post(
            f"/iclock/cdata?SN=CQZ7232460123&table={table}&Stamp=5", content=body("operlog.txt")
        )
        assert r.status_code == 200 and r.text == "OK", table
    assert scans(h) == []


async def test_getrequest_hands_out_queued_commands_and_devicecmd_records_results(
    harness: Harness,
) -> None:
    h = harness
    await register(h)
    idle = await h.client.get("/iclock/getrequest?SN=CQZ7232460123")
    assert idle.text == "OK"
    ids = []
    for command in ("CHECK", "REBOOT"):
        q = await h.client.post(
            "/api/v1/devices/CQZ7232460123/commands", json={"perintah": command}
        )
        assert q.status_code == 201, q.text
        ids.append(q.json()["id"])
    polled = await h.client.get("/iclock/getrequest?SN=CQZ7232460123")
    assert polled.text.splitlines() == [f"C:{ids[0]}:CHECK", f"C:{ids[1]}:REBOOT"]
    assert (await h.client.get("/iclock/getrequest?SN=CQZ7232460123")).text == "OK"
    result = f"ID={ids[0]}&Return=0&CMD=CHECK\nID={ids[1]}&Return=-1002&CMD=REBOOT\n"
    done = await h.client.post("/iclock/devicecmd?SN=CQZ7232460123", content=result)
    assert done.text == "OK"
    with Session(h.kit.engine) as s:
        rows = s.exec(select(DeviceCommand).order_by(DeviceCommand.id)).all()  # type: ignore[arg-type]
    assert [(r.command, r.return_code) for r in rows] == [("CHECK", 0), ("REBOOT", -1002)]
    unknown_sn = await h.client.post("/api/v1/devices/NOPE/commands", json={"perintah": "CHECK"})
    assert unknown_sn.status_code == 404


async def test_silent_device_shows_offline_in_the_list_and_the_metric(harness: Harness) -> None:
    h = harness
    await register(h, "QUIET")
    await register(h, "TALKY")
    await register(h, "NEVER")
    for sn in ("QUIET", "TALKY"):
        assert (await h.client.get(f"/iclock/getrequest?SN={sn}")).text == "OK"
    with Session(h.kit.engine) as s:
        quiet = s.get(Device, "QUIET")
        assert quiet is not None
        # silent for an hour; the default threshold is 15 minutes
        quiet.last_seen_at = datetime.now(UTC) - timedelta(hours=1)
        s.add(quiet)
        s.commit()
    listed = (await h.client.get("/api/v1/devices")).json()
    assert {d["sn"]: d["status"] for d in listed} == {
        "NEVER": "belum_pernah",
        "QUIET": "offline",
        "TALKY": "online",
    }
    assert metric("sikerja_device_offline", device="QUIET") == 1
    assert metric("sikerja_device_offline", device="TALKY") == 0


async def test_device_registration_is_validated(harness: Harness) -> None:
    h = harness
    bad_tz = await h.client.post(
        "/api/v1/devices", json={"sn": "X1", "opd": "DISKOMINFO", "zona_waktu": "abc"}
    )
    assert bad_tz.status_code == 422
    asn = await h.client.post(
        "/api/v1/devices", json={"sn": "X1", "opd": "DISKOMINFO"}, headers=who(None, "asn")
    )
    assert asn.status_code == 403


async def test_a_line_with_an_impossible_year_is_refused_alone(harness: Harness) -> None:
    h = harness
    await register(h)
    await h.employee(NIP1)
    await h.employee(NIP2)
    before_bad = metric("sikerja_adms_lines_total", result="bad")
    batch = (
        f"{NIP1}\t2026-01-05 07:31:02\t0\t1\n"
        f"{NIP1}\t0001-01-01 00:00:00\t0\t1\n"  # a reset clock: before year 1 in UTC
        f"{NIP2}\t9999-12-31 23:59:59\t0\t1\n"
        f"{NIP2}\t2026-01-05 07:44:59\t0\t1\n"
    )
    r = await h.client.post("/iclock/cdata?SN=CQZ7232460123&table=ATTLOG", content=batch)
    assert (r.status_code, r.text) == (200, "OK")
    assert scans(h) == [
        (NIP1, "2026-01-05T00:31:02Z", "CQZ7232460123", "adms"),
        (NIP2, "2026-01-05T00:44:59Z", "CQZ7232460123", "adms"),
    ]
    assert metric("sikerja_adms_lines_total", result="bad") - before_bad == 2


_GOOD_NIPS = [NIP1, NIP2, NIP_PIN]
_good_line = st.builds(
    lambda nip, dt: f"{nip}\t{dt:%Y-%m-%d %H:%M:%S}\t0\t1",
    st.sampled_from(_GOOD_NIPS),
    st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2030, 12, 31)),
)
_junk_line = st.one_of(
    st.text(max_size=40),
    st.builds(
        lambda pin, dt: f"{pin}\t{dt.isoformat(sep=' ', timespec='seconds')}\t0\t1",
        st.sampled_from([*_GOOD_NIPS, "1001", "x"]),
        st.datetimes(min_value=datetime.min, max_value=datetime.max),
    ),
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@example([(True, f"{NIP1}\t2026-01-05 07:31:02\t0\t1"), (False, f"{NIP2}\t0001-01-01 00:00:00")], 7)
@example([(False, f"{NIP2}\t9999-12-31 23:59:00"), (True, f"{NIP2}\t2026-01-05 07:31:02")], -1)
@given(
    st.lists(st.tuples(st.booleans(), st.one_of(_good_line, _junk_line)), max_size=12),
    st.integers(-12, 14),
)
async def test_any_junk_in_a_batch_leaves_every_good_line_stored(
    harness: Harness, lines: list[tuple[bool, str]], offset: int
) -> None:
    """One harness for all examples: a good line stored by an earlier example counts as
    stored (a duplicate), which is what a device resending it would get."""
    h = harness
    await register(h, "PROP-1", tz=str(offset))
    for nip in _GOOD_NIPS:
        await h.employee(nip)
    body = "\r\n".join(line for _, line in lines).encode("utf-8", "surrogatepass")
    r = await h.client.post("/iclock/cdata?SN=PROP-1&table=ATTLOG", content=body)
    assert (r.status_code, r.text) == (200, "OK")
    tz = timezone(timedelta(hours=offset))
    stored = {(nip, ts) for nip, ts, _, _ in scans(h)}
    for good, line in lines:
        if not good or line.count("\t") != 3 or line.split("\t")[0] not in _GOOD_NIPS:
            continue
        nip, when = line.split("\t")[:2]
        local = datetime.strptime(when, "%Y-%m-%d %H:%M:%S")
        if not 2020 <= local.year <= 2030:
            continue  # a junk line built like a good one
        utc = local.replace(tzinfo=tz).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        assert (nip, utc) in stored, line


# --- body size -------------------------------------------------------------------------

CAP = 2000


@pytest.fixture
async def capped(tmp_path: Path) -> AsyncIterator[Harness]:
    async with make_harness(tmp_path, adms_max_body_bytes=CAP) as h:
        yield h


class Chunks:
    """A request body sent in pieces; counts how many pieces the server pulled."""

    def __init__(self, piece: bytes, count: int) -> None:
        self.piece, self.count, self.pulled = piece, count, 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for _ in range(self.count):
            self.pulled += 1
            yield self.piece


def _lines(n: int, nip: str = NIP1) -> bytes:
    """`n` distinct ATTLOG lines of one NIP on 2026-01-05, 49 bytes each."""
    return b"".join(
        f"{nip}\t2026-01-05 {7 + i // 3600:02d}:{i // 60 % 60:02d}:{i % 60:02d}\t0\t1\n".encode()
        for i in range(n)
    )


async def test_a_body_up_to_the_cap_is_read_and_one_byte_more_is_refused(
    capped: Harness,
) -> None:
    h = capped
    await register(h)
    await h.employee(NIP1)
    before = metric("sikerja_adms_refused_total", reason="too_large")
    lines = _lines(40)  # 1,960 bytes
    at_cap = lines + b"\n" * (CAP - len(lines))
    url = "/iclock/cdata?SN=CQZ7232460123&table=ATTLOG"
    r = await h.client.post(url, content=at_cap)
    assert (r.status_code, r.text) == (200, "OK")
    assert len(scans(h)) == 40
    over = _lines(41)[-49:] + at_cap  # one more scan, CAP + 49 bytes
    refused = await h.client.post(url, content=over)
    assert refused.status_code == 413
    assert refused.text.startswith("ERROR:") and "batas" in refused.text
    assert len(scans(h)) == 40  # nothing of a refused body is stored
    assert metric("sikerja_adms_refused_total", reason="too_large") - before == 1


async def test_an_over_size_stream_is_refused_without_reading_the_rest(capped: Harness) -> None:
    h = capped
    await register(h)
    body = Chunks(_lines(10), 1000)  # 490 bytes a piece, 490 kB in all; chunked, no length
    r = await h.client.post("/iclock/cdata?SN=CQZ7232460123&table=ATTLOG", content=body)
    assert r.status_code == 413
    assert body.pulled <= CAP // 490 + 2  # stopped at the cap, not at the end
    assert scans(h) == []


async def test_a_declared_length_over_the_cap_is_refused_before_reading(capped: Harness) -> None:
    h = capped
    await register(h)
    body = Chunks(_lines(10), 100)
    r = await h.client.post(
        "/iclock/cdata?SN=CQZ7232460123&table=ATTLOG",
        content=body,
        headers={"content-length": "49000"},
    )
    assert r.status_code == 413 and "batas" in r.text
    assert body.pulled == 0
    result = await h.client.post(
        "/iclock/devicecmd?SN=CQZ7232460123", content=Chunks(b"ID=1&Return=0&CMD=CHECK\n", 200)
    )
    assert result.status_code == 413


# --- one NIP's scans, and absurd scan rates --------------------------------------------


async def test_scans_of_one_nip_are_filtered_by_period_and_paged(harness: Harness) -> None:
    h = harness
    await register(h)
    await h.employee(NIP1)
    january = _lines(7)  # 07:00:00 .. 07:00:06 WIB on 2026-01-05
    february = f"{NIP1}\t2026-02-02 07:30:00\t0\t1\n".encode()
    url = "/iclock/cdata?SN=CQZ7232460123&table=ATTLOG"
    r = await h.client.post(url, content=january + february)
    assert r.text == "OK"
    url = f"/api/v1/employees/{NIP1}/scans?period=2026-01&limit=3"
    seen: list[str] = []
    pages = 0
    while url:
        page = await h.client.get(url)
        assert page.status_code == 200, page.text
        assert len(page.json()) <= 3
        seen += [s["waktu_wib"] for s in page.json()]
        url = page.links.get("next", {}).get("url", "")
        pages += 1
    assert pages == 3
    assert seen == [f"2026-01-05 07:00:0{i}" for i in range(7)]
    everything = await h.client.get(f"/api/v1/employees/{NIP1}/scans")
    assert len(everything.json()) == 8 and "next" not in everything.links
    bad = await h.client.get(f"/api/v1/employees/{NIP1}/scans?period=2026-13")
    assert bad.status_code == 422 and bad.json()["code"] == "bad_period"
    too_many = await h.client.get(f"/api/v1/employees/{NIP1}/scans?limit=100000")
    assert too_many.status_code == 422


@pytest.fixture
async def strict(tmp_path: Path) -> AsyncIterator[Harness]:
    async with make_harness(tmp_path, max_scans_per_nip_day=5, max_device_scans_per_minute=30) as h:
        yield h


async def test_absurd_scans_of_one_nip_in_a_day_are_kept_counted_and_listed(
    strict: Harness,
) -> None:
    h = strict
    await register(h)
    await h.employee(NIP1)
    await h.employee(NIP2)
    before = metric("sikerja_adms_excess_scans_total", rule="nip_day", sn="CQZ7232460123")
    today = datetime.now(UTC).astimezone(timezone(timedelta(hours=7))) - timedelta(hours=1)
    stamp = today.strftime("%Y-%m-%d %H:%M")
    url = "/iclock/cdata?SN=CQZ7232460123&table=ATTLOG"
    first = "".join(f"{NIP1}\t{stamp}:{s:02d}\t0\t1\n" for s in range(4))  # 4: within limit
    assert (await h.client.post(url, content=first)).text == "OK"
    second = "".join(f"{NIP1}\t{stamp}:{s:02d}\t0\t1\n" for s in range(4, 8))  # 8 in all
    second += f"{NIP2}\t{stamp}:00\t0\t1\n"
    assert (await h.client.post(url, content=second)).text == "OK"
    assert len(scans(h)) == 9  # nothing dropped
    excess = metric("sikerja_adms_excess_scans_total", rule="nip_day", sn="CQZ7232460123")
    assert excess - before == 3  # scans 6, 7 and 8 of that day
    period = today.strftime("%Y-%m")
    listed = await h.client.get(f"/api/v1/scans/excessive?period={period}")
    assert listed.status_code == 200, listed.text
    days = listed.json()["nip_hari"]
    assert [(d["nip"], d["tanggal"], d["jumlah"], d["mesin"]) for d in days] == [
        (NIP1, today.date().isoformat(), 8, ["CQZ7232460123"])
    ]
    assert listed.json()["batas_per_hari"] == 5
    devices = (await h.client.get("/api/v1/devices")).json()
    assert devices[0]["pindaian_berlebih"] == [
        {"nip": NIP1, "tanggal": today.date().isoformat(), "jumlah": 8}
    ]
    asn = await h.client.get(f"/api/v1/scans/excessive?period={period}", headers=who(None, "asn"))
    assert asn.status_code == 403


async def test_a_device_pushing_more_scans_a_minute_than_a_reader_can_take_is_flagged(
    strict: Harness,
) -> None:
    h = strict
    await register(h)
    await h.employee(NIP1)
    await h.employee(NIP2)
    before = metric("sikerja_adms_excess_scans_total", rule="device_minute", sn="CQZ7232460123")
    # 40 scans within 07:31 on one device (20 each for two NIPs; each NIP-day stays
    # over its own limit too, counted apart).
    body = "".join(
        f"{nip}\t2026-01-05 07:31:{s:02d}\t0\t1\n" for nip in (NIP1, NIP2) for s in range(20)
    )
    r = await h.client.post("/iclock/cdata?SN=CQZ7232460123&table=ATTLOG", content=body)
    assert r.text == "OK" and len(scans(h)) == 40
    after = metric("sikerja_adms_excess_scans_total", rule="device_minute", sn="CQZ7232460123")
    assert after - before == 10  # 40 in one minute, 30 allowed


@pytest.fixture
async def sliced(tmp_path: Path) -> AsyncIterator[Harness]:
    async with make_harness(tmp_path, adms_lines_per_transaction=3) as h:
        yield h


async def test_a_long_body_is_stored_in_slices_and_its_stamp_only_after_the_last(
    sliced: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A backlog is stored a slice of lines per transaction (SQLite's writer is not held
    for the whole upload, nor its rows and events all in memory); the device's Stamp is
    stored only with the last slice, so a failure half-way never tells the device at its
    next handshake that the rest was stored."""
    from services.attendance import adms_api

    h = sliced
    await register(h)
    await h.employee(NIP1)
    before_bad = metric("sikerja_adms_lines_total", result="bad")
    lines = _lines(8).decode().splitlines()
    lines.insert(6, "not a scan")  # line 7 of the body
    url = "/iclock/cdata?SN=CQZ7232460123&table=ATTLOG&Stamp=77"
    bodies: list[bytes] = []
    real = adms_api._record_attlog

    def failing_third(*args: object) -> object:
        bodies.append(args[3])  # type: ignore[arg-type]
        if len(bodies) == 3:
            raise RuntimeError("the store went away")
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(adms_api, "_record_attlog", failing_third)
    failed = await h.client.post(url, content="\n".join(lines).encode())
    assert failed.status_code == 503  # not acknowledged: the device sends it all again
    assert len(scans(h)) == 6  # the first two slices were stored
    with Session(h.kit.engine) as s:
        device = s.get(Device, "CQZ7232460123")
        assert device is not None and device.attlog_stamp == "0"
    monkeypatch.setattr(adms_api, "_record_attlog", real)
    r = await h.client.post(url, content="\n".join(lines).encode())
    assert r.text == "OK"
    assert len(scans(h)) == 8
    assert metric("sikerja_adms_lines_total", result="bad") - before_bad == 1
    with Session(h.kit.engine) as s:
        device = s.get(Device, "CQZ7232460123")
        assert device is not None and device.attlog_stamp == "77"
    # each slice keeps the body's line numbers: the bad line is line 7 in its slice too
    assert bodies[2].decode().splitlines()[6] == "not a scan"
