"""Neurons, layers and multi-layer perceptrons built from ``Value``.

A neuron computes

    out = act(z),    z = b + w_0*x_0 + w_1*x_1 + ... + w_{n-1}*x_{n-1}

with ``act`` one of ``relu`` (max(0, z)), ``tanh``, ``sigmoid`` (1 / (1 + e^-z)) or ``linear``
(the identity). A ``Layer`` is ``nout`` neurons reading the same ``nin`` inputs (a "dense" or
"fully connected" layer; Keras's ``Dense(units)`` is one whose ``nin`` comes from its first
input); an ``MLP`` is a stack of layers, each feeding the next; ``Sequential`` chains modules.

Two ways to build a neuron's graph, with the same forward floats:

- ``fused=True`` (default, fewer nodes): a relu neuron is one ``linear+relu`` node (children
  ``b, w..., x...``); any other, one ``linear`` node for ``z``, then one for the activation.
- ``fused=False`` (for pictures): ``z`` built op by op, ``b + w0*x0 + w1*x1 + ...`` left to
  right, so the graph shows every multiplication and addition.

Weights, ``init="torch"`` (the default): as PyTorch's ``nn.Linear`` draws them,
``w, b ~ U(-1/sqrt(nin), 1/sqrt(nin))``. ``init="micrograd"``: micrograd's, ``w ~ U(-1, 1)``
and ``b = 0``; scripts tuned for micrograd (its learning rates, its demo) train as they do
there only with these. Drawn from ``random.Random(seed)``: the same seed gives the same
weights; without a seed (``seed=None``) from Python's global ``random``, so
``random.seed(1337)`` before building a model reproduces it, as in micrograd's demo.
"""

from __future__ import annotations

import math
import operator
import random
from collections.abc import Callable, Iterator, Mapping, Sequence, Set
from numbers import Integral, Real
from typing import Any

from tinygrad_edu import args
from tinygrad_edu.engine import Value, linear
from tinygrad_edu.nn.module import Module, Output, Slot, _as_nested, _attribute_slots

__all__ = ["Neuron", "Layer", "Dense", "MLP", "Sequential", "ACTIVATIONS", "INITS",
           "MAX_PARAMETERS"]

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

#: Where a neuron's first weights come from, given its number of inputs (see the module text).
INITS = ("torch", "micrograd")


def _init_draw(init: object, rng: Any, nin: int) -> tuple[Callable[[], float], Callable[[], float]]:
    """(draw a weight, draw a bias) for ``init``."""
    if init == "torch":
        bound = 1.0 / math.sqrt(nin)
        return (lambda: rng.uniform(-bound, bound)), (lambda: rng.uniform(-bound, bound))
    if init == "micrograd":
        return (lambda: rng.uniform(-1.0, 1.0)), (lambda: 0.0)
    raise ValueError(f"init must be one of {', '.join(map(repr, INITS))}, got {args.short(init)}")


# The default activation, as an object of its own: `is` tells it from an explicit "relu"
# (which, beside micrograd's nonlin=False, is a contradiction to report).
RELU = "".join(["re", "lu"])


def _activation_of(activation: object, nonlin: object) -> object:
    """micrograd's ``nonlin=True/False`` (relu or linear) beside our ``activation=``."""
    if nonlin is None:
        return activation
    nonlin = args.flag(nonlin, "nonlin")
    chosen = "relu" if nonlin else "linear"
    if activation is not RELU and activation != chosen:
        raise ValueError(f"nonlin={nonlin} means activation={chosen!r}, but activation="
                         f"{args.short(activation)} was given too: give one of them")
    return chosen


def _check_activation(activation: object, what: str = "activation") -> str:
    choices = ", ".join(repr(a) for a in ACTIVATIONS)
    if not isinstance(activation, str):  # e.g. ['relu']: one name, not a list of them
        raise TypeError(
            f"{what} must be one name, one of {choices}, got {type(activation).__name__} "
            f"{args.short(activation)}"
        )
    if activation not in ACTIVATIONS:
        hint = " (softmax is applied by tinygrad_edu.losses.softmax / cross_entropy)"
        raise ValueError(
            f"{what} must be one of {choices}, got {args.short(activation)}"
            + (hint if activation == "softmax" else "")
        )
    return str(activation)




