"""Run the course notebooks and save their outputs in them (this is what `make notebooks` runs).

    python scripts/run_notebooks.py                      # every notebooks/NN_*.ipynb
    python scripts/run_notebooks.py --html build/notebooks notebooks/02_*.ipynb

The executed outputs are committed, so every picture shows where a notebook is opened: on a
code-hosting site, in JupyterLab (pictures carry a PNG, which shows even in an untrusted
notebook) and in nbconvert HTML. Each notebook runs top to bottom in a fresh kernel, with
``notebooks/`` as working directory (as `pytest --nbmake` does), and is written back in place
only if every cell ran. What is written is made repeatable, so a rerun changes only what really
changed (measured times aside):

- no execution timestamps; consecutive pieces of one stream (stdout, stderr) are one output;
- widget views are dropped: their model lives only in the running kernel, so a saved view
  shows nothing. The other representations of the same output (a PNG, HTML) stay; an output
  left with plain text only (a progress bar at 0%) goes;
- memory addresses in plain-text representations (``<... at 0x7f...>``) are removed;
- the element ids that our HTML players and steppers draw at random (``tge`` and hex digits)
  become ids of the same shape derived from the notebook's name and the output's place;
- a PNG over 100 kB whose background is opaque (at its edges) is stored as a 256-colour
  PNG, flattened onto white: it looks the same and is 3-4 times smaller (a big network diagram:
  1.5 MB -> 0.46 MB). Pillow comes with matplotlib; without it PNGs are stored as they are.

The SHA-256 of the code cells that ran is stored in the notebook's metadata
(``tinygrad_edu.executed_code_sha256``); tests/test_notebook_outputs.py compares it with the
code now in the notebook, so outputs that no longer match their code fail the tests. Written
notebooks are also signed (as `jupyter trust` does), so this machine's JupyterLab shows their
SVG and HTML outputs too. ``--html DIR`` also writes an HTML copy of each into DIR.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import re
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
COURSE = ROOT / "notebooks"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+>")
RANDOM_ID = re.compile(r"\btge(-?)([0-9a-f]{8,12})\b")
BIG_PNG = 100_000  # bytes; smaller pictures are stored as drawn
METADATA_KEY = "tinygrad_edu"


def course_notebooks() -> list[Path]:
    """The numbered course notebooks, in order (exercises and solutions live in sub-folders)."""
    return sorted(COURSE.glob("[0-9][0-9]_*.ipynb"))


def code_hash(nb: Any) -> str:
    """SHA-256 of the notebook's code cells, in order (Markdown does not change outputs)."""
    digest = hashlib.sha256()
    for cell in nb.cells:
        if cell.cell_type == "code":
            digest.update(cell.source.encode("utf-8") + b"\0")
    return digest.hexdigest()


def _text(value: str | list[str]) -> str:
    return value if isinstance(value, str) else "".join(value)


def shrink_png(b64: str) -> str:
    """``b64`` (a base64 PNG) as a 256-colour PNG if it is big and opaque, else unchanged."""
    raw = base64.b64decode(b64)
    if len(raw) <= BIG_PNG:
        return b64
    try:
        from PIL import Image
    except ImportError:
        return b64
    image = Image.open(io.BytesIO(raw)).convert("RGBA")
    alpha = image.getchannel("A")
    width, height = image.size
    # Graphviz leaves the last column half transparent: look one pixel inside the edges.
    left, top, right, bottom = 1, 1, width - 2, height - 2
    if right <= left or bottom <= top:
        return b64
    border = [alpha.getpixel((x, y)) for x in range(left, right + 1) for y in (top, bottom)]
    border += [alpha.getpixel((x, y)) for y in range(top, bottom + 1) for x in (left, right)]
    if sum(a == 255 for a in border) < 0.9 * len(border):
        return b64  # a transparent background would turn white: keep it as drawn
    flat = Image.alpha_composite(Image.new("RGBA", image.size, "white"), image).convert("RGB")
    out = io.BytesIO()
    flat.quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(out, "PNG", optimize=True)
    smaller = out.getvalue()
    return base64.b64encode(smaller).decode("ascii") if len(smaller) < len(raw) else b64


def stable_ids(html: str, place: str) -> str:
    """``html`` with each random ``tge`` id replaced by one derived from ``place``."""
    new: dict[str, str] = {}

    def replace(m: re.Match[str]) -> str:
        if m.group(0) not in new:
            seed = f"{place}/{len(new)}".encode()
            new[m.group(0)] = f"tge{m.group(1)}" + hashlib.sha256(seed).hexdigest()[
                :len(m.group(2))]
        return new[m.group(0)]

    return RANDOM_ID.sub(replace, html)


