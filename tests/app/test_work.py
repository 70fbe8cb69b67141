"""app.work in process: REST scenes off the loop, stopped on disconnect, a bounded queue.

The disconnect is driven through a raw ASGI call whose `receive` answers
`http.disconnect` when the test says so; the route's `block_hook` counts the blocks.
"""

from __future__ import annotations

import asyncio
import json
import threading
from typing import Any

import httpx
import pytest
from pydantic import TypeAdapter

from app import scene, work
from app.main import create_app
from app.routes import trajectories
from app.schemas import TrajectoryReply, TrajectoryRequest

BIG = {
    "landscape": "rosenbrock",
    "steps": 10_000,
    "runs": [{"optimizer": name} for name in ["sgd", "momentum", "nag", "adam"] * 3],
}

SCENES: list[dict[str, Any]] = [
    {"landscape": "saddle", "steps": 20, "runs": [{"optimizer": "adam"}]},
    # noise drawn across several blocks, a schedule, repeated names
    {
        "landscape": "rosenbrock",
        "steps": 1_700,
        "noise": 0.3,
        "seed": 11,
        "runs": [{"optimizer": "sgd", "params": {"lr": 0.001}}, {"optimizer": "adam"}] * 2,
        "schedule": {"kind": "cosine"},
    },
    # one run diverges in its first block, the other keeps going
    {
        "landscape": "himmelblau",
        "steps": 1_200,
        "runs": [{"optimizer": "sgd", "params": {"lr": 5.0}}, {"optimizer": "momentum"}],
    },
    # every run diverges: the computation stops early, truncated as before
    {
        "landscape": "rastrigin",
        "steps": 3_000,
        "runs": [{"optimizer": "sgd", "params": {"lr": 10}}],
    },
]


def _reference(body: dict[str, Any]) -> bytes:
    """The reply as the route built it before: scene.compute, serialized by FastAPI."""
    request = TrajectoryRequest.model_validate(body)
    reply = TrajectoryReply(
        runs=[outcome.to_result() for outcome in scene.compute(request)],
        lr_factors=scene.prepare(request).lr_factors(),
    )
    return TypeAdapter(TrajectoryReply).dump_json(reply)


@pytest.mark.parametrize("body", SCENES, ids=["small", "noise-schedule", "one-diverges", "all"])
def test_blockwise_reply_is_bit_identical_to_a_whole_computation(body: dict[str, Any]) -> None:
    request = TrajectoryRequest.model_validate(body)
    assert trajectories.reply_json(threading.Event(), request) == _reference(body)


def test_route_replies_with_those_bytes(client: Any) -> None:
    body = SCENES[1]
    reply = client.post("/api/trajectories", json=body)
    assert reply.status_code == 200
    assert reply.headers["content-type"] == "application/json"
    assert reply.content == _reference(body)


def test_bad_scene_is_still_a_422_naming_the_field(client: Any) -> None:
    body = {"landscape": "saddle", "runs": [{"optimizer": "adam", "params": {"beta1": 3}}]}
    reply = client.post("/api/trajectories", json=body)
    assert reply.status_code == 422
    assert "beta1" in reply.text


async def _call(app: Any, body: bytes, disconnect: asyncio.Event) -> list[dict[str, Any]]:
    """One raw ASGI POST /api/trajectories; `receive` says http.disconnect once
    `disconnect` is set. Returns what the app sent."""
    sent: list[dict[str, Any]] = []
    messages = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive() -> dict[str, Any]:
        if messages:
            return messages.pop(0)
        await disconnect.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/api/trajectories",
        "raw_path": b"/api/trajectories",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1"), (b"content-type", b"application/json")],
        "client": ("127.0.0.1", 1234),
        "server": ("testserver", 80),
        "state": {},
    }
    await app(scope, receive, send)
    return sent


