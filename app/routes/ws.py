"""WS /ws/trajectories: the live channel that makes the sliders live.

Protocol (client → server): {"type": "run", "id": <any JSON value, optional>, ...the
TrajectoryRequest fields...}. Server → client, every message echoing the run's id:
{"type": "meta", "runs": [{optimizer, params, color, symbol, dash}], "steps", "lr_factors"}, then
{"type": "chunk", "run": i, "offset": k, "points": [[x, y], ...], "losses": [...]} (and, for a
run that asked to record, "record": {"first": u, "grads", "lrs", "state": {torch name: …}},
the updates u, u + 1, … that made these points, update t leaving point t; and, for a
gradient-free run, "samples": one entry per point, the [x, y] list it evaluated to reach
that point, or null where thinned out as app.scene says) as the points are computed (a
run's points in order; the first chunk of every run before any second; a chunk holds one
block or, later, all of a hop's blocks), then {"type": "done", "runs": [{optimizer,
diverged_at, final_loss, converged_at, converged_to, status, evaluations}]}, where status
is {code, step, floor, text: {en, ja}} (app.scene.status_json), classified once per run
when its last chunk is out, in the worker thread. Bad input gets
{"type": "error", "id", "detail"} naming the field and its range; the socket stays open.
Every message is built by one of the `*_message` functions below, and only there.

Latest wins: a new `run` (even an invalid one) cancels the run that is streaming, and waits
for it to stop before anything else is sent, so no message of the cancelled run follows the
new run's `meta` (or its `error`). Each block is computed in a worker thread, off the event
loop; between blocks the stream checks whether it was cancelled or the client left, so a
disconnect stops the computation within one block.

Memory per client is bounded: chunks are built from the arrays one hop at a time (at most
SEND_AHEAD_BYTES of messages computed ahead of what the transport has taken), and the
stream computes nothing while a send waits — uvicorn's send waits while the socket's write
buffer is above its high-water mark, i.e. while the client does not read. A client that
takes no message for STALL_SECONDS (env GRADSCAPE_WS_STALL_SECONDS) has its run dropped and
its socket closed with code 1008 and a reason; the close frame follows the data the client
has not read yet, so it sees it once it reads again.

The same scene is computed once: a small scene (SHARED_MAX_POINTS) asked for by several
sockets at once is computed by one task and sent to each with its own id (`_Shared`), and
a finished one is kept for replay (`replays`) — a class opening one preset, or pressing Run
together, costs one computation. Runs are deterministic, so the messages are the same.

Sockets take turns at the event loop (`wait_turn`): parsing a message and sending one are
the loop's own work, and at most LOOP_TURNS sockets do a piece of it per loop iteration,
so 200 sockets replaying at once leave room for /healthz and the page's other requests.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import reprlib
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import anyio
import anyio.to_thread
import numpy as np
import orjson
from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from pydantic import BaseModel, ValidationError

from app import scene, surfaces
from app.jsonguard import check_json
from app.schemas import TrajectoryRequest, describe
from app.work import ByteLRU, compute_limiter, release_heap

router = APIRouter()

# A worker-thread hop computes blocks for at most this long before handing them over ...
BATCH_SECONDS = 0.005
# ... or until its messages reach this size: what a stream holds ahead of the transport.
SEND_AHEAD_BYTES = 256 * 1024
MAX_ID_CHARS = 200  # a run's id, as JSON text: it is echoed in every message of the run
STALL_SECONDS_ENV = "GRADSCAPE_WS_STALL_SECONDS"
STALL_CLOSE_CODE = 1008  # policy violation: the client stopped reading
# A run at least this big (steps × runs) gives its freed heap back to the OS when it ends.
TRIM_CELLS = 20_000
# Finished streams kept for replay (see `replays`): at most this many bytes of messages in
# all, and none bigger than REPLAY_MAX_ENTRY (the page's 6 × 500 scene is ~180 kB).
REPLAY_BUDGET = 16 * 1024 * 1024
REPLAY_MAX_ENTRY = 1024 * 1024
# Scenes of at most this many points (runs × (steps + 1), plus a gradient-free run's
# samples: scene.sent_points) are computed once for all the sockets asking for them at once
# (`_Shared`); 12 × 1,000 steps is ~700 kB of messages, and the page's six with a 500-step
# genetic algorithm of 20 (13,527 points) is ~600 kB.
# Bigger ones stream to one socket each, computed only as fast as that socket reads.
SHARED_MAX_POINTS = 15_000
# Sockets that do event-loop work (parse a message, send one) in one loop iteration; the
# others wait their turn (`wait_turn`). 200 sockets replaying at once otherwise made every
# iteration 200 sends long, and a /healthz request needs several iterations.
LOOP_TURNS = 8
log = logging.getLogger(__name__)


def _stall_seconds() -> float:
    """STALL_SECONDS: 30 s, or GRADSCAPE_WS_STALL_SECONDS (tests lower it)."""
    text = os.environ.get(STALL_SECONDS_ENV, "30")
    try:
        seconds = float(text)
    except ValueError:
        seconds = float("nan")
    if not 0 < seconds <= 3600:
        raise ValueError(f"{STALL_SECONDS_ENV} must be seconds in (0, 3600], got {text!r}")
    return seconds


# A send that waits this long (the client took nothing) closes the socket: see the docstring.
STALL_SECONDS = _stall_seconds()


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


@dataclass(frozen=True)
class Replay:
    """A finished stream's messages minus their id: each is `head + id JSON + tail`."""

    parts: tuple[tuple[str, str], ...]
    nbytes: int


