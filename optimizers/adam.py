"""Adam — ``torch.optim.Adam`` (amsgrad=False)."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from optimizers.base import (
    WEIGHT_DECAY,
    HyperParam,
    Optimizer,
    ScalarUpdate,
    Scratch,
    Value,
    add_weight_decay,
    addcdiv,
    average_square_,
    eps_param,
    float_pow,
    fma,
    lr_param,
)

#: β₁ and β₂ with torch's defaults, one home for the Adam family (AdamW, AMSGrad, NAdam,
#: RAdam; Adamax takes β₁).
BETA1 = HyperParam("beta1", 0.9, 0.0, 0.9999, False, "β₁: decay of the gradient average m.")
BETA2 = HyperParam(
    "beta2", 0.999, 0.0, 0.9999, False, "β₂: decay of the squared-gradient average v."
)


@dataclass(slots=True)
class AdamState:
    """torch's buffers: ``step`` is t, the updates taken; ``exp_avg`` m; ``exp_avg_sq`` v."""

    step: int
    exp_avg: np.ndarray
    exp_avg_sq: np.ndarray


class Adam(Optimizer):
    r"""Adam: momentum on the gradient plus RMSprop's scaling, both bias-corrected.

    Lecture notes, at update t = 1, 2, …::

        m ← β₁m + (1 − β₁) g
        v ← β₂v + (1 − β₂) g ⊙ g
        m̂ = m / (1 − β₁ᵗ),   v̂ = v / (1 − β₂ᵗ)
        θ ← θ − η m̂ / (√v̂ + ε)

    PyTorch folds the corrections into the step size (the same numbers)::

        step_size = η / (1 − β₁ᵗ)
        denom = √v / √(1 − β₂ᵗ) + ε
        θ ← θ − step_size · m / denom

    and updates m as ``m.lerp_(g, 1 − β₁)``, with ATen's two formulas (torch fuses their
    multiply-add; here it is rounded twice, within an ulp). With weight decay λ (coupled,
    not AdamW), g ← g + λθ first. m and v start at 0.

    Hyperparameters:
        lr (float): learning rate η. Default 1e-3, range [1e-5, 10] (log slider).
        beta1 (float): β₁, decay of the gradient average. Default 0.9, range [0, 0.9999].
        beta2 (float): β₂, decay of the squared average. Default 0.999, range [0, 0.9999].
        eps (float): ε. Default 1e-8, range [1e-12, 1] (log slider).
        weight_decay (float): L2 penalty λ. Default 0, range [0, 1].
    """

    name = "adam"
    title = "Adam"
    group = "adaptive"
    hyperparams = (
        lr_param(1e-3),
        BETA1,
        BETA2,
        eps_param(1e-8),
        WEIGHT_DECAY,
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
        g, theta = self.apply_weight_decay(grad, theta, lr, s)  # g ← g + λθ (AdamW: θ ← θ(1 − ηλ))
        state.step += 1
        t = state.step
        # m ← β₁m + (1 − β₁) g          torch: exp_avg.lerp_(grad, 1 - beta1)
        # v ← β₂v + (1 − β₂) g ⊙ g
        #                      torch: exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        update_moments(state.exp_avg, state.exp_avg_sq, g, beta1, beta2, s.term)
        # m̂ and v̂, folded into the step size and the denominator as torch does:
        # step_size = η / (1 − β₁ᵗ),  denom = √v / √(1 − β₂ᵗ) + ε
        step_size = lr / (1 - float_pow(beta1, t))
        denom = np.sqrt(state.exp_avg_sq, out=s.denom)
        denom /= float_pow(1 - float_pow(beta2, t), 0.5)
        denom += self.hyper["eps"]
        # θ ← θ − step_size · m / denom   torch: param.addcdiv_(exp_avg, denom, value=-step_size)
        return addcdiv(theta, state.exp_avg, denom, -step_size, out), state

    def apply_weight_decay(
        self, grad: np.ndarray, theta: np.ndarray, lr: Value, scratch: Scratch
    ) -> tuple[np.ndarray, np.ndarray]:
        """(g, θ) after weight decay: Adam's is coupled, g ← g + λθ (``adamw`` overrides).

        torch: ``grad = grad.add(param, alpha=weight_decay)``.
        """
        return add_weight_decay(grad, theta, self.hyper["weight_decay"], scratch.grad), theta

    def scalar_decoupled(self) -> float | None:
        """The λ that shrinks θ in ``scalar`` (None: Adam's λ goes into g, ``scalar_decay``)."""
        return None

    def buffers(self) -> tuple[str, ...]:
        return ("exp_avg", "exp_avg_sq")

    def scalar(self, state: AdamState) -> tuple[ScalarUpdate, Callable[[], None]]:
        beta1, beta2, eps = self.number("beta1"), self.number("beta2"), self.number("eps")
        decay, shrink = self.scalar_decay(), self.scalar_decoupled()  # one of them is None
        axis = scalar_moments(beta1, beta2)
        t = state.step
        mx, my = state.exp_avg[0].tolist()
        vx, vy = state.exp_avg_sq[0].tolist()

        def step(gx: float, gy: float, x: float, y: float, lr: float) -> tuple[float, float]:
            nonlocal t, mx, my, vx, vy
            if decay is not None:
                gx, gy = fma(x, decay, gx), fma(y, decay, gy)
            if shrink is not None:
                factor = 1 - lr * shrink
                x, y = x * factor, y * factor
            t += 1
            mx, vx = axis(gx, mx, vx)
            my, vy = axis(gy, my, vy)
            rate = -(lr / (1 - beta1**t))  # −step_size
            bias = (1 - beta2**t) ** 0.5
            return (
                x + mx * rate / (math.sqrt(vx) / bias + eps),
                y + my * rate / (math.sqrt(vy) / bias + eps),
            )

        def save() -> None:
            state.step = t
            state.exp_avg[0] = mx, my
            state.exp_avg_sq[0] = vx, vy

        return step, save


def update_moments(
    exp_avg: np.ndarray,
    exp_avg_sq: np.ndarray,
    g: np.ndarray,
    beta1: Value,
    beta2: Value,
    term: np.ndarray,
) -> None:
    """Adam's two averages in place, in torch's order (Adam, AdamW, AMSGrad, NAdam, RAdam):
    m ← m.lerp(g, 1 − β₁), then v ← β₂v + (1 − β₂) g ⊙ g (``base.average_square_``)."""
    _lerp(exp_avg, g, 1 - beta1, term)
    average_square_(exp_avg_sq, g, beta2, term)


def scalar_moments(
    beta1: float, beta2: float
) -> Callable[[float, float, float], tuple[float, float]]:
    """``update_moments`` on one coordinate's floats for ``scalar``: (g, m, v) → (m, v)."""
    weight, share = 1 - beta1, 1 - beta2
    near, keep = abs(weight) < 0.5, 1 - weight  # _lerp's two formulas

    def axis(g: float, m: float, v: float) -> tuple[float, float]:
        m = m + (g - m) * weight if near else g - (g - m) * keep
        return m, v * beta2 + g * share * g

    return axis


def scalar_lerp(weight: float) -> Callable[[float, float], float]:
    """``_lerp`` on floats for ``scalar``: (end, start) → start.lerp(end, weight), with the
    same two formulas (Adamax's m, RMSprop's ḡ)."""
    keep = 1 - weight
    if abs(weight) < 0.5:
        return lambda end, start: start + (end - start) * weight
    return lambda end, start: end - (end - start) * keep


def _lerp(start: np.ndarray, end: np.ndarray, weight: Value, scratch: np.ndarray) -> None:
    """``start.lerp_(end, weight)`` in place, with ATen's two formulas for accuracy."""
    np.subtract(end, start, out=scratch)
    if isinstance(weight, np.ndarray):
        small = np.abs(weight) < 0.5
        low = start + weight * scratch
        high = end - scratch * (1 - weight)
        np.copyto(start, np.where(small, low, high))
    elif abs(weight) < 0.5:
        scratch *= weight  # start + weight·(end − start)
        start += scratch
    else:
        scratch *= 1 - weight  # end − (end − start)·(1 − weight)
        np.subtract(end, scratch, out=start)
