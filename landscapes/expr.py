"""Functions typed by the lecturer: ``f(x, y) = …`` as text, checked, differentiated exactly.

>>> f = parse("x**2/20 + y**2", bounds=((-3, 3), (-3, 3)))
>>> float(f.value([2.0, 1.0])), f.grad([2.0, 1.0]).tolist()
(1.2, [0.2, 2.0])

How the text becomes a `Landscape`, and why it is safe:

1. The text (at most `MAX_LENGTH` characters) is translated character by character into
   Python's syntax — ``^`` and ``²`` become ``**``, ``−`` ``×`` ``·`` ``÷`` ``π`` their ASCII
   forms, a leading ``f(x, y) =`` is dropped — keeping, for every character, the column it
   came from, so every error names the column the lecturer typed (1-based).
2. ``ast.parse(text, mode="eval")`` only *parses*; nothing is compiled or run. The tree is
   walked over a whitelist: numbers (int, float), the names ``x y pi e``, ``+ - * / **``,
   unary ``-``/``+`` and calls of `FUNCTIONS` with their arity. Any other node (attribute,
   subscript, comparison, lambda, string, keyword argument, …) is an error. The tree's
   size and depth are bounded before anything is built (`MAX_NODES`, `MAX_DEPTH`).
3. A SymPy expression is constructed node by node from the checked tree (``sympy.sin``,
   ``Add``, ``Pow``… on SymPy objects; never ``sympify``/``parse_expr``, which evaluate
   text). Constant arithmetic SymPy does eagerly is bounded: an exponent is at most
   `MAX_EXPONENT` in size and no number exceeds `MAX_BITS` bits, so ``9**9**9`` is refused
   at once instead of computing a 370-million-digit integer. A constant that is not a
   finite real number (``log(0)``, ``sqrt(-1)``, ``1/0``) is refused with its column.
4. The gradient is SymPy's symbolic derivative of that expression. Value and gradient are
   compiled to vectorized NumPy by ``sympy.lambdify``, which generates code from SymPy's
   own tree — the lecturer's text never reaches it, only the two fixed symbols ``x`` and
   ``y``, whitelisted functions and numbers do.
5. Minima are found numerically: the grid's local minima over the bounds, polished by
   Newton's method with the exact gradient and `Landscape.hessian`, kept when the gradient
   vanishes and the Hessian is positive semi-definite; the lowest are "global".

Every error is a ValueError whose message names the column ("unknown name 'z' at column 7").
"""

from __future__ import annotations

import ast
import math
import re
from collections.abc import Callable
from fractions import Fraction
from typing import Any

import numpy as np
import sympy  # type: ignore[import-untyped]
from sympy.printing.numpy import NumPyPrinter  # type: ignore[import-untyped]
from sympy.printing.precedence import PRECEDENCE  # type: ignore[import-untyped]

from ._base import Array, Bounds, Landscape, Minimum

__all__ = [
    "FUNCTIONS",
    "MAX_BITS",
    "MAX_DEPTH",
    "MAX_EXPONENT",
    "MAX_LENGTH",
    "MAX_NODES",
    "NAMES",
    "Expression",
    "check",
    "check_bounds",
    "check_start",
    "normalize",
    "parse",
    "read",
]

MAX_LENGTH = 500  # characters of typed text: any textbook function fits in a few dozen
MAX_NODES = 200  # numbers, names, operations and calls in the tree
MAX_DEPTH = 60  # nesting of the tree (a chain x + x + … + x nests one level per term)
MAX_EXPONENT = 100  # |a constant exponent|: x**100 is fine, 9**9**9 is refused
MAX_BITS = 1000  # numerator and denominator of every constant: |c| < 2^1000 ≈ 1e301
MAX_BOUND = 1e5  # |xmin| … |ymax|: the runner calls |coordinate| > 1e6 divergence
MAX_MINIMA = 16  # minima kept (globals first): a typed Rastrigin has a hundred

X = sympy.Symbol("x", real=True)
Y = sympy.Symbol("y", real=True)
NAMES: dict[str, sympy.Expr] = {"x": X, "y": Y, "pi": sympy.pi, "e": sympy.E}

