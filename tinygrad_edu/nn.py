"""Neurons, layers and multi-layer perceptrons built from ``Value``.

A neuron computes

    out = act(z),    z = b + w_0*x_0 + w_1*x_1 + ... + w_{n-1}*x_{n-1}

with ``act`` one of ``relu`` (max(0, z)), ``tanh``, ``sigmoid`` (1 / (1 + e^-z)) or ``linear``
(the identity). A ``Layer`` is ``nout`` neurons reading the same ``nin`` inputs (a "dense" or
"fully connected" layer); an ``MLP`` is a stack of layers, each feeding the next.

Two ways to build a neuron's graph, with the same forward floats:

- ``fused=True`` (default, fast): one ``linear`` node for ``z`` (children ``b, w..., x...``),
  then one node for the activation.
- ``fused=False`` (for pictures): ``z`` built op by op, ``b + w0*x0 + w1*x1 + ...`` left to
  right, so the graph shows every multiplication and addition.

Weights are drawn as PyTorch's ``nn.Linear`` draws them, ``w, b ~ U(-1/sqrt(nin), 1/sqrt(nin))``,
from ``random.Random(seed)``: the same seed gives the same weights. Without a seed
(``seed=None``) they come from Python's global ``random``, so ``random.seed(1337)`` before
building a model reproduces it, as in micrograd's demo.

``state_dict()`` uses PyTorch's key names: a layer's weights are ``"weight"``, a list of
``nout`` rows of ``nin`` numbers (row j holds the weights of neuron j), its biases ``"bias"``, a
list of ``nout`` numbers; a model prefixes them with the attribute path, e.g.
``"layers.0.weight"``. A single ``Neuron`` has ``"weight"`` (``nin`` numbers) and ``"bias"``
(one number). The dict holds plain floats, so ``json.dumps``/``json.loads`` round-trips it
exactly. ``parameters()`` and ``state_dict()`` come from one walk over the attributes, so they
always list the same Values (a tied Value, held in two places, is one parameter).
"""

from __future__ import annotations

import math
import operator
import random
from collections.abc import Callable, Iterator, Mapping, Sequence, Set
from numbers import Integral, Real
from typing import Any, Protocol

from tinygrad_edu.engine import Value, linear

__all__ = [
    "Module",
    "Neuron",
    "Layer",
    "MLP",
    "Sequential",
    "ACTIVATIONS",
    "Output",
]

#: What a module returns: one ``Value`` for one output, a list of them for several.
Output = Value | list[Value]


class _Uniform(Protocol):
    """Where weights come from: a ``random.Random``, or the ``random`` module itself."""

    def uniform(self, a: float, b: float) -> float: ...


Seed = int | random.Random | None

#: A scalar engine keeps every parameter as a Python object (~100 bytes each): beyond this
#: many, a model is surely a typo (``nin=10**9``), and building it would exhaust the memory.
MAX_PARAMETERS = 10_000_000


def _identity(z: Value) -> Value:
    return z


#: The activation functions a neuron may apply to ``z = b + sum(w_i x_i)``.
ACTIVATIONS: dict[str, Callable[[Value], Value]] = {
    "relu": Value.relu,  # max(0, z);            derivative 1 if z > 0 else 0
    "tanh": Value.tanh,  # tanh(z);              derivative 1 - tanh(z)^2
    "sigmoid": Value.sigmoid,  # 1 / (1 + e^-z);  derivative s (1 - s)
    "linear": _identity,  # z;                    derivative 1
}


def _short(x: Any, limit: int = 80) -> str:
    """``repr(x)`` cut to ``limit`` characters, so a huge input never floods a message."""
    text = repr(x)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _check_activation(activation: object, what: str = "activation") -> str:
    choices = ", ".join(repr(a) for a in ACTIVATIONS)
    if not isinstance(activation, str):  # e.g. ['relu']: one name, not a list of them
        raise TypeError(
            f"{what} must be one name, one of {choices}, got {type(activation).__name__} "
            f"{_short(activation)}"
        )
    if activation not in ACTIVATIONS:
        hint = " (softmax is applied by tinygrad_edu.losses.softmax / cross_entropy)"
        raise ValueError(
            f"{what} must be one of {choices}, got {_short(activation)}"
            + (hint if activation == "softmax" else "")
        )
    return str(activation)


