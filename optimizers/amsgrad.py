"""AMSGrad — ``torch.optim.Adam(amsgrad=True)``."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from optimizers.adam import Adam, scalar_moments, update_moments
from optimizers.base import (
    Optimizer,
    ScalarUpdate,
    Scratch,
    Value,
    add_weight_decay,
    addcdiv,
    float_pow,
    fma,
)


@dataclass(slots=True)
class AMSGradState:
    """torch's buffers: Adam's ``step``, ``exp_avg`` m and ``exp_avg_sq`` v, plus
    ``max_exp_avg_sq`` v_max, the largest v so far (per coordinate)."""

    step: int
    exp_avg: np.ndarray
    exp_avg_sq: np.ndarray
    max_exp_avg_sq: np.ndarray


class AMSGrad(Optimizer):
    r"""AMSGrad: Adam whose denominator never shrinks, so its steps cannot suddenly grow.

    Lecture notes (Reddi, Kale & Kumar 2018), at update t = 1, 2, …::

        m ← β₁m + (1 − β₁) g
        v ← β₂v + (1 − β₂) g ⊙ g
        v_max ← max(v_max, v)
        m̂ = m / (1 − β₁ᵗ),   v̂ = v_max / (1 − β₂ᵗ)
        θ ← θ − η m̂ / (√v̂ + ε)

    In Adam, v forgets a burst of large gradients after a few hundred updates and the
    step η m̂ / √v̂ grows again: the late loss spikes of a long run. AMSGrad keeps the
    largest v. PyTorch (``Adam(amsgrad=True)``) folds the corrections as Adam does::

        v_max ← max(v_max, v)         torch: torch.maximum(max_exp_avg_sq, exp_avg_sq, out=…)
        step_size = η / (1 − β₁ᵗ)
        denom = √v_max / √(1 − β₂ᵗ) + ε
        θ ← θ − step_size · m / denom

    (torch divides v_max, not v, by the bias correction: the max of v, not of v̂). With
    weight decay λ (coupled, as Adam's), g ← g + λθ first. m, v and v_max start at 0.

    Hyperparameters:
        lr (float): learning rate η. Default 1e-3, range [1e-5, 10] (log slider).
        beta1 (float): β₁, decay of the gradient average. Default 0.9, range [0, 0.9999].
        beta2 (float): β₂, decay of the squared average. Default 0.999, range [0, 0.9999].
        eps (float): ε. Default 1e-8, range [1e-12, 1] (log slider).
        weight_decay (float): L2 penalty λ. Default 0, range [0, 1].
    """

    name = "amsgrad"
    title = "AMSGrad"
    group = "adaptive"
    hyperparams = Adam.hyperparams

    def init(self, theta: np.ndarray) -> AMSGradState:
        return AMSGradState(
            step=0,
            exp_avg=np.zeros_like(theta),
            exp_avg_sq=np.zeros_like(theta),
            max_exp_avg_sq=np.zeros_like(theta),
        )

    def update(
        self,
        grad: np.ndarray,
        state: AMSGradState,
        theta: np.ndarray,
        lr: Value,
        out: np.ndarray | None = None,
        scratch: Scratch | None = None,
    ) -> tuple[np.ndarray, AMSGradState]:
        beta1, beta2 = self.hyper["beta1"], self.hyper["beta2"]
        s = scratch or Scratch.like(theta)
        g = add_weight_decay(grad, theta, self.hyper["weight_decay"], s.grad)  # g ← g + λθ
        state.step += 1
        t = state.step
        # m ← β₁m + (1 − β₁) g          torch: exp_avg.lerp_(grad, 1 - beta1)
        # v ← β₂v + (1 − β₂) g ⊙ g      torch: exp_avg_sq.mul_(beta2).addcmul_(...)
        update_moments(state.exp_avg, state.exp_avg_sq, g, beta1, beta2, s.term)
        # v_max ← max(v_max, v)          torch: torch.maximum(..., out=max_exp_avg_sq)
        np.maximum(state.max_exp_avg_sq, state.exp_avg_sq, out=state.max_exp_avg_sq)
        # step_size = η / (1 − β₁ᵗ),  denom = √v_max / √(1 − β₂ᵗ) + ε
        step_size = lr / (1 - float_pow(beta1, t))
        denom = np.sqrt(state.max_exp_avg_sq, out=s.denom)
        denom /= float_pow(1 - float_pow(beta2, t), 0.5)
        denom += self.hyper["eps"]
        # θ ← θ − step_size · m / denom   torch: param.addcdiv_(exp_avg, denom, value=-step_size)
        return addcdiv(theta, state.exp_avg, denom, -step_size, out), state

    def buffers(self) -> tuple[str, ...]:
        return ("exp_avg", "exp_avg_sq", "max_exp_avg_sq")

    def scalar(self, state: AMSGradState) -> tuple[ScalarUpdate, Callable[[], None]]:
        beta1, beta2, eps = self.number("beta1"), self.number("beta2"), self.number("eps")
        decay, moments = self.scalar_decay(), scalar_moments(beta1, beta2)
        t = state.step
        mx, my = state.exp_avg[0].tolist()
        vx, vy = state.exp_avg_sq[0].tolist()
        wx, wy = state.max_exp_avg_sq[0].tolist()

        def step(gx: float, gy: float, x: float, y: float, lr: float) -> tuple[float, float]:
            nonlocal t, mx, my, vx, vy, wx, wy
            if decay is not None:
                gx, gy = fma(x, decay, gx), fma(y, decay, gy)
            t += 1
            mx, vx = moments(gx, mx, vx)
            my, vy = moments(gy, my, vy)
            wx, wy = maximum(wx, vx), maximum(wy, vy)  # v_max ← max(v_max, v)
            rate = -(lr / (1 - beta1**t))  # −step_size
            bias = (1 - beta2**t) ** 0.5
            return (
                x + mx * rate / (math.sqrt(wx) / bias + eps),
                y + my * rate / (math.sqrt(wy) / bias + eps),
            )

        def save() -> None:
            state.step = t
            state.exp_avg[0] = mx, my
            state.exp_avg_sq[0] = vx, vy
            state.max_exp_avg_sq[0] = wx, wy

        return step, save


def maximum(a: float, b: float) -> float:
    """``np.maximum`` on floats: NaN if either is NaN (Python's ``max`` keeps the first)."""
    return a if a >= b or a != a else b
