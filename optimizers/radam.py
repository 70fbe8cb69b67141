"""RAdam — ``torch.optim.RAdam``: Adam with its early steps rectified."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from optimizers.adam import BETA1, BETA2, AdamState, scalar_moments, update_moments
from optimizers.base import (
    WEIGHT_DECAY,
    Optimizer,
    ScalarUpdate,
    Scratch,
    Value,
    eps_param,
    float_pow,
    fma,
    lr_param,
)
from optimizers.nadam import DECOUPLED, scalar_decays, seen_gradient, weight_decays


def rectification(rho_t: float, rho_inf: float) -> float:
    """r_t = √((ρₜ − 4)(ρₜ − 2)ρ∞ / ((ρ∞ − 4)(ρ∞ − 2)ρₜ)), torch's ``_compute_rect``."""
    return ((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5


class RAdam(Optimizer):
    r"""RAdam: Adam that waits until its variance estimate can be trusted.

    Lecture notes (Liu et al. 2020), at update t = 1, 2, …::

        m ← β₁m + (1 − β₁) g
        v ← β₂v + (1 − β₂) g ⊙ g
        m̂ = m / (1 − β₁ᵗ)
        ρ∞ = 2 / (1 − β₂) − 1,   ρₜ = ρ∞ − 2t β₂ᵗ / (1 − β₂ᵗ)
        rₜ = √((ρₜ − 4)(ρₜ − 2)ρ∞ / ((ρ∞ − 4)(ρ∞ − 2)ρₜ))
        θ ← θ − η rₜ m̂ √(1 − β₂ᵗ) / (√v + ε)   if ρₜ > 5
        θ ← θ − η m̂   otherwise

    ρₜ estimates how many gradients v really averages; while it is 5 or less, v is too
    young to trust and the step is plain momentum SGD. The rectification rₜ grows to 1.
    At β₂ = 0.999 the first five updates are momentum steps. PyTorch
    (``RAdam``) computes it so, in this order::

        θ ← θ − ((m / (1 − β₁ᵗ)) · η · (√(1 − β₂ᵗ) / (√v + ε))) · rₜ

    m as ``m.lerp_(g, 1 − β₁)`` (see ``adam``). With weight decay λ: g ← g + λθ first,
    or with ``decoupled_weight_decay`` = 1, θ ← θ(1 − ηλ) first. m and v start at 0.

    Hyperparameters:
        lr (float): learning rate η. Default 1e-3, range [1e-5, 10] (log slider).
        beta1 (float): β₁. Default 0.9, range [0, 0.9999].
        beta2 (float): β₂. Default 0.999, range [0, 0.9999].
        eps (float): ε. Default 1e-8, range [1e-12, 1] (log slider).
        weight_decay (float): λ. Default 0, range [0, 1].
        decoupled_weight_decay (0 or 1): torch's bool. Default 0 (False).
    """

    name = "radam"
    title = "RAdam"
    group = "adaptive"
    hyperparams = (
        lr_param(1e-3),
        BETA1,
        BETA2,
        eps_param(1e-8),
        WEIGHT_DECAY,
        DECOUPLED,
    )

    def init(self, theta: np.ndarray) -> AdamState:
        return AdamState(step=0, exp_avg=np.zeros_like(theta), exp_avg_sq=np.zeros_like(theta))

    def update(
        self,
        grad: np.ndarray,
        state: AdamState,
        theta: np.ndarray,
        lr: Value,
        out: np.ndarray | None = None,
        scratch: Scratch | None = None,
    ) -> tuple[np.ndarray, AdamState]:
        beta1, beta2 = self.hyper["beta1"], self.hyper["beta2"]
        s = scratch or Scratch.like(theta)
        state.step += 1
        t = state.step
        g, theta = weight_decays(self, grad, theta, lr, s)  # g ← g + λθ, or θ ← θ(1 − ηλ)
        # m ← β₁m + (1 − β₁) g          torch: exp_avg.lerp_(grad, 1 - beta1)
        # v ← β₂v + (1 − β₂) g ⊙ g      torch: exp_avg_sq.mul_(beta2).addcmul_(...)
        update_moments(state.exp_avg, state.exp_avg_sq, g, beta1, beta2, s.term)
        bias_correction1 = 1 - float_pow(beta1, t)
        bias_correction2 = 1 - float_pow(beta2, t)
        # m̂·η                          torch: bias_corrected_exp_avg * lr
        step = np.divide(state.exp_avg, bias_correction1, out=s.term)
        step *= lr
        rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 * t * float_pow(beta2, t) / bias_correction2
        rectified = rho_t > 5.0
        if np.any(rectified):
            # · √(1 − β₂ᵗ) / (√v + ε) · rₜ   torch: * _compute_adaptive_lr() * _compute_rect()
            adaptive = np.sqrt(state.exp_avg_sq, out=s.denom)
            adaptive += self.hyper["eps"]
            np.divide(float_pow(bias_correction2, 0.5), adaptive, out=adaptive)
            full = step * adaptive
            full *= _rect(rho_t, rho_inf)
            step = np.where(rectified, full, step) if np.ndim(rectified) else full
        # θ ← θ − step                  torch: param.add_(..., alpha=-1.0)
        return np.subtract(theta, step, out=out), state

    def buffers(self) -> tuple[str, ...]:
        return ("exp_avg", "exp_avg_sq")

    def seen_gradient(self, grad: np.ndarray, theta: np.ndarray) -> np.ndarray:
        return seen_gradient(self, grad, theta)

    def scalar_decay(self) -> float | None:
        return scalar_decays(self)[0]

    def scalar(self, state: AdamState) -> tuple[ScalarUpdate, Callable[[], None]]:
        beta1, beta2, eps = self.number("beta1"), self.number("beta2"), self.number("eps")
        (decay, shrink), axis = scalar_decays(self), scalar_moments(beta1, beta2)
        rho_inf = 2 / (1 - beta2) - 1
        t = state.step
        mx, my = state.exp_avg[0].tolist()
        vx, vy = state.exp_avg_sq[0].tolist()

        def step(gx: float, gy: float, x: float, y: float, lr: float) -> tuple[float, float]:
            nonlocal t, mx, my, vx, vy
            t += 1
            if decay is not None:
                gx, gy = fma(x, decay, gx), fma(y, decay, gy)
            if shrink is not None:
                factor = 1 - lr * shrink
                x, y = x * factor, y * factor
            mx, vx = axis(gx, mx, vx)
            my, vy = axis(gy, my, vy)
            bias_correction1 = 1 - beta1**t
            bias_correction2 = 1 - beta2**t
            sx, sy = mx / bias_correction1 * lr, my / bias_correction1 * lr
            rho_t = rho_inf - 2 * t * beta2**t / bias_correction2
            if rho_t > 5.0:
                root, rect = bias_correction2**0.5, rectification(rho_t, rho_inf)
                sx = sx * (root / (math.sqrt(vx) + eps)) * rect
                sy = sy * (root / (math.sqrt(vy) + eps)) * rect
            return x - sx, y - sy

        def save() -> None:
            state.step = t
            state.exp_avg[0] = mx, my
            state.exp_avg_sq[0] = vx, vy

        return step, save


def _rect(rho_t: Value, rho_inf: Value) -> Value:
    """``rectification`` per row (0 where ρₜ ≤ 5: those rows take the plain step)."""
    if not isinstance(rho_t, np.ndarray):
        return rectification(rho_t, float(rho_inf))
    infs = np.broadcast_to(rho_inf, rho_t.shape).ravel().tolist()
    values = [
        rectification(r, i) if r > 5.0 else 0.0
        for r, i in zip(rho_t.ravel().tolist(), infs, strict=True)
    ]
    return np.array(values).reshape(rho_t.shape)
