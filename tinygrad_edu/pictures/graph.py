"""Pictures of computation graphs and networks, drawn with Graphviz.

``draw_graph(root)`` draws the graph that built ``root`` the way micrograd's lecture does: one
box per ``Value`` (label, data, grad) and one small node per operation between its inputs and
its result. ``draw_network(model)`` draws a model as columns of neurons joined by its weights.

Both return a :class:`Diagram`, a ``graphviz.Digraph``: it shows itself inline in Jupyter,
``.pipe(format="svg")`` returns the picture as bytes, ``.render(outfile="g.png")`` writes a file
and ``.source`` is the DOT text (the same graph always gives the same text, so pictures can be
compared and diffed).

A :class:`GraphPicture` draws one graph many times, each time with its own :class:`Look`
(which node is current, which numbers are known, which just changed): ``draw_graph(root,
highlight=node)`` is one such picture, the frames of ``step_through`` are the others. With
fixed box sizes all its pictures share one layout, so a stepper's frames never move.

Every string a user can choose (labels, op names such as a ``Function``'s class name) reaches
Graphviz as escaped HTML text, shown as typed (control characters as escapes) and cut with
"…" when very long, so Graphviz never reads it as markup, an escape such as ``\\N``, or a label
over its 16,384-character limit.

Pictures fit the page: in Jupyter they scale down to the output's width, and a graph too wide
to read left to right is drawn top to bottom (``rankdir=None``, the default). Each carries a
PNG beside its SVG, so it also shows where SVG is not rendered (untrusted notebooks).

Needs the ``graphviz`` Python package (``pip install 'tinygrad_edu[viz]'``) and, to turn DOT
text into pictures, the Graphviz ``dot`` program.
"""

from __future__ import annotations

import base64
import itertools
import json
import math
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
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

from tinygrad_edu import args, dot_backend
from tinygrad_edu.engine import Value, topological_order
from tinygrad_edu.explain import Names
from tinygrad_edu.grad_mode import no_grad
from tinygrad_edu.pictures.style import (
    AUTO_NAME_FG,
    CHANGED_BORDER,
    CURRENT_BG,
    CURRENT_BORDER,
    FONT,
    KIND_FILL,
    NEGATIVE_EDGE,
    PENDING_BG,
    PENDING_FG,
    POSITIVE_EDGE,
    PX_PER_PT,
    RECEIVING_BG,
    USED_EDGE,
    esc,
    grad_color,
    label_html,
    mix,
    number,
    printable,
    rgb,
    shorten,
    text_width,
    value_color,
)

