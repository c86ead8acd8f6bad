"""The HTTP side every service shares: the FastAPI app factory, RFC 9457 problem+json
errors with a Bahasa Indonesia `detail`, /healthz, /readyz, /metrics, and the actor: the
identity a signed token (Authorization: Bearer, minted by the portal or `sikerja token`)
proves, verified once per request for every /api/v1 route."""

from __future__ import annotations

import gc
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from contextlib import asynccontextmanager
from datetime import date, datetime
from typing import Annotated, Any

import structlog
from anyio import to_thread
from fastapi import APIRouter, Depends, FastAPI, Request, Security
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi_offline import FastAPIOffline
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import AfterValidator, BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.kernel.calendar import month_bounds, parse_period, year_problem
from services.shared import metrics
from services.shared.identity import Actor as Actor
from services.shared.identity import (
    Identity,
    IdentityError,
    Jwks,
    UnknownKey,
    Verified,
    jwks_of,
)
from services.shared.kit import ServiceKit

log = structlog.get_logger("sikerja.http")
PROBLEM = "application/problem+json"
WORKER_THREADS = 8  # threads for sync endpoints (see create_app)

_TITLES = {
    400: "Permintaan tidak valid",
    401: "Belum masuk",
    403: "Tidak berwenang",
    404: "Tidak ditemukan",
    409: "Konflik",
    413: "Berkas terlalu besar",
    415: "Jenis berkas tidak didukung",
    422: "Data tidak valid",
    500: "Kesalahan server",
    503: "Layanan belum siap",
}


class Problem(Exception):
    """An error for the API user: becomes an RFC 9457 problem+json response."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        code: str = "error",
        title: str | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.status, self.detail, self.code = status, detail, code
        self.title = title or _TITLES.get(status, "Kesalahan")
        self.extra = extra


def problem_response(
    status: int,
    detail: str,
    code: str,
    title: str | None = None,
    instance: str | None = None,
    **extra: Any,
) -> JSONResponse:
    body = {
        "type": f"https://sikerja.bekasikota.go.id/problems/{code}",
        "title": title or _TITLES.get(status, "Kesalahan"),
        "status": status,
        "detail": detail,
        "code": code,
        **({"instance": instance} if instance else {}),
        **extra,
    }
    return JSONResponse(body, status_code=status, media_type=PROBLEM)


def _field_errors(exc: RequestValidationError) -> list[dict[str, str]]:
    out = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path"))
        out.append({"field": loc, "message": _translate(err)})
    return out


_BOUNDS = {
    "greater_than": "harus lebih dari",
    "greater_than_equal": "minimal",
    "less_than": "harus kurang dari",
    "less_than_equal": "maksimal",
}


def _translate(err: dict[str, Any]) -> str:
    kind = err.get("type", "")
    if kind == "missing":
        return "wajib diisi"
    if kind.startswith("string_pattern"):
        return "format tidak sesuai"
    if "date" in kind or "datetime" in kind:
        return "tanggal/waktu tidak valid"
    if kind.startswith(("int", "float", "decimal")):
        return "harus berupa angka"
    if kind.startswith("literal") or kind == "enum":
        return "nilai tidak dikenal"
    if kind in _BOUNDS:
        bound = next(iter(err.get("ctx", {}).values()), None)
        limit = f" ({_BOUNDS[kind]} {bound})" if bound is not None else ""
        return "di luar batas yang diizinkan" + limit
    if kind == "value_error" and "error" in err.get("ctx", {}):
        return str(err["ctx"]["error"])  # our validators' own Bahasa text
    return str(err.get("msg", "tidak valid"))


# -- bounds of what the APIs take -------------------------------------------------------
# Every number and date a route takes is bounded, so no input reaches a store column or a
# calendar that cannot hold it: an out-of-range value is a 422, never a 500.

ID_MAX = 2**31 - 1  # an INTEGER key (32 bits in PostgreSQL)
QUANTITY_MAX = 1_000_000  # counts a person types (report quantities, SKP targets)


def _served_day(value: date) -> date:
    if problem := year_problem(value.year):
        raise ValueError(f"{value.isoformat()}: {problem}")
    return value


def _served_moment(value: datetime) -> datetime:
    if problem := year_problem(value.year):
        raise ValueError(f"{value.isoformat()}: {problem}")
    return value


# A date or a moment in the years SIKERJA serves (services.kernel.calendar.YEAR_MIN..MAX).
Day = Annotated[date, AfterValidator(_served_day)]
Moment = Annotated[datetime, AfterValidator(_served_moment)]


def kit_of(request: Request) -> ServiceKit:
    """The service kit create_app put on the app."""
    return request.app.state.kit


def now_of(request: Request) -> datetime:
    """Now by the kit's clock (the wall clock, or a test's)."""
    return kit_of(request).clock()


# The Authorization header as OpenAPI's bearer scheme (/docs gets an "Authorize" button);
# auto_error off: a missing token is our own 401 problem+json, not FastAPI's.
BEARER = HTTPBearer(
    auto_error=False,
    bearerFormat="JWT",
    description="Token identitas dari portal atau `sikerja token --role ...`",
)


# Tokens verified by this process (the same token comes with every request of a client).
VERIFIED = Verified()


async def authenticate(
    request: Request,
    credentials: HTTPAuthorizationCredentials | None,
    audience: str | None = None,
    keys: Jwks | None = None,
) -> Identity:
    """The Identity the request's token proves for `audience` (default: the service's
    name), or a 401 problem+json. Keys: the settings' JWKS, cached for the process."""
    kit = request.app.state.kit
    jwks = keys or jwks_of(kit.settings)
    token, aud = (credentials.credentials if credentials else None), audience or kit.name
    try:
        # verification is CPU only on cached keys: no thread-pool trip, except to fetch a
        # JWKS URL (every refresh_s, or for an unknown kid), never on the event loop
        if jwks.fetch_due():
            await to_thread.run_sync(jwks.reload)
        try:
            return VERIFIED.verify(token, aud, jwks, fetch=False)
        except UnknownKey:
            if not (jwks.is_remote and jwks.may_refetch()):
                raise
            await to_thread.run_sync(jwks.reload)
            return VERIFIED.verify(token, aud, jwks, fetch=False)
    except IdentityError as exc:
        raise Problem(401, exc.detail, code=exc.code) from exc


