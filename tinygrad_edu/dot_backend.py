"""Render DOT text: with Graphviz's ``dot`` program when there is one, else with viz.js.

Every picture of a graph is DOT text laid out by Graphviz. On a computer that is the ``dot``
program; in a browser (JupyterLite, where Python runs in Pyodide and cannot start programs) it
is viz.js, Graphviz compiled to WebAssembly, which the browser course serves beside its
notebooks. This module is the one place that turns DOT into a picture:

    render(dot_source, "svg")   # the picture as SVG text
    render(dot_source, "json")  # the layout as ``dot -Tjson`` writes it (the stepper reads it)
    render(dot_source, "png", dpi=192)  # PNG bytes; needs the ``dot`` program
    render_many([source1, source2], "svg")  # several pictures, one ``dot`` process

In the browser viz.js loads in the background from the first call (or ``await load()``), as
a module's ``import`` cannot wait; the browser course's first cell awaits it, so every picture
after it renders at once.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from typing import Any

__all__ = ["render", "render_many", "backend", "load", "RendererNotFoundError", "RenderError",
           "FORMATS"]

FORMATS = ("svg", "json", "png")
IN_BROWSER = sys.platform == "emscripten"  # Pyodide (JupyterLite)
# Where the browser course serves viz.js, relative to the site's root; TINYGRAD_EDU_VIZ_JS
# (an absolute URL) points elsewhere, e.g. for a JupyterLite site of your own.
VIZ_JS_PATH = "static/viz-js/viz.js"
INSTALL_HINT = (
    "Install Graphviz: apt-get install graphviz (Debian/Ubuntu), brew install graphviz (macOS) "
    "or conda install -c conda-forge graphviz; then restart Python/Jupyter. In a browser "
    "(JupyterLite) pictures use viz.js instead, which the browser course serves."
)


class RendererNotFoundError(RuntimeError):
    """Nothing here can render DOT: no ``dot`` program, and not in a browser with viz.js."""


class RenderError(RuntimeError):
    """Graphviz could not render the DOT text (its own message says why)."""


def backend() -> str | None:
    """``"dot"`` (the program is on PATH), ``"viz.js"`` (in a browser) or None (neither)."""
    if shutil.which("dot") is not None:
        return "dot"
    return "viz.js" if IN_BROWSER else None


def render(dot_source: str, format: str = "svg", *, dpi: float | None = None,
           pinned: bool = False) -> Any:
    """Render ``dot_source`` (DOT text) as ``format``: ``"svg"`` or ``"json"`` (str), or
    ``"png"`` (bytes, at ``dpi`` dots per inch; only with the ``dot`` program). ``pinned``:
    every node and edge already has its ``pos`` (no layout: neato's no-op mode)."""
    if not isinstance(dot_source, str):
        raise TypeError(f"dot_source must be DOT text (a str), got {type(dot_source).__name__}")
    return render_many([dot_source], format, dpi=dpi, pinned=pinned)[0]


def render_many(dot_sources: Sequence[str], format: str = "svg", *,
                dpi: float | None = None, pinned: bool = False) -> list[Any]:
    """:func:`render` of each DOT text, in order; the ``dot`` program runs once for all."""
    if isinstance(dot_sources, str) or not all(isinstance(s, str) for s in dot_sources):
        raise TypeError("dot_sources must be a list of DOT texts (str)")
    if format not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(map(repr, FORMATS))}, got {format!r}")
    if dpi is not None and format != "png":
        raise ValueError("dpi= applies to format='png' only")
    which = backend()
    if which == "dot":
        if format == "json":  # JSON outputs have no end marker to split them at
            return [_run_dot([source], format, dpi, pinned)[0] for source in dot_sources]
        return _run_dot(list(dot_sources), format, dpi, pinned)
    if which is None:
        raise RendererNotFoundError(
            f"cannot render the picture: Graphviz's 'dot' program is not on PATH. {INSTALL_HINT}")
    if format == "png":
        raise RendererNotFoundError(
            "PNG pictures need Graphviz's 'dot' program, which a browser cannot run; in the "
            "browser pictures are SVG (render(..., 'svg')).")
    return [_render_with_viz(source, format, pinned) for source in dot_sources]


_ENDS = {"svg": b"</svg>\n", "png": b"IEND\xaeB`\x82"}  # where one picture's output ends


