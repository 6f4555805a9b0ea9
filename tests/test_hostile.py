"""Hostile input for every public function of the package (a hypothesis suite).

Each call gets random bad input mixed with good: wrong types, NaN and inf, empty and huge
containers, huge ints, NumPy scalars and arrays, dicts and sets, strings. It must either work
or raise a documented error with a message:

- the error is a ``TypeError``, ``ValueError``, ``ArithmeticError`` (``OverflowError``,
  ``ZeroDivisionError``, ``FloatingPointError``), ``IndexError``, ``RuntimeError`` (e.g.
  ``GradcheckError``) or ``ImportError``, with a non-empty message;
- an error that leaves the package's own code comes from a ``raise`` statement there, never
  from a builtin tripping inside it (``float()`` of a huge int, ``len()`` of a number, a
  missing key or attribute, a division by zero);
- ``KeyError`` and ``AttributeError`` are never acceptable, and ``IndexError`` or
  ``ZeroDivisionError`` only when raised on purpose;
- a result holds no NaN, and no Value in it has a NaN or infinite value or gradient.

The examples are derandomized (the same every run, so the suite stays green or red for a
reason) and not shrunk (fast); ``HOSTILE_RANDOM=1`` draws new ones, ``HOSTILE_EXAMPLES=n``
draws more and ``HOSTILE_SHRINK=1`` reports minimal failing examples, e.g.
``HOSTILE_RANDOM=1 HOSTILE_EXAMPLES=300 HOSTILE_SHRINK=1 pytest tests/test_hostile.py``.
A known, documented limitation is marked xfail with its reason (``KNOWN_FAULTS``).
"""

from __future__ import annotations

import contextlib
import itertools
import linecache
import math
import os
import signal
from collections.abc import Callable, Iterator
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest

hypothesis = pytest.importorskip("hypothesis")
np = pytest.importorskip("numpy")
from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import tinygrad_edu  # noqa: E402
from tinygrad_edu import Value, nn  # noqa: E402
from tinygrad_edu import data as D  # noqa: E402
from tinygrad_edu import engine as E  # noqa: E402
from tinygrad_edu import losses as L  # noqa: E402

PACKAGE_DIR = os.path.dirname(os.path.abspath(tinygrad_edu.__file__))
DOCUMENTED = (TypeError, ValueError, ArithmeticError, IndexError, RuntimeError, ImportError)
ONLY_ON_PURPOSE = (IndexError, ZeroDivisionError)
EXAMPLES = int(os.environ.get("HOSTILE_EXAMPLES", "12"))
RANDOM = os.environ.get("HOSTILE_RANDOM", "") not in ("", "0")
SHRINK = os.environ.get("HOSTILE_SHRINK", "") not in ("", "0")  # minimal examples, slower
TIME_LIMIT = 30  # seconds for one call: more is a hang (e.g. a loop over a huge count)


# ---------------------------------------------------------------------------------------------
# The verdict on one call
# ---------------------------------------------------------------------------------------------
class Hang(BaseException):
    """A call ran longer than TIME_LIMIT (BaseException: no `except Exception` swallows it)."""


@contextlib.contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    if not hasattr(signal, "setitimer"):  # not on this platform: no guard
        yield
        return

    def on_alarm(signum: int, frame: Any) -> None:
        raise Hang(f"the call ran longer than {seconds} s")

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def raising_place(err: BaseException) -> tuple[str, int, str]:
    """File, line and source text of the frame the error was raised in."""
    tb = err.__traceback__
    assert tb is not None
    while tb.tb_next is not None:
        tb = tb.tb_next
    filename = tb.tb_frame.f_code.co_filename
    return filename, tb.tb_lineno, linecache.getline(filename, tb.tb_lineno).strip()


def check_error(err: Exception, call: str) -> None:
    kind = type(err).__name__
    filename, line, source = raising_place(err)
    where = f"{os.path.relpath(filename, os.path.dirname(PACKAGE_DIR))}:{line}: {source}"
    inside = os.path.abspath(filename).startswith(PACKAGE_DIR + os.sep)
    on_purpose = inside and source.startswith("raise")
    message = str(err).strip()
    assert message, f"{call} raised {kind} with an empty message at {where}"
    assert not isinstance(err, (KeyError, AttributeError)), (
        f"{call} raised a bare {kind}: {message} at {where}"
    )
    assert isinstance(err, DOCUMENTED), f"{call} raised {kind} (not documented): {message}"
    if isinstance(err, ONLY_ON_PURPOSE):
        assert on_purpose, f"{call} raised a bare {kind} from inside: {message} at {where}"
    if inside:
        assert on_purpose, (
            f"{call} raised {kind} from a builtin inside the package, not a deliberate error: "
            f"{message} at {where}"
        )


def find_nan(obj: Any, path: str = "result", depth: int = 0) -> str | None:
    """Where a NaN (or a non-finite Value) hides in a result, or None."""
    if depth > 6:
        return None
    if isinstance(obj, Value):
        if not (math.isfinite(obj.data) and math.isfinite(obj.grad)):
            return f"{path} = {obj!r} (grad {obj.grad})"
        return None
    if isinstance(obj, float):
        return f"{path} = nan" if obj != obj else None
    if isinstance(obj, np.ndarray) and obj.dtype.kind == "f":
        return f"{path} holds NaN" if np.isnan(obj).any() else None
    if isinstance(obj, (list, tuple)):
        for i, e in enumerate(obj[:1000]):
            found = find_nan(e, f"{path}[{i}]", depth + 1)
            if found:
                return found
        return None
    if isinstance(obj, dict):
        for k, e in list(obj.items())[:1000]:
            found = find_nan(e, f"{path}[{k!r}]", depth + 1)
            if found:
                return found
        return None
    if isinstance(obj, nn.Module):
        return find_nan(obj.parameters(), f"{path}.parameters()", depth + 1)
    if type(obj).__module__.startswith("tinygrad_edu") and hasattr(obj, "__dict__"):
        return find_nan(vars(obj), f"{path}.__dict__", depth + 1)  # optimizers, History
    if type(obj).__module__.startswith("torch") and hasattr(obj, "parameters"):
        import torch

        if any(torch.isnan(p).any() for p in obj.parameters()):
            return f"{path} has NaN parameters"
    return None


def judged(call: str, fn: Callable[..., Any], /, *args: Any,
           **kwargs: Any) -> tuple[Any, Exception | None]:
    """Run ``fn``; check a raised error or the result as the module docstring says, and
    return both (one of them None)."""
    try:
        with time_limit(TIME_LIMIT):
            result = fn(*args, **kwargs)
    except Exception as err:  # noqa: BLE001 - every error is judged
        check_error(err, call)
        return None, err
    found = find_nan(result)
    assert found is None, f"{call} gave a silent NaN: {found}"
    return result, None


def shown(x: Any) -> str:
    try:
        text = repr(x)
    except Exception as err:  # noqa: BLE001 - e.g. History.__repr__ of a 400-digit loss
        text = f"<{type(x).__name__} whose repr raises {err!r}>"
    return text if len(text) <= 120 else text[:117] + "..."


# ---------------------------------------------------------------------------------------------
# Hostile values
# ---------------------------------------------------------------------------------------------
HUGE = [10**400, -(10**400), 2**1024, -(2**1024)]


