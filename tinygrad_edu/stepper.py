"""Step through backpropagation (or the forward pass) on one fixed picture of the graph.

``step_through(root)`` (also ``tinygrad_edu.viz.step_through``) returns a :class:`Stepper`:
one frame per node of ``root``'s graph, in the order ``backward_steps`` visits them (or inputs
to output with ``direction="forward"``). Every frame is the same picture: Graphviz lays the
graph out once, and a frame only restyles it (which node is current, which edges its step
uses, which grads are still unknown), so nothing moves. The caption of a frame is
``tinygrad_edu.explain`` of its node: the chain-rule arithmetic of that step.

Where it shows:

- Jupyter with a kernel and ipywidgets: a widget updating in place (Previous, Next, a slider,
  Play).
- No kernel (nbconvert HTML, a saved notebook, GitHub): the same output carries a
  self-contained HTML stepper (buttons, arrow keys) and a PNG still for viewers that render
  neither (untrusted notebooks in JupyterLab).
- ``save_html(path)``: one offline file; ``save_gif(path)``: an animation for slides (needs
  Pillow, which comes with matplotlib).

The stepper reads the graph's numbers once, when it is made; it leaves every ``.grad`` as it
was.
"""

from __future__ import annotations

import base64
import contextlib
import html
import io
import json
import os
import secrets
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tinygrad_edu import dot_backend
from tinygrad_edu.engine import Value
from tinygrad_edu.explain import _name, _num, _target, _wrap, explain, explain_forward, printable
from tinygrad_edu.gradtools import backward_steps
from tinygrad_edu.viz import (
    _HIGHLIGHT_BG,
    _HIGHLIGHT_BORDER,
    _KIND_STYLE,
    _PENDING_BG,
    _PENDING_FG,
    FIT_WIDTH_PT,
    PX_PER_PT,
    GraphvizNotFoundError,
    _check_digits,
    _check_max_nodes,
    _check_rankdir,
    _edge_labels,
    _fmt,
    _op_text,
    _value_set,
    graph_extent,
    graph_nodes,
    node_kind,
    text_width,
)

__all__ = ["Stepper", "Frame", "step_through"]

FONT = 11.0  # points, as draw_graph
EDGE_FONT = 9.0
OP_FONT = 10.0
ROW = 19.0  # height of one row (label, data, grad) of a box
PAD = 6.0  # space left and right of the widest text in a box
FONT_FAMILY = "Helvetica, Arial, 'Liberation Sans', 'DejaVu Sans', sans-serif"
_USED = "#d62728"  # edges the current step uses


# ---------------------------------------------------------------------------------------------
# What is drawn: boxes (Values), ellipses (ops), edges; positions from one Graphviz layout.
# ---------------------------------------------------------------------------------------------
@dataclass
class _Box:
    id: str
    kind: str
    x: float  # left
    y: float  # top
    w: float
    h: float
    label: str
    data: str
    grad: str | None  # None: no grad row (forward walk-through)
    root: bool


@dataclass
class _Op:
    id: str
    cx: float
    cy: float
    rx: float
    ry: float
    text: str


@dataclass
class _Edge:
    id: str
    bezier: list[tuple[float, float]]  # cubic Bezier control points (1 + 3k of them)
    arrow: list[tuple[float, float]]  # the arrowhead polygon
    label: str
    label_at: tuple[float, float] | None


@dataclass
class _Scene:
    width: float
    height: float
    boxes: list[_Box]
    ops: list[_Op]
    edges: list[_Edge]


@dataclass
class Frame:
    """One step: the node it is about, a one-line title, and the caption (explain's text)."""

    node: Value
    title: str
    caption: str
    pending: frozenset[str] = field(repr=False)  # boxes whose grad (backward) / data is unknown
    current: str = field(repr=False)  # the current node's box id
    current_op: str | None = field(repr=False)
    used_edges: tuple[str, ...] = field(repr=False)


def _box_width(label: str, rows: Iterable[str]) -> float:
    # 10% spare: the browser may fall back to a font wider than Helvetica (DejaVu Sans)
    widths = [text_width(label, FONT, bold=True)] if label else []
    widths += [text_width(t, FONT) for t in rows]
    return max(widths) * 1.1 + 2 * PAD


