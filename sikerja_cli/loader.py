"""Load a demo city into the running services through their public APIs (the same paths
real data takes: siasn import -> EmployeeUpserted, attendance scans -> FingerprintRecorded,
absences, day closing -> AttendanceDayClosed, reports import -> ActivityReported ->
approval -> ReportApproved -> tpp)."""

from __future__ import annotations

import calendar
import csv
import re
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import typer

from services.kernel import bahasa
from services.shared.keys import ensure_dev_keys, service_token
from services.shared.settings import Settings, get_settings

# The demo is loaded as BKPSDM would (the NIP is a demo operator's), with a service-account
# token signed by the development key `up` wrote under the data folder.
BKPSDM_NIP = "197001011990031001"
SERVICES = ["attendance", "activity", "approval", "tpp", "notifier", "siasn"]


def bkpsdm_token(settings: Settings, ttl: timedelta = timedelta(hours=1)) -> str:
    ensure_dev_keys(settings)  # `up` made it already; a loader run alone makes it too
    return service_token(settings, "bkpsdm", SERVICES, nip=BKPSDM_NIP, ttl=ttl)


def seed_siasn(
    http: httpx.Client, settings: Settings, units: list[dict[str, str]], period: str
) -> httpx.Response:
    """BKPSDM's tables for the demo, as `./dev up` sets them at siasn (`http`'s base URL):
    each SIASN unit is the OPD of the same name, pagu by kelas from the demo. Then one
    sync; its answer is returned (a refused table raises)."""
    from sikerja_cli.demo_data import PAGU_BY_KELAS

    headers = {"Authorization": f"Bearer {bkpsdm_token(settings)}"}
    for unit in units:
        http.put(
            f"/api/v1/siasn/units/{unit['id']}", json={"opd": unit["nama"]}, headers=headers
        ).raise_for_status()
    pagu = {"berlaku_mulai": f"{period[:4]}-01-01", "pagu": PAGU_BY_KELAS}
    http.post("/api/v1/siasn/pagu", json=pagu, headers=headers).raise_for_status()
    return http.post("/api/v1/siasn/sync?wait=true", headers=headers)


def _batches(path: Path, size: int) -> list[list[dict[str, str]]]:
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    return [rows[i : i + size] for i in range(0, len(rows), size)]


def _count(path: Path) -> int:
    with path.open(encoding="utf-8") as fh:
        return sum(1 for _ in fh) - 1


def demo_folder(settings: Settings, employees: int, opds: int, period: str) -> Path:
    return settings.data_dir / "demo" / f"{period}-{employees}-{opds}"


def load_demo(employees: int, opds: int, period: str, client: httpx.Client | None = None) -> None:
    """Generate the demo city of `period` and post it to the running services; say in a few
    Bahasa lines what was loaded (and what a service refused, with its reason)."""
    from sikerja_cli.demo_data import describe, generate

    settings = get_settings()
    folder = demo_folder(settings, employees, opds, period)
    marker = folder / ".loaded"
    if marker.exists():
        typer.echo(f"Data contoh sudah dimuat ({folder}).")
        return
    counts = generate(folder, employees=employees, opds=opds, period=period, seed=7)
    typer.echo(f"Memuat data contoh: {describe(counts, period)} ...")
    with client or httpx.Client(timeout=300) as http:
        http.headers["Authorization"] = f"Bearer {bkpsdm_token(settings)}"
        refused, closed = _post_all(http, folder, period)
    loaded = {
        **counts,
        **{k: counts[k] - len(v) for k, v in refused.items() if k in counts},
    }
    typer.echo(
        f"Data contoh dimuat: {describe(loaded, period)}; {bahasa.ribuan(closed)} hari kerja "
        "pegawai ditutup."
    )
    for what, lines in refused.items():
        if not lines:
            continue
        typer.echo(f"Ditolak {len(lines)} {_LABEL[what]}, misalnya:", err=True)
        for line, reason in lines[:3]:
            typer.echo(f"  baris {line}: {reason}", err=True)
    marker.write_text(period)


