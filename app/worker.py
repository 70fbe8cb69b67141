"""One `gradscape serve --workers N` worker process: uvicorn's, made to stop with its server.

A server killed with SIGKILL (an impatient `kill -9`, the OOM killer) cannot stop its
workers, and they would go on serving the port with nobody to replace or stop them. On
Linux each worker asks the kernel for SIGTERM when its parent dies (prctl's
PR_SET_PDEATHSIG) and then shuts down as on Ctrl-C. Its own module, so `gradscape list`
and `gradscape export` do not import uvicorn, and so the spawned interpreter can unpickle
the class.
"""

from __future__ import annotations

import os
import signal
import socket
import sys
from typing import Any

from uvicorn.supervisors.multiprocess import Process

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


class Worker(Process):
    """uvicorn's worker process (health pings, `Server.run` on the sockets given) plus the
    parent-death signal."""

    def __init__(self, config: Any, sockets: list[socket.socket], *, parent: int) -> None:
        self.parent = parent
        super().__init__(config, sockets)

    def target(self, sockets: list[socket.socket] | None = None) -> Any:
        die_with_parent(self.parent)
        return super().target(sockets)


def die_with_parent(parent: int) -> None:
    """In a worker: SIGTERM when the process `parent` dies (Linux; elsewhere nothing)."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent:  # the parent died before the call: no signal will come
        os.kill(os.getpid(), signal.SIGTERM)