def _layout(dot_source: str) -> dict[str, Any]:
    """Lay the graph out once (Graphviz's ``dot``, or viz.js in a browser): its JSON layout."""
    try:
        return json.loads(dot_backend.render(dot_source, "json"))
    except dot_backend.RendererNotFoundError as err:
        raise GraphvizNotFoundError("dot") from err


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _build_scene(nodes: list[Value], ids: dict[Value, str], root: Value, params: set[Value],
                 digits: int, show_grad: bool, grads: dict[Value, float],
                 rankdir: str | None) -> _Scene:
    """Lay the graph out once with fixed box sizes; everything else is drawn by us."""
    texts: dict[Value, tuple[str, str, str | None]] = {}
    widths: dict[Value, float] = {}
    for node in nodes:
        label = printable(node.label)
        data = f"data {_fmt(node.data, digits)}"
        grad = f"grad {_fmt(grads[node], digits)}" if show_grad else None
        texts[node] = (label, data, grad)
        rows = [data, "data ?"] + ([grad, "grad ?"] if grad else [])
        widths[node] = _box_width(label, rows)
    if rankdir is None:
        lr, tb = graph_extent(nodes, widths)
        rankdir = "LR" if lr <= FIT_WIDTH_PT or lr <= tb else "TB"

    lines = [
        "digraph G {",
        f"rankdir={rankdir}; nodesep=0.25; ranksep=0.35;",
        'node [shape=box fixedsize=true label=""];',
        f"edge [fontname=Helvetica fontsize={EDGE_FONT:g} arrowsize=0.7];",
    ]
    for node in nodes:
        nid = ids[node]
        label, _, grad = texts[node]
        n_rows = (1 if label else 0) + 1 + (1 if grad else 0)
        lines.append(f"{nid} [width={widths[node] / 72:.4f} height={(n_rows * ROW + 2) / 72:.4f}];")
        if node.children:
            op_w = max(text_width(_op_text(node), OP_FONT) * 1.3 + 8, 29.0)
            lines.append(f"{nid}_op [shape=ellipse width={op_w / 72:.4f} height=0.3];")
            for child, text in zip(node.children, _edge_labels(node)):
                attrs = [f"label={_quote(text)}"] if text else []
                if child.children:
                    attrs.append("weight=3")
                lines.append(f"{ids[child]} -> {nid}_op [{' '.join(attrs)}];")
            lines.append(f"{nid}_op -> {nid} [weight=3];")
    lines.append("}")
    layout = _layout("\n".join(lines))

    x0, y0, x1, y1 = (float(v) for v in layout["bb"].split(","))
    margin = 4.0
    height = y1 - y0 + 2 * margin

    def pt(x: float, y: float) -> tuple[float, float]:
        return (x - x0 + margin, height - (y - y0 + margin))  # Graphviz's y points up

    by_name = {}
    names = {}
    for obj in layout.get("objects", []):
        if "pos" in obj:
            by_name[obj["name"]] = obj
            names[obj["_gvid"]] = obj["name"]
    boxes, ops = [], []
    for node in nodes:
        nid = ids[node]
        obj = by_name[nid]
        cx, cy = pt(*(float(v) for v in obj["pos"].split(",")))
        w, h = float(obj["width"]) * 72, float(obj["height"]) * 72
        label, data, grad = texts[node]
        boxes.append(_Box(nid, node_kind(node, params), cx - w / 2, cy - h / 2, w, h,
                          label, data, grad, node is root))
        if node.children:
            op = by_name[f"{nid}_op"]
            ocx, ocy = pt(*(float(v) for v in op["pos"].split(",")))
            ops.append(_Op(f"{nid}_op", ocx, ocy, float(op["width"]) * 36,
                           float(op["height"]) * 36, _op_text(node)))
    edges = []
    for e in layout.get("edges", []):
        tail, head = names[e["tail"]], names[e["head"]]
        bezier: list[tuple[float, float]] = []
        arrow: list[tuple[float, float]] = []
        for op_ in e.get("_draw_", []):
            if op_["op"] == "b":
                bezier = [pt(*p) for p in op_["points"]]
        for op_ in e.get("_hdraw_", []):
            if op_["op"] in ("P", "p"):
                arrow = [pt(*p) for p in op_["points"]]
        label_at = None
        for op_ in e.get("_ldraw_", []):
            if op_["op"] == "T":
                label_at = pt(*op_["pt"])
        edges.append(_Edge(f"{tail}-{head}", bezier, arrow, e.get("label", ""), label_at))
    return _Scene(x1 - x0 + 2 * margin, height, boxes, ops, edges)


# ---------------------------------------------------------------------------------------------
# SVG: the static picture once, and a small CSS block per frame that restyles it
# ---------------------------------------------------------------------------------------------
def _esc(text: str) -> str:
    return html.escape(text, quote=True)


def _box_rows(box: _Box) -> list[tuple[str, float]]:
    """(row kind, top y) of a box's rows: label, data, grad."""
    rows = []
    y = box.y + 1
    if box.label:
        rows.append(("label", y))
        y += ROW
    rows.append(("data", y))
    y += ROW
    if box.grad is not None:
        rows.append(("grad", y))
    return rows