def _check_size(n: object, what: str) -> int:
    """A positive whole number: an int or any integer-like (``np.int64(3)``), not a bool."""
    if isinstance(n, bool) or not isinstance(n, Integral):
        raise TypeError(f"{what} must be a positive int, got {type(n).__name__} {_short(n)}")
    size = operator.index(n)
    if size < 1:
        raise ValueError(f"{what} must be a positive int, got {size}")
    if size > MAX_PARAMETERS:
        raise ValueError(f"{what} is {size:,}: {_too_big(size)}")
    return size


def _too_big(count: int) -> str:
    return (
        f"a model of {count:,} scalar parameters is beyond a scalar engine (each is a Python "
        f"object; the limit is tinygrad_edu.nn.MAX_PARAMETERS = {MAX_PARAMETERS:,}). "
        "Build models of that size in PyTorch"
    )


def _check_count(sizes: Sequence[int], what: str) -> None:
    """Refuse a model whose layers ``sizes[0] → sizes[1] → ...`` hold too many parameters."""
    count = sum((a + 1) * b for a, b in zip(sizes, sizes[1:]))
    if count > MAX_PARAMETERS:
        raise ValueError(f"{what}: {_too_big(count)}")


def _check_flag(flag: object, what: str) -> bool:
    """True or False (also NumPy's bools and 0/1), not any object that happens to be truthy."""
    flag = _scalar(flag)
    if isinstance(flag, Integral) and flag in (0, 1):
        return bool(flag)
    raise TypeError(f"{what} must be True or False, got {type(flag).__name__} {_short(flag)}")


def _rng(seed: object) -> _Uniform:
    """The weights' source: ``Random(seed)``, a given ``Random``, or (``None``) the global
    ``random`` module, so that ``random.seed(k)`` before building a model reproduces it."""
    if seed is None or seed is random:
        return random
    if isinstance(seed, random.Random):
        return seed
    if isinstance(seed, bool) or not isinstance(seed, Integral):
        raise TypeError(
            f"seed must be an int, a random.Random or None, got {type(seed).__name__} "
            f"{_short(seed)}"
        )
    return random.Random(operator.index(seed))


def _scalar(x: Any) -> Any:
    """A 0-d array (NumPy, torch) as its number; anything else unchanged."""
    if getattr(x, "ndim", None) == 0 and hasattr(x, "item"):
        return x.item()
    return x


def _inputs(x: Any, nin: int, who: object) -> list[Value]:
    """The model input as a list of ``nin`` Values (numbers become leaves ``x0, x1, ...``)."""
    x = _scalar(x)
    if isinstance(x, Value) or (isinstance(x, Real) and not isinstance(x, bool)):
        x = (x,)
    elif getattr(x, "ndim", 1) != 1 and hasattr(x, "tolist"):
        raise ValueError(
            f"{who} expects a flat list of {nin} numbers, got an array of shape "
            f"{tuple(x.shape)}; pass one row at a time (or use tinygrad_edu.train.predict)"
        )
    elif isinstance(x, (Mapping, Set)):
        # a dict would give its keys, a set its elements in no fixed order: refuse both
        raise TypeError(
            f"{who} expects a list of {nin} numbers or Values as input, got a "
            f"{type(x).__name__}, whose order is not the inputs' order; pass a list, e.g. "
            "list(d.values()) for a dict"
        )
    elif isinstance(x, (str, bytes, bytearray, memoryview)) or not (
        hasattr(x, "__len__") and hasattr(x, "__iter__")
    ):
        raise TypeError(
            f"{who} expects a list of {nin} numbers or Values as input, got "
            f"{type(x).__name__} {_short(x)}"
        )
    if len(x) != nin:
        what = "a single value" if len(x) == 1 else f"{len(x)} inputs"
        raise ValueError(f"{who} expects {nin} inputs, got {what}: {_short_list(x)}")
    out = []
    for i, xi in enumerate(x):
        xi = _scalar(xi)
        if isinstance(xi, Value):
            out.append(xi)
            continue
        try:
            out.append(Value(xi, f"x{i}"))
        except (TypeError, ValueError, OverflowError) as err:
            raise type(err)(f"{who}: input {i} is not usable: {err}") from None
    return out


