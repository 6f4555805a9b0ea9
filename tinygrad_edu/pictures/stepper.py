"""Step through backpropagation (or the forward pass) on one fixed picture of the graph.

``step_through(root)`` (also ``tinygrad_edu.viz.step_through``) returns a :class:`Stepper`,
whose frames follow ``backward_steps(root)``: one frame per chain-rule step. Every frame is
the same picture (Graphviz lays the graph out once: every box keeps one size), so nothing
moves; a frame only changes what the boxes say and which are marked:

- the node of the step is orange, its op node and edges red;
- every grad shows its value so far from the moment it receives its first contribution
  (``grad 0.5 so far``, in italics) until it is final (``grad 0.5``); the grads this step adds
  to are highlighted; grads nothing has reached yet read a grey ``grad ?``;
- the caption is ``explain`` of the step: the arithmetic of the chain rule, one line per input.

A leaf passes nothing on, so it gets no frame of its own: the frame of the step that fills it
says that its grad is final (``fold_leaves=False`` keeps a frame per leaf). Unlabelled results
get made-up names (``x1·w1``, ``n``), the same in the boxes and in the captions.
``direction="forward"`` computes the values from the inputs to the output; ``"both"`` plays the
forward pass, then the backward pass, in one player. Steps are numbered from 1 everywhere,
``len(stepper)`` is the number of frames, and ``print(stepper)`` prints the walk as text.

The frames are played by the one player (``player.Player``): a widget in Jupyter,
``save_html(path)`` (offline, buttons "Previous", "Next", "Play") and ``save_gif(path)``.
The stepper reads the graph's numbers once, when it is made; it leaves every ``.grad`` as it
was.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from tinygrad_edu.engine import Constant, Value
from tinygrad_edu.explain import Names, explain, explain_forward
from tinygrad_edu.gradtools import backward_steps
from tinygrad_edu.pictures.graph import (
    GraphPicture,
    Look,
    caption_box,
    draw_pinned,
    fit_svg,
    layout_of,
    run_graphviz,
)
from tinygrad_edu.pictures.player import Player
from tinygrad_edu.pictures.style import number

__all__ = ["Stepper", "Frame", "step_through"]

_DIRECTIONS = ("backward", "forward", "both")
_GIF_DPI, _STILL_DPI = 110.0, 144.0
_WRAP = 100  # characters per caption line in PNG frames


@dataclass
class Frame:
    """One step: the node it is about, a one-line title, and the caption (explain's text)."""

    node: Value
    title: str
    caption: str
    look: Look = field(repr=False)


class Stepper(Player):
    """A walk through backward (or forward, or both) on ``root``'s graph; see the module text.

    ``len(stepper)`` is the number of frames, ``stepper.frames[i]`` a :class:`Frame` (``node``,
    ``title``, ``caption``). Show it in Jupyter as the last expression of a cell;
    ``save_html(path)``, ``save_gif(path)``, ``png(frame)`` and ``frame_svg(i)`` give it for
    elsewhere; ``str(stepper)`` is the walk as text.
    """

    unit = "step"
    still_ratio = _STILL_DPI / 96

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
        fold_leaves: bool = True,
    ) -> None:
        if not isinstance(root, Value):
            raise TypeError(
                f"step_through needs one Value (e.g. the loss), got {type(root).__name__}; "
                "for a model with several outputs step through each output, or their sum"
            )
        if not isinstance(direction, str) or direction not in _DIRECTIONS:
            raise ValueError("direction must be 'backward', 'forward' or 'both', got "
                             f"{type(direction).__name__} {direction!r}"[:200])
        if isinstance(interval_ms, bool) or not isinstance(interval_ms, int) or \
                not 50 <= interval_ms <= 60_000:
            raise ValueError(f"interval_ms must be an int from 50 to 60000, got "
                             f"{interval_ms!r}"[:200])
        if not isinstance(fold_leaves, bool):
            raise TypeError(f"fold_leaves must be True or False, got "
                            f"{type(fold_leaves).__name__}")
        self.root, self.direction, self.interval_ms = root, direction, interval_ms
        self.names = Names(root)
        self._picture = GraphPicture(root, params=params, max_nodes=max_nodes, digits=digits,
                                     show_grad=direction != "forward", rankdir=rankdir,
                                     names=self.names)
        nodes = self._picture.nodes
        self.frames: list[Frame] = []
        if direction != "backward":
            self.frames += _forward_frames(nodes, self.names, fold_leaves, direction == "both")
        if direction != "forward":
            self.frames += _backward_frames(root, nodes, self.names, fold_leaves,
                                            direction == "both")
        self._picture.fix_sizes(f.look for f in self.frames)
        self._svgs: list[str] | None = None
        self._pngs: dict[Any, bytes] = {}

    # ---- frames ------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.frames)

    def __repr__(self) -> str:
        return (f"<Stepper: {self.direction}, {len(self)} steps through the graph of "
                f"{self.names[self.root]}>")

    def __str__(self) -> str:
        """The walk as text: each step's number, title and caption."""
        return "\n".join(f"{self._count(i)}: {f.title}\n    " + f.caption.replace("\n", "\n    ")
                         for i, f in enumerate(self.frames))

    def titles(self) -> list[str]:
        return [f.title for f in self.frames]

    def captions(self) -> list[str]:
        return [f.caption for f in self.frames]

    def alt_text(self) -> str:
        return f"{self.direction} pass through {self.names[self.root]}, step by step"

    def frame_svg(self, i: int) -> str:
        """Frame ``i`` as SVG (drawn by Graphviz; every frame has the same layout)."""
        i = self._frame_index(i)
        if self._svgs is None:  # laid out once, then one run of Graphviz draws them all
            picture = self._picture
            layout = layout_of(picture.diagram(self.frames[0].look).source)
            sources = [picture.diagram(f.look, layout=layout).source for f in self.frames]
            self._svgs = _draw_frames(sources)
        return self._svgs[i]

    def picture(self, i: int) -> str:
        return self.frame_svg(i)

    # ---- raster images -----------------------------------------------------------------
    def _caption_lines(self) -> int:  # (the player's caption area: the longest caption)
        return max(f.caption.count("\n") + 1 for f in self.frames)

    def _png_lines(self, i: int) -> list[str]:
        f = self.frames[i]
        lines = [f"{self._count(i)}: {f.title}"]
        for line in f.caption.split("\n"):
            lines += textwrap.wrap(line, _WRAP, subsequent_indent="    ") or [""]
        return lines

    def frame_png(self, i: int) -> bytes:
        """Frame ``i`` as PNG, its title and caption below the picture (for the GIF)."""
        i = self._frame_index(i)
        if ("frame", i) not in self._pngs:
            captions = [self._png_lines(k) for k in range(len(self))]
            box = caption_box(captions)
            picture = self._picture
            layout = layout_of(picture.diagram(self.frames[0].look, captions[0], box).source)
            sources = [picture.diagram(f.look, captions[k], box, layout).source
                       for k, f in enumerate(self.frames)]
            dpi = _dpi(layout.graph["bb"], _GIF_DPI)
            for k, png in enumerate(draw_pinned(sources, "png", dpi=dpi)):
                self._pngs[("frame", k)] = png
        return self._pngs[("frame", i)]

    def still_png(self) -> bytes:
        """A still that sums the walk up: the last frame, every step's arithmetic below it."""
        if "still" not in self._pngs:
            last = self.frames[-1]
            lines = [f"{self.direction.capitalize()} pass, {len(self)} steps:"]
            for i, f in enumerate(self.frames):
                for k, line in enumerate(f.caption.split("\n")):
                    lines += textwrap.wrap(f"{i + 1}. {line}" if k == 0 else f"    {line}",
                                           _WRAP, subsequent_indent="       ") or [""]
            if len(lines) > 24:
                lines = lines[:23] + [f"… ({len(lines) - 23} more lines in the interactive "
                                      "stepper)"]
            look = Look(grads=last.look.grads, so_far=last.look.so_far)
            source = self._picture.diagram(look, lines).source
            dpi = _dpi(layout_of(source).graph["bb"], _STILL_DPI)
            self._pngs["still"] = run_graphviz([source], "png", dpi=dpi)[0]
        return self._pngs["still"]

    def png(self, frame: int | None = None) -> bytes:
        """A PNG of frame ``frame`` with its caption; ``None`` (default): a still that sums
        the walk up (the last frame, every step's arithmetic below it)."""
        return self.still_png() if frame is None else self.frame_png(frame)


