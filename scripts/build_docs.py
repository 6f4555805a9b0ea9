"""Build the documentation site into build/docs/ (this is what `make docs` runs).

    python scripts/build_docs.py [--out build/docs]

Sphinx, myst-nb and furo, offline. The pages are docs/*.md; this script puts them in a
staging folder with what they show:

- the notebooks (notebooks/NN_*.ipynb as course/, notebooks/exercises/ as course/exercises/),
  as pages with their committed outputs (nothing is executed here);
- an API reference page per module of tinygrad_edu, from its docstrings (autodoc), so a new
  module gets its page without an edit here;
- MathJax from the npm package (node_modules/mathjax, `npm ci`), served by the site itself.

Then it checks the built pages: no script, style sheet, font or image is loaded from another
host (links to other sites are fine: a reader follows them, a page does not load them).
"""

from __future__ import annotations

import argparse
import pkgutil
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
NOTEBOOKS = ROOT / "notebooks"
MATHJAX = ROOT / "node_modules" / "mathjax" / "es5"
# What MathJax's tex-chtml.js loads at run time: TeX extensions, the CHTML fonts, the menu and
# the accessibility parts it enables by default.
MATHJAX_PARTS = ("tex-chtml.js", "input/tex/extensions", "output/chtml/fonts/woff-v2", "ui",
                 "a11y", "adaptors")
# A page may not load anything from elsewhere: src= of any element, and href= of <link>.
REMOTE_LOAD = re.compile(r"""<(?:script|img|iframe|audio|video|source|embed)\b[^>]*\bsrc=["']"""
                         r"""(?:https?:)?//|<link\b[^>]*\bhref=["'](?:https?:)?//""", re.I)
REMOTE_CSS = re.compile(r"""(?:@import|url\()\s*["']?(?:https?:)?//""", re.I)


def modules() -> list[str]:
    """Every public module of tinygrad_edu (not _private ones, not __main__)."""
    import tinygrad_edu

    names = ["tinygrad_edu"]
    for info in pkgutil.walk_packages(tinygrad_edu.__path__, "tinygrad_edu."):
        if not any(part.startswith("_") for part in info.name.split(".")):
            names.append(info.name)
    return sorted(names)


def write_api(staging: Path) -> int:
    api = staging / "api"
    api.mkdir()
    names = modules()
    for name in names:
        # the package's own names are documented where they are defined (engine, ...)
        members = "\n   :no-members:" if name == "tinygrad_edu" else "\n   :members:"
        (api / f"{name}.md").write_text(
            f"# `{name}`\n\n```{{eval-rst}}\n.. automodule:: {name}{members}\n```\n",
            encoding="utf-8")
    toctree = "\n".join(names)
    (api / "index.md").write_text(
        "# API reference\n\nEvery module, from its docstrings. The public names and what they "
        "promise are in the pages before this one; this is the detail.\n\n"
        f"```{{toctree}}\n:maxdepth: 1\n\n{toctree}\n```\n", encoding="utf-8")
    return len(names)


def copy_notebooks(staging: Path) -> int:
    course = staging / "course"
    count = 0
    for pattern, target in (("[0-9][0-9]_*.ipynb", course),
                            ("exercises/E*.ipynb", course / "exercises")):
        target.mkdir(parents=True, exist_ok=True)
        for path in sorted(NOTEBOOKS.glob(pattern)):
            shutil.copy(path, target / path.name)
            count += 1
    return count


def copy_mathjax(staging: Path) -> None:
    if not MATHJAX.is_dir():
        print(f"error: {MATHJAX.relative_to(ROOT)} is missing: run `npm ci` (make docs does)",
              file=sys.stderr)
        raise SystemExit(1)
    target = staging / "_static" / "mathjax"
    for part in MATHJAX_PARTS:
        src, dst = MATHJAX / part, target / part
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, dst)
        else:
            shutil.copy(src, dst)


def remote_loads(out: Path) -> list[str]:
    found = []
    for path in out.rglob("*"):
        if path.suffix not in (".html", ".css") or not path.is_file():
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        pattern = REMOTE_LOAD if path.suffix == ".html" else REMOTE_CSS
        for m in pattern.finditer(text):
            found.append(f"{path.relative_to(out)}: {text[m.start():m.end() + 60]!r}")
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "docs")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    staging = ROOT / "build" / "docs-src"
    shutil.rmtree(staging, ignore_errors=True)
    shutil.copytree(DOCS, staging)
    (staging / "_static").mkdir(exist_ok=True)
    notebooks = copy_notebooks(staging)
    pages = write_api(staging)
    copy_mathjax(staging)
    out = args.out.resolve()
    shutil.rmtree(out, ignore_errors=True)
    done = subprocess.run([sys.executable, "-m", "sphinx", "-b", "html", "-q", "-j", "2",
                           str(staging), str(out)], check=False)
    if done.returncode != 0:
        return done.returncode
    problems = remote_loads(out)
    if problems:
        print("error: these pages load files from other hosts:\n  " + "\n  ".join(problems),
              file=sys.stderr)
        return 1
    print(f"docs: {out} ({notebooks} notebooks, {pages} API pages) in "
          f"{time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
