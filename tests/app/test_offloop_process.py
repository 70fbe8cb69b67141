"""A real `gradscape serve`: REST scenes stop when their clients hang up, and /healthz
answers while grids and scenes compute (issue 11, item 2).

The server's CPU time is read from /proc/<pid>/stat: after 20 abandoned requests for
12 × 10,000 steps it must stop growing (before, it computed all 20 to the end: ~20 CPU-s).
"""

from __future__ import annotations

import json
import os
import socket
import statistics
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.serving import serving

ROOT = Path(__file__).resolve().parents[2]
BIG = {
    "landscape": "rosenbrock",
    "steps": 10_000,
    "runs": [{"optimizer": name} for name in ["sgd", "momentum", "nag", "adam"] * 3],
}


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, int]]:
    with serving(drain=True) as served:
        yield served.url, served.process.pid


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _abandon(url: str, count: int) -> None:
    """`count` POSTs of the 12 × 10,000 scene whose connections close after 0.2 s."""
    host, port = url.removeprefix("http://").split(":")
    body = json.dumps(BIG).encode()
    head = (
        f"POST /api/trajectories HTTP/1.1\r\nHost: {host}:{port}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode()
    sockets = [socket.create_connection((host, int(port))) for _ in range(count)]
    for sock in sockets:
        sock.sendall(head + body)
    time.sleep(0.2)
    for sock in sockets:
        sock.close()


def _quiet(pid: int, window: float = 1.0, limit: float = 0.15, timeout: float = 60) -> None:
    """Wait until the server uses less than `limit` CPU-s per `window` (earlier tests'
    work drained)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        before = _cpu_seconds(pid)
        time.sleep(window)
        if _cpu_seconds(pid) - before < limit:
            return
    raise AssertionError("the server never went quiet")


def test_abandoned_scenes_stop_computing(server: tuple[str, int]) -> None:
    url, pid = server
    _quiet(pid)
    _abandon(url, 20)
    time.sleep(1.0)  # the blocks running at the close finish; the queued ones leave
    before = _cpu_seconds(pid)
    time.sleep(3.0)
    spent = _cpu_seconds(pid) - before
    # Computing them all would keep a core busy for ~20 s (3 CPU-s in this window).
    assert spent < 0.6, f"{spent:.2f} CPU-s spent on requests nobody reads"
    # and the server still computes for a client that stays
    reply = httpx.post(url + "/api/trajectories", json=dict(BIG, steps=300), timeout=60)
    assert reply.status_code == 200
    assert len(reply.json()["runs"]) == 12


def test_healthz_answers_during_grids_and_abandoned_scenes(server: tuple[str, int]) -> None:
    url, pid = server
    _quiet(pid)
    latencies: list[float] = []
    done = threading.Event()

    def probe() -> None:
        with httpx.Client(timeout=30) as client:
            while not done.is_set():
                started = time.perf_counter()
                assert client.get(url + "/healthz").status_code == 200
                latencies.append(time.perf_counter() - started)
                time.sleep(0.02)

    def grid(digits: int) -> None:
        params = {"resolution": 400, "digits": digits}  # uncached: a new digits each
        reply = httpx.get(f"{url}/api/landscapes/himmelblau/grid", params=params, timeout=120)
        assert reply.status_code == 200

    prober = threading.Thread(target=probe)
    prober.start()
    grids = [threading.Thread(target=grid, args=(3 + i,)) for i in range(10)]
    for thread in grids:
        thread.start()
    _abandon(url, 20)
    for thread in grids:
        thread.join()
    done.set()
    prober.join()
    assert len(latencies) >= 5
    assert statistics.median(latencies) < 0.5, sorted(latencies)[-5:]
