"""A normal (non-editable) install has the whole package.

Every other test imports tinygrad_edu from the source tree, so a subpackage missing from the
wheel (as `tinygrad_edu.exercises` once was) would go unseen. Here the wheel is built from the
source tree, installed with `pip install --no-deps --no-index` into a fresh venv that sees no
site packages, and used from there: every module that needs no extra imports, every module that
needs one names it, and each exercise checker runs (and passes a right answer) from there.
No network: the wheel is built with the setuptools already installed (no build isolation).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "tinygrad_edu"
# Third-party packages behind the extras (pyproject.toml): a module may need one of these.
EXTRAS = {"graphviz", "matplotlib", "torch", "numpy", "PIL", "tqdm", "ipywidgets", "IPython"}


def source_modules() -> list[str]:
    """Every module of the source tree, dotted (``tinygrad_edu.exercises.engine_check``)."""
    names = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    # Built from a copy, so that setuptools' build/ and .egg-info stay out of the work tree.
    src = tmp_path_factory.mktemp("src")
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        if (ROOT / name).exists():
            shutil.copy(ROOT / name, src / name)
    shutil.copytree(PACKAGE, src / PACKAGE.name,
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-I", "-m", "pip", "wheel", "--no-deps",
                    "--no-build-isolation", "--no-index", "--quiet", "--wheel-dir", str(out),
                    str(src)], check=True, cwd=out)
    (found,) = out.glob("tinygrad_edu-*.whl")
    return found


@pytest.fixture(scope="module")
def fresh_python(wheel, tmp_path_factory) -> Path:
    """A new venv (no system site packages) with only the built wheel installed."""
    env_dir = tmp_path_factory.mktemp("venv")
    venv.EnvBuilder(with_pip=True, system_site_packages=False).create(env_dir)
    python = env_dir / "bin" / "python"
    subprocess.run([str(python), "-I", "-m", "pip", "install", "--no-deps", "--no-index", "--quiet",
                    "--disable-pip-version-check", str(wheel)], check=True)
    return python


def run_in(python: Path, code: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    # -I: isolated mode, so neither PYTHONPATH nor the current folder can supply the package
    return subprocess.run([str(python), "-I", "-c", code], capture_output=True, text=True,
                          cwd=cwd, timeout=300)


def test_wheel_holds_every_module_and_the_type_marker(wheel):
    with zipfile.ZipFile(wheel) as zf:
        files = set(zf.namelist())
    expected = {str(p.relative_to(ROOT)) for p in PACKAGE.rglob("*.py")}
    assert expected - files == set()
    assert "tinygrad_edu/py.typed" in files
    assert not [f for f in files if f.startswith(("tests/", "notebooks/", "benchmarks/"))]


def test_every_module_imports_or_names_its_extra(fresh_python, tmp_path):
    code = textwrap.dedent(f"""
        import importlib, json
        result = {{}}
        for name in {source_modules()!r}:
            try:
                module = importlib.import_module(name)
            except ImportError as err:
                cause = err  # the module that is missing: a friendly message chains to it
                while cause.name is None and isinstance(cause.__cause__, ImportError):
                    cause = cause.__cause__
                result[name] = ["missing", cause.name or "", str(err)]
            else:
                result[name] = ["ok", module.__file__, ""]
        print(json.dumps(result))
    """)
    done = run_in(fresh_python, code, tmp_path)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    imported = {name for name, (state, _, _) in result.items() if state == "ok"}
    for name, (state, where, message) in result.items():
        if state == "ok":
            assert "site-packages" in where, f"{name} came from {where}, not the install"
        else:
            top = where.split(".")[0]
            assert top in EXTRAS, f"{name}: {message}"
            assert "pip install" in message or "extra" in message, (
                f"{name} fails without {top} but does not say how to get it: {message}")
    # The core needs no extra at all.
    core = {"tinygrad_edu", "tinygrad_edu.engine", "tinygrad_edu.nn", "tinygrad_edu.losses",
            "tinygrad_edu.optim", "tinygrad_edu.train", "tinygrad_edu.data",
            "tinygrad_edu.exercises", "tinygrad_edu.gradtools", "tinygrad_edu.function"}
    assert core & set(result) <= imported


# One check per exercise module, each given a right answer (as its solution notebook writes it).
CHECKS = {
    "nudging_check": """
        from tinygrad_edu.exercises import check_nudging
        report = check_nudging(lambda f, x, h: (f(x + h) - f(x)) / h,
                               lambda f, x, h: (f(x + h) - f(x - h)) / (2 * h))
    """,
    "engine_check": """
        from tinygrad_edu import Value
        from tinygrad_edu.exercises import check_engine
        report = check_engine(Value)
    """,
    "function_check": """
        import math
        from tinygrad_edu import Function
        from tinygrad_edu.exercises import check_function

        class Sin(Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return math.sin(x)

            @staticmethod
            def backward(ctx, grad):
                (x,) = ctx.saved_values
                return grad * math.cos(x)

        report = check_function(Sin, expected=math.sin)
    """,
    "softmax_check": """
        from tinygrad_edu.exercises import check_softmax_nll

        def softmax(logits):
            m = max(z.data for z in logits)
            exps = [(z - m).exp() for z in logits]
            total = sum(exps)
            return [e / total for e in exps]

        report = check_softmax_nll(softmax, lambda probs, target: -probs[target].log())
    """,
    "training_check": """
        from tinygrad_edu.exercises import check_training_step
        from tinygrad_edu.losses import binary_cross_entropy

        def train_step(model, X, y, lr):
            loss = binary_cross_entropy([model(x) for x in X], y)
            for p in model.parameters():
                p.grad = 0.0
            loss.backward()
            for p in model.parameters():
                p.data -= lr * p.grad
            return loss

        report = check_training_step(train_step)
    """,
}


def test_every_exercise_module_has_a_check_here():
    modules = {p.stem for p in (PACKAGE / "exercises").glob("*_check.py")}
    assert modules == set(CHECKS)


@pytest.mark.parametrize("module", sorted(CHECKS))
def test_each_exercise_checker_runs_from_the_install(fresh_python, module, tmp_path):
    code = textwrap.dedent(CHECKS[module]) + "\nassert report, 'the right answer did not pass'\n"
    done = run_in(fresh_python, code, tmp_path)
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    assert "checks pass ✓" in done.stdout and "✗" not in done.stdout