# name: (SymPy function, fewest arguments, most arguments)
FUNCTIONS: dict[str, tuple[Callable[..., Any], int, int]] = {
    "sin": (sympy.sin, 1, 1),
    "cos": (sympy.cos, 1, 1),
    "tan": (sympy.tan, 1, 1),
    "exp": (sympy.exp, 1, 1),
    "log": (sympy.log, 1, 1),
    "sqrt": (sympy.sqrt, 1, 1),
    "abs": (sympy.Abs, 1, 1),
    "tanh": (sympy.tanh, 1, 1),
    "sinh": (sympy.sinh, 1, 1),
    "cosh": (sympy.cosh, 1, 1),
    "min": (sympy.Min, 2, 8),
    "max": (sympy.Max, 2, 8),
}

# Characters a lecturer types or pastes (from the page's own formulas, from slides) and
# what they mean in Python's syntax. `^` is power, as on every calculator and in LaTeX:
# nobody means XOR in f(x, y).
_TRANSLATE = {
    "^": "**",
    "²": "**2",
    "³": "**3",
    "−": "-",
    "–": "-",
    "×": "*",
    "·": "*",
    "⋅": "*",
    "÷": "/",
    "π": "pi",
    "\t": " ",
    "\n": " ",
    "\r": " ",
    "\u3000": " ",  # the ideographic space a Japanese input method types
}
_PREFIX = re.compile(r"\s*(?:f\s*\(\s*x\s*,\s*y\s*\)|z)\s*=(?!=)")

_NODE_WORDS: dict[type, str] = {
    ast.Attribute: "'.' (attribute access)",
    ast.Subscript: "indexing with [ ]",
    ast.Compare: "a comparison",
    ast.BoolOp: "'and'/'or'",
    ast.IfExp: "'if … else'",
    ast.Lambda: "'lambda'",
    ast.List: "a list [ ]",
    ast.Tuple: "a tuple (a, b)",
    ast.Set: "a set { }",
    ast.Dict: "a dictionary { }",
    ast.JoinedStr: "a string",
    ast.Starred: "'*' unpacking",
    ast.NamedExpr: "':='",
    ast.Await: "'await'",
    ast.Yield: "'yield'",
    ast.GeneratorExp: "a generator",
    ast.ListComp: "a comprehension",
    ast.SetComp: "a comprehension",
    ast.DictComp: "a comprehension",
    ast.Slice: "a slice",
}
_OPERATOR_WORDS: dict[type, str] = {
    ast.FloorDiv: "'//'",
    ast.Mod: "'%'",
    ast.MatMult: "'@'",
    ast.BitXor: "'^' inside '**'",
    ast.BitAnd: "'&'",
    ast.BitOr: "'|'",
    ast.LShift: "'<<'",
    ast.RShift: "'>>'",
    ast.Invert: "'~'",
    ast.Not: "'not'",
}
_BINARY: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
}
_FAMILY = {ast.Add: "sum", ast.Sub: "sum", ast.Mult: "product", ast.Div: "product"}
_NOT_REAL = (sympy.I, sympy.zoo, sympy.oo, sympy.nan)
_HELP = "use x, y, numbers, + - * / ** ( ) and " + ", ".join([*FUNCTIONS, "pi", "e"])


class Expression:
    """A checked expression: the lecturer's text, its SymPy form and its exact gradient.

    `read` builds one; `fn`/`grad_fn` are the NumPy functions lambdify compiled from
    SymPy's tree (vectorized over arrays of x and y).
    """

    def __init__(self, text: str, expr: sympy.Expr, display: dict[sympy.Expr, sympy.Expr]):
        self.text = text
        self.expr = expr
        self.gradient = (sympy.diff(expr, X), sympy.diff(expr, Y))
        if any(g.has(sympy.Derivative, sympy.Subs) for g in self.gradient):
            raise ValueError(f"cannot differentiate {text!r} symbolically")
        self._display = display
        self.fn: Callable[[Array, Array], Array] = _compiled(expr)
        self.grad_fn: Callable[[Array, Array], tuple[Array, Array]] = _compiled(self.gradient)

    @property
    def latex(self) -> str:
        """``f(x, y) = …`` in LaTeX; numbers typed with a decimal point keep it (0.05, not 1/20)."""
        return "f(x, y) = " + sympy.latex(self.expr.xreplace(self._display))

    @property
    def formula(self) -> str:
        """``f(x, y) = …`` as typed (whitespace tidied): what the lecturer recognises."""
        return "f(x, y) = " + self.text