def _dpi(bb: str, best: float) -> float:
    """``best``, or less for a picture that would be over 4000 pixels wide or tall."""
    width, height = (float(v) for v in bb.split(",")[2:])
    return max(min(best, 4000 / (max(width, height, 1.0) / 72)), 24.0)


def step_through(root: Value, direction: str = "backward", **options: Any) -> Stepper:
    """A :class:`Stepper` through backward (default), forward or both on ``root``'s graph."""
    return Stepper(root, direction=direction, **options)


# ---------------------------------------------------------------------------------------------
# The frames
# ---------------------------------------------------------------------------------------------
def _forward_frames(nodes: list[Value], names: Names, fold: bool, both: bool) -> list[Frame]:
    """One frame per computed value, inputs first (leaves are given, unless not folded)."""
    steps = [n for n in nodes if n.children or not fold] or nodes
    frames = []
    for k, node in enumerate(steps):
        look = Look(current=node, grads={} if both else None,
                    data_unknown=frozenset(steps[k + 1:]))
        title = f"{'forward: ' if both else ''}{names[node]} = {number(node.data)}"
        frames.append(Frame(node, title, explain_forward(node, names), look))
    return frames


def _walk(root: Value, nodes: list[Value], names: Names
          ) -> list[tuple[Value, str, dict[Value, float]]]:
    """Run ``backward_steps`` once: per step its node, explain's text, and its inputs' grads
    after the step. Leaves start from 0, so the walk shows its own gradients even after an
    earlier backward(); every grad is put back afterwards."""
    saved = [(node, node.grad) for node in nodes]
    steps: list[tuple[Value, str, dict[Value, float]]] = []
    try:
        for node in nodes:
            if not node.children:
                node.grad = 0.0
        for node in backward_steps(root):
            if steps:  # asking for this node ran the step before it
                prev = steps[-1][0]
                steps[-1][2].update((c, c.grad) for c in prev.children)
            steps.append((node, explain(node, names), {node: node.grad}))
        steps[-1][2].update((c, c.grad) for c in steps[-1][0].children)
    finally:
        for node, g in saved:
            node.grad = g
    return steps