def _svg(scene: _Scene, prefix: str) -> str:
    """The picture as SVG; ``{FRAME_CSS}`` marks where a frame's style goes."""
    p = prefix
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" id="{p}-svg" class="tge-graph" '
        f'viewBox="0 0 {scene.width:.1f} {scene.height:.1f}" '
        f'width="{scene.width * PX_PER_PT:.0f}px" height="{scene.height * PX_PER_PT:.0f}px" '
        f'style="max-width: 100%; height: auto; display: block" role="img" '
        f'aria-label="computation graph">',
        f"<style>#{p}-svg text{{font-family:{FONT_FAMILY};font-size:{FONT:g}px;"
        f"text-anchor:middle;dominant-baseline:central}}"
        f"#{p}-svg .q{{display:none;fill:{_PENDING_FG}}}"
        f"#{p}-svg .op text{{font-size:{OP_FONT:g}px}}"
        f"#{p}-svg .el{{font-size:{EDGE_FONT:g}px}}</style>",
        '<style class="tge-frame">{FRAME_CSS}</style>',
        f'<rect width="{scene.width:.1f}" height="{scene.height:.1f}" fill="white"/>',
    ]
    for e in scene.edges:
        d = f"M{e.bezier[0][0]:.1f},{e.bezier[0][1]:.1f}" if e.bezier else ""
        for i in range(1, len(e.bezier) - 2, 3):
            (ax, ay), (bx, by), (cx, cy) = e.bezier[i : i + 3]
            d += f"C{ax:.1f},{ay:.1f} {bx:.1f},{by:.1f} {cx:.1f},{cy:.1f}"
        arrow = " ".join(f"{x:.1f},{y:.1f}" for x, y in e.arrow)
        part = (f'<g id="{p}-{e.id}" class="edge"><path d="{d}" fill="none" stroke="black"/>'
                f'<polygon points="{arrow}" fill="black" stroke="black"/>')
        if e.label and e.label_at:
            part += (f'<text class="el" x="{e.label_at[0]:.1f}" y="{e.label_at[1] - 3:.1f}">'
                     f"{_esc(e.label)}</text>")
        out.append(part + "</g>")
    for o in scene.ops:
        out.append(
            f'<g id="{p}-{o.id}" class="op"><ellipse cx="{o.cx:.1f}" cy="{o.cy:.1f}" '
            f'rx="{o.rx:.1f}" ry="{o.ry:.1f}" fill="white" stroke="black"/>'
            f'<text x="{o.cx:.1f}" y="{o.cy:.1f}">{_esc(o.text)}</text></g>'
        )
    for b in scene.boxes:
        cx = b.x + b.w / 2
        fill = _KIND_STYLE[b.kind]["bg"]
        part = [f'<g id="{p}-{b.id}" class="val">',
                f'<rect class="bx" x="{b.x:.1f}" y="{b.y:.1f}" width="{b.w:.1f}" '
                f'height="{b.h:.1f}" fill="{fill}"/>']
        for kind, top in _box_rows(b):
            mid = top + ROW / 2
            if kind == "label":
                part.append(f'<text x="{cx:.1f}" y="{mid:.1f}" font-weight="bold">'
                            f"{_esc(b.label)}</text>")
            else:
                letter = kind[0]  # d(ata) or g(rad): the cell, the number, the "?"
                value = b.data if kind == "data" else b.grad
                part.append(
                    f'<rect class="{letter}c" x="{b.x:.1f}" y="{top:.1f}" width="{b.w:.1f}" '
                    f'height="{ROW:.1f}" fill="none"/>'
                    f'<text class="{letter}v" x="{cx:.1f}" y="{mid:.1f}">{_esc(value or "")}'
                    f'</text><text class="{letter}q q" x="{cx:.1f}" y="{mid:.1f}">'
                    f"{kind} ?</text>"
                )
            if top > b.y + 1:
                part.append(f'<line x1="{b.x:.1f}" y1="{top:.1f}" x2="{b.x + b.w:.1f}" '
                            f'y2="{top:.1f}" stroke="black" stroke-width="0.6"/>')
        width = 2.0 if b.root else 1.0
        part.append(f'<rect class="fr" x="{b.x:.1f}" y="{b.y:.1f}" width="{b.w:.1f}" '
                    f'height="{b.h:.1f}" fill="none" stroke="black" stroke-width="{width}"/>')
        out.append("".join(part) + "</g>")
    out.append("</svg>")
    return "".join(out)


def _frame_css(prefix: str, frame: Frame, letter: str) -> str:
    """The style of one frame: pending cells greyed with '?', the current node and the edges
    its step uses in red. ``letter`` is the pending row: "g" (grad) or "d" (data)."""
    p = prefix
    css = []
    pend = sorted(frame.pending)
    if pend:
        css.append(",".join(f"#{p}-{i} .{letter}v" for i in pend) + "{display:none}")
        css.append(",".join(f"#{p}-{i} .{letter}q" for i in pend) + "{display:inline}")
        css.append(",".join(f"#{p}-{i} .{letter}c" for i in pend) + f"{{fill:{_PENDING_BG}}}")
    c = f"#{p}-{frame.current}"
    css.append(f"{c} .bx{{fill:{_HIGHLIGHT_BG}}}{c} .fr{{stroke:{_HIGHLIGHT_BORDER};"
               "stroke-width:3}")
    if frame.current_op:
        css.append(f"#{p}-{frame.current_op} ellipse{{fill:{_HIGHLIGHT_BG};"
                   f"stroke:{_HIGHLIGHT_BORDER}}}")
    if frame.used_edges:
        sel = [f"#{p}-{e}" for e in frame.used_edges]
        css.append(",".join(f"{s} path" for s in sel) + f"{{stroke:{_USED};stroke-width:2.2}}")
        css.append(",".join(f"{s} polygon" for s in sel) + f"{{fill:{_USED};stroke:{_USED}}}")
    return "".join(css)


