"""Pictures of computation graphs and networks, drawn with Graphviz.

``draw_graph(root)`` draws the graph that built ``root`` the way micrograd's lecture does: one
box per ``Value`` (label, data, grad) and one small node per operation between its inputs and
its result. ``draw_network(model)`` draws a model as columns of neurons joined by its weights.

Both return a :class:`Diagram`, a ``graphviz.Digraph``: it shows itself inline in Jupyter,
``.pipe(format="svg")`` returns the picture as bytes, ``.render(outfile="g.png")`` writes a file
and ``.source`` is the DOT text (the same graph always gives the same text, so pictures can be
compared and diffed).

Stepping through backpropagation, one picture per step::

    for node in backward_steps(loss):
        display(draw_graph(loss, highlight=node))

Every grad that is final at that step is shown; the others are greyed out as ``grad ?``.

Needs the ``graphviz`` Python package (``pip install 'tinygrad_edu[viz]'``) and, to turn DOT
text into pictures, the Graphviz ``dot`` program.
"""

from __future__ import annotations

import html
import math
import shutil
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

try:
    import graphviz
except ImportError as _err:  # pragma: no cover - exercised by a test that blocks the import
    raise ImportError(
        "tinygrad_edu.viz needs the 'graphviz' Python package, which is part of the 'viz' "
        "extra: pip install 'tinygrad_edu[viz]' (or pip install graphviz). Rendering also "
        "needs the Graphviz 'dot' program: apt-get install graphviz (Debian/Ubuntu), "
        "brew install graphviz (macOS) or conda install -c conda-forge graphviz."
    ) from _err

from tinygrad_edu.engine import Value, backward_order

__all__ = [
    "draw_graph",
    "draw_dot",
    "draw_network",
    "Diagram",
    "GraphTooLargeError",
    "GraphvizNotFoundError",
    "graphviz_available",
]

INSTALL_HINT = (
    "Install Graphviz: apt-get install graphviz (Debian/Ubuntu), brew install graphviz "
    "(macOS), or conda install -c conda-forge graphviz (conda); then restart Python/Jupyter so "
    "the new PATH is seen. You can still read the DOT text without it: diagram.source"
)


# ---------------------------------------------------------------------------------------------
# Errors and the Digraph subclass that turns "dot not found" into an actionable message.
# ---------------------------------------------------------------------------------------------
class GraphvizNotFoundError(graphviz.ExecutableNotFound):
    """The Graphviz ``dot`` program is not installed (or not on PATH).

    A subclass of ``graphviz.ExecutableNotFound`` (and so of ``RuntimeError``), so code that
    catches graphviz's own error keeps working; the message says how to install Graphviz.
    """

    def __init__(self, program: str = "dot") -> None:
        RuntimeError.__init__(
            self,
            f"cannot render the picture: the Graphviz program {program!r} was not found on "
            f"PATH. {INSTALL_HINT}",
        )


class GraphTooLargeError(ValueError):
    """``draw_graph`` refused a graph with more Values than ``max_nodes``."""


def graphviz_available() -> bool:
    """True when the Graphviz ``dot`` program is on PATH (pictures can be rendered)."""
    return shutil.which("dot") is not None


class Diagram(graphviz.Digraph):
    """A ``graphviz.Digraph`` whose rendering explains a missing Graphviz installation.

    ``pipe()``, ``render()``, ``view()`` and Jupyter's inline display raise
    :class:`GraphvizNotFoundError` (naming Graphviz and how to install it) instead of
    graphviz's bare ``ExecutableNotFound``.
    """

    def pipe(self, *args: Any, **kwargs: Any) -> Any:  # noqa: D102 - same as graphviz
        with _explain_missing_dot():
            return super().pipe(*args, **kwargs)

    def render(self, *args: Any, **kwargs: Any) -> str:  # noqa: D102 - same as graphviz
        with _explain_missing_dot():
            return super().render(*args, **kwargs)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None, **kwargs: Any) -> Any:
        with _explain_missing_dot():
            return super()._repr_mimebundle_(include=include, exclude=exclude, **kwargs)


