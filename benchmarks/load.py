"""A lecture hall at once: many WebSocket clients streaming against real `gradscape serve`s.

For each worker count (default 1 and 2) a real server is started
(`python -m app.cli serve --port 0 --workers W`) and measured:

  - baseline, in the same run: /healthz with no load (p95 of 100 probes) and one client
    alone (`done` p50 of 10 runs, each a different scene, so each is computed);
  - at 20, 50 and 200 concurrent clients: every client connects, then all send `run` at
    the same moment (the class pressing Run together) and each repeats it as soon as its
    `done` arrives, `--rounds` times. Per run: seconds from sending `run` to receiving
    `done`. Meanwhile /healthz is probed every 20 ms on a new connection each time (so
    with two workers the probes reach both).

Twice per level: every run a different scene (Adam's learning rate differs in the sixth
digit, as when students move sliders: the server computes every one — the issue's case),
and every client the same scene (a class opening one lesson: the server shares one
computation between the sockets asking for it and replays a finished one).

Printed per worker count and level: `done` p50/p95, /healthz p95, their ratios to the
baseline of the 1-worker server, the CPU the load generator and the server used, the
server's CPU time per run (the cost of one stream, which other programs on a shared
machine hardly change, unlike the wall-clock figures) and how the kernel spread the
connections over the workers.
Target (issue 11): 50 clients' `done` p95 ≤ 1 s with 2 workers; /healthz p95 ≤ 50 ms at
every level.

Scene: the body the page sends for the six classic optimizers × 500 steps on Rosenbrock
(the Rosenbrock lesson's start, every hyperparameter written out as the page does, the
learning rates of benchmarks/ws_latency.py): `{"type": "run", "id", ...body}`.

Keeping the load generator from starving the server (2 cores): all clients share one
asyncio process and never parse a chunk — messages are read as bytes and only their
first bytes are compared (`{"type":"done"`), so the client costs a small fraction of the
server's CPU (its share is printed for each level). The /healthz probe runs in its own
process with a blocking socket, so a busy client loop cannot delay it and inflate the
figure: what it measures is the server's answer time.

    python benchmarks/load.py [--workers 1,2] [--levels 20,50,200] [--rounds 3]
                              [--scenes distinct,same]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import http.client
import itertools
import json
import multiprocessing
import os
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.serving import launch  # noqa: E402

LEARNING_RATES = {
    "sgd": 0.001,
    "momentum": 0.001,
    "nag": 0.001,
    "adagrad": 0.1,
    "rmsprop": 0.01,
    "adam": 0.05,
}


def scene_body() -> dict[str, Any]:
    """The page's request for the six classic optimizers × 500 steps on Rosenbrock."""
    import optimizers
    from app import presets
    from app.config import CLASSIC_OPTIMIZERS

    lesson = presets.get("rosenbrock")
    runs = []
    for name in CLASSIC_OPTIMIZERS:
        params = {p.name: p.default for p in optimizers.spec(name)}
        params["lr"] = LEARNING_RATES[name]
        runs.append({"optimizer": name, "params": params})
    return {
        "landscape": lesson.landscape,
        "start": list(lesson.start),
        "steps": 500,
        "runs": runs,
        "noise": 0.0,
        "seed": 0,
        "schedule": None,
    }


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


# --- the server ----------------------------------------------------------------------------


def start_server(workers: int) -> tuple[subprocess.Popen[str], int]:
    """A real `gradscape serve` on a free port, answering /healthz."""
    served = launch("--workers", str(workers), drain=True)
    return served.process, served.port


def server_pids(pid: int) -> list[int]:
    """The server process and its children (the workers), from /proc (Linux)."""
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        children = []
    return [pid, *map(int, children)]


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds the processes have used so far."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
    return total


