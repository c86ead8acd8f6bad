"""`sikerja`: start, stop and inspect the whole system locally.

sikerja up          Kafka + every service + demo data (says so when already up)
sikerja down        stop everything `up` started
sikerja status      what runs where
sikerja serve NAME  one service in the foreground
sikerja demo-data   write a synthetic city as CSV files
sikerja simulate    a month's TPP from CSV files, through the services' domain code
"""

from __future__ import annotations

import importlib
import os
import signal
import subprocess
import sys
import time
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

import httpx
import typer

from services.kernel.calendar import WIB
from services.shared.settings import REPO_ROOT, get_settings

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__)

SERVICES = ["siasn", "attendance", "activity", "approval", "tpp", "notifier", "portal"]
LOCAL = REPO_ROOT / "deploy" / "local"


def available_services() -> list[str]:
    """The services that exist in this checkout (each is a folder with an app.py)."""
    return [s for s in SERVICES if (REPO_ROOT / "services" / s / "app.py").exists()]


def _run_dir() -> Path:
    path = get_settings().data_dir / "run"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _pid(name: str) -> int | None:
    pidfile = _run_dir() / f"{name}.pid"
    try:
        pid = int(pidfile.read_text())
        os.kill(pid, 0)
        return pid
    except (FileNotFoundError, ValueError, ProcessLookupError, PermissionError):
        return None


def _healthy(name: str, path: str = "/healthz", timeout: float = 1.0) -> bool:
    try:
        r = httpx.get(get_settings().service_url(name) + path, timeout=timeout)
        return r.status_code == 200
    except httpx.HTTPError:
        return False


def _script(script: str, *args: str) -> None:
    subprocess.run([str(LOCAL / script), *args], check=True)


_SERVE_ENV = "SIKERJA_SERVE_NAME"
# Our own SIASN (sikerja_cli/fake_siasn.py): not a service, a stand-in for BKN that `up`
# starts unless SIKERJA_SIASN_BASE_URL names a real one.
FAKE_SIASN = "fake-siasn"


def worker_app() -> Any:
    """The app of one uvicorn worker process of `serve` (spawned: it configures itself)."""
    from services.shared.logs import configure_logging

    name = os.environ[_SERVE_ENV]
    settings = get_settings()
    configure_logging(name, settings.log_level, settings.log_json)
    return importlib.import_module(f"services.{name}.app").create(settings)


@app.command()
def serve(name: str) -> None:
    """Run one service in the foreground."""
    import uvicorn

    from services.shared.logs import configure_logging

    if name not in available_services():
        raise typer.BadParameter(f"layanan tidak dikenal: {name}; pilih {available_services()}")
    # The instance `up` made for this data folder: its topics and groups, or a restarted
    # service would publish where nobody reads. In os.environ, so spawned workers get it.
    joined = instance_env(get_settings().data_dir, create=False)
    if name == "siasn":
        joined |= fake_siasn_env()
    if joined:
        os.environ.update(joined)
        get_settings.cache_clear()
        settings_text = ", ".join(f"{k}={v}" for k, v in joined.items())
        typer.echo(f"{name}: bergabung dengan instans lokal ({settings_text})", err=True)
    settings = get_settings()
    configure_logging(name, settings.log_level, settings.log_json)
    module = importlib.import_module(f"services.{name}.app")
    workers = settings.workers.get(name, 1)
    if workers > 1:
        # Migrate once here: the workers would otherwise all migrate at start and race.
        module.build_kit(settings).migrate()
        os.environ[_SERVE_ENV] = name  # the spawned workers learn their service from it
        uvicorn.run(
            "sikerja_cli.main:worker_app",
            factory=True,
            workers=workers,
            host=settings.bind_host(),
            port=settings.port(name),
            log_level="warning",
        )
        return
    uvicorn.run(
        module.create(settings),
        host=settings.bind_host(),
        port=settings.port(name),
        log_level="warning",
    )