@contextmanager
def _explain_missing_dot() -> Iterator[None]:
    """Turn graphviz's bare ExecutableNotFound into GraphvizNotFoundError (install hint)."""
    try:
        yield
    except GraphvizNotFoundError:
        raise
    except graphviz.ExecutableNotFound as err:
        raise GraphvizNotFoundError(_program_name(err)) from err


def _program_name(err: Exception) -> str:
    text = str(err)
    if text.startswith("failed to execute "):
        # graphviz's message: failed to execute PosixPath('dot'), make sure ...
        word = text[len("failed to execute "):].split(",")[0]
        for name in ("dot", "neato", "fdp", "sfdp", "circo", "twopi"):
            if name in word:
                return name
    return "dot"


# ---------------------------------------------------------------------------------------------
# Small helpers: number formatting, HTML escaping, colours.
# ---------------------------------------------------------------------------------------------
def _fmt(x: float, digits: int) -> str:
    """``x`` with ``digits`` decimals, or in scientific notation when tiny or huge."""
    if x == 0.0:
        return f"{0.0:.{digits}f}"
    if 10.0 ** (-digits + 1) <= abs(x) < 1e6:
        return f"{x:.{digits}f}"
    return f"{x:.{max(digits - 1, 1)}e}"


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


def _mix(c0: tuple[int, int, int], c1: tuple[int, int, int], t: float) -> str:
    r, g, b = (round(a + (b_ - a) * t) for a, b_ in zip(c0, c1))
    return f"#{r:02x}{g:02x}{b:02x}"


_BLUE = (120, 160, 230)  # vanishing gradients
_WHITE = (255, 255, 255)
_RED = (235, 110, 100)  # exploding gradients


def _grad_color(g: float, low: float, high: float) -> str:
    """Fill colour for a gradient: blue when |g| <= low, white near the middle (log scale),
    red when |g| >= high."""
    mag = abs(g)
    if mag == 0.0:
        t = 0.0
    elif not math.isfinite(mag):
        t = 1.0
    else:
        lo, hi = math.log10(low), math.log10(high)
        t = min(max((math.log10(mag) - lo) / (hi - lo), 0.0), 1.0)
    if t < 0.5:
        return _mix(_BLUE, _WHITE, t / 0.5)
    return _mix(_WHITE, _RED, (t - 0.5) / 0.5)


# Fill colours and borders of the node kinds (the legend of every picture).
_KIND_STYLE = {
    "param": {"bg": "#fff2b3", "border": "1"},  # learnable weights and biases: yellow
    "input": {"bg": "#d9f2d9", "border": "1"},  # labelled leaves: data the user fed in
    "constant": {"bg": "#ffffff", "border": "1"},  # unlabelled leaves: numbers like the 2 in 2*a
    "intermediate": {"bg": "#eaf1fb", "border": "1"},  # results of operations
}
_PENDING_BG = "#d9d9d9"
_PENDING_FG = "#8c8c8c"
_HIGHLIGHT_BG = "#ffb366"
_HIGHLIGHT_BORDER = "#d62728"


# ---------------------------------------------------------------------------------------------
# Computation graphs
# ---------------------------------------------------------------------------------------------
def _collect(root: Value, limit: int) -> tuple[list[Value], int]:
    """Nodes of ``root``'s graph, inputs before results (iterative post-order DFS), and the
    total count. Stops listing (but keeps counting) after ``limit`` nodes."""
    order: list[Value] = []
    seen = {root}
    stack: list[tuple[Value, int]] = [(root, 0)]
    count = 1
    while stack:
        node, i = stack[-1]
        children = node.children
        if i < len(children):
            stack[-1] = (node, i + 1)
            child = children[i]
            if child not in seen:
                seen.add(child)
                count += 1
                stack.append((child, 0))
        else:
            stack.pop()
            if len(order) < limit:
                order.append(node)
    return order, count