# Finished streams by request (its canonical JSON, without the id), replayed rather than
# recomputed when the same scene is asked for again: a class opening one preset sends the
# same scene from every laptop. Runs are deterministic (the noise is seeded), so a replay
# carries the very numbers a new computation would send, each run's chunks joined into one
# message (`_joined`).
replays: ByteLRU[str, Replay] = ByteLRU(REPLAY_BUDGET, REPLAY_MAX_ENTRY, lambda r: r.nbytes)


def _joined(parts: list[tuple[str, str]], prepared: scene.Scene) -> Replay:
    """A finished stream for replay: meta, one chunk per run (its whole path, from the
    run's tracker: no JSON is parsed again), then done — 8 messages instead of 38 for the
    page's 6 × 500 scene. Sending is the event loop's work: 200 sockets replaying at once
    held /healthz behind 7,600 sends. Built in a worker thread."""
    chunks = []
    for i, run in enumerate(prepared.runs):
        points, losses = run.tracker.path()
        if len(losses):  # a run with no finite point sent no chunk
            whole = scene.Chunk(i, 0, points, losses, run.tracker.record(), run.tracker.samples())
            text = chunk_message(None, whole)
            chunks.append(_split(text, "null"))
    others = [part for part in parts if not part[0].startswith('{"type":"chunk"')]
    joined = others[:1] + chunks + others[1:]  # meta first; done last
    return Replay(tuple(joined), sum(len(head) + len(tail) for head, tail in joined))


def _split(text: str, id_json: str) -> tuple[str, str]:
    """(head, tail) of a message around its id: every message starts
    {"type":"<kind>","id":<id JSON> (the *_message functions build them so)."""
    head = text.index(',"id":') + len(',"id":')
    return text[:head], text[head + len(id_json) :]


class _Shared:
    """One computation of a small scene, streamed to every socket that asks for it while it
    runs (the class pressing Run together): 50 sockets, one computation.

    Its task computes ahead of the sockets — a small scene's messages are under
    REPLAY_MAX_ENTRY — keeping each message as (head, tail); each socket sends them with
    its own id at its own pace (`_Connection._watch`). When the last socket stops
    watching, the computation stops; when it completes, it becomes a replay.
    """

    def __init__(self, key: str, request: TrajectoryRequest, first_id: Any) -> None:
        self.key = key
        self.parts: list[tuple[str, str]] = []
        self.nbytes = 0
        self.over = False  # the parts end with the run's done
        self.error: str | None = None  # the parts end where the run failed
        self.grew = asyncio.Event()
        self.watchers = 0
        # the id of the run that started it: tests' block_hook tells runs apart by it
        self.state = StreamState(id=first_id)
        self.task = asyncio.create_task(self._produce(request))

    def _add(self, texts: list[str]) -> None:
        id_json = dumps(self.state.id)
        for text in texts:
            self.parts.append(_split(text, id_json))
            self.nbytes += len(text) - len(id_json)
        self.grew.set()
        self.grew = asyncio.Event()

    async def _produce(self, request: TrajectoryRequest) -> None:
        state = self.state
        try:
            await _compiled(request)
            prepared = scene.prepare(request)
            self._add([meta_message(state.id, prepared)])
            chunks = scene.ChunkStream(prepared)
            try:
                over = False
                while not over and not state.cancelled.is_set():
                    texts, over = await anyio.to_thread.run_sync(
                        _next_batch, chunks, state, prepared, limiter=compute_limiter()
                    )
                    # the done waits until the replay is stored: a client that has its
                    # done and asks again gets the replay
                    self._add(texts[:-1] if over else texts)
            finally:
                chunks.close()  # the thread is done with it: this task is never cancelled
            if over and not state.cancelled.is_set():
                done = _split(texts[-1], dumps(state.id))
                replay = await anyio.to_thread.run_sync(
                    _joined, [*self.parts, done], prepared, limiter=compute_limiter()
                )
                replays.put(self.key, replay)
                self._add(texts[-1:])
                self.over = True
        except ValueError as exc:  # the core rejected a value: each socket says so
            self.error = str(exc)
        except Exception:
            log.exception("streaming run %r failed", state.id)
            self.error = "internal error while computing the run"
        finally:
            self.stop_sharing()
            self.grew.set()

    def stop_sharing(self) -> None:
        """New requests for this scene start a computation (or replay) of their own."""
        running = _running()
        if running.get(self.key) is self:
            del running[self.key]


