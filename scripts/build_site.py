"""Build the browser course: a JupyterLite site in build/site/ (this is what `make site` runs).

    python scripts/build_site.py [--out build/site]

Runs in the site's own venv (.venv-site, made by `make site` from scripts/requirements-site.txt)
after `npm ci` has put the pinned npm packages in node_modules/. Everything the site serves
comes from those pinned packages and this work tree:

- the JupyterLite app and its Pyodide kernel (PyPI: jupyterlite-core, jupyterlite-pyodide-kernel),
  with ipywidgets' front end (jupyterlab_widgets);
- Pyodide's core files from the npm package ``pyodide``, whose version must be the kernel's;
- a Pyodide package lock made by the kernel's own lock tooling (``--pyodide-lock``: pyodide-lock
  and uv, hashes computed from the files): tinygrad_edu's wheel, graphviz, ipywidgets and all
  that the kernel itself loads (IPython and its dependencies, at the versions Pyodide's lock
  names) are files of the site. Everything else in Pyodide's lock (NumPy, matplotlib, ...)
  stays on Pyodide's CDN, the one place the site may fetch from, and only when a notebook
  needs it;
- viz.js (npm ``@viz-js/viz``) in static/viz-js/, which draws the pictures (dot_backend.py);
- the notebooks (notebooks/NN_*.ipynb, exercises/, solutions/), each with a first cell that
  runs ``await tinygrad_edu.browser.setup(...)``.

The result is static files: serve build/site/ from any web server (a Pages site).
"""

from __future__ import annotations

import argparse
import ast
import copy
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
NODE_MODULES = ROOT / "node_modules"
PYODIDE_NPM = NODE_MODULES / "pyodide"
VIZ_JS = NODE_MODULES / "@viz-js" / "viz" / "dist" / "viz.js"
VIZ_JS_SITE_PATH = "static/viz-js/viz.js"  # tinygrad_edu.dot_backend.VIZ_JS_PATH
# Pyodide's core files (the npm package also holds type declarations, maps and demo pages).
PYODIDE_CORE = ("pyodide.mjs", "pyodide.asm.mjs", "pyodide.asm.wasm", "python_stdlib.zip",
                "pyodide-lock.json")
# What the kernel loads at start (pyodide-kernel's worker: micropip, then ipykernel, comm,
# pyodide-kernel, jedi, ipython): with their dependencies, from Pyodide's lock at its versions.
KERNEL_ROOTS = ("ipython", "jedi", "micropip", "packaging", "traitlets")
# What tinygrad_edu's notebooks need besides the kernel, pinned (ipywidgets matches the
# jupyterlab_widgets front end in requirements-site.txt).
BROWSER_PACKAGES = ("graphviz==0.21", "ipywidgets==8.1.9", "comm==0.2.3")
# Loaded with the kernel, so the first cell does not wait for them.
PREFETCH = ("tinygrad_edu", "graphviz", "ipywidgets")
# Modules that Pyodide fetches from its CDN; a notebook importing one says so in its first cell.
FROM_CDN = {"numpy", "matplotlib", "sklearn", "scipy", "PIL", "pandas"}
NEEDS = {"tinygrad_edu.plot": "matplotlib", "tinygrad_edu.interop": "torch"}  # as browser.NEEDS


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def fail(message: str) -> None:
    print(f"error: {message}", file=sys.stderr)
    raise SystemExit(1)


def kernel_version() -> str:
    from jupyterlite_pyodide_kernel.constants import PYODIDE_VERSION

    return PYODIDE_VERSION


def check_pyodide() -> None:
    """The npm package must be exactly the Pyodide the kernel was built for."""
    if not PYODIDE_NPM.is_dir():
        fail(f"{PYODIDE_NPM.relative_to(ROOT)} is missing: run `npm ci` (make site does)")
    npm = json.loads((PYODIDE_NPM / "package.json").read_text())["version"]
    wanted = kernel_version()
    if npm != wanted:
        fail(f"node_modules has pyodide {npm}, but jupyterlite-pyodide-kernel needs exactly "
             f"{wanted}: pin \"pyodide\": \"{wanted}\" in package.json, then `npm install`")
    if not VIZ_JS.is_file():
        fail(f"{VIZ_JS.relative_to(ROOT)} is missing: run `npm ci` (make site does)")


