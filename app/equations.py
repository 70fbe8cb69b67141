"""Each optimizer's update rule typeset as MathML, for the page's equation panel.

Two parts per optimizer. ``lecture``: one ``<math>`` per line of the docstring's
``Lecture notes::`` block, the same symbols in the same order (tests/app/test_equations.py
holds them to the docstrings). ``terms``: the arithmetic of one update, term by term, as
MathML with ``{slot}`` placeholders the page fills with the recorded numbers of the step
under the cursor (static/js/inside.js): ``{g}`` a vector, ``{lr}`` a number, and so on.
The terms follow PyTorch's form, because those are the buffers the API records
(``momentum_buffer``, ``exp_avg``, …); where the lecture's form differs (the velocity v of
Momentum) a term says how the two meet.

MathML Core only (mi, mn, mo, mrow, msub, msup, mfrac, msqrt, mover, mspace): Chromium
draws it natively, so the page needs no script, font or CDN for it.
"""

from __future__ import annotations

from dataclasses import dataclass

MATHML_NS = "http://www.w3.org/1998/Math/MathML"


# ------------------------------------------------------------------ a few builders
def mi(symbol: str) -> str:
    return f"<mi>{symbol}</mi>"


def mo(symbol: str) -> str:
    return f"<mo>{symbol}</mo>"


def mn(number: str) -> str:
    return f"<mn>{number}</mn>"


def row(*parts: str) -> str:
    return f"<mrow>{''.join(parts)}</mrow>"


def sub(base: str, index: str) -> str:
    return f"<msub>{base}{index}</msub>"


def sup(base: str, power: str) -> str:
    # β₁ᵗ: the power sits over the index (msubsup), not after it
    if base.startswith("<msub>"):
        return "<msubsup>" + base[len("<msub>") : -len("</msub>")] + power + "</msubsup>"
    return f"<msup>{base}{power}</msup>"


def frac(top: str, bottom: str) -> str:
    return f"<mfrac>{row(top)}{row(bottom)}</mfrac>"


def sqrt(inner: str) -> str:
    return f"<msqrt>{inner}</msqrt>"


def hat(base: str) -> str:
    # U+02C6 (modifier circumflex): "^" is drawn as a caret floating above the letter
    return f'<mover accent="true">{base}<mo>ˆ</mo></mover>'


def paren(*parts: str) -> str:
    return row(mo("("), *parts, mo(")"))


def math(*parts: str) -> str:
    return f'<math xmlns="{MATHML_NS}" display="block">{"".join(parts)}</math>'


def eqs(*parts: str) -> str:
    """A chain a = b = c as inline <math> pieces ("a", "= b", "= c"), so a narrow panel
    wraps it between pieces, like words, instead of cutting it off."""
    pieces: list[list[str]] = [[]]
    separate = [False]  # a piece after a GAP starts a new equation: more space before it
    numbers = False  # past the symbolic form: sums of numbers may break before + and −
    for part in parts:
        if part == GAP:
            pieces.append([])
            separate.append(True)
            numbers = False
            continue
        binary = numbers and part in (PLUS, MINUS) and len(pieces[-1]) > 1
        if (part == EQ and pieces[-1]) or binary:
            pieces.append([])
            separate.append(False)
        if part == EQ and any(p.startswith("{") for p in parts):
            numbers = numbers or len(pieces) > 1
        pieces[-1].append(part)
    opening = f'<math xmlns="{MATHML_NS}" display="inline"'
    return "".join(
        opening + (' class="sep">' if sep else ">") + "".join(piece) + "</math>"
        for piece, sep in zip(pieces, separate, strict=True)
    )


GAP = '<mspace width="1.2em"></mspace>'
THETA, ETA, MU, EPS, G = mi("θ"), mi("η"), mi("μ"), mi("ε"), mi("g")
ALPHA, TAU, LAMBDA = mi("α"), mi("τ"), mi("λ")
B1, B2 = sub(mi("β"), mn("1")), sub(mi("β"), mn("2"))
ONE, ARROW, EQ, MINUS, PLUS = mn("1"), mo("←"), mo("="), mo("−"), mo("+")
DOT, HAD, TIMES = mo("·"), mo("⊙"), mo("·")
SQ = row(G, HAD, G)  # g ⊙ g


def slot(name: str) -> str:
    """Where the page puts a number of the step (a scalar or an (x, y) vector)."""
    return "{" + name + "}"


@dataclass(frozen=True)
class Term:
    """One line of an update's arithmetic: ``key`` names it (the page picks the terms that
    apply, say the first update's b ← g), ``mathml`` is a ``<math>`` with ``{slot}``s."""

    key: str
    mathml: str


@dataclass(frozen=True)
class Equations:
    lecture: tuple[str, ...]
    terms: tuple[Term, ...]


def _grad_term() -> Term:
    # The gradient as the optimizer saw it: noise and weight decay (λθ) included.
    return Term("g", eqs(sub(G, mi("t")), EQ, slot("g")))


