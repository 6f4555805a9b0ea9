"""The committed notebooks carry their executed outputs, and every picture in them renders.

`make notebooks` runs each notebooks/NN_*.ipynb and saves its outputs in it (see
scripts/run_notebooks.py). These tests read those saved outputs, as a reader on a code-hosting
site or in an untrusted JupyterLab sees them:

- the outputs come from the code now in the notebook (a hash `make notebooks` stores);
- every code cell ran, without an error and without a warning on stderr;
- every picture (SVG, an HTML ``<svg>``, a tinygrad_edu object) also has a PNG, which renders
  where SVG and HTML do not (JupyterLab does not render SVG from an untrusted notebook), as
  image/png or, for an HTML player, as the PNG ``<img>`` it shows first; and
  every cell that ends with ``draw_graph(...)``, ``draw_network(...)`` or ``step_through(...)``,
  or displays one, shows such a PNG.
"""

from __future__ import annotations

import ast
import base64
import importlib.util
import re
import struct
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("run_notebooks",
                                               ROOT / "scripts" / "run_notebooks.py")
run_notebooks = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(run_notebooks)

NOTEBOOKS = run_notebooks.course_notebooks()
EMBEDDED_PNG = re.compile(r"""<img\b[^>]*\bsrc=["']data:image/png;base64,([A-Za-z0-9+/=]+)""")
PICTURE_CALLS = {"draw_graph", "draw_network", "step_through"}
REGENERATE = "run `make notebooks` and commit the notebooks it rewrites"


def _read(path: Path):
    return nbformat.read(path, as_version=4)


def _text(value) -> str:
    return value if isinstance(value, str) else "".join(value)


def _code_cells(nb):
    return [(i, cell) for i, cell in enumerate(nb.cells) if cell.cell_type == "code"]


def _bundles(cell):
    return [out.data for out in cell.outputs if out.output_type in ("display_data",
                                                                     "execute_result")]


def _is_picture(data) -> bool:
    """An output meant as a picture: SVG, HTML holding an <svg>, or one of our objects."""
    return ("image/svg+xml" in data
            or "<svg" in _text(data.get("text/html", ""))
            or "tinygrad_edu." in _text(data.get("text/plain", "")))


def _png_of(data) -> str | None:
    """The base64 PNG an output shows everywhere: its image/png, or an HTML player's
    ``<img src="data:image/png;base64,...">`` (sanitizers keep those: the player's buttons
    do not work in an untrusted notebook, but its picture shows)."""
    if "image/png" in data:
        return _text(data["image/png"])
    found = EMBEDDED_PNG.search(_text(data.get("text/html", "")))
    return found.group(1) if found else None


def _png_size(b64: str) -> tuple[int, int]:
    """Width and height of a base64 PNG, from its header; raises if it is not a PNG."""
    raw = base64.b64decode(b64)
    assert raw[:8] == b"\x89PNG\r\n\x1a\n" and raw[12:16] == b"IHDR", "not a PNG"
    return struct.unpack(">II", raw[16:24])


def _names_a_picture_call(node) -> bool:
    if not isinstance(node, ast.Call):
        return False
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
    return name in PICTURE_CALLS


