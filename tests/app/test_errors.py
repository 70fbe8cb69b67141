"""One validation-error formatter: the API's 422, the WebSocket's error and the CLI agree."""

from __future__ import annotations

import math

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from app.cli import main
from app.schemas import TrajectoryRequest, describe, validation_issues

# Two problems at once: steps above its limit and a start outside Rosenbrock's bounds.
BAD = {
    "landscape": "rosenbrock",
    "steps": 20_000,
    "noise": 0.5,
    "runs": [{"optimizer": "adam", "params": {"lr": 2.0e9}}],
}


def _error() -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        TrajectoryRequest.model_validate(BAD)
    return caught.value


def _expected() -> str:
    return describe(_error())


def test_the_line_names_each_field_and_drops_pydantics_prefix() -> None:
    text = _expected()
    assert text.startswith("steps: ") and "10000" in text
    assert "runs.0: " in text and "lr" in text
    assert "Value error" not in text and text.count("; ") == 1


def test_non_finite_input_is_echoed_as_null() -> None:
    issues = validation_issues([{"loc": ("noise",), "msg": "bad", "input": math.inf}])
    assert issues == [{"loc": ["noise"], "msg": "bad", "input": None}]


def test_http_websocket_and_cli_say_the_same(
    client: TestClient, capsys: pytest.CaptureFixture[str], tmp_path: object
) -> None:
    expected = _expected()
    reply = client.post("/api/trajectories", json=BAD)
    assert reply.status_code == 422
    # The API's issues are the same, located in the request body.
    ours = [(["body", *i["loc"]], i["msg"]) for i in validation_issues(_error().errors())]
    assert [(i["loc"], i["msg"]) for i in reply.json()["detail"]] == ours
    with client.websocket_connect("/ws/trajectories") as socket:
        socket.send_json({"type": "run", "id": 1, **BAD})
        assert socket.receive_json() == {"type": "error", "id": 1, "detail": expected}
    with pytest.raises(SystemExit) as stopped:
        main(
            [
                "export",
                "--landscape=rosenbrock",
                "--optimizers=adam",
                "--lr=2e9",
                "--steps=20000",
                "--noise=0.5",
                f"-o={tmp_path}/x.json",
            ]
        )
    assert stopped.value.code == 2
    assert capsys.readouterr().err.strip().endswith(expected)


def _nested(depth: int) -> object:
    value: object = 1.0
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize("field", ["start", "landscape", "params"])
def test_deeply_nested_input_is_a_422_naming_the_field_with_a_bounded_echo(
    client: TestClient, field: str
) -> None:
    # 600 levels used to overflow the encoder's recursion while echoing the input: a 500.
    body = {"landscape": "booth", "runs": [{"optimizer": "sgd"}]}
    if field == "params":
        body["runs"] = [{"optimizer": "sgd", "params": {"lr": _nested(600)}}]
    else:
        body[field] = _nested(600)
    response = client.post("/api/trajectories", json=body)
    assert response.status_code == 422, response.text[:200]
    assert field in response.text
    assert len(response.content) < 5_000  # the echo is cut, not the whole input


def test_a_huge_rejected_input_is_not_echoed_whole(client: TestClient) -> None:
    # 60 kB: under the body cap (a megabyte is refused with 413 before it is parsed).
    body = {"landscape": "x" * 60_000, "runs": [{"optimizer": "sgd"}]}
    response = client.post("/api/trajectories", json=body)
    assert response.status_code in (404, 422)
    assert len(response.content) < 5_000


def test_an_unknown_name_is_quoted_short_wherever_it_is_refused(client: TestClient) -> None:
    # A 60,000-character name came back whole in a 404 and a WebSocket error.
    name = "a" * 60_000
    reply = client.get(f"/api/landscapes/{name}/grid")
    assert reply.status_code == 404 and len(reply.text) < 400
    assert reply.json()["detail"].startswith("unknown landscape 'aaaaaaaaaaaa...aaaaaaaaaaaaa'")
    with client.websocket_connect("/ws/trajectories") as socket:
        socket.send_json({"type": name})
        error = socket.receive_json()
        assert error["type"] == "error" and len(error["detail"]) < 200
        socket.send_json({"type": "run", "landscape": "booth", "runs": [{"optimizer": name}]})
        error = socket.receive_json()
        assert error["type"] == "error" and len(error["detail"]) < 400
    short = client.get("/api/landscapes/booth2/grid").json()["detail"]
    assert short.startswith("unknown landscape 'booth2'; valid names: rosenbrock")
