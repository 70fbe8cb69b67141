"""Background export jobs whose state lives in files, so every worker process can answer.

Rendering happens in worker threads, so the server's event loop (and /healthz, the
WebSocket, the page) keeps answering while a GIF renders; NumPy, Pillow's drawing and
encoding and ffmpeg (a separate process) spend most of their time outside the GIL.

A job is two files in the server's job directory: `<id>.job.json` (status, progress, detail,
times, the pid of the process rendering it), replaced atomically on every change, and the
output `<id>.<format>`. No user text reaches a path; ids are uuid4 hex, checked before any
file is touched. `gradscape serve --workers N` makes one directory for all its workers
(prepare_export_root, passed on in EXPORT_DIR_ENV), so a job submitted to one worker is
polled, downloaded and deleted through any of them; an in-process app makes its own.

Lifecycle: a finished file stays downloadable (and resumable: Range requests) until it
expires `ttl` seconds after finishing or is DELETEd; a timer sweeps expired jobs every
SWEEP_SECONDS. DELETE of a job another process renders leaves `<id>.cancel`, which that
process's progress callback notices. A job whose rendering process died is reported as an
error. All jobs together stay within a disk budget (files plus a reservation per job in
progress). Directories of servers that were killed are removed when the next one starts.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import logging
import os
import re
import secrets
import shutil
import stat
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

try:  # POSIX: the active-jobs cap holds across worker processes
    import fcntl
except ImportError:  # pragma: no cover - Windows: one process, the thread lock suffices
    fcntl = None  # type: ignore[assignment]

from app.export.pipeline import FORMATS, download_name, run_export
from app.schemas import ExportJob, ExportRequest, ExportStatus

log = logging.getLogger(__name__)

# Exports are CPU-heavy and the machine is shared with the live page: one at a time,
# the rest wait in the queue ("queued").
DEFAULT_WORKERS = 1
# Finished files wait this long for their download before they are deleted.
DEFAULT_TTL_SECONDS = 15 * 60
# Queued + running jobs accepted at once, across all worker processes; more is a 429.
MAX_ACTIVE_JOBS = 8
# Disk set aside for all export files of one server (every worker together); more is a
# 507. GRADSCAPE_EXPORT_BUDGET (bytes) overrides it, e.g. for a small disk or a test.
DISK_BUDGET_BYTES = 2 * 1024**3
BUDGET_ENV = "GRADSCAPE_EXPORT_BUDGET"
# Counted for each queued or running job until its file is larger: sizes range from a
# few KB (CSV) to hundreds of MB (a long 1080p GIF) with the scene, so no estimate from
# the request is reliable; the render itself stops when the real total passes the budget.
RESERVE_BYTES = 64 * 1024**2
# How often the expiry sweep runs, and how often a process rewrites its jobs' files to
# show it still works on them; a job silent for STALE_SECONDS is taken as abandoned.
SWEEP_SECONDS = 30.0
HEARTBEAT_SECONDS = 5.0
STALE_SECONDS = 60.0
# Progress is written at most this often (a 2,000-frame GIF reports every frame).
_WRITE_SECONDS = 0.1

STOPPED = "the server process rendering it stopped"
_ID = re.compile(r"^[0-9a-f]{32}$")
_ACTIVE = ("queued", "running")
_STATUSES = (*_ACTIVE, "done", "error")
# The files of a job: its state, a cancel marker, its output, a state being written.
_JOB_FILE = re.compile(
    r"(?P<id>[0-9a-f]{32})\.(?P<kind>job\.json|cancel|" + "|".join(FORMATS) + ")"
    r"|\.(?P<tmp>[0-9a-f]{32})\.[0-9a-f]{8}\.tmp"
)

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
    """Whether a process with this id exists (signal 0 checks without sending anything).

    On Windows os.kill would stop the process instead: every pid counts as alive there,
    and a job whose process died is caught by its silence (STALE_SECONDS) alone.
    """
    if sys.platform == "win32":  # pragma: no cover
        return True
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


def budget_from_env() -> int:
    """DISK_BUDGET_BYTES, or the byte count in GRADSCAPE_EXPORT_BUDGET."""
    text = os.environ.get(BUDGET_ENV, "").strip()
    if not text:
        return DISK_BUDGET_BYTES
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"{BUDGET_ENV} must be a whole number of bytes, got {text!r}") from None
    if value < 0:
        raise ValueError(f"{BUDGET_ENV} must be at least 0 bytes, got {value}")
    return value


def valid_id(job_id: str) -> bool:
    """Whether `job_id` has the shape of an id we issue (32 hex digits): anything else is
    unknown before a path is ever built from it."""
    return _ID.fullmatch(job_id) is not None


def _size(size: int) -> str:
    """A byte count as people read it: 512 bytes, 40.2 KB, 1843.2 MB."""
    if size < 1024:
        return f"{size} bytes"
    if size < 1024**2:
        return f"{size / 1024:.1f} KB"
    return f"{size / 1024**2:.1f} MB"


class TooManyJobsError(RuntimeError):
    """Raised by submit() when MAX_ACTIVE_JOBS are queued or running (HTTP 429)."""


class DiskBudgetError(RuntimeError):
    """Raised by submit() when the export files would pass the disk budget (HTTP 507)."""


class _CancelledError(Exception):
    pass


class _OverBudgetError(Exception):
    pass


@dataclass
class Job:
    """One export as its `<id>.job.json` records it: what every worker process reads."""

    id: str
    format: str
    filename: str
    status: ExportStatus = "queued"
    progress: float = 0.0
    detail: str | None = None
    created: float = 0.0  # wall-clock seconds (time.time): shared between processes
    updated: float = 0.0
    finished: float | None = None
    owner: int = 0  # pid of the process rendering it

    @property
    def active(self) -> bool:
        return self.status in _ACTIVE

    def snapshot(self) -> ExportJob:
        return ExportJob(
            id=self.id,
            status=self.status,
            progress=round(self.progress, 4),
            detail=self.detail,
            filename=self.filename if self.status == "done" else None,
        )

    @classmethod
    def parse(cls, text: str) -> Job | None:
        """The job in a JSON file's text; None for anything malformed."""
        try:
            data = json.loads(text)
            job = cls(**data)
        except (ValueError, TypeError):
            return None
        if not valid_id(job.id) or job.format not in FORMATS or job.status not in _STATUSES:
            return None
        return job


