"""A small Gaussian-process regressor in plain NumPy, written to be drawn.

    fitted = GaussianProcess().fit(X, y)          # X (n, d) in [0, 1]^d, y (n,)
    mean, std = fitted.predict(Xq)                # the surrogate and its uncertainty
    ei = expected_improvement(mean, std, best=y.min())

This is the surrogate of the Bayesian search in ``maps.tune``. The page draws its insides —
the mean, the band of ± std, the expected improvement, the length-scale the evidence
chose — so every one of them is a named field here rather than a library's private state.
It is small enough to read in one sitting: a kernel, a Cholesky factor, two solves.

The model (Rasmussen & Williams, *Gaussian Processes for Machine Learning*, ch. 2 and 5):

    f ~ GP(m, σ² k(x, x'))     k = Matérn-5/2 of r = |x − x'| / ℓ
    y = f(x) + ε,  ε ~ N(0, g σ²)   (g = JITTER: the objectives here are deterministic,
                                      the nugget only keeps the Cholesky factor well posed)

with m the mean of the observations. Matérn-5/2 rather than the squared exponential: a
loss against log(lr) bends sharply where runs start to diverge, and the squared
exponential, infinitely smooth, rings around such a bend; Matérn-5/2 functions are twice
differentiable and no more, the usual choice for Bayesian optimization (Snoek et al. 2012).

Hyperparameters by maximum likelihood, without an optimizer library: for each length-scale
ℓ on a fixed log-spaced grid the best signal variance has a closed form,
σ̂² = rᵀ R⁻¹ r / n (r = y − m, R = the correlation matrix plus the nugget), and the grid
point with the highest log marginal likelihood wins. A grid is deterministic (the same
data give the same surrogate on every machine) and cheap for the n ≤ 64 points of a tune.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

#: Length-scales tried, in units of the [0, 1] input box: from a twentieth of it (a
#: wiggly fit between closely spaced trials) to twice its width (nearly a straight line).
LENGTH_SCALES: tuple[float, ...] = tuple(float(v) for v in np.geomspace(0.05, 2.0, 17))

#: Nugget g, relative to the signal variance: noise variance = g σ². Small enough that the
#: surrogate passes through the data (std at a trial ≈ σ √g), large enough that a
#: repeated point does not make R singular.
JITTER = 1e-8

#: Signal variance floor: all-equal observations would give σ̂² = 0.
MIN_VARIANCE = 1e-12

_SQRT5 = math.sqrt(5.0)


def matern52(a: np.ndarray, b: np.ndarray, length_scale: float) -> np.ndarray:
    """Correlation k(a_i, b_j) between the rows of a (n, d) and b (m, d): (n, m).

    k(r) = (1 + √5 r/ℓ + 5 r²/(3ℓ²)) exp(−√5 r/ℓ); k(0) = 1.
    """
    return _matern52_of(_distances(a, b), length_scale)


def _distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    diff = a[:, None, :] - b[None, :, :]
    result: np.ndarray = np.sqrt(np.einsum("ijk,ijk->ij", diff, diff))
    return result


def _matern52_of(r: np.ndarray, length_scale: float) -> np.ndarray:
    s = (_SQRT5 / length_scale) * r
    result: np.ndarray = (1.0 + s + s * s / 3.0) * np.exp(-s)
    return result


@dataclass(frozen=True)
class FittedGP:
    """A GP conditioned on (X, y): everything the page draws, and what `predict` needs."""

    X: np.ndarray  #: (n, d) training inputs
    y: np.ndarray  #: (n,) training targets
    mean: float  #: the constant prior mean m
    length_scale: float  #: ℓ, in input units
    variance: float  #: signal variance σ²
    jitter: float  #: nugget g (noise variance g σ²)
    log_marginal_likelihood: float  #: log p(y | X, ℓ, σ²) at the chosen hyperparameters
    #: (ℓ, log marginal likelihood) for every length-scale tried: the evidence curve.
    evidence: tuple[tuple[float, float], ...]
    cholesky: np.ndarray = field(repr=False)  #: L with L Lᵀ = σ²(R + g I)
    alpha: np.ndarray = field(repr=False)  #: (σ²(R + g I))⁻¹ (y − m)

    def predict(self, Xq: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Posterior mean and standard deviation of f at the rows of Xq (m, d).

        mean = m + k*ᵀ α,  var = σ² − k*ᵀ K⁻¹ k* = σ² − |L⁻¹ k*|²
        (the std of f itself, without the nugget: 0 at a training point, up to σ √g).
        """
        Xq = _as_inputs(Xq, self.X.shape[1])
        k_star = self.variance * matern52(Xq, self.X, self.length_scale)  # (m, n)
        mean = self.mean + k_star @ self.alpha
        v = np.linalg.solve(self.cholesky, k_star.T)  # (n, m)
        var = np.maximum(self.variance - np.sum(v * v, axis=0), 0.0)
        return mean, np.sqrt(var)


