"""One entry point for every format, shared by the API's jobs and the CLI.

Progress is reported as a fraction 0..1 that never goes down: computing the trajectories
is the first 5 %, rendering/encoding the rest, and 1.0 is reported once the file is
complete on disk.
"""

from __future__ import annotations

from pathlib import Path

from app import surfaces
from app.export.data import Progress, build_scene
from app.schemas import ExportRequest

MEDIA_TYPES: dict[str, str] = {
    "gif": "image/gif",
    "mp4": "video/mp4",
    "html": "text/html; charset=utf-8",
    "png": "image/png",
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
}
FORMATS: tuple[str, ...] = tuple(MEDIA_TYPES)
_COMPUTE_SHARE = 0.05


# A name is at most this long before its extension: every file system takes it whole.
_MAX_NAME = 80


def scene_name(request: ExportRequest) -> str:
    """What the scene is, for a file name: the preset's id, else the landscape and the
    optimizers in race order (each once): `warmup`, `rosenbrock-sgd-adam`.

    Only registry names go in (never the free-text title), reduced to [a-z0-9_] and
    joined by '-', so the name is safe on every file system and in a header.
    """
    if request.preset is not None:
        parts = [request.preset]
    else:
        names = [run.optimizer for run in request.runs]
        parts = [surfaces.label(request.landscape), *dict.fromkeys(names)]
    safe = [
        "".join(c if c.isascii() and (c.isalnum() or c == "_") else "_" for c in part.lower())
        for part in parts
    ]
    name = "-".join(part for part in safe if part)
    return name[:_MAX_NAME].rstrip("-_") or "scene"


def download_name(request: ExportRequest) -> str:
    """The file name offered for download (and the CLI's default): gradscape-<scene>.<format>."""
    return f"gradscape-{scene_name(request)}.{request.format}"


class MonotonicProgress:
    """Wraps a callback so the reported fraction only rises and stays within 0..1."""

    def __init__(self, callback: Progress) -> None:
        self._callback = callback
        self.value = 0.0

    def __call__(self, fraction: float) -> None:
        fraction = min(1.0, max(self.value, float(fraction)))
        if fraction > self.value or fraction == 0.0:
            self.value = fraction
            self._callback(fraction)


def run_export(request: ExportRequest, path: Path, progress: Progress | None = None) -> Path:
    """Compute the scene and write it to `path` in `request.format`; returns `path`.

    ValueError for a request the core rejects. `progress` may raise to cancel the export.
    """
    from app.export import html, tabular, video

    report = MonotonicProgress(progress or (lambda _: None))
    report(0.0)
    scene = build_scene(request)
    report(_COMPUTE_SHARE)

    def rendering(fraction: float) -> None:
        # 1.0 is kept for "file complete", after the encoder has flushed.
        report(_COMPUTE_SHARE + (0.99 - _COMPUTE_SHARE) * fraction)

    path = Path(path)
    frames = request.frame_count()
    # A clip of `duration` seconds holds its end; the older `frames` option does not.
    hold = None if request.frames is not None else request.hold_frames()
    size = {"width": request.width, "height": request.height}
    if request.format in ("gif", "mp4"):
        write_video = video.write_gif if request.format == "gif" else video.write_mp4
        write_video(
            scene,
            path,
            **size,
            fps=request.clip_fps(),
            frames=frames,
            hold=hold,
            layout=request.layout,
            progress=rendering,
            arrows=request.arrows,
        )
    elif request.format == "png":
        video.write_png(
            scene, path, **size, step=request.frame, layout=request.layout, arrows=request.arrows
        )
    elif request.format == "html":
        # The handout plays each sampled step once; a clip's seconds set its frame rate.
        moving = frames - (hold or 0)
        shown = min(moving, request.steps + 1)
        html.write_html(
            scene,
            path,
            frames=shown,
            frame_ms=1000 * moving / request.fps / shown,
            layout=request.layout,
            progress=rendering,
        )
    elif request.format == "csv":
        tabular.write_csv(scene, path)
    elif request.format == "json":
        tabular.write_json(scene, path)
    else:  # the schema's Literal makes this unreachable
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, got {request.format!r}")
    report(1.0)
    return path
