"""A real `gradscape serve` under 40 WebSocket clients that send a big run and never read:
its memory stays within a budget, /healthz answers, and after the stall timeout each
socket is closed with 1008 and its run freed (issue 11, item 5)."""

from __future__ import annotations

import base64
import json
import os
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.sync.client import connect

from app.config import MAX_RUNS, MAX_STEPS
from tests.serving import serving

ROOT = Path(__file__).resolve().parents[2]
STALL_SECONDS = 3
CLIENTS = 40
# Server RSS above the idle (warmed-up) server while CLIENTS stalled streams wait. It grew
# 958 MB (24 MB per client) when every stream built its per-step objects up front.
BUDGET_MB = 150
BIG: dict[str, Any] = {
    "landscape": "rosenbrock",
    "start": [-1.5, 2.0],
    "steps": MAX_STEPS,
    "runs": [{"optimizer": "sgd", "params": {"lr": 0.001}}] * MAX_RUNS,
    "schedule": {"kind": "cosine"},
}


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[subprocess.Popen[str], int]]:
    env = {**os.environ, "GRADSCAPE_WS_STALL_SECONDS": str(STALL_SECONDS)}
    with serving(env=env) as served:
        yield served.process, served.port


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _wait_until_idle(pid: int, timeout: float = 120.0) -> None:
    """Until the server used under 5 % of a core for two 0.5 s samples in a row."""
    deadline = time.monotonic() + timeout
    last, quiet = _cpu_seconds(pid), 0
    while quiet < 2:
        assert time.monotonic() < deadline, "the server kept computing for stalled clients"
        time.sleep(0.5)
        now = _cpu_seconds(pid)
        quiet = quiet + 1 if now - last < 0.025 else 0
        last = now


def _stalled_client(port: int, run_id: int) -> socket.socket:
    """A WebSocket opened by hand that sends one run and then reads nothing."""
    sock = socket.create_connection(("127.0.0.1", port))
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
        reply += sock.recv(1)  # byte by byte: nothing past the handshake is read
    assert reply.startswith(b"HTTP/1.1 101"), reply
    payload = json.dumps({"type": "run", "id": run_id, **BIG}).encode()
    assert 126 <= len(payload) < 1 << 16
    mask = os.urandom(4)
    masked = bytes(byte ^ mask[i % 4] for i, byte in enumerate(payload))
    sock.sendall(bytes([0x81, 0x80 | 126]) + len(payload).to_bytes(2, "big") + mask + masked)
    return sock


def _read_until_close(sock: socket.socket) -> tuple[list[dict[str, Any]], int, str]:
    """Everything the server sent, up to its close frame: (messages, code, reason)."""
    sock.settimeout(60)
    buffer = bytearray()

    def take(n: int) -> bytes:
        while len(buffer) < n:
            data = sock.recv(1 << 20)
            assert data, "the connection ended without a close frame"
            buffer.extend(data)
        out = bytes(buffer[:n])
        del buffer[:n]
        return out

    messages: list[dict[str, Any]] = []
    while True:
        first, second = take(2)
        size = second & 0x7F
        if size == 126:
            size = int.from_bytes(take(2), "big")
        elif size == 127:
            size = int.from_bytes(take(8), "big")
        payload = take(size)
        opcode = first & 0x0F
        if opcode == 0x8:
            return messages, int.from_bytes(payload[:2], "big"), payload[2:].decode()
        if opcode == 0x1:  # text; the others are the server's keepalive pings
            messages.append(json.loads(payload))


def test_stalled_clients_stay_within_a_memory_budget_and_are_closed(
    server: tuple[subprocess.Popen[str], int],
) -> None:
    process, port = server
    base = f"http://127.0.0.1:{port}"
    # Warm up: one big run read to the end, so imports, caches and the heap are in place.
    with connect(f"ws://127.0.0.1:{port}/ws/trajectories", max_size=None) as ws:
        ws.send(json.dumps({"type": "run", "id": "warm", **BIG}))
        while json.loads(ws.recv(timeout=120))["type"] != "done":
            pass
    _wait_until_idle(process.pid)
    idle = _rss_mb(process.pid)

    sockets = [_stalled_client(port, i) for i in range(CLIENTS)]
    try:
        _wait_until_idle(process.pid)  # every stream has filled its socket and waits
        stalled = _rss_mb(process.pid)
        assert stalled - idle <= BUDGET_MB, f"RSS {idle:.0f} → {stalled:.0f} MB"
        with httpx.Client(base_url=base, timeout=10) as http:
            for _ in range(5):
                started = time.monotonic()
                assert http.get("/healthz").json() == {"status": "ok"}
                assert time.monotonic() - started < 2  # prompt, with a wide margin
        time.sleep(STALL_SECONDS + 1)
        for sock in sockets:
            messages, code, reason = _read_until_close(sock)
            assert code == 1008 and "stopped reading" in reason, (code, reason)
            assert messages[0]["type"] == "meta"
            assert messages[-1]["type"] == "chunk"  # cut off: no done
        _wait_until_idle(process.pid)
        assert _rss_mb(process.pid) - idle <= 50  # the runs' memory went back
    finally:
        for sock in sockets:
            sock.close()
    # the server is still well
    assert httpx.get(base + "/healthz").json() == {"status": "ok"}
