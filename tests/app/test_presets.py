"""Every lecture preset shows the lesson its paragraph describes (run through the real core)."""

from __future__ import annotations

import numpy as np
import pytest

import landscapes
import maps
from app import presets, scene
from app.main import create_app
from app.schemas import TrajectoryRequest
from tests.app.clients import LocalClient


def outcomes(preset_id: str, **changes: object) -> dict[str, scene.RunOutcome]:
    body = presets.get(preset_id).request()
    body.update(changes)
    runs = scene.compute(TrajectoryRequest.model_validate(body))
    return {run.optimizer: run for run in runs}


def with_lr(preset_id: str, optimizer: str, lr: float) -> dict[str, scene.RunOutcome]:
    body = presets.get(preset_id).request()
    for run in body["runs"]:
        if run["optimizer"] == optimizer:
            run["params"]["lr"] = lr
    runs = scene.compute(TrajectoryRequest.model_validate(body))
    return {run.optimizer: run for run in runs}


def escape_step(run: scene.RunOutcome) -> int | None:
    away = np.abs(run.points[:, 1]) > 1.0
    return int(np.argmax(away)) if away.any() else None


def test_every_preset_has_both_languages_and_a_valid_request() -> None:
    assert len(presets.PRESETS) >= 7
    for preset in presets.PRESETS:
        assert set(preset.title) == {"en", "ja"} and set(preset.text) == {"en", "ja"}
        assert all(len(text) > 150 for text in preset.text.values())
        TrajectoryRequest.model_validate(preset.request())


def test_presets_endpoint_serves_scenes() -> None:
    reply = LocalClient(create_app()).get("/api/presets")
    assert reply.status_code == 200
    ids = [p["id"] for p in reply.json()["presets"]]
    assert ids == [p.id for p in presets.PRESETS]
    first = reply.json()["presets"][0]
    assert {"landscape", "start", "steps", "optimizers", "params"} <= set(first["scene"])


def test_preset_words_come_from_the_pages_i18n_tables() -> None:
    # The page's text and the presets' paragraphs share one home per language.
    import json

    from app.config import I18N_DIR

    tables = {
        p.stem: json.loads(p.read_text(encoding="utf-8"))
        for p in I18N_DIR.glob("*.json")
        if p.stem != "glossary"
    }
    reply = LocalClient(create_app()).get("/api/presets").json()["presets"]
    for served in reply:
        for lang, table in tables.items():
            assert served["title"][lang] == table[f"preset.{served['id']}.title"]
            assert served["text"][lang] == table[f"preset.{served['id']}.text"]
    with open(presets.__file__, encoding="utf-8") as file:  # scenes only, no prose
        source = file.read()
    assert "鞍点" not in source and "saddle point" not in source.lower()


def test_unknown_preset_names_the_valid_ones() -> None:
    with pytest.raises(ValueError, match="saddle"):
        presets.get("nope")


def codes(runs: dict[str, scene.RunOutcome]) -> dict[str, str]:
    return {name: run.status.code for name, run in runs.items()}


def near(run: scene.RunOutcome, point: tuple[float, float]) -> float:
    return float(np.hypot(*(run.points[-1] - point)))


def test_saddle_sgd_stalls_while_adaptive_methods_escape() -> None:
    runs = outcomes("saddle")
    assert codes(runs) == {
        "sgd": "stalled_saddle",
        "momentum": "moving",
        "rmsprop": "moving",
        "adam": "moving",
    }
    # "from about step 110 … sits next to the saddle point barely moving"
    assert 100 <= runs["sgd"].status.step <= 120
    assert escape_step(runs["sgd"]) is None and near(runs["sgd"], (0.0, 0.0)) < 0.1
    assert 1.015 < runs["sgd"].points[-1, 1] / runs["sgd"].points[-2, 1] < 1.025  # 2 % a step
    assert 60 <= escape_step(runs["momentum"]) <= 80  # "after about 70 steps"
    assert escape_step(runs["adam"]) <= 25 and escape_step(runs["rmsprop"]) <= 25  # "about 20"


def test_rosenbrock_sgd_creeps_momentum_and_adam_arrive() -> None:
    runs = outcomes("rosenbrock")
    assert codes(runs) == {"sgd": "moving", "momentum": "settled_global", "adam": "settled_global"}
    assert near(runs["sgd"], (1.0, 1.0)) > 1.0  # "still far from (1, 1)"
    assert near(runs["momentum"], (1.0, 1.0)) < 0.05 and near(runs["adam"], (1.0, 1.0)) < 0.05