__all__ = [
    "draw_graph",
    "draw_dot",
    "draw_network",
    "Diagram",
    "GraphPicture",
    "Look",
    "GraphTooLargeError",
    "GraphvizNotFoundError",
    "graphviz_available",
    "run_graphviz",
    "svg_size",
    "fit_svg",
    "FIT_WIDTH_PT",
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
    """True when pictures can be rendered: the ``dot`` program is on PATH, or viz.js draws
    them (in a browser; see dot_backend)."""
    return dot_backend.backend() is not None


class Diagram(graphviz.Digraph):
    """A ``graphviz.Digraph`` that fits the page and explains a missing Graphviz.

    In Jupyter it shows as an SVG that scales down to the output's width (never a horizontal
    scrollbar), with a PNG of the same picture beside it for front ends that do not render
    SVG (JupyterLab does not for untrusted notebooks, e.g. executed copies).
    ``pipe()``, ``render()``, ``view()`` and the inline display raise
    :class:`GraphvizNotFoundError` (naming Graphviz and how to install it) instead of
    graphviz's bare ``ExecutableNotFound``.
    """

    def pipe(self, format: str | None = None, *args: Any, **kwargs: Any) -> Any:  # noqa: D102
        if dot_backend.backend() == "viz.js":  # a browser: no program to start, viz.js draws
            out = dot_backend.render(self.source, format or self.format)
            return out if kwargs.get("encoding") else out.encode("utf-8")
        with _explain_missing_dot():
            return super().pipe(format, *args, **kwargs)

    def render(self, *args: Any, **kwargs: Any) -> str:  # noqa: D102 - same as graphviz
        with _explain_missing_dot():
            return super().render(*args, **kwargs)

    def _repr_image_svg_xml(self) -> str:
        return fit_svg(self.pipe(format="svg", encoding="utf-8"))

    def _repr_png_(self) -> bytes | None:
        return self.png() if dot_backend.backend() == "dot" else None  # viz.js draws no PNG

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
        # no PNG where only viz.js draws (a browser renders the SVG anyway)
        png = dot_png(self.source, width_pt, height_pt) if dot_backend.backend() == "dot" else b""
        # JupyterLab and nbconvert draw image/svg+xml as an <img> that they do not shrink to
        # the output's width; an <img> in text/html they do (and keep it where untrusted
        # HTML is sanitized). So the SVG goes in an <img> in text/html, first choice.
        data = {
            "text/html": svg_img_html(svg, self.alt_text),
            "image/svg+xml": svg,
            "image/png": base64.b64encode(png).decode("ascii"),
            "text/plain": f"<{type(self).__name__}: {self.alt_text}>",
        }
        if not png:
            del data["image/png"]
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
    return (f'<img src="{src}" width="{width_pt * PX_PER_PT:.0f}" alt="{esc(alt)}" '
            'style="max-width: 100%; height: auto">')


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
            max_pixels: int = 4000) -> bytes:
    """PNG bytes of DOT ``source`` at 2x the SVG's pixel size, capped at ``max_pixels``."""
    dpi = 2 * 96.0
    biggest_in = max(width_pt, height_pt) / 72.0
    if biggest_in > 0:
        dpi = max(min(dpi, max_pixels / biggest_in), 24.0)
    return run_graphviz([source], "png", dpi=dpi)[0]


_LAYOUTS = itertools.count()


def run_graphviz(sources: Sequence[str], fmt: str, *, dpi: float | None = None,
                 pinned: bool = False) -> list[bytes]:
    """Draw several DOT graphs with one run of ``dot`` (or viz.js in a browser): one ``fmt``
    output per source, in order, as bytes (dot_backend is the one place that starts ``dot``)."""
    try:
        out = dot_backend.render_many(list(sources), fmt, dpi=dpi, pinned=pinned)
    except dot_backend.RendererNotFoundError as err:
        raise GraphvizNotFoundError("dot") from err
    return [o if isinstance(o, bytes) else o.encode("utf-8") for o in out]


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
# Computation graphs: one GraphPicture, drawn with a Look per picture
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Look:
    """What one picture of a graph shows (``draw_graph``'s highlight, a stepper's frame).

    - ``current``: the node of the step: orange, red border; its op node and the edges into
      and out of it red.
    - ``grads``: the grad each box shows; a node missing from it reads a grey ``grad ?``.
      ``None``: every box shows its node's ``.grad``.
    - ``so_far``: grads that are not final yet (``grad 0.5 so far``).
    - ``changed``: nodes whose number this step has just changed (a highlighted cell).
    - ``data_unknown``: values not computed yet (``data ?``, a forward walk).
    """

    current: Value | None = None
    grads: Mapping[Value, float] | None = None
    so_far: frozenset[Value] = frozenset()
    changed: frozenset[Value] = frozenset()
    data_unknown: frozenset[Value] = frozenset()


_ROW = 20.0  # points: the height of one row of a box (label, data, grad)
_BORDER = 3  # the box's outer border; drawn in the box's own colour unless it is marked


@dataclass(frozen=True)
class _Cell:
    text: str
    bg: str | None = None
    fg: str = "black"
    bold: bool = False
    italic: bool = False