def _theta_next(*update: str, start: str = "theta", key: str = "theta") -> Term:
    """θₜ₊₁ = θₜ … = value: the step actually taken, from the recorded points. ``start``
    names the slot the step starts from: "decayed" after a decoupled weight decay."""
    return Term(
        key,
        eqs(
            sub(THETA, row(mi("t"), PLUS, ONE)),
            EQ,
            slot(start),
            *update,
            EQ,
            slot("theta_next"),
        ),
    )


def _step_term() -> Term:
    return Term("step", eqs(mi("Δ"), THETA, EQ, slot("step")))


_SGD = Equations(
    lecture=(math(THETA, ARROW, THETA, MINUS, ETA, mi("∇"), mi("f"), paren(THETA)),),
    terms=(
        _grad_term(),
        Term("lr", eqs(sub(ETA, mi("t")), EQ, slot("lr"))),
        _theta_next(MINUS, slot("lr"), DOT, slot("g")),
        _step_term(),
    ),
)

_BUFFER_FIRST = Term("b_first", eqs(mi("b"), ARROW, G, EQ, slot("b")))


def _buffer_terms(dampened: bool) -> tuple[Term, ...]:
    """gₜ, ηₜ and the buffer: b ← g first, then b ← μb + (1 − τ)g (Momentum) or
    b ← μb + g (NAG, whose τ is 0)."""
    factor = (paren(ONE, MINUS, TAU),) if dampened else ()
    keep = (slot("keep"), DOT) if dampened else ()
    buffer = eqs(
        *(mi("b"), ARROW, MU, mi("b"), PLUS, *factor, G),
        *(EQ, slot("mu"), DOT, slot("b_prev"), PLUS, *keep, slot("g"), EQ, slot("b")),
    )
    return (
        _grad_term(),
        Term("lr", eqs(sub(ETA, mi("t")), EQ, slot("lr"))),
        _BUFFER_FIRST,
        Term("b", buffer),
    )


_MOMENTUM = Equations(
    lecture=(
        math(mi("v"), ARROW, MU, mi("v"), MINUS, ETA, G),
        math(THETA, ARROW, THETA, PLUS, mi("v")),
    ),
    terms=(
        *_buffer_terms(dampened=True),
        Term(
            "v",
            eqs(
                mi("v"),
                EQ,
                MINUS,
                ETA,
                mi("b"),
                EQ,
                MINUS,
                slot("lr"),
                DOT,
                slot("b"),
                EQ,
                slot("v"),
            ),
        ),
        _theta_next(PLUS, slot("v")),
        Term(
            "sgd",
            eqs(
                sub(THETA, row(mi("t"), PLUS, ONE)),
                EQ,
                slot("theta"),
                MINUS,
                slot("lr"),
                DOT,
                slot("g"),
                EQ,
                slot("theta_next"),
            ),
        ),
        _step_term(),
    ),
)

_NAG = Equations(
    lecture=(
        math(
            mi("v"),
            ARROW,
            MU,
            mi("v"),
            MINUS,
            ETA,
            mi("∇"),
            mi("f"),
            paren(THETA, PLUS, MU, mi("v")),
        ),
        math(THETA, ARROW, THETA, PLUS, mi("v")),
    ),
    terms=(
        *_buffer_terms(dampened=False),
        _theta_next(MINUS, slot("lr"), DOT, paren(slot("g"), PLUS, slot("mu"), DOT, slot("b"))),
        _step_term(),
    ),
)

_ADAGRAD = Equations(
    lecture=(
        math(mi("h"), ARROW, mi("h"), PLUS, SQ),
        math(THETA, ARROW, THETA, MINUS, ETA, frac(G, row(sqrt(mi("h")), PLUS, EPS))),
    ),
    terms=(
        _grad_term(),
        Term(
            "h",
            eqs(
                mi("h"),
                ARROW,
                mi("h"),
                PLUS,
                SQ,
                EQ,
                slot("h_prev"),
                PLUS,
                slot("g2"),
                EQ,
                slot("h"),
            ),
        ),
        Term(
            "lr",
            eqs(
                sub(ETA, mi("t")),
                EQ,
                frac(ETA, row(ONE, PLUS, paren(mi("t"), MINUS, ONE), DOT, mi("lr_decay"))),
                EQ,
                slot("lr"),
                GAP,
                mi("t"),
                EQ,
                slot("t"),
            ),
        ),
        Term(
            "eff",
            eqs(
                frac(sub(ETA, mi("t")), row(sqrt(mi("h")), PLUS, EPS)),
                EQ,
                slot("eff"),
            ),
        ),
        _theta_next(MINUS, slot("eff"), HAD, slot("g")),
        _step_term(),
    ),
)

