"""`gradscape sweep`, `gradscape basins`, `gradscape tune` through app.cli.main, in-process."""

from __future__ import annotations

import csv
import io
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from app import maps as replies
from app.cli import main
from app.export import maps as drawing
from app.schemas import BasinsRequest, SweepRequest
from app.words import tables

SWEEP = ["sweep", "--lr-count", "16", "--steps", "100"]
BASINS = ["basins", "--resolution", "32", "--steps", "150", "--lr", "adam=0.1"]
TUNE = ["tune", "--budget", "4", "--steps", "50"]
SMALL = ["--width", "480", "--height", "270"]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> list[str]:
    """Run the CLI expecting success; returns its summary lines (stdout)."""
    assert main(list(argv)) == 0
    out, err = capsys.readouterr()
    assert err.startswith("wrote ")
    return out.splitlines()


def fails(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    """Run the CLI expecting exit code 2 and one line on stderr; returns that line."""
    with pytest.raises(SystemExit) as exit_info:
        main(list(argv))
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith(f"gradscape {argv[0]}: error: ") and err.count("\n") == 1, err
    return err


def rows(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))


def png_size(path: Path) -> tuple[int, int]:
    with Image.open(path) as image:
        assert image.format == "PNG"
        return image.size


def test_sweep_writes_png_csv_and_json_of_one_reply(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = run(capsys, *SWEEP, *SMALL, "-o", str(tmp_path / "sweep.png"))
    assert png_size(tmp_path / "sweep.png") == (480, 270)
    # per optimizer (SGD and Momentum on the bowl, the defaults): boundary and theory
    assert len(lines) == 2
    assert lines[0].startswith("SGD: ") and "2/λmax = 1" in lines[0]
    assert lines[1].startswith("Momentum: ") and "2(1+μ)/λmax = 1.9" in lines[1]

    run(capsys, *SWEEP, "--out", str(tmp_path / "sweep.json"))
    document = json.loads((tmp_path / "sweep.json").read_text(encoding="utf-8"))
    body = {
        "landscape": "ill_conditioned",
        "steps": 100,
        "runs": [{"optimizer": "sgd", "params": {}}, {"optimizer": "momentum", "params": {}}],
        "lr": {"count": 16},
    }
    reply = replies.sweep_reply(SweepRequest.model_validate(body)).model_dump(mode="json")
    assert document == reply  # the API's reply, as the API serializes it

    run(capsys, *SWEEP, "-o", str(tmp_path / "sweep.csv"))
    table = rows(tmp_path / "sweep.csv")
    assert len(table) == 2 * 16
    assert [float(r["lr"]) for r in table[:16]] == reply["lrs"]
    assert [int(r["diverged_at"]) for r in table[16:]] == reply["runs"][1]["diverged_at"]


def test_sweep_with_y_writes_the_heatmap(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "heatmap.csv"
    argv = ["sweep", "--optimizers", "momentum", "--y", "momentum", "--steps", "100"]
    lines = run(capsys, *argv, "--lr-count", "6", "--y-count", "4", "--lang", "ja", "-o", str(out))
    table = rows(out)
    assert len(table) == 6 * 4 and list(table[0])[:2] == ["lr", "momentum"]
    assert len(lines) == 1 and lines[0].startswith("Momentum: ")
    assert "落ち着" in lines[0] or "セル" in lines[0]  # the Japanese words


def test_basins_of_himmelblau_png_csv_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = run(capsys, *BASINS, "-o", str(tmp_path / "basins.json"))
    reply = json.loads((tmp_path / "basins.json").read_text(encoding="utf-8"))
    body: dict[str, Any] = {
        "landscape": "himmelblau",
        "steps": 150,
        "resolution": 32,
        "runs": [{"optimizer": "sgd", "params": {}}, {"optimizer": "adam", "params": {"lr": 0.1}}],
    }
    expected = replies.basins_reply(BasinsRequest.model_validate(body))
    assert expected is not None and reply == expected.model_dump(mode="json")
    # the summary: each optimizer's share of starts per minimum, adding up to about 100 %
    assert [line.split(":")[0] for line in lines] == ["SGD", "Adam, η = 0.1"]
    for line, shares in zip(lines, drawing.basin_shares(reply), strict=True):
        assert sum(shares.values()) == pytest.approx(1.0)
        assert line.count("%") == len(shares)

    run(capsys, *BASINS, *SMALL, "-o", str(tmp_path / "basins.png"))
    with Image.open(tmp_path / "basins.png") as image:
        assert image.size == (480, 270)
        colours = {tuple(c) for c in np.asarray(image.convert("RGB")).reshape(-1, 3).tolist()}
    four = drawing.minimum_colors(len(reply["minima"]))
    assert len(reply["minima"]) == 4 and all(c in colours for c in four)

    run(capsys, *BASINS, "-o", str(tmp_path / "basins.csv"))
    table = rows(tmp_path / "basins.csv")
    assert len(table) == 2 * 32 * 32
    label = drawing.decode_array(reply["runs"][1]["label"])
    assert [int(r["minimum"]) for r in table[32 * 32 :]] == label.ravel().tolist()


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_basin_map_shows_its_progress_on_a_terminal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    assert main([*BASINS, "-o", str(tmp_path / "b.csv")]) == 0
    shown = terminal.getvalue()
    assert "\rbasins b.csv [" in shown and shown.count("%") >= 3
    assert "] 100%\n" in shown  # the bar ends full, on its own line, before "wrote"
    assert shown.rstrip().splitlines()[-1].startswith("wrote ")


def test_tune_writes_a_row_per_trial_and_a_line_per_method(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "tune.csv"
    lines = run(capsys, *TUNE, "-o", str(out))
    table = rows(out)
    assert len(table) == 2 * 3 * 4  # SGD and Adam × grid, random, bayes × budget
    assert len(lines) == 2 * 3 and all("η = " in line for line in lines)
    assert {r["method"] for r in table} == {"grid", "random", "bayes"}
    run(capsys, *TUNE, "--methods", "bayes", *SMALL, "-o", str(tmp_path / "tune.png"))
    assert png_size(tmp_path / "tune.png") == (480, 270)


def test_summary_speaks_japanese(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lines = run(capsys, *SWEEP, "--lang", "ja", "-o", str(tmp_path / "s.csv"))
    ja = tables()["ja"]
    stable = ja["maps.export.summary.boundary"].split("{stable}")[1].split("、")[0]
    assert stable.strip() in lines[0] and "理論値" in lines[0]


def test_default_file_is_named_after_the_map(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main([*SWEEP, "--format", "csv", "-q"]) == 0
    assert (tmp_path / "gradscape-sweep-ill_conditioned.csv").is_file()
    assert capsys.readouterr() == ("", "")  # --quiet: no summary, no "wrote" line


@pytest.mark.parametrize(
    ("argv", "named"),
    [
        ([*SWEEP[:1], "--lr-count", "8"], "--lr-count"),
        (["sweep", "--lr-min", "5", "--lr-max", "1"], "--lr-min"),
        (["sweep", "--steps", "0"], "--steps"),
        (["sweep", "--start", "9,9"], "--start"),
        (["sweep", "--y", "momentum"], "--y"),  # two optimizers for one heatmap
        (["sweep", "--optimizers", "momentum", "--y", "beta1"], "--y"),
        (["sweep", "--y-count", "5"], "--y-count"),
        (["sweep", "--width", "5000"], "--width"),
        (["basins", "--optimizers", "sgd,nope"], "--optimizers"),
        (["basins", "--lr", "50"], "--lr"),
        (["basins", "--param", "sgd.momentum=0.5"], "--param"),
        (["basins", "--resolution", "4"], "--resolution"),
        (["basins", "--bounds", "1,2,3"], "--bounds"),
        (["tune", "--budget", "1"], "--budget"),
        (["tune", "--methods", "grid,annealing"], "--methods"),
        (["tune", "--extra", "beta9"], "--extra"),
    ],
)
def test_a_bad_option_is_one_line_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], named: str
) -> None:
    out = tmp_path / "map.png"
    line = fails(capsys, *argv, "-o", str(out))
    assert named in line
    assert list(tmp_path.iterdir()) == []  # nothing written, no temporary file left


def test_output_problems_are_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert "format" in fails(capsys, "sweep", "-o", str(tmp_path / "map.gif"))
    assert "contradicts" in fails(capsys, "sweep", "--format", "csv", "-o", str(tmp_path / "a.png"))
    assert "is a directory" in fails(capsys, "basins", "-o", str(tmp_path))
    assert "does not exist" in fails(capsys, "tune", "-o", str(tmp_path / "no" / "t.png"))
