"""Export files over their life: downloads retried and resumed, expiry on a timer, a disk
budget, job directories of killed servers removed at start, and `Allow` on 405s.

In-process unless the behaviour depends on a real server (a download cut mid-transfer,
a server killed with SIGKILL).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

import app.export.jobs as jobs_module
from app.export.jobs import (
    BUDGET_ENV,
    STOPPED,
    ExportJobs,
    Job,
    budget_from_env,
    export_parent,
    remove_stale_directories,
)
from app.main import create_app
from app.schemas import ExportRequest
from tests.app.clients import LocalClient
from tests.app.scenes import SMALL_EXPORT
from tests.serving import launch, serving, stop

ROOT = Path(__file__).resolve().parents[2]
# A guard against a hang, not a speed assertion.
POLL_SECONDS = 120
# The HTML handout inlines Plotly.js: over a megabyte, so a download can be cut midway.
HANDOUT = {**SMALL_EXPORT, "format": "html"}
IDENTITY = {"accept-encoding": "identity"}  # byte ranges of the file itself


def app_with(jobs: ExportJobs) -> FastAPI:
    """An app whose export table is `jobs` (the lifespan keeps a table it finds)."""
    application = create_app()
    application.state.export_jobs = jobs
    return application


def wait_done(client: TestClient | httpx.Client, job_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + POLL_SECONDS
    while time.monotonic() < deadline:
        job = client.get(f"/api/exports/{job_id}").json()
        if job["status"] in ("done", "error"):
            return job
        time.sleep(0.02)
    raise AssertionError(f"export {job_id} did not finish within {POLL_SECONDS}s")


def files(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if not p.name.startswith("."))


@pytest.fixture
def client() -> Iterator[TestClient]:
    with LocalClient(create_app()) as test_client:
        yield test_client


# --- downloads: retried, resumed -----------------------------------------------------------


def handout(client: TestClient) -> tuple[str, bytes]:
    job = client.post("/api/exports", json=HANDOUT).json()
    assert wait_done(client, job["id"])["status"] == "done"
    url = f"/api/exports/{job['id']}/file"
    whole = client.get(url, headers=IDENTITY)
    assert whole.status_code == 200 and len(whole.content) > 1_000_000
    return url, whole.content


def test_a_range_resumes_the_download(client: TestClient) -> None:
    url, whole = handout(client)
    rest = client.get(url, headers={**IDENTITY, "range": "bytes=1000-"})
    assert rest.status_code == 206
    assert rest.headers["content-range"] == f"bytes 1000-{len(whole) - 1}/{len(whole)}"
    assert whole[:1000] + rest.content == whole
    # With the ETag of the first reply, If-Range still resumes; with another, the whole file.
    etag = client.get(url, headers=IDENTITY).headers["etag"]
    same = client.get(url, headers={**IDENTITY, "range": "bytes=1000-", "if-range": etag})
    assert same.status_code == 206 and same.content == whole[1000:]
    changed = {**IDENTITY, "range": "bytes=1000-", "if-range": '"another"'}
    full = client.get(url, headers=changed)
    assert full.status_code == 200 and full.content == whole


def test_ranges_past_the_end_and_several_ranges(client: TestClient) -> None:
    url, whole = handout(client)
    past = client.get(url, headers={**IDENTITY, "range": f"bytes={len(whole)}-"})
    assert past.status_code == 416
    assert past.headers["content-range"] == f"bytes */{len(whole)}"
    # Several ranges: one multipart/byteranges reply, each part with its Content-Range.
    several = client.get(url, headers={**IDENTITY, "range": "bytes=0-9,100-109"})
    assert several.status_code == 206
    assert several.headers["content-type"].startswith("multipart/byteranges; boundary=")
    body = several.content
    assert b"Content-Range: bytes 0-9/" in body and whole[:10] in body
    assert b"Content-Range: bytes 100-109/" in body and whole[100:110] in body
    # Overlapping ranges are merged; over 100 ranges get the whole file; a Range in another
    # unit or not a range is ignored (RFC 9110 §14.2): the whole file.
    merged = client.get(url, headers={**IDENTITY, "range": "bytes=0-9,5-19"})
    assert merged.status_code == 206 and merged.content == whole[:20]
    many = ",".join(f"{i * 10}-{i * 10 + 1}" for i in range(101))
    assert client.get(url, headers={**IDENTITY, "range": f"bytes={many}"}).content == whole
    for nonsense in ("items=0-9", "bytes=5-2", "bytes", "bytes=abc"):
        ignored = client.get(url, headers={**IDENTITY, "range": nonsense})
        assert ignored.status_code == 200 and ignored.content == whole, nonsense


def test_a_206_is_never_compressed(client: TestClient) -> None:
    url, whole = handout(client)
    part = client.get(url, headers={"range": "bytes=10-", "accept-encoding": "gzip"})
    assert part.status_code == 206 and "content-encoding" not in part.headers
    assert part.content == whole[10:]


@pytest.fixture
def server() -> Iterator[str]:
    """A real `gradscape serve` on a free loopback port."""
    with serving() as served:
        yield served.url


def test_a_cut_download_can_be_retried(server: str) -> None:
    with httpx.Client(base_url=server, timeout=30) as http:
        job = http.post("/api/exports", json=HANDOUT).json()
        assert wait_done(http, job["id"])["status"] == "done"
        host, port = server.removeprefix("http://").split(":")
        # A raw connection that reads 1 KB of the file and hangs up.
        with socket.create_connection((host, int(port)), timeout=30) as cut:
            cut.sendall(
                f"GET /api/exports/{job['id']}/file HTTP/1.1\r\nHost: {host}\r\n"
                "Accept-Encoding: identity\r\n\r\n".encode()
            )
            received = b""
            while len(received) < 1024:
                received += cut.recv(1024)
            assert received.startswith(b"HTTP/1.1 200")
        time.sleep(0.5)  # what the server did when the client left is done by now
        status = http.get(f"/api/exports/{job['id']}")
        assert status.status_code == 200 and status.json()["status"] == "done"
        again = http.get(f"/api/exports/{job['id']}/file", headers=IDENTITY)
        assert again.status_code == 200 and b"Plotly.addFrames" in again.content
        resumed = http.get(
            f"/api/exports/{job['id']}/file", headers={**IDENTITY, "range": "bytes=1000-"}
        )
        assert resumed.status_code == 206
        assert again.content[:1000] + resumed.content == again.content
        assert http.delete(f"/api/exports/{job['id']}").status_code == 204
        assert http.get(f"/api/exports/{job['id']}/file").status_code == 404


# --- expiry on a timer ---------------------------------------------------------------------


def test_finished_files_expire_on_the_timer_without_any_request() -> None:
    jobs = ExportJobs(ttl=0.3, sweep_every=0.05)
    with LocalClient(app_with(jobs)) as client:
        job = client.post("/api/exports", json={**SMALL_EXPORT, "format": "csv"}).json()
        assert wait_done(client, job["id"])["status"] == "done"
        assert files(jobs.directory) == [f"{job['id']}.csv", f"{job['id']}.job.json"]
        # No request from here on: only the timer can delete the files.
        deadline = time.monotonic() + POLL_SECONDS
        while files(jobs.directory) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert files(jobs.directory) == []
        assert client.get(f"/api/exports/{job['id']}").status_code == 404


def test_a_file_is_downloadable_until_it_expires() -> None:
    jobs = ExportJobs(ttl=3600, sweep_every=0.05)
    with LocalClient(app_with(jobs)) as client:
        job = client.post("/api/exports", json={**SMALL_EXPORT, "format": "csv"}).json()
        wait_done(client, job["id"])
        for _ in range(3):
            assert client.get(f"/api/exports/{job['id']}/file").status_code == 200
        time.sleep(0.2)  # a few sweeps
        assert files(jobs.directory) == [f"{job['id']}.csv", f"{job['id']}.job.json"]


# --- a disk budget -------------------------------------------------------------------------


def test_a_full_budget_is_a_507_naming_the_bytes() -> None:
    jobs = ExportJobs(budget=10_000, reserve=1_000)
    with LocalClient(app_with(jobs)) as client:
        job = client.post("/api/exports", json={**SMALL_EXPORT, "format": "csv"}).json()
        assert wait_done(client, job["id"])["status"] == "done"
        used = sum(p.stat().st_size for p in jobs.directory.iterdir())
        assert 1_000 < used < 9_000  # room for one more reservation, not for this one:
        (jobs.directory / "filler.gif").write_bytes(b"x" * (9_000 - used + 1))
        full = client.post("/api/exports", json={**SMALL_EXPORT, "format": "csv"})
        assert full.status_code == 507
        detail = full.json()["detail"]
        assert "use 8.8 KB of the 9.8 KB set aside" in detail, detail
        assert "download or delete finished exports" in detail
        # Deleting the finished export frees its bytes.
        assert client.delete(f"/api/exports/{job['id']}").status_code == 204
        assert (
            client.post("/api/exports", json={**SMALL_EXPORT, "format": "csv"}).status_code == 202
        )


def test_a_render_that_would_pass_the_budget_fails_clearly() -> None:
    # The handout is over a megabyte: past its reservation and the budget.
    jobs = ExportJobs(budget=200_000, reserve=100_000)
    with LocalClient(app_with(jobs)) as client:
        job = client.post("/api/exports", json=HANDOUT).json()
        final = wait_done(client, job["id"])
        assert final["status"] == "error"
        assert final["detail"].startswith("the export would pass the disk space set aside")
        assert "of 195.3 KB" in final["detail"]
        assert files(jobs.directory) == [f"{job['id']}.job.json"]  # no half file kept


def test_the_budget_counts_a_reservation_per_job_in_progress(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    gate = threading.Event()

    def held(request: ExportRequest, path: Path, progress: Any) -> Path:
        assert gate.wait(POLL_SECONDS)
        Path(path).write_bytes(b"x")
        return path

    monkeypatch.setattr(jobs_module, "run_export", held)
    # two reservations and their state files (a few hundred bytes each) fit; a third not
    jobs = ExportJobs(budget=3_200, reserve=1_000)
    try:
        request = ExportRequest.model_validate({**SMALL_EXPORT, "format": "csv"})
        jobs.submit(request)
        jobs.submit(request)
        with pytest.raises(jobs_module.DiskBudgetError, match=r"use \d\.\d KB of the 3\.1 KB"):
            jobs.submit(request)
    finally:
        gate.set()
        jobs.shutdown()


def test_the_budget_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(BUDGET_ENV, raising=False)
    assert budget_from_env() == 2 * 1024**3
    monkeypatch.setenv(BUDGET_ENV, "123456")
    assert budget_from_env() == 123456
    for bad in ("2GB", "-1"):
        monkeypatch.setenv(BUDGET_ENV, bad)
        with pytest.raises(ValueError, match=BUDGET_ENV):
            budget_from_env()


# --- job directories of stopped servers ----------------------------------------------------


def dead_pid() -> int:
    """The id of a process that has just exited (and so is not alive)."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_directories_of_dead_servers_are_removed_at_start(tmp_path: Path) -> None:
    parent = export_parent()
    pid = dead_pid()
    dead = parent / f"{pid}-{os.urandom(8).hex()}"
    dead.mkdir()
    (dead / "0123.gif").write_bytes(b"GIF89a")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("not ours")
    link = parent / f"{pid}-{os.urandom(8).hex()}"
    link.symlink_to(outside, target_is_directory=True)
    alive = parent / f"{os.getpid()}-{os.urandom(8).hex()}"
    alive.mkdir()
    unrelated = parent / f"notes-{pid}"
    unrelated.mkdir()
    try:
        jobs = ExportJobs()
        jobs.shutdown()
        assert not dead.exists()
        assert not link.is_symlink()  # the link is gone, what it pointed at is not
        assert (outside / "keep.txt").read_text() == "not ours"
        assert alive.is_dir() and unrelated.is_dir()
        assert remove_stale_directories(parent) == []
    finally:
        for path in (alive, unrelated):
            path.rmdir()
        link.unlink(missing_ok=True)


