"""LARS — optax's ``lars`` (optax 0.2.8), torch has none. Also the trust ratio LAMB uses."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from optimizers.base import (
    MOMENTUM,
    HyperParam,
    Optimizer,
    ScalarUpdate,
    Scratch,
    Value,
    fma,
    lr_param,
)


@dataclass(slots=True)
class LarsState:
    """optax's ``TraceState``: ``trace``, the momentum of the steps (η already in it)."""

    trace: np.ndarray


class LARS(Optimizer):
    r"""LARS (layer-wise adaptive rate scaling): SGD with momentum whose step, for each
    layer, is scaled to a fixed fraction of that layer's weights.

    The 2-vector θ is one layer: the trust ratio rescales the whole (decayed) gradient so
    its length is τ‖θ‖, whatever the gradient's own length was; the direction is the
    gradient's. Far from the origin steps are long, near it short.

    Lecture notes, at update t = 1, 2, …::

        u = g + λθ
        r = τ ‖θ‖ / (‖u‖ + ε)
        b ← μb − η r u
        θ ← θ + b

    r is 1 when ‖θ‖ or ‖u‖ is 0 (the layer would never move otherwise). ‖·‖ is the length
    of the whole 2-vector (You, Gitman, Ginsburg, "Large Batch Training of Convolutional
    Networks", 2017, arXiv:1708.03888, Algorithm 1, with η inside the momentum as optax
    keeps it).

    Exact to optax 0.2.8's ``optax.lars`` (``optax/_src/alias.py``), the chain
    ``add_decayed_weights(weight_decay, mask=True)`` (``optax/transforms/_adding.py``) →
    ``masked(scale_by_trust_ratio(trust_coefficient, eps), True)``
    (``optax/_src/transform.py``, ``optax/transforms/_masking.py``) →
    ``scale_by_learning_rate(learning_rate)`` → ``trace(momentum, nesterov=False)``
    (``optax/transforms/_accumulation.py``), then ``optax.apply_updates``::

        u = g + weight_decay·θ            skipped when weight_decay is the float 0
        pn = ‖θ‖,  un = ‖u‖               numerics.safe_norm(·, min_norm=0)
        r = trust_coefficient·pn / (un + eps),  1 where pn = 0 or un = 0
        u ← u·r
        u ← (−learning_rate)·u
        trace ← u + momentum·trace        optax's buffer holds −η r u: it is the step
        θ ← θ + trace

    Each norm is jax's ``jnp.linalg.norm`` of a 2-vector: XLA on a CPU with FMA (where the
    goldens were recorded) computes √(fma(x, x, y·y)), and so does ``layer_norm`` here.
    optax's ``learning_rate`` is this update's η (the ``lr`` hyperparameter times the
    schedule's factor); a schedule changes η for new steps only, the trace keeps the old
    ones. ``nesterov=False`` and both masks ``True`` are optax's defaults and the only
    choices here (NAG is its own optimizer). Weight decay is optax's plain ``g + λθ``,
    two roundings (torch's optimizers fuse it); the recorded gradient is g itself.

    Hyperparameters:
        lr (float): learning rate η. Default 1 (optax has none; with τ = 0.001 a step is
            then 0.1 % of ‖θ‖), range [1e-5, 10] (log slider).
        momentum (float): μ, share of the previous step kept. Default 0.9, range
            [0, 0.9999].
        trust_coefficient (float): τ. Default 0.001 (optax's), range [1e-5, 1] (log
            slider).
        eps (float): ε added to ‖u‖. Default 0 (optax's), range [0, 1].
        weight_decay (float): λ, added to the gradient before the trust ratio. Default 0,
            range [0, 1].
    """

    name = "lars"
    title = "LARS"
    group = "large-batch"
    hyperparams = (
        lr_param(1.0),
        MOMENTUM,
        HyperParam(
            "trust_coefficient",
            1e-3,
            1e-5,
            1.0,
            True,
            "Trust coefficient τ: each step's length is τ‖θ‖ times η.",
        ),
        HyperParam("eps", 0.0, 0.0, 1.0, False, "ε added to the step's norm ‖u‖."),
        HyperParam(
            "weight_decay",
            0.0,
            0.0,
            1.0,
            False,
            "Weight decay λ: λθ is added to the gradient before the trust ratio.",
        ),
    )

    def init(self, theta: np.ndarray) -> LarsState:
        return LarsState(trace=np.zeros_like(theta))

    def update(
        self,
        grad: np.ndarray,
        state: LarsState,
        theta: np.ndarray,
        lr: Value,
        out: np.ndarray | None = None,
        scratch: Scratch | None = None,
    ) -> tuple[np.ndarray, LarsState]:
        s = scratch or Scratch.like(theta)
        decay = self.hyper["weight_decay"]
        u = grad
        if isinstance(decay, np.ndarray) or decay != 0.0:
            u = np.multiply(theta, decay, out=s.grad)  # u = g + λθ
            u += grad
        coefficient, eps = self.hyper["trust_coefficient"], self.hyper["eps"]
        ratio = trust_ratio(theta, u, coefficient, eps)  # r = τ‖θ‖ / (‖u‖ + ε)
        step = np.multiply(u, ratio, out=s.term)  # u ← u·r
        step *= -lr  # u ← (−η) u
        trace = state.trace
        trace *= self.hyper["momentum"]  # b ← μb + u
        trace += step
        return np.add(theta, trace, out=out), state  # θ ← θ + b

    def buffers(self) -> tuple[str, ...]:
        return ("trace",)

    def seen_gradient(self, grad: np.ndarray, theta: np.ndarray) -> np.ndarray:
        """g itself: λθ is the first term of the update (its equations show u = g + λθ)."""
        return grad.copy()

    def scalar_decay(self) -> float | None:
        return None  # the recorded gradient is g (seen_gradient)

    def scalar(self, state: LarsState) -> tuple[ScalarUpdate, Callable[[], None]]:
        momentum, eps = self.number("momentum"), self.number("eps")
        coefficient = self.number("trust_coefficient")
        decay = self.number("weight_decay")
        decays = self.per_row("weight_decay") or decay != 0.0
        bx, by = state.trace[0].tolist()

        def step(gx: float, gy: float, x: float, y: float, lr: float) -> tuple[float, float]:
            nonlocal bx, by
            if decays:
                gx, gy = x * decay + gx, y * decay + gy
            ratio = scalar_trust_ratio(x, y, gx, gy, coefficient, eps)
            rate = -lr
            bx = bx * momentum + gx * ratio * rate
            by = by * momentum + gy * ratio * rate
            return x + bx, y + by

        def save() -> None:
            state.trace[0] = bx, by

        return step, save


