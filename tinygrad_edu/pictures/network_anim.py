"""``animate_network``: one training step on the network diagram, frame by frame.

The numbers come from :mod:`network_frames` (the engine, on a copy of the model). The picture
is ``draw_network``'s: its Graphviz layout (columns, "⋮ N more" for wide layers, titles) is
computed once with a loss box added after the output layer, and every frame redraws the same
positions with that frame's numbers and colours, so nothing moves. Every unit is a circle of
one size, big enough for the longest text a frame writes in a unit. Units are coloured as in
``draw_network(x=...)`` (orange > 0, blue < 0, grey exactly 0), edges as its weights (the
same: orange > 0, blue < 0, thicker = larger). The caption sits inside the picture, in an
area as tall as the longest caption, so the player never changes height.

A frame is a list of shapes (lines, circles, boxes, texts); shapes that several frames share
are written once. The SVG holds every shape, each tagged with the frames it belongs to, and a
frame is one CSS rule that shows them: the stepper's player (``tinygrad_edu.stepper``) plays
it in HTML and its widget in Jupyter; Pillow draws the same shapes for PNG and GIF.
"""

from __future__ import annotations

import io
import json
import math
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from tinygrad_edu import dot_backend
from tinygrad_edu.engine import Value
from tinygrad_edu.pictures.graph import check_digits, draw_network, layers_of, shown_units
from tinygrad_edu.pictures.network_frames import (
    NetworkFrame,
    Unit,
    network_frames,
    step_numbers,
)
from tinygrad_edu.pictures.player import Player
from tinygrad_edu.pictures.style import (
    FONT_FAMILY,
    NEGATIVE_EDGE,
    OFF,
    POSITIVE_EDGE,
    PX_PER_PT,
    esc,
    mix,
    rgb,
    text_width,
    value_color,
)

__all__ = ["NetworkAnimation", "animate_network"]

_POSITIVE, _NEGATIVE = rgb(POSITIVE_EDGE), rgb(NEGATIVE_EDGE)  # draw_network's edges
_WHITE = (255, 255, 255)
_CURRENT = "#d62728"  # border of the units computed in this frame
_PENDING = "#f2f2f2"
_MIN_WIDTH = 600.0  # points: room for two lines of caption on any network
_CAPTION_FONT, _TITLE_FONT, _LINE = 11.5, 12.5, 16.0
_NOTE_FONT, _VALUE_FONT = 9.0, 10.0  # a unit's two lines: its note, then its number
_MIN_RADIUS = 27.0  # points: draw_network's circles (0.75 inch)


# ---------------------------------------------------------------------------------------------
# Shapes: what a frame is made of (points, y down), drawn to SVG and with Pillow
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Shape:
    kind: str  # "line", "circle", "box", "text"
    geometry: tuple[float, ...]  # line x1 y1 x2 y2 [arrow points]; circle cx cy r; box x y w h
    fill: str = "none"
    stroke: str = "none"
    width: float = 1.0
    text: str = ""
    size: float = 10.0
    bold: bool = False
    anchor: str = "middle"  # "middle" or "start"
    dashed: bool = False


def _wrap(text: str, size: float, width: float) -> list[str]:
    """``text`` in lines no wider than ``width`` points (estimated Helvetica widths)."""
    lines, line = [], ""
    for word in text.split(" "):
        trial = f"{line} {word}" if line else word
        # 18% spare: the browser may fall back to a font wider than Helvetica (DejaVu Sans)
        if line and text_width(trial, size) * 1.18 > width:
            lines.append(line)
            line = word
        else:
            line = trial
    return lines + [line]


# ---------------------------------------------------------------------------------------------
# The layout: draw_network's, once, plus a loss box after the output layer
# ---------------------------------------------------------------------------------------------
@dataclass
class _Layout:
    width: float
    height: float
    units: dict[tuple[int, int], tuple[float, float, float]]  # (column, unit) -> cx, cy, r
    edges: dict[tuple[int, int, int], tuple[tuple[float, ...], tuple[float, float] | None]]
    loss: tuple[float, float, float, float]  # x, y, w, h of the loss box
    loss_edges: list[tuple[float, ...]]
    fixed: list[_Shape]  # titles, "⋮ N more" notes and their dashed edges


