"""Typed functions (landscapes/expr.py): whitelist, columns, limits, exact gradient, minima."""

from __future__ import annotations

import ast
import contextlib
import re
from pathlib import Path

import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

import landscapes
from landscapes import expr
from landscapes.expr import parse, read

ROOT = Path(__file__).resolve().parents[2]


def _grid(bounds, n=41):
    (xmin, xmax), (ymin, ymax) = bounds
    xx, yy = np.meshgrid(np.linspace(xmin, xmax, n), np.linspace(ymin, ymax, n))
    return np.stack([xx.ravel(), yy.ravel()], axis=-1)


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("rosenbrock", "(1 - x)**2 + 100*(y - x**2)**2"),
        ("himmelblau", "(x^2 + y - 11)^2 + (x + y^2 - 7)^2"),
        ("ill_conditioned", "x**2/20 + y**2"),
        ("rastrigin", "20 + x**2 - 10*cos(2*pi*x) + y**2 - 10*cos(2*pi*y)"),
    ],
)
def test_typed_landscape_equals_the_built_in_one(name, text):
    built_in = landscapes.get(name)
    typed = parse(text, built_in.bounds, built_in.default_start)
    points = _grid(built_in.bounds)
    value, typed_value = built_in.value(points), typed.value(points)
    np.testing.assert_allclose(typed_value, value, rtol=1e-12, atol=1e-12 * np.abs(value).max())
    grad, typed_grad = built_in.grad(points), typed.grad(points)
    np.testing.assert_allclose(typed_grad, grad, rtol=1e-12, atol=1e-12 * np.abs(grad).max())


@pytest.mark.parametrize("name", ["rosenbrock", "himmelblau", "ill_conditioned", "booth"])
def test_minima_found_numerically_match_the_literature(name):
    built_in = landscapes.get(name)
    texts = {
        "rosenbrock": "(1 - x)**2 + 100*(y - x**2)**2",
        "himmelblau": "(x**2 + y - 11)**2 + (x + y**2 - 7)**2",
        "ill_conditioned": "x**2/20 + y**2",
        "booth": "(x + 2*y - 7)**2 + (2*x + y - 5)**2",
    }
    found = parse(texts[name], built_in.bounds).minima
    known = [m for m in built_in.minima if m.kind == "global"]
    assert sorted(m.kind for m in found) == ["global"] * len(known)
    for m in known:
        assert min(np.hypot(m.x - f.x, m.y - f.y) for f in found) < 1e-7
        assert min(abs(m.value - f.value) for f in found) < 1e-10


def test_local_minima_are_told_from_global_ones():
    f = parse("20 + x**2 - 10*cos(2*pi*x) + y**2 - 10*cos(2*pi*y)", ((-5.12, 5.12),) * 2)
    assert f.minima[0][:3] == pytest.approx((0.0, 0.0, 0.0), abs=1e-9)
    assert [m.kind for m in f.minima].count("global") == 1
    assert {m.kind for m in f.minima[1:]} == {"local"}
    assert len(f.minima) == expr.MAX_MINIMA


def test_a_minimum_above_the_lowest_edge_is_local():
    f = parse("sin(x)*y**2 + x**2", ((-3, 3), (-2, 2)))
    assert [(m.x, m.y, m.kind) for m in f.minima] == [(0.0, 0.0, "local")]


def test_no_minimum_inside_the_bounds_gives_none():
    assert parse("x - y").minima == ()
    assert parse("x**2 - y**2").minima == ()  # a saddle is not a minimum


def test_landscape_metadata_comes_from_the_text():
    f = parse("x^2/20 + y²", ((-4, 4), (-2, 2)), (3, 1))
    assert f.name == "custom"
    assert f.formula == "f(x, y) = x^2/20 + y²"
    assert f.latex == r"f(x, y) = \frac{x^{2}}{20} + y^{2}"
    assert f.bounds == ((-4.0, 4.0), (-2.0, 2.0))
    assert f.default_start == (3.0, 1.0)
    assert parse("0.05*x**2").latex == r"f(x, y) = 0.05 x^{2}"  # not \frac{x^2}{20}
    assert parse("x**2").default_start == (-1.8, 1.8)  # short decimals: exact in a link
    assert parse("x**2", ((0, 0.7), (0, 0.7))).default_start == (0.14, 0.56)


def test_decimal_numbers_are_the_very_same_doubles():
    f = parse("0.30000000000000004*x + 0.1*y")
    assert float(f.value([1.0, 1.0])) == 0.30000000000000004 + 0.1
    assert f.grad([0.0, 0.0]).tolist() == [0.30000000000000004, 0.1]


