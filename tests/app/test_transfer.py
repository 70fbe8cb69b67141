"""What goes over the wire: gzip when accepted, ETags and 304s, compressed-once payloads.

Bytes are read raw (`iter_raw`), so a compressed body is checked by decompressing it here,
against the identity body of the same URL.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st

import app.http_cache as http_cache
from app.http_cache import accepts_gzip, etag_matches
from app.main import create_app
from app.routes import pages
from app.routes.landscapes import round_significant
from tests.app.clients import LocalClient
from tests.app.scenes import SMALL_EXPORT

GRID = "/api/landscapes/rosenbrock/grid?resolution=60"
CATALOGUES = ["/api/landscapes", "/api/optimizers", "/api/presets"]
STATIC = [
    "/static/js/main.js",
    "/static/js/api.js",
    "/static/css/app.css",
    "/static/i18n/en.json",
    "/static/i18n/ja.json",
]
# Everything the page loads that is big enough to be worth compressing.
COMPRESSIBLE = ["/", pages.PLOTLY_URL, GRID, *CATALOGUES, *STATIC]
# Everything the page loads again on a warm load, and so must answer If-None-Match.
VALIDATED = [pages.PLOTLY_URL, GRID, *CATALOGUES, *STATIC, "/static/favicon.svg"]


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with LocalClient(create_app()) as test_client:
        yield test_client


def raw(client: TestClient, url: str, **headers: str) -> tuple[httpx.Response, bytes]:
    """The reply and its body as sent, not decoded."""
    with client.stream("GET", url, headers=headers) as response:
        return response, b"".join(response.iter_raw())


def vary(response: httpx.Response) -> set[str]:
    return {v.strip().lower() for v in response.headers.get("vary", "").split(",")}


@pytest.mark.parametrize("url", COMPRESSIBLE)
def test_gzip_when_accepted_decompresses_to_the_identity_body(client: TestClient, url: str) -> None:
    plain, plain_body = raw(client, url, **{"accept-encoding": "identity"})
    zipped, zipped_body = raw(client, url, **{"accept-encoding": "gzip, deflate, br"})
    assert plain.status_code == zipped.status_code == 200
    assert "content-encoding" not in plain.headers
    assert zipped.headers["content-encoding"] == "gzip"
    assert "accept-encoding" in vary(zipped)
    assert gzip.decompress(zipped_body) == plain_body
    assert len(zipped_body) < 0.6 * len(plain_body), (len(zipped_body), len(plain_body))
    assert zipped.headers["content-type"] == plain.headers["content-type"]


@pytest.mark.parametrize("url", ["/", pages.PLOTLY_URL, GRID, "/static/js/main.js"])
@pytest.mark.parametrize("accept", ["identity", "gzip;q=0, identity", "br", "deflate"])
def test_no_gzip_unless_accepted(client: TestClient, url: str, accept: str) -> None:
    response, body = raw(client, url, **{"accept-encoding": accept})
    assert response.status_code == 200
    assert "content-encoding" not in response.headers
    assert body[:2] != b"\x1f\x8b"  # gzip's magic number


def test_plotly_js_is_compressed_once(client: TestClient, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    calls = []
    compress = gzip.compress

    def counting(data: bytes, compresslevel: int = 9, *, mtime: float | None = None) -> bytes:
        calls.append(len(data))
        return compress(data, compresslevel=compresslevel, mtime=mtime)

    monkeypatch.setattr(http_cache.gzip, "compress", counting)
    pages._plotly_js.cache_clear()
    bodies = {raw(client, pages.PLOTLY_URL, **{"accept-encoding": "gzip"})[1] for _ in range(3)}
    assert len(bodies) == 1
    assert len(calls) == 1 and calls[0] > 4_000_000  # the whole 4.8 MB, once
    # identity requests serve the original bytes and compress nothing
    raw(client, pages.PLOTLY_URL, **{"accept-encoding": "identity"})
    assert len(calls) == 1


def test_plotly_url_is_immutable_and_validated(client: TestClient) -> None:
    response, _ = raw(client, pages.PLOTLY_URL)
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    other, _ = raw(client, "/vendor/plotly-0.0.1.min.js")
    assert other.headers["cache-control"] == "no-cache"  # an old link: revalidate
    assert other.headers["etag"] == response.headers["etag"]


@pytest.mark.parametrize("url", VALIDATED)
@pytest.mark.parametrize("accept", ["gzip", "identity"])
def test_304_when_the_etag_matches(client: TestClient, url: str, accept: str) -> None:
    first, _ = raw(client, url, **{"accept-encoding": accept})
    etag = first.headers["etag"]
    again, body = raw(client, url, **{"accept-encoding": accept, "if-none-match": etag})
    assert again.status_code == 304 and body == b""
    assert again.headers["etag"].removeprefix("W/") == etag.removeprefix("W/")
    assert again.headers["cache-control"] == first.headers["cache-control"]
    # A browser sends back whichever form it stored, among others.
    strong = etag.removeprefix("W/")
    listed = f'"stale", W/{strong}'
    assert (
        raw(client, url, **{"accept-encoding": accept, "if-none-match": listed})[0].status_code
        == 304
    )
    stale, body = raw(client, url, **{"accept-encoding": accept, "if-none-match": '"stale"'})
    assert stale.status_code == 200 and body


@pytest.mark.parametrize("url", [*STATIC, "/static/favicon.svg", GRID, *CATALOGUES])
def test_unversioned_urls_revalidate_every_time(client: TestClient, url: str) -> None:
    # no-cache: the browser may store the reply but asks (If-None-Match) before using it,
    # so an edited file or a new version of the app shows up on the next load.
    response, _ = raw(client, url)
    assert response.headers["cache-control"] == "no-cache"


@pytest.mark.parametrize("url", [GRID, *CATALOGUES, pages.PLOTLY_URL])
def test_payload_etags_are_strong_and_derived_from_the_content(
    client: TestClient, url: str
) -> None:
    # A hash of the bytes: every process (--workers N, a restart) names them alike.
    response, body = raw(client, url, **{"accept-encoding": "identity"})
    assert response.headers["etag"] == f'"{hashlib.sha256(body).hexdigest()[:32]}"'
    # The gzip form is another representation: same opaque tag, marked weak.
    zipped, _ = raw(client, url, **{"accept-encoding": "gzip"})
    assert zipped.headers["etag"] == f"W/{response.headers['etag']}"


def test_a_compressed_static_file_has_a_weak_etag(client: TestClient) -> None:
    plain, _ = raw(client, "/static/js/main.js", **{"accept-encoding": "identity"})
    zipped, _ = raw(client, "/static/js/main.js", **{"accept-encoding": "gzip"})
    assert not plain.headers["etag"].startswith("W/")
    assert zipped.headers["etag"] == f"W/{plain.headers['etag']}"
    # If-Range needs a strong match, so a range of gzip bytes is never spliced onto identity.
    ranged, body = raw(
        client,
        "/static/js/main.js",
        **{"accept-encoding": "identity", "range": "bytes=0-9", "if-range": zipped.headers["etag"]},
    )
    assert ranged.status_code == 200 and len(body) > 10


def test_different_content_gets_a_different_etag(client: TestClient) -> None:
    tags = {
        raw(client, url)[0].headers["etag"]
        for url in [
            GRID,
            "/api/landscapes/rosenbrock/grid?resolution=61",
            "/api/landscapes/saddle/grid?resolution=60",
            f"{GRID}&digits=7",
            *CATALOGUES,
        ]
    }
    assert len(tags) == 7


def test_small_replies_are_not_compressed(client: TestClient) -> None:
    response, body = raw(client, "/healthz", **{"accept-encoding": "gzip"})
    assert "content-encoding" not in response.headers and json.loads(body) == {"status": "ok"}


def test_post_replies_are_compressed(client: TestClient) -> None:
    scene = {"landscape": "rosenbrock", "steps": 300, "runs": [{"optimizer": "adam"}]}
    with client.stream(
        "POST", "/api/trajectories", json=scene, headers={"accept-encoding": "gzip"}
    ) as response:
        body = b"".join(response.iter_raw())
    assert response.headers["content-encoding"] == "gzip"
    assert json.loads(gzip.decompress(body))["runs"][0]["optimizer"] == "adam"


def _export_file(client: TestClient, fmt: str) -> tuple[str, bytes]:
    """Run an export to the end; its download URL and the file's bytes on the server."""
    job = client.post("/api/exports", json={**SMALL_EXPORT, "format": fmt}).json()
    deadline = time.monotonic() + 120  # a guard against a hang, not a speed assertion
    while client.get(f"/api/exports/{job['id']}").json()["status"] != "done":
        assert time.monotonic() < deadline, f"export {job['id']} did not finish"
        time.sleep(0.02)
    directory: Path = client.app.state.export_jobs.directory
    return f"/api/exports/{job['id']}/file", (directory / f"{job['id']}.{fmt}").read_bytes()