def kernel_specs(lock: dict) -> list[str]:
    """The kernel's packages and their dependencies, pinned to Pyodide's lock."""
    packages = {canonical(name): spec for name, spec in lock["packages"].items()}
    seen: dict[str, str] = {}
    todo = list(KERNEL_ROOTS)
    while todo:
        name = canonical(todo.pop())
        if name in seen:
            continue
        spec = packages[name]
        seen[name] = spec["version"]
        todo.extend(spec["depends"])
    return [f"{name}=={version}" for name, version in sorted(seen.items())]


def build_wheel(dest: Path) -> Path:
    """tinygrad_edu's wheel, built from a copy (setuptools' build/ stays out of the tree)."""
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "src"
        src.mkdir()
        for name in ("pyproject.toml", "README.md"):
            shutil.copy(ROOT / name, src / name)
        shutil.copytree(ROOT / "tinygrad_edu", src / "tinygrad_edu",
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
                        "--no-build-isolation", "--no-index", "--wheel-dir", str(dest), str(src)],
                       check=True)
    (wheel,) = dest.glob("tinygrad_edu-*.whl")
    return wheel


def imported(nb: dict) -> set[str]:
    """The top-level modules a notebook's code imports (tinygrad_edu.plot counts as matplotlib)."""
    found: set[str] = set()
    for cell in nb["cells"]:
        if cell["cell_type"] != "code":
            continue
        try:
            tree = ast.parse("".join(cell["source"]))
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            modules = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                       [node.module] if isinstance(node, ast.ImportFrom) and node.module else [])
            found.update(NEEDS.get(m, m).split(".")[0] for m in modules)
    return found


def _cell(cell_type: str, source: str, cell_id: str) -> dict:
    cell = {"cell_type": cell_type, "id": cell_id, "metadata": {}, "source": source}
    if cell_type == "code":
        cell.update(execution_count=None, outputs=[])
    return cell


