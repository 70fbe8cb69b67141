"""Curated lecture scenes: each shows one lesson, with a paragraph in English and Japanese.

A preset's `scene` has the page state's shape (landscape, optimizers, params, steps,
start, noise, seed, schedule, mode), so the page applies it as is; `request()` turns it
into the body of POST /api/trajectories, which is how tests/app/test_presets.py checks
that every lesson really shows. Hyperparameters left out take the server's defaults.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

ALL_OPTIMIZERS: tuple[str, ...] = ("sgd", "momentum", "nag", "adagrad", "rmsprop", "adam")


@dataclass(frozen=True)
class Preset:
    """One lecture scenario; `title` and `text` map a language code to the sentence."""

    id: str
    title: dict[str, str]
    text: dict[str, str]
    landscape: str
    start: tuple[float, float]
    steps: int
    optimizers: tuple[str, ...]
    params: dict[str, dict[str, float]] = field(default_factory=dict)
    noise: float = 0.0
    seed: int = 0
    schedule: dict[str, Any] | None = None
    mode: str = "overlay"

    def scene(self) -> dict[str, Any]:
        """The page-state fragment this preset sets."""
        return {
            "landscape": self.landscape,
            "start": list(self.start),
            "steps": self.steps,
            "optimizers": list(self.optimizers),
            "params": {name: dict(values) for name, values in self.params.items()},
            "noise": self.noise,
            "seed": self.seed,
            "schedule": dict(self.schedule) if self.schedule else {"kind": "constant"},
            "mode": self.mode,
        }

    def request(self) -> dict[str, Any]:
        """The POST /api/trajectories body of this scene."""
        return {
            "landscape": self.landscape,
            "start": list(self.start),
            "steps": self.steps,
            "runs": [
                {"optimizer": name, "params": dict(self.params.get(name, {}))}
                for name in self.optimizers
            ],
            "noise": self.noise,
            "seed": self.seed,
            "schedule": dict(self.schedule) if self.schedule else None,
        }

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "text": self.text, "scene": self.scene()}


PRESETS: tuple[Preset, ...] = (
    Preset(
        id="saddle",
        title={"en": "Saddle point: SGD stalls", "ja": "鞍点：SGD は停滞する"},
        text={
            "en": (
                "f = x² − y² curves up along x and down along y, and the start lies almost "
                "exactly on the ridge line y ≈ 0 (y = 0.001). Plain SGD follows the gradient, "
                "which points almost straight at the saddle point: the path slides in along x "
                "and sits there for all 200 steps, because the tiny y-component of the "
                "gradient grows only by 2 % per step. Momentum accumulates that small push "
                "and rolls off after about 70 steps. RMSprop and Adam divide each coordinate "
                "by the size of its own recent gradients, so the tiny y-gradient still makes a "
                "full-sized step: they leave the saddle within about 20 steps."
            ),
            "ja": (
                "f = x² − y² は x 方向には上に、y 方向には下に曲がった鞍型の関数で、"
                "出発点は尾根 y ≈ 0 のほぼ真上（y = 0.001）にあります。素の SGD は勾配に"
                "従いますが、勾配はほぼまっすぐ鞍点を向いているので、経路は x 方向に"
                "鞍点へ滑り込み、200 ステップの間ずっとそこに留まります。y 方向の勾配は"
                "ごく小さく、1 ステップに 2 % ずつしか大きくならないからです。Momentum は"
                "この小さな押しを蓄積して約 70 ステップで転がり落ちます。RMSprop と Adam は"
                "座標ごとに最近の勾配の大きさで割るので、小さな y 方向の勾配でも一人前の"
                "一歩になり、約 20 ステップで鞍点を離れます。"
            ),
        },
        landscape="saddle",
        start=(-1.8, 0.001),
        steps=200,
        optimizers=("sgd", "momentum", "rmsprop", "adam"),
        params={
            "sgd": {"lr": 0.01},
            "momentum": {"lr": 0.01},
            "rmsprop": {"lr": 0.01},
            "adam": {"lr": 0.05},
        },
    ),
    Preset(
        id="rosenbrock",
        title={"en": "Rosenbrock's banana valley", "ja": "Rosenbrock 関数のバナナ型の谷"},
        text={
            "en": (
                "The Rosenbrock function has a long, curved, almost flat valley with the "
                "minimum at (1, 1). Finding the valley is easy; following it is hard. SGD "
                "with a learning rate small enough not to bounce off the steep walls (0.001) "
                "creeps along the floor and after 1000 steps is still far from (1, 1). "
                "Momentum, with the same learning rate, builds up speed along the valley and "
                "Adam's per-coordinate step sizes let it turn the corner: both end next to "
                "the minimum."
            ),
            "ja": (
                "Rosenbrock 関数には、長く曲がったほぼ平らな谷があり、最小値は (1, 1) "
                "にあります。谷に入るのは簡単ですが、谷に沿って進むのが難しいのです。"
                "急な谷の壁で跳ね返らないほど小さな学習率（0.001）の SGD は谷底をゆっくり"
                "這うだけで、1000 ステップ後も (1, 1) から遠いままです。同じ学習率の"
                "Momentum は谷に沿って速度を蓄え、Adam は座標ごとの歩幅のおかげで谷の"
                "曲がり角を曲がり、どちらも最小値のすぐそばまで到達します。"
            ),
        },
        landscape="rosenbrock",
        start=(-1.5, 2.0),
        steps=1000,
        optimizers=("sgd", "momentum", "adam"),
        params={"sgd": {"lr": 0.001}, "momentum": {"lr": 0.001}, "adam": {"lr": 0.05}},
    ),
    Preset(
        id="rastrigin",
        title={"en": "Rastrigin: trapped in local minima", "ja": "Rastrigin：局所解のわな"},
        text={
            "en": (
                "Rastrigin's function is a bowl covered in regularly spaced bumps: dozens "
                "of local minima surround the global one at (0, 0). Gradient methods only "
                "see the local slope, so almost every path drops into the nearest dip, near "
                "(4, −3), and stays there. Momentum with μ = 0.95 carries enough speed to "
                "roll over several ridges, but it too comes to rest in a local minimum, "
                "near (−1, 1). None of these methods is a global optimizer; on such surfaces "
                "the start point matters more than the choice of method."
            ),
            "ja": (
                "Rastrigin 関数はお椀の表面に規則正しいこぶが並んだ形で、(0, 0) の"
                "大域的最小値の周りに多数の局所最小値があります。勾配法は足元の傾き"
                "しか見ないので、ほとんどの経路は最寄りのくぼみ（(4, −3) 付近）に落ちて"
                "そこから出られません。μ = 0.95 の Momentum はいくつかの尾根を越えるだけ"
                "の勢いを持ちますが、やはり局所最小値（(−1, 1) 付近）で止まります。"
                "どの手法も大域的最適化法ではなく、このような関数では手法の選択よりも"
                "出発点のほうが重要です。"
            ),
        },
        landscape="rastrigin",
        start=(4.5, -3.5),
        steps=300,
        optimizers=ALL_OPTIMIZERS,
        params={
            "sgd": {"lr": 0.002},
            "momentum": {"lr": 0.004, "momentum": 0.95},
            "nag": {"lr": 0.002},
            "adagrad": {"lr": 0.5},
            "rmsprop": {"lr": 0.05},
            "adam": {"lr": 0.1},
        },
    ),
    Preset(
        id="ill_conditioned",
        title={
            "en": "Ill-conditioned bowl: momentum helps",
            "ja": "細長いお椀：Momentum が効く",
        },
        text={
            "en": (
                "The textbook figure: f = x²/20 + y², started from (−7, 2). The bowl is "
                "twenty times steeper in y than in x, so the gradient points mostly across "
                "the valley instead of towards the minimum. With learning rate 0.1, SGD "
                "quickly settles on the valley floor and then crawls along x: after 60 steps "
                "it is still at x ≈ −3.8. Momentum, with the same learning rate, keeps adding "
                "up the steady pull along x, swings through the minimum and settles there. "
                "AdaGrad (lr 1.5) and Adam (lr 0.3), the textbook's settings, rescale each "
                "axis and head almost straight for it. (The textbook's SGD uses lr 0.95: "
                "try it to see the violent zig-zag across the valley.)"
            ),
            "ja": (
                "教科書の図の再現です：f = x²/20 + y² を (−7, 2) から出発します。"
                "このお椀は y 方向が x 方向の 20 倍急なので、勾配は最小値の方向ではなく"
                "主に谷を横切る方向を向きます。学習率 0.1 の SGD はすぐ谷底に落ち着きますが、"
                "その後は x 方向にゆっくり這うだけで、60 ステップ後も x ≈ −3.8 にいます。"
                "同じ学習率の Momentum は x 方向への一定の引力を積み重ね、最小値を通り"
                "過ぎてから戻って落ち着きます。教科書と同じ設定の AdaGrad（lr 1.5）と"
                "Adam（lr 0.3）は軸ごとに尺度を調整し、ほぼまっすぐ最小値へ向かいます。"
                "（教科書の SGD は lr 0.95 です。試すと谷を横切る激しいジグザグが見えます。）"
            ),
        },
        landscape="ill_conditioned",
        start=(-7.0, 2.0),
        steps=60,
        optimizers=("sgd", "momentum", "adagrad", "adam"),
        params={
            "sgd": {"lr": 0.1},
            "momentum": {"lr": 0.1, "momentum": 0.9},
            "adagrad": {"lr": 1.5},
            "adam": {"lr": 0.3},
        },
    ),
    Preset(
        id="divergence",
        title={"en": "Too-large learning rate: divergence", "ja": "大きすぎる学習率：発散"},
        text={
            "en": (
                "On the bowl f = x²/20 + y², plain gradient descent is stable only while the "
                "learning rate stays below 2 divided by the steepest curvature (2/2 = 1); "
                "with momentum μ = 0.9 the limit is 2(1 + μ)/2 = 1.9. Above it, every step "
                "overshoots the valley floor by more than the last: SGD (lr 1.2) and "
                "Momentum (lr 2.0) bounce further and further out and diverge — the status "
                "table gives the step. Adam's step is bounded by its learning rate whatever "
                "the gradient, so even with lr 2.0 it rattles around and then settles "
                "instead of exploding."
            ),
            "ja": (
                "お椀 f = x²/20 + y² の上で素の勾配降下法が安定なのは、学習率が 2 ÷ 最大の"
                "曲率（2/2 = 1）より小さいときだけです。慣性 μ = 0.9 の Momentum では限界は "
                "2(1 + μ)/2 = 1.9 です。それを超えると、一歩ごとに谷底を前回より大きく飛び"
                "越えます。SGD（lr 1.2）と Momentum（lr 2.0）はどんどん外へ跳ね返って発散し、"
                "状態表にそのステップが表示されます。Adam の一歩は勾配の大きさに関係なく"
                "学習率で抑えられるので、lr 2.0 でもしばらく揺れたあと落ち着き、爆発"
                "しません。"
            ),
        },
        landscape="ill_conditioned",
        start=(-7.0, 2.0),
        steps=100,
        optimizers=("sgd", "momentum", "adam"),
        params={"sgd": {"lr": 1.2}, "momentum": {"lr": 2.0}, "adam": {"lr": 2.0}},
    ),
    Preset(
        id="warmup",
        title={"en": "Warmup then cosine decay", "ja": "ウォームアップとコサイン減衰"},
        text={
            "en": (
                "A learning-rate schedule multiplies every optimizer's base rate by the same "
                "factor over time. Here the factor grows linearly from 1/20 during the first "
                "20 updates (warmup), so the first, large gradients move the points only a "
                "little — SGD's first step is 0.2 long instead of almost 4 — and then decays "
                "along a cosine to zero, so the paths that bounce across the valley in the "
                "middle of the run calm down and settle into the minimum at the end. Watch "
                "the spacing between the points: short, long, then short again."
            ),
            "ja": (
                "学習率スケジュールは、すべての最適化手法の基本学習率に時間とともに"
                "同じ係数を掛けます。ここでは最初の 20 回の更新で係数を 1/20 から線形に"
                "増やし（ウォームアップ）、最初の大きな勾配でも点が少ししか動かないように"
                "します（SGD の最初の一歩は 4 近くではなく 0.2）。その後はコサインに沿って "
                "0 まで減衰させるので、途中で谷を行き来していた経路も最後には落ち着いて"
                "最小値に収まります。点と点の間隔に注目してください：短く、長く、そして"
                "再び短くなります。"
            ),
        },
        landscape="ill_conditioned",
        start=(-7.0, 2.0),
        steps=120,
        optimizers=("sgd", "momentum", "adam"),
        params={"sgd": {"lr": 0.95}, "momentum": {"lr": 0.2}, "adam": {"lr": 0.8}},
        schedule={"kind": "cosine", "warmup": 20, "min_factor": 0.0},
    ),
    Preset(
        id="noise",
        title={
            "en": "Noisy gradients (mini-batch SGD)",
            "ja": "ノイズのある勾配（ミニバッチ SGD）",
        },
        text={
            "en": (
                "Mini-batch training never sees the true gradient, only a noisy estimate. "
                "Here every gradient gets Gaussian noise (σ = 3) added — the same noise for "
                "every optimizer, so differences come from the update rules alone. Far from "
                "the minimum the true gradient dominates and the paths head in as usual; "
                "close to it the noise dominates, and the paths keep jittering around the "
                "minimum instead of converging: the loss curves flatten into a noisy floor. "
                "The floor scales with the step size — halve SGD's learning rate and its "
                "floor halves, at the price of a slower approach. Change the seed for "
                "another noise sample."
            ),
            "ja": (
                "ミニバッチ学習では真の勾配は見えず、ノイズを含む推定値しか得られません。"
                "ここではすべての勾配にガウスノイズ（σ = 3）を加えています。どの手法にも"
                "同じノイズなので、違いは更新則だけから生じます。最小値から遠いところでは"
                "真の勾配が支配的で経路はいつも通り近づきますが、近くではノイズが支配的に"
                "なり、経路は収束せずに最小値のまわりで揺れ続けます。損失の曲線はノイズの"
                "ある「床」で平らになります。床の高さは歩幅に比例し、SGD の学習率を半分に"
                "すると床も半分になりますが、近づくのは遅くなります。シードを変えると別の"
                "ノイズで試せます。"
            ),
        },
        landscape="booth",
        start=(-8.0, -6.0),
        steps=300,
        optimizers=("sgd", "momentum", "adam"),
        params={"sgd": {"lr": 0.02}, "momentum": {"lr": 0.002}, "adam": {"lr": 0.3}},
        noise=3.0,
        seed=1,
    ),
)


def get(preset_id: str) -> Preset:
    """The preset of that id; ValueError lists the valid ids."""
    for preset in PRESETS:
        if preset.id == preset_id:
            return preset
    valid = ", ".join(p.id for p in PRESETS)
    raise ValueError(f"unknown preset {preset_id!r}; valid presets: {valid}")