@pytest.mark.parametrize("fmt", ["gif", "mp4", "png"])
def test_compressed_exports_are_sent_as_they_are(client: TestClient, fmt: str) -> None:
    url, on_disk = _export_file(client, fmt)
    response, body = raw(client, url, **{"accept-encoding": "gzip"})
    assert response.status_code == 200
    assert "content-encoding" not in response.headers
    assert body == on_disk
    assert response.headers["content-length"] == str(len(on_disk))


@pytest.mark.parametrize("fmt", ["html", "csv", "json"])
def test_text_exports_stream_gzipped_and_arrive_intact(client: TestClient, fmt: str) -> None:
    url, on_disk = _export_file(client, fmt)
    response, body = raw(client, url, **{"accept-encoding": "gzip"})
    assert response.status_code == 200
    assert response.headers["content-encoding"] == "gzip"
    assert response.headers["content-disposition"].startswith("attachment;")
    assert gzip.decompress(body) == on_disk


def test_the_handout_is_streamed_not_buffered(client: TestClient) -> None:
    # The HTML handout inlines Plotly.js: FileResponse reads it in 64 KiB chunks and each is
    # compressed and flushed as it comes, so the length is unknown up front (no
    # Content-Length) and the server never holds the whole file in memory.
    url, on_disk = _export_file(client, "html")
    response, body = raw(client, url, **{"accept-encoding": "gzip"})
    assert len(on_disk) > 1_000_000
    assert "content-length" not in response.headers
    assert gzip.decompress(body) == on_disk


