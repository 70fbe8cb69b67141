"""What the maps (issue 13) cost: a 256 × 256 basin map, a live learning-rate sweep.

    python benchmarks/maps.py [--repeats 5] [--no-torch]

In the same process:

1. Basin map — 256 × 256 starts over Himmelblau, Adam (lr 0.05), 500 steps, through
   ``optimizers.summary`` (final point, loss, divergence and the status's settling step,
   no path kept). Against:
   - ``torch.optim.Adam`` on one (65,536, 2) parameter with the same analytic gradient
     assigned to ``p.grad``, 500 steps, keeping only the final point and loss (less work
     than the summary, which also finds where each run settled). Torch with 1 intra-op
     thread and with its default count; the ratio is against the faster. Then the same
     with the loss at every point and the divergence check, as the runner computes them
     (still no settling): the work of the runner alone, done by torch.
   - the floor: the same 500 Adam updates through the runner alone, losses and divergence
     included but no statistics (``optimizers.stream`` with the summary's window): what
     the summary adds on top of computing the runs at all.
   Peak memory above the process baseline (tracemalloc) for the summary, against the
   floor estimated from what must be held: per row the point, Adam's two buffers, the
   gradient and the reply (final, loss, settle step, minimum) — 12 float64 = 96 bytes.
2. Sweep — 64 log-spaced rates × 6 optimizers (a fresh scene's) × 500 steps on
   Rosenbrock from the page's start (what the Maps view asks on every slider move):
   ``maps.sweep`` wall time; then the same for every registered optimizer.

Targets (issue 13): map ≤ 0.5 s and ≤ 0.8 × torch, peak ≤ 64 MB; sweep ≤ 100 ms.
Figures are medians of ``--repeats`` runs (this machine is shared: read the ratios); the
summary and the floor take turns, so a burst of load slows both alike.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import landscapes  # noqa: E402
import maps  # noqa: E402
import optimizers  # noqa: E402

SIDE, STEPS, LR = 256, 500, 0.05


def grid_starts() -> np.ndarray:
    f = landscapes.get("himmelblau")
    (x0, x1), (y0, y1) = f.bounds
    xs, ys = np.meshgrid(np.linspace(x0, x1, SIDE), np.linspace(y0, y1, SIDE))
    return np.stack([xs.ravel(), ys.ravel()], axis=-1)


def summary_case(starts: np.ndarray) -> None:
    f = landscapes.get("himmelblau")
    optimizers.summary(f, optimizers.create("adam", lr=LR), starts, STEPS)


def floor_case(starts: np.ndarray) -> None:
    """The runner alone: every update, loss and divergence check, nothing kept."""
    from optimizers import runner
    from optimizers.summary import WINDOW_POINTS

    f = landscapes.get("himmelblau")
    run = runner._prepare(
        f, [optimizers.create("adam", lr=LR)], starts, STEPS, 0.0, 0, None, window=WINDOW_POINTS
    )
    assert run.keep is not None
    for _ in run.blocks(run.keep):
        pass


def torch_case(starts: np.ndarray, threads: int | None, losses: bool = False) -> None:
    """torch.optim.Adam on one (65,536, 2) parameter. ``losses``: also what a map needs
    per step and the summary's runner does — the loss at every point and the divergence
    check (non-finite, or a coordinate beyond 1e6) — but still no settling."""
    import torch

    saved = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        p = torch.tensor(starts, dtype=torch.float64)
        opt = torch.optim.Adam([p], lr=LR)
        alive = torch.ones(len(starts), dtype=torch.bool)
        for _ in range(STEPS):
            x, y = p[:, 0], p[:, 1]
            u, v = x * x + y - 11, x + y * y - 7
            p.grad = torch.stack((4 * x * u + 2 * v, 2 * u + 4 * y * v), dim=-1)
            opt.step()
            if losses:
                x, y = p[:, 0], p[:, 1]
                loss = (x * x + y - 11) ** 2 + (x + y * y - 7) ** 2
                alive &= torch.isfinite(loss) & (p.abs() <= 1e6).all(dim=1)
        x, y = p[:, 0], p[:, 1]
        (x * x + y - 11) ** 2 + (x + y * y - 7) ** 2  # the final loss
    finally:
        torch.set_num_threads(saved)


#: The six of a fresh scene (the issue's "× 6 optimizers"); ``--all`` sweeps every one.
SIX = ("sgd", "momentum", "nag", "adagrad", "rmsprop", "adam")


def sweep_case(names: tuple[str, ...] = SIX) -> None:
    f = landscapes.get("rosenbrock")
    runs: list[tuple[str, dict[str, float]]] = [(name, {}) for name in names]
    maps.sweep(f, runs, f.default_start, STEPS, maps.lr_values(1e-4, 10, 64))


def median(fn: Callable[[], None], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def medians(fns: list[Callable[[], None]], repeats: int) -> list[float]:
    """Each function's median time, the functions taking turns: on a shared machine a
    burst of load then slows all of them alike, so their ratio holds better."""
    times: list[list[float]] = [[] for _ in fns]
    for _ in range(repeats):
        for fn, kept in zip(fns, times, strict=True):
            started = time.perf_counter()
            fn()
            kept.append(time.perf_counter() - started)
    return [statistics.median(kept) for kept in times]


def peak_mb(fn: Callable[[], None]) -> float:
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        fn()
        return (tracemalloc.get_traced_memory()[1] - base) / 1e6
    finally:
        tracemalloc.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--no-torch", action="store_true")
    args = parser.parse_args()
    starts = grid_starts()
    summary_case(starts)  # warm up: the tile pool, caches
    summary, floor = medians(
        [lambda: summary_case(starts), lambda: floor_case(starts)], args.repeats
    )
    print(f"basin map {SIDE}² × {STEPS} steps, Adam: summary {summary:.3f} s")
    print(f"  runner alone (floor)   {floor:.3f} s   summary / floor = {summary / floor:.2f}")
    print(f"  settling (summary − floor) {summary - floor:.3f} s")
    if not args.no_torch:
        try:
            import torch  # noqa: F401
        except ImportError:
            print("  torch not installed: no torch baseline")
        else:
            one = median(lambda: torch_case(starts, 1), args.repeats)
            default = median(lambda: torch_case(starts, None), args.repeats)
            best = min(one, default)
            print(f"  torch.optim.Adam       {one:.3f} s (1 thread), {default:.3f} s (default)")
            print(f"  summary / torch = {summary / best:.2f}   (target ≤ 0.8)")
            same = min(
                median(lambda: torch_case(starts, 1, losses=True), args.repeats),
                median(lambda: torch_case(starts, None, losses=True), args.repeats),
            )
            print(f"  torch with the runner's per-step losses and divergence check {same:.3f} s:")
            ratios = f"summary / that = {summary / same:.2f}, runner / that = {floor / same:.2f}"
            print(f"    {ratios}")
    peak = peak_mb(lambda: summary_case(starts))
    floor_mb = len(starts) * 12 * 8 / 1e6
    print(
        f"  peak memory {peak:.1f} MB above baseline (target ≤ 64);"
        f" floor ≈ {floor_mb:.1f} MB, ratio {peak / floor_mb:.1f}"
    )
    sweep_case()
    sweep = median(sweep_case, max(args.repeats, 9))
    print(f"sweep 64 rates × 6 optimizers × {STEPS} steps: {sweep * 1e3:.1f} ms (target ≤ 100)")
    # every gradient method (the maps refuse the gradient-free ones)
    every = tuple(
        name
        for name in optimizers.names()
        if not issubclass(optimizers.get(name), optimizers.GradientFree)
    )
    sweep_all = median(lambda: sweep_case(every), max(args.repeats, 9))
    print(f"  all {len(every)} gradient methods (a race of every one): {sweep_all * 1e3:.1f} ms")


if __name__ == "__main__":
    main()
