"""Maps as files (app.export.maps): PNG pictures and CSV tables of map replies."""

from __future__ import annotations

import csv
import io
from typing import Any

import numpy as np
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from PIL import Image

from app.export import maps
from app.main import create_app
from app.palette import run_colors
from app.routes import maps_export
from tests.app import map_replies

Reply = tuple[dict[str, Any], dict[str, Any]]


@pytest.fixture(scope="module")
def sweep() -> Reply:
    return map_replies.sweep(count=16, steps=300)


@pytest.fixture(scope="module")
def heatmap() -> Reply:
    return map_replies.heatmap(nx=8, ny=6, steps=300)


@pytest.fixture(scope="module")
def basins() -> Reply:
    return map_replies.basins(resolution=32, steps=200)


def pixels(drawn: maps.Drawn, size: tuple[int, int]) -> np.ndarray:
    with Image.open(io.BytesIO(drawn.png)) as image:
        assert image.format == "PNG" and image.size == size and image.mode == "RGB"
        return np.asarray(image)


def inside(array: np.ndarray, box: tuple[float, float, float, float]) -> np.ndarray:
    left, top, right, bottom = (round(v) for v in box)
    return array[top + 2 : bottom - 1, left + 2 : right - 1]


def count(array: np.ndarray, color: tuple[int, int, int]) -> int:
    return int(np.all(array == np.array(color), axis=-1).sum())