@app.command()
def up(
    employees: int = typer.Option(120, help="demo city size"),
    opds: int = typer.Option(3, help="OPDs in the demo city"),
    period: str = typer.Option("", help="demo month YYYY-MM (default: last month)"),
    demo: bool = typer.Option(True, help="load demo data on first start"),
) -> None:
    """Start Kafka, every service and load the demo city (idempotent)."""
    from sikerja_cli.demo_data import last_month

    names = available_services()
    if all(_pid(n) and _healthy(n) for n in names) and _kafka_up():
        typer.echo("SIKERJA sudah berjalan (already running):")
        status()
        if demo and "portal" in names:
            from sikerja_cli.demo_data import last_month

            _demo_logins(employees, opds, period or last_month(_today()))
        return
    started = time.monotonic()
    _script("kafka.sh", "start")
    _script("redis.sh", "start")  # the notifier's day sets (it degrades to SQL without it)
    logs = get_settings().data_dir / "log"
    logs.mkdir(parents=True, exist_ok=True)
    instance = {**instance_env(get_settings().data_dir, create=True), **identity_env()}
    fake_started = _start_fake_siasn(employees, opds, period or last_month(_today()), logs)
    instance |= fake_siasn_env()
    for name in names:
        if _pid(name) and _healthy(name):
            typer.echo(f"{name}: sudah berjalan")
            continue
        out = open(logs / f"{name}.log", "ab")
        proc = subprocess.Popen(
            [sys.executable, "-m", "sikerja_cli.main", "serve", name],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            cwd=REPO_ROOT,
            env={**os.environ, **instance},
        )
        (_run_dir() / f"{name}.pid").write_text(str(proc.pid))
    for name in names:
        _wait_ready(name)
    month = period or ""
    if demo:
        from sikerja_cli.loader import load_demo

        month = period or last_month(_today())
        load_demo(employees=employees, opds=opds, period=month)
        if fake_started:
            _first_siasn_sync(month)
    typer.echo(f"SIKERJA berjalan ({time.monotonic() - started:.1f}s):")
    status()
    if demo and "portal" in names:
        _demo_logins(employees, opds, month)


def _demo_logins(employees: int, opds: int, month: str) -> None:
    """The portal's address and the demo's logins (their passwords set once, idempotent)."""
    from sikerja_cli.loader import demo_folder, demo_logins

    settings = get_settings()
    folder = demo_folder(settings, employees, opds, month)
    if (folder / "employees.csv").exists():
        demo_logins(settings, folder)


def identity_env() -> dict[str, str]:
    """The development key pair under the data folder (made once) and the settings that
    point the services at it: they verify tokens with its JWKS, `sikerja token` and the
    demo loader sign with its private key. An explicit SIKERJA_JWKS / SIKERJA_SIGNING_KEY
    (keys kept elsewhere) wins."""
    from services.shared.keys import ensure_dev_keys

    settings = get_settings()
    ensure_dev_keys(settings)
    env = {}
    source = settings.jwks_source()
    if "SIKERJA_JWKS" not in os.environ and not source.startswith(("http://", "https://")):
        env["SIKERJA_JWKS"] = str(Path(source).resolve())
    if "SIKERJA_SIGNING_KEY" not in os.environ:
        env["SIKERJA_SIGNING_KEY"] = str(settings.signing_key_path().resolve())
    return env


def _fake_siasn_url() -> str:
    from services.siasn.config import get_siasn_settings

    return f"http://127.0.0.1:{get_siasn_settings().fake_port}"


