"""`gradscape export` round trips through app.cli.main, and its errors."""

from __future__ import annotations

import csv
import errno
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import app.export.video as video
from app import cli
from app.cli import ProgressBar, main
from app.config import FPS, FRAME, FRAMES, HEIGHT, NOISE, SEED, STEPS, WIDTH
from app.schemas import schedule_range, show_number

ROOT = Path(__file__).resolve().parents[2]

SMALL = ["--width", "200", "--height", "150", "--frames", "10", "--steps", "30"]


def export(tmp_path: Path, name: str, *options: str) -> Path:
    out = tmp_path / name
    assert main(["export", *options, *SMALL, "-o", str(out)]) == 0
    assert out.is_file()
    return out


def fails(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    """Run the CLI expecting exit code 2 and one line on stderr; returns that line."""
    with pytest.raises(SystemExit) as exit_info:
        main(["export", *argv])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("gradscape export: error: ") and err.count("\n") == 1, err
    return err


def test_gif_round_trip(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = export(
        tmp_path,
        "race.gif",
        "--landscape",
        "rosenbrock",
        "--optimizers",
        "sgd,adam",
        "--lr",
        "adam=0.05",
        "--title",
        "Lecture 3",
    )
    with Image.open(out) as gif:
        assert gif.n_frames == 10
        assert gif.size == (200, 150)
    assert f"wrote {out}" in capsys.readouterr().err
    assert [p.name for p in tmp_path.iterdir()] == ["race.gif"]  # no temp file left behind


def test_format_comes_from_the_extension_or_the_flag(tmp_path: Path) -> None:
    out = export(tmp_path, "table.csv", "--optimizers", "adam", "-q")
    assert out.read_text().startswith("step,optimizer,x,y,loss")
    still = export(tmp_path, "still.img", "--format", "png", "--frame", "3", "-q")
    with Image.open(still) as image:
        assert image.format == "PNG" and image.size == (200, 150)


def test_every_scene_option_reaches_the_scene(tmp_path: Path) -> None:
    out = export(
        tmp_path,
        "scene.json",
        "--landscape",
        "himmelblau",
        "--optimizers",
        "sgd,adam,adam",
        "--lr",
        "0.01",
        "--lr",
        "adam#2=0.05",
        "--param",
        "adam.beta1=0.8",
        "--param",
        "eps=1e-6",
        "--start=-1.5,2",
        "--noise",
        "0.1",
        "--seed",
        "9",
        "--schedule",
        "cosine",
        "--warmup",
        "5",
        "--t-max",
        "25",
        "--schedule-option",
        "min_factor=0.1",
        "-q",
    )
    document = json.loads(out.read_text())
    scene = document["scene"]
    assert scene["landscape"] == "himmelblau"
    assert scene["start"] == [-1.5, 2.0]
    assert scene["steps"] == 30 and scene["noise"] == 0.1 and scene["seed"] == 9
    given = {k: v for k, v in scene["schedule"].items() if v is not None}
    assert given == {"kind": "cosine", "warmup": 5, "t_max": 25, "min_factor": 0.1}
    params = [run["params"] for run in document["runs"]]
    assert [run["optimizer"] for run in document["runs"]] == ["sgd", "adam", "adam"]
    assert params[0]["lr"] == 0.01 and params[1]["lr"] == 0.01 and params[2]["lr"] == 0.05
    assert params[1]["beta1"] == 0.8 and params[2]["beta1"] == 0.8
    assert params[1]["eps"] == 1e-6 and "eps" not in params[0]  # sgd has no eps


def test_start_as_two_numbers(tmp_path: Path) -> None:
    out = export(tmp_path, "s.csv", "--optimizers", "adam", "--start", "-1.5", "0.5", "-q")
    with open(out, newline="") as fp:
        first = next(csv.DictReader(fp))
    assert (float(first["x"]), float(first["y"])) == (-1.5, 0.5)


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["--width", "5000", "-o", "x.gif"], ["width must be between 64 and 1920, got 5000"]),
        (["--frames", "2001", "-o", "x.gif"], ["frames", "2000"]),
        (["--fps", "0", "-o", "x.gif"], ["fps", "1"]),
        (["--optimizers", "adamw9", "-o", "x.gif"], ["adamw9"]),
        (["--landscape", "flat", "-o", "x.gif"], ["landscape", "rosenbrock"]),
        (["--lr", "adam=100", "--optimizers", "adam", "-o", "x.gif"], ["lr"]),
        (["--lr", "adam=fast", "-o", "x.gif"], ["--lr", "fast"]),
        (["--lr", "nag=0.1", "--optimizers", "adam", "-o", "x.gif"], ["nag", "--optimizers"]),
        (["--param", "beta9=1", "-o", "x.gif"], ["beta9"]),
        (["--param", "adam.beta1", "-o", "x.gif"], ["NAME=VALUE"]),
        (["--schedule", "linear", "-o", "x.gif"], ["schedule", "cosine"]),
        (["--schedule-option", "speed=2", "-o", "x.gif"], ["speed", "t_max"]),
        (["--start", "1,2,3", "-o", "x.gif"], ["--start"]),
        (["--steps", "10", "--frame", "11", "-o", "x.png"], ["frame", "10"]),
        (["-o", "x.bmp"], ["format", "x.bmp"]),
        (["-o", "/nonexistent-dir/x.gif"], ["does not exist"]),
        (["--format", "gif", "-o", "x.mp4"], ["--format gif", "'x.mp4'", "mp4"]),
        (["--format", "bmp", "-o", "x.gif"], ["--format", "bmp", "gif"]),
        (
            ["--start", "9,9", "-o", "x.gif"],
            ["start (9, 9) is outside rosenbrock's bounds x ∈ [-2, 2], y ∈ [-1, 3]"],
        ),
        (["--landscape", "saddle", "--start=-2.5,0", "-o", "x.csv"], ["saddle's bounds"]),
        (["--steps", "many", "-o", "x.gif"], ["--steps", "many"]),
        (["--optimizers", "sgd", "--record", "adam", "-o", "x.csv"], ["--record adam", "sgd"]),
    ],
)
def test_bad_options_exit_2_with_a_clear_message(
    capsys: pytest.CaptureFixture[str], argv: list[str], words: list[str], tmp_path: Path
) -> None:
    argv = [str(tmp_path / a) if a.startswith("x.") else a for a in argv]
    err = fails(capsys, *argv)
    assert "gradscape export: error:" in err
    for word in words:
        assert word in err
    assert list(tmp_path.iterdir()) == []


