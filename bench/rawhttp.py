"""A lean HTTP/1.1 keep-alive client on asyncio streams, for the load the benchmark sends itself.

httpx spends about a millisecond of client CPU per request: at a few hundred requests per second
the load core, not the server, set the pace, and an open-loop run fell behind its own schedule.
Here a request is bytes built once, and an answer is read by its Content-Length (or its chunks),
which keeps the client far cheaper than the server it measures.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

__all__ = ["SEND_ERRORS", "Connection", "Endpoint", "build_request"]

ANSWER_TIMEOUT_S = 10.0  # as wrk's --timeout: an answer slower than this counts as an error
# What a failed exchange raises: the connection is then closed and another one opened.
SEND_ERRORS = (OSError, TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError)


@dataclass(frozen=True)
class Endpoint:
    host: str
    port: int

    @classmethod
    def of(cls, base: str) -> Endpoint:
        parts = urlsplit(base)
        return cls(parts.hostname or "127.0.0.1", parts.port or 80)


def build_request(endpoint: Endpoint, method: str, path: str, headers: dict[str, str],
                  form: dict[str, str] | None = None) -> bytes:
    body = urlencode(form).encode() if form is not None else b""
    lines = [f"{method} {path} HTTP/1.1", f"Host: {endpoint.host}:{endpoint.port}",
             *(f"{name}: {value}" for name, value in headers.items())]
    if form is not None:
        lines += ["Content-Type: application/x-www-form-urlencoded", f"Content-Length: {len(body)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


class Connection:
    """One keep-alive connection; ``send`` returns the answer's status code. After an answer that said
    ``Connection: close``, ``reusable`` is False and the caller opens another connection."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer
        self.reusable = True

    @classmethod
    async def open(cls, endpoint: Endpoint) -> Connection:
        reader, writer = await asyncio.open_connection(endpoint.host, endpoint.port)
        return cls(reader, writer)

    async def send(self, request: bytes) -> int:
        async with asyncio.timeout(ANSWER_TIMEOUT_S):
            return await self._exchange(request)

    async def _exchange(self, request: bytes) -> int:
        self._writer.write(request)
        head = await self._reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = None
        chunked = False
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding" and b"chunked" in value.lower():
                chunked = True
            elif name == b"connection" and b"close" in value.lower():
                self.reusable = False
        if chunked:
            while True:
                size = int((await self._reader.readuntil(b"\r\n")).split(b";")[0], 16)
                await self._reader.readexactly(size + 2)
                if size == 0:
                    break
        elif length:
            await self._reader.readexactly(length)
        return status

    def close(self) -> None:
        self._writer.close()
