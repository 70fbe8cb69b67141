"""Property tests that hold for every registered landscape."""

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import landscapes

NAMES = landscapes.names()


def point_in_bounds(f: landscapes.Landscape) -> st.SearchStrategy[np.ndarray]:
    (xmin, xmax), (ymin, ymax) = f.bounds
    return st.tuples(st.floats(xmin, xmax), st.floats(ymin, ymax)).map(np.array)


def numerical_grad(f: landscapes.Landscape, p: np.ndarray, h: float) -> np.ndarray:
    """Five-point central differences: error O(h⁴), so the check can be tight."""
    out = np.empty(2)
    for axis in range(2):
        e = np.zeros(2)
        e[axis] = h
        f2, f1, b1, b2 = (f.value(p + k * e) for k in (2, 1, -1, -2))
        out[axis] = (-f2 + 8 * f1 - 8 * b1 + b2) / (12 * h)
    return out


def step_for(f: landscapes.Landscape) -> float:
    (xmin, xmax), (ymin, ymax) = f.bounds
    return 1e-5 * max(xmax - xmin, ymax - ymin)


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_gradient_matches_central_differences(name: str, data: st.DataObject) -> None:
    f = landscapes.get(name)
    h = step_for(f)
    p = data.draw(point_in_bounds(f))
    if name == "ackley":
        # Ackley has a cone tip at the origin; differences across it are meaningless.
        p = p if np.hypot(*p) > 1e-2 else p + 0.5
    g = f.grad(p)
    numeric = numerical_grad(f, p, h)
    # Rounding in the differences grows like eps·|f|/h; truncation is negligible.
    tolerance = 1e-6 * (1 + np.abs(g)) + 1e-13 * (1 + abs(float(f.value(p)))) / h
    assert np.all(np.abs(g - numeric) <= tolerance), (p, g, numeric)


@pytest.mark.parametrize("name", NAMES)
def test_listed_minima_have_their_value_and_zero_gradient(name: str) -> None:
    f = landscapes.get(name)
    assert f.minima, "every landscape marks at least one point"
    for m in f.minima:
        p = np.array([m.x, m.y])
        assert float(f.value(p)) == pytest.approx(m.value, abs=1e-6), m
        assert np.all(np.abs(f.grad(p)) <= 1e-6), (m, f.grad(p))


@pytest.mark.parametrize("name", NAMES)
def test_minima_are_of_the_kind_they_claim(name: str) -> None:
    """Look around each point: all higher for a minimum, both higher and lower for a saddle."""
    f = landscapes.get(name)
    (xmin, xmax), (ymin, ymax) = f.bounds
    angles = np.linspace(0, 2 * np.pi, 16, endpoint=False)
    directions = np.stack([np.cos(angles), np.sin(angles)], axis=-1)
    for m in f.minima:
        assert m.kind in landscapes.KINDS
        assert xmin <= m.x <= xmax and ymin <= m.y <= ymax, m
        around = f.value(np.array([m.x, m.y]) + 1e-3 * directions) - m.value
        if m.kind == "saddle":
            assert around.min() < 0 < around.max(), m
        else:
            assert around.min() > 0, m


@pytest.mark.parametrize("name", NAMES)
def test_global_minima_are_lowest_on_a_grid(name: str) -> None:
    f = landscapes.get(name)
    (xmin, xmax), (ymin, ymax) = f.bounds
    xs, ys = np.meshgrid(np.linspace(xmin, xmax, 301), np.linspace(ymin, ymax, 301))
    grid = f.value(np.stack([xs, ys], axis=-1))
    values = [m.value for m in f.minima if m.kind == "global"]
    if name == "saddle":  # unbounded below: nothing global to mark, only the saddle
        assert not values and grid.min() < f.minima[0].value
        return
    assert values, "a global minimum is listed"
    assert max(values) - min(values) < 1e-6, "all global minima share one value"
    assert grid.min() >= min(values) - 1e-9
    lower = [m for m in f.minima if m.kind == "local" and m.value < min(values)]
    assert not lower, lower