class _Printer(NumPyPrinter):
    """NumPy code with small integer powers as products: ``x**3`` is ``(x*x*x)``.

    np.power picks SIMD kernels by CPU and by position in the array, which round the last
    bit differently (landscapes/_base.py), so a point would move differently alone and in a
    batch; ``*`` is correctly rounded everywhere. Larger or fractional powers stay np.power.
    """

    def _print_Pow(self, expr: Any, rational: bool = False) -> str:  # noqa: N802 — SymPy's name
        exponent = expr.exp
        if exponent.is_Integer and 2 <= abs(int(exponent)) <= 16:
            base = self.parenthesize(expr.base, PRECEDENCE["Mul"])
            product = "*".join([base] * abs(int(exponent)))
            return f"({product})" if exponent > 0 else f"(1/({product}))"
        return str(super()._print_Pow(expr, rational=rational))


def _compiled(what: Any) -> Any:
    # lambdify writes Python source from SymPy's printer and runs it: the input is SymPy's
    # tree built above (symbols x, y; whitelisted functions; numbers), never the user's text.
    function = sympy.lambdify(
        (X, Y), what, modules="numpy", printer=_Printer, cse=isinstance(what, tuple)
    )

    def quiet(x: Array, y: Array) -> Any:
        # log(0), 1/0 outside a typed function's domain: a value (inf, nan), not a warning;
        # the runner reads non-finite values as divergence
        with np.errstate(all="ignore"):
            return function(x, y)

    return quiet


def normalize(text: str) -> str:
    """The text with runs of whitespace as one space, stripped: the cache key of a text."""
    return " ".join(str(text).split())


def _translate(text: str) -> tuple[str, list[int]]:
    """Python-syntax text and, for each of its characters, the 0-based column it came from.

    A leading ``f(x, y) =`` (as the page writes formulas) is dropped; characters outside
    ASCII that mean nothing here are errors with their column.
    """
    prefix = _PREFIX.match(text)
    begin = prefix.end() if prefix else 0
    chars: list[str] = []
    origin: list[int] = []
    for column in range(begin, len(text)):
        char = text[column]
        out = _TRANSLATE.get(char, char)
        if len(out) == 1 and (not out.isascii() or (ord(out) < 32 or ord(out) == 127)):
            raise ValueError(f"unexpected character {char!r} at column {column + 1}; {_HELP}")
        chars.extend(out)
        origin.extend([column] * len(out))
    # ast reads leading spaces as an indent: start at the first character typed
    skip = len(chars) - len("".join(chars).lstrip(" "))
    return "".join(chars[skip:]), origin[skip:]


def read(text: str) -> Expression:
    """Check `text` and build its `Expression`; ValueError naming the column otherwise."""
    expr, display = check(text)
    return Expression(normalize(text.strip()), expr, display)


def check(text: str) -> tuple[sympy.Expr, dict[sympy.Expr, sympy.Expr]]:
    """`text` checked over the whitelist and built as a SymPy expression (with the display
    form of its decimals), without differentiating or compiling it: milliseconds, so a
    request can be validated on the server's event loop and compiled in a worker."""
    if not isinstance(text, str):
        raise ValueError("the expression must be text")
    if len(text) > MAX_LENGTH:
        raise ValueError(f"the expression is {len(text)} characters long; at most {MAX_LENGTH}")
    source, origin = _translate(text)
    if not source.strip():
        raise ValueError("the expression is empty; type f(x, y), e.g. x**2/20 + y**2")

    def column(offset: int | None) -> int:
        if offset is None or offset >= len(origin):
            return len(text) + 1 if offset is not None else 1
        return origin[max(offset, 0)] + 1

    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError as error:
        where = column((error.offset or 1) - 1)
        words = (error.msg or "invalid syntax").removesuffix(" (<unknown>, line 1)")
        hint = ""
        if "decimal literal" in words:
            hint = " (write 2*x for a product)"
        elif words == "invalid syntax" and source.rstrip()[-1:] in tuple("+-*/(,"):
            words, where = "the expression ends too early", len(text.rstrip()) + 1
        raise ValueError(f"{words} at column {where}{hint}") from None
    except (ValueError, RecursionError, MemoryError):
        raise ValueError("the expression is too deeply nested to read") from None
    _check_size(tree, column)
    display: dict[sympy.Expr, sympy.Expr] = {}
    expr = _Builder(source, column, display).build(tree.body)
    if not isinstance(expr, sympy.Expr):
        raise ValueError("the expression is not a number")
    return expr, display


