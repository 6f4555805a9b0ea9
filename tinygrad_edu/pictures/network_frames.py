"""The numbers of one training step on one example, frame by frame (no drawing).

``step_numbers(model, x, target)`` runs the step on a copy of the model with the engine:
forward layer by layer, the loss, ``backward()``, and the update ``w - lr * grad``, and keeps
every unit's ``z``, output, ``dL/dz`` and every weight's ``dL/dw``. The model itself (its
weights and their grads) is not touched.

``network_frames(numbers)`` turns them into what a picture shows, one :class:`NetworkFrame`
per frame: the input, each layer forward, the loss, each layer backward (from the output
layer to the first hidden layer), the update. Each frame says, per unit and per edge, which
number to write and how strongly to colour it (a signed tint in [-1, 1]: the sign picks the
colour, the size its strength), plus a title and caption lines. ``network_anim`` draws them.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from tinygrad_edu import args
from tinygrad_edu.engine import Value, linear, local_derivatives
from tinygrad_edu.grad_mode import no_grad
from tinygrad_edu.losses import binary_cross_entropy, cross_entropy, mse_loss
from tinygrad_edu.pictures.graph import layers_of
from tinygrad_edu.pictures.style import factor, number

__all__ = ["StepNumbers", "Unit", "Edge", "NetworkFrame", "step_numbers", "network_frames"]

_ACT_NAME = {"relu": "ReLU", "tanh": "tanh", "sigmoid": "σ", "linear": "linear"}


@dataclass
class StepNumbers:
    """One training step on one example; lists are per layer (then per unit, per input)."""

    x: list[float]
    activations: list[list[str]]
    z: list[list[float]]
    out: list[list[float]]
    w: list[list[list[float]]]
    b: list[list[float]]
    dz: list[list[float]]  # dL/dz: the unit's pre-activation z = b + sum w x
    dout: list[list[float]]  # dL/d(out)
    act_slope: list[list[float]]  # d out / d z: the activation's local derivative
    dw: list[list[list[float]]]
    db: list[list[float]]
    loss_name: str
    target: Any
    loss: float
    loss_after: float  # the same example's loss after the update
    lr: float


def _default_loss(layers: list[list[Any]]) -> Callable[[Any, Any], Value]:
    """What the output layer suggests: several linear outputs are logits (cross-entropy), one
    sigmoid output a probability (binary cross-entropy), anything else a regression (MSE)."""
    acts = {getattr(n, "activation", "linear") for n in layers[-1]}
    if len(layers[-1]) > 1 and acts == {"linear"}:
        return cross_entropy
    if len(layers[-1]) == 1 and acts == {"sigmoid"}:
        return binary_cross_entropy
    return mse_loss


def _unit(neuron: Any, h: list[Value]) -> Value:
    """A unit's output, its activation's input ``z`` a node of its own (whose number and
    gradient the frames show): a relu neuron's forward is one node, ``linear+relu``."""
    out = neuron(h)
    if out.op == "linear+relu":  # the same floats as linear, then relu
        out = linear(neuron.w, h, neuron.b).relu()
    return out