def _short_list(x: Any) -> str:
    return _short(x) if isinstance(x, Value) else _short(list(x))


# ---------------------------------------------------------------------------------------------
# The one walk over a module's parameters, behind both parameters() and state_dict().
# A slot is (state_dict key, index inside that key's tensor, the Value): a Layer's weight
# w[j][i] is ("weight", (j, i), w), a Neuron's bias ("bias", (), b).
# ---------------------------------------------------------------------------------------------
Slot = tuple[str, tuple[int, ...], Value]


def _tensor_leaves(t: Any, index: tuple[int, ...] = ()) -> list[tuple[tuple[int, ...], Value]]:
    """The Values of a (nested) list whose every leaf is a Value, with their index; else []."""
    if isinstance(t, Value):
        return [(index, t)]
    if not isinstance(t, (list, tuple)) or not t:
        return []
    out = []
    for i, e in enumerate(t):
        leaves = _tensor_leaves(e, (*index, i))
        if not leaves:
            return []
        out.extend(leaves)
    return out


_PLAIN = frozenset({int, float, bool, str, type(None)})


def _attribute_slots(key: str, attr: Any, inside: tuple[Module, ...], out: list[Slot]) -> None:
    """Append the parameters held by one attribute value (a Value, a module, lists and dicts
    of them) to ``out``."""
    if type(attr) in _PLAIN:  # most attributes (sizes, flags, names) hold no parameter
        return
    if isinstance(attr, Value):
        out.append((key, (), attr))
    elif isinstance(attr, Module):
        attr._collect(key + ".", inside, out)
    elif isinstance(attr, (list, tuple)):
        leaves = _tensor_leaves(attr)
        if leaves:  # a list (of lists) of Values is one tensor under one key
            out.extend((key, index, v) for index, v in leaves)
        else:  # a mixed list: each element under its position, as torch's ModuleList
            for i, e in enumerate(attr):
                _attribute_slots(f"{key}.{i}", e, inside, out)
    elif isinstance(attr, Mapping):
        for k, e in attr.items():
            _attribute_slots(f"{key}.{k}", e, inside, out)


def _nest(entries: Sequence[tuple[tuple[int, ...], Any]]) -> Any:
    """Items with their index paths (in order) as nested lists: ``[((0,), a), ((1,), b)]`` →
    ``[a, b]``; one item at ``()`` is itself."""
    if len(entries) == 1 and entries[0][0] == ():
        return entries[0][1]
    out: list[Any] = []
    for index, item in entries:
        target = out
        for i in index[:-1]:
            while len(target) <= i:
                target.append([])
            target = target[i]
        target.append(item)
    return out


def _grouped(slots: list[Slot]) -> dict[str, list[tuple[tuple[int, ...], Value]]]:
    groups: dict[str, list[tuple[tuple[int, ...], Value]]] = {}
    for key, index, v in slots:
        groups.setdefault(key, []).append((index, v))
    return groups


# ---------------------------------------------------------------------------------------------
# Reading a state dict back: shapes, numbers, tied parameters.
# ---------------------------------------------------------------------------------------------
def _shape(t: Any) -> tuple[int, ...]:
    """Shape of a tensor of Values: () for a Value, (n,) for a list, (n, m) for rows."""
    if isinstance(t, Value):
        return ()
    return (len(t), *(_shape(t[0]) if len(t) else ()))


