"""Export jobs: POST a scene + format, poll the job's progress, download the file.

POST /api/exports            → 202 {id, status, progress}   (ExportRequest; limits are 422s)
GET  /api/exports/{id}       → {id, status, progress, detail, filename}
GET  /api/exports/{id}/file  → the file, as an attachment named after the scene:
                               gradscape-<preset>.<fmt> or gradscape-<landscape>-<optimizers>.<fmt>
DELETE /api/exports/{id}     → cancel / forget a job and delete its file
The file is deleted once downloaded; unknown (or expired, or downloaded) ids are 404s.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI, HTTPException, Request, Response
from fastapi.responses import FileResponse
from starlette.background import BackgroundTask

from app.export.jobs import ExportJobs, Job, TooManyJobsError
from app.export.pipeline import MEDIA_TYPES
from app.schemas import ErrorReply, ExportJob, ExportRequest

_UNKNOWN: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorReply, "description": "Unknown, expired or downloaded export."}
}

_create_lock = threading.Lock()


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    yield
    with _create_lock:
        jobs = getattr(app.state, "export_jobs", None)
        app.state.export_jobs = None  # a restarted app (tests) gets a fresh table
    if jobs is not None:
        jobs.shutdown()  # cancels running exports and removes their temp files


router = APIRouter(prefix="/api/exports", tags=["exports"], lifespan=_lifespan)


def _jobs(request: Request) -> ExportJobs:
    """The application's job table, created on first use (also without a lifespan run)."""
    state = request.app.state
    with _create_lock:
        jobs = getattr(state, "export_jobs", None)
        if jobs is None:
            jobs = state.export_jobs = ExportJobs()
    return jobs


def _job(request: Request, job_id: str) -> Job:
    job = _jobs(request).get(job_id)
    if job is None:
        raise HTTPException(
            status_code=404,
            detail=f"unknown export id {job_id!r} (never created, expired, or already downloaded)",
        )
    return job


@router.post(
    "",
    status_code=202,
    response_model=ExportJob,
    responses={
        400: {"model": ErrorReply, "description": "The body is not readable JSON text."},
        422: {"model": ErrorReply, "description": "A field out of its allowed range."},
        429: {"model": ErrorReply, "description": "Too many exports queued or running."},
    },
)
def create_export(body: ExportRequest, request: Request, response: Response) -> ExportJob:
    """Start an export in the background; poll the returned id for progress."""
    try:
        job = _jobs(request).submit(body)
    except TooManyJobsError as error:
        raise HTTPException(status_code=429, detail=str(error)) from None
    response.headers["Location"] = f"/api/exports/{job.id}"
    return job.snapshot()


@router.get("/{job_id}", response_model=ExportJob, responses=_UNKNOWN)
def export_status(job_id: str, request: Request) -> ExportJob:
    return _job(request, job_id).snapshot()


@router.get(
    "/{job_id}/file",
    response_class=FileResponse,
    responses={
        200: {"content": {media: {} for media in MEDIA_TYPES.values()}},
        **_UNKNOWN,
        409: {"model": ErrorReply, "description": "The export has not finished, or it failed."},
    },
)
def export_file(job_id: str, request: Request) -> FileResponse:
    """The finished file as an attachment; it is deleted from the server once sent."""
    job = _job(request, job_id)
    if job.status != "done":
        detail = (
            f"export {job_id} failed: {job.detail}"
            if job.status == "error"
            else f"export {job_id} is {job.status} ({job.progress:.0%}); poll until done"
        )
        raise HTTPException(status_code=409, detail=detail)
    return FileResponse(
        job.path,
        media_type=MEDIA_TYPES[job.request.format],
        filename=job.filename,
        content_disposition_type="attachment",
        background=BackgroundTask(_jobs(request).discard, job_id),
    )


@router.delete("/{job_id}", status_code=204, responses=_UNKNOWN)
def cancel_export(job_id: str, request: Request) -> Response:
    """Cancel a queued or running export, or drop a finished one, deleting its file."""
    _job(request, job_id)
    _jobs(request).discard(job_id)
    return Response(status_code=204)
