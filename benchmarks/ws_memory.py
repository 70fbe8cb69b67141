"""Memory of the live channel: per stream (tracemalloc) and under clients that never read
(RSS of a real `gradscape serve`), plus the per-stream CPU of the page's scene.

1. tracemalloc, in this process: what a 12 × 10,000-step stream holds once its meta and
   first chunk are out (a client that stopped reading there), and its peak over the run.
2. A real server (`python -m app.cli serve --port 0`, GRADSCAPE_WS_STALL_SECONDS lowered):
   N raw sockets each send a 12 × 10,000-step run and never read. Printed: server RSS
   (VmRSS) idle — the baseline — then with the N stalled clients (growth above idle, per
   client, against the budget), /healthz latency meanwhile, and RSS after the server has
   closed them (it closes a socket that took nothing for the stall time, code 1008).
3. CPU of one 6 × 500-step stream (ws_latency's scene) built in this process: meta,
   chunks and done, as the server builds them.

    python benchmarks/ws_memory.py [--clients 40] [--stall 8] [--root DIR]

--root runs the server from another checkout (e.g. `git archive <commit> | tar -x -C DIR`)
to measure a baseline commit with the same script; --send-buffer BYTES sets SO_SNDBUF on
the listening sockets (left to autotuning, the kernel takes ~4 MB for a client that never
reads before the server's send waits, and uvicorn's keepalive may close it first, 1011).
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.ws_latency import SCENE  # noqa: E402

BIG: dict[str, Any] = {
    "landscape": "rosenbrock",
    "start": [-1.5, 2.0],
    "steps": 10_000,
    "runs": [{"optimizer": "adam"}] * 12,
    "noise": 0.05,
    "seed": 11,
    "schedule": {"kind": "cosine"},
}
PAGE_SCENE = SCENE  # benchmarks/ws_latency.py's: the six classic optimizers × 500 steps
BUDGET_MB = 150  # RSS growth allowed with 40 stalled clients


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def stalled_client(
    port: int, body: dict[str, Any], run_id: int, receive_buffer: int | None = None
) -> socket.socket:
    """A WebSocket opened by hand that sends one run and then reads nothing (with a small
    `receive_buffer`, the kernel holds less for it, so the server stalls it sooner)."""
    sock = socket.socket()
    if receive_buffer is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
    sock.connect(("127.0.0.1", port))
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        (
            f"GET /ws/trajectories HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Origin: http://127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    reply = b""
    while b"\r\n\r\n" not in reply:
        reply += sock.recv(1)  # byte by byte: read nothing past the handshake
    assert reply.startswith(b"HTTP/1.1 101"), reply
    payload = json.dumps({"type": "run", "id": run_id, **body}).encode()
    mask = os.urandom(4)
    header = bytes([0x81])
    if len(payload) < 126:
        header += bytes([0x80 | len(payload)])
    else:
        header += bytes([0x80 | 126]) + len(payload).to_bytes(2, "big")
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    sock.sendall(header + mask + masked)
    return sock


def close_code(sock: socket.socket, timeout: float = 30.0) -> tuple[int | None, str]:
    """Read everything the server sent until its close frame: (code, reason)."""
    sock.settimeout(timeout)
    buffer = b""

    def need(n: int) -> bytes:
        nonlocal buffer
        while len(buffer) < n:
            data = sock.recv(1 << 20)
            if not data:
                raise EOFError
            buffer += data
        out, buffer = buffer[:n], buffer[n:]
        return out

    try:
        while True:
            first, second = need(2)
            size = second & 0x7F
            if size == 126:
                size = int.from_bytes(need(2), "big")
            elif size == 127:
                size = int.from_bytes(need(8), "big")
            payload = need(size)
            if first & 0x0F == 0x8:
                return int.from_bytes(payload[:2], "big"), payload[2:].decode()
    except (EOFError, OSError):
        return None, "connection ended without a close frame"


# `gradscape serve` with SO_SNDBUF set on its listening sockets (--send-buffer).
_CAPPED_SERVE = """
import runpy, socket, sys
listen = socket.socket.listen
def capped(self, *args):
    self.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, {size})
    return listen(self, *args)
socket.socket.listen = capped
sys.argv = ["gradscape", "serve", "--port", "0"]
runpy.run_module("app.cli", run_name="__main__")
"""


def start_server(
    root: Path, stall: float, send_buffer: int | None
) -> tuple[subprocess.Popen[str], int]:
    env = {**os.environ, "GRADSCAPE_WS_STALL_SECONDS": str(stall)}
    command = ["-m", "app.cli", "serve", "--port", "0"]
    if send_buffer is not None:
        command = ["-c", _CAPPED_SERVE.format(size=send_buffer)]
    process = subprocess.Popen(
        [sys.executable, *command],
        cwd=root,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    match = re.search(r":(\d+)/", process.stdout.readline())
    assert match, "the server did not say its port"
    port = int(match.group(1))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return process, port
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("server did not start")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def settle(pid: int, seconds: float) -> float:
    """RSS once the server is idle (under 5 % of a core for two 0.5 s samples in a row; at
    most `seconds`): every stalled stream has filled its socket's buffers and waits."""
    deadline = time.monotonic() + seconds
    last, quiet = cpu_seconds(pid), 0
    while time.monotonic() < deadline and quiet < 2:
        time.sleep(0.5)
        now = cpu_seconds(pid)
        quiet = quiet + 1 if now - last < 0.025 else 0
        last = now
    return rss_mb(pid)