def _check_size(n: object, what: str) -> int:
    """A positive whole number (an int or integer-like such as ``np.int64(3)``)."""
    size = args.whole(n, what, low=1)
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


def _inputs(x: Any, nin: int, who: object) -> list[Value]:
    """The model input as a list of ``nin`` Values (numbers become leaves ``x0, x1, ...``)."""
    if type(x) is list and len(x) == nin and all(type(v) is Value for v in x):
        return x  # (the usual case, the layer before's outputs: nothing to check or convert)
    who = args.short(who, 80)  # (a deep model's repr is long: messages stay short)
    x = args.scalar(x, f"{who}: the input")
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
    n = args.length(x)
    if n is None or isinstance(x, (bytearray, memoryview)) or not hasattr(x, "__iter__"):
        raise TypeError(
            f"{who} expects a list of {nin} numbers or Values as input, got "
            f"{type(x).__name__} {args.short(x)}"
        )
    if n != nin:  # (asked before reading x: range(10**18) has a length)
        what = "a single value" if n == 1 else f"{n:,} inputs"
        raise ValueError(f"{who} expects {nin} inputs, got {what}: {args.short(x, 80)}")
    out = []
    try:  # (``who`` is formatted only for a message: its repr is not free)
        rows = args.plain(x, "the input")
    except ValueError as err:
        raise ValueError(f"{who}: {err}") from None
    for i, xi in enumerate(rows):
        if isinstance(xi, Value):
            out.append(xi)
            continue
        try:
            out.append(Value(args.scalar(xi, f"input {i}"), f"x{i}"))
        except (TypeError, ValueError, OverflowError) as err:
            raise type(err)(f"{who}: input {i} is not usable: {err}") from None
    return out


