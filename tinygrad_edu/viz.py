"""Pictures of computation graphs and networks, drawn with Graphviz.

``draw_graph(root)`` draws the graph that built ``root`` the way micrograd's lecture does: one
box per ``Value`` (label, data, grad) and one small node per operation between its inputs and
its result. ``draw_network(model)`` draws a model as columns of neurons joined by its weights.

Both return a :class:`Diagram`, a ``graphviz.Digraph``: it shows itself inline in Jupyter,
``.pipe(format="svg")`` returns the picture as bytes, ``.render(outfile="g.png")`` writes a file
and ``.source`` is the DOT text (the same graph always gives the same text, so pictures can be
compared and diffed).

Watching backpropagation: ``step_through(loss)`` is one picture that steps through
``backward()`` node by node (a widget in Jupyter, ``save_html``/``save_gif`` for elsewhere), with
the chain-rule arithmetic of each step as its caption (``tinygrad_edu.explain``). For a single
frame, ``draw_graph(loss, highlight=node)`` marks a node yielded by ``backward_steps(loss)`` and
greys out the grads that are not final yet as ``grad ?``.

Pictures fit the page: in Jupyter they scale down to the output's width, and a graph too wide
to read left to right is drawn top to bottom (``rankdir=None``, the default). Each carries a
PNG beside its SVG, so it also shows where SVG is not rendered (untrusted notebooks).

Needs the ``graphviz`` Python package (``pip install 'tinygrad_edu[viz]'``) and, to turn DOT
text into pictures, the Graphviz ``dot`` program.
"""

from __future__ import annotations

import base64
import html
import math
import re
import shutil
import subprocess
import unicodedata
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

from tinygrad_edu.engine import Value
from tinygrad_edu.engine import topological_order as backward_order
from tinygrad_edu.explain import printable
from tinygrad_edu.grad_mode import no_grad

__all__ = [
    "draw_graph",
    "draw_dot",
    "draw_network",
    "step_through",
    "animate_network",
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
    """A ``graphviz.Digraph`` that fits the page and explains a missing Graphviz.

    In Jupyter it shows as an SVG that scales down to the output's width (never a horizontal
    scrollbar), with a PNG of the same picture beside it for front ends that do not render
    SVG (JupyterLab does not for untrusted notebooks, e.g. executed copies).
    ``pipe()``, ``render()``, ``view()`` and the inline display raise
    :class:`GraphvizNotFoundError` (naming Graphviz and how to install it) instead of
    graphviz's bare ``ExecutableNotFound``.
    """

    def pipe(self, *args: Any, **kwargs: Any) -> Any:  # noqa: D102 - same as graphviz
        with _explain_missing_dot():
            return super().pipe(*args, **kwargs)

    def render(self, *args: Any, **kwargs: Any) -> str:  # noqa: D102 - same as graphviz
        with _explain_missing_dot():
            return super().render(*args, **kwargs)

    def _repr_image_svg_xml(self) -> str:
        return fit_svg(self.pipe(format="svg", encoding="utf-8"))

    def _repr_png_(self) -> bytes:
        return self.png()

    def png(self, max_pixels: int = 4000) -> bytes:
        """The picture as PNG bytes, at twice the SVG's resolution (sharp on high-dpi
        screens and projectors) but at most ``max_pixels`` wide or tall."""
        width_pt, height_pt = svg_size(self.pipe(format="svg", encoding="utf-8"))
        return dot_png(self.source, width_pt, height_pt, max_pixels)

    def _repr_mimebundle_(
        self, include: Any = None, exclude: Any = None, **kwargs: Any
    ) -> tuple[dict[str, str], dict[str, Any]]:
        svg = fit_svg(self.pipe(format="svg", encoding="utf-8"))
        width_pt, height_pt = svg_size(svg)
        png = dot_png(self.source, width_pt, height_pt)
        # JupyterLab and nbconvert draw image/svg+xml as an <img> that they do not shrink to
        # the output's width; an <img> in text/html they do (and keep it where untrusted
        # HTML is sanitized). So the SVG goes in an <img> in text/html, first choice.
        data = {
            "text/html": svg_img_html(svg, self.alt_text),
            "image/svg+xml": svg,
            "image/png": base64.b64encode(png).decode("ascii"),
            "text/plain": f"<{type(self).__name__}: {self.alt_text}>",
        }
        if include:
            data = {k: v for k, v in data.items() if k in include}
        if exclude:
            data = {k: v for k, v in data.items() if k not in exclude}
        # The PNG is drawn at 2x: show it at the SVG's size (and never wider than the output).
        meta = {"image/png": {"width": round(width_pt * PX_PER_PT)}}
        return data, meta


    def html(self) -> str:
        """The picture as an HTML ``<img>`` (the SVG inside it), as Jupyter shows it: natural
        size, shrunk to fit a narrower page. For your own pages and ipywidgets.HTML."""
        return svg_img_html(fit_svg(self.pipe(format="svg", encoding="utf-8")), self.alt_text)

    @property
    def alt_text(self) -> str:
        """What the picture shows, in words (the <img>'s alt text in Jupyter)."""
        return getattr(self, "_alt", "") or "a picture drawn with Graphviz"


def svg_img_html(svg: str, alt: str) -> str:
    """An <img> showing ``svg`` at its natural size, shrunk to fit a narrower page."""
    width_pt, _ = svg_size(svg)
    src = "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")
    return (f'<img src="{src}" width="{width_pt * PX_PER_PT:.0f}" alt="{_esc(alt)}" '
            'style="max-width: 100%; height: auto">')


