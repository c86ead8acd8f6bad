"""Authorization matrix of the portal's JSON API (issue 12), over HTTP.

People call the portal with their session cookie (and its CSRF header), scripts with a token
of audience `portal`; the matrix runs the people on sessions and the service account on a
token, and the account routes once more with every caller on a token. The subject is ASN A of
OPD X whose atasan is B.

- Logging in and the first password are public: the NIP with a password or a one-time code is
  the proof. Every other session route acts on the caller's own session only (a step the
  session is not at answers 409): any person signed in; a token opens no session (403).
- An account: the person, their OPD's operator, BKPSDM and the auditor; the list: BKPSDM and
  the auditor (any OPD), an operator (their own OPD only, whatever they ask for). An unknown
  NIP looks like a foreign one to anyone but BKPSDM/auditor (403, not 404).
- A one-time code (first password or reset): the OPD's operator or BKPSDM. Role grants,
  revocations and an authenticator reset: BKPSDM. The audit log: BKPSDM and the auditor.
- The service account (`system`) has no business in the account store: no job reads or
  changes accounts, so it is refused everywhere but the public routes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime

import httpx
import pytest
from argon2 import PasswordHasher

from services.portal import credentials, domain
from services.portal.app import create
from services.portal.models import Account, LoginSession
from services.portal.routes.deps import CSRF_HEADER, SESSION_COOKIE
from services.shared.settings import Settings
from tests import factories
from tests.authz import CALLERS, EVERYONE, Rule, check_rules, uncovered
from tests.support import Clock, who

NOW = datetime(2026, 10, 6, 1, 0, tzinfo=UTC)
X, Y, BK_OPD = "Dinas Kesehatan", "Dinas Pendidikan", "Badan Kepegawaian dan Pengembangan SDM"
A, B, C, D = (factories.nip() for _ in range(4))
B2, OPS_X, OPS_Y, BK, AUD = (factories.nip() for _ in range(5))
GOOD, GOOD2 = "Bekasi-Kerja-2026", "Kota-Patriot-2027"

# caller -> (nip, role acted in, the role's OPD)
PEOPLE: dict[str, tuple[str, str, str | None]] = {
    "asn_self": (A, "asn", X),
    "asn_other": (C, "asn", X),
    "atasan_own": (B, "atasan", X),
    "atasan_other": (B2, "atasan", Y),
    "operator_own": (OPS_X, "operator", X),
    "operator_other": (OPS_Y, "operator", Y),
    "bkpsdm": (BK, "bkpsdm", BK_OPD),
    "auditor": (AUD, "auditor", BK_OPD),
}
SIGNED_IN = EVERYONE - {"system"}
OWN_SESSION = "sesi miliknya sendiri"
PUBLIC = "tanpa masuk: NIP dengan kata sandi atau kode sekali pakai"
ACCOUNT_READERS = frozenset({"asn_self", "operator_own", "bkpsdm", "auditor"})

SESSION_RULES: list[Rule] = [
    Rule("POST", "/api/v1/session", EVERYONE, body={"nip": A, "password": GOOD}, note=PUBLIC),
    Rule(
        "POST",
        "/api/v1/first-password",
        EVERYONE,
        body={"nip": A, "code": "ABCD-EFGH", "new_password": "pendek"},
        note=PUBLIC,
    ),
    Rule("GET", "/api/v1/session", SIGNED_IN, note=OWN_SESSION),
    Rule(
        "POST",
        "/api/v1/session/password",
        SIGNED_IN,
        body={"current_password": GOOD, "new_password": GOOD2},
        note=OWN_SESSION,
    ),
    Rule("GET", "/api/v1/session/totp/enrolment", SIGNED_IN, note=OWN_SESSION),
    Rule(
        "POST",
        "/api/v1/session/totp/enrolment",
        SIGNED_IN,
        body={"code": "123456"},
        note=OWN_SESSION,
    ),
    Rule("POST", "/api/v1/session/totp", SIGNED_IN, body={"code": "123456"}, note=OWN_SESSION),
    Rule("POST", "/api/v1/session/token", SIGNED_IN, params={"aud": "tpp"}, note=OWN_SESSION),
    Rule("DELETE", "/api/v1/session", SIGNED_IN, note=OWN_SESSION),
    Rule("POST", "/api/v1/session/logout-all", SIGNED_IN, note=OWN_SESSION),
]
ACCOUNT_RULES: list[Rule] = [
    Rule(
        "GET",
        "/api/v1/accounts",
        frozenset({"operator_own", "operator_other", "bkpsdm", "auditor"}),
        note="operator: hanya OPD-nya",
    ),
    Rule("GET", "/api/v1/accounts/{nip}", ACCOUNT_READERS),
    Rule("POST", "/api/v1/accounts/{nip}/setup-code", frozenset({"operator_own", "bkpsdm"})),
    # after the code: A holding a granted role takes its code from BKPSDM only
    Rule("POST", "/api/v1/accounts/{nip}/grants", frozenset({"bkpsdm"}), body={"role": "auditor"}),
    Rule(
        "DELETE",
        "/api/v1/accounts/{nip}/grants/{role}",
        frozenset({"bkpsdm"}),
        values={"role": "auditor"},
    ),
    Rule("DELETE", "/api/v1/accounts/{nip}/totp", frozenset({"bkpsdm"})),
    Rule("GET", "/api/v1/audit", frozenset({"bkpsdm", "auditor"})),
]
RULES: list[Rule] = SESSION_RULES + ACCOUNT_RULES

VALUES = {"nip": A}


class Matrix:
    """The portal, its people's accounts (password GOOD) and a fresh session for each."""

    def __init__(self, settings: Settings) -> None:
        self.app = create(
            settings,
            clock=Clock(NOW),
            hasher=PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1),  # fast tests
            rate_storage="memory://",
        )
        self.kit = self.app.state.kit
        self.kit.migrate()
        self.password_hash = self.app.state.portal.passwords.hash(GOOD)
        self.sessions: dict[str, dict[str, str]] = {}

    async def employees(self) -> None:
        for nip, boss, opd in (
            (A, B, X),
            (C, B2, X),
            (D, B2, Y),
            (B, None, X),
            (B2, None, Y),
            (OPS_X, None, X),
            (OPS_Y, None, Y),
            (BK, None, BK_OPD),
            (AUD, None, BK_OPD),
        ):
            event = factories.employee(nip, boss, NOW, opd=opd)
            assert await self.kit.handle(event.to_bytes()) == "handled"

    async def fresh(self, _rule: Rule | None = None) -> None:
        """Every person with password GOOD and a new active session (a rule before may have
        ended it, reset the password or changed it)."""
        self.sessions = {}
        with self.kit.uow() as uow:
            for caller, (nip, role, opd) in PEOPLE.items():
                account = uow.session.get(Account, nip)
                assert account is not None
                account.password_hash, account.must_change = self.password_hash, False
                uow.session.add(account)
                token, csrf = credentials.new_token(), credentials.new_token()
                uow.session.add(
                    LoginSession(
                        token_hash=credentials.token_hash(token),
                        nip=nip,
                        role=role,
                        opd=opd,
                        state=domain.ACTIVE,
                        csrf=csrf,
                        created_at=NOW,
                        last_seen_at=NOW,
                    )
                )
                self.sessions[caller] = {
                    "Cookie": f"{SESSION_COOKIE}={token}",
                    CSRF_HEADER: csrf,
                }
            uow.commit()

    def session_of(self, caller: str) -> Mapping[str, str]:
        """A person on their session cookie, the service account on its token."""
        if caller == "system":
            return who(None, "system")
        return self.sessions[caller]