async def actor(
    request: Request, credentials: HTTPAuthorizationCredentials | None = Security(BEARER)
) -> Actor:
    """The caller, proven by their token. create_app puts this in front of every /api/v1
    route; FastAPI solves a dependency once per request, so a route that also asks for
    `Depends(actor)` gets the same Identity without a second verification."""
    return await authenticate(request, credentials)


def identity_dependency(
    audience: str | None = None,
    keys: Jwks | None = None,
    roles: Iterable[str] | None = None,
) -> Callable[..., Awaitable[Identity]]:
    """A dependency giving the caller's Identity, or a 401 problem+json (no or bad token) /
    403 (a valid token whose role is not in `roles`). The audience defaults to the
    service's name (the kit's), the keys to the settings' JWKS."""
    allowed = frozenset(roles) if roles is not None else None

    async def dependency(
        request: Request, credentials: HTTPAuthorizationCredentials | None = Security(BEARER)
    ) -> Identity:
        who = await authenticate(request, credentials, audience, keys)
        if allowed is not None and who.role not in allowed:
            raise Problem(
                403,
                f"Peran {who.role} tidak berwenang untuk tindakan ini.",
                code="forbidden_role",
            )
        return who

    return dependency


# async: a sync dependency costs a trip through the thread pool on every request
async def _now(request: Request) -> datetime:
    return now_of(request)


async def _kit(request: Request) -> ServiceKit:
    return kit_of(request)


# The routes' dependencies: `who: Who`, `now: Now`, `kit: Kit`.
Who = Annotated[Actor, Depends(actor)]
Now = Annotated[datetime, Depends(_now)]
Kit = Annotated[ServiceKit, Depends(_kit)]


def period_or_422(period: str, code: str = "invalid_period") -> tuple[int, int]:
    """`period` (YYYY-MM) as (year, month), or a 422 problem `code`."""
    try:
        return parse_period(period.strip())
    except ValueError as exc:  # the kernel's message already names the period
        raise Problem(422, str(exc), code=code) from None


def period_key(period: str, code: str = "invalid_period") -> str:
    """`period` as YYYY-MM, or a 422 problem `code`."""
    year, month = period_or_422(period, code)
    return f"{year:04d}-{month:02d}"


def period_bounds_or_422(period: str, code: str = "invalid_period") -> tuple[date, date]:
    """The first and last day of `period`, or a 422 problem `code`."""
    year, month = period_or_422(period, code)
    return month_bounds(year, month)


def model_response(model: BaseModel, status: int = 200) -> Response:
    """`model` as the JSON response, serialized once (a hot route's shortcut past FastAPI's
    response_model validation, which a sync route also pays a thread-pool trip for)."""
    return Response(model.model_dump_json(), status_code=status, media_type="application/json")


class _Timing:
    """HTTP latency per route, as plain ASGI: Starlette's BaseHTTPMiddleware (what
    @app.middleware builds) costs a task group and memory streams per request."""

    def __init__(self, app: ASGIApp, service: str) -> None:
        self.app, self.service = app, service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        await self.app(scope, receive, send_status)
        # the router put the matched route into this same scope
        path = getattr(scope.get("route"), "path", "unmatched")
        metrics.HTTP_SECONDS.labels(self.service, scope["method"], path, str(status)).observe(
            time.perf_counter() - started
        )


def _escaped_nul(body: bytes) -> bool:
    """Does a JSON text carry a NUL character ("\\u0000" after an odd run of backslashes)?
    A raw NUL byte is no valid JSON anyway (the parser refuses it)."""
    start = body.find(b"u0000")
    while start != -1:
        run = 0
        while start - run - 1 >= 0 and body[start - run - 1] == 0x5C:  # backslash
            run += 1
        if run % 2 == 1:
            return True
        start = body.find(b"u0000", start + 1)
    return False