_shared: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, _Shared]] = (
    weakref.WeakKeyDictionary()
)


def _running() -> dict[str, _Shared]:
    """This event loop's shared computations by request (asyncio objects belong to one loop,
    and tests run several apps on several loops)."""
    return _shared.setdefault(asyncio.get_running_loop(), {})


_turns: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
    weakref.WeakKeyDictionary()
)


async def wait_turn() -> None:
    """Return in a later loop iteration as one of at most LOOP_TURNS sockets let through
    in it (first come, first served), to do one piece of event-loop work right after.

    The turn is held across one iteration and released before the work, so a send that
    waits for a client that stopped reading holds no turn. Each iteration then runs at
    most LOOP_TURNS pieces of socket work, and other requests get through in between.
    """
    turns = _turns.get(loop := asyncio.get_running_loop())
    if turns is None:
        turns = _turns[loop] = asyncio.Semaphore(LOOP_TURNS)
    async with turns:
        await asyncio.sleep(0)


class ClientStalledError(Exception):
    """A send waited STALL_SECONDS: the client stopped reading."""


class BadMessageError(Exception):
    """A client message that cannot be run; its text goes back as the error detail."""

    def __init__(self, detail: str, message_id: Any = None, *, supersedes: bool = False) -> None:
        super().__init__(detail)
        self.detail = detail
        self.id = message_id
        # A `run` that cannot be run still cancels the one streaming (latest wins).
        self.supersedes = supersedes


# --- the protocol's messages (server → client) -------------------------------------------


_ENCODER = json.JSONEncoder(allow_nan=False, separators=(",", ":"))  # made once, not per call


def dumps(message: Any) -> str:
    """Compact JSON; refuses NaN/Infinity, which JSON does not have."""
    return _ENCODER.encode(message)


async def _compiled(request: TrajectoryRequest) -> None:
    """A typed function is differentiated and compiled in a worker (app.surfaces caches
    it), not on the event loop where `scene.prepare` runs: that can take a second."""
    if not isinstance(request.landscape, str):
        await anyio.to_thread.run_sync(
            surfaces.resolve, request.landscape, limiter=compute_limiter()
        )


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
    """The next points of one run, built in the worker thread.

    The numbers go straight from the arrays to text with orjson (shortest round-trip
    digits, as `repr` gives; 1e-05 is written 0.00001, the same double): 20× faster than
    `json.dumps` of `.tolist()`, which cost a fifth of a stream's CPU. Chunks hold finite
    numbers only (the tracker cuts a run before its first non-finite point). The id goes
    through `dumps`, which takes any JSON value (orjson refuses integers beyond 64 bits).
    """
    record = None if chunk.record is None else _RecordText(chunk.record)
    return _chunk_text(
        message_id,
        chunk.run,
        chunk.offset,
        _numbers(chunk.points),
        _numbers(chunk.losses),
        None if record is None else record.text(),
        None if chunk.samples is None else _samples(chunk.samples),
    )


def _chunk_text(
    message_id: Any,
    run: int,
    offset: int,
    points: str,
    losses: str,
    record: str | None = None,
    samples: str | None = None,
) -> str:
    tail = "" if samples is None else f',"samples":{samples}'
    tail += "" if record is None else f',"record":{record}'
    return (
        f'{{"type":"chunk","id":{dumps(message_id)},"run":{run},"offset":{offset},'
        f'"points":{points},"losses":{losses}{tail}}}'
    )


