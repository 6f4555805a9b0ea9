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
from ``random.Random(seed)``: the same seed gives the same weights.

``state_dict()`` uses PyTorch's key names: a layer's weights are ``"weight"``, a list of
``nout`` rows of ``nin`` numbers (row j holds the weights of neuron j), its biases ``"bias"``, a
list of ``nout`` numbers; a model prefixes them with the attribute path, e.g.
``"layers.0.weight"``. A single ``Neuron`` has ``"weight"`` (``nin`` numbers) and ``"bias"``
(one number). The dict holds plain floats, so ``json.dumps``/``json.loads`` round-trips it
exactly.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterator, Mapping, Sequence
from numbers import Real
from typing import Any

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
Seed = int | random.Random | None


def _identity(z: Value) -> Value:
    return z


#: The activation functions a neuron may apply to ``z = b + sum(w_i x_i)``.
ACTIVATIONS: dict[str, Callable[[Value], Value]] = {
    "relu": Value.relu,  # max(0, z);            derivative 1 if z > 0 else 0
    "tanh": Value.tanh,  # tanh(z);              derivative 1 - tanh(z)^2
    "sigmoid": Value.sigmoid,  # 1 / (1 + e^-z);  derivative s (1 - s)
    "linear": _identity,  # z;                    derivative 1
}


def _check_activation(activation: object, what: str = "activation") -> str:
    if activation not in ACTIVATIONS:
        choices = ", ".join(repr(a) for a in ACTIVATIONS)
        hint = " (softmax is applied by tinygrad_edu.losses.softmax / cross_entropy)"
        raise ValueError(
            f"{what} must be one of {choices}, got {activation!r}"
            + (hint if activation == "softmax" else "")
        )
    return activation  # type: ignore[return-value]


def _check_size(n: object, what: str) -> int:
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"{what} must be a positive int, got {n!r}")
    return n


def _rng(seed: Seed) -> random.Random:
    if isinstance(seed, random.Random):
        return seed
    if seed is None:
        return random.Random()
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"seed must be an int, a random.Random or None, got {seed!r}")
    return random.Random(seed)


def _inputs(x: Any, nin: int, who: object) -> list[Value]:
    """The model input as a list of ``nin`` Values (numbers become leaves ``x0, x1, ...``)."""
    if isinstance(x, Value) or (isinstance(x, Real) and not isinstance(x, bool)):
        x = (x,)
    elif isinstance(x, (str, bytes)) or not hasattr(x, "__len__"):
        raise TypeError(
            f"{who} expects a list of {nin} numbers or Values as input, got "
            f"{type(x).__name__} {x!r}"
        )
    if len(x) != nin:
        what = "a single value" if len(x) == 1 else f"{len(x)} inputs"
        raise ValueError(f"{who} expects {nin} inputs, got {what}: {_short(x)}")
    out = []
    for i, xi in enumerate(x):
        if isinstance(xi, Value):
            out.append(xi)
            continue
        try:
            out.append(Value(xi, f"x{i}"))
        except (TypeError, ValueError) as err:
            raise type(err)(f"{who}: input {i} is not usable: {err}") from None
    return out


def _short(x: Any) -> str:
    text = repr(list(x)) if not isinstance(x, Value) else repr(x)
    return text if len(text) <= 80 else text[:77] + "..."


# ---------------------------------------------------------------------------------------------
# state_dict helpers: a "tensor" is a Value, a list of Values or a list of lists of Values.
# ---------------------------------------------------------------------------------------------
Tensor = Value | list[Value] | list[list[Value]]


def _to_floats(t: Any) -> Any:
    if isinstance(t, Value):
        return t.data
    return [_to_floats(e) for e in t]


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
            inner = str(lens[0]) if len(lens) == 1 else "/".join(map(str, lens))
            rows = "row" if len(obj) == 1 else "rows"
            return f"{len(obj)} {rows} of {inner} numbers"
        return f"a list of {len(obj)} entries"
    return f"a {type(obj).__name__}"


def _number(v: Any, key: str) -> float:
    if isinstance(v, bool) or not isinstance(v, Real):
        raise TypeError(f"state_dict[{key!r}] must hold numbers, found {type(v).__name__} {v!r}")
    f = float(v)
    if not -math.inf < f < math.inf:
        raise ValueError(f"state_dict[{key!r}] holds a non-finite number {f}")
    return f