class _RefuseNul:
    """A NUL character can be stored by SQLite but not by PostgreSQL (a 500 there, and on
    the group-committed filing path a failed batch): refused at the edge, for every route,
    as a 422 problem+json. Path, query and JSON bodies; uploads are checked by their own
    readers (binary content is refused there)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if "\x00" in scope["path"] or b"%00" in scope.get("query_string", b""):
            await self._refuse(scope, receive, send)
            return
        content_type = dict(scope["headers"]).get(b"content-type", b"")
        if not content_type.startswith(b"application/json"):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        body = b"".join(chunks)
        if _escaped_nul(body):
            await self._refuse(scope, receive, send)
            return
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = problem_response(
            422,
            "Data berisi karakter NUL (\\u0000) yang tidak dapat disimpan; hapus karakter itu.",
            "nul_character",
            None,
            scope["path"].replace("\x00", ""),
        )
        await response(scope, receive, send)


def create_app(
    kit: ServiceKit,
    routers: Iterable[APIRouter],
    *,
    title: str,
    background: Iterable[Callable[[], Any]] = (),
    checks: Mapping[str, Callable[[], Awaitable[str]]] | None = None,
    threads: int = WORKER_THREADS,
    authenticated: bool = True,
) -> FastAPI:
    """The one way a service builds its FastAPI app; the lifespan starts the kit.

    `checks` are extra readiness probes returning "ok", "degraded: ..." (reported, still
    ready: the service has a slower path) or anything else (not ready).

    `authenticated`: every route of `routers` (under /api/v1) needs a valid token (the
    portal, which signs people in with its own sessions, turns this off)."""
    extra_checks = dict(checks or {})
    starters = list(background)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Sync endpoints run in anyio's pool (40 threads by default). More threads than
        # cores only fight over the GIL and the store's write lock: fewer, busier threads
        # finish each request sooner.
        to_thread.current_default_thread_limiter().total_tokens = threads
        await kit.start()
        tasks = [start() for start in starters]
        # Everything built at start (modules, SQLAlchemy's and pydantic's caches) lives as
        # long as the process: out of the collector's way, a full collection under load
        # walks only what requests allocate (fewer long pauses in the latency tail).
        gc.collect()
        gc.freeze()
        try:
            yield
        finally:
            for task in tasks:
                if hasattr(task, "cancel"):
                    task.cancel()
            await kit.stop()

    # The docs page's Swagger UI is served by the service itself (fastapi-offline ships the
    # assets): a city network that cannot reach a CDN still gets a working /docs.
    app = FastAPIOffline(title=title, version="1.0.0", lifespan=lifespan, redoc_url=None)
    app.state.kit = kit

    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> JSONResponse:
        return problem_response(
            exc.status, exc.detail, exc.code, exc.title, request.url.path, **exc.extra
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = _field_errors(exc)
        detail = "Data yang dikirim tidak valid: " + "; ".join(
            f"{e['field'] or 'isi'} {e['message']}" for e in errors
        )
        return problem_response(422, detail, "validation", None, request.url.path, errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) else "Permintaan tidak dapat diproses"
        if exc.status_code == 404 and detail == "Not Found":
            detail = "Alamat tidak ditemukan"
        elif exc.status_code == 405:
            detail = "Metode tidak diizinkan untuk alamat ini"
        return problem_response(exc.status_code, detail, "http", None, request.url.path)

    @app.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception) -> JSONResponse:
        # The answer says "sudah dicatat": the on-call engineer finds it by path and method.
        log.error(
            "unhandled error",
            method=request.method,
            path=request.url.path,
            error=repr(exc),
            exc_info=exc,
        )
        return problem_response(
            500,
            "Terjadi kesalahan pada server; sudah dicatat. Silakan coba lagi.",
            "internal",
            None,
            request.url.path,
        )

    app.add_middleware(_RefuseNul)
    app.add_middleware(_Timing, service=kit.name)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "service": kit.name}

    @app.get("/readyz", include_in_schema=False)
    async def readyz() -> JSONResponse:
        checks = await kit.readiness()
        for name, probe in extra_checks.items():
            try:
                checks[name] = await probe()
            except Exception as exc:  # noqa: BLE001 - a probe must not break readiness
                checks[name] = f"error: {exc!r}"
        ok = all(v == "ok" or v.startswith("degraded") for v in checks.values())
        if ok:
            return JSONResponse({"status": "ready", "checks": checks})
        return problem_response(
            503,
            "Layanan belum siap: " + ", ".join(f"{k}={v}" for k, v in checks.items() if v != "ok"),
            "not_ready",
            checks=checks,
        )

    @app.get("/metrics", include_in_schema=False)
    async def metrics_endpoint() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    guard = [Depends(actor)] if authenticated else []
    for router in routers:
        app.include_router(router, prefix="/api/v1", dependencies=guard)
    return app