def _samples(entries: scene.Samples) -> str:
    """A chunk's samples as JSON: per point its [[x, y], …] (finite: the tracker dropped the
    others), or null where thinned out."""
    return "[" + ",".join("null" if e is None else _numbers(e) for e in entries) + "]"


def _values(values: np.ndarray) -> str:
    """A recorded array as JSON, null where a value overflowed (orjson writes NaN and
    infinities as null; a buffer can overflow where the point did not)."""
    array = np.ascontiguousarray(values, dtype=np.float64)
    return orjson.dumps(array, option=orjson.OPT_SERIALIZE_NUMPY).decode()


class _RecordText:
    """A chunk's record as JSON pieces, joinable with the next chunk's (`_Joined`)."""

    def __init__(self, record: Any) -> None:
        self.first = record.first
        self.grads = [_values(record.grads)]
        self.lrs = [_values(record.lrs)]
        self.state = {name: [_values(values)] for name, values in record.state.items()}

    def extend(self, other: _RecordText) -> None:
        self.grads += other.grads
        self.lrs += other.lrs
        for name, values in other.state.items():
            self.state[name] += values

    def size(self) -> int:
        parts = [*self.grads, *self.lrs, *(v for values in self.state.values() for v in values)]
        return sum(map(len, parts))

    def text(self) -> str:
        state = ",".join(f'"{name}":{_join(values)}' for name, values in self.state.items())
        return (
            f'{{"first":{self.first},"grads":{_join(self.grads)},'
            f'"lrs":{_join(self.lrs)},"state":{{{state}}}}}'
        )


class _Joined:
    """A hop's chunks of one run, joined into one message (consecutive steps): a scene
    computed in two hops is 13 messages instead of 38, each a send and a turn."""

    def __init__(self, chunk: scene.Chunk) -> None:
        self.run, self.offset, self.end = chunk.run, chunk.offset, chunk.offset
        self.points: list[str] = []
        self.losses: list[str] = []
        self.record: _RecordText | None = None
        self.samples: list[str] | None = None

    def add(self, chunk: scene.Chunk) -> int:
        """Append the chunk's JSON; its size."""
        points, losses = _numbers(chunk.points), _numbers(chunk.losses)
        self.points.append(points)
        self.losses.append(losses)
        self.end = chunk.offset + len(chunk.losses)
        size = len(points) + len(losses)
        if chunk.samples is not None:
            samples = _samples(chunk.samples)
            if self.samples is None:
                self.samples = []
            self.samples.append(samples)
            size += len(samples)
        if chunk.record is not None:
            record = _RecordText(chunk.record)
            size += record.size()
            if self.record is None:
                self.record = record
            else:
                self.record.extend(record)
        return size

    def message(self, message_id: Any) -> str:
        return _chunk_text(
            message_id,
            self.run,
            self.offset,
            _join(self.points),
            _join(self.losses),
            None if self.record is None else self.record.text(),
            None if self.samples is None else _join(self.samples),
        )


def _join(arrays: list[str]) -> str:
    """JSON arrays (never empty) as one: ["[1,2]", "[3]"] → "[1,2,3]"."""
    if len(arrays) == 1:
        return arrays[0]
    return "[" + ",".join(text[1:-1] for text in arrays) + "]"


def _numbers(values: np.ndarray) -> str:
    """A float array as JSON text (nested lists); refuses NaN and infinities like `dumps`."""
    if not np.isfinite(values).all():
        raise ValueError("a chunk holds NaN or an infinity, which JSON does not have")
    array = np.ascontiguousarray(values, dtype=np.float64)
    return orjson.dumps(array, option=orjson.OPT_SERIALIZE_NUMPY).decode()


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
    message_id, request = parse_message(text, {"run": TrajectoryRequest})
    assert isinstance(request, TrajectoryRequest)
    return message_id, request


