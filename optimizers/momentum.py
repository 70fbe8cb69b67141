"""Heavy-ball momentum — ``torch.optim.SGD(lr, momentum, dampening)``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from optimizers.base import (
    MOMENTUM,
    WEIGHT_DECAY,
    HyperParam,
    Optimizer,
    ScalarUpdate,
    Scratch,
    Value,
    add_weight_decay,
    fma,
    lr_param,
)


@dataclass(slots=True)
class MomentumState:
    """torch's ``momentum_buffer`` b: None until the first update, and at μ = 0 (as in
    torch). NAG's state too."""

    momentum_buffer: np.ndarray | None = None


def accumulate(state: MomentumState, g: np.ndarray, mu: Value, dampening: Value) -> np.ndarray:
    """b ← g on the first update, then b ← μb + (1 − τ)g, in place; returns b.

    torch: ``buf = clone(grad)``, then ``buf.mul_(momentum).add_(grad, alpha=1 - dampening)``.
    Momentum and NAG share it (NAG with τ = 0).
    """
    if state.momentum_buffer is None:
        state.momentum_buffer = g.copy()
        return state.momentum_buffer
    buf = state.momentum_buffer
    buf *= mu
    if isinstance(dampening, np.ndarray) or dampening != 0.0:
        buf += g * (1 - dampening)
    else:
        buf += g  # g·1 is g: the same bits without a temporary
    return buf


def scalar_buffer(
    opt: Optimizer, state: MomentumState, dampening: float, always: bool
) -> tuple[ScalarUpdate, Callable[[], None]]:
    """``scalar`` for Momentum (``always``: keep b even at μ = 0, as per-row μ does) and
    NAG (``always``, τ = 0): b ← g, then b ← μb + (1 − τ)g, as ``accumulate``.

    (1 − τ)g is computed even at τ = 0, where ``accumulate`` adds g itself: g·1 is g.
    """
    mu, decay, nesterov = opt.number("momentum"), opt.scalar_decay(), opt.name == "nag"
    keep = 1 - dampening
    buffer = state.momentum_buffer
    bx, by = (0.0, 0.0) if buffer is None else buffer[0].tolist()
    started = buffer is not None
    with_buffer = always or mu != 0.0

    def step(gx: float, gy: float, x: float, y: float, lr: float) -> tuple[float, float]:
        nonlocal bx, by, started
        if decay is not None:
            gx, gy = fma(x, decay, gx), fma(y, decay, gy)
        if with_buffer:
            if started:
                bx, by = bx * mu + gx * keep, by * mu + gy * keep
            else:
                bx, by, started = gx, gy, True
        if nesterov:  # θ ← θ − η(g + μb)
            return x + (bx * mu + gx) * -lr, y + (by * mu + gy) * -lr
        if mu == 0.0:  # plain SGD
            return x + gx * -lr, y + gy * -lr
        return x + bx * -lr, y + by * -lr

    def save() -> None:
        if started:
            state.momentum_buffer = np.array([[bx, by]])

    return step, save


class Momentum(Optimizer):
    r"""Momentum: a velocity that accumulates past gradients (a ball rolling downhill).

    Lecture notes::

        v ← μv − ηg
        θ ← θ + v

    PyTorch keeps a buffer b instead of the velocity and multiplies by η at the end::

        b ← g                      (first update)
        b ← μb + (1 − τ)g          (later updates; τ = dampening)
        θ ← θ − ηb

    With τ = 0 and a constant η the two agree (v = −ηb). Under a schedule they differ:
    PyTorch rescales the whole accumulated buffer by the *current* η. This is PyTorch's
    form. With weight decay λ, g ← g + λθ first; with μ = 0 it is plain SGD (θ ← θ − ηg).

    Hyperparameters:
        lr (float): learning rate η. Default 1e-3, range [1e-5, 10] (log slider).
        momentum (float): μ, how much velocity survives each step. Default 0.9,
            range [0, 0.9999].
        dampening (float): τ, scales the new gradient's share. Default 0, range [0, 1].
        weight_decay (float): L2 penalty λ. Default 0, range [0, 1].
    """

    name = "momentum"
    title = "Momentum"
    group = "classic"
    hyperparams = (
        lr_param(1e-3),
        MOMENTUM,
        HyperParam("dampening", 0.0, 0.0, 1.0, False, "Dampening τ: new gradients count (1 − τ)."),
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
        if isinstance(mu, np.ndarray):
            buf = accumulate(state, g, mu, self.hyper["dampening"])  # b ← μb + (1 − τ)g
            direction = np.where(mu == 0.0, g, buf)  # a μ = 0 row steps as plain SGD
        elif mu != 0.0:
            direction = accumulate(state, g, mu, self.hyper["dampening"])  # b ← μb + (1 − τ)g
        else:
            direction = g  # torch keeps no buffer at μ = 0: plain SGD
        # θ ← θ − ηb          torch: param.add_(buf, alpha=-lr)
        step = np.multiply(direction, -lr, out=s.term)
        return np.add(theta, step, out=out), state

    def buffers(self) -> tuple[str, ...]:
        keeps = self.per_row("momentum") or self.params["momentum"] != 0.0
        return ("momentum_buffer",) if keeps else ()  # torch: none at μ = 0

    def scalar(self, state: MomentumState) -> tuple[ScalarUpdate, Callable[[], None]]:
        return scalar_buffer(self, state, self.number("dampening"), always=self.per_row("momentum"))