def test_rastrigin_paths_end_in_local_minima() -> None:
    runs = outcomes("rastrigin")
    assert set(codes(runs).values()) == {"settled_local"}
    for name, run in runs.items():
        assert run.final_loss > 1.0, name  # nobody reaches the global minimum (f = 0)
        target = (-1.0, 1.0) if name == "momentum" else (4.0, -3.0)
        assert near(run, target) < 0.1, name  # five near (4, −3), Momentum near (−1, 1)
        # "settled at step s" means the loss chart is flat from s on, not only the path
        s, losses = run.status.step, np.asarray(run.losses)
        assert abs(losses[s] - losses[-1]) < 0.002 * (losses[0] - losses[-1]), name
    # Momentum's path stays put from step 73, but f falls from 3.8 there to 2.0 by 150
    assert 120 <= runs["momentum"].status.step <= 160


def test_ill_conditioned_every_sentence() -> None:
    runs = outcomes("ill_conditioned")
    sgd, momentum, adagrad, adam = (runs[k] for k in ("sgd", "momentum", "adagrad", "adam"))
    assert sgd.params["lr"] == momentum.params["lr"] == 0.1
    # SGD: drops to the valley floor, crawls, still at x ≈ −3.8 after 60 steps, moving
    assert abs(sgd.points[20, 1]) < 0.05 and -3.9 < sgd.points[-1, 0] < -3.7
    assert sgd.status.code == "moving"
    # Momentum: overshoots to x ≈ +1, circles within 0.1 of the minimum, not yet settled
    assert 0.9 < momentum.points[:, 0].max() < 1.2
    assert near(momentum, (0.0, 0.0)) < 0.1 and momentum.status.code == "moving"
    assert momentum.final_loss < sgd.final_loss / 50
    # AdaGrad: almost straight, crosses neither axis, settles by step 30
    path = np.hypot(*np.diff(adagrad.points, axis=0).T).sum()
    assert path < 1.06 * np.hypot(*(adagrad.points[-1] - adagrad.points[0]))
    assert adagrad.points[:, 0].max() <= 0 and adagrad.points[:, 1].min() >= 0
    assert adagrad.status.code == "settled_global" and adagrad.status.step <= 30
    # Adam: below the valley floor (y ≈ −0.7), past the minimum (x ≈ +0.7), still moving
    assert -0.8 < adam.points[:, 1].min() < -0.6 and 0.6 < adam.points[:, 0].max() < 0.8
    assert adam.status.code == "moving" and 0.05 < near(adam, (0.0, 0.0)) < 0.15
    # the textbook's SGD at lr 0.95 zig-zags across the valley
    textbook = with_lr("ill_conditioned", "sgd", 0.95)["sgd"]
    flips = np.sum(np.sign(textbook.points[1:31, 1]) != np.sign(textbook.points[:30, 1]))
    assert flips >= 25


def test_too_large_learning_rate_diverges_but_adam_settles() -> None:
    runs = outcomes("divergence")
    assert codes(runs) == {"sgd": "diverged", "momentum": "diverged", "adam": "settled_global"}
    assert runs["sgd"].status.step == runs["sgd"].diverged_at
    # Adam "rattles around and then settles": big early steps, tiny late ones
    steps = np.hypot(*np.diff(runs["adam"].points, axis=0).T)
    assert steps[:10].mean() > 0.5 and steps[-10:].max() < 0.05


def test_warmup_starts_small_and_cosine_settles() -> None:
    runs = outcomes("warmup")
    plain = outcomes("warmup", schedule=None)
    assert set(codes(runs).values()) == {"settled_global"}
    for name, run in runs.items():
        steps = np.hypot(*np.diff(run.points, axis=0).T)
        plain_steps = np.hypot(*np.diff(plain[name].points, axis=0).T)
        assert steps[0] < plain_steps[0] / 5, name
        assert steps[-5:].max() < 0.05, name
    sgd_first = np.hypot(*(runs["sgd"].points[1] - runs["sgd"].points[0]))
    plain_first = np.hypot(*(plain["sgd"].points[1] - plain["sgd"].points[0]))
    assert 0.15 < sgd_first < 0.25 and 3.5 < plain_first < 4.0  # "0.2 long instead of almost 4"


