"""Write the teaching notebooks in notebooks/ from their sources in scripts/notebook_sources/.

Edit the sources, then run (outputs are not committed, so the written notebooks are empty of
outputs and small):

    .venv/bin/python scripts/build_notebooks.py            # writes notebooks/*.ipynb
    .venv/bin/python scripts/build_notebooks.py --check    # exit 1 if a notebook is stale

A source is a text file of cells. A line ``# %% [markdown]`` starts a Markdown cell, a line
``# %%`` starts a code cell; everything up to the next marker is the cell's text (Markdown is
written as is, not commented out). Cell ids are numbered, so rebuilding gives the same file.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ROOT / "scripts" / "notebook_sources"
TARGET = ROOT / "notebooks"
MARKER = re.compile(r"^# %%(?P<md> \[markdown\])?\s*$")


def parse(text: str) -> list[tuple[str, str]]:
    """The cells of a source as (kind, text) pairs, kind "markdown" or "code"."""
    cells: list[tuple[str, list[str]]] = []
    for line in text.splitlines():
        m = MARKER.match(line)
        if m:
            cells.append(("markdown" if m.group("md") else "code", []))
        elif cells:
            cells[-1][1].append(line)
        elif line.strip():
            raise ValueError(f"text before the first '# %%' marker: {line!r}")
    out = []
    for kind, lines in cells:
        body = "\n".join(lines).strip("\n")
        if body.strip():
            out.append((kind, body))
    return out


def build(source: Path):
    """The notebook (an nbformat node) for one source file."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

    stem = source.stem
    cells = []
    for i, (kind, body) in enumerate(parse(source.read_text(encoding="utf-8"))):
        make = new_markdown_cell if kind == "markdown" else new_code_cell
        cells.append(make(body, id=f"{stem[:2]}-{i:03d}"))
    nb = new_notebook(
        cells=cells,
        metadata={
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        },
    )
    nbformat.validate(nb)
    return nb


def main(argv: list[str] | None = None) -> int:
    import nbformat

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true",
                        help="only compare; exit 1 if a notebook differs from its source")
    args = parser.parse_args(argv)
    stale = []
    for source in sorted(SOURCES.glob("*.txt")):
        target = TARGET / f"{source.stem}.ipynb"
        text = nbformat.writes(build(source)) + "\n"
        old = target.read_text(encoding="utf-8") if target.exists() else None
        if old == text:
            continue
        if args.check:
            stale.append(target.name)
        else:
            target.write_text(text, encoding="utf-8")
            print(f"wrote {target.relative_to(ROOT)}")
    if stale:
        print("stale (run scripts/build_notebooks.py): " + ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
