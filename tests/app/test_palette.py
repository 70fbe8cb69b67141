"""The run styles (app.palette): colour, marker shape and dash keep a race of twelve readable.

Seven colour-blind-safe colours cannot tell twenty optimizers apart on their own, so the
table pairs each colour with shapes and dashes; these tests hold the pairing rules and the
promise that any race up to the run limit draws every run in its own style.
"""

from __future__ import annotations

import itertools
import random

import numpy as np
import pytest
from PIL import Image, ImageDraw

import optimizers
from app import config, palette
from app.export.render import dash_pattern, dash_pieces, draw_symbol

NAMED = list(palette.OPTIMIZER_COLORS)
# What issue 14 adds, whether or not it is registered yet: each has its own entry.
PLANNED = (
    *("sgd", "momentum", "nag", "adagrad", "rmsprop", "adam", "adamw", "amsgrad", "nadam"),
    *("radam", "adamax", "adadelta", "adafactor", "rprop", "lion", "lars", "lamb"),
    *("annealing", "genetic"),
)


def test_the_first_builds_six_keep_their_colours_shapes_and_solid_lines() -> None:
    first = {
        "sgd": ("#0072B2", "circle"),
        "momentum": ("#E69F00", "square"),
        "nag": ("#009E73", "diamond"),
        "adagrad": ("#D55E00", "triangle-up"),
        "rmsprop": ("#CC79A7", "triangle-down"),
        "adam": ("#56B4E9", "pentagon"),
    }
    for name, (color, symbol) in first.items():
        assert palette.style_for(name) == palette.RunStyle(color, symbol, "solid")


def test_every_registered_and_planned_optimizer_has_its_own_style() -> None:
    for name in {*optimizers.names(), *PLANNED}:
        assert name in palette.OPTIMIZER_COLORS, name
    styles = [palette.style_for(name) for name in NAMED]
    assert len(set(styles)) == len(styles)
    for style in styles:
        assert style.color in palette.OKABE_ITO
        assert style.symbol in palette.SYMBOLS
        assert style.dash in palette.DASHES


def test_a_shared_colour_or_shape_differs_in_everything_else() -> None:
    for a, b in itertools.combinations(NAMED, 2):
        sa, sb = palette.style_for(a), palette.style_for(b)
        if sa.color == sb.color:
            assert sa.symbol != sb.symbol and sa.dash != sb.dash, (a, b)
        if sa.symbol == sb.symbol:
            assert sa.color != sb.color and sa.dash != sb.dash, (a, b)


def test_no_run_wears_the_minima_or_start_markers() -> None:
    assert not {"star", "circle-open", "x"} & set(palette.SYMBOLS)


@pytest.mark.parametrize("seed", range(4))
def test_any_race_up_to_the_run_limit_gets_distinct_styles(seed: int) -> None:
    rng = random.Random(seed)
    pool = [*NAMED, "my_optimizer", "another_new_one"]
    for _ in range(50):
        size = rng.randint(1, config.MAX_RUNS)
        # repeats allowed, as the API allows them ("Adam #2")
        names = [rng.choice(pool) for _ in range(size)]
        styles = palette.race_styles(names)
        assert len(styles) == len(names)
        assert len(set(styles)) == len(styles), names
        firsts = {name: styles[names.index(name)] for name in names}
        for name, style in firsts.items():
            if name in palette.OPTIMIZER_COLORS:
                assert style == palette.style_for(name)


def test_twelve_runs_of_one_optimizer_each_get_their_own_shape() -> None:
    styles = palette.race_styles(["adam"] * config.MAX_RUNS)
    assert styles[0] == palette.style_for("adam")
    assert len({s.symbol for s in styles}) == config.MAX_RUNS
    assert len({s.color for s in styles}) == len(palette.OKABE_ITO)


def test_a_new_name_gets_a_fixed_dashed_style_no_named_optimizer_wears() -> None:
    new = palette.style_for("my_optimizer")
    assert new == palette.style_for("my_optimizer")
    assert new.dash != "solid"
    assert new not in {palette.style_for(name) for name in NAMED}
    assert {palette.style_for(f"opt{k}") for k in range(20)} - {new}  # not all one style


def test_dash_patterns_are_plotlys() -> None:
    # Plotly.js drawing.dashStyle, in units of max(line width, 3)
    assert dash_pattern("dash", 2) == (9, 9)
    assert dash_pattern("dashdot", 4) == (12, 4, 4, 4)
    assert dash_pattern("solid", 5) == ()
    assert set(palette.DASH_PATTERNS) == set(palette.DASHES)


def _inked(dash: str) -> np.ndarray:
    """A horizontal 300 px path drawn in 1-step pieces (as frames draw it), row of ink."""
    points = np.stack([np.linspace(10, 310, 61), np.full(61, 10.0)], axis=1)
    arc = np.concatenate(([0.0], np.cumsum(np.hypot(*np.diff(points, axis=0).T))))
    image = Image.new("L", (320, 20), 0)
    draw = ImageDraw.Draw(image)
    for k in range(60):
        for coords in dash_pieces(points, arc, k, k + 1, dash_pattern(dash, 3)):
            draw.line(coords, fill=255, width=3)
    return np.asarray(image)[10, 10:310] > 0


@pytest.mark.parametrize("dash", palette.DASHES)
def test_exported_dashes_run_on_across_frames_with_plotlys_period(dash: str) -> None:
    ink = _inked(dash)
    pattern = dash_pattern(dash, 3)
    if not pattern:
        assert ink.all()
        return
    period = int(sum(pattern))
    share = sum(pattern[::2]) / period
    # ImageDraw inks both end pixels of a piece: up to one pixel more per dash
    slack = len(pattern[::2]) / period + 0.03
    assert -0.03 < ink.mean() - share < slack, (dash, ink.mean(), share)
    # the same pattern one period on: the phase did not restart at each piece
    assert (ink[: 300 - period] == ink[period:]).mean() > 0.95


def _mask(symbol: str) -> np.ndarray:
    image = Image.new("L", (100, 100), 0)
    draw_symbol(ImageDraw.Draw(image), symbol, 50, 50, 20, 255, 255)
    return np.asarray(image) > 0


def test_every_run_shape_is_drawn_as_its_own_in_exports() -> None:
    masks = {s: _mask(s) for s in palette.SYMBOLS}
    circle = masks["circle"].sum()
    for symbol, mask in masks.items():
        assert 0.5 * circle <= mask.sum() <= 1.6 * circle, symbol
    for a, b in itertools.combinations(palette.SYMBOLS, 2):
        union = (masks[a] | masks[b]).sum()
        assert (masks[a] & masks[b]).sum() / union < 0.93, (a, b)