def step_numbers(model: Any, x: Any, target: Any, loss: Callable[[Any, Any], Value] | None = None,
                 lr: float = 0.1) -> StepNumbers:
    """The step's numbers from the engine, on a deep copy of ``model`` (left as it was)."""
    lr = args.number(lr, "animate_network: lr")
    if lr <= 0:
        raise ValueError(f"animate_network: lr must be > 0 (the step size), got {lr!r}")
    layers_of(model)  # a clear error for something that is not a network of dense layers
    twin = copy.deepcopy(model)
    layers = layers_of(twin)
    loss_fn = _default_loss(layers) if loss is None else loss
    if not callable(loss_fn):
        raise TypeError(f"animate_network: loss must be a loss function such as "
                        f"tinygrad_edu.losses.mse_loss, got {loss_fn!r}")
    with no_grad():
        whole = twin(x)  # the model's own input checks and errors
    xs = [x] if isinstance(x, (Value, int, float)) else list(x)
    inputs = [Value(float(v.data if isinstance(v, Value) else v), f"x{i + 1}")
              for i, v in enumerate(xs)]
    h: list[Value] = inputs
    outs: list[list[Value]] = []
    for layer in layers:
        h = [_unit(neuron, h) for neuron in layer]
        outs.append(h)
    final = [o.data for o in (whole if isinstance(whole, list) else [whole])]
    if final != [o.data for o in outs[-1]]:
        raise ValueError(
            f"animate_network shows models that apply their layers one after another "
            f"(Neuron, Layer, MLP, Sequential); {type(model).__name__}'s forward computes "
            "something else"
        )
    # a unit's z is its activation's input; a linear unit's output is z itself
    zs = [[o.children[0] if getattr(n, "activation", "linear") != "linear" and
           len(o.children) == 1 else o for n, o in zip(layer, row)]
          for layer, row in zip(layers, outs)]
    prediction = outs[-1][0] if len(outs[-1]) == 1 else outs[-1]
    try:
        L = loss_fn([prediction], [target])
    except (TypeError, ValueError, IndexError) as err:
        name = getattr(loss_fn, "__name__", "the loss")
        raise type(err)(f"animate_network: {name} refused target {target!r}: {err}") from err
    if not isinstance(L, Value):
        raise TypeError(f"animate_network: the loss must return a Value, got {type(L).__name__}")
    params = twin.parameters()
    for p in params:
        p.grad = 0.0
    L.backward()
    slope = [[1.0 if z is o else float(local_derivatives(o)[0]) for z, o in zip(zrow, orow)]
             for zrow, orow in zip(zs, outs)]
    numbers = StepNumbers(
        x=[v.data for v in inputs],
        activations=[[getattr(n, "activation", "linear") for n in layer] for layer in layers],
        z=[[v.data for v in row] for row in zs],
        out=[[v.data for v in row] for row in outs],
        w=[[[w.data for w in n.w] for n in layer] for layer in layers],
        b=[[n.b.data for n in layer] for layer in layers],
        dz=[[v.grad for v in row] for row in zs],
        dout=[[v.grad for v in row] for row in outs],
        act_slope=slope,
        dw=[[[w.grad for w in n.w] for n in layer] for layer in layers],
        db=[[n.b.grad for n in layer] for layer in layers],
        loss_name=getattr(loss_fn, "__name__", "loss"),
        target=target, loss=L.data, loss_after=math.nan, lr=lr,
    )
    with no_grad():
        for p in params:
            p.data -= lr * p.grad
        numbers.loss_after = loss_fn([twin(x)], [target]).data
    return numbers


# ---------------------------------------------------------------------------------------------
# Frames
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Unit:
    """A circle in one frame: its number (``None``: not known yet) and its tint."""

    text: str | None
    tint: float | None  # in [-1, 1]; 0 is exactly zero (a ReLU that does not fire)
    note: str = ""  # the small line above the number: what it is (ReLU, ∂L/∂z, Δb)
    current: bool = False  # computed in this frame
    faded: bool = False  # known, but not what this phase is about


@dataclass(frozen=True)
class Edge:
    """A weight's line in one frame: its number, tint (colour by sign, width by size)."""

    text: str
    tint: float
    current: bool = False
    faded: bool = False


@dataclass
class NetworkFrame:
    phase: str  # "forward", "loss", "backward" or "update"
    title: str
    caption: list[str]
    units: list[list[Unit]]  # column 0: inputs; column k: layer k
    edges: list[list[list[Edge]]]  # into layer k+1: [unit j][input i]
    loss: Unit = field(default_factory=lambda: Unit(None, None, "loss"))


def _scale(values: Sequence[float]) -> float:
    m = max((abs(v) for v in values if math.isfinite(v)), default=0.0)
    return m or 1.0


def _tint(v: float, scale: float) -> float:
    return max(-1.0, min(1.0, v / scale))


def _fixed(v: float, digits: int) -> str:
    text = f"{v:.{digits}f}" if abs(v) < 1e4 else f"{v:.{digits}e}"
    return text.removeprefix("-") if float(text) == 0.0 else text  # (no "-0.00")


def _flat(rows: Sequence[Sequence[float]]) -> list[float]:
    return [v for row in rows for v in row]


