"""Speed of the NumPy core against torch.optim, measured in the same process.

    python benchmarks/core.py [--repeats 5] [--no-b]

Case A — what one slider move asks for: the 6 optimizers × 1000 steps from one start,
every point and loss kept. Case B — a 256×256 basin map: the 6 optimizers × 200 steps ×
65,536 starts, every point and loss kept. Landscape: rosenbrock, default
hyperparameters, no noise.

Baselines (when torch is installed), each keeping every point and loss as well:
``torch-autograd`` — the natural PyTorch loop (loss = f(θ); loss.backward(); step());
``torch-analytic`` — the same gradient formulas as the NumPy landscape written with torch
ops and assigned to ``param.grad`` (no autograd graph). Ratios are NumPy time / torch time
(below 1 = NumPy faster); each figure is the median of ``--repeats`` runs. Targets from
issue 2: A ≤ 0.5, B ≤ 0.8.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import numpy as np

import landscapes
import optimizers

STEPS_A, STEPS_B, SIDE_B = 1000, 200, 256


def numpy_case(starts: np.ndarray, steps: int) -> None:
    f = landscapes.get("rosenbrock")
    for name in optimizers.names():
        optimizers.run(f, optimizers.create(name), starts, steps)


def torch_case(starts: np.ndarray, steps: int, autograd: bool) -> None:
    import torch

    def value(p: torch.Tensor) -> torch.Tensor:
        x, y = p[:, 0], p[:, 1]
        return (1 - x) ** 2 + 100 * (y - x**2) ** 2

    def grad(p: torch.Tensor) -> torch.Tensor:
        x, y = p[:, 0], p[:, 1]
        d = y - x**2
        return torch.stack((-2 * (1 - x) - 400 * x * d, 200 * d), dim=-1)

    for name in optimizers.names():
        hp = {s.name: s.default for s in optimizers.spec(name)}
        p = torch.tensor(starts, dtype=torch.float64, requires_grad=autograd)
        opt = _torch_optimizer(name, p, hp)
        points = torch.empty((steps + 1, len(starts), 2), dtype=torch.float64)
        losses = torch.empty((steps + 1, len(starts)), dtype=torch.float64)
        points[0] = p.detach()
        for t in range(steps):
            if autograd:
                opt.zero_grad(set_to_none=True)
                loss = value(p)
                loss.sum().backward()
                losses[t] = loss.detach()
            else:
                p.grad = grad(p)
            opt.step()
            points[t + 1] = p.detach()
        with torch.no_grad():
            if autograd:
                losses[steps] = value(p)
            else:
                losses[:] = value(points.reshape(-1, 2)).reshape(steps + 1, -1)


def _torch_optimizer(name: str, p: object, hp: dict) -> object:
    import torch

    o = torch.optim
    wd = hp.pop("weight_decay")
    if name == "sgd":
        return o.SGD([p], lr=hp["lr"], weight_decay=wd)
    if name == "momentum":
        return o.SGD([p], **hp, weight_decay=wd)
    if name == "nag":
        return o.SGD([p], **hp, nesterov=True, weight_decay=wd)
    if name == "adagrad":
        return o.Adagrad([p], **hp, weight_decay=wd)
    if name == "rmsprop":
        return o.RMSprop([p], **hp, weight_decay=wd)
    b1, b2 = hp.pop("beta1"), hp.pop("beta2")
    return o.Adam([p], **hp, betas=(b1, b2), weight_decay=wd)


def median_time(fn: Callable[[], None], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--no-b", action="store_true", help="skip the basin-map case")
    args = parser.parse_args()
    try:
        import torch

        torch.set_default_dtype(torch.float64)
        has_torch = True
        print(f"torch {torch.__version__}, {torch.get_num_threads()} intra-op threads")
    except ImportError:
        has_torch = False
        print("torch not installed: NumPy figures only")
    print(f"numpy {np.__version__}; medians of {args.repeats} repeats\n")

    f = landscapes.get("rosenbrock")
    (x0, x1), (y0, y1) = f.bounds
    gx, gy = np.meshgrid(np.linspace(x0, x1, SIDE_B), np.linspace(y0, y1, SIDE_B))
    cases = {
        "A  6 opt × 1000 steps × 1 start": (np.array([f.default_start]), STEPS_A, 0.5),
        f"B  6 opt × {STEPS_B} steps × {SIDE_B**2} starts": (
            np.column_stack([gx.ravel(), gy.ravel()]),
            STEPS_B,
            0.8,
        ),
    }
    if args.no_b:
        cases.popitem()
    header = f"{'case':<40}{'numpy':>10}"
    if has_torch:
        header += f"{'torch-ag':>11}{'torch-an':>11}{'ratio ag':>10}{'ratio an':>10}  target"
    print(header)
    for label, (starts, steps, target) in cases.items():
        repeats = args.repeats if len(starts) == 1 else max(3, args.repeats // 2)
        ours = median_time(lambda s=starts, n=steps: numpy_case(s, n), repeats)
        line = f"{label:<40}{ours * 1e3:>8.1f}ms"
        if has_torch:
            ag = median_time(lambda s=starts, n=steps: torch_case(s, n, True), repeats)
            an = median_time(lambda s=starts, n=steps: torch_case(s, n, False), repeats)
            ok = "met" if ours / min(ag, an) <= target else "MISSED"
            line += (
                f"{ag * 1e3:>9.1f}ms{an * 1e3:>9.1f}ms{ours / ag:>10.2f}{ours / an:>10.2f}"
                f"  ≤{target} {ok}"
            )
        print(line, flush=True)
    ws = median_time(lambda: numpy_case(np.array([f.default_start]), 500), args.repeats)
    print(f"\nWebSocket budget: 6 optimizers × 500 steps × 1 start = {ws * 1e3:.1f} ms (numpy)")


if __name__ == "__main__":
    main()
