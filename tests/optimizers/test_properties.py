"""Properties of the runner: batching, per-row values, noise, divergence, streaming."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import landscapes
import optimizers
from optimizers import runner

#: The gradient methods: a gradient-free one draws its random numbers for all its rows at
#: once, so (as with noise) a row of a batch is not the run of its start alone
#: (tests/optimizers/test_gradient_free.py holds what does hold for them).
NAMES = tuple(
    n for n in optimizers.names() if not issubclass(optimizers.get(n), optimizers.GradientFree)
)

# a few valid hyperparameter settings per optimizer, inside the spec ranges
SETTINGS = {
    "sgd": [{"lr": 1e-3}, {"lr": 5e-3, "weight_decay": 0.1}],
    "momentum": [{"lr": 1e-3}, {"lr": 2e-3, "momentum": 0.5, "dampening": 0.3}],
    "nag": [{"lr": 1e-3}, {"lr": 1e-3, "momentum": 0.99, "weight_decay": 0.05}],
    "adagrad": [{"lr": 0.1}, {"lr": 0.3, "lr_decay": 0.1, "initial_accumulator_value": 0.5}],
    "rmsprop": [
        {"lr": 0.01},
        {"lr": 0.01, "momentum": 0.9, "alpha": 0.9},
        {"lr": 0.01, "centered": 1, "weight_decay": 0.1},
    ],
    "adam": [{"lr": 0.05}, {"lr": 0.02, "beta1": 0.3, "beta2": 0.99, "weight_decay": 0.1}],
    "adamw": [{"lr": 0.05}, {"lr": 0.02, "beta1": 0.3, "weight_decay": 0.5}],
    "amsgrad": [{"lr": 0.05}, {"lr": 0.02, "beta2": 0.9, "weight_decay": 0.1}],
    "nadam": [
        {"lr": 0.05},
        {"lr": 0.02, "momentum_decay": 0.1, "weight_decay": 0.1, "decoupled_weight_decay": 1},
    ],
    "radam": [{"lr": 0.01}, {"lr": 0.01, "beta2": 0.9, "weight_decay": 0.1}],
    "adamax": [{"lr": 0.05}, {"lr": 0.02, "beta2": 0.9, "eps": 1e-3, "weight_decay": 0.1}],
    "adadelta": [{"lr": 1.0}, {"lr": 3.0, "rho": 0.5, "eps": 1e-4, "weight_decay": 0.1}],
    "adafactor": [{"lr": 0.01}, {"lr": 0.1, "beta2_decay": -0.5, "d": 2.0, "weight_decay": 0.1}],
    "rprop": [{"lr": 0.01}, {"lr": 0.1, "etaminus": 0.3, "etaplus": 1.5, "step_size_max": 1.0}],
    # optax's (the optax helper's suggestion)
    "lion": [{"lr": 1e-3}, {"lr": 0.01, "beta1": 0.5, "weight_decay": 0.1}],
    "lars": [
        {"lr": 1.0},
        {"lr": 2.0, "momentum": 0.5, "trust_coefficient": 0.01, "weight_decay": 0.05},
    ],
    "lamb": [{"lr": 0.01}, {"lr": 0.02, "beta1": 0.5, "eps": 1e-3, "weight_decay": 0.1}],
}
SCHEDULES = [
    None,
    optimizers.schedule("step", step_size=7, gamma=0.5),
    optimizers.schedule("exponential", gamma=0.95, warmup=4),
    optimizers.schedule("inverse_time", decay=0.1),
    optimizers.schedule("cosine", t_max=9, min_factor=0.1, warmup=3),
]


@st.composite
def scenes(draw: st.DrawFn) -> dict:
    f = landscapes.get(draw(st.sampled_from(landscapes.names())))
    (x0, x1), (y0, y1) = f.bounds
    rows = draw(st.integers(1, 5))
    xs = draw(st.lists(st.floats(x0, x1), min_size=rows, max_size=rows))
    ys = draw(st.lists(st.floats(y0, y1), min_size=rows, max_size=rows))
    name = draw(st.sampled_from(NAMES))
    return {
        "f": f,
        "name": name,
        "params": draw(st.sampled_from(SETTINGS[name])),
        "starts": np.column_stack([xs, ys]),
        "steps": draw(st.integers(0, 40)),
        "schedule": draw(st.sampled_from(SCHEDULES)),
    }


def _run(scene: dict, starts: np.ndarray | None = None, **kwargs) -> optimizers.Trajectory:
    opt = optimizers.create(scene["name"], **kwargs.pop("params", scene["params"]))
    return optimizers.run(
        scene["f"],
        opt,
        scene["starts"] if starts is None else starts,
        scene["steps"],
        schedule=scene["schedule"],
        **kwargs,
    )


@settings(max_examples=60, deadline=None)
@given(scenes())
def test_batch_equals_single_runs(scene: dict) -> None:
    batch = _run(scene)
    for k, start in enumerate(scene["starts"]):
        single = _run(scene, starts=start)
        np.testing.assert_array_equal(batch.points[:, k], single.points[:, 0])
        np.testing.assert_array_equal(batch.losses[:, k], single.losses[:, 0])
        assert batch.diverged_at[k] == single.diverged_at[0]


@settings(max_examples=40, deadline=None)
@given(scenes(), st.data())
def test_per_row_hyperparameters_equal_separate_runs(scene: dict, data: st.DataObject) -> None:
    rows = len(scene["starts"])
    specs = {s.name: s for s in optimizers.spec(scene["name"])}
    chosen = data.draw(st.sets(st.sampled_from(sorted(specs)), min_size=1))
    per_row = dict(scene["params"])
    for name in chosen:
        s = specs[name]
        low, high = (s.min, min(s.max, 0.05)) if name == "lr" else (s.min, s.max)
        values = st.integers(int(low), int(high)).map(float) if s.integer else st.floats(low, high)
        per_row[name] = data.draw(st.lists(values, min_size=rows, max_size=rows).map(np.array))
    together = _run(scene, params=per_row)
    for k in range(rows):
        row = {n: (v[k] if isinstance(v, np.ndarray) else v) for n, v in per_row.items()}
        alone = _run(scene, starts=scene["starts"][k], params=row)
        np.testing.assert_array_equal(together.points[:, k], alone.points[:, 0])
        assert together.diverged_at[k] == alone.diverged_at[0]


@settings(max_examples=30, deadline=None)
@given(scenes(), st.integers(0, 2**32), st.floats(0.01, 3.0))
def test_noise_is_reproducible_and_seeded(scene: dict, seed: int, sigma: float) -> None:
    first = _run(scene, noise=sigma, seed=seed)
    again = _run(scene, noise=sigma, seed=seed)
    np.testing.assert_array_equal(first.points, again.points)
    np.testing.assert_array_equal(first.losses, again.losses)
    # Rprop's and Lion's steps, and Adafactor's first, see only the gradient's signs:
    # noise that flips none leaves their path as it was
    name = scene["name"]
    sign_only = name in ("rprop", "lion") or (name == "adafactor" and scene["steps"] < 2)
    if scene["steps"] > 0 and (first.diverged_at == -1).all() and not sign_only:
        other = _run(scene, noise=sigma, seed=seed + 1)
        assert not np.array_equal(first.points[1:], other.points[1:])


def test_noise_is_one_draw_per_update_in_order() -> None:
    """SGD's steps reveal the noise: it must be σ·z_t, z_t the t-th (K, 2) draw."""
    f = landscapes.get("booth")
    starts = np.array([[1.0, 2.0], [-3.0, 0.5], [0.0, 0.0]])
    lr, sigma, steps = 1e-3, 0.7, 25
    traj = optimizers.run(f, optimizers.create("sgd", lr=lr), starts, steps, noise=sigma, seed=42)
    rng = np.random.default_rng(42)
    theta = starts
    for t in range(steps):
        theta = theta + -lr * (f.grad(theta) + sigma * rng.standard_normal((3, 2)))
        np.testing.assert_array_equal(traj.points[t + 1], theta)