def _shape_text(shape: tuple[int, ...]) -> str:
    if not shape:
        return "a single number"
    if len(shape) == 1:
        return f"a list of {shape[0]} numbers"
    return f"{shape[0]} rows of {shape[1]} numbers ({shape[0]}×{shape[1]})"


def _describe(obj: Any) -> str:
    """What a user-supplied state_dict entry looks like, for error messages."""
    if isinstance(obj, Real) and not isinstance(obj, bool):
        return "a single number"
    if isinstance(obj, (list, tuple)):
        if obj and all(isinstance(e, (list, tuple)) for e in obj):
            lens = sorted({len(e) for e in obj})
            inner = str(lens[0]) if len(lens) == 1 else "/".join(map(str, lens[:5]))
            rows = "row" if len(obj) == 1 else "rows"
            return f"{len(obj)} {rows} of {inner} numbers"
        return f"a list of {len(obj)} entries"
    return f"a {type(obj).__name__}"


def _number(v: Any, key: str) -> float:
    v = _scalar(v)
    if isinstance(v, bool) or not isinstance(v, Real):
        raise TypeError(
            f"state_dict[{key!r}] must hold numbers, found {type(v).__name__} {_short(v)}"
        )
    try:
        f = float(v)
    except OverflowError:  # an int (or fraction) beyond the largest float, ~1.8e308
        f = math.inf
    if not -math.inf < f < math.inf:
        shown = f"an int of {len(str(abs(v)))} digits" if isinstance(v, Integral) else f
        raise ValueError(
            f"state_dict[{key!r}] holds a non-finite number ({shown}); parameters must be "
            "finite floats (was this state saved from a diverged model?)"
        )
    return f


def _as_nested(given: Any) -> Any:
    """A NumPy array or torch tensor entry as nested lists (numbers stay numbers)."""
    if hasattr(given, "tolist") and not isinstance(given, (list, tuple)):
        return given.tolist()
    return given


def _read(target: Any, given: Any, key: str, where: str = "") -> list[tuple[Value, float, str]]:
    """Pair every Value of ``target`` with its number in ``given`` (checking the shape), and
    where it sits (``"[1][0]"``)."""
    given = _as_nested(given)
    shape = _shape(target)
    ok = True
    if not shape:
        ok = not isinstance(given, (list, tuple))
    elif len(shape) == 1:
        ok = isinstance(given, (list, tuple)) and len(given) == shape[0]
        ok = ok and not any(isinstance(e, (list, tuple)) for e in given)
    else:
        ok = (
            isinstance(given, (list, tuple))
            and len(given) == shape[0]
            and all(
                isinstance(r, (list, tuple)) and len(r) == len(t) for r, t in zip(given, target)
            )
        )
    if not ok:
        raise ValueError(
            f"state_dict[{key!r}] has the wrong shape: expected {_shape_text(shape)}, "
            f"got {_describe(given)}"
        )
    if not shape:
        return [(target, _number(given, key), where)]
    pairs: list[tuple[Value, float, str]] = []
    for i, (t, g) in enumerate(zip(target, given)):
        pairs.extend(_read(t, g, key, f"{where}[{i}]"))
    return pairs


def _keys_text(keys: Sequence[Any], most: int = 8) -> str:
    """Some keys, quoted, then how many more: a 200,000-key dict gives one short line."""
    shown = ", ".join(_short(k, 60) for k in keys[:most])
    return shown if len(keys) <= most else f"{shown} and {len(keys) - most:,} more"


