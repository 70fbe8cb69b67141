"""REST work off the event loop: /healthz while grids compute and while abandoned scenes run.

Against a real `gradscape serve` started from a source tree (default: this one; pass
`--tree` a `git worktree` of an older commit to measure the old behaviour). Measured:
  - /healthz p50/p95/max idle (the baseline of this run);
  - /healthz while 10 uncached grids (800×800, distinct digits) are requested at once;
  - /healthz and the server's CPU seconds while 20 requests for 12 × 10,000 steps are sent
    and their connections closed after 0.2 s (the CPU the server spends after the close
    is wasted work: nobody reads the reply);
  - RSS before and after N distinct grid GETs (resolution, digits): the grid caches' size.
Ratios against the idle /healthz p50 of the same run are printed.

    python benchmarks/rest_offloop.py [--tree PATH] [--grids 200]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.serving import launch  # noqa: E402

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")

BIG_SCENE: dict[str, Any] = {
    "landscape": "rosenbrock",
    "steps": 10_000,
    "runs": [{"optimizer": name} for name in ["sgd", "momentum", "nag", "adam"] * 3],
}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def start_server(tree: Path) -> tuple[subprocess.Popen[str], str]:
    served = launch(cwd=tree, drain=True)
    return served.process, served.url


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of the process (Linux /proc/<pid>/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


PROBE_INTERVAL = 0.02


def probe(
    url: str, stop: threading.Event, out: list[float], interval: float = PROBE_INTERVAL
) -> None:
    """/healthz latencies, one request at a time, until `stop` is set."""
    with httpx.Client(timeout=30) as client:
        while not stop.is_set():
            started = time.perf_counter()
            client.get(url + "/healthz")
            out.append(time.perf_counter() - started)
            time.sleep(interval)


def idle(url: str, seconds: float = 3.0) -> list[float]:
    stop, out = threading.Event(), []  # type: ignore[var-annotated]
    thread = threading.Thread(target=probe, args=(url, stop, out))
    thread.start()
    time.sleep(seconds)
    stop.set()
    thread.join()
    return out


def grids_at_once(url: str, count: int = 10) -> tuple[list[float], float]:
    """/healthz latencies while `count` uncached 800×800 grids are requested together."""
    stop, out = threading.Event(), []  # type: ignore[var-annotated]
    prober = threading.Thread(target=probe, args=(url, stop, out))
    prober.start()
    time.sleep(0.2)

    def get(digits: int) -> None:
        params: dict[str, Any] = {"resolution": 800, "digits": digits}
        httpx.get(f"{url}/api/landscapes/rosenbrock/grid", params=params, timeout=300)

    started = time.perf_counter()
    workers = [threading.Thread(target=get, args=(3 + i,)) for i in range(count)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    took = time.perf_counter() - started
    stop.set()
    prober.join()
    return out, took


def abandoned(url: str, pid: int, count: int = 20, watch: float = 8.0) -> tuple[list[float], float]:
    """/healthz latencies and server CPU seconds for `watch` s after `count` requests for
    12 × 10,000 steps whose connections close 0.2 s after sending."""
    host, port = url.removeprefix("http://").split(":")
    body = json.dumps(BIG_SCENE).encode()
    head = (
        f"POST /api/trajectories HTTP/1.1\r\nHost: {host}:{port}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode()
    stop, out = threading.Event(), []  # type: ignore[var-annotated]
    prober = threading.Thread(target=probe, args=(url, stop, out))
    prober.start()
    sockets = []
    for _ in range(count):
        sock = socket.create_connection((host, int(port)))
        sock.sendall(head + body)
        sockets.append(sock)
    time.sleep(0.2)
    for sock in sockets:
        sock.close()
    cpu_at_close = cpu_seconds(pid)
    time.sleep(watch)
    wasted = cpu_seconds(pid) - cpu_at_close
    stop.set()
    prober.join()
    # Let any leftover work drain before the next measurement.
    while True:
        before = cpu_seconds(pid)
        time.sleep(1.0)
        if cpu_seconds(pid) - before < 0.1:
            break
    return out, wasted


def many_grids(url: str, count: int) -> None:
    """`count` distinct (resolution, digits) grid GETs, one after another."""
    with httpx.Client(timeout=300) as client:
        for i in range(count):
            resolution = 800 - (i // 13) * 7
            digits = 3 + i % 13
            params = {"resolution": resolution, "digits": digits}
            client.get(f"{url}/api/landscapes/himmelblau/grid", params=params)


def describe(name: str, latencies: list[float], baseline: float) -> str:
    """Percentiles of the answers, and the share of the probing time spent waiting on an
    answer slower than 100 ms: the probe is sequential, so one 3 s stall is one sample,
    and only the time-weighted share shows how long /healthz was unusable."""
    p50, p95 = statistics.median(latencies), percentile(latencies, 95)
    window = sum(latencies) + PROBE_INTERVAL * len(latencies)
    stalled = sum(t for t in latencies if t > 0.1) / window
    return (
        f"{name:<34} p50 {p50 * 1000:7.1f} ms  p95 {p95 * 1000:7.1f} ms  "
        f"max {max(latencies) * 1000:7.1f} ms  (p95 {p95 / baseline:6.1f}× idle p50, "
        f"{stalled:4.0%} of the time in answers > 100 ms, n={len(latencies)})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tree", type=Path, default=ROOT, help="source tree to serve")
    parser.add_argument("--grids", type=int, default=200, help="distinct grid GETs for RSS")
    args = parser.parse_args()
    process, url = start_server(args.tree)
    try:
        print(f"server from {args.tree} at {url}, pid {process.pid}")
        print(f"RSS at start: {rss_mb(process.pid):.0f} MB")
        quiet = idle(url)
        baseline = statistics.median(quiet)
        print(describe("/healthz idle (baseline)", quiet, baseline))
        during, took = grids_at_once(url)
        print(describe("/healthz during 10 uncached grids", during, baseline))
        print(f"  10 grids answered in {took:.1f} s")
        during, wasted = abandoned(url, process.pid)
        print(describe("/healthz during 20 abandoned POSTs", during, baseline))
        print(f"  server CPU in the 8 s after the clients left: {wasted:.1f} s")
        before = rss_mb(process.pid)
        started = time.perf_counter()
        many_grids(url, args.grids)
        after = rss_mb(process.pid)
        print(
            f"RSS before/after {args.grids} distinct grid GETs: {before:.0f} -> {after:.0f} MB "
            f"(+{after - before:.0f} MB, {time.perf_counter() - started:.0f} s)"
        )
    finally:
        process.terminate()
        process.wait(timeout=30)


if __name__ == "__main__":
    main()
