"""Record each landscape's values and gradients at fixed points (run by hand).

    NPY_DISABLE_CPU_FEATURES="AVX512_ICL X86_V4 X86_V3 AVX2 FMA3" \
        python tests/landscapes/golden/make_golden.py

(recorded with NumPy's baseline kernels, so that a machine with AVX-512 checks itself
against other kernels' numbers).

Points per landscape: its minima, its default start, 64 seeded points in its bounds and
its view's corners pushed 1.5× out. Rerun only when a landscape's formula changes on
purpose; ``test_golden.py`` then holds every CPU to these numbers (see there for the
tolerance).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

import landscapes  # noqa: E402

HERE = Path(__file__).resolve().parent


def points(f: landscapes.Landscape, seed: int) -> np.ndarray:
    (xmin, xmax), (ymin, ymax) = f.bounds
    rng = np.random.default_rng(seed)
    inside = np.column_stack([rng.uniform(xmin, xmax, 64), rng.uniform(ymin, ymax, 64)])
    cx, cy, wx, wy = (xmin + xmax) / 2, (ymin + ymax) / 2, (xmax - xmin) / 2, (ymax - ymin) / 2
    corners = [(cx + sx * 1.5 * wx, cy + sy * 1.5 * wy) for sx in (-1, 1) for sy in (-1, 1)]
    marked = [(m.x, m.y) for m in f.minima] + [f.default_start]
    return np.array([*marked, *inside, *corners], dtype=np.float64)


def main() -> None:
    arrays = {}
    for seed, name in enumerate(landscapes.names()):
        f = landscapes.get(name)
        xy = points(f, seed)
        arrays[f"{name}/xy"] = xy
        arrays[f"{name}/value"] = f.value(xy)
        arrays[f"{name}/grad"] = f.grad(xy)
    np.savez_compressed(HERE / "golden.npz", **arrays)
    print(f"{len(landscapes.names())} landscapes -> {HERE / 'golden.npz'}")


if __name__ == "__main__":
    main()
