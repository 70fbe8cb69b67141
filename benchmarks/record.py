"""What ``record=True`` (issue 12: the page's arrows and equation panel) costs.

    python benchmarks/record.py [--repeats 20]

In the same process, against the same run without recording (the baseline):
  - CPU time of the page's scene (6 optimizers × 500 steps, one start, Rosenbrock) with
    nothing, one optimizer (Adam, what the page asks for) and all six recording;
  - peak memory above the run itself (tracemalloc) of the largest scene the API allows
    (12 runs × 10,000 steps), recording nothing and everything;
  - bytes of the WebSocket messages of the page's scene (app.routes.ws), as sent.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import landscapes  # noqa: E402
import optimizers  # noqa: E402
from app import scene  # noqa: E402
from app.routes import ws  # noqa: E402
from app.schemas import TrajectoryRequest  # noqa: E402


def cpu_ms(record: bool | list[bool], repeats: int) -> float:
    f = landscapes.get("rosenbrock")
    opts = [optimizers.create(name) for name in optimizers.names()]
    times = []
    for _ in range(repeats):
        started = time.process_time()
        optimizers.run_many(f, opts, [-1.2, 1.0], 500, record=record)
        times.append(time.process_time() - started)
    return statistics.median(times) * 1e3


def peak_mb(record: bool) -> float:
    f = landscapes.get("rosenbrock")
    opts = [optimizers.create("adam")] * 12
    tracemalloc.start()
    try:
        optimizers.run_many(f, opts, [-1.2, 1.0], 10_000, record=record)
        return tracemalloc.get_traced_memory()[1] / 1e6
    finally:
        tracemalloc.stop()


def stream_bytes(record: list[bool]) -> int:
    runs = [
        {"optimizer": name, "params": {}, "record": wanted}
        for name, wanted in zip(optimizers.names(), record, strict=True)
    ]
    body = {"landscape": "rosenbrock", "start": [-1.2, 1.0], "steps": 500, "runs": runs}
    prepared = scene.prepare(TrajectoryRequest.model_validate(body))
    chunks = scene.ChunkStream(prepared)
    total = len(ws.meta_message(1, prepared))
    while (chunk := chunks.next()) is not None:
        total += len(ws.chunk_message(1, chunk))
    return total + len(ws.done_message(1, prepared))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    six = len(optimizers.names())
    one = [name == "adam" for name in optimizers.names()]
    cpu_ms(False, 3)  # warm up
    base, adam, every = (cpu_ms(r, args.repeats) for r in (False, one, True))
    print("6 optimizers × 500 steps, CPU time (median):")
    print(f"  recording nothing   {base:6.2f} ms")
    print(f"  recording Adam      {adam:6.2f} ms   ×{adam / base:.2f}")
    print(f"  recording all six   {every:6.2f} ms   ×{every / base:.2f}")
    plain, recorded = peak_mb(False), peak_mb(True)
    print("12 runs × 10,000 steps (Adam), peak traced memory:")
    print(f"  recording nothing   {plain:6.1f} MB")
    print(f"  recording all       {recorded:6.1f} MB   ×{recorded / plain:.2f}")
    sizes = [stream_bytes(r) for r in ([False] * six, one, [True] * six)]
    print("WebSocket messages of the 6 × 500 scene:")
    for label, size in zip(
        ("recording nothing", "recording Adam", "recording all six"), sizes, strict=True
    ):
        print(f"  {label:18}  {size / 1e3:6.1f} kB   ×{size / sizes[0]:.2f}")


if __name__ == "__main__":
    main()
