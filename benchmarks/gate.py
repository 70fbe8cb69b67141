"""What app.gate costs, and what it saves the event loop (issue 11, items 2 and 3).

1. app.jsonguard.check_json against json.loads on the same text (the parse every JSON body
   gets anyway), median of many repeats: the largest real body (an export of 12 runs with
   every option), and three 64 KiB bodies made to be slow to scan; then bodies refused
   at their very end, where the exact pass walks the whole text.
2. A real `gradscape serve`: /healthz latency while four clients keep sending 8 MB bodies
   (before the gate: /healthz p50 2.4 s, max 4.4 s), against /healthz on the idle server
   in the same run; and the time from a 52 MB request's headers to its 413.

    python benchmarks/gate.py [--repeats 200] [--seconds 5]
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.config import MAX_BODY_BYTES, MAX_JSON_DEPTH  # noqa: E402
from app.jsonguard import check_json, check_json_reference  # noqa: E402
from tests.serving import launch  # noqa: E402


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def _fill(item: str, prefix: str = "[", suffix: str = "]") -> str:
    """A JSON array of `item` as close to MAX_BODY_BYTES as it gets."""
    count = (MAX_BODY_BYTES - len(prefix) - len(suffix)) // (len(item) + 1)
    return prefix + ",".join([item] * count) + suffix


def bodies() -> dict[str, str]:
    params = {"lr": 1.2345678901234567e-05, "beta1": 0.9, "beta2": 0.999, "eps": 1e-08}
    export = {
        "landscape": "rosenbrock",
        "start": [-1.2345678901234567, 2.0],
        "steps": 10000,
        "runs": [{"optimizer": "adam", "params": params}] * 12,
        "noise": 0.05,
        "seed": 4294967295,
        "schedule": {"kind": "cosine", "warmup": 100, "t_max": 10000},
        "format": "mp4",
        "width": 1920,
        "height": 1080,
        "fps": 60,
        "duration": 30.0,
        "layout": "side_by_side",
        "title": "学習率" * 40,
        "lang": "ja",
    }
    deep = "[" * (MAX_JSON_DEPTH - 1)
    return {
        "real export, 12 runs": json.dumps(export),
        "64 KiB of floats": _fill("1.2345678901234567e-05"),
        "64 KiB of short strings": _fill('"ab"'),
        "64 KiB of brackets, 31 deep": _fill("[]", deep, "]" * (MAX_JSON_DEPTH - 1)),
    }


def refused_bodies() -> dict[str, tuple[str, str]]:
    """Bodies refused at their end, after 60 KB of short strings (the slowest text for
    the exact pass to walk): name -> (refused text, the same text without the fault)."""
    strings = ",".join(['"ab"'] * 12_000)
    deep = "[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1)
    return {
        "too deep at the end": (f"[{strings},{deep}]", f"[{strings}]"),
        "5,000 digits at the end": (f"[{strings},{'7' * 5000}]", f"[{strings}]"),
        "lone surrogate at the end": (f'[{strings},"\\ud800"]', f"[{strings}]"),
    }


def refusal_costs(repeats: int) -> None:
    print(
        "refusing (the first fault and its path) against json.loads of the text without "
        "the fault; the plain-Python reference for comparison"
    )
    for name, (refused, fine) in refused_bodies().items():
        data, clean = refused.encode(), fine.encode()
        cost = median_seconds(partial(_refuse, check_json, data), repeats)
        slow = median_seconds(
            partial(_refuse, check_json_reference, refused), max(3, repeats // 10)
        )
        parse = median_seconds(partial(json.loads, clean), repeats)
        print(
            f"  {name:30s} {len(data):6d} B  guard {cost * 1e3:7.3f} ms  "
            f"json.loads {parse * 1e3:7.3f} ms  ratio {cost / parse:5.2f}  "
            f"(reference {slow * 1e3:6.1f} ms)"
        )


def _refuse(check: Callable[[Any], None], text: str | bytes) -> None:
    try:
        check(text)
    except ValueError:
        return
    raise AssertionError("not refused")


def median_seconds(function: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def scan_costs(repeats: int) -> None:
    print("check_json against json.loads on the same text (median)")
    for name, text in bodies().items():
        assert len(text.encode()) <= MAX_BODY_BYTES, name
        data = text.encode()
        guard = median_seconds(partial(check_json, data), repeats)
        parse = median_seconds(partial(json.loads, data), repeats)
        print(
            f"  {name:30s} {len(data):6d} B  guard {guard * 1e3:7.3f} ms  "
            f"json.loads {parse * 1e3:7.3f} ms  ratio {guard / parse:5.2f}"
        )


def start_server() -> tuple[subprocess.Popen[str], str]:
    served = launch(drain=True)
    return served.process, served.url


def healthz_latencies(url: str, seconds: float) -> list[float]:
    times = []
    deadline = time.monotonic() + seconds
    with httpx.Client(timeout=30) as client:
        while time.monotonic() < deadline:
            started = time.perf_counter()
            client.get(url + "/healthz").raise_for_status()
            times.append(time.perf_counter() - started)
            time.sleep(0.01)
    return times


def post_big(port: int, size: int, send_body: bool) -> tuple[float, bytes]:
    """(seconds from the headers to the reply's first bytes, the status line)."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(
            b"POST /api/trajectories HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % size
        )
        started = time.perf_counter()
        if send_body:
            piece = b"[" * 65536
            try:
                for _ in range(size // len(piece)):
                    sock.sendall(piece)
            except OSError:
                pass  # refused and closed: the rest is never sent
        first = sock.recv(64)
        return time.perf_counter() - started, first.split(b"\r\n")[0]


def serve_costs(seconds: float) -> None:
    process, url = start_server()
    port = int(url.rsplit(":", 1)[1])
    try:
        idle = healthz_latencies(url, seconds)
        stop = threading.Event()
        statuses: list[bytes] = []

        def flood() -> None:
            while not stop.is_set():
                statuses.append(post_big(port, 8_000_000, send_body=True)[1])

        flooders = [threading.Thread(target=flood) for _ in range(4)]
        for thread in flooders:
            thread.start()
        loaded = healthz_latencies(url, seconds)
        stop.set()
        for thread in flooders:
            thread.join()
        to_413 = [post_big(port, 52_000_000, send_body=False)[0] for _ in range(20)]
    finally:
        process.terminate()
        process.wait(20)
    print("\n/healthz on a real server (one worker)")
    for name, times in (("idle", idle), ("4 clients sending 8 MB bodies", loaded)):
        print(
            f"  {name:30s} p50 {percentile(times, 50) * 1e3:6.1f} ms  "
            f"p95 {percentile(times, 95) * 1e3:6.1f} ms  max {max(times) * 1e3:6.1f} ms  "
            f"(n={len(times)})"
        )
    print(
        f"  ratio p95 loaded/idle: {percentile(loaded, 95) / percentile(idle, 95):.2f}; "
        f"8 MB bodies answered: {len(statuses)}, statuses {sorted(set(statuses))}"
    )
    print(f"  52 MB Content-Length -> 413 after {statistics.median(to_413) * 1e3:.1f} ms (median)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    scan_costs(args.repeats)
    refusal_costs(args.repeats // 4)
    serve_costs(args.seconds)


if __name__ == "__main__":
    main()