def test_every_optimizer_sees_the_same_noise() -> None:
    """Common random numbers: the noise recovered from SGD's and momentum's steps agrees."""
    f = landscapes.get("himmelblau")
    lr, mu, sigma, steps = 1e-3, 0.9, 0.8, 30
    start = np.array([[0.5, -0.5], [2.0, 1.0]])
    sgd = optimizers.run(f, optimizers.create("sgd", lr=lr), start, steps, noise=sigma, seed=3)
    mom = optimizers.run(
        f, optimizers.create("momentum", lr=lr, momentum=mu), start, steps, noise=sigma, seed=3
    )
    z_sgd = (sgd.points[:-1] - sgd.points[1:]) / lr - f.grad(sgd.points[:-1])
    buf = (mom.points[:-1] - mom.points[1:]) / lr  # b_t, the direction of update t
    g = buf.copy()
    g[1:] -= mu * buf[:-1]  # b_t = μ·b_{t−1} + g_t
    z_mom = g - f.grad(mom.points[:-1])
    np.testing.assert_allclose(z_sgd, z_mom, atol=1e-8)
    assert np.abs(z_sgd).max() > 0.1


@pytest.mark.parametrize(
    ("landscape", "name", "params", "start"),
    [
        ("ill_conditioned", "sgd", {"lr": 1.5}, (-7.0, 2.0)),
        ("rosenbrock", "sgd", {"lr": 0.01}, (-1.5, 2.0)),
        ("rosenbrock", "momentum", {"lr": 0.01}, (-1.5, 2.0)),
        ("rosenbrock", "nag", {"lr": 0.05}, (-1.5, 2.0)),
        ("goldstein_price", "sgd", {"lr": 1.0}, (-1.0, 1.0)),
        ("saddle", "rmsprop", {"lr": 10.0, "momentum": 0.9999}, (0.1, 0.1)),
    ],
)
def test_divergence_is_marked_without_warnings(
    landscape: str, name: str, params: dict, start: tuple
) -> None:
    f = landscapes.get(landscape)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(all="raise"):  # would raise if the runner let a float error out
            traj = optimizers.run(f, optimizers.create(name, **params), start, 3000)
    at = int(traj.diverged_at[0])
    assert at > 0
    assert np.isnan(traj.points[at:]).all() and np.isnan(traj.losses[at:]).all()
    assert np.isfinite(traj.points[:at]).all() and np.isfinite(traj.losses[:at]).all()
    assert (np.abs(traj.points[:at]) <= optimizers.LIMIT).all()
    # the state before divergence is the plain result: a shorter run ends at the same point
    short = optimizers.run(f, optimizers.create(name, **params), start, at - 1)
    np.testing.assert_array_equal(short.points, traj.points[:at])
    assert short.diverged_at[0] == -1


