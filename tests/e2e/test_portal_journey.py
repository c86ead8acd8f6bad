"""End to end in Chromium (Debian's, /usr/bin/chromium, driven by Playwright): the portal and
the services as uvicorn subprocesses on the real local broker (own topics and groups).

An ASN's scan arrives from a registered device (/iclock/cdata); the ASN logs in, sees it on
"Hari ini", files a report with a photo; the atasan rejects it with a reason; the ASN reads
the notice and sends a corrected report for that day; the atasan approves it; a BKPSDM logs
in with TOTP and opens the accounts page, the city dashboard and BKPSDM's other pages (rule
sets and a preview, openings with one recorded, SIASN, anomalies); an OPD operator opens
each of their pages and queues a device command; an auditor opens the anomaly report. On the
way the ASN adds an SKP target and the atasan reads the team's month and names then revokes
a Plt, and opens the monthly kinerja page. BKPSDM opens the annulment, device-outage and
penilai pages, opens the phone menu by keyboard, and annuls a TK cut of the ASN with a PDF;
the ASN sees that line at Rp 0 on "TPP saya"; the operator and the auditor read the
annulments. Every page is checked with axe-core (no serious or critical violation) and
photographed at 360 px and 1280 px into var/screenshots (ignored by git)."""

from __future__ import annotations

import asyncio
import json
import os
import re
import struct
import subprocess
import sys
import time
import zlib
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pyotp
import pytest
from aiokafka import AIOKafkaProducer

from contracts.events import AttendanceDayClosed, EmployeeUpserted
from services.kernel.calendar import WIB
from services.shared.settings import Settings
from tests import factories
from tests.infra import Kafka, drop_topics
from tests.support import free_port, key_settings, who

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("SIKERJA_CHROMIUM", "/usr/bin/chromium"))
SHOTS = REPO / "var" / "screenshots"
SERVICES = ("attendance", "activity", "approval", "tpp", "notifier", "siasn", "portal")
OPD = "Dinas Komunikasi dan Informatika"
PASSWORD = "Bekasi-Kerja-2026"
DEVICE = "E2E0001"
WAIT_S = 30.0  # for one event to travel a service, the broker and the next service


def setup_module() -> None:
    # A missing browser fails the run (a skipped e2e test would pass for nothing).
    assert CHROMIUM.exists(), f"{CHROMIUM} missing: deploy/local/chromium.sh install (./dev test)"


def png() -> bytes:
    """A real 8x8 PNG (a phone photo's stand-in)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    raw = b"".join(b"\x00" + b"\x20\x80\xc0" * 8 for _ in range(8))
    header = struct.pack(">IIBBBBB", 8, 8, 8, 2, 0, 0, 0)
    return b"".join([b"\x89PNG\r\n\x1a\n", chunk(b"IHDR", header),
                     chunk(b"IDAT", zlib.compress(raw)), chunk(b"IEND", b"")])  # fmt: skip


def pdf() -> bytes:
    """A minimal PDF (a scanned berita acara's stand-in)."""
    return b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def day_before(day: date) -> date:
    """The weekday before `day`."""
    day -= timedelta(days=1)
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return day


def work_day(now: datetime) -> date:
    """Today, or the last Friday on a weekend (its filing deadline is still ahead)."""
    day = now.astimezone(WIB).date()
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return day


class Stack:
    """The services and the portal as uvicorn subprocesses sharing one environment."""

    def __init__(self, tmp: Path, kafka: Kafka, redis_url: str, run_id: str) -> None:
        self.ports = {name: free_port() for name in SERVICES}
        keys = key_settings()
        self.prefix = f"e2e{run_id}."
        self.env = {
            **os.environ,
            "SIKERJA_KAFKA_BOOTSTRAP": kafka.bootstrap,
            "SIKERJA_DATA_DIR": str(tmp),
            "SIKERJA_DATABASE_URL": f"sqlite:///{tmp}/{{service}}.db",
            "SIKERJA_REDIS_URL": redis_url,
            "SIKERJA_PORTS": json.dumps(self.ports),
            "SIKERJA_TOPIC_PREFIX": self.prefix,
            "SIKERJA_GROUP_SUFFIX": f"-e2e{run_id}",
            "SIKERJA_JWKS": keys["jwks"],
            "SIKERJA_SIGNING_KEY": str(keys["signing_key"]),
            "SIKERJA_RELAY_INTERVAL_S": "0.1",
            "SIKERJA_RETRY_BACKOFF_S": "0.05",
            "SIKERJA_LOG_LEVEL": "WARNING",
        }
        self.settings = Settings(
            kafka_bootstrap=kafka.bootstrap, ports=self.ports, topic_prefix=self.prefix
        )
        self.logs = tmp / "logs"
        self.logs.mkdir()
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.ports[name]}"

    def start(self) -> None:
        for name in SERVICES:
            self.procs[name] = subprocess.Popen(
                [
                    sys.executable, "-m", "uvicorn", "--factory", f"services.{name}.app:create",
                    "--host", "127.0.0.1", "--port", str(self.ports[name]),
                    "--log-level", "warning", "--no-access-log",
                ],
                cwd=REPO, env=self.env,
                stdout=(self.logs / f"{name}.log").open("wb"), stderr=subprocess.STDOUT,
            )  # fmt: skip
        deadline = time.monotonic() + 180  # seven processes starting on a busy machine
        for name in SERVICES:
            answer = "no answer"
            while True:
                try:
                    ready = httpx.get(f"{self.url(name)}/readyz", timeout=2)
                    if ready.status_code == 200:
                        break
                    answer = f"{ready.status_code} {ready.text[:500]}"
                except httpx.TransportError as exc:
                    answer = repr(exc)
                if time.monotonic() > deadline or self.procs[name].poll() is not None:
                    raise AssertionError(f"{name} not ready ({answer}):\n{self.tail(name)}")
                time.sleep(0.3)

    def tail(self, name: str) -> str:
        return (self.logs / f"{name}.log").read_text(errors="replace")[-3000:]

    def stop(self) -> None:
        for proc in self.procs.values():
            proc.terminate()
        for proc in self.procs.values():
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()


