"""The one place that speaks BKN's SIASN: its token flow, paths and field names.

The shapes are those public SIASN client libraries use (not an official schema): when BKN's
real answers differ, correct them here and nowhere else. Everything past this module sees
`SiasnEmployee`, `SiasnUnit` and `KinerjaResult` only.

Two tokens ride on every call: the API gateway's (client_credentials, `Authorization:
Bearer`) and the SSO user's (password grant, a separate `Auth: bearer` header). Both are
renewed shortly before they expire, and once more when SIASN answers 401 (a token revoked
or expired early on its side). 5xx answers and timeouts are retried with exponential
backoff and full jitter; a 4xx other than 401/404 is SIASN refusing the record itself
(`SiasnRejected`), which no retry fixes; refused credentials or tokens (`SiasnAuthFailed`)
are waited out like an outage.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeVar

import httpx

from services.shared.logs import get_logger

log = get_logger("sikerja.siasn.adapter")
T = TypeVar("T")

# --- SIASN's surface ------------------------------------------------------------------------
GATEWAY_TOKEN_PATH = "/oauth2/token"
USER_TOKEN_PATH = "/auth/realms/public-siasn/protocol/openid-connect/token"
EMPLOYEE_PATH = "/apisiasn/1.0/pns/data-utama/{nip}"
UNITS_PATH = "/apisiasn/1.0/referensi/ref-unor"
# Assumption (to confirm with BKN): the ASN of one unit, paged. Public client libraries list
# a city's ASN unit by unit; data-utama is then read per NIP.
UNIT_MEMBERS_PATH = "/apisiasn/1.0/pns/list-by-unor/{unor_id}"
KINERJA_SAVE_PATH = "/apisiasn/1.0/kinerjaperiodik/save"
KINERJA_DELETE_PATH = "/apisiasn/1.0/kinerjaperiodik/delete/{id}"
USER_CLIENT_ID = "public-siasn"  # the SSO client of the password grant
PERIODIK_BULANAN = 1
PAGE_LIMIT = 500


@dataclass(frozen=True)
class SiasnConfig:
    base_url: str
    consumer_key: str
    consumer_secret: str
    username: str
    password: str
    timeout_s: float = 10.0
    concurrency: int = 16  # requests in flight at once: BKN rate-limits per consumer key
    attempts: int = 5  # tries of one call for 5xx / timeouts
    backoff_s: float = 0.5  # first backoff; doubles, full jitter, capped by backoff_max_s
    backoff_max_s: float = 10.0
    refresh_margin_s: float = 30.0  # renew a token this long before it expires


@dataclass(frozen=True)
class SiasnEmployee:
    """One ASN as SIKERJA reads it from data-utama."""

    siasn_id: str  # SIASN's own id of the person: pnsDinilaiId when results are sent
    nip: str
    nama: str  # with gelar, as printed
    unor_id: str
    unor_nama: str
    jabatan: str
    kelas_jabatan: int | None
    atasan_nip: str | None
    golongan: str
    tmt_jabatan: date | None = None  # from when the jabatan holds (None: absent or unreadable)


@dataclass(frozen=True)
class SiasnUnit:
    id: str
    nama: str
    induk_id: str | None


@dataclass(frozen=True)
class KinerjaResult:
    """One month's result of one ASN, as kinerjaperiodik/save takes it."""

    year: int
    month: int
    hasil: int  # 1 di atas, 2 sesuai, 3 di bawah ekspektasi
    perilaku: int  # same codes
    kuadran: int  # predikat: 1 Sangat Baik ... 5 Sangat Kurang
    pns_id: str  # SiasnEmployee.siasn_id of the ASN rated
    penilai_nip: str
    penilai_nama: str
    penilai_jabatan: str
    penilai_unor: str
    penilai_golongan: str
    status_penilai: str = "ASN"


class SiasnError(Exception):
    """SIASN could not be used for this call (after the retries)."""


class SiasnUnavailable(SiasnError):
    """Down, slow or answering 5xx after every attempt: try again later."""


class SiasnAuthFailed(SiasnUnavailable):
    """SIASN refuses our credentials or tokens (even after a renewal): a configuration or
    BKN-side problem, not the record's. Callers wait and try again, like an outage."""


