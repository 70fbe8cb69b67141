"""Adafactor — ``torch.optim.Adafactor`` on the page's 2-vector (unfactored)."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from optimizers.adam import _lerp
from optimizers.adamw import decay_theta, scalar_shrink
from optimizers.amsgrad import maximum
from optimizers.base import (
    HyperParam,
    Optimizer,
    ScalarUpdate,
    Scratch,
    Value,
    fma,
)

#: √n for the 2-vector, as torch computes it: ``param.numel() ** 0.5``.
ROOT_N = 2**0.5
#: torch's default ε₁ (``eps=(None, 1e-3)``): ``torch.finfo(float64).eps``.
MACHINE_EPS = float(np.finfo(np.float64).eps)


@dataclass(slots=True)
class AdafactorState:
    """torch's buffers for a vector parameter: ``step`` t and ``variance`` v, the moving
    average of g ⊙ g (a matrix would keep ``row_var`` and ``col_var`` instead)."""

    step: int
    variance: np.ndarray


def _norm(a: np.ndarray) -> np.ndarray:
    """‖(x, y)‖ per row as torch's CPU kernel sums it: √(fma(y, y, x·x)), a (K, 1) column."""
    x, y = a[:, :1], a[:, 1:]
    return np.sqrt(fma(y, y, x * x))


def _pow_each(base: float, exponent: Value) -> Value:
    """``base ** exponent`` on Python floats, element by element for a (K, 1) exponent."""
    if isinstance(exponent, np.ndarray):
        return np.array([base**e for e in exponent.ravel().tolist()]).reshape(exponent.shape)
    return base**exponent


