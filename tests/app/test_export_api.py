"""POST /api/exports → poll → download, end to end through the in-process app."""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from PIL import Image

import app.export.jobs as jobs_module
from app.export.jobs import ExportJobs, Job, TooManyJobsError
from app.main import create_app
from app.schemas import ExportRequest
from tests.app.clients import LocalClient
from tests.app.scenes import SMALL_EXPORT

BODY = SMALL_EXPORT
MEDIA = {
    "gif": "image/gif",
    "mp4": "video/mp4",
    "html": "text/html; charset=utf-8",
    "png": "image/png",
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
}
# Polling deadline: a guard against a hang, not a speed assertion.
POLL_SECONDS = 120


@pytest.fixture
def client() -> Iterator[TestClient]:
    with LocalClient(create_app()) as test_client:
        yield test_client


def wait(client: TestClient, job_id: str, until: tuple[str, ...] = ("done", "error")) -> list:
    """Poll the job until its status is in `until`; returns every status seen."""
    seen = []
    deadline = time.monotonic() + POLL_SECONDS
    while time.monotonic() < deadline:
        reply = client.get(f"/api/exports/{job_id}")
        assert reply.status_code == 200
        seen.append(reply.json())
        if seen[-1]["status"] in until:
            return seen
        time.sleep(0.01)
    raise AssertionError(f"export {job_id} still {seen[-1]} after {POLL_SECONDS}s")


@pytest.mark.parametrize("fmt", list(MEDIA))
def test_export_round_trip_downloads_a_real_file(client: TestClient, fmt: str) -> None:
    created = client.post("/api/exports", json={**BODY, "format": fmt})
    assert created.status_code == 202
    job = created.json()
    assert set(job) >= {"id", "status", "progress"}
    # A small CSV may already be done when the reply is written; never an error.
    assert job["status"] in ("queued", "running", "done") and 0.0 <= job["progress"] <= 1.0
    assert created.headers["location"] == f"/api/exports/{job['id']}"

    seen = wait(client, job["id"])
    final = seen[-1]
    assert final["status"] == "done", final
    assert final["progress"] == 1.0
    assert final["filename"] == f"gradscape-rosenbrock-adam-sgd.{fmt}"
    progress = [s["progress"] for s in seen]
    assert progress == sorted(progress)

    download = client.get(f"/api/exports/{job['id']}/file")
    assert download.status_code == 200
    assert download.headers["content-type"] == MEDIA[fmt]
    assert download.headers["content-disposition"] == (
        f'attachment; filename="gradscape-rosenbrock-adam-sgd.{fmt}"'
    )
    content = download.content
    if fmt in ("gif", "png"):
        with Image.open(io.BytesIO(content)) as image:
            assert image.size == (200, 150)
            assert getattr(image, "n_frames", 1) == (10 if fmt == "gif" else 1)
    elif fmt == "mp4":
        assert content[4:8] == b"ftyp"
    elif fmt == "html":
        assert b"Plotly.addFrames" in content
    elif fmt == "csv":
        assert content.startswith(b"step,optimizer,x,y,loss")
    else:
        assert download.json()["runs"][0]["optimizer"] == "adam"


def files(directory: Path) -> list[str]:
    """The job directory's files, without the lock and half-written state (dot files)."""
    return sorted(p.name for p in directory.iterdir() if not p.name.startswith("."))


def test_file_stays_for_another_download_until_deleted(client: TestClient) -> None:
    job = client.post("/api/exports", json={**BODY, "format": "csv"}).json()
    wait(client, job["id"])
    directory: Path = client.app.state.export_jobs.directory
    assert files(directory) == [f"{job['id']}.csv", f"{job['id']}.job.json"]
    first = client.get(f"/api/exports/{job['id']}/file")
    assert first.status_code == 200
    again = client.get(f"/api/exports/{job['id']}/file")
    assert again.status_code == 200 and again.content == first.content
    assert client.get(f"/api/exports/{job['id']}").json()["status"] == "done"
    assert client.delete(f"/api/exports/{job['id']}").status_code == 204
    assert files(directory) == []
    gone = client.get(f"/api/exports/{job['id']}/file")
    assert gone.status_code == 404
    assert job["id"] in gone.json()["detail"] and "deleted" in gone.json()["detail"]


def test_files_are_removed_at_shutdown() -> None:
    with LocalClient(create_app()) as client:
        job = client.post("/api/exports", json={**BODY, "format": "json"}).json()
        wait(client, job["id"])
        directory: Path = client.app.state.export_jobs.directory
        assert any(directory.iterdir())
    assert not directory.exists()


def test_unknown_ids_are_404(client: TestClient) -> None:
    for path in ("/api/exports/nope", "/api/exports/0123456789abcdef/file"):
        reply = client.get(path)
        assert reply.status_code == 404
        assert "unknown export id" in reply.json()["detail"]
    assert client.delete("/api/exports/nope").status_code == 404


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("width", 1921, ["between 64 and 1920"]),
        ("width", 10, ["between 64 and 1920"]),
        ("height", 5000, ["between 64 and 1080"]),
        ("frames", 2001, ["between 1 and 2000"]),
        ("frames", 0, ["between 1 and 2000"]),
        ("fps", 0, ["between 1 and 60"]),
        ("fps", 61, ["between 1 and 60"]),
        ("width", "800", ["integer"]),
        ("format", "bmp", ["gif", "mp4"]),
        ("layout", "grid", ["overlay", "side_by_side"]),
        ("frame", 21, ["frame", "20"]),
        ("title", "x" * 121, ["120"]),
        ("steps", 10_001, ["10000"]),
    ],
)
def test_bad_options_are_422_naming_field_and_range(
    client: TestClient, field: str, value: Any, words: list[str]
) -> None:
    reply = client.post("/api/exports", json={**BODY, "format": "gif", field: value})
    assert reply.status_code == 422
    detail = reply.json()["detail"]
    text = str(detail)
    assert field in text
    for word in words:
        assert word in text


