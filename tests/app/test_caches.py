"""Caches bounded by bytes: app.work.ByteLRU, the grid replies and scene.grid's arrays."""

from __future__ import annotations

import asyncio
import json
import random
import threading
from typing import Any

import httpx
import numpy as np
import pytest

from app import scene, work
from app.main import create_app
from app.routes import landscapes as grid_route
from app.work import ByteLRU


def _lru(budget: int = 10, max_entry: int = 6) -> ByteLRU[str, bytes]:
    return ByteLRU(budget, max_entry, len)


def test_evicts_least_recently_used_by_bytes() -> None:
    cache = _lru()
    cache.put("a", b"aaaa")
    cache.put("b", b"bbb")
    assert cache.get("a") == b"aaaa"  # now b is the least recent
    cache.put("c", b"cccc")  # 4 + 3 + 4 > 10: b goes, a and c stay
    assert cache.get("b") is None
    assert (cache.get("a"), cache.get("c")) == (b"aaaa", b"cccc")
    assert cache.bytes == 8 and len(cache) == 2


def test_one_entry_may_evict_several() -> None:
    cache = _lru()
    for key in "abcde":
        cache.put(key, b"x" * 2)
    cache.put("big", b"y" * 6)
    assert cache.bytes == 10
    assert [cache.get(k) is not None for k in "abcde"] == [False, False, False, True, True]


def test_entry_over_the_per_entry_cap_is_not_kept() -> None:
    cache = _lru()
    cache.put("a", b"aaaa")
    cache.put("huge", b"h" * 7)  # would push out everything for one value
    assert cache.get("huge") is None
    assert cache.get("a") == b"aaaa"
    assert cache.get_or_compute("huge", lambda: b"h" * 7) == b"h" * 7  # still answered


def test_replacing_a_key_counts_its_bytes_once() -> None:
    cache = _lru()
    cache.put("a", b"aaaa")
    cache.put("a", b"aa")
    assert cache.bytes == 2 and len(cache) == 1


def test_rejects_a_budget_below_the_entry_cap() -> None:
    with pytest.raises(ValueError, match="max_entry"):
        ByteLRU(10, 11, len)