def network_frames(n: StepNumbers, input_names: Sequence[str] | None = None,
                   digits: int = 2, output_names: Sequence[str] | None = None,
                   visible: Sequence[Sequence[int]] | None = None) -> list[NetworkFrame]:
    """The frames of :func:`step_numbers`'s step; see the module docstring. ``visible``: per
    column, the units the picture shows (the captions' examples are taken from those)."""
    L = len(n.out)
    sizes = [len(n.x)] + [len(row) for row in n.out]
    shown = [list(v) for v in visible] if visible else [list(range(m)) for m in sizes]
    names = list(input_names) if input_names else [f"x{i + 1}" for i in range(len(n.x))]
    outs_named = list(output_names) if output_names else None

    def layer_name(k: int) -> str:  # k = 1..L
        return "the output layer" if k == L else f"hidden layer {k}"

    def unit_name(k: int, j: int) -> str:
        if k == 0:
            return names[j]
        if k == L:  # by its name if it has one: of outputs named 0-9, "output 3" is the 2
            return f"output “{outs_named[j]}”" if outs_named else f"output {j + 1}"
        return f"unit {j + 1} of hidden layer {k}"

    def fx(v: float) -> str:
        return _fixed(v, digits)

    x_scale = _scale(n.x)
    out_scales = [1.0 if set(acts) <= {"tanh", "sigmoid"} else _scale(row)
                  for acts, row in zip(n.activations, n.out)]
    dz_scale = _scale(_flat(n.dz))
    dw_scale = _scale([g for layer in n.dw for row in layer for g in row])
    w_scale = _scale([w for layer in n.w for row in layer for w in row])
    step_scale = n.lr * dw_scale
    db_scale = n.lr * _scale(_flat(n.db))
    sources = [n.x] + n.out[:-1]  # what each layer reads

    inputs = [Unit(fx(v), _tint(v, x_scale), names[i]) for i, v in enumerate(n.x)]

    def forward_units(k: int, current: int | None, faded: bool = False) -> list[list[Unit]]:
        cols = [inputs if not faded else [Unit(u.text, u.tint, u.note, faded=True)
                                          for u in inputs]]
        for m in range(1, L + 1):
            acts = n.activations[m - 1]
            notes = [_ACT_NAME.get(a, a) for a in acts]
            if m == L and outs_named:
                notes = outs_named
            if m <= k:
                cols.append([Unit(fx(v), _tint(v, out_scales[m - 1]), notes[j], m == current,
                                  faded) for j, v in enumerate(n.out[m - 1])])
            else:
                cols.append([Unit(None, None, note) for note in notes])
        return cols

    def weight_edges(faded: bool = True) -> list[list[list[Edge]]]:
        return [[[Edge(fx(w), _tint(w, w_scale), faded=faded) for w in row] for row in layer]
                for layer in n.w]

    frames: list[NetworkFrame] = []
    shown_x = ", ".join(f"{names[i]} = {number(n.x[i])}" for i in shown[0])
    if len(shown[0]) < len(n.x):
        shown_x = f"{len(n.x)} numbers ({shown_x}; the others behind “⋮”)"
    frames.append(NetworkFrame(
        "forward", "Forward pass: the input enters the network",
        [f"The input: {shown_x}.",
         "Each unit of the next layer computes z = b + Σ w·(its inputs), then out = act(z); "
         "edges are the weights (orange > 0, blue < 0, thicker = larger)."],
        forward_units(0, None), weight_edges(faded=False)))
    for k in range(1, L + 1):
        edges = weight_edges()
        src = sources[k - 1]
        contrib = [[w * src[i] for i, w in enumerate(row)] for row in n.w[k - 1]]
        c_scale = _scale(_flat(contrib))
        edges[k - 1] = [[Edge(fx(c), _tint(c, c_scale), current=True) for c in row]
                        for row in contrib]
        acts = n.activations[k - 1]
        outs = n.out[k - 1]
        j = max(shown[k], key=lambda u: abs(n.z[k - 1][u]))
        caption = [_unit_sum(n, k, j, unit_name, names if k == 1 else None)]
        if set(acts) == {"relu"}:
            firing = sum(1 for v in outs if v > 0)
            caption.append(f"{firing} of {len(outs)} units fire (out > 0); the others output "
                           "0 (grey) and pass nothing on.")
        elif set(acts) == {"linear"}:
            caption.append("A linear unit outputs z itself. Edges into this layer show "
                           "w·input (orange > 0, blue < 0).")
        else:
            act = _ACT_NAME.get(acts[0], acts[0]) if len(set(acts)) == 1 else "act"
            caption.append(f"out = {act}(z) for every unit. Edges into this layer show w·input "
                           "(orange > 0, blue < 0).")
        frames.append(NetworkFrame(
            "forward", f"Forward pass: {layer_name(k)}", caption,
            forward_units(k, k), edges))

    if len(n.out[-1]) > 1 and n.loss_name == "cross_entropy":
        said = (f"The outputs are scores (logits), one per class; the target is class "
                f"{_target_text(n.target)}. cross_entropy = −log(softmax of the scores at the "
                f"target) = {number(n.loss)}: the network gives the right class probability "
                f"{number(math.exp(-n.loss))}.")
    else:
        prediction = ", ".join(number(v) for v in n.out[-1])
        said = (f"The network says {prediction}; the target is {_target_text(n.target)}. "
                f"{n.loss_name} measures how far off that is: L = {number(n.loss)}.")
    loss_unit = Unit(number(n.loss), 1.0, "loss", current=True)
    frames.append(NetworkFrame(
        "loss", f"The loss: {n.loss_name} = {number(n.loss)}",
        [said,
         "Backward starts here, at ∂L/∂L = 1, and goes from the output layer back to the "
         "first hidden layer."],
        forward_units(L, None, faded=False), weight_edges(), loss_unit))

    for k in range(L, 0, -1):
        units = forward_units(L, None, faded=True)
        for m in range(k, L + 1):
            units[m] = [Unit(fx(g), _tint(g, dz_scale), "∂L/∂z", m == k)
                        for g in n.dz[m - 1]]
        edges = weight_edges()
        for m in range(k, L + 1):
            edges[m - 1] = [[Edge(fx(g), _tint(g, dw_scale), current=m == k) for g in row]
                            for row in n.dw[m - 1]]
        frames.append(NetworkFrame(
            "backward", f"Backward pass: {layer_name(k)}, ∂L/∂z and ∂L/∂w",
            _backward_caption(n, k, unit_name, shown), units, edges,
            Unit(number(n.loss), 1.0, "loss", faded=True)))

    units = [inputs] + [[Unit(fx(-n.lr * g), _tint(-n.lr * g, db_scale), "Δb", True)
                         for g in row] for row in n.db]
    edges = [[[Edge(fx(-n.lr * g), _tint(-n.lr * g, step_scale), current=True) for g in row]
              for row in layer] for layer in n.dw]
    k, j, i = max(((k, j, i) for k in range(L) for j in shown[k + 1] for i in shown[k]),
                  key=lambda t: abs(n.dw[t[0]][t[1]][t[2]]))
    g = n.dw[k][j][i]
    frames.append(NetworkFrame(
        "update", f"Update: every weight moves by −lr · ∂L/∂w (lr = {number(n.lr)})",
        [f"The biggest change: the weight from {unit_name(k, i)} into "
         f"{unit_name(k + 1, j)}: −{number(n.lr)} × {factor(g)} = {number(-n.lr * g)}. "
         "Biases move by −lr · ∂L/∂b (Δb in the circles).",
         f"On this example the loss goes from {number(n.loss)} to {number(n.loss_after)}."],
        units, edges, Unit(number(n.loss_after), 1.0, "new loss", current=True)))
    return frames


