"""WS /ws/trajectories: the live channel that makes the sliders live.

Protocol (client → server): {"type": "run", "id": <any JSON value, optional>, ...the
TrajectoryRequest fields...}. Server → client, every message echoing the run's id:
{"type": "meta", "runs": [{optimizer, params, color, symbol}], "steps", "lr_factors"}, then
{"type": "chunk", "run": i, "offset": k, "points": [[x, y], ...], "losses": [...]} as the
points are computed (runs interleaved block by block), then {"type": "done", "runs":
[{optimizer, diverged_at, final_loss, converged_at, converged_to, status}]}, where status
is {code, step, floor, text: {en, ja}} (app.scene.status_json), classified once per run
when its last chunk is out, in the worker thread. Bad input gets
{"type": "error", "id", "detail"} naming the field and its range; the socket stays open.
Every message is built by one of the `*_message` functions below, and only there.

Latest wins: a new `run` (even an invalid one) cancels the run that is streaming, and waits
for it to stop before anything else is sent, so no message of the cancelled run follows the
new run's `meta` (or its `error`). Each block is computed in a worker thread, off the event
loop; between blocks the stream checks whether it was cancelled or the client left, so a
disconnect stops the computation within one block.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import anyio
import anyio.to_thread
from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from pydantic import ValidationError

from app import scene
from app.schemas import TrajectoryRequest, describe

router = APIRouter()

# A worker-thread hop computes blocks for at most this long before handing them over.
BATCH_SECONDS = 0.005
MAX_ID_CHARS = 200  # a run's id, as JSON text: it is echoed in every message of the run
COMPUTE_THREADS = 2
log = logging.getLogger(__name__)


@dataclass
class StreamState:
    """What one streaming run shares between the event loop and its worker thread."""

    id: Any
    cancelled: threading.Event = field(default_factory=threading.Event)
    finished: threading.Event = field(default_factory=threading.Event)
    blocks: int = 0
    # True while the stream awaits a send (no worker thread runs): only then may the task
    # be cancelled outright. During a block it stops at the next check instead, because a
    # cancelled await does not stop the thread, and the stream must not be closed under it.
    sending: bool = False


# Called in the worker thread after each computed block. Tests use it to prove that a
# disconnect stops the computation; None in production.
block_hook: Callable[[StreamState], None] | None = None


class BadMessageError(Exception):
    """A client message that cannot be run; its text goes back as the error detail."""

    def __init__(self, detail: str, message_id: Any = None, *, supersedes: bool = False) -> None:
        super().__init__(detail)
        self.detail = detail
        self.id = message_id
        # A `run` that cannot be run still cancels the one streaming (latest wins).
        self.supersedes = supersedes


# --- the protocol's messages (server → client) -------------------------------------------


def dumps(message: dict[str, Any]) -> str:
    """Compact JSON; refuses NaN/Infinity, which JSON does not have."""
    return json.dumps(message, allow_nan=False, separators=(",", ":"))


def meta_message(message_id: Any, prepared: scene.Scene) -> str:
    """Before any points: each run's resolved parameters, colour and marker shape, the step
    count, and the schedule's factor per update (null without a schedule)."""
    return dumps(
        {
            "type": "meta",
            "id": message_id,
            "runs": prepared.meta(),
            "steps": prepared.steps,
            "lr_factors": prepared.lr_factors(),
        }
    )


def chunk_message(message_id: Any, chunk: scene.Chunk) -> str:
    """The next points of one run (built in the worker thread: lists of many floats)."""
    return dumps(
        {
            "type": "chunk",
            "id": message_id,
            "run": chunk.run,
            "offset": chunk.offset,
            "points": chunk.points.tolist(),
            "losses": chunk.losses.tolist(),
        }
    )


def done_message(message_id: Any, prepared: scene.Scene) -> str:
    """After the last chunk: how each run ended (classifying costs a few Hessians per run,
    so the stream builds this in its worker thread)."""
    return dumps({"type": "done", "id": message_id, "runs": prepared.summary()})


def error_message(message_id: Any, detail: str) -> str:
    """A message that cannot be run, or a run that failed; the socket stays usable."""
    return dumps({"type": "error", "id": message_id, "detail": detail})


# --- receiving -----------------------------------------------------------------------------


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not a number JSON allows")


def parse_run(text: str) -> tuple[Any, TrajectoryRequest]:
    """(id, request) from a client message, or BadMessageError saying what is wrong."""
    try:
        message = json.loads(text, parse_constant=_reject_constant)
    except RecursionError as exc:
        raise BadMessageError("invalid JSON: nested too deeply") from exc
    except ValueError as exc:
        raise BadMessageError(f"invalid JSON: {exc}") from exc
    if not isinstance(message, dict):
        raise BadMessageError('a message must be a JSON object with "type": "run"')
    message_id = message.pop("id", None)
    try:
        id_size = len(dumps(message_id))
    except (RecursionError, ValueError) as exc:
        raise BadMessageError("id: must be a small JSON value (a string or a number)") from exc
    if id_size > MAX_ID_CHARS:
        # Every message of the run echoes the id: a 60 KB id would be 80 MB of chunks.
        raise BadMessageError(f"id: at most {MAX_ID_CHARS} characters of JSON, got {id_size}")
    kind = message.pop("type", None)
    if kind != "run":
        raise BadMessageError(f'unknown message type {kind!r}; the only type is "run"', message_id)
    try:
        return message_id, TrajectoryRequest.model_validate(message)
    except ValidationError as exc:
        raise BadMessageError(describe(exc), message_id, supersedes=True) from exc
    except ValueError as exc:
        raise BadMessageError(str(exc), message_id, supersedes=True) from exc


