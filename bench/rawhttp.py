"""A load client that costs the machine little: one HTTP/1.1 keep-alive connection, one
request at a time, requests pre-encoded, responses read by Content-Length.

The benches share two cores with the services they measure; httpx spent ~1.3 ms of CPU per
request (a quarter of a core at 200 requests/s) that the servers then lacked. This client
understands only what uvicorn answers (Content-Length bodies); anything else is an error.
"""

from __future__ import annotations

import asyncio


class RawHttpError(Exception):
    pass


def encode_request(
    method: str, path: str, headers: dict[str, str], body: bytes = b"", host: str = "bench"
) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}", f"Content-Length: {len(body)}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


class RawConnection:
    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def open(self) -> RawConnection:
        self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
        return self

    async def send(self, request: bytes) -> tuple[int, bytes]:
        """Send one pre-encoded request; return (status, body)."""
        if self._writer is None or self._reader is None:
            await self.open()
        assert self._writer is not None and self._reader is not None
        self._writer.write(request)
        head = await self._reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = -1
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.lower() == b"content-length":
                length = int(value)
                break
        if length < 0:
            raise RawHttpError(f"no Content-Length in response: {head[:200]!r}")
        body = await self._reader.readexactly(length) if length else b""
        return status, body

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            try:
                await self._writer.wait_closed()
            except OSError:
                pass
            self._writer = self._reader = None