def _points(ops: list[dict[str, Any]], kind: str) -> list[tuple[float, float]]:
    for op in ops:
        if op["op"] in kind:
            return [tuple(p) for p in op["points"]]  # type: ignore[misc]
    return []


def _unit_radius(frames: Sequence[NetworkFrame]) -> float:
    """One radius (points) for every unit: the widest note or number of any frame fits."""
    widest = max((max(text_width(u.note, _NOTE_FONT),
                      text_width(u.text or "?", _VALUE_FONT, bold=True))
                  for f in frames for column in f.units for u in column), default=0.0)
    # the two lines sit 7 points above and below the centre: 12 points out, each must fit
    return max(_MIN_RADIUS, math.hypot(widest * 1.18 / 2 + 3.0, 12.0))


def _layout(model: Any, x: Any, labelled: bool, max_neurons: int, input_labels: Any,
            output_labels: Any, digits: int, rankdir: str = "LR",
            radius: float = _MIN_RADIUS) -> _Layout:
    # every circle the one size the frames need (not sized to draw_network's own labels,
    # which the frames do not show), so the edges end on the circles drawn
    dot = draw_network(model, x=x, show_weights=labelled, max_neurons=max_neurons,
                       rankdir=rankdir, input_labels=input_labels, output_labels=output_labels,
                       digits=digits, unit_size=2 * radius / 72)
    if rankdir == "TB" and not labelled:
        dot.graph_attr["ranksep"] = "0.45"  # rows closer: a wide network stays short
    n_layers = len(layers_of(model))
    with dot.subgraph(name="col_loss") as sub:
        sub.attr(rank="same")
        sub.node("loss_title", label="<loss>", shape="plaintext", fontsize="11")
        sub.node("loss", label="<new loss<br/><b>0.000</b>>", shape="box", width="0.8",
                 height="0.6")
        sub.edge("loss_title", "loss", style="invis")
    dot.edge(f"L{n_layers}_title", "loss_title", style="invis", weight="100")
    shown, _ = shown_units(len(layers_of(model)[-1]), max_neurons)  # draw_network's choice
    for j in shown:
        dot.edge(f"L{n_layers}_{j}", "loss", style="dashed", color="#bbbbbb")
    layout = json.loads(dot_backend.render(dot.source, "json"))
    x0, y0, x1, y1 = (float(v) for v in layout["bb"].split(","))
    # Columns closer than draw_network's when the picture is wider than _MIN_WIDTH (it
    # shrinks to the page, and its text with it): one more layout with the gaps narrowed.
    ranksep = float(dot.graph_attr["ranksep"])
    narrower = ranksep - (x1 - x0 - _MIN_WIDTH) / 72 / (n_layers + 1)
    if narrower < ranksep and rankdir == "LR":
        dot.graph_attr["ranksep"] = f"{max(narrower, 0.9 if labelled else 0.5):.2f}"
        layout = json.loads(dot_backend.render(dot.source, "json"))
        x0, y0, x1, y1 = (float(v) for v in layout["bb"].split(","))
    top = 4.0

    def pt(p: Sequence[float]) -> tuple[float, float]:  # Graphviz's y points up
        return (float(p[0]) - x0 + 4.0, y1 - float(p[1]) + top)

    names: dict[int, str] = {}
    units: dict[tuple[int, int], tuple[float, float, float]] = {}
    fixed: list[_Shape] = []
    loss = (0.0, 0.0, 0.0, 0.0)
    for obj in layout.get("objects", []):
        if "pos" not in obj:
            continue
        name = obj["name"]
        names[obj["_gvid"]] = name
        cx, cy = pt([float(v) for v in obj["pos"].split(",")])
        col, _, rest = name.partition("_")
        if rest.isdigit() and col != "loss":
            k = 0 if col == "in" else int(col[1:])
            units[(k, int(rest))] = (cx, cy, radius)
        elif name == "loss":
            w, h = float(obj["width"]) * 72, float(obj["height"]) * 72
            loss = (cx - w / 2, cy - h / 2, w, h)
        else:  # a column title or a "⋮ N more" note: draw_network's text, as it is
            size = 10.0
            for op in obj.get("_ldraw_", []):
                if op["op"] == "F":
                    size = float(op["size"])
                elif op["op"] == "T":
                    tx, ty = pt(op["pt"])
                    fixed.append(_Shape("text", (tx + float(op["width"]) / 2, ty - size / 3),
                                        fill="#333333", text=op["text"], size=size,
                                        bold=name.endswith("_title")))
    edges: dict[tuple[int, int, int], tuple[tuple[float, ...], tuple[float, float] | None]] = {}
    loss_edges: list[tuple[float, ...]] = []
    for e in layout.get("edges", []):
        tail, head = names.get(e["tail"], ""), names.get(e["head"], "")
        line = _points(e.get("_draw_", []), "b")
        if not line or tail.endswith("_title"):
            continue
        arrow = _points(e.get("_hdraw_", []), "Pp")
        geometry = (*pt(line[0]), *pt(line[-1]), *(c for p in arrow for c in pt(p)))
        if head == "loss":
            loss_edges.append(geometry)
            continue
        t_col, _, t_i = tail.partition("_")
        h_col, _, h_j = head.partition("_")
        if not (t_i.isdigit() and h_j.isdigit()):  # to or from a "⋮ N more" note
            fixed.append(_Shape("line", geometry, stroke="#bbbbbb", dashed=True))
            continue
        label = pt([float(v) for v in e["head_lp"].split(",")]) if "head_lp" in e else None
        edges[(int(h_col[1:]), int(h_j), int(t_i))] = (geometry, label)
    return _Layout(x1 - x0 + 8.0, y1 - y0 + top + 4.0, units, edges, loss, loss_edges, fixed)


