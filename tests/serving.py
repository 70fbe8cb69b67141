"""Starting and stopping a real `gradscape serve` process in tests (not a test module)."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable

import httpx


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
