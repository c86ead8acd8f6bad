"""ZKTeco ADMS ("iclock") push protocol: pure parsing and rendering, no HTTP framework.

What a device does, and which function serves it:

- ``GET /iclock/cdata?SN=..&options=all&pushver=..`` — the handshake:
  `parse_query` then `render_handshake`.
- ``POST /iclock/cdata?SN=..&table=ATTLOG&Stamp=..`` — attendance records (and other
  tables the device pushes): `parse_cdata_post` (ATTLOG via `parse_attlog`), answer
  `render_post_ack`.
- ``GET /iclock/getrequest?SN=..`` — the device polls for commands: `render_getrequest`.
- ``POST /iclock/devicecmd?SN=..`` — results of commands: `parse_devicecmd`, answer "OK".

Device clocks run in local time without an offset; the offset comes from the device's
configuration (TimeZone, hours; Kota Bekasi devices are +7).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone, tzinfo
from urllib.parse import parse_qsl

from services.attendance import domain

DEFAULT_DEVICE_TZ = timezone(timedelta(hours=7))

TABLE_ATTLOG = "ATTLOG"
# Tables devices push that attendance does not need: recognised, acknowledged, ignored.
IGNORED_TABLES: frozenset[str] = frozenset(
    {
        "OPERLOG",
        "OPLOG",
        "ATTPHOTO",
        "USERINFO",
        "USER",
        "FINGERTMP",
        "FP",
        "FACE",
        "BIODATA",
        "USERPIC",
        "BIOPHOTO",
        "ERRORLOG",
        "RTLOG",
        "RTSTATE",
        "OPTIONS",
        "WORKCODE",
        "SMS",
        "USER_SMS",
        "IDCARD",
    }
)
KNOWN_TABLES: frozenset[str] = IGNORED_TABLES | {TABLE_ATTLOG}


def device_tz(offset: int | float | str | None) -> tzinfo:
    """The device's TimeZone option as a tzinfo; None/blank means +7 (WIB).

    Firmwares report hours ("7"); a few report minutes ("420"): more than 14 is minutes.
    """
    if offset is None or str(offset).strip() == "":
        return DEFAULT_DEVICE_TZ
    try:
        value = float(str(offset).strip())
    except ValueError:
        raise ValueError(f"zona waktu mesin '{offset}' tidak valid") from None
    minutes = value if abs(value) > 14 else value * 60
    if abs(minutes) > 14 * 60:
        raise ValueError(f"zona waktu mesin '{offset}' di luar rentang")
    return timezone(timedelta(minutes=round(minutes)))


# --- query string -----------------------------------------------------------------------


@dataclass(frozen=True)
class IclockQuery:
    """The query parameters of an /iclock/* request (keys are case-insensitive)."""

    sn: str
    table: str | None = None
    stamp: str | None = None
    options: str | None = None
    pushver: str | None = None
    language: str | None = None
    extra: Mapping[str, str] = field(default_factory=dict)

    @property
    def is_handshake(self) -> bool:
        return self.table is None and (self.options or "").lower() == "all"


def parse_query(params: Mapping[str, str] | Iterable[tuple[str, str]] | str) -> IclockQuery:
    """Parse the query (a mapping, pairs or the raw query string). ValueError without SN."""
    if isinstance(params, str):
        pairs = parse_qsl(params.lstrip("?"), keep_blank_values=True)
    elif isinstance(params, Mapping):
        pairs = list(params.items())
    else:
        pairs = list(params)
    lowered = {k.strip().lower(): v.strip() for k, v in pairs}
    sn = lowered.pop("sn", "")
    if not sn:
        raise ValueError("nomor seri mesin (SN) tidak ada dalam permintaan")
    table = lowered.pop("table", None)
    return IclockQuery(
        sn=sn,
        table=table.upper() if table else None,
        stamp=lowered.pop("stamp", None),
        options=lowered.pop("options", None),
        pushver=lowered.pop("pushver", None),
        language=lowered.pop("language", None),
        extra=lowered,
    )


# --- handshake --------------------------------------------------------------------------


@dataclass(frozen=True)
class HandshakeOptions:
    """What the server tells a device at the handshake.

    Stamps are the last ones the server stored for this device; "0" makes the device
    upload everything it holds (safe: scans are deduplicated).
    """

    stamp: str = "0"
    op_stamp: str = "0"
    photo_stamp: str = "0"
    error_delay: int = 30  # seconds before retrying after a failed connection
    delay: int = 10  # seconds between getrequest polls
    trans_times: str = "00:00;14:05"  # extra scheduled uploads
    trans_interval: int = 1  # minutes between batched uploads
    trans_flag: str = "1111000000"
    realtime: int = 1  # push each scan as it happens
    encrypt: int = 0
    timezone: int = 7


def render_handshake(sn: str, options: HandshakeOptions | None = None) -> str:
    """The text answer to ``GET /iclock/cdata?SN=..&options=all``."""
    o = options or HandshakeOptions()
    lines = [
        f"GET OPTION FROM: {sn}",
        f"Stamp={o.stamp}",
        f"OpStamp={o.op_stamp}",
        f"PhotoStamp={o.photo_stamp}",
        f"ErrorDelay={o.error_delay}",
        f"Delay={o.delay}",
        f"TransTimes={o.trans_times}",
        f"TransInterval={o.trans_interval}",
        f"TransFlag={o.trans_flag}",
        f"Realtime={o.realtime}",
        f"Encrypt={o.encrypt}",
        f"TimeZone={o.timezone}",
    ]
    return "\r\n".join(lines) + "\r\n"


# --- ATTLOG -----------------------------------------------------------------------------


@dataclass(frozen=True)
class AttLog:
    """One attendance record as the device sent it."""

    line_no: int
    pin: str  # the user ID enrolled on the device
    local_time: datetime  # naive, the device clock
    ts: datetime  # tz-aware, local_time in the device's time zone
    status: int | None  # punch state (0 in, 1 out, ...); devices disagree, kept as given
    verify: int | None  # verify mode (1 fingerprint, 15 face, ...)
    workcode: str | None
    extra: tuple[str, ...] = ()


@dataclass(frozen=True)
class LineError:
    line_no: int
    reason: str  # Bahasa Indonesia
    raw: str


@dataclass(frozen=True)
class CdataPost:
    """A parsed ``POST /iclock/cdata`` body."""

    table: str
    records: list[AttLog]
    errors: list[LineError]
    ignored: bool  # a table attendance does not use (still acknowledged)
    known: bool  # False for a table name no firmware we know sends
    line_count: int


_ATTLOG_LINE = re.compile(
    r"^(?:ATTLOG\s+)?(?P<pin>\S+)[\t ]+"
    r"(?P<date>\d{4}-\d{1,2}-\d{1,2})[\t ]+"
    r"(?P<time>\d{1,2}:\d{1,2}(?::\d{1,2})?)"
    r"(?:[\t ](?P<rest>.*))?$"
)


def _text(body: bytes | str) -> str:
    if isinstance(body, bytes):
        return body.decode("utf-8", errors="replace")
    return body


def _opt_int(value: str | None) -> int | None:
    if value is None:
        return None
    value = value.strip()
    digits = value.removeprefix("-")
    # isdigit() alone accepts '²' and other digits int() refuses: ASCII only
    return int(value) if digits.isascii() and digits.isdigit() else None


def _attlog_fields(
    line_no: int, line: str, pin: str, local: datetime, rest: str, tz: tzinfo
) -> AttLog | LineError:
    ts = local.replace(tzinfo=tz)
    if problem := domain.scan_time_problem(ts):
        return LineError(line_no, problem, line)
    rest = rest.strip(" \r\n")
    fields = rest.split("\t") if "\t" in rest else rest.split()
    while fields and fields[-1].strip() == "":
        fields.pop()
    get = lambda i: fields[i].strip() if len(fields) > i else None  # noqa: E731
    return AttLog(
        line_no=line_no,
        pin=pin,
        local_time=local,
        ts=ts,
        status=_opt_int(get(0)),
        verify=_opt_int(get(1)),
        workcode=get(2) or None,
        extra=tuple(f.strip() for f in fields[3:]),
    )


def _parse_attlog_line_fast(line_no: int, line: str, tz: tzinfo) -> AttLog | LineError | None:
    """The form every firmware we know sends, ``PIN<TAB>YYYY-MM-DD HH:MM:SS<TAB>...``,
    without the regular expression; None for anything else (the general parser decides)."""
    parts = line.strip().split("\t", 2)
    if len(parts) < 2:
        return None
    pin, when = parts[0], parts[1]
    if len(when) != 19 or when[10] != " " or pin == TABLE_ATTLOG or pin.split() != [pin]:
        return None
    digits = when[:4] + when[5:7] + when[8:10] + when[11:13] + when[14:16] + when[17:]
    if not (digits.isascii() and digits.isdigit()):
        return None
    if when[4] != "-" or when[7] != "-" or when[13] != ":" or when[16] != ":":
        return None
    try:
        local = datetime.fromisoformat(when)
    except ValueError:
        return None  # e.g. 2026-02-30: the general parser words the error
    return _attlog_fields(line_no, line, pin, local, parts[2] if len(parts) > 2 else "", tz)


def _parse_attlog_line(line_no: int, line: str, tz: tzinfo) -> AttLog | LineError:
    return _parse_attlog_line_fast(line_no, line, tz) or _parse_attlog_line_general(
        line_no, line, tz
    )


def _parse_attlog_line_general(line_no: int, line: str, tz: tzinfo) -> AttLog | LineError:
    m = _ATTLOG_LINE.match(line.strip())
    if m is None:
        fields = [f for f in re.split(r"[\t ]+", line.strip()) if f]
        if fields and fields[0].upper() == TABLE_ATTLOG:
            fields = fields[1:]
        if len(fields) < 2:
            reason = "kolom kurang: baris harus berisi PIN dan waktu pindaian"
        else:
            reason = "format waktu tidak dikenali; seharusnya YYYY-MM-DD HH:MM:SS"
        return LineError(line_no, reason, line)
    hms = [int(x) for x in m["time"].split(":")] + [0]
    try:
        y, mo, d = (int(x) for x in m["date"].split("-"))
        local = datetime(y, mo, d, hms[0], hms[1], hms[2])
    except ValueError:
        return LineError(line_no, f"tanggal/jam '{m['date']} {m['time']}' tidak ada", line)
    return _attlog_fields(line_no, line, m["pin"], local, m["rest"] or "", tz)


def parse_attlog(
    body: bytes | str, tz: tzinfo = DEFAULT_DEVICE_TZ
) -> tuple[list[AttLog], list[LineError]]:
    """Parse an ATTLOG body: good records and per-line errors; a bad line drops only itself.

    Tolerated: an ``ATTLOG`` prefix, CRLF or CR, blank lines, trailing fields, spaces
    instead of tabs.
    """
    records: list[AttLog] = []
    errors: list[LineError] = []
    for line_no, line in enumerate(_text(body).splitlines(), start=1):
        if not line.strip():
            continue
        parsed = _parse_attlog_line(line_no, line, tz)
        if isinstance(parsed, AttLog):
            records.append(parsed)
        else:
            errors.append(parsed)
    return records, errors


def parse_cdata_post(
    table: str | None, body: bytes | str, tz: tzinfo = DEFAULT_DEVICE_TZ
) -> CdataPost:
    """Parse the body of ``POST /iclock/cdata?table=..``; only ATTLOG is read."""
    name = (table or "").strip().upper()
    if name == TABLE_ATTLOG:
        records, errors = parse_attlog(body, tz)
        return CdataPost(name, records, errors, False, True, len(records) + len(errors))
    # Counted without decoding: ATTPHOTO bodies carry a JPEG.
    count = sum(1 for ln in body.splitlines() if ln.strip())
    return CdataPost(name, [], [], True, name in KNOWN_TABLES, count)


def render_post_ack(post: CdataPost | None = None) -> str:
    """The answer to a cdata POST. "OK" makes the device drop what it sent.

    Bad lines are acknowledged too: resending them would never fix them, and they are
    reported through the parse errors instead.
    """
    return "OK"


# --- commands ---------------------------------------------------------------------------


@dataclass(frozen=True)
class DeviceCommand:
    id: int | str
    command: str

    def __post_init__(self) -> None:
        if ":" in str(self.id) or not str(self.id).strip():
            raise ValueError("ID perintah mesin tidak valid")
        if "\n" in self.command or "\r" in self.command or not self.command.strip():
            raise ValueError("perintah mesin harus satu baris dan tidak kosong")


def render_getrequest(commands: Iterable[DeviceCommand] = ()) -> str:
    """The answer to ``GET /iclock/getrequest``: "OK", or ``C:<id>:<cmd>`` lines."""
    lines = [f"C:{c.id}:{c.command}" for c in commands]
    return "\n".join(lines) + "\n" if lines else "OK"


def query_attlog_command(start: datetime, end: datetime) -> str:
    """Ask a device to re-upload the scans between two device-local times."""
    fmt = "%Y-%m-%d %H:%M:%S"
    return f"DATA QUERY ATTLOG StartTime={start.strftime(fmt)}\tEndTime={end.strftime(fmt)}"


CMD_REBOOT = "REBOOT"
CMD_CHECK = "CHECK"  # the device re-reads its options and re-sends newer records


@dataclass(frozen=True)
class CommandResult:
    """One line of a ``POST /iclock/devicecmd`` body: ``ID=..&Return=..&CMD=..``."""

    id: str
    return_code: int  # 0 success; negative values are device error codes
    cmd: str
    extra: Mapping[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.return_code == 0


def parse_devicecmd(body: bytes | str) -> tuple[list[CommandResult], list[LineError]]:
    """Command results of a devicecmd body; lines without ID/Return are errors."""
    results: list[CommandResult] = []
    errors: list[LineError] = []
    for line_no, line in enumerate(_text(body).splitlines(), start=1):
        if not line.strip():
            continue
        pairs = {k.strip().upper(): v.strip() for k, v in parse_qsl(line.strip(), True)}
        if results and not pairs.keys() & {"ID", "RETURN", "CMD"}:
            continue  # INFO and similar commands add key=value lines after their result line
        cmd_id, ret = pairs.pop("ID", ""), pairs.pop("RETURN", None)
        if not cmd_id or ret is None:
            errors.append(LineError(line_no, "baris hasil perintah tanpa ID atau Return", line))
            continue
        code = _opt_int(ret)
        if code is None:
            errors.append(LineError(line_no, f"nilai Return '{ret}' bukan angka", line))
            continue
        results.append(CommandResult(cmd_id, code, pairs.pop("CMD", ""), pairs))
    return results, errors