class GraphPicture:
    """The graph that built ``root``, ready to be drawn with any :class:`Look`.

    One box per ``Value`` (its label, else with ``names`` its made-up name in grey italics;
    ``data``; ``grad``) and one small node per operation. After :meth:`fix_sizes` every box
    keeps one size for all the looks given, so every picture has the same layout.
    """

    def __init__(
        self,
        root: Value,
        *,
        params: Iterable[Value] | None = None,
        max_nodes: int = 300,
        digits: int = 4,
        show_grad: bool = True,
        rankdir: str | None = None,
        names: Names | None = None,
        grad_range: tuple[float, float] | None = None,
    ) -> None:
        check_rankdir(rankdir)
        check_max_nodes(max_nodes)
        check_digits(digits)
        self.root = root
        self.nodes = graph_nodes(root, max_nodes)
        self.ids = {node: f"v{i}" for i, node in enumerate(self.nodes)}
        self.params = value_set(params, "params")
        self.digits, self.show_grad, self.names = digits, show_grad, names
        self.grad_range = grad_range
        self.widths: dict[Value, float] | None = None  # fixed box widths, once fixed
        self._lines: dict[tuple[Any, ...], list[str]] = {}  # a node's DOT lines, by state
        self.rankdir = rankdir or fit_rankdir(
            self.nodes, {n: box_width(n, digits, show_grad) for n in self.nodes})

    # ---- what a box shows ----------------------------------------------------------------
    def cells(self, node: Value, look: Look) -> list[_Cell]:
        """The rows of ``node``'s box in ``look``: label, data, grad."""
        fixed = self.widths is not None  # (every cell coloured: one SVG shape per frame)
        fill = self.fill(node, look)
        plain = fill if fixed else None
        rows = []
        if node.label:
            rows.append(_Cell(shorten(node.label), plain, bold=True))
        elif self.names is not None and self.names.made_up(node):
            rows.append(_Cell(shorten(self.names[node]), plain, fg=AUTO_NAME_FG, italic=True))
        mark = node in look.changed
        if node in look.data_unknown:
            rows.append(_Cell("data ?", PENDING_BG, PENDING_FG))
        else:
            marked = mark and not self.show_grad
            rows.append(_Cell(f"data {number(node.data, self.digits)}",
                              RECEIVING_BG if marked else plain, bold=marked))
        if self.show_grad:
            grad = node.grad if look.grads is None else look.grads.get(node)
            if grad is None:
                rows.append(_Cell("grad ?", PENDING_BG, PENDING_FG))
            else:
                text = f"grad {number(grad, self.digits)}"
                so_far = node in look.so_far
                rows.append(_Cell(text + " so far" if so_far else text,
                                  RECEIVING_BG if mark else plain, bold=mark, italic=so_far))
        return rows

    def fill(self, node: Value, look: Look) -> str:
        if node is look.current:
            return CURRENT_BG
        grad = node.grad if look.grads is None else look.grads.get(node)
        if self.grad_range is not None and self.show_grad and grad is not None:
            return grad_color(grad, *self.grad_range)
        return KIND_FILL[node_kind(node, self.params)]

    def fix_sizes(self, looks: Iterable[Look]) -> None:
        """Give every box one width: room for the widest text it shows in any of ``looks``."""
        widths = {node: 0.0 for node in self.nodes}
        for look in looks:
            for node in self.nodes:
                for cell in self.cells(node, look):
                    w = text_width(cell.text, bold=cell.bold) * (1.1 if cell.italic else 1.0)
                    widths[node] = max(widths[node], w)
        # 15% spare: Graphviz measures with the installed font, which may be wider
        self.widths = {node: math.ceil(w * 1.15 + 12) for node, w in widths.items()}
        self._lines.clear()

    # ---- the DOT text ---------------------------------------------------------------------
    def diagram(self, look: Look = Look(), caption: Sequence[str] | None = None,
                caption_size: tuple[float, float] | None = None,
                layout: Layout | None = None) -> Diagram:
        """The graph drawn with ``look``; ``caption`` lines below it (for PNG frames), in a
        box of ``caption_size`` points (one size for every frame: the layout stays). With a
        ``layout`` (:func:`layout_of` a picture with the same sizes) every node and edge is
        pinned where that layout put it: draw with :func:`draw_pinned`, nothing is laid out
        again."""
        dot = Diagram(
            format="svg",
            graph_attr={"rankdir": self.rankdir, "nodesep": "0.25", "ranksep": "0.35",
                        "fontname": FONT},
            node_attr={"fontname": FONT, "fontsize": "11"},
            edge_attr={"fontname": FONT, "fontsize": "9", "arrowsize": "0.7"},
        )
        name = printable(self.root.label) or "its output"
        dot._alt = f"computation graph of {name}: {len(self.nodes)} Values"
        for node in self.nodes:
            # a node's lines depend on its own state only: the frames of a stepper share them
            key = (node, self._state(node, look), -1 if layout is None else layout.serial)
            lines = self._lines.get(key)
            if lines is None:
                lines = self._lines[key] = self._statements(node, look, layout)
            dot.body.extend(lines)
        if caption is not None:
            dot.attr(label=_caption_label(caption, caption_size), labelloc="b", labeljust="l")
        if layout is not None:
            dot.attr(**layout.graph)
        return dot

    def _state(self, node: Value, look: Look) -> tuple[Any, ...]:
        """All of ``look`` that ``node``'s lines depend on."""
        grad = node.grad if look.grads is None else look.grads.get(node)
        return (node is look.current, node in look.changed, node in look.so_far,
                node in look.data_unknown, grad, look.grads is not None)

    def _statements(self, node: Value, look: Look, layout: Layout | None) -> list[str]:
        """The DOT lines of ``node``: its box, its op node and the edges into and out of it
        (where ``layout`` put them, if given)."""
        scratch = graphviz.Digraph()
        nid = self.ids[node]
        fixed = self.widths is not None
        kind = node_kind(node, self.params)
        pending = look.grads is not None and self.show_grad and node not in look.grads
        pins = layout.nodes if layout is not None else {}
        scratch.node(nid, label=self._box(node, look), shape="plaintext", margin="0",
                     tooltip=f"{kind} node" + (" (pending)" if pending else ""),
                     **({"pos": pins[nid]} if layout else {}))
        if not node.children:
            return scratch.body
        on = node is look.current
        op_attrs = {"shape": "ellipse", "margin": "0.04,0.02", "height": "0.3",
                    "width": "0.4", "fontsize": "10"}
        if on or fixed:
            op_attrs.update(style="filled", fillcolor=CURRENT_BG if on else "white",
                            color=CURRENT_BORDER if on else "black")
        if layout is not None:
            op_attrs["pos"] = pins[f"{nid}_op"]
        scratch.node(f"{nid}_op", label=f"<{label_html(op_text(node))}>", **op_attrs)
        ends = [(self.ids[c], f"{nid}_op", text, bool(c.children))
                for c, text in zip(node.children, edge_labels(node))]
        ends.append((f"{nid}_op", nid, "", True))
        for k, (tail, head, text, heavy) in enumerate(ends):
            twin = sum(1 for end in ends[:k] if end[:2] == (tail, head))  # (x * x: two edges)
            attrs = {"label": text} if text else {}
            if heavy:  # keep chains of results straight (heavier edge)
                attrs["weight"] = "3"
            if on or fixed:
                attrs.update(color=USED_EDGE if on else "black", penwidth="2.2" if on else "1")
            if layout is not None:
                attrs.update(layout.edges[(tail, head, twin)])
            scratch.edge(tail, head, **attrs)
        return scratch.body

    def _box(self, node: Value, look: Look) -> str:
        cells = self.cells(node, look)
        fill = self.fill(node, look)
        if node is look.current:
            border, color = _BORDER, CURRENT_BORDER
        elif node in look.changed:
            border, color = _BORDER, CHANGED_BORDER
        elif node is self.root:
            border, color = 2, "black"
        else:
            border, color = 1, "black"
        rows = "".join(f"<tr>{self._td(cell, node)}</tr>" for cell in cells)
        if self.widths is None:
            return (f'<<table border="{border}" cellborder="1" cellspacing="0" '
                    f'cellpadding="3" bgcolor="{fill}" color="{color}">{rows}</table>>')
        # One size in every frame: the box inside a ring of _BORDER points, in the mark's
        # colour (or the box's own), so a mark never moves or resizes anything
        ring = color if border == _BORDER or node is self.root else fill
        w, h = self.widths[node] + 2, len(cells) * _ROW + 2
        return (f'<<table border="0" cellborder="0" cellspacing="0" cellpadding="{_BORDER}" '
                f'bgcolor="{ring}" fixedsize="true" width="{w + 2 * _BORDER:.0f}" '
                f'height="{h + 2 * _BORDER:.0f}"><tr><td>'
                f'<table border="1" cellborder="1" cellspacing="0" cellpadding="3" '
                f'bgcolor="{fill}" color="black">{rows}</table></td></tr></table>>')

    def _td(self, cell: _Cell, node: Value) -> str:
        text = label_html(cell.text, limit=len(cell.text) + 1)  # (shortened already)
        if cell.bold:
            text = f"<b>{text}</b>"
        if cell.italic:
            text = f"<i>{text}</i>"
        attrs = f' bgcolor="{cell.bg}"' if cell.bg else ""
        if self.widths is not None:  # (cell lines black, whatever colour the outer border is)
            attrs += (f' color="black" fixedsize="true" width="{self.widths[node]:.0f}" '
                      f'height="{_ROW:.0f}"')
            text = f'<font color="{cell.fg}">{text}</font>'
        elif cell.fg != "black":
            text = f'<font color="{cell.fg}">{text}</font>'
        return f"<td{attrs}>{text}</td>"