_RMSPROP = Equations(
    lecture=(
        math(mi("h"), ARROW, ALPHA, mi("h"), PLUS, paren(ONE, MINUS, ALPHA), SQ),
        math(THETA, ARROW, THETA, MINUS, ETA, frac(G, row(sqrt(mi("h")), PLUS, EPS))),
    ),
    terms=(
        _grad_term(),
        Term(
            "h",
            eqs(
                mi("h"),
                ARROW,
                ALPHA,
                mi("h"),
                PLUS,
                paren(ONE, MINUS, ALPHA),
                SQ,
                EQ,
                slot("alpha"),
                DOT,
                slot("h_prev"),
                PLUS,
                slot("keep"),
                DOT,
                slot("g2"),
                EQ,
                slot("h"),
            ),
        ),
        Term(
            "eff",
            eqs(frac(sub(ETA, mi("t")), row(sqrt(mi("h")), PLUS, EPS)), EQ, slot("eff")),
        ),
        _theta_next(MINUS, slot("eff"), HAD, slot("g")),
        Term(
            "b",
            eqs(
                mi("b"),
                ARROW,
                MU,
                mi("b"),
                PLUS,
                frac(G, row(sqrt(mi("h")), PLUS, EPS)),
                EQ,
                slot("mu"),
                DOT,
                slot("b_prev"),
                PLUS,
                slot("scaled"),
                EQ,
                slot("b"),
            ),
        ),
        Term(
            "theta_b",
            eqs(
                sub(THETA, row(mi("t"), PLUS, ONE)),
                EQ,
                slot("theta"),
                MINUS,
                slot("lr"),
                DOT,
                slot("b"),
                EQ,
                slot("theta_next"),
            ),
        ),
        _step_term(),
    ),
)

_ADAM = Equations(
    lecture=(
        math(mi("m"), ARROW, B1, mi("m"), PLUS, paren(ONE, MINUS, B1), G),
        math(mi("v"), ARROW, B2, mi("v"), PLUS, paren(ONE, MINUS, B2), SQ),
        math(
            hat(mi("m")),
            EQ,
            frac(mi("m"), row(ONE, MINUS, sup(B1, mi("t")))),
            mo(","),
            GAP,
            hat(mi("v")),
            EQ,
            frac(mi("v"), row(ONE, MINUS, sup(B2, mi("t")))),
        ),
        math(
            THETA, ARROW, THETA, MINUS, ETA, frac(hat(mi("m")), row(sqrt(hat(mi("v"))), PLUS, EPS))
        ),
    ),
    terms=(
        _grad_term(),
        Term(
            "m",
            eqs(
                mi("m"),
                ARROW,
                B1,
                mi("m"),
                PLUS,
                paren(ONE, MINUS, B1),
                G,
                EQ,
                slot("beta1"),
                DOT,
                slot("m_prev"),
                PLUS,
                slot("keep1"),
                DOT,
                slot("g"),
                EQ,
                slot("m"),
            ),
        ),
        Term(
            "v",
            eqs(
                mi("v"),
                ARROW,
                B2,
                mi("v"),
                PLUS,
                paren(ONE, MINUS, B2),
                SQ,
                EQ,
                slot("beta2"),
                DOT,
                slot("v_prev"),
                PLUS,
                slot("keep2"),
                DOT,
                slot("g2"),
                EQ,
                slot("v"),
            ),
        ),
        Term(
            "bias",
            eqs(
                ONE,
                MINUS,
                sup(B1, mi("t")),
                EQ,
                slot("bc1"),
                mo(","),
                GAP,
                ONE,
                MINUS,
                sup(B2, mi("t")),
                EQ,
                slot("bc2"),
                GAP,
                mi("t"),
                EQ,
                slot("t"),
            ),
        ),
        Term(
            "hat",
            eqs(
                hat(mi("m")),
                EQ,
                slot("mhat"),
                mo(","),
                GAP,
                hat(mi("v")),
                EQ,
                slot("vhat"),
            ),
        ),
        Term(
            "eff",
            eqs(
                frac(sub(ETA, mi("t")), row(sqrt(hat(mi("v"))), PLUS, EPS)),
                EQ,
                slot("eff_hat"),
            ),
        ),
        _theta_next(MINUS, slot("eff_hat"), HAD, slot("mhat")),
        _step_term(),
    ),
)

EQUATIONS: dict[str, Equations] = {
    "sgd": _SGD,
    "momentum": _MOMENTUM,
    "nag": _NAG,
    "adagrad": _ADAGRAD,
    "rmsprop": _RMSPROP,
    "adam": _ADAM,
}


# ------------------------------------------------ optax's Lion, LARS, LAMB (not torch)
NORM = mo("‖")
WD = slot("wd")


def norm(inner: str) -> str:
    return row(NORM, inner, NORM)


def _decayed(*update: str) -> tuple[str, ...]:
    """``… + λθ`` in numbers, for the terms that apply only with weight decay."""
    return (*update, PLUS, WD, DOT, slot("theta"))


