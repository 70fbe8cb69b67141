"""Definitions checked against published values (Surjanovic & Bingham's VLSE and the
original papers), independently of the minima each landscape lists."""

import warnings

import numpy as np
import pytest

import landscapes

EXPECTED_ORDER = (
    "rosenbrock",
    "saddle",
    "rastrigin",
    "ill_conditioned",
    "beale",
    "himmelblau",
    "ackley",
    "booth",
    "goldstein_price",
    "six_hump_camel",
    "styblinski_tang",
    "faithful_linear",
    "faithful_logistic",
)

# (name, x, y, published global minimum value, decimals the coordinates are printed to)
PUBLISHED_MINIMA = [
    ("rosenbrock", 1.0, 1.0, 0.0, 12),
    ("rastrigin", 0.0, 0.0, 0.0, 12),
    ("ill_conditioned", 0.0, 0.0, 0.0, 12),
    ("beale", 3.0, 0.5, 0.0, 12),
    ("himmelblau", 3.0, 2.0, 0.0, 12),
    ("himmelblau", -2.805118, 3.131312, 0.0, 6),
    ("himmelblau", -3.779310, -3.283186, 0.0, 6),
    ("himmelblau", 3.584428, -1.848126, 0.0, 6),
    ("ackley", 0.0, 0.0, 0.0, 12),
    ("booth", 1.0, 3.0, 0.0, 12),
    ("goldstein_price", 0.0, -1.0, 3.0, 12),
    ("six_hump_camel", 0.0898, -0.7126, -1.0316, 4),
    ("six_hump_camel", -0.0898, 0.7126, -1.0316, 4),
    ("styblinski_tang", -2.903534, -2.903534, -78.332331, 6),
]

# Hand-computed values away from the minima, to pin down each definition.
SPOT_VALUES = [
    ("rosenbrock", 0.0, 0.0, 1.0),
    ("rosenbrock", -1.2, 1.0, 24.2),
    ("saddle", 2.0, 1.0, 3.0),
    ("rastrigin", 1.0, 1.0, 2.0),
    ("rastrigin", 0.5, 0.5, 40.5),
    ("ill_conditioned", -7.0, 2.0, 49 / 20 + 4),
    ("beale", 0.0, 0.0, 14.203125),
    ("himmelblau", 0.0, 0.0, 170.0),
    ("ackley", 1.0, 1.0, 20 - 20 * np.exp(-0.2)),
    ("booth", 0.0, 0.0, 74.0),
    ("goldstein_price", 0.0, 0.0, 600.0),
    ("six_hump_camel", 1.0, 1.0, 4 - 2.1 + 1 / 3 + 1),
    ("styblinski_tang", 1.0, 1.0, -10.0),
]


def test_names_are_all_thirteen_in_teaching_order() -> None:
    assert landscapes.names() == EXPECTED_ORDER


@pytest.mark.parametrize(("name", "x", "y", "value", "decimals"), PUBLISHED_MINIMA)
def test_published_global_minima(name: str, x: float, y: float, value: float, decimals: int):
    f = landscapes.get(name)
    tolerance = 10.0**-decimals
    assert float(f.value([x, y])) == pytest.approx(value, abs=max(tolerance, 1e-9))
    # The listed global minimum is the published one, to the published precision.
    listed = [m for m in f.minima if m.kind == "global"]
    nearest = min(listed, key=lambda m: np.hypot(m.x - x, m.y - y))
    assert abs(nearest.x - x) <= tolerance and abs(nearest.y - y) <= tolerance
    assert nearest.value == pytest.approx(value, abs=max(tolerance, 1e-9))


def test_styblinski_tang_minimum_is_not_the_rounded_textbook_value() -> None:
    f = landscapes.get("styblinski_tang")
    (best,) = [m for m in f.minima if m.kind == "global"]
    assert best.value == pytest.approx(-78.332331, abs=1e-6)
    assert abs(best.value - (-39.16599 * 2)) > 1e-6


def test_himmelblau_lists_all_four_global_minima() -> None:
    f = landscapes.get("himmelblau")
    assert sum(m.kind == "global" for m in f.minima) == 4


def test_six_hump_camel_lists_both_global_minima() -> None:
    f = landscapes.get("six_hump_camel")
    assert sum(m.kind == "global" for m in f.minima) == 2


def test_saddle_marks_its_saddle_point() -> None:
    f = landscapes.get("saddle")
    assert f.minima == (landscapes.Minimum(0.0, 0.0, 0.0, "saddle"),)


@pytest.mark.parametrize(("name", "x", "y", "value"), SPOT_VALUES)
def test_spot_values(name: str, x: float, y: float, value: float) -> None:
    assert float(landscapes.get(name).value([x, y])) == pytest.approx(value, rel=1e-12, abs=1e-12)


def test_ackley_at_the_exact_origin() -> None:
    f = landscapes.get("ackley")
    assert abs(float(f.value([0.0, 0.0]))) < 1e-12
    g = f.grad(np.zeros((3, 2)))
    assert np.all(np.isfinite(g)) and np.all(g == 0.0)
    # Next to the tip the cone's slope is steep but finite: a·b/√2 ≈ 2.83.
    near = f.grad([1e-300, 0.0])
    assert np.all(np.isfinite(near)) and 2.8 < near[0] < 2.9


def test_ill_conditioned_is_the_textbook_scene() -> None:
    f = landscapes.get("ill_conditioned")
    assert f.default_start == (-7.0, 2.0)
    assert f.bounds == ((-10.0, 10.0), (-5.0, 5.0))
    assert np.array_equal(f.grad([-7.0, 2.0]), [-0.7, 4.0])


def test_saddle_start_is_just_off_the_axis() -> None:
    """The lecture scene: the escaping direction starts tiny, so plain SGD stalls."""
    f = landscapes.get("saddle")
    x0, y0 = f.default_start
    assert x0 != 0 and 0 < abs(y0) < 1e-2


def test_far_away_points_overflow_quietly() -> None:
    """The runner detects divergence from inf/nan; no warnings on the way there."""
    far = [[1e200, -1e200], [1e300, 1e300], [-1e308, 1e308]]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for name in landscapes.names():
            f = landscapes.get(name)
            assert f.value(far).shape == (3,) and f.grad(far).shape == (3, 2)
        assert np.isinf(landscapes.get("rosenbrock").value(far)).all()
        assert not np.isfinite(landscapes.get("goldstein_price").grad(far)).any()