PX_PER_PT = 4 / 3  # CSS: 96 px per inch, 72 pt per inch


def svg_size(svg: str) -> tuple[float, float]:
    """Width and height in points of an SVG that Graphviz wrote."""
    m = re.search(r'<svg width="([\d.]+)(pt|px)" height="([\d.]+)(pt|px)"', svg)
    if not m:
        return 0.0, 0.0
    unit = 1.0 if m.group(2) == "pt" else 1 / PX_PER_PT
    return float(m.group(1)) * unit, float(m.group(3)) * unit


def fit_svg(svg: str) -> str:
    """Graphviz's SVG made to scale down to its container's width, never wider.

    It keeps its natural size as the largest size (``width``/``height`` in px, so also an
    ``<img>`` of it has that size) and gets ``max-width: 100%; height: auto`` so that in a
    narrower page it shrinks with its aspect ratio instead of making a scrollbar.
    """
    if not re.search(r'<svg width="[\d.]+pt"', svg):
        return svg
    width_pt, height_pt = svg_size(svg)
    w, h = width_pt * PX_PER_PT, height_pt * PX_PER_PT
    return re.sub(
        r'<svg width="[\d.]+pt" height="[\d.]+pt"',
        f'<svg width="{w:.0f}px" height="{h:.0f}px" '
        'style="max-width: 100%; height: auto; display: block"',
        svg, count=1,
    )


def dot_png(source: str, width_pt: float = 0.0, height_pt: float = 0.0,
            max_pixels: int = 4000, engine: str = "dot") -> bytes:
    """PNG bytes of DOT ``source`` at 2x the SVG's pixel size, capped at ``max_pixels``."""
    dpi = 2 * 96.0
    biggest_in = max(width_pt, height_pt) / 72.0
    if biggest_in > 0:
        dpi = max(min(dpi, max_pixels / biggest_in), 24.0)
    exe = shutil.which(engine)
    if exe is None:
        raise GraphvizNotFoundError(engine)
    done = subprocess.run([exe, "-Tpng", f"-Gdpi={dpi:.1f}"], input=source.encode("utf-8"),
                          capture_output=True, check=False)
    if done.returncode != 0:
        raise graphviz.CalledProcessError(done.returncode, [engine, "-Tpng"],
                                          output=done.stdout, stderr=done.stderr)
    return done.stdout


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