# ---------------------------------------------------------------------------------------------
# One frame as shapes
# ---------------------------------------------------------------------------------------------
def _unit_fill(u: Unit) -> str:
    if u.tint is None:
        return _PENDING
    fill = value_color(u.tint, 1.0)
    if u.faded and fill != OFF:
        return mix(_WHITE, rgb(fill), 0.35)
    return fill


def _edge_style(tint: float, current: bool, faded: bool) -> tuple[str, float]:
    t = min(abs(tint), 1.0)
    base = _POSITIVE if tint >= 0 else _NEGATIVE
    if faded and not current:
        return mix(_WHITE, base, 0.12 + 0.3 * t), 0.4 + 1.2 * t
    return mix(_WHITE, base, 0.25 + 0.75 * t), 0.4 + 3.6 * t


def _frame_shapes(lay: _Layout, frame: NetworkFrame, labelled: bool, dx: float,
                  caption_top: float, width: float) -> list[_Shape]:
    shapes: list[_Shape] = []
    labels: list[_Shape] = []
    for (k, j, i), (geometry, at) in lay.edges.items():
        edge = frame.edges[k - 1][j][i]
        stroke, w = _edge_style(edge.tint, edge.current, edge.faded)
        moved = tuple(v + dx if n % 2 == 0 else v for n, v in enumerate(geometry))
        shapes.append(_Shape("line", moved, stroke=stroke, width=w))
        if labelled and at is not None:
            colour = mix(_WHITE, _POSITIVE if edge.tint >= 0 else _NEGATIVE, 1.0 if not edge.faded
                          else 0.45)
            labels.append(_Shape("text", (at[0] + dx, at[1]), fill=colour, text=edge.text,
                                 size=8.0, stroke="white"))
    for geometry in lay.loss_edges:
        moved = tuple(v + dx if n % 2 == 0 else v for n, v in enumerate(geometry))
        shapes.append(_Shape("line", moved, stroke="#bbbbbb", dashed=True))
    shapes.extend(labels)
    for (k, j), (cx, cy, r) in lay.units.items():
        u = frame.units[k][j]
        border = _CURRENT if u.current else ("#999999" if u.faded else "#333333")
        shapes.append(_Shape("circle", (cx + dx, cy, r), fill=_unit_fill(u), stroke=border,
                             width=2.5 if u.current else 1.0))
        ink = "#888888" if u.faded or u.text is None else "#000000"
        shapes.append(_Shape("text", (cx + dx, cy - 7), fill=ink, text=u.note,
                             size=_NOTE_FONT))
        shapes.append(_Shape("text", (cx + dx, cy + 7), fill=ink, text=u.text or "?",
                             size=_VALUE_FONT, bold=u.text is not None))
    bx, by, bw, bh = lay.loss
    u = frame.loss
    shapes.append(_Shape("box", (bx + dx, by, bw, bh), fill="#fde0c5" if u.text and not u.faded
                         else "#ffffff", stroke=_CURRENT if u.current else "#333333",
                         width=2.5 if u.current else 1.0))
    ink = "#000000" if u.text and not u.faded else "#888888"
    shapes.append(_Shape("text", (bx + dx + bw / 2, by + bh / 2 - 7), fill=ink, text=u.note,
                         size=9.0))
    shapes.append(_Shape("text", (bx + dx + bw / 2, by + bh / 2 + 7), fill=ink,
                         text=u.text or "?", size=10.0, bold=bool(u.text)))
    y = caption_top + _LINE / 2
    shapes.append(_Shape("text", (8.0, y), fill="#000000", text=frame.title,
                         size=_TITLE_FONT, bold=True, anchor="start"))
    for para in frame.caption:
        for line in _wrap(para, _CAPTION_FONT, width - 16):
            y += _LINE
            shapes.append(_Shape("text", (8.0, y), fill="#222222", text=line,
                                 size=_CAPTION_FONT, anchor="start"))
    return shapes


