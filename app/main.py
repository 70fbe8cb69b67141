"""Builds the FastAPI application: routers by resource, static files, error handlers."""

from __future__ import annotations

import math
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from app.config import STATIC_DIR
from app.http_cache import CompressionMiddleware, RevalidatedStaticFiles


def create_app() -> FastAPI:
    """A fresh application; tests build their own, `gradscape serve` builds one."""
    from app import __version__
    from app.routes import docs, export, landscapes, optimizers, pages, trajectories, ws
    from app.schemas import Health

    app = FastAPI(
        title="Gradscape",
        summary="Watch optimizers race across 2-D loss landscapes.",
        version=__version__,
        # FastAPI's own docs pages load Swagger UI and ReDoc from a CDN: blank offline.
        # app.routes.docs serves Swagger UI from the installed fastapi-offline instead.
        docs_url=None,
        redoc_url=None,
    )

    @app.exception_handler(ValueError)
    async def _value_error(_: Request, exc: ValueError) -> JSONResponse:
        # Core ValueErrors name the field and its allowed range: a 422, never a 500.
        return JSONResponse(status_code=422, content={"detail": str(exc)})

    @app.exception_handler(RequestValidationError)
    async def _invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        # FastAPI echoes the rejected input; a NaN or Infinity sent in would make the 422
        # itself unencodable (a 500), so non-finite numbers are echoed as null.
        issues = _finite(jsonable_encoder(exc.errors()))
        for issue in issues:  # a core ValueError keeps its own words, without pydantic's prefix
            issue["msg"] = str(issue.get("msg", "")).removeprefix("Value error, ")
        return JSONResponse(status_code=422, content={"detail": issues})

    @app.get("/healthz", response_model=Health, tags=["health"])
    async def healthz() -> Health:
        """Liveness: answers on the event loop, promptly even while runs stream."""
        return Health()

    # gzip where the client accepts it (a cold page load: 6.4 MB -> under 2 MB).
    app.add_middleware(CompressionMiddleware)

    for module in (pages, docs, landscapes, optimizers, trajectories, ws, export):
        app.include_router(module.router)
    app.mount("/static", RevalidatedStaticFiles(directory=STATIC_DIR), name="static")
    return app


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, list):
        return [_finite(v) for v in value]
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    return value


app = create_app()
