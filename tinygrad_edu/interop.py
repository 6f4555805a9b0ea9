"""The bridge to PyTorch, for when you outgrow scalars (torch is optional, imported lazily).

``to_torch(model)`` builds a ``torch.nn.Sequential`` of ``Linear`` layers, each followed by
its activation (``ReLU``, ``Tanh``, ``Sigmoid``, or ``Identity`` for ``"linear"``), in float64
with the same weights: ``Linear.weight[j][i]`` is ``layer.neurons[j].w[i]`` and
``Linear.bias[j]`` is ``layer.neurons[j].b``. Its outputs equal ours to ~1e-12. A layer whose
neurons were given different activations gets a ``PerNeuronActivation`` (defined here) that
applies neuron j's activation to output j. ``from_torch(seq)`` goes the other way.

Both directions convert exactly or refuse: a module whose forward was replaced (a subclass
overriding it, a forward hook, an instance attribute), a class that is merely *named* like a
torch activation, or NaN/inf weights is a clear error, never a model computing another function.
So is a torch weight without plain numbers (sparse, quantized, on the 'meta' device, integer or
complex), named by its ``state_dict`` key.

Tied weights stay tied. A layer used twice (the same ``Layer``, or layers made of the same
Values) becomes one ``Linear`` used twice, whose ``Parameter`` torch trains once; a torch
``Linear`` (or ``Parameter``) used twice becomes layers sharing the same Values. A tie a
``Linear`` cannot hold (one Value in two places of different layers, or twice in one layer)
is refused with an error naming both places.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from numbers import Real
from typing import Any

from tinygrad_edu import args
from tinygrad_edu.nn import ACTIVATIONS, MLP, Layer, Module, Neuron, Sequential

__all__ = ["to_torch", "from_torch"]  # and PerNeuronActivation, made on first use

_TORCH_ACT = {"relu": "ReLU", "tanh": "Tanh", "sigmoid": "Sigmoid", "linear": "Identity"}


def _torch() -> Any:
    try:
        import torch
    except ImportError:
        raise ImportError(
            "tinygrad_edu.interop needs PyTorch, which is not installed. "
            "Install it with: pip install torch==2.13.0"
        ) from None
    return torch


@functools.cache
def _per_neuron_class() -> type:
    torch = _torch()
    functions = {"relu": torch.relu, "tanh": torch.tanh, "sigmoid": torch.sigmoid,
                 "linear": lambda t: t}

    class PerNeuronActivation(torch.nn.Module):
        """Output ``j`` of the ``Linear`` before it through activation ``activations[j]``:
        a tinygrad_edu layer whose neurons have different activations."""

        def __init__(self, activations: Sequence[str]) -> None:
            super().__init__()
            for a in activations:
                if a not in functions:
                    raise ValueError(f"PerNeuronActivation: unknown activation {a!r}")
            self.activations = list(activations)

        def forward(self, x: Any) -> Any:
            columns = [functions[a](x[..., j]) for j, a in enumerate(self.activations)]
            return torch.stack(columns, dim=-1)

        def extra_repr(self) -> str:
            return ", ".join(self.activations)

    # found again by pickle (torch.save) through this module's __getattr__
    PerNeuronActivation.__module__ = __name__
    PerNeuronActivation.__qualname__ = "PerNeuronActivation"
    return PerNeuronActivation


def __getattr__(name: str) -> Any:
    # PerNeuronActivation subclasses torch.nn.Module, so it is made when first asked for
    if name == "PerNeuronActivation":
        return _per_neuron_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# ---------------------------------------------------------------------------------------------
# to_torch
# ---------------------------------------------------------------------------------------------
def _check_own_forward(obj: object, base: type, names: Sequence[str], who: str) -> None:
    """Refuse ``obj`` if one of the methods that compute its output is not ``base``'s."""
    for name in names:
        if name in vars(obj) or getattr(type(obj), name) is not getattr(base, name):
            raise ValueError(
                f"{who}: {type(obj).__name__}.{name} is replaced (by a subclass or on the "
                f"object), so the model may compute something other than a plain "
                f"{base.__name__}; to_torch converts only what it can copy exactly. Build the "
                "torch module for it by hand"
            )