def browser_copy(path: Path) -> dict:
    """The notebook as the site serves it: a first cell that gets the browser ready."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    nb = copy.deepcopy(nb)
    for key in ("jupytext", "tinygrad_edu"):
        nb["metadata"].pop(key, None)
    nb["metadata"]["kernelspec"] = {"display_name": "Python (Pyodide)", "language": "python",
                                    "name": "python"}
    modules = imported(nb)
    needs = sorted(modules & FROM_CDN)
    note = ("**In your browser.** This notebook runs in this page: Python is Pyodide, and "
            "nothing is installed on your computer. Run the next cell first (Shift+Enter): it "
            "gets the pictures ready")
    if needs:
        names = ", ".join(needs)
        note += (f" and loads {names} from Pyodide's CDN. That needs an internet connection; "
                 f"without one, each cell that needs {names} says what it skipped and runs the "
                 "rest")
    note += "."
    if "torch" in modules:
        note += " PyTorch does not run in a browser: the sections comparing with it are skipped."
    setup = f"import tinygrad_edu.browser\n\nawait tinygrad_edu.browser.setup(needs={needs!r})"
    nb["cells"][:0] = [_cell("markdown", note, "browser-note"),
                       _cell("code", setup, "browser-setup")]
    return nb


def write_contents(files: Path) -> list[Path]:
    """The notebooks, laid out as in notebooks/ (without the jupytext sources)."""
    written = []
    for path in sorted(NOTEBOOKS.rglob("*.ipynb")):
        rel = path.relative_to(NOTEBOOKS)
        if "sources" in rel.parts or ".ipynb_checkpoints" in rel.parts:
            continue
        if len(rel.parts) == 1 and not re.match(r"\d\d_", rel.name):
            continue
        target = files / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(browser_copy(path), indent=1, ensure_ascii=False) + "\n",
                          encoding="utf-8")
        written.append(rel)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "site")
    parser.add_argument("--work", type=Path, default=ROOT / "build" / "site-work",
                        help="JupyterLite's project folder and caches")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    check_pyodide()
    out, work = args.out.resolve(), args.work.resolve()
    lite = work / "lite"
    shutil.rmtree(lite, ignore_errors=True)
    (lite / "static" / "pyodide").mkdir(parents=True)
    for name in PYODIDE_CORE:
        shutil.copy(PYODIDE_NPM / name, lite / "static" / "pyodide" / name)
    lock = json.loads((PYODIDE_NPM / "pyodide-lock.json").read_text())

    wheels = work / "wheels"
    shutil.rmtree(wheels, ignore_errors=True)
    wheel = build_wheel(wheels)
    from jupyterlite_pyodide_kernel.constants import PYODIDE_KERNEL_NPM_NAME

    kernel_pypi = (Path(sys.prefix) / "share" / "jupyter" / "labextensions"
                   / PYODIDE_KERNEL_NPM_NAME / "static" / "pypi")
    (widgets_shim,) = kernel_pypi.glob("widgetsnbextension-4.*.whl")
    notebooks = write_contents(lite / "files")

    config = {
        "LiteBuildConfig": {
            "contents": ["files"],
            "apps": ["lab", "notebooks", "tree"],
            "no_sourcemaps": True,
            "no_unused_shared_packages": True,
        },
        "PyodideLockAddon": {
            "enabled": True,
            # our wheel, and the kernel's stand-in for widgetsnbextension (not the real
            # one's 2 MB of classic-notebook scripts)
            "wheels": [str(wheels), str(widgets_shim)],
            "specs": ["tinygrad_edu", *BROWSER_PACKAGES, *kernel_specs(lock)],
            # the widget front end is the site's, not a Python package in the kernel
            "excludes_extra": ["jupyterlab-widgets"],
            "prefetch_extra": list(PREFETCH),
        },
    }
    (lite / "jupyter_lite_config.json").write_text(json.dumps(config, indent=2))
    kernel_settings = {"disablePyPIFallback": True}  # %pip never reaches PyPI from the site
    (lite / "jupyter-lite.json").write_text(json.dumps({
        "jupyter-lite-schema-version": 0,
        "jupyter-config-data": {
            "appName": "tinygrad_edu: the course in your browser",
            "exposeAppInBrowser": True,  # window.jupyterapp, for tests/site
            "litePluginSettings": {"@jupyterlite/pyodide-kernel-extension:kernel":
                                   kernel_settings},
        },
    }, indent=2))

    shutil.rmtree(out, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "jupyterlite_core", "build", "--lite-dir", str(lite),
                    "--output-dir", str(out)], check=True, cwd=lite)
    (out / VIZ_JS_SITE_PATH).parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(VIZ_JS, out / VIZ_JS_SITE_PATH)
    (out / ".nojekyll").write_text("")  # a Pages site serves files whose names start with _

    local, remote = check_lock(out)
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    print(f"site: {out} ({size / 1e6:.0f} MB) in {time.perf_counter() - start:.0f} s")
    print(f"  wheel: {wheel.name}")
    print(f"  notebooks: {len(notebooks)} ({', '.join(str(n) for n in notebooks[:3])}, ...)")
    print(f"  packages on the site: {len(local)}; from Pyodide's CDN when a notebook needs "
          f"them: {len(remote)} (numpy, matplotlib, ...)")
    return 0


def check_lock(out: Path) -> tuple[list[str], list[str]]:
    """Every package the kernel or tinygrad_edu needs is a file of the site."""
    lock = json.loads((out / "static" / "pyodide-lock" / "pyodide-lock.json").read_text())
    local = sorted(n for n, p in lock["packages"].items() if "://" not in p["file_name"])
    remote = sorted(n for n, p in lock["packages"].items() if "://" in p["file_name"])
    needed = {canonical(s.split("==")[0]) for s in BROWSER_PACKAGES}
    needed |= {canonical(s) for s in (*KERNEL_ROOTS, "tinygrad_edu", "pyodide-kernel",
                                      "ipykernel", "piplite", "widgetsnbextension")}
    missing = sorted(needed - {canonical(n) for n in local})
    if missing:
        fail(f"these packages would come from the network, not the site: {missing}")
    settings = json.loads((out / "jupyter-lite.json").read_text())["jupyter-config-data"]
    kernel = settings["litePluginSettings"]["@jupyterlite/pyodide-kernel-extension:kernel"]
    if kernel.get("pyodideUrl") != "./static/pyodide/pyodide.mjs":
        fail(f"the kernel would load Pyodide from {kernel.get('pyodideUrl')!r}, not the site")
    return local, remote


if __name__ == "__main__":
    sys.exit(main())