def test_divergence_is_per_row() -> None:
    f = landscapes.get("ill_conditioned")
    opt = optimizers.create("sgd", lr=[0.5, 1.5, 0.9])
    traj = optimizers.run(f, opt, (-7.0, 2.0), 200)
    assert traj.diverged_at[0] == -1 and traj.diverged_at[2] == -1
    assert traj.diverged_at[1] > 0
    assert np.isfinite(traj.points[:, [0, 2]]).all()


def test_magnitude_limit_counts_as_divergence() -> None:
    """|coordinate| > 1e6 diverges even while everything is still finite."""
    f = landscapes.get("ill_conditioned")
    traj = optimizers.run(f, optimizers.create("sgd", lr=1.5), (0.0, 1.0), 40)
    at = int(traj.diverged_at[0])
    # y_t = (1 − 2·1.5)^t = (−2)^t leaves [−1e6, 1e6] at t = 20 (2^20 ≈ 1.05e6)
    assert at == 20


@settings(max_examples=40, deadline=None)
@given(scenes(), st.integers(1, 50), st.sampled_from([0.0, 0.5]))
def test_stream_concatenated_equals_run(scene: dict, chunk: int, sigma: float) -> None:
    opt = optimizers.create(scene["name"], **scene["params"])
    args = (scene["f"], opt, scene["starts"], scene["steps"])
    kw = {"noise": sigma, "seed": 11, "schedule": scene["schedule"]}
    whole = optimizers.run(*args, **kw)
    blocks = list(optimizers.stream(*args, chunk=chunk, **kw))
    offsets = [b.offset for b in blocks]
    assert offsets == list(range(0, scene["steps"] + 1, chunk))
    for offset, points, losses in blocks:
        assert len(points) == len(losses) <= chunk
        assert not points.flags.writeable
        assert offset >= 0
    np.testing.assert_array_equal(np.concatenate([b.points for b in blocks]), whole.points)
    np.testing.assert_array_equal(np.concatenate([b.losses for b in blocks]), whole.losses)
    np.testing.assert_array_equal(blocks[-1].diverged_at, whole.diverged_at)


