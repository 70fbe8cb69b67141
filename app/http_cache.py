"""Compression and cache validators: a cold page load moves little, a warm one almost nothing.

Three pieces, each for a different kind of response:

- `Payload` + `respond`: bytes that never change while the server runs (Plotly.js, grids,
  catalogues). Their strong ETag is a hash of the bytes and their gzip is made once, on
  first use, so the 4.8 MB Plotly.js is not recompressed on every request.
- `CompressionMiddleware`: everything else (the page, static files, export downloads) is
  gzipped per response by Starlette's GZipMiddleware (1.x). It skips bodies under 500
  bytes, already-compressed media (GIF, PNG, MP4, ...), 206 ranges, responses that carry a
  Content-Encoding (the payloads above, and trajectory replies of up to ~8 MB, which come
  compressed from the worker thread that computed them) and WebSockets; a streamed body
  (a file download) is compressed and flushed chunk by chunk, chunks of 128 KiB and more
  in a worker thread. (A server offering ASGI `pathsend`, which uvicorn does not, would
  make StaticFiles bypass it.)
- `RevalidatedStaticFiles`: the page's ES modules, CSS and i18n JSON have unversioned
  URLs, so they are `no-cache`: the browser revalidates (a ~150-byte 304) and an edited
  file shows up on the next load instead of after a heuristic freshness period.
"""

from __future__ import annotations

import gzip
import hashlib
import os
from dataclasses import dataclass
from functools import cached_property

from starlette.datastructures import Headers, MutableHeaders
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Per response, often on the event loop: level 1 (nginx's default) compresses a 180 kB
# trajectory reply 5x faster than level 6 for 5 % more bytes.
RESPONSE_LEVEL = 1
# Once per payload per process: the smallest output; Plotly.js takes a quarter second.
PAYLOAD_LEVEL = 9
# Below this a gzip header and trailer eat most of the saving (Starlette's default too).
MIN_COMPRESS_BYTES = 500
REVALIDATE = "no-cache"
IMMUTABLE = "public, max-age=31536000, immutable"


def accepts_gzip(accept_encoding: str) -> bool:
    """True when the Accept-Encoding header lists gzip (or x-gzip) with a non-zero q."""
    for item in accept_encoding.split(","):
        coding, *params = (part.strip() for part in item.split(";"))
        if coding.lower() not in ("gzip", "x-gzip"):
            continue
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    return float(value) > 0
                except ValueError:
                    return False
        return True
    return False


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """If-None-Match uses the weak comparison (RFC 9110 §13.1.2): W/ prefixes are ignored."""
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    opaque = etag.removeprefix("W/")
    return any(tag.strip().removeprefix("W/") == opaque for tag in if_none_match.split(","))


@dataclass(frozen=True)
class Payload:
    """Immutable response bytes with a strong ETag from their content and a lazy gzip."""

    body: bytes
    media_type: str

    @cached_property
    def etag(self) -> str:
        return '"' + hashlib.sha256(self.body).hexdigest()[:32] + '"'

    @cached_property
    def gzipped(self) -> bytes:
        # mtime=0: the same input gives the same bytes, in every process.
        return gzip.compress(self.body, compresslevel=PAYLOAD_LEVEL, mtime=0)


def respond(request: Request, payload: Payload, cache_control: str = REVALIDATE) -> Response:
    """200 with the body (gzipped when accepted) or 304 when the client's copy is current.

    The gzip representation's ETag is the identity one marked weak, as nginx does: a strong
    ETag promises identical bytes, and If-Range would splice ranges of two encodings.
    """
    compress = len(payload.body) >= MIN_COMPRESS_BYTES and accepts_gzip(
        request.headers.get("accept-encoding", "")
    )
    headers = {
        "ETag": f"W/{payload.etag}" if compress else payload.etag,
        "Cache-Control": cache_control,
        "Vary": "Accept-Encoding",
    }
    if etag_matches(request.headers.get("if-none-match"), payload.etag):
        return Response(status_code=304, headers=headers)
    if compress:
        headers["Content-Encoding"] = "gzip"
        return Response(payload.gzipped, media_type=payload.media_type, headers=headers)
    return Response(payload.body, media_type=payload.media_type, headers=headers)


class CompressionMiddleware:
    """gzip for every HTTP response that benefits, only when the client accepts it.

    Wraps GZipMiddleware for two things it does not do: honour `gzip;q=0` (it looks for
    the substring "gzip"), and weaken a strong ETag on a body it compressed (see
    `respond`; StaticFiles' ETag would otherwise name both encodings).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.gzip = GZipMiddleware(
            app, minimum_size=MIN_COMPRESS_BYTES, compresslevel=RESPONSE_LEVEL
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not accepts_gzip(
            Headers(scope=scope).get("accept-encoding", "")
        ):
            await self.app(scope, receive, send)
            return

        async def send_weak_etag(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                etag = headers.get("etag")
                if etag and not etag.startswith("W/") and "content-encoding" in headers:
                    headers["etag"] = f"W/{etag}"
            await send(message)

        await self.gzip(scope, receive, send_weak_etag)


class RevalidatedStaticFiles(StaticFiles):
    """StaticFiles whose replies (200 and 304) say `no-cache`: always revalidate, by ETag."""

    def file_response(
        self,
        full_path: str | os.PathLike[str],
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        response.headers.setdefault("Cache-Control", REVALIDATE)
        return response
