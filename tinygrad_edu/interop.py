"""The bridge to PyTorch, for when you outgrow scalars (torch is optional, imported lazily).

``to_torch(model)`` builds a ``torch.nn.Sequential`` of ``Linear`` layers, each followed by
its activation (``ReLU``, ``Tanh``, ``Sigmoid``, or ``Identity`` for ``"linear"``), in float64
with the same weights: ``Linear.weight[j][i]`` is ``layer.neurons[j].w[i]`` and
``Linear.bias[j]`` is ``layer.neurons[j].b``. Its outputs equal ours to ~1e-12.
``from_torch(seq)`` goes the other way.
"""

from __future__ import annotations

import math
from typing import Any

from tinygrad_edu.nn import MLP, Layer, Module, Neuron, Sequential

__all__ = ["to_torch", "from_torch"]

_TORCH_ACT = {"relu": "ReLU", "tanh": "Tanh", "sigmoid": "Sigmoid", "linear": "Identity"}
_OUR_ACT = {v: k for k, v in _TORCH_ACT.items()}


def _torch() -> Any:
    try:
        import torch
    except ImportError:
        raise ImportError(
            "tinygrad_edu.interop needs PyTorch, which is not installed. "
            "Install it with: pip install torch==2.13.0"
        ) from None
    return torch


def _layers(model: Module) -> list[Layer]:
    """``model`` as a flat list of dense layers (a Neuron is a layer with one output)."""
    if isinstance(model, Layer):
        return [model]
    if isinstance(model, Neuron):
        layer = Layer(model.nin, 1, model.activation, seed=0)
        layer.neurons = [model]
        return [layer]
    if isinstance(model, (MLP, Sequential)):
        out: list[Layer] = []
        for sub in model.layers:
            out.extend(_layers(sub))
        for a, b in zip(out, out[1:]):
            if a.nout != b.nin:
                raise ValueError(f"to_torch: {a!r} gives {a.nout} outputs but {b!r} reads {b.nin}")
        return out
    raise TypeError(
        "to_torch: can convert Neuron, Layer, MLP and Sequential models, "
        f"got {type(model).__name__}"
    )


def to_torch(model: Module) -> Any:
    """An equivalent ``torch.nn.Sequential`` (float64, same weights) for a tinygrad_edu model.

    >>> seq = to_torch(MLP(2, [16, 16, 1], seed=0))
    >>> seq(torch.tensor([[1.0, 2.0]], dtype=torch.float64))   # same as model([1.0, 2.0])
    """
    torch = _torch()
    modules = []
    with torch.no_grad():
        for layer in _layers(model):
            lin = torch.nn.Linear(layer.nin, layer.nout, dtype=torch.float64)
            lin.weight.copy_(torch.tensor([[w.data for w in n.w] for n in layer.neurons],
                                          dtype=torch.float64))
            lin.bias.copy_(torch.tensor([n.b.data for n in layer.neurons], dtype=torch.float64))
            modules.append(lin)
            modules.append(getattr(torch.nn, _TORCH_ACT[layer.activation])())
    return torch.nn.Sequential(*modules)


def _flatten_torch(module: Any, torch: Any) -> list[Any]:
    if isinstance(module, torch.nn.Sequential):
        out = []
        for sub in module:
            out.extend(_flatten_torch(sub, torch))
        return out
    return [module]


def from_torch(module: Any, fused: bool = True) -> MLP | Sequential:
    """A tinygrad_edu model computing the same function as a torch ``Sequential`` of
    ``Linear`` layers, each optionally followed by ``ReLU``, ``Tanh``, ``Sigmoid`` or
    ``Identity``.

    Returns an ``MLP`` when the hidden layers share one activation (else a ``Sequential`` of
    ``Layer``\\ s). Weights are copied as Python floats (exact for float32 and float64); a
    ``Linear`` without bias gets bias 0.
    """
    torch = _torch()
    if not isinstance(module, torch.nn.Module):
        raise TypeError(f"from_torch needs a torch.nn.Sequential, got {type(module).__name__}")
    mods = _flatten_torch(module, torch)
    specs: list[tuple[Any, str]] = []  # (Linear, activation name)
    for i, m in enumerate(mods):
        kind = type(m).__name__
        if isinstance(m, torch.nn.Linear):
            specs.append((m, "linear"))
        elif kind in _OUR_ACT:
            if not specs or specs[-1][1] != "linear":
                raise ValueError(
                    f"from_torch: module {i} ({kind}) must follow a Linear layer "
                    "(one activation per Linear)"
                )
            specs[-1] = (specs[-1][0], _OUR_ACT[kind])
        else:
            raise ValueError(
                f"from_torch: module {i} is {kind}; only Linear, ReLU, Tanh, Sigmoid and "
                "Identity can be converted"
            )
    if not specs:
        raise ValueError("from_torch: the module holds no Linear layer")
    for (a, _), (b, _) in zip(specs, specs[1:]):
        if a.out_features != b.in_features:
            raise ValueError(
                f"from_torch: a Linear with {a.out_features} outputs feeds one with "
                f"{b.in_features} inputs"
            )
    hidden = {act for _, act in specs[:-1]}
    if len(hidden) <= 1:
        model: MLP | Sequential = MLP(
            specs[0][0].in_features,
            [lin.out_features for lin, _ in specs],
            activation=hidden.pop() if hidden else "relu",
            output_activation=specs[-1][1],
            seed=0,
            fused=fused,
        )
        layers = model.layers
    else:
        layers = [Layer(lin.in_features, lin.out_features, act, seed=0, fused=fused)
                  for lin, act in specs]
        model = Sequential(*layers)
    for i, (layer, (lin, _)) in enumerate(zip(layers, specs)):
        weight = lin.weight.detach().double().tolist()
        bias = (lin.bias.detach().double().tolist() if lin.bias is not None
                else [0.0] * lin.out_features)
        if not all(math.isfinite(v) for v in (*bias, *(w for row in weight for w in row))):
            raise ValueError(
                f"from_torch: Linear layer {i} holds NaN or infinite weights; a model made "
                "from them would compute NaN. Check the torch model (did its training diverge?)"
            )
        for neuron, row, b in zip(layer.neurons, weight, bias):
            for w, value in zip(neuron.w, row):
                w.data = float(value)
            neuron.b.data = float(b)
    return model