def _caption_lines(frame: NetworkFrame, width: float) -> int:
    return 1 + sum(len(_wrap(p, _CAPTION_FONT, width - 16)) for p in frame.caption)


# ---------------------------------------------------------------------------------------------
# SVG and Pillow
# ---------------------------------------------------------------------------------------------
def _svg_shape(s: _Shape, cls: str) -> str:
    c = f' class="{cls}"' if cls else ""
    g = s.geometry
    if s.kind == "line":
        dash = ' stroke-dasharray="4,3"' if s.dashed else ""
        out = (f'<line{c} x1="{g[0]:.1f}" y1="{g[1]:.1f}" x2="{g[2]:.1f}" y2="{g[3]:.1f}" '
               f'stroke="{s.stroke}" stroke-width="{s.width:.2f}"{dash}/>')
        if len(g) > 4:  # the arrowhead
            pts = " ".join(f"{g[n]:.1f},{g[n + 1]:.1f}" for n in range(4, len(g), 2))
            out += f'<polygon{c} points="{pts}" fill="{s.stroke}" stroke="{s.stroke}"/>'
        return out
    if s.kind == "circle":
        return (f'<circle{c} cx="{g[0]:.1f}" cy="{g[1]:.1f}" r="{g[2]:.1f}" fill="{s.fill}" '
                f'stroke="{s.stroke}" stroke-width="{s.width:.1f}"/>')
    if s.kind == "box":
        return (f'<rect{c} x="{g[0]:.1f}" y="{g[1]:.1f}" width="{g[2]:.1f}" '
                f'height="{g[3]:.1f}" rx="6" fill="{s.fill}" stroke="{s.stroke}" '
                f'stroke-width="{s.width:.1f}"/>')
    halo = (' paint-order="stroke" stroke="white" stroke-width="3"'
            if s.stroke == "white" else "")
    weight = ' font-weight="bold"' if s.bold else ""
    return (f'<text{c} x="{g[0]:.1f}" y="{g[1]:.1f}" font-size="{s.size:g}" '
            f'text-anchor="{s.anchor}" fill="{s.fill}"{weight}{halo}>{esc(s.text)}</text>')