def test_noise_hovers_at_a_floor_that_halves_with_the_learning_rate() -> None:
    runs = outcomes("noise")
    assert set(codes(runs).values()) == {"hovering"}
    assert all(run.status.floor > 0.01 for run in runs.values())
    # "halve SGD's learning rate and its floor about halves": the floor is a random
    # quantity, so compare its mean over eight noise samples.
    lr = presets.get("noise").params["sgd"]["lr"]
    floors = {lr: [], lr / 2: []}
    for seed in range(8):
        for rate in floors:
            body = presets.get("noise").request()
            body["seed"] = seed
            body["runs"] = [{"optimizer": "sgd", "params": {"lr": rate}}]
            (run,) = scene.compute(TrajectoryRequest.model_validate(body))
            assert run.status.code == "hovering", (seed, rate)
            floors[rate].append(run.status.floor)
    ratio = np.mean(floors[lr / 2]) / np.mean(floors[lr])
    assert 0.35 < ratio < 0.7, ratio


def test_adam_axes_every_sentence() -> None:
    """Adam on the ill-conditioned bowl: equal steps on unequal axes (its state recorded)."""
    preset = presets.get("adam_axes")
    assert preset.scene()["inspect"] == "adam"
    body = preset.request()
    assert [run.get("record", False) for run in body["runs"]] == [False, True]
    runs = outcomes("adam_axes")
    sgd, adam = runs["sgd"], runs["adam"]
    assert sgd.params["lr"] == adam.params["lr"] == 0.1
    assert sgd.record is None and adam.record is not None
    # the gradient at the start is (−0.7, 4), almost six times steeper in y
    np.testing.assert_allclose(adam.record.grads[0], [-0.7, 4.0], rtol=1e-12)
    # SGD's first step: 0.07 in x and 0.4 in y; Adam's: 0.1 on both axes
    np.testing.assert_allclose(sgd.points[1] - sgd.points[0], [0.07, -0.4], rtol=1e-12)
    np.testing.assert_allclose(adam.points[1] - adam.points[0], [0.1, -0.1], rtol=1e-7)
    # the effective learning rate PyTorch multiplies m by, per axis, from the record
    t = np.arange(1, len(adam.record.lrs) + 1)[:, None]
    beta1, beta2, eps = (adam.params[k] for k in ("beta1", "beta2", "eps"))
    v = adam.record.state["exp_avg_sq"]
    rate = adam.record.lrs[:, None] / (1 - beta1**t) / (np.sqrt(v) / np.sqrt(1 - beta2**t) + eps)
    ratio = rate[:, 0] / rate[:, 1]
    assert round(ratio[0], 1) == 5.7
    # the step the update took is that rate times m
    steps = np.diff(adam.points, axis=0)
    np.testing.assert_allclose(-rate * adam.record.state["exp_avg"], steps, rtol=1e-9)
    # first 10 steps: the axes' steps within 6 % of each other; then x ≈ −6.0, SGD −6.3
    sizes = np.abs(steps[:10])
    assert (np.abs(sizes[:, 1] / sizes[:, 0] - 1) < 0.06).all()
    assert round(adam.points[10, 0], 1) == -6.0 and round(sgd.points[10, 0], 1) == -6.3
    # the ratio falls only to about 3 by step 100
    assert len(ratio) == 100 and 2.9 < ratio[-1] < 3.2 and (np.diff(ratio) < 0).all()
    # ... because v forgets slowly: with β₂ = 0.9 it falls below 2
    quick = outcomes(
        "adam_axes",
        runs=[{"optimizer": "adam", "params": {"lr": 0.1, "beta2": 0.9}, "record": True}],
    )
    record = quick["adam"].record
    assert record is not None
    v = record.state["exp_avg_sq"]
    fast = record.lrs[:, None] / (1 - beta1**t) / (np.sqrt(v) / np.sqrt(1 - 0.9**t) + eps)
    assert fast[-1, 0] / fast[-1, 1] < 2


def _runs(preset: presets.Preset) -> list[tuple[str, dict[str, float]]]:
    return [(name, dict(preset.params.get(name, {}))) for name in preset.optimizers]


