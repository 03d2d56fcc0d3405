"""A lean open-loop HTTP load generator for the benchmarks.

The broker and its load share two cores here, so the generator must cost far less than the
requests it measures: httpx spends about a millisecond of CPU per request, this spends a
few tens of microseconds. Requests are prepared as raw HTTP/1.1 bytes before the clock
starts (each carries its own signed token), sent on keep-alive connections at a fixed
rate whatever the answers do (open loop), and each latency is measured from the moment
the request was due, not from when a connection became free, so queueing inside the
broker is counted rather than hidden (no coordinated omission).
"""

from __future__ import annotations

import asyncio
import gc
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import urlsplit


def post_request(url: str, path: str, body: object, headers: dict[str, str]) -> bytes:
    """The bytes of one keep-alive JSON POST."""
    host = urlsplit(url).netloc
    payload = json.dumps(body, separators=(",", ":")).encode()
    lines = [f"POST {path} HTTP/1.1", f"Host: {host}", "Content-Type: application/json"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    lines += [f"Content-Length: {len(payload)}", "Connection: keep-alive"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + payload


@dataclass
class LoadResult:
    """Latencies in seconds (from each request's due time), statuses and the real rate."""

    latencies: list[float] = field(default_factory=list)
    lags: list[float] = field(default_factory=list)  # due time to sending: the client's delay
    statuses: dict[int, int] = field(default_factory=dict)
    errors: int = 0
    unfinished: int = 0  # not answered within ``max_drain`` after the last was due
    achieved: float = 0.0
    bodies: list[bytes] = field(default_factory=list)

    @property
    def ok(self) -> int:
        """Requests answered 2xx."""
        return sum(n for status, n in self.statuses.items() if 200 <= status < 300)


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    chunked = False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        lowered = name.strip().lower()
        if lowered == b"content-length":
            length = int(value)
        elif lowered == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    if not chunked:
        return status, await reader.readexactly(length)
    body = b""
    while True:
        size = int((await reader.readuntil(b"\r\n")).strip(), 16)
        chunk = await reader.readexactly(size + 2)
        if size == 0:
            return status, body
        body += chunk[:-2]


@contextmanager
def collector_paused() -> Iterator[None]:
    """No cyclic garbage collection inside the block (one full collection just before)."""
    gc.collect()
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


async def run_load(
    targets: list[tuple[str, int]],
    requests: list[bytes],
    *,
    rate: float,
    keep_bodies: bool = False,
    timeout: float = 30.0,
    max_drain: float = 60.0,
    discard: int = 0,
) -> LoadResult:
    """Send ``requests`` at ``rate`` per second, round robin over ``targets`` (host, port).

    The first ``discard`` requests are a warm-up on the same connections: sent at the same
    rate, not counted. The generator's cyclic garbage collector is off while it runs: a
    full collection of the calling process's heap (a benchmark holding its fill plan) took
    about 100 ms, during which every answer in flight would be read late and counted as the
    broker's latency.
    """
    result = LoadResult()
    idle: list[list[tuple[asyncio.StreamReader, asyncio.StreamWriter]]] = [[] for _ in targets]

    async def one(i: int, due: float) -> None:
        slot = i % len(targets)
        pool = idle[slot]
        try:
            # A connection idle longer than the server's keep-alive timeout has been closed
            # by the server: like any HTTP client, drop it rather than send on it.
            while pool and pool[-1][0].at_eof():
                pool.pop()[1].close()
            if pool:
                reader, writer = pool.pop()
            else:
                reader, writer = await asyncio.open_connection(*targets[slot])
            lag = time.perf_counter() - due
            writer.write(requests[i])
            status, body = await asyncio.wait_for(_read_response(reader), timeout)
        except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError):
            if i >= discard:
                result.errors += 1
                result.latencies.append(time.perf_counter() - due)
            return
        if i < discard:
            pool.append((reader, writer))
            return
        result.lags.append(lag)
        result.latencies.append(time.perf_counter() - due)
        result.statuses[status] = result.statuses.get(status, 0) + 1
        if keep_bodies:
            result.bodies.append(body)
        pool.append((reader, writer))

    with collector_paused():
        started = time.perf_counter()
        tasks = []
        for i in range(len(requests)):
            due = started + i / rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(i, due), name=str(i)))
        _, pending = await asyncio.wait(tasks, timeout=max_drain) if tasks else (set(), set())
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
    result.unfinished = sum(1 for task in pending if int(task.get_name()) >= discard)
    result.achieved = result.ok / (time.perf_counter() - started - discard / rate)
    for pool in idle:
        for _, writer in pool:
            writer.close()
    return result
