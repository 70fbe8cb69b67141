"""The float path (``Optimizer.scalar``, runner note 5.) gives the array path's bits.

The page's runs (one row per optimizer) take the float path; sweeps and basin maps the
array path. ``test_reference.py`` holds both to the reference loop for random scenes;
here each update is compared on its own, over any finite or non-finite input, and
whole runs are compared with the float path switched off.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import landscapes
import optimizers
from optimizers import runner
from optimizers.base import Optimizer, ScalarUpdate

#: Every optimizer with a float path (the gradient-free ones run on arrays only).
NAMES = tuple(n for n in optimizers.names() if optimizers.get(n).scalar is not Optimizer.scalar)

anything = st.floats(allow_nan=True, allow_infinity=True, width=64)
plain = st.floats(-1e6, 1e6)


@st.composite
def one_row(draw: st.DrawFn, name: str) -> Optimizer:
    """Each hyperparameter at its default, a value, its bounds, or a one-row array."""
    params: dict = {}
    for spec in optimizers.spec(name):
        how = draw(st.sampled_from(["default", "value", "per-row"]))
        if how == "default":
            continue
        within = (
            st.integers(int(spec.min), int(spec.max)).map(float)
            if spec.integer  # 0/1 switches such as RMSprop's centered
            else st.floats(spec.min, spec.max)
        )
        value = draw(st.sampled_from([spec.min, spec.max]) | within)
        params[spec.name] = np.array([value]) if how == "per-row" else value
    return optimizers.create(name, **params)


def _state_arrays(state: object) -> dict[str, object]:
    names = getattr(state, "__slots__", ())
    return {
        name: (value.copy() if isinstance(value, np.ndarray) else value)
        for name in names
        if (value := getattr(state, name)) is not None
    }


def _same(a: float, b: float) -> bool:
    return (a == b and math.copysign(1, a) == math.copysign(1, b)) or (a != a and b != b)


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_each_update_has_the_array_updates_bits(name: str, data: st.DataObject) -> None:
    """A few updates from any point with any gradients: the same points and state, bit
    for bit, on floats and on a (1, 2) array; where floats raise, the array is not
    finite (the runner then puts NaN there, see test_a_raising_update_diverges)."""
    opt = data.draw(one_row(name))
    theta = np.array([[data.draw(plain), data.draw(plain)]])
    array_state = opt.init(theta)
    float_state = opt.init(theta)
    step, save = opt.scalar(float_state)
    x, y = theta[0].tolist()
    for _ in range(data.draw(st.integers(1, 4))):
        gradient = st.one_of(plain, anything, st.sampled_from([0.0, -0.0, 1e-300, 1e300]))
        g = np.array([[data.draw(gradient), data.draw(gradient)]])
        lr = data.draw(st.floats(1e-5, 10.0))
        with np.errstate(all="ignore"):
            theta, array_state = opt.update(g, array_state, theta, lr)
        try:
            x, y = step(*g[0].tolist(), x, y, lr)
        except (ArithmeticError, ValueError):
            assert not np.isfinite(theta).all()
            return
        assert _same(x, theta[0, 0]) and _same(y, theta[0, 1]), (x, y, theta)
        save()
        expected, ours = _state_arrays(array_state), _state_arrays(float_state)
        assert expected.keys() == ours.keys()
        for key, value in expected.items():
            np.testing.assert_array_equal(ours[key], value, err_msg=key)


@st.composite
def scenes(draw: st.DrawFn) -> dict:
    f = landscapes.get(draw(st.sampled_from(landscapes.names())))
    (x0, x1), (y0, y1) = f.bounds
    return {
        "f": f,
        "starts": np.array([[draw(st.floats(x0, x1)), draw(st.floats(y0, y1))]]),
        "steps": draw(st.integers(0, 400)),
        "noise": draw(st.sampled_from([0.0, 0.0, 0.3, 2.0])),
        "seed": draw(st.integers(0, 2**32)),
        "schedule": draw(st.sampled_from([None, "cosine", "step"])),
    }


def _arrays_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runner, "FLOAT_ROWS", 0)


@settings(max_examples=60, deadline=None)
@given(scenes(), st.lists(st.sampled_from(NAMES), min_size=1, max_size=12), st.data())
def test_page_scenes_take_the_float_path_with_the_same_bits(
    scene: dict, names: list[str], data: st.DataObject
) -> None:
    """One row per optimizer, every landscape, noise, schedules, up to 12 runs: streamed
    in blocks on floats, the same trajectories as whole on arrays."""
    opts = [data.draw(one_row(name)) for name in names]
    args = (scene["f"], opts, scene["starts"], scene["steps"])
    kw = {"noise": scene["noise"], "seed": scene["seed"], "schedule": scene["schedule"]}
    run = runner._prepare(*args, **kw)
    assert runner._Tile(run, slice(0, run.rows)).floats
    chunk = data.draw(st.integers(1, 200))
    groups = list(optimizers.stream_many(*args, chunk=chunk, **kw))
    with pytest.MonkeyPatch.context() as patch:
        _arrays_only(patch)
        expected = optimizers.run_many(*args, **kw)
    for m, want in enumerate(expected):
        points = np.concatenate([group[m].points for group in groups])
        losses = np.concatenate([group[m].losses for group in groups])
        np.testing.assert_array_equal(points, want.points)
        np.testing.assert_array_equal(losses, want.losses)
        np.testing.assert_array_equal(groups[-1][m].diverged_at, want.diverged_at)


def test_only_one_row_runs_take_the_float_path() -> None:
    f = landscapes.get("rosenbrock")
    one = runner._prepare(f, ["adam", "sgd"], [-1.2, 1.0], 10, 0.0, 0, None)
    assert runner._Tile(one, slice(0, one.rows)).floats
    many = runner._prepare(f, ["adam"], [[-1.2, 1.0], [0.0, 0.0]], 10, 0.0, 0, None)
    assert not runner._Tile(many, slice(0, many.rows)).floats
    sweep = optimizers.create("adam", lr=np.array([0.1, 0.01]))
    rows = runner._prepare(f, [sweep], [-1.2, 1.0], 10, 0.0, 0, None)
    assert not runner._Tile(rows, slice(0, rows.rows)).floats


class _Breaks(Optimizer):
    """SGD whose float update raises at update 3, as a division by zero would."""

    name = "breaks"
    title = "Breaks"
    hyperparams = optimizers.spec("sgd")

    def init(self, theta: np.ndarray) -> None:
        return None

    def update(
        self,
        grad: np.ndarray,
        state: None,
        theta: np.ndarray,
        lr: float | np.ndarray,
        out: np.ndarray | None = None,
        scratch: object = None,
    ) -> tuple[np.ndarray, None]:
        return np.add(theta, grad * -lr, out=out), state

    def scalar(self, state: None) -> tuple[ScalarUpdate, object]:
        count = 0

        def step(gx: float, gy: float, x: float, y: float, lr: float) -> tuple[float, float]:
            nonlocal count
            count += 1
            if count == 3:
                raise ZeroDivisionError
            return x + gx * -lr, y + gy * -lr

        return step, lambda: None


def test_a_raising_update_diverges_there() -> None:
    """NumPy gives ±inf or NaN where float arithmetic raises: the run diverges at that
    update, and the other optimizers of the request go on."""
    f = landscapes.get("rosenbrock")
    broken, fine = _Breaks(lr=1e-3), optimizers.create("sgd", lr=1e-3)
    ours, other = optimizers.run_many(f, [broken, fine], [-1.2, 1.0], 6)
    assert ours.diverged_at[0] == 3
    assert np.isfinite(ours.points[:3]).all() and np.isnan(ours.points[3:]).all()
    np.testing.assert_array_equal(ours.points[:3], other.points[:3])
    assert other.diverged_at[0] == -1 and np.isfinite(other.points).all()