def _odd_things() -> list[Any]:
    """Fixed oddities (made fresh per draw: Values and iterators are stateful)."""
    return [
        None, True, False, "", "1.5", "relu", "nan", b"x", bytearray(b"ab"), 1j,
        Decimal("1.5"), Decimal("nan"), Fraction(1, 3), object(), print, ...,
        np.float64("nan"), np.float64("inf"), np.float32(1e38), np.float16(2.0), np.int64(3),
        np.int64(-1), np.uint8(0), np.bool_(True), np.array(2.0), np.array([1.0, 2.0]),
        np.array([[1.0, 2.0]]), np.array([]), np.array(["a", "b"]), np.array([np.nan, 1.0]),
        Value(1.0), [Value(0.5), Value(-0.5)], iter([1.0, 2.0]), range(2), {}, set(), [],
        (), [[]], {0: 1.0, 1: 2.0}, {1.0, 2.0}, frozenset({3}), {"a": 1}, [1.0, "a"],
        [math.nan, 1.0], [math.inf, -math.inf], [10**400, 1], [[1.0, 2.0], [3.0]],
        # round 2 (issue 18 I-L): lazy and huge sequences, numbers in 0-d arrays and tensors
        range(10**18), range(10**20), itertools.count(), (i for i in itertools.count()),
        10**29, np.uint64(2**64 - 1), np.array(10**18), *_torch_things(),
    ]


def _torch_things() -> list[Any]:
    """0-d tensors are numbers; meta, sparse and complex tensors have no plain numbers."""
    try:
        import torch
    except ImportError:  # (CI has torch; without it these cases are the NumPy ones above)
        return []
    return [torch.tensor(1.5), torch.tensor(3), torch.tensor([1.0, 2.0]),
            torch.tensor(1.0, device="meta"), torch.zeros(2, device="meta"),
            torch.eye(2).to_sparse(), torch.tensor([1j, 2.0])]


odd = st.integers(0, len(_odd_things()) - 1).map(lambda i: _odd_things()[i])
any_float = st.floats(allow_nan=True, allow_infinity=True)
extreme_float = st.sampled_from([0.0, -0.0, 5e-324, -5e-324, 1e-320, 1e-300, 1e-160, 1e154,
                                 1e200, 1e300, 1.7976931348623157e308, -1e308, 37.0, -745.0,
                                 710.0, 1e16])
scalar = st.one_of(any_float, extreme_float, st.integers(-1000, 1000), st.sampled_from(HUGE),
                   odd)
#: hostile values without large positive counts (an epoch count of 10**400 may rightly run)
count = st.one_of(st.integers(-3, 4), st.sampled_from([-(10**400), 0.5, 2.0, math.nan, math.inf]),
                  odd)
hostile = st.recursive(
    scalar,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.tuples(inner, inner),
        st.dictionaries(st.integers(0, 3) | st.text(max_size=2), inner, max_size=3),
        st.sets(st.integers(0, 3) | st.floats(allow_nan=False), max_size=3),
        st.lists(inner, max_size=3).map(iter),
    ),
    max_leaves=6,
)
#: the right shape with bad numbers inside: rows of 2 features, labels
bad_rows = st.lists(st.lists(st.one_of(any_float, extreme_float, st.sampled_from(HUGE)),
                             min_size=2, max_size=2), min_size=0, max_size=5)
bad_numbers = st.lists(st.one_of(any_float, extreme_float, st.integers(-2, 3),
                                 st.sampled_from(HUGE)), min_size=0, max_size=5)


labels = st.one_of(st.text(max_size=4), st.sampled_from(["]", "]]", "\n", "\t", "\r", "\\",
                                                          "a\\", "\x00", "\x07", "<b>", '"',
                                                          "{", "|", "ab"]), scalar)


def fresh(make: Callable[[], Any]) -> st.SearchStrategy[Any]:
    return st.builds(make)


# ---------------------------------------------------------------------------------------------
# The cases: a function, good arguments, and what may be replaced by hostile ones
# ---------------------------------------------------------------------------------------------
class Case:
    """``call(**args)`` with each argument either good or (for a drawn few) hostile."""

    def __init__(self, name: str, call: Callable[..., Any], /, **args: Any) -> None:
        self.name, self.call = name, call
        # each argument: (good strategy, hostile strategy)
        self.args: dict[str, tuple[Any, Any]] = {
            k: v if isinstance(v, tuple) else (v, hostile) for k, v in args.items()
        }

    def run(self, data: Any) -> None:
        names = sorted(self.args)
        bad = data.draw(st.sets(st.sampled_from(names), max_size=min(2, len(names))),
                        label="hostile arguments") if names else set()
        kwargs = {
            k: data.draw(self.args[k][1] if k in bad else self.args[k][0], label=k)
            for k in names
        }
        text = f"{self.name}({', '.join(f'{k}={shown(v)}' for k, v in kwargs.items())})"
        judged(text, self.call, **kwargs)


def _model() -> nn.Module:
    return nn.MLP(2, [3, 1], "tanh", seed=0)


models = st.sampled_from([
    lambda: nn.MLP(2, [3, 1], "tanh", seed=0),
    lambda: nn.MLP(2, [2, 2], "relu", "sigmoid", seed=1),
    lambda: nn.Layer(2, 2, "sigmoid", seed=2),
    lambda: nn.Neuron(2, "linear", seed=3),
    lambda: nn.Sequential(nn.Layer(2, 2, seed=4), nn.Layer(2, 1, "linear", seed=5)),
]).map(lambda make: make())
values2 = fresh(lambda: [Value(0.3), Value(0.7)])
rows4 = st.just([[0.0, 1.0], [1.0, 0.0], [0.5, 0.5], [-1.0, 2.0]])
labels4 = st.just([0, 1, 1, 0])


# ---- engine --------------------------------------------------------------------
BINARY = {
    "+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b,
    "/": lambda a, b: a / b, "**": lambda a, b: a ** b, "r+": lambda a, b: b + a,
    "r-": lambda a, b: b - a, "r*": lambda a, b: b * a, "r/": lambda a, b: b / a,
    "r**": lambda a, b: b ** a,
}
UNARY = [name for name in ("exp", "log", "tanh", "sigmoid", "relu", "sin", "cos")
         if hasattr(Value, name)]


def binary_then_backward(op: str, a: float, b: Any) -> tuple[Value, ...]:
    x = Value(a, "x")
    out = BINARY[op](x, b)
    out.backward()
    return (out, x) + ((b,) if isinstance(b, Value) else ())


def unary_then_backward(op: str, a: float, then: str) -> tuple[Value, Value]:
    x = Value(a, "x")
    out = getattr(getattr(x, op)(), then)()
    out.backward()
    return out, x


def expression_then_backward(leaves: list[float], ops: list[tuple[str, int, int]]) -> Any:
    """A random expression over Values and extreme constants, then backward: every grad is
    finite or an OverflowError says which op (issue 12 items 8 and 9)."""
    xs = [Value(v, f"x{i}") for i, v in enumerate(leaves)]
    nodes: list[Any] = list(xs)
    for op, i, j in ops:
        # j: another node, or (a float) a constant written into the expression
        a, b = nodes[i % len(nodes)], nodes[j % len(nodes)] if isinstance(j, int) else j
        if op in UNARY:
            nodes.append(getattr(a if isinstance(a, Value) else Value(a), op)())
        else:
            nodes.append(BINARY[op](a if isinstance(a, Value) else Value(a), b))
    for node in nodes[len(xs):]:  # backward from every node, so no op goes unchecked
        node.backward()
    return nodes, xs


def set_attribute_then_use(attr: str, value: Any) -> Any:
    v = Value(1.5, "v")
    setattr(v, attr, value)
    out = v * 2.0 + v
    out.backward()
    return repr(v), out, v