_LION = Equations(
    lecture=(
        math(mi("c"), EQ, B1, mi("m"), PLUS, paren(ONE, MINUS, B1), G),
        math(
            THETA,
            ARROW,
            THETA,
            MINUS,
            ETA,
            paren(mi("sign"), paren(mi("c")), PLUS, LAMBDA, THETA),
        ),
        math(mi("m"), ARROW, B2, mi("m"), PLUS, paren(ONE, MINUS, B2), G),
    ),
    terms=(
        _grad_term(),
        Term("lr", eqs(sub(ETA, mi("t")), EQ, slot("lr"))),
        Term(
            "c",
            eqs(
                *(mi("c"), EQ, B1, mi("m"), PLUS, paren(ONE, MINUS, B1), G),
                *(EQ, slot("beta1"), DOT, slot("m_prev"), PLUS, slot("keep1"), DOT, slot("g")),
                *(EQ, slot("c")),
            ),
        ),
        Term("sign", eqs(mi("sign"), paren(mi("c")), EQ, slot("sign"))),
        _theta_next(MINUS, slot("lr"), DOT, slot("sign")),
        Term(
            "theta_wd",
            eqs(
                sub(THETA, row(mi("t"), PLUS, ONE)),
                EQ,
                slot("theta"),
                MINUS,
                slot("lr"),
                DOT,
                paren(*_decayed(slot("sign"))),
                EQ,
                slot("theta_next"),
            ),
        ),
        Term(
            "m",
            eqs(
                *(mi("m"), ARROW, B2, mi("m"), PLUS, paren(ONE, MINUS, B2), G),
                *(EQ, slot("beta2"), DOT, slot("m_prev"), PLUS, slot("keep2"), DOT, slot("g")),
                *(EQ, slot("m")),
            ),
        ),
        _step_term(),
    ),
)


def _norm_terms() -> Term:
    return Term(
        "norms",
        eqs(norm(THETA), EQ, slot("pnorm"), mo(","), GAP, norm(mi("u")), EQ, slot("unorm")),
    )


# r = 1 where ‖θ‖ = 0 or ‖u‖ = 0: optax's trust ratio leaves such a step as it is
_RATIO_ONE = Term("ratio_one", eqs(mi("r"), EQ, ONE))

_LARS = Equations(
    lecture=(
        math(mi("u"), EQ, G, PLUS, LAMBDA, THETA),
        math(mi("r"), EQ, TAU, frac(norm(THETA), row(norm(mi("u")), PLUS, EPS))),
        math(mi("b"), ARROW, MU, mi("b"), MINUS, ETA, mi("r"), mi("u")),
        math(THETA, ARROW, THETA, PLUS, mi("b")),
    ),
    terms=(
        _grad_term(),
        Term("lr", eqs(sub(ETA, mi("t")), EQ, slot("lr"))),
        Term(
            "u", eqs(mi("u"), EQ, G, PLUS, LAMBDA, THETA, *_decayed(EQ, slot("g")), EQ, slot("u"))
        ),
        _norm_terms(),
        Term(
            "ratio",
            eqs(
                mi("r"),
                EQ,
                TAU,
                frac(norm(THETA), row(norm(mi("u")), PLUS, EPS)),
                EQ,
                slot("ratio"),
            ),
        ),
        _RATIO_ONE,
        Term(
            "b",
            eqs(
                *(mi("b"), ARROW, MU, mi("b"), MINUS, ETA, mi("r"), mi("u")),
                *(EQ, slot("mu"), DOT, slot("b_prev"), MINUS, slot("lr"), DOT, slot("ratio")),
                *(DOT, slot("u"), EQ, slot("b")),
            ),
        ),
        _theta_next(PLUS, slot("b")),
        _step_term(),
    ),
)

_ADAM_TERMS = {term.key: term for term in _ADAM.terms}

_LAMB = Equations(
    lecture=(
        *_ADAM.lecture[:3],
        math(
            mi("u"),
            EQ,
            frac(hat(mi("m")), row(sqrt(hat(mi("v"))), PLUS, EPS)),
            PLUS,
            LAMBDA,
            THETA,
        ),
        math(THETA, ARROW, THETA, MINUS, ETA, frac(norm(THETA), norm(mi("u"))), mi("u")),
    ),
    terms=(
        _grad_term(),
        Term("lr", eqs(sub(ETA, mi("t")), EQ, slot("lr"))),
        *(_ADAM_TERMS[key] for key in ("m", "v", "bias", "hat")),
        Term(
            "u",
            eqs(
                mi("u"),
                EQ,
                frac(hat(mi("m")), row(sqrt(hat(mi("v"))), PLUS, EPS)),
                EQ,
                slot("u"),
            ),
        ),
        Term(
            "u_wd",
            eqs(
                *(mi("u"), EQ, frac(hat(mi("m")), row(sqrt(hat(mi("v"))), PLUS, EPS))),
                *(PLUS, LAMBDA, THETA, *_decayed(EQ, slot("adam")), EQ, slot("u")),
            ),
        ),
        _norm_terms(),
        Term("ratio", eqs(mi("r"), EQ, frac(norm(THETA), norm(mi("u"))), EQ, slot("ratio"))),
        _RATIO_ONE,
        _theta_next(MINUS, slot("lr"), DOT, slot("ratio"), DOT, slot("u")),
        _step_term(),
    ),
)

EQUATIONS |= {"lion": _LION, "lars": _LARS, "lamb": _LAMB}


# ------------------------------------------ torch.optim's AdamW … Rprop (issue 14)
RHO, PSI, DELTA, M, V, U = mi("ρ"), mi("ψ"), mi("Δ"), mi("m"), mi("v"), mi("u")
T = mi("t")
MU_T, MU_NEXT = sub(MU, T), sub(MU, row(T, PLUS, ONE))
VMAX = sub(V, mi("max"))
ABS_G = row(mo("|"), G, mo("|"))
BAR_G = f'<mover accent="true">{G}<mo>¯</mo></mover>'  # ḡ, RMSprop's centred mean
COMMA = mo(",")