def _label_html(text: str) -> str:
    """A user's string as text inside a Graphviz HTML label, shown as itself.

    Control characters (a newline, a tab, ``\\x01``) appear as their escapes, since Graphviz
    refuses them (or, for a label that is only whitespace, shows nothing); ``[`` and ``]`` are
    written as character references because Graphviz 2.43 fails on a label that is only ``]``,
    and backslashes are doubled (Graphviz reads ``\\N`` as the node's name, ``\\\\`` as one).
    """
    escaped = html.escape(printable(text), quote=True)
    return escaped.replace("[", "&#91;").replace("]", "&#93;").replace("\\", "\\\\")


# Widths of Helvetica's characters (its AFM metrics, 1/1000 em) for ASCII 32..126: enough to
# estimate how wide a picture will be before Graphviz draws it (to pick its direction).
_HELVETICA = (
    "278 278 355 556 556 889 667 191 333 333 389 584 278 333 278 278 556 556 556 556 556 556 "
    "556 556 556 556 278 278 584 584 584 556 1015 667 667 722 722 667 611 778 722 278 500 667 "
    "556 833 722 778 667 778 722 667 611 722 667 944 667 667 611 278 278 278 469 556 333 556 "
    "556 500 556 556 278 556 556 222 222 500 222 833 556 556 556 556 333 500 278 556 500 722 "
    "500 500 500 334 260 334 584"
)
_WIDTHS = [int(w) / 1000 for w in _HELVETICA.split()]


def text_width(text: str, size: float = 11.0, bold: bool = False) -> float:
    """Estimated width in points of ``text`` in Helvetica (or Arial/Liberation Sans)."""
    em = 0.0
    for ch in text:
        code = ord(ch)
        if 32 <= code <= 126:
            em += _WIDTHS[code - 32]
        elif unicodedata.east_asian_width(ch) in ("W", "F"):
            em += 1.0
        elif unicodedata.combining(ch):
            continue
        else:
            em += 0.6
    return em * size * (1.08 if bold else 1.0)


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
    rankdir: str | None = None,
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
            ``None`` (default): left to right, unless that is too wide to read in a notebook
            (text under 9 px in an 800-px output) and top to bottom is narrower.
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
    _check_rankdir(rankdir)
    _check_max_nodes(max_nodes)
    _check_digits(digits)
    _check_format(format)
    try:
        low, high = (float(v) for v in grad_range)
        ok = 0 < low < high < math.inf
    except (TypeError, ValueError, OverflowError):
        ok = False
    if not ok:
        raise ValueError(f"grad_range must be (low, high) with 0 < low < high, got {grad_range!r}")

    nodes = graph_nodes(root, max_nodes)
    param_set = _value_set(params, "params")
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
    name = printable(root.label) or "its output"
    alt = f"computation graph of {name}: {len(nodes)} Values"
    if rankdir is None:
        widths = {n: box_width(n, digits, show_grad) for n in nodes}
        rankdir = fit_rankdir(nodes, widths)
    dot = Diagram(
        format=format,
        graph_attr={"rankdir": rankdir, "nodesep": "0.25", "ranksep": "0.35"},
        node_attr={"fontname": "Helvetica", "fontsize": "11"},
        edge_attr={"fontname": "Helvetica", "fontsize": "9", "arrowsize": "0.7"},
    )
    dot._alt = alt

    for node in nodes:
        nid = ids[node]
        kind = node_kind(node, param_set)
        pending = final is not None and node not in final
        is_highlight = highlight is not None and node is highlight

        bg = _KIND_STYLE[kind]["bg"]
        if color_by_grad and show_grad and not pending:
            bg = _grad_color(node.grad, low, high)
        if is_highlight:
            bg = _HIGHLIGHT_BG

        # One row each for label, data and grad: a narrow box, so graphs fit the page.
        rows = []
        if node.label:
            rows.append(f"<td><b>{_label_html(node.label)}</b></td>")
        rows.append(f"<td>data {_fmt(node.data, digits)}</td>")
        if show_grad:
            if pending:
                rows.append(
                    f'<td bgcolor="{_PENDING_BG}"><font color="{_PENDING_FG}">grad ?</font></td>'
                )
            else:
                rows.append(f"<td>grad {_fmt(node.grad, digits)}</td>")
        border = _HIGHLIGHT_BORDER if is_highlight else "black"
        width = "3" if is_highlight else ("2" if node is root else "1")
        label = (
            f'<<table border="{width}" cellborder="1" cellspacing="0" cellpadding="3" '
            f'bgcolor="{bg}" color="{border}">'
            + "".join(f"<tr>{row}</tr>" for row in rows) + "</table>>"
        )
        dot.node(nid, label=label, shape="plaintext", margin="0",
                 tooltip=f"{kind} node" + (" (pending)" if pending else ""))

        if node.children:
            op_id = f"{nid}_op"
            op_attrs = {"shape": "ellipse", "margin": "0.04,0.02", "height": "0.3",
                        "width": "0.4", "fontsize": "10"}
            if is_highlight:
                op_attrs.update(style="filled", fillcolor=_HIGHLIGHT_BG, color=_HIGHLIGHT_BORDER)
            dot.node(op_id, label=_op_text(node), **op_attrs)
            for child, text in zip(node.children, _edge_labels(node)):
                attrs = {"label": text} if text else {}
                if child.children:  # keep chains of results straight (heavier edge)
                    attrs["weight"] = "3"
                dot.edge(ids[child], op_id, **attrs)
            dot.edge(op_id, nid, weight="3")
    return dot