def _check_neuron(n: Any, nin: int, where: str) -> None:
    if not isinstance(n, Neuron):
        raise TypeError(f"to_torch: {where} is a {type(n).__name__}, not a Neuron")
    _check_own_forward(n, Neuron, ("__call__", "forward", "_forward_ops"), "to_torch")
    if n._act is not ACTIVATIONS[n.activation]:
        raise ValueError(f"to_torch: {where}'s activation function was replaced")
    n._check_weights()
    if len(n.w) != nin or n.nin != nin:
        raise ValueError(
            f"to_torch: {where} has {len(n.w)} weights (nin={n.nin}) in a layer of {nin} inputs"
        )
    if not all(_finite_number(v.data) for v in (*n.w, n.b)):
        raise ValueError(
            f"to_torch: {where} holds weights that are not finite numbers; the torch model "
            "would compute NaN. Check the model (did its training diverge?)"
        )


def _finite_number(x: object) -> bool:
    try:
        return isinstance(x, Real) and not isinstance(x, bool) and math.isfinite(x)
    except OverflowError:  # an int beyond the float range, set on .data by hand
        return False


def _checked_layer(layer: Layer, where: str) -> Layer:
    _check_own_forward(layer, Layer, ("__call__", "forward", "_forward"), "to_torch")
    if not layer.neurons or len(layer.neurons) != layer.nout:
        raise ValueError(
            f"to_torch: {where} holds {len(layer.neurons)} neurons but says nout={layer.nout}"
        )
    for j, n in enumerate(layer.neurons):
        _check_neuron(n, layer.nin, f"{where} neuron {j}")
    return layer


def _layers(model: Module, where: str = "the model") -> list[Layer]:
    """``model`` as a flat list of dense layers (a Neuron is a layer with one output)."""
    if isinstance(model, Layer):
        return [_checked_layer(model, where)]
    if isinstance(model, Neuron):
        _check_neuron(model, model.nin, where)
        layer = Layer(model.nin, 1, model.activation, seed=0)
        layer.neurons = [model]
        return [layer]
    if isinstance(model, MLP):
        _check_own_forward(model, MLP, ("__call__", "forward"), "to_torch")
        out = [_checked_layer(la, f"{where}.layers[{i}]") for i, la in enumerate(model.layers)]
        if out[0].nin != model.nin:
            raise ValueError(f"to_torch: {where} reads {model.nin} inputs, its first layer "
                             f"{out[0].nin}")
    elif isinstance(model, Sequential):
        _check_own_forward(model, Sequential, ("__call__", "forward"), "to_torch")
        out = []
        for i, sub in enumerate(model.layers):
            out.extend(_layers(sub, f"{where}.layers[{i}]"))
    else:
        raise TypeError(
            "to_torch: can convert Neuron, Layer, MLP and Sequential models, "
            f"got {type(model).__name__}"
        )
    for a, b in zip(out, out[1:]):
        if a.nout != b.nin:
            raise ValueError(f"to_torch: {a!r} gives {a.nout} outputs but {b!r} reads {b.nin}")
    return out


def _shared_layers(layers: list[Layer]) -> list[int]:
    """For each layer, the index of the first layer made of exactly the same Values (itself
    if none), so that a tied layer becomes one torch Linear used twice. A Value shared in any
    other way is refused, naming both places."""
    first: dict[int, str] = {}  # id of a Value -> where it was first met
    same: dict[tuple[int, ...], int] = {}  # the ids of a layer's Values -> that layer
    out = []
    for li, layer in enumerate(layers):
        values = [(f"weight[{j}][{i}]", w) for j, n in enumerate(layer.neurons)
                  for i, w in enumerate(n.w)]
        values += [(f"bias[{j}]", n.b) for j, n in enumerate(layer.neurons)]
        key = tuple(id(v) for _, v in values)
        if key in same:
            out.append(same[key])
            continue
        for place, v in values:
            where = f"layer {li} {place}"
            if id(v) in first:
                raise ValueError(
                    f"to_torch: {first[id(v)]} and {where} are one tied Value "
                    f"({args.short(v)}), and a torch Linear cannot share a single number "
                    "between two places; to_torch keeps ties only between whole layers (the "
                    "same layer used twice). Untie it (give one place its own Value) to convert"
                )
            first[id(v)] = where
        same[key] = li
        out.append(li)
    return out


def to_torch(model: Module) -> Any:
    """An equivalent ``torch.nn.Sequential`` (float64, same weights) for a tinygrad_edu model.

    >>> seq = to_torch(MLP(2, [16, 16, 1], seed=0))
    >>> seq(torch.tensor([[1.0, 2.0]], dtype=torch.float64))   # same as model([1.0, 2.0])
    """
    torch = _torch()
    layers = _layers(model)
    modules, linears = [], []
    with torch.no_grad():
        for layer, first in zip(layers, _shared_layers(layers)):
            if first < len(linears):  # a tied layer: the same Linear, one Parameter
                lin = linears[first]
            else:
                lin = torch.nn.Linear(layer.nin, layer.nout, dtype=torch.float64)
                lin.weight.copy_(torch.tensor([[w.data for w in n.w] for n in layer.neurons],
                                              dtype=torch.float64))
                lin.bias.copy_(torch.tensor([n.b.data for n in layer.neurons],
                                            dtype=torch.float64))
            linears.append(lin)
            modules.append(lin)
            if layer.activation is None:  # the neurons differ
                modules.append(_per_neuron_class()([n.activation for n in layer.neurons]))
            else:
                modules.append(getattr(torch.nn, _TORCH_ACT[layer.activation])())
    return torch.nn.Sequential(*modules)