def connections_by_process(port: int, pids: list[int]) -> dict[int, int]:
    """Established connections to `port` each process holds (Linux /proc): with two
    workers, how the kernel spread the clients."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                if fields[3] == "01" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                    inodes.add(fields[9])  # 01 = ESTABLISHED, server side (local port)
    held = {}
    for pid in pids:
        links = []
        with contextlib.suppress(OSError):
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                with contextlib.suppress(OSError):  # closed while we look
                    links.append(os.readlink(fd))
        held[pid] = sum(1 for link in links if link[8:-1] in inodes and link[:8] == "socket:[")
    return held


# --- /healthz probes, in their own process ----------------------------------------------


def healthz(port: int) -> float:
    """One GET /healthz on a new connection: seconds to the whole answer."""
    started = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", "/healthz")
        response = connection.getresponse()
        response.read()
        if response.status != 200:
            raise RuntimeError(f"/healthz answered {response.status}")
    finally:
        connection.close()
    return time.perf_counter() - started


def probe(port: int, period: float, control: Connection) -> None:
    """Probe /healthz every `period` s until told to stop; send back the latencies."""
    latencies: list[float] = []
    control.send("ready")
    while not control.poll(period):
        latencies.append(healthz(port))
    control.recv()
    control.send(latencies)


class Prober:
    """A /healthz prober process around a block of load."""

    def __init__(self, port: int, period: float) -> None:
        self.parent, child = multiprocessing.Pipe()
        context = multiprocessing.get_context("spawn")
        self.process = context.Process(target=probe, args=(port, period, child), daemon=True)
        self.process.start()
        self.parent.recv()  # started and importing nothing more

    def stop(self) -> list[float]:
        self.parent.send("stop")
        latencies: list[float] = self.parent.recv()
        self.process.join()
        return latencies


# --- the clients --------------------------------------------------------------------------


# A message's type, read from its first bytes: nothing else of a chunk is looked at.
_TYPE = re.compile(rb'\{\s*"type"\s*:\s*"(\w+)"')


async def one_run(ws: ClientConnection, message: str) -> float:
    """Seconds from sending `run` to its `done`; chunks are received, not parsed."""
    started = time.perf_counter()
    await ws.send(message)
    while True:
        frame = await ws.recv(decode=False)
        kind = _TYPE.match(frame[:40])
        if kind is None or kind.group(1) == b"error":
            raise RuntimeError(bytes(frame[:300]).decode(errors="replace"))
        if kind.group(1) == b"done":
            return time.perf_counter() - started


class Crowd:
    """`size` clients that connect, wait until all have, then start together."""

    def __init__(
        self, url: str, messages: list[list[str]], on_connected: Callable[[], None]
    ) -> None:
        self.url, self.messages, self.size = url, messages, len(messages)
        self.on_connected = on_connected
        self.connected = 0
        self.all_connected = asyncio.Event()
        self.go = asyncio.Event()

    async def client(self, runs: list[str]) -> list[float]:
        async with connect(
            self.url,
            max_size=None,
            compression=None,
            proxy=None,
            open_timeout=120,
            ping_interval=None,
        ) as ws:
            self.connected += 1
            if self.connected == self.size:
                self.all_connected.set()
            await self.go.wait()
            return [await one_run(ws, message) for message in runs]

    async def run(self) -> list[float]:
        """Every run's seconds to `done`."""
        tasks = [asyncio.create_task(self.client(runs)) for runs in self.messages]
        await asyncio.wait(
            [asyncio.create_task(self.all_connected.wait()), *tasks],
            return_when=asyncio.FIRST_COMPLETED,  # a client that failed to connect ends it
        )
        self.on_connected()
        self.go.set()
        return [seconds for result in await asyncio.gather(*tasks) for seconds in result]


_unique = itertools.count(1)


def run_messages(clients: int, rounds: int, distinct: bool) -> list[list[str]]:
    """Each client's `run` messages, made before the clock starts.

    distinct: every run its own scene (Adam's learning rate differs in the sixth digit, as
    when students move sliders), so the server computes each; otherwise all runs ask for
    the same scene (a class opening one lesson), which the server may share or replay.
    """
    scene = scene_body()
    messages = []
    for client in range(clients):
        runs = []
        for n in range(rounds):
            if distinct:
                scene["runs"][-1]["params"]["lr"] = LEARNING_RATES["adam"] * (
                    1 + next(_unique) * 1e-6
                )
            body = json.dumps(scene, separators=(",", ":"))[1:]
            runs.append(f'{{"type":"run","id":"c{client}-{n}",{body}')
        messages.append(runs)
    return messages


def crowd(
    url: str, messages: list[list[str]], on_connected: Callable[[], None] = lambda: None
) -> list[float]:
    return asyncio.run(Crowd(url, messages, on_connected).run())


@dataclass
class Level:
    distinct: bool
    workers: int
    clients: int
    done: list[float]
    healthz: list[float]
    client_cpu: float  # share of one core the load generator used
    server_cpu: float  # cores the server used
    cpu_per_run: float  # server CPU seconds per run: the cost, whatever else runs
    spread: list[int]  # connections each worker held once all clients had connected


@dataclass
class Target:
    """A running server under test and what every level sends it."""

    workers: int
    port: int
    pids: list[int]
    period: float


def measure(target: Target, clients: int, rounds: int, distinct: bool) -> Level:
    """One level: `clients` clients × `rounds` runs, with /healthz probed meanwhile."""
    url = f"ws://127.0.0.1:{target.port}/ws/trajectories"
    held: dict[int, int] = {}

    def count() -> None:
        held.update(connections_by_process(target.port, target.pids))

    messages = run_messages(clients, rounds, distinct)
    prober = Prober(target.port, target.period)
    started, client_started = time.perf_counter(), time.process_time()
    server_started = cpu_seconds(target.pids)
    done = crowd(url, messages, count)
    wall = time.perf_counter() - started
    client_cpu = (time.process_time() - client_started) / wall
    server_seconds = cpu_seconds(target.pids) - server_started
    server_cpu = server_seconds / wall
    spread = sorted((n for n in held.values() if n), reverse=True)
    return Level(
        distinct,
        target.workers,
        clients,
        done,
        prober.stop(),
        client_cpu,
        server_cpu,
        server_seconds / len(done),
        spread,
    )