# ---------------------------------------------------------------------------------------------
# The stepper
# ---------------------------------------------------------------------------------------------
class Stepper:
    """A walk-through of backward (or forward) on ``root``'s graph; see the module docstring.

    ``len(stepper)`` is the number of frames (one per node), ``stepper.frames[i]`` a
    :class:`Frame` (``node``, ``title``, ``caption``). Show it in Jupyter as the last
    expression of a cell; ``save_html(path)``, ``save_gif(path)``, ``png(frame)`` and
    ``frame_svg(i)`` give it for elsewhere.
    """

    def __init__(
        self,
        root: Value,
        direction: str = "backward",
        *,
        params: Iterable[Value] | None = None,
        max_nodes: int = 300,
        digits: int = 4,
        rankdir: str | None = None,
        interval_ms: int = 1500,
    ) -> None:
        if not isinstance(root, Value):
            raise TypeError(
                f"step_through needs one Value (e.g. the loss), got {type(root).__name__}; "
                "for a model with several outputs step through each output, or their sum"
            )
        if direction not in ("backward", "forward"):
            raise ValueError(f"direction must be 'backward' or 'forward', got {direction!r}")
        _check_rankdir(rankdir)
        _check_max_nodes(max_nodes)
        _check_digits(digits)
        if isinstance(interval_ms, bool) or not isinstance(interval_ms, int) or interval_ms < 50:
            raise ValueError(f"interval_ms must be an int >= 50, got {interval_ms!r}")
        self.root = root
        self.direction = direction
        self.interval_ms = interval_ms
        self._prefix = "tge" + secrets.token_hex(4)
        nodes = graph_nodes(root, max_nodes)
        ids = {node: f"n{i}" for i, node in enumerate(nodes)}
        if direction == "backward":
            order, grads, captions = _walk_backward(root, nodes)
        else:
            order = nodes  # inputs before results
            grads = {node: node.grad for node in nodes}
            captions = [explain_forward(node) for node in order]
        self._scene = _build_scene(nodes, ids, root, _value_set(params, "params"), digits,
                                   direction == "backward", grads, rankdir)
        self._svg = _svg(self._scene, self._prefix)
        self._letter = "g" if direction == "backward" else "d"
        self.frames: list[Frame] = []
        for i, (node, caption) in enumerate(zip(order, captions)):
            nid = ids[node]
            used = ()
            if node.children:
                used = tuple(f"{ids[c]}-{nid}_op" for c in dict.fromkeys(node.children))
                used += (f"{nid}_op-{nid}",)
            if direction == "backward":
                title = f"{_target(node)}.grad = {_num(grads[node])} is final"
                if node is root:
                    name = _wrap(_name(node))
                    title += f": backward starts here, ∂{name}/∂{name} = 1"
            else:
                title = f"{_target(node)} = {_num(node.data)}"
            self.frames.append(Frame(
                node=node, title=title, caption=caption,
                pending=frozenset(ids[n] for n in order[i + 1 :]), current=nid,
                current_op=f"{nid}_op" if node.children else None, used_edges=used,
            ))
        self._widget: Any = None
        self._pngs: dict[tuple[int | None, float], bytes] = {}

    # ---- frames ------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.frames)

    def __repr__(self) -> str:
        return (f"<Stepper: {self.direction} through {len(self)} nodes of "
                f"{_name(self.root)}>")

    def _check_index(self, i: int) -> int:
        if isinstance(i, bool) or not isinstance(i, int):
            raise TypeError(f"a frame number is an int, got {type(i).__name__}")
        if not -len(self) <= i < len(self):
            raise IndexError(f"frame {i} does not exist: this stepper has {len(self)} frames")
        return i % len(self)

    def frame_css(self, i: int) -> str:
        """The CSS that turns the shared picture into frame ``i``."""
        return _frame_css(self._prefix, self.frames[self._check_index(i)], self._letter)

    def frame_svg(self, i: int) -> str:
        """Frame ``i`` as SVG: the one fixed picture with that frame's style."""
        return self._svg.replace("{FRAME_CSS}", self.frame_css(i), 1)

    # ---- HTML --------------------------------------------------------------------------
    def html(self, standalone: bool = False, start: int = 0, still: bool = False) -> str:
        """The self-contained HTML stepper (no network, no kernel): buttons "Previous" and
        "Next", a slider, Play; arrow keys step when it has focus (anywhere on the page when
        ``standalone``). The picture is one SVG; each frame is a small CSS block.

        Unless ``standalone``, the controls are built by the script from its JSON payload, so
        where scripts are removed (JupyterLab's sanitizer for untrusted notebooks, GitHub) no
        dead controls or stray SVG text remain; ``still=True`` adds a PNG still (:meth:`png`)
        that shows there instead and that the script removes.
        """
        start = self._check_index(start)
        p = self._prefix
        n = len(self)
        svg = self._svg.replace("{FRAME_CSS}", self.frame_css(start), 1)
        ui = _UI_TEMPLATE.format(
            p=p, svg=svg, last=n - 1, start=start, count=f"step {start + 1} of {n}",
            title=_esc(self.frames[start].title), caption=_esc(self.frames[start].caption),
        )
        data = {
            "ui": "" if standalone else ui,
            "css": [self.frame_css(i) for i in range(n)],
            "title": [f.title for f in self.frames],
            "caption": [f.caption for f in self.frames],
            "interval": self.interval_ms,
            "doc": standalone,
        }
        # Inside <script>, "</" could end the element and "<!--" start a comment: escape both
        # (JSON allows "\/" for "/").
        payload = (json.dumps(data, ensure_ascii=False)
                   .replace("</", "<\\/").replace("<!--", "<\\u0021--"))
        picture = ""
        if still:
            try:
                png = self.png()
            except ImportError:
                png = b""
            if png:
                alt = _esc(f"{self.direction} pass through {_name(self.root)}, step by step: "
                           + " | ".join(f.caption.replace("\n", "; ") for f in self.frames[:40]))
                picture = (f'<img class="tge-still" alt="{alt}" '
                           f'width="{round(_png_width(png) / 1.5)}" '
                           f'style="max-width: 100%; height: auto" '
                           f'src="data:image/png;base64,{base64.b64encode(png).decode()}">')
        return (
            f'<div class="tge-stepper" id="{p}" tabindex="0" style="max-width: 100%; '
            f'outline: none" aria-label="step-through of the {self.direction} pass">'
            f"{picture}{ui if standalone else ''}"
            f'<script type="application/json" class="tge-data">{payload}</script>'
            f"<script>{_SCRIPT.replace('__P__', p)}</script></div>"
        )

    def save_html(self, path: str | os.PathLike[str]) -> Path:
        """Write the stepper as one self-contained HTML file (works offline, no kernel)."""
        title = f"{self.direction} pass through {_esc(_name(self.root))}"
        document = (
            '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{title}</title></head>"
            '<body style="margin: 12px; font-family: sans-serif">'
            f"{self.html(standalone=True)}</body></html>\n"
        )
        return _write_atomic(path, document.encode("utf-8"), "save_html")

    # ---- raster images -----------------------------------------------------------------
    def png(self, frame: int | None = None, scale: float = 1.5) -> bytes:
        """A PNG of frame ``frame`` with its caption; ``None`` (default): a still that sums
        the walk up (the last frame, every step's arithmetic below it). Needs Pillow."""
        key = (frame, scale)
        if key not in self._pngs:
            buf = io.BytesIO()
            self._image(frame, scale).save(buf, format="PNG")
            self._pngs[key] = buf.getvalue()
        return self._pngs[key]

    def save_gif(self, path: str | os.PathLike[str], interval_ms: int | None = None,
                 scale: float = 1.5) -> Path:
        """Write the frames as an animated GIF (for slides). Needs Pillow."""
        delay = self.interval_ms if interval_ms is None else interval_ms
        if isinstance(delay, bool) or not isinstance(delay, int) or delay < 20:
            raise ValueError(f"interval_ms must be an int >= 20, got {delay!r}")
        _check_folder(path, "save_gif")  # before the slow part
        images = [self._image(i, scale, caption_lines=self._max_caption_lines())
                  for i in range(len(self))]
        pil = _pil().Image
        images = [im.quantize(colors=64, method=pil.Quantize.FASTOCTREE, dither=pil.Dither.NONE)
                  for im in images]
        buf = io.BytesIO()
        images[0].save(buf, format="GIF", save_all=True, append_images=images[1:],
                       duration=delay, loop=0, disposal=1)
        return _write_atomic(path, buf.getvalue(), "save_gif")

    def _max_caption_lines(self) -> int:
        return max(2 + f.caption.count("\n") for f in self.frames)

    def _image(self, frame: int | None, scale: float, caption_lines: int | None = None) -> Any:
        if frame is None:
            last = self.frames[-1]
            lines = [f"{'Backward' if self.direction == 'backward' else 'Forward'} pass, "
                     f"{len(self)} steps:"]
            for i, f in enumerate(self.frames):
                if f.node.children:
                    lines += [f"{i + 1}. " + ln if k == 0 else "    " + ln
                              for k, ln in enumerate(f.caption.split("\n"))]
            if len(lines) > 24:
                lines = lines[:23] + [f"… ({len(lines) - 23} more lines in the interactive "
                                      "stepper)"]
            summary = Frame(node=last.node, title="", caption="", pending=frozenset(),
                            current="", current_op=None, used_edges=())
            return _render(self._scene, summary, self._letter, lines, scale)
        i = self._check_index(frame)
        f = self.frames[i]
        lines = [f"step {i + 1} of {len(self)}: {f.title}"] + f.caption.split("\n")
        return _render(self._scene, f, self._letter, lines, scale, caption_lines)

    # ---- Jupyter -----------------------------------------------------------------------
    def widget(self) -> Any:
        """The ipywidgets widget (Previous, Next, slider, Play) showing this stepper."""
        if self._widget is None:
            self._widget = _make_widget(self)
        return self._widget

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None,
                          **kwargs: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        data: dict[str, Any] = {"text/plain": repr(self), "text/html": self.html(still=True)}
        meta: dict[str, Any] = {}
        try:
            still = self.png()
        except ImportError:
            pass  # no Pillow: the HTML stepper alone
        else:
            data["image/png"] = base64.b64encode(still).decode("ascii")
            meta["image/png"] = {"width": round(_png_width(still) / 1.5)}
        if _in_kernel():
            with contextlib.suppress(ImportError):
                data.update(self.widget()._repr_mimebundle_())
        data["text/plain"] = repr(self)
        if include:
            data = {k: v for k, v in data.items() if k in include}
        if exclude:
            data = {k: v for k, v in data.items() if k not in exclude}
        return data, meta