class Adafactor(Optimizer):
    r"""Adafactor: a step relative to the size of θ, normalized by an RMS of g, clipped.

    Lecture notes (Shazeer & Stern 2018), update t = 1, 2, … of θ with n coordinates::

        β̂₂ₜ = 1 − t^c
        ρₜ = min(η, 1/√t)
        αₜ = max(ε₂, RMS(θ)) · ρₜ
        v ← β̂₂ₜv + (1 − β̂₂ₜ) g ⊙ g
        u = g / √max(v, ε₁²)
        θ ← θ − αₜ u / max(1, RMS(u) / d)

    with c = beta2_decay (−0.8: the average's memory grows with t), RMS(θ) = ‖θ‖ / √n (a
    step relative to the size of θ; here n = 2) and d the clipping threshold of the
    update's RMS.

    For a matrix Adafactor keeps only a row and a column average of g ⊙ g (the
    "factored" second moment that saves memory); the page's θ is a 2-vector, which torch
    leaves unfactored: v is a full average of g ⊙ g, as in Adam without momentum. The
    step scales with ‖θ‖ (at least ε₂ = 1e-3), so a start far from the origin takes large
    steps. PyTorch (``Adafactor``) in its order::

        v ← v.lerp(g ⊙ g, t^c)
        θ ← θ(1 − ηλ)                        (decoupled weight decay, αₜ from θ before it)
        θ ← θ − (αₜ / max(1, ‖u‖/(√n·d))) · u   torch: param.add_(update, alpha=-alpha / denom)

    torch's norms of a 2-vector sum x·x then fuse y·y in (``fma``); ``add_`` with alpha
    is fused too. v starts at 0.

    Hyperparameters:
        lr (float): η, the cap on ρₜ. Default 1e-2, range [1e-5, 10] (log slider).
        beta2_decay (float): c. Default −0.8, range [−1, 0].
        eps1 (float): ε₁, the floor √ of v. Default 2.2e-16 (float64's machine ε,
            torch's None), range [1e-30, 1e-3] (log slider).
        eps2 (float): ε₂, the floor of RMS(θ). Default 1e-3, range [1e-12, 1] (log slider).
        d (float): clipping threshold of RMS(u). Default 1, range [1, 100].
        weight_decay (float): decoupled weight decay λ. Default 0, range [0, 1].

    torch's ``eps=(ε₁, ε₂)`` is split, as Adam's betas.
    """

    name = "adafactor"
    title = "Adafactor"
    group = "adaptive"
    hyperparams = (
        HyperParam("lr", 1e-2, 1e-5, 10.0, True, "Learning rate η: caps ρₜ = min(η, 1/√t)."),
        HyperParam(
            "beta2_decay", -0.8, -1.0, 0.0, False, "c: the average of g² forgets t^c per update."
        ),
        HyperParam("eps1", MACHINE_EPS, 1e-30, 1e-3, True, "ε₁: v is floored at ε₁²."),
        HyperParam("eps2", 1e-3, 1e-12, 1.0, True, "ε₂: the smallest RMS(θ) a step scales by."),
        HyperParam("d", 1.0, 1.0, 100.0, False, "d: the update's RMS is clipped at d."),
        HyperParam(
            "weight_decay",
            0.0,
            0.0,
            1.0,
            False,
            "Decoupled weight decay λ: θ shrinks by ηλθ each update, apart from the gradient.",
        ),
    )

    def init(self, theta: np.ndarray) -> AdafactorState:
        return AdafactorState(step=0, variance=np.zeros_like(theta))

    def update(
        self,
        grad: np.ndarray,
        state: AdafactorState,
        theta: np.ndarray,
        lr: Value,
        out: np.ndarray | None = None,
        scratch: Scratch | None = None,
    ) -> tuple[np.ndarray, AdafactorState]:
        s = scratch or Scratch.like(theta)
        eps1, eps2, d = self.hyper["eps1"], self.hyper["eps2"], self.hyper["d"]
        state.step += 1
        t = float(state.step)
        weight = _pow_each(t, self.hyper["beta2_decay"])  # 1 − β̂₂ₜ = t^c
        # ρₜ = min(η, 1/√t), αₜ = max(ε₂, RMS(θ)) · ρₜ (Python's min and max)
        root = 1 / t**0.5
        rho = np.where(root < lr, root, lr) if isinstance(lr, np.ndarray) else min(lr, root)
        rms = _norm(theta) / ROOT_N
        alpha = np.where(rms > eps2, rms, eps2) * rho
        theta = decay_theta(theta, lr, self.hyper["weight_decay"], s.grad)  # θ ← θ(1 − ηλ)
        # v ← v.lerp(g ⊙ g, t^c)        torch: variance.lerp_(grad * grad, one_minus_beta2_t)
        square = np.multiply(grad, grad, out=s.denom)
        _lerp(state.variance, square, weight, s.term)
        # u = g / √max(v, ε₁²)   torch: var_estimate.clamp_(min=eps1 * eps1).rsqrt_().mul_(grad)
        update = np.maximum(state.variance, eps1 * eps1, out=s.term)
        np.sqrt(update, out=update)
        np.divide(1.0, update, out=update)
        update *= grad
        # θ ← θ − αₜ u / max(1, RMS(u)/d)
        ratio = _norm(update) / (ROOT_N * d)
        denom = np.where(ratio > 1.0, ratio, 1.0)
        new = np.asarray(fma(update, -alpha / denom, theta))
        if out is None:
            return new, state
        out[...] = new
        return out, state

    def buffers(self) -> tuple[str, ...]:
        return ("variance",)

    def seen_gradient(self, grad: np.ndarray, theta: np.ndarray) -> np.ndarray:
        return grad.copy()  # λ acts on θ, not on g

    def scalar_decay(self) -> float | None:
        return None

    def scalar(self, state: AdafactorState) -> tuple[ScalarUpdate, Callable[[], None]]:
        decay_rate, d = self.number("beta2_decay"), self.number("d")
        eps1, eps2 = self.number("eps1"), self.number("eps2")
        floor = eps1 * eps1
        shrink = scalar_shrink(self)
        t = state.step
        vx, vy = state.variance[0].tolist()

        def lerp(v: float, target: float, weight: float) -> float:
            if abs(weight) < 0.5:
                return v + (target - v) * weight
            return target - (target - v) * (1 - weight)

        def step(gx: float, gy: float, x: float, y: float, lr: float) -> tuple[float, float]:
            nonlocal t, vx, vy
            t += 1
            weight = float(t) ** decay_rate
            root = 1 / float(t) ** 0.5
            rho = root if root < lr else lr
            rms = math.sqrt(fma(y, y, x * x)) / ROOT_N
            alpha = (rms if rms > eps2 else eps2) * rho
            if shrink is not None:
                factor = 1 - lr * shrink
                x, y = x * factor, y * factor
            vx, vy = lerp(vx, gx * gx, weight), lerp(vy, gy * gy, weight)
            ux = 1.0 / math.sqrt(maximum(vx, floor)) * gx
            uy = 1.0 / math.sqrt(maximum(vy, floor)) * gy
            ratio = math.sqrt(fma(uy, uy, ux * ux)) / (ROOT_N * d)
            scale = -alpha / (ratio if ratio > 1.0 else 1.0)
            return fma(ux, scale, x), fma(uy, scale, y)

        def save() -> None:
            state.step = t
            state.variance[0] = vx, vy

        return step, save