class Module:
    """Base class of every model: parameters, gradients, calling and saving.

    Subclasses implement ``forward(x)``. ``parameters()`` and ``state_dict()`` come from one
    walk over the module's attributes that hold ``Value``\\ s and sub-modules (also in lists,
    tuples and dicts), as PyTorch registers them, so they always agree. A ``Value`` held in two
    places (tied weights) is one parameter: listed once by ``parameters()``, saved under both
    keys by ``state_dict()``, as in PyTorch.
    """

    #: Attributes laid out by ``_own_slots`` under their own keys; the generic walk skips them.
    _structured: tuple[str, ...] = ()

    def forward(self, x: Any) -> Output:
        raise NotImplementedError(f"{type(self).__name__} must define forward(x)")

    def __call__(self, x: Any) -> Output:
        return self.forward(x)

    # ---- the walk ----------------------------------------------------------------------
    def _slots(self) -> list[Slot]:
        """Every parameter slot, in parameter order."""
        out: list[Slot] = []
        self._collect("", (), out)
        return out

    def _collect(self, prefix: str, inside: tuple[Module, ...], out: list[Slot]) -> None:
        """Append this module's slots, keys prefixed; ``inside`` are the enclosing modules."""
        if any(m is self for m in inside):
            raise ValueError(
                f"{type(inside[0]).__name__} contains itself: a {type(self).__name__} holds "
                "one of the modules that hold it, so its parameters have no end. Keep such a "
                "reference under a name starting with '_' (not searched for parameters)"
            )
        inside = (*inside, self)
        self._own_slots(prefix, inside, out)
        self._other_slots(prefix, inside, out)

    def _own_slots(self, prefix: str, inside: tuple[Module, ...], out: list[Slot]) -> None:
        """Slots of the structured attributes (a Neuron's weight and bias, a Layer's rows)."""

    def _other_slots(self, prefix: str, inside: tuple[Module, ...], out: list[Slot]) -> None:
        """Slots of every other public attribute: Values, modules, lists and dicts of them."""
        for name, attr in vars(self).items():
            if not name.startswith("_") and name not in self._structured:
                _attribute_slots(prefix + name, attr, inside, out)

    # ---- parameters --------------------------------------------------------------------
    def parameters(self) -> list[Value]:
        """Every learnable ``Value`` of the module (what an optimizer updates), each once.

        Attributes in the order they were set; a sub-module contributes its own parameters,
        so layers keep micrograd's order (per neuron: weights, then bias) inside any model.
        A tied Value (the same object in two places) is listed once, where first met.
        """
        # a dict keeps the first place of each Value (hashing a Value is by identity)
        return list(dict.fromkeys([v for _, _, v in self._slots()]))

    def num_parameters(self) -> int:
        """How many numbers the model learns (``MLP(2, [16, 16, 1])`` has 337)."""
        return len(self.parameters())

    def zero_grad(self) -> None:
        """Set every parameter's ``grad`` to 0 (gradients add up until you do)."""
        for p in self.parameters():
            p.grad = 0.0

    # ---- saving ------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """The parameters as plain floats under PyTorch-style keys (``"layers.0.weight"``).

        JSON-safe: ``load_state_dict(json.loads(json.dumps(m.state_dict())))`` restores the
        exact same floats. A tied Value appears under each of its keys.
        """
        return {
            key: _nest([(index, v.data) for index, v in entries])
            for key, entries in _grouped(self._slots()).items()
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Copy numbers from ``state`` (as made by ``state_dict()``) into the parameters.

        Every key must be present with the right shape, and no key may be extra; the keys of
        one tied Value must hold the same number. Otherwise a ``ValueError`` names the key.
        Nothing is changed unless the whole dict is valid.
        """
        if not isinstance(state, Mapping):
            raise TypeError(
                f"load_state_dict needs a dict like model.state_dict() returns, got "
                f"{type(state).__name__}"
            )
        tensors = {key: _nest(entries) for key, entries in _grouped(self._slots()).items()}
        missing = [k for k in tensors if k not in state]
        extra = [k for k in state if k not in tensors]
        if missing or extra:
            parts = []
            if missing:
                parts.append(f"{len(missing):,} missing key(s) {_keys_text(missing)}")
            if extra:
                parts.append(f"{len(extra):,} unexpected key(s) {_keys_text(extra)}")
            raise ValueError(
                f"state_dict does not fit {self!r}: {'; '.join(parts)}. "
                f"Expected the {len(tensors):,} keys {_keys_text(list(tensors))}"
            )
        pairs: list[tuple[Value, float]] = []
        first: dict[int, tuple[str, float]] = {}  # id of a Value -> (where first met, number)
        for key, t in tensors.items():
            for v, f, index in _read(t, state[key], key):
                place = f"state_dict[{key!r}]{index}"
                if id(v) in first and first[id(v)][1] != f:
                    other, g = first[id(v)]
                    raise ValueError(
                        f"{other} and {place} hold one tied parameter (the same Value) but "
                        f"give it different numbers, {g!r} and {f!r}; make them equal"
                    )
                first.setdefault(id(v), (place, f))
                pairs.append((v, f))
        for p, f in pairs:
            p.data = f


