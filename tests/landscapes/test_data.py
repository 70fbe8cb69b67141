"""Losses over Old Faithful's eruptions and their mini-batches (landscapes/data.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import landscapes
import optimizers
from landscapes.data import Batches, faithful
from optimizers import reference

DATA = ("faithful_linear", "faithful_logistic")


def _model(name: str):  # the loss's object behind fn, to read its samples
    return landscapes.get(name).fn.__self__  # type: ignore[attr-defined]


def test_the_shipped_data_is_r_s_faithful() -> None:
    lengths, waits = faithful()
    assert lengths.shape == waits.shape == (272,)
    # R's summary(faithful): means 3.488 and 70.9, ranges [1.6, 5.1] and [43, 96]
    assert lengths.mean() == pytest.approx(3.487783, abs=1e-6)
    assert waits.mean() == pytest.approx(70.897059, abs=1e-6)
    assert (lengths.min(), lengths.max(), waits.min(), waits.max()) == (1.6, 5.1, 43, 96)
    assert np.corrcoef(lengths, waits)[0, 1] == pytest.approx(0.9008, abs=1e-4)


def test_linear_loss_is_mse_and_its_minimum_is_least_squares() -> None:
    f = landscapes.get("faithful_linear")
    model = _model("faithful_linear")
    u, v = model.u, model.v
    assert abs(u.mean()) < 1e-15 and u.std() == pytest.approx(1.0, abs=1e-15)
    rng = np.random.default_rng(0)
    for w, b in rng.uniform(-2, 2, (8, 2)):
        direct = np.mean((w * u + b - v) ** 2)
        assert float(f.value([w, b])) == pytest.approx(direct, rel=1e-13)
        gw, gb = np.mean(2 * (w * u + b - v) * u), np.mean(2 * (w * u + b - v))
        np.testing.assert_allclose(f.grad([w, b]), [gw, gb], rtol=1e-12, atol=1e-14)
    slope, intercept = np.polyfit(u, v, 1)
    (minimum,) = f.minima
    assert (minimum.x, minimum.y) == pytest.approx((slope, intercept), abs=1e-12)
    # the docstring's bowl: Hessian 2·I
    np.testing.assert_allclose(f.hessian([0.3, -0.2]), 2 * np.eye(2), atol=1e-6)


def test_logistic_loss_is_bce_with_logits_and_its_minimum_is_finite() -> None:
    f = landscapes.get("faithful_logistic")
    model = _model("faithful_logistic")
    z, c = model.z, model.c
    assert c.sum() == 132  # eruptions longer than 4 minutes
    # not separable: some short eruption waited longer than some long one
    assert z[c == 0].max() > z[c == 1].min()
    for w, b in ((0.0, 0.0), (2.0, -1.0), (-1.5, 2.5)):
        p = 1 / (1 + np.exp(-(w * z + b)))
        bce = -np.mean(c * np.log(p) + (1 - c) * np.log(1 - p))
        assert float(f.value([w, b])) == pytest.approx(bce, rel=1e-12)
    (minimum,) = f.minima
    assert np.abs(f.grad([minimum.x, minimum.y])).max() < 1e-15
    assert np.all(np.linalg.eigvalsh(f.hessian([minimum.x, minimum.y])) > 0)
    (x0, x1), (y0, y1) = f.bounds
    assert x0 < minimum.x < x1 and y0 < minimum.y < y1


def test_batches_follow_dataloader_shuffle() -> None:
    batches = Batches(272, 50, seed=7)
    assert batches.per_epoch == 6  # five of 50, then the last 22
    for epoch in range(3):
        drawn = [batches[epoch * 6 + k] for k in range(6)]
        assert [len(b) for b in drawn] == [50] * 5 + [22]
        # each epoch covers every sample once, each batch sorted
        assert np.array_equal(np.sort(np.concatenate(drawn)), np.arange(272))
        assert all(np.array_equal(b, np.sort(b)) for b in drawn)
    rng = np.random.default_rng(7)
    first = rng.permutation(272)
    assert np.array_equal(Batches(272, 50, seed=7)[1], np.sort(first[50:100]))
    assert not np.array_equal(Batches(272, 50, seed=8)[0], Batches(272, 50, seed=7)[0])
    with pytest.raises(ValueError, match=r"\[1, 272\]"):
        Batches(272, 273, seed=0)


@pytest.mark.parametrize("name", DATA)
@pytest.mark.parametrize("opt", ["sgd", "momentum", "adam"])
def test_a_batch_of_every_sample_is_full_batch_descent_bit_for_bit(name: str, opt: str) -> None:
    f = landscapes.get(name)
    starts = np.array([f.default_start, (1.0, 1.0)])
    full = optimizers.run(f, optimizers.create(opt, lr=0.1), starts, 120)
    whole = optimizers.run(f, optimizers.create(opt, lr=0.1), starts, 120, batch=272, seed=5)
    np.testing.assert_array_equal(whole.points, full.points)
    np.testing.assert_array_equal(whole.losses, full.losses)


@pytest.mark.parametrize("name", DATA)
def test_the_mean_of_an_epochs_batch_gradients_is_the_full_gradient(name: str) -> None:
    f = landscapes.get(name)
    theta = np.array([[0.4, -0.3], [2.0, 1.0], list(f.default_start)])
    for size in (1, 8, 17, 68):  # sizes dividing N: every batch weighs the same
        batches = Batches(272, size, seed=size)
        grads = [f.batch_grad(theta, batches[k]) for k in range(batches.per_epoch)]
        np.testing.assert_allclose(np.mean(grads, axis=0), f.grad(theta), rtol=1e-12, atol=1e-13)


@settings(max_examples=25, deadline=None)
@given(
    name=st.sampled_from(DATA),
    opt=st.sampled_from(["sgd", "nag", "rmsprop", "adam"]),
    size=st.integers(1, 272),
    seed=st.integers(0, 2**32 - 1),
    rows=st.integers(1, 3),
)
def test_mini_batch_runs_are_the_reference_loop(
    name: str, opt: str, size: int, seed: int, rows: int
) -> None:
    f = landscapes.get(name)
    starts = np.array(f.default_start) + np.arange(rows)[:, None] * 0.25
    fast = optimizers.run(f, optimizers.create(opt, lr=0.05), starts, 40, seed=seed, batch=size)
    slow = reference.run(f, optimizers.create(opt, lr=0.05), starts, 40, seed=seed, batch=size)
    np.testing.assert_array_equal(fast.points, slow.points)
    # stream in blocks and lockstep give the same bits too
    blocks = optimizers.stream(
        f, optimizers.create(opt, lr=0.05), starts, 40, seed=seed, chunk=7, batch=size
    )
    np.testing.assert_array_equal(np.concatenate([b.points for b in blocks]), fast.points)


def test_smaller_batches_wander_more_around_the_same_minimum() -> None:
    """The lesson: smaller batches, noisier paths, the same expected direction."""
    f = landscapes.get("faithful_linear")
    (minimum,) = f.minima
    spread = {}
    for size in (4, 32, 272):
        ends = [
            optimizers.run(
                f, optimizers.create("sgd", lr=0.1), f.default_start, 300, seed=s, batch=size
            ).points[-50:, 0]
            for s in range(8)
        ]
        tail = np.concatenate(ends)
        spread[size] = float(np.sqrt(np.mean(np.sum((tail - [minimum.x, minimum.y]) ** 2, -1))))
        # on average the paths end at the minimum
        assert np.hypot(*(tail.mean(axis=0) - [minimum.x, minimum.y])) < 0.05 * math.sqrt(32 / size)
    assert spread[4] > 2 * spread[32] > 0 and spread[272] < 1e-9


def test_batch_is_checked() -> None:
    f = landscapes.get("faithful_linear")
    sgd = optimizers.create("sgd")
    with pytest.raises(ValueError, match=r"batch must be in \[1, 272\]"):
        optimizers.run(f, sgd, f.default_start, 5, batch=273)
    with pytest.raises(ValueError, match="batch needs a loss over data"):
        optimizers.run("rosenbrock", sgd, (0, 0), 5, batch=4)
    with pytest.raises(ValueError, match="noise and batch"):
        optimizers.run(f, sgd, f.default_start, 5, noise=0.1, batch=4)
    with pytest.raises(ValueError, match="batch must be a whole number"):
        optimizers.run(f, sgd, f.default_start, 5, batch=2.5)


def test_summary_of_a_full_batch_run_settles_as_gd_and_a_mini_batch_run_does_not() -> None:
    f = landscapes.get("faithful_logistic")
    starts = np.array([f.default_start, (0.0, 0.0)])
    gd = optimizers.summary(f, optimizers.create("sgd", lr=2.0), starts, 400)
    whole = optimizers.summary(f, optimizers.create("sgd", lr=2.0), starts, 400, batch=272)
    np.testing.assert_array_equal(whole.settled_at, gd.settled_at)
    assert (gd.settled_at > 0).all()
    mini = optimizers.summary(f, optimizers.create("sgd", lr=2.0), starts, 400, batch=16)
    assert (mini.settled_at == -1).all() and np.isfinite(mini.final).all()