def _op_text(node: Value) -> str:
    """What the small operation node says."""
    op, arg = node.op, node._arg
    if op == "**":
        return f"**{arg:g}" if arg is not None else "**"
    if op == "c**":
        return f"{arg:g}**x" if arg is not None else "c**x"
    if op == "linear":
        return "b + Σ w·x"
    if op == "-":
        return "a − b"
    if op == "/":
        return "a / b"
    if op == "neg":
        return "−x"
    return op


def _edge_labels(node: Value) -> list[str]:
    """Labels for the edges into an op node, where the order of inputs matters."""
    op, n = node.op, len(node.children)
    if op == "linear":
        k = (n - 1) // 2
        return ["b"] + [f"w[{i}]" for i in range(k)] + [f"x[{i}]" for i in range(k)]
    if op in ("-", "/") and n == 2:
        return ["a", "b"]
    return [""] * n


def draw_graph(
    root: Value,
    rankdir: str = "LR",
    format: str = "svg",
    show_grad: bool = True,
    highlight: Value | None = None,
    max_nodes: int = 300,
    color_by_grad: bool = False,
    params: Iterable[Value] | None = None,
    digits: int = 4,
    grad_range: tuple[float, float] = (1e-3, 1e3),
) -> Diagram:
    """Draw the computation graph that produced ``root``.

    One box per ``Value`` showing ``label | data | grad`` and, between the inputs and the
    result of every operation, a small node naming it (``+``, ``*``, ``tanh``, ``**2``,
    ``b + Σ w·x`` for a fused neuron, whose input edges are labelled ``b``, ``w[i]``, ``x[i]``;
    for ``a − b`` and ``a / b`` the edges say which input is ``a``).

    Node kinds are told apart by colour: parameters (the Values in ``params``, e.g.
    ``model.parameters()``) yellow, labelled leaves (inputs) green, unlabelled leaves
    (constants) white, results of operations light blue; the root has a thick border.

    Args:
        root: the Value to draw (usually the loss or a model output).
        rankdir: layout direction, ``"LR"`` (left to right), ``"TB"``, ``"RL"`` or ``"BT"``.
        format: output format used by ``.render()`` (``"svg"``, ``"png"``, ``"pdf"`` ...).
        show_grad: show the grad of every Value.
        highlight: a node just yielded by ``backward_steps(root)``: it is marked (orange,
            red border) and only grads already final at that step are shown — nodes at or
            before it in ``backward_order(root)``; the others show a grey ``grad ?``.
        max_nodes: refuse (``GraphTooLargeError``) graphs with more Values than this.
        color_by_grad: fill each box by |grad| on a log scale, blue at or below
            ``grad_range[0]`` (vanishing), white at their geometric middle (1 by default, a
            healthy gradient), red at or above ``grad_range[1]`` (exploding).
        params: Values to draw as parameters.
        digits: decimals shown for data and grad.

    Returns:
        a :class:`Diagram` (a ``graphviz.Digraph``); ``.source`` is the deterministic DOT text.
    """
    if not isinstance(root, Value):
        raise TypeError(
            f"draw_graph needs one Value (e.g. the loss), got {type(root).__name__}; for a "
            "model with several outputs draw each output, or their sum"
        )
    if rankdir not in ("LR", "TB", "RL", "BT"):
        raise ValueError(f"rankdir must be 'LR', 'TB', 'RL' or 'BT', got {rankdir!r}")
    if isinstance(max_nodes, bool) or not isinstance(max_nodes, int) or max_nodes < 1:
        raise ValueError(f"max_nodes must be a positive int, got {max_nodes!r}")
    low, high = grad_range
    if not 0 < low < high:
        raise ValueError(f"grad_range must be (low, high) with 0 < low < high, got {grad_range}")

    nodes, count = _collect(root, max_nodes)
    if count > max_nodes:
        raise GraphTooLargeError(
            f"this graph has {count} Values, more than max_nodes={max_nodes}: drawing it "
            "would be slow and unreadable. To draw it anyway pass "
            f"max_nodes={count}; to see how a neuron computes, draw one neuron built "
            "op by op, e.g. Neuron(2, fused=False)(x); to see a whole model's architecture "
            "use draw_network(model)."
        )

    param_set: set[Value] = set(params) if params is not None else set()
    final: set[Value] | None = None
    if highlight is not None:
        if not isinstance(highlight, Value):
            raise TypeError(f"highlight must be a Value, got {type(highlight).__name__}")
        order = backward_order(root)
        try:
            position = order.index(highlight)
        except ValueError:
            raise ValueError(
                f"highlight {highlight!r} is not part of the graph of root {root!r}; pass "
                "a node yielded by backward_steps(root)"
            ) from None
        final = set(order[: position + 1])

    ids = {node: f"v{i}" for i, node in enumerate(nodes)}
    dot = Diagram(
        format=format,
        graph_attr={"rankdir": rankdir, "nodesep": "0.25", "ranksep": "0.35"},
        node_attr={"fontname": "Helvetica", "fontsize": "11"},
        edge_attr={"fontname": "Helvetica", "fontsize": "9", "arrowsize": "0.7"},
    )

    for node in nodes:
        nid = ids[node]
        if node in param_set:
            kind = "param"
        elif node.children:
            kind = "intermediate"
        elif node.label:
            kind = "input"
        else:
            kind = "constant"
        pending = final is not None and node not in final
        is_highlight = highlight is not None and node is highlight

        bg = _KIND_STYLE[kind]["bg"]
        if color_by_grad and show_grad and not pending:
            bg = _grad_color(node.grad, low, high)
        if is_highlight:
            bg = _HIGHLIGHT_BG

        cells = []
        if node.label:
            cells.append(f"<td><b>{_esc(node.label)}</b></td>")
        cells.append(f"<td>data {_fmt(node.data, digits)}</td>")
        if show_grad:
            if pending:
                cells.append(
                    f'<td bgcolor="{_PENDING_BG}"><font color="{_PENDING_FG}">grad ?</font></td>'
                )
            else:
                cells.append(f"<td>grad {_fmt(node.grad, digits)}</td>")
        border = _HIGHLIGHT_BORDER if is_highlight else "black"
        width = "3" if is_highlight else ("2" if node is root else "1")
        label = (
            f'<<table border="{width}" cellborder="1" cellspacing="0" cellpadding="4" '
            f'bgcolor="{bg}" color="{border}">'
            f"<tr>{''.join(cells)}</tr></table>>"
        )
        dot.node(nid, label=label, shape="plaintext", margin="0",
                 tooltip=f"{kind} node" + (" (pending)" if pending else ""))

        if node.children:
            op_id = f"{nid}_op"
            op_attrs = {"shape": "ellipse", "margin": "0.04,0.02", "height": "0.3",
                        "fontsize": "10"}
            if is_highlight:
                op_attrs.update(style="filled", fillcolor=_HIGHLIGHT_BG, color=_HIGHLIGHT_BORDER)
            dot.node(op_id, label=_op_text(node), **op_attrs)
            for child, text in zip(node.children, _edge_labels(node)):
                if text:
                    dot.edge(ids[child], op_id, label=text)
                else:
                    dot.edge(ids[child], op_id)
            dot.edge(op_id, nid)
    return dot