# ---------------------------------------------------------------------------------------------
# Neuron, Layer, MLP, Sequential
# ---------------------------------------------------------------------------------------------
class Neuron(Module):
    """One neuron: ``act(b + w_0 x_0 + ... + w_{nin-1} x_{nin-1})``.

    Attributes: ``w`` (list of ``nin`` Values, labelled ``w0, w1, ...``), ``b`` (Value,
    labelled ``b``), ``activation`` (str), ``nin`` (int), ``fused`` (bool).
    """

    _structured = ("w", "b")

    def __init__(
        self, nin: int, activation: str = "relu", seed: Seed = None, fused: bool = True
    ) -> None:
        self.nin = _check_size(nin, "Neuron(nin)")
        _check_count([self.nin, 1], "Neuron")
        self.activation = activation
        rng = _rng(seed)
        bound = 1.0 / math.sqrt(self.nin)
        self.w = [Value(rng.uniform(-bound, bound), f"w{i}") for i in range(self.nin)]
        self.b = Value(rng.uniform(-bound, bound), "b")
        self.fused = _check_flag(fused, "fused")

    @property
    def activation(self) -> str:
        return self._activation

    @activation.setter
    def activation(self, name: str) -> None:
        self._activation = _check_activation(name)
        self._act = ACTIVATIONS[self._activation]

    def _check_weights(self) -> None:
        """``w`` a list of Values and ``b`` a Value (to change a weight, set its ``.data``)."""
        if not (isinstance(self.b, Value) and isinstance(self.w, (list, tuple))
                and all(isinstance(w, Value) for w in self.w)):
            raise TypeError(
                f"{self!r}: w must be a list of Values and b a Value, got w={_short(self.w)} "
                f"and b={_short(self.b)}; to change a weight, set its .data"
            )

    def _own_slots(
        self, prefix: str, inside: tuple[Module, ...], out: list[Slot], row: tuple[int, ...] = ()
    ) -> None:
        self._check_weights()
        key = prefix + "weight"
        out.extend([(key, (*row, i), w) for i, w in enumerate(self.w)])
        out.append((prefix + "bias", row, self.b))

    def _forward_ops(self, xs: Sequence[Value]) -> Value:
        """``z = b + w0*x0 + w1*x1 + ...`` op by op (labelled for pictures), then ``act(z)``."""
        z = self.b
        for i, (wi, xi) in enumerate(zip(self.w, xs)):
            product = wi * xi
            product.label = f"w{i}*x{i}"
            z = z + product
        if self._activation == "linear":
            z.label = "out"
            return z
        z.label = "z"
        out = self._act(z)
        out.label = "out"
        return out

    def forward(self, x: Any) -> Value:
        xs = _inputs(x, self.nin, self)
        if self.fused:
            return self._act(linear(self.w, xs, self.b))
        return self._forward_ops(xs)

    def __repr__(self) -> str:
        fused = "" if self.fused else ", fused=False"
        return f"Neuron({self.nin} → 1 {self._activation}{fused})"


def _common(names: Sequence[str | None]) -> str | None:
    """The one name all share, or None when they differ."""
    return names[0] if names and all(n == names[0] for n in names) else None