def fake_siasn_env() -> dict[str, str]:
    """What the siasn service needs to speak to our own SIASN, while it runs (and unless a
    real SIASN is configured)."""
    from sikerja_cli import fake_siasn

    if "SIKERJA_SIASN_BASE_URL" in os.environ or _pid(FAKE_SIASN) is None:
        return {}
    return {
        "SIKERJA_SIASN_BASE_URL": _fake_siasn_url(),
        "SIKERJA_SIASN_CONSUMER_KEY": fake_siasn.CONSUMER_KEY,
        "SIKERJA_SIASN_CONSUMER_SECRET": fake_siasn.CONSUMER_SECRET,
        "SIKERJA_SIASN_USERNAME": fake_siasn.USERNAME,
        "SIKERJA_SIASN_PASSWORD": fake_siasn.PASSWORD,
    }


def _fake_siasn_up() -> bool:
    try:
        return httpx.get(_fake_siasn_url() + "/_fake/switches", timeout=1.0).status_code == 200
    except httpx.HTTPError:
        return False


def _start_fake_siasn(employees: int, opds: int, period: str, logs: Path) -> bool:
    """Start our SIASN with the demo city's people (same seed and year as the CSV demo);
    False when a real SIASN is configured or ours already runs."""
    if "SIKERJA_SIASN_BASE_URL" in os.environ or (_pid(FAKE_SIASN) and _fake_siasn_up()):
        return False
    from services.siasn.config import get_siasn_settings

    year = period[:4] if len(period) >= 4 and period[:4].isdigit() else str(_today().year)
    out = open(logs / f"{FAKE_SIASN}.log", "ab")
    proc = subprocess.Popen(
        [sys.executable, "-m", "sikerja_cli.fake_siasn", "--port",
         str(get_siasn_settings().fake_port), "--employees", str(employees),
         "--opds", str(opds), "--year", year],
        stdout=out, stderr=subprocess.STDOUT, start_new_session=True, cwd=REPO_ROOT,
    )  # fmt: skip
    (_run_dir() / f"{FAKE_SIASN}.pid").write_text(str(proc.pid))
    deadline = time.monotonic() + 60
    while not _fake_siasn_up():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise typer.Exit(_fail(f"SIASN tiruan gagal mulai; lihat {logs / FAKE_SIASN}.log"))
        time.sleep(0.2)
    return True


def _first_siasn_sync(period: str) -> None:
    """BKPSDM's tables for the demo, then one sync: the SIASN path of the master data, end
    to end (sikerja_cli/loader.py `seed_siasn`, signed as BKPSDM)."""
    from sikerja_cli.loader import seed_siasn

    settings = get_settings()
    units = httpx.get(_fake_siasn_url() + "/_fake/units", timeout=60).json()
    with httpx.Client(base_url=settings.service_url("siasn"), timeout=600) as http:
        r = seed_siasn(http, settings, units, period)
    if r.status_code != 200:
        typer.echo(f"Sinkronisasi SIASN tiruan gagal: {r.text[:300]}", err=True)
        return
    run = r.json()
    typer.echo(
        f"SIASN tiruan: {run['read']} ASN dibaca, {run['upserted']} berubah, "
        f"{len(run['rejected'])} ditolak."
    )


def instance_env(data_dir: Path, *, create: bool) -> dict[str, str]:
    """A local run's own topics and consumer groups, tied to its data folder.

    The local broker outlives `var/`: a fresh data folder on the old topics would replay
    another run's events into new stores (same demo NIPs, older revisions). `up` creates
    the instance (create=True); `serve` joins the one its data folder has (create=False),
    so a restarted service publishes where the others read. A data folder without one
    (production, a container) gets no prefix. An explicit SIKERJA_TOPIC_PREFIX or
    SIKERJA_GROUP_SUFFIX wins."""
    marker = data_dir / "instance"
    if not marker.exists():
        if not create:
            return {}
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.write_text(f"local{os.urandom(3).hex()}")
    instance = marker.read_text().strip()
    env = {}
    if "SIKERJA_TOPIC_PREFIX" not in os.environ:
        env["SIKERJA_TOPIC_PREFIX"] = f"{instance}."
    if "SIKERJA_GROUP_SUFFIX" not in os.environ:
        env["SIKERJA_GROUP_SUFFIX"] = f"-{instance}"
    return env