def gradcheck_call(f: Any, inputs: Any, eps: Any, atol: Any, rtol: Any) -> Any:
    return tinygrad_edu.gradcheck(f, inputs, eps=eps, atol=atol, rtol=rtol)


def walk(kind: str, root: Any) -> Any:
    if kind == "order":
        return tinygrad_edu.topological_order(root)
    if kind == "locals":
        return tinygrad_edu.local_derivatives(root)
    return list(tinygrad_edu.backward_steps(root))


def a_graph() -> Value:
    x = Value(2.0, "x")
    return (x * x + 1.0).tanh()


ENGINE = [
    Case("Value", Value, data=st.floats(-10, 10), label=st.just("a")),
    Case("binary op then backward", binary_then_backward,
         op=(st.sampled_from(sorted(BINARY)), st.sampled_from(sorted(BINARY))),
         a=(st.floats(-3, 3), st.one_of(extreme_float, st.floats(allow_nan=False,
                                                                 allow_infinity=False))),
         b=(st.floats(-3, 3), st.one_of(scalar, fresh(lambda: Value(1e-300)),
                                        fresh(lambda: Value(1e300))))),
    Case("unary op then backward", unary_then_backward,
         op=(st.sampled_from(UNARY), st.sampled_from(UNARY)),
         then=(st.sampled_from(UNARY), st.sampled_from(UNARY)),
         a=(st.floats(-3, 3), st.one_of(extreme_float,
                                        st.floats(allow_nan=False, allow_infinity=False)))),
    Case("expression then backward", expression_then_backward,
         leaves=(st.lists(st.floats(-3, 3), min_size=1, max_size=3),
                 st.lists(extreme_float, min_size=1, max_size=3)),
         ops=(st.lists(st.tuples(st.sampled_from(sorted(BINARY) + UNARY), st.integers(0, 9),
                                 st.integers(0, 9)), min_size=1, max_size=5),
              st.lists(st.tuples(st.sampled_from(["*", "/", "r/", "log", "exp", "sigmoid"]),
                                 st.integers(0, 9), st.one_of(st.integers(0, 9),
                                                              extreme_float)),
                       min_size=1, max_size=5))),
    Case("Value attribute then use", set_attribute_then_use,
         attr=(st.sampled_from(["data", "label", "grad"]),
               st.sampled_from(["data", "label", "grad"])),
         value=(st.floats(-5, 5), scalar)),
    Case("linear", tinygrad_edu.linear, w=values2, x=st.just([1.0, 2.0]),
         b=fresh(lambda: Value(0.1))),
    Case("topological_order / backward_steps / local_derivatives", walk,
         kind=(st.sampled_from(["order", "steps", "locals"]),) * 2,
         root=fresh(a_graph)),
    Case("logsumexp", lambda zs: E.logsumexp(zs).backward(),
         zs=(st.lists(st.floats(-50, 50).map(Value), min_size=1, max_size=4),
             st.one_of(hostile, st.lists(st.one_of(scalar, hostile), max_size=3)))),
    Case("gradcheck", gradcheck_call,
         f=(st.just(lambda a, b: (a * b).tanh()),
            st.one_of(scalar, st.just(lambda a, b: 1.0), st.just(lambda a, b: a.data))),
         inputs=st.just([0.3, -0.7]), eps=st.just(1e-6), atol=st.just(1e-5),
         rtol=st.just(1e-3)),
]


def function_call(forward_gives: Any, backward_gives: Any, x: Any) -> Any:
    """A user-defined op returning what it is told, applied and backpropagated."""

    class Odd(tinygrad_edu.Function):
        @staticmethod
        def forward(ctx: Any, a: float) -> Any:
            ctx.save_for_backward(a)
            return a * a if forward_gives is None else forward_gives

        @staticmethod
        def backward(ctx: Any, grad: float) -> Any:
            (a,) = ctx.saved_values
            return 2 * a * grad if backward_gives is None else backward_gives

    out = Odd.apply(x)
    out.backward()
    return out, x


def explain_call(kind: str, node: Any) -> Any:
    import importlib

    module = importlib.import_module("tinygrad_edu.explain")  # the package exports the function
    return getattr(module, kind)(node)


ENGINE += [
    Case("Function.apply", function_call, forward_gives=(st.none(), scalar),
         backward_gives=(st.none(), st.one_of(scalar, st.tuples(scalar, scalar))),
         x=(fresh(lambda: Value(1.5)), st.one_of(scalar, fresh(lambda: Value(1e200))))),
    Case("explain / explain_forward / printable / Names", explain_call,
         kind=(st.sampled_from(["explain", "explain_forward", "Names"]),
               st.sampled_from(["explain", "explain_forward", "printable", "Names"])),
         node=(fresh(a_graph), st.one_of(hostile, labels))),
]


# ---- nn ------------------------------------------------------------------------
def call_model(model: Any, x: Any) -> Any:
    out = model(x)
    (out if isinstance(out, Value) else out[0]).backward()
    return out, model


def load_state(model: Any, key: Any, value: Any, whole: Any) -> Any:
    state = model.state_dict()
    if whole is not None:
        model.load_state_dict(whole)
    else:
        keys = list(state)
        try:
            hash(key)
        except TypeError:
            key = repr(key)  # any hashable key: a wrong key is the load's to refuse
        state[keys[key % len(keys)] if isinstance(key, int) else key] = value
        model.load_state_dict(state)
    return model.state_dict(), model


def set_then_call(model: Any, attr: Any, value: Any) -> Any:
    setattr(model, attr, value)
    return model([0.5, -0.5]), model


def sequential(*layers: Any) -> Any:
    s = nn.Sequential(*layers)
    return s(0.5) if getattr(s, "nin", None) == 1 else s


NN = [
    Case("Neuron", nn.Neuron, nin=st.integers(1, 4), activation=st.sampled_from(["relu", "tanh"]),
         seed=st.integers(0, 9), fused=st.booleans()),
    Case("Layer", nn.Layer, nin=st.integers(1, 4), nout=st.integers(1, 4),
         activation=st.sampled_from(["sigmoid", "linear"]), seed=st.integers(0, 9) | st.none(),
         fused=st.booleans()),
    Case("MLP", nn.MLP, nin=st.integers(1, 4), nouts=st.lists(st.integers(1, 4), min_size=1,
                                                                max_size=3),
         activation=st.sampled_from(["relu", "tanh"]),
         output_activation=st.sampled_from(["linear", "sigmoid"]), seed=st.integers(0, 9),
         fused=st.booleans()),
    Case("Dense", lambda units, activation, x: nn.Dense(units, activation)(x),
         units=(st.integers(1, 4), st.one_of(hostile, st.sampled_from(HUGE))),
         activation=(st.sampled_from(["relu", "sigmoid", "linear"]), hostile),
         x=(st.just([0.5, -1.0]), st.one_of(hostile, bad_numbers, bad_rows))),
    Case("Sequential", lambda layers: sequential(*layers),
         layers=(st.just([nn.Layer(1, 2, seed=0), nn.Layer(2, 1, seed=1)]),
                 st.lists(st.one_of(hostile, st.just(nn.Neuron(1, seed=0))), max_size=3))),
    Case("Sequential[i]", lambda i: nn.Sequential(nn.Layer(2, 2, seed=0), nn.Layer(2, 1))[i],
         i=(st.integers(-2, 1), st.one_of(hostile, st.integers(), st.sampled_from(HUGE)))),
    Case("model(x)", call_model, model=(models, models),
         x=(st.just([0.5, -1.0]), st.one_of(hostile, bad_numbers, bad_rows))),
    Case("load_state_dict", load_state, model=(models, models), key=st.integers(0, 3),
         value=(st.just(0.0), st.one_of(hostile, bad_numbers, bad_rows)),
         whole=(st.none(), hostile)),
    Case("set attribute then call", set_then_call, model=(models, models),
         attr=(st.sampled_from(["activation", "fused"]),
               st.sampled_from(["activation", "output_activation", "fused"])),
         value=(st.sampled_from(["tanh", True]), scalar)),
]