def test_stream_reports_divergence_as_it_happens() -> None:
    f = landscapes.get("ill_conditioned")
    blocks = list(optimizers.stream(f, optimizers.create("sgd", lr=1.5), (0.0, 1.0), 60, chunk=10))
    seen = [int(b.diverged_at[0]) for b in blocks]
    assert seen == [-1, -1, 20, 20, 20, 20, 20]


def test_cosine_t_max_defaults_to_steps() -> None:
    sched = optimizers.schedule("cosine")
    # every factor against CosineAnnealingLR's closed form with T_max = 5, eta_min = 0
    expected = [(1 + np.cos(np.pi * t / 5)) / 2 for t in range(5)]
    np.testing.assert_allclose(sched.factors(5), expected, rtol=1e-15, atol=1e-16)
    assert sched.factors(5)[-1] == pytest.approx((1 + np.cos(4 * np.pi / 5)) / 2)
    explicit = optimizers.schedule("cosine", t_max=5)
    np.testing.assert_array_equal(sched.factors(5), explicit.factors(5))


def test_warmup_then_schedule_from_its_end() -> None:
    sched = optimizers.schedule("step", step_size=2, gamma=0.5, warmup=4)
    np.testing.assert_allclose(sched.factors(9), [0.25, 0.5, 0.75, 1, 1, 1, 0.5, 0.5, 0.25])
    cosine = optimizers.schedule("cosine", t_max=2, min_factor=0.0)
    # past t_max the cosine comes back up (torch's periodic continuation)
    np.testing.assert_allclose(cosine.factors(5), [1, 0.5, 0, 0.5, 1], atol=1e-15)


class _DuckLandscape:
    """Not a landscapes.Landscape: only value() and grad(), the runner's generic path."""

    def __init__(self, name: str) -> None:
        self.inner = landscapes.get(name)

    def value(self, xy: np.ndarray) -> np.ndarray:
        return self.inner.value(xy)

    def grad(self, xy: np.ndarray) -> np.ndarray:
        return self.inner.grad(xy)


def _blocks(scene: dict, opt: optimizers.Optimizer, chunk: int, sigma: float, f=None) -> tuple:
    blocks = list(
        optimizers.stream(
            f or scene["f"],
            opt,
            scene["starts"],
            scene["steps"],
            noise=sigma,
            seed=2,
            schedule=scene["schedule"],
            chunk=chunk,
        )
    )
    return (
        np.concatenate([b.points for b in blocks]),
        np.concatenate([b.losses for b in blocks]),
        blocks[-1].diverged_at,
    )


@settings(max_examples=40, deadline=None)
@given(scenes(), st.integers(1, 12), st.sampled_from([0.0, 0.7]), st.booleans())
def test_tiles_threads_and_per_update_losses_change_nothing(
    scene: dict, chunk: int, sigma: float, per_row: bool
) -> None:
    """Wide runs are split into row tiles on a thread pool and compute losses per update;
    forcing that on small runs must give the very same numbers as the narrow path."""
    params = dict(scene["params"])
    if per_row:
        params["lr"] = params["lr"] * np.linspace(0.5, 3.0, len(scene["starts"]))
    opt = optimizers.create(scene["name"], **params)
    narrow = _blocks(scene, opt, chunk, sigma)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(runner, "TILE_ROWS", 2)
        patch.setattr(runner, "LOSS_POINTS", 1)
        wide = _blocks(scene, opt, chunk, sigma)
    duck = _blocks(scene, opt, chunk, sigma, f=_DuckLandscape(scene["f"].name))
    for other in (wide, duck):
        for ours, theirs in zip(narrow, other, strict=True):
            np.testing.assert_array_equal(ours, theirs)


