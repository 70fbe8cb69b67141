"""A real `gradscape serve --workers 2`: both workers serve, streams work, and every process
stops on SIGTERM or Ctrl-C (Linux: the processes are found in /proc)."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from websockets.sync.client import ClientConnection, connect

from app.config import ALLOW_HOSTS_ENV
from tests.serving import stop, wait_until_healthy

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Server:
    process: subprocess.Popen[str]
    url: str
    port: int

    def output(self) -> str:
        assert self.process.stdout is not None
        return self.process.stdout.read()


def start(*argv: str, new_session: bool = False) -> Server:
    """`gradscape serve --port 0 --workers 2 …`, once /healthz answers."""
    process = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--port", "0", "--workers", "2", *argv],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=new_session,  # its own process group, for a terminal's Ctrl-C
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    match = re.fullmatch(r"Gradscape on (http://127\.0\.0\.1:(\d+))/  \(Ctrl-C to stop\)\n", line)
    if not match:
        stop(process)
        pytest.fail(line + process.stdout.read())
    server = Server(process, match.group(1), int(match.group(2)))
    wait_until_healthy(process, server.url, server.output)
    return server


def children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(child) for child in path.read_text().split()] if path.exists() else []


def socket_inodes(pid: int) -> set[str]:
    """The inodes of the sockets process `pid` holds."""
    inodes: set[str] = set()
    try:
        fds = list(Path(f"/proc/{pid}/fd").iterdir())
    except OSError:  # the process has exited
        return inodes
    for fd in fds:
        try:
            link = os.readlink(fd)
        except OSError:  # closed meanwhile
            continue
        if link.startswith("socket:["):
            inodes.add(link[8:-1])
    return inodes


def tcp_sockets(port: int) -> list[tuple[str, int, str]]:
    """(state, remote port, inode) of every IPv4 socket whose local port is `port`."""
    found = []
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote, state, inode = fields[1], fields[2], fields[3], fields[9]
        if int(local.rsplit(":", 1)[1], 16) == port:
            found.append((state, int(remote.rsplit(":", 1)[1], 16), inode))
    return found


def workers(server: Server) -> set[int]:
    """Children of the server process that hold its listening socket: the workers."""
    listening = {inode for state, _, inode in tcp_sockets(server.port) if state == "0A"}
    return {pid for pid in children(server.process.pid) if socket_inodes(pid) & listening}


def wait_for_workers(server: Server, count: int, timeout: float = 60.0) -> set[int]:
    deadline = time.monotonic() + timeout
    while len(found := workers(server)) != count:
        assert time.monotonic() < deadline, f"{count} workers expected, found {found}"
        time.sleep(0.1)
    return found


def holder(server: Server, ws: ClientConnection) -> int:
    """The worker process holding the server side of this WebSocket connection."""
    client_port = ws.local_address[1]
    (inode,) = [
        i
        for state, remote, i in tcp_sockets(server.port)
        if remote == client_port and state == "01"
    ]
    (pid,) = [pid for pid in workers(server) if inode in socket_inodes(pid)]
    return pid


def stream(ws: ClientConnection, run_id: str) -> list[str]:
    """A small scene over `ws`: the message types received, up to `done`."""
    body = {"landscape": "rosenbrock", "steps": 150, "runs": [{"optimizer": "adam"}] * 2}
    ws.send(json.dumps({"type": "run", "id": run_id, **body}))
    kinds: list[str] = []
    while not kinds or kinds[-1] not in ("done", "error"):
        message = json.loads(ws.recv(timeout=60))
        assert message["id"] == run_id
        kinds.append(message["type"])
    return kinds


def gone(pid: int) -> bool:
    """Exited: no such process, or a zombie waiting for a parent to reap it."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] == "Z"


