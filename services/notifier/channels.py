"""The channels a message leaves by: e-mail over SMTP and the WhatsApp/SMS/Telegram gateway's
signed webhook, plus the per-channel circuit breaker.

Every send carries the message's idempotency key (SMTP `Message-ID`, webhook `Idempotency-Key`):
a re-send after a crash repeats the same key and the receiver drops it.

The gateway webhook: `POST gateway_url` with a JSON body and the headers
  X-Sikerja-Timestamp: unix seconds when signed
  X-Sikerja-Signature: sha256=HEX(HMAC-SHA256(secret, timestamp + "." + body))
  Idempotency-Key: the message's key
The gateway checks the signature (`verify_signature`) and refuses a timestamp further than
REPLAY_WINDOW_S from its own clock (a replayed request is old); within the window the
Idempotency-Key drops repeats. 2xx is accepted; 408, 429 and 5xx are retried; another 4xx is
final (the message is dead-lettered with the gateway's answer).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate, parseaddr
from typing import Protocol

import aiosmtplib
import httpx

from services.notifier.config import NotifierSettings
from services.shared.logs import get_logger

log = get_logger("sikerja.notifier.channels")

REPLAY_WINDOW_S = 300
TIMESTAMP_HEADER = "X-Sikerja-Timestamp"
SIGNATURE_HEADER = "X-Sikerja-Signature"
GATEWAY_CHANNELS = ("whatsapp", "sms", "telegram")


@dataclass(frozen=True)
class Outgoing:
    """One message on its way out of one channel."""

    idempotency_key: str
    channel: str
    address: str
    nip: str
    kind: str
    title: str
    text: str  # plain text: the body and the portal link
    link: str


class SendError(Exception):
    """A send that did not go through; `retryable` False means trying again cannot help."""

    def __init__(self, detail: str, *, retryable: bool = True) -> None:
        super().__init__(detail)
        self.detail = detail
        self.retryable = retryable


class Sender(Protocol):
    """A channel to the outside world: returns the receiver's answer, raises SendError."""

    async def send(self, out: Outgoing) -> str: ...


