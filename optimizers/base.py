"""What every optimizer shares: hyperparameter specs, their validation, the base class.

An optimizer is a pair of functions in the optax style — ``init(theta) -> state`` and
``update(grad, state, theta, lr) -> (new_theta, state)`` — bound to resolved
hyperparameters. The state holds exactly the buffers ``torch.optim`` keeps in
``optimizer.state[p]``, under torch's names (``momentum_buffer``, ``sum``, ``square_avg``,
``exp_avg``, ``exp_avg_sq``, ``step``). ``optimizers.reference`` is the loop that calls
them; the fast runner (``optimizers.runner``) gives the same bits.

For speed (a 256×256 basin map is 65,536 rows) ``update`` refreshes the state's buffers in
place and returns the same state object: treat the state you pass in as consumed. Its
intermediate results go into a ``Scratch`` the caller may keep from update to update:
fresh (K, 2) temporaries every update are several times slower once K is large.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, overload

import numpy as np

Value = float | np.ndarray

#: The picker's groups, in the page's order: plain gradient steps and momentum; methods
#: that scale each coordinate by its own history; per-layer trust ratios for large batches;
#: the contrasts that never read a gradient (``GradientFree``).
GROUPS: tuple[str, ...] = ("classic", "adaptive", "large-batch", "gradient-free")

#: ``Optimizer.scalar``'s update of one row: (g_x, g_y, x, y, lr) -> (x', y').
ScalarUpdate = Callable[[float, float, float, float, float], tuple[float, float]]


@dataclass(frozen=True)
class HyperParam:
    """One hyperparameter: the page builds a slider from it; ``create`` validates by it.

    ``min``/``max`` are inclusive; ``log`` asks for a log-scale slider; ``integer`` marks
    options that take whole numbers (schedule step counts); ``per_row`` False, one that
    takes one value for all rows (a size of the state's arrays: the genetic algorithm's
    population).
    """

    name: str
    default: float | None
    min: float
    max: float
    log: bool
    help: str
    integer: bool = False
    per_row: bool = True

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "default": self.default,
            "min": self.min,
            "max": self.max,
            "log": self.log,
            "help": self.help,
            "integer": self.integer,
        }


def lr_param(default: float) -> HyperParam:
    return HyperParam(
        "lr", default, 1e-5, 10.0, True, "Learning rate η: how far each update moves."
    )


def eps_param(default: float) -> HyperParam:
    return HyperParam(
        "eps", default, 1e-12, 1.0, True, "ε added to the denominator so it never reaches 0."
    )


#: Heavy-ball momentum μ of SGD with momentum and of NAG (same name, default, range).
MOMENTUM = HyperParam("momentum", 0.9, 0.0, 0.9999, False, "Momentum μ: share of velocity kept.")

WEIGHT_DECAY = HyperParam(
    "weight_decay",
    0.0,
    0.0,
    1.0,
    False,
    "L2 penalty λ: PyTorch adds λθ to the gradient before the update.",
)


def _format_range(spec: HyperParam) -> str:
    return f"[{spec.min:g}, {spec.max:g}]"


def _show(value: Any) -> str:
    return repr(value.item() if isinstance(value, np.generic) else value)


def check_value(owner: str, spec: HyperParam, value: Any) -> Value:
    """Validate one hyperparameter: a finite number in range, or a 1-D array of them.

    Returns a float, or a read-only float64 array of shape (K,) for per-row values.
    """
    where = f"{owner}: {spec.name}"
    if value is None or isinstance(value, bool | np.bool_ | str | bytes):
        raise ValueError(f"{where} must be a number in {_format_range(spec)}, got {value!r}")
    if isinstance(value, numbers.Real):
        number = float(value)
        if not np.isfinite(number) or not spec.min <= number <= spec.max:
            raise ValueError(f"{where}={_show(value)} is out of range {_format_range(spec)}")
        if spec.integer and number != int(number):
            raise ValueError(f"{where} must be a whole number, got {_show(value)}")
        return number
    try:
        array = np.array(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(
            f"{where} must be a number in {_format_range(spec)} or a 1-D array of them "
            f"(one per row), got {type(value).__name__}"
        ) from None
    if array.ndim == 0:
        return check_value(owner, spec, float(array))
    if not spec.per_row:
        raise ValueError(f"{where} takes one number for all rows, not one per row")
    if array.ndim != 1 or array.shape[0] == 0:
        raise ValueError(
            f"{where} per-row values must have shape (K,) with K >= 1, got shape {array.shape}"
        )
    bad = ~np.isfinite(array) | (array < spec.min) | (array > spec.max)
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(f"{where}[{i}]={array[i].item()!r} is out of range {_format_range(spec)}")
    if spec.integer and (array != np.round(array)).any():
        raise ValueError(f"{where} must be whole numbers")
    array.setflags(write=False)
    return array


def check_known(owner: str, what: str, specs: tuple[HyperParam, ...], given: Any) -> None:
    """ValueError naming every key of ``given`` that no spec has, and the valid ones."""
    valid = [spec.name for spec in specs]
    unknown = sorted(set(given) - set(valid))
    if unknown:
        raise ValueError(
            f"{owner} has no {what} {', '.join(map(repr, unknown))}; valid: {', '.join(valid)}"
        )


def resolve(
    owner: str, specs: tuple[HyperParam, ...], given: dict[str, Any]
) -> tuple[dict[str, Value], int | None]:
    """Fill defaults and validate; return (params, K) where K is the per-row length or None."""
    check_known(owner, "hyperparameter", specs, given)
    params: dict[str, Value] = {}
    rows: int | None = None
    for spec in specs:
        value = check_value(owner, spec, given.get(spec.name, spec.default))
        if isinstance(value, np.ndarray):
            if rows is not None and value.shape[0] != rows:
                raise ValueError(
                    f"{owner}: per-row hyperparameters disagree in length: "
                    f"{spec.name} has {value.shape[0]} values, another has {rows}"
                )
            rows = value.shape[0]
        params[spec.name] = value
    return params, rows


def column(value: Value) -> Value:
    """A per-row (K,) value as a (K, 1) column that broadcasts against (K, 2) points."""
    return value[:, None] if isinstance(value, np.ndarray) else value


@dataclass(slots=True)
class Scratch:
    """Space for an update's intermediate results: (K, 2) arrays, no memory between updates.

    Not part of the state: whoever loops owns it (the runner keeps one per optimizer for a
    whole run). ``grad`` takes g + λθ under weight decay, ``term`` one term of an equation
    (the step, or a product to add), ``denom`` a denominator √h + ε.
    """

    grad: np.ndarray
    term: np.ndarray
    denom: np.ndarray

    @classmethod
    def like(cls, theta: np.ndarray) -> Scratch:
        return cls(np.empty_like(theta), np.empty_like(theta), np.empty_like(theta))


class Optimizer:
    """Base class: validated hyperparameters plus the ``init``/``update`` pair.

    Subclasses set ``name``, ``title``, ``group`` (one of ``GROUPS``: where the page's
    picker lists it), ``hyperparams`` and implement ``init`` and ``update``. ``params``
    holds the resolved hyperparameters (floats, or (K,) arrays
    when given per row); ``rows`` is that K, or None when every value is a scalar.
    """

    name: ClassVar[str]
    title: ClassVar[str]
    group: ClassVar[str]
    hyperparams: ClassVar[tuple[HyperParam, ...]]

    def __init__(self, **params: Any) -> None:
        self.params, self.rows = resolve(self.name, self.hyperparams, params)
        # (K, 1) columns so per-row values broadcast against (K, 2) points
        self.hyper: dict[str, Value] = {k: column(v) for k, v in self.params.items()}

    def select(self, rows: slice) -> Optimizer:
        """This optimizer for a slice of the rows (itself when no value is per row)."""
        if self.rows is None:
            return self
        return type(self)(
            **{k: v[rows] if isinstance(v, np.ndarray) else v for k, v in self.params.items()}
        )

    def init(self, theta: np.ndarray) -> Any:
        """Fresh state for points ``theta`` of shape (K, 2)."""
        raise NotImplementedError

    def update(
        self,
        grad: np.ndarray,
        state: Any,
        theta: np.ndarray,
        lr: Value,
        out: np.ndarray | None = None,
        scratch: Scratch | None = None,
    ) -> tuple[np.ndarray, Any]:
        """One step from ``theta`` with gradient ``grad`` and this step's learning rate.

        ``lr`` is the ``lr`` hyperparameter times the schedule factor (the caller computes
        it, as ``torch.optim.lr_scheduler`` rewrites ``group["lr"]``): a float or a (K, 1)
        column. Returns the new points (written to ``out`` when given) and the state.
        ``grad`` and ``theta`` are not modified.
        """
        raise NotImplementedError

    def buffers(self) -> tuple[str, ...]:
        """The state buffers this optimizer keeps with these options, by torch's names in
        ``optimizer.state[p]`` (``step`` aside: it is the update count). What
        ``run(..., record=True)`` records."""
        return ()

    def absent_rows(self, name: str) -> np.ndarray | None:
        """Rows (K,) for which torch keeps no buffer ``name`` although this one does, or
        None: torch keeps no ``momentum_buffer`` for a parameter with μ = 0, and a per-row
        μ = 0 row here runs in one state with the others (``record`` leaves it NaN)."""
        if name == "momentum_buffer" and self.per_row("momentum"):
            return np.asarray(self.params["momentum"]) == 0.0
        return None

    def evaluations(self, updates: int) -> int:
        """What the method asked of f in ``updates`` updates, per row: here one gradient
        each (``GradientFree`` counts values of f instead), the fair measure when a race
        mixes the two kinds."""
        return updates

    def seen_gradient(self, grad: np.ndarray, theta: np.ndarray) -> np.ndarray:
        """The gradient ``update`` works with at ``theta``: g, or g + λθ under weight decay
        (a new array; the same operation as ``update``'s, so the same bits)."""
        return add_weight_decay(grad, theta, self.hyper["weight_decay"], np.empty_like(grad))

    def scalar(self, state: Any) -> tuple[ScalarUpdate, Callable[[], None]]:
        """``update`` for one row (K = 1) on Python floats: ``(step, save)``.

        ``step(g_x, g_y, x, y, lr)`` returns the new point and keeps the state in floats;
        ``save()`` writes it back into ``state``. A NumPy call on a 2-element array costs
        what twenty float operations do, so the page's runs (one row per optimizer) take
        this path in the runner, about five times faster. The same operations in the same
        order as ``update``, so the same bits (tests/optimizers/test_scalar.py).
        Optimizers without it (this default) run on arrays.
        """
        raise NotImplementedError

    @property
    def has_scalar(self) -> bool:
        return type(self).scalar is not Optimizer.scalar

    def number(self, name: str) -> float:
        """Hyperparameter ``name`` of a one-row optimizer as a float (for ``scalar``)."""
        value = self.params[name]
        return float(value[0]) if isinstance(value, np.ndarray) else float(value)

    def per_row(self, name: str) -> bool:
        """Whether ``name`` was given per row: ``update`` then takes array branches
        (e.g. a μ = 0 row keeps a momentum buffer), which ``scalar`` mirrors."""
        return isinstance(self.params[name], np.ndarray)

    def scalar_decay(self) -> float | None:
        """λ as ``add_weight_decay`` applies it (None: g is left alone)."""
        if not self.per_row("weight_decay") and self.params["weight_decay"] == 0.0:
            return None
        return self.number("weight_decay")

    def __repr__(self) -> str:
        shown = ", ".join(
            f"{k}={v.tolist() if isinstance(v, np.ndarray) else v!r}"
            for k, v in self.params.items()
        )
        return f"{type(self).__name__}({shown})"


def add_weight_decay(
    grad: np.ndarray, theta: np.ndarray, weight_decay: Value, buffer: np.ndarray
) -> np.ndarray:
    """PyTorch's coupled weight decay ``g ← g + λθ`` into ``buffer`` (grad is left alone).

    torch: ``grad.add(param, alpha=weight_decay)``, one fused multiply-add.
    """
    if not isinstance(weight_decay, np.ndarray) and weight_decay == 0.0:
        return grad
    buffer[...] = fma(theta, weight_decay, grad)
    return buffer


def addcmul_(x: np.ndarray, t1: np.ndarray, t2: np.ndarray, value: Value, term: np.ndarray) -> None:
    """torch's ``x.addcmul_(t1, t2, value)`` in place: x ← x + (value·t1)·t2."""
    if isinstance(value, np.ndarray) or value != 1:
        np.multiply(t1, value, out=term)
        term *= t2
    else:
        np.multiply(t1, t2, out=term)  # (1·t1)·t2 is t1·t2: one operation fewer
    x += term


def average_square_(avg: np.ndarray, g: np.ndarray, beta: Value, term: np.ndarray) -> None:
    """avg ← β·avg + (1 − β) g ⊙ g in place: Adam's v, RMSprop's and Adadelta's h and s.

    torch: ``avg.mul_(beta).addcmul_(g, g, value=1 - beta)``, in that order.
    """
    avg *= beta
    addcmul_(avg, g, g, 1 - beta, term)


def addcdiv(
    x: np.ndarray, t1: np.ndarray, t2: np.ndarray, value: Value, out: np.ndarray | None
) -> np.ndarray:
    """torch's ``x.addcdiv(t1, t2, value)`` into ``out`` (a new array if None):
    x + (value·t1)/t2, scaled before it divides as torch's kernel does (the other order
    differs in the last bit)."""
    out = np.multiply(t1, value, out=out)
    out /= t2
    out += x
    return out


def sqrt_plus(h: np.ndarray, eps: Value, denom: np.ndarray) -> np.ndarray:
    """The denominator √h + ε into ``denom`` (torch: ``h.sqrt().add_(eps)``)."""
    np.sqrt(h, out=denom)
    denom += eps
    return denom


def float_pow(base: Value, exponent: float) -> Value:
    """``base ** exponent`` through Python's float pow, element by element for (K,) arrays.

    torch computes Adam's bias corrections on Python floats (libm ``pow``). NumPy's array
    power takes shortcuts (``x·x`` for 2, ``sqrt`` for 0.5) that differ in the last bit,
    so a per-row hyperparameter would drift from the same value given as a scalar.
    """
    if isinstance(base, np.ndarray):
        return np.array([value**exponent for value in base.ravel().tolist()]).reshape(base.shape)
    return base**exponent


_SPLITTER = 134217729.0  # 2**27 + 1: Veltkamp's split of a float64 into two 26-bit halves


def _split(a: Value) -> tuple[Value, Value]:
    c = _SPLITTER * a
    high = c - (c - a)
    return high, a - high


@overload
def fma(a: float, b: float, c: float) -> float: ...
@overload
def fma(a: Value, b: Value, c: Value) -> Value: ...
def fma(a: Value, b: Value, c: Value) -> Value:
    """``a·b + c`` rounded once, as a fused multiply-add (FMA) instruction computes it.

    torch's CPU kernels fuse ``x + α·y`` into one rounding where NumPy rounds twice. That
    costs at most an ulp per operation, except for weight decay, whose gradient every
    buffer then squares and accumulates, so there the runner fuses as torch does (about
    ten times the cost of two NumPy operations, paid only when weight decay is on).
    Dekker's exact product (p + e = a·b) plus Knuth's exact sum give the fused result,
    within an ulp of it in rare double-rounding ties.
    """
    product = a * b
    a_high, a_low = _split(a)
    b_high, b_low = _split(b)
    error = ((a_high * b_high - product) + a_high * b_low + a_low * b_high) + a_low * b_low
    total = product + c
    virtual = total - product
    rounding = (product - (total - virtual)) + (c - virtual)
    return total + (rounding + error)


class GradientFree(Optimizer):
    """A method that moves by the values of f at points it samples, never by its gradient:
    simulated annealing and the genetic algorithm, the course notes' contrasts.

    They keep the optimizer contract so everything that races optimizers races them too,
    with three differences:

    - ``init(theta, value, seed)`` also takes f's ``value`` (``(..., 2) -> (...)``) and the
      run's seed: the state holds the function it samples and its own random generator,
      ``numpy.random.default_rng([seed, STREAM])`` (``STREAM`` apart from the gradient
      noise's ``default_rng(seed)``, so the two never share draws).
    - ``update`` ignores ``grad``: the loop computes one for every row (lockstep), these
      never read it. Gradient noise therefore changes nothing for them.
    - ``samples(state)`` (K, S, 2) are the points the last update evaluated (the
      proposal, the new population), or ``init``'s: what the page draws per step.

    ``lr`` is the scale of their random moves (the proposal or mutation σ), the slot a
    learning rate holds, so a schedule scales it as it would a learning rate.

    The random draws of an update are made for all of an optimizer's K rows at once, so
    a run's numbers depend on K: a run of these is one tile (``runner.TILE_ROWS`` rows at
    most), and the maps, which tile their 65,536 starts, refuse them.
    """

    #: Kept apart from the gradient noise's stream (``default_rng(seed)``).
    STREAM: ClassVar[int]

    def init(  # type: ignore[override]
        self, theta: np.ndarray, value: Callable[[np.ndarray], np.ndarray], seed: int
    ) -> Any:
        raise NotImplementedError

    def samples(self, state: Any) -> np.ndarray:
        """The points the last update (or ``init``) evaluated: (K, S, 2)."""
        raise NotImplementedError

    def sample_count(self) -> int:
        """S, the points per row ``samples`` holds."""
        raise NotImplementedError

    def seen_gradient(self, grad: np.ndarray, theta: np.ndarray) -> np.ndarray:
        """The gradient the loop computed (a copy): these never read it."""
        return np.array(grad, dtype=np.float64)

    def rng(self, seed: int) -> np.random.Generator:
        """This method's generator for a run with ``seed``."""
        return np.random.default_rng([seed, self.STREAM])


def sigma_param(move: str) -> HyperParam:
    """A gradient-free method's step σ, held in the ``lr`` slot (``GradientFree`` says why);
    ``move`` says what σ scales."""
    return HyperParam(
        "lr",
        0.1,
        1e-4,
        10.0,
        True,
        f"{move} (the learning rate's slot: a schedule scales it).",
    )


def is_gradient_free(optimizer: Any) -> bool:
    """Whether ``optimizer`` (an instance or class) samples f instead of following ∇f."""
    cls = optimizer if isinstance(optimizer, type) else type(optimizer)
    return issubclass(cls, GradientFree)
