"""Animated exports: GIF (Pillow's encoder, streamed) and MP4 (H.264 through imageio-ffmpeg).

The GIF is written frame by frame with one global palette (the renderer draws in it), and
each frame after the first stores only the rectangle that changed, so memory stays at one
frame and files stay small even at 2,000 frames of 1920×1080. The MP4 is H.264 High
profile, yuv420p, even dimensions and `+faststart`, which PowerPoint, Keynote and every
browser play.
"""

from __future__ import annotations

import errno
import os
import subprocess
import tempfile
from pathlib import Path

import numpy as np
from PIL import GifImagePlugin, Image

from app.export.data import ExportScene, Progress, clip_steps, frame_steps
from app.export.render import FrameRenderer

# How long the last frame of a `frames` GIF stays up before it loops, so the outcome can be
# read (a clip of a given duration holds its end within its frames instead).
GIF_END_HOLD_MS = 1500
# Palette index left unused by the renderer, marking "unchanged" pixels of a frame.
TRANSPARENT = 255


def _noop(_: float) -> None:
    pass


def even_size(width: int, height: int) -> tuple[int, int]:
    """yuv420p needs even dimensions: round odd ones down by one pixel."""
    return width - width % 2, height - height % 2


def schedule(steps: int, frames: int, hold: int | None) -> np.ndarray:
    """The step of each frame: a clip (`hold` frames of end included) or, with hold None,
    `frames` distinct steps (the older `frames` option)."""
    return frame_steps(steps, frames) if hold is None else clip_steps(steps, frames, hold)


def gif_delays(frames: int, fps: int) -> list[int]:
    """Each frame's delay in hundredths of a second (the GIF unit), rounded so the frames
    add up to frames / fps seconds instead of drifting (30 fps is 3, 3, 4, 3, 3, 4, …)."""
    ends = np.rint(np.arange(frames + 1) * 100 / fps).astype(int)
    return [max(2, int(d)) for d in np.diff(ends)]


def _changed_box(previous: np.ndarray, current: np.ndarray) -> tuple[int, int, int, int]:
    """The smallest (left, top, right, bottom) box holding every changed pixel (1×1 if none)."""
    diff = previous != current
    rows = np.flatnonzero(diff.any(axis=1))
    if not len(rows):
        return 0, 0, 1, 1
    cols = np.flatnonzero(diff.any(axis=0))
    return int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1


def write_gif(
    scene: ExportScene,
    path: Path,
    *,
    width: int,
    height: int,
    fps: int,
    frames: int,
    hold: int | None = None,
    layout: str = "overlay",
    progress: Progress = _noop,
    arrows: bool = False,
) -> int:
    """Write an animated GIF; returns the number of frames written. `fps` at most 50:
    browsers play shorter delays as 100 ms."""
    renderer = FrameRenderer(scene, width, height, layout, mode="P", arrows=arrows)
    steps = schedule(scene.steps, frames, hold)
    delays = [10 * d for d in gif_delays(len(steps), fps)]  # Pillow takes milliseconds
    if hold is None:
        delays[-1] = max(delays[-1], GIF_END_HOLD_MS)
    previous: np.ndarray | None = None
    with open(path, "wb") as fp:
        for k, image in enumerate(renderer.frames(steps)):
            pixels = np.asarray(image)
            params = {"duration": delays[k]}
            box = (0, 0, image.width, image.height)
            if previous is None:
                header, _ = GifImagePlugin.getheader(image, None, {"loop": 0, **params})
                fp.writelines(header)
            else:
                box = _changed_box(previous, pixels)
                left, top, right, bottom = box
                # Unchanged pixels inside the box become transparent: long runs of one
                # index, which LZW stores almost for free.
                part_pixels = np.where(
                    previous[top:bottom, left:right] == pixels[top:bottom, left:right],
                    np.uint8(TRANSPARENT),
                    pixels[top:bottom, left:right],
                )
                image = Image.fromarray(part_pixels, mode="P")
                image.putpalette(renderer.palette_bytes)
                params["transparency"] = TRANSPARENT
            # disposal 1: keep the frame in place, the next one only paints what changed.
            fp.writelines(GifImagePlugin.getdata(image, offset=box[:2], disposal=1, **params))
            previous = pixels
            progress((k + 1) / len(steps))
        fp.write(b";")
    return len(steps)


def write_mp4(
    scene: ExportScene,
    path: Path,
    *,
    width: int,
    height: int,
    fps: int,
    frames: int,
    hold: int | None = None,
    layout: str = "overlay",
    progress: Progress = _noop,
    arrows: bool = False,
) -> int:
    """Write an H.264 MP4 by piping raw RGB frames to the bundled ffmpeg.

    ffmpeg runs under our own Popen (not imageio-ffmpeg's frame writer, which ignores its
    exit status) so a failure — a full disk while it writes the trailer, say — raises
    instead of leaving a truncated file that looks like a success.
    """
    import imageio_ffmpeg

    width, height = even_size(width, height)
    renderer = FrameRenderer(scene, width, height, layout, mode="RGB", arrows=arrows)
    steps = schedule(scene.steps, frames, hold)
    command = [
        imageio_ffmpeg.get_ffmpeg_exe(),
        *("-y", "-v", "error", "-nostdin"),
        *("-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{width}x{height}", "-r", str(fps)),
        *("-i", "-", "-an"),
        *("-c:v", "libx264", "-pix_fmt", "yuv420p", "-preset", "veryfast", "-tune", "animation"),
        *("-crf", "20", "-profile:v", "high", "-movflags", "+faststart"),
        str(path),
    ]
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=log
        )
        assert process.stdin is not None
        try:
            for k, image in enumerate(renderer.frames(steps)):
                process.stdin.write(image.tobytes())
                progress((k + 1) / len(steps))
            process.stdin.close()
        except BrokenPipeError:
            pass  # ffmpeg stopped reading: its exit status and log say why, below
        except BaseException:
            process.kill()
            raise
        finally:
            status = process.wait()
        if status != 0:
            log.seek(0)
            raise _ffmpeg_error(status, log.read().decode(errors="replace"))
    return len(steps)


def _ffmpeg_error(status: int, log: str) -> OSError:
    """An OSError for a failed ffmpeg run, with the errno its log names (ENOSPC, …)."""
    for code in (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EFBIG):
        if os.strerror(code) in log:
            return OSError(code, os.strerror(code))
    last = log.strip().splitlines()[-1:] or [f"exit status {status}"]
    return OSError(errno.EIO, f"ffmpeg failed: {last[0]}")


def write_png(
    scene: ExportScene,
    path: Path,
    *,
    width: int,
    height: int,
    step: int | None = None,
    layout: str = "overlay",
    arrows: bool = False,
) -> None:
    """A still of the scene at `step` (the last step if None)."""
    renderer = FrameRenderer(scene, width, height, layout, mode="RGB", arrows=arrows)
    image: Image.Image = renderer.frame(scene.steps if step is None else step)
    image.save(path, format="PNG", optimize=False)
