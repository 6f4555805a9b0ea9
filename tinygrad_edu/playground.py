"""A playground you train live, in the spirit of TensorFlow Playground, in your own notebook.

::

    pg = Playground(data="moons", hidden=[8, 8], activation="tanh", lr=0.03)
    pg              # in Jupyter: Train / Pause / Step / Reset and the pictures, live
    pg.step(100)    # or drive it from Python: 100 training steps
    pg.history[-1]  # the loss of the last step's batch
    pg.set(lr=1.0)  # change one thing (what must restart, restarts)

The task is always two classes in the plane: class 1 ("pass", green) and class 0 ("fail",
red). The model is ``MLP(2, hidden + [1])`` with a linear output (a logit; class 1 where it is
> 0) trained with ``binary_cross_entropy_with_logits``. One step is one (mini-)batch:
``batch_size=None`` uses all points (gradient descent), ``1`` one point (SGD), ``k`` k points;
the points are dealt in a shuffled order that is reshuffled after each pass (epoch).

The pictures need no matplotlib: the decision boundary, each hidden unit's output over the
plane (its "neuron map", coloured the same way: green towards high, red towards low) and the
loss curve are small PNGs written in pure Python and an SVG. With ``anywidget`` (the
``notebooks`` extra) the playground is a live widget; without it, a static picture.
"""

from __future__ import annotations

import base64
import math
import random
import struct
import time
import zlib
from collections.abc import Callable, Sequence
from numbers import Integral, Real
from typing import Any

from tinygrad_edu.compile import compile_step
from tinygrad_edu.data import (
    make_blobs,
    make_circles,
    make_moons,
    make_pass_fail,
    make_spiral,
    make_xor,
    standardize,
)
from tinygrad_edu.engine import Value
from tinygrad_edu.grad_mode import no_grad
from tinygrad_edu.losses import binary_cross_entropy_with_logits
from tinygrad_edu.nn import ACTIVATIONS, MLP
from tinygrad_edu.optim import SGD, Adam
from tinygrad_edu.pictures.player import widget_bundle
from tinygrad_edu.pictures.style import FAIL, PASS, rgb
from tinygrad_edu.train import _in_jupyter

try:  # the live widget; without it the playground shows a static picture
    import anywidget
    import traitlets
except ImportError:  # pragma: no cover - exercised where anywidget is not installed
    anywidget = None
    traitlets = None

__all__ = ["Playground", "DATASETS", "OPTIMIZERS"]


def _pass_fail(n: int, noise: float, seed: int) -> tuple[list[list[float]], list[int]]:
    X, y = make_pass_fail(n, noise=10 * noise, seed=seed)  # noise 0.1 ~ the usual 1 mark
    return standardize(X)[0], y  # lectures (0-10) and marks (0-8) on one scale