def text(words: str) -> str:
    return f"<mtext>{words}</mtext>"


def call(name: str, *args: str) -> str:
    """name(a, b, …) with commas between the arguments."""
    inner: list[str] = []
    for i, arg in enumerate(args):
        inner += [COMMA, arg] if i else [arg]
    return row(mi(name), paren(*inner))


def _product(last: str) -> str:
    """μ₁⋯μ_last, NAdam's product of the momentum coefficients."""
    return row(sub(MU, ONE), mo("⋯"), sub(MU, last))


def _adam_terms(*keys: str) -> tuple[Term, ...]:
    """Adam's terms by key (m, v, bias, hat, eff …): the same arithmetic in AdamW & co."""
    found = {term.key: term for term in _ADAM.terms}
    return tuple(found[key] for key in keys)


_LR_TERM = Term("lr", eqs(sub(ETA, T), EQ, slot("lr")))
_DECAY_TERM = Term(  # decoupled weight decay: θ shrinks before the step
    "decay",
    eqs(
        *(THETA, ARROW, THETA, MINUS, ETA, LAMBDA, THETA),
        *(EQ, slot("theta"), MINUS, slot("lr"), DOT, slot("wd"), DOT, slot("theta")),
        *(EQ, slot("decayed")),
    ),
)
_THETA_DECAYED = Term(  # θₜ₊₁ from the decayed θ (AdamW)
    "theta_decayed",
    eqs(
        sub(THETA, row(T, PLUS, ONE)),
        EQ,
        slot("decayed"),
        MINUS,
        slot("eff_hat"),
        HAD,
        slot("mhat"),
        EQ,
        slot("theta_next"),
    ),
)
#: NAdam's and RAdam's step from θₜ, or (decoupled_weight_decay = 1) from the decayed θ.
_STARTS = (("theta", "theta"), ("decayed", "theta_decayed"))
_HAT_M = math(hat(M), EQ, frac(M, row(ONE, MINUS, sup(B1, T))))
_M_LINE = math(M, ARROW, B1, M, PLUS, paren(ONE, MINUS, B1), G)
_V_LINE = math(V, ARROW, B2, V, PLUS, paren(ONE, MINUS, B2), SQ)

_ADAMW = Equations(
    lecture=(math(THETA, ARROW, THETA, MINUS, ETA, LAMBDA, THETA), *_ADAM.lecture),
    terms=(
        _grad_term(),
        _LR_TERM,
        _DECAY_TERM,
        *_adam_terms("m", "v", "bias", "hat", "eff"),
        _THETA_DECAYED,
        _step_term(),
    ),
)

_AMSGRAD = Equations(
    lecture=(
        _M_LINE,
        _V_LINE,
        math(VMAX, ARROW, call("max", VMAX, V)),
        math(
            hat(M),
            EQ,
            frac(M, row(ONE, MINUS, sup(B1, T))),
            COMMA,
            GAP,
            hat(V),
            EQ,
            frac(VMAX, row(ONE, MINUS, sup(B2, T))),
        ),
        _ADAM.lecture[3],
    ),
    terms=(
        *_adam_terms("g", "m", "v"),
        Term(
            "vmax",
            eqs(
                *(VMAX, ARROW, call("max", VMAX, V)),
                *(EQ, row(mi("max"), paren(slot("vmax_prev"), COMMA, slot("v")))),
                *(EQ, slot("vmax")),
            ),
        ),
        *_adam_terms("bias"),
        Term(
            "hat",
            eqs(
                *(hat(M), EQ, slot("mhat"), COMMA, GAP),
                *(hat(V), EQ, frac(VMAX, row(ONE, MINUS, sup(B2, T))), EQ, slot("vhat")),
            ),
        ),
        *_adam_terms("eff", "theta", "step"),
    ),
)

_NADAM = Equations(
    lecture=(
        math(
            MU_T,
            EQ,
            B1,
            paren(ONE, MINUS, mn("0.5"), DOT, sup(mn("0.96"), row(T, PSI))),
        ),
        _M_LINE,
        _V_LINE,
        math(hat(V), EQ, frac(V, row(ONE, MINUS, sup(B2, T)))),
        math(
            THETA,
            ARROW,
            THETA,
            MINUS,
            ETA,
            frac(
                row(
                    frac(row(paren(ONE, MINUS, MU_T), G), row(ONE, MINUS, _product(T))),
                    PLUS,
                    frac(row(MU_NEXT, M), row(ONE, MINUS, _product(row(T, PLUS, ONE)))),
                ),
                row(sqrt(hat(V)), PLUS, EPS),
            ),
        ),
    ),
    terms=(
        _grad_term(),
        _LR_TERM,
        Term(
            "mu",
            eqs(
                *(MU_T, EQ, slot("mu_t"), COMMA, GAP, MU_NEXT, EQ, slot("mu_next")),
                *(GAP, _product(T), EQ, slot("mu_product"), GAP, T, EQ, slot("t")),
            ),
        ),
        *_adam_terms("m", "v"),
        Term(
            "denom",
            eqs(
                *(sqrt(hat(V)), PLUS, EPS, EQ, sqrt(frac(V, row(ONE, MINUS, sup(B2, T))))),
                *(PLUS, EPS, EQ, slot("denom")),
            ),
        ),
        Term(
            "coef",
            eqs(
                *(frac(row(ETA, paren(ONE, MINUS, MU_T)), row(ONE, MINUS, _product(T)))),
                *(EQ, slot("c_g"), COMMA, GAP),
                frac(row(ETA, MU_NEXT), row(ONE, MINUS, _product(row(T, PLUS, ONE)))),
                *(EQ, slot("c_m")),
            ),
        ),
        *(
            _theta_next(
                MINUS,
                paren(slot("c_g"), DOT, slot("g"), PLUS, slot("c_m"), DOT, slot("m")),
                mo("/"),
                slot("denom"),
                start=start,
                key=key,
            )
            for start, key in _STARTS
        ),
        _DECAY_TERM,  # shown with decoupled_weight_decay = 1 (then θ shrinks first)
        _step_term(),
    ),
)