class Neuron(Module):
    """One neuron: ``act(b + w_0 x_0 + ... + w_{nin-1} x_{nin-1})``.

    Attributes: ``w`` (list of ``nin`` Values, labelled ``w0, w1, ...``), ``b`` (Value,
    labelled ``b``), ``activation`` (str), ``nin`` (int), ``fused`` (bool).
    """

    _structured = ("w", "b")

    def __init__(
        self, nin: int, activation: str = RELU, seed: Seed = None, fused: bool = True,
        *, nonlin: bool | None = None, init: str = "torch",
    ) -> None:
        self.nin = _check_size(nin, "Neuron(nin)")
        _check_count([self.nin, 1], "Neuron")
        self.activation = _activation_of(activation, nonlin)  # type: ignore[assignment]
        weight, bias = _init_draw(init, args.rng(seed), self.nin)
        self.w = [Value(weight(), f"w{i}") for i in range(self.nin)]
        self.b = Value(bias(), "b")
        self.fused = fused

    @property
    def fused(self) -> bool:
        return self._fused

    @fused.setter
    def fused(self, flag: bool) -> None:  # (checked when set: `if array:` is ambiguous)
        self._fused = args.flag(flag, "fused")

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
                f"{self!r}: w must be a list of Values and b a Value, got w={args.short(self.w)} "
                f"and b={args.short(self.b)}; to change a weight, set its .data"
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
        if not self.fused:
            return self._forward_ops(xs)
        if self._activation == "relu":  # relu(b + w·x) as one node
            return linear(self.w, xs, self.b, relu=True)
        return self._act(linear(self.w, xs, self.b))

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
        activation: str = RELU,
        seed: Seed = None,
        fused: bool = True,
        *,
        nonlin: bool | None = None,
        init: str = "torch",
    ) -> None:
        self.nin = _check_size(nin, "Layer(nin)")
        self.nout = _check_size(nout, "Layer(nout)")
        _check_count([self.nin, self.nout], "Layer")
        activation = _check_activation(_activation_of(activation, nonlin))
        rng = args.rng(seed)
        self.neurons = [Neuron(self.nin, activation, rng, fused, init=init)
                        for _ in range(self.nout)]
        self._fused = args.flag(fused, "fused")

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
        self._fused = args.flag(flag, "fused")
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
        if self._fused:  # a relu neuron is one node, linear+relu; others linear, then act
            return [linear(n.w, xs, n.b, relu=True) if n._activation == "relu"
                    else n._act(linear(n.w, xs, n.b)) for n in self.neurons]
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
        *,
        init: str = "torch",
    ) -> None:
        self.nin = _check_size(nin, "MLP(nin)")
        nouts = _as_nested(nouts, "MLP(nouts)")  # a NumPy array of sizes works too
        if isinstance(nouts, (str, bytes)) or not isinstance(nouts, Sequence) or not nouts:
            raise ValueError(
                f"MLP(nouts) must be a non-empty list of layer sizes like [16, 16, 1], "
                f"got {args.short(nouts)}"
            )
        if (args.length(nouts) or 0) > MAX_PARAMETERS // 2:  # each layer has 2+ parameters
            raise ValueError(f"MLP(nouts) lists {args.length(nouts):,} layers: "
                             f"{_too_big(2 * args.length(nouts))}")
        sizes = [self.nin] + [
            _check_size(n, f"MLP layer size nouts[{i}]") for i, n in enumerate(nouts)
        ]
        _check_count(sizes, "MLP")
        self._activation = _check_activation(activation, "activation")
        output_activation = _check_activation(output_activation, "output_activation")
        rng = args.rng(seed)
        last = len(nouts) - 1
        self.layers = [
            Layer(sizes[i], sizes[i + 1], output_activation if i == last else activation,
                  rng, fused, init=init)
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


class Dense(Module):
    """Keras's dense layer: ``units`` neurons whose number of inputs is taken from the first
    input it sees (or given as ``input_dim``), e.g. the seed's pass/fail network
    ``Sequential([Dense(3, activation="sigmoid"), Dense(1, activation="sigmoid")])``.

    Until then it has no parameters: call the model once (``model([5, 4])``) before giving
    ``model.parameters()`` to an optimizer, or pass ``input_dim``. Same as Keras's ``Dense``,
    with PyTorch's weight initialisation (``init=`` as on ``Layer``); its ``layer`` is the
    ``Layer`` it builds.
    """

    def __init__(self, units: int, activation: str = "linear", *, input_dim: int | None = None,
                 seed: Seed = None, init: str = "torch") -> None:
        self.units = _check_size(units, "Dense(units)")
        self._activation = _check_activation(
            "linear" if activation is None else activation)  # Keras: None is linear
        _init_draw(init, random, 1)  # (checks init now, not at the first call)
        self._seed, self._init = seed, init
        self.layer: Layer | None = None
        if input_dim is not None:
            self._build(_check_size(input_dim, "Dense(input_dim)"))

    def _build(self, nin: int) -> Layer:
        self.layer = Layer(nin, self.units, self._activation, self._seed, init=self._init)
        return self.layer

    @property
    def nin(self) -> int | None:
        """The number of inputs, once known."""
        return None if self.layer is None else self.layer.nin

    @property
    def activation(self) -> str | None:
        return self._activation if self.layer is None else self.layer.activation

    @activation.setter
    def activation(self, name: str) -> None:
        self._activation = _check_activation(name)
        if self.layer is not None:
            self.layer.activation = name

    def forward(self, x: Any) -> Output:
        layer = self.layer
        if layer is None:
            x = args.scalar(x)
            single = isinstance(x, Value) or (isinstance(x, Real) and not isinstance(x, bool))
            if not single and not hasattr(x, "__len__"):
                raise TypeError(f"{self!r} expects a list of numbers or Values as its first "
                                f"input (it sets the number of inputs), got "
                                f"{type(x).__name__} {args.short(x)}")
            layer = self._build(_check_size(1 if single else len(x), "Dense input size"))
        return layer(x)

    def __repr__(self) -> str:
        if self.layer is None:
            return f"Dense({self.units} {self._activation}, inputs not seen yet)"
        return f"Dense({self.layer.nin} → {self.units} {self.layer.activation or 'mixed'})"


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
                            f"{args.short(i)}")
        k = operator.index(i)
        if not -len(self.layers) <= k < len(self.layers):
            raise IndexError(f"Sequential index {args.short(k)} is out of range: it holds "
                             f"{len(self.layers)} modules")
        return self.layers[k]

    def __repr__(self) -> str:
        return f"Sequential({', '.join(repr(layer) for layer in self.layers)})"