#: name -> function(n, noise, seed) giving (X, y) with labels 0 and 1
DATASETS: dict[str, Callable[[int, float, int], tuple[list[list[float]], list[int]]]] = {
    "moons": lambda n, noise, seed: make_moons(n, noise, seed),
    "circles": lambda n, noise, seed: make_circles(n, noise, seed=seed),
    "xor": lambda n, noise, seed: make_xor(n, noise, seed),
    "spiral": lambda n, noise, seed: make_spiral(n // 2, 2, 2 * noise, seed),
    "blobs": lambda n, noise, seed: make_blobs(n, 2, 0.3 + 5 * noise, seed),
    "pass_fail": _pass_fail,
}
#: name -> function(params, lr) giving the optimizer
OPTIMIZERS: dict[str, Callable[[list[Value], float], Any]] = {
    "sgd": lambda params, lr: SGD(params, lr),
    "momentum": lambda params, lr: SGD(params, lr, momentum=0.9),
    "adam": lambda params, lr: Adam(params, lr),
}

# Same meaning as the notebooks' pass/fail pictures (tinygrad_edu.plot): green = class 1.
_PASS, _FAIL = rgb(PASS), rgb(FAIL)
_WHITE = (255, 255, 255)

_DEFAULTS: dict[str, Any] = {"data": "moons", "hidden": [8, 8], "activation": "tanh",
                             "lr": 0.03, "batch_size": 10, "optimizer": "sgd", "noise": 0.1,
                             "seed": 0, "n": 200}
# what a change of each option restarts: the data (and so the model) or only the model
_NEW_DATA = {"data", "noise", "n", "seed"}
_NEW_MODEL = {"hidden", "activation"}


# ---------------------------------------------------------------------------------------------
# Options: each checked with a message that says what to pass instead
# ---------------------------------------------------------------------------------------------
def _choice(value: Any, name: str, choices: Sequence[str]) -> str:
    if value not in choices:
        raise ValueError(f"Playground: {name} must be one of {', '.join(map(repr, choices))}, "
                         f"got {value!r}")
    return str(value)


def _positive_number(value: Any, name: str, low: float = 0.0, high: float = math.inf,
                     low_ok: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(value):
        raise TypeError(f"Playground: {name} must be a number, got {value!r}")
    v = float(value)
    if not (low <= v if low_ok else low < v) or v > high:
        lo = ">=" if low_ok else ">"
        raise ValueError(f"Playground: {name} must be {lo} {low:g} and <= {high:g}, got {v!r}")
    return v


def _whole(value: Any, name: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, Integral) or not low <= value <= high:
        raise ValueError(f"Playground: {name} must be a whole number from {low} to {high}, "
                         f"got {value!r}")
    return int(value)


def _hidden(value: Any) -> list[int]:
    if isinstance(value, Integral) and not isinstance(value, bool):
        value = [value]
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise TypeError(f"Playground: hidden must be a list of layer sizes such as [8, 8] "
                        f"([] for none), got {value!r}")
    sizes = [_whole(v, f"hidden[{i}] (units in hidden layer {i + 1})", 1, 32)
             for i, v in enumerate(value)]
    if len(sizes) > 6:
        raise ValueError(f"Playground: at most 6 hidden layers, got {len(sizes)}")
    return sizes


def _checked(options: dict[str, Any]) -> dict[str, Any]:
    out = dict(options)
    out["data"] = _choice(out["data"], "data", list(DATASETS))
    out["hidden"] = _hidden(out["hidden"])
    out["activation"] = _choice(out["activation"], "activation", list(ACTIVATIONS))
    out["lr"] = _positive_number(out["lr"], "lr (the learning rate)", high=100.0)
    out["n"] = _whole(out["n"], "n (the number of points)", 4, 2000)
    if out["batch_size"] is not None:
        out["batch_size"] = _whole(out["batch_size"], "batch_size (None for all points)", 1,
                                   out["n"])
    out["optimizer"] = _choice(out["optimizer"], "optimizer", list(OPTIMIZERS))
    out["noise"] = _positive_number(out["noise"], "noise", 0.0, 1.0, low_ok=True)
    out["seed"] = _whole(out["seed"], "seed", 0, 2**31 - 1)
    return out


# ---------------------------------------------------------------------------------------------
# Small pictures in pure Python: PNG bytes and colours
# ---------------------------------------------------------------------------------------------
def png_bytes(pixels: Sequence[Sequence[tuple[int, int, int]]]) -> bytes:
    """An RGB PNG of ``pixels`` (rows top to bottom, each a list of (r, g, b))."""
    height, width = len(pixels), len(pixels[0])
    raw = b"".join(b"\x00" + bytes(c for px in row for c in px) for row in pixels)

    def chunk(tag: bytes, data: bytes) -> bytes:
        body = tag + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw))
            + chunk(b"IEND", b""))


def _shade(t: float, strength: float = 0.85) -> tuple[int, int, int]:
    """``t`` in [-1, 1] as a colour: red below 0, white at 0, green above 0."""
    t = max(-1.0, min(1.0, t))
    c = _PASS if t > 0 else _FAIL
    a = abs(t) * strength
    return tuple(round(w + (v - w) * a) for w, v in zip(_WHITE, c))  # type: ignore[return-value]


def _data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _hex(c: tuple[int, int, int]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*c)