_RHO_T, _RHO_INF, _R_T = sub(RHO, T), sub(RHO, mi("∞")), sub(mi("r"), T)
_RADAM = Equations(
    lecture=(
        _M_LINE,
        _V_LINE,
        _HAT_M,
        math(
            *(_RHO_INF, EQ, frac(mn("2"), row(ONE, MINUS, B2)), MINUS, ONE, COMMA, GAP),
            *(_RHO_T, EQ, _RHO_INF, MINUS),
            frac(row(mn("2"), T, sup(B2, T)), row(ONE, MINUS, sup(B2, T))),
        ),
        math(
            _R_T,
            EQ,
            sqrt(
                frac(
                    row(paren(_RHO_T, MINUS, mn("4")), paren(_RHO_T, MINUS, mn("2")), _RHO_INF),
                    row(paren(_RHO_INF, MINUS, mn("4")), paren(_RHO_INF, MINUS, mn("2")), _RHO_T),
                )
            ),
        ),
        math(
            *(THETA, ARROW, THETA, MINUS, ETA, _R_T, hat(M)),
            frac(sqrt(row(ONE, MINUS, sup(B2, T))), row(sqrt(V), PLUS, EPS)),
            *(GAP, text("if"), _RHO_T, mo("&gt;"), mn("5")),
        ),
        math(THETA, ARROW, THETA, MINUS, ETA, hat(M), GAP, text("otherwise")),
    ),
    terms=(
        *_adam_terms("g", "m", "v", "bias"),
        Term("mhat", eqs(hat(M), EQ, slot("mhat"))),
        Term(
            "rho",
            eqs(_RHO_T, EQ, slot("rho_t"), COMMA, GAP, _RHO_INF, EQ, slot("rho_inf")),
        ),
        Term("rect", eqs(_R_T, EQ, slot("rect"))),
        Term(
            "eff",
            eqs(
                frac(
                    row(sub(ETA, T), _R_T, sqrt(row(ONE, MINUS, sup(B2, T)))),
                    row(sqrt(V), PLUS, EPS),
                ),
                EQ,
                slot("eff"),
            ),
        ),
        *(
            _theta_next(MINUS, slot("eff"), HAD, slot("mhat"), start=start, key=key)
            for start, key in _STARTS
        ),
        *(
            _theta_next(MINUS, slot("lr"), DOT, slot("mhat"), start=start, key=f"{key}_plain")
            for start, key in _STARTS
        ),
        _LR_TERM,  # these two shown with decoupled_weight_decay = 1 (θ shrinks first)
        _DECAY_TERM,
        _step_term(),
    ),
)

_ADAMAX = Equations(
    lecture=(
        _M_LINE,
        math(U, ARROW, call("max", row(B2, U), ABS_G)),
        math(THETA, ARROW, THETA, MINUS, frac(ETA, row(ONE, MINUS, sup(B1, T))), DOT, frac(M, U)),
    ),
    terms=(
        *_adam_terms("g", "m"),
        Term(
            "u",
            eqs(
                *(U, ARROW, call("max", row(B2, U), row(ABS_G, PLUS, EPS))),
                *(
                    EQ,
                    row(mi("max"), paren(slot("beta2"), DOT, slot("u_prev"), COMMA, slot("absg"))),
                ),
                *(EQ, slot("u")),
            ),
        ),
        Term(
            "eff",
            eqs(frac(sub(ETA, T), row(paren(ONE, MINUS, sup(B1, T)), U)), EQ, slot("eff")),
        ),
        _theta_next(MINUS, slot("eff"), HAD, slot("m")),
        _step_term(),
    ),
)