def _draw(image: Any, shapes: Sequence[_Shape], f: float) -> None:
    """Draw ``shapes`` on a Pillow image, ``f`` pixels per point."""
    draw = _pil().ImageDraw.Draw(image)
    for s in shapes:
        g = [v * f for v in s.geometry]
        if s.kind == "line":
            width = max(1, round(s.width * f))
            if s.dashed:
                n = max(int(math.dist(g[0:2], g[2:4]) / (7 * f)), 1)
                for k in range(n):
                    a, b = k / n, (k + 4 / 7) / n
                    draw.line([g[0] + (g[2] - g[0]) * a, g[1] + (g[3] - g[1]) * a,
                               g[0] + (g[2] - g[0]) * b, g[1] + (g[3] - g[1]) * b],
                              fill=s.stroke, width=width)
            else:
                draw.line(g[:4], fill=s.stroke, width=width)
            if len(g) > 4:
                draw.polygon(g[4:], fill=s.stroke, outline=s.stroke)
        elif s.kind == "circle":
            draw.ellipse([g[0] - g[2], g[1] - g[2], g[0] + g[2], g[1] + g[2]], fill=s.fill,
                         outline=s.stroke, width=max(1, round(s.width * f)))
        elif s.kind == "box":
            draw.rounded_rectangle([g[0], g[1], g[0] + g[2], g[1] + g[3]], radius=6 * f,
                                   fill=s.fill, outline=s.stroke,
                                   width=max(1, round(s.width * f)))
        else:
            font = _font(s.size * f, s.bold)
            text = s.text.replace("⋮", "…")  # Liberation Sans has no vertical ellipsis
            anchor = "mm" if s.anchor == "middle" else "lm"
            if s.stroke == "white":
                draw.text((g[0], g[1]), text, fill=s.fill, font=font, anchor=anchor,
                          stroke_width=max(1, round(1.5 * f)), stroke_fill="white")
            else:
                draw.text((g[0], g[1]), text, fill=s.fill, font=font, anchor=anchor)