# ---------------------------------------------------------------------------------------------
# from_torch
# ---------------------------------------------------------------------------------------------
def _refuse_changed_forward(m: Any, base: Any, i: int, torch: Any) -> None:
    """Refuse a module that does not compute what ``base`` computes: a subclass overriding
    forward (or __call__), a forward replaced on the object, or a forward hook."""
    kind = type(m).__name__
    replaced = [name for name in ("forward", "__call__")
                if name in vars(m) or getattr(type(m), name) is not getattr(base, name)]
    if replaced:
        raise ValueError(
            f"from_torch: module {i} ({kind}) is a {base.__name__} whose {replaced[0]} is "
            f"replaced, so it may compute something else; only torch's own {base.__name__} "
            "can be converted exactly"
        )
    hooks = getattr(m, "_forward_hooks", None) or getattr(m, "_forward_pre_hooks", None)
    glob = torch.nn.modules.module
    if hooks or glob._global_forward_hooks or glob._global_forward_pre_hooks:
        raise ValueError(
            f"from_torch: module {i} ({kind}) runs forward hooks, which may change its output; "
            "remove them (handle.remove()) before converting"
        )


def _flatten_torch(module: Any, torch: Any, name: str = "") -> list[tuple[str, Any]]:
    """The modules of nested Sequentials in order, each with its name in the state_dict
    (``"0"``, ``"layers.2"``)."""
    if isinstance(module, torch.nn.Sequential):
        _refuse_changed_forward(module, torch.nn.Sequential, 0, torch)
        out = []
        for key, sub in module._modules.items():  # (named_children() skips a repeated one)
            out.extend(_flatten_torch(sub, torch, f"{name}{key}."))
        return out
    return [(name, module)]


def _activation_of(m: Any, torch: Any) -> tuple[type, str | list[str]] | None:
    """The torch activation class ``m`` is an instance of, and our name(s) for it (one name,
    or one per output for a PerNeuronActivation); None if ``m`` is no activation we know."""
    for ours, theirs in _TORCH_ACT.items():
        base = getattr(torch.nn, theirs)
        if isinstance(m, base):
            return base, ours
    if isinstance(m, _per_neuron_class()):
        return _per_neuron_class(), list(m.activations)
    return None


def _weights(lin: Any, i: int, name: str, torch: Any
             ) -> tuple[list[list[float]], list[float]]:
    weight, bias = lin.weight, lin.bias
    if isinstance(weight, torch.nn.parameter.UninitializedParameter):
        raise ValueError(f"from_torch: module {i} is a lazy Linear that has not run yet; "
                         "call the model once so it knows its sizes")
    for key, t in ((f"{name}weight", weight), (f"{name}bias", bias)):
        if t is None:
            continue
        why = args.without_numbers(t)
        if not why and not t.dtype.is_floating_point:
            why = f"holds {t.dtype} numbers; only real floating-point weights can be copied"
        if why:
            raise ValueError(f"from_torch: parameter {key!r} (module {i}, a Linear) {why}")
    if (weight.dim() != 2 or 0 in weight.shape
            or (bias is not None and tuple(bias.shape) != (weight.shape[0],))):
        raise ValueError(f"from_torch: module {i} has weight {tuple(weight.shape)} and bias "
                         f"{None if bias is None else tuple(bias.shape)}; not a dense layer")
    rows = weight.detach().double().tolist()
    biases = (bias.detach().double().tolist() if bias is not None
              else [0.0] * weight.shape[0])
    if not all(math.isfinite(v) for v in (*biases, *(w for row in rows for w in row))):
        raise ValueError(
            f"from_torch: Linear layer {i} holds NaN or infinite weights; a model made "
            "from them would compute NaN. Check the torch model (did its training diverge?)"
        )
    return rows, biases


