"""A SIASN of our own: BKN's token flow and the endpoints SIKERJA uses, over real HTTP.

Not one of SIKERJA's services: it stands in for BKN so that `./dev up`, the tests and the
benches work without the real SIASN. Its people come from the demo city
(sikerja_cli/demo_data.py), one SIASN unit per OPD. Switches (PUT /_fake/switches) make it
slow, fail, expire tokens early, answer 401 to a token it revoked, or refuse records; it
counts what it received (GET /_fake/received) so tests can say "delivered exactly once".

    python -m sikerja_cli.fake_siasn --port 8190 --employees 120 --opds 3
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import random
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Form, Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from sikerja_cli.demo_data import Employee, build_employees

CONSUMER_KEY = "sikerja-demo"
CONSUMER_SECRET = "sikerja-demo-secret"
USERNAME = "bkpsdm-bekasi"
PASSWORD = "rahasia"
INSTANSI_ID = "A5EB03E23BFBF6A0E040640A040252AD"  # the city's instansi (any stable id)

# golongan by kelas jabatan (a plausible pairing for the demo city only)
_GOLONGAN: tuple[str, ...] = ("I/c", "I/d", "II/a", "II/b", "II/c", "II/d", "III/a", "III/b")
_GOLONGAN += ("III/c", "III/d", "IV/a", "IV/b", "IV/c", "IV/d", "IV/e", "IV/e", "IV/e")


def pns_id(nip: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_OID, f"siasn-pns:{nip}"))


def unor_id(opd: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_OID, f"siasn-unor:{opd}"))


def person(e: Employee) -> dict[str, Any]:
    """One demo employee as data-utama answers."""
    return {
        "id": pns_id(e.nip),
        "nipBaru": e.nip,
        "nama": e.nama,
        "gelarDepan": "",
        "gelarBelakang": "",
        "unorId": unor_id(e.opd),
        "unorNama": e.opd,
        "unorIndukId": INSTANSI_ID,
        "unorIndukNama": "Pemerintah Kota Bekasi",
        "jabatanNama": e.jabatan,
        "jenisJabatanId": "1" if e.kelas_jabatan >= 9 else "4",
        "golRuangAkhirId": str(e.kelas_jabatan),
        "golRuangAkhir": _GOLONGAN[e.kelas_jabatan - 1],
        "tmtJabatan": "01-01-2024",
        "kelasJabatan": e.kelas_jabatan,
        "atasanNipBaru": e.atasan_nip or None,
    }


class Switches(BaseModel):
    delay_s: float = 0.0  # every API answer waits this long
    error_rate: float = 0.0  # share of API calls answered 503
    token_ttl_s: int = 3600  # what a token lives (and what expires_in says)
    token_grace_s: int = 0  # a token is refused this long BEFORE expires_in says (early expiry)
    reject_nips: list[str] = []  # kinerjaperiodik/save refuses these NIPs' records (400)


@dataclass
class FakeSiasn:
    people: dict[str, dict[str, Any]]  # nipBaru -> data-utama
    switches: Switches = field(default_factory=Switches)
    tokens: dict[str, float] = field(default_factory=dict)  # token -> loop time it dies
    saved: dict[str, dict[str, Any]] = field(default_factory=dict)  # record id -> body
    received: Counter[str] = field(default_factory=Counter)  # "save:<pnsId>", "delete:<pnsId>"
    calls: Counter[str] = field(default_factory=Counter)  # path kind -> count
    rng: random.Random = field(default_factory=lambda: random.Random(11))

    def units(self) -> list[dict[str, Any]]:
        seen: dict[str, str] = {}
        for p in self.people.values():
            seen.setdefault(p["unorId"], p["unorNama"])
        return [{"id": k, "nama": v, "diatasanId": INSTANSI_ID} for k, v in seen.items()]

    def issue(self) -> dict[str, Any]:
        token = uuid.uuid4().hex
        ttl = self.switches.token_ttl_s
        now = asyncio.get_running_loop().time()
        self.tokens[token] = now + ttl - self.switches.token_grace_s
        return {"access_token": token, "token_type": "bearer", "expires_in": ttl}

    def valid(self, token: str | None) -> bool:
        dies = self.tokens.get(token or "")
        return dies is not None and dies > asyncio.get_running_loop().time()

    def revoke_all(self) -> None:
        self.tokens.clear()


def from_demo(employees: int, opds: int, year: int = 2026, seed: int = 7) -> FakeSiasn:
    city = build_employees(employees, opds, year, random.Random(seed))
    return FakeSiasn({e.nip: person(e) for e in city})


def create_app(fake: FakeSiasn) -> FastAPI:
    app = FastAPI(title="SIASN tiruan (fake BKN)", docs_url="/docs")
    app.state.fake = fake

    @app.post("/oauth2/token")
    async def gateway_token(request: Request, grant_type: str = Form(...)) -> JSONResponse:
        auth = request.headers.get("authorization", "")
        expected = base64.b64encode(f"{CONSUMER_KEY}:{CONSUMER_SECRET}".encode()).decode()
        if grant_type != "client_credentials" or auth != f"Basic {expected}":
            return JSONResponse({"error": "invalid_client"}, 401)
        fake.calls["token:gateway"] += 1
        return JSONResponse(fake.issue())

    @app.post("/auth/realms/public-siasn/protocol/openid-connect/token")
    async def user_token(
        grant_type: str = Form(...),
        username: str = Form(""),
        password: str = Form(""),
    ) -> JSONResponse:
        if grant_type != "password" or (username, password) != (USERNAME, PASSWORD):
            return JSONResponse({"error": "invalid_grant"}, 401)
        fake.calls["token:user"] += 1
        return JSONResponse(fake.issue())

    async def gate(authorization: str | None, auth: str | None) -> JSONResponse | None:
        """The API's common checks: slowness, 5xx, both tokens."""
        s = fake.switches
        fake.calls["api"] += 1
        if s.delay_s:
            await asyncio.sleep(s.delay_s)
        if s.error_rate and fake.rng.random() < s.error_rate:
            fake.calls["5xx"] += 1
            return JSONResponse({"message": "Service Unavailable"}, 503)
        gateway = (authorization or "").removeprefix("Bearer ")
        user = (auth or "").removeprefix("bearer ")
        if not (fake.valid(gateway) and fake.valid(user)):
            fake.calls["401"] += 1
            return JSONResponse({"message": "Invalid Credentials"}, 401)
        return None

    @app.get("/apisiasn/1.0/pns/data-utama/{nip}")
    async def data_utama(
        nip: str, authorization: str | None = Header(None), auth: str | None = Header(None)
    ) -> JSONResponse:
        if refused := await gate(authorization, auth):
            return refused
        fake.calls["data-utama"] += 1
        data = fake.people.get(nip)
        if data is None:
            return JSONResponse({"success": False, "message": "Data tidak ditemukan"}, 404)
        return JSONResponse({"success": True, "data": data})

    @app.get("/apisiasn/1.0/referensi/ref-unor")
    async def ref_unor(
        authorization: str | None = Header(None), auth: str | None = Header(None)
    ) -> JSONResponse:
        if refused := await gate(authorization, auth):
            return refused
        return JSONResponse({"success": True, "data": fake.units()})

    @app.get("/apisiasn/1.0/pns/list-by-unor/{unor}")
    async def list_by_unor(
        unor: str,
        page: int = 1,
        limit: int = 500,
        authorization: str | None = Header(None),
        auth: str | None = Header(None),
    ) -> JSONResponse:
        if refused := await gate(authorization, auth):
            return refused
        nips = sorted(n for n, p in fake.people.items() if p["unorId"] == unor)
        rows = nips[(page - 1) * limit : page * limit]
        return JSONResponse({"success": True, "data": [{"nipBaru": n} for n in rows]})

    @app.post("/apisiasn/1.0/kinerjaperiodik/save")
    async def save(
        request: Request,
        authorization: str | None = Header(None),
        auth: str | None = Header(None),
    ) -> JSONResponse:
        if refused := await gate(authorization, auth):
            return refused
        body = await request.json()
        pns = str(body.get("pnsDinilaiId", ""))
        nip = next((n for n, p in fake.people.items() if p["id"] == pns), None)
        if nip is None or nip in fake.switches.reject_nips:
            return JSONResponse({"success": False, "message": "pnsDinilaiId tidak valid"}, 400)
        record = uuid.uuid4().hex
        fake.saved[record] = body
        fake.received[f"save:{pns}"] += 1
        return JSONResponse({"success": True, "data": {"id": record}})

    @app.delete("/apisiasn/1.0/kinerjaperiodik/delete/{record}")
    async def delete(
        record: str, authorization: str | None = Header(None), auth: str | None = Header(None)
    ) -> JSONResponse:
        if refused := await gate(authorization, auth):
            return refused
        body = fake.saved.pop(record, None)
        if body is None:
            return JSONResponse({"success": False, "message": "Data tidak ditemukan"}, 404)
        fake.received[f"delete:{body['pnsDinilaiId']}"] += 1
        return JSONResponse({"success": True, "data": None})

    # -- the switches and counters (not SIASN's: ours) -----------------------------------------
    @app.get("/_fake/switches")
    async def get_switches() -> Switches:
        return fake.switches

    @app.put("/_fake/switches")
    async def put_switches(switches: Switches) -> Switches:
        fake.switches = switches
        return switches

    @app.get("/_fake/units")
    async def units() -> list[dict[str, Any]]:
        """The units ref-unor lists, without tokens (for `./dev up` to map them to OPDs)."""
        return fake.units()

    @app.post("/_fake/revoke-tokens")
    async def revoke() -> dict[str, int]:
        """Every token issued so far is refused from now on (401 on a stale token)."""
        count = len(fake.tokens)
        fake.revoke_all()
        return {"revoked": count}

    @app.put("/_fake/people/{nip}")
    async def put_person(nip: str, request: Request) -> dict[str, Any]:
        """Add or change one ASN (fields as data-utama names them)."""
        current = fake.people.get(nip, {"id": pns_id(nip), "nipBaru": nip})
        fake.people[nip] = {**current, **(await request.json()), "nipBaru": nip}
        return fake.people[nip]

    @app.delete("/_fake/people/{nip}")
    async def delete_person(nip: str) -> dict[str, bool]:
        return {"removed": fake.people.pop(nip, None) is not None}

    @app.get("/_fake/received")
    async def received() -> dict[str, Any]:
        return {"received": dict(fake.received), "calls": dict(fake.calls)}

    return app


@asynccontextmanager
async def running(fake: FakeSiasn, port: int = 0) -> AsyncIterator[str]:
    """Serve `fake` on loopback in this event loop (tests, benches); yields its base URL."""
    import socket

    import uvicorn

    if not port:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
    config = uvicorn.Config(
        create_app(fake), host="127.0.0.1", port=port, log_level="warning", lifespan="off"
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:  # uvicorn offers only this flag
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


def main(argv: list[str] | None = None) -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8190)
    parser.add_argument("--employees", type=int, default=120)
    parser.add_argument("--opds", type=int, default=3)
    parser.add_argument("--year", type=int, default=2026)
    args = parser.parse_args(argv)
    fake = from_demo(args.employees, args.opds, args.year)
    uvicorn.run(create_app(fake), host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
