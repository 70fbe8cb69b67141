"""LAMB — optax's ``lamb`` (optax 0.2.8), torch has none."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from optimizers.base import (
    HyperParam,
    Optimizer,
    ScalarUpdate,
    Scratch,
    Value,
    eps_param,
    float_pow,
    lr_param,
)
from optimizers.lars import scalar_trust_ratio, trust_ratio


@dataclass(slots=True)
class LambState:
    """optax's ``ScaleByAdamState``: ``step`` is its ``count`` t, the updates taken; ``mu``
    the first moment m; ``nu`` the second moment v."""

    step: int
    mu: np.ndarray
    nu: np.ndarray


class LAMB(Optimizer):
    r"""LAMB (layer-wise adaptive moments for batch training): Adam's step, rescaled per
    layer by a trust ratio so its length is η‖θ‖.

    The 2-vector θ is one layer. Adam's direction (with decoupled weight decay added) is
    kept, its length replaced: every step moves η‖θ‖, far from the origin far, near it
    little; at θ = 0 the ratio is 1 and the step is Adam's.

    Lecture notes, at update t = 1, 2, …::

        m ← β₁m + (1 − β₁) g
        v ← β₂v + (1 − β₂) g ⊙ g
        m̂ = m / (1 − β₁ᵗ),   v̂ = v / (1 − β₂ᵗ)
        u = m̂ / (√v̂ + ε) + λθ
        θ ← θ − η ‖θ‖ / ‖u‖ u

    ‖·‖ is the length of the whole 2-vector, and ‖θ‖ / ‖u‖ is 1 when either is 0 (You et
    al., "Large Batch Optimization for Deep Learning: Training BERT in 76 minutes", ICLR
    2020, arXiv:1904.00962, Algorithm 2 with φ the identity).

    Exact to optax 0.2.8's ``optax.lamb`` (``optax/_src/alias.py``), the chain
    ``scale_by_adam(b1, b2, eps, eps_root=0)`` (``optax/_src/transform.py``, moments by
    ``optax/tree_utils/_tree_math.py``) → ``add_decayed_weights(weight_decay)``
    (``optax/transforms/_adding.py``) → ``scale_by_trust_ratio()``
    (``optax/_src/transform.py``) → ``scale_by_learning_rate(learning_rate)``, then
    ``optax.apply_updates`` (``optax/_src/update.py``)::

        mu ← (1 − b1)·g + b1·mu,   nu ← (1 − b2)·g² + b2·nu,   count ← count + 1
        mu_hat = mu · (1 / (1 − b1^count)),   nu_hat = nu · (1 / (1 − b2^count))
        u = mu_hat / (√(nu_hat + 0) + eps)
        u ← u + weight_decay·θ            skipped when weight_decay is the float 0
        u ← u·‖θ‖ / ‖u‖,  unchanged where ‖θ‖ = 0 or ‖u‖ = 0
        u ← (−learning_rate)·u
        θ ← θ + u

    Unlike torch's Adam the bias corrections divide m and v themselves (not η and √v),
    in ``tree_bias_correction`` (``optax/tree_utils/_tree_math.py``), a ``jax.jit``
    function that XLA compiles into a multiplication by the reciprocal.
    The norms are XLA's (see ``optimizers.lars.layer_norm``). optax's ``learning_rate``
    is this update's η (the ``lr`` hyperparameter times the schedule's factor).
    ``eps_root`` 0 and no mask are optax's defaults and the only choices here; the
    recorded gradient is g itself (λθ joins the step, not the gradient).

    Hyperparameters:
        lr (float): learning rate η, each step's length as a fraction of ‖θ‖. Default
            1e-3 (Adam's; optax has none), range [1e-5, 10] (log slider).
        beta1 (float): β₁ (optax ``b1``). Default 0.9, range [0, 0.9999].
        beta2 (float): β₂ (optax ``b2``). Default 0.999, range [0, 0.9999].
        eps (float): ε. Default 1e-6 (optax's), range [1e-12, 1] (log slider).
        weight_decay (float): decoupled weight decay λ, added to Adam's step before the
            trust ratio. Default 0, range [0, 1].
    """

    name = "lamb"
    title = "LAMB"
    group = "large-batch"
    hyperparams = (
        lr_param(1e-3),
        HyperParam("beta1", 0.9, 0.0, 0.9999, False, "β₁: decay of the gradient average m."),
        HyperParam(
            "beta2", 0.999, 0.0, 0.9999, False, "β₂: decay of the squared-gradient average v."
        ),
        eps_param(1e-6),
        HyperParam(
            "weight_decay",
            0.0,
            0.0,
            1.0,
            False,
            "Decoupled weight decay λ: λθ is added to Adam's step before the trust ratio.",
        ),
    )

    def init(self, theta: np.ndarray) -> LambState:
        return LambState(step=0, mu=np.zeros_like(theta), nu=np.zeros_like(theta))

    def update(
        self,
        grad: np.ndarray,
        state: LambState,
        theta: np.ndarray,
        lr: Value,
        out: np.ndarray | None = None,
        scratch: Scratch | None = None,
    ) -> tuple[np.ndarray, LambState]:
        beta1, beta2 = self.hyper["beta1"], self.hyper["beta2"]
        decay = self.hyper["weight_decay"]
        s = scratch or Scratch.like(theta)
        state.step += 1
        t = state.step
        m, v = state.mu, state.nu
        m *= beta1  # m ← β₁m + (1 − β₁) g
        m += np.multiply(grad, 1 - beta1, out=s.term)
        v *= beta2  # v ← β₂v + (1 − β₂) g ⊙ g
        square = np.multiply(grad, grad, out=s.term)
        square *= 1 - beta2
        v += square
        # v̂ = v / (1 − β₂ᵗ), then √v̂ + ε; XLA divides by multiplying by 1 / (1 − β₂ᵗ)
        denom = np.multiply(v, 1 / (1 - float_pow(beta2, t)), out=s.denom)
        np.sqrt(denom, out=denom)
        denom += self.hyper["eps"]
        u = np.multiply(m, 1 / (1 - float_pow(beta1, t)), out=s.term)  # m̂ = m / (1 − β₁ᵗ)
        u /= denom
        if isinstance(decay, np.ndarray) or decay != 0.0:
            u += np.multiply(theta, decay, out=s.grad)  # u ← u + λθ
        u *= trust_ratio(theta, u, 1.0, 0.0)  # ‖θ‖ / ‖u‖
        u *= -lr
        return np.add(theta, u, out=out), state  # θ ← θ − η (‖θ‖ / ‖u‖) u

    def buffers(self) -> tuple[str, ...]:
        return ("mu", "nu")

    def seen_gradient(self, grad: np.ndarray, theta: np.ndarray) -> np.ndarray:
        """g itself: LAMB's weight decay goes into the step, never into the gradient."""
        return grad.copy()

    def scalar_decay(self) -> float | None:
        return None  # the recorded gradient is g (seen_gradient)

    def scalar(self, state: LambState) -> tuple[ScalarUpdate, Callable[[], None]]:
        beta1, beta2, eps = self.number("beta1"), self.number("beta2"), self.number("eps")
        keep1, keep2 = 1 - beta1, 1 - beta2
        decay = self.number("weight_decay")
        decays = self.per_row("weight_decay") or decay != 0.0
        t = state.step
        mx, my = state.mu[0].tolist()
        vx, vy = state.nu[0].tolist()

        def axis(g: float, m: float, v: float, bc1: float, bc2: float) -> tuple[float, ...]:
            m = m * beta1 + g * keep1
            v = v * beta2 + g * g * keep2
            return m, v, m * bc1 / (math.sqrt(v * bc2) + eps)

        def step(gx: float, gy: float, x: float, y: float, lr: float) -> tuple[float, float]:
            nonlocal t, mx, my, vx, vy
            t += 1
            bc1, bc2 = 1 / (1 - beta1**t), 1 / (1 - beta2**t)  # m̂ = m · bc1, v̂ = v · bc2
            mx, vx, ux = axis(gx, mx, vx, bc1, bc2)
            my, vy, uy = axis(gy, my, vy, bc1, bc2)
            if decays:
                ux, uy = ux + x * decay, uy + y * decay
            ratio = scalar_trust_ratio(x, y, ux, uy, 1.0, 0.0)
            rate = -lr
            return x + ux * ratio * rate, y + uy * ratio * rate

        def save() -> None:
            state.step = t
            state.mu[0] = mx, my
            state.nu[0] = vx, vy

        return step, save