def normalize(nb: Any, name: str = "") -> None:
    """Make the outputs of ``nb`` repeatable, in place (see the module docstring); ``name``
    (the notebook's file name) keeps the element ids of different notebooks apart."""
    nb.metadata.pop("widgets", None)
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        cell.metadata.pop("execution", None)
        outputs = []
        for number, out in enumerate(cell.outputs):
            if out.output_type == "stream":
                out.text = _text(out.text)
                if outputs and outputs[-1].output_type == "stream" and outputs[-1].name == out.name:
                    outputs[-1].text += out.text
                    continue
            elif out.output_type in ("display_data", "execute_result"):
                data = out.data
                widget = data.pop(WIDGET_VIEW, None) is not None
                if widget and set(data) <= {"text/plain"}:
                    continue  # a widget with no picture of itself (a progress bar)
                if "text/plain" in data:
                    data["text/plain"] = ADDRESS.sub(">", _text(data["text/plain"]))
                if "image/png" in data:
                    data["image/png"] = shrink_png(_text(data["image/png"]))
                if "text/html" in data:
                    data["text/html"] = stable_ids(_text(data["text/html"]),
                                                   f"{name}/{index}/{number}")
            outputs.append(out)
        cell.outputs = outputs


def execute(path: Path, timeout: int, kernel_name: str) -> tuple[Any, str | None]:
    """Run ``path`` in a fresh kernel; return the executed notebook and None, or the error."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=timeout, kernel_name=kernel_name, record_timing=False,
                            resources={"metadata": {"path": str(path.parent)}})
    try:
        client.execute()
    except CellExecutionError as exc:
        lines = str(exc).strip().splitlines()
        return nb, lines[-1] if lines else repr(exc)
    except Exception as exc:  # kernel died, timeout, ...
        return nb, f"{type(exc).__name__}: {exc}"
    return nb, None


def save(nb: Any, path: Path, html_dir: Path | None) -> None:
    """Normalize, stamp and write the executed ``nb`` to ``path``; sign it; write its HTML."""
    import nbformat

    normalize(nb, path.name)
    nb.metadata[METADATA_KEY] = {"executed_code_sha256": code_hash(nb)}
    nbformat.validate(nb)
    nbformat.write(nb, path)
    try:
        from nbformat.sign import NotebookNotary

        NotebookNotary().sign(nb)
    except Exception as exc:  # a read-only home: pictures still show, from their PNGs
        print(f"    (not signed: {exc})")
    if html_dir is not None:
        from nbconvert import HTMLExporter

        html_dir.mkdir(parents=True, exist_ok=True)
        body, _ = HTMLExporter().from_notebook_node(nb)
        (html_dir / f"{path.stem}.html").write_text(body, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path,
                        help="notebooks to run (default: every notebooks/NN_*.ipynb)")
    parser.add_argument("--html", type=Path, metavar="DIR", help="also write HTML copies here")
    parser.add_argument("--timeout", type=int, default=600, help="seconds per cell")
    parser.add_argument("--kernel", default="python3", help="Jupyter kernel name")
    args = parser.parse_args(argv)
    try:
        import nbclient  # noqa: F401
        import nbconvert  # noqa: F401
        import nbformat  # noqa: F401
    except ImportError as exc:
        print(f"error: {exc.name} is missing; install the notebooks extra:\n"
              "  .venv/bin/python -m pip install -e '.[notebooks]'   (or run `make notebooks`)",
              file=sys.stderr)
        return 2
    notebooks = [p.resolve() for p in args.notebooks] or course_notebooks()
    missing = [str(p) for p in notebooks if not p.is_file()]
    if missing or not notebooks:
        print(f"error: no such notebook: {', '.join(missing) or 'notebooks/NN_*.ipynb'}",
              file=sys.stderr)
        return 2

    failed = []
    start_all = time.perf_counter()
    for path in notebooks:
        start = time.perf_counter()
        shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
        print(f"running {shown} ...", end=" ", flush=True)
        nb, error = execute(path, args.timeout, args.kernel)
        seconds = time.perf_counter() - start
        if error is None:
            save(nb, path, args.html)
            print(f"ok ({seconds:.1f} s), outputs saved")
        else:
            print(f"FAILED ({seconds:.1f} s), left unchanged\n    {error}")
            failed.append(path.name)
    total = time.perf_counter() - start_all
    print(f"{len(notebooks) - len(failed)}/{len(notebooks)} notebooks ran in {total:.1f} s"
          + (f"; HTML copies in {args.html}/" if args.html else ""))
    if failed:
        print("failed: " + ", ".join(failed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