def _backward_frames(root: Value, nodes: list[Value], names: Names, fold: bool,
                     both: bool) -> list[Frame]:
    """One frame per chain-rule step; every grad shown from its first contribution on."""
    steps = _walk(root, nodes, names)
    users = {node: 0 for node in nodes}  # steps still to add to each grad
    for node in nodes:
        for child in set(node.children):
            users[child] += not isinstance(child, Constant)
    known: dict[Value, float] = {n: 0.0 for n in nodes if isinstance(n, Constant)}
    known[root] = steps[0][2][root]
    fold = fold and any(node.children for node, _, _ in steps)  # (a lone leaf keeps its frame)
    frames = []
    for node, caption, after in steps:
        done = []  # leaves whose grad this step made final
        for child in dict.fromkeys(node.children):
            if isinstance(child, Constant):  # (a number in the formula gets no grad)
                continue
            known[child] = after[child]
            users[child] -= 1
            if users[child] == 0 and not child.children:
                done.append(child)
        if fold and not node.children:
            continue
        if fold and done:
            finals = " and ".join(f"{names.target(c)}.grad = {number(known[c])}" for c in done)
            caption += (f"\n{finals} {'is' if len(done) == 1 else 'are'} final: "
                        f"{'a leaf passes' if len(done) == 1 else 'leaves pass'} nothing on")
        title = f"{names.target(node)}.grad = {number(known[node])} is final"
        if node is root:
            me = names.grouped(node)
            title += f": backward starts here, ∂{me}/∂{me} = 1"
        changed = frozenset(c for c in node.children if not isinstance(c, Constant))
        look = Look(current=node, grads=dict(known), changed=changed,
                    so_far=frozenset(n for n in known if users[n] > 0))
        frames.append(Frame(node, ("backward: " if both else "") + title, caption, look))
    return frames


# ---------------------------------------------------------------------------------------------
# SVG frames: each distinct node and edge drawn once, frames put together from them
# ---------------------------------------------------------------------------------------------
_STATEMENT = re.compile(r"^\t(\S+)(?: -> (\S+))? \[")