def _capital(text: str) -> str:
    """``text`` starting with a capital letter; the rest as it is (a name keeps its case)."""
    return text[:1].upper() + text[1:]


def _target_text(target: Any) -> str:
    if isinstance(target, (int, float)) and not isinstance(target, bool):
        return number(float(target))
    return repr(target)


def _unit_sum(n: StepNumbers, k: int, j: int, unit_name: Callable[[int, int], str],
              names: list[str] | None) -> str:
    """A line of arithmetic for unit ``j`` of layer ``k``: its z and out."""
    w, src = n.w[k - 1][j], ([n.x] + n.out[:-1])[k - 1]
    if len(w) <= 3:
        terms = " + ".join(f"{factor(wi)}×{factor(src[i])}" for i, wi in enumerate(w))
        z_text = f"{number(n.b[k - 1][j])} + {terms}"
    else:
        z_text = f"{number(n.b[k - 1][j])} + Σ of {len(w)} terms w·input"
    act = n.activations[k - 1][j]
    out = "" if act == "linear" else (f", out = {_ACT_NAME.get(act, act)}(z) = "
                                      f"{number(n.out[k - 1][j])}")
    return f"{_capital(unit_name(k, j))}: z = {z_text} = {number(n.z[k - 1][j])}{out}."


def _backward_caption(n: StepNumbers, k: int, unit_name: Callable[[int, int], str],
                      shown: list[list[int]]) -> list[str]:
    L = len(n.out)
    j = max(shown[k], key=lambda u: abs(n.dz[k - 1][u]))
    act = n.activations[k - 1][j]
    if k == L:
        where = "∂L/∂out comes from the loss"
    else:
        where = "∂L/∂out = Σ over the next layer of w × ∂L/∂z"
    slope = "1 (a linear unit)" if act == "linear" else f"{_ACT_NAME.get(act, act)}'(z)"
    first = (f"{where}; ∂L/∂z = ∂L/∂out × {slope}. "
             f"{_capital(unit_name(k, j))}: ∂L/∂z = {factor(n.dout[k - 1][j])} × "
             f"{factor(n.act_slope[k - 1][j])} = {number(n.dz[k - 1][j])}.")
    row = n.dw[k - 1][j]
    i = max(shown[k - 1], key=lambda t: abs(row[t]))
    src = ([n.x] + n.out[:-1])[k - 1]
    second = (f"Each weight: ∂L/∂w = ∂L/∂z of the unit it feeds × its input; from "
              f"{unit_name(k - 1, i)}: {factor(n.dz[k - 1][j])} × {factor(src[i])} = "
              f"{number(row[i])}.")
    if set(n.activations[k - 1]) == {"relu"}:
        dead = sum(1 for v in n.out[k - 1] if v <= 0)
        if dead:
            second += f" {dead} units did not fire: ReLU'(z) = 0, so their weights get 0."
    return [first, second]