def _wait_ready(name: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _pid(name) is None:
            log = get_settings().data_dir / "log" / f"{name}.log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise typer.Exit(_fail(f"{name} berhenti saat mulai; log {log}:\n{tail}"))
        if _healthy(name, "/readyz"):
            return
        time.sleep(0.3)
    raise typer.Exit(_fail(f"{name} belum siap setelah {timeout:.0f} detik"))


def _today() -> date:
    """The clock of the CLI's defaults (the demo's month): today in WIB."""
    return datetime.now(WIB).date()


def _fail(message: str) -> int:
    typer.echo(message, err=True)
    return 1


def _kafka_status() -> subprocess.CompletedProcess[str]:
    """kafka.sh status: a Bahasa line, exit 0 while a broker listens (ours or another's)."""
    return subprocess.run([str(LOCAL / "kafka.sh"), "status"], capture_output=True, text=True)


def _kafka_up() -> bool:
    return _kafka_status().returncode == 0


@app.command()
def down(keep_infra: bool = typer.Option(False, help="leave Kafka and Redis running")) -> None:
    """Stop every service `up` started, then the broker and Redis."""
    for name in reversed(SERVICES):
        pid = _pid(name)
        if pid is None:
            continue
        os.killpg(pid, signal.SIGTERM)
        for _ in range(50):
            if _pid(name) is None:
                break
            time.sleep(0.2)
        else:
            os.killpg(pid, signal.SIGKILL)
        (_run_dir() / f"{name}.pid").unlink(missing_ok=True)
        typer.echo(f"{name}: dihentikan")
    fake = _pid(FAKE_SIASN)
    if fake is not None:
        os.killpg(fake, signal.SIGTERM)
        (_run_dir() / f"{FAKE_SIASN}.pid").unlink(missing_ok=True)
        typer.echo(f"{FAKE_SIASN}: dihentikan")
    if not keep_infra:
        _script("kafka.sh", "stop")
        _script("redis.sh", "stop")


@app.command()
def status() -> None:
    """Show each part and where to reach it."""
    settings = get_settings()
    typer.echo(_kafka_status().stdout.strip())
    redis = subprocess.run([str(LOCAL / "redis.sh"), "status"], capture_output=True, text=True)
    typer.echo(redis.stdout.strip())
    fake = _pid(FAKE_SIASN)
    if fake is not None:
        typer.echo(f"{FAKE_SIASN:<11} berjalan  {_fake_siasn_url()}/docs  pid {fake}")
    for name in available_services():
        pid = _pid(name)
        state = "siap" if _healthy(name, "/readyz") else ("berjalan" if pid else "berhenti")
        typer.echo(
            f"{name:<11} {state:<9} {settings.service_url(name)}/docs  metrics: "
            f"{settings.service_url(name)}/metrics" + (f"  pid {pid}" if pid else "")
        )


@app.command("demo-data")
def demo_data(
    employees: int = typer.Option(15000),
    opds: int = typer.Option(44),
    out: Path = typer.Option(Path("demo"), help="output folder"),
    period: str = typer.Option("", help="YYYY-MM (default: last month, as `up`)"),
    seed: int = typer.Option(7),
    changes: float = typer.Option(
        0.0, min=0.0, max=1.0, help="share of ASN changing within the month (0-1)"
    ),
) -> None:
    """Write a synthetic city (employees, scans, absences, reports) as CSV files."""
    from sikerja_cli.demo_data import describe, generate, last_month

    period = period or last_month(_today())
    try:
        counts = generate(
            out, employees=employees, opds=opds, period=period, seed=seed, changes=changes
        )
    except ValueError as exc:
        raise typer.Exit(_fail(str(exc))) from None
    typer.echo(f"Data contoh ditulis ke {out}: {describe(counts, period)}")


class OutputFormat(StrEnum):
    json = "json"
    table = "table"
    csv = "csv"
    xlsx = "xlsx"


@app.command()
def simulate(
    data: Path = typer.Option(..., help="folder with employees.csv, scans.csv, ..."),
    period: str = typer.Option(..., help="YYYY-MM"),
    rules: str = typer.Option(None, help="rule set name or file"),
    format: OutputFormat = typer.Option(OutputFormat.json, help="json, table, csv or xlsx"),
    output: Path = typer.Option(None, help="write here instead of standard output"),
) -> None:
    """Compute a month's TPP statements from files, with the live services' domain code."""
    from sikerja_cli import simulate as sim

    if format is OutputFormat.xlsx and output is None:
        raise typer.BadParameter("format xlsx memerlukan --output", param_hint="--format")
    try:
        result = sim.run_simulation(data, period, rules)
    except sim.InputError as exc:
        typer.echo(f"galat masukan: {exc}", err=True)
        raise typer.Exit(2) from None
    except ValueError as exc:
        typer.echo(f"galat: {exc}", err=True)
        raise typer.Exit(2) from None
    for warning in result.warnings:
        typer.echo(f"peringatan: {warning}", err=True)
    if format is OutputFormat.xlsx:
        sim.write_xlsx(result, output)
        return
    render = {
        OutputFormat.json: sim.render_json,
        OutputFormat.table: sim.render_table,
        OutputFormat.csv: sim.render_csv,
    }[format]
    text = render(result)
    if output:
        output.write_text(text, encoding="utf-8", newline="")
    else:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")


_TTL_UNITS = {"s": 1, "m": 60, "h": 3600}
_MAX_TTL_S = 12 * 3600  # a service-account token is short-lived; jobs ask again


def parse_ttl(text: str) -> int:
    """'90s', '10m', '2h' (or plain seconds) as seconds, at most 12 hours."""
    text = text.strip().lower()
    unit = _TTL_UNITS.get(text[-1:], None)
    number = text[:-1] if unit else text
    if not number.isdigit() or int(number) <= 0:
        raise typer.BadParameter(f"masa berlaku tidak valid: {text!r} (contoh: 90s, 10m, 2h)")
    seconds = int(number) * (unit or 1)
    if seconds > _MAX_TTL_S:
        raise typer.BadParameter("masa berlaku paling lama 12h")
    return seconds


@app.command()
def token(
    role: str = typer.Option(..., help="asn, atasan, operator, bkpsdm, auditor or system"),
    nip: str = typer.Option(None, help="the NIP the token speaks for (none: a service account)"),
    opd: str = typer.Option(None, help="the OPD (an operator's)"),
    ttl: str = typer.Option("10m", help="how long it is valid: 90s, 10m, 2h"),
    aud: str = typer.Option("all", help="the service it is for, or all"),
) -> None:
    """Print a signed service-account token (needs the private key on this machine)."""
    from datetime import timedelta

    from services.shared.identity import ROLES
    from services.shared.keys import NoSigningKey, service_token

    if role not in ROLES:
        raise typer.BadParameter(f"peran tidak dikenal: {role}; pilih {sorted(ROLES)}")
    names = [s for s in SERVICES if s != "portal"] + ["portal"]
    if aud != "all" and aud not in names:
        raise typer.BadParameter(f"layanan tidak dikenal: {aud}; pilih {names} atau all")
    settings = get_settings()
    audience = names if aud == "all" else aud
    lifetime = timedelta(seconds=parse_ttl(ttl))
    try:
        typer.echo(service_token(settings, role, audience, nip=nip, opd=opd, ttl=lifetime))
    except NoSigningKey:
        typer.echo(
            f"kunci penandatangan tidak ada di {settings.signing_key_path()} "
            "(./dev up membuatnya untuk pengembangan)",
            err=True,
        )
        raise typer.Exit(2) from None


if __name__ == "__main__":
    app()
