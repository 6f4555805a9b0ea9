"""What every picture shares: colours, fonts, and how numbers and labels are written.

One way to write a number (``number``: 4 significant digits, ``-1`` never ``-1.0``) serves the
boxes of a graph, the stepper's captions, ``explain``'s text and the network diagrams, so a
grad reads the same wherever it is shown. Labels are shown as typed: control characters as
their escapes (``printable``), very long ones cut with a visible "…" (``shorten``).

Imports nothing from the package, so ``explain`` (pure Python) can use it too.
"""

from __future__ import annotations

import html
import math
import unicodedata

__all__ = [
    "number", "factor", "printable", "shorten", "esc", "label_html", "text_width",
    "mix", "grad_color", "value_color", "KIND_FILL", "PENDING_BG", "PENDING_FG",
    "CURRENT_BG", "CURRENT_BORDER", "RECEIVING_BG", "CHANGED_BORDER", "USED_EDGE",
    "AUTO_NAME_FG", "POSITIVE_EDGE", "NEGATIVE_EDGE",
    "PASS", "FAIL", "PASS_BG", "FAIL_BG", "FONT", "FONT_FAMILY", "PX_PER_PT", "LABEL_MAX",
]

# ---------------------------------------------------------------------------------------------
# Numbers
# ---------------------------------------------------------------------------------------------
def number(x: float, digits: int = 4) -> str:
    """``x`` with ``digits`` significant digits and no trailing zeros: ``0.7071``, ``-1.5``,
    ``-1`` (never ``-1.0``), ``6.881``, ``12346``; scientific below 1e-4 and from 1e6 on
    (``1e-07``, ``6e+06``). Zero is ``0`` (also -0.0)."""
    x = float(x)
    if x == 0.0:
        return "0"
    if not math.isfinite(x):
        return repr(x)  # inf, -inf, nan
    size = abs(x)
    if 1e-4 <= size < 1e6:
        decimals = max(digits - 1 - math.floor(math.log10(size)), 0)
        text = f"{x:.{decimals}f}"
        if "." in text:
            text = text.rstrip("0").rstrip(".")
        return "0" if text in ("-0", "") else text
    mantissa, exponent = f"{x:.{max(digits - 1, 0)}e}".split("e")
    if "." in mantissa:
        mantissa = mantissa.rstrip("0").rstrip(".")
    return f"{mantissa}e{exponent}"


def factor(x: float, digits: int = 4) -> str:
    """A number as a factor of a product: negative numbers in parentheses, ``(-3)``."""
    text = number(x, digits)
    return f"({text})" if text.startswith("-") else text


# ---------------------------------------------------------------------------------------------
# Labels and text
# ---------------------------------------------------------------------------------------------
LABEL_MAX = 60  # characters of a label shown in a box; longer ones end in "…"


def printable(text: str) -> str:
    """``text`` with control characters written as escapes (``\\n``, ``\\t``, ``\\x01``).

    A label that is only a newline would otherwise be invisible (and break a one-line
    explanation); lone surrogates cannot be encoded at all. Everything else is unchanged.
    """
    if not isinstance(text, str):
        raise TypeError(f"printable needs a str, got {type(text).__name__}")
    if text.isprintable():
        return text
    out = []
    for ch in text:
        if unicodedata.category(ch) in ("Cc", "Cs", "Zl", "Zp") or ch in "\ufffe\uffff":
            out.append(repr(ch)[1:-1] if ch not in "'\"" else ch)
        else:
            out.append(ch)
    return "".join(out)