def token_of(caller: str) -> Mapping[str, str]:
    if caller == "system":
        return who(None, "system")
    nip, role, opd = PEOPLE[caller]
    return who(nip, role, opd)


@pytest.fixture
async def matrix(memory_settings: Settings) -> AsyncIterator[tuple[Matrix, httpx.AsyncClient]]:
    m = Matrix(memory_settings)
    await m.employees()
    await m.fresh()
    # plain http: the Secure cookie a login sets is never sent back by the client's jar, so
    # every request carries only the identity the matrix gives it
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=m.app), base_url="http://portal"
    ) as http:
        yield m, http


async def test_every_route_is_in_the_matrix(
    matrix: tuple[Matrix, httpx.AsyncClient],
) -> None:
    m, _ = matrix
    assert uncovered(m.app.openapi(), RULES) == []


async def test_the_matrix_holds_on_sessions(matrix: tuple[Matrix, httpx.AsyncClient]) -> None:
    m, http = matrix
    failures = await check_rules(http, RULES, VALUES, m.session_of, before_each=m.fresh)
    assert failures == [], "\n".join(failures)


async def test_the_account_routes_hold_on_tokens(
    matrix: tuple[Matrix, httpx.AsyncClient],
) -> None:
    m, http = matrix
    failures = await check_rules(http, ACCOUNT_RULES, VALUES, token_of, before_each=m.fresh)
    assert failures == [], "\n".join(failures)


async def test_an_unknown_nip_looks_like_a_foreign_one(
    matrix: tuple[Matrix, httpx.AsyncClient],
) -> None:
    _, http = matrix
    unknown = factories.nip()
    for caller in CALLERS[:6]:
        # D is of OPD Y: foreign to all of these but Y's operator
        for nip in (unknown, D) if caller != "operator_other" else (unknown,):
            got = await http.get(f"/api/v1/accounts/{nip}", headers=token_of(caller))
            assert got.status_code == 403, (caller, nip, got.text)
            got = await http.post(f"/api/v1/accounts/{nip}/setup-code", headers=token_of(caller))
            assert got.status_code == 403, (caller, nip, got.text)
    for city in ("bkpsdm", "auditor"):
        got = await http.get(f"/api/v1/accounts/{unknown}", headers=token_of(city))
        assert got.status_code == 404, got.text


async def test_a_token_opens_no_session(matrix: tuple[Matrix, httpx.AsyncClient]) -> None:
    _, http = matrix
    for caller in CALLERS:
        got = await http.post(
            "/api/v1/session/token", params={"aud": "tpp"}, headers=token_of(caller)
        )
        assert got.status_code == 403, (caller, got.text)
        assert got.headers["content-type"].startswith("application/problem+json")
    anonymous = await http.get("/api/v1/session")
    assert anonymous.status_code == 401, anonymous.text