def step_through(root: Value, direction: str = "backward", **options: Any) -> Stepper:
    """A :class:`Stepper` through backward (default) or forward on ``root``'s graph."""
    return Stepper(root, direction=direction, **options)


def _walk_backward(root: Value, nodes: list[Value]
                   ) -> tuple[list[Value], dict[Value, float], list[str]]:
    """Run ``backward_steps`` once, recording each node's final grad and explanation.

    Leaves start from 0 so the picture shows this walk's gradients even if backward() ran
    before; every grad is put back as it was afterwards.
    """
    saved = [(node, node.grad) for node in nodes]
    order: list[Value] = []
    grads: dict[Value, float] = {}
    captions: list[str] = []
    try:
        for node in nodes:
            if not node.children:
                node.grad = 0.0
        for node in backward_steps(root):
            order.append(node)
            grads[node] = node.grad
            captions.append(explain(node))
    finally:
        for node, g in saved:
            node.grad = g
    return order, grads, captions


# ---------------------------------------------------------------------------------------------
# PNG and GIF frames, drawn with Pillow from the same scene as the SVG
# ---------------------------------------------------------------------------------------------
_FONT_FILES = {
    False: ["/usr/share/fonts/truetype/liberation2/LiberationSans-Regular.ttf",
            "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
            "/Library/Fonts/Arial.ttf", "/System/Library/Fonts/Supplemental/Arial.ttf",
            "C:/Windows/Fonts/arial.ttf", "DejaVuSans.ttf"],
    True: ["/usr/share/fonts/truetype/liberation2/LiberationSans-Bold.ttf",
           "/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf",
           "/Library/Fonts/Arial Bold.ttf", "/System/Library/Fonts/Supplemental/Arial Bold.ttf",
           "C:/Windows/Fonts/arialbd.ttf", "DejaVuSans-Bold.ttf"],
}
_fonts: dict[tuple[bool, int], Any] = {}