def _read(target: Any, given: Any, key: str) -> list[tuple[Value, float]]:
    """Pair every Value of ``target`` with its number in ``given`` (checking the shape)."""
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
        return [(target, _number(given, key))]
    pairs: list[tuple[Value, float]] = []
    for t, g in zip(target, given):
        pairs.extend(_read(t, g, key))
    return pairs


class Module:
    """Base class of every model: parameters, gradients, calling and saving.

    Subclasses implement ``forward(x)``. ``parameters()`` finds the ``Value`` attributes, lists
    of Values and sub-modules (also in lists) of a module, as PyTorch registers them.
    """

    def forward(self, x: Any) -> Output:
        raise NotImplementedError(f"{type(self).__name__} must define forward(x)")

    def __call__(self, x: Any) -> Output:
        return self.forward(x)

    # ---- parameters --------------------------------------------------------------------
    def _tensors(self) -> dict[str, Tensor]:
        """Named parameter tensors (state_dict keys -> Values), found from the attributes."""
        found: dict[str, Tensor] = {}
        for name, attr in vars(self).items():
            if name.startswith("_"):
                continue
            if isinstance(attr, Module):
                for key, t in attr._tensors().items():
                    found[f"{name}.{key}"] = t
            elif isinstance(attr, Value):
                found[name] = attr
            elif isinstance(attr, (list, tuple)) and attr:
                if all(isinstance(a, Module) for a in attr):
                    for i, sub in enumerate(attr):
                        for key, t in sub._tensors().items():
                            found[f"{name}.{i}.{key}"] = t
                elif all(isinstance(a, Value) for a in attr):
                    found[name] = list(attr)
        return found

    def parameters(self) -> list[Value]:
        """Every learnable ``Value`` of the module (what an optimizer updates).

        Attributes in the order they were set; a sub-module contributes its own
        ``parameters()``, so layers keep micrograd's order (per neuron: weights, then bias)
        inside any model.
        """
        params: list[Value] = []
        for name, attr in vars(self).items():
            if name.startswith("_"):
                continue
            if isinstance(attr, Module):
                params.extend(attr.parameters())
            elif isinstance(attr, Value):
                params.append(attr)
            elif isinstance(attr, (list, tuple)) and attr:
                if all(isinstance(a, Module) for a in attr):
                    for sub in attr:
                        params.extend(sub.parameters())
                elif all(isinstance(a, Value) for a in attr):
                    params.extend(attr)
        return params

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
        exact same floats.
        """
        return {key: _to_floats(t) for key, t in self._tensors().items()}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Copy numbers from ``state`` (as made by ``state_dict()``) into the parameters.

        Every key must be present with the right shape, and no key may be extra; otherwise a
        ``ValueError`` names the key. Nothing is changed unless the whole dict is valid.
        """
        if not isinstance(state, Mapping):
            raise TypeError(
                f"load_state_dict needs a dict like model.state_dict() returns, got "
                f"{type(state).__name__}"
            )
        tensors = self._tensors()
        missing = [k for k in tensors if k not in state]
        extra = [k for k in state if k not in tensors]
        if missing or extra:
            parts = []
            if missing:
                parts.append(f"missing key(s) {', '.join(map(repr, missing))}")
            if extra:
                parts.append(f"unexpected key(s) {', '.join(map(repr, extra))}")
            raise ValueError(
                f"state_dict does not fit {self!r}: {'; '.join(parts)}. "
                f"Expected keys: {', '.join(map(repr, tensors))}"
            )
        pairs: list[tuple[Value, float]] = []
        for key, t in tensors.items():
            pairs.extend(_read(t, state[key], key))
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

    def __init__(
        self, nin: int, activation: str = "relu", seed: Seed = None, fused: bool = True
    ) -> None:
        self.nin = _check_size(nin, "Neuron(nin)")
        self.activation = activation
        rng = _rng(seed)
        bound = 1.0 / math.sqrt(nin)
        self.w = [Value(rng.uniform(-bound, bound), f"w{i}") for i in range(nin)]
        self.b = Value(rng.uniform(-bound, bound), "b")
        self.fused = bool(fused)

    @property
    def activation(self) -> str:
        return self._activation

    @activation.setter
    def activation(self, name: str) -> None:
        self._activation = _check_activation(name)
        self._act = ACTIVATIONS[name]

    def _tensors(self) -> dict[str, Tensor]:
        return {"weight": self.w, "bias": self.b}

    def parameters(self) -> list[Value]:
        """``[w_0, ..., w_{nin-1}, b]`` (micrograd's order)."""
        return [*self.w, self.b]

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