def test_core_errors_are_422_with_the_core_message(client: TestClient) -> None:
    body = {**BODY, "format": "gif", "runs": [{"optimizer": "adam", "params": {"lr": 100.0}}]}
    reply = client.post("/api/exports", json=body)
    assert reply.status_code == 422
    assert "lr" in str(reply.json()["detail"])


def test_user_title_never_reaches_a_path(client: TestClient) -> None:
    body = {**BODY, "format": "png", "title": "../../../../tmp/evil\x00name/.png"}
    job = client.post("/api/exports", json=body).json()
    final = wait(client, job["id"])[-1]
    assert final["filename"] == "gradscape-rosenbrock-adam-sgd.png"
    directory: Path = client.app.state.export_jobs.directory
    assert files(directory) == [f"{job['id']}.job.json", f"{job['id']}.png"]


@pytest.fixture
def gated(monkeypatch: pytest.MonkeyPatch) -> Iterator[threading.Event]:
    """Exports that block (off the event loop) until the test opens the gate."""
    gate = threading.Event()
    real = jobs_module.run_export

    def run_export(request: ExportRequest, path: Path, progress: Any) -> Path:
        progress(0.0)
        progress(0.25)
        assert gate.wait(POLL_SECONDS)
        return real(request, path, progress)

    monkeypatch.setattr(jobs_module, "run_export", run_export)
    yield gate
    gate.set()


def test_healthz_answers_while_an_export_renders(
    client: TestClient, gated: threading.Event
) -> None:
    job = client.post("/api/exports", json={**BODY, "format": "gif"}).json()
    running = wait(client, job["id"], until=("running",))[-1]
    assert running["progress"] <= 0.25
    health = client.get("/healthz")
    assert health.status_code == 200 and health.json() == {"status": "ok"}
    assert client.get("/api/landscapes").status_code == 200
    # The export is still held: the answers above did not wait for it.
    assert client.get(f"/api/exports/{job['id']}").json()["status"] == "running"
    early = client.get(f"/api/exports/{job['id']}/file")
    assert early.status_code == 409 and "poll until done" in early.json()["detail"]
    gated.set()
    assert wait(client, job["id"])[-1]["status"] == "done"


def test_cancel_stops_a_running_export(client: TestClient, gated: threading.Event) -> None:
    job = client.post("/api/exports", json={**BODY, "format": "mp4"}).json()
    wait(client, job["id"], until=("running",))
    assert client.delete(f"/api/exports/{job['id']}").status_code == 204
    assert client.get(f"/api/exports/{job['id']}").status_code == 404
    gated.set()
    jobs: ExportJobs = client.app.state.export_jobs
    jobs.shutdown()  # waits for the worker
    assert not jobs.directory.exists()


def finished(jobs: ExportJobs, job_id: str) -> Job:
    """Wait until the job's file says it finished; the job as it says."""
    deadline = time.monotonic() + POLL_SECONDS
    while time.monotonic() < deadline:
        job = jobs.get(job_id)
        assert job is not None
        if not job.active:
            return job
        time.sleep(0.01)
    raise AssertionError(f"export {job_id} did not finish within {POLL_SECONDS}s")


def test_the_queue_is_bounded(gated: threading.Event) -> None:
    jobs = ExportJobs(max_active=1)
    try:
        request = ExportRequest.model_validate({**BODY, "format": "csv"})
        first = jobs.submit(request)
        with pytest.raises(TooManyJobsError, match="at most 1"):
            jobs.submit(request)
        gated.set()
        assert finished(jobs, first.id).status == "done"
        assert jobs.submit(request).id != first.id
    finally:
        jobs.shutdown()


def test_finished_jobs_expire_with_their_files() -> None:
    jobs = ExportJobs(ttl=0.0)
    try:
        job = jobs.submit(ExportRequest.model_validate({**BODY, "format": "csv"}))
        deadline = time.monotonic() + POLL_SECONDS
        while jobs.get(job.id) is not None and time.monotonic() < deadline:
            time.sleep(0.01)
        assert jobs.get(job.id) is None
        jobs.sweep()
        assert not jobs.path(job).exists()
        assert files(jobs.directory) == []
    finally:
        jobs.shutdown()


def test_failed_export_reports_error_detail(client: TestClient, monkeypatch) -> None:
    def broken(request: ExportRequest, path: Path, progress: Any) -> Path:
        raise ValueError("steps must be at most 3 here")

    monkeypatch.setattr(jobs_module, "run_export", broken)
    job = client.post("/api/exports", json={**BODY, "format": "gif"}).json()
    final = wait(client, job["id"])[-1]
    assert final["status"] == "error"
    assert final["detail"] == "steps must be at most 3 here"
    assert client.get(f"/api/exports/{job['id']}/file").status_code == 409