def layer_norm(v: np.ndarray) -> np.ndarray:
    """‖v‖ of each row of (K, 2) as (K, 1): √(fma(x, x, y·y)), XLA's rounding of
    ``jnp.linalg.norm`` on a CPU with FMA (``optimizers.base.fma`` emulates the fused
    step; where x·x + y·y is not finite, it is the unfused sum, inf or NaN as XLA's)."""
    x, y = v[:, :1], v[:, 1:]
    squares = y * y
    plain = x * x + squares
    fused = fma(x, x, squares)
    return np.sqrt(np.where(np.isfinite(plain), fused, plain))


def trust_ratio(theta: np.ndarray, u: np.ndarray, coefficient: Value, eps: Value) -> np.ndarray:
    """optax's ``scale_by_trust_ratio`` factor per row, (K, 1): τ·‖θ‖ / (‖u‖ + ε), or 1
    where ‖θ‖ = 0 or ‖u‖ = 0 (``min_norm`` 0: no clipping)."""
    param_norm, update_norm = layer_norm(theta), layer_norm(u)
    ratio = coefficient * param_norm / (update_norm + eps)
    zero = (param_norm == 0.0) | (update_norm == 0.0)
    return np.where(zero, 1.0, ratio)


def scalar_norm(x: float, y: float) -> float:
    """``layer_norm`` of one (x, y) on floats (the same operations)."""
    squares = y * y
    plain = x * x + squares
    if math.isfinite(plain):
        return math.sqrt(fma(x, x, squares))
    return plain if plain != plain else math.inf


def scalar_trust_ratio(
    x: float, y: float, ux: float, uy: float, coefficient: float, eps: float
) -> float:
    """``trust_ratio`` of one row on floats (the same operations)."""
    param_norm, update_norm = scalar_norm(x, y), scalar_norm(ux, uy)
    if param_norm == 0.0 or update_norm == 0.0:
        return 1.0
    return coefficient * param_norm / (update_norm + eps)  # floats overflow to inf here