def test_never_exceeds_the_budget_under_threads() -> None:
    cache: ByteLRU[int, bytes] = ByteLRU(1000, 300, len)

    def work(seed: int) -> None:
        rng = random.Random(seed)
        for _ in range(3000):
            key = rng.randrange(50)
            if rng.random() < 0.5:
                cache.put(key, b"v" * rng.randrange(1, 400))
            else:
                cache.get(key)
            assert cache.bytes <= 1000

    threads = [threading.Thread(target=work, args=(seed,)) for seed in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    kept = [cache.get(key) for key in range(50)]
    assert cache.bytes == sum(len(v) for v in kept if v is not None) <= 1000


def _old_body(g: scene.Grid, digits: int | None) -> bytes:
    """The grid reply as it was built before: one json.dumps of the whole reply."""
    z, color = g.z, g.color
    if digits is not None:
        z = grid_route.round_significant(z, digits)
        color = grid_route.round_significant(color, digits)
    reply = {
        "x": g.x.tolist(),
        "y": g.y.tolist(),
        "z": scene.finite_lists(z),
        "color": scene.finite_lists(color),
        "log_color": g.log_color,
    }
    return json.dumps(reply, allow_nan=False, separators=(",", ":")).encode()


@pytest.mark.parametrize("digits", [None, 3, 7, 15])
@pytest.mark.parametrize("name", scene.landscape_names())
def test_row_by_row_reply_has_the_old_bytes(name: str, digits: int | None) -> None:
    g = scene.grid(name, 23)
    assert grid_route._serialize(g, digits).body == _old_body(g, digits)


def test_non_finite_cells_are_null_as_before() -> None:
    z = np.array([[1.0, np.inf], [np.nan, -2.5]])
    g = scene.Grid(x=np.array([0.0, 1.0]), y=np.array([0.0, 1.0]), z=z, color=z, log_color=False)
    body = grid_route._serialize(g, None).body
    assert body == _old_body(g, None)
    assert json.loads(body)["z"] == [[1.0, None], [None, -2.5]]


def test_many_distinct_grid_requests_stay_within_the_budget(
    client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A small budget, so 200 (resolution, digits) combinations must evict; the real one
    # (GRID_REPLY_BUDGET) is enforced by the same code.
    replies: ByteLRU[Any, Any] = ByteLRU(2 * 2**20, 2**20, grid_route._payload_bytes)
    monkeypatch.setattr(grid_route, "grid_replies", replies)
    monkeypatch.setattr(scene, "grid_cache", ByteLRU(2**20, 2**19, scene._grid_bytes))
    combos = [(8 + i % 100, 3 + i // 100) for i in range(200)]
    for resolution, digits in combos:
        params = {"resolution": resolution, "digits": digits}
        reply = client.get("/api/landscapes/booth/grid", params=params)
        assert reply.status_code == 200
        assert len(reply.json()["x"]) == resolution
        assert replies.bytes <= 2 * 2**20
        assert scene.grid_cache.bytes <= 2**20
    assert 1 < len(replies) < 200  # evicted, and kept the most recent
    assert replies.get(("booth", *combos[-1])) is not None
    assert replies.get(("booth", *combos[0])) is None


def test_each_fresh_grid_hands_its_freed_heap_back(
    client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # glibc keeps the freed temporaries of a big grid: 30 distinct 500-540² grids left
    # the process at 297 MB with 144 MB of caches (236 MB with the trim after each).
    trims: list[str] = []
    monkeypatch.setattr(grid_route, "release_heap", lambda: trims.append("trim"))
    monkeypatch.setattr(
        grid_route, "grid_replies", ByteLRU(2**20, 2**19, grid_route._payload_bytes)
    )
    for resolution in (31, 32):
        assert client.get(
            "/api/landscapes/booth/grid", params={"resolution": resolution}
        ).is_success
    assert client.get("/api/landscapes/booth/grid", params={"resolution": 32}).is_success  # cached
    window = {"x_min": 0, "x_max": 1, "y_min": 0, "y_max": 1, "resolution": 20}
    assert client.get("/api/landscapes/booth/grid", params=window).is_success
    assert trims == ["trim"] * 3
    assert work.release_heap() is None  # the real one runs (a no-op off glibc)


def test_the_real_budgets_are_set_and_documented() -> None:
    assert grid_route.GRID_REPLY_BUDGET == grid_route.grid_replies.budget == 96 * 2**20
    assert scene.GRID_BUDGET == scene.grid_cache.budget == 48 * 2**20
    # The page's 800×800 grid fits each cache's per-entry cap (7 digits: about 17 MB of
    # JSON and gzip; arrays: 10.3 MB).
    assert scene._grid_bytes(scene.grid("booth", 800)) <= scene.GRID_MAX_ENTRY


def test_scene_grids_are_evicted_by_bytes() -> None:
    cache = scene.grid_cache
    for resolution in (800, 799, 798, 797, 796):  # 10 MB each: the fifth evicts the first
        scene.grid("booth", resolution)
        assert cache.bytes <= scene.GRID_BUDGET
    assert cache.get(("booth", 800)) is None
    assert scene.grid("booth", 796) is cache.get(("booth", 796))


def test_identical_concurrent_grid_requests_share_one_computation(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[int] = []
    release = threading.Event()
    serialize = grid_route._serialize

    def slow_serialize(g: scene.Grid, digits: int | None) -> Any:
        calls.append(len(g.x))
        assert release.wait(10)
        return serialize(g, digits)

    monkeypatch.setattr(grid_route, "_serialize", slow_serialize)
    params = {"resolution": 61, "digits": 5}

    async def scenario() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=create_app())
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as c:
            asks = [
                asyncio.create_task(c.get("/api/landscapes/saddle/grid", params=params))
                for _ in range(5)
            ]
            while not calls:
                await asyncio.sleep(0.01)
            await asyncio.sleep(0.2)  # the other four are waiting for the same grid
            release.set()
            return list(await asyncio.gather(*asks))

    replies = asyncio.run(scenario())
    assert calls == [61]
    assert all(r.status_code == 200 for r in replies)
    assert len({r.content for r in replies}) == 1


def test_unknown_landscape_is_still_a_404(client: Any) -> None:
    reply = client.get("/api/landscapes/nope/grid")
    assert reply.status_code == 404
    assert "rosenbrock" in reply.json()["detail"]


def test_uncached_grid_gets_503_when_the_queue_is_full(monkeypatch: pytest.MonkeyPatch) -> None:
    async def scenario() -> tuple[httpx.Response, httpx.Response]:
        transport = httpx.ASGITransport(app=create_app())
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as c:
            cached = await c.get("/api/landscapes/saddle/grid", params={"resolution": 9})
            monkeypatch.setattr(work, "MAX_WAITING", 0)
            refused = await c.get("/api/landscapes/saddle/grid", params={"resolution": 10})
            return cached, refused

    grid_route.grid_replies.clear()
    cached, refused = asyncio.run(scenario())
    assert cached.status_code == 200
    assert refused.status_code == 503
    assert refused.headers["retry-after"] == str(work.RETRY_AFTER_SECONDS)
    assert "busy" in refused.json()["detail"]
