"""POST /api/maps/tune and WS /ws/tune (also /ws/maps): a fair race, tuned by grid, random
and Bayesian search; and on the same socket, a basin map's progress.

The request is a scene (landscape, start, steps ≤ 2,000, noise, seed, schedule) whose
runs each name the optimizer, its fixed params, the lr range and optionally one more
hyperparameter to search (`app.schemas.TuneRequest`); every run × method gets `budget`
trials (4 … 64). `maps.tune` does the searching; this module parses, computes off the
event loop and serializes.

REST replies with everything at once (`TuneReply`). The WebSocket shows the trials
arriving. Client → server: {"type": "tune", "id": <any JSON value, optional>, ...the
TuneRequest fields...}. Server → client, every message echoing the id:

    {"type": "meta", "f_star", "budget", "methods", "runs": [{optimizer, params, space, grid}]}
    {"type": "trial", "run": i, "method", "index", "values", "score", "gap", "snapshot"?}
    ...one per trial, each (run, method)'s in index order...
    {"type": "done", "runs": [{optimizer, "methods": {method: best trial | null},
                               "best": {name: value} | null}]}

or {"type": "error", "id", "detail"} naming the field and its range; the socket stays
open. A bayes trial after which the Gaussian process was fitted carries its `snapshot`
(TuneSnapshotInfo: mean, std and expected improvement on the run's grid as base64
float32, the point chosen next). No number is NaN or infinite: a diverged trial's score
and gap are null.

A basin map (the seconds-long map) on the same socket: client → {"type": "basins", "id",
...the BasinsRequest fields...}; server → {"type": "progress", "id", "done": 0…1} at most
every PROGRESS_SECONDS while it computes, then {"type": "done", "id", ...the BasinsReply
of POST /api/maps/basins} (or an `error`).

Latest wins, as on /ws/trajectories: a new `tune` or `basins` message (even an invalid one)
stops the one computing before anything of the new one is sent. The search runs round by round in a
worker thread under the server's compute limiter (app.work); between rounds (and between
lockstep calls within one) it checks whether it was superseded or the client left. A
client that takes no message for STALL_SECONDS has its socket closed with code 1008.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable
from typing import Any

import anyio
import anyio.to_thread
from fastapi import APIRouter, Request, Response, WebSocket, WebSocketDisconnect

from app.maps import (
    basins_reply,
    build_race,
    dumps,
    run_head,
    snapshot_info,
    trial_info,
    tune_best,
    tune_reply_json,
)
from app.routes.ws import (
    STALL_CLOSE_CODE,
    STALL_SECONDS,
    BadMessageError,
    ClientStalledError,
    parse_message,
    receive_text,
    wait_turn,
)
from app.schemas import (
    COMPUTE_ERRORS,
    BasinsReply,
    BasinsRequest,
    TuneReply,
    TuneRequest,
)
from app.work import compute_limiter, json_reply
from maps.tune import Race, RaceEvent

router = APIRouter(tags=["maps"])
log = logging.getLogger(__name__)

# Called in the worker thread after each round of a WebSocket tune, with the tune's cancel
# event. Tests use it to prove that a disconnect or a newer tune stops the computation;
# None in production.
round_hook: Callable[[threading.Event], None] | None = None

#: A basin map's progress goes out at most this often (a 256² map takes about a second).
PROGRESS_SECONDS = 0.1


@router.post(
    "/api/maps/tune",
    response_model=TuneReply,
    responses=COMPUTE_ERRORS,
    summary="Tune each optimizer by grid, random and Bayesian search with one budget",
)
async def tune(request: TuneRequest, http: Request) -> Response:
    """Every run × method gets `budget` trials; each trial is the race itself at those
    values (one row, the request's start, steps, noise and seed), scored by
    log10(final loss − f*). Computed off the event loop; a client that hangs up stops it."""
    return await json_reply(http, lambda cancel: tune_reply_json(cancel, request))


# --- the WebSocket -----------------------------------------------------------------------------


def meta_message(message_id: Any, race: Race) -> str:
    return dumps(
        {
            "type": "meta",
            "id": message_id,
            "f_star": race.f_star,
            "budget": next(iter(race.searches[0].values())).budget,
            "methods": list(race.methods),
            "runs": [run_head(race, i) for i in range(len(race.runs))],
        }
    )


def trial_message(message_id: Any, event: RaceEvent) -> str:
    message = {
        "type": "trial",
        "id": message_id,
        "run": event.run,
        "method": event.method,
        **trial_info(event.trial, event.gap),
    }
    if event.snapshot is not None:
        message["snapshot"] = snapshot_info(event.snapshot)
    return dumps(message)


def done_message(message_id: Any, race: Race) -> str:
    runs = []
    for i, run in enumerate(race.runs):
        per_method, values = tune_best(race, i)
        runs.append({"optimizer": run.optimizer, "methods": per_method, "best": values})
    return dumps({"type": "done", "id": message_id, "runs": runs})


def error_message(message_id: Any, detail: str) -> str:
    return dumps({"type": "error", "id": message_id, "detail": detail})


#: What a client may ask over the maps' socket: a tune (trials as they arrive) or a basin
#: map (its progress, then the map).
MESSAGE_TYPES: dict[str, type[TuneRequest] | type[BasinsRequest]] = {
    "tune": TuneRequest,
    "basins": BasinsRequest,
}


def parse_tune(text: str) -> tuple[Any, TuneRequest | BasinsRequest]:
    """(id, request) from a client message, or BadMessageError saying what is wrong."""
    message_id, request = parse_message(text, dict(MESSAGE_TYPES))
    assert isinstance(request, TuneRequest | BasinsRequest)
    return message_id, request


def progress_message(message_id: Any, fraction: float) -> str:
    return dumps({"type": "progress", "id": message_id, "done": round(fraction, 4)})


def basins_done_message(message_id: Any, reply: BasinsReply) -> str:
    """The map, as POST /api/maps/basins replies, in the `done` message."""
    return dumps({"type": "done", "id": message_id, **reply.model_dump(mode="json")})


def _next_round(race: Race, message_id: Any) -> tuple[list[str], bool]:
    """One round's trial messages (and the done after the last), built in the worker."""
    texts = [trial_message(message_id, event) for event in race.step()]
    if round_hook is not None and race.cancel is not None:
        round_hook(race.cancel)
    if race.done:
        texts.append(done_message(message_id, race))
    return texts, race.done


class _Session:
    """One socket: a receive loop and at most one tune computing."""

    def __init__(self, websocket: WebSocket) -> None:
        self.websocket = websocket
        self.lock = asyncio.Lock()
        self.task: asyncio.Task[None] | None = None
        self.cancel_event = threading.Event()
        self.closing = False
        # True while the tune waits for a worker hop: then it is stopped by its event, not
        # task.cancel() (the hop would go on without its compute token, as in app.routes.ws).
        self.in_thread = False

    async def send(self, text: str, cancel: threading.Event | None = None) -> None:
        await wait_turn()
        if cancel is not None and cancel.is_set():
            return
        async with self.lock:
            try:
                async with asyncio.timeout(STALL_SECONDS):
                    await self.websocket.send_text(text)
            except TimeoutError as exc:
                raise ClientStalledError from exc
            except RuntimeError as exc:  # closed by the server (keepalive timeout)
                raise WebSocketDisconnect(1006) from exc

    async def close_stalled(self) -> None:
        if self.closing:
            return
        self.closing = True
        reason = f"client stopped reading: no message taken for {STALL_SECONDS:g} s"
        with contextlib.suppress(WebSocketDisconnect, RuntimeError, OSError):
            await self.websocket.close(code=STALL_CLOSE_CODE, reason=reason)

    async def stop(self) -> None:
        """Stop the tune computing and wait until it can send nothing more."""
        self.cancel_event.set()
        if self.task is not None:
            # During a worker hop the race checks the event between lockstep calls, so the
            # wait is one call at most; a send (e.g. to a client not reading) is cancelled.
            if not self.in_thread:
                self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self.task
        self.task = None

    def start(self, message_id: Any, request: TuneRequest | BasinsRequest) -> None:
        self.cancel_event = threading.Event()
        if isinstance(request, BasinsRequest):
            stream = self._basins(message_id, request, self.cancel_event)
        else:
            stream = self._stream(message_id, request, self.cancel_event)
        self.task = asyncio.create_task(stream)

    async def _basins(
        self, message_id: Any, request: BasinsRequest, cancel: threading.Event
    ) -> None:
        """A basin map: `progress` at most every PROGRESS_SECONDS while it computes in a
        worker thread, then `done` with the map (a new message or a client that leaves
        stops it within a block of updates)."""
        heard = [0.0]  # written by the worker thread, read here

        def hear(fraction: float) -> None:
            heard[0] = fraction

        limiter = compute_limiter()
        try:
            self.in_thread = True
            try:
                work = asyncio.ensure_future(
                    anyio.to_thread.run_sync(basins_reply, request, cancel, hear, limiter=limiter)
                )
                told = -1.0
                while not work.done():
                    await asyncio.wait({work}, timeout=PROGRESS_SECONDS)
                    if not work.done() and heard[0] > told:
                        told = heard[0]
                        await self.send(progress_message(message_id, told), cancel)
                reply = work.result()
            finally:
                self.in_thread = False
            if reply is not None and not cancel.is_set():
                await self.send(basins_done_message(message_id, reply), cancel)
        except ClientStalledError:
            await self.close_stalled()
        except ValueError as exc:
            if not cancel.is_set():
                await self.send(error_message(message_id, str(exc)), cancel)
        except (asyncio.CancelledError, WebSocketDisconnect):
            raise
        except Exception:
            log.exception("basins %r failed", message_id)
            if not cancel.is_set():
                await self.send(error_message(message_id, "internal error in the map"), cancel)

    async def _stream(self, message_id: Any, request: TuneRequest, cancel: threading.Event) -> None:
        limiter = compute_limiter()
        try:
            self.in_thread = True
            try:
                race = await anyio.to_thread.run_sync(build_race, request, cancel, limiter=limiter)
            finally:
                self.in_thread = False
            await self.send(meta_message(message_id, race), cancel)
            over = False
            while not over and not cancel.is_set():
                self.in_thread = True
                try:
                    texts, over = await anyio.to_thread.run_sync(
                        _next_round, race, message_id, limiter=limiter
                    )
                finally:
                    self.in_thread = False
                for text in texts:
                    await self.send(text, cancel)
        except ClientStalledError:
            await self.close_stalled()
        except ValueError as exc:  # the core rejected a value: name it, keep the socket
            if not cancel.is_set():
                await self.send(error_message(message_id, str(exc)), cancel)
        except (asyncio.CancelledError, WebSocketDisconnect):
            raise
        except Exception:
            log.exception("tune %r failed", message_id)
            if not cancel.is_set():
                await self.send(error_message(message_id, "internal error while tuning"), cancel)


@router.websocket("/ws/tune")
@router.websocket("/ws/maps")
async def tune_ws(websocket: WebSocket) -> None:
    await websocket.accept()
    session = _Session(websocket)
    try:
        while True:
            text = await receive_text(websocket)
            if session.closing:
                continue
            await wait_turn()
            try:
                message_id, request = parse_tune(text)
            except BadMessageError as bad:
                if bad.supersedes:
                    await session.stop()
                await session.send(error_message(bad.id, bad.detail))
                continue
            await session.stop()
            session.start(message_id, request)
    except ClientStalledError:
        await session.stop()
        await session.close_stalled()
    except WebSocketDisconnect:
        pass
    finally:
        await session.stop()