# Development only: the demo's people get a known password so a newcomer can click through
# the portal at once. It goes through the portal's own API as BKPSDM would (a one-time code,
# then the first password), never into its store.
DEMO_PASSWORD = "Bekasi-demo-2026"


def _demo_people(folder: Path) -> list[tuple[str, str, str, str | None]]:
    """(label, NIP, nama, role granted) of an ASN, their atasan, an OPD operator, BKPSDM."""
    with (folder / "employees.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    by_nip = {r["nip"]: r for r in rows}
    bosses = {r["atasan_nip"] for r in rows}
    staff = next(r for r in rows if r["atasan_nip"] in by_nip and r["nip"] not in bosses)
    boss = by_nip[staff["atasan_nip"]]
    others = [r for r in rows if r["nip"] not in (staff["nip"], boss["nip"])]
    operator = next(r for r in others if r["opd"] == staff["opd"])
    bkpsdm = next(r for r in others if r["nip"] != operator["nip"])
    return [
        ("ASN", staff["nip"], staff["nama"], None),
        ("atasan", boss["nip"], boss["nama"], None),
        (f"operator {staff['opd']}", operator["nip"], operator["nama"], "operator"),
        ("BKPSDM", bkpsdm["nip"], bkpsdm["nama"], "bkpsdm"),
    ]


def demo_logins(settings: Settings, folder: Path, client: httpx.Client | None = None) -> None:
    """Give the demo's four people a password (once) and print how to log in."""
    token = service_token(settings, "bkpsdm", ["portal"], nip=BKPSDM_NIP)
    base = settings.service_url("portal")
    people = _demo_people(folder)
    with client or httpx.Client(timeout=30) as http:
        auth = {"Authorization": f"Bearer {token}"}
        for _, nip, _, role in people:
            account = http.get(f"{base}/api/v1/accounts/{nip}", headers=auth)
            account.raise_for_status()
            known = account.json()
            if role is not None and role not in known.get("roles", []):
                http.post(
                    f"{base}/api/v1/accounts/{nip}/grants",
                    json={
                        "role": role,
                        "opd": known["opd"] if role == "operator" else None,
                    },
                    headers=auth,
                ).raise_for_status()
            if known.get("has_password"):
                continue
            code = http.post(f"{base}/api/v1/accounts/{nip}/setup-code", headers=auth)
            code.raise_for_status()
            http.post(
                f"{base}/api/v1/first-password",
                json={"nip": nip, "code": code.json()["code"], "new_password": DEMO_PASSWORD},
            ).raise_for_status()
    typer.echo(f"Masuk ke portal: {base}/masuk  (kata sandi contoh: {DEMO_PASSWORD})")
    for label, nip, nama, role in people:
        totp = "  — pertama kali: daftarkan aplikasi autentikator" if role else ""
        typer.echo(f"  {label:<32} NIP {nip}  {nama}{totp}")


def head_penilai(folder: Path) -> list[dict[str, str]]:
    """The penilai of the demo's employees without atasan (every kepala, the Sekda): BKPSDM
    itself. `sikerja simulate` counts their approved reports like anyone's; live, only a
    penilai decides them (issue 14), so the demo names one before the reports arrive."""
    with (folder / "employees.csv").open(encoding="utf-8", newline="") as fh:
        heads = {r["nip"] for r in csv.DictReader(fh) if not (r.get("atasan_nip") or "").strip()}
    return [{"nip": nip, "penilai": "BKPSDM"} for nip in sorted(heads)]


_LABEL = {
    "employees": "pegawai",
    "scans": "pindaian",
    "absences": "ketidakhadiran",
    "reports": "laporan",
}


def _post_all(
    client: httpx.Client, folder: Path, period: str
) -> tuple[dict[str, list[tuple[int, str]]], int]:
    """Post the folder's files; ({file kind: [(line, reason)] refused}, employee working
    days closed)."""
    url = get_settings().service_url
    refused: dict[str, list[tuple[int, str]]] = {k: [] for k in _LABEL}
    r = client.post(
        f"{url('siasn')}/api/v1/employees/import",
        content=(folder / "employees.csv").read_bytes(),
        headers={"content-type": "text/csv"},
    )
    r.raise_for_status()
    refused["employees"] = [(x["line"], x["reason"]) for x in r.json().get("rejected", [])]
    accepted = 0
    offset = 1  # the header is line 1 of the file
    for batch in _batches(folder / "scans.csv", 5000):
        r = client.post(f"{url('attendance')}/api/v1/scans", json={"scans": batch})
        r.raise_for_status()
        # "menunggu": attendance has not consumed the employee yet; the scan waits in
        # quarantine and is published when it does (so it still counts here)
        for result in r.json():
            if result["status"] == "rejected":
                refused["scans"].append((offset + result["line"], result.get("reason") or ""))
            else:
                accepted += 1
        offset += len(batch)
    absences = _optional(
        client, f"{url('attendance')}/api/v1/absences/import", folder / "absences.csv"
    )
    if absences:
        refused["absences"] = [
            (x["line"], x.get("reason") or "")
            for x in absences.get("lines", [])
            if x.get("status") == "rejected"
        ]
    # Day closing needs attendance's employee projection and report filing needs
    # activity's unlocks; both arrive through Kafka, so wait for them instead of guessing.
    _wait_consumed(client, "attendance", "EmployeeUpserted", _count(folder / "employees.csv"))
    year, month = (int(x) for x in period.split("-"))
    last = calendar.monthrange(year, month)[1]
    r = client.post(
        f"{url('attendance')}/api/v1/days/close-range",
        params={"start": f"{period}-01", "end": f"{period}-{last:02d}"},
    )
    closed = 0
    if r.status_code != 404:
        r.raise_for_status()
        # Every employee-day of the month, also those the scheduler had closed already
        # ("emitted" counts only the facts that changed now).
        closed = sum(int(d["employees"]) for d in r.json()["days"] if d["working_day"])
    _wait_consumed(client, "activity", "FingerprintRecorded", accepted)
    for body in head_penilai(folder):
        r = client.post(f"{url('approval')}/api/v1/penilai", json=body)
        if r.status_code not in (404, 409):  # an approval without penilai / named already
            r.raise_for_status()
    reports = _optional(client, f"{url('activity')}/api/v1/reports/import", folder / "reports.csv")
    if reports:
        refused["reports"] = [(x["line"], x.get("reason") or "") for x in reports.get("errors", [])]
    return refused, closed


def _wait_consumed(
    client: httpx.Client, service: str, event_type: str, n: int, timeout: float = 120
) -> None:
    """Poll the service's /metrics until it has handled `n` events of `event_type`."""
    endpoint = get_settings().service_url(service) + "/metrics"
    pattern = re.compile(
        r"^sikerja_events_consumed_total\{"
        + f'event_type="{event_type}",service="{service}"'
        + r"\} ([0-9.e+]+)$",
        re.M,
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = pattern.search(client.get(endpoint).text)
        if found and float(found.group(1)) >= n:
            return
        time.sleep(0.5)
    typer.echo(f"{service}: belum menerima {n} {event_type} setelah {timeout:.0f} detik", err=True)


def _optional(client: httpx.Client, endpoint: str, path: Path) -> dict[str, Any] | None:
    """Routes a service may not have; the demo says what it skipped."""
    if not path.exists():
        return None
    r = client.post(endpoint, content=path.read_bytes(), headers={"content-type": "text/csv"})
    if r.status_code == 404:
        typer.echo(f"{path.name} dilewati: layanan belum punya {endpoint}")
        return None
    r.raise_for_status()
    body = r.json()
    return body if isinstance(body, dict) else None
