"""Export speed: Gradscape's renderer against matplotlib's FuncAnimation, same scene, same run.

The scene: Rosenbrock, six optimizers (sgd, momentum, nag, adagrad, rmsprop, adam), 300
steps, drawn as 150 frames of 800×600 — a GIF and an H.264 MP4. The baseline draws the
same contour (same grid colours, Viridis, 16 filled levels plus contour lines) on equal-scale
axes with a colour bar, the same growing paths with step dots and heads in each run's
marker shape, legend, title and step counter with matplotlib, saving through
PillowWriter (GIF) and FFMpegWriter with the same bundled ffmpeg, libx264 and yuv420p (MP4).
Trajectories are computed once, outside the timings; both sides start from the same numbers.

    python benchmarks/export.py [--repeats 3] [--frames 150] [--width 800] [--height 600]
                                [--no-baseline]

Prints the median wall time and file size of each, and the speed-up ratio. Then the cost of
the arrows (issue 12): the same GIF and MP4 with every run recorded and its gradient,
momentum and step arrows drawn at each frame (plus the legend box with their lengths),
against the plain export measured in the same run (the ratio is arrows ÷ plain), and the
time to compute the scene with and without recording. --no-baseline skips matplotlib.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.export.data import ExportScene, build_scene, frame_steps  # noqa: E402
from app.export.render import CONTOUR_LEVELS, STEP_DOTS  # noqa: E402
from app.export.video import write_gif, write_mp4  # noqa: E402
from app.schemas import ExportRequest  # noqa: E402

# Plotly symbol names (app.palette) as matplotlib markers.
MATPLOTLIB_MARKERS = {
    "circle": "o",
    "square": "s",
    "diamond": "D",
    "triangle-up": "^",
    "triangle-down": "v",
    "pentagon": "p",
    "hexagon": "h",
    "cross": "P",
    "triangle-left": "<",
    "triangle-right": ">",
}
# A typical script's contour grid (np.linspace(..., 200)); matplotlib redraws the filled
# contour every frame, so a finer grid would only make the baseline slower.
MATPLOTLIB_GRID = 200
LEARNING_RATES = {
    "sgd": 0.002,
    "momentum": 0.002,
    "nag": 0.002,
    "adagrad": 0.3,
    "rmsprop": 0.01,
    "adam": 0.05,
}


def scene_request(frames: int, width: int, height: int, arrows: bool = False) -> ExportRequest:
    return ExportRequest.model_validate(
        {
            "landscape": "rosenbrock",
            "steps": 300,
            "runs": [{"optimizer": n, "params": {"lr": lr}} for n, lr in LEARNING_RATES.items()],
            "format": "gif",
            "frames": frames,
            "width": width,
            "height": height,
            "fps": 20,
            "arrows": arrows,
        }
    )


def matplotlib_export(
    scene: ExportScene, path: Path, *, width: int, height: int, fps: int, frames: int, kind: str
) -> None:
    """The baseline: the same picture the usual matplotlib way."""
    import imageio_ffmpeg
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.animation import FFMpegWriter, FuncAnimation, PillowWriter

    matplotlib.rcParams["animation.ffmpeg_path"] = imageio_ffmpeg.get_ffmpeg_exe()
    dpi = 100
    fig, ax = plt.subplots(figsize=(width / dpi, height / dpi), dpi=dpi)
    assert scene.color_grid is not None  # build_scene always sets it
    x, y, color = scene.color_grid(MATPLOTLIB_GRID)
    filled = ax.contourf(x, y, color, levels=CONTOUR_LEVELS, cmap="viridis")
    ax.contour(x, y, color, levels=CONTOUR_LEVELS, colors="k", linewidths=0.4, alpha=0.4)
    fig.colorbar(filled, ax=ax, label="f − min f (log)" if scene.log_color else "f")
    (xmin, xmax), (ymin, ymax) = scene.bounds
    ax.set_xlim(xmin, xmax)
    ax.set_ylim(ymin, ymax)
    ax.set_aspect("equal")
    every = max(1, -(-scene.steps // STEP_DOTS))
    for m in scene.minima:
        ax.plot(m.x, m.y, marker="*", color="white", markeredgecolor="black", markersize=12)
    ax.plot(*scene.start, "o", color="black", markeredgecolor="white", markersize=8)
    paths, heads = [], []
    for run in scene.runs:
        (line,) = ax.plot(
            [],
            [],
            color=run.color,
            linewidth=2,
            label=run.label,
            marker="o",
            markersize=3,
            markeredgecolor="black",
            markeredgewidth=0.5,
            markevery=every,
        )
        marker = MATPLOTLIB_MARKERS.get(run.symbol, "o")
        (head,) = ax.plot([], [], marker, color=run.color, markeredgecolor="black", markersize=7)
        paths.append(line)
        heads.append(head)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
    ax.set_title(scene.full_title, loc="left")
    counter = fig.text(0.98, 0.96, "", ha="right", va="top", fontsize=12)
    fig.tight_layout()
    steps = frame_steps(scene.steps, frames)

    def update(k: int) -> list:
        step = int(steps[k])
        for run, line, head in zip(scene.runs, paths, heads, strict=True):
            last = min(step, len(run.points) - 1)
            line.set_data(run.points[: last + 1, 0], run.points[: last + 1, 1])
            head.set_data(run.points[last : last + 1, 0], run.points[last : last + 1, 1])
        counter.set_text(f"step {step}/{scene.steps}")
        return [*paths, *heads, counter]

    animation = FuncAnimation(fig, update, frames=len(steps), blit=False)
    writer: PillowWriter | FFMpegWriter
    if kind == "gif":
        writer = PillowWriter(fps=fps)
    else:
        writer = FFMpegWriter(
            fps=fps, codec="libx264", extra_args=["-pix_fmt", "yuv420p", "-preset", "veryfast"]
        )
    animation.save(str(path), writer=writer, dpi=dpi)
    plt.close(fig)


def timed(function: Callable[[], object], repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--frames", type=int, default=150)
    parser.add_argument("--width", type=int, default=800)
    parser.add_argument("--height", type=int, default=600)
    parser.add_argument("--no-baseline", action="store_true", help="skip matplotlib")
    args = parser.parse_args()
    request = scene_request(args.frames, args.width, args.height)
    if not args.no_baseline:
        import matplotlib.pyplot  # noqa: F401  (import time is not drawing time)

    scene = build_scene(request)
    size = {"width": args.width, "height": args.height, "fps": 20, "frames": args.frames}
    print(
        f"scene: {scene.landscape}, {len(scene.runs)} paths, {scene.steps} steps, "
        f"{args.frames} frames of {args.width}x{args.height}; medians of {args.repeats} runs"
    )
    with tempfile.TemporaryDirectory(prefix="gradscape-bench-") as tmp:
        out = Path(tmp)
        if not args.no_baseline:
            against_matplotlib(scene, out, size, args.repeats)
        arrows_cost(args, scene, out, size)
    return 0


def arrows_cost(
    args: argparse.Namespace, scene: ExportScene, out: Path, size: dict[str, Any]
) -> None:
    """The same export with every run recorded and its arrows drawn, against the plain one."""
    plain_request = scene_request(args.frames, args.width, args.height)
    arrows_request = scene_request(args.frames, args.width, args.height, arrows=True)
    compute_plain = timed(lambda: build_scene(plain_request), args.repeats)
    compute_recorded = timed(lambda: build_scene(arrows_request), args.repeats)
    arrows_scene = build_scene(arrows_request)
    print("\narrows: every run recorded, arrows and lengths drawn each frame")
    print(f"{'':10} {'plain':>16} {'arrows':>16} {'ratio':>9}")
    plain_s, recorded_s = statistics.median(compute_plain), statistics.median(compute_recorded)
    print(
        f"{'compute':10} {plain_s * 1000:7.1f} ms {'':6} {recorded_s * 1000:7.1f} ms {'':6}"
        f" {recorded_s / plain_s:8.2f}x"
    )
    for kind, ours in (("gif", write_gif), ("mp4", write_mp4)):
        plain_path, arrows_path = out / f"plain.{kind}", out / f"arrows.{kind}"
        plain_times = timed(lambda: ours(scene, plain_path, **size), args.repeats)  # noqa: B023
        arrows_times = timed(
            lambda: ours(arrows_scene, arrows_path, **size, arrows=True),  # noqa: B023
            args.repeats,
        )
        plain_median = statistics.median(plain_times)
        arrows_median = statistics.median(arrows_times)
        print(
            f"{kind.upper():10} {plain_median:7.2f} s {plain_path.stat().st_size / 1024:5.0f} KiB"
            f" {arrows_median:7.2f} s {arrows_path.stat().st_size / 1024:5.0f} KiB"
            f" {arrows_median / plain_median:8.2f}x"
        )


def against_matplotlib(scene: ExportScene, out: Path, size: dict[str, Any], repeats: int) -> None:
    """Gradscape's GIF and MP4 against the same picture drawn by matplotlib."""
    print(f"{'':10} {'gradscape':>16} {'matplotlib':>16} {'speed-up':>9}")
    for kind, ours in (("gif", write_gif), ("mp4", write_mp4)):
        mine = out / f"ours.{kind}"
        theirs = out / f"matplotlib.{kind}"
        ours_times = timed(lambda: ours(scene, mine, **size), repeats)  # noqa: B023
        base_times = timed(
            lambda: matplotlib_export(scene, theirs, **size, kind=kind),  # noqa: B023
            repeats,
        )
        ours_median = statistics.median(ours_times)
        base_median = statistics.median(base_times)
        print(
            f"{kind.upper():10} {ours_median:7.2f} s {mine.stat().st_size / 1024:5.0f} KiB"
            f" {base_median:7.2f} s {theirs.stat().st_size / 1024:5.0f} KiB"
            f" {base_median / ours_median:8.1f}x"
        )


if __name__ == "__main__":
    sys.exit(main())