@pytest.fixture
def stack(tmp_path: Path, kafka: Kafka, redis_url: str, run_id: str) -> Iterator[Stack]:
    s = Stack(tmp_path, kafka, redis_url, run_id)
    try:
        s.start()
        yield s
    finally:
        s.stop()
        asyncio.run(drop_topics(kafka.bootstrap, s.prefix, f"-e2e{run_id}"))


def until(probe: Callable[[], Any], what: str, timeout: float = WAIT_S) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout:.0f} s: {what}")
        time.sleep(0.3)


async def publish(stack: Stack, events: list[EmployeeUpserted] | list[AttendanceDayClosed]) -> None:
    """Events as their producer puts them on their topic (siasn's EmployeeUpserted...)."""
    producer = AIOKafkaProducer(bootstrap_servers=stack.settings.kafka_bootstrap, acks="all")
    await producer.start()
    try:
        for event in events:
            await producer.send(stack.settings.topic(event.TOPIC.value), event.to_bytes(),
                                key=event.key)  # fmt: skip
        await producer.flush()
    finally:
        await producer.stop()


def employee(nip: str, atasan: str | None, nama: str) -> EmployeeUpserted:
    return EmployeeUpserted(
        occurred_at=datetime.now(UTC), producer="siasn", nip=nip, nama=nama, opd=OPD,
        jabatan="Pranata Komputer", kelas_jabatan=8, atasan_nip=atasan, tpp_pagu=5_300_000,
    )  # fmt: skip