PROXY = "gradscape.example.edu"  # a reverse proxy's name, let in with --allow-host
COURSE_SITE = "https://course.example.edu"  # a page elsewhere, let in with --allow-origin


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    running = start("--allow-host", PROXY, "--allow-origin", COURSE_SITE)
    try:
        wait_for_workers(running, 2)
        yield running
    finally:
        stop(running.process)
        if running.process.stdout is not None:
            running.process.stdout.close()


def test_two_workers_listen_and_both_stream(server: Server) -> None:
    pids = wait_for_workers(server, 2)
    assert server.process.pid not in pids
    url = server.url.replace("http", "ws") + "/ws/trajectories"
    held: dict[int, int] = {}
    with contextlib.ExitStack() as sockets:  # all stay open, as a class's pages do
        # Each connection goes to one worker's socket (SO_REUSEPORT, by a hash of the
        # client's port): keep connecting until both have answered a stream.
        for n in range(40):
            ws = sockets.enter_context(connect(url, open_timeout=30))
            kinds = stream(ws, f"run-{n}")
            assert kinds[0] == "meta" and kinds.count("chunk") >= 2 and kinds[-1] == "done"
            worker = holder(server, ws)
            held[worker] = held.get(worker, 0) + 1
            if len(held) == 2 and n >= 7:
                break
    assert set(held) == pids, held


def test_plain_requests_are_served_whichever_worker_answers(server: Server) -> None:
    for _ in range(20):  # a new connection each time
        reply = httpx.get(server.url + "/api/settings", headers={"Connection": "close"})
        assert reply.status_code == 200 and "steps" in reply.json()["scene"]


