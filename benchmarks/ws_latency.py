"""WebSocket latency of the live channel, over loopback, against a real `gradscape serve`.

Scene: 6 optimizers × 500 steps on Rosenbrock. Measured:
  - time to the first chunk and to `done`, one client, then 50 concurrent clients;
  - /healthz latency while the 50 clients stream.
Baselines from this same run: the scene computed directly in this process
(app.scene.compute, no server) and /healthz latency with no load; the ratios against
them are printed. Targets with one client: first chunk ≤ 20 ms, done ≤ 60 ms (p50).

The server replays a scene it has streamed before (app.routes.ws.replays), as it does for
a class opening one preset; --distinct gives every run its own seed, so each is computed
(noise 0: the same work and points, a different cache key).

    python benchmarks/ws_latency.py [--repeats 40] [--clients 50] [--runs-per-client 3]
                                    [--distinct]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import connect

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SCENE: dict[str, Any] = {
    "landscape": "rosenbrock",
    "steps": 500,
    "runs": [
        {"optimizer": "sgd", "params": {"lr": 0.001}},
        {"optimizer": "momentum", "params": {"lr": 0.001}},
        {"optimizer": "nag", "params": {"lr": 0.001}},
        {"optimizer": "adagrad", "params": {"lr": 0.1}},
        {"optimizer": "rmsprop", "params": {"lr": 0.01}},
        {"optimizer": "adam", "params": {"lr": 0.05}},
    ],
}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return process
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("server did not start")


DISTINCT = False  # --distinct: a seed per run (see the docstring)
_seeds = iter(range(1, 1 << 62))


async def one_run(ws: Any, run_id: str) -> tuple[float, float]:
    """(seconds to the first chunk, seconds to done) for one `run` on an open socket."""
    body = {**SCENE, "seed": next(_seeds)} if DISTINCT else SCENE
    started = time.perf_counter()
    await ws.send(json.dumps({"type": "run", "id": run_id, **body}))
    first = None
    while True:
        message = json.loads(await ws.recv())
        if message["id"] != run_id:
            continue
        if message["type"] == "chunk" and first is None:
            first = time.perf_counter() - started
        elif message["type"] == "done":
            assert first is not None
            return first, time.perf_counter() - started
        elif message["type"] == "error":
            raise RuntimeError(message["detail"])


async def client(url: str, name: str, runs: int) -> list[tuple[float, float]]:
    async with connect(url, max_size=None) as ws:
        await one_run(ws, f"{name}-warmup")
        return [await one_run(ws, f"{name}-{i}") for i in range(runs)]


async def healthz_latencies(
    base: str, stop: asyncio.Event, limit: int | None = None, period: float = 0.02
) -> list[float]:
    """/healthz round trips every `period` s until `stop` is set (or `limit` samples)."""
    latencies: list[float] = []
    async with httpx.AsyncClient(base_url=base) as http:
        await http.get("/healthz")
        while not stop.is_set() and (limit is None or len(latencies) < limit):
            started = time.perf_counter()
            response = await http.get("/healthz")
            assert response.status_code == 200
            latencies.append(time.perf_counter() - started)
            await asyncio.sleep(period)
    return latencies


async def idle_healthz(base: str, samples: int) -> list[float]:
    return await healthz_latencies(base, asyncio.Event(), limit=samples)


async def loaded(base: str, url: str, clients: int, runs: int) -> tuple[list, list[float]]:
    stop = asyncio.Event()
    probe = asyncio.create_task(healthz_latencies(base, stop))
    results = await asyncio.gather(*(client(url, f"c{i}", runs) for i in range(clients)))
    stop.set()
    return [timing for per_client in results for timing in per_client], await probe


def ms(seconds: float) -> str:
    return f"{seconds * 1e3:7.2f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=40)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--runs-per-client", type=int, default=3)
    parser.add_argument("--distinct", action="store_true", help="a seed per run: no replays")
    args = parser.parse_args()
    global DISTINCT
    DISTINCT = args.distinct

    from app import scene
    from app.schemas import TrajectoryRequest

    request = TrajectoryRequest.model_validate(SCENE)
    scene.compute(request)  # warm up imports and caches
    direct, direct_cpu = [], []
    for _ in range(args.repeats):
        started, started_cpu = time.perf_counter(), time.thread_time()
        scene.compute(request)
        direct.append(time.perf_counter() - started)
        direct_cpu.append(time.thread_time() - started_cpu)

    port = free_port()
    base, url = f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}/ws/trajectories"
    server = start_server(port)
    try:
        idle = asyncio.run(idle_healthz(base, 100))
        single = asyncio.run(client(url, "solo", args.repeats))
        many, under_load = asyncio.run(loaded(base, url, args.clients, args.runs_per_client))
    finally:
        server.terminate()
        server.wait(timeout=20)

    direct_p50 = statistics.median(direct)
    idle_p95 = percentile(idle, 95)
    print(
        f"scene: 6 optimizers × {SCENE['steps']} steps on {SCENE['landscape']}, loopback, "
        + ("a seed per run (each computed)" if DISTINCT else "the same scene (replayed)")
    )
    print(
        f"baseline  direct compute (no server)  p50 {ms(direct_p50)}  "
        f"(CPU time p50 {ms(statistics.median(direct_cpu))}; wall ≫ CPU means a busy machine)"
    )
    print(
        f"baseline  /healthz idle               p50 {ms(statistics.median(idle))}  "
        f"p95 {ms(idle_p95)}"
    )
    for label, timings in (("1 client", single), (f"{args.clients} clients", many)):
        first = [t[0] for t in timings]
        done = [t[1] for t in timings]
        print(
            f"{label:>10}  first chunk p50 {ms(statistics.median(first))} p95 "
            f"{ms(percentile(first, 95))} | done p50 {ms(statistics.median(done))} p95 "
            f"{ms(percentile(done, 95))} | done/direct ×{statistics.median(done) / direct_p50:.2f}"
        )
    print(
        f"/healthz while {args.clients} clients stream: p50 {ms(statistics.median(under_load))} "
        f"p95 {ms(percentile(under_load, 95))}  (×{percentile(under_load, 95) / idle_p95:.1f} "
        f"the idle p95; {len(under_load)} probes)"
    )
    first_p50 = statistics.median(t[0] for t in single)
    done_p50 = statistics.median(t[1] for t in single)
    print(
        f"targets (1 client): first chunk ≤ 20 ms: {ms(first_p50)} "
        f"{'ok' if first_p50 <= 0.020 else 'MISSED'}; done ≤ 60 ms: {ms(done_p50)} "
        f"{'ok' if done_p50 <= 0.060 else 'MISSED'}"
    )


if __name__ == "__main__":
    main()