class Layer(Module):
    """A dense layer: ``nout`` neurons reading the same ``nin`` inputs.

    ``out_j = act(b_j + sum_i W[j][i] x_i)`` for ``j = 0 .. nout-1``. Returns one ``Value``
    when ``nout == 1`` and a list of ``nout`` Values otherwise. Attributes: ``neurons``,
    ``nin``, ``nout``, ``activation``, ``fused``.
    """

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
        _check_activation(activation)
        rng = _rng(seed)
        self.neurons = [Neuron(nin, activation, rng, fused) for _ in range(nout)]
        self._activation = activation
        self._fused = bool(fused)

    @property
    def activation(self) -> str:
        return self._activation

    @activation.setter
    def activation(self, name: str) -> None:
        self._activation = _check_activation(name)
        for n in self.neurons:
            n.activation = name

    @property
    def fused(self) -> bool:
        return self._fused

    @fused.setter
    def fused(self, flag: bool) -> None:
        self._fused = bool(flag)
        for n in self.neurons:
            n.fused = self._fused

    def _tensors(self) -> dict[str, Tensor]:
        return {"weight": [n.w for n in self.neurons], "bias": [n.b for n in self.neurons]}

    def parameters(self) -> list[Value]:
        """Neuron by neuron: its weights, then its bias (micrograd's order)."""
        return [p for n in self.neurons for p in (*n.w, n.b)]

    def _forward(self, xs: list[Value]) -> list[Value]:
        """All neuron outputs for inputs that are already Values of the right length."""
        if self._fused:
            return [n._act(linear(n.w, xs, n.b)) for n in self.neurons]
        return [n._forward_ops(xs) for n in self.neurons]

    def forward(self, x: Any) -> Output:
        out = self._forward(_inputs(x, self.nin, self))
        return out[0] if len(out) == 1 else out

    def __repr__(self) -> str:
        fused = "" if self._fused else ", fused=False"
        return f"Layer({self.nin} → {self.nout} {self._activation}{fused})"


class MLP(Module):
    """A multi-layer perceptron: ``Layer(nin, nouts[0]) → Layer(nouts[0], nouts[1]) → ...``.

    Hidden layers use ``activation``, the last layer ``output_activation`` (``"linear"`` by
    default, as micrograd: ``MLP(2, [16, 16, 1])`` has 2·16+16 + 16·16+16 + 16+1 = 337
    parameters). Attributes: ``layers`` (list of Layer), ``nin``, ``nouts``.
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
        if isinstance(nouts, int) or not isinstance(nouts, Sequence) or not nouts:
            raise ValueError(
                f"MLP(nouts) must be a non-empty list of layer sizes like [16, 16, 1], "
                f"got {nouts!r}"
            )
        sizes = [nin] + [_check_size(n, f"MLP layer size nouts[{i}]") for i, n in enumerate(nouts)]
        _check_activation(activation, "activation")
        _check_activation(output_activation, "output_activation")
        rng = _rng(seed)
        last = len(nouts) - 1
        self.layers = [
            Layer(sizes[i], sizes[i + 1], output_activation if i == last else activation,
                  rng, fused)
            for i in range(len(nouts))
        ]
        self.nouts = list(sizes[1:])

    @property
    def fused(self) -> bool:
        return all(layer.fused for layer in self.layers)

    @fused.setter
    def fused(self, flag: bool) -> None:
        for layer in self.layers:
            layer.fused = flag

    def parameters(self) -> list[Value]:
        return [p for layer in self.layers for n in layer.neurons for p in (*n.w, n.b)]

    def forward(self, x: Any) -> Output:
        xs = _inputs(x, self.nin, self)
        for layer in self.layers:
            xs = layer._forward(xs)
        return xs[0] if len(xs) == 1 else xs

    def __repr__(self) -> str:
        parts = [str(self.nin)] + [f"{layer.nout} {layer.activation}" for layer in self.layers]
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

    def __getitem__(self, i: int) -> Module:
        return self.layers[i]

    def __repr__(self) -> str:
        return f"Sequential({', '.join(repr(layer) for layer in self.layers)})"