_S = mi("s")
_ADADELTA = Equations(
    lecture=(
        math(mi("h"), ARROW, RHO, mi("h"), PLUS, paren(ONE, MINUS, RHO), SQ),
        math(DELTA, EQ, frac(sqrt(row(_S, PLUS, EPS)), sqrt(row(mi("h"), PLUS, EPS))), HAD, G),
        math(_S, ARROW, RHO, _S, PLUS, paren(ONE, MINUS, RHO), DELTA, HAD, DELTA),
        math(THETA, ARROW, THETA, MINUS, DELTA),
    ),
    terms=(
        _grad_term(),
        Term(
            "h",
            eqs(
                *(mi("h"), ARROW, RHO, mi("h"), PLUS, paren(ONE, MINUS, RHO), SQ),
                *(EQ, slot("rho"), DOT, slot("h_prev"), PLUS, slot("keep"), DOT, slot("g2")),
                *(EQ, slot("h")),
            ),
        ),
        Term(
            "delta",
            eqs(
                DELTA,
                EQ,
                frac(sqrt(row(_S, PLUS, EPS)), sqrt(row(mi("h"), PLUS, EPS))),
                HAD,
                G,
                EQ,
                slot("scale"),
                HAD,
                slot("g"),
                EQ,
                slot("delta"),
            ),
        ),
        Term(
            "s",
            eqs(
                *(_S, ARROW, RHO, _S, PLUS, paren(ONE, MINUS, RHO), DELTA, HAD, DELTA),
                *(EQ, slot("rho"), DOT, slot("s_prev"), PLUS, slot("keep"), DOT, slot("delta2")),
                *(EQ, slot("s")),
            ),
        ),
        _theta_next(MINUS, slot("lr"), DOT, slot("delta")),
        _step_term(),
    ),
)

_B2_HAT = sub(hat(mi("β")), row(mn("2"), T))  # β̂₂ₜ
_RMS = mi("RMS")
_EPS1, _EPS2 = sub(EPS, ONE), sub(EPS, mn("2"))
_ADAFACTOR = Equations(
    lecture=(
        math(_B2_HAT, EQ, ONE, MINUS, sup(T, mi("c"))),
        math(sub(RHO, T), EQ, call("min", ETA, frac(ONE, sqrt(T)))),
        math(sub(ALPHA, T), EQ, call("max", _EPS2, row(_RMS, paren(THETA))), DOT, sub(RHO, T)),
        math(V, ARROW, _B2_HAT, V, PLUS, paren(ONE, MINUS, _B2_HAT), SQ),
        math(U, EQ, frac(G, sqrt(call("max", V, sup(_EPS1, mn("2")))))),
        math(
            THETA,
            ARROW,
            THETA,
            MINUS,
            frac(row(sub(ALPHA, T), U), call("max", ONE, frac(row(_RMS, paren(U)), mi("d")))),
        ),
    ),
    terms=(
        _grad_term(),
        Term(
            "rho",
            eqs(
                *(sub(RHO, T), EQ, call("min", ETA, frac(ONE, sqrt(T))), EQ, slot("rho_t")),
                *(GAP, T, EQ, slot("t")),
            ),
        ),
        Term(
            "alpha",
            eqs(
                *(sub(ALPHA, T), EQ, call("max", _EPS2, row(_RMS, paren(THETA))), DOT),
                *(sub(RHO, T), EQ, slot("alpha_t")),
            ),
        ),
        Term(
            "v",
            eqs(
                *(V, ARROW, _B2_HAT, V, PLUS, paren(ONE, MINUS, _B2_HAT), SQ),
                *(EQ, slot("v"), GAP, ONE, MINUS, _B2_HAT, EQ, slot("weight")),
            ),
        ),
        Term("u", eqs(U, EQ, frac(G, sqrt(call("max", V, sup(_EPS1, mn("2"))))), EQ, slot("u"))),
        Term(
            "clip",
            eqs(call("max", ONE, frac(row(_RMS, paren(U)), mi("d"))), EQ, slot("clip")),
        ),
        Term(
            "decay",
            eqs(
                *(THETA, ARROW, THETA, MINUS, ETA, LAMBDA, THETA),
                *(EQ, slot("decayed")),
            ),
        ),
        Term(
            "theta",
            eqs(
                *(sub(THETA, row(T, PLUS, ONE)), EQ, slot("decayed"), MINUS),
                *(frac(slot("alpha_t"), slot("clip")), DOT, slot("u"), EQ, slot("theta_next")),
            ),
        ),
        _step_term(),
    ),
)

_PREV = sub(G, mi("prev"))
_ETA_PLUS, _ETA_MINUS = sup(ETA, mo("+")), sup(ETA, MINUS)
_RPROP = Equations(
    lecture=(
        math(
            *(DELTA, ARROW, call("min", row(_ETA_PLUS, DELTA), sub(DELTA, mi("max")))),
            *(GAP, text("if"), G, DOT, _PREV, mo("&gt;"), mn("0")),
        ),
        math(
            *(DELTA, ARROW, call("max", row(_ETA_MINUS, DELTA), sub(DELTA, mi("min"))), COMMA),
            *(G, ARROW, mn("0"), GAP, text("if"), G, DOT, _PREV, mo("&lt;"), mn("0")),
        ),
        math(THETA, ARROW, THETA, MINUS, row(mi("sign"), paren(G)), DELTA),
        math(_PREV, ARROW, G),
    ),
    terms=(
        _grad_term(),
        Term("factor", eqs(mi("sign"), paren(G, DOT, _PREV), EQ, slot("flip"))),
        Term("delta", eqs(DELTA, EQ, slot("step_size"))),
        Term("sign", eqs(mi("sign"), paren(G), EQ, slot("sign"))),
        _theta_next(MINUS, slot("sign"), HAD, slot("step_size")),
        _step_term(),
    ),
)

