"""Export jobs shared by several processes through one job directory.

`gradscape serve --workers N` runs N processes on one socket; any of them may answer a
poll, a download or a DELETE. Here two job tables on one directory (in one process, then
two real `gradscape serve` processes given the same GRADSCAPE_EXPORT_DIR) stand for two
workers: a job submitted through one is polled, downloaded, cancelled and deleted through
the other, and a job whose process was killed is reported as failed, not running forever.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

import app.export.jobs as jobs_module
from app.export.jobs import (
    EXPORT_DIR_ENV,
    STOPPED,
    DiskBudgetError,
    ExportJobs,
    Job,
    TooManyJobsError,
    export_parent,
    new_server_directory,
)
from app.main import create_app
from app.schemas import ExportRequest
from tests.app.clients import LocalClient
from tests.app.scenes import SMALL_EXPORT
from tests.serving import launch, serving, stop

ROOT = Path(__file__).resolve().parents[2]
POLL_SECONDS = 120  # a guard against a hang, not a speed assertion
CSV = ExportRequest.model_validate({**SMALL_EXPORT, "format": "csv"})
# Long enough to still be rendering when the test acts on it (minutes at full size).
LONG_GIF = {**SMALL_EXPORT, "steps": 2000, "frames": 2000, "width": 1920, "height": 1080}


@pytest.fixture
def shared() -> Iterator[Path]:
    """One job directory, as `gradscape serve --workers N` makes for its workers."""
    directory = new_server_directory()
    yield directory
    shutil.rmtree(directory, ignore_errors=True)


def files(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if not p.name.startswith("."))


def until(predicate: Any, what: str) -> None:
    deadline = time.monotonic() + POLL_SECONDS
    while not predicate():
        assert time.monotonic() < deadline, f"{what} within {POLL_SECONDS}s"
        time.sleep(0.02)


def finished(jobs: ExportJobs, job_id: str) -> Job:
    def done() -> bool:
        job = jobs.get(job_id)
        return job is not None and not job.active

    until(done, f"export {job_id} finished")
    job = jobs.get(job_id)
    assert job is not None
    return job


@pytest.fixture
def endless(monkeypatch: pytest.MonkeyPatch) -> Iterator[threading.Event]:
    """Renders that report progress until they are cancelled (or the test ends)."""
    release = threading.Event()

    def run_export(request: ExportRequest, path: Path, progress: Any) -> Path:
        fraction = 0.0
        while not release.is_set():
            progress(fraction)  # raises once the job is cancelled, from any process
            fraction = min(0.9, fraction + 0.01)
            time.sleep(0.01)
        Path(path).write_bytes(b"done")
        return path

    monkeypatch.setattr(jobs_module, "run_export", run_export)
    yield release
    release.set()


# --- two job tables on one directory -------------------------------------------------------


def test_a_job_submitted_to_one_is_answered_by_the_other(shared: Path) -> None:
    first, second = ExportJobs(directory=shared), ExportJobs(directory=shared)
    try:
        job = first.submit(CSV)
        done = finished(second, job.id)
        assert done.status == "done" and done.owner == os.getpid()
        assert second.path(done).read_bytes().startswith(b"step,optimizer,x,y,loss")
        assert second.discard(job.id)
        assert first.get(job.id) is None and second.get(job.id) is None
        assert files(shared) == []
    finally:
        first.shutdown()
        second.shutdown()
    assert shared.is_dir()  # a shared directory outlives its workers' tables


def test_a_delete_through_the_other_cancels_the_render(
    shared: Path, endless: threading.Event
) -> None:
    first, second = ExportJobs(directory=shared), ExportJobs(directory=shared)
    try:
        job = first.submit(CSV)
        until(lambda: (second.get(job.id) or job).status == "running", "running")
        assert second.discard(job.id)
        assert second.get(job.id) is None and first.get(job.id) is None
        # The rendering table notices the marker, stops, and leaves nothing behind.
        until(lambda: not first._runs, "the render stopped")
        until(lambda: files(shared) == [], "the cancelled job's files removed")
        # Its worker is free again: the next job renders to the end.
        endless.set()
        assert finished(second, first.submit(CSV).id).status == "done"
    finally:
        endless.set()
        first.shutdown()
        second.shutdown()


def test_the_active_cap_counts_the_jobs_of_every_table(
    shared: Path, endless: threading.Event
) -> None:
    first = ExportJobs(directory=shared, max_active=2)
    second = ExportJobs(directory=shared, max_active=2)
    try:
        first.submit(CSV)
        second.submit(CSV)
        with pytest.raises(TooManyJobsError, match=r"\(2, at most 2\)"):
            first.submit(CSV)
        with pytest.raises(TooManyJobsError):
            second.submit(CSV)
    finally:
        endless.set()
        first.shutdown()
        second.shutdown()


def test_the_disk_budget_counts_the_files_of_every_table(shared: Path) -> None:
    first = ExportJobs(directory=shared, budget=50_000, reserve=1_000)
    second = ExportJobs(directory=shared, budget=50_000, reserve=1_000)
    try:
        job = finished(second, first.submit(CSV).id)
        first.path(job).write_bytes(b"x" * 49_500)  # as if that export were large
        with pytest.raises(DiskBudgetError, match=r"use 48\.\d KB of the 48\.8 KB"):
            second.submit(CSV)
        assert second.discard(job.id)
        assert finished(first, second.submit(CSV).id).status == "done"
    finally:
        first.shutdown()
        second.shutdown()


def test_two_apps_on_one_directory_over_http(shared: Path) -> None:
    one, other = create_app(), create_app()
    one.state.export_jobs = ExportJobs(directory=shared)
    other.state.export_jobs = ExportJobs(directory=shared)
    with LocalClient(one) as a, LocalClient(other) as b:
        job = a.post("/api/exports", json={**SMALL_EXPORT, "format": "png"}).json()
        until(lambda: b.get(f"/api/exports/{job['id']}").json()["status"] == "done", "done")
        picture = b.get(f"/api/exports/{job['id']}/file")
        assert picture.status_code == 200 and picture.content.startswith(b"\x89PNG")
        assert a.get(f"/api/exports/{job['id']}/file").content == picture.content
        assert b.delete(f"/api/exports/{job['id']}").status_code == 204
        assert a.get(f"/api/exports/{job['id']}").status_code == 404
        assert a.delete(f"/api/exports/{job['id']}").status_code == 404


# --- two real server processes -------------------------------------------------------------


def serve(directory: Path) -> tuple[subprocess.Popen, str]:
    served = launch(env={**os.environ, EXPORT_DIR_ENV: str(directory)})
    return served.process, served.url


@pytest.fixture
def servers(shared: Path) -> Iterator[list[tuple[subprocess.Popen, httpx.Client]]]:
    started = []
    try:
        for _ in range(2):
            process, url = serve(shared)
            started.append((process, httpx.Client(base_url=url, timeout=30)))
        yield started
    finally:
        for process, client in started:
            client.close()
            if process.poll() is None:
                stop(process)
            if process.stdout is not None:
                process.stdout.close()


def status(client: httpx.Client, job_id: str) -> dict[str, Any]:
    reply = client.get(f"/api/exports/{job_id}")
    assert reply.status_code == 200, reply.text
    return reply.json()


def test_two_servers_share_jobs_through_the_directory(
    servers: list[tuple[subprocess.Popen, httpx.Client]], shared: Path
) -> None:
    (one_process, one), (_, other) = servers
    job = one.post("/api/exports", json={**SMALL_EXPORT, "format": "html"}).json()
    until(lambda: status(other, job["id"])["status"] == "done", "done, seen by the other")
    assert Job.parse((shared / f"{job['id']}.job.json").read_text())
    state = Job.parse((shared / f"{job['id']}.job.json").read_text())
    assert state is not None and state.owner == one_process.pid
    whole = other.get(f"/api/exports/{job['id']}/file", headers={"accept-encoding": "identity"})
    assert whole.status_code == 200 and b"Plotly.addFrames" in whole.content
    rest = one.get(
        f"/api/exports/{job['id']}/file",
        headers={"accept-encoding": "identity", "range": "bytes=1000-"},
    )
    assert rest.status_code == 206 and whole.content[:1000] + rest.content == whole.content
    assert other.delete(f"/api/exports/{job['id']}").status_code == 204
    for client in (one, other):
        assert client.get(f"/api/exports/{job['id']}").status_code == 404
    assert files(shared) == []


def test_a_delete_on_one_server_stops_the_render_on_the_other(
    servers: list[tuple[subprocess.Popen, httpx.Client]], shared: Path
) -> None:
    (_, one), (_, other) = servers
    job = one.post("/api/exports", json={**LONG_GIF, "format": "gif"}).json()
    until(lambda: status(other, job["id"])["status"] == "running", "running")
    assert other.delete(f"/api/exports/{job['id']}").status_code == 204
    # The first server's render notices the marker, stops, and removes every file of it.
    until(lambda: not list(shared.glob(f"{job['id']}*")), "the cancelled render cleaned up")
    assert one.get(f"/api/exports/{job['id']}").status_code == 404
    # Its export worker is free again: a small job renders to the end.
    small = one.post("/api/exports", json={**SMALL_EXPORT, "format": "csv"}).json()
    until(lambda: status(other, small["id"])["status"] == "done", "the next export done")


def test_a_job_of_a_killed_server_is_reported_failed_by_the_other(
    servers: list[tuple[subprocess.Popen, httpx.Client]], shared: Path
) -> None:
    (one_process, one), (_, other) = servers
    job = one.post("/api/exports", json={**LONG_GIF, "format": "gif"}).json()
    until(lambda: status(other, job["id"])["status"] == "running", "running")
    one_process.send_signal(signal.SIGKILL)
    one_process.wait()
    failed = status(other, job["id"])
    assert failed["status"] == "error" and failed["detail"] == STOPPED
    file = other.get(f"/api/exports/{job['id']}/file")
    assert file.status_code == 409 and STOPPED in file.json()["detail"]
    # The killed server's slot is free: its job no longer counts as in progress.
    assert other.post("/api/exports", json={**SMALL_EXPORT, "format": "csv"}).status_code == 202


# --- gradscape serve --workers 2 -----------------------------------------------------------


def test_serve_with_two_workers_answers_any_job_from_either() -> None:
    with serving("--workers", "2") as served:
        process, url = served.process, served.url
        (directory,) = export_parent().glob(f"{process.pid}-*")  # made by the parent

        def fresh(method: str, path: str, **kwargs: Any) -> httpx.Response:
            # A new connection each time: the kernel spreads them over the workers.
            return httpx.request(method, url + path, timeout=30, **kwargs)

        def done(job_id: str) -> bool:
            return fresh("GET", f"/api/exports/{job_id}").json()["status"] == "done"

        ids = []
        for _ in range(12):  # one after another: the active-jobs cap is 8
            job = fresh("POST", "/api/exports", json={**SMALL_EXPORT, "format": "csv"}).json()
            ids.append(job["id"])
            until(lambda: done(ids[-1]), "done")
        owners = set()
        for job_id in ids:
            state = Job.parse((directory / f"{job_id}.job.json").read_text())
            assert state is not None
            owners.add(state.owner)
        assert len(owners) == 2 and process.pid not in owners  # both workers rendered some
        for job_id in ids:
            for _ in range(3):
                assert fresh("GET", f"/api/exports/{job_id}").json()["status"] == "done"
            download = fresh("GET", f"/api/exports/{job_id}/file")
            assert download.status_code == 200
            assert download.text.startswith("step,optimizer,x,y,loss")
            assert fresh("DELETE", f"/api/exports/{job_id}").status_code == 204
            assert fresh("GET", f"/api/exports/{job_id}").status_code == 404
    assert not directory.exists()  # the parent removed it at exit