def test_wide_tiles_diverge_per_row() -> None:
    f = landscapes.get("ill_conditioned")
    lrs = np.array([0.5, 1.5, 0.9, 1.2, 0.01])
    opt = optimizers.create("sgd", lr=lrs)
    narrow = optimizers.run(f, opt, (-7.0, 2.0), 80)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(runner, "TILE_ROWS", 2)
        patch.setattr(runner, "LOSS_POINTS", 1)
        wide = optimizers.run(f, opt, (-7.0, 2.0), 80)
    assert (narrow.diverged_at[[1, 3]] > 0).all() and (narrow.diverged_at[[0, 2, 4]] == -1).all()
    np.testing.assert_array_equal(narrow.points, wide.points)
    np.testing.assert_array_equal(narrow.losses, wide.losses)
    np.testing.assert_array_equal(narrow.diverged_at, wide.diverged_at)


# --- lockstep: several optimizers advanced together ------------------------------------


@st.composite
def requests(draw: st.DrawFn) -> dict:
    """One request's runs: shared landscape/starts/steps/schedule, 1–6 optimizers, some
    with per-row values (one start then fans out to their K rows)."""
    scene = draw(scenes())
    rows = len(scene["starts"])
    if rows == 1 and draw(st.booleans()):
        rows = draw(st.integers(2, 4))  # one start, per-row sweeps of `rows` values
    opts = []
    for name in draw(st.lists(st.sampled_from(NAMES), min_size=1, max_size=6)):
        params = dict(draw(st.sampled_from(SETTINGS[name])))
        if draw(st.booleans()) and (rows > 1 or len(scene["starts"]) > 1):
            params["lr"] = params["lr"] * np.linspace(0.5, 3.0, rows)
        opts.append(optimizers.create(name, **params))
    return {**scene, "opts": opts}


def _assert_same(ours: optimizers.Trajectory, theirs: optimizers.Trajectory) -> None:
    np.testing.assert_array_equal(ours.points, theirs.points)
    np.testing.assert_array_equal(ours.losses, theirs.losses)
    np.testing.assert_array_equal(ours.diverged_at, theirs.diverged_at)


@settings(max_examples=60, deadline=None)
@given(requests(), st.sampled_from([0.0, 0.7]), st.integers(1, 50))
def test_run_many_equals_separate_runs_bit_for_bit(request: dict, sigma: float, chunk: int) -> None:
    args = (request["f"], request["opts"], request["starts"], request["steps"])
    kw = {"noise": sigma, "seed": 5, "schedule": request["schedule"]}
    together = optimizers.run_many(*args, **kw)
    assert len(together) == len(request["opts"])
    for opt, ours in zip(request["opts"], together, strict=True):
        _assert_same(ours, optimizers.run(request["f"], opt, *args[2:], **kw))
    # streamed in blocks, concatenated: the same again
    groups = list(optimizers.stream_many(*args, chunk=chunk, **kw))
    assert [g[0].offset for g in groups] == list(range(0, request["steps"] + 1, chunk))
    for m, ours in enumerate(together):
        blocks = [group[m] for group in groups]
        assert all(b.offset == g[0].offset for b, g in zip(blocks, groups, strict=True))
        assert not blocks[0].points.flags.writeable
        streamed = optimizers.Trajectory(
            np.concatenate([b.points for b in blocks]),
            np.concatenate([b.losses for b in blocks]),
            blocks[-1].diverged_at,
        )
        _assert_same(streamed, ours)


@settings(max_examples=30, deadline=None)
@given(requests(), st.sampled_from([0.0, 0.7]))
def test_lockstep_tiles_threads_and_per_update_losses_change_nothing(
    request: dict, sigma: float
) -> None:
    """Tiles two rows wide straddle optimizer boundaries and run on the pool; the generic
    (duck-typed) landscape path stacks gradients by copy: all bit-identical."""
    args = (request["opts"], request["starts"], request["steps"])
    kw = {"noise": sigma, "seed": 9, "schedule": request["schedule"]}
    narrow = optimizers.run_many(request["f"], *args, **kw)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(runner, "TILE_ROWS", 2)
        patch.setattr(runner, "LOSS_POINTS", 1)
        wide = optimizers.run_many(request["f"], *args, **kw)
    duck = optimizers.run_many(_DuckLandscape(request["f"].name), *args, **kw)
    for ours, *others in zip(narrow, wide, duck, strict=True):
        for theirs in others:
            _assert_same(ours, theirs)