def test_a_killed_servers_directory_goes_when_the_next_one_starts() -> None:
    parent = export_parent()

    def start() -> tuple[subprocess.Popen, str]:
        served = launch()
        return served.process, served.url

    first, url = start()
    try:
        job = httpx.post(url + "/api/exports", json={**SMALL_EXPORT, "format": "csv"}).json()
        with httpx.Client(base_url=url) as http:
            wait_done(http, job["id"])
        (directory,) = parent.glob(f"{first.pid}-*")
        assert f"{job['id']}.csv" in files(directory)
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
        if first.stdout is not None:
            first.stdout.close()
    assert directory.exists()  # nothing ran at its exit
    second, _ = start()
    try:
        assert not directory.exists()
        assert list(parent.glob(f"{second.pid}-*"))
    finally:
        stop(second)
        if second.stdout is not None:
            second.stdout.close()
    assert not list(parent.glob(f"{second.pid}-*"))  # a clean stop removes its own


def test_a_job_whose_process_died_is_reported_failed() -> None:
    jobs = ExportJobs(ttl=3600)
    try:
        job = Job(
            id=os.urandom(16).hex(),
            format="gif",
            filename="gradscape-x.gif",
            status="running",
            progress=0.5,
            created=time.time(),
            owner=dead_pid(),
        )
        jobs._write(job)
        (jobs.directory / f"{job.id}.gif").write_bytes(b"GIF89a half")
        seen = jobs.get(job.id)
        assert seen is not None and seen.status == "error" and seen.detail == STOPPED
        jobs.sweep()  # recorded as failed, the half file deleted: it expires like others
        assert files(jobs.directory) == [f"{job.id}.job.json"]
        recorded = jobs.get(job.id)
        assert recorded is not None and recorded.finished is not None
        with LocalClient(app_with(jobs)) as client:
            reply = client.get(f"/api/exports/{job.id}").json()
            assert reply["status"] == "error" and reply["detail"] == STOPPED
            early = client.get(f"/api/exports/{job.id}/file")
            assert early.status_code == 409 and STOPPED in early.json()["detail"]
    finally:
        jobs.shutdown()


