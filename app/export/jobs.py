"""Background export jobs: a small thread pool off the event loop, progress, temp files.

Rendering happens in worker threads, so the server's event loop (and /healthz, the
WebSocket, the page) keeps answering while a GIF renders; NumPy, Pillow's drawing and
encoding and ffmpeg (a separate process) spend most of their time outside the GIL.
Files live in one private temporary directory named by the server (`<job id>.<format>`;
no user text reaches a path). A file is deleted right after its download, when its job
expires (`ttl` seconds after finishing), when a job is cancelled, and at shutdown.
"""

from __future__ import annotations

import atexit
import logging
import os
import re
import secrets
import shutil
import stat
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from app.export.pipeline import download_name, run_export
from app.schemas import ExportJob, ExportRequest

log = logging.getLogger(__name__)

# Exports are CPU-heavy and the machine is shared with the live page: one at a time,
# the rest wait in the queue ("queued").
DEFAULT_WORKERS = 1
# Finished files wait this long for their download before they are deleted.
DEFAULT_TTL_SECONDS = 15 * 60
# Queued + running jobs accepted at once; more is a 429, not an ever-growing queue.
MAX_ACTIVE_JOBS = 8


# `gradscape serve --workers N` puts the job directory shared by its workers here.
EXPORT_DIR_ENV = "GRADSCAPE_EXPORT_DIR"
# One subdirectory per server under this parent: `<server pid>-<random>`.
_SERVER_DIR = re.compile(r"^(?P<pid>[0-9]{1,10})-[0-9a-f]{16}$")


def export_parent() -> Path:
    """The fixed parent of every server's job directory: `<tempdir>/gradscape-exports-<uid>`.

    One parent per user, created private (0700): another user of a shared machine cannot
    plant a symlink or a directory we would then write into or delete from.
    """
    uid = os.getuid() if hasattr(os, "getuid") else 0
    parent = Path(tempfile.gettempdir()) / f"gradscape-exports-{uid}"
    try:
        parent.mkdir(mode=0o700)
    except FileExistsError:
        info = parent.lstat()
        if not stat.S_ISDIR(info.st_mode) or (hasattr(os, "getuid") and info.st_uid != uid):
            raise RuntimeError(
                f"{parent} is not a directory of this user; remove it or set TMPDIR"
            ) from None
    return parent


def pid_alive(pid: int) -> bool:
    """Whether a process with this id exists (signal 0 checks without sending anything)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    except OSError:
        return False
    return True


def remove_stale_directories(parent: Path) -> list[Path]:
    """Delete the job directories of servers whose process is gone (killed, crashed).

    Only entries named like a server directory, directly under `parent`, are touched; a
    symlink among them is unlinked, never followed.
    """
    removed = []
    for entry in parent.iterdir():
        match = _SERVER_DIR.match(entry.name)
        if match is None or pid_alive(int(match["pid"])):
            continue
        if entry.is_symlink() or not entry.is_dir():
            entry.unlink(missing_ok=True)
        else:
            shutil.rmtree(entry, ignore_errors=True)
        removed.append(entry)
    if removed:
        log.info("removed %d export directories of stopped servers", len(removed))
    return removed


def new_server_directory() -> Path:
    """A fresh private job directory for this process, after removing dead servers' ones."""
    parent = export_parent()
    remove_stale_directories(parent)
    path = parent / f"{os.getpid()}-{secrets.token_hex(8)}"
    path.mkdir(mode=0o700)
    return path


def prepare_export_root() -> Path:
    """The job directory shared by the worker processes of one `gradscape serve`.

    Called once in the parent process before the workers start (it passes the path on in
    EXPORT_DIR_ENV); removed when that process exits.
    """
    path = new_server_directory()
    owner = os.getpid()

    def remove() -> None:
        if os.getpid() == owner:  # not in a forked child that inherited the hook
            shutil.rmtree(path, ignore_errors=True)

    atexit.register(remove)
    return path


class TooManyJobsError(RuntimeError):
    """Raised by submit() when MAX_ACTIVE_JOBS are queued or running."""