_CENTERED = (  # RMSprop's centered option: ḡ and the spread √(h − ḡ²)
    Term(
        "gbar",
        eqs(
            *(BAR_G, ARROW, ALPHA, BAR_G, PLUS, paren(ONE, MINUS, ALPHA), G),
            *(EQ, slot("alpha"), DOT, slot("gbar_prev"), PLUS, slot("keep"), DOT, slot("g")),
            *(EQ, slot("gbar")),
        ),
    ),
    Term(
        "eff_centered",
        eqs(
            frac(sub(ETA, T), row(sqrt(row(mi("h"), MINUS, BAR_G, HAD, BAR_G)), PLUS, EPS)),
            EQ,
            slot("eff"),
        ),
    ),
)
EQUATIONS["rmsprop"] = Equations(
    lecture=EQUATIONS["rmsprop"].lecture, terms=(*EQUATIONS["rmsprop"].terms, *_CENTERED)
)
EQUATIONS |= {
    "adamw": _ADAMW,
    "amsgrad": _AMSGRAD,
    "nadam": _NADAM,
    "radam": _RADAM,
    "adamax": _ADAMAX,
    "adadelta": _ADADELTA,
    "adafactor": _ADAFACTOR,
    "rprop": _RPROP,
}


def equations(name: str) -> Equations | None:
    """The optimizer's MathML, or None for an optimizer not typeset yet."""
    return EQUATIONS.get(name)


# ------------------------------ gradient-free contrasts: annealing, the genetic algorithm
# Their lecture form only (the page has no gradient buffers to fill terms with): the
# docstring's lines, words and all, as the other optimizers' `if` and `otherwise`. Their
# lines are long, so each is inline pieces (eqs) that a narrow panel wraps between.
SIGMA, Z, X = mi("σ"), mi("z"), mi("x")
PRIME = row(THETA, mo("'"))  # θ', the proposal, written as the docstring writes it
ENERGY = row(mi("Δ"), mi("E"))
T_T = sub(mi("T"), T)
INDENT = '<mspace width="1.5em"></mspace>'  # inside the loop over the children


def words(phrase: str) -> str:
    """Words between symbols, with a space each side (MathML trims an mtext's own)."""
    return text(f"\u00a0{phrase}\u00a0")


def _normal() -> str:
    """z ~ N(0, I), the standard normal draw."""
    return row(Z, mo("~"), mi("N"), paren(mn("0"), COMMA, mi("I")))


def _comment(phrase: str) -> tuple[str, str]:
    return GAP, words(f"({phrase})")


_ANNEALING = Equations(
    lecture=(
        eqs(PRIME, EQ, THETA, PLUS, SIGMA, Z, COMMA, GAP, _normal(), *_comment("a proposal")),
        eqs(ENERGY, EQ, mi("f"), paren(PRIME), MINUS, mi("f"), paren(THETA)),
        eqs(T_T, EQ, sub(mi("T"), mn("0")), sup(mi("γ"), T), *_comment("geometric cooling")),
        eqs(
            *(words("accept"), PRIME, words("if"), ENERGY, mo("≤"), mn("0"), COMMA),
            *(GAP, words("or else with probability"), GAP, mi("exp")),
            paren(MINUS, frac(ENERGY, T_T)),
        ),
        eqs(THETA, ARROW, PRIME, GAP, words("if accepted, else"), GAP, THETA, words("stays")),
    ),
    terms=(),
)

_GENETIC = Equations(
    lecture=(
        eqs(
            *(words("elite"), EQ, mi("argmin"), mi("f"), paren(sub(X, mi("i")))),
            *_comment("kept as it is"),
        ),
        eqs(words("for each of the other"), GAP, mi("P"), MINUS, ONE, words("children:")),
        eqs(
            *(INDENT, mi("a"), COMMA, mi("b"), EQ, words("two parents,")),
            *(GAP, words("each the better of"), GAP, mn("2"), words("random members")),
            *_comment("tournaments"),
        ),
        eqs(
            *(INDENT, words("child"), EQ, mi("a"), PLUS, ALPHA, HAD),
            *(paren(mi("b"), MINUS, mi("a")), COMMA, GAP, ALPHA, mo("~"), mi("U")),
            *(sup(paren(mn("0"), COMMA, ONE), mn("2")), *_comment("blend crossover")),
        ),
        eqs(
            *(INDENT, words("child"), ARROW, words("child"), PLUS, SIGMA, Z, COMMA, GAP),
            *(_normal(), *_comment("mutation")),
        ),
        eqs(
            *(words("population"), EQ, words("elite"), PLUS, words("children;"), GAP),
            *(THETA, EQ, words("the best member")),
        ),
    ),
    terms=(),
)

EQUATIONS |= {"annealing": _ANNEALING, "genetic": _GENETIC}
