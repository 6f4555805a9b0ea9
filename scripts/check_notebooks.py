"""Check that every notebook's .ipynb holds exactly the cells of its jupytext source.

The source of a notebook ``notebooks/NN_name.ipynb`` is the py:percent file
``notebooks/sources/NN_name.py`` (a ``sources/`` folder beside the notebooks, so learners see
each notebook once in JupyterLab's file browser); the pair is declared in the notebook's
metadata (jupytext ``formats: ipynb,sources//py:percent``) and the ``.ipynb`` may also hold
outputs. After editing a source, update its pair with ``make sync`` (``jupytext --update --to
ipynb``), which keeps the outputs of unchanged cells. This script (run by ``make lint``) fails
when:

- a ``.ipynb`` has no source in ``sources/``, or a source no ``.ipynb``;
- a ``.py`` lies beside the notebooks (it belongs in ``sources/``);
- the pair is not declared in the notebook's metadata;
- the cells differ: jupytext's own ``compare_notebooks`` compares their inputs and metadata.

Folders checked: ``notebooks/`` and every folder below it (``notebooks/exercises/``,
``notebooks/solutions/``, ...), skipping ``.ipynb_checkpoints``.

    python scripts/check_notebooks.py            # from the repository root
"""

from __future__ import annotations

import difflib
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
SOURCES = "sources"  # the folder of the .py sources, beside the notebooks
FORMATS = f"ipynb,{SOURCES}//py:percent"


def notebook_files(folder: Path, suffix: str) -> list[Path]:
    return sorted(p for p in folder.rglob(f"*{suffix}") if ".ipynb_checkpoints" not in p.parts)


def source_of(notebook: Path) -> Path:
    """The jupytext source of ``notebook``: ``sources/NAME.py`` in the notebook's folder."""
    return notebook.parent / SOURCES / f"{notebook.stem}.py"


def notebook_of(source: Path) -> Path:
    """The notebook paired with ``source`` (``sources/NAME.py``): ``NAME.ipynb`` one folder up."""
    return source.parent.parent / f"{source.stem}.ipynb"


def cells_text(nb) -> str:
    """The cells of ``nb`` as py:percent text, without the metadata header."""
    import copy

    import jupytext

    bare = copy.deepcopy(nb)
    bare.metadata = {}
    return jupytext.writes(bare, fmt="py:percent")


def check_pair(source: Path, paired: Path) -> str | None:
    """None if ``paired`` (.ipynb) holds the cells of ``source`` (.py), else what differs."""
    import jupytext
    from jupytext.compare import NotebookDifference, compare_notebooks

    nb_source = jupytext.read(source, fmt="py:percent")
    nb_paired = jupytext.read(paired)
    formats = nb_paired.metadata.get("jupytext", {}).get("formats")
    if formats != FORMATS:
        return (f"its metadata pairs it with {formats!r}, not {FORMATS!r}: run "
                f"`jupytext --set-formats {FORMATS} {paired.relative_to(ROOT)}`")
    try:
        compare_notebooks(nb_paired, nb_source, fmt="py:percent",
                          allow_expected_differences=False, raise_on_first_difference=False)
    except NotebookDifference as diff:
        # jupytext's summary names the cells; a diff of the cells as py:percent text shows how.
        lines = difflib.unified_diff(
            cells_text(nb_source).splitlines(), cells_text(nb_paired).splitlines(),
            fromfile=str(source.relative_to(ROOT)), tofile=str(paired.relative_to(ROOT)),
            lineterm="", n=1)
        return f"its cells differ from {source.name} ({diff}):\n" + "\n".join(lines)
    return None


def main() -> int:
    try:
        import jupytext  # noqa: F401
    except ImportError:
        print("error: jupytext is missing; install the dev extra "
              "(`make lint` does: .venv/bin/python -m pip install -e '.[dev]')", file=sys.stderr)
        return 2
    problems = []
    python_files = notebook_files(NOTEBOOKS, ".py")
    sources = [p for p in python_files if p.parent.name == SOURCES]
    pairs = [p for p in notebook_files(NOTEBOOKS, ".ipynb") if p.parent.name != SOURCES]
    for stray in sorted(set(python_files) - set(sources)):
        problems.append(f"{stray.relative_to(ROOT)}: notebook sources live in {SOURCES}/ "
                        f"beside the notebooks: git mv it to "
                        f"{(stray.parent / SOURCES / stray.name).relative_to(ROOT)} and set "
                        f"`formats: {FORMATS}` in its header")
    for paired in pairs:
        if not source_of(paired).exists():
            problems.append(f"{paired.relative_to(ROOT)}: no source "
                            f"{source_of(paired).relative_to(ROOT)}; create it with "
                            f"`jupytext --set-formats {FORMATS} {paired.relative_to(ROOT)}`")
    for source in sources:
        paired = notebook_of(source)
        if not paired.exists():
            problems.append(f"{source.relative_to(ROOT)}: no {paired.relative_to(ROOT)}; "
                            "create it with `make sync`")
            continue
        problem = check_pair(source, paired)
        if problem:
            problems.append(f"{paired.relative_to(ROOT)}: {problem}")
    if problems:
        print("\n".join(problems), file=sys.stderr)
        print("Edit the .py source, then run `make sync` to update the .ipynb.", file=sys.stderr)
        return 1
    print(f"{len(sources)} notebooks match their jupytext sources")
    return 0


if __name__ == "__main__":
    sys.exit(main())
