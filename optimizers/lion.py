"""Lion — optax's ``lion`` (optax 0.2.8), torch has none."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from optimizers.base import HyperParam, Optimizer, ScalarUpdate, Scratch, Value, lr_param


@dataclass(slots=True)
class LionState:
    """optax's ``ScaleByLionState``: ``step`` is its ``count`` (updates taken; Lion never
    reads it); ``mu`` the momentum m, an average of past gradients."""

    step: int
    mu: np.ndarray


#: Decoupled weight decay: optax adds λθ to the sign step, not to the gradient.
DECOUPLED_DECAY = HyperParam(
    "weight_decay",
    0.0,
    0.0,
    1.0,
    False,
    "Decoupled weight decay λ: λθ is added to the step (not to the gradient), times η.",
)


class Lion(Optimizer):
    r"""Lion (EvoLved Sign Momentum): the sign of a blend of momentum and gradient.

    Every coordinate moves by exactly ±η (plus the weight decay term), however large or
    small its gradient: the direction comes from the sign alone.

    Lecture notes, at update t = 1, 2, …::

        c = β₁m + (1 − β₁) g
        θ ← θ − η (sign(c) + λθ)
        m ← β₂m + (1 − β₂) g

    c uses the old m; m is updated after the step, with the other rate β₂ (Chen et al.,
    "Symbolic Discovery of Optimization Algorithms", 2023, arXiv:2302.06675, Program 1).

    Exact to optax 0.2.8's ``optax.lion`` (``optax/_src/alias.py``), the chain
    ``scale_by_lion(b1, b2)`` (``optax/_src/transform.py``) →
    ``add_decayed_weights(weight_decay)`` (``optax/transforms/_adding.py``) →
    ``scale_by_learning_rate(learning_rate)`` (``optax/_src/transform.py``), then
    ``optax.apply_updates`` (``optax/_src/update.py``), operation by operation::

        c = (1 − b1)·g + b1·mu
        u = sign(c)
        mu ← (1 − b2)·g + b2·mu           tree_update_moment(g, mu, b2, 1)
        u ← u + weight_decay·θ            skipped when weight_decay is the float 0
        u ← (−learning_rate)·u            scale_by_learning_rate flips the sign
        θ ← θ + u

    optax's ``learning_rate`` is this update's η: the ``lr`` hyperparameter times the
    schedule's factor, as the runner passes it (an optax schedule returning that number
    gives the same bits). ``weight_decay`` is multiplied by η too, as in optax and
    PyTorch-style AdamW (not the paper's "schedule multiplier only"). ``mode="hard"``
    (``jnp.sign``), ``mu_dtype`` float64 and no mask are optax's defaults and the only
    choices here. NumPy's sign of −0 is +0 where jax's is −0: θ gets the same number.

    Hyperparameters:
        lr (float): learning rate η. Default 1e-3 (optax has no default; the Lion paper
            advises 3–10× smaller than AdamW's), range [1e-5, 10] (log slider).
        beta1 (float): β₁ (optax ``b1``), weight of m in the step's direction. Default
            0.9, range [0, 0.9999].
        beta2 (float): β₂ (optax ``b2``), decay of the momentum m. Default 0.99, range
            [0, 0.9999].
        weight_decay (float): decoupled weight decay λ. Default 0 (optax's is 1e-3;
            here every optimizer starts without weight decay, so a race compares the
            update rules alone), range [0, 1].
    """

    name = "lion"
    title = "Lion"
    group = "adaptive"
    hyperparams = (
        lr_param(1e-3),
        HyperParam(
            "beta1", 0.9, 0.0, 0.9999, False, "β₁: weight of the momentum m in the sign's blend."
        ),
        HyperParam("beta2", 0.99, 0.0, 0.9999, False, "β₂: decay of the momentum m."),
        DECOUPLED_DECAY,
    )

    def init(self, theta: np.ndarray) -> LionState:
        return LionState(step=0, mu=np.zeros_like(theta))

    def update(
        self,
        grad: np.ndarray,
        state: LionState,
        theta: np.ndarray,
        lr: Value,
        out: np.ndarray | None = None,
        scratch: Scratch | None = None,
    ) -> tuple[np.ndarray, LionState]:
        beta1, beta2 = self.hyper["beta1"], self.hyper["beta2"]
        decay = self.hyper["weight_decay"]
        s = scratch or Scratch.like(theta)
        m = state.mu
        # c = (1 − β₁) g + β₁ m                  optax: (1.0 - b1) * g + b1 * m
        c = np.multiply(grad, 1 - beta1, out=s.term)
        c += np.multiply(m, beta1, out=s.denom)
        u = np.sign(c, out=c)  # u = sign(c)
        # m ← (1 − β₂) g + β₂ m                  optax: (1 - decay) * g + decay * t
        m *= beta2
        m += np.multiply(grad, 1 - beta2, out=s.denom)
        if isinstance(decay, np.ndarray) or decay != 0.0:
            u += np.multiply(theta, decay, out=s.denom)  # u ← u + λθ
        u *= -lr  # u ← (−η) u
        state.step += 1
        return np.add(theta, u, out=out), state  # θ ← θ + u

    def buffers(self) -> tuple[str, ...]:
        return ("mu",)

    def seen_gradient(self, grad: np.ndarray, theta: np.ndarray) -> np.ndarray:
        """g itself: Lion's weight decay goes into the step, never into the gradient."""
        return grad.copy()

    def scalar_decay(self) -> float | None:
        return None  # the recorded gradient is g (seen_gradient)

    def scalar(self, state: LionState) -> tuple[ScalarUpdate, Callable[[], None]]:
        beta1, beta2 = self.number("beta1"), self.number("beta2")
        keep1, keep2 = 1 - beta1, 1 - beta2
        decay = self.number("weight_decay")
        decays = self.per_row("weight_decay") or decay != 0.0
        t = state.step
        mx, my = state.mu[0].tolist()

        def axis(g: float, m: float, x: float, rate: float) -> tuple[float, float]:
            u = _sign(g * keep1 + m * beta1)
            if decays:
                u = u + x * decay
            return x + u * rate, m * beta2 + g * keep2

        def step(gx: float, gy: float, x: float, y: float, lr: float) -> tuple[float, float]:
            nonlocal t, mx, my
            t += 1
            rate = -lr
            x, mx = axis(gx, mx, x, rate)
            y, my = axis(gy, my, y, rate)
            return x, y

        def save() -> None:
            state.step = t
            state.mu[0] = mx, my

        return step, save


def _sign(c: float) -> float:
    """``np.sign`` on a float: ±1, +0 for ±0, NaN for NaN."""
    if c > 0.0:
        return 1.0
    if c < 0.0:
        return -1.0
    return c if c != c else 0.0
