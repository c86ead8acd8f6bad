"""Real receivers for the notifier's channels, on loopback, counting what arrives: an SMTP
server (aiosmtpd) and a gateway webhook (a small ASGI app served by uvicorn). Each drops a
repeat of an idempotency key the way a real receiver does, and keeps every arrival so a test
can tell a re-send (same key) from a second message (another key)."""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
import time
from collections import Counter
from email.message import EmailMessage
from typing import Any

import uvicorn
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from services.notifier.channels import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify_signature
from tests.support import free_port


class SmtpReceiver:
    """aiosmtpd on 127.0.0.1: every mail kept; `by_id` keeps the first per Message-ID."""

    def __init__(self) -> None:
        self.port = free_port()
        self.arrivals: list[EmailMessage] = []
        self.by_id: dict[str, EmailMessage] = {}
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.content
        raw = content if isinstance(content, bytes) else str(content).encode()
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(msg, EmailMessage)
        self.arrivals.append(msg)
        self.by_id.setdefault(str(msg["Message-ID"]), msg)
        return "250 OK diterima"

    def per_address(self) -> Counter[str]:
        return Counter(str(m["To"]) for m in self.by_id.values())

    def __enter__(self) -> SmtpReceiver:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()


class WebhookReceiver:
    """The gateway: checks the signature and the replay window, answers 503 while `down`,
    keeps the first request per Idempotency-Key and counts every accepted arrival."""

    def __init__(self, secret: str, delay_s: float = 0.0) -> None:
        self.secret = secret
        self.delay_s = delay_s
        self.port = free_port()
        self.down = False
        self.answer_status = 200  # e.g. 400: the gateway refuses every message for good
        self.arrivals: list[str] = []  # the key of every accepted request (re-sends too)
        self.by_key: dict[str, dict[str, Any]] = {}
        self.refused = 0  # requests answered 503 (down) or 4xx
        self.bad_signatures = 0
        self.server: uvicorn.Server | None = None
        self.task: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/send"

    def per_address(self) -> Counter[str]:
        return Counter(str(p["to"]) for p in self.by_key.values())

    async def app(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        assert scope["type"] == "http"
        body = b""
        while True:
            part = await receive()
            body += part.get("body", b"")
            if not part.get("more_body"):
                break
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        timestamp = headers.get(TIMESTAMP_HEADER.lower(), "")
        signature = headers.get(SIGNATURE_HEADER.lower(), "")
        key = headers.get("idempotency-key", "")
        if not verify_signature(self.secret, timestamp, body, signature, time.time()):
            self.bad_signatures += 1
            await self._answer(send, 401, {"error": "bad signature"})
            return
        if self.down:
            self.refused += 1
            await self._answer(send, 503, {"error": "gateway down"})
            return
        if self.answer_status >= 400:
            self.refused += 1
            await self._answer(send, self.answer_status, {"error": "nomor tidak terdaftar"})
            return
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        self.arrivals.append(key)
        duplicate = key in self.by_key
        self.by_key.setdefault(key, json.loads(body))
        await self._answer(send, 200, {"id": key, "status": "duplicate" if duplicate else "queued"})

    @staticmethod
    async def _answer(send: Any, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": data})

    async def __aenter__(self) -> WebhookReceiver:
        config = uvicorn.Config(
            self.app,
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            lifespan="off",
            interface="asgi3",
        )
        self.server = uvicorn.Server(config)
        self.task = asyncio.create_task(self.server.serve())
        while not self.server.started:  # noqa: ASYNC110 - uvicorn offers only this flag
            await asyncio.sleep(0.01)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None and self.task is not None
        self.server.should_exit = True
        await self.task