def test_a_point_moves_alike_alone_and_in_a_batch():
    # integer powers are compiled to products: np.power's kernels round by CPU and by a
    # point's place in the array, and the runner relies on batch == alone, bit for bit
    f = parse("(x + y)**5 - 2*x**3 + x**-2 + y**7/50", ((0.1, 3), (-2, 2)))
    rng = np.random.default_rng(7)
    points = np.stack([rng.uniform(0.1, 3, 257), rng.uniform(-2, 2, 257)], axis=-1)
    alone = np.array([f.grad(p) for p in points])
    np.testing.assert_array_equal(f.grad(points), alone)
    np.testing.assert_array_equal(f.value(points), [f.value(p) for p in points])


def test_page_formulas_paste_back():
    # the page writes "f(x, y) = x² − y²": pasting it back reads the same function
    f = parse(landscapes.get("saddle").formula)
    np.testing.assert_array_equal(
        f.value(_grid(f.bounds)), landscapes.get("saddle").value(_grid(f.bounds))
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("x**2 + z", "unknown name 'z' at column 8"),
        ("x + y + z", "unknown name 'z' at column 9"),
        ("  x + z", "unknown name 'z' at column 7"),
        ("x² + z", "unknown name 'z' at column 6"),  # ² is one column, though ** two
        ("x^2 + z", "unknown name 'z' at column 7"),
        ("foo(x)", "unknown function 'foo' at column 1"),
        ("sin(x, y)", "sin() takes 1 argument, got 2 at column 1"),
        ("min(x)", "min() takes 2 to 8 arguments, got 1 at column 1"),
        ("max(x, key=y)", "max() takes no keyword arguments at column 8"),
        ("x.real", "'.' (attribute access) is not allowed at column 1"),
        ("x[0]", "indexing with [ ] is not allowed at column 1"),
        ("x // 2", "'//' is not allowed at column 6"),
        ("x if y else 1", "'if … else' is not allowed at column 1"),
        ("lambda: x", "'lambda' is not allowed"),
        ("'x'", "is not a number"),
        ("True", "True at column 1 is not a number"),
        ("2j", "imaginary numbers are not allowed at column 1"),
        ("2x", "invalid decimal literal at column 1 (write 2*x for a product)"),
        ("x + ", "the expression ends too early at column 4"),
        ("x + é", "unexpected character 'é' at column 5"),
        ("x\x00", "unexpected character '\\x00' at column 2"),
        ("1/(x - x)", "division by zero at column 4"),
        ("log(0) + x", "log of a number ≤ 0 at column 5"),
        ("sqrt(-1)*x", "'sqrt(-1)' at column 1 is not a finite real number"),
        ("9**9**9", "the exponent at column 4 is too large"),
        ("x**1000", "the exponent at column 4 is too large"),
        ("2**(2**(2**(2**2)))", "the exponent at column 5 is too large"),
        ("((10**100)**10)**10", "is too large (beyond 1e300)"),
        ("1e999 * x", "too large for float64"),
        ("sin", "'sin' at column 1 is a function: write sin(…)"),
        ("e(x + 1)", "'e' at column 1 is not a function"),
        ("__import__('os').system('true')", "at column 1"),
        ("", "the expression is empty"),
        ("x" * 501, "at most 500"),
        ("-" * 100 + "x", "nests more than 60 levels deep"),
        ("+".join(["x"] * 201), "more than 200 parts"),
    ],
)
def test_errors_name_the_column(text, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        read(text)


@pytest.mark.parametrize(
    ("bounds", "start", "message"),
    [
        (((1, -1), (-1, 1)), None, "bounds of x: the lower bound must be below the upper one"),
        (((-1, 1), (0, float("nan"))), None, "bounds of y must be finite"),
        (((-1e9, 1), (-1, 1)), None, "bounds of x must lie within ±100000"),
        (((-1, 1), (-1, 1)), (2, 0), "start (2, 0) is outside the bounds"),
        ("nonsense", None, "bounds must be [[xmin, xmax], [ymin, ymax]]"),
    ],
)
def test_bounds_and_start_are_checked(bounds, start, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        parse("x**2 + y**2", bounds, start)


def test_a_function_finite_nowhere_is_refused():
    with pytest.raises(ValueError, match="not a finite number anywhere"):
        parse("log(-1 - x**2) + y")


def test_non_finite_values_stay_values_not_errors():
    f = parse("log(x) + y**2", ((-1, 1), (-1, 1)))
    assert np.isnan(f.value([-0.5, 0.0]))
    assert np.isfinite(f.value([0.5, 0.0]))


# -- fuzzing: any text is either a landscape or a ValueError, quickly ----------------

_PIECES = st.sampled_from(
    [
        *"xy+-*/^().,0123456789e ",
        "**",
        "sin(",
        "log(",
        "min(",
        "sqrt(",
        "pi",
        "9**9",
        "1e308",
        "__",
        "import",
        "[",
        "]",
        "lambda",
        ":",
        "'",
        "=",
        "z",
        "é",
        "²",
        "−",
        "\x00",
        "\n",
    ]
)
_CALLS: list[str] = []
# What the whitelisted names build (sqrt is a power, abs is Abs; SymPy may rewrite
# cos(pi/2 - x) as sin(x) or tanh of a sum into itself, never into anything else)
_WHITELISTED_FUNCTIONS = {
    sympy.sin,
    sympy.cos,
    sympy.tan,
    sympy.exp,
    sympy.log,
    sympy.Abs,
    sympy.tanh,
    sympy.sinh,
    sympy.cosh,
    sympy.Min,
    sympy.Max,
    sympy.sign,
    sympy.cot,
}


def _spy(monkeypatch):
    """Record any call of eval/exec/compile on text the fuzz sends (none is allowed)."""
    import builtins

    for name in ("eval", "exec"):
        real = getattr(builtins, name)

        def spy(*args, _real=real, _name=name, **kwargs):
            source = args[0] if args else ""
            if isinstance(source, str) and "_lambdifygenerated" not in source:
                _CALLS.append(f"{_name}({source[:40]!r})")
            return _real(*args, **kwargs)

        monkeypatch.setattr(builtins, name, spy)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=60), st.lists(_PIECES, max_size=30).map("".join)))