def ms(seconds: float) -> str:
    return f"{seconds * 1e3:8.1f}"


MODES = {"distinct": True, "same": False}


def report(results: list[Level], baseline: tuple[float, float], distinct: bool) -> None:
    solo_p50, idle_p95 = baseline
    print(
        "workers  clients  done p50 ms  done p95 ms  ×solo p50  /healthz p95 ms  ×idle p95"
        "  client CPU  server CPU  CPU ms/run  connections per worker"
    )
    for level in results:
        if level.distinct != distinct and level.clients > 1:
            continue
        done_p95 = percentile(level.done, 95)
        health_p95 = percentile(level.healthz, 95)
        print(
            f"{level.workers:7d}  {level.clients:7d}  {ms(statistics.median(level.done)):>11}  "
            f"{ms(done_p95):>11}  {statistics.median(level.done) / solo_p50:9.1f}  "
            f"{ms(health_p95):>15}  {health_p95 / idle_p95:9.1f}  "
            f"{level.client_cpu:9.0%}   {level.server_cpu:6.2f} cores  "
            f"{ms(level.cpu_per_run):>10}  "
            f"{'/'.join(map(str, level.spread))}"
        )
    two = [r for r in results if r.distinct == distinct and r.workers == 2 and r.clients == 50]
    if two:
        p95 = percentile(two[0].done, 95)
        verdict = "ok" if p95 <= 1.0 else "MISSED"
        print(f"target: 50 clients, 2 workers, done p95 ≤ 1000 ms: {ms(p95).strip()} ms {verdict}")
    worst = max(percentile(r.healthz, 95) for r in results if r.distinct == distinct)
    verdict = "ok" if worst <= 0.05 else "MISSED"
    print(f"target: /healthz p95 ≤ 50 ms at every level: worst {ms(worst).strip()} ms {verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", default="1,2", help="worker counts, comma-separated")
    parser.add_argument("--levels", default="20,50,200", help="client counts, comma-separated")
    parser.add_argument("--rounds", type=int, default=3, help="runs per client per level")
    parser.add_argument("--period", type=float, default=0.02, help="seconds between probes")
    parser.add_argument(
        "--scenes", default="distinct,same", help="distinct (every run computed), same, or both"
    )
    args = parser.parse_args()
    load_average = os.getloadavg()[0]  # other work on the machine, before this run
    worker_counts = [int(w) for w in args.workers.split(",")]
    levels = [int(n) for n in args.levels.split(",")]
    modes = [MODES[name] for name in args.scenes.split(",")]

    results: list[Level] = []
    baselines: dict[int, tuple[float, float]] = {}
    for workers in worker_counts:
        server, port = start_server(workers)
        try:
            target = Target(workers, port, server_pids(server.pid), args.period)
            for _ in range(5):  # warm up
                healthz(port)
            idle = []
            for _ in range(100):
                idle.append(healthz(port))
                time.sleep(args.period)
            url = f"ws://127.0.0.1:{port}/ws/trajectories"
            crowd(url, run_messages(2 * workers, 2, True))  # warm up imports and caches
            solo = measure(target, 1, 10, distinct=True)
            baselines[workers] = (statistics.median(solo.done), percentile(idle, 95))
            results.append(solo)
            for distinct in modes:
                for clients in levels:
                    results.append(measure(target, clients, args.rounds, distinct))
        finally:
            server.terminate()
            server.wait(timeout=60)

    print(
        f"scene: {len(scene_body()['runs'])} optimizers × 500 steps on Rosenbrock, loopback, "
        f"{os.cpu_count()} CPU cores (1-min load average {load_average:.1f} before the run); "
        f"{args.rounds} runs per client"
    )
    for workers, (done_p50, healthz_p95) in baselines.items():
        print(
            f"baseline, {workers} worker(s): one client alone done p50 {ms(done_p50)} ms "
            f"(every run computed); /healthz idle p95 {ms(healthz_p95)} ms"
        )
    print(f"ratios (×) against the {worker_counts[0]}-worker baseline")
    for distinct in modes:
        print()
        print(
            "every run a different scene (students moving sliders): computed"
            if distinct
            else "every client the same scene (a class opening one lesson): shared or replayed"
        )
        report(results, baselines[worker_counts[0]], distinct)


if __name__ == "__main__":
    main()