def _check_rankdir(rankdir: object) -> None:
    if rankdir is not None and rankdir not in ("LR", "TB", "RL", "BT"):
        raise ValueError(f"rankdir must be 'LR', 'TB', 'RL', 'BT' or None, got {rankdir!r}")


def _check_digits(digits: object) -> None:
    if isinstance(digits, bool) or not isinstance(digits, int) or not 0 <= digits <= 12:
        raise ValueError(f"digits must be an int from 0 to 12 (decimals shown), got {digits!r}")


def _check_format(format: object) -> None:
    if not isinstance(format, str) or format.lower() not in graphviz.FORMATS:
        raise ValueError(
            f"format must be a Graphviz output format such as 'svg', 'png' or 'pdf', got "
            f"{format!r}"
        )


def _check_max_nodes(max_nodes: object) -> None:
    if isinstance(max_nodes, bool) or not isinstance(max_nodes, int) or max_nodes < 1:
        raise ValueError(f"max_nodes must be a positive int, got {max_nodes!r}")


def _value_set(values: Iterable[Value] | None, what: str) -> set[Value]:
    """The Values of ``params`` (e.g. ``model.parameters()``), checked."""
    if values is None:
        return set()
    if isinstance(values, (Value, str)) or not isinstance(values, Iterable):
        raise TypeError(f"{what} must be a list of Values (e.g. model.parameters()), got "
                        f"{type(values).__name__}")
    out = set(values)
    bad = next((v for v in out if not isinstance(v, Value)), None)
    if bad is not None:
        raise TypeError(f"{what} must hold Values only, found {type(bad).__name__} {bad!r}")
    return out


def graph_nodes(root: Value, max_nodes: int) -> list[Value]:
    """The Values of ``root``'s graph, inputs first; GraphTooLargeError over ``max_nodes``."""
    nodes, count = _collect(root, max_nodes)
    if count > max_nodes:
        raise GraphTooLargeError(
            f"this graph has {count} Values, more than max_nodes={max_nodes}: drawing it "
            "would be slow and unreadable. To draw it anyway pass "
            f"max_nodes={count}; to see how a neuron computes, draw one neuron built "
            "op by op, e.g. Neuron(2, fused=False)(x); to see a whole model's architecture "
            "use draw_network(model)."
        )
    return nodes


def node_kind(node: Value, params: set[Value]) -> str:
    """Which colour a box gets: param, intermediate, input (labelled leaf) or constant."""
    if node in params:
        return "param"
    if node.children:
        return "intermediate"
    return "input" if node.label else "constant"