def test_disconnect_stops_the_computation_within_one_block(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    blocks: list[int] = []

    async def scenario() -> list[dict[str, Any]]:
        loop = asyncio.get_running_loop()
        disconnect = asyncio.Event()

        def hook(cancel: threading.Event, offset: int) -> None:
            blocks.append(offset)
            if len(blocks) == 2:
                loop.call_soon_threadsafe(disconnect.set)  # the client hangs up
                assert cancel.wait(10), "the disconnect never reached the worker"

        monkeypatch.setattr(trajectories, "block_hook", hook)
        return await _call(create_app(), json.dumps(BIG).encode(), disconnect)

    sent = asyncio.run(scenario())
    # 10,001 points would be 21 blocks of 500; it stopped right after the second.
    assert len(blocks) == 2
    assert not any(m.get("body") for m in sent if m["type"] == "http.response.body")


def test_completed_request_is_not_cancelled(monkeypatch: pytest.MonkeyPatch) -> None:
    blocks: list[int] = []
    monkeypatch.setattr(trajectories, "block_hook", lambda _cancel, offset: blocks.append(offset))

    async def scenario() -> list[dict[str, Any]]:
        return await _call(create_app(), json.dumps(SCENES[2]).encode(), asyncio.Event())

    sent = asyncio.run(scenario())
    assert sent[0]["status"] == 200
    assert len(blocks) == 3  # 1,201 points in blocks of 500
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    assert body == _reference(SCENES[2])


def test_full_queue_gets_503_with_retry_after(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(work, "MAX_WAITING", 2)
    small = SCENES[0]

    async def scenario() -> tuple[list[httpx.Response], httpx.Response]:
        app = create_app()
        limiter = work.compute_limiter()  # the loop's limiter: hold every token
        holders = [object() for _ in range(work.COMPUTE_THREADS)]
        for holder in holders:
            await limiter.acquire_on_behalf_of(holder)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as c:
            queued = [asyncio.create_task(c.post("/api/trajectories", json=small)) for _ in "ab"]
            while work._loop_work().waiting < 2:
                await asyncio.sleep(0.01)
            refused = await c.post("/api/trajectories", json=small)
            for holder in holders:
                limiter.release_on_behalf_of(holder)
            return list(await asyncio.gather(*queued)), refused

    answered, refused = asyncio.run(scenario())
    assert refused.status_code == 503
    assert refused.headers["retry-after"] == str(work.RETRY_AFTER_SECONDS)
    assert "busy" in refused.json()["detail"]
    assert [r.status_code for r in answered] == [200, 200]


def test_client_leaving_while_queued_never_starts(monkeypatch: pytest.MonkeyPatch) -> None:
    started = threading.Event()

    def fn(cancel: threading.Event) -> str:
        started.set()
        return "computed"

    class _Request:
        """What run_cancellable reads of a Request: its receive channel."""

        def __init__(self, gone: asyncio.Event) -> None:
            self.gone = gone

        async def receive(self) -> dict[str, Any]:
            await self.gone.wait()
            return {"type": "http.disconnect"}

    async def scenario() -> None:
        limiter = work.compute_limiter()
        holder = [object() for _ in range(work.COMPUTE_THREADS)]
        for h in holder:
            await limiter.acquire_on_behalf_of(h)
        gone = asyncio.Event()
        task = asyncio.create_task(work.run_cancellable(_Request(gone), fn))  # type: ignore[arg-type]
        await asyncio.sleep(0.05)
        assert work._loop_work().waiting == 1
        gone.set()
        with pytest.raises(work.ClientDisconnectedError):
            await task
        assert work._loop_work().waiting == 0
        assert limiter.borrowed_tokens == work.COMPUTE_THREADS  # it took no token
        for h in holder:
            limiter.release_on_behalf_of(h)
        assert await work.run_cancellable(None, fn) == "computed"

    asyncio.run(scenario())
    assert started.is_set()  # only by the last call


def test_one_limiter_per_loop() -> None:
    async def limiter() -> Any:
        first = work.compute_limiter()
        assert work.compute_limiter() is first
        assert first.total_tokens == work.COMPUTE_THREADS
        return first

    assert asyncio.run(limiter()) is not asyncio.run(limiter())


def test_a_reply_is_gzipped_in_the_worker_thread_not_on_the_event_loop(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # An 8 MB reply compressed by the middleware took the loop 0.1 s per reply: a room of
    # them stalled /healthz for 1.5 s. The route compresses it where it computes it.
    threads: list[str] = []
    compress = work.gzip.compress

    def recording(data: bytes, **kwargs: Any) -> bytes:
        threads.append(threading.current_thread().name)
        return compress(data, **kwargs)

    monkeypatch.setattr(work.gzip, "compress", recording)
    body = SCENES[1]
    from tests.app.clients import LocalClient

    with LocalClient(create_app()) as client:
        zipped = client.post("/api/trajectories", json=body, headers={"accept-encoding": "gzip"})
        plain = client.post("/api/trajectories", json=body, headers={"accept-encoding": "identity"})
    assert zipped.headers["content-encoding"] == "gzip" and "content-encoding" not in plain.headers
    assert zipped.headers["vary"] == "Accept-Encoding"
    assert zipped.content == plain.content == _reference(body)  # httpx decodes the gzip
    assert threads == ["AnyIO worker thread"]  # not the thread running the event loop