def shorten(text: str, limit: int = LABEL_MAX) -> str:
    """``printable(text)`` cut to ``limit`` characters, the cut shown as "…"."""
    text = printable(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def esc(text: str) -> str:
    """Text for HTML (also for Graphviz's HTML-like labels): ``<``, ``&``, quotes escaped."""
    return html.escape(text, quote=True)


def label_html(text: str, limit: int = LABEL_MAX) -> str:
    """A user's string as text inside a Graphviz HTML label, shown as typed.

    Control characters appear as their escapes (Graphviz refuses them); ``[`` and ``]`` are
    character references (Graphviz 2.43 fails on a label that is only ``]``); backslashes are
    doubled (Graphviz reads ``\\N`` as the node's name, ``\\\\`` as one). Cut to ``limit``
    characters with "…", so a label never reaches Graphviz's 16,384-character limit.
    """
    escaped = esc(shorten(text, limit))
    return escaped.replace("[", "&#91;").replace("]", "&#93;").replace("\\", "\\\\")


# ---------------------------------------------------------------------------------------------
# Fonts
# ---------------------------------------------------------------------------------------------
FONT = "Helvetica"  # Graphviz's name; browsers get FONT_FAMILY
FONT_FAMILY = "Helvetica, Arial, 'Liberation Sans', 'DejaVu Sans', sans-serif"
PX_PER_PT = 4 / 3  # CSS: 96 px per inch, 72 pt per inch

# Widths of Helvetica's characters (its AFM metrics, 1/1000 em) for ASCII 32..126: enough to
# estimate how wide a picture will be before Graphviz draws it.
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


# ---------------------------------------------------------------------------------------------
# Colours
# ---------------------------------------------------------------------------------------------
# Boxes of a computation graph, by kind (the legend of every graph picture)
KIND_FILL = {
    "param": "#fff2b3",  # learnable weights and biases: yellow
    "input": "#d9f2d9",  # labelled leaves: data the user fed in
    "constant": "#ffffff",  # unlabelled leaves: numbers like the 2 in 2*a
    "intermediate": "#eaf1fb",  # results of operations
}
PENDING_BG, PENDING_FG = "#d9d9d9", "#8c8c8c"  # a number not known yet: "grad ?"
CURRENT_BG, CURRENT_BORDER = "#ffb366", "#d62728"  # the node of the current step
RECEIVING_BG = "#ffd9a8"  # a grad (or value) that this step has just changed
CHANGED_BORDER = "#e8833a"  # ... and the box around it
USED_EDGE = "#d62728"  # the edges the current step uses
AUTO_NAME_FG = "#555555"  # a name made up for an unlabelled node

# Pass/fail (class 1 / class 0) in plots: green and red, light for regions
PASS, FAIL = "#2ca02c", "#d62728"
PASS_BG, FAIL_BG = "#c7ecc7", "#f6caca"

_BLUE = (120, 160, 230)  # vanishing gradients
_WHITE = (255, 255, 255)
_RED = (235, 110, 100)  # exploding gradients
_FIRE = (245, 140, 40)  # a unit's positive output: orange, stronger when larger
_NEGATIVE = (90, 140, 225)  # negative output: blue
OFF = "#eeeeee"  # exactly 0 (a ReLU that does not fire)
# A network diagram's edges by sign (a weight, its grad, w·x): the units' colours, darker
# for lines and their labels, so orange is > 0 and blue < 0 in the whole picture
POSITIVE_EDGE, NEGATIVE_EDGE = "#c45c00", "#1f5fbf"


def rgb(hex_colour: str) -> tuple[int, int, int]:
    """``"#rrggbb"`` as its (red, green, blue) numbers."""
    h = hex_colour.lstrip("#")
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)


def mix(c0: tuple[int, int, int], c1: tuple[int, int, int], t: float) -> str:
    """The colour a fraction ``t`` of the way from ``c0`` to ``c1``, as ``#rrggbb``."""
    r, g, b = (round(a + (b_ - a) * t) for a, b_ in zip(c0, c1))
    return f"#{r:02x}{g:02x}{b:02x}"


def grad_color(g: float, low: float, high: float) -> str:
    """Fill for a gradient: blue when |g| <= low, white near the middle (log scale), red when
    |g| >= high."""
    mag = abs(g)
    if mag == 0.0:
        t = 0.0
    elif not math.isfinite(mag):
        t = 1.0
    else:
        lo, hi = math.log10(low), math.log10(high)
        t = min(max((math.log10(mag) - lo) / (hi - lo), 0.0), 1.0)
    if t < 0.5:
        return mix(_BLUE, _WHITE, t / 0.5)
    return mix(_WHITE, _RED, (t - 0.5) / 0.5)


def value_color(v: float, scale: float) -> str:
    """Fill for a unit's output ``v``: white near 0, orange for positive, blue for negative,
    full colour at ``|v| >= scale``; grey when exactly 0."""
    if v == 0.0:
        return OFF
    t = min(abs(v) / scale, 1.0) if scale > 0 else 1.0
    return mix(_WHITE, _FIRE if v > 0 else _NEGATIVE, 0.12 + 0.88 * t)
