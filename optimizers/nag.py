"""Nesterov accelerated gradient — ``torch.optim.SGD(lr, momentum, nesterov=True)``."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from optimizers.base import (
    MOMENTUM,
    WEIGHT_DECAY,
    Optimizer,
    Value,
    add_weight_decay,
    lr_param,
)


@dataclass(slots=True)
class NAGState:
    """``buf`` is PyTorch's momentum buffer b; ``count`` the number of updates taken."""

    buf: np.ndarray
    count: int
    decayed: np.ndarray
    step: np.ndarray


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
    weight decay λ, g ← g + λθ first. With μ = 0 it is plain SGD.

    Hyperparameters:
        lr (float): learning rate η. Default 1e-3, range [1e-5, 10] (log slider).
        momentum (float): μ. Default 0.9, range [0, 0.9999].
        weight_decay (float): L2 penalty λ. Default 0, range [0, 1].
    """

    name = "nag"
    title = "Nesterov (NAG)"
    hyperparams = (
        lr_param(1e-3),
        MOMENTUM,
        WEIGHT_DECAY,
    )

    def init(self, theta: np.ndarray) -> NAGState:
        return NAGState(
            buf=np.zeros_like(theta),
            count=0,
            decayed=np.zeros_like(theta),
            step=np.zeros_like(theta),
        )

    def update(
        self, grad: np.ndarray, state: NAGState, theta: np.ndarray, lr: Value, out: np.ndarray
    ) -> tuple[np.ndarray, NAGState]:
        mu = self.hyper["momentum"]
        g = add_weight_decay(grad, theta, self.hyper["weight_decay"], state.decayed)
        if state.count == 0:
            np.copyto(state.buf, g)  # torch: buf = grad.clone()
        else:
            state.buf *= mu  # torch: buf.mul_(momentum).add_(grad, alpha=1)
            state.buf += g
        state.count += 1
        np.multiply(state.buf, mu, out=state.step)  # torch: grad.add(buf, alpha=momentum)
        state.step += g
        state.step *= -lr
        np.add(theta, state.step, out=out)
        return out, state