def test_stability_limit_every_sentence() -> None:
    """The limits and boundaries (the sweep's 64 rates), the settling ranges and steps."""

    p = presets.get("stability_limit")
    assert p.stage == "maps" and p.scene()["stage"] == "maps"
    f = landscapes.get(p.landscape)
    assert np.linalg.eigvalsh(maps.constant_hessian(f)) == pytest.approx([0.1, 2.0])
    lrs = maps.lr_values(1e-4, 10, 64)
    runs = [(name, {k: v for k, v in params.items() if k != "lr"}) for name, params in _runs(p)]
    sgd, momentum, nag = maps.sweep(f, runs, p.start, p.steps, lrs)
    assert (sgd.limit, momentum.limit) == (pytest.approx(1.0), pytest.approx(1.9))
    assert nag.limit == pytest.approx(0.68, abs=0.005)
    for sweep in (sgd, momentum, nag):
        stable, diverged = sweep.boundary
        assert stable < sweep.limit < diverged <= sweep.limit * lrs[1] / lrs[0]
    settles = {s.optimizer: lrs[s.settled_at >= 0] for s in (sgd, momentum)}
    assert (settles["sgd"].min(), settles["sgd"].max()) == (
        pytest.approx(0.06, rel=0.01),
        pytest.approx(0.93, rel=0.01),
    )
    assert settles["momentum"].min() == pytest.approx(0.0056, rel=0.01)
    assert settles["momentum"].max() == pytest.approx(1.6, rel=0.01)
    near = int(np.argmin(np.abs(np.log(lrs / 0.1))))
    assert (momentum.settled_at[near], sgd.settled_at[near]) == (61, 325)


def test_basins_himmelblau_every_sentence() -> None:

    p = presets.get("basins_himmelblau")
    b = maps.basins(p.landscape, _runs(p), 128, p.steps)  # the panel's default resolution
    assert b is not None
    assert len(b.minima) == 4 and all(m.best and abs(m.value) < 1e-12 for m in b.minima)
    sgd, momentum, adam = (m.label for m in b.maps)
    assert 0.25 <= (sgd != momentum).mean() <= 0.35  # "about 30 %"
    assert 0.05 <= (sgd != adam).mean() <= 0.09  # "about 7 %"


def test_basins_rastrigin_every_sentence() -> None:

    p = presets.get("basins_rastrigin")
    b = maps.basins(p.landscape, _runs(p), 128, p.steps)
    assert b is not None
    assert len(b.minima) == 121
    assert b.minima[0].best and np.hypot(b.minima[0].x, b.minima[0].y) < 1e-9
    assert sum(m.best for m in b.minima) == 1
    for basin in b.maps:
        reached = set(np.unique(basin.label[basin.label >= 0]).tolist())
        assert reached == set(range(121))  # every minimum, from some start
        assert 0 < (basin.label == 0).mean() < 0.01  # the global one from under 1 %


def test_map_lessons_open_the_maps_at_their_panel() -> None:
    for preset_id, panel in [
        ("stability_limit", None),
        ("basins_himmelblau", "basins"),
        ("basins_rastrigin", "basins"),
    ]:
        scene_fragment = presets.get(preset_id).scene()
        assert scene_fragment["stage"] == "maps"
        assert scene_fragment.get("panel") == panel
    assert "stage" not in presets.get("rosenbrock").scene()


# --- issue 14: the later optimizers' lessons -------------------------------------------


def test_adamw_every_sentence() -> None:
    runs = outcomes("adamw")
    sgd, adam, adamw = runs["sgd"], runs["adam"], runs["adamw"]
    assert {r.params["weight_decay"] for r in runs.values()} == {0.1}  # "λ = 0.1"
    assert (sgd.params["lr"], adam.params["lr"], adamw.params["lr"]) == (0.02, 0.1, 0.1)
    assert landscapes.get("booth").value(np.array([1.0, 3.0])) == 0.0  # "f = 0 at (1, 3)"
    # The minimum of f + (λ/2)|θ|²: Booth is quadratic, f = ½θᵀHθ − bᵀθ + c.
    hessian, b = np.array([[10.0, 8.0], [8.0, 10.0]]), np.array([34.0, 38.0])
    l2 = np.linalg.solve(hessian + 0.1 * np.eye(2), b)
    grad = landscapes.get("booth").grad(l2) + 0.1 * l2
    assert np.abs(grad).max() < 1e-9
    assert np.allclose(np.round(l2, 2), (1.04, 2.94))
    # SGD with λ: "where L2 leads", the minimum of f + (λ/2)|θ|²
    assert near(sgd, tuple(l2)) < 1e-6
    # Adam with weight_decay settles next to it by step 180
    assert adam.status.code == "settled_global" and adam.status.step <= 180
    assert near(adam, tuple(l2)) < 0.02
    # AdamW: after 500 steps at (1.34, 2.05), f ≈ 2.5, still creeping
    assert np.allclose(np.round(adamw.points[-1], 2), (1.34, 2.05), atol=0.011)
    assert 2.4 < adamw.final_loss < 2.6 and adamw.status.code == "moving"
    assert near(adamw, (0.0, 0.0)) < near(adam, (0.0, 0.0)) - 0.5  # "pulled towards the origin"