# ---------------------------------------------------------------------------------------------
# The animation
# ---------------------------------------------------------------------------------------------
class NetworkAnimation(Player):
    """One training step of ``model`` on ``(x, target)``, frame by frame; see the module doc.

    ``len(anim)`` frames; ``anim.frames[i]`` is a :class:`NetworkFrame` (``phase``, ``title``,
    ``caption``, per-unit and per-edge numbers); ``anim.numbers`` the step's numbers. The
    one player (pictures/player.py) shows it: a widget in Jupyter, ``save_html(path)``,
    ``save_gif(path)``; ``png(i)`` and ``frame_svg(i)`` give one frame. The title and caption
    are drawn in the picture, so the player's own text rows stay empty.
    """

    unit = "step"
    still_ratio = 1.5  # the still and the GIF frames are drawn at 1.5x

    def __init__(self, model: Any, x: Any, target: Any,
                 loss: Callable[[Any, Any], Value] | None = None, lr: float = 0.1, *,
                 input_labels: Sequence[str] | None = None,
                 output_labels: Sequence[str] | None = None, max_neurons: int = 8,
                 edge_labels: bool | None = None, digits: int = 2,
                 interval_ms: int = 1800, rankdir: str = "LR") -> None:
        check_digits(digits)
        if rankdir not in ("LR", "TB"):
            raise ValueError(f'rankdir must be "LR" (layers left to right) or "TB" (top to '
                             f'bottom), got {rankdir!r}')
        if isinstance(interval_ms, bool) or not isinstance(interval_ms, int) or interval_ms < 50:
            raise ValueError(f"interval_ms must be an int >= 50, got {interval_ms!r}")
        self.numbers = step_numbers(model, x, target, loss, lr)
        names = list(input_labels) if input_labels is not None else None
        outs = list(output_labels) if output_labels is not None else None
        sizes = [len(self.numbers.x)] + [len(row) for row in self.numbers.out]
        visible = [shown_units(m, max_neurons)[0] for m in sizes]  # as draw_network draws them
        self.frames: list[NetworkFrame] = network_frames(self.numbers, names, digits, outs,
                                                         visible)
        if edge_labels is None:  # numbers on the edges only where they can be read
            edge_labels = max(a * b for a, b in zip(sizes, sizes[1:])) <= 12
        self.interval_ms = interval_ms
        lay = _layout(model, x, bool(edge_labels), max_neurons, input_labels, output_labels,
                      digits, rankdir, _unit_radius(self.frames))
        width = max(lay.width, _MIN_WIDTH)
        dx = (width - lay.width) / 2
        lines = max(_caption_lines(f, width) for f in self.frames)
        self.width, self.height = width, lay.height + 10 + lines * _LINE + 10
        per_frame = [lay.fixed + _frame_shapes(lay, f, bool(edge_labels), dx, lay.height + 6,
                                               width)
                     for f in self.frames]
        # each distinct shape once, with the frames it appears in (in drawing order)
        self._shapes: dict[_Shape, list[int]] = {}
        for i, shapes in enumerate(per_frame):
            for s in shapes:
                self._shapes.setdefault(s, []).append(i)
        self._order = _drawing_order(per_frame)
        self._prefix = "tgn" + secrets.token_hex(4)

    # ---- frames ------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.frames)

    def __repr__(self) -> str:
        n = self.numbers
        sizes = " → ".join(str(v) for v in [len(n.x)] + [len(r) for r in n.out])
        return (f"<NetworkAnimation: one step of a {sizes} network, {len(self)} frames, "
                f"loss {n.loss:.4g} → {n.loss_after:.4g}>")

    # ---- what the player shows ---------------------------------------------------------
    def picture(self, i: int) -> str:
        return self.frame_svg(i)

    def frame_png(self, i: int) -> bytes:
        return self.png(i)

    def still_png(self) -> bytes:
        return self.png()

    def titles(self) -> list[str]:
        return [""] * len(self)

    def alt_text(self) -> str:
        return " | ".join(f.title for f in self.frames)

    def shapes(self, i: int) -> list[_Shape]:
        """What frame ``i`` draws, in drawing order."""
        i = self._frame_index(i)
        return [s for s in self._order if i in self._shapes[s]]

    def _svg(self) -> str:
        p, everywhere = self._prefix, len(self)
        out = [
            f'<svg xmlns="http://www.w3.org/2000/svg" id="{p}-svg" '
            f'viewBox="0 0 {self.width:.1f} {self.height:.1f}" '
            f'width="{self.width * PX_PER_PT:.0f}px" height="{self.height * PX_PER_PT:.0f}px" '
            'style="max-width: 100%; height: auto; display: block" role="img" '
            'aria-label="one training step on the network diagram">',
            f"<style>#{p}-svg text{{font-family:{FONT_FAMILY};dominant-baseline:central}}"
            f"#{p}-svg .v{{display:none}}</style>",
            '<style class="tge-frame">{FRAME_CSS}</style>',
            f'<rect width="{self.width:.1f}" height="{self.height:.1f}" fill="white"/>',
        ]
        for s in self._order:
            frames = self._shapes[s]
            cls = "" if len(frames) == everywhere else "v " + " ".join(f"f{i}" for i in frames)
            out.append(_svg_shape(s, cls))
        out.append("</svg>")
        return "\n".join(out)  # a line per shape: frames differ in the one style line

    def frame_css(self, i: int) -> str:
        """The CSS that turns the one SVG into frame ``i``."""
        return f"#{self._prefix}-svg .f{self._frame_index(i)}{{display:inline}}"

    def frame_svg(self, i: int) -> str:
        """Frame ``i`` as SVG."""
        if not hasattr(self, "_svg_text"):
            self._svg_text = self._svg()
        return self._svg_text.replace("{FRAME_CSS}", self.frame_css(i), 1)

    # ---- raster images -------------------------------------------------------------------
    def image(self, i: int, scale: float = 1.5) -> Any:
        """Frame ``i`` as a Pillow image (``scale`` x the SVG's pixel size)."""
        f = PX_PER_PT * scale
        img = _pil().Image.new("RGB", (round(self.width * f), round(self.height * f)), "white")
        _draw(img, self.shapes(i), f)
        return img

    def png(self, frame: int | None = None, scale: float = 1.5) -> bytes:
        """Frame ``frame`` as PNG bytes; ``None``: the frame after the whole backward pass."""
        i = len(self) - 2 if frame is None else frame
        buf = io.BytesIO()
        self.image(i, scale).save(buf, format="PNG")
        return buf.getvalue()