def _font(size: float, bold: bool = False) -> Any:
    """A Helvetica-like TrueType font (Liberation Sans, Arial, else matplotlib's DejaVu)."""
    key = (bold, round(size))
    if key not in _fonts:
        font_mod = _pil().ImageFont
        candidates = list(_FONT_FILES[bold])
        try:
            import matplotlib

            mpl = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
            candidates.append(str(mpl / ("DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf")))
        except ImportError:
            pass
        for file in candidates:
            try:
                _fonts[key] = font_mod.truetype(file, key[1])
                break
            except OSError:
                continue
        else:
            _fonts[key] = font_mod.load_default(size=key[1])
    return _fonts[key]


def _bezier_points(ctrl: list[tuple[float, float]], steps: int = 12) -> list[tuple[float, float]]:
    pts = ctrl[:1]
    for i in range(1, len(ctrl) - 2, 3):
        (x0, y0), (x1, y1), (x2, y2), (x3, y3) = ctrl[i - 1 : i + 3]
        for k in range(1, steps + 1):
            t = k / steps
            a, b, c, d = (1 - t) ** 3, 3 * t * (1 - t) ** 2, 3 * t * t * (1 - t), t**3
            pts.append((a * x0 + b * x1 + c * x2 + d * x3, a * y0 + b * y1 + c * y2 + d * y3))
    return pts


def _wrap_lines(lines: list[str], font: Any, width: float) -> list[str]:
    out = []
    for line in lines:
        body = line.lstrip(" ")
        indent = line[: len(line) - len(body)]
        current = indent
        for word in body.split(" "):
            trial = f"{current} {word}" if current.strip() else current + word
            if current.strip() and font.getlength(trial) > width:
                out.append(current)
                current = indent + "    " + word
            else:
                current = trial
        out.append(current)
    return out


