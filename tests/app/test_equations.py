"""The equation panel's MathML (app/equations.py) says what each optimizer's docstring says.

Each ``Lecture notes::`` line of the docstring and its ``<math>`` read the same once both
are written out linearly (a fraction a/b as "a b", √ for a square root, ^ for a hat) and
what only layout decides (spaces, brackets, slashes, the multiplication dot) is dropped: the
same symbols in the same order. The terms' slots are the ones the page fills.
"""

from __future__ import annotations

import inspect
import re
import xml.etree.ElementTree as ET

import pytest
from fastapi.testclient import TestClient

import optimizers
from app.equations import EQUATIONS, MATHML_NS, equations

REQUIRED = ("sgd", "momentum", "nag", "adagrad", "rmsprop", "adam")
# Only layout: spaces, brackets, the division slash, the multiplication dot, and the
# marks plain text needs for a sub- or superscript (v_max, t^c).
LAYOUT = re.compile(r"[\s()/·⋅_^]")
SCRIPTS = str.maketrans(
    {"₁": "1", "₂": "2", "ₜ": "t", "₊": "+", "ᵗ": "t", "⁺": "+", "⁻": "−", "²": "2"}
    | {"₀": "0", "ᵢ": "i"}  # T₀, xᵢ (the gradient-free methods)
    | {"\u0302": "ˆ"}  # a hat, combining (m̂) or as MathML draws it (ˆ)
)
# The slots static/js/inside.js fills (values()), by term.
SLOTS = {
    "g",
    "lr",
    "theta",
    "theta_next",
    "step",
    "b",
    "b_prev",
    "mu",
    "keep",
    "v",
    "h",
    "h_prev",
    "g2",
    "t",
    "eff",
    "alpha",
    "scaled",
    "m",
    "m_prev",
    "beta1",
    "beta2",
    "keep1",
    "keep2",
    "v_prev",
    "bc1",
    "bc2",
    "mhat",
    "vhat",
    "eff_hat",
}

# torch's AdamW … Rprop and RMSprop's centered option (issue 14).
TORCH_MORE = ("adamw", "amsgrad", "nadam", "radam", "adamax", "adadelta", "adafactor", "rprop")
SLOTS |= {"decayed", "vmax", "vmax_prev", "mu_t", "mu_next", "mu_product", "denom", "c_g"}
SLOTS |= {"c_m", "rho_t", "rho_inf", "rect", "u_prev", "absg", "rho", "scale", "delta"}
SLOTS |= {"delta2", "s", "s_prev", "alpha_t", "weight", "clip", "flip", "step_size"}
SLOTS |= {"gbar", "gbar_prev"}

# Lion, LARS and LAMB (optax's): the sign, the weight decay, the trust ratio's pieces.
SLOTS |= {"c", "sign", "wd", "u", "adam", "pnorm", "unorm", "ratio"}
OPTAX = ("lion", "lars", "lamb")


def lecture_lines(name: str) -> list[str]:
    doc = inspect.getdoc(type(optimizers.create(name))) or ""
    match = re.search(r"Lecture notes[^\n]*::\n\n((?:    .+\n?)+)", doc)
    assert match, f"{name}: no 'Lecture notes::' block in the docstring"
    return [line.strip() for line in match.group(1).splitlines() if line.strip()]


def linear(element: ET.Element) -> str:
    """A MathML element written out as text: fractions and roots spelled with symbols."""
    tag = element.tag.split("}")[-1]
    children = list(element)
    if tag == "msqrt":
        return "√" + "".join(linear(c) for c in children)
    if tag == "mover":
        return linear(children[0]) + "".join(linear(c) for c in children[1:])
    if children:
        return "".join(linear(c) for c in children)
    return element.text or ""


def normal(text: str) -> str:
    return LAYOUT.sub("", text.translate(SCRIPTS))


# The gradient-free contrasts: their lecture form only (no gradient buffers, no terms).
GRADIENT_FREE = ("annealing", "genetic")


@pytest.mark.parametrize("name", REQUIRED + TORCH_MORE)
def test_every_lecture_line_is_typeset_with_its_symbols_in_order(name: str) -> None:
    typeset = equations(name)
    assert typeset is not None, f"{name} has no MathML"
    lines = lecture_lines(name)
    assert len(typeset.lecture) == len(lines), (name, lines)
    for line, mathml in zip(lines, typeset.lecture, strict=True):
        root = ET.fromstring(mathml)
        assert root.tag == f"{{{MATHML_NS}}}math"
        assert normal(linear(root)) == normal(line), (name, line, linear(root))


