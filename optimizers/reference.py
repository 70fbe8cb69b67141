"""The definition of a run: the plain loop. Read this first.

    traj = reference.run(landscapes.get("rosenbrock"), optimizers.create("adam"), starts, 500)

Every update t = 0 … steps − 1 moves all K points at once:

1. g = ∇f(θ_t), plus σ·z_t when ``noise=σ``, z_t the t-th (K, 2) draw of
   ``numpy.random.default_rng(seed)`` (one draw per update, diverged rows draw too);
   or, on a loss over data with ``batch=B``, the gradient over update t's mini-batch
   of B samples, the same for every row (``landscapes.data.Batches``: a fresh order of
   the samples per epoch from ``default_rng(seed)``, as ``DataLoader(shuffle=True)``);
2. η_t = lr · factor(t), the schedule's factor (``lr`` may be one value per row);
3. θ_{t+1}, state = update(g, state, θ_t, η_t);
4. divergence: a row whose coordinate or loss is non-finite, or whose coordinate exceeds
   LIMIT in magnitude, has diverged; ``diverged_at`` is the index of that first bad
   point, which and all later points are NaN.

With ``record=True`` the run also keeps what each update t (the one leaving point t)
saw and held: ``grads[t]`` the gradient it used (g + λθ under weight decay), ``lrs[t]``
its η, and ``state[name][t]`` each buffer after it (``Optimizer.buffers`` names them as
torch does). An update's entries are NaN where the point it made is (divergence).

A gradient-free method (``base.GradientFree``: simulated annealing, the genetic
algorithm) runs in the same loop: ``init`` also gets f's ``value`` and the seed, its
update ignores g, and ``samples[t]`` (K, S, 2) keeps the points it evaluated to reach
point t (its proposal or population; at t = 0 ``init``'s), NaN where point t is.

``optimizers.run``/``run_many``/``stream`` (``optimizers.runner``) compute exactly this,
bit for bit (tests/optimizers/test_reference.py), only faster: several optimizers in
lockstep, losses and the divergence check per block of updates, reused buffers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from landscapes.data import Batches
from optimizers.base import GradientFree, Optimizer
from optimizers.schedules import Schedule

#: A coordinate beyond this magnitude counts as diverged (SPEC "Noise, divergence").
LIMIT = 1e6


@dataclass(frozen=True)
class Trajectory:
    """points (steps + 1, K, 2), losses (steps + 1, K), diverged_at (K,) (-1 = never);
    recorded (else None): grads (steps, K, 2), lrs (steps, K), state {name: (steps, K, 2)};
    for a gradient-free method, samples (steps + 1, K, S, 2) (else None).
    """

    points: np.ndarray
    losses: np.ndarray
    diverged_at: np.ndarray
    grads: np.ndarray | None = None
    lrs: np.ndarray | None = None
    state: dict[str, np.ndarray] | None = None
    samples: np.ndarray | None = None


def run(
    landscape: Any,
    optimizer: Optimizer,
    starts: np.ndarray,
    steps: int,
    noise: float = 0.0,
    seed: int = 0,
    schedule: Schedule | None = None,
    record: bool = False,
    batch: int | None = None,
) -> Trajectory:
    """Move the K points ``starts`` (K, 2) for ``steps`` updates of ``optimizer``.

    ``landscape`` has ``value(xy)`` and ``grad(xy)``. Arguments are taken as given (the
    public ``optimizers.run`` checks them and repeats one start for per-row values).
    """
    theta = np.array(starts, dtype=np.float64)
    factors = schedule.factors(steps) if schedule is not None else np.ones(steps)
    rng = np.random.default_rng(seed)
    batches = None if batch is None else Batches(landscape.samples, batch, seed)
    points = np.full((steps + 1, *theta.shape), np.nan)
    losses = np.full((steps + 1, len(theta)), np.nan)
    diverged_at = np.full(len(theta), -1)
    sampler = optimizer if isinstance(optimizer, GradientFree) else None
    if sampler is None:
        state = optimizer.init(theta)
    else:
        state = sampler.init(theta, landscape.value, seed)
        samples = np.full((steps + 1, len(theta), sampler.sample_count(), 2), np.nan)
        samples[0] = sampler.samples(state)
    if record:
        grads = np.full((steps, *theta.shape), np.nan)
        lrs = np.full((steps, len(theta)), np.nan)
        buffers = {name: np.full((steps, *theta.shape), np.nan) for name in optimizer.buffers()}
    with np.errstate(all="ignore"):  # a diverging row overflows; step 4 catches it
        for t in range(steps + 1):
            if t > 0:
                if batches is None:
                    grad = landscape.grad(theta)
                else:
                    grad = landscape.batch_grad(theta, batches[t - 1])
                if noise > 0:
                    grad = grad + noise * rng.standard_normal(theta.shape)
                lr = optimizer.hyper["lr"] * factors[t - 1]
                if record:
                    grads[t - 1] = optimizer.seen_gradient(grad, theta)
                    lrs[t - 1] = np.ravel(lr)
                theta, state = optimizer.update(grad, state, theta, lr)
                if sampler is not None:
                    samples[t] = sampler.samples(state)
                if record:
                    for name, values in buffers.items():
                        values[t - 1] = getattr(state, name)
            loss = landscape.value(theta)
            bad = ~np.isfinite(loss) | ~(np.abs(theta) <= LIMIT).all(axis=1)  # NaN is bad
            diverged_at[bad & (diverged_at < 0)] = t
            alive = diverged_at < 0  # a diverged row goes on, but is never shown again
            points[t, alive] = theta[alive]
            losses[t, alive] = loss[alive]
            if sampler is not None:
                samples[t, ~alive] = np.nan
            if record and t > 0:  # the update that made point t goes as that point does
                for values in (grads, lrs, *buffers.values()):
                    values[t - 1, ~alive] = np.nan
    if record:
        for name, values in buffers.items():
            absent = optimizer.absent_rows(name)
            if absent is not None:
                values[:, absent] = np.nan
    kept = samples if sampler is not None else None
    if record:
        return Trajectory(points, losses, diverged_at, grads, lrs, buffers, kept)
    return Trajectory(points, losses, diverged_at, samples=kept)
