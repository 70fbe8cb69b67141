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
                "exactly on the ridge line y ≈ 0. Plain SGD follows the gradient, which "
                "points straight at the saddle point: the path slides in along x and then "
                "sits there, because the tiny y-component of the gradient grows only "
                "geometrically. Adaptive methods (RMSprop, Adam) divide each coordinate by "
                "the size of its own recent gradients, so the tiny y-gradient still produces "
                "a full-sized step and they roll off the saddle long before SGD does."
            ),
            "ja": (
                "f = x² − y² は x 方向には上に、y 方向には下に曲がった鞍型の関数で、"
                "出発点は尾根 y ≈ 0 のほぼ真上にあります。素の SGD は勾配に従うため、"
                "x 方向に鞍点へ滑り込み、そこで止まってしまいます。y 方向の勾配が"
                "ごく小さく、指数的にしか大きくならないからです。RMSprop や Adam の"
                "ような適応的手法は座標ごとに最近の勾配の大きさで割るので、小さな "
                "y 方向の勾配でも一人前の大きさの一歩になり、SGD よりずっと早く"
                "鞍点から転がり落ちます。"
            ),
        },
        landscape="saddle",
        start=(-1.8, 1e-4),
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
                "with a learning rate small enough not to bounce off the steep walls creeps "
                "along the floor and is still far from (1, 1) at the end. Momentum builds "
                "up speed along the valley, and Adam's per-coordinate step sizes let it "
                "turn the corner and reach the minimum."
            ),
            "ja": (
                "Rosenbrock 関数には、長く曲がったほぼ平らな谷があり、最小値は (1, 1) "
                "にあります。谷に入るのは簡単ですが、谷に沿って進むのが難しいのです。"
                "急な谷の壁で跳ね返らないほど小さな学習率の SGD は谷底をゆっくり這う"
                "だけで、最後まで (1, 1) から遠いままです。Momentum は谷に沿って速度を"
                "蓄え、Adam は座標ごとの歩幅のおかげで谷の曲がり角を曲がって最小値に"
                "たどり着きます。"
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
                "see the local slope, so most paths drop into the nearest dip and stay "
                "there. Momentum can carry a path over a few ridges before it settles, but "
                "none of these methods is a global optimizer; on such surfaces the start "
                "point matters more than the choice of method."
            ),
            "ja": (
                "Rastrigin 関数はお椀の表面に規則正しいこぶが並んだ形で、(0, 0) の"
                "大域的最小値の周りに多数の局所最小値があります。勾配法は足元の傾き"
                "しか見ないので、ほとんどの経路は最寄りのくぼみに落ちてそこから出られ"
                "ません。Momentum はいくつかの尾根を越えてから落ち着くこともありますが、"
                "どの手法も大域的最適化法ではありません。このような関数では手法の選択"
                "よりも出発点のほうが重要です。"
            ),
        },
        landscape="rastrigin",
        start=(3.2, 2.8),
        steps=300,
        optimizers=ALL_OPTIMIZERS,
        params={
            "sgd": {"lr": 0.002},
            "momentum": {"lr": 0.002},
            "nag": {"lr": 0.002},
            "adagrad": {"lr": 0.5},
            "rmsprop": {"lr": 0.01},
            "adam": {"lr": 0.05},
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
                "the valley instead of towards the minimum. SGD zig-zags from wall to wall "
                "and makes slow progress along x. Momentum averages successive gradients: "
                "the zig-zags cancel, the steady pull along x accumulates, and it rolls to "
                "the minimum. AdaGrad and Adam rescale each axis and head almost straight "
                "for it."
            ),
            "ja": (
                "教科書の図の再現です：f = x²/20 + y² を (−7, 2) から出発します。"
                "このお椀は y 方向が x 方向の 20 倍急なので、勾配は最小値の方向ではなく"
                "主に谷を横切る方向を向きます。SGD は谷の壁から壁へジグザグに動き、"
                "x 方向にはなかなか進みません。Momentum は勾配を積み重ねて平均するので、"
                "ジグザグは打ち消し合い、x 方向への一定の引力だけが蓄積されて最小値へ"
                "転がっていきます。AdaGrad と Adam は軸ごとに尺度を調整し、ほぼまっすぐ"
                "最小値へ向かいます。"
            ),
        },
        landscape="ill_conditioned",
        start=(-7.0, 2.0),
        steps=30,
        optimizers=("sgd", "momentum", "adagrad", "adam"),
        params={
            "sgd": {"lr": 0.95},
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
                "On the bowl f = x²/20 + y², gradient descent is stable only while the "
                "learning rate stays below 2 divided by the steepest curvature (here 2/2 = "
                "1). Above that, every step overshoots the valley floor by more than the "
                "last: SGD and Momentum bounce further and further out and diverge — the "
                "status table reports the step. Adam's step is bounded by its learning "
                "rate whatever the gradient, so with the same kind of setting it rattles "
                "around the minimum instead of exploding."
            ),
            "ja": (
                "お椀 f = x²/20 + y² の上で勾配降下法が安定なのは、学習率が 2 ÷ 最大の"
                "曲率（ここでは 2/2 = 1）より小さいときだけです。それを超えると、"
                "一歩ごとに谷底を前回より大きく飛び越えます。SGD と Momentum はどんどん"
                "外へ跳ね返って発散し、状態表にそのステップが表示されます。Adam の一歩は"
                "勾配の大きさに関係なく学習率で抑えられるので、同じような設定でも爆発"
                "せず、最小値のまわりで揺れ続けます。"
            ),
        },
        landscape="ill_conditioned",
        start=(-7.0, 2.0),
        steps=100,
        optimizers=("sgd", "momentum", "adam"),
        params={"sgd": {"lr": 1.2}, "momentum": {"lr": 0.6}, "adam": {"lr": 1.5}},
    ),
    Preset(
        id="warmup",
        title={"en": "Warmup then cosine decay", "ja": "ウォームアップとコサイン減衰"},
        text={
            "en": (
                "A learning-rate schedule multiplies every optimizer's base rate by the same "
                "factor over time. Here it grows linearly from almost zero during the first "
                "20 updates (warmup), so the first, large gradients cannot throw the paths "
                "far away, and then decays along a cosine to zero, so the paths that "
                "bounce across the valley in the middle of the run calm down and settle "
                "into the minimum at the end. Watch the spacing between the points: short, "
                "long, then short again."
            ),
            "ja": (
                "学習率スケジュールは、すべての最適化手法の基本学習率に時間とともに"
                "同じ係数を掛けます。ここでは最初の 20 回の更新で係数をほぼ 0 から線形に"
                "増やし（ウォームアップ）、最初の大きな勾配で経路が遠くへ飛ばされない"
                "ようにします。その後はコサインに沿って 0 まで減衰させるので、途中で谷を"
                "行き来していた経路も最後には落ち着いて最小値に収まります。点と点の"
                "間隔に注目してください：短く、長く、そして再び短くなります。"
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
                "Here every gradient gets Gaussian noise added (the same noise for every "
                "optimizer, so differences come from the update rules alone). Far from the "
                "minimum the true gradient dominates and the paths look as usual; close to "
                "it the noise dominates and the paths wander around the minimum instead of "
                "converging. Momentum averages the noise over several steps and wanders "
                "less; a decaying learning rate would calm all of them down."
            ),
            "ja": (
                "ミニバッチ学習では真の勾配は見えず、ノイズを含む推定値しか得られません。"
                "ここではすべての勾配にガウスノイズを加えています（どの手法にも同じ"
                "ノイズなので、違いは更新則だけから生じます）。最小値から遠いところでは"
                "真の勾配が支配的で経路はいつも通りですが、近くではノイズが支配的になり、"
                "経路は収束せずに最小値のまわりをさまよいます。Momentum は数ステップに"
                "わたってノイズを平均するので揺れが小さく、学習率を減衰させればどの"
                "手法も落ち着きます。"
            ),
        },
        landscape="booth",
        start=(-8.0, -6.0),
        steps=300,
        optimizers=("sgd", "momentum", "adam"),
        params={"sgd": {"lr": 0.02}, "momentum": {"lr": 0.005}, "adam": {"lr": 0.3}},
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