def _check_size(tree: ast.Expression, column: Callable[[int | None], int]) -> None:
    """At most MAX_NODES expression nodes, nested at most MAX_DEPTH deep (walked without
    recursion, so any tree the parser returns is measured safely).

    ``x + x + … + x`` is a left-nested chain that SymPy flattens into one sum: a link's
    left operand of the same chain (sum with sum, product with product) is not deeper.
    """
    count = 0
    stack: list[tuple[ast.AST, int]] = [(tree.body, 1)]
    while stack:
        node, depth = stack.pop()
        if not isinstance(node, ast.expr):
            stack.extend((child, depth) for child in ast.iter_child_nodes(node))
            continue
        count += 1
        if count > MAX_NODES:
            raise ValueError(
                f"the expression has more than {MAX_NODES} parts (numbers, names, "
                f"operations); simplify it"
            )
        if depth > MAX_DEPTH:
            raise ValueError(
                f"the expression nests more than {MAX_DEPTH} levels deep at column "
                f"{column(node.col_offset)}"
            )
        for child in ast.iter_child_nodes(node):
            same_chain = (
                isinstance(node, ast.BinOp)
                and child is node.left
                and isinstance(child, ast.BinOp)
                and _FAMILY.get(type(child.op), "") == _FAMILY.get(type(node.op))
            )
            stack.append((child, depth if same_chain else depth + 1))


