"""Rprop — ``torch.optim.Rprop``: resilient backpropagation."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from optimizers.base import (
    HyperParam,
    Optimizer,
    ScalarUpdate,
    Scratch,
    Value,
)


@dataclass(slots=True)
class RpropState:
    """torch's buffers: ``step``; ``prev`` the previous update's gradient (0 where its sign
    flipped); ``step_size`` Δ, each coordinate's own step. Both None until the first
    update, which fills Δ with that update's η (torch creates them in its first step)."""

    step: int
    prev: np.ndarray | None = None
    step_size: np.ndarray | None = None


def _sign(value: float) -> float:
    """``torch.sign`` on a float: 0 for ±0 and for NaN."""
    return float((value > 0) - (value < 0))


class Rprop(Optimizer):
    r"""Rprop: only the sign of the gradient counts; each coordinate tunes its own step.

    Lecture notes (Riedmiller & Braun 1993), per coordinate, with Δ₀ = η::

        Δ ← min(η⁺Δ, Δ_max)   if g · g_prev > 0
        Δ ← max(η⁻Δ, Δ_min),   g ← 0   if g · g_prev < 0
        θ ← θ − sign(g) Δ
        g_prev ← g

    Same direction as before: the step grows; a sign flip (an overshoot): it shrinks, and
    the coordinate rests once. The size of the gradient never enters, so Rprop crosses
    plateaus and steep walls at the same pace. PyTorch (``Rprop``) is this rule (the
    Rprop⁻ variant, without backtracking): sign(g · g_prev) picks the factor η⁺, η⁻ or
    1, Δ is clamped to [Δ_min, Δ_max], and ``prev`` holds g with the flipped coordinates
    zeroed. The learning rate only sets Δ₀ (at the first update, so a schedule changes
    nothing after it). torch's sign of NaN is 0: a NaN gradient leaves θ where it is.

    Hyperparameters:
        lr (float): η, the first step Δ₀. Default 1e-2, range [1e-5, 10] (log slider).
        etaminus (float): η⁻, Δ's factor after a sign flip. Default 0.5, range [0.01, 0.99].
        etaplus (float): η⁺, Δ's factor while the sign holds. Default 1.2, range [1.01, 5].
        step_size_min (float): Δ_min. Default 1e-6, range [1e-12, 1] (log slider).
        step_size_max (float): Δ_max. Default 50, range [1e-3, 1000] (log slider).

    torch's ``etas=(η⁻, η⁺)`` and ``step_sizes=(Δ_min, Δ_max)`` are split, as Adam's betas.
    """

    name = "rprop"
    title = "Rprop"
    group = "adaptive"
    hyperparams = (
        HyperParam("lr", 1e-2, 1e-5, 10.0, True, "Learning rate η: the first step Δ₀."),
        HyperParam("etaminus", 0.5, 0.01, 0.99, False, "η⁻: the step shrinks by it on a flip."),
        HyperParam(
            "etaplus", 1.2, 1.01, 5.0, False, "η⁺: the step grows by it while g keeps sign."
        ),
        HyperParam("step_size_min", 1e-6, 1e-12, 1.0, True, "Δ_min: the smallest step."),
        HyperParam("step_size_max", 50.0, 1e-3, 1000.0, True, "Δ_max: the largest step."),
    )

    def init(self, theta: np.ndarray) -> RpropState:
        return RpropState(step=0)

    def update(
        self,
        grad: np.ndarray,
        state: RpropState,
        theta: np.ndarray,
        lr: Value,
        out: np.ndarray | None = None,
        scratch: Scratch | None = None,
    ) -> tuple[np.ndarray, RpropState]:
        minus, plus = self.hyper["etaminus"], self.hyper["etaplus"]
        s = scratch or Scratch.like(theta)
        if state.prev is None or state.step_size is None:
            # torch: prev = zeros_like(p); step_size = full_like(grad, lr)
            state.prev = np.zeros_like(theta)
            state.step_size = np.empty_like(theta)
            state.step_size[...] = lr
        state.step += 1
        # the factor: η⁺, η⁻ or 1 by sign(g · g_prev)   torch: grad.mul(prev).sign()
        product = np.multiply(grad, state.prev, out=s.term)
        factor = np.where(product > 0, plus, np.where(product < 0, minus, 1.0))
        # Δ ← clamp(Δ · factor, Δ_min, Δ_max)   torch: step_size.mul_(sign).clamp_(min, max)
        state.step_size *= factor
        np.maximum(state.step_size, self.hyper["step_size_min"], out=state.step_size)
        np.minimum(state.step_size, self.hyper["step_size_max"], out=state.step_size)
        # g ← 0 where the sign flipped      torch: grad[sign.eq(etaminus)] = 0
        g = np.where(factor == minus, 0.0, grad)
        # θ ← θ − sign(g) · Δ              torch: param.addcmul_(grad.sign(), step_size, value=-1)
        direction = np.greater(g, 0.0, out=s.denom, casting="unsafe")
        direction -= g < 0  # torch.sign: 0 for NaN
        direction *= -1.0
        direction *= state.step_size
        state.prev = g
        return np.add(theta, direction, out=out), state

    def buffers(self) -> tuple[str, ...]:
        return ("prev", "step_size")

    def seen_gradient(self, grad: np.ndarray, theta: np.ndarray) -> np.ndarray:
        return grad.copy()  # torch's Rprop has no weight decay

    def scalar_decay(self) -> float | None:
        return None

    def scalar(self, state: RpropState) -> tuple[ScalarUpdate, Callable[[], None]]:
        minus, plus = self.number("etaminus"), self.number("etaplus")
        low, high = self.number("step_size_min"), self.number("step_size_max")
        t = state.step
        started = state.prev is not None and state.step_size is not None
        px, py = state.prev[0].tolist() if state.prev is not None else (0.0, 0.0)
        dx, dy = state.step_size[0].tolist() if state.step_size is not None else (0.0, 0.0)

        def axis(g: float, p: float, d: float) -> tuple[float, float, float]:
            product = g * p
            factor = plus if product > 0 else minus if product < 0 else 1.0
            d = _clamp(d * factor, low, high)
            if factor == minus:
                g = 0.0
            return g, d, -1.0 * _sign(g) * d

        def step(gx: float, gy: float, x: float, y: float, lr: float) -> tuple[float, float]:
            nonlocal t, px, py, dx, dy, started
            if not started:
                dx, dy, started = lr, lr, True
            t += 1
            px, dx, sx = axis(gx, px, dx)
            py, dy, sy = axis(gy, py, dy)
            return x + sx, y + sy

        def save() -> None:
            state.step = t
            if started:
                state.prev = np.array([[px, py]])
                state.step_size = np.array([[dx, dy]])

        return step, save


def _clamp(value: float, low: float, high: float) -> float:
    """``np.minimum(np.maximum(value, low), high)`` on floats (NaN stays NaN)."""
    if value != value:
        return value
    return min(max(value, low), high)