# ---------------------------------------------------------------------------------------------
# Fitting the page: estimate the picture's width before drawing it, to pick its direction.
# ---------------------------------------------------------------------------------------------
FIT_WIDTH_PX = 800  # a notebook's output area in a 1000-px-wide page
MIN_TEXT_PX = 9  # the smallest text size we accept once a picture is scaled to that width
FONT_PT = 11
# The widest picture (in points, the unit of Graphviz's SVG) whose 11-pt text stays >= 9 px
# when the picture is scaled down to FIT_WIDTH_PX.
FIT_WIDTH_PT = FONT_PT * FIT_WIDTH_PX / MIN_TEXT_PX
_RANKSEP_PT, _NODESEP_PT = 0.35 * 72, 0.25 * 72


def box_width(node: Value, digits: int, show_grad: bool) -> float:
    """Estimated width (points) of a Value's box: its widest row plus padding."""
    texts = [text_width(f"data {_fmt(node.data, digits)}")]
    if show_grad:
        texts.append(text_width(f"grad {_fmt(node.grad, digits)}"))
    if node.label:
        texts.append(text_width(printable(node.label), bold=True))
    return max(texts) + 2 * 3 + 12


def op_width(node: Value) -> float:
    return max(text_width(_op_text(node), 10) * 1.3 + 8, 29.0)


def graph_ranks(nodes: list[Value]) -> dict[Value, int]:
    """Graphviz-like ranks: values at even ranks, ops at odd ones, a leaf just before its
    first user (as dot's network simplex places it)."""
    rank: dict[Value, int] = {}
    for node in nodes:  # inputs come before results
        rank[node] = max((rank[c] + 2 for c in node.children), default=0)
    users: dict[Value, int] = {}
    for node in nodes:
        for c in node.children:
            if not c.children:
                users[c] = min(users.get(c, rank[node] - 2), rank[node] - 2)
    rank.update(users)
    return rank


def graph_extent(nodes: list[Value], widths: dict[Value, float]) -> tuple[float, float]:
    """Estimated picture widths (points) for left-to-right and top-to-bottom layouts."""
    rank = graph_ranks(nodes)
    columns: dict[int, list[float]] = {}
    for node in nodes:
        columns.setdefault(rank[node], []).append(widths[node])
        if node.children:
            columns.setdefault(rank[node] - 1, []).append(op_width(node))
    lr = sum(max(ws) for ws in columns.values()) + _RANKSEP_PT * (len(columns) - 1) + 8
    tb = max(sum(ws) + _NODESEP_PT * (len(ws) - 1) for ws in columns.values()) + 8
    return lr, tb


def fit_rankdir(nodes: list[Value], widths: dict[Value, float]) -> str:
    """``"LR"`` when a left-to-right picture is readable at notebook width, else the narrower
    of ``"LR"`` and ``"TB"``."""
    lr, tb = graph_extent(nodes, widths)
    return "LR" if lr <= FIT_WIDTH_PT or lr <= tb else "TB"


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


def _names(labels: Any, n: int, what: str, default: list[str]) -> list[str]:
    """Check a list of ``n`` names given by the user (input_labels, output_labels)."""
    if labels is None:
        return default
    if isinstance(labels, str):
        raise TypeError(
            f"{what} must be a list of {n} names, one per unit, not one str ({labels!r}); "
            f"e.g. {what}={list(default[:2])!r}"
        )
    try:
        labels = list(labels)
    except TypeError:
        raise TypeError(f"{what} must be a list of {n} names, got {type(labels).__name__}") \
            from None
    if len(labels) != n:
        raise ValueError(f"{what} has {len(labels)} names but the model has {n} {what[:-7]}s")
    for i, name in enumerate(labels):
        if not isinstance(name, str):
            raise TypeError(f"{what}[{i}] must be a str, got {type(name).__name__} {name!r}")
    return labels


def _forward_values(model: Any, layers: list[list[Any]], x: Any) -> tuple[list[float],
                                                                          list[list[float]]]:
    """The input's numbers and every unit's output for input ``x``, layer by layer."""
    with no_grad():
        out = model(x)  # the model's own checks: a wrong length gets the model's error
        xs = [x] if isinstance(x, (Value, int, float)) else list(x)
        inputs = [float(v.data) if isinstance(v, Value) else float(v) for v in xs]
        h: list[Any] = inputs
        values: list[list[float]] = []
        for layer in layers:
            outs = [neuron(h) for neuron in layer]
            values.append([v.data for v in outs])
            h = [Value(v) for v in values[-1]]
    final = [v.data for v in (out if isinstance(out, list) else [out])]
    if final != values[-1]:
        raise ValueError(
            f"draw_network(x=...) shows models that apply their layers one after another "
            f"(Neuron, Layer, MLP, Sequential); {type(model).__name__}'s forward computes "
            "something else, so its units' values cannot be drawn"
        )
    return inputs, values


