"""`gradscape list` names the page picker's groups and who is in each."""

from __future__ import annotations

import io

import optimizers
from app import cli
from app.config import MAX_SAMPLED


def test_list_shows_each_group_with_its_optimizers() -> None:
    out = io.StringIO()
    cli.list_command(None, out=out)  # type: ignore[arg-type]
    text = out.getvalue()
    section = text[text.index("\nOptimizer groups") : text.index("\nLearning-rate schedules")]
    table, note = section.split("\n\n", 1)
    rows = [line.split(None, 1) for line in table.splitlines()[4:]]
    assert [(group, members.split(", ")) for group, members in rows] == [
        (group, list(members)) for group, members in optimizers.groups().items()
    ]
    assert rows[-1][0] == "gradient-free"
    # what sets the gradient-free group apart, with the limit the API enforces
    assert note.startswith("Gradient-free methods read f's values, never its gradient")
    assert f"at most {MAX_SAMPLED:,}" in note and "gradient methods only" in note