class _Builder:
    """SymPy objects from a checked tree, one whitelisted node at a time."""

    def __init__(
        self, source: str, column: Callable[[int | None], int], display: dict[Any, Any]
    ) -> None:
        self.source = source
        self.column = column
        self.display = display

    def at(self, node: ast.AST) -> str:
        return f"at column {self.column(getattr(node, 'col_offset', None))}"

    def build(self, node: ast.AST) -> Any:
        value = self._build(node)
        if value.has(*_NOT_REAL):
            raise ValueError(f"{self._segment(node)!r} {self.at(node)} is not a finite real number")
        if value.is_Rational and max(abs(value.p).bit_length(), value.q.bit_length()) > MAX_BITS:
            raise ValueError(f"the number {self.at(node)} is too large or too small (beyond 1e300)")
        return value

    def _segment(self, node: ast.AST) -> str:
        text = ast.get_source_segment(self.source, node) or ""
        return text if len(text) <= 40 else text[:37] + "…"

    def _build(self, node: ast.AST) -> Any:
        if isinstance(node, ast.Constant):
            return self._number(node)
        if isinstance(node, ast.Name):
            if node.id in NAMES:
                return NAMES[node.id]
            if node.id in FUNCTIONS:
                raise ValueError(f"'{node.id}' {self.at(node)} is a function: write {node.id}(…)")
            raise ValueError(
                f"unknown name '{node.id}' {self.at(node)} (the variables are x and y, "
                f"the constants pi and e)"
            )
        if isinstance(node, ast.UnaryOp):
            if isinstance(node.op, ast.USub):
                return -self.build(node.operand)
            if isinstance(node.op, ast.UAdd):
                return self.build(node.operand)
            raise self._refuse(node.op, node)
        if isinstance(node, ast.BinOp):
            return self._binary(node)
        if isinstance(node, ast.Call):
            return self._call(node)
        raise self._refuse(node, node)

    def _refuse(self, what: ast.AST, node: ast.AST) -> ValueError:
        words = _NODE_WORDS.get(type(what)) or _OPERATOR_WORDS.get(type(what))
        words = words or type(what).__name__
        return ValueError(f"{words} is not allowed {self.at(node)}; {_HELP}")

    def _number(self, node: ast.Constant) -> Any:
        value = node.value
        if isinstance(value, bool) or value is None or value is Ellipsis:
            raise ValueError(f"{value!r} {self.at(node)} is not a number")
        if isinstance(value, complex):
            raise ValueError(f"imaginary numbers are not allowed {self.at(node)}")
        if isinstance(value, int):
            if value.bit_length() > MAX_BITS:
                raise ValueError(f"the number {self.at(node)} is too large (beyond 1e300)")
            return sympy.Integer(value)
        if isinstance(value, float):
            if not math.isfinite(value):
                raise ValueError(f"the number {self.at(node)} is too large for float64")
            # Exact: the binary fraction float64 holds, so NumPy sees the very same double.
            exact = sympy.Rational(*Fraction(value).as_integer_ratio())
            self.display[exact] = sympy.Float(repr(value))
            return exact
        raise ValueError(f"{self._segment(node) or 'text'} {self.at(node)} is not a number")

    def _binary(self, node: ast.BinOp) -> Any:
        if isinstance(node.op, ast.Pow):
            return self._power(node)
        operation = _BINARY.get(type(node.op))
        if operation is None:
            raise self._refuse(node.op, node.right)
        left, right = self.build(node.left), self.build(node.right)
        if isinstance(node.op, ast.Div) and right.is_number and right.is_zero:
            raise ValueError(f"division by zero {self.at(node.right)}")
        if isinstance(node.op, ast.Mult) and left.is_Rational and right.is_Rational:
            self._bits(abs(left.p).bit_length() + abs(right.p).bit_length(), node)
        return operation(left, right)

    def _bits(self, bits: int, node: ast.AST) -> None:
        if bits > MAX_BITS + 64:
            raise ValueError(f"the number {self.at(node)} is too large (beyond 1e300)")

    def _power(self, node: ast.BinOp) -> Any:
        base, exponent = self.build(node.left), self.build(node.right)
        if exponent.is_number:
            size = abs(float(exponent.evalf(15)))
            if not size <= MAX_EXPONENT:
                raise ValueError(
                    f"the exponent {self.at(node.right)} is too large: "
                    f"|exponent| ≤ {MAX_EXPONENT} for a constant exponent"
                )
            if base.is_Rational:  # SymPy computes it exactly: bound the digits first
                bits = max(abs(base.p).bit_length(), base.q.bit_length())
                self._bits(math.ceil(size * bits), node)
            if base.is_number and base.is_zero and exponent.is_negative:
                raise ValueError(f"0 to a negative power {self.at(node)} is infinite")
        return sympy.Pow(base, exponent)

    def _call(self, node: ast.Call) -> Any:
        if not isinstance(node.func, ast.Name):
            raise ValueError(f"only a function's name can be called {self.at(node)}; {_HELP}")
        name = node.func.id
        if name not in FUNCTIONS:
            known = ", ".join(FUNCTIONS)
            if name in NAMES:
                raise ValueError(
                    f"'{name}' {self.at(node)} is not a function; write {name}*(…) for a product"
                )
            raise ValueError(f"unknown function '{name}' {self.at(node)}; known: {known}")
        if node.keywords:
            raise ValueError(f"{name}() takes no keyword arguments {self.at(node.keywords[0])}")
        function, fewest, most = FUNCTIONS[name]
        if not fewest <= len(node.args) <= most:
            wanted = str(fewest) if fewest == most else f"{fewest} to {most}"
            raise ValueError(
                f"{name}() takes {wanted} argument{'s' if most > 1 else ''}, "
                f"got {len(node.args)} {self.at(node)}"
            )
        arguments = [self.build(a) for a in node.args]
        if name == "log" and arguments[0].is_number and not arguments[0].is_positive:
            raise ValueError(f"log of a number ≤ 0 {self.at(node.args[0])}")
        return function(*arguments)


def check_bounds(bounds: Any) -> Bounds:
    """((xmin, xmax), (ymin, ymax)) as floats: finite, xmin < xmax, within ±MAX_BOUND."""
    try:
        (xmin, xmax), (ymin, ymax) = ((float(a), float(b)) for a, b in bounds)
    except (TypeError, ValueError):
        raise ValueError("bounds must be [[xmin, xmax], [ymin, ymax]]") from None
    for axis, lo, hi in (("x", xmin, xmax), ("y", ymin, ymax)):
        if not (math.isfinite(lo) and math.isfinite(hi)):
            raise ValueError(f"bounds of {axis} must be finite numbers")
        if not max(abs(lo), abs(hi)) <= MAX_BOUND:
            raise ValueError(f"bounds of {axis} must lie within ±{MAX_BOUND:g}")
        if not hi - lo >= 1e-6 * max(1.0, abs(lo), abs(hi)):
            raise ValueError(f"bounds of {axis}: the lower bound must be below the upper one")
    return (xmin, xmax), (ymin, ymax)