class SiasnRejected(SiasnError):
    """SIASN refused the call itself (4xx): no retry fixes it."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"SIASN menolak ({status}): {message}")
        self.status = status
        self.message = message


# --- field mapping (SIASN names live only here) ---------------------------------------------
def _full_name(data: dict[str, Any]) -> str:
    name = str(data.get("nama") or "").strip()
    front = str(data.get("gelarDepan") or "").strip()
    back = str(data.get("gelarBelakang") or "").strip()
    return f"{front + ' ' if front else ''}{name}{', ' + back if back else ''}"


def _tmt(value: object) -> date | None:
    """SIASN's TMT dates read "dd-mm-yyyy"; an ISO date is taken too, anything else is None."""
    text = str(value or "").strip()[:10]
    for fmt in ("%d-%m-%Y", "%Y-%m-%d"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


def employee_from(data: dict[str, Any]) -> SiasnEmployee:
    kelas = data.get("kelasJabatan")  # assumption: not in every consumer's sample
    return SiasnEmployee(
        siasn_id=str(data["id"]),
        nip=str(data["nipBaru"]),
        nama=_full_name(data),
        unor_id=str(data.get("unorId") or ""),
        unor_nama=str(data.get("unorNama") or ""),
        jabatan=str(data.get("jabatanNama") or ""),
        kelas_jabatan=int(kelas) if kelas not in (None, "") else None,
        atasan_nip=str(data["atasanNipBaru"]) if data.get("atasanNipBaru") else None,
        golongan=str(data.get("golRuangAkhir") or ""),
        tmt_jabatan=_tmt(data.get("tmtJabatan")),
    )


def unit_from(data: dict[str, Any]) -> SiasnUnit:
    return SiasnUnit(
        id=str(data["id"]),
        nama=str(data.get("nama") or data.get("namaUnor") or ""),
        induk_id=str(data["diatasanId"]) if data.get("diatasanId") else None,
    )


def kinerja_body(result: KinerjaResult) -> dict[str, Any]:
    return {
        "tahun": result.year,
        "bulanMulaiPenilaian": str(result.month),
        "bulanSelesaiPenilaian": str(result.month),
        "tahunMulaiPenilaian": result.year,
        "tahunSelesaiPenilaian": result.year,
        "periodikId": str(PERIODIK_BULANAN),
        "hasilKinerjaNilai": result.hasil,
        "perilakuKerjaNilai": result.perilaku,
        "kuadranKinerjaNilai": result.kuadran,
        "pnsDinilaiId": result.pns_id,
        "penilaiNipNrp": result.penilai_nip,
        "penilaiNama": result.penilai_nama,
        "penilaiJabatanNama": result.penilai_jabatan,
        "penilaiUnorNama": result.penilai_unor,
        "penilaiGolongan": result.penilai_golongan,
        "statusPenilai": result.status_penilai,
    }


# --- the client -----------------------------------------------------------------------------
@dataclass
class _Token:
    value: str
    expires_at: float  # time.monotonic()


class SiasnClient:
    """An async SIASN session: `async with SiasnClient(config) as siasn: ...`."""

    def __init__(
        self,
        config: SiasnConfig,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.config = config
        self._http = httpx.AsyncClient(
            base_url=config.base_url,
            timeout=httpx.Timeout(config.timeout_s),
            limits=httpx.Limits(max_connections=config.concurrency),
            transport=transport,
        )
        self._limit = asyncio.Semaphore(config.concurrency)
        self._token_lock = asyncio.Lock()
        self._gateway: _Token | None = None
        self._user: _Token | None = None
        self._sleep = sleep
        self._rng = rng or random.Random()
        self.token_fetches = 0  # how often tokens were asked for (observability, tests)

    async def __aenter__(self) -> SiasnClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    # -- tokens ------------------------------------------------------------------------------
    def _fresh(self, token: _Token | None) -> bool:
        return token is not None and token.expires_at - self.config.refresh_margin_s > (
            time.monotonic()
        )

    async def _headers(self, stale: tuple[str, str] | None = None) -> dict[str, str]:
        """Both tokens' headers; `stale` (the pair a 401 came back with) is renewed unless
        another call already did."""
        async with self._token_lock:
            used = (
                self._gateway.value if self._gateway else "",
                self._user.value if self._user else "",
            )
            if stale is not None and stale == used:
                self._gateway = self._user = None
            if not self._fresh(self._gateway):
                self._gateway = await self._token(
                    GATEWAY_TOKEN_PATH,
                    {"grant_type": "client_credentials"},
                    auth=(self.config.consumer_key, self.config.consumer_secret),
                )
            if not self._fresh(self._user):
                self._user = await self._token(
                    USER_TOKEN_PATH,
                    {
                        "grant_type": "password",
                        "client_id": USER_CLIENT_ID,
                        "username": self.config.username,
                        "password": self.config.password,
                    },
                )
            assert self._gateway is not None and self._user is not None
            return {
                "Authorization": f"Bearer {self._gateway.value}",
                "Auth": f"bearer {self._user.value}",
            }

    async def _token(
        self, path: str, form: dict[str, str], auth: tuple[str, str] | None = None
    ) -> _Token:
        async def ask() -> httpx.Response:
            if auth is None:
                return await self._http.post(path, data=form)
            return await self._http.post(path, data=form, auth=auth)

        started = time.monotonic()
        response = await self._retrying(ask)
        if response.status_code >= 400:
            raise SiasnAuthFailed(
                f"SIASN menolak kredensial ({response.status_code}) di {path}: "
                f"{response.text[:200]}"
            )
        body = response.json()
        self.token_fetches += 1
        return _Token(body["access_token"], started + float(body.get("expires_in", 300)))

    # -- calls -------------------------------------------------------------------------------
    async def _retrying(self, send: Callable[[], Awaitable[httpx.Response]]) -> httpx.Response:
        """`send` until it is not a 5xx / timeout / connection error, at most `attempts`."""
        cfg = self.config
        for attempt in range(1, cfg.attempts + 1):
            try:
                response = await send()
                if response.status_code < 500:
                    return response
                reason = f"HTTP {response.status_code}"
            except (httpx.TimeoutException, httpx.TransportError) as exc:
                reason = type(exc).__name__
            if attempt == cfg.attempts:
                raise SiasnUnavailable(f"SIASN tidak tersedia ({reason}) setelah {attempt} kali")
            # full jitter: many callers retrying together do not hit SIASN in step
            cap = min(cfg.backoff_max_s, cfg.backoff_s * 2 ** (attempt - 1))
            await self._sleep(self._rng.uniform(0, cap))
        raise AssertionError("unreachable")

    async def _call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """One authenticated call: bounded concurrency, retries, one token renewal on 401."""
        stale: tuple[str, str] | None = None
        for renewed in (False, True):
            used: dict[str, str] = {}

            async def send(
                stale: tuple[str, str] | None = stale, used: dict[str, str] = used
            ) -> httpx.Response:
                # The slot is held per attempt, not across a retry's backoff; the tokens are
                # taken once the slot is ours (a long queue would otherwise age them).
                async with self._limit:
                    headers = await self._headers(stale)
                    used.update(headers)
                    return await self._http.request(method, path, headers=headers, **kwargs)

            response = await self._retrying(send)
            if response.status_code != 401 or renewed:
                return response
            log.info("siasn answered 401: renewing tokens once", path=path)
            stale = (
                used["Authorization"].removeprefix("Bearer "),
                used["Auth"].removeprefix("bearer "),
            )
        raise AssertionError("unreachable")

    @staticmethod
    def _check(response: httpx.Response) -> dict[str, Any]:
        if response.status_code in (401, 403):
            raise SiasnAuthFailed(f"SIASN menolak token ({response.status_code})")
        if response.status_code >= 400:
            try:
                body = response.json()
                message = str(body.get("message") or body.get("detail") or body)
            except ValueError:
                message = response.text[:300]
            raise SiasnRejected(response.status_code, message)
        body = response.json()
        if not isinstance(body, dict):
            raise SiasnRejected(response.status_code, "jawaban SIASN bukan objek JSON")
        return body

    # -- the operations SIKERJA uses -----------------------------------------------------------
    async def employee(self, nip: str) -> SiasnEmployee | None:
        """data-utama of one NIP; None when SIASN does not know it."""
        response = await self._call("GET", EMPLOYEE_PATH.format(nip=nip))
        if response.status_code == 404:
            return None
        data = self._check(response).get("data")
        return employee_from(data) if data else None

    async def units(self) -> list[SiasnUnit]:
        data = self._check(await self._call("GET", UNITS_PATH)).get("data") or []
        return [unit_from(u) for u in data]

    async def unit_members(self, unor_id: str) -> AsyncIterator[str]:
        """The NIPs of one unit, page by page."""
        page = 1
        while True:
            response = await self._call(
                "GET",
                UNIT_MEMBERS_PATH.format(unor_id=unor_id),
                params={"page": page, "limit": PAGE_LIMIT},
            )
            body = self._check(response)
            rows = body.get("data") or []
            for row in rows:
                yield str(row["nipBaru"])
            if len(rows) < PAGE_LIMIT:
                return
            page += 1

    async def save_kinerja(self, result: KinerjaResult) -> str:
        """Send one month's result; SIASN's id of the record."""
        body = self._check(await self._call("POST", KINERJA_SAVE_PATH, json=kinerja_body(result)))
        return str((body.get("data") or {})["id"])

    async def delete_kinerja(self, record_id: str) -> None:
        """Remove a sent record (a correction re-sends after this); gone already is fine."""
        response = await self._call("DELETE", KINERJA_DELETE_PATH.format(id=record_id))
        if response.status_code != 404:
            self._check(response)


async def gather_bounded(
    items: Iterable[str], fetch: Callable[[str], Awaitable[T]]
) -> list[tuple[str, T | BaseException]]:
    """`fetch` each item (the client bounds how many run at once); each item's result or the
    exception it ended with, in order: one failure never loses the others."""
    keys = list(items)
    results = await asyncio.gather(*(fetch(k) for k in keys), return_exceptions=True)
    return list(zip(keys, results, strict=True))