def test_any_text_is_an_expression_or_a_value_error(text):
    try:
        expression = read(text)
    except ValueError as error:
        assert str(error)
        return
    # what was accepted is made only of whitelisted SymPy pieces
    allowed = {"x", "y"}
    assert {str(s) for s in expression.expr.free_symbols} <= allowed
    functions = {type(f) for f in expression.expr.atoms(sympy.Function)}
    assert functions <= _WHITELISTED_FUNCTIONS, functions
    value = expression.fn(np.array([0.5, -1.5]), np.array([0.25, 2.0]))
    assert np.shape(np.broadcast_to(value, (2,))) == (2,)


def test_the_fuzz_never_reaches_eval_or_exec(monkeypatch):
    _spy(monkeypatch)
    _CALLS.clear()
    for text in [
        "__import__('os').system('echo hi')",
        "x + y",
        "open('/etc/passwd')",
        "().__class__",
    ]:
        with contextlib.suppress(ValueError):
            read(text)
    assert _CALLS == []


def test_limits_bound_the_work():
    # No timed test: the limits are what keeps the work bounded, so assert they hold.
    assert expr.MAX_LENGTH <= 1000
    assert expr.MAX_NODES <= 500
    assert expr.MAX_DEPTH <= 100
    assert expr.MAX_EXPONENT <= 1000
    assert expr.MAX_BITS < 1024  # every constant converts to a finite float64
    # the largest accepted constant power is far below a second of integer arithmetic
    read("(2**100)**9")
    with pytest.raises(ValueError, match="too large"):
        read("(2**100)**11")


def test_the_widest_accepted_text_still_reads():
    # the deepest and the longest whitelisted texts the limits allow are read in one piece
    read("sin(" * 59 + "x" + ")" * 59)
    read("+".join(["x*y"] * 50))  # 199 parts, one sum


_EVALUATING = {"eval", "exec", "compile", "sympify", "parse_expr"}


def _evaluating_calls(tree: ast.AST) -> list[str]:
    """Names of evaluating functions the code mentions (re.compile is a regex, not code)."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id in _EVALUATING:
            found.append(node.id)
        elif isinstance(node, ast.Attribute):
            owner = node.value.id if isinstance(node.value, ast.Name) else ""
            if node.attr in _EVALUATING and not (node.attr == "compile" and owner == "re"):
                found.append(f"{owner}.{node.attr}")
            elif node.attr == "S" and owner == "sympy":  # sympy.S("…") sympifies text
                found.append("sympy.S")
    return found


def _expression_code_paths() -> list[Path]:
    paths = [ROOT / "landscapes" / "expr.py"]
    for path in sorted((ROOT / "app").rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        markers = ("landscapes.expr", "from landscapes import expr", "surfaces", "LandscapeExpr")
        if any(marker in text for marker in markers):
            paths.append(path)
    return paths


def test_no_code_path_of_typed_text_evaluates_it():
    paths = _expression_code_paths()
    assert paths[0].exists()
    assert {"surfaces.py", "schemas.py", "scene.py", "cli.py"} <= {p.name for p in paths}
    offenders = [
        f"{path.name}: {name}"
        for path in paths
        for name in _evaluating_calls(ast.parse(path.read_text(encoding="utf-8")))
    ]
    assert offenders == []


def test_the_grep_finds_an_evaluating_call():
    # the check above would fail on these (and not on a regex's re.compile)
    code = "eval(t)\nbuiltins.exec(t)\nsympy.sympify(t)\nparse_expr(t)\nsympy.S(t)\nre.compile(t)"
    assert _evaluating_calls(ast.parse(code)) == [
        "eval",
        "builtins.exec",
        "sympy.sympify",
        "parse_expr",
        "sympy.S",
    ]