draw_dot = draw_graph  # micrograd's name, for students arriving from the lecture


# ---------------------------------------------------------------------------------------------
# Network diagrams
# ---------------------------------------------------------------------------------------------
def _is_neuron(m: object) -> bool:
    return hasattr(m, "w") and hasattr(m, "b") and not hasattr(m, "neurons")


def _layers_of(model: object) -> list[list[Any]]:
    """The model as a list of dense layers, each a list of neurons (objects with .w, .b)."""
    if _is_neuron(model):
        return [[model]]
    if hasattr(model, "neurons"):
        return [list(model.neurons)]
    if hasattr(model, "layers"):
        out: list[list[Any]] = []
        for sub in model.layers:
            out.extend(_layers_of(sub))
        return out
    raise TypeError(
        f"draw_network can draw a Neuron, Layer, MLP or Sequential (of those), got "
        f"{type(model).__name__}; to draw the computation of one output use draw_graph"
    )


def _shown(n: int, max_neurons: int) -> tuple[list[int], int]:
    """Which of ``n`` units to draw (indices) and how many are elided."""
    if n <= max_neurons:
        return list(range(n)), 0
    keep = max_neurons - 1  # one slot goes to the "…" node
    head = (keep + 1) // 2
    tail = keep - head
    return list(range(head)) + list(range(n - tail, n)), n - keep