def test_websocket_runs_through_the_middleware(client: TestClient) -> None:
    with client.websocket_connect("/ws/trajectories") as ws:
        ws.send_json(
            {
                "type": "run",
                "id": "a",
                "landscape": "saddle",
                "steps": 50,
                "runs": [{"optimizer": "sgd"}],
            }
        )
        kinds = []
        while not kinds or kinds[-1] != "done":
            kinds.append(ws.receive_json()["type"])
    assert kinds[0] == "meta" and "chunk" in kinds


# ------------------------------------------------------------------ negotiation helpers
@pytest.mark.parametrize(
    ("header", "accepted"),
    [
        ("gzip", True),
        ("gzip, deflate, br, zstd", True),
        ("br;q=1.0, gzip;q=0.8, *;q=0.1", True),
        ("x-gzip", True),
        ("GZIP", True),
        ("gzip;q=0", False),
        ("gzip; q=0.000", False),
        ("identity", False),
        ("", False),
        ("deflate, br", False),
        ("gzip;q=bogus", False),
    ],
)
def test_accepts_gzip(header: str, accepted: bool) -> None:
    assert accepts_gzip(header) is accepted


def test_etag_matching_is_weak_as_if_none_match_requires() -> None:
    assert etag_matches('"a"', '"a"')
    assert etag_matches('W/"a"', '"a"')
    assert etag_matches('"x", W/"a"', 'W/"a"')
    assert etag_matches("*", '"a"')
    assert not etag_matches('"ab"', '"a"')
    assert not etag_matches(None, '"a"')


# ------------------------------------------------------------------ rounded grids
def test_the_page_grid_is_rounded_and_about_half_the_bytes(client: TestClient) -> None:
    exact = client.get(GRID).json()
    rounded_body = raw(client, f"{GRID}&digits=7", **{"accept-encoding": "gzip"})[1]
    exact_body = raw(client, GRID, **{"accept-encoding": "gzip"})[1]
    assert len(rounded_body) < 0.6 * len(exact_body)
    rounded = json.loads(gzip.decompress(rounded_body))
    assert rounded["x"] == exact["x"] and rounded["y"] == exact["y"]
    assert rounded["log_color"] == exact["log_color"]
    for key in ("z", "color"):
        want = [[float(f"{v:.7g}") for v in row] for row in exact[key]]
        assert rounded[key] == want


@pytest.mark.parametrize("digits", [2, 16, "seven"])
def test_grid_digits_out_of_range_is_422_naming_it(client: TestClient, digits: object) -> None:
    response = client.get(f"{GRID}&digits={digits}")
    assert response.status_code == 422
    assert "digits" in json.dumps(response.json()["detail"])


@given(
    value=st.floats(allow_nan=False, allow_infinity=False),
    digits=st.integers(3, 12),
)
def test_round_significant_equals_formatting(value: float, digits: int) -> None:
    (got,) = round_significant(np.array([value]), digits)
    assert got == float(f"{value:.{digits}g}")
    assert repr(float(got)) == repr(float(f"{value:.{digits}g}"))  # and prints as short


@given(value=st.floats(allow_nan=False, allow_infinity=False), digits=st.integers(13, 15))
def test_round_significant_near_full_precision_is_off_by_at_most_a_last_digit(
    value: float, digits: int
) -> None:
    (got,) = round_significant(np.array([value]), digits)
    want = float(f"{value:.{digits}g}")
    if got != want:
        # One unit of the last digit, plus the rounding of the scale-and-divide itself: a few
        # ulp of the value (3.5720961488937652e19 at 15 digits lands 1e5 + 2400 away, where
        # one ulp is 4096).
        unit = 10.0 ** (np.floor(np.log10(abs(want))) - digits + 1)
        assert abs(got - want) <= 1.0001 * unit + 4 * np.spacing(abs(want))


def test_round_significant_keeps_non_finite_and_zero() -> None:
    values = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 5e-324, 1.7976931348623157e308])
    got = round_significant(values, 7)
    assert np.isnan(got[0]) and got[1] == np.inf and got[2] == -np.inf
    assert got[3] == 0.0 and np.signbit(got[4])
    assert got[5] == 5e-324 and got[6] == float(f"{values[6]:.7g}")