def ask(server: Server, headers: dict[str, str]) -> tuple[int, int, str]:
    """GET /api/settings on a new connection: (the worker that answered, status, body)."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        connection.connect()
        assert connection.sock is not None
        client_port = connection.sock.getsockname()[1]
        deadline = time.monotonic() + 10
        while True:  # accepted by a worker: its socket is in that process
            listed = [i for state, remote, i in tcp_sockets(server.port) if remote == client_port]
            owners = [pid for pid in workers(server) if set(listed) & socket_inodes(pid)]
            if owners:
                break
            assert time.monotonic() < deadline, "no worker accepted the connection"
            time.sleep(0.05)
        connection.request("GET", "/api/settings", headers=headers)
        response = connection.getresponse()
        return owners[0], response.status, response.read().decode()
    finally:
        connection.close()


CASES = {  # request headers → the status every worker must answer
    "the proxy's name": ({"Host": PROXY}, 200),
    "the course site's page": ({"Host": PROXY, "Origin": COURSE_SITE}, 200),
    "a foreign name (DNS rebinding)": ({"Host": "evil.example.com"}, 400),
    "a foreign page": ({"Host": PROXY, "Origin": "https://evil.example.com"}, 403),
}


def test_allowed_host_and_origin_reach_every_worker(server: Server) -> None:
    pids = wait_for_workers(server, 2)
    answered: dict[int, set[str]] = {pid: set() for pid in pids}
    for _ in range(40):  # until each worker has answered each case
        for case, (headers, expected) in CASES.items():
            worker, status, body = ask(server, headers)
            assert status == expected, (case, worker, body)
            answered[worker].add(case)
        if all(cases == set(CASES) for cases in answered.values()):
            break
    assert all(cases == set(CASES) for cases in answered.values()), answered


def test_a_worker_that_dies_is_replaced_on_the_same_port(server: Server) -> None:
    before = wait_for_workers(server, 2)
    victim = min(before)
    os.kill(victim, signal.SIGKILL)
    deadline = time.monotonic() + 60
    while (now := workers(server)) == before or len(now) != 2:
        assert server.process.poll() is None, server.output()
        assert time.monotonic() < deadline, f"no replacement for worker {victim}: {now}"
        time.sleep(0.2)
    assert victim not in now and now - before
    # the new worker serves: streams reach both again
    url = server.url.replace("http", "ws") + "/ws/trajectories"
    seen = set()
    for n in range(40):
        with connect(url, open_timeout=30) as ws:
            assert stream(ws, f"after-{n}")[-1] == "done"
            seen.add(holder(server, ws))
        if seen == now:
            break
    assert seen == now


@pytest.mark.parametrize("how", ["SIGTERM", "Ctrl-C"])
def test_stopping_ends_every_process_cleanly(how: str) -> None:
    running = start(new_session=True)
    try:
        wait_for_workers(running, 2)
        spawned = children(running.process.pid)  # the workers and multiprocessing's helper
        url = running.url.replace("http", "ws") + "/ws/trajectories"
        with connect(url, open_timeout=30) as ws:  # a student still connected
            assert stream(ws, "open")[-1] == "done"
            if how == "SIGTERM":
                running.process.send_signal(signal.SIGTERM)
            else:  # a terminal sends Ctrl-C's SIGINT to the whole foreground group
                os.killpg(running.process.pid, signal.SIGINT)
            code = running.process.wait(timeout=30)
        output = running.output()
    finally:
        stop(running.process)
        if running.process.stdout is not None:
            running.process.stdout.close()
    assert code == 0, output
    assert "Traceback" not in output and "Error" not in output, output
    deadline = time.monotonic() + 30
    while not all(gone(pid) for pid in spawned):  # no orphan left serving
        assert time.monotonic() < deadline, [pid for pid in spawned if not gone(pid)]
        time.sleep(0.1)
    with pytest.raises(httpx.TransportError):
        httpx.get(running.url + "/healthz", timeout=5)


def test_workers_of_a_killed_server_stop_too() -> None:
    # SIGKILL: the server cannot stop its workers; they must not go on serving the port.
    running = start()
    try:
        spawned = wait_for_workers(running, 2)
        running.process.kill()
        running.process.wait(timeout=30)
        deadline = time.monotonic() + 30
        while not all(gone(pid) for pid in spawned):
            assert time.monotonic() < deadline, [pid for pid in spawned if not gone(pid)]
            time.sleep(0.1)
        with pytest.raises(httpx.TransportError):
            httpx.get(running.url + "/healthz", timeout=5)
    finally:
        stop(running.process)
        if running.process.stdout is not None:
            running.process.stdout.close()


def test_workers_that_cannot_start_the_app_stop_the_server() -> None:
    # A setting every worker rejects on import: replacing them would fail forever.
    env = {**os.environ, ALLOW_HOSTS_ENV: "http://not-a-host"}
    argv = [sys.executable, "-m", "app.cli", "serve", "--port", "0", "--workers", "2"]
    proc = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1, proc.stderr
    assert "allowed host 'http://not-a-host' is not a host name" in proc.stderr
    assert proc.stderr.endswith(
        "gradscape serve: error: a worker could not start the app; stopping\n"
    )
    assert "starting another" not in proc.stderr


def test_a_worker_that_cannot_shut_down_is_killed_and_the_server_still_stops() -> None:
    running = start("--shutdown-grace", "3")  # 30 s by default
    try:
        frozen = min(wait_for_workers(running, 2))
        spawned = children(running.process.pid)
        os.kill(frozen, signal.SIGSTOP)  # a stopped process never handles its SIGTERM
        running.process.send_signal(signal.SIGTERM)
        asked = time.monotonic()
        code = running.process.wait(timeout=120)  # the shutdown grace, then SIGKILL
        waited = time.monotonic() - asked
        output = running.output()
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(frozen, signal.SIGCONT)
        stop(running.process)
        if running.process.stdout is not None:
            running.process.stdout.close()
    assert code == 0 and "Traceback" not in output, output
    assert 3 <= waited < 20, waited  # the grace given, not the default 30 s
    deadline = time.monotonic() + 30
    while not all(gone(pid) for pid in spawned):
        assert time.monotonic() < deadline, [pid for pid in spawned if not gone(pid)]
        time.sleep(0.1)