def check_start(start: Any, bounds: Bounds) -> tuple[float, float]:
    try:
        x, y = (float(v) for v in start)
    except (TypeError, ValueError):
        raise ValueError("start must be [x, y]") from None
    (xmin, xmax), (ymin, ymax) = bounds
    if not (math.isfinite(x) and math.isfinite(y)):
        raise ValueError("start must be finite numbers")
    if not (xmin <= x <= xmax and ymin <= y <= ymax):
        raise ValueError(
            f"start ({x:g}, {y:g}) is outside the bounds x ∈ [{xmin:g}, {xmax:g}], "
            f"y ∈ [{ymin:g}, {ymax:g}]"
        )
    return x, y


def parse(
    text: str,
    bounds: Any = ((-3.0, 3.0), (-3.0, 3.0)),
    start: Any = None,
    *,
    name: str = "custom",
) -> Landscape:
    """A `Landscape` from typed text: exact gradient, minima found over `bounds`.

    `start` defaults to a point a fifth of the way in from the top-left corner (a centre
    start often sits on the minimum, and then there is no race). ValueError with the
    column for a bad expression, naming the field for bad bounds or start.
    """
    bounds = check_bounds(bounds)
    (xmin, xmax), (ymin, ymax) = bounds
    if start is None:  # rounded to the bounds' scale, so a link's short decimals hold it exactly
        places = max(0, 2 - math.floor(math.log10(max(xmax - xmin, ymax - ymin))))
        start = (
            round(xmin + 0.2 * (xmax - xmin), places),
            round(ymax - 0.2 * (ymax - ymin), places),
        )
    start = check_start(start, bounds)
    expression = read(text)
    draft = Landscape(
        name=name,
        title=expression.formula,
        formula=expression.formula,
        latex=expression.latex,
        bounds=bounds,
        default_start=start,
        minima=(),
        fn=expression.fn,
        grad_fn=expression.grad_fn,
        about="A function typed by the lecturer; its minima were found numerically.",
    )
    return Landscape(**{**_fields(draft), "minima": find_minima(draft)})


def _fields(f: Landscape) -> dict[str, Any]:
    return {k: getattr(f, k) for k in f.__dataclass_fields__}


_GRID = 121  # points per side of the search grid: a cell is < 1% of the bounds
_NEWTON = 40