def _draw_frames(sources: list[str]) -> list[str]:
    """The SVG of every frame. Frames differ in a few nodes and edges only, and every node
    and edge is pinned in place, so Graphviz draws each distinct statement (a node or edge
    line of the DOT text) once: in "variant" graphs that hold, per statement, its first,
    second, ... distinct text; a frame is then put together from the drawn pieces. A few
    runs of Graphviz instead of one per frame."""
    texts = [src.split("\n") for src in sources]
    choices = [list(dict.fromkeys(lines)) for lines in zip(*texts)]  # per line: its texts
    n_variants = max(len(c) for c in choices)
    variants = ["\n".join(c[min(v, len(c) - 1)] for c in choices) for v in range(n_variants)]
    drawn = [_pieces(svg.decode("utf-8")) for svg in draw_pinned(variants, "svg")]
    # (cleaned piece by piece: each distinct piece once, not once per frame)
    drawn = [(_clean_svg(head), {k: _tidy(piece) for k, piece in pieces.items()}, tail)
             for head, pieces, tail in drawn]
    keys: dict[int, tuple[str, int]] = {}  # statement line -> its piece of the SVG
    seen: dict[str, int] = {}
    for i, line in enumerate(texts[0]):
        m = _STATEMENT.match(line)
        if m:
            name = m.group(1) if m.group(2) is None else f"{m.group(1)}->{m.group(2)}"
            name = name.replace("-", "&#45;").replace(">", "&gt;")  # (as Graphviz writes it)
            keys[i] = (name, seen.get(name, 0))
            seen[name] = seen.get(name, 0) + 1
    head, order, tail = drawn[0][0], list(drawn[0][1]), drawn[0][2]
    line_of = {key: i for i, key in keys.items()}
    frames = []
    for lines in texts:
        parts = [head]
        for key in order:
            i = line_of[key]
            parts.append(drawn[choices[i].index(lines[i])][1][key])
        frames.append("".join(parts) + tail)
    return frames


def _pieces(svg: str) -> tuple[str, dict[tuple[str, int], str], str]:
    """Graphviz's SVG cut into its head, one piece per node or edge (keyed by the name in the
    comment before it, and how many came before under that name) and its tail."""
    start = svg.index('class="graph"')  # (the comments before it are the file's)
    chunks = re.split(r"(?m)^(?=<!-- .* -->$)", svg[start:])
    head, pieces, seen = svg[:start] + chunks[0], {}, {}
    last = chunks[-1]
    end = last.rindex("</g>\n</svg>")
    chunks[-1], tail = last[:end], last[end:]
    for chunk in chunks[1:]:
        name = chunk[5:chunk.index(" -->")]
        pieces[(name, seen.get(name, 0))] = chunk
        seen[name] = seen.get(name, 0) + 1
    return head, pieces, tail


# ---------------------------------------------------------------------------------------------
# SVG as the page shows it
# ---------------------------------------------------------------------------------------------
_DROP = re.compile(r"^(<!--.*-->|<title>.*</title>)$")
_SHAPE = re.compile(r'^<(?:polygon|ellipse) .*?(?:points="([^"]*)"|cx="([^"]*)")')
_START = re.compile(r'^(<text) text-anchor="start" x="[^"]*"')


def _clean_svg(svg: str) -> str:
    """Graphviz's SVG (or its head) for inline use: no XML prologue, comments or tooltips,
    texts centred (see ``_tidy``), made to shrink to the page's width."""
    return fit_svg(_tidy(svg[svg.index("<svg"):]))


def _tidy(svg: str) -> str:
    """SVG lines without comments and <title>s (tooltips), every text centred on the cell or
    ellipse drawn before it (Graphviz places text of HTML labels by its own font's widths,
    and a browser's font differs)."""
    lines, centre = [], None
    for line in svg.split("\n"):
        if _DROP.match(line):
            continue
        if 'class="graph"' in line:  # (its id differs between the graphs of one run)
            line = re.sub(r'^<g id="[^"]*" class="graph"', '<g class="graph"', line)
        shape = _SHAPE.match(line)
        if shape and shape.group(1):
            xs = [float(p.split(",")[0]) for p in shape.group(1).split()]
            centre = (min(xs) + max(xs)) / 2
        elif shape:
            centre = float(shape.group(2))
        elif centre is not None and _START.match(line):
            line = _START.sub(rf'\1 text-anchor="middle" x="{centre:g}"', line, count=1)
        lines.append(line)
    return "\n".join(lines)
