"""Adamax — ``torch.optim.Adamax``: Adam with the infinity norm."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from optimizers.adam import BETA1, _lerp, scalar_lerp
from optimizers.amsgrad import maximum
from optimizers.base import (
    WEIGHT_DECAY,
    HyperParam,
    Optimizer,
    ScalarUpdate,
    Scratch,
    Value,
    add_weight_decay,
    addcdiv,
    eps_param,
    float_pow,
    fma,
    lr_param,
)


@dataclass(slots=True)
class AdamaxState:
    """torch's buffers: ``step`` t; ``exp_avg`` m; ``exp_inf`` u, the decaying maximum of
    |g| (Adam's v with the ∞-norm in place of the square)."""

    step: int
    exp_avg: np.ndarray
    exp_inf: np.ndarray


class Adamax(Optimizer):
    r"""Adamax: Adam whose denominator is a decaying maximum of |g| instead of √v.

    Lecture notes (Kingma & Ba 2015, section 7.1), at update t = 1, 2, …::

        m ← β₁m + (1 − β₁) g
        u ← max(β₂u, |g|)
        θ ← θ − η / (1 − β₁ᵗ) · m / u

    u needs no bias correction: a maximum does not start biased toward 0. PyTorch
    (``Adamax``) adds ε inside the maximum rather than to the denominator::

        u ← max(β₂u, |g| + ε)
        θ ← θ − η / (1 − β₁ᵗ) · m / u

    (torch: ``torch.maximum(exp_inf.mul_(beta2), grad.abs().add_(eps), out=exp_inf)``, then
    ``param.addcdiv_(exp_avg, exp_inf, value=-clr)``).

    m as ``m.lerp_(g, 1 − β₁)`` (see ``adam``). With weight decay λ, g ← g + λθ first.
    m and u start at 0.

    Hyperparameters:
        lr (float): learning rate η. Default 2e-3, range [1e-5, 10] (log slider).
        beta1 (float): β₁. Default 0.9, range [0, 0.9999].
        beta2 (float): β₂, decay of the maximum. Default 0.999, range [0, 0.9999].
        eps (float): ε. Default 1e-8, range [1e-12, 1] (log slider).
        weight_decay (float): L2 penalty λ. Default 0, range [0, 1].
    """

    name = "adamax"
    title = "Adamax"
    group = "adaptive"
    hyperparams = (
        lr_param(2e-3),
        BETA1,
        HyperParam("beta2", 0.999, 0.0, 0.9999, False, "β₂: decay of the maximum u of |g|."),
        eps_param(1e-8),
        WEIGHT_DECAY,
    )

    def init(self, theta: np.ndarray) -> AdamaxState:
        return AdamaxState(step=0, exp_avg=np.zeros_like(theta), exp_inf=np.zeros_like(theta))

    def update(
        self,
        grad: np.ndarray,
        state: AdamaxState,
        theta: np.ndarray,
        lr: Value,
        out: np.ndarray | None = None,
        scratch: Scratch | None = None,
    ) -> tuple[np.ndarray, AdamaxState]:
        beta1, beta2 = self.hyper["beta1"], self.hyper["beta2"]
        s = scratch or Scratch.like(theta)
        g = add_weight_decay(grad, theta, self.hyper["weight_decay"], s.grad)  # g ← g + λθ
        state.step += 1
        # m ← β₁m + (1 − β₁) g          torch: exp_avg.lerp_(grad, 1 - beta1)
        _lerp(state.exp_avg, g, 1 - beta1, s.term)
        # u ← max(β₂u, |g| + ε)
        state.exp_inf *= beta2
        magnitude = np.abs(g, out=s.denom)
        magnitude += self.hyper["eps"]
        np.maximum(state.exp_inf, magnitude, out=state.exp_inf)
        # θ ← θ − η / (1 − β₁ᵗ) · m / u
        clr = lr / (1 - float_pow(beta1, state.step))
        return addcdiv(theta, state.exp_avg, state.exp_inf, -clr, out), state

    def buffers(self) -> tuple[str, ...]:
        return ("exp_avg", "exp_inf")

    def scalar(self, state: AdamaxState) -> tuple[ScalarUpdate, Callable[[], None]]:
        beta1, beta2, eps = self.number("beta1"), self.number("beta2"), self.number("eps")
        decay, lerp = self.scalar_decay(), scalar_lerp(1 - beta1)
        t = state.step
        mx, my = state.exp_avg[0].tolist()
        ux, uy = state.exp_inf[0].tolist()

        def step(gx: float, gy: float, x: float, y: float, lr: float) -> tuple[float, float]:
            nonlocal t, mx, my, ux, uy
            if decay is not None:
                gx, gy = fma(x, decay, gx), fma(y, decay, gy)
            t += 1
            mx, my = lerp(gx, mx), lerp(gy, my)  # m ← β₁m + (1 − β₁) g
            ux, uy = maximum(ux * beta2, abs(gx) + eps), maximum(uy * beta2, abs(gy) + eps)
            rate = -(lr / (1 - beta1**t))  # −clr
            return x + mx * rate / ux, y + my * rate / uy

        def save() -> None:
            state.step = t
            state.exp_avg[0] = mx, my
            state.exp_inf[0] = ux, uy

        return step, save