def _run_dot(sources: list[str], format: str, dpi: float | None, pinned: bool = False
             ) -> list[Any]:
    """One run of ``dot`` for all ``sources`` (one process, not one per graph)."""
    if not sources:
        return []
    args = [shutil.which("dot") or "dot", f"-T{format}"] + (["-Kneato", "-n2"] if pinned else [])
    if dpi is not None:
        args.append(f"-Gdpi={dpi:.1f}")
    done = subprocess.run(args, input="\n".join(sources).encode("utf-8"), capture_output=True,
                          check=False)
    if done.returncode != 0:
        raise RenderError(f"Graphviz could not render the graph: "
                          f"{done.stderr.decode('utf-8', 'replace').strip()[:500]}")
    if len(sources) == 1:
        parts = [done.stdout]
    else:
        end = _ENDS[format]
        parts = [part + end for part in done.stdout.split(end)[:-1]]
        if len(parts) != len(sources):
            raise RenderError(f"Graphviz drew {len(parts)} pictures for {len(sources)} graphs")
    return parts if format == "png" else [p.decode("utf-8") for p in parts]


# ---------------------------------------------------------------------------------------------
# viz.js in Pyodide. Loading it is asynchronous (a dynamic import, then WebAssembly); once
# loaded, rendering is an ordinary synchronous call.
# ---------------------------------------------------------------------------------------------
_viz: Any = None  # the viz.js instance, once loaded
_loading: Any = None  # the JavaScript promise of that instance while it loads
_load_error: str | None = None


def viz_js_url() -> str:
    """The URL viz.js is loaded from: TINYGRAD_EDU_VIZ_JS, else the site's static folder."""
    url = os.environ.get("TINYGRAD_EDU_VIZ_JS")
    if url:
        return url
    import js  # Pyodide's view of the JavaScript global scope (here: the kernel's worker)

    # The kernel's worker script lives under <site>/extensions/...: the site root is before it.
    here = str(js.location.href).split("?")[0]
    root = here.split("/extensions/")[0] if "/extensions/" in here else here.rsplit("/", 1)[0]
    return f"{root}/{VIZ_JS_PATH}"


def _start_loading() -> Any:
    global _loading, _load_error
    if _loading is None:
        from pyodide.code import run_js

        url = viz_js_url()
        _loading = run_js(f"import({json.dumps(url)}).then(m => m.instance())")

        def loaded(instance: Any) -> None:
            global _viz
            _viz = instance

        def failed(error: Any) -> None:
            global _load_error
            _load_error = f"viz.js could not be loaded from {url}: {error}"

        _loading.then(loaded, failed)
    return _loading


async def load() -> None:
    """Load viz.js now and wait for it (in a browser; elsewhere there is nothing to do)."""
    global _viz
    if not IN_BROWSER or _viz is not None or shutil.which("dot") is not None:
        return
    try:
        _viz = await _start_loading()
    except Exception as err:  # the JsException of a failed import
        raise RendererNotFoundError(f"viz.js could not be loaded from {viz_js_url()}: {err}. "
                                    "Is this the tinygrad_edu browser course? Elsewhere set "
                                    "TINYGRAD_EDU_VIZ_JS to viz.js's URL.") from err


def _instance() -> Any:
    """The loaded viz.js, waiting for it where the browser allows a wait (JSPI)."""
    global _viz
    if _viz is None:
        promise = _start_loading()
        from pyodide import ffi

        if _load_error:
            raise RendererNotFoundError(_load_error)
        if getattr(ffi, "can_run_sync", lambda: False)():
            _viz = ffi.run_sync(promise)
        else:
            raise RendererNotFoundError(
                "viz.js, which draws pictures in the browser, is still loading: run this cell "
                "again in a moment (or run `await tinygrad_edu.dot_backend.load()` once first; "
                "the first cell of each course notebook does).")
    return _viz


def _render_with_viz(dot_source: str, format: str, pinned: bool = False) -> str:
    import js
    from pyodide.ffi import to_js

    options: dict[str, Any] = {"format": format}
    if pinned:  # viz.js has no neato -n: pin every node where its pos says, keep the origin
        options.update(engine="neato", graphAttributes={"notranslate": True},
                       nodeAttributes={"pin": True})
    options = to_js(options, dict_converter=js.Object.fromEntries)
    result = _instance().render(dot_source, options)
    if result.status != "success":
        errors = [str(e.message) for e in result.errors if str(e.level) == "error"]
        raise RenderError("Graphviz (viz.js) could not render the graph: "
                          + ("; ".join(errors) or "no message"))
    return str(result.output)