class Layer(Module):
    """A dense layer: ``nout`` neurons reading the same ``nin`` inputs.

    ``out_j = act(b_j + sum_i W[j][i] x_i)`` for ``j = 0 .. nout-1``. Returns one ``Value``
    when ``nout == 1`` and a list of ``nout`` Values otherwise. Attributes: ``neurons``,
    ``nin``, ``nout``, ``activation`` (the neurons' common activation; ``None`` once single
    neurons were given different ones; setting it sets every neuron's), ``fused``.
    """

    _structured = ("neurons",)

    def __init__(
        self,
        nin: int,
        nout: int,
        activation: str = "relu",
        seed: Seed = None,
        fused: bool = True,
    ) -> None:
        self.nin = _check_size(nin, "Layer(nin)")
        self.nout = _check_size(nout, "Layer(nout)")
        _check_count([self.nin, self.nout], "Layer")
        activation = _check_activation(activation)
        rng = _rng(seed)
        self.neurons = [Neuron(self.nin, activation, rng, fused) for _ in range(self.nout)]
        self._fused = _check_flag(fused, "fused")

    @property
    def activation(self) -> str | None:
        return _common([n.activation for n in self.neurons])

    @activation.setter
    def activation(self, name: str) -> None:
        name = _check_activation(name)
        for n in self.neurons:
            n.activation = name

    @property
    def fused(self) -> bool:
        return self._fused

    @fused.setter
    def fused(self, flag: bool) -> None:
        self._fused = _check_flag(flag, "fused")
        for n in self.neurons:
            n.fused = self._fused

    def _own_slots(self, prefix: str, inside: tuple[Module, ...], out: list[Slot]) -> None:
        # Neuron j's weights are row j of "weight", its bias entry j of "bias"; anything else
        # a neuron holds (a subclass's extra Value) keeps its own key under "neurons.j.".
        for j, n in enumerate(self.neurons):
            if isinstance(n, Neuron):
                n._own_slots(prefix, inside, out, (j,))
                n._other_slots(f"{prefix}neurons.{j}.", (*inside, n), out)
            else:
                _attribute_slots(f"{prefix}neurons.{j}", n, inside, out)

    def _forward(self, xs: list[Value]) -> list[Value]:
        """All neuron outputs for inputs that are already Values of the right length."""
        if self._fused:  # one linear node per neuron, then its activation
            return [n._act(linear(n.w, xs, n.b)) for n in self.neurons]
        return [n._forward_ops(xs) for n in self.neurons]

    def forward(self, x: Any) -> Output:
        out = self._forward(_inputs(x, self.nin, self))
        return out[0] if len(out) == 1 else out

    def __repr__(self) -> str:
        fused = "" if self._fused else ", fused=False"
        return f"Layer({self.nin} → {self.nout} {self.activation or 'mixed'}{fused})"