def parse_message(text: str, types: dict[str, type[BaseModel]]) -> tuple[Any, BaseModel]:
    """(id, request) from a client message whose "type" is one of ``types`` (each with the
    model its other fields must fit), or BadMessageError saying what is wrong: the one
    reader of every socket's messages (this one's runs, app/routes/tune.py's tunes)."""
    try:
        # Depth, number size and lone surrogates, named by field, before json.loads
        # (which would recurse, or build a 5,000-digit int) sees the text.
        check_json(text)
    except ValueError as exc:
        raise BadMessageError(str(exc)) from exc
    try:
        message = json.loads(text, parse_constant=_reject_constant)
    except ValueError as exc:
        raise BadMessageError(f"invalid JSON: {exc}") from exc
    names = " or ".join(f'"{name}"' for name in types)
    if not isinstance(message, dict):
        raise BadMessageError(f'a message must be a JSON object with "type": {names}')
    message_id = message.pop("id", None)
    try:
        id_size = len(dumps(message_id))
    except (RecursionError, ValueError) as exc:
        raise BadMessageError("id: must be a small JSON value (a string or a number)") from exc
    if id_size > MAX_ID_CHARS:
        # Every message of the run echoes the id: a 60 KB id would be 80 MB of chunks.
        raise BadMessageError(f"id: at most {MAX_ID_CHARS} characters of JSON, got {id_size}")
    kind = message.pop("type", None)
    if kind not in types:
        listed = " and ".join(f'"{name}"' for name in types)
        only = f"the only type is {listed}" if len(types) == 1 else f"the types are {listed}"
        raise BadMessageError(f"unknown message type {reprlib.repr(kind)}; {only}", message_id)
    try:
        return message_id, types[kind].model_validate(message)
    except ValidationError as exc:
        raise BadMessageError(describe(exc), message_id, supersedes=True) from exc
    except ValueError as exc:
        raise BadMessageError(str(exc), message_id, supersedes=True) from exc


def _next_batch(
    chunks: scene.ChunkStream, state: StreamState, prepared: scene.Scene
) -> tuple[list[str], bool]:
    """Messages computed in one worker-thread hop: (texts, whether the run is over).

    The first hop returns after one block so the first chunk leaves at once; later hops
    keep going for BATCH_SECONDS or SEND_AHEAD_BYTES (of points and losses), which saves
    thread round trips without delaying the stream noticeably or holding much ahead of
    the socket; each run's chunks of one hop go out as one message (`_Joined`). The hop
    that finds the run over also builds its `done` (classifying the runs), saving a hop.
    Cancellation is checked before every block.
    """
    joined: dict[int, _Joined] = {}
    texts: list[str] = []
    size = 0
    started = time.perf_counter()
    while not state.cancelled.is_set():
        chunk = chunks.next()
        if chunk is None:
            texts += [run.message(state.id) for run in joined.values()]
            texts.append(done_message(state.id, prepared))
            return texts, True
        run = joined.get(chunk.run)
        if run is None or run.end != chunk.offset:  # (a run's chunks always follow on)
            if run is not None:
                texts.append(run.message(state.id))
            run = joined[chunk.run] = _Joined(chunk)
        size += run.add(chunk)
        state.blocks += 1
        if block_hook is not None:
            block_hook(state)
        if (
            state.blocks == 1
            or size >= SEND_AHEAD_BYTES
            or time.perf_counter() - started >= BATCH_SECONDS
        ):
            break
    texts += [run.message(state.id) for run in joined.values()]
    return texts, False


