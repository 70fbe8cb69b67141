"""The Gaussian process behind the Bayesian tuner: a posterior one can check by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from maps.gp import (
    LENGTH_SCALES,
    GaussianProcess,
    expected_improvement,
    log_expected_improvement,
    matern52,
)


def _data() -> tuple[np.ndarray, np.ndarray]:
    X = np.array([[0.05], [0.2], [0.45], [0.5], [0.8], [0.95]])
    y = np.sin(6 * X[:, 0]) + X[:, 0]
    return X, y


def test_matern52_is_one_at_zero_and_decays() -> None:
    a = np.array([[0.0], [0.1], [0.5], [2.0]])
    k = matern52(a, a[:1], 0.3)[:, 0]
    assert k[0] == 1.0
    assert np.all(np.diff(k) < 0)
    r = 0.5 / 0.3 * math.sqrt(5)
    assert k[2] == pytest.approx((1 + r + r * r / 3) * math.exp(-r), rel=1e-14)


def test_interpolates_noise_free_data() -> None:
    X, y = _data()
    fitted = GaussianProcess().fit(X, y)
    mean, std = fitted.predict(X)
    scale = math.sqrt(fitted.variance)
    np.testing.assert_allclose(mean, y, atol=1e-5 * scale)
    assert np.all(std < 1e-3 * scale)


def test_std_grows_away_from_the_data() -> None:
    X = np.array([[0.4], [0.5]])
    fitted = GaussianProcess(length_scale=0.2).fit(X, np.array([1.0, 2.0]))
    _, std = fitted.predict(np.array([[0.5], [0.6], [0.7], [0.9]]))
    assert np.all(np.diff(std) > 0)
    # far from everything the posterior is the prior: std → σ
    _, far = fitted.predict(np.array([[50.0]]))
    assert far[0] == pytest.approx(math.sqrt(fitted.variance), rel=1e-9)


def test_two_point_posterior_matches_a_hand_computation() -> None:
    ell, var, g = 0.3, 2.0, 1e-8
    X = np.array([[0.2], [0.6]])
    y = np.array([1.0, 3.0])
    fitted = GaussianProcess(length_scale=ell, variance=var, jitter=g).fit(X, y)

    def k(r: float) -> float:
        s = math.sqrt(5) * abs(r) / ell
        return (1 + s + s * s / 3) * math.exp(-s)

    # K = σ²[[1 + g, ρ], [ρ, 1 + g]]; invert the 2×2 by hand.
    rho = k(0.4)
    a, b = var * (1 + g), var * rho
    det = a * a - b * b
    m = 2.0  # the mean of the observations
    r1, r2 = 1.0 - m, 3.0 - m
    alpha = ((a * r1 - b * r2) / det, (a * r2 - b * r1) / det)
    xq = 0.35
    k1, k2 = var * k(xq - 0.2), var * k(xq - 0.6)
    want_mean = m + k1 * alpha[0] + k2 * alpha[1]
    quad = (a * k1 * k1 - 2 * b * k1 * k2 + a * k2 * k2) / det
    want_std = math.sqrt(var - quad)

    mean, std = fitted.predict(np.array([[xq]]))
    assert mean[0] == pytest.approx(want_mean, rel=1e-12)
    assert std[0] == pytest.approx(want_std, rel=1e-9)
    assert fitted.mean == m
    # the log marginal likelihood, by hand too
    quad_y = (a * r1 * r1 - 2 * b * r1 * r2 + a * r2 * r2) / det
    lml = -0.5 * quad_y - 0.5 * math.log(det) - math.log(2 * math.pi)
    assert fitted.log_marginal_likelihood == pytest.approx(lml, rel=1e-12)


def test_variance_is_the_likelihood_maximizer() -> None:
    X, y = _data()
    fitted = GaussianProcess(length_scale=0.25).fit(X, y)
    for factor in (0.8, 1.25):
        other = GaussianProcess(length_scale=0.25, variance=fitted.variance * factor).fit(X, y)
        assert other.log_marginal_likelihood < fitted.log_marginal_likelihood


def test_length_scale_is_the_best_of_the_grid() -> None:
    X, y = _data()
    fitted = GaussianProcess().fit(X, y)
    assert [ell for ell, _ in fitted.evidence] == list(LENGTH_SCALES)
    best = max(fitted.evidence, key=lambda pair: pair[1])
    assert fitted.length_scale == best[0]
    assert fitted.log_marginal_likelihood == best[1]
    # a smooth slow function picks a longer length-scale than a fast one
    slow = GaussianProcess().fit(X, 0.3 * X[:, 0])
    fast = GaussianProcess().fit(X, np.array([1.0, -1.0, 1.0, -1.0, 1.0, -1.0]))
    assert slow.length_scale > fast.length_scale


def test_two_dimensional_inputs_and_repeated_points() -> None:
    X = np.array([[0.1, 0.2], [0.1, 0.2], [0.9, 0.5], [0.4, 0.8]])
    y = np.array([1.0, 1.0, 0.0, 2.0])
    fitted = GaussianProcess().fit(X, y)  # a repeated point: still factorizable
    mean, std = fitted.predict(X)
    np.testing.assert_allclose(mean, y, atol=1e-4)
    assert np.all(np.isfinite(std))


def test_deterministic() -> None:
    X, y = _data()
    a = GaussianProcess().fit(X, y).predict(np.linspace(0, 1, 50)[:, None])
    b = GaussianProcess().fit(X.copy(), y.copy()).predict(np.linspace(0, 1, 50)[:, None])
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])


def test_expected_improvement() -> None:
    mean = np.array([1.0, 2.0, 0.5, 1.0, 1.0])
    std = np.array([0.0, 0.0, 0.0, 1.0, 2.0])
    ei = expected_improvement(mean, std, best=1.0)
    assert ei[0] == 0.0  # no uncertainty and no gain
    assert ei[1] == 0.0  # no uncertainty, worse mean
    assert ei[2] == 0.5  # sure gain
    # at mean = best, EI = σ φ(0)
    assert ei[3] == pytest.approx(1 / math.sqrt(2 * math.pi), rel=1e-15)
    assert ei[4] == pytest.approx(2 / math.sqrt(2 * math.pi), rel=1e-15)
    # by hand: best − μ = 0.5, σ = 1
    one = expected_improvement(np.array([0.5]), np.array([1.0]), best=1.0)[0]
    cdf = 0.5 * (1 + math.erf(0.5 / math.sqrt(2)))
    pdf = math.exp(-0.125) / math.sqrt(2 * math.pi)
    assert one == pytest.approx(0.5 * cdf + pdf, rel=1e-14)
    # ξ asks for more than the best: less improvement expected
    assert expected_improvement(mean, std, 1.0, xi=0.1)[3] < ei[3]
    assert np.all(expected_improvement(np.linspace(-50, 50, 101), np.ones(101), 0.0) >= 0)


def test_log_expected_improvement_ranks_where_ei_underflows() -> None:
    mean = np.linspace(0.0, 60.0, 121)
    std = np.ones_like(mean)
    ei = expected_improvement(mean, std, best=0.0)
    log_ei = log_expected_improvement(mean, std, best=0.0)
    moderate = ei > 1e-200
    # the direct formula cancels as z grows: 1e-6 of log EI at z = −20
    np.testing.assert_allclose(log_ei[moderate], np.log(ei[moderate]), rtol=0, atol=1e-5)
    assert (ei == 0).any()  # EI underflows far from the best ...
    assert np.all(np.isfinite(log_ei)) and np.all(np.diff(log_ei) < 0)  # ... log EI ranks
    # the series and the direct formula meet at z = −20
    pair = log_expected_improvement(np.array([20.0 - 1e-9, 20.0 + 1e-9]), np.ones(2), 0.0)
    assert pair[0] == pytest.approx(pair[1], abs=1e-5)
    zero = log_expected_improvement(np.array([1.0]), np.array([0.0]), best=0.5)
    assert zero[0] == -np.inf


def test_rejects_bad_inputs() -> None:
    with pytest.raises(ValueError, match="finite"):
        GaussianProcess().fit(np.array([[0.1], [0.2]]), np.array([1.0, np.inf]))
    with pytest.raises(ValueError, match="shape"):
        GaussianProcess().fit(np.array([[0.1], [0.2]]), np.array([1.0]))