class LogSender:
    """Writes what would be sent to the log: no network here (no channel configured)."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, str, str]] = []

    async def send(self, out: Outgoing) -> str:
        self.sent.append((out.channel, out.address, out.title, out.text))
        log.info("message sent (log only)", channel=out.channel, address=out.address)
        return "log"


class EmailSender:
    """E-mail over SMTP (aiosmtplib): text/plain, Message-ID = the idempotency key."""

    def __init__(self, config: NotifierSettings) -> None:
        assert config.smtp_host is not None
        self.config = config
        self.domain = parseaddr(config.smtp_from)[1].partition("@")[2] or "sikerja.local"

    def message(self, out: Outgoing) -> EmailMessage:
        msg = EmailMessage()
        msg["From"] = self.config.smtp_from
        msg["To"] = out.address
        msg["Subject"] = out.title
        msg["Message-ID"] = f"<{out.idempotency_key}@{self.domain}>"
        msg["Date"] = formatdate(usegmt=True)
        msg.set_content(out.text)  # text/plain; charset utf-8
        return msg

    async def send(self, out: Outgoing) -> str:
        c = self.config
        try:
            _, answer = await aiosmtplib.send(
                self.message(out),
                hostname=c.smtp_host,
                port=c.smtp_port,
                username=c.smtp_username,
                password=c.smtp_password,
                start_tls=c.smtp_starttls and not c.smtp_tls,
                use_tls=c.smtp_tls,
                timeout=c.smtp_timeout_s,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            raise SendError(f"alamat ditolak: {exc}", retryable=False) from exc
        except aiosmtplib.SMTPResponseException as exc:
            # 4xx: try later; 5xx: the server refuses this message for good
            raise SendError(f"{exc.code} {exc.message}", retryable=exc.code < 500) from exc
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise SendError(repr(exc)) from exc
        return answer


def sign(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify_signature(
    secret: str,
    timestamp: str,
    body: bytes,
    signature: str,
    now_s: float,
    window_s: float = REPLAY_WINDOW_S,
) -> bool:
    """What the gateway checks: the signature, and a timestamp inside the replay window."""
    try:
        age = abs(now_s - int(timestamp))
    except ValueError:
        return False
    return age <= window_s and hmac.compare_digest(sign(secret, timestamp, body), signature)


class WebhookSender:
    """The gateway's webhook: a signed JSON POST; the gateway's answer is recorded."""

    RETRY_STATUSES = frozenset({408, 425, 429})

    def __init__(
        self,
        config: NotifierSettings,
        client: httpx.AsyncClient | None = None,
        wall: Callable[[], float] = time.time,  # the signature's clock is the real one
    ) -> None:
        assert config.gateway_url is not None
        self.url = config.gateway_url
        self.secret = config.gateway_secret
        self.client = client or httpx.AsyncClient(timeout=config.gateway_timeout_s)
        self.wall = wall

    async def send(self, out: Outgoing) -> str:
        body = json.dumps(
            {
                "channel": out.channel,
                "to": out.address,
                "title": out.title,
                "text": out.text,
                "link": out.link,
                "idempotency_key": out.idempotency_key,
            },
            ensure_ascii=False,
        ).encode()
        timestamp = str(int(self.wall()))
        headers = {
            "Content-Type": "application/json",
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: sign(self.secret, timestamp, body),
            "Idempotency-Key": out.idempotency_key,
        }
        try:
            res = await self.client.post(self.url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            raise SendError(repr(exc)) from exc
        answer = f"{res.status_code} {res.text[:300]}"
        if res.is_success:
            return answer
        retryable = res.status_code >= 500 or res.status_code in self.RETRY_STATUSES
        raise SendError(answer, retryable=retryable)


class ChannelRouter:
    """Sends each message by its channel's sender; a channel without one goes to the log."""

    def __init__(self, senders: Mapping[str, Sender], fallback: Sender | None = None) -> None:
        self.senders = dict(senders)
        self.fallback = fallback or LogSender()

    async def send(self, out: Outgoing) -> str:
        return await self.senders.get(out.channel, self.fallback).send(out)

    async def aclose(self) -> None:
        for sender in {id(s): s for s in self.senders.values()}.values():
            if isinstance(sender, WebhookSender):
                await sender.client.aclose()


def senders_from(config: NotifierSettings) -> ChannelRouter:
    """The real channels the settings name (SMTP host, gateway URL); the log for the rest."""
    senders: dict[str, Sender] = {}
    if config.smtp_host:
        senders["email"] = EmailSender(config)
    if config.gateway_url:
        gateway = WebhookSender(config)
        senders.update({c: gateway for c in GATEWAY_CHANNELS})
    return ChannelRouter(senders)


class Breaker:
    """A channel's circuit breaker: open after `failures` retryable failures in a row, so a
    dead gateway costs no attempts (and no dead letters) while e-mail goes on; one trial
    send after `cooldown_s` (half-open) closes it again or reopens it."""

    def __init__(self, failures: int, cooldown_s: float) -> None:
        self.threshold = failures
        self.cooldown = timedelta(seconds=cooldown_s)
        self.state = "closed"
        self.count = 0
        self.opened_at: datetime | None = None

    def retry_at(self) -> datetime | None:
        return None if self.opened_at is None else self.opened_at + self.cooldown

    def allow(self, now: datetime) -> bool:
        """May one more send start? Half-open lets exactly one trial through."""
        if self.state == "closed":
            return True
        if self.state == "open":
            until = self.retry_at()
            if until is not None and now >= until:
                self.state = "half_open"
                return True
        return False

    def record(self, ok: bool, now: datetime) -> None:
        if ok:
            self.state, self.count, self.opened_at = "closed", 0, None
            return
        self.count += 1
        if self.state == "half_open" or self.count >= self.threshold:
            self.state, self.opened_at = "open", now
