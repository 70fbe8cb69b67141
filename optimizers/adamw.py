"""AdamW — ``torch.optim.AdamW`` (amsgrad=False): Adam with decoupled weight decay."""

from __future__ import annotations

import numpy as np

from optimizers.adam import BETA1, BETA2, Adam
from optimizers.base import (
    HyperParam,
    Optimizer,
    Scratch,
    Value,
    eps_param,
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
        BETA1,
        BETA2,
        eps_param(1e-8),
        DECOUPLED_WEIGHT_DECAY,
    )

    def apply_weight_decay(
        self, grad: np.ndarray, theta: np.ndarray, lr: Value, scratch: Scratch
    ) -> tuple[np.ndarray, np.ndarray]:
        """Decoupled: the averages see the plain gradient and θ shrinks, ahead of Adam's
        update (``Adam.update`` does the rest).

        torch: ``param.mul_(1 - lr * weight_decay)``.
        """
        # θ ← θ(1 − ηλ)
        return grad, decay_theta(theta, lr, self.hyper["weight_decay"], scratch.grad)

    def seen_gradient(self, grad: np.ndarray, theta: np.ndarray) -> np.ndarray:
        return grad.copy()  # λ acts on θ, not on g

    def scalar_decay(self) -> float | None:
        return None  # g is left alone (the runner's record of g uses this)

    def scalar_decoupled(self) -> float | None:
        return scalar_shrink(self)


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