def test_amsgrad_every_sentence() -> None:
    runs = outcomes("amsgrad")
    adam, amsgrad = runs["adam"], runs["amsgrad"]
    assert adam.params["lr"] == amsgrad.params["lr"] == 0.05
    assert amsgrad.optimizer == "amsgrad" and len(adam.losses) == 5001
    loss = np.asarray(adam.losses)
    # Adam: f below 10⁻²⁰ by step 2,600, and below it for hundreds of steps
    assert int(np.argmax(loss < 1e-20)) <= 2600
    above = loss > 1e-6
    spikes = np.flatnonzero(above[1:] & ~above[:-1]) + 1
    spikes = spikes[spikes > 2600]
    assert 3300 <= spikes[0] <= 3500, spikes  # "from step 3,400 or so"
    assert loss[2600:3300].max() < 1e-20
    # "leaps from below 10⁻⁶ to about 0.2 within 15 steps"
    assert 0.15 < loss[spikes[0] : spikes[0] + 15].max() < 0.3
    assert len(spikes) >= 3  # "and again, twice more before step 5,000"
    # AMSGrad: after step 1,000 never more than 25 % above its best so far
    ams = np.asarray(amsgrad.losses)
    best = np.minimum.accumulate(ams)
    assert (ams[1000:] / best[1000:]).max() <= 1.25
    assert amsgrad.final_loss < 1e-15 and amsgrad.status.code == "settled_global"
    # "the steps grow from about 10⁻¹⁵ to 0.045, nearly η"
    lengths = np.hypot(*np.diff(adam.points, axis=0).T)
    assert np.median(lengths[2600:3300]) < 1e-13
    assert round(lengths[3300:].max(), 3) == 0.045


def test_lion_every_sentence() -> None:
    runs = outcomes("lion")
    adam, lion = runs["adam"], runs["lion"]
    assert adam.params["lr"] == lion.params["lr"] == 0.05
    points, eta = lion.points, 0.05
    steps = np.diff(points, axis=0)
    # every step moves x by exactly ±η and y by exactly ±η: η√2 = 0.071 long
    assert np.allclose(np.abs(steps), eta, rtol=0, atol=1e-12)
    assert round(eta * np.sqrt(2), 3) == 0.071
    # 40 diagonal steps down to the valley floor (y = 0), then ±η zig-zags along it
    assert int(np.argmax(points[:, 1] <= 1e-12)) == 40
    assert np.all(steps[:40, 1] < 0) and np.all(steps[:40, 0] > 0)
    flips = np.sign(steps[41:140, 1][1:]) != np.sign(steps[41:140, 1][:-1])
    assert flips.mean() > 0.3
    # x advances a steady η per step: reaches x = 0 at step 140
    assert int(np.argmax(points[:, 0] >= -1e-9)) == 140 and np.all(steps[:140, 0] > 0)
    # cannot brake: runs on to x = 3.1 (step 202); at step 300 back at x = −1.2
    assert round(points[:, 0].max(), 2) == 3.1 and int(np.argmax(points[:, 0])) == 202
    assert round(points[-1, 0], 2) == -1.2 and lion.status.code != "settled_global"
    # Adam: its first step as long as Lion's, then shorter and shorter; settles by step 250
    adam_steps = np.hypot(*np.diff(adam.points, axis=0).T)
    assert round(adam_steps[0], 3) == 0.071 and adam_steps[199] < 0.02
    assert adam.status.code == "settled_global" and adam.status.step <= 250


def with_seed(preset_id: str, seed: int) -> dict[str, scene.RunOutcome]:
    return outcomes(preset_id, seed=seed)


