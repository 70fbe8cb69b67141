"""GET /api/share (can students open this server's links?) and GET /api/qr (a link's QR code).

The page's share panel reads /api/share to warn when the server listens on loopback only,
or to show the link rewritten to the address the room can reach, with its QR code drawn
here, on this machine (app.share).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from app import config, share
from app.schemas import ErrorReply

router = APIRouter(prefix="/api", tags=["share"])


class ShareInfo(BaseModel):
    """Where other machines can reach this server."""

    bind_host: str = Field(description="The address the server listens on.")
    loopback_only: bool = Field(
        description="Only this machine can open its links (the server listens on loopback)."
    )
    lan_hosts: list[str] = Field(
        description="Addresses of this machine the room's network can reach (IPv6 in brackets)."
    )
    lan_urls: list[str] = Field(description="The page at each of those addresses, this port.")
    qr_max_bytes: int = Field(description="The longest text GET /api/qr draws, in UTF-8 bytes.")


@router.get("/share", response_model=ShareInfo)
def share_info(request: Request) -> ShareInfo:
    """Whether students can open this server's links, and at which addresses.

    Computed per request: a laptop that joins the classroom Wi-Fi after starting the
    server gets its new address on the next page load.
    """
    bind_host: str = request.app.state.bind_host
    hosts = share.lan_hosts(bind_host)
    port = request.url.port
    suffix = f":{port}" if port else ""
    return ShareInfo(
        bind_host=bind_host,
        loopback_only=share.is_loopback(bind_host),
        lan_hosts=hosts,
        lan_urls=[f"http://{host}{suffix}/" for host in hosts],
        qr_max_bytes=config.MAX_QR_TEXT,
    )


@router.get(
    "/qr",
    response_class=Response,
    responses={
        200: {"content": {"image/svg+xml": {}}, "description": "The QR code, as SVG."},
        422: {"model": ErrorReply, "description": "Empty, or too long for a scannable code."},
    },
)
def qr_code(
    text: Annotated[
        str,
        Query(
            min_length=1,
            max_length=config.MAX_QR_TEXT,
            description="What the code says: a link, at most "
            f"{config.MAX_QR_TEXT} characters (longer ones are too dense to scan).",
        ),
    ],
) -> Response:
    """`text` as a QR code in SVG, drawn on this machine (nothing is sent anywhere)."""
    return Response(
        share.qr_svg(text),
        media_type="image/svg+xml",
        headers={"Cache-Control": "private, max-age=3600"},
    )
