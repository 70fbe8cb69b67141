"""CPU work of the server: off the event loop, under one cap, cancelled when nobody waits.

Every computation a request triggers (a WebSocket block, a REST scene, a contour grid)
runs in a worker thread while holding one token of `compute_limiter()`: COMPUTE_THREADS
per event loop. The work holds the GIL, so more threads would not finish sooner; they would
only keep the event loop (and /healthz) waiting for the GIL longer.

REST computations go through `run_cancellable`: the blocking function gets a
`threading.Event` that is set when the client disconnects, and checks it between blocks;
at most MAX_WAITING of them wait for a token at once, the next gets a 503 with
Retry-After instead of queueing without end.

`ByteLRU` is the one cache shape for large values: bounded by bytes, with a documented
budget where it is used (see `app.routes.landscapes` and `app.scene`).
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import gzip
import sys
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import anyio
import anyio.to_thread
from fastapi import HTTPException, Request, Response

from app.http_cache import MIN_COMPRESS_BYTES, RESPONSE_LEVEL, accepts_gzip

T = TypeVar("T")
K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

COMPUTE_THREADS = 2
# REST computations waiting for a compute thread, per event loop; the next one gets a 503.
MAX_WAITING = 32
RETRY_AFTER_SECONDS = 2


@dataclass
class _LoopWork:
    """What one event loop shares between its requests."""

    limiter: anyio.CapacityLimiter
    waiting: int = 0


_loops: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopWork] = (
    weakref.WeakKeyDictionary()
)


def _loop_work() -> _LoopWork:
    loop = asyncio.get_running_loop()
    work = _loops.get(loop)
    if work is None:
        work = _loops[loop] = _LoopWork(anyio.CapacityLimiter(COMPUTE_THREADS))
    return work


def compute_limiter() -> anyio.CapacityLimiter:
    """Threads computing at once for this event loop (WebSocket blocks, REST scenes, grids).

    One limiter per loop: a CapacityLimiter belongs to the loop that created it, and tests
    run several apps on several loops.
    """
    return _loop_work().limiter


class ClientDisconnectedError(Exception):
    """The client left before the reply was ready; the route sends nothing."""


def server_busy() -> HTTPException:
    """The 503 for a full queue: the reason, and when to try again."""
    return HTTPException(
        status_code=503,
        detail=(
            f"the server is busy: {MAX_WAITING} computations are already waiting for one "
            f"of its {COMPUTE_THREADS} compute threads; try again in a few seconds"
        ),
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


async def _wait_disconnect(request: Request) -> None:
    """Return when the client disconnects.

    Reads the ASGI receive channel directly: after the body (which FastAPI has read before
    the route runs), the server's next message is `http.disconnect`, sent when the client
    hangs up (or once the response is complete, when nobody waits here any more).
    `request.is_disconnected()` would only poll; this waits without a timer.
    """
    while True:
        message = await request.receive()
        if message["type"] == "http.disconnect":
            return


async def run_cancellable(
    request: Request | None, fn: Callable[..., T], *args: Any, queue: bool = True
) -> T:
    """`fn(cancel, *args)` in a worker thread under `compute_limiter()`.

    `cancel` is a threading.Event set when the client disconnects (never, when `request`
    is None); `fn` should check it between blocks of work and return early. A client that
    leaves while waiting for a thread never starts one. Raises ClientDisconnectedError when
    the client left (nothing should be sent), or the 503 of `server_busy()` when
    MAX_WAITING computations are already waiting (`queue=False` skips that bound, for a
    computation that many requests share).
    """
    work = _loop_work()
    if queue and work.waiting >= MAX_WAITING:
        raise server_busy()
    cancel = threading.Event()
    queued = anyio.CancelScope()

    async def watch(request: Request) -> None:
        try:
            await _wait_disconnect(request)
        except Exception:  # no receive channel to watch: compute as if nobody could leave
            return
        cancel.set()
        queued.cancel()  # still waiting for a token: give the place up

    watcher = None if request is None else asyncio.create_task(watch(request))
    try:
        with queued:
            work.waiting += 1
            try:
                await work.limiter.acquire()
            finally:
                work.waiting -= 1
        if queued.cancelled_caught:
            raise ClientDisconnectedError
        try:
            result = await anyio.to_thread.run_sync(fn, cancel, *args)
        finally:
            work.limiter.release()
    finally:
        if watcher is not None:
            watcher.cancel()
    if cancel.is_set():
        raise ClientDisconnectedError
    return result


def compressed(body: bytes, compress: bool) -> tuple[bytes, bool]:
    """A reply's body gzipped here, in the worker, when the client accepts it: (body,
    gzipped). A 12 × 10,000-step race is about 8 MB of JSON and a large tune 12 MB;
    compressing in the middleware would take the event loop 0.1 s per reply, and a room of
    such requests stalled /healthz for a second and a half. (zlib lets go of the GIL.)"""
    if compress and len(body) >= MIN_COMPRESS_BYTES:
        return gzip.compress(body, compresslevel=RESPONSE_LEVEL, mtime=0), True
    return body, False


async def json_reply(http: Request, build: Callable[[threading.Event], bytes | None]) -> Response:
    """The JSON reply ``build(cancel)`` makes in a worker thread under the compute limiter
    (`run_cancellable`), gzipped there when the client accepts it; 499 (nobody reads it)
    when the client left or ``build`` gave up (None) because it did."""
    compress = accepts_gzip(http.headers.get("accept-encoding", ""))

    def work(cancel: threading.Event) -> tuple[bytes, bool] | None:
        body = build(cancel)
        return None if body is None else compressed(body, compress)

    try:
        reply = await run_cancellable(http, work)
    except ClientDisconnectedError:
        return Response(status_code=499)  # uvicorn drops it
    if reply is None:
        return Response(status_code=499)
    body, gzipped = reply
    headers = {"Vary": "Accept-Encoding"}
    if gzipped:  # the compression middleware leaves a body with a Content-Encoding alone
        headers["Content-Encoding"] = "gzip"
    return Response(body, media_type="application/json", headers=headers)


class ByteLRU(Generic[K, V]):
    """A thread-safe LRU cache bounded by the bytes of its values, not their count.

    `size(value)` tells a value's bytes. The total never exceeds `budget`; a value larger
    than `max_entry` is returned but not kept (it would push out everything else for one
    request). Used from worker threads, so every operation holds one lock.
    """

    def __init__(self, budget: int, max_entry: int, size: Callable[[V], int]) -> None:
        if not 0 < max_entry <= budget:
            raise ValueError("ByteLRU needs 0 < max_entry <= budget")
        self.budget = budget
        self.max_entry = max_entry
        self._size = size
        self._entries: OrderedDict[K, tuple[V, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    @property
    def bytes(self) -> int:
        """Bytes held now (≤ budget)."""
        return self._bytes

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: K) -> V | None:
        """The value, now the most recently used; None when absent."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            self._entries.move_to_end(key)
            return entry[0]

    def put(self, key: K, value: V) -> None:
        """Keep `value`, evicting the least recently used until it fits the budget."""
        nbytes = self._size(value)
        if nbytes > self.max_entry:
            return
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._bytes -= old[1]
            while self._entries and self._bytes + nbytes > self.budget:
                _, (_, evicted) = self._entries.popitem(last=False)
                self._bytes -= evicted
            self._entries[key] = (value, nbytes)
            self._bytes += nbytes

    def get_or_compute(self, key: K, compute: Callable[[], V]) -> V:
        """The cached value, or `compute()` kept (two threads may both compute a miss)."""
        value = self.get(key)
        if value is None:
            value = compute()
            self.put(key, value)
        return value

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0


def _load_malloc_trim() -> Callable[[int], int] | None:
    """glibc's malloc_trim, or None elsewhere (macOS, musl): then freeing is all we do."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        trim: Callable[[int], int] = libc.malloc_trim
    except (OSError, AttributeError):
        return None
    return trim


_malloc_trim = _load_malloc_trim()


def release_heap() -> None:
    """Hand the heap pages freed by a finished big computation back to the OS.

    A 12 × 10,000-step stream holds a few MB of arrays, an 800×800 grid's reply is built
    from tens of MB; glibc keeps freed blocks of that size in its arenas, so without this
    the server's RSS stays at its high-water mark: after a crowd of stalled clients is
    dropped, or after 30 distinct grids (297 MB where the caches hold 144 MB; 215 MB after
    the trim). About 3 ms; ctypes releases the GIL during the call.
    """
    if _malloc_trim is not None:
        _malloc_trim(0)
