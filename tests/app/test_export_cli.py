"""`gradscape export` round trips through app.cli.main, and its errors."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from PIL import Image

from app.cli import main
from app.export.cli import ProgressBar

SMALL = ["--width", "200", "--height", "150", "--frames", "10", "--steps", "30"]


def export(tmp_path: Path, name: str, *options: str) -> Path:
    out = tmp_path / name
    assert main(["export", *options, *SMALL, "-o", str(out)]) == 0
    assert out.is_file()
    return out


def fails(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    """Run the CLI expecting exit code 2; returns what it printed on stderr."""
    with pytest.raises(SystemExit) as exit_info:
        main(["export", *argv])
    assert exit_info.value.code == 2
    return capsys.readouterr().err


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
        (["--steps", "many", "-o", "x.gif"], ["--steps", "many"]),
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