@dataclass(frozen=True)
class Layout:
    """Where Graphviz put a picture's nodes and edges (``layout_of``), to pin them there."""

    graph: dict[str, str]  # bb (and lp, the caption's place)
    nodes: dict[str, str]  # node name -> pos
    # per edge (tail, head, how many such edges came before): pos (its spline), lp (its label)
    edges: dict[tuple[str, str, int], dict[str, str]]
    serial: int = field(default_factory=lambda: next(_LAYOUTS))  # tells layouts apart


def layout_of(source: str) -> Layout:
    """Lay DOT ``source`` out once (Graphviz's ``dot``): the positions of everything in it."""
    done = json.loads(run_graphviz([source], "json")[0])
    graph = {k: done[k] for k in ("bb", "lp") if k in done}
    objects = done.get("objects", [])
    nodes = {o["name"]: o["pos"] for o in objects if "pos" in o}
    names = {o["_gvid"]: o["name"] for o in objects}
    edges: dict[tuple[str, str, int], dict[str, str]] = {}
    for e in sorted(done.get("edges", []), key=lambda e: e["_gvid"]):
        ends = (names[e["tail"]], names[e["head"]])
        k = sum(1 for key in edges if key[:2] == ends)
        edges[(*ends, k)] = {a: e[a] for a in ("pos", "lp") if a in e}
    return Layout(graph, nodes, edges)