class _CancelledError(Exception):
    pass


@dataclass
class Job:
    id: str
    request: ExportRequest
    path: Path
    filename: str
    status: str = "queued"
    progress: float = 0.0
    detail: str | None = None
    finished_at: float | None = None
    cancel: threading.Event = field(default_factory=threading.Event)

    def snapshot(self) -> ExportJob:
        return ExportJob(
            id=self.id,
            status=self.status,  # type: ignore[arg-type]
            progress=round(self.progress, 4),
            detail=self.detail,
            filename=self.filename if self.status == "done" else None,
        )


class ExportJobs:
    """The job table of one application."""

    def __init__(
        self,
        workers: int = DEFAULT_WORKERS,
        ttl: float = DEFAULT_TTL_SECONDS,
        max_active: int = MAX_ACTIVE_JOBS,
    ) -> None:
        self.ttl = ttl
        self.max_active = max_active
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="export")
        self.directory = Path(tempfile.mkdtemp(prefix="gradscape-exports-"))
        self._closed = False
        # A server killed without a clean shutdown still removes its files at exit.
        atexit.register(self.shutdown)

    def submit(self, request: ExportRequest) -> Job:
        """Queue an export; TooManyJobsError if the queue is full."""
        self.sweep()
        with self._lock:
            if self._closed:
                raise TooManyJobsError("the server is shutting down")
            active = sum(job.status in ("queued", "running") for job in self._jobs.values())
            if active >= self.max_active:
                raise TooManyJobsError(
                    f"too many exports in progress ({active}, at most {self.max_active}); "
                    "wait for one to finish"
                )
            job_id = uuid.uuid4().hex
            job = Job(
                id=job_id,
                request=request,
                path=self.directory / f"{job_id}.{request.format}",
                filename=download_name(request),
            )
            self._jobs[job_id] = job
        self._pool.submit(self._work, job)
        return job

    def get(self, job_id: str) -> Job | None:
        self.sweep()
        with self._lock:
            return self._jobs.get(job_id)

    def discard(self, job_id: str) -> None:
        """Forget a job: cancel it if it still runs, delete its file."""
        with self._lock:
            job = self._jobs.pop(job_id, None)
        if job is not None:
            job.cancel.set()
            job.path.unlink(missing_ok=True)

    def sweep(self) -> None:
        """Drop finished jobs older than the ttl, with their files."""
        now = time.monotonic()
        with self._lock:
            expired = [
                job_id
                for job_id, job in self._jobs.items()
                if job.finished_at is not None and now - job.finished_at > self.ttl
            ]
        for job_id in expired:
            self.discard(job_id)

    def shutdown(self) -> None:
        """Cancel everything, wait for the workers, remove the directory."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            jobs = list(self._jobs.values())
        for job in jobs:
            job.cancel.set()
        self._pool.shutdown(wait=True, cancel_futures=True)
        shutil.rmtree(self.directory, ignore_errors=True)
        atexit.unregister(self.shutdown)

    def _work(self, job: Job) -> None:
        if job.cancel.is_set():
            return
        job.status = "running"

        def progress(fraction: float) -> None:
            if job.cancel.is_set():
                raise _CancelledError
            job.progress = fraction

        try:
            run_export(job.request, job.path, progress)
        except _CancelledError:
            job.path.unlink(missing_ok=True)
            job.status, job.detail = "error", "cancelled"
        except ValueError as error:
            job.path.unlink(missing_ok=True)
            job.status, job.detail = "error", str(error)
        except Exception as error:  # a bug must not kill the worker or leave a half file
            log.exception("export %s failed", job.id)
            job.path.unlink(missing_ok=True)
            job.status, job.detail = "error", f"export failed: {type(error).__name__}: {error}"
        else:
            job.progress = 1.0
            job.status = "done"
        finally:
            job.finished_at = time.monotonic()
            if job.cancel.is_set():
                # Discarded while running: nobody will download this file.
                job.path.unlink(missing_ok=True)
