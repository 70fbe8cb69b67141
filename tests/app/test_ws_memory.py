"""What a WebSocket stream holds: a paused run keeps its arrays, not per-step objects; a
hop computes a bounded amount ahead of the socket; a client that stops reading is closed
(1008) and its run freed. The real server under 40 such clients: test_ws_process.py."""

from __future__ import annotations

import asyncio
import gc
import json
import tracemalloc
import weakref
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from app import scene
from app.config import MAX_STEPS
from app.routes import ws as ws_route
from app.schemas import TrajectoryRequest

# The biggest run the limits allow, with a schedule (its rates are per update).
BIG: dict[str, Any] = {
    "landscape": "rosenbrock",
    "start": [-1.5, 2.0],
    "steps": MAX_STEPS,
    "runs": [{"optimizer": "adam"}] * 12,
    "noise": 0.05,
    "seed": 11,
    "schedule": {"kind": "cosine"},
}


def test_a_paused_stream_holds_its_arrays_not_objects_per_step() -> None:
    request = TrajectoryRequest.model_validate(BIG)
    scene.ChunkStream(scene.prepare(request)).next()  # imports and caches warmed up
    gc.collect()
    tracemalloc.start()
    try:
        prepared = scene.prepare(request)
        meta = ws_route.meta_message(1, prepared)
        chunks = scene.ChunkStream(prepared)
        first = chunks.next()
        assert first is not None
        ws_route.chunk_message(1, first)
        del meta  # sent
        held = tracemalloc.get_traced_memory()[0]
        chunks.close()
    finally:
        tracemalloc.stop()
    # The trajectory itself: 12 runs × 10,001 points × (x, y, loss) float64 = 2.9 MB.
    arrays = 12 * (MAX_STEPS + 1) * 3 * 8
    # It held 24.8 MB: a view per point and a float per learning rate, made up front.
    assert held < arrays + 1_000_000


def test_a_hop_computes_at_most_send_ahead_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ws_route, "BATCH_SECONDS", 3600.0)  # only the byte bound stops it
    monkeypatch.setattr(ws_route, "SEND_AHEAD_BYTES", 200_000)
    prepared = scene.prepare(TrajectoryRequest.model_validate(BIG))
    chunks = scene.ChunkStream(prepared)
    state = ws_route.StreamState(id="x")
    first, over = ws_route._next_batch(chunks, state, prepared)
    assert len(first) == 1 and not over  # the first chunk leaves at once
    blocks = state.blocks
    texts, over = ws_route._next_batch(chunks, state, prepared)
    messages = [json.loads(text) for text in texts]
    assert not over
    # each run's chunks of the hop joined into one message, its steps following on
    assert len({m["run"] for m in messages}) == len(messages) == 12
    assert max(len(m["losses"]) for m in messages) > scene.DEFAULT_CHUNK
    numbers = [ws_route._numbers(np.array(m["points"])) for m in messages]
    numbers += [ws_route._numbers(np.array(m["losses"])) for m in messages]
    one_chunk = 64 * scene.DEFAULT_CHUNK  # a point and its loss: < 64 characters
    # stopped by the first chunk past the bound
    assert 200_000 <= sum(map(len, numbers)) < 200_000 + one_chunk
    assert state.blocks - blocks > 12
    chunks.close()


class _StalledSocket:
    """A WebSocket whose client reads the first `taken` messages, then nothing."""

    def __init__(self, taken: int, on_close: Callable[[], None]) -> None:
        self.taken = taken
        self.on_close = on_close
        self.sent: list[str] = []
        self.closed: tuple[int, str | None] | None = None

    async def send_text(self, text: str) -> None:
        if len(self.sent) >= self.taken:
            await asyncio.Event().wait()  # like uvicorn's send while the buffer is full
        self.sent.append(text)

    async def close(self, code: int = 1000, reason: str | None = None) -> None:
        self.on_close()
        self.closed = (code, reason)


def test_a_client_that_stops_reading_is_closed_and_its_run_freed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(ws_route, "STALL_SECONDS", 0.2)
    scenes: list[weakref.ref[scene.Scene]] = []
    prepare = scene.prepare

    def prepare_and_watch(request: TrajectoryRequest) -> scene.Scene:
        prepared = prepare(request)
        scenes.append(weakref.ref(prepared))
        return prepared

    monkeypatch.setattr(scene, "prepare", prepare_and_watch)
    alive_at_close: list[bool] = []

    def check() -> None:
        gc.collect()
        alive_at_close.extend(watched() is not None for watched in scenes)

    socket = _StalledSocket(taken=3, on_close=check)

    async def stream() -> ws_route._Connection:
        connection = ws_route._Connection(socket)  # type: ignore[arg-type]
        connection.start("stalled", TrajectoryRequest.model_validate(BIG))
        assert connection.task is not None
        await asyncio.wait_for(connection.task, timeout=60)
        return connection

    connection = asyncio.run(stream())
    assert socket.closed is not None
    code, reason = socket.closed
    assert code == ws_route.STALL_CLOSE_CODE == 1008
    assert reason is not None and "stopped reading" in reason and "0.2 s" in reason
    assert connection.closing and len(socket.sent) == 3  # meta and two chunks, no done
    assert connection.state is not None and connection.state.finished.is_set()
    assert alive_at_close == [False]  # the run's arrays were gone before the close was sent
