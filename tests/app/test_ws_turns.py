"""Sockets take turns at the event loop (`app.routes.ws.wait_turn`): however many replay
at once, one loop iteration does at most LOOP_TURNS pieces of their work, so /healthz and
the page's other requests get through between (benchmarks/load.py measures how fast)."""

from __future__ import annotations

import asyncio
import collections

from app.routes import ws


async def _iterations(work: collections.Counter[int], sockets: int, pieces: int) -> list[int]:
    """Run `sockets` tasks that each do `pieces` of work after a turn; count the work
    done in each loop iteration (numbered by a callback that runs once per iteration)."""
    loop = asyncio.get_running_loop()
    iteration = 0

    def tick() -> None:
        nonlocal iteration
        iteration += 1
        loop.call_soon(tick)

    tick()
    finished: list[int] = []

    async def socket(number: int) -> None:
        for _ in range(pieces):
            await ws.wait_turn()
            work[iteration] += 1
        finished.append(number)

    await asyncio.gather(*(socket(n) for n in range(sockets)))
    return finished


def test_each_loop_iteration_does_at_most_loop_turns_pieces_of_work() -> None:
    work: collections.Counter[int] = collections.Counter()
    finished = asyncio.run(_iterations(work, sockets=200, pieces=8))
    assert sum(work.values()) == 200 * 8
    assert max(work.values()) <= ws.LOOP_TURNS
    # first come, first served: every socket gets its turns; none is starved
    assert sorted(finished) == list(range(200))
    assert finished[:10] == list(range(10))


def test_a_lone_socket_waits_one_iteration() -> None:
    work: collections.Counter[int] = collections.Counter()
    asyncio.run(_iterations(work, sockets=1, pieces=20))
    assert sum(work.values()) == 20
    assert len(work) == 20  # one piece per iteration: a turn is one yield, no sleep