def test_run_many_keeps_each_rows_divergence_and_noise() -> None:
    """Some rows of some optimizers blow up, per-row rates under a schedule, noise, and
    optimizers with different K (so different noise draws): each equals its own run."""
    f = landscapes.get("ill_conditioned")
    sched = optimizers.schedule("step", step_size=10, gamma=0.9, warmup=3)
    opts = [
        optimizers.create("sgd", lr=np.array([0.5, 1.5, 0.9, 2.5])),
        optimizers.create("adam", lr=0.05),
        optimizers.create("momentum", lr=np.array([0.05, 4.0, 0.01, 0.02]), momentum=0.9),
        optimizers.create("rmsprop", lr=0.01),
    ]
    kw = {"noise": 0.3, "seed": 4, "schedule": sched}
    together = optimizers.run_many(f, opts, (-7.0, 2.0), 120, **kw)
    assert [t.points.shape[1] for t in together] == [4, 1, 4, 1]
    assert (together[0].diverged_at[[1, 3]] > 0).all()
    assert (together[0].diverged_at[[0, 2]] == -1).all()
    assert together[2].diverged_at[1] > 0 and (together[1].diverged_at == -1).all()
    for opt, ours in zip(opts, together, strict=True):
        _assert_same(ours, optimizers.run(f, opt, (-7.0, 2.0), 120, **kw))
    # K = 4 optimizers share the K = 4 draws, K = 1 ones the K = 1 draws (common numbers)
    alone = optimizers.run(f, opts[1], (-7.0, 2.0), 120, noise=0.3, seed=5, schedule=sched)
    assert not np.array_equal(alone.points, together[1].points)


def test_run_many_and_stream_many_check_their_arguments() -> None:
    f = landscapes.get("booth")
    adam = optimizers.create("adam")
    for bad in ([], adam, "adam", None):
        with pytest.raises(ValueError, match="optimizers"):
            optimizers.run_many(f, bad, (0.0, 0.0), 5)
        with pytest.raises(ValueError, match="optimizers"):
            optimizers.stream_many(f, bad, (0.0, 0.0), 5)
    with pytest.raises(ValueError, match="per-row"):
        optimizers.run_many(f, [adam, optimizers.create("sgd", lr=[0.1, 0.2])], [[0, 0]] * 3, 5)
    with pytest.raises(ValueError, match="chunk"):
        optimizers.stream_many(f, [adam], (0.0, 0.0), 5, chunk=0)
    (by_name,) = optimizers.run_many("booth", ["adam"], (1.0, 1.0), 5)
    _assert_same(by_name, optimizers.run(f, adam, (1.0, 1.0), 5))


def test_per_row_adam_betas_match_scalar_runs_bit_for_bit() -> None:
    # NumPy's array power takes shortcuts (x·x, sqrt) that Python's float pow — and so
    # torch's bias corrections — do not; per-row betas must not drift from scalar ones.
    f = landscapes.get("rosenbrock")
    rng = np.random.default_rng(1)
    for _ in range(60):
        params = {
            "lr": 0.02,
            "beta1": rng.uniform(0, 0.9999, 4),
            "beta2": rng.uniform(0, 0.9999, 4),
            "eps": 10 ** rng.uniform(-12, 0, 4),
        }
        starts = rng.uniform(-1, 1, (4, 2))
        together = optimizers.run(f, optimizers.create("adam", **params), starts, 20)
        for k in range(4):
            row = {n: (v[k] if isinstance(v, np.ndarray) else v) for n, v in params.items()}
            alone = optimizers.run(f, optimizers.create("adam", **row), starts[k], 20)
            np.testing.assert_array_equal(together.points[:, k], alone.points[:, 0])