def test_asn_and_atasan_journey_in_chromium(stack: Stack) -> None:
    from axe_playwright_python.sync_playwright import Axe
    from playwright.sync_api import Page, expect, sync_playwright

    started = time.monotonic()
    boss, staff, bk, rudi, ops, aud = (factories.nip() for _ in range(6))
    asyncio.run(publish(stack, [employee(boss, None, "Siti Rahmawati"),
                                employee(staff, boss, "Ahmad Fauzi"),
                                employee(bk, None, "Dewi Lestari"),
                                employee(rudi, boss, "Rudi Hartono"),
                                employee(ops, boss, "Rina Operator"),
                                employee(aud, None, "Budi Inspektur")]))  # fmt: skip
    admin = who(factories.nip(), "bkpsdm", None)
    portal = httpx.Client(base_url=stack.url("portal"), headers=admin, timeout=10)
    for nip in (boss, staff, bk, rudi, ops, aud):
        until(lambda n=nip: portal.get(f"/api/v1/accounts/{n}").status_code == 200,
              f"the portal's account of {nip}")  # fmt: skip
        code = portal.post(f"/api/v1/accounts/{nip}/setup-code").json()["code"]
        r = portal.post("/api/v1/first-password",
                        json={"nip": nip, "code": code, "new_password": PASSWORD})  # fmt: skip
        assert r.status_code == 204, r.text
    for nip, grant in ((bk, {"role": "bkpsdm"}), (ops, {"role": "operator", "opd": OPD}),
                       (aud, {"role": "auditor"})):  # fmt: skip
        assert portal.post(f"/api/v1/accounts/{nip}/grants", json=grant).status_code == 201

    # the device is registered, then pushes the ASN's morning scan
    day = work_day(datetime.now(UTC))
    scanned = min(datetime(day.year, day.month, day.day, 7, 12, tzinfo=WIB),
                  datetime.now(WIB) - timedelta(minutes=1))  # fmt: skip
    attendance = httpx.Client(base_url=stack.url("attendance"), timeout=10)
    r = attendance.post("/api/v1/devices", json={"sn": DEVICE, "opd": OPD}, headers=admin)
    assert r.status_code == 201, r.text
    line = f"{staff}\t{scanned:%Y-%m-%d %H:%M:%S}\t0\t1\t0\t0\t0\r\n"
    r = attendance.post(f"/iclock/cdata?SN={DEVICE}&table=ATTLOG&Stamp=1", content=line)
    assert (r.status_code, r.text) == (200, "OK")
    activity = httpx.Client(base_url=stack.url("activity"), timeout=10,
                            headers=who(staff, "asn", OPD))  # fmt: skip
    until(lambda: activity.get(f"/api/v1/employees/{staff}/filing-status",
                               params={"work_date": day.isoformat()}).json().get("allowed"),
          "the scan unlocking the day at activity")  # fmt: skip

    SHOTS.mkdir(parents=True, exist_ok=True)
    axe = Axe()
    serious: list[str] = []

    def look(page: Page, name: str) -> None:
        """axe on the page, and its screenshots at 360 px and 1280 px."""
        for rule in axe.run(page).response["violations"]:
            if rule["impact"] in ("serious", "critical"):
                serious.append(f"{name}: {rule['id']} ({rule['impact']}): {rule['help']}")
        size = page.viewport_size or {"width": 1280, "height": 800}
        for width in (360, 1280):
            page.set_viewport_size({"width": width, "height": 800})
            page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)
        page.set_viewport_size(size)

    def login(page: Page, nip: str) -> None:
        page.goto(f"{stack.url('portal')}/masuk")
        page.get_by_label("NIP").fill(nip)
        page.get_by_label("Kata sandi atau kode sekali pakai").fill(PASSWORD)
        page.get_by_role("button", name="Masuk").click()

    def enrol_totp(page: Page, nip: str) -> None:
        """A privileged login: the TOTP enrolment at the first one, then home."""
        login(page, nip)
        secret = until(lambda: re.search(r"<code>([A-Z2-7]{16,})</code>", page.content()),
                       "the TOTP enrolment page").group(1)  # fmt: skip
        page.get_by_label("Kode autentikator").fill(pyotp.TOTP(secret).now())
        page.get_by_role("button", name="Daftarkan").click()
        page.get_by_role("link", name="Lanjut ke beranda").click()

    def visit(page: Page, pages: tuple[tuple[str, str], ...]) -> None:
        """Each page as this person: its heading, axe and the two widths."""
        for path, name in pages:
            page.goto(f"{stack.url('portal')}{path}")
            expect(page.get_by_role("heading", level=1)).to_be_visible()
            expect(page.get_by_text("Halaman itu bukan untuk peran Anda.")).to_have_count(0)
            look(page, name)

    def reload_until(page: Page, text: str, what: str) -> None:
        def seen() -> bool:
            page.reload()
            return text in page.content()

        until(seen, what)

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            asn = browser.new_context(viewport={"width": 360, "height": 800}).new_page()
            asn.goto(f"{stack.url('portal')}/masuk")
            look(asn, "masuk")
            login(asn, staff)
            expect(asn.get_by_role("heading", name="Hari ini", exact=True)).to_be_visible()
            if day == datetime.now(WIB).date():
                expect(asn.get_by_text(f"{scanned:%H.%M}")).to_be_visible()
            look(asn, "hari-ini")

            asn.goto(f"{stack.url('portal')}/laporan/baru?tanggal={day.isoformat()}")
            look(asn, "laporan-baru")
            asn.get_by_label("Apa yang Anda kerjakan").fill("Memasang jaringan di ruang rapat")
            asn.get_by_label("Hasilnya").fill("titik jaringan")
            asn.get_by_label("Jumlah hasil").fill("2")
            asn.get_by_label("Lama kerja (menit)").fill("120")
            asn.get_by_label("Foto bukti").set_input_files(
                files=[{"name": "foto.png", "mimeType": "image/png", "buffer": png()}]
            )
            asn.get_by_role("button", name="Kirim laporan").click()
            expect(asn.get_by_text("Laporan terkirim ke atasan.")).to_be_visible()
            look(asn, "laporan-saya")

            atasan = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
            login(atasan, boss)
            atasan.goto(f"{stack.url('portal')}/persetujuan")
            reload_until(atasan, "Memasang jaringan", "the report in the atasan's queue")
            look(atasan, "persetujuan")
            atasan.get_by_text("Tolak atau minta revisi").click()
            atasan.get_by_label("Alasan").fill("Foto tidak menunjukkan ruang rapat; kirim ulang.")
            atasan.get_by_role("button", name="Tolak").click()
            expect(atasan.get_by_text("Laporan ditolak")).to_be_visible()

            asn.goto(f"{stack.url('portal')}/pemberitahuan")
            reload_until(asn, "kirim ulang", "the rejection's notice in the ASN's inbox")
            look(asn, "pemberitahuan")
            asn.goto(f"{stack.url('portal')}/laporan?periode={day:%Y-%m}")
            reload_until(asn, "Ditolak", "the rejection on the ASN's reports")
            asn.get_by_role("link", name="Kirim laporan baru untuk tanggal ini").click()
            asn.get_by_label("Apa yang Anda kerjakan").fill(
                "Memasang jaringan di ruang rapat lantai 3 (foto ruang rapat terlampir)"
            )
            asn.get_by_label("Hasilnya").fill("titik jaringan")
            asn.get_by_label("Lama kerja (menit)").fill("120")
            asn.get_by_label("Foto bukti").set_input_files(
                files=[{"name": "ruang-rapat.png", "mimeType": "image/png", "buffer": png()}]
            )
            asn.get_by_role("button", name="Kirim laporan").click()
            expect(asn.get_by_text("Laporan terkirim ke atasan.")).to_be_visible()

            atasan.goto(f"{stack.url('portal')}/persetujuan")
            reload_until(atasan, "lantai 3", "the corrected report in the queue")
            atasan.get_by_role("checkbox").first.check()
            atasan.get_by_role("button", name="Setujui yang dipilih").click()
            expect(atasan.get_by_text("1 laporan disetujui.")).to_be_visible()

            asn.goto(f"{stack.url('portal')}/laporan?periode={day:%Y-%m}")
            reload_until(asn, "Disetujui", "the approval on the ASN's reports")
            asn.goto(f"{stack.url('portal')}/tpp?periode={day:%Y-%m}")
            look(asn, "tpp")
            # the ASN's SKP targets: add one, see it in the table
            asn.goto(f"{stack.url('portal')}/skp?periode={day:%Y-%m}")
            asn.get_by_label("Kegiatan").fill("Memelihara jaringan kantor")
            asn.get_by_label("Indikator").fill("titik jaringan")
            asn.get_by_label("Target jumlah setahun").fill("24")
            asn.get_by_role("button", name="Simpan target").click()
            expect(asn.get_by_text("Target SKP tersimpan.", exact=False)).to_be_visible()
            look(asn, "skp")

            # the atasan's month of the team, and a Plt named then revoked
            atasan.goto(f"{stack.url('portal')}/bawahan?periode={day:%Y-%m}")
            expect(atasan.get_by_text("Rudi Hartono")).to_be_visible()
            look(atasan, "bawahan")
            atasan.goto(f"{stack.url('portal')}/plt")
            atasan.get_by_label("NIP Plt").fill(bk)
            now_wib = datetime.now(WIB).date()  # running today: it can be revoked
            atasan.get_by_label("Mulai tanggal").fill(now_wib.isoformat())
            atasan.get_by_label("Sampai tanggal").fill((now_wib + timedelta(days=2)).isoformat())
            atasan.get_by_role("button", name="Tunjuk Plt").click()
            expect(atasan.get_by_text("Dewi Lestari (NIP")).to_be_visible()
            look(atasan, "plt")
            atasan.get_by_role("button", name="Cabut").click()
            expect(atasan.get_by_text("Penunjukan Plt dicabut", exact=False)).to_be_visible()
            visit(atasan, ((f"/kinerja?periode={day:%Y-%m}", "kinerja"),))

            # BKPSDM: TOTP enrolment at the first login, then the accounts and the dashboard
            office = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
            enrol_totp(office, bk)
            office.goto(f"{stack.url('portal')}/pegawai")
            expect(office.get_by_text("Ahmad Fauzi")).to_be_visible()
            look(office, "pegawai")
            office.goto(f"{stack.url('portal')}/dasbor?periode={day:%Y-%m}")
            look(office, "dasbor")
            # BKPSDM's other pages: axe and the two widths on each
            visit(office, (
                (f"/kalender?tahun={day:%Y}", "kalender"),
                (f"/periode?periode={day:%Y-%m}", "periode"),
                ("/peran", "peran"),
                ("/audit", "audit"),
                (f"/aturan?periode={day:%Y-%m}", "aturan"),
                (f"/aturan/pratinjau?periode={day:%Y-%m}&aturan=contoh-daerah-lain",
                 "aturan-pratinjau"),
                ("/pembukaan", "pembukaan"),
                ("/siasn", "siasn"),
                ("/siasn/hasil", "siasn-hasil"),
                (f"/anomali?periode={day:%Y-%m}", "anomali"),
                (f"/pembatalan?periode={day:%Y-%m}", "pembatalan"),
                ("/pembatalan/baru", "pembatalan-baru"),
                (f"/gangguan-mesin?periode={day:%Y-%m}", "gangguan-mesin"),
                ("/penilai", "penilai"),
            ))  # fmt: skip
            # long work: once sent, the preview shows its progress bar and cannot be sent twice
            office.goto(f"{stack.url('portal')}/aturan?periode={day:%Y-%m}")
            shown = office.evaluate("""() => {
                const form = document.querySelector("form[data-proses]");
                form.addEventListener("submit", (e) => e.preventDefault());  // stay here
                form.requestSubmit();
                return [form.querySelector(".proses").hidden,
                        form.querySelector("button[type=submit]").disabled];
            }""")
            assert shown == [False, True], shown
            # on a phone the 16 links wait behind one "Menu" (no script): opened by keyboard,
            # grouped, axe on it open
            office.set_viewport_size({"width": 360, "height": 800})
            office.goto(f"{stack.url('portal')}/")
            menu = office.get_by_role("navigation", name="Menu utama")
            audit_link = menu.get_by_role("link", name="Log audit")
            expect(audit_link).to_be_hidden()
            office.locator("summary", has_text="Menu").focus()
            office.keyboard.press("Enter")
            expect(audit_link).to_be_visible()
            expect(office.get_by_role("list", name="Dasbor & audit")).to_be_visible()
            look(office, "menu-terbuka")
            office.set_viewport_size({"width": 1280, "height": 800})
            expect(audit_link).to_be_visible()  # wide: every link in view
            # the day before, the ASN was absent without a word (TK, 5% of the pagu): BKPSDM
            # annuls that cut with a PDF, and the ASN's statement shows the line at Rp 0
            before = day_before(day)
            closed = factories.day_closed(staff, before, 9, datetime.now(UTC),
                                          status="tanpa_keterangan")  # fmt: skip
            with ThreadPoolExecutor(1) as pool:  # playwright's loop runs in this thread
                pool.submit(asyncio.run, publish(stack, [closed])).result()
            asn.goto(f"{stack.url('portal')}/tpp?periode={before:%Y-%m}")
            reload_until(asn, "Tidak masuk kerja tanpa keterangan", "the TK line on TPP saya")
            office.goto(f"{stack.url('portal')}/pembatalan/baru")
            office.get_by_label("Tanggal potongan").fill(before.isoformat())
            office.get_by_label("NIP pegawai").fill(staff)
            office.get_by_label("Potongan yang dibatalkan").select_option("TK")
            office.get_by_label("Alasan").fill("Banjir menutup akses ke kantor")
            document = {"name": "berita-acara.pdf", "mimeType": "application/pdf", "buffer": pdf()}
            office.get_by_label("Dokumen pendukung").set_input_files(files=[document])
            office.get_by_role("button", name="Simpan pembatalan").click()
            expect(office.get_by_role("status")).to_contain_text("Pembatalan potongan tercatat.")
            expect(office.get_by_role("link", name="berita-acara.pdf")).to_be_visible()
            look(office, "pembatalan-rinci")
            office.get_by_role("link", name="Cabut pembatalan ini").click()
            expect(office.get_by_role("button", name="Ya, cabut pembatalan")).to_be_visible()
            look(office, "pembatalan-cabut")
            asn.goto(f"{stack.url('portal')}/tpp?periode={before:%Y-%m}")
            expect(asn.get_by_text("Dibatalkan BKPSDM, tidak dipotong.")).to_be_visible()
            expect(asn.get_by_text("Alasan: Banjir menutup akses ke kantor")).to_be_visible()
            look(asn, "tpp-dibatalkan")
            # an opening for the ASN, then the list shows who opened it and why
            office.goto(f"{stack.url('portal')}/pembukaan")
            office.get_by_label("NIP pegawai").fill(staff)
            office.get_by_label("Tanggal yang dibuka").fill(day.isoformat())
            office.get_by_label("Alasan").fill("Jaringan kantor putus sepanjang hari")
            office.get_by_role("button", name="Buka tanggal").click()
            expect(office.get_by_role("status")).to_contain_text(f"dibuka untuk NIP {staff}")
            expect(office.get_by_text("Jaringan kantor putus sepanjang hari")).to_be_visible()
            look(office, "pembukaan-tercatat")

            # the OPD operator's pages, on a phone: each one, and a command for the device
            operator = browser.new_context(viewport={"width": 360, "height": 800}).new_page()
            enrol_totp(operator, ops)
            visit(operator, (
                (f"/ketidakhadiran?periode={day:%Y-%m}", "op-ketidakhadiran"),
                ("/mesin", "op-mesin"),
                ("/impor", "op-impor"),
                (f"/rekap?tanggal={day.isoformat()}", "op-rekap"),
                ("/pegawai", "op-pegawai"),
                (f"/tpp-opd?periode={day:%Y-%m}", "op-tpp"),
                (f"/pembatalan?periode={before:%Y-%m}", "op-pembatalan"),
                (f"/mesin/{DEVICE}/perintah", "op-perintah"),
            ))  # fmt: skip
            operator.get_by_label("Periksa dan kirim pindaian yang belum terkirim").check()
            operator.get_by_role("button", name="Kirim perintah").click()
            expect(operator.get_by_role("status")).to_contain_text("menunggu mesin")
            expect(operator.get_by_text("Menunggu mesin terhubung")).to_be_visible()
            look(operator, "op-perintah-terkirim")

            # the auditor (Inspektorat): the anomaly report and the audit log
            auditor = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
            enrol_totp(auditor, aud)
            visit(auditor, ((f"/anomali?periode={day:%Y-%m}", "auditor-anomali"),
                            ("/audit", "auditor-audit"),
                            (f"/pembatalan?periode={before:%Y-%m}",
                             "auditor-pembatalan")))  # fmt: skip

            # a guessed password, again and again: the account locks, the page says so
            guess = browser.new_context(viewport={"width": 360, "height": 800}).new_page()
            for attempt in range(6):
                guess.goto(f"{stack.url('portal')}/masuk")
                guess.get_by_label("NIP").fill(rudi)
                guess.get_by_label("Kata sandi atau kode sekali pakai").fill(f"tebakan-{attempt}")
                guess.get_by_role("button", name="Masuk").click()
            expect(guess.get_by_role("alert")).to_contain_text("Akun dikunci sementara")
            look(guess, "masuk-terkunci")
        finally:
            browser.close()
    elapsed = time.monotonic() - started
    print(f"\ne2e portal journey: {elapsed:.1f} s after the services were up")
    assert serious == [], "\n".join(serious)
