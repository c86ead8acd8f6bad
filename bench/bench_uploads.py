"""Hostile uploads against attendance (uvicorn in a subprocess, real HTTP): how far each one
raises the service's resident memory. Not a test: the figures go to bench/README.md.

    uv run python -m bench.bench_uploads [--bomb-mb 300] [--big-mb 200]

Cases, one after another on the same process:
- bomb: an XLSX of a few hundred KB whose shared-strings part declares one string of
  --bomb-mb MB (multipart POST /api/v1/scans/import);
- big body: --big-mb MB of text/csv with a Content-Length;
- big chunked: the same without a length (the server must stop reading at the cap);
- big multipart: the same size as a multipart file part.

For each: the status, the detail's start, RSS before, the peak RSS sampled every 5 ms
during the request (from /proc) and the peak's rise over the RSS before. Needs Kafka on
SIKERJA_KAFKA_BOOTSTRAP (default 127.0.0.1:9092); fresh topics and groups per run.
"""

from __future__ import annotations

import argparse
import io
import os
import socket
import tempfile
import threading
import time
import uuid
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
from openpyxl import Workbook

from bench.bench_reports import start_service
from bench.tokens import keys_env, who

MIB = 1024 * 1024
OPERATOR: dict[str, str] = {}  # an operator's Authorization header, signed in main()


def bomb_xlsx(megabytes: int) -> bytes:
    """A workbook (nip, waktu) whose sheet holds, in cell A2, one inline string of
    `megabytes` MB (deflated to a few hundred KB), written in chunks."""
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["nip", "waktu"])
    plain = io.BytesIO()
    wb.save(plain)
    sheet = "xl/worksheets/sheet1.xml"
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(plain.getvalue())) as src,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as dst,
    ):
        for info in src.infolist():
            if info.filename != sheet:
                dst.writestr(info, src.read(info))
        with dst.open(sheet, "w", force_zip64=True) as member:
            member.write(
                b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                b'<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>nip</t></is></c>'
                b'<c r="B1" t="inlineStr"><is><t>waktu</t></is></c></row>'
                b'<row r="2"><c r="A2" t="inlineStr"><is><t>'
            )
            chunk = b"1" * MIB
            for _ in range(megabytes):
                member.write(chunk)
            member.write(
                b'</t></is></c><c r="B2" t="inlineStr"><is><t>2026-01-05 07:31:02</t></is>'
                b"</c></row></sheetData></worksheet>"
            )
    return out.getvalue()


def rss_kib(pid: int, field: str = "VmRSS") -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} not found for {pid}")


def measured(pid: int, send: Callable[[], Any]) -> tuple[Any, int, int]:
    """(send()'s result, RSS before in KiB, peak RSS during in KiB)."""
    before = rss_kib(pid)
    peak = before
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, rss_kib(pid))
            time.sleep(0.005)

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        result = send()
        time.sleep(0.3)  # let the server finish whatever it still does after answering
    finally:
        done.set()
        sampler.join()
    return result, before, max(peak, rss_kib(pid))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def body_chunks(total: int, chunk: int = MIB) -> Iterator[bytes]:
    """Exactly `total` bytes: a header line, then filler."""
    head = b"nip,waktu\n"
    yield head
    left = total - len(head)
    while left > 0:
        yield b"x" * min(chunk, left)
        left -= chunk


def post(client: httpx.Client, **kwargs: Any) -> tuple[int | str, str]:
    try:
        r = client.post(
            "/api/v1/scans/import", headers=OPERATOR | kwargs.pop("headers", {}), **kwargs
        )
    except httpx.HTTPError as exc:  # the server may answer early and close while we send
        return type(exc).__name__, ""
    detail = (
        r.json().get("detail", "") if r.headers.get("content-type", "").endswith("json") else ""
    )
    return r.status_code, str(detail)[:90]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bomb-mb", type=int, default=300)
    parser.add_argument("--big-mb", type=int, default=200)
    args = parser.parse_args()
    run = uuid.uuid4().hex[:8]
    tmp = Path(tempfile.mkdtemp(prefix="bench-uploads-"))
    port = free_port()
    env = {
        **os.environ,
        "SIKERJA_TOPIC_PREFIX": f"bu{run}.",
        "SIKERJA_DATA_DIR": str(tmp),
        "SIKERJA_DATABASE_URL": f"sqlite:///{tmp}/{{service}}.db",
        "SIKERJA_GROUP_SUFFIX": f"-bu{run}",
        "SIKERJA_ATTENDANCE_SCHEDULER_ENABLED": "false",
        "SIKERJA_LOG_LEVEL": "WARNING",
        **keys_env(tmp),  # the service verifies tokens signed with the bench's own key
    }
    OPERATOR.update(who(tmp, None, "operator"))
    bomb = bomb_xlsx(args.bomb_mb)
    big = args.big_mb * MIB
    proc = start_service("attendance", port, env, tmp / "uvicorn.log")
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=300) as client:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if client.get("/healthz").status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise SystemExit(f"attendance did not start; see {tmp / 'uvicorn.log'}")
                time.sleep(0.3)
            # a normal import first, so the baseline includes openpyxl and the import path
            warm = io.BytesIO()
            wb = Workbook()
            ws = wb.active
            assert ws is not None
            ws.append(["nip", "waktu"])
            wb.save(warm)
            post(client, files={"file": ("warm.xlsx", warm.getvalue())})
            cases: list[tuple[str, Callable[[], Any]]] = [
                (
                    f"bomb: {len(bomb) // 1024} KB XLSX, one {args.bomb_mb} MB cell",
                    lambda: post(client, files={"file": ("bom.xlsx", bomb)}),
                ),
                (
                    f"big body: {args.big_mb} MB text/csv with Content-Length",
                    lambda: post(
                        client,
                        content=body_chunks(big),
                        headers={"content-type": "text/csv", "content-length": str(big)},
                    ),
                ),
                (
                    f"big chunked: {args.big_mb} MB text/csv, no length",
                    lambda: post(
                        client, content=body_chunks(big), headers={"content-type": "text/csv"}
                    ),
                ),
                (
                    f"big multipart: {args.big_mb} MB file part",
                    lambda: post(client, files={"file": ("besar.csv", b"x" * big)}),
                ),
            ]
            print("| case | status | detail | RSS before | peak RSS | rise |")
            print("|---|---|---|---|---|---|")
            for name, send in cases:
                (status, detail), before, peak = measured(proc.pid, send)
                print(
                    f"| {name} | {status} | {detail} | {before / 1024:.0f} MiB | "
                    f"{peak / 1024:.0f} MiB | {(peak - before) / 1024:+.0f} MiB |"
                )
    finally:
        proc.terminate()
        proc.wait(timeout=30)


if __name__ == "__main__":
    main()