def _shows_a_picture(source: str) -> bool:
    """Whether a cell's code shows a diagram: its last statement is a picture call, or it
    calls ``display(<picture call>)`` outside a function, class or ``try`` (where an error
    may be the point)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:  # IPython-only syntax: nothing to say
        return False
    if tree.body and isinstance(tree.body[-1], ast.Expr) and _names_a_picture_call(
            tree.body[-1].value):
        return True
    todo = list(tree.body)
    while todo:
        node = todo.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda,
                             ast.Try)):
            continue
        if (isinstance(node, ast.Call) and getattr(node.func, "id", None) == "display"
                and node.args and _names_a_picture_call(node.args[0])):
            return True
        todo.extend(ast.iter_child_nodes(node))
    return False


def test_there_are_course_notebooks():
    assert len(NOTEBOOKS) >= 6, NOTEBOOKS


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_outputs_come_from_the_current_code(path):
    nb = _read(path)
    stored = nb.metadata.get(run_notebooks.METADATA_KEY, {}).get("executed_code_sha256")
    assert stored is not None, f"{path.name} holds no executed outputs: {REGENERATE}"
    assert stored == run_notebooks.code_hash(nb), (
        f"{path.name}: its code changed since its outputs were made: {REGENERATE}")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_code_cell_ran_cleanly(path):
    nb = _read(path)
    for i, cell in _code_cells(nb):
        where = f"{path.name}, cell {i} ({cell.source.splitlines()[0][:60]!r})"
        assert cell.execution_count is not None, f"{where} never ran: {REGENERATE}"
        for out in cell.outputs:
            assert out.output_type != "error", f"{where}: {out.ename}: {out.evalue}"
            if out.output_type == "stream" and out.name == "stderr":
                assert "Warning" not in _text(out.text), f"{where} warns: {_text(out.text)}"


def picture_problems(nb) -> list[str]:
    """What in ``nb``'s outputs may not show as a picture, one line per problem."""
    problems = []
    for i, cell in _code_cells(nb):
        where = f"cell {i} ({cell.source.splitlines()[-1][:60]!r})"
        has_png = False
        for data in _bundles(cell):
            png = _png_of(data)
            if png is not None:
                width, height = _png_size(png)
                if width == 0 or height == 0:
                    problems.append(f"{where}: an empty PNG")
                has_png = True
            elif _is_picture(data):
                problems.append(f"{where}: a picture with no image/png, only {sorted(data)}")
        if _shows_a_picture(cell.source) and not has_png:
            problems.append(f"{where}: shows a diagram, but no output of it has an image/png")
    return problems


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_picture_has_a_png(path):
    problems = picture_problems(_read(path))
    assert not problems, (f"{path.name}: pictures that an untrusted JupyterLab or a "
                          "code-hosting site may not show:\n" + "\n".join(problems))


# A 1x1 PNG, for the checks of the checker below.
PNG_1x1 = ("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAAC0lEQVR4nGNgAAIAAAUAAXpeqz8AAAAA"
           "SUVORK5CYII=")


def _notebook(source: str, *bundles: dict):
    from nbformat.v4 import new_code_cell, new_notebook, new_output

    outputs = [new_output("display_data", data=data) for data in bundles]
    return new_notebook(cells=[new_code_cell(source, outputs=outputs, execution_count=1)])


def test_picture_problems_finds_what_would_not_show():
    svg = {"image/svg+xml": "<svg/>", "text/plain": "<tinygrad_edu.viz.Diagram>"}
    assert picture_problems(_notebook("draw_graph(L)", svg))  # SVG only: untrusted Lab shows none
    assert picture_problems(_notebook("draw_graph(L)"))  # no output at all
    assert picture_problems(_notebook("x", {"text/plain": "<tinygrad_edu.viz.Diagram>"}))
    assert picture_problems(_notebook("x", {"text/html": "<div><svg></svg></div>"}))
    assert not picture_problems(_notebook("draw_graph(L)", {**svg, "image/png": PNG_1x1}))
    assert not picture_problems(_notebook("print(1)", {"text/plain": "1"}))
    player = {"text/html": f'<div><img src="data:image/png;base64,{PNG_1x1}"><button>',
              "text/plain": "<tinygrad_edu.plot.TrainingRecorder>"}
    assert not picture_problems(_notebook("recorder", player))
    assert _png_size(PNG_1x1) == (1, 1)


def test_shows_a_picture_reads_cells_as_meant():
    assert _shows_a_picture("a = 1\ndraw_graph(L)")
    assert _shows_a_picture("for n in steps:\n    display(viz.draw_graph(L, highlight=n))")
    assert _shows_a_picture("step_through(L, direction='forward')")
    assert not _shows_a_picture("draw_graph(L)\nprint(1)")
    assert not _shows_a_picture("try:\n    draw_graph(big)\nexcept E as e:\n    print(e)")
    assert not _shows_a_picture("def f():\n    display(draw_graph(L))")