# ---- losses --------------------------------------------------------------------
def loss_then_backward(loss: Callable[..., Value], preds: Any, targets: Any) -> Any:
    out = loss(preds, targets)
    out.backward()
    return out, preds


def softmax_then_backward(values: Any) -> Any:
    out = L.softmax(values)
    out[0].backward()
    return out, values


bce_preds = st.one_of(values2, fresh(lambda: [Value(1e-300), Value(1.0 - 1e-16)]),
                      fresh(lambda: [Value(0.0), Value(1.0)]))
logits = fresh(lambda: [[Value(1.0), Value(-2.0), Value(0.5)], [Value(1000.0), Value(-1000.0),
                                                                  Value(0.0)]])
LOSSES = [
    Case(f"{name}", loss_then_backward, loss=(st.just(fn), st.just(fn)),
         preds=(good, st.one_of(hostile, bad_numbers)),
         targets=(st.just([0, 1]), st.one_of(hostile, bad_numbers)))
    for name, fn, good in [
        ("mse_loss", L.mse_loss, values2),
        ("binary_cross_entropy", L.binary_cross_entropy, bce_preds),
        ("binary_cross_entropy_with_logits", L.binary_cross_entropy_with_logits,
         st.one_of(values2, fresh(lambda: [Value(1000.0), Value(-745.0)]))),
        ("hinge_loss", lambda p, t: L.hinge_loss(p, [1 if v else -1 for v in t]), values2),
    ]
] + [
    Case("hinge_loss (raw targets)", loss_then_backward, loss=(st.just(L.hinge_loss),) * 2,
         preds=values2, targets=(st.just([1, -1]), st.one_of(hostile, bad_numbers))),
    Case("cross_entropy", loss_then_backward, loss=(st.just(L.cross_entropy),) * 2,
         preds=(logits, st.one_of(hostile, bad_rows)),
         targets=(st.just([2, 0]), st.one_of(hostile, bad_numbers))),
    Case("softmax", softmax_then_backward,
         values=(fresh(lambda: [Value(1.0), Value(709.0), Value(-1000.0)]),
                 st.one_of(hostile, bad_numbers))),
]


# ---- data ----------------------------------------------------------------------
def scaler_use(X: Any, row: Any, method: str) -> Any:
    scaler = D.StandardScaler().fit(X)
    return getattr(scaler, method)(row), scaler.mean, scaler.std


DATA = [
    Case(f"{fn.__name__}", fn, n=st.integers(1, 20), noise=st.floats(0, 2), seed=st.integers())
    for fn in (D.make_pass_fail, D.make_grades, D.make_moons)
] + [
    Case("make_xor", D.make_xor, n=st.integers(1, 20), noise=st.floats(0, 2),
         seed=st.integers(0, 5)),
    Case("make_circles", D.make_circles, n=st.integers(1, 20), noise=st.floats(0, 2),
         factor=st.floats(0.1, 0.9), seed=st.integers(0, 5)),
    Case("make_spiral", D.make_spiral, n_per_class=st.integers(1, 8), classes=st.integers(1, 4),
         noise=st.floats(0, 2), seed=st.integers(0, 5)),
    Case("make_blobs", D.make_blobs, n=st.integers(1, 20), centers=st.integers(1, 4),
         std=st.floats(0, 2), seed=st.integers(0, 5)),
    Case("to_pm1", D.to_pm1, y=(st.just([0, 1, 1]), st.one_of(hostile, bad_numbers))),
    Case("train_test_split", D.train_test_split, X=(rows4, st.one_of(hostile, bad_rows)),
         y=(labels4, st.one_of(hostile, bad_numbers)), test_fraction=st.floats(0.1, 0.6),
         seed=st.integers(0, 9)),
    Case("standardize", D.standardize,
         X_train=(rows4, st.one_of(hostile, bad_rows, st.just([[1e308, -1e308], [1e308, 1]])))),
    Case("StandardScaler", scaler_use, X=(rows4, st.one_of(hostile, bad_rows)),
         row=(st.just([1.0, 2.0]), st.one_of(hostile, bad_numbers, bad_rows)),
         method=(st.sampled_from(["transform_one", "inverse_transform_one"]),
                 st.sampled_from(["transform", "inverse_transform", "transform_one"]))),
]


# ---- optim ---------------------------------------------------------------------
def optimizer_step(kind: str, params: Any, lr: Any, grads: Any, extra: Any) -> Any:
    from tinygrad_edu import optim

    kwargs = {} if extra is None else {k: v for k, v in [extra]}
    opt = getattr(optim, kind)(params, lr=lr, **kwargs)
    for p, g in zip(opt.params, grads if isinstance(grads, list) else [grads]):
        p.grad = g
    opt.step()
    opt.step()
    return opt.params, opt


def _optimizers() -> list[str]:
    from tinygrad_edu import optim

    return [n for n in ("SGD", "Adam", "AdamW") if hasattr(optim, n)]


extras = st.sampled_from(["momentum", "weight_decay", "dampening", "nesterov", "betas", "eps"])
OPTIM = [
    Case("optimizer step", optimizer_step,
         kind=(st.sampled_from(_optimizers()), st.sampled_from(_optimizers())),
         params=(values2, st.one_of(hostile, fresh(lambda: [Value(1.0)] * 2))),
         lr=(st.floats(1e-3, 1.0), scalar),
         grads=(st.lists(st.floats(-2, 2), min_size=2, max_size=2),
                st.lists(st.one_of(extreme_float, st.sampled_from([1e155, -1e160, 1e308])),
                         min_size=2, max_size=2)),
         extra=(st.none(), st.tuples(extras, st.one_of(scalar, st.tuples(scalar, scalar))))),
]


# ---- train ---------------------------------------------------------------------
def fit_call(model: Any, X: Any, y: Any, loss: Any, lr: Any, epochs: Any, batch_size: Any,
             shuffle: Any, seed: Any, metrics: Any) -> Any:
    from tinygrad_edu import optim, train

    opt = optim.SGD(model.parameters(), lr=lr)
    return train.fit(model, X, y, loss, opt, epochs, batch_size=batch_size, shuffle=shuffle,
                     seed=seed, progress=False, metrics=metrics), model


def predict_call(kind: str, model: Any, X: Any, y: Any, threshold: Any) -> Any:
    from tinygrad_edu import train

    if kind == "predict":
        return train.predict(model, X)
    return train.accuracy(model, X, y, threshold)


def history_call(names: Any, params: Any) -> Any:
    from tinygrad_edu import train

    h = train.History(names, params)
    return repr(h), len(h), h


