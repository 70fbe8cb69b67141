"""Builds the FastAPI application: routers by resource, static files, error handlers."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles

ROOT = Path(__file__).resolve().parent.parent
STATIC_DIR = ROOT / "static"
TEMPLATES_DIR = ROOT / "templates"


def create_app() -> FastAPI:
    """A fresh application; tests build their own, `gradscape serve` builds one."""
    from app.routes import export, landscapes, optimizers, pages, trajectories, ws

    app = FastAPI(
        title="Gradscape",
        summary="Watch optimizers race across 2-D loss landscapes.",
        version="0.1.0",
    )

    @app.exception_handler(ValueError)
    async def _value_error(_: Request, exc: ValueError) -> JSONResponse:
        # Core ValueErrors name the field and its allowed range: a 422, never a 500.
        return JSONResponse(status_code=422, content={"detail": str(exc)})

    for module in (pages, landscapes, optimizers, trajectories, ws, export):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app


app = create_app()