def test_the_check_itself_catches_a_missing_symbol() -> None:
    line = lecture_lines("adam")[3]  # θ ← θ − η m̂ / (√v̂ + ε)
    wrong = ET.fromstring(equations("adam").lecture[3].replace("<mi>ε</mi>", ""))  # type: ignore[union-attr]
    assert normal(linear(wrong)) != normal(line)


@pytest.mark.parametrize("name", sorted(EQUATIONS))
def test_terms_parse_and_use_only_slots_the_page_fills(name: str) -> None:
    typeset = EQUATIONS[name]
    for term in typeset.terms:
        slots = set(re.findall(r"\{(\w+)\}", term.mathml))
        assert slots <= SLOTS, (name, term.key, slots - SLOTS)
        filled = re.sub(r"\{\w+\}", "<mn>0</mn>", term.mathml)
        pieces = ET.fromstring(f"<p>{filled}</p>")  # well-formed
        assert pieces and all(p.tag == f"{{{MATHML_NS}}}math" for p in pieces), term.key


def test_the_catalogue_serves_the_mathml(client: TestClient) -> None:
    reply = client.get("/api/optimizers").json()
    served = {o["name"]: o for o in reply["optimizers"]}
    for name in REQUIRED + TORCH_MORE:
        assert served[name]["lecture"] == list(EQUATIONS[name].lecture)
        assert served[name]["terms"] == {t.key: t.mathml for t in EQUATIONS[name].terms}


@pytest.mark.parametrize("name", OPTAX)
def test_optax_optimizers_are_typeset_and_served(name: str, client: TestClient) -> None:
    test_every_lecture_line_is_typeset_with_its_symbols_in_order(name)
    served = {o["name"]: o for o in client.get("/api/optimizers").json()["optimizers"]}
    assert served[name]["lecture"] == list(EQUATIONS[name].lecture)
    assert served[name]["terms"] == {t.key: t.mathml for t in EQUATIONS[name].terms}


def test_the_check_catches_a_missing_norm() -> None:
    line = lecture_lines("lamb")[4]  # θ ← θ − η ‖θ‖ / ‖u‖ u
    typeset = equations("lamb").lecture[4]  # type: ignore[union-attr]
    assert normal(linear(ET.fromstring(typeset))) == normal(line)
    wrong = typeset.replace("<mo>‖</mo>", "", 1)
    assert normal(linear(ET.fromstring(wrong))) != normal(line)


def test_the_check_catches_a_missing_subscript_or_power() -> None:
    line = lecture_lines("nadam")[0]  # μₜ = β₁(1 − 0.5 · 0.96^(tψ))
    typeset = equations("nadam").lecture[0]  # type: ignore[union-attr]
    assert normal(linear(ET.fromstring(typeset))) == normal(line)
    for wrong in (typeset.replace("<mi>ψ</mi>", ""), typeset.replace("<mi>t</mi>", "", 1)):
        assert normal(linear(ET.fromstring(wrong))) != normal(line)


@pytest.mark.parametrize("name", GRADIENT_FREE)
def test_gradient_free_methods_serve_their_lecture_form_without_terms(
    name: str, client: TestClient
) -> None:
    served = {o["name"]: o for o in client.get("/api/optimizers").json()["optimizers"]}
    assert served[name]["lecture"] == list(EQUATIONS[name].lecture) != []
    assert served[name]["terms"] == {} and EQUATIONS[name].terms == ()


@pytest.mark.parametrize("name", GRADIENT_FREE)
def test_gradient_free_lecture_lines_are_typeset_in_wrapping_pieces(name: str) -> None:
    """Their long lines of words are inline <math> pieces a narrow panel wraps between;
    together each reads as the docstring's line, symbol for symbol."""
    typeset = equations(name)
    assert typeset is not None
    lines = lecture_lines(name)
    assert len(typeset.lecture) == len(lines), (name, lines)
    for line, mathml in zip(lines, typeset.lecture, strict=True):
        pieces = list(ET.fromstring(f"<p>{mathml}</p>"))
        assert pieces and all(p.tag == f"{{{MATHML_NS}}}math" for p in pieces), line
        assert normal("".join(linear(p) for p in pieces)) == normal(line), (name, line)