_FONT_FILES = {
    False: ["/usr/share/fonts/truetype/liberation2/LiberationSans-Regular.ttf",
            "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
            "/Library/Fonts/Arial.ttf", "C:/Windows/Fonts/arial.ttf", "DejaVuSans.ttf"],
    True: ["/usr/share/fonts/truetype/liberation2/LiberationSans-Bold.ttf",
           "/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf",
           "/Library/Fonts/Arial Bold.ttf", "C:/Windows/Fonts/arialbd.ttf",
           "DejaVuSans-Bold.ttf"],
}
_fonts: dict[tuple[bool, int], Any] = {}


def _pil() -> Any:
    try:
        import PIL.Image
        import PIL.ImageDraw
        import PIL.ImageFont  # noqa: F401
    except ImportError as err:
        raise ImportError("PNG and GIF pictures of the network animation need Pillow: pip "
                          "install pillow (it comes with matplotlib). save_html needs "
                          "nothing.") from err
    return PIL


def _font(size: float, bold: bool = False) -> Any:
    """A Helvetica-like TrueType font (Liberation Sans, Arial, DejaVu), else Pillow's own."""
    key = (bold, max(round(size), 1))
    if key not in _fonts:
        font_mod = _pil().ImageFont
        for file in _FONT_FILES[bold]:
            try:
                _fonts[key] = font_mod.truetype(file, key[1])
                break
            except OSError:
                continue
        else:
            _fonts[key] = font_mod.load_default()
    return _fonts[key]


def _drawing_order(per_frame: list[list[_Shape]]) -> list[_Shape]:
    """All shapes once, keeping each frame's order: edges, then labels, units, texts."""
    rank = {"line": 0, "box": 1, "circle": 1, "text": 2}
    seen: dict[_Shape, tuple[int, int]] = {}
    for shapes in per_frame:
        for n, s in enumerate(shapes):
            seen.setdefault(s, (rank[s.kind], n))
    return sorted(seen, key=lambda s: seen[s])


def animate_network(model: Any, x: Any, target: Any,
                    loss: Callable[[Any, Any], Value] | None = None, lr: float = 0.1,
                    **options: Any) -> NetworkAnimation:
    """One training step of ``model`` on input ``x`` with ``target``, on the network diagram:
    forward layer by layer (each unit's value, which neurons fire), the loss, backward layer
    by layer (each unit's ∂L/∂z, each edge's ∂L/∂w), then the update ``−lr · ∂L/∂w``.

    ``loss`` is a loss of ``tinygrad_edu.losses`` (``loss([output], [target])``); ``None``
    picks cross-entropy for several linear outputs (``target`` a class number), binary
    cross-entropy for one sigmoid output and mean squared error otherwise. The model's
    weights and grads are left as they were (the step runs on a copy). Options:
    ``input_labels``, ``output_labels``, ``max_neurons`` (wider layers show "⋮ N more"),
    ``edge_labels`` (numbers on the edges; default: for small layers), ``digits``,
    ``interval_ms``, ``rankdir`` (``"LR"``: layers left to right; ``"TB"``: top to bottom,
    for a wide layer such as ten outputs, which then fit a screen's height).
    """
    return NetworkAnimation(model, x, target, loss, lr, **options)