def healthz_ms(port: int, samples: int = 20) -> list[float]:
    times = []
    with httpx.Client(base_url=f"http://127.0.0.1:{port}") as http:
        for _ in range(samples):
            started = time.perf_counter()
            assert http.get("/healthz").status_code == 200
            times.append((time.perf_counter() - started) * 1e3)
            time.sleep(0.02)
    return times


def per_stream_memory() -> tuple[float, float]:
    """MB held by a 12 × 10,000 stream after meta + first chunk, and its peak over the run."""
    from app import scene
    from app.routes import ws
    from app.schemas import TrajectoryRequest

    request = TrajectoryRequest.model_validate(BIG)
    tracemalloc.start()
    prepared = scene.prepare(request)
    meta = ws.meta_message(1, prepared)
    chunks = scene.ChunkStream(prepared)
    first = ws.chunk_message(1, chunks.next())  # type: ignore[arg-type]
    del meta, first
    held = tracemalloc.get_traced_memory()[0]
    while (chunk := chunks.next()) is not None:
        ws.chunk_message(1, chunk)
    ws.done_message(1, prepared)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return held / 1e6, peak / 1e6


def per_stream_cpu(repeats: int = 40) -> float:
    """CPU ms of one 6 × 500 stream's messages (meta, chunks, done), built in this thread."""
    from app import scene
    from app.routes import ws
    from app.schemas import TrajectoryRequest

    def one() -> None:
        prepared = scene.prepare(TrajectoryRequest.model_validate(PAGE_SCENE))
        ws.meta_message(1, prepared)
        chunks = scene.ChunkStream(prepared)
        while (chunk := chunks.next()) is not None:
            ws.chunk_message(1, chunk)
        ws.done_message(1, prepared)

    for _ in range(5):
        one()
    times = []
    for _ in range(repeats):
        started = time.thread_time()
        one()
        times.append(time.thread_time() - started)
    return statistics.median(times) * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=40)
    parser.add_argument("--stall", type=float, default=8.0, help="server's stall timeout, s")
    parser.add_argument("--root", type=Path, default=ROOT, help="checkout to serve from")
    parser.add_argument(
        "--send-buffer",
        type=int,
        help="SO_SNDBUF of the listening sockets, bytes (app.config.SOCKET_SEND_BUFFER_BYTES)",
    )
    args = parser.parse_args()

    held, peak = per_stream_memory()
    print(
        f"12 × 10,000 stream (tracemalloc): held after meta + first chunk {held:.1f} MB, "
        f"peak {peak:.1f} MB"
    )
    print(f"6 × 500 stream, messages built in-process: CPU p50 {per_stream_cpu():.1f} ms")

    process, port = start_server(args.root, args.stall, args.send_buffer)
    sockets: list[socket.socket] = []
    try:
        healthz_ms(port, 5)
        idle = settle(process.pid, 5)
        idle_health = healthz_ms(port)
        sockets = [stalled_client(port, BIG, i) for i in range(args.clients)]
        stalled = settle(process.pid, 120)
        quiet = time.monotonic()  # every stream waits on a send from about now
        stalled_health = healthz_ms(port)
        growth = stalled - idle
        print(
            f"server RSS idle (baseline) {idle:.0f} MB; with {args.clients} stalled clients "
            f"{stalled:.0f} MB: +{growth:.0f} MB, {growth / args.clients:.2f} MB per client "
            f"(budget +{BUDGET_MB} MB: {'ok' if growth <= BUDGET_MB else 'OVER'})"
        )
        print(
            f"/healthz p50 idle {statistics.median(idle_health):.1f} ms, with stalled clients "
            f"{statistics.median(stalled_health):.1f} ms (max {max(stalled_health):.1f} ms)"
        )
        time.sleep(max(0.0, quiet + args.stall + 2 - time.monotonic()))
        after = settle(process.pid, 5)
        codes = [close_code(sock) for sock in sockets]
        closed = sum(code == 1008 for code, _ in codes)
        print(
            f"after the {args.stall:g} s stall timeout: RSS {after:.0f} MB "
            f"(+{after - idle:.0f} MB over idle); {closed}/{len(codes)} sockets closed "
            f"with 1008 ({codes[0][1]!r})"
        )
    finally:
        for sock in sockets:
            sock.close()
        process.terminate()
        process.wait(timeout=30)


if __name__ == "__main__":
    main()