def test_output_that_is_a_directory_is_named_as_such(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    named_like_a_file = tmp_path / "race.gif"
    named_like_a_file.mkdir()
    for output in (tmp_path, named_like_a_file, f"{tmp_path}/"):
        err = fails(capsys, "-o", str(output))
        assert "is a directory; name a file in it" in err
    assert [p.name for p in tmp_path.iterdir()] == ["race.gif"]  # nothing written anywhere
    assert list(named_like_a_file.iterdir()) == []


def test_output_under_a_regular_file_names_that_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("lecture notes")
    for output in (notes / "x.gif", notes / "sub" / "x.gif"):
        err = fails(capsys, "-o", str(output))
        assert f"cannot create '{output}': '{notes}' is a file, not a directory" in err
    assert notes.read_text() == "lecture notes"


@pytest.mark.parametrize(
    ("output", "reason"),
    [
        ("/proc/race.gif", "this file system does not take new files"),
        ("/proc/self/race.gif", "this file system does not take new files"),
        ("/sys/race.gif", "permission denied"),  # even for root: sysfs makes no files
        ("/sys/kernel/race.gif", "permission denied"),
    ],
)
def test_output_where_the_kernel_refuses_files(
    capsys: pytest.CaptureFixture[str], output: str, reason: str
) -> None:
    err = fails(capsys, "--steps", "5", "-o", output)
    assert err == f"gradscape export: error: cannot create '{output}': {reason}\n"


def test_output_that_is_a_device_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    err = fails(capsys, "--format", "csv", "-o", "/dev/null")
    assert "output '/dev/null' is not a regular file" in err
    assert Path("/dev/null").is_char_device()


def test_a_symlinked_output_replaces_its_target_and_keeps_the_link(tmp_path: Path) -> None:
    target = tmp_path / "real.csv"
    target.write_text("old")
    link = tmp_path / "link.csv"
    link.symlink_to(target)
    assert main(["export", "--optimizers", "adam", "-q", *SMALL, "-o", str(link)]) == 0
    assert link.is_symlink() and link.resolve() == target
    assert target.read_text().startswith("step,optimizer,x,y,loss")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.csv", "real.csv"]


def _namespace_prefix() -> list[str] | None:
    """`unshare` arguments that give a process its own mounts, or None if the kernel or
    the sandbox does not allow it (then the tests simulate the file system's answer)."""
    if not sys.platform.startswith("linux") or shutil.which("unshare") is None:
        return None
    prefix = ["unshare", "--mount"] + ([] if os.geteuid() == 0 else ["--map-root-user"])
    probe = subprocess.run([*prefix, "true"], capture_output=True, timeout=30)
    return prefix if probe.returncode == 0 else None


def _export_on_a_tmpfs(
    tmp_path: Path, options: str, *argv: str
) -> subprocess.CompletedProcess[str]:
    """`gradscape export … -o MOUNT/…` in a private mount namespace with a tmpfs (mounted
    with `options`) on tmp_path/mnt; fails the test if the tmpfs cannot be mounted."""
    prefix = _namespace_prefix()
    assert prefix is not None
    mount = tmp_path / "mnt"
    mount.mkdir()
    script = (
        f"mount -t tmpfs -o {options} tmpfs {mount} || exit 99; "
        f'exec "{sys.executable}" -m app.cli export "$@"; '
    )
    argv = tuple(a.replace("MOUNT", str(mount)) for a in argv)
    proc = subprocess.run(
        [*prefix, "sh", "-c", script, "sh", *argv],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert proc.returncode != 99, f"could not mount a tmpfs: {proc.stderr}"
    return proc


def test_output_on_a_read_only_file_system(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    if _namespace_prefix() is not None:  # a real read-only tmpfs, in a mount namespace
        proc = _export_on_a_tmpfs(tmp_path, "ro,size=64k", "--steps", "5", "-o", "MOUNT/x.gif")
        assert proc.returncode == 2
        err = proc.stderr
    else:  # the same answer, given by a stand-in for the kernel

        def read_only(*args: object, **kwargs: object) -> None:
            raise OSError(errno.EROFS, "Read-only file system")

        monkeypatch.setattr(cli.tempfile, "mkstemp", read_only)
        (tmp_path / "mnt").mkdir()
        err = fails(capsys, "--steps", "5", "-o", str(tmp_path / "mnt" / "x.gif"))
    mount = tmp_path / "mnt"
    assert err == (
        f"gradscape export: error: cannot create '{mount}/x.gif': the file system is read-only\n"
    )


@pytest.mark.parametrize("suffix", ["gif", "mp4"])
def test_a_full_disk_is_one_line_exit_1_and_leaves_no_file(
    suffix: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # a real 16 KiB tmpfs: an 800×600 GIF or MP4 of 50 steps needs more (ffmpeg fails as
    # it writes, and its exit status must reach the user, not a truncated "success")
    if _namespace_prefix() is not None:
        script_argv = ("--steps", "50", "-q", "-o", f"MOUNT/x.{suffix}")
        proc = _export_on_a_tmpfs(tmp_path, "size=16k", *script_argv)
        code, err = proc.returncode, proc.stderr
        # the tmpfs went with its namespace; the message is what the user saw
    else:

        def full(*args: object, **kwargs: object) -> None:
            raise OSError(errno.ENOSPC, "No space left on device")

        monkeypatch.setattr(video, f"write_{suffix}", full)
        (tmp_path / "mnt").mkdir()
        with pytest.raises(SystemExit) as exit_info:
            main(["export", "--steps", "50", "-q", "-o", str(tmp_path / "mnt" / f"x.{suffix}")])
        code, err = exit_info.value.code, capsys.readouterr().err
        assert list((tmp_path / "mnt").iterdir()) == []
    assert code == 1
    assert err == (
        f"gradscape export: error: writing '{tmp_path}/mnt/x.{suffix}' failed: "
        "No space left on device\n"
    )


def test_help_shows_the_ranges_validation_enforces(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["export", "--help"])
    text = " ".join(capsys.readouterr().out.split())  # argparse wraps lines anywhere
    for option in (STEPS, NOISE, SEED, WIDTH, HEIGHT, FPS, FRAMES, FRAME):
        shown = f"{show_number(option.min)}–{show_number(option.max)}"
        assert shown in text.split(f"--{option.name} {option.name.upper()} ", 1)[1][:120]
    for name in ("warmup", "step_size", "gamma", "decay", "t_max", "min_factor"):
        low, high = schedule_range(name)
        flag = f"--{name.replace('_', '-')} {name.upper()} "
        assert f"{show_number(low)}–{show_number(high)}" in text.split(flag, 1)[1][:120]


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_draws_on_a_terminal_only() -> None:
    terminal = _Terminal()
    bar = ProgressBar("gif out.gif", terminal, width=10)
    for fraction in (0.0, 0.5, 0.5, 1.0):
        bar(fraction)
    bar.close()
    text = terminal.getvalue()
    assert "\r" in text and "[#####-----]  50%" in text and "[##########] 100%" in text
    assert text.count(" 50%") == 1  # redrawn only when the percentage moves
    piped = io.StringIO()
    quiet = ProgressBar("gif out.gif", piped)
    quiet(0.5)
    quiet.close()
    assert piped.getvalue() == ""


def test_lang_gives_the_handout_the_pages_japanese_words(tmp_path: Path) -> None:
    handout = tmp_path / "h.html"
    argv = ["export", "--landscape", "booth", "--optimizers", "sgd", "--steps", "10", "-q"]
    assert main([*argv, "--lang", "ja", "-o", str(handout)]) == 0
    text = handout.read_text(encoding="utf-8")
    assert '<html lang="ja">' in text and "ステップ" in text  # the step label, in Japanese
    assert main([*argv, "-o", str(tmp_path / "en.html")]) == 0
    english = (tmp_path / "en.html").read_text(encoding="utf-8")
    assert '<html lang="en">' in english and "ステップ" not in english


def test_record_adds_the_recorded_state_to_csv_and_json(tmp_path: Path) -> None:
    out = export(tmp_path, "s.csv", "--optimizers", "sgd,adam", "--record", "adam", "-q")
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert {"grad_x", "grad_y", "lr", "exp_avg_x", "exp_avg_sq_y"} <= set(rows[0])
    adam = [r for r in rows if r["optimizer"] == "adam"]
    sgd = [r for r in rows if r["optimizer"] == "sgd"]
    assert all(r["grad_x"] and r["exp_avg_sq_y"] for r in adam[:-1]) and not adam[-1]["grad_x"]
    assert not any(r["grad_x"] for r in sgd)
    # a preset records the run it inspects, as the page does
    document = json.loads(export(tmp_path, "p.json", "--preset", "adam_axes", "-q").read_text())
    records = {run["optimizer"]: run["record"] for run in document["runs"]}
    assert records["sgd"] is None and set(records["adam"]["state"]) == {"exp_avg", "exp_avg_sq"}


def test_arrows_draw_on_the_frame(tmp_path: Path) -> None:
    options = ("--optimizers", "adam", "--frame", "10", "-q")
    plain = export(tmp_path, "plain.png", *options)
    arrows = export(tmp_path, "arrows.png", *options, "--arrows")
    with Image.open(plain) as a, Image.open(arrows) as b:
        before, after = np.asarray(a.convert("RGB")), np.asarray(b.convert("RGB"))
    assert before.shape == after.shape
    different = int((before != after).any(axis=-1).sum())
    assert 0 < different < 0.2 * before.shape[0] * before.shape[1]  # arrows and legend only
