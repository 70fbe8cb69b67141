"""Nesterov accelerated gradient — ``torch.optim.SGD(lr, momentum, nesterov=True)``."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from optimizers.base import (
    MOMENTUM,
    WEIGHT_DECAY,
    Optimizer,
    ScalarUpdate,
    Scratch,
    Value,
    add_weight_decay,
    lr_param,
)
from optimizers.momentum import MomentumState, accumulate, scalar_buffer


class NAG(Optimizer):
    r"""Nesterov momentum: look ahead along the velocity, then correct.

    Lecture notes (Sutskever et al. 2013)::

        v ← μv − η∇f(θ + μv)
        θ ← θ + v

    PyTorch evaluates the gradient at the current point and applies the look-ahead to
    the buffer instead (the same method after the change of variables θ' = θ + μv)::

        b ← g                      (first update)
        b ← μb + g                 (later updates)
        θ ← θ − η(g + μb)

    This is PyTorch's form (dampening is 0, as PyTorch requires for Nesterov). With
    weight decay λ, g ← g + λθ first. With μ = 0 it is plain SGD. The buffer and its
    update are Momentum's (``momentum.accumulate``).

    Hyperparameters:
        lr (float): learning rate η. Default 1e-3, range [1e-5, 10] (log slider).
        momentum (float): μ. Default 0.9, range [0, 0.9999].
        weight_decay (float): L2 penalty λ. Default 0, range [0, 1].
    """

    name = "nag"
    title = "Nesterov (NAG)"
    group = "classic"
    hyperparams = (
        lr_param(1e-3),
        MOMENTUM,
        WEIGHT_DECAY,
    )

    def init(self, theta: np.ndarray) -> MomentumState:
        return MomentumState()

    def update(
        self,
        grad: np.ndarray,
        state: MomentumState,
        theta: np.ndarray,
        lr: Value,
        out: np.ndarray | None = None,
        scratch: Scratch | None = None,
    ) -> tuple[np.ndarray, MomentumState]:
        mu = self.hyper["momentum"]
        s = scratch or Scratch.like(theta)
        g = add_weight_decay(grad, theta, self.hyper["weight_decay"], s.grad)  # g ← g + λθ
        buf = accumulate(state, g, mu, 0.0)  # b ← μb + g
        # θ ← θ − η(g + μb)   torch: grad.add(buf, alpha=momentum); param.add_(grad, alpha=-lr)
        step = np.multiply(buf, mu, out=s.term)
        step += g
        step *= -lr
        return np.add(theta, step, out=out), state

    def buffers(self) -> tuple[str, ...]:
        return ("momentum_buffer",)

    def scalar(self, state: MomentumState) -> tuple[ScalarUpdate, Callable[[], None]]:
        return scalar_buffer(self, state, 0.0, always=True)
