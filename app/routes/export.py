"""Export jobs: POST a scene + format, poll the job's progress, download the file.

POST /api/exports            → 202 {id, status, progress}   (ExportRequest; limits are 422s;
                               429 when MAX_ACTIVE_JOBS are in progress, 507 when the
                               export files would pass their disk budget)
GET  /api/exports/{id}       → {id, status, progress, detail, filename}
GET  /api/exports/{id}/file  → the file, as an attachment named after the scene:
                               gradscape-<preset>.<fmt> or gradscape-<landscape>-<optimizers>.<fmt>;
                               `Range: bytes=N-` resumes a cut download (206)
DELETE /api/exports/{id}     → cancel / forget a job and delete its file
A finished file can be downloaded again until it expires (app.export.jobs.DEFAULT_TTL_SECONDS
after finishing) or is DELETEd; then, like unknown ids, it is a 404. Job state lives in
files (app.export.jobs), so with several worker processes any of them answers.

Ranges are Starlette's FileResponse: one range is a 206 with Content-Range (If-Range with
the ETag or Last-Modified resumes, anything else gets the whole file); several ranges are
one multipart/byteranges 206 (overlapping ones merged; over 100 get the whole file, 200);
a start past the end is a 416. A Range in another unit (`items=0-5`) or one that is not
a range (`bytes=5-2`) is ignored and the whole file sent, as RFC 9110 §14.2 has it
(Starlette answers those with a 400). A 206 is never gzipped.
"""

from __future__ import annotations

import os
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI, HTTPException, Request, Response
from fastapi.responses import FileResponse
from starlette.responses import MalformedRangeHeader

from app.export.jobs import DiskBudgetError, ExportJobs, Job, TooManyJobsError
from app.export.pipeline import MEDIA_TYPES
from app.schemas import ErrorReply, ExportJob, ExportRequest

_UNKNOWN: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorReply, "description": "Unknown, expired or deleted export."}
}

# Echoed ids are cut to this many characters (an id we issue has 32).
_ECHO = 40

_create_lock = threading.Lock()


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    # Created at start, not on the first export: its timer sweeps expired files (and, in
    # a directory shared by workers, jobs of a stopped worker) even on a quiet server.
    _table(app)
    yield
    with _create_lock:
        jobs = getattr(app.state, "export_jobs", None)
        app.state.export_jobs = None  # a restarted app (tests) gets a fresh table
    if jobs is not None:
        jobs.shutdown()  # cancels running exports and removes their temp files


def _table(app: FastAPI) -> ExportJobs:
    state = app.state
    with _create_lock:
        jobs = getattr(state, "export_jobs", None)
        if jobs is None:
            jobs = state.export_jobs = ExportJobs()
    return jobs


router = APIRouter(prefix="/api/exports", tags=["exports"], lifespan=_lifespan)


def _jobs(request: Request) -> ExportJobs:
    """The application's job table, created on first use (also without a lifespan run)."""
    return _table(request.app)


def _not_found(job_id: str) -> HTTPException:
    shown = job_id if len(job_id) <= _ECHO else job_id[:_ECHO] + "…"
    return HTTPException(
        status_code=404,
        detail=f"unknown export id {shown!r} (never created, expired, or deleted)",
    )


def _job(request: Request, job_id: str) -> Job:
    job = _jobs(request).get(job_id)
    if job is None:
        raise _not_found(job_id)
    return job


# OpenAPI links: the id POST returns is the {job_id} of the other three operations
# (schemathesis follows them in its stateful test; they document the flow).
_JOB_LINKS = {
    name: {"operationId": operation, "parameters": {"job_id": "$response.body#/id"}}
    for name, operation in (
        ("status", "export_status"),
        ("file", "export_file"),
        ("delete", "cancel_export"),
    )
}


@router.post(
    "",
    status_code=202,
    response_model=ExportJob,
    responses={
        202: {"description": "The export is queued.", "links": _JOB_LINKS},
        400: {"model": ErrorReply, "description": "The body is not readable JSON text."},
        422: {"model": ErrorReply, "description": "A field out of its allowed range."},
        429: {"model": ErrorReply, "description": "Too many exports queued or running."},
        507: {
            "model": ErrorReply,
            "description": "The export files would pass their disk budget (bytes used, budget).",
        },
    },
)
def create_export(body: ExportRequest, request: Request, response: Response) -> ExportJob:
    """Start an export in the background; poll the returned id for progress."""
    try:
        job = _jobs(request).submit(body)
    except TooManyJobsError as error:
        raise HTTPException(status_code=429, detail=str(error)) from None
    except DiskBudgetError as error:
        raise HTTPException(status_code=507, detail=str(error)) from None
    response.headers["Location"] = f"/api/exports/{job.id}"
    return job.snapshot()


@router.get("/{job_id}", response_model=ExportJob, responses=_UNKNOWN, operation_id="export_status")
def export_status(job_id: str, request: Request) -> ExportJob:
    """The job's status and progress (from its file: any worker process answers)."""
    return _job(request, job_id).snapshot()


@router.get(
    "/{job_id}/file",
    response_class=FileResponse,
    operation_id="export_file",
    responses={
        200: {"content": {media: {} for media in MEDIA_TYPES.values()}},
        206: {"description": "The part a `Range: bytes=…` header asked for."},
        **_UNKNOWN,
        409: {"model": ErrorReply, "description": "The export has not finished, or it failed."},
        416: {"description": "The Range starts past the end of the file."},
    },
)
def export_file(job_id: str, request: Request) -> FileResponse:
    """The finished file as an attachment; it stays until it expires or is DELETEd, so a
    cut download can be retried or resumed with `Range: bytes=<received>-`."""
    jobs = _jobs(request)
    job = _job(request, job_id)
    if job.status != "done":
        detail = (
            f"export {job_id} failed: {job.detail}"
            if job.status == "error"
            else f"export {job_id} is {job.status} ({job.progress:.0%}); poll until done"
        )
        raise HTTPException(status_code=409, detail=detail)
    path = jobs.path(job)
    try:
        # Stat here, not in the response: a file expired a moment ago is a 404, not a 500.
        stat_result = os.stat(path)
    except FileNotFoundError:
        raise _not_found(job_id) from None
    return _Download(
        path,
        media_type=MEDIA_TYPES[job.format],
        filename=job.filename,
        content_disposition_type="attachment",
        stat_result=stat_result,
    )


class _Download(FileResponse):
    """A FileResponse that ignores a Range it cannot read instead of answering 400."""

    @classmethod
    def _parse_range_header(cls, http_range: str, file_size: int) -> list[tuple[int, int]]:
        try:
            return super()._parse_range_header(http_range, file_size)
        except MalformedRangeHeader:
            return []  # Starlette sends the whole file for no ranges


@router.delete("/{job_id}", status_code=204, responses=_UNKNOWN, operation_id="cancel_export")
def cancel_export(job_id: str, request: Request) -> Response:
    """Cancel a queued or running export, or drop a finished one, deleting its file."""
    if not _jobs(request).discard(job_id):
        raise _not_found(job_id)
    return Response(status_code=204)