def _render(scene: _Scene, frame: Frame, letter: str, lines: list[str], scale: float,
            caption_lines: int | None = None) -> Any:
    """One frame as a Pillow image: the picture, then the caption lines below it."""
    PIL = _pil()
    # at most ~4000 pixels on the long side, however big the graph (a tall chain of 100
    # Values would otherwise be a 20,000-pixel, multi-megabyte image)
    scale = min(scale, 4000 / (max(scene.width, scene.height) * PX_PER_PT))
    f = PX_PER_PT * scale  # pixels per point
    pic_w, pic_h = scene.width * f, scene.height * f
    width = int(max(pic_w, 640 * scale)) + int(16 * scale)
    cap_font = _font(13 * scale)
    wrapped = _wrap_lines(lines, cap_font, width - 24 * scale)
    n_lines = max(len(wrapped), caption_lines or 0)
    line_h = 18 * scale
    height = int(pic_h + 16 * scale + n_lines * line_h + 12 * scale)
    image = PIL.Image.new("RGB", (width, height), "white")
    draw = PIL.ImageDraw.Draw(image)
    ox, oy = (width - pic_w) / 2, 8 * scale

    def xy(x: float, y: float) -> tuple[float, float]:
        return (ox + x * f, oy + y * f)

    used = set(frame.used_edges)
    for e in scene.edges:
        color, w = (_USED, 2.2) if e.id in used else ("#000000", 1.0)
        if e.bezier:
            draw.line([xy(*pt) for pt in _bezier_points(e.bezier)], fill=color,
                      width=max(1, round(w * f)), joint="curve")
        if e.arrow:
            draw.polygon([xy(*pt) for pt in e.arrow], fill=color, outline=color)
        if e.label and e.label_at:
            draw.text(xy(e.label_at[0], e.label_at[1] - 3), e.label, fill="black",
                      font=_font(EDGE_FONT * f), anchor="mm")
    for o in scene.ops:
        current = o.id == frame.current_op
        draw.ellipse([xy(o.cx - o.rx, o.cy - o.ry), xy(o.cx + o.rx, o.cy + o.ry)],
                     fill=_HIGHLIGHT_BG if current else "white",
                     outline=_HIGHLIGHT_BORDER if current else "black", width=max(1, round(f)))
        draw.text(xy(o.cx, o.cy), o.text, fill="black", font=_font(OP_FONT * f), anchor="mm")
    for b in scene.boxes:
        current = b.id == frame.current
        pending = b.id in frame.pending
        fill = _HIGHLIGHT_BG if current else _KIND_STYLE[b.kind]["bg"]
        draw.rectangle([xy(b.x, b.y), xy(b.x + b.w, b.y + b.h)], fill=fill)
        cx = b.x + b.w / 2
        for kind, top in _box_rows(b):
            mid = top + ROW / 2
            if kind == "label":
                draw.text(xy(cx, mid), b.label, fill="black", font=_font(FONT * f, True),
                          anchor="mm")
            else:
                value = b.data if kind == "data" else (b.grad or "")
                if pending and kind[0] == letter:
                    draw.rectangle([xy(b.x, top), xy(b.x + b.w, top + ROW)], fill=_PENDING_BG)
                    draw.text(xy(cx, mid), f"{kind} ?", fill=_PENDING_FG,
                              font=_font(FONT * f), anchor="mm")
                else:
                    draw.text(xy(cx, mid), value, fill="black", font=_font(FONT * f),
                              anchor="mm")
            if top > b.y + 1:
                draw.line([xy(b.x, top), xy(b.x + b.w, top)], fill="black",
                          width=max(1, round(0.6 * f)))
        border = 3.0 if current else (2.0 if b.root else 1.0)
        draw.rectangle([xy(b.x, b.y), xy(b.x + b.w, b.y + b.h)],
                       outline=_HIGHLIGHT_BORDER if current else "black",
                       width=max(1, round(border * f)))
    y = oy + pic_h + 8 * scale
    for k, line in enumerate(wrapped):
        draw.text((12 * scale, y + k * line_h), line, fill="black",
                  font=_font(13 * scale, bold=k == 0))
    return image


def _png_width(png: bytes) -> int:
    return int.from_bytes(png[16:20], "big")


def _pil() -> Any:
    try:
        import PIL.Image
        import PIL.ImageDraw  # noqa: F401
        import PIL.ImageFont  # noqa: F401
    except ImportError as err:
        raise ImportError(
            "PNG and GIF pictures of a stepper need Pillow: pip install pillow (it comes "
            "with matplotlib: pip install 'tinygrad_edu[plot]'). save_html needs nothing."
        ) from err
    import PIL

    return PIL


def _check_folder(path: str | os.PathLike[str], who: str) -> None:
    folder = Path(path).parent
    if not folder.is_dir():
        error = NotADirectoryError if folder.exists() else FileNotFoundError
        code = 20 if folder.exists() else 2  # ENOTDIR, ENOENT
        raise error(code, f"{who} cannot write {str(path)!r}: {str(folder)!r} is not a folder")


def _write_atomic(path: str | os.PathLike[str], content: bytes, who: str) -> Path:
    """Write ``content`` to ``path`` via a temporary file, so that a failure leaves no
    half-written file; an OSError names ``path``."""
    target = Path(path)
    folder = target.parent
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
        with os.fdopen(fd, "wb") as f:
            f.write(content)
        os.replace(tmp, target)
        tmp = None
    except OSError as err:
        raise type(err)(err.errno, f"{who} cannot write {str(target)!r}: "
                        f"{err.strerror or err}") from err
    finally:
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)
    return target