class GaussianProcess:
    """Matérn-5/2 GP regression with a constant mean and hyperparameters from the evidence.

    ``length_scale`` / ``variance`` fix a hyperparameter instead of fitting it (tests use
    that to check the posterior against a hand computation).
    """

    def __init__(
        self,
        length_scales: tuple[float, ...] = LENGTH_SCALES,
        jitter: float = JITTER,
        length_scale: float | None = None,
        variance: float | None = None,
    ) -> None:
        if length_scale is not None:
            length_scales = (length_scale,)
        if not length_scales or min(length_scales) <= 0:
            raise ValueError("length_scales must be positive numbers")
        if not jitter > 0:
            raise ValueError(f"jitter must be > 0, got {jitter!r}")
        if variance is not None and not variance > 0:
            raise ValueError(f"variance must be > 0, got {variance!r}")
        self.length_scales = tuple(float(v) for v in length_scales)
        self.jitter = float(jitter)
        self.variance = variance

    def fit(self, X: np.ndarray, y: np.ndarray) -> FittedGP:
        """Condition on n ≥ 1 observations (finite y) and pick ℓ (and σ²) by the evidence."""
        X = _as_inputs(X)
        y = np.asarray(y, dtype=np.float64)
        if y.shape != (X.shape[0],) or X.shape[0] == 0:
            raise ValueError(f"y must have shape ({X.shape[0]},) with n >= 1, got {y.shape}")
        if not np.isfinite(y).all():
            raise ValueError("y must be finite (replace failed trials by a penalty first)")
        n = len(y)
        mean = float(np.mean(y))
        r = y - mean
        evidence = []
        best: tuple[float, float, float, np.ndarray, float] | None = None  # ℓ, lml, σ², L, g
        distances = _distances(X, X)  # once: only the kernel's scale changes below
        for length_scale in self.length_scales:
            R = _matern52_of(distances, length_scale)
            L_unit, jitter = _cholesky(R, self.jitter)  # L_unit L_unitᵀ = R + g I
            z = np.linalg.solve(L_unit, r)
            # σ̂² maximizes the likelihood for this ℓ: d/dσ² of the LML is zero there.
            variance = self.variance or max(float(z @ z) / n, MIN_VARIANCE)
            log_det = 2.0 * float(np.sum(np.log(np.diag(L_unit)))) + n * math.log(variance)
            lml = -0.5 * float(z @ z) / variance - 0.5 * log_det - 0.5 * n * math.log(2 * math.pi)
            evidence.append((length_scale, lml))
            if best is None or lml > best[1]:
                best = (length_scale, lml, variance, L_unit, jitter)
        assert best is not None
        length_scale, lml, variance, L_unit, jitter = best
        L = L_unit * math.sqrt(variance)
        alpha = np.linalg.solve(L.T, np.linalg.solve(L, r))
        return FittedGP(X, y, mean, length_scale, variance, jitter, lml, tuple(evidence), L, alpha)


def expected_improvement(
    mean: np.ndarray, std: np.ndarray, best: float, xi: float = 0.0
) -> np.ndarray:
    """E[max(best − ξ − f, 0)] for f ~ N(mean, std²): how much a trial there is expected to
    beat the best score so far (we minimize).

    EI = (best − ξ − μ) Φ(z) + σ φ(z),  z = (best − ξ − μ) / σ;  where σ = 0 it is the
    sure gain max(best − ξ − μ, 0). It is large where the mean is low (exploitation) or
    the uncertainty high (exploration); ξ ≥ 0 tilts it towards exploration.
    """
    mean = np.asarray(mean, dtype=np.float64)
    std = np.asarray(std, dtype=np.float64)
    gain = best - xi - mean
    positive = std > 0
    z = np.divide(gain, std, out=np.zeros_like(gain), where=positive)
    cdf = np.array([0.5 * math.erfc(-v / math.sqrt(2.0)) for v in z.ravel()]).reshape(z.shape)
    pdf = np.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi)
    ei = np.where(positive, gain * cdf + std * pdf, np.maximum(gain, 0.0))
    result: np.ndarray = np.maximum(ei, 0.0)  # rounding can leave −1e-17 far from any gain
    return result


def log_expected_improvement(
    mean: np.ndarray, std: np.ndarray, best: float, xi: float = 0.0
) -> np.ndarray:
    """log EI, finite wherever EI > 0 even when EI itself underflows to 0.

    Once the surrogate is sure of itself, EI far from the best trial is 1e-80 or less and
    rounds to 0 everywhere, leaving nothing to choose by; its logarithm still ranks the
    candidates (Ament et al. 2023, "Unexpected improvements to expected improvement").
    EI = σ h(z) with h(z) = z Φ(z) + φ(z); for z < −20, where h underflows, the Mills-ratio
    series h(z) = φ(z) (1/z² − 3/z⁴ + 15/z⁶ − …), whose next term is below 1e-8 there.
    −inf where σ = 0 and nothing is gained.
    """
    mean = np.asarray(mean, dtype=np.float64)
    std = np.asarray(std, dtype=np.float64)
    gain = best - xi - mean
    positive = std > 0
    z = np.divide(gain, std, out=np.zeros_like(gain), where=positive)
    far = positive & (z < -20)
    with np.errstate(divide="ignore", invalid="ignore"):
        direct = np.log(expected_improvement(mean, std, best, xi))
        zf = np.where(far, z, -20.0)
        series = 1 / zf**2 - 3 / zf**4 + 15 / zf**6
        tail = np.log(std) - 0.5 * zf * zf - 0.5 * math.log(2 * math.pi) + np.log(series)
    result: np.ndarray = np.where(far, tail, direct)
    return result


def _as_inputs(X: np.ndarray, d: int | None = None) -> np.ndarray:
    X = np.asarray(X, dtype=np.float64)
    if X.ndim == 1:
        X = X[:, None]
    if X.ndim != 2 or (d is not None and X.shape[1] != d) or not np.isfinite(X).all():
        want = f"(n, {d})" if d is not None else "(n, d)"
        raise ValueError(f"inputs must be a finite array of shape {want}, got {X.shape}")
    return X


def _cholesky(R: np.ndarray, jitter: float) -> tuple[np.ndarray, float]:
    """Cholesky factor of R + g I, raising g tenfold while R is too close to singular."""
    eye = np.eye(len(R))
    while True:
        try:
            return np.linalg.cholesky(R + jitter * eye), jitter
        except np.linalg.LinAlgError:
            if jitter >= 1e-2:
                raise
            jitter *= 10.0