def find_minima(f: Landscape) -> tuple[Minimum, ...]:
    """The minima of `f` inside its bounds, found numerically; globals first, then locals
    by value, at most MAX_MINIMA. ValueError if f is finite nowhere on the bounds.

    Candidates are the grid points no higher than their eight neighbours; each is polished
    by Newton's method (exact gradient, `Landscape.hessian`), falling back to a gradient
    step with backtracking where the Hessian is not positive definite. A polished point is
    kept if it stays within the bounds, its gradient vanishes on the landscape's own scale
    and the Hessian has no clearly negative eigenvalue.
    """
    (xmin, xmax), (ymin, ymax) = f.bounds
    xs, ys = np.linspace(xmin, xmax, _GRID), np.linspace(ymin, ymax, _GRID)
    xx, yy = np.meshgrid(xs, ys)
    z = f.value(np.stack([xx, yy], axis=-1))
    finite = np.isfinite(z)
    if not finite.any():
        raise ValueError("f(x, y) is not a finite number anywhere within the bounds")
    padded = np.pad(np.where(finite, z, np.inf), 1, constant_values=np.inf)
    lowest = np.ones_like(finite)
    for di in (-1, 0, 1):
        for dj in (-1, 0, 1):
            if di or dj:
                neighbour = padded[1 + di : 1 + di + _GRID, 1 + dj : 1 + dj + _GRID]
                lowest &= z <= neighbour
    lowest &= finite
    rows, cols = np.nonzero(lowest)
    order = np.argsort(z[rows, cols], kind="stable")[: 4 * MAX_MINIMA]
    points = np.stack([xx[rows, cols][order], yy[rows, cols][order]], axis=-1)
    if len(points) == 0:
        return ()
    polished = _polish(f, points)
    span = max(xmax - xmin, ymax - ymin)
    margin = 1e-9 * span
    inside = (
        (polished[:, 0] >= xmin - margin)
        & (polished[:, 0] <= xmax + margin)
        & (polished[:, 1] >= ymin - margin)
        & (polished[:, 1] <= ymax + margin)
    )
    values = f.value(polished)
    grads = np.hypot(*f.grad(polished).T)
    # the gradient's own scale over the bounds: "vanishes" means tiny next to it
    all_grads = np.hypot(*f.grad(np.stack([xx, yy], axis=-1)[::6, ::6].reshape(-1, 2)).T)
    finite_grads = all_grads[np.isfinite(all_grads)]
    scale = float(np.median(finite_grads)) if finite_grads.size else 1.0
    flat = grads <= 1e-7 * max(scale, 1e-300) + 1e-12
    with np.errstate(all="ignore"):
        eigen = np.linalg.eigvalsh(np.nan_to_num(f.hessian(polished)))
    curved = eigen[:, 0] >= -1e-6 * np.maximum(np.abs(eigen[:, 1]), 1e-12)
    keep = inside & np.isfinite(values) & flat & curved
    found: list[tuple[float, float, float]] = []
    for (x, y), value in zip(polished[keep], values[keep], strict=True):
        if all(math.hypot(x - a, y - b) > 1e-6 * span for a, b, _ in found):
            found.append((float(x), float(y), float(value)))
    if not found:
        return ()
    best = min(v for _, _, v in found)
    tolerance = 1e-6 * max(1.0, abs(best))  # optimizers.status.VALUE_TOLERANCE
    if float(z[finite].min()) < best - tolerance:
        best = -math.inf  # lower on the edge of the bounds: no minimum inside is global
    found.sort(key=lambda m: (m[2], m[0], m[1]))
    return tuple(
        Minimum(x, y, v, "global" if v - best <= tolerance else "local")
        for x, y, v in found[:MAX_MINIMA]
    )


def _polish(f: Landscape, points: np.ndarray) -> np.ndarray:
    """Newton's method from each row of `points` (K, 2), all rows at once, with a
    backtracking gradient step where Newton's step is not a descent."""
    points = points.copy()
    factors = 0.5 ** np.arange(12)  # step lengths tried: 1, 1/2, … 1/2048
    (xmin, xmax), (ymin, ymax) = f.bounds
    unit = max(xmax - xmin, ymax - ymin) / (_GRID - 1)
    for _ in range(_NEWTON):
        with np.errstate(all="ignore"):
            g = f.grad(points)
            h = f.hessian(points)
            value = f.value(points)
            det = h[:, 0, 0] * h[:, 1, 1] - h[:, 0, 1] * h[:, 1, 0]
            positive = (h[:, 0, 0] > 0) & (det > 0)
            newton = np.stack(
                [
                    (h[:, 1, 1] * g[:, 0] - h[:, 0, 1] * g[:, 1]) / det,
                    (h[:, 0, 0] * g[:, 1] - h[:, 1, 0] * g[:, 0]) / det,
                ],
                axis=-1,
            )
            norm = np.hypot(*g.T)
            descent = g * (unit / np.where(norm > 0, norm, 1.0))[:, None]
            step = np.where((positive & np.isfinite(newton).all(axis=1))[:, None], newton, descent)
            step = np.where(np.isfinite(step), step, 0.0)
            trials = points[:, None, :] - factors[None, :, None] * step[:, None, :]
            tried = f.value(trials)  # (K, 12)
            better = np.isfinite(tried) & (tried <= value[:, None])
        first = np.where(better.any(axis=1), better.argmax(axis=1), -1)
        moved = first >= 0
        if not moved.any():
            break
        chosen = trials[np.arange(len(points)), np.maximum(first, 0)]
        change = np.hypot(*(chosen - points).T)
        points = np.where(moved[:, None], chosen, points)
        if (change <= 1e-15 * (1 + np.hypot(*points.T))).all():
            break
    return points