loss_names = st.sampled_from(["mse_loss", "binary_cross_entropy_with_logits", "hinge_loss"])
TRAIN = [
    Case("fit", fit_call, model=(fresh(_model), models), X=(rows4, st.one_of(hostile, bad_rows)),
         y=(labels4, st.one_of(hostile, bad_numbers)), loss=(loss_names, st.one_of(
             hostile, st.just(lambda p, t: 1.0), st.just(L.cross_entropy))),
         lr=(st.just(0.1), st.one_of(st.sampled_from([1e10, 1e200]), scalar)),
         epochs=(st.integers(1, 2), count), batch_size=(st.none() | st.integers(1, 5), count),
         shuffle=(st.booleans(), scalar), seed=(st.integers(0, 9), scalar),
         metrics=(st.none() | st.just(["accuracy"]), hostile)),
    Case("predict / accuracy", predict_call,
         kind=(st.sampled_from(["predict", "accuracy"]),) * 2, model=(models, models),
         X=(rows4, st.one_of(hostile, bad_rows)), y=(labels4, st.one_of(hostile, bad_numbers)),
         threshold=(st.just(0.5), scalar)),
    Case("History", history_call, names=(st.just(["loss"]), hostile),
         params=(st.none(), hostile)),
]


# ---- interop -------------------------------------------------------------------
def to_torch_call(model: Any, change: Any) -> Any:
    from tinygrad_edu.interop import to_torch

    if change is not None and isinstance(model, nn.Module):
        target, value = change
        layer = model.layers[0] if hasattr(model, "layers") else model
        neuron = layer.neurons[0] if hasattr(layer, "neurons") else layer
        if target == "weight":
            neuron.w[0].data = value
        else:
            setattr(neuron, target, value)
    return to_torch(model)


def from_torch_call(layers: Any, fused: Any) -> Any:
    import torch

    from tinygrad_edu.interop import from_torch

    mods = [torch.nn.Linear(2, 3), *layers] if isinstance(layers, list) else layers
    seq = torch.nn.Sequential(*mods) if isinstance(mods, list) else mods
    return from_torch(seq, fused=fused)


def _torch_parts() -> st.SearchStrategy[Any]:
    torch = pytest.importorskip("torch")
    lookalike = type("ReLU", (torch.nn.Module,), {"forward": lambda self, x: x})
    return st.lists(st.sampled_from([
        torch.nn.ReLU(), torch.nn.Tanh(), torch.nn.Linear(3, 1), torch.nn.Linear(2, 2),
        torch.nn.Dropout(), lookalike(), torch.nn.Identity(), torch.nn.Sigmoid(),
    ]), max_size=3)


INTEROP = [
    Case("to_torch", to_torch_call, model=(models, st.one_of(models, hostile)),
         change=(st.none(), st.tuples(st.sampled_from(["weight", "activation", "w", "b"]),
                                      scalar))),
    Case("from_torch", from_torch_call, layers=(st.deferred(_torch_parts),
                                                st.one_of(hostile, st.deferred(_torch_parts))),
         fused=st.booleans()),
]


# ---- compile -------------------------------------------------------------------
def trace_call(fn: Any, inputs: Any, call_with: Any) -> Any:
    from tinygrad_edu.compile import trace

    traced = trace(fn, *inputs) if isinstance(inputs, list) else trace(fn, inputs)
    return traced(*call_with) if isinstance(call_with, list) else traced(call_with)


def compile_step_call(model: Any, loss: Any, x: Any, y: Any, batch: Any) -> Any:
    from tinygrad_edu.compile import compile_step

    step = compile_step(model, loss, x, y)
    return step(*batch), model


def _tanh_product(a: Value, b: Value) -> Value:
    return (a * b).tanh()


COMPILE = [
    Case("trace", trace_call, fn=(st.just(_tanh_product), st.one_of(
        hostile, st.just(lambda a, b: a.data), st.just(lambda a, b: a if a.data > 0 else b))),
         inputs=(st.just([1.0, 2.0]), st.one_of(hostile, bad_numbers)),
         call_with=(st.just([0.5, -0.5]), st.one_of(hostile, bad_numbers))),
    Case("compile_step", compile_step_call, model=(fresh(_model), st.one_of(models, hostile)),
         loss=(st.just(L.mse_loss), st.one_of(hostile, st.just(L.cross_entropy))),
         x=(st.just([0.5, -0.5]), st.one_of(hostile, bad_numbers)),
         y=(st.just(1.0), st.one_of(hostile, bad_numbers)),
         batch=(st.just([[[0.5, -0.5], [1.0, 2.0]], [1.0, 0.0]]),
                st.one_of(hostile, st.tuples(bad_rows, bad_numbers).map(list)))),
]


# ---- exercises: the checkers get a learner's broken code ----------------------
def _learner_code() -> st.SearchStrategy[Any]:
    """What a learner may hand in: nothing yet, junk, code that raises or returns junk."""

    def raising(err: Exception) -> Callable[..., Any]:
        def code(*args: Any, **kwargs: Any) -> Any:
            raise err

        return code

    def looping(*args: Any, **kwargs: Any) -> Any:  # stopped by the checkers' time limit
        while True:
            pass

    return st.one_of(
        scalar,
        st.sampled_from([
            raising(NotImplementedError()), raising(KeyError("x")), raising(ZeroDivisionError()),
            raising(AttributeError("no")), raising(RecursionError()), lambda *a, **k: None,
            lambda *a, **k: math.nan, lambda *a, **k: "0.5", lambda *a, **k: [math.inf],
            lambda *a, **k: a[0] if a else None, lambda *a, **k: {"loss": 1.0}, looping,
            lambda *a, **k: iter(int, 1), lambda *a, **k: range(10**18),
        ]),
        st.builds(lambda v: lambda *a, **k: v, scalar),
    )


def checker_call(checker: str, code: Any, more: Any) -> Any:
    import tinygrad_edu.exercises as ex

    check = getattr(ex, checker)
    limit = {"quiet": True, "timeout": 1.0}  # (a learner's loop costs 1 s, not 5)
    if checker == "check_engine":
        return bool(check(code, **limit))
    if checker == "check_function":
        return bool(check(code, points=more, **limit))
    return bool(check(code, more, **limit) if checker != "check_training_step"
                else check(code, **limit))


class _BrokenValue:
    """A learner's Value class that half works."""

    def __init__(self, data: Any, _children: Any = (), _op: str = "") -> None:
        self.data, self.grad, self._prev, self._op = data, 0.0, set(_children), _op
        self._backward = lambda: None

    def __add__(self, other: Any) -> Any:
        return _BrokenValue(self.data + getattr(other, "data", other), (self, other), "+")


class _FloatValue(_BrokenValue):
    """The commonest beginner bug: an op that returns the number, not a Value."""

    def __mul__(self, other: Any) -> Any:
        return self.data * getattr(other, "data", other)


class _RaisingValue(_BrokenValue):
    @property
    def grad(self) -> Any:
        raise ValueError("no grad")

    @grad.setter
    def grad(self, value: Any) -> None:
        pass


class _LoopingValue(_BrokenValue):
    def backward(self) -> None:
        while True:
            pass


EXERCISES = [
    Case("exercise checkers", checker_call,
         checker=(st.sampled_from(["check_nudging", "check_softmax_nll",
                                   "check_training_step", "check_function"]),) * 2,
         code=(st.deferred(_learner_code), st.deferred(_learner_code)),
         more=(st.none(), st.one_of(st.deferred(_learner_code), hostile))),
    Case("check_engine", lambda cls: checker_call("check_engine", cls, None),
         cls=(st.sampled_from([_BrokenValue, _FloatValue, _RaisingValue, _LoopingValue]),
              st.one_of(hostile, st.just(Value), st.just(int),
                        st.just(type("Empty", (), {}))))),
]