@pytest.mark.parametrize("name", NAMES)
def test_metadata_is_complete(name: str) -> None:
    f = landscapes.get(name)
    assert f.name == name
    assert f.title and f.formula.startswith("f(x, y) = ") and f.latex.startswith("f(x, y) = ")
    (xmin, xmax), (ymin, ymax) = f.bounds
    assert xmin < xmax and ymin < ymax
    x0, y0 = f.default_start
    assert xmin <= x0 <= xmax and ymin <= y0 <= ymax
    assert np.isfinite(f.value(f.default_start))
    # The default start is not a resting point: something moves from there.
    assert np.linalg.norm(f.grad(f.default_start)) > 1e-6


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_batches_of_any_shape(name: str, data: st.DataObject) -> None:
    f = landscapes.get(name)
    (xmin, xmax), (ymin, ymax) = f.bounds
    lead = data.draw(hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4))
    xs = data.draw(hnp.arrays(np.float64, lead, elements=st.floats(xmin, xmax)))
    ys = data.draw(hnp.arrays(np.float64, lead, elements=st.floats(ymin, ymax)))
    xy = np.stack([xs, ys], axis=-1)
    z, g = f.value(xy), f.grad(xy)
    assert z.shape == lead and z.dtype == np.float64
    assert g.shape == (*lead, 2) and g.dtype == np.float64
    assert np.all(np.isfinite(z)) and np.all(np.isfinite(g))
    # Memory layout does not matter, to the last bit.
    assert np.array_equal(f.value(np.asfortranarray(xy)), z)
    flat = xy.reshape(-1, 2)
    for i in range(min(len(flat), 5)):  # the batch agrees with one point at a time
        assert f.value(flat[i]) == z.reshape(-1)[i]
        assert np.array_equal(f.grad(flat[i]), g.reshape(-1, 2)[i])


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("shape", [(2,), (1, 2), (5, 2), (3, 4, 2), (0, 2), (2, 1, 3, 2)])
def test_fixed_shapes_and_inputs_untouched(name: str, shape: tuple[int, ...]) -> None:
    f = landscapes.get(name)
    xy = np.random.default_rng(0).uniform(-1, 1, size=shape)
    before = xy.copy()
    assert f.value(xy).shape == shape[:-1]
    assert f.grad(xy).shape == shape
    assert np.array_equal(xy, before)


@pytest.mark.parametrize("name", NAMES)
def test_gradient_finite_on_the_whole_view(name: str) -> None:
    f = landscapes.get(name)
    (xmin, xmax), (ymin, ymax) = f.bounds
    xs, ys = np.meshgrid(np.linspace(xmin, xmax, 257), np.linspace(ymin, ymax, 257))
    xy = np.stack([xs, ys], axis=-1)
    extra = np.array([[0.0, 0.0], [xmin, ymin], [xmax, ymax], [xmin, ymax], [xmax, ymin]])
    for points in (xy, extra):
        assert np.all(np.isfinite(f.value(points)))
        assert np.all(np.isfinite(f.grad(points)))


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize(
    "bad", [[1.0], [1.0, 2.0, 3.0], 5.0, [[1.0, 2.0, 3.0]], np.zeros((2, 3)), np.zeros((0,))]
)
def test_bad_shapes_raise_value_error(name: str, bad: object) -> None:
    f = landscapes.get(name)
    with pytest.raises(ValueError, match=r"\(\.\.\., 2\)"):
        f.value(bad)
    with pytest.raises(ValueError, match=r"\(\.\.\., 2\)"):
        f.grad(bad)


@pytest.mark.parametrize("bad", ["ab", [["a", "b"]], [[1.0, 2.0], [3.0]], None])
def test_non_numeric_input_raises_value_error(bad: object) -> None:
    f = landscapes.get("rosenbrock")
    with pytest.raises(ValueError, match="xy"):
        f.value(bad)


def test_integer_and_list_input_become_float64() -> None:
    f = landscapes.get("rosenbrock")
    assert f.value([[0, 0], [1, 1]]).dtype == np.float64
    assert f.grad((0, 0)).dtype == np.float64
    assert np.array_equal(f.value([[0, 0], [1, 1]]), [1.0, 0.0])