class MLP(Module):
    """A multi-layer perceptron: ``Layer(nin, nouts[0]) → Layer(nouts[0], nouts[1]) → ...``.

    Hidden layers use ``activation``, the last layer ``output_activation`` (``"linear"`` by
    default, as micrograd: ``MLP(2, [16, 16, 1])`` has 2·16+16 + 16·16+16 + 16+1 = 337
    parameters). Attributes: ``layers`` (list of Layer), ``nin``, ``nouts``; setting
    ``activation`` or ``output_activation`` changes the hidden layers or the last layer.
    """

    def __init__(
        self,
        nin: int,
        nouts: Sequence[int],
        activation: str = "relu",
        output_activation: str = "linear",
        seed: Seed = None,
        fused: bool = True,
    ) -> None:
        self.nin = _check_size(nin, "MLP(nin)")
        nouts = _as_nested(nouts)  # a NumPy array of sizes works too
        if isinstance(nouts, (str, bytes)) or not isinstance(nouts, Sequence) or not nouts:
            raise ValueError(
                f"MLP(nouts) must be a non-empty list of layer sizes like [16, 16, 1], "
                f"got {_short(nouts)}"
            )
        sizes = [self.nin] + [
            _check_size(n, f"MLP layer size nouts[{i}]") for i, n in enumerate(nouts)
        ]
        _check_count(sizes, "MLP")
        self._activation = _check_activation(activation, "activation")
        output_activation = _check_activation(output_activation, "output_activation")
        rng = _rng(seed)
        last = len(nouts) - 1
        self.layers = [
            Layer(sizes[i], sizes[i + 1], output_activation if i == last else activation,
                  rng, fused)
            for i in range(len(nouts))
        ]
        self.nouts = list(sizes[1:])

    @property
    def activation(self) -> str | None:
        """The hidden layers' activation (``None`` if they differ); setting it sets them all."""
        if len(self.layers) == 1:  # no hidden layer: what was asked for, used nowhere
            return self._activation
        return _common([layer.activation for layer in self.layers[:-1]])

    @activation.setter
    def activation(self, name: str) -> None:
        self._activation = _check_activation(name, "activation")
        for layer in self.layers[:-1]:
            layer.activation = self._activation

    @property
    def output_activation(self) -> str | None:
        """The last layer's activation; setting it sets that layer's neurons."""
        return self.layers[-1].activation

    @output_activation.setter
    def output_activation(self, name: str) -> None:
        self.layers[-1].activation = _check_activation(name, "output_activation")

    @property
    def fused(self) -> bool:
        return all(layer.fused for layer in self.layers)

    @fused.setter
    def fused(self, flag: bool) -> None:
        for layer in self.layers:
            layer.fused = flag

    def forward(self, x: Any) -> Output:
        xs = _inputs(x, self.nin, self)
        for layer in self.layers:
            xs = layer._forward(xs)
        return xs[0] if len(xs) == 1 else xs

    def __repr__(self) -> str:
        parts = [str(self.nin)] + [
            f"{layer.nout} {layer.activation or 'mixed'}" for layer in self.layers
        ]
        fused = "" if self.fused else ", fused=False"
        return f"MLP({' → '.join(parts)}{fused})"


class Sequential(Module):
    """Modules applied in order: ``Sequential(a, b, c)(x) == c(b(a(x)))``.

    Attribute: ``layers`` (list of the modules). A module with one output hands a single
    ``Value`` to the next, which accepts it when its ``nin`` is 1.
    """

    def __init__(self, *layers: Module) -> None:
        if len(layers) == 1 and isinstance(layers[0], (list, tuple)):
            layers = tuple(layers[0])
        if not layers:
            raise ValueError("Sequential needs at least one module, e.g. Sequential(Layer(2, 3))")
        for i, layer in enumerate(layers):
            if not isinstance(layer, Module):
                raise TypeError(
                    f"Sequential: argument {i} must be a Module (Layer, MLP, ...), "
                    f"got {type(layer).__name__}"
                )
        self.layers: list[Module] = list(layers)
        first = getattr(self.layers[0], "nin", None)
        if first is not None:
            self.nin = first

    def forward(self, x: Any) -> Output:
        for layer in self.layers:
            x = layer(x)
        return x

    def __iter__(self) -> Iterator[Module]:
        return iter(self.layers)

    def __len__(self) -> int:
        return len(self.layers)

    def __getitem__(self, i: int | slice) -> Module:
        """Module ``i`` (negative counts from the end); a slice is a ``Sequential`` of those."""
        if isinstance(i, slice):
            return Sequential(*self.layers[i])
        if isinstance(i, bool) or not isinstance(i, Integral):
            raise TypeError(f"Sequential indices are ints or slices, got {type(i).__name__} "
                            f"{_short(i)}")
        k = operator.index(i)
        if not -len(self.layers) <= k < len(self.layers):
            raise IndexError(f"Sequential index {_short(k)} is out of range: it holds "
                             f"{len(self.layers)} modules")
        return self.layers[k]

    def __repr__(self) -> str:
        return f"Sequential({', '.join(repr(layer) for layer in self.layers)})"