def _softmax(zs: list[float]) -> list[float]:
    m = max(zs)
    es = [math.exp(z - m) for z in zs]
    total = sum(es)
    return [e / total for e in es]


_FIRE = (245, 140, 40)  # a unit's positive output: orange, stronger when larger
_NEGATIVE = (90, 140, 225)  # negative output: blue
_OFF = "#eeeeee"  # exactly 0 (a ReLU that does not fire)


def _value_color(v: float, scale: float) -> str:
    """Fill for a unit's output ``v``: white near 0, orange for positive, blue for negative,
    full colour at ``|v| >= scale``; grey when exactly 0."""
    if v == 0.0:
        return _OFF
    t = min(abs(v) / scale, 1.0) if scale > 0 else 1.0
    return _mix(_WHITE, _FIRE if v > 0 else _NEGATIVE, 0.12 + 0.88 * t)


def _network_extent(sizes: list[int], labelled: bool) -> tuple[float, float]:
    """Estimated width (points) of a network picture left to right and top to bottom."""
    unit, rank, node = 0.8 * 72, (2.6 if labelled else 1.1) * 72, (0.45 if labelled else 0.2) * 72
    lr = len(sizes) * unit + (len(sizes) - 1) * rank
    tb = max(sizes) * unit + (max(sizes) - 1) * node
    return lr, tb