def _next_batch(chunks: scene.ChunkStream, state: StreamState) -> tuple[list[str], bool]:
    """Blocks computed in one worker-thread hop: (chunk messages, whether the run is over).

    The first hop returns after one block so the first chunk leaves at once; later hops
    keep going for BATCH_SECONDS, which saves thread round trips without delaying the
    stream noticeably. Cancellation is checked before every block.
    """
    texts: list[str] = []
    started = time.perf_counter()
    while not state.cancelled.is_set():
        chunk = chunks.next()
        if chunk is None:
            return texts, True
        texts.append(chunk_message(state.id, chunk))
        state.blocks += 1
        if block_hook is not None:
            block_hook(state)
        if state.blocks == 1 or time.perf_counter() - started >= BATCH_SECONDS:
            break
    return texts, False


_limiters: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, anyio.CapacityLimiter] = (
    weakref.WeakKeyDictionary()
)


def _compute_limiter() -> anyio.CapacityLimiter:
    """Threads computing blocks at once, per event loop. The work holds the GIL, so more
    threads would not finish sooner; they would only keep the event loop (and /healthz)
    waiting for the GIL longer."""
    loop = asyncio.get_running_loop()
    if loop not in _limiters:
        _limiters[loop] = anyio.CapacityLimiter(COMPUTE_THREADS)
    return _limiters[loop]


class _Connection:
    """One socket: a receive loop plus at most one streaming task."""

    def __init__(self, websocket: WebSocket) -> None:
        self.websocket = websocket
        self.send_lock = asyncio.Lock()
        self.task: asyncio.Task[None] | None = None
        self.state: StreamState | None = None

    async def send(self, text: str, state: StreamState | None = None) -> None:
        async with self.send_lock:
            if state is not None:
                state.sending = True
            try:
                await self.websocket.send_text(text)
            finally:
                if state is not None:
                    state.sending = False

    async def cancel(self) -> None:
        """Stop the streaming run and wait until it can send nothing more."""
        if self.state is not None:
            self.state.cancelled.set()
            if self.task is not None and self.state.sending:
                self.task.cancel()  # e.g. stuck on a client that stopped reading
        if self.task is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self.task
        self.task = self.state = None

    def start(self, message_id: Any, request: TrajectoryRequest) -> None:
        self.state = StreamState(id=message_id)
        self.task = asyncio.create_task(self._stream(request, self.state))

    async def _stream(self, request: TrajectoryRequest, state: StreamState) -> None:
        try:
            prepared = scene.prepare(request)
            await self.send(meta_message(state.id, prepared), state)
            chunks = scene.ChunkStream(prepared)
            try:
                limiter = _compute_limiter()
                over = False
                while not over:
                    texts, over = await anyio.to_thread.run_sync(
                        _next_batch, chunks, state, limiter=limiter
                    )
                    if state.cancelled.is_set():
                        break
                    for text in texts:
                        if state.cancelled.is_set():
                            break
                        await self.send(text, state)
            finally:
                chunks.close()  # never under a running worker: see StreamState.sending
            if not state.cancelled.is_set():
                done = await anyio.to_thread.run_sync(
                    done_message, state.id, prepared, limiter=_compute_limiter()
                )
                if not state.cancelled.is_set():  # cancelled while it was classified
                    await self.send(done, state)
        except ValueError as exc:  # the core rejected a value: name it, keep the socket
            if not state.cancelled.is_set():
                await self.send(error_message(state.id, str(exc)), state)
        except (asyncio.CancelledError, WebSocketDisconnect):
            raise
        except Exception:
            log.exception("streaming run %r failed", state.id)
            if not state.cancelled.is_set():
                detail = "internal error while computing the run"
                await self.send(error_message(state.id, detail), state)
        finally:
            state.finished.set()


async def _receive_text(websocket: WebSocket) -> str:
    """The next message as text; a binary frame is read as UTF-8 rather than crashing."""
    message = await websocket.receive()
    if message["type"] == "websocket.disconnect":
        raise WebSocketDisconnect(message.get("code", 1000))
    if message.get("text") is not None:
        return message["text"]
    return (message.get("bytes") or b"").decode("utf-8", errors="replace")


@router.websocket("/ws/trajectories")
async def trajectories_ws(websocket: WebSocket) -> None:
    await websocket.accept()
    connection = _Connection(websocket)
    try:
        while True:
            text = await _receive_text(websocket)
            try:
                message_id, request = parse_run(text)
            except BadMessageError as bad:
                if bad.supersedes:
                    await connection.cancel()
                await connection.send(error_message(bad.id, bad.detail))
                continue
            await connection.cancel()
            connection.start(message_id, request)
    except WebSocketDisconnect:
        pass
    finally:
        await connection.cancel()
