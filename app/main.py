"""Builds the FastAPI application: routers by resource, static files, error handlers."""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from app.config import STATIC_DIR
from app.gate import Gate, Policy, quiet_denials
from app.http_cache import CompressionMiddleware, RevalidatedStaticFiles
from app.schemas import message_text, validation_issues


def create_app(
    *,
    bind_host: str | None = None,
    allow_hosts: Sequence[str] | None = None,
    allow_origins: Sequence[str] | None = None,
) -> FastAPI:
    """A fresh application; tests build their own, `gradscape serve` builds one.

    `bind_host` is the address the server listens on (default: what `gradscape serve`
    put in the environment), so the share panel can tell whether students can reach it,
    and the gate (app.gate) which Host names to answer. `allow_hosts` and `allow_origins`
    add Host names and page origins (default: GRADSCAPE_ALLOW_HOSTS and
    GRADSCAPE_ALLOW_ORIGINS, which `gradscape serve --allow-host/--allow-origin` set).
    """
    from app import __version__
    from app.routes import docs, export, landscapes, optimizers, pages, share, trajectories, ws
    from app.schemas import Health
    from app.share import bind_host_from_env

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
        # Core ValueErrors name the field and its allowed range: a 422, never a 500. The
        # message may quote the client's text: cut to size, lone surrogates made encodable.
        return JSONResponse(status_code=422, content={"detail": message_text(str(exc))})

    @app.exception_handler(RequestValidationError)
    async def _invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        # One issue per field, formatted as the WebSocket and the CLI format them.
        return JSONResponse(status_code=422, content={"detail": validation_issues(exc.errors())})

    @app.get("/healthz", response_model=Health, tags=["health"])
    async def healthz() -> Health:
        """Liveness: answers on the event loop, promptly even while runs stream."""
        return Health()

    # gzip where the client accepts it (a cold page load: 6.4 MB -> under 2 MB).
    app.add_middleware(CompressionMiddleware)
    from app.allow import HeadAsGet, install_allow_handler  # HEAD; 405s list every method

    app.add_middleware(HeadAsGet)

    app.state.bind_host = bind_host if bind_host is not None else bind_host_from_env()
    # Added last, so it runs first: Host, Origin and body checks before anything else.
    policy = Policy.for_server(app.state.bind_host, allow_hosts, allow_origins)
    app.add_middleware(Gate, policy=policy)
    quiet_denials()  # uvicorn's spurious ERROR line after each refused handshake
    for module in (pages, docs, landscapes, optimizers, trajectories, ws, export, share):
        app.include_router(module.router)
    from app.routes import maps, maps_export, tune  # issue 13: sweeps, heatmaps, basins, tuning

    for module in (maps, tune, maps_export):
        app.include_router(module.router)
    from app.routes import settings  # limits, colours and colorscale the page reads

    app.include_router(settings.router)
    app.mount("/static", RevalidatedStaticFiles(directory=STATIC_DIR), name="static")
    install_allow_handler(app)
    return app


app = create_app()