# ---- pictures: viz and plot, small inputs ----------------------------
def step_through_call(root: Any, direction: Any) -> Any:
    from tinygrad_edu.viz import step_through

    stepper = step_through(root, direction)
    return len(stepper)


def draw_graph_call(label: Any, rankdir: Any, fmt: Any, show_grad: Any, max_nodes: Any,
                    digits: Any, render: bool) -> Any:
    from tinygrad_edu import viz

    root = a_graph()
    root.backward()
    root.label = label
    g = viz.draw_graph(root, rankdir=rankdir, format=fmt, show_grad=show_grad,
                       max_nodes=max_nodes, digits=digits)
    if render and viz.graphviz_available():
        g.pipe(format="svg")
    return g.source


def draw_network_call(model: Any, show_weights: Any, max_neurons: Any, input_labels: Any,
                      digits: Any) -> Any:
    from tinygrad_edu import viz

    return viz.draw_network(model, show_weights=show_weights, max_neurons=max_neurons,
                            input_labels=input_labels, digits=digits).source


def _close_figures() -> None:
    import matplotlib.pyplot as plt

    plt.close("all")


def plot_call(name: str, **kwargs: Any) -> Any:
    import matplotlib

    matplotlib.use("Agg")
    from tinygrad_edu import plot

    try:
        return getattr(plot, name)(**kwargs)
    finally:
        _close_figures()


def history(losses: list[float]) -> Any:
    from tinygrad_edu.train import History

    h = History(["loss"])
    h.history["loss"].extend(losses)
    h.epoch.extend(range(1, len(losses) + 1))
    return h


def bowl(a: Value, b: Value) -> Value:
    return (a - 1.0) ** 2 + (b + 0.5) ** 2


def batch_bowl(a: Value, b: Value, batch: list[int]) -> Value:
    return sum(((a - i) ** 2 + (b + 0.5 * i) ** 2 for i in batch), Value(0.0)) / len(batch)


def recorder_call(X: Any, y: Any, every: Any, resolution: Any) -> Any:
    import matplotlib

    matplotlib.use("Agg")
    from tinygrad_edu import optim, plot, train

    try:
        rec = plot.TrainingRecorder(X, y, every=every, resolution=resolution)
        model = _model()
        train.fit(model, [[0.0, 1.0], [1.0, 0.0]], [0, 1], "mse_loss",
                  optim.SGD(model.parameters(), lr=0.1), 2, progress=False, callbacks=[rec])
        return rec
    finally:
        _close_figures()


PICTURES = [
    Case("step_through", step_through_call, root=(fresh(a_graph), st.one_of(hostile, labels)),
         direction=(st.sampled_from(["backward", "forward"]), hostile)),
    Case("draw_graph", draw_graph_call, label=(st.just("out"), labels),
         rankdir=(st.just("LR"), hostile), fmt=(st.just("svg"), hostile),
         show_grad=st.booleans(), max_nodes=(st.just(300), count),
         digits=(st.just(4), count), render=(st.just(False), st.just(True))),
    Case("draw_network", draw_network_call, model=(models, st.one_of(models, hostile)),
         show_weights=st.booleans(), max_neurons=(st.just(12), count),
         input_labels=(st.none(), st.one_of(hostile, st.lists(labels, min_size=2, max_size=2))),
         digits=(st.just(2), count)),
    Case("animate_network", lambda model, x, target, lr: len(__import__(
        "tinygrad_edu.viz").viz.animate_network(model, x, target, lr=lr)),
         model=(fresh(_model), st.one_of(models, hostile)),
         x=(st.just([0.5, -1.0]), st.one_of(hostile, bad_numbers)),
         target=(st.just(1.0), st.one_of(hostile, bad_numbers)), lr=(st.just(0.1), scalar)),
    Case("plot_history", lambda history, logy, title: plot_call(
        "plot_history", history=history, logy=logy, title=title),
         history=(st.just(history([1.0, 0.5, 0.25])), st.one_of(
             hostile, st.just(history([])), st.builds(history, bad_numbers),
             st.just(np.array([1.0, 0.5])), st.just({"loss": np.array([1.0, 0.5])}))),
         logy=st.booleans(), title=(st.none(), labels)),
    Case("plot_decision_boundary", lambda model, X, y, resolution, query: plot_call(
        "plot_decision_boundary", model=model, X=X, y=y, resolution=resolution, query=query),
         model=(fresh(_model), models), X=(rows4, st.one_of(hostile, bad_rows)),
         y=(labels4, st.one_of(hostile, bad_numbers)), resolution=(st.just(8), count),
         query=(st.none(), hostile)),
    Case("plot_loss_landscape", lambda loss_fn, resolution, levels, logscale, path: plot_call(
        "plot_loss_landscape", loss_fn=loss_fn, resolution=resolution, levels=levels,
        logscale=logscale, path=path),
         loss_fn=(st.just(bowl), st.one_of(hostile, st.just(lambda a, b: a * 0.0))),
         resolution=(st.just(8), count), levels=(st.just(5), count),
         logscale=(st.booleans(), scalar), path=(st.none(), st.one_of(hostile, bad_rows))),
    Case("descent_path", lambda loss_fn, start, lr, steps: plot_call(
        "descent_path", loss_fn=loss_fn, start=start, lr=lr, steps=steps),
         loss_fn=(st.just(bowl), hostile), start=(st.just((0.0, 0.0)), hostile),
         lr=(st.just(0.1), scalar), steps=(st.just(3), count)),
    Case("plot_neuron_maps", lambda model, X, y, resolution, max_neurons: plot_call(
        "plot_neuron_maps", model=model, X=X, y=y, resolution=resolution,
        max_neurons=max_neurons),
         model=(fresh(_model), st.one_of(models, hostile)), X=(rows4, st.one_of(hostile, bad_rows)),
         y=(labels4, st.one_of(hostile, bad_numbers)), resolution=(st.just(5), count),
         max_neurons=(st.just(4), count)),
    Case("TrainingRecorder in fit", recorder_call, X=(rows4, st.one_of(hostile, bad_rows)),
         y=(labels4, st.one_of(hostile, bad_numbers)), every=(st.just(1), count),
         resolution=(st.just(5), count)),
    Case("animate_descent_paths", lambda paths, frames, resolution: plot_call(
        "animate_descent_paths", loss_fn=bowl, paths=paths, frames=frames,
        resolution=resolution),
         paths=(st.just({"GD": [(0.0, 0.0), (0.5, -0.2), (0.8, -0.4)]}),
                st.one_of(hostile, st.dictionaries(st.text(max_size=3), bad_rows, max_size=2))),
         frames=(st.just(3), count), resolution=(st.just(5), count)),
    Case("batch_descent_path", lambda n, start, lr, epochs, batch_size: plot_call(
        "batch_descent_path", loss_fn=batch_bowl, n=n, start=start, lr=lr, epochs=epochs,
        batch_size=batch_size),
         n=(st.just(4), count), start=(st.just((0.0, 0.0)), hostile), lr=(st.just(0.1), scalar),
         epochs=(st.just(2), count), batch_size=(st.none() | st.just(2), count)),
    Case("plot_activations", lambda names, x_range, points: plot_call(
        "plot_activations", names=names, x_range=x_range, points=points),
         names=(st.just(["relu", "tanh"]), hostile), x_range=(st.just((-2.0, 2.0)), hostile),
         points=(st.just(9), count)),
]


