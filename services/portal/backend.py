"""The portal's one way to the services: their HTTP APIs, called with a short-lived token
minted for the logged-in person (nip, role, opd; audience = the service). The portal never
reads another service's store. A service's problem+json becomes a Bahasa message that says
what to do next; an unreachable or slow service too."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from anyio import to_thread

from services.portal.accounts import Portal
from services.portal.models import LoginSession
from services.shared.settings import Settings

SERVICES = ("attendance", "activity", "approval", "tpp", "notifier", "siasn")
# What people call each service, for the messages when one cannot be reached.
SERVICE_WORDS = {
    "attendance": "presensi",
    "activity": "laporan kegiatan",
    "approval": "persetujuan",
    "tpp": "TPP",
    "notifier": "pemberitahuan",
    "siasn": "data kepegawaian",
}
TIMEOUT = httpx.Timeout(10.0, connect=3.0)
# A token is reused while it has this much life left (the portal mints 5-minute tokens).
REUSE_MARGIN = timedelta(minutes=1)
NEXT_STEP = {
    401: " Silakan keluar lalu masuk kembali.",
    403: " Jika menurut Anda ini keliru, hubungi operator OPD Anda.",
    404: "",
    409: " Muat ulang halaman untuk melihat keadaan terbaru.",
    422: " Periksa isian Anda lalu kirim lagi.",
    429: " Tunggu sebentar lalu coba lagi.",
}


class ServiceError(Exception):
    """A call that did not succeed; `message` is for the page (Bahasa Indonesia)."""

    def __init__(self, status: int, message: str, code: str = "") -> None:
        super().__init__(message)
        self.status, self.message, self.code = status, message, code


def message_of(service: str, response: httpx.Response) -> ServiceError:
    """The Bahasa message of a failed response: the service's own `detail` (the services
    write it for people), the per-field errors of a 422, and what to do next."""
    status = response.status_code
    try:
        body = response.json()
    except ValueError:
        body = {}
    detail = body.get("detail") if isinstance(body, dict) else None
    code = str(body.get("code", "")) if isinstance(body, dict) else ""
    if isinstance(detail, list):  # FastAPI's validation list: name the fields
        fields = ", ".join(str(e.get("loc", ["?"])[-1]) for e in detail if isinstance(e, dict))
        detail = f"Isian belum benar ({fields})."
    if isinstance(body, dict) and isinstance(body.get("errors"), list) and body["errors"]:
        parts = [str(e.get("message") or e.get("detail") or "") for e in body["errors"]]
        text = str(detail or "")
        # the detail may already list them: each once
        detail = " ".join([text, *(p for p in dict.fromkeys(parts) if p and p not in text)])
    if not detail:
        words = SERVICE_WORDS.get(service, service)
        if status >= 500:
            detail = f"Layanan {words} sedang bermasalah. Coba lagi beberapa menit lagi."
        else:
            detail = f"Permintaan ke layanan {words} ditolak (kode {status})."
    text = str(detail).rstrip()
    if not text.endswith((".", "!", "?")):
        text += "."
    return ServiceError(status, text + NEXT_STEP.get(status, ""), code)


@dataclass
class Backend:
    """Calls the services for a session. `transport` is for tests (the real services
    in-process); otherwise each service is reached at settings.service_url(name)."""

    settings: Settings
    portal: Portal
    transport: httpx.AsyncBaseTransport | None = None
    _client: httpx.AsyncClient | None = None
    _tokens: dict[tuple[str, str], tuple[str, datetime]] = field(default_factory=dict)

    def client(self) -> httpx.AsyncClient:
        if self._client is None:  # made on first use: inside the server's event loop
            self._client = httpx.AsyncClient(transport=self.transport, timeout=TIMEOUT)
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def token(self, session: LoginSession, service: str, ip: str) -> str:
        key = (session.token_hash, service)
        cached = self._tokens.get(key)
        if cached is not None and cached[1] - datetime.now(UTC) > REUSE_MARGIN:
            return cached[0]
        # reads the key file and, for privileged roles, writes an audit row: off the loop
        token, expires = await to_thread.run_sync(self.portal.service_token, session, service, ip)
        if len(self._tokens) > 10_000:  # sessions come and go: never grow without end
            self._tokens.clear()
        self._tokens[key] = (token, expires)
        return token

    async def request(
        self,
        session: LoginSession,
        ip: str,
        method: str,
        service: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        data: dict[str, str] | None = None,
        files: dict[str, tuple[str, bytes, str]] | None = None,
        content: tuple[bytes, str] | None = None,
    ) -> httpx.Response:
        """`method service path` with the person's token: the raw answer (a document, a
        sheet), or ServiceError in words when the service refused or cannot be reached.
        `content`: a raw body and its content type (a CSV a service reads as the body)."""
        url = f"{self.settings.service_url(service)}/api/v1{path}"
        headers = {"Authorization": f"Bearer {await self.token(session, service, ip)}"}
        if content is not None:
            headers["Content-Type"] = content[1]
        words = SERVICE_WORDS.get(service, service)
        try:
            response = await self.client().request(
                method, url, params=params, json=json, data=data, files=files, headers=headers,
                content=content[0] if content is not None else None,
            )  # fmt: skip
        except httpx.TimeoutException:
            raise ServiceError(
                504, f"Layanan {words} terlalu lama menjawab. Coba lagi beberapa saat lagi."
            ) from None
        except httpx.TransportError:
            raise ServiceError(
                503,
                f"Layanan {words} sedang tidak dapat dihubungi. Coba lagi beberapa menit lagi; "
                "jika tetap gagal, hubungi operator OPD Anda.",
            ) from None
        if response.status_code >= 400:
            raise message_of(service, response)
        return response

    async def call(
        self,
        session: LoginSession,
        ip: str,
        method: str,
        service: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        data: dict[str, str] | None = None,
        files: dict[str, tuple[str, bytes, str]] | None = None,
    ) -> Any:
        """The JSON answer of `method service path`, or ServiceError."""
        response = await self.request(
            session, ip, method, service, path, params=params, json=json, data=data, files=files
        )
        if response.status_code == 204 or not response.content:
            return None
        return response.json()

    async def get(
        self, session: LoginSession, ip: str, service: str, path: str, **params: Any
    ) -> Any:
        return await self.call(session, ip, "GET", service, path, params=params or None)

    async def post(
        self,
        session: LoginSession,
        ip: str,
        service: str,
        path: str,
        json: Any = None,
        files: dict[str, tuple[str, bytes, str]] | None = None,
    ) -> Any:
        return await self.call(session, ip, "POST", service, path, json=json, files=files)