def draw_pinned(sources: Sequence[str], fmt: str, dpi: float | None = None) -> list[bytes]:
    """Draw DOT sources whose every node and edge is pinned (``diagram(layout=...)``): no
    layout is computed, so a hundred frames take about the time of one."""
    return run_graphviz(sources, fmt, dpi=dpi, pinned=True)


def _caption_label(lines: Sequence[str], size: tuple[float, float] | None) -> str:
    """Caption lines as an HTML label below the graph, the first in bold."""
    body = "".join((f"<b>{label_html(line, 400)}</b>" if k == 0 else label_html(line, 400))
                   + '<br align="left"/>' for k, line in enumerate(lines))
    fixed = ""
    if size is not None:
        fixed = f' fixedsize="true" width="{size[0]:.0f}" height="{size[1]:.0f}"'
    return (f'<<table border="0" cellpadding="6"{fixed}><tr><td align="left" balign="left">'
            f'<font point-size="12">{body}</font></td></tr></table>>')


def caption_box(captions: Iterable[Sequence[str]]) -> tuple[float, float]:
    """One box that holds every caption (points), so every frame is the same size."""
    lines = [line for caption in captions for line in caption]
    width = max((text_width(line, 12.0, bold=True) for line in lines), default=0.0)
    most = max((len(caption) for caption in captions), default=1)
    return math.ceil(width * 1.1 + 16), math.ceil(most * 15.0 + 14)