_ACT_TEXT = {"relu": "ReLU", "tanh": "tanh", "sigmoid": "σ", "linear": "linear"}


def draw_network(
    model: Any,
    show_weights: bool = False,
    show_grads: bool = False,
    max_neurons: int = 12,
    rankdir: str = "LR",
    format: str = "svg",
    input_labels: Sequence[str] | None = None,
    digits: int = 2,
) -> Diagram:
    """Draw a model as columns of neurons: input layer, hidden layers, output layer.

    Every weight ``w`` of neuron ``j`` in a layer is an edge from input ``i`` of that layer to
    the neuron; a neuron's circle names its activation. Works for an ``MLP``, a ``Sequential``
    of ``Layer``s, a single ``Layer`` and a single ``Neuron``.

    Args:
        model: the model (anything with ``.layers`` of ``Layer``s, ``.neurons``, or ``.w``/``.b``).
        show_weights: label each edge with its weight, colour it by sign (blue positive, red
            negative) and make it thicker the larger |w| is; neurons show their bias.
        show_grads: label each edge with the weight's grad (``∂ ...``) and, unless
            ``show_weights``, colour it by the grad's sign.
        max_neurons: a column with more units than this shows only ``max_neurons - 1`` of them
            (the first and the last) and one "… N more" node, so big layers stay readable.
        rankdir: ``"LR"`` (columns left to right) or ``"TB"`` (rows top to bottom).
        input_labels: names of the inputs (default ``x1 ... xn``).
        digits: decimals for weights and grads.
    """
    if isinstance(max_neurons, bool) or not isinstance(max_neurons, int) or max_neurons < 2:
        raise ValueError(f"max_neurons must be an int >= 2, got {max_neurons!r}")
    if rankdir not in ("LR", "TB", "RL", "BT"):
        raise ValueError(f"rankdir must be 'LR', 'TB', 'RL' or 'BT', got {rankdir!r}")
    layers = _layers_of(model)
    if not layers or not all(layers):
        raise ValueError("draw_network: the model has no neurons to draw")
    nin = len(layers[0][0].w)
    for k, layer in enumerate(layers):
        fan_in = nin if k == 0 else len(layers[k - 1])
        for j, neuron in enumerate(layer):
            if len(neuron.w) != fan_in:
                raise ValueError(
                    f"draw_network: neuron {j} of layer {k + 1} has {len(neuron.w)} weights "
                    f"but the layer before it has {fan_in} outputs"
                )
    if input_labels is None:
        input_labels = [f"x{i + 1}" for i in range(nin)]
    elif len(input_labels) != nin:
        raise ValueError(
            f"input_labels has {len(input_labels)} names but the model has {nin} inputs"
        )

    labelled = show_weights or show_grads
    dot = Diagram(
        format=format,
        graph_attr={"rankdir": rankdir, "ranksep": "2.6" if labelled else "1.1",
                    "nodesep": "0.45" if labelled else "0.2",
                    "splines": "line", "ordering": "out"},
        node_attr={"fontname": "Helvetica", "fontsize": "10"},
        edge_attr={"arrowsize": "0.5", "color": "#777777", "fontname": "Helvetica",
                   "fontsize": "8"},
    )

    # Columns: ids of drawn units (None marks the "…" node's position).
    columns: list[list[tuple[str, int | None]]] = []
    columns_titles: list[str] = []

    def add_column(name: str, title: str, n: int, unit_label, fill: str) -> None:
        shown, hidden = _shown(n, max_neurons)
        head = max_neurons // 2 if hidden else len(shown)
        col: list[tuple[str, int | None]] = []
        with dot.subgraph(name=f"col_{name}") as sub:
            # One rank per column; invisible edges keep the units in order, title on top.
            sub.attr(rank="same")
            sub.node(f"{name}_title", label=graphviz.nohtml(title), shape="plaintext",
                     fontsize="11")
            for pos, i in enumerate(shown):
                if hidden and pos == head:
                    more = f"{name}_more"
                    sub.node(more, label=f"⋮\\n{hidden} more", shape="plaintext")
                    col.append((more, None))
                nid = f"{name}_{i}"
                sub.node(nid, label=graphviz.nohtml(unit_label(i)), shape="circle",
                         style="filled", fillcolor=fill, width="0.75")
                col.append((nid, i))
            chain = [f"{name}_title"] + [nid for nid, _ in col]
            for a, b in zip(chain, chain[1:]):
                sub.edge(a, b, style="invis")
        if columns:
            # A heavy invisible edge from the previous column's title keeps all titles in
            # one straight row (same height in LR, same column in TB).
            dot.edge(f"{columns_titles[-1]}", f"{name}_title", style="invis", weight="100")
        columns_titles.append(f"{name}_title")
        columns.append(col)

    add_column("in", "input layer", nin, lambda i: str(input_labels[i]), "#d9f2d9")
    for k, layer in enumerate(layers):
        last = k == len(layers) - 1
        title = "output layer" if last else f"hidden layer {k + 1}"
        acts = {getattr(n, "activation", "") for n in layer}
        if len(acts) == 1:
            act = acts.pop()
            if act:
                title += f" ({_ACT_TEXT.get(act, act)})"

        def unit_label(j: int, layer=layer) -> str:
            neuron = layer[j]
            text = _ACT_TEXT.get(getattr(neuron, "activation", ""), "")
            if show_weights:
                text += f"\\nb={neuron.b.data:.{digits}f}"
            return text or "Σ"

        add_column(f"L{k + 1}", title, len(layer), unit_label,
                   "#fde0c5" if last else "#eaf1fb")

    # Edges, one per weight between drawn units; dashed edges to and from "…" nodes.
    wmax = max((abs(w.data) for layer in layers for n in layer for w in n.w), default=1.0)
    wmax = wmax or 1.0
    for k, layer in enumerate(layers):
        src_col, dst_col = columns[k], columns[k + 1]
        n_src = len(src_col)
        for dst_id, j in dst_col:
            for pos, (src_id, i) in enumerate(src_col):
                if i is None or j is None:
                    dot.edge(src_id, dst_id, style="dashed", color="#bbbbbb")
                    continue
                w = layer[j].w[i]
                attrs: dict[str, str] = {}
                labels = []
                if show_weights:
                    labels.append(f"{w.data:.{digits}f}")
                    attrs["color"] = "#1f5fbf" if w.data >= 0 else "#d62728"
                    attrs["penwidth"] = f"{0.5 + 2.5 * abs(w.data) / wmax:.2f}"
                if show_grads:
                    labels.append(f"∂ {w.grad:.{digits}f}")
                    if not show_weights:
                        attrs["color"] = "#1f5fbf" if w.grad >= 0 else "#d62728"
                if labels:
                    # The label sits on its own edge (angle 0), on a white box that cuts the
                    # line, so it is clear which edge a number belongs to. Edges meeting at
                    # one neuron get their labels at different distances from it, so the
                    # labels of converging edges do not sit on top of each other.
                    color = attrs.get("color", "#555555")
                    text = "<br/>".join(_esc(t) for t in labels)
                    attrs["headlabel"] = (
                        f'<<table border="0" cellborder="0" cellspacing="0" cellpadding="1" '
                        f'bgcolor="white"><tr><td><font color="{color}">{text}</font></td>'
                        f"</tr></table>>"
                    )
                    frac = pos / (n_src - 1) if n_src > 1 else 0.5
                    attrs.update(labeldistance=f"{4.5 + 6.0 * frac:.2f}", labelangle="0")
                dot.edge(src_id, dst_id, **attrs)
    return dot