class _Connection:
    """One socket: a receive loop plus at most one streaming task."""

    def __init__(self, websocket: WebSocket) -> None:
        self.websocket = websocket
        self.send_lock = asyncio.Lock()
        self.task: asyncio.Task[None] | None = None
        self.state: StreamState | None = None
        self.closing = False  # closed for stalling: later messages are ignored

    async def send(self, text: str, state: StreamState | None = None) -> None:
        """Send one message; ClientStalledError if the client took nothing for
        STALL_SECONDS (the wait is cancelled before anything was written), and
        WebSocketDisconnect once the socket is gone or closed. Waits its turn first
        (`wait_turn`); a message of a run cancelled meanwhile is dropped."""
        await wait_turn()
        if state is not None and state.cancelled.is_set():
            return
        async with self.send_lock:
            if state is not None:
                state.sending = True
            try:
                async with asyncio.timeout(STALL_SECONDS):
                    await self.websocket.send_text(text)
            except TimeoutError as exc:
                raise ClientStalledError from exc
            except RuntimeError as exc:  # the server closed it (e.g. its keepalive timed out)
                raise WebSocketDisconnect(1006) from exc
            finally:
                if state is not None:
                    state.sending = False

    async def close_stalled(self) -> None:
        """Close the socket of a client that stopped reading, saying why (code 1008).

        Whatever the run held is gone before this is called. The close frame is queued
        behind the data the client has not read; this waits until it is (or the client
        leaves), holding nothing but the connection.
        """
        if self.closing:
            return
        self.closing = True
        reason = f"client stopped reading: no message taken for {STALL_SECONDS:g} s"
        log.info("closing a WebSocket: %s", reason)
        await anyio.to_thread.run_sync(release_heap)
        with contextlib.suppress(WebSocketDisconnect, RuntimeError, OSError):
            async with self.send_lock:
                await self.websocket.close(code=STALL_CLOSE_CODE, reason=reason)

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
            stalled = big = False
            try:
                big = await self._run(request, state)
            except ClientStalledError:
                stalled = True
            # The run's arrays went with _run's frame: give a big run's heap back.
            if stalled:
                await self.close_stalled()  # releases the heap too
            elif big:
                await anyio.to_thread.run_sync(release_heap)
        finally:
            state.finished.set()

    async def _replay(self, replay: Replay, state: StreamState) -> None:
        """Send a finished stream's messages again, with this run's id."""
        id_json = dumps(state.id)
        for head, tail in replay.parts:
            if state.cancelled.is_set():
                return
            await self.send(head + id_json + tail, state)

    async def _watch(self, shared: _Shared, state: StreamState) -> None:
        """Send a shared computation's messages with this run's id, as they come."""
        shared.watchers += 1
        id_json = dumps(state.id)
        sent = 0
        try:
            while not state.cancelled.is_set():
                if sent < len(shared.parts):
                    head, tail = shared.parts[sent]
                    sent += 1
                    await self.send(head + id_json + tail, state)
                elif shared.over:
                    return
                elif shared.error is not None:
                    await self.send(error_message(state.id, shared.error), state)
                    return
                else:
                    grew = shared.grew
                    state.sending = True  # no thread works for this socket: cancellable
                    try:
                        await grew.wait()
                    finally:
                        state.sending = False
        finally:
            shared.watchers -= 1
            if shared.watchers == 0 and not shared.over:
                shared.state.cancelled.set()  # nobody watches: stop computing
                shared.stop_sharing()

    async def _run(self, request: TrajectoryRequest, state: StreamState) -> bool:
        """Stream one run: meta, chunks, done (or an error); True if it was a big run."""
        key = request.model_dump_json()
        replay = replays.get(key)
        if replay is not None:
            await self._replay(replay, state)
            return False
        if scene.sent_points(request) <= SHARED_MAX_POINTS:
            shared = _running().get(key)
            if shared is None:
                shared = _running()[key] = _Shared(key, request, state.id)
            await self._watch(shared, state)
            return False
        prepared: scene.Scene | None = None
        try:
            await _compiled(request)
            prepared = scene.prepare(request)
            await self.send(meta_message(state.id, prepared), state)
            chunks = scene.ChunkStream(prepared)
            try:
                limiter = compute_limiter()
                over = False
                while not over:
                    texts, over = await anyio.to_thread.run_sync(
                        _next_batch, chunks, state, prepared, limiter=limiter
                    )
                    for text in texts:
                        if state.cancelled.is_set():
                            break
                        await self.send(text, state)
                    if state.cancelled.is_set():
                        break
            finally:
                chunks.close()  # never under a running worker: see StreamState.sending
        except ValueError as exc:  # the core rejected a value: name it, keep the socket
            if not state.cancelled.is_set():
                await self.send(error_message(state.id, str(exc)), state)
        except (asyncio.CancelledError, WebSocketDisconnect, ClientStalledError):
            raise
        except Exception:
            log.exception("streaming run %r failed", state.id)
            if not state.cancelled.is_set():
                detail = "internal error while computing the run"
                await self.send(error_message(state.id, detail), state)
        return prepared is not None and prepared.steps * len(prepared.runs) >= TRIM_CELLS


async def receive_text(websocket: WebSocket) -> str:
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
            text = await receive_text(websocket)
            if connection.closing:
                continue  # closed for stalling: nothing more runs on this socket
            await wait_turn()  # parsing and validating is the loop's work too
            try:
                message_id, request = parse_run(text)
            except BadMessageError as bad:
                if bad.supersedes:
                    await connection.cancel()
                await connection.send(error_message(bad.id, bad.detail))
                continue
            await connection.cancel()
            connection.start(message_id, request)
    except ClientStalledError:  # an error message the client did not take
        await connection.cancel()
        await connection.close_stalled()
    except WebSocketDisconnect:
        pass
    finally:
        await connection.cancel()