def op_text(node: Value) -> str:
    """What the small operation node says."""
    op, arg = node.op, node._arg
    if op == "**":
        return f"**{number(arg)}" if isinstance(arg, (int, float)) else "**"
    if op == "c**":
        return f"{number(arg)}**x" if isinstance(arg, (int, float)) else "c**x"
    if op == "linear":
        return "b + Σ w·x"
    if op == "linear+relu":
        return "relu(b + Σ w·x)"
    if op == "-":
        return "a − b"
    if op == "/":
        return "a / b"
    if op == "neg":
        return "−x"
    return op


def edge_labels(node: Value) -> list[str]:
    """Labels for the edges into an op node, where the order of inputs matters."""
    op, n = node.op, len(node.children)
    if op in ("linear", "linear+relu") and n % 2 == 1:
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
    ``b + Σ w·x`` for a ``linear`` neuron, whose input edges are labelled ``b``, ``w[i]``,
    ``x[i]``; for ``a − b`` and ``a / b`` the edges say which input is ``a``).

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
        digits: significant digits of data and grad (numbers are written as everywhere in
            the pictures: ``0.7071``, ``-1.5``, ``6e+06``).

    Returns:
        a :class:`Diagram` (a ``graphviz.Digraph``); ``.source`` is the deterministic DOT text.
    """
    if not isinstance(root, Value):
        raise TypeError(
            f"draw_graph needs one Value (e.g. the loss), got {type(root).__name__}; for a "
            "model with several outputs draw each output, or their sum"
        )
    check_format(format)
    try:
        low, high = (float(v) for v in grad_range)
        ok = 0 < low < high < math.inf
    except (TypeError, ValueError, OverflowError):
        ok = False
    if not ok:
        raise ValueError(f"grad_range must be (low, high) with 0 < low < high, got {grad_range!r}")
    picture = GraphPicture(root, params=params, max_nodes=max_nodes, digits=digits,
                           show_grad=show_grad, rankdir=rankdir,
                           grad_range=(low, high) if color_by_grad else None)
    look = Look()
    if highlight is not None:
        if not isinstance(highlight, Value):
            raise TypeError(f"highlight must be a Value, got {type(highlight).__name__}")
        order = topological_order(root)
        try:
            position = order.index(highlight)
        except ValueError:
            raise ValueError(
                f"highlight {highlight!r} is not part of the graph of root {root!r}; pass "
                "a node yielded by backward_steps(root)"
            ) from None
        look = Look(current=highlight, grads={n: n.grad for n in order[: position + 1]})
    dot = picture.diagram(look)
    dot.format = format
    return dot


draw_dot = draw_graph  # micrograd's name, for students arriving from the lecture


# ---------------------------------------------------------------------------------------------
# Checks and the nodes of a graph
# ---------------------------------------------------------------------------------------------
def check_rankdir(rankdir: object) -> None:
    if rankdir is not None and rankdir not in ("LR", "TB", "RL", "BT"):
        raise ValueError(f"rankdir must be 'LR', 'TB', 'RL', 'BT' or None, got {rankdir!r}")


def check_digits(digits: object) -> None:
    if isinstance(digits, bool) or not isinstance(digits, int) or not 1 <= digits <= 12:
        raise ValueError(f"digits must be an int from 1 to 12 (significant digits shown), got "
                         f"{digits!r}")


def check_format(format: object) -> None:
    if not isinstance(format, str) or format.lower() not in graphviz.FORMATS:
        raise ValueError(
            f"format must be a Graphviz output format such as 'svg', 'png' or 'pdf', got "
            f"{format!r}"
        )


def check_max_nodes(max_nodes: object) -> None:
    if isinstance(max_nodes, bool) or not isinstance(max_nodes, int) or max_nodes < 1:
        raise ValueError(f"max_nodes must be a positive int, got {max_nodes!r}")


def value_set(values: Iterable[Value] | None, what: str) -> set[Value]:
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
    texts = [text_width(f"data {number(node.data, digits)}")]
    if show_grad:
        texts.append(text_width(f"grad {number(node.grad, digits)}"))
    if node.label:
        texts.append(text_width(shorten(node.label), bold=True))
    return max(texts) + 2 * 3 + 12


def op_width(node: Value) -> float:
    return max(text_width(shorten(op_text(node)), 10) * 1.3 + 8, 29.0)


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


# Network diagrams
# ---------------------------------------------------------------------------------------------
def _is_neuron(m: object) -> bool:
    return hasattr(m, "w") and hasattr(m, "b") and not hasattr(m, "neurons")


def layers_of(model: object) -> list[list[Any]]:
    """The model as a list of dense layers, each a list of neurons (objects with .w, .b)."""
    if _is_neuron(model):
        return [[model]]
    if hasattr(model, "neurons"):
        return [list(model.neurons)]
    if hasattr(model, "layers"):
        out: list[list[Any]] = []
        for sub in model.layers:
            out.extend(layers_of(sub))
        return out
    raise TypeError(
        f"draw_network can draw a Neuron, Layer, MLP or Sequential (of those), got "
        f"{type(model).__name__}; to draw the computation of one output use draw_graph"
    )


def shown_units(n: int, max_neurons: int) -> tuple[list[int], int]:
    """Which of ``n`` units to draw (indices) and how many are elided."""
    if n <= max_neurons:
        return list(range(n)), 0
    keep = max_neurons - 1  # one slot goes to the "…" node
    head = (keep + 1) // 2
    tail = keep - head
    return list(range(head)) + list(range(n - tail, n)), n - keep


_ACT_TEXT = {"relu": "ReLU", "tanh": "tanh", "sigmoid": "σ", "linear": "linear"}


def _unit_names(labels: Any, n: int, what: str, default: list[str]) -> list[str]:
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
    *,
    unit_size: float | None = None,
) -> Diagram:
    """Draw a model as columns of neurons: input layer, hidden layers, output layer.

    Every weight ``w`` of neuron ``j`` in a layer is an edge from input ``i`` of that layer to
    the neuron; a neuron's circle names its activation. Works for an ``MLP``, a ``Sequential``
    of ``Layer``s, a single ``Layer`` and a single ``Neuron``.

    With an input ``x`` the picture shows forward propagation: every input and every unit
    shows its value for ``x`` and is coloured by it (orange positive, blue negative, grey
    exactly 0: a ReLU that does not fire), so you can see which neurons fire. Edges use the
    same colours for their sign.

    Args:
        model: the model (anything with ``.layers`` of ``Layer``s, ``.neurons``, or ``.w``/``.b``).
        show_weights: label each edge with its weight, colour it by sign (orange positive,
            blue negative) and make it thicker the larger |w| is; neurons show their bias.
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
            ``w·x`` to the neuron it feeds (orange positive, blue negative).
        output_labels: names of the outputs, e.g. the classes (default: none; with
            ``softmax``, the class numbers 0, 1, ...).
        unit_size: every unit a circle this many inches across, whatever its label (default:
            each circle grows to fit its label).
    """
    if unit_size is not None:
        unit_size = args.positive(unit_size, "unit_size")
    if isinstance(max_neurons, bool) or not isinstance(max_neurons, int) or max_neurons < 2:
        raise ValueError(f"max_neurons must be an int >= 2, got {max_neurons!r}")
    check_rankdir(rankdir)
    check_digits(digits)
    check_format(format)
    layers = layers_of(model)
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
    input_labels = _unit_names(input_labels, nin, "input_labels", [f"x{i + 1}" for i in range(nin)])
    nout = len(layers[-1])
    # a classifier's outputs are its classes 0, 1, ...: say so when showing probabilities
    default = [str(j) for j in range(nout)] if softmax else [""] * nout
    out_names = _unit_names(output_labels, nout, "output_labels", default)
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
        # top to bottom, a wide layer is a row: units closer, so ten of them fit a notebook
        graph_attr={"rankdir": rankdir, "ranksep": "2.6" if labelled else "1.1",
                    "nodesep": "0.45" if labelled else "0.1" if rankdir == "TB" else "0.2",
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
        shown, hidden = shown_units(n, max_neurons)
        head = max_neurons // 2 if hidden else len(shown)
        col: list[tuple[str, int | None]] = []
        with dot.subgraph(name=f"col_{name}") as sub:
            # One rank per column; invisible edges keep the units in order, title on top.
            sub.attr(rank="same")
            # top to bottom the titles are a column on the left: "(ReLU)" on a line of its own
            text = esc(title).replace(" (", "<br/>(") if rankdir == "TB" else esc(title)
            sub.node(f"{name}_title", label=f"<{text}>", shape="plaintext", fontsize="11")
            for pos, i in enumerate(shown):
                if hidden and pos == head:
                    more = f"{name}_more"
                    note = hidden_note(shown) if hidden_note else ""
                    sub.node(more, label=f"<⋮<br/>{hidden} more{note}>", shape="plaintext")
                    col.append((more, None))
                nid = f"{name}_{i}"
                attrs = {"shape": "circle", "style": "filled", "fillcolor": fill(i),
                         "width": "0.75"}
                if unit_size is not None:
                    attrs.update(width=f"{unit_size:.3f}", fixedsize="true")
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

    def value(v: float) -> str:
        return f"<b>{number(v, digits)}</b>"

    in_scale = max((abs(v) for v in inputs), default=1.0)
    add_column(
        "in", "input layer", nin,
        lambda i: label_html(input_labels[i]) + (f"<br/>{value(inputs[i])}" if inputs else ""),
        lambda i: value_color(inputs[i], in_scale) if inputs else "#d9f2d9",
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
                parts.append(label_html(out_names[j]))
            act = getattr(neuron, "activation", "")
            if not (last and softmax):
                parts.append(esc(_ACT_TEXT.get(act, act)) or "Σ")
            if show_weights:
                parts.append(f"b={number(neuron.b.data, digits)}")
            if vals:
                parts.append(value(vals[j]))
            return "<br/>".join(parts)

        def fill(j: int, vals=vals, scale=scale, last=last) -> str:
            if vals:
                return value_color(vals[j], scale)
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
                    labels.append(number(w.data, digits))
                    attrs["color"] = POSITIVE_EDGE if w.data >= 0 else NEGATIVE_EDGE
                    attrs["penwidth"] = f"{0.5 + 2.5 * abs(w.data) / wmax:.2f}"
                if show_grads:
                    labels.append(f"∂ {number(w.grad, digits)}")
                    if not show_weights:
                        attrs["color"] = POSITIVE_EDGE if w.grad >= 0 else NEGATIVE_EDGE
                if contributions:
                    c = w.data * sources[k][i]
                    t = abs(c) / cmax if cmax else 0.0
                    sign = rgb(POSITIVE_EDGE if c >= 0 else NEGATIVE_EDGE)
                    attrs["color"] = mix((255, 255, 255), sign, 0.25 + 0.75 * t)
                    attrs["penwidth"] = f"{0.3 + 3.7 * t:.2f}"
                    attrs["tooltip"] = (f"w·x = {number(w.data, digits)} × "
                                        f"{number(sources[k][i], digits)}")
                if labels:
                    # The label sits on its own edge (angle 0), on a white box that cuts the
                    # line, so it is clear which edge a number belongs to. Edges meeting at
                    # one neuron get their labels at different distances from it, so the
                    # labels of converging edges do not sit on top of each other.
                    color = attrs.get("color", "#555555")
                    text = "<br/>".join(esc(t) for t in labels)
                    attrs["headlabel"] = (
                        f'<<table border="0" cellborder="0" cellspacing="0" cellpadding="1" '
                        f'bgcolor="white"><tr><td><font color="{color}">{text}</font></td>'
                        f"</tr></table>>"
                    )
                    frac = pos / (n_src - 1) if n_src > 1 else 0.5
                    attrs.update(labeldistance=f"{4.5 + 6.0 * frac:.2f}", labelangle="0")
                dot.edge(src_id, dst_id, **attrs)
    return dot