def draw_network(
    model: Any,
    show_weights: bool = False,
    show_grads: bool = False,
    max_neurons: int = 12,
    rankdir: str | None = None,
    format: str = "svg",
    input_labels: Sequence[str] | None = None,
    digits: int = 2,
    x: Any = None,
    softmax: bool = False,
    contributions: bool = False,
    output_labels: Sequence[str] | None = None,
) -> Diagram:
    """Draw a model as columns of neurons: input layer, hidden layers, output layer.

    Every weight ``w`` of neuron ``j`` in a layer is an edge from input ``i`` of that layer to
    the neuron; a neuron's circle names its activation. Works for an ``MLP``, a ``Sequential``
    of ``Layer``s, a single ``Layer`` and a single ``Neuron``.

    With an input ``x`` the picture shows forward propagation: every input and every unit
    shows its value for ``x`` and is coloured by it (orange positive, blue negative, grey
    exactly 0: a ReLU that does not fire), so you can see which neurons fire.

    Args:
        model: the model (anything with ``.layers`` of ``Layer``s, ``.neurons``, or ``.w``/``.b``).
        show_weights: label each edge with its weight, colour it by sign (blue positive, red
            negative) and make it thicker the larger |w| is; neurons show their bias.
        show_grads: label each edge with the weight's grad (``∂ ...``) and, unless
            ``show_weights``, colour it by the grad's sign.
        max_neurons: a column with more units than this shows only ``max_neurons - 1`` of them
            (the first and the last) and one "… N more" node, so big layers stay readable.
        rankdir: ``"LR"`` (columns left to right) or ``"TB"`` (rows top to bottom); ``None``
            (default) is ``"LR"`` unless that is too wide for a notebook and ``"TB"`` is not.
        input_labels: names of the inputs, a list of str (default ``x1 ... xn``).
        digits: decimals for weights, grads and values.
        x: an input (a list of ``nin`` numbers, as the model takes it): show every unit's
            value for it. A wrong length is the same error as calling the model.
        softmax: with ``x``, the output column shows softmax probabilities of the outputs
            (for a classifier whose output layer is linear); the most likely class gets a
            thick border.
        contributions: with ``x``, each edge's width and colour show its contribution
            ``w·x`` to the neuron it feeds (blue positive, red negative).
        output_labels: names of the outputs, e.g. the classes (default: none; with
            ``softmax``, the class numbers 0, 1, ...).
    """
    if isinstance(max_neurons, bool) or not isinstance(max_neurons, int) or max_neurons < 2:
        raise ValueError(f"max_neurons must be an int >= 2, got {max_neurons!r}")
    _check_rankdir(rankdir)
    _check_digits(digits)
    _check_format(format)
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
    input_labels = _names(input_labels, nin, "input_labels", [f"x{i + 1}" for i in range(nin)])
    nout = len(layers[-1])
    # a classifier's outputs are its classes 0, 1, ...: say so when showing probabilities
    default = [str(j) for j in range(nout)] if softmax else [""] * nout
    out_names = _names(output_labels, nout, "output_labels", default)
    if x is None and (softmax or contributions):
        which = "softmax" if softmax else "contributions"
        raise ValueError(f"draw_network({which}=True) needs an input: pass x=[...]")
    if softmax and nout < 2:
        raise ValueError("softmax=True needs a model with several outputs (one per class)")
    if softmax and any(getattr(n, "activation", "linear") != "linear" for n in layers[-1]):
        raise ValueError(
            "softmax=True is for a classifier whose output layer is linear (logits); this "
            "model's outputs already go through an activation"
        )
    inputs: list[float] = []
    values: list[list[float]] = []
    if x is not None:
        inputs, values = _forward_values(model, layers, x)
        if softmax:
            values[-1] = _softmax(values[-1])

    labelled = show_weights or show_grads
    if rankdir is None:
        sizes = [min(n, max_neurons) + 1 for n in [nin] + [len(layer) for layer in layers]]
        lr, tb = _network_extent(sizes, labelled)
        rankdir = "LR" if lr <= FIT_WIDTH_PT or lr <= tb else "TB"
    dot = Diagram(
        format=format,
        graph_attr={"rankdir": rankdir, "ranksep": "2.6" if labelled else "1.1",
                    "nodesep": "0.45" if labelled else "0.2",
                    "splines": "line", "ordering": "out"},
        node_attr={"fontname": "Helvetica", "fontsize": "10"},
        edge_attr={"arrowsize": "0.5", "color": "#777777", "fontname": "Helvetica",
                   "fontsize": "8"},
    )
    sizes_text = " → ".join(str(n) for n in [nin] + [len(layer) for layer in layers])
    dot._alt = f"network diagram: {sizes_text} units" + (" with the values for one input"
                                                         if x is not None else "")

    # Columns: ids of drawn units (None marks the "…" node's position).
    columns: list[list[tuple[str, int | None]]] = []
    columns_titles: list[str] = []

    def add_column(name: str, title: str, n: int, unit: Any, fill: Any,
                   hidden_note: Any = None, bold: Any = None) -> None:
        shown, hidden = _shown(n, max_neurons)
        head = max_neurons // 2 if hidden else len(shown)
        col: list[tuple[str, int | None]] = []
        with dot.subgraph(name=f"col_{name}") as sub:
            # One rank per column; invisible edges keep the units in order, title on top.
            sub.attr(rank="same")
            sub.node(f"{name}_title", label=f"<{_esc(title)}>", shape="plaintext",
                     fontsize="11")
            for pos, i in enumerate(shown):
                if hidden and pos == head:
                    more = f"{name}_more"
                    note = hidden_note(shown) if hidden_note else ""
                    sub.node(more, label=f"<⋮<br/>{hidden} more{note}>", shape="plaintext")
                    col.append((more, None))
                nid = f"{name}_{i}"
                attrs = {"shape": "circle", "style": "filled", "fillcolor": fill(i),
                         "width": "0.75"}
                if bold is not None and bold(i):
                    attrs["penwidth"] = "3"
                sub.node(nid, label=f"<{unit(i)}>", **attrs)
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

    def number(v: float) -> str:
        # fixed decimals keep the circles one size (0.004 shows as 0.00, but is not grey)
        return f"<b>{v:.{digits}f}</b>" if abs(v) < 1e4 else f"<b>{v:.{digits}e}</b>"

    in_scale = max((abs(v) for v in inputs), default=1.0)
    add_column(
        "in", "input layer", nin,
        lambda i: _label_html(input_labels[i]) + (f"<br/>{number(inputs[i])}" if inputs else ""),
        lambda i: _value_color(inputs[i], in_scale) if inputs else "#d9f2d9",
    )
    for k, layer in enumerate(layers):
        last = k == len(layers) - 1
        title = "output layer" if last else f"hidden layer {k + 1}"
        acts = {getattr(n, "activation", "") for n in layer}
        if last and softmax:
            title += " (softmax)"
        elif len(acts) == 1:
            act = acts.pop()
            if act:
                title += f" ({_ACT_TEXT.get(act, act)})"
        vals = values[k] if values else []
        bounded = softmax and last or acts <= {"tanh", "sigmoid"}
        scale = 1.0 if bounded else max((abs(v) for v in vals), default=1.0)

        def unit_label(j: int, layer=layer, vals=vals, last=last) -> str:
            neuron = layer[j]
            parts = []
            if last and out_names[j]:
                parts.append(_label_html(out_names[j]))
            act = getattr(neuron, "activation", "")
            if not (last and softmax):
                parts.append(_esc(_ACT_TEXT.get(act, act)) or "Σ")
            if show_weights:
                parts.append(f"b={neuron.b.data:.{digits}f}")
            if vals:
                parts.append(number(vals[j]))
            return "<br/>".join(parts)

        def fill(j: int, vals=vals, scale=scale, last=last) -> str:
            if vals:
                return _value_color(vals[j], scale)
            return "#fde0c5" if last else "#eaf1fb"

        def note(shown: list[int], vals=vals, layer=layer) -> str:
            if not vals or {getattr(n, "activation", "") for n in layer} != {"relu"}:
                return ""
            hidden = [j for j in range(len(vals)) if j not in set(shown)]
            firing = sum(1 for j in hidden if vals[j] > 0)
            return f"<br/>({firing} firing)"

        best = max(range(len(vals)), key=vals.__getitem__) if (vals and last and softmax) \
            else None
        add_column(f"L{k + 1}", title, len(layer), unit_label, fill, note,
                   (lambda j, best=best: j == best) if best is not None else None)

    # Edges, one per weight between drawn units; dashed edges to and from "…" nodes.
    wmax = max((abs(w.data) for layer in layers for n in layer for w in n.w), default=1.0)
    wmax = wmax or 1.0
    sources = [inputs] + values[:-1] if values else []
    for k, layer in enumerate(layers):
        src_col, dst_col = columns[k], columns[k + 1]
        n_src = len(src_col)
        cmax = 0.0
        if contributions:
            cmax = max(abs(n.w[i].data * sources[k][i]) for n in layer for i in range(len(n.w)))
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
                if contributions:
                    c = w.data * sources[k][i]
                    t = abs(c) / cmax if cmax else 0.0
                    attrs["color"] = _mix(_WHITE, (31, 95, 191) if c >= 0 else (214, 39, 40),
                                          0.25 + 0.75 * t)
                    attrs["penwidth"] = f"{0.3 + 3.7 * t:.2f}"
                    attrs["tooltip"] = f"w·x = {w.data:.{digits}f} × {sources[k][i]:.{digits}f}"
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


def step_through(root: Value, direction: str = "backward", **options: Any) -> Any:
    """A walk-through of backward (or forward) on ``root``'s graph: one picture, one frame
    per node, the chain-rule arithmetic as caption. See :class:`tinygrad_edu.stepper.Stepper`.
    """
    from tinygrad_edu.stepper import Stepper

    return Stepper(root, direction=direction, **options)


def animate_network(model: Any, x: Any, target: Any, loss: Any = None, lr: float = 0.1,
                    **options: Any) -> Any:
    """One training step on the network diagram, frame by frame: forward, the loss, backward
    and the update. See :func:`tinygrad_edu.pictures.network_anim.animate_network`."""
    from tinygrad_edu.pictures.network_anim import NetworkAnimation

    return NetworkAnimation(model, x, target, loss, lr, **options)