# ---------------------------------------------------------------------------------------------
# Known faults in modules other helpers own: xfail with the failing case, routed via the
# coordinator (filled in from this suite's findings).
# ---------------------------------------------------------------------------------------------
_A = "engine"
KNOWN_FAULTS: dict[str, str] = {
    "Value attribute then use": f"{_A}: a .data set by hand to None, 1j, 10**400, an array "
    "fails at the next op with Python's own error: not checked on purpose (a check on every "
    "use would slow every op; README reliability). .grad and .label set by hand are named",
}

ALL = ENGINE + NN + LOSSES + DATA + OPTIM + TRAIN + INTEROP + COMPILE + EXERCISES + PICTURES
SLOW = {"fit", "plot_history", "plot_decision_boundary", "plot_loss_landscape",
        "plot_neuron_maps", "TrainingRecorder in fit", "animate_descent_paths", "step_through",
        "exercise checkers", "check_engine", "compile_step", "trace",
        "plot_activations", "draw_graph", "draw_network", "from_torch", "to_torch",
        "animate_network",
        "descent_path", "StandardScaler", "train_test_split"}


#: cheap cases whose faults are rare among random draws get more examples
MORE = {"expression then backward": 20, "binary op then backward": 3, "unary op then backward": 3}


def _param(case: Case) -> Any:
    marks = []
    if case.name in KNOWN_FAULTS:
        marks.append(pytest.mark.xfail(reason=KNOWN_FAULTS[case.name], strict=False))
    return pytest.param(case, id=case.name, marks=marks)


