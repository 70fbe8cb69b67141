"""Starting and stopping a real `gradscape serve` process in tests (not a test module)."""

from __future__ import annotations

import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]


def wait_until_healthy(
    process: subprocess.Popen, url: str, output: Callable[[], str], timeout: float = 60.0
) -> None:
    """Return once ``url``/healthz answers 200; fail with the server's ``output()`` if the
    process exits first, or after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        assert process.poll() is None, output()
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, f"{url} did not answer /healthz within {timeout} s"
        time.sleep(0.1)


def stop(process: subprocess.Popen) -> None:
    """SIGTERM, then SIGKILL if the server has not exited within 20 s."""
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@dataclass
class Served:
    """A running `gradscape serve` process: its first line of output, URL and port."""

    process: subprocess.Popen[str]
    first_line: str
    url: str
    port: int


def launch(
    *args: str,
    env: Mapping[str, str] | None = None,
    cwd: Path = ROOT,
    drain: bool = False,
) -> Served:
    """`python -m app.cli serve --port 0 *args` from `cwd` (the project root, or another
    checkout a benchmark compares with), once /healthz answers. The caller stops it
    (`stop`): tests that kill a server use this, the others `serving`; so do benchmarks.
    The kernel picks the port and the server's first line names it. `drain` reads the
    rest of its log in a thread, for servers that print a lot or run long."""
    process = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--port", "0", *args],
        cwd=cwd,
        env=None if env is None else dict(env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    match = re.search(r"(http://127\.0\.0\.1:(\d+))/", line)
    if not match:
        stop(process)
        raise AssertionError(line + process.stdout.read())
    served = Served(process, line, match.group(1), int(match.group(2)))
    wait_until_healthy(process, served.url, process.stdout.read)
    if drain:
        threading.Thread(target=process.stdout.read, daemon=True).start()
    return served


@contextmanager
def serving(
    *args: str, env: Mapping[str, str] | None = None, drain: bool = False
) -> Iterator[Served]:
    """`launch`, stopped (and its output closed) on exit."""
    served = launch(*args, env=env, drain=drain)
    process = served.process
    try:
        yield served
    finally:
        stop(process)
        if process.stdout is not None:
            process.stdout.close()