def _tie(layers: list[Layer], linears: list[Any]) -> None:
    """Make our layers share Values where the torch Linears share a Parameter (the same
    Linear used twice, or a weight assigned to two Linears), as PyTorch trains them."""
    owner: dict[int, tuple[int, str]] = {}  # id of a Parameter -> (layer, "weight"/"bias")
    for li, lin in enumerate(linears):
        for kind, t in (("weight", lin.weight), ("bias", lin.bias)):
            if t is None:
                continue
            if id(t) not in owner:
                owner[id(t)] = (li, kind)
                continue
            src, src_kind = owner[id(t)]
            for n, m in zip(layers[li].neurons, layers[src].neurons):
                if kind == "weight" and src_kind == "weight":
                    n.w = list(m.w)
                elif kind == "bias" and src_kind == "bias":
                    n.b = m.b


def from_torch(module: Any, fused: bool = True) -> MLP | Sequential:
    """A tinygrad_edu model computing the same function as a torch ``Sequential`` of
    ``Linear`` layers, each optionally followed by ``ReLU``, ``Tanh``, ``Sigmoid``,
    ``Identity`` or ``PerNeuronActivation``.

    Returns an ``MLP`` when the hidden layers share one activation (else a ``Sequential`` of
    ``Layer``\\ s). Weights are copied as Python floats (exact for float32 and float64); a
    ``Linear`` without bias gets bias 0. Anything that is not exactly one of those modules
    (a subclass with its own forward, a forward hook) is refused with a ``ValueError``.
    """
    torch = _torch()
    if not isinstance(module, torch.nn.Module):
        raise TypeError(f"from_torch needs a torch.nn.Sequential, got {type(module).__name__}")
    mods = _flatten_torch(module, torch)
    specs: list[tuple[list[list[float]], list[float], list[str] | None]] = []
    linears = []
    for i, (name, m) in enumerate(mods):
        kind = type(m).__name__
        act = _activation_of(m, torch)
        if isinstance(m, torch.nn.Linear):
            rows, biases = _weights(m, i, name, torch)
            _refuse_changed_forward(m, torch.nn.Linear, i, torch)
            specs.append((rows, biases, None))
            linears.append(m)
        elif act is not None:
            base, name = act
            _refuse_changed_forward(m, base, i, torch)
            if not specs or specs[-1][2] is not None:
                raise ValueError(
                    f"from_torch: module {i} ({kind}) must follow a Linear layer "
                    "(one activation per Linear)"
                )
            rows, biases, _ = specs[-1]
            names = [name] * len(rows) if isinstance(name, str) else name
            if len(names) != len(rows):
                raise ValueError(f"from_torch: module {i} has {len(names)} activations for a "
                                 f"Linear of {len(rows)} outputs")
            specs[-1] = (rows, biases, names)
        else:
            origin = type(m).__module__
            lookalike = kind in _TORCH_ACT.values() or kind == "Linear"
            raise ValueError(
                f"from_torch: module {i} is {kind}"
                + (f" from {origin} (a quantized module: convert the model back to float "
                   "first)" if ".quantized" in origin else
                   f" from {origin}, not torch.nn.{kind} (only the name is the same)"
                   if lookalike else "")
                + "; only torch's Linear, ReLU, Tanh, Sigmoid and Identity (and "
                "tinygrad_edu.interop.PerNeuronActivation) can be converted"
            )
    if not specs:
        raise ValueError("from_torch: the module holds no Linear layer")
    for (a, _, _), (b, _, _) in zip(specs, specs[1:]):
        if len(a) != len(b[0]):
            raise ValueError(
                f"from_torch: a Linear with {len(a)} outputs feeds one with {len(b[0])} inputs"
            )
    acts = [names or ["linear"] * len(rows) for rows, _, names in specs]
    hidden = {a for names in acts[:-1] for a in names}
    uniform_hidden = all(len(set(names)) == 1 for names in acts[:-1])
    sizes = [len(rows) for rows, _, _ in specs]
    if uniform_hidden and len(hidden) <= 1:
        model: MLP | Sequential = MLP(
            len(specs[0][0][0]), sizes,
            activation=hidden.pop() if hidden else "relu",
            output_activation=acts[-1][0], seed=0, fused=fused,
        )
        layers = model.layers
    else:
        layers = [Layer(len(rows[0]), len(rows), names[0], seed=0, fused=fused)
                  for (rows, _, _), names in zip(specs, acts)]
        model = Sequential(*layers)
    for layer, (rows, biases, _), names in zip(layers, specs, acts):
        for neuron, row, b, act in zip(layer.neurons, rows, biases, names):
            for w, value in zip(neuron.w, row):
                w.data = value
            neuron.b.data = b
            neuron.activation = act
    _tie(layers, linears)
    return model