def test_population_rastrigin_every_sentence() -> None:
    runs = outcomes("population_rastrigin")
    sgd, adam, genetic = runs["sgd"], runs["adam"], runs["genetic"]
    assert tuple(presets.get("population_rastrigin").start) == (-2.2, 3.2)
    assert landscapes.get("rastrigin").default_start == (-2.2, 3.2)  # "from the start"
    assert sgd.params["lr"] == 0.004 and adam.params["lr"] == 0.1
    assert genetic.params == {"lr": 0.3, "population": 30, "spread": 2.0}
    # the gradient methods settle in the dip next to the start, near (−2, 3), f ≈ 12.9
    for run in (sgd, adam):
        assert run.status.code == "settled_local", run.optimizer
        assert near(run, (-2.0, 3.0)) < 0.05 and round(run.final_loss, 1) == 12.9
    # the population: in the global dip by generation 15, settled there by step 25,
    # f = 0.03 at step 300
    dip = np.all(np.abs(genetic.points) < 0.5, axis=1)
    assert int(np.argmax(dip)) <= 15 and dip[15:].all()
    assert genetic.status.code == "settled_global" and genetic.status.step <= 25
    assert round(genetic.final_loss, 2) == 0.03
    # the price: 8,730 values of f against 300 gradients
    assert genetic.evaluations == 8730 == 30 + 300 * 29
    assert sgd.evaluations == adam.evaluations == 300
    # the population draws its dots: one generation of 30 per point
    assert genetic.samples is not None and len(genetic.samples) == 301
    assert all(entry is not None and entry.shape == (30, 2) for entry in genetic.samples)
    # "for every seed from 0 to 9"
    for seed in range(10):
        other = with_seed("population_rastrigin", seed)["genetic"]
        assert other.status.code == "settled_global", seed
        assert near(other, (0.0, 0.0)) < 0.02 and other.final_loss < 0.05, seed


def test_gradients_rosenbrock_every_sentence() -> None:
    runs = outcomes("gradients_rosenbrock")
    momentum, annealing, genetic = runs["momentum"], runs["annealing"], runs["genetic"]
    assert landscapes.get("rosenbrock").default_start == (-1.2, 1.0)
    assert momentum.params == {"lr": 0.003, "momentum": 0.9, "dampening": 0.0, "weight_decay": 0.0}
    assert annealing.params == {"lr": 0.1, "temperature": 1.0, "cooling": 0.99}
    assert genetic.params["population"] == 20
    # Momentum swings across the valley floor y = x² again and again in its first 150
    # steps, each swing smaller, then runs along it
    points = momentum.points
    side = np.sign(points[:, 1] - points[:, 0] ** 2)
    crossings = np.flatnonzero(side[1:] != side[:-1])
    assert len(crossings) >= 50 and crossings[-1] < 155
    off = np.abs(points[:, 1] - points[:, 0] ** 2)
    assert off[:50].max() > 0.5 and off[50:100].max() < 0.1 and off[150:].max() < 0.01
    # Momentum: settled at (1, 1) after 500 gradients, f = 2.5 × 10⁻⁷, by step 241
    assert momentum.status.code == "settled_global" and momentum.status.step <= 241
    assert near(momentum, (1.0, 1.0)) < 0.01 and f"{momentum.final_loss:.1e}" == "2.5e-07"
    assert momentum.evaluations == 500
    # annealing: after 501 values of f, f ≈ 0.03
    assert annealing.evaluations == 501 and round(annealing.final_loss, 2) == 0.03
    # genetic: f ≈ 5 × 10⁻⁵ with 9,520 values of f, nineteen times the budget
    assert f"{genetic.final_loss:.0e}" == "5e-05" and genetic.evaluations == 9520
    assert genetic.evaluations == 19 * momentum.evaluations + 20
    # at step 25: 495 values of f, and f ≈ 0.72
    assert 20 + 25 * 19 == 495 and round(genetic.losses[25], 2) == 0.72
    # annealing's proposals: one per point, some rejected (the grey markers)
    assert annealing.samples is not None
    rejected = [
        not np.array_equal(entry[0], point)
        for entry, point in zip(annealing.samples, annealing.points, strict=True)
        if entry is not None and len(entry)
    ]
    assert 0.1 < np.mean(rejected) < 0.9
    # seeds 0 to 9: the order of the final f stays momentum < genetic < annealing
    for seed in range(10):
        other = with_seed("gradients_rosenbrock", seed)
        finals = [other[name].final_loss for name in ("momentum", "genetic", "annealing")]
        assert finals == sorted(finals), (seed, finals)