# --- Allow ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "allowed"),
    [
        ("/api/exports/0123456789abcdef0123456789abcdef", "GET, HEAD, DELETE"),
        ("/api/exports/0123456789abcdef0123456789abcdef/file", "GET, HEAD"),
        ("/healthz", "GET, HEAD"),
        ("/api/exports", "POST"),
        ("/api/trajectories", "POST"),
    ],
)
@pytest.mark.parametrize("method", ["OPTIONS", "PUT", "PATCH"])
def test_a_405_lists_every_method_of_the_path(
    client: TestClient, method: str, path: str, allowed: str
) -> None:
    reply = client.request(method, path)
    assert reply.status_code == 405
    assert reply.headers["allow"] == allowed
    assert reply.json() == {"detail": "Method Not Allowed"}


def test_head_is_answered_wherever_get_is(client: TestClient) -> None:
    # An uptime monitor's HEAD /healthz, curl -I, a download manager sizing a file: all
    # were 405s. HEAD gets the GET's status and headers and no body.
    for path in ("/healthz", "/", "/api/landscapes", "/api/landscapes/booth/grid", "/docs"):
        get, head = client.get(path), client.head(path)
        assert head.status_code == get.status_code == 200, path
        assert head.content == b"" and head.headers["content-type"] == get.headers["content-type"]
        assert head.headers.get("content-length") == get.headers.get("content-length"), path
    assert client.head("/api/landscapes/nowhere/grid").status_code == 404
    missing = client.head("/api/trajectories")  # POST only: HEAD is refused as GET is
    assert missing.status_code == 405 and missing.headers["allow"] == "POST"