# ---------------------------------------------------------------------------------------------
# The playground
# ---------------------------------------------------------------------------------------------
class Playground:
    """A live training playground; see the module docstring.

    Options (each also an attribute-free key of :meth:`set`): ``data`` (one of
    :data:`DATASETS`), ``hidden`` (hidden layer sizes), ``activation`` (``"tanh"``,
    ``"relu"``, ``"sigmoid"``, ``"linear"``), ``lr``, ``batch_size`` (``None``: all points),
    ``optimizer`` (``"sgd"``, ``"momentum"``, ``"adam"``), ``noise``, ``seed`` (data, weights
    and batch order), ``n`` (points). ``compiled``: ``"auto"`` (default) trains through
    ``tinygrad_edu.compile.compile_step`` when the model compiles, else eagerly; ``False``
    always eagerly. ``resolution``: grid points per side of the pictures.
    """

    def __init__(self, data: str = "moons", hidden: Sequence[int] = (8, 8),
                 activation: str = "tanh", lr: float = 0.03, batch_size: int | None = 10,
                 optimizer: str = "sgd", noise: float = 0.1, seed: int = 0, n: int = 200,
                 *, compiled: bool | str = "auto", resolution: int = 32) -> None:
        if compiled not in ("auto", True, False):
            raise ValueError(f"Playground: compiled must be 'auto', True or False, "
                             f"got {compiled!r}")
        self.compiled = compiled
        self.resolution = _whole(resolution, "resolution", 4, 128)
        self.options = _checked({"data": data, "hidden": list(hidden) if not isinstance(
            hidden, (int, str, bytes)) else hidden, "activation": activation, "lr": lr,
            "batch_size": batch_size, "optimizer": optimizer, "noise": noise, "seed": seed,
            "n": n})
        self._widget: Any = None
        self._new_data()
        self.reset()

    # ---- options -----------------------------------------------------------------------
    def __getattr__(self, name: str) -> Any:
        options = self.__dict__.get("options", {})
        if name in options:
            return options[name]
        raise AttributeError(f"'Playground' object has no attribute {name!r}")

    def set(self, **options: Any) -> Playground:
        """Change options: a new data set or network restarts training (``reset``); a new
        ``lr``, ``optimizer`` or ``batch_size`` goes on from the current weights."""
        unknown = sorted(set(options) - set(_DEFAULTS))
        if unknown:
            raise TypeError(f"Playground.set: unknown option {unknown[0]!r}; the options are "
                            f"{', '.join(_DEFAULTS)}")
        new = _checked({**self.options, **options})
        changed = {k for k in options if new[k] != self.options[k]}
        self.options = new
        if changed & _NEW_DATA:
            self._new_data()
        if changed & (_NEW_DATA | _NEW_MODEL):
            self.reset()
        else:
            if changed & {"lr", "optimizer"}:
                self.optimizer = OPTIMIZERS[new["optimizer"]](self.model.parameters(), new["lr"])
            if "batch_size" in changed:
                self._order, self._pos = [], 0
            self._publish()
        return self

    def _new_data(self) -> None:
        o = self.options
        self.X, self.y = DATASETS[o["data"]](o["n"], o["noise"], o["seed"])
        xs, ys = [p[0] for p in self.X], [p[1] for p in self.X]
        # a square view of the data with a margin, the same for every picture
        cx, cy = (min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2
        half = 0.55 * max(max(xs) - min(xs), max(ys) - min(ys), 1e-6) + 0.1
        self.bounds = (cx - half, cx + half, cy - half, cy + half)

    def reset(self) -> Playground:
        """New weights (from ``seed``), a new optimizer, an empty history."""
        o = self.options
        self.model = MLP(2, o["hidden"] + [1], activation=o["activation"],
                         output_activation="linear", seed=o["seed"])
        self.optimizer = OPTIMIZERS[o["optimizer"]](self.model.parameters(), o["lr"])
        self.history: list[float] = []
        self._rng = random.Random(o["seed"])
        self._order: list[int] = []
        self._pos = 0
        self._compiled_step: Any = None
        if self.compiled:
            self._compiled_step = self._compile()
        self._publish()
        return self

    def _compile(self) -> Any:
        try:
            return compile_step(self.model, binary_cross_entropy_with_logits, self.X[:4],
                                self.y[:4])
        except Exception:  # noqa: BLE001 - "auto": the eager engine trains every model
            if self.compiled is True:
                raise
            return None

    # ---- training ----------------------------------------------------------------------
    def _batch(self) -> list[int]:
        size = self.options["batch_size"]
        if size is None:  # gradient descent: every point, in order
            return list(range(len(self.X)))
        out: list[int] = []
        while len(out) < size:
            if self._pos >= len(self._order):
                self._order = list(range(len(self.X)))
                self._rng.shuffle(self._order)
                self._pos = 0
            take = self._order[self._pos : self._pos + size - len(out)]
            self._pos += len(take)
            out.extend(take)
        return out

    def step(self, n: int = 1) -> float:
        """Train ``n`` steps (one batch each); returns the last batch's loss."""
        n = _whole(n, "step(n)", 1, 10**7)
        for _ in range(n):
            self._one_step()
        self._publish()
        return self.history[-1]

    def _one_step(self) -> None:
        idx = self._batch()
        X, y = [self.X[i] for i in idx], [self.y[i] for i in idx]
        self.optimizer.zero_grad()
        if self._compiled_step is not None:
            loss = self._compiled_step(X, y)
        else:
            L = binary_cross_entropy_with_logits([self.model(x) for x in X], y)
            L.backward()
            loss = L.data
        if not math.isfinite(loss):
            raise FloatingPointError(
                f"Playground: the loss became {loss} at step {len(self.history) + 1}: the "
                f"steps are too large. Try a smaller learning rate (lr={self.options['lr']:g} "
                "now), e.g. pg.set(lr=0.03), then pg.reset()."
            )
        self.optimizer.step()
        self.history.append(float(loss))

    def train_for(self, seconds: float) -> int:
        """Train for about ``seconds`` (at least one step); returns the number of steps."""
        end = time.perf_counter() + seconds
        count = 0
        while count == 0 or time.perf_counter() < end:
            self._one_step()
            count += 1
        return count

    # ---- what the model does -------------------------------------------------------------
    def loss(self) -> float:
        """The mean loss over all points now."""
        with no_grad():
            return binary_cross_entropy_with_logits([self.model(x) for x in self.X],
                                                    self.y).data

    def accuracy(self) -> float:
        """The fraction of points on the right side of the boundary."""
        with no_grad():
            right = sum((self.model(x).data > 0) == (t == 1) for x, t in zip(self.X, self.y))
        return right / len(self.X)

    def grid(self, resolution: int | None = None) -> dict[str, Any]:
        """Every unit's output over the plane: ``{"xs", "ys", "units", "output"}``;
        ``units[k][j]`` is hidden layer ``k+1``'s unit ``j`` as rows (top row = largest y),
        ``output`` the model's probability of class 1, also as rows."""
        r = self.resolution if resolution is None else _whole(resolution, "resolution", 2, 256)
        x0, x1, y0, y1 = self.bounds
        xs = [x0 + (x1 - x0) * (i + 0.5) / r for i in range(r)]
        ys = [y1 - (y1 - y0) * (i + 0.5) / r for i in range(r)]
        layers = self.model.layers
        units: list[list[list[list[float]]]] = [[[[0.0] * r for _ in range(r)]
                                                 for _ in range(layer.nout)]
                                                for layer in layers[:-1]]
        output = [[0.0] * r for _ in range(r)]
        with no_grad():
            for row, yv in enumerate(ys):
                for col, xv in enumerate(xs):
                    h: Any = [xv, yv]
                    for k, layer in enumerate(layers):
                        h = layer(h)
                        if k < len(layers) - 1:
                            for j, v in enumerate(h if isinstance(h, list) else [h]):
                                units[k][j][row][col] = v.data
                    z = h.data
                    output[row][col] = 1 / (1 + math.exp(-z)) if z > -700 else 0.0
        return {"xs": xs, "ys": ys, "units": units, "output": output}

    # ---- pictures ----------------------------------------------------------------------
    def images(self) -> dict[str, str]:
        """The pictures as PNG data URIs: ``"boundary"`` and ``"u{k}_{j}"`` per hidden unit."""
        g = self.grid()
        out = {"boundary": _data_uri(png_bytes(
            [[_shade(2 * p - 1, 0.6) for p in row] for row in g["output"]]))}
        for k, layer_maps in enumerate(g["units"]):
            act = self.model.layers[k].activation
            for j, grid in enumerate(layer_maps):
                out[f"u{k}_{j}"] = _data_uri(png_bytes(_unit_pixels(grid, act)))
        return out

    def _points_svg(self, size: float) -> str:
        x0, x1, y0, y1 = self.bounds
        dots = []
        for (a, b), t in zip(self.X, self.y):
            cx, cy = (a - x0) / (x1 - x0) * size, (y1 - b) / (y1 - y0) * size
            dots.append(f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="3.2" '
                        f'fill="{_hex(_PASS if t == 1 else _FAIL)}"/>')
        return '<g stroke="white" stroke-width="1">' + "".join(dots) + "</g>"

    def loss_points(self, width: float = 260, height: float = 70) -> str:
        """The loss curve as SVG polyline points (at most ~300, a running mean of the
        batches' losses), scaled to ``width`` x ``height``."""
        h = self.history
        if not h:
            return ""
        every = max(1, len(h) // 300)
        window = max(1, min(len(h) // 20, 50))
        sums = [0.0]
        for v in h:
            sums.append(sums[-1] + v)
        idx = list(range(0, len(h), every)) + ([len(h) - 1] if (len(h) - 1) % every else [])
        vals = [(sums[i + 1] - sums[max(0, i + 1 - window)]) / min(window, i + 1) for i in idx]
        top = max(max(vals), 1e-12)
        n = max(len(h) - 1, 1)
        return " ".join(f"{width * i / n:.1f},{height - height * v / top:.1f}"
                        for i, v in zip(idx, vals))

    def status(self) -> str:
        last = f"loss {self.history[-1]:.3f}" if self.history else "not trained yet"
        seen = len(self.history) * (self.options["batch_size"] or len(self.X))
        return f"step {len(self.history)} · {last} · epoch {seen / len(self.X):.1f}"

    def view_html(self, images: dict[str, str] | None = None) -> str:
        """The pictures as one HTML fragment (the widget updates its images in place)."""
        imgs = self.images() if images is None else images
        sizes = [len(self.X[0])] + list(self.options["hidden"])
        most = max(self.options["hidden"], default=1)
        cell = max(22, min(48, 360 // most))
        cols = []
        for k, units in enumerate(self.options["hidden"]):
            act = self.model.layers[k].activation
            maps = "".join(
                f'<img class="tgp-map" data-key="u{k}_{j}" src="{imgs[f"u{k}_{j}"]}" '
                f'width="{cell}" height="{cell}" alt="unit {j + 1} of hidden layer {k + 1}" '
                f'title="hidden layer {k + 1}, unit {j + 1}">' for j in range(units))
            cols.append(f'<div class="tgp-col"><div class="tgp-head">layer {k + 1}<br>'
                        f"{units} {act}</div>{maps}</div>")
        size = 260
        net = ("".join(cols) if cols else
               '<div class="tgp-head">no hidden layer:<br>a straight boundary</div>')
        return (
            '<div class="tgp-view">'
            f'<div class="tgp-net" title="each hidden unit\'s output over the plane: green '
            f'high, red low">{net}</div>'
            '<div class="tgp-out">'
            f'<div class="tgp-head">output: the decision boundary ({sizes[0]} inputs)</div>'
            f'<svg class="tgp-plane" viewBox="0 0 {size} {size}" width="{size}" '
            f'height="{size}"><image data-key="boundary" href="{imgs["boundary"]}" '
            f'width="{size}" height="{size}" preserveAspectRatio="none"/>'
            f"{self._points_svg(size)}</svg>"
            '<div class="tgp-legend"><span style="color:#2ca02c">● class 1 (pass)</span> '
            '<span style="color:#d62728">● class 0 (fail)</span></div>'
            '<div class="tgp-head">loss (running mean of the batches)</div>'
            f'<svg class="tgp-loss" viewBox="0 0 {size} 74" width="{size}" height="74">'
            f'<rect width="{size}" height="74" fill="#fafafa" stroke="#ddd"/>'
            f'<polyline points="{self.loss_points(size, 70)}" fill="none" stroke="#333" '
            'stroke-width="1.5" transform="translate(0,2)"/></svg>'
            f'<div class="tgp-status">{self.status()}</div></div></div>'
        )

    def png(self, size: int = 256) -> bytes:
        """A still of the playground as PNG bytes (pure Python): the neuron maps, layer by
        layer, then the decision boundary with the points (for viewers without HTML)."""
        g = self.grid()
        maps = g["units"]
        cell, gap = 48, 8
        tallest = max((len(layer) for layer in maps), default=0)
        left = len(maps) * (cell + gap)
        width, height = left + size, max(size, tallest * (cell + gap) - gap)
        canvas = [[_WHITE] * width for _ in range(height)]

        def blit(colours: list[list[tuple[int, int, int]]], x0: int, y0: int, n: int) -> None:
            r = len(colours)
            for y in range(n):
                row, src = canvas[y0 + y], colours[y * r // n]
                for x in range(n):
                    row[x0 + x] = src[x * r // n]

        for k, layer in enumerate(maps):
            act = self.model.layers[k].activation
            for j, grid in enumerate(layer):
                blit(_unit_pixels(grid, act), k * (cell + gap), j * (cell + gap), cell)
        blit([[_shade(2 * p - 1, 0.6) for p in row] for row in g["output"]], left, 0, size)
        x0, x1, y0, y1 = self.bounds
        for (a, b), t in zip(self.X, self.y):
            cx, cy = left + (a - x0) / (x1 - x0) * size, (y1 - b) / (y1 - y0) * size
            for y in range(int(cy) - 4, int(cy) + 5):
                for x in range(int(cx) - 4, int(cx) + 5):
                    d = (x - cx) ** 2 + (y - cy) ** 2
                    if left <= x < width and 0 <= y < size and d <= 16:
                        canvas[y][x] = (_PASS if t == 1 else _FAIL) if d <= 9 else _WHITE
        return png_bytes(canvas)

    def _repr_html_(self) -> str:
        return f"<style>{_CSS}</style><div class='tgp'>{self.view_html()}</div>"

    def __repr__(self) -> str:
        o = self.options
        return (f"Playground(data={o['data']!r}, hidden={o['hidden']}, "
                f"activation={o['activation']!r}, lr={o['lr']:g}, "
                f"batch_size={o['batch_size']}, optimizer={o['optimizer']!r}, "
                f"noise={o['noise']:g}, seed={o['seed']}): {self.status()}")

    # ---- the widget ----------------------------------------------------------------------
    def widget(self) -> Any:
        """The live widget (needs anywidget: pip install 'tinygrad_edu[notebooks]')."""
        if anywidget is None:
            raise ImportError("the live playground needs anywidget: pip install anywidget "
                              "(part of the 'notebooks' extra); without it the playground "
                              "shows a still picture, and pg.step(n) trains it")
        if self._widget is None:
            self._widget = _widget_class()(self)
        return self._widget

    def _publish(self) -> None:
        if self._widget is not None:
            self._widget.show(self)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None,
                          **kwargs: Any) -> dict[str, Any]:
        data: dict[str, Any] = {"text/html": self._repr_html_(),
                                "image/png": base64.b64encode(self.png()).decode("ascii")}
        if anywidget is not None and _in_jupyter():
            data.update(widget_bundle(self.widget()))
        data["text/plain"] = repr(self)
        return data


def _unit_pixels(grid: list[list[float]], activation: str) -> list[list[tuple[int, int, int]]]:
    """A unit's outputs as colours on its activation's own scale (green high, red low)."""
    if activation == "tanh":
        return [[_shade(v) for v in row] for row in grid]
    if activation == "sigmoid":
        return [[_shade(2 * v - 1) for v in row] for row in grid]
    top = max((abs(v) for row in grid for v in row), default=0.0) or 1.0
    return [[_shade(v / top) for v in row] for row in grid]


_CSS = """
.tgp{font:13px/1.35 system-ui,-apple-system,'Segoe UI',Helvetica,Arial,sans-serif;color:#222;
 max-width:100%;box-sizing:border-box}
.tgp *{box-sizing:border-box}
.tgp-bar{display:flex;flex-wrap:wrap;gap:6px 10px;align-items:center;margin:4px 0 8px}
.tgp-bar label{display:inline-flex;gap:4px;align-items:center;white-space:nowrap}
.tgp-bar select,.tgp-bar input{font:inherit;max-width:9em}
.tgp-bar input[type=range]{width:6em}
.tgp-bar button{font:inherit;padding:2px 12px;cursor:pointer;min-width:5.5em}
.tgp-view{display:flex;flex-wrap:wrap;gap:16px;align-items:flex-start}
.tgp-net{display:flex;gap:10px;align-items:flex-start;min-height:60px}
.tgp-col{display:flex;flex-direction:column;gap:4px;align-items:center}
.tgp-map{border:1px solid #bbb;image-rendering:auto;display:block}
.tgp-head{font-size:12px;color:#555;text-align:center;margin-bottom:2px}
.tgp-out{display:flex;flex-direction:column;gap:4px}
.tgp-plane,.tgp-loss{display:block;max-width:100%;height:auto}
.tgp-plane{border:1px solid #bbb}
.tgp-legend{font-size:12px}
.tgp-status{font-variant-numeric:tabular-nums;min-height:1.4em}
.tgp-error{color:#b00020;min-height:1.4em}
"""

# The widget's front end: controls that send the options to Python, and the picture that
# Python redraws. While "Train" is on, each redraw asks for the next one (never two at once).
_ESM = """
const CHOICES = {
  data: ["moons", "circles", "xor", "spiral", "blobs", "pass_fail"],
  activation: ["tanh", "relu", "sigmoid", "linear"],
  lr: [0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3],
  batch_size: [1, 5, 10, 30, 100, "all"],
  optimizer: ["sgd", "momentum", "adam"],
};
function render({ model, el }) {
  el.classList.add("tgp");
  const bar = document.createElement("div");
  bar.className = "tgp-bar";
  const view = document.createElement("div");
  const error = document.createElement("div");
  error.className = "tgp-error";
  let playing = false;
  const button = (text, title) => {
    const b = document.createElement("button");
    b.type = "button"; b.textContent = text; b.title = title;
    bar.appendChild(b);
    return b;
  };
  const train = button("Train", "train continuously (click again to pause)");
  const step = button("Step", "one training step");
  const reset = button("Reset", "new weights, empty loss curve");
  const controls = {};
  const send = (options) => model.send({ type: "set", options });
  for (const [name, values] of Object.entries(CHOICES)) {
    const label = document.createElement("label");
    label.textContent = name.replace("_", " ") + " ";
    const sel = document.createElement("select");
    for (const v of values) {
      const o = document.createElement("option");
      o.value = String(v); o.textContent = String(v);
      sel.appendChild(o);
    }
    sel.addEventListener("change", () => {
      let v = sel.value;
      if (name === "lr") v = parseFloat(v);
      if (name === "batch_size") v = v === "all" ? null : parseInt(v, 10);
      send({ [name]: v });
    });
    label.appendChild(sel);
    bar.appendChild(label);
    controls[name] = sel;
  }
  const hiddenLabel = document.createElement("label");
  hiddenLabel.textContent = "hidden ";
  const hidden = document.createElement("input");
  hidden.type = "text"; hidden.size = 8; hidden.title = "units per hidden layer, e.g. 8, 8";
  hidden.addEventListener("change", () => {
    const sizes = hidden.value.split(/[ ,]+/).filter((s) => s).map((s) => parseInt(s, 10));
    send({ hidden: sizes });
  });
  hiddenLabel.appendChild(hidden);
  bar.appendChild(hiddenLabel);
  const noiseLabel = document.createElement("label");
  noiseLabel.textContent = "noise ";
  const noise = document.createElement("input");
  noise.type = "range"; noise.min = "0"; noise.max = "0.5"; noise.step = "0.05";
  noise.addEventListener("change", () => send({ noise: parseFloat(noise.value) }));
  noiseLabel.appendChild(noise);
  bar.appendChild(noiseLabel);

  function showOptions() {
    const o = model.get("options");
    for (const [name, sel] of Object.entries(controls)) {
      const v = o[name] === null ? "all" : String(o[name]);
      if (![...sel.options].some((x) => x.value === v)) {
        const extra = document.createElement("option");
        extra.value = v; extra.textContent = v;
        sel.appendChild(extra);
      }
      sel.value = v;
    }
    hidden.value = o.hidden.join(", ");
    noise.value = String(o.noise);
  }
  function showView() {
    const html = model.get("view");
    if (html) { view.innerHTML = html; model.set("view", ""); }
    const images = model.get("images");
    for (const node of view.querySelectorAll("[data-key]")) {
      const src = images[node.dataset.key];
      if (!src) continue;
      if (node.tagName.toLowerCase() === "image") node.setAttribute("href", src);
      else node.src = src;
    }
    const line = view.querySelector(".tgp-loss polyline");
    if (line) line.setAttribute("points", model.get("loss_points"));
    const status = view.querySelector(".tgp-status");
    if (status) status.textContent = model.get("status");
    error.textContent = model.get("error");
    if (playing && !model.get("error")) model.send({ type: "tick" });
    else if (playing) stopPlaying();
  }
  function stopPlaying() { playing = false; train.textContent = "Train"; }
  train.addEventListener("click", () => {
    if (playing) { stopPlaying(); return; }
    playing = true; train.textContent = "Pause";
    model.send({ type: "tick" });
  });
  step.addEventListener("click", () => { stopPlaying(); model.send({ type: "step" }); });
  reset.addEventListener("click", () => { stopPlaying(); model.send({ type: "reset" }); });
  model.on("change:options", showOptions);
  model.on("change:frame", showView);
  el.append(bar, error, view);
  view.innerHTML = model.get("html");
  showOptions();
  showView();
  return () => { playing = false; };
}
export default { render };
"""

_WIDGET: list[Any] = []


def _widget_class() -> Any:
    """The anywidget class, made once (anywidget is optional, so not at import time)."""
    if _WIDGET:
        return _WIDGET[0]

    class PlaygroundWidget(anywidget.AnyWidget):  # type: ignore[name-defined, misc]
        _esm = _ESM
        _css = _CSS
        options = traitlets.Dict().tag(sync=True)
        html = traitlets.Unicode("").tag(sync=True)  # the picture's layout, at first display
        view = traitlets.Unicode("").tag(sync=True)  # a new layout (the network changed)
        images = traitlets.Dict().tag(sync=True)
        loss_points = traitlets.Unicode("").tag(sync=True)
        status = traitlets.Unicode("").tag(sync=True)
        error = traitlets.Unicode("").tag(sync=True)
        frame = traitlets.Int(0).tag(sync=True)

        def __init__(self, playground: Playground) -> None:
            super().__init__()
            self.playground = playground
            self._shape: Any = None
            self.show(playground)
            self.on_msg(self._message)

        def show(self, pg: Playground) -> None:
            images = pg.images()
            shape = (tuple(pg.options["hidden"]), pg.options["activation"], pg.options["data"],
                     pg.options["noise"], pg.options["n"], pg.options["seed"])
            with self.hold_sync():
                self.options = {k: pg.options[k] for k in _DEFAULTS}
                if shape != self._shape:
                    html = pg.view_html(images)
                    self.html = html
                    self.view = html
                    self._shape = shape
                self.images = images
                self.loss_points = pg.loss_points(260, 70)
                self.status = pg.status()
                self.frame += 1

        def _message(self, _: Any, content: dict[str, Any], buffers: Any) -> None:
            pg = self.playground
            try:
                kind = content.get("type")
                if kind == "tick":
                    pg.train_for(0.05)
                elif kind == "step":
                    pg._one_step()
                elif kind == "reset":
                    pg.reset()
                    self.error = ""
                    return
                elif kind == "set":
                    self.error = ""
                    pg.set(**content.get("options", {}))
                    return
                self.show(pg)
            except (ValueError, TypeError, FloatingPointError, OverflowError) as err:
                self.error = str(err)
                self.show(pg)

    _WIDGET.append(PlaygroundWidget)
    return PlaygroundWidget