@pytest.mark.parametrize("case", [_param(c) for c in ALL])
def test_hostile_input(case: Case) -> None:
    examples = max(3, EXAMPLES // 3) if case.name in SLOW else EXAMPLES * MORE.get(case.name, 1)

    phases = list(Phase) if SHRINK else [Phase.explicit, Phase.generate]
    @settings(max_examples=examples, deadline=None, derandomize=not RANDOM, database=None,
              suppress_health_check=list(HealthCheck), phases=phases,
              report_multiple_bugs=SHRINK)
    @given(st.data())
    def run(data: Any) -> None:
        case.run(data)

    run()


def test_the_suite_covers_every_public_function():
    """A new public function must get a case here (names as the cases call them)."""
    import importlib

    covered = {"Value", "linear", "backward_order", "backward_steps", "gradcheck", "no_grad",
               "topological_order", "local_derivatives", "logsumexp", "Dense",
               "is_grad_enabled", "GradcheckError", "Neuron", "Layer", "MLP", "Sequential",
               "Module", "ACTIVATIONS", "Output", "mse_loss", "binary_cross_entropy",
               "binary_cross_entropy_with_logits", "hinge_loss", "cross_entropy", "softmax",
               "make_pass_fail", "make_grades", "make_moons", "make_spiral", "make_blobs",
               "make_circles", "make_xor", "animate_network",
               "to_pm1", "train_test_split", "standardize", "StandardScaler", "YOU",
               "PASS_FAIL_FEATURES", "fit", "predict", "accuracy", "History", "draw_graph",
               "draw_dot", "draw_network", "plot_history", "plot_decision_boundary",
               "plot_loss_landscape", "descent_path", "plot_activations", "Operand",
               "reference_backward", "Optimizer", "SGD", "Adam", "AdamW", "plot_neuron_maps",
               "TrainingRecorder", "animate_descent_paths", "batch_descent_path", "Function",
               "explain", "explain_forward", "printable", "Names", "step_through", "trace",
               "compile_step", "check_nudging", "check_engine", "check_function",
               "check_softmax_nll", "check_training_step", "to_torch", "from_torch",
               "function_rule"}  # (function_rule: run by every Function node, "Function.apply")
    # types and records the functions above make or raise, and constants
    not_called = {"Diagram", "GraphTooLargeError", "GraphvizNotFoundError", "graphviz_available",
                  "Metric", "FrameAnimation", "DescentAnimation", "FunctionCtx", "Stepper",
                  "Frame", "TraceError", "Traced", "CompiledStep", "MISTAKES", "Report",
                  "Result", "Mismatch", "Constant", "Math", "RULES", "Rule", "INITS",
                  "MAX_PARAMETERS", "NetworkAnimation"}
    names = ["", ".engine", ".nn", ".losses", ".data", ".optim", ".train", ".plot", ".viz",
             ".interop", ".explain", ".function", ".stepper", ".compile", ".exercises"]
    for name in names:
        try:
            module = importlib.import_module("tinygrad_edu" + name)
        except ImportError:  # a module not on this branch yet
            continue
        for public in getattr(module, "__all__", []):
            assert public in covered | not_called, f"{module.__name__}.{public} has no case"


# ---------------------------------------------------------------------------------------------
# The issue's own cases (issue 12), each judged the same way, plus what the issue asks of it
# ---------------------------------------------------------------------------------------------
def saturated_bce_by_hand() -> Any:
    w, b = Value(0.5, "w"), Value(-740.0, "b")
    loss = -(w * 0 + b).sigmoid().log()
    loss.backward()
    return loss, w, b


def backprop(make: Callable[[], tuple[Value, ...]]) -> Callable[[], Any]:
    def run() -> Any:
        out, *leaves = make()
        out.backward()
        return (out, *leaves)

    return run


def divide_by_constant(x: float, c: float) -> Callable[[], Any]:
    def run() -> float:
        v = Value(x, "x")
        (v / c).backward()
        return v.grad

    return run


def adam_after_huge_gradient() -> float:
    from tinygrad_edu.optim import Adam

    p = Value(1.0, "p")
    opt = Adam([p], lr=0.1)
    p.grad = 1e155
    with contextlib.suppress(FloatingPointError):
        opt.step()
    before = p.data
    p.grad = 1.0
    opt.step()
    return p.data - before  # must move: the state was not poisoned


def no_grad_in_another_thread() -> float:
    import threading

    inside, leave = threading.Event(), threading.Event()

    def evaluate() -> None:
        with tinygrad_edu.no_grad():
            inside.set()
            leave.wait(10)

    t = threading.Thread(target=evaluate)
    t.start()
    inside.wait(10)
    try:
        x = Value(3.0)
        (x * x).backward()
        return x.grad
    finally:
        leave.set()
        t.join()


def gradcheck_leaves_captured_values() -> float:
    c = Value(2.0, "c")
    tinygrad_edu.gradcheck(lambda x: x * c, [1.0])
    return c.grad


def gradcheck_same_value_twice() -> bool:
    v = Value(1.5)
    return tinygrad_edu.gradcheck(lambda a, b: a * b, [v, v])


def fit_with_bad_label_at_row_9() -> Any:
    from tinygrad_edu import optim, train

    X = [[float(i), 1.0] for i in range(12)]
    y: list[Any] = [0, 1] * 6
    y[9] = "pass"
    model = _model()
    return train.fit(model, X, y, "mse_loss", optim.SGD(model.parameters(), lr=0.1), 2,
                     batch_size=4, progress=False)


def fit_diverging_fused_linear() -> Any:
    from tinygrad_edu import optim, train

    model = nn.MLP(2, [4, 4, 1], "linear", seed=0)
    X = [[float(i), float(i % 3)] for i in range(8)]
    y = [float(i) for i in range(8)]
    return train.fit(model, X, y, "mse_loss", optim.SGD(model.parameters(), lr=10.0), 50,
                     progress=False)


def render_label(label: str) -> Any:
    def run() -> Any:
        from tinygrad_edu import viz

        v = Value(1.0, label)
        g = viz.draw_graph(v)
        return g.pipe(format="svg") if viz.graphviz_available() else g.source

    return run


def network_with_labels(labels: Any) -> Callable[[], Any]:
    def run() -> Any:
        from tinygrad_edu import viz

        g = viz.draw_network(nn.MLP(2, [2, 1], seed=0), input_labels=labels)
        return g.pipe(format="svg") if viz.graphviz_available() else g.source

    return run


def plot(name: str, **kwargs: Any) -> Callable[[], Any]:
    return lambda: plot_call(name, **kwargs)


def short_message(limit: int) -> Callable[[BaseException], bool]:
    return lambda err: len(str(err)) < limit


#: (issue item, the call, "error" / "ok" / a check of the result, a check of the error)
ISSUE_CASES: list[tuple[str, Callable[[], Any], Any, Any]] = [
    ("1 no_grad in another thread", no_grad_in_another_thread, lambda g: g == 6.0, None),
    ("2 subclass extra Value trained", lambda: nn.MLP(2, [1], seed=0), "ok", None),
    ("3 from_torch lookalike ReLU", lambda: from_torch_call(
        [type("ReLU", (), {"__call__": lambda self, x: x})()], True), "error", None),
    ("4 Adam state not poisoned", adam_after_huge_gradient, lambda moved: moved != 0.0, None),
    ("4 Adam(eps=0) refused", lambda: __import__("tinygrad_edu.optim").optim.Adam(
        [Value(1.0)], eps=0), "error", None),
    ("5 dict input refused", lambda: _model()({0: 10.0, 1: 20.0}), "error", None),
    ("5 set input refused", lambda: _model()({10.0, 20.0}), "error", None),
    ("7 gradcheck leaves captured Values", gradcheck_leaves_captured_values,
     lambda g: g == 0.0, None),
    ("7 gradcheck same Value twice", gradcheck_same_value_twice, lambda ok: ok is True, None),
    ("8 saturated sigmoid BCE by hand", saturated_bce_by_hand, "any", None),
    ("8 0 / 5e-324", backprop(lambda: ((v := Value(0.0)) / (d := Value(5e-324)), v, d)),
     "any", None),
    ("8 log(1e-320)", backprop(lambda: ((v := Value(1e-320)).log(), v)), "any", None),
    ("8 (a*1e200)*1e200", backprop(lambda: (((a := Value(1e-300)) * 1e200) * 1e200, a)),
     "any", None),
    ("9 x / 1e-160 gives x.grad 1e160", divide_by_constant(1.0, 1e-160),
     lambda g: g == pytest.approx(1e160, rel=1e-15), None),
    ("9 1e290 / 1e-10 gives x.grad 1e10", divide_by_constant(1e290, 1e-10),
     lambda g: g == pytest.approx(1e10, rel=1e-15), None),
    ("10 standardize NaN column", lambda: D.standardize([[1.0], [math.nan]]), "error", None),
    ("10 standardize 1e308 column", lambda: D.standardize([[1e308], [1e308], [-1e308]]),
     "ok", None),
    ("10 standardize +-1e200", lambda: D.standardize([[1e200], [-1e200]]), "ok", None),
    ("10 transform_one([nan])", lambda: D.StandardScaler().fit([[1.0], [2.0]]).transform_one(
        [math.nan]), "error", None),
    ("11 train_test_split empty train", lambda: D.train_test_split([[1.0], [2.0]], [0, 1],
                                                                   0.9), "error", None),
    ("12 diverging fused layers", fit_diverging_fused_linear, "error",
     lambda err: isinstance(err, FloatingPointError) and "epoch" in str(err)),
    ("13 fit names the row y[9]", fit_with_bad_label_at_row_9, "error",
     lambda err: "y[9]" in str(err)),
    ("14 class index of 400 digits", lambda: L.cross_entropy([Value(1.0), Value(2.0)],
                                                             10**400), "error",
     lambda err: "too large to convert" not in str(err)),
    ("14 state dict number of 400 digits", lambda: nn.Neuron(1, seed=0).load_state_dict(
        {"weight": [10**400], "bias": 0.0}), "error",
     lambda err: "too large to convert" not in str(err)),
    ("14 NumPy sizes and seeds", lambda: nn.MLP(np.int64(2), [np.int64(3)], seed=np.int64(3)),
     "ok", None),
    ("14 activation=['relu']", lambda: nn.Neuron(2, ["relu"]), "error",
     lambda err: "unhashable" not in str(err)),
    ("14 0-d NumPy input", lambda: nn.Neuron(1, seed=0)(np.array(2.0)), "ok", None),
    ("14 plot_activations(points=1)", plot("plot_activations", points=1), "error", None),
    ("14 plot_activations(points=0)", plot("plot_activations", points=0), "error", None),
    ("14 logscale landscape without a positive loss", plot(
        "plot_loss_landscape", loss_fn=lambda a, b: a * 0.0, logscale=True, resolution=6),
     "any", lambda err: "empty sequence" not in str(err)),
    ("14 descent_path(lr=nan)", plot("descent_path", loss_fn=bowl, start=(0.0, 0.0),
                                     lr=math.nan, steps=3), "error",
     lambda err: "diverged" not in str(err)),
    ("14 plot_history of a NumPy series", plot("plot_history",
                                               history={"loss": np.array([1.0, 0.5])}),
     "ok", None),
    ("14 plot_history(History())", lambda: plot_call("plot_history", history=history([])),
     "error", None),
    ("14 state dict with 200,000 extra keys", lambda: nn.Neuron(1, seed=0).load_state_dict(
        {"weight": [0.0], "bias": 0.0, **{f"k{i}": 0 for i in range(200_000)}}), "error",
     short_message(1000)),
    ("14 model.activation = 'tanh' takes effect", lambda: setattr(
        m := nn.MLP(2, [2, 1], seed=0), "activation", "tanh") or m.layers[0].activation,
     lambda act: act == "tanh", None),
    ("15 BCE with logits at z=37", lambda: L.binary_cross_entropy_with_logits(Value(37.0), 1),
     lambda loss: loss.data == pytest.approx(8.533047625744066e-17, rel=1e-12), None),
    *[(f"16 draw_graph label {label!r}", render_label(label), "any", None)
      for label in ["]", "]]", "\n", "\t", "\r", "a\x01b", "\x7f"]],
    ("16 input_labels ending in backslashes", network_with_labels(["a\\", "b\\\\\\"]), "any",
     None),
    ("16 input_labels='ab' refused", network_with_labels("ab"), "error", None),
]

#: issue cases that fail because of a fault in a module another helper owns
KNOWN_ISSUE_FAULTS: dict[str, str] = {}  # all fixed on main (engine, viz) by now


@pytest.mark.parametrize("item, thunk, expect, error_check", [
    pytest.param(*case, id=case[0], marks=[pytest.mark.xfail(
        reason=KNOWN_ISSUE_FAULTS[case[0]], strict=False)] if case[0] in KNOWN_ISSUE_FAULTS
        else [])
    for case in ISSUE_CASES
])
def test_issue_12_cases(item: str, thunk: Callable[[], Any], expect: Any,
                        error_check: Any) -> None:
    result, failure = judged(item, thunk)
    if expect == "error":
        assert failure is not None, f"{item}: expected a clear error, got {shown(result)}"
    elif expect == "ok":
        assert failure is None, f"{item}: expected a result, got {failure!r}"
    elif callable(expect):
        assert failure is None, f"{item}: expected a result, got {failure!r}"
        assert expect(result), f"{item}: the result {shown(result)} is not what the issue asks"
    if failure is not None and error_check is not None:
        assert error_check(failure), f"{item}: unclear error {failure!r}"