def test_the_sweep_removes_leftovers_and_nothing_else(tmp_path: Path) -> None:
    # A directory someone pointed GRADSCAPE_EXPORT_DIR at: only our names are ours.
    jobs = ExportJobs(directory=tmp_path, stale_after=0.0)
    try:
        orphan = os.urandom(16).hex()
        leftovers = [f"{orphan}.gif", f"{orphan}.cancel", f".{orphan}.0badcafe.tmp"]
        foreign = [".bashrc", "notes.txt", "gif", f"{orphan}.bmp", "filler.json"]
        for name in leftovers + foreign:
            (tmp_path / name).write_text("x")
        time.sleep(0.01)
        jobs.sweep()
        assert sorted(p.name for p in tmp_path.iterdir()) == sorted(foreign)
    finally:
        jobs.shutdown()
    assert tmp_path.is_dir()  # not ours to remove


def test_a_job_silent_too_long_is_reported_failed() -> None:
    # Its process exists (this one) but has not rewritten the job's state for an hour:
    # hung, or a recycled pid.
    jobs = ExportJobs(stale_after=60)
    try:
        job = Job(
            id=os.urandom(16).hex(),
            format="mp4",
            filename="gradscape-x.mp4",
            status="queued",
            owner=os.getpid(),
        )
        jobs._write(job)
        assert (seen := jobs.get(job.id)) is not None and seen.status == "queued"
        state = jobs.directory / f"{job.id}.job.json"
        stored = json.loads(state.read_text())
        state.write_text(json.dumps({**stored, "updated": time.time() - 3600}))
        seen = jobs.get(job.id)
        assert seen is not None and (seen.status, seen.detail) == ("error", STOPPED)
    finally:
        jobs.shutdown()
