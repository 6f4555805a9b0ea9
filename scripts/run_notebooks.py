"""Execute every notebook in a fresh kernel and save the executed copies (with outputs).

Usage (this is what `make notebooks` runs):

    python scripts/run_notebooks.py notebooks build/notebooks

Each ``*.ipynb`` in the source folder runs top to bottom in its own new kernel, with the
source folder as working directory (as `pytest --nbmake` does). The executed copy goes to the
output folder under the same name, ready to open in Jupyter. The committed notebooks are only
read, never written. A notebook that fails is still saved (with the error in its outputs);
the script then exits with status 1 and names it.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path


def run_one(src: Path, dst: Path, timeout: int, kernel_name: str) -> str | None:
    """Execute ``src`` into ``dst``; return None on success or the error text."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    nb = nbformat.read(src, as_version=4)
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name=kernel_name,
        resources={"metadata": {"path": str(src.parent.resolve())}},
    )
    error = None
    try:
        client.execute()
    except CellExecutionError as exc:
        error = str(exc).strip().splitlines()[-1] if str(exc).strip() else repr(exc)
    except Exception as exc:  # kernel died, timeout, ...: still save what ran
        error = f"{type(exc).__name__}: {exc}"
    dst.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, dst)
    return error


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("src", type=Path, help="folder with the notebooks (read only)")
    parser.add_argument("dst", type=Path, help="folder for the executed copies")
    parser.add_argument("--timeout", type=int, default=600, help="seconds per cell")
    parser.add_argument("--kernel", default="python3", help="Jupyter kernel name")
    args = parser.parse_args(argv)

    try:
        import nbclient  # noqa: F401
        import nbformat  # noqa: F401
    except ImportError:
        print(
            "error: nbclient/nbformat are missing; install the notebooks extra:\n"
            "  .venv/bin/python -m pip install -e '.[notebooks]'   (or run `make notebooks`)",
            file=sys.stderr,
        )
        return 2

    src_dir: Path = args.src
    if not src_dir.is_dir():
        print(f"error: {src_dir} is not a folder of notebooks", file=sys.stderr)
        return 2
    notebooks = sorted(src_dir.glob("*.ipynb"))
    if not notebooks:
        print(f"error: no .ipynb files in {src_dir}", file=sys.stderr)
        return 2
    dst_dir: Path = args.dst
    if dst_dir.resolve() == src_dir.resolve():
        print("error: the output folder must differ from the source folder "
              "(the committed notebooks are never overwritten)", file=sys.stderr)
        return 2

    failed = []
    start_all = time.perf_counter()
    for src in notebooks:
        dst = dst_dir / src.name
        start = time.perf_counter()
        print(f"running {src} ...", end=" ", flush=True)
        error = run_one(src, dst, args.timeout, args.kernel)
        seconds = time.perf_counter() - start
        if error is None:
            print(f"ok ({seconds:.1f} s) -> {dst}")
        else:
            print(f"FAILED ({seconds:.1f} s) -> {dst}\n    {error}")
            failed.append(src.name)
    total = time.perf_counter() - start_all
    print(f"{len(notebooks) - len(failed)}/{len(notebooks)} notebooks ran in {total:.1f} s; "
          f"executed copies are in {dst_dir}/ (open them with `jupyter lab {dst_dir}`)")
    if failed:
        print("failed: " + ", ".join(failed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