def table(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def number(cell: str) -> float | None:
    return None if cell == "" else float(cell)


# --- sweep --------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_sweep_png_has_each_optimizers_colour_in_both_charts(sweep: Reply, lang: str) -> None:
    body, reply = sweep
    drawn = maps.draw_map("sweep", reply, body, width=640, height=360, lang=lang)
    array = pixels(drawn, (640, 360))
    assert len(drawn.panels) == 2
    for color in run_colors([run["optimizer"] for run in reply["runs"]]):
        rgb = maps.hex_rgb(color)
        for box in drawn.panels:  # the gap chart and the steps-to-settle chart
            assert count(inside(array, box), rgb) >= 20, (color, box)


def test_sweep_marks_diverged_values_on_the_top_edge(sweep: Reply) -> None:
    body, reply = sweep
    drawn = maps.draw_map("sweep", reply, body, width=640, height=360)
    array = pixels(drawn, (640, 360))
    left, top, right, _ = (round(v) for v in drawn.panels[0])
    sgd = reply["runs"][0]
    first = sgd["boundary"]["diverged"]
    assert first is not None and any(d >= 0 for d in sgd["diverged_at"])
    # The × of SGD's first diverged lr sits on the chart's top edge at that lr.
    lrs = np.array(reply["lrs"])
    x = maps.Axis(*maps.padded_range(lrs, True, 0.02), log=True, start=left, end=right)
    px = round(x.pixel(first))
    strip = array[top - 4 : top + 5, px - 4 : px + 5]
    assert count(strip, maps.hex_rgb(run_colors(["sgd"])[0])) > 0


def test_sweep_gaps_below_the_floor_sit_on_it(sweep: Reply) -> None:
    """A subnormal gap (1e-320) or an exact 0 is drawn on the 1e-16 floor, as tune scores it,
    instead of stretching the axis over 300 decades (or failing to take its log)."""
    body, reply = sweep
    runs = [dict(run) for run in reply["runs"]]
    runs[0]["gap"] = [1e-320, 0.0, *runs[0]["gap"][2:]]
    drawn = maps.draw_map("sweep", {**reply, "runs": runs}, body, width=640, height=360)
    ticks = [text for text, box in drawn.texts if box[2] <= drawn.panels[0][0]]
    assert "10⁻¹⁶" in ticks or "10⁻¹⁵" in ticks, ticks
    assert not any(t.startswith("10⁻³") or t.startswith("10⁻²⁰") for t in ticks), ticks


def test_sweep_csv_has_one_row_per_value_equal_to_the_reply(sweep: Reply) -> None:
    _, reply = sweep
    rows = table(maps.render_csv("sweep", reply))
    lrs = reply["lrs"]
    assert len(rows) == len(reply["runs"]) * len(lrs)
    text = maps.render_csv("sweep", reply)
    assert text.startswith(
        "optimizer,lr,final_loss,gap,settled_at,diverged_at,"
        "boundary_stable_lr,boundary_diverged_lr,limit_lr,limit_formula\n"
    )
    for r, run in enumerate(reply["runs"]):
        for j, row in enumerate(rows[r * len(lrs) : (r + 1) * len(lrs)]):
            assert row["optimizer"] == run["optimizer"]
            assert float(row["lr"]) == lrs[j]
            assert number(row["final_loss"]) == run["final_loss"][j]
            assert number(row["gap"]) == run["gap"][j]
            assert int(row["settled_at"]) == run["settled_at"][j]
            assert int(row["diverged_at"]) == run["diverged_at"][j]
            assert number(row["boundary_diverged_lr"]) == run["boundary"]["diverged"]
            assert number(row["limit_lr"]) == run["limit"]
            assert row["limit_formula"] == run["limit_formula"]
    # a diverged value has no gap: an empty cell, never "nan"
    assert any(row["gap"] == "" for row in rows) and "nan" not in maps.render_csv("sweep", reply)


# --- heatmap ------------------------------------------------------------------------------


def test_heatmap_cells_are_drawn_in_their_colour(heatmap: Reply) -> None:
    body, reply = heatmap
    drawn = maps.draw_map("heatmap", reply, body, width=640, height=400)
    array = pixels(drawn, (640, 400))
    colors, what, *_ = maps.heatmap_colors(reply)
    assert what == "maps.export.settle"  # some cells settle: steps to settle are shown
    left, top, right, bottom = drawn.panels[0]
    ny, nx, _ = colors.shape
    for j in range(ny):  # row 0 of `colors` is the top row of cells
        for i in range(nx):
            x = round(left + (i + 0.5) * (right - left) / nx)
            y = round(top + (j + 0.5) * (bottom - top) / ny)
            assert tuple(array[y, x]) == tuple(colors[j, i]), (i, j)
    diverged = np.array(reply["diverged_at"]) >= 0
    never = (np.array(reply["settled_at"]) < 0) & ~diverged
    assert diverged.any() and never.any()  # the fixture shows all three kinds of cell
    assert np.all(colors[::-1][diverged] == maps.DIVERGED)
    assert np.all(colors[::-1][never] == maps.NOT_SETTLED)


def test_heatmap_with_no_settled_cell_shows_the_gap() -> None:
    reply = {
        "f_star": 0.0,
        "x": {"name": "lr", "values": [0.01, 0.1, 1.0, 10.0]},
        "y": {"name": "beta1", "values": [0.0, 0.3, 0.6, 0.9]},
        "settled_at": [[-1] * 4] * 4,
        "gap": [[1.0, 0.1, 0.01, None]] * 4,
        "diverged_at": [[-1, -1, -1, 7]] * 4,
    }
    colors, what, low, high, log = maps.heatmap_colors(reply)
    assert (what, low, high, log) == ("maps.export.gapLog", -2.0, 0.0, True)
    assert np.all(colors[:, 3] == maps.DIVERGED)
    assert len({tuple(c) for c in colors[0, :3]}) == 3
    png = maps.draw_map("heatmap", reply, None, width=320, height=240, lang="ja").png
    with Image.open(io.BytesIO(png)) as image:
        assert image.size == (320, 240)


def test_heatmap_csv_has_one_row_per_cell(heatmap: Reply) -> None:
    _, reply = heatmap
    rows = table(maps.render_csv("heatmap", reply))
    xs, ys = reply["x"]["values"], reply["y"]["values"]
    assert list(rows[0]) == ["lr", "momentum", "settled_at", "gap", "diverged_at"]
    assert len(rows) == len(xs) * len(ys)
    for row in rows:
        i, j = xs.index(float(row["lr"])), ys.index(float(row["momentum"]))
        assert int(row["settled_at"]) == reply["settled_at"][j][i]
        assert number(row["gap"]) == reply["gap"][j][i]
        assert int(row["diverged_at"]) == reply["diverged_at"][j][i]


# --- basins -------------------------------------------------------------------------------


def chromaticity(array: np.ndarray) -> np.ndarray:
    """Colour over its brightest channel: a shaded basin keeps its minimum's value."""
    rgb = array.reshape(-1, 3).astype(float)
    return rgb / np.maximum(rgb.max(axis=1, keepdims=True), 1.0)


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_basins_png_shows_every_minimum_of_himmelblau_in_its_own_colour(
    basins: Reply, lang: str
) -> None:
    body, reply = basins
    drawn = maps.draw_map("basins", reply, body, width=640, height=360, lang=lang)
    array = pixels(drawn, (640, 360))
    assert len(drawn.panels) == len(reply["runs"]) == 2
    colors = maps.minimum_colors(len(reply["minima"]))
    assert len(reply["minima"]) == 4 and len(set(colors)) == 4
    for box in drawn.panels:
        seen = chromaticity(inside(array, box))
        total = len(seen)
        for color in colors:
            share = np.all(np.abs(seen - chromaticity(np.array(color))) < 0.03, axis=1).mean()
            # each of the four basins covers a good part of the map, in its own colour
            assert share > 0.1 * (total > 0), (color, share)


def test_basins_are_darker_where_starts_settle_later(basins: Reply) -> None:
    _, reply = basins
    label = maps.decode_array(reply["runs"][1]["label"])
    settled = maps.decode_array(reply["runs"][1]["settled_at"]).astype(float)
    colors = maps.minimum_colors(4)
    picture = maps.basin_picture(label, settled, colors, slow=settled.max(), fast=0.0)[::-1]
    k = int(label[label >= 0][0])
    rows = label == k
    fast, slow = np.argmin(np.where(rows, settled, np.inf)), np.argmax(np.where(rows, settled, -1))
    bright = picture.reshape(-1, 3).astype(int).sum(axis=1)
    assert settled.ravel()[fast] < settled.ravel()[slow]
    assert bright[fast] > bright[slow]
    assert np.all(picture[label == -2] == maps.NOT_SETTLED)


def test_basins_csv_has_one_row_per_start(basins: Reply) -> None:
    _, reply = basins
    rows = table(maps.render_csv("basins", reply))
    n = len(reply["xs"])
    assert len(rows) == len(reply["runs"]) * n * n
    assert list(rows[0]) == [
        "optimizer",
        "x",
        "y",
        "outcome",
        "minimum",
        "minimum_x",
        "minimum_y",
        "settled_at",
    ]
    for r, run in enumerate(reply["runs"]):
        label = maps.decode_array(run["label"])
        settled = maps.decode_array(run["settled_at"])
        for row in rows[r * n * n : (r + 1) * n * n : 37]:
            i, j = reply["xs"].index(float(row["x"])), reply["ys"].index(float(row["y"]))
            k = label[j, i]
            assert int(row["minimum"]) == k and int(row["settled_at"]) == settled[j, i]
            if k >= 0:
                assert row["outcome"] == "minimum"
                assert float(row["minimum_x"]) == reply["minima"][k]["x"]
            else:
                assert row["outcome"] == ("diverged" if k == -1 else "not_settled")
                assert row["minimum_x"] == ""


def test_basin_shares_add_up_to_one(basins: Reply) -> None:
    _, reply = basins
    for shares in maps.basin_shares(reply):
        assert sum(shares.values()) == pytest.approx(1.0)
        assert list(shares.values()) == sorted(shares.values(), reverse=True)


# --- tune ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tune() -> Reply:
    return map_replies.tune(budget=6, steps=100)


def test_tune_png_has_a_chart_per_optimizer_and_method_in_its_colour(tune: Reply) -> None:
    body, reply = tune
    drawn = maps.draw_map("tune", reply, body, width=640, height=400, lang="ja")
    array = pixels(drawn, (640, 400))
    assert len(drawn.panels) == 2 * 3
    colors = run_colors([run["optimizer"] for run in reply["runs"]])
    for i, color in enumerate(colors):
        for box in drawn.panels[3 * i : 3 * i + 3]:  # a row per optimizer
            assert count(inside(array, box), maps.hex_rgb(color)) >= 10, (color, box)
    bayes = drawn.panels[2]  # the surrogate's band and expected improvement are drawn
    assert count(inside(array, bayes), maps.BAND) > 100
    assert count(inside(array, bayes), maps.EI) > 10


def test_tune_in_two_dimensions_draws_the_plane() -> None:
    body, reply = map_replies.tune(budget=6, steps=100, extra=True)
    drawn = maps.draw_map("tune", reply, body, width=480, height=300)
    pixels(drawn, (480, 300))
    assert len(drawn.panels) == 3
    header, *rows = list(csv.reader(io.StringIO(maps.render_csv("tune", reply))))
    assert header == ["optimizer", "method", "trial", "lr", "momentum", "score", "gap", "best"]
    trials = [t for m in reply["runs"][0]["methods"] for t in m["trials"]]
    assert [[float(r[3]), float(r[4])] for r in rows] == [t["values"] for t in trials]


def test_tune_csv_has_one_row_per_trial_and_marks_each_best(tune: Reply) -> None:
    _, reply = tune
    rows = table(maps.render_csv("tune", reply))
    assert list(rows[0]) == ["optimizer", "method", "trial", "lr", "score", "gap", "best"]
    expected = [
        (run["optimizer"], m["method"], t, m["best"])
        for run in reply["runs"]
        for m in run["methods"]
        for t in m["trials"]
    ]
    assert len(rows) == len(expected) == 2 * 3 * 6
    for row, (name, method, trial, best) in zip(rows, expected, strict=True):
        assert (row["optimizer"], row["method"], int(row["trial"])) == (
            name,
            method,
            trial["index"],
        )
        assert float(row["lr"]) == trial["values"][0]
        assert number(row["score"]) == trial["score"] and number(row["gap"]) == trial["gap"]
        assert row["best"] == ("1" if best is not None and trial["index"] == best["index"] else "0")
    assert sum(row["best"] == "1" for row in rows) == 6


# --- layout -------------------------------------------------------------------------------


def overlap(a: tuple[float, ...], b: tuple[float, ...], slack: float = 0.5) -> bool:
    return (
        a[0] < b[2] - slack and b[0] < a[2] - slack and a[1] < b[3] - slack and b[1] < a[3] - slack
    )


@pytest.mark.parametrize("size", [(1024, 768), (1280, 720), (1920, 1080), (640, 360), (320, 240)])
@pytest.mark.parametrize("lang", ["en", "ja"])
def test_every_map_fits_its_picture_without_overlaps(
    size: tuple[int, int],
    lang: str,
    sweep: Reply,
    heatmap: Reply,
    basins: Reply,
    tune: Reply,
) -> None:
    width, height = size
    for kind, (body, reply) in zip(maps.KINDS, (sweep, heatmap, basins, tune), strict=True):
        drawn = maps.draw_map(kind, reply, body, width, height, lang)
        boxes = [box for _, box in drawn.texts]
        for text, (left, top, right, bottom) in drawn.texts:  # no text cut by the edges
            assert left >= 0 and top >= 0 and right <= width and bottom <= height, (kind, text)
        for i, a in enumerate(drawn.panels):
            assert a[0] >= 0 and a[1] >= 0 and a[2] <= width and a[3] <= height, kind
            assert not any(overlap(a, b) for b in drawn.panels[i + 1 :]), kind
            # words stay off the plots, but for the limits' formulas written inside them
            inside = [t for t, box in drawn.texts if overlap(a, box, 1.0)]
            assert all("λmax" in t for t in inside), (kind, inside)
        clashes = [
            (drawn.texts[i][0], drawn.texts[j][0])
            for i in range(len(boxes))
            for j in range(i + 1, len(boxes))
            if overlap(boxes[i], boxes[j], 1.0)
        ]
        assert clashes == [], (kind, size, lang)


# --- helpers ------------------------------------------------------------------------------


def test_minimum_colours_stay_distinct_for_many_minima() -> None:
    colors = maps.minimum_colors(100)
    assert len(set(colors)) == 100
    assert maps.DIVERGED not in colors and maps.NOT_SETTLED not in colors


def test_unknown_kind_is_a_value_error_naming_the_kinds(sweep: Reply) -> None:
    with pytest.raises(ValueError, match="sweep, heatmap, basins, tune"):
        maps.draw_map("contour", sweep[1])
    with pytest.raises(ValueError, match="sweep, heatmap, basins, tune"):
        maps.render_csv("contour", sweep[1])


# --- POST /api/maps/<kind>/export ---------------------------------------------------------


@pytest.fixture(scope="module")
def app() -> FastAPI:
    app = create_app()
    if not any(getattr(r, "path", None) == "/api/maps/sweep/export" for r in app.routes):
        app.include_router(maps_export.router)  # until app.main registers it
    return app


EXPORT_BODIES: dict[str, dict[str, Any]] = {
    "sweep": {
        "landscape": "ill_conditioned",
        "steps": 80,
        "runs": [{"optimizer": "sgd"}, {"optimizer": "adam"}],
        "lr": {"count": 16},
    },
    "heatmap": {
        "landscape": "ill_conditioned",
        "steps": 80,
        "runs": [{"optimizer": "momentum"}],
        "x": {"name": "lr", "count": 5},
        "y": {"name": "momentum", "count": 4},
    },
    "basins": {
        "landscape": "himmelblau",
        "steps": 100,
        "resolution": 16,
        "runs": [{"optimizer": "sgd", "params": {"lr": 0.01}}],
    },
    "tune": {"landscape": "rosenbrock", "steps": 40, "budget": 4, "runs": [{"optimizer": "adam"}]},
}


@pytest.mark.parametrize("kind", maps.KINDS)
def test_export_route_sends_the_png_and_csv_of_the_map(client: TestClient, kind: str) -> None:
    body = EXPORT_BODIES[kind]
    response = client.post(
        f"/api/maps/{kind}/export?format=png&width=400&height=300&lang=ja", json=body
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/png"
    landscape = body["landscape"]
    disposition = response.headers["content-disposition"]
    assert disposition == f'attachment; filename="gradscape-{kind}-{landscape}.png"'
    with Image.open(io.BytesIO(response.content)) as image:
        assert image.size == (400, 300)

    response = client.post(f"/api/maps/{kind}/export?format=csv", json=body)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    reply = maps_export.map_data(kind, maps_export.REQUESTS[kind].model_validate(body))
    assert response.text == maps.render_csv(kind, reply)  # the map the API computes


@pytest.mark.parametrize(
    ("kind", "query", "body", "field"),
    [
        ("sweep", "format=gif", EXPORT_BODIES["sweep"], "format"),
        ("sweep", "width=10", EXPORT_BODIES["sweep"], "width"),
        ("basins", "lang=fr", EXPORT_BODIES["basins"], "lang"),
        ("sweep", "", {**EXPORT_BODIES["sweep"], "lr": {"count": 4}}, "count"),
        ("basins", "", {**EXPORT_BODIES["basins"], "runs": [{"optimizer": "nope"}]}, "runs"),
        ("tune", "", {**EXPORT_BODIES["tune"], "budget": 1000}, "budget"),
    ],
)
def test_export_route_names_the_bad_field(
    client: TestClient, kind: str, query: str, body: dict[str, Any], field: str
) -> None:
    response = client.post(f"/api/maps/{kind}/export?{query}", json=body)
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert any(field in [str(p) for p in issue["loc"]] for issue in detail), detail