def _in_kernel() -> bool:
    """True inside a Jupyter kernel (where a widget can talk to the front end)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def _make_widget(stepper: Stepper) -> Any:
    try:
        import ipywidgets as w
    except ImportError as err:
        raise ImportError("the stepper widget needs ipywidgets: pip install ipywidgets") from err
    n = len(stepper)
    picture = w.HTML(value=stepper.frame_svg(0), layout=w.Layout(width="100%"))
    title = w.HTML()
    caption = w.HTML()
    slider = w.IntSlider(value=0, min=0, max=max(n - 1, 0), description="step",
                         continuous_update=True, readout=False,
                         layout=w.Layout(flex="1 1 auto", min_width="120px"))
    count = w.Label()
    prev = w.Button(description="Previous", icon="step-backward", tooltip="previous step",
                    layout=w.Layout(width="auto"))
    nxt = w.Button(description="Next", icon="step-forward", tooltip="next step",
                   layout=w.Layout(width="auto"))
    play = w.Play(value=0, min=0, max=max(n - 1, 0), interval=stepper.interval_ms,
                  description="Play", show_repeat=False)
    w.jslink((play, "value"), (slider, "value"))

    def show(change: Any = None) -> None:
        i = slider.value
        f = stepper.frames[i]
        picture.value = stepper.frame_svg(i)
        count.value = f"step {i + 1} of {n}"
        title.value = f"<b>{_esc(f.title)}</b>"
        caption.value = (f'<pre style="white-space: pre-wrap; overflow-wrap: anywhere; '
                         f'margin: 4px 0; font-size: 13px">{_esc(f.caption)}</pre>')

    prev.on_click(lambda _: setattr(slider, "value", max(slider.value - 1, 0)))
    nxt.on_click(lambda _: setattr(slider, "value", min(slider.value + 1, n - 1)))
    slider.observe(show, names="value")
    show()
    bar = w.HBox([prev, nxt, play, slider, count],
                 layout=w.Layout(flex_flow="row wrap", align_items="center"))
    return w.VBox([bar, title, caption, picture], layout=w.Layout(width="100%"))


_UI_TEMPLATE = """<style>#{p} .tge-bar{{display:flex;flex-wrap:wrap;gap:6px;align-items:center;\
margin:4px 0}}#{p} button{{font:inherit;padding:2px 10px;cursor:pointer}}\
#{p} input[type=range]{{flex:1 1 120px;min-width:80px;max-width:100%}}\
#{p} .tge-title{{font-weight:bold;margin:4px 0}}\
#{p} .tge-caption{{white-space:pre-wrap;overflow-wrap:anywhere;margin:4px 0 8px;\
font-size:14px;min-height:2.6em;font-family:ui-monospace,Menlo,Consolas,monospace}}</style>\
<div class="tge-bar"><button type="button" class="tge-prev">Previous</button>\
<button type="button" class="tge-next">Next</button>\
<button type="button" class="tge-play">Play</button>\
<input type="range" class="tge-slider" min="0" max="{last}" value="{start}" \
aria-label="step">\
<span class="tge-count" aria-live="polite">{count}</span></div>\
<div class="tge-title">{title}</div>\
<pre class="tge-caption" aria-live="polite">{caption}</pre>\
<div class="tge-picture">{svg}</div>"""

# Plain JavaScript, no libraries: swaps the frame's CSS, title and caption.
_SCRIPT = """(function () {
  var root = document.getElementById("__P__");
  if (!root || root.dataset.ready) return;
  root.dataset.ready = "1";
  var data = JSON.parse(root.querySelector(".tge-data").textContent);
  var still = root.querySelector(".tge-still");
  if (still) still.parentNode.removeChild(still);
  if (data.ui) {  // in a notebook the controls are built here, so sanitizers leave none
    var ui = document.createElement("div");
    ui.innerHTML = data.ui;
    root.appendChild(ui);
  }
  var style = root.querySelector("style.tge-frame");
  var slider = root.querySelector(".tge-slider");
  var play = root.querySelector(".tge-play");
  var n = data.css.length, i = +slider.value, timer = null;
  function show(k) {
    i = Math.max(0, Math.min(n - 1, k));
    style.textContent = data.css[i];
    slider.value = i;
    root.querySelector(".tge-count").textContent = "step " + (i + 1) + " of " + n;
    root.querySelector(".tge-title").textContent = data.title[i];
    root.querySelector(".tge-caption").textContent = data.caption[i];
  }
  function stop() { if (timer) { clearInterval(timer); timer = null; play.textContent = "Play"; } }
  root.querySelector(".tge-prev").addEventListener("click", function () { stop(); show(i - 1); });
  root.querySelector(".tge-next").addEventListener("click", function () { stop(); show(i + 1); });
  slider.addEventListener("input", function () { stop(); show(+slider.value); });
  play.addEventListener("click", function () {
    if (timer) { stop(); return; }
    if (i >= n - 1) show(0);
    play.textContent = "Pause";
    timer = setInterval(function () { if (i >= n - 1) stop(); else show(i + 1); }, data.interval);
  });
  function key(e) {
    if (e.target && e.target.tagName === "INPUT") return;  // the slider handles its own keys
    if (e.key === "ArrowRight") { stop(); show(i + 1); e.preventDefault(); }
    else if (e.key === "ArrowLeft") { stop(); show(i - 1); e.preventDefault(); }
  }
  (data.doc ? document : root).addEventListener("keydown", key);
})();"""
