"""AdamW — ``torch.optim.AdamW`` (amsgrad=False): Adam with decoupled weight decay."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from optimizers.adam import Adam, AdamState, _lerp
from optimizers.base import (
    HyperParam,
    Optimizer,
    ScalarUpdate,
    Scratch,
    Value,
    addcdiv,
    addcmul_,
    eps_param,
    float_pow,
    lr_param,
)

#: AdamW's λ shrinks θ directly (torch's default 1e-2), never enters g, m or v.
DECOUPLED_WEIGHT_DECAY = HyperParam(
    "weight_decay",
    1e-2,
    0.0,
    1.0,
    False,
    "Decoupled weight decay λ: θ shrinks by ηλθ each update, apart from the gradient.",
)


class AdamW(Adam):
    r"""AdamW: Adam whose weight decay shrinks θ itself instead of adding λθ to g.

    Lecture notes (Loshchilov & Hutter), at update t = 1, 2, …::

        θ ← θ − ηλθ
        m ← β₁m + (1 − β₁) g
        v ← β₂v + (1 − β₂) g ⊙ g
        m̂ = m / (1 − β₁ᵗ),   v̂ = v / (1 − β₂ᵗ)
        θ ← θ − η m̂ / (√v̂ + ε)

    With Adam's L2 penalty (``adam`` with weight_decay) λθ goes through v and is divided
    by √v̂ like the gradient, so coordinates with large gradients are barely decayed;
    here every coordinate shrinks by the same factor (1 − ηλ). PyTorch (``AdamW``) is
    Adam's code with ``decoupled_weight_decay=True``::

        θ ← θ · (1 − ηλ)              torch: param.mul_(1 - lr * weight_decay)
        step_size = η / (1 − β₁ᵗ)
        denom = √v / √(1 − β₂ᵗ) + ε
        θ ← θ − step_size · m / denom

    m is updated as ``m.lerp_(g, 1 − β₁)`` (see ``adam``). η is the scheduled rate, so
    the decay follows the schedule too. m and v start at 0.

    Hyperparameters:
        lr (float): learning rate η. Default 1e-3, range [1e-5, 10] (log slider).
        beta1 (float): β₁, decay of the gradient average. Default 0.9, range [0, 0.9999].
        beta2 (float): β₂, decay of the squared average. Default 0.999, range [0, 0.9999].
        eps (float): ε. Default 1e-8, range [1e-12, 1] (log slider).
        weight_decay (float): decoupled weight decay λ. Default 1e-2, range [0, 1].
    """

    name = "adamw"
    title = "AdamW"
    group = "adaptive"
    hyperparams = (
        lr_param(1e-3),
        HyperParam("beta1", 0.9, 0.0, 0.9999, False, "β₁: decay of the gradient average m."),
        HyperParam(
            "beta2", 0.999, 0.0, 0.9999, False, "β₂: decay of the squared-gradient average v."
        ),
        eps_param(1e-8),
        DECOUPLED_WEIGHT_DECAY,
    )

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
        g = grad  # decoupled: the averages see the plain gradient
        state.step += 1
        t = state.step
        # θ ← θ(1 − ηλ)                 torch: param.mul_(1 - lr * weight_decay)
        theta = decay_theta(theta, lr, self.hyper["weight_decay"], s.grad)
        # m ← β₁m + (1 − β₁) g          torch: exp_avg.lerp_(grad, 1 - beta1)
        _lerp(state.exp_avg, g, 1 - beta1, s.term)
        # v ← β₂v + (1 − β₂) g ⊙ g      torch: exp_avg_sq.mul_(beta2).addcmul_(...)
        state.exp_avg_sq *= beta2
        addcmul_(state.exp_avg_sq, g, g, 1 - beta2, s.term)
        # step_size = η / (1 − β₁ᵗ),  denom = √v / √(1 − β₂ᵗ) + ε
        step_size = lr / (1 - float_pow(beta1, t))
        denom = np.sqrt(state.exp_avg_sq, out=s.denom)
        denom /= float_pow(1 - float_pow(beta2, t), 0.5)
        denom += self.hyper["eps"]
        # θ ← θ − step_size · m / denom   torch: param.addcdiv_(exp_avg, denom, value=-step_size)
        return addcdiv(theta, state.exp_avg, denom, -step_size, out), state

    def seen_gradient(self, grad: np.ndarray, theta: np.ndarray) -> np.ndarray:
        return grad.copy()  # λ acts on θ, not on g

    def scalar_decay(self) -> float | None:
        return None  # g is left alone (the runner's record of g uses this)

    def scalar(self, state: AdamState) -> tuple[ScalarUpdate, Callable[[], None]]:
        beta1, beta2, eps = self.number("beta1"), self.number("beta2"), self.number("eps")
        decay = scalar_shrink(self)
        weight, share = 1 - beta1, 1 - beta2
        near, keep = abs(weight) < 0.5, 1 - weight  # _lerp's two formulas
        t = state.step
        mx, my = state.exp_avg[0].tolist()
        vx, vy = state.exp_avg_sq[0].tolist()

        def axis(g: float, m: float, v: float) -> tuple[float, float]:
            m = m + (g - m) * weight if near else g - (g - m) * keep
            return m, v * beta2 + g * share * g

        def step(gx: float, gy: float, x: float, y: float, lr: float) -> tuple[float, float]:
            nonlocal t, mx, my, vx, vy
            t += 1
            if decay is not None:
                factor = 1 - lr * decay
                x, y = x * factor, y * factor
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


def decay_theta(
    theta: np.ndarray, lr: Value, weight_decay: Value, buffer: np.ndarray
) -> np.ndarray:
    """Decoupled weight decay θ(1 − ηλ) into ``buffer`` (θ itself when λ is a scalar 0,
    which torch skips; a per-row λ = 0 row is multiplied by 1, the same bits).

    torch: ``param.mul_(1 - lr * weight_decay)``; AdamW, NAdam and RAdam with
    ``decoupled_weight_decay``, and Adafactor.
    """
    if not isinstance(weight_decay, np.ndarray) and weight_decay == 0.0:
        return theta
    return np.multiply(theta, 1 - lr * weight_decay, out=buffer)


def scalar_shrink(opt: Optimizer) -> float | None:
    """The decoupled λ of a one-row optimizer for ``scalar`` (None: θ is not shrunk)."""
    if not opt.per_row("weight_decay") and opt.params["weight_decay"] == 0.0:
        return None
    return opt.number("weight_decay")
