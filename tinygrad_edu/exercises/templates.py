"""Make the exercise notebooks from the solution notebooks (for maintainers).

The solutions in ``notebooks/solutions/sources/*.py`` (jupytext percent files) are the source. A
learner's template is the same file with every body that follows a ``# YOUR CODE HERE`` line
replaced by ``raise NotImplementedError("E2: write Value.__add__")``, and " — solution"
dropped from the title. So the two can never drift apart: edit a solution, then run

    python -m tinygrad_edu.exercises.templates

which rewrites ``notebooks/exercises/sources/*.py`` and, when jupytext is installed, the paired
``.ipynb`` of both, one folder up (``jupytext --to ipynb --update`` keeps the cell ids).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

MARKER = "# YOUR CODE HERE"
_DEF = re.compile(r"^(?P<indent>\s*)(?:def|class)\s+(?P<name>\w+)")


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def make_template(solution: str, exercise: str) -> str:
    """The template text for a solution's text: the code after each marker becomes a blank."""
    lines = solution.splitlines()
    out: list[str] = []
    scopes: list[tuple[int, str]] = []  # enclosing (indent, name) of def/class, for the message
    i = 0
    while i < len(lines):
        line = lines[i]
        m = _DEF.match(line)
        if m:
            depth = len(m.group("indent"))
            scopes = [s for s in scopes if s[0] < depth] + [(depth, m.group("name"))]
        if line.strip() != MARKER:
            out.append(line.replace(" — solution", "", 1) if line.startswith("# # E")
                       else line)
            i += 1
            continue
        depth = _indent(line)
        where = ".".join(name for d, name in scopes if d < depth)
        out.append(line)
        out.append(" " * depth + f'raise NotImplementedError("{exercise}: write {where}")')
        i += 1
        # skip the solution's body: everything indented at least as deep as the marker
        while i < len(lines) and (not lines[i].strip() or _indent(lines[i]) >= depth):
            if not lines[i].strip() and _next_is_shallower(lines, i, depth):
                break
            i += 1
    return "\n".join(out) + "\n"


def _next_is_shallower(lines: list[str], i: int, depth: int) -> bool:
    for line in lines[i:]:
        if line.strip():
            return _indent(line) < depth
    return True


def main(root: Path) -> None:
    solutions = sorted((root / "notebooks" / "solutions" / "sources").glob("E*.py"))
    target = root / "notebooks" / "exercises" / "sources"
    target.mkdir(parents=True, exist_ok=True)
    jupytext = shutil.which("jupytext") or str(Path(sys.executable).parent / "jupytext")
    for sol in solutions:
        exercise = sol.name.split("_")[0]
        tpl = target / sol.name
        tpl.write_text(make_template(sol.read_text(encoding="utf-8"), exercise),
                       encoding="utf-8")
        print(f"wrote {tpl.relative_to(root)}")
        if Path(jupytext).exists():
            for py in (sol, tpl):
                ipynb = py.parent.parent / f"{py.stem}.ipynb"  # sources/NAME.py -> NAME.ipynb
                subprocess.run([jupytext, "--quiet", "--to", "ipynb", "--update",
                                "-o", str(ipynb), str(py)], check=True)
                print(f"wrote {ipynb.relative_to(root)}")


if __name__ == "__main__":
    main(Path(__file__).resolve().parents[2])
