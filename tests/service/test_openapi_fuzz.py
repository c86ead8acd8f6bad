"""Every service's OpenAPI fuzzed by schemathesis, in-process (ASGI, no network): whatever
a caller sends, the answer is never a 5xx. Bounded and deterministic (a fixed seed, a fixed
number of examples per operation), so it runs with the rest of the suite.

schemathesis reads each OpenAPI when the module is imported, to make one test per operation
(its `from_fixture` would build them in the test but breaks on pytest 9.2). The operations
of one service share one store (SQLite, in the test's temporary folder), so what one POST
files a later GET may read."""

from __future__ import annotations

import tempfile
import zlib
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import schemathesis
from fastapi import FastAPI
from schemathesis.checks import not_a_server_error
from starlette.types import Receive, Scope, Send

from services.activity.app import create as create_activity
from services.approval.app import create as create_approval
from services.attendance.app import create as create_attendance
from services.attendance.config import AttendanceConfig
from services.notifier.app import create as create_notifier
from services.notifier.cache import DayCache
from services.shared.settings import Settings
from services.siasn.app import create as create_siasn
from services.tpp.app import create as create_tpp
from tests.support import key_settings, who

EXAMPLES = 30  # per operation (and per generation phase)
SEED = 20261001
NOW = datetime(2026, 10, 7, 2, 0, tzinfo=UTC)  # a Wednesday, 09:00 WIB
ACTOR_NIP = "199001012015011001"
DEAD_REDIS = "redis://127.0.0.1:1/0"  # the notifier takes its SQL path without Redis
ROLES = ["asn", "atasan", "operator", "bkpsdm", "auditor", "system"]
# Who calls: a token (signed with the test key) of each role (with a NIP; "system" without),
# the NIP being the one in the path about half the time (an ASN reading their own data), so
# requests reach the handlers and not only the 401/403 in front of them.


class InProcess:
    """One service's app as schemathesis calls it, without its lifespan (which would start
    the broker and the relay): like the other service tests, the store is migrated up front
    and events stay in the outbox. The app built at import only serves the OpenAPI; the
    `stores` fixture swaps in one on the test's own store."""

    def __init__(self, build: Callable[[Settings], FastAPI]) -> None:
        self.build = build
        self.app = build(settings_in(Path(tempfile.gettempdir()) / "sikerja-openapi-only"))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        await self.app(scope, receive, send)


def settings_in(data_dir: Path) -> Settings:
    return Settings(
        kafka_bootstrap="127.0.0.1:1",  # never dialled: no lifespan, no relay
        data_dir=data_dir,
        database_url=f"sqlite:///{data_dir}/{{service}}.db",
        retry_backoff_s=0.0,
        **key_settings(),  # the tokens of tests.support.who verify
    )


SERVICES = {
    "attendance": InProcess(
        lambda s: create_attendance(s, AttendanceConfig(scheduler_enabled=False))
    ),
    "activity": InProcess(lambda s: create_activity(s, clock=lambda: NOW)),
    "approval": InProcess(lambda s: create_approval(s, clock=lambda: NOW)),
    "tpp": InProcess(create_tpp),
    "notifier": InProcess(
        lambda s: create_notifier(
            s,
            clock=lambda: NOW,
            cache=DayCache(DEAD_REDIS, timeout_s=0.05, backoff_s=3600),
            scheduler=False,
        )
    ),
    "siasn": InProcess(create_siasn),
}
CONFIG = schemathesis.Config.from_dict(
    {
        "seed": SEED,
        # derandomized, no example database: the same cases on every run and machine
        "generation": {"max-examples": EXAMPLES, "deterministic": True, "database": "none"},
        # a slow, shared CI machine is not a finding
        "suppress-health-check": ["too_slow"],
    }
)


def load(name: str) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_asgi("/openapi.json", SERVICES[name], config=CONFIG)


attendance, activity, approval = load("attendance"), load("activity"), load("approval")
tpp, notifier, siasn = load("tpp"), load("notifier"), load("siasn")


@pytest.fixture(scope="module", autouse=True)
def stores(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    settings = settings_in(tmp_path_factory.mktemp("fuzz"))
    for service in SERVICES.values():
        service.app = service.build(settings)
        service.app.state.kit.migrate()
    yield
    for service in SERVICES.values():
        service.app.state.kit.engine.dispose()


def call(case: schemathesis.Case) -> None:
    # schemathesis skips its coverage phase for a test with extra strategies (`given`): the
    # caller is picked from the case itself instead, the same caller for the same case.
    pick = zlib.crc32(repr((case.path_parameters, case.query, case.body)).encode())
    role, own = ROLES[pick % len(ROLES)], pick // len(ROLES) % 2 == 0
    path_nip = (case.path_parameters or {}).get("nip")
    nip = None if role == "system" else (str(path_nip) if own and path_nip else ACTOR_NIP)
    case.headers = {**(case.headers or {}), **who(nip, role)}
    case.call_and_validate(checks=[not_a_server_error])


@attendance.parametrize()
def test_attendance(case: schemathesis.Case) -> None:
    call(case)


@activity.parametrize()
def test_activity(case: schemathesis.Case) -> None:
    call(case)


@approval.parametrize()
def test_approval(case: schemathesis.Case) -> None:
    call(case)


@tpp.parametrize()
def test_tpp(case: schemathesis.Case) -> None:
    call(case)


@notifier.parametrize()
def test_notifier(case: schemathesis.Case) -> None:
    call(case)


@siasn.parametrize()
def test_siasn(case: schemathesis.Case) -> None:
    call(case)