@dataclass
class _Run:
    """A job this process renders: its request and what only this process needs."""

    job: Job
    request: ExportRequest
    cancel: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    written: float = 0.0  # monotonic time of the last write of its JSON


class ExportJobs:
    """The export jobs of one server, kept in its job directory.

    Several instances (one per worker process, or two in a test) may share a directory:
    each renders the jobs submitted to it and answers for all of them from the files.
    """

    def __init__(
        self,
        workers: int = DEFAULT_WORKERS,
        ttl: float = DEFAULT_TTL_SECONDS,
        max_active: int = MAX_ACTIVE_JOBS,
        *,
        budget: int | None = None,
        reserve: int = RESERVE_BYTES,
        directory: Path | None = None,
        sweep_every: float = SWEEP_SECONDS,
        stale_after: float = STALE_SECONDS,
    ) -> None:
        self.ttl = ttl
        self.max_active = max_active
        self.budget = budget_from_env() if budget is None else budget
        self.reserve = reserve
        self.stale_after = stale_after
        shared = directory or os.environ.get(EXPORT_DIR_ENV)
        # A directory of its own is removed at shutdown; a shared one outlives a worker.
        self._owns_directory = not shared
        self.directory = Path(shared) if shared else new_server_directory()
        self.directory.mkdir(mode=0o700, exist_ok=True)
        self._runs: dict[str, _Run] = {}
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="export")
        self._closed = False
        self._stop = threading.Event()
        self._sweep_every = sweep_every
        self._timer = threading.Thread(target=self._tick, name="export-sweep", daemon=True)
        self._timer.start()
        # A server stopped without a clean shutdown still removes its files at exit.
        atexit.register(self.shutdown)

    # --- paths ------------------------------------------------------------------------

    def _state(self, job_id: str) -> Path:
        return self.directory / f"{job_id}.job.json"

    def _marker(self, job_id: str) -> Path:
        return self.directory / f"{job_id}.cancel"

    def path(self, job: Job) -> Path:
        """The job's output file (it exists once the job is done)."""
        return self.directory / f"{job.id}.{job.format}"

    # --- the public operations ------------------------------------------------------------

    def submit(self, request: ExportRequest) -> Job:
        """Queue an export; TooManyJobsError (cap) or DiskBudgetError (budget) if full."""
        with self._directory_lock():
            if self._closed:
                raise TooManyJobsError("the server is shutting down")
            jobs = self._read_all()
            active = sum(job.active for job in jobs)
            if active >= self.max_active:
                raise TooManyJobsError(
                    f"too many exports in progress ({active}, at most {self.max_active}); "
                    "wait for one to finish"
                )
            used = self.disk_usage(jobs)
            if used + self.reserve > self.budget:
                raise DiskBudgetError(
                    f"the export files use {_size(used)} of the "
                    f"{_size(self.budget)} set aside for them (a new export needs "
                    f"{_size(self.reserve)}); download or delete finished exports, "
                    "or wait for them to expire"
                )
            now = time.time()
            job = Job(
                id=uuid.uuid4().hex,
                format=request.format,
                filename=download_name(request),
                created=now,
                updated=now,
                owner=os.getpid(),
            )
            run = _Run(job=job, request=request)
            self._write(job)
            run.written = time.monotonic()
        with self._lock:
            self._runs[job.id] = run
        self._pool.submit(self._work, run)
        return Job(**asdict(job))

    def get(self, job_id: str) -> Job | None:
        """The job as its file says, or None (unknown, malformed id, deleted, expired).

        A queued or running job whose process is gone, or silent for `stale_after`
        seconds, is reported as failed.
        """
        if not valid_id(job_id) or self._marker(job_id).exists():
            return None
        job = self._read(self._state(job_id))
        if job is None:
            return None
        if job.finished is not None and time.time() - job.finished > self.ttl:
            return None  # expired; the next sweep deletes its files
        if job.active and self._read_status(job) == "error":
            job.status, job.detail = "error", STOPPED
        return job

    def discard(self, job_id: str) -> bool:
        """Cancel a job (wherever it renders) or forget a finished one; delete its files.

        False if there is no such job.
        """
        job = self.get(job_id)
        if job is None:
            return False
        with self._lock:
            run = self._runs.get(job_id)
        if run is not None:
            run.cancel.set()
        if job.active:
            # The rendering process may be another one: it notices this file, stops, and
            # removes the rest (a JSON it rewrites meanwhile included).
            self._marker(job_id).touch()
        self._remove(job)
        if not job.active:
            self._marker(job_id).unlink(missing_ok=True)
        return True

    def disk_usage(self, jobs: list[Job] | None = None) -> int:
        """Bytes the directory holds, plus the reservation of each job in progress that
        has not yet written as much."""
        sizes: dict[str, int] = {}
        total = 0
        for entry in self._entries():
            try:
                size = entry.stat().st_size
            except FileNotFoundError:
                continue
            sizes[entry.name] = size
            total += size
        for job in self._read_all() if jobs is None else jobs:
            if job.active:
                total += max(0, self.reserve - sizes.get(f"{job.id}.{job.format}", 0))
        return total

    def sweep(self) -> None:
        """Delete expired jobs' files, mark jobs of stopped processes as failed, and
        remove leftovers (cancel markers, half-written state) nobody will read.

        Only names this module writes are touched (`<id>.job.json`, `<id>.<format>`,
        `<id>.cancel`, `.<id>.<random>.tmp`): anything else in the directory is left.
        """
        now = time.time()
        for entry in self._entries():
            match = _JOB_FILE.fullmatch(entry.name)
            if match is None:
                continue
            job_id, kind = match["id"] or match["tmp"], match["kind"] or "tmp"
            try:
                age = now - entry.stat().st_mtime
            except FileNotFoundError:
                continue
            if kind == "job.json":
                job = self._read(entry)
                if job is None:
                    if age > self.stale_after:
                        entry.unlink(missing_ok=True)
                elif job.finished is not None and now - job.finished > self.ttl:
                    self._remove(job)
                elif job.active and job.status != self._read_status(job):
                    self._fail(job)
            elif age > self.stale_after and (
                kind in ("cancel", "tmp") or not self._state(job_id).exists()
            ):
                entry.unlink(missing_ok=True)  # a marker, temp file or output of no job

    def shutdown(self) -> None:
        """Cancel this process's jobs, wait for its workers, remove a private directory."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            runs = list(self._runs.values())
        self._stop.set()
        for run in runs:
            run.cancel.set()
        self._pool.shutdown(wait=True, cancel_futures=True)
        for run in runs:
            self._remove(run.job)  # in a shared directory, other workers keep answering
        if self._owns_directory:
            shutil.rmtree(self.directory, ignore_errors=True)
        atexit.unregister(self.shutdown)

    # --- files ----------------------------------------------------------------------------

    def _entries(self) -> list[Path]:
        try:
            return [entry for entry in self.directory.iterdir() if not entry.is_symlink()]
        except FileNotFoundError:
            return []

    @staticmethod
    def _read(path: Path) -> Job | None:
        try:
            return Job.parse(path.read_text(encoding="utf-8"))
        except (FileNotFoundError, UnicodeDecodeError):
            return None

    def _read_all(self) -> list[Job]:
        jobs = []
        for entry in self.directory.glob("*.job.json"):
            job = self._read(entry)
            if job is not None and not self._marker(job.id).exists():
                if job.active and self._read_status(job) == "error":
                    job.status, job.detail = "error", STOPPED
                jobs.append(job)
        return jobs

    def _read_status(self, job: Job) -> ExportStatus:
        """The status a reader reports: "error" for a job whose process is gone."""
        if job.active and (
            not pid_alive(job.owner) or time.time() - job.updated > self.stale_after
        ):
            return "error"
        return job.status

    def _write(self, job: Job) -> None:
        """Replace the job's JSON atomically (readers see the old or the new, whole)."""
        job.updated = time.time()
        temporary = self.directory / f".{job.id}.{secrets.token_hex(4)}.tmp"
        try:
            temporary.write_text(json.dumps(asdict(job)), encoding="utf-8")
            os.replace(temporary, self._state(job.id))
        finally:
            temporary.unlink(missing_ok=True)

    def _remove(self, job: Job) -> None:
        self._state(job.id).unlink(missing_ok=True)
        self.path(job).unlink(missing_ok=True)

    def _fail(self, job: Job) -> None:
        """Record a job whose process stopped as failed, so it expires like any other."""
        job.status, job.detail, job.finished = "error", STOPPED, time.time()
        self.path(job).unlink(missing_ok=True)
        self._write(job)

    @contextlib.contextmanager
    def _directory_lock(self) -> Iterator[None]:
        """Held while counting jobs and adding one, in this process and across processes."""
        with self._lock:
            if fcntl is None:  # pragma: no cover
                yield
                return
            with open(self.directory / ".lock", "a+b") as handle:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
                try:
                    yield
                finally:
                    fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

    # --- the worker and the timer ---------------------------------------------------------

    def _cancelled(self, run: _Run) -> bool:
        return run.cancel.is_set() or self._marker(run.job.id).exists()

    def _update(self, run: _Run, **changes: Any) -> None:
        with run.lock:
            for name, value in changes.items():
                setattr(run.job, name, value)
            if not self._marker(run.job.id).exists():
                self._write(run.job)
                run.written = time.monotonic()

    def _forget(self, run: _Run) -> None:
        """Remove a cancelled job's files, its marker last (a rewrite may race a DELETE)."""
        with self._lock:
            self._runs.pop(run.job.id, None)
        self._remove(run.job)
        self._marker(run.job.id).unlink(missing_ok=True)

    def _check_budget(self, run: _Run) -> None:
        try:
            size = self.path(run.job).stat().st_size
        except FileNotFoundError:
            return
        if size <= self.reserve:
            return  # within what submit() set aside for it
        used = self.disk_usage()
        if used > self.budget:
            raise _OverBudgetError(
                f"the export would pass the disk space set aside for exports "
                f"({_size(used)} of {_size(self.budget)}); download or delete "
                "finished exports, or export fewer frames or a smaller size"
            )

    def _work(self, run: _Run) -> None:
        try:
            self._render(run)
        except OSError:  # its state could not be written (the disk is full, say)
            log.exception("export %s: its state could not be recorded", run.job.id)
        finally:
            # Never heartbeat a job nobody renders: silent, it is reported as stopped.
            with self._lock:
                self._runs.pop(run.job.id, None)

    def _render(self, run: _Run) -> None:
        job = run.job
        if self._cancelled(run):
            self._forget(run)
            return
        self._update(run, status="running")

        def progress(fraction: float) -> None:
            if self._cancelled(run):
                raise _CancelledError
            run.job.progress = fraction
            if time.monotonic() - run.written >= _WRITE_SECONDS:
                self._check_budget(run)
                self._update(run)

        status: ExportStatus = "error"
        detail: str | None = None
        try:
            run_export(run.request, self.path(job), progress)
            self._check_budget(run)
        except _CancelledError:
            self._forget(run)
            return
        except (ValueError, _OverBudgetError) as error:
            detail = str(error)
        except Exception as error:  # a bug must not kill the worker or leave a half file
            log.exception("export %s failed", job.id)
            detail = f"export failed: {type(error).__name__}: {error}"
        else:
            status = "done"
        if status != "done":
            self.path(job).unlink(missing_ok=True)
        self._update(
            run,
            status=status,
            detail=detail,
            progress=1.0 if status == "done" else job.progress,
            finished=time.time(),
        )
        if self._cancelled(run):
            self._forget(run)  # DELETEd while it finished

    def _tick(self) -> None:
        """The timer: keep this process's jobs fresh, sweep every `sweep_every` s."""
        wait = min(HEARTBEAT_SECONDS, self._sweep_every)
        last_sweep = time.monotonic()
        while not self._stop.wait(wait):
            try:  # a full disk or a removed directory must never stop the timer
                with self._lock:
                    runs = list(self._runs.values())
                for run in runs:
                    if run.job.active and time.monotonic() - run.written >= HEARTBEAT_SECONDS:
                        self._update(run)
                if time.monotonic() - last_sweep >= self._sweep_every:
                    last_sweep = time.monotonic()
                    self.sweep()
            except OSError:
                log.exception("export timer: heartbeat or sweep failed")
