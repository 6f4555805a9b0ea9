"""The widgets on Colab's stack: ipywidgets 7.7.1 (the main venv has 8.x).

A fresh venv gets the built wheel and Colab's versions of ipywidgets, ipykernel, IPython and
traitlets, plus anywidget, graphviz and matplotlib from PyPI (ipywidgets' front-end packages
are left out: only the Python side runs here). A script there builds the stepper, the network
animation and the training recorder as widgets, clicks Next and reads the picture and the
counter; it shows each as Jupyter would in a kernel (ipywidgets 7 has no
``Widget._repr_mimebundle_``), and drives the Playground's anywidget. A keyword that 7.x does
not know is an error here: traitlets only warns about it, and this script turns that into one.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import textwrap
import venv
from pathlib import Path

import pytest

from tests.test_packaging import wheel  # noqa: F401 (the fixture that builds the wheel)

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz 'dot' not "
                                 "installed (apt-get install graphviz)")]

# Colab's versions (what `pip list` shows there); ipywidgets with --no-deps, so that its
# front-end packages (which pull in a Jupyter server) stay out.
COLAB = ["ipykernel==6.17.1", "ipython==7.34.0", "traitlets==5.7.1", "ipython_genutils"]
OTHERS = ["psygnal", "typing-extensions", "graphviz", "matplotlib"]

SCRIPT = textwrap.dedent("""
    import json, warnings
    # traitlets only warns about a keyword a widget does not have: make it an error
    warnings.filterwarnings("error", message=".*unrecognized arguments")
    import matplotlib
    matplotlib.use("Agg")
    import ipywidgets
    import tinygrad_edu.pictures.player as player
    import tinygrad_edu.playground as playground
    from tinygrad_edu import Value
    from tinygrad_edu.losses import binary_cross_entropy
    from tinygrad_edu.nn import MLP
    from tinygrad_edu.optim import SGD
    from tinygrad_edu.plot import TrainingRecorder
    from tinygrad_edu.playground import Playground
    from tinygrad_edu.train import fit
    from tinygrad_edu.viz import animate_network, step_through

    player._in_kernel = lambda: True  # show things as Jupyter does in a kernel
    playground._in_jupyter = lambda: True
    VIEW = "application/vnd.jupyter.widget-view+json"
    out = {"ipywidgets": ipywidgets.__version__}

    def clicked(p):
        box = p.widget()
        bar, title, caption, picture = box.children
        prev, nxt, play, slider, count = bar.children
        before = [picture.value, count.value, title.value]
        nxt.click()
        data, _ = p._repr_mimebundle_()
        return {"kinds": [type(c).__name__ for c in bar.children],
                "labels": [prev.description, nxt.description, play.description],
                "icons": [prev.icon, nxt.icon], "repeat": play.show_repeat,
                "n": len(p), "before": before, "slider": slider.value,
                "after": [picture.value, count.value, title.value],
                "frame1": [p._picture_html(1), p._count(1)],
                "view": data.get(VIEW), "model_id": box.model_id}

    a, b = Value(2.0, "a"), Value(-3.0, "b")
    out["stepper"] = clicked(step_through((a * b + a).tanh()))
    out["network"] = clicked(animate_network(MLP(2, [2, 1], seed=0), [1.0, -2.0], 1.0))
    X = [[2.0, 1.0], [1.0, 3.0], [8.0, 7.0], [7.0, 9.0]]
    y = [0, 0, 1, 1]
    model = MLP(2, [3, 1], "tanh", "sigmoid", seed=0)
    rec = TrainingRecorder(X, y, every=2, resolution=6)
    fit(model, X, y, binary_cross_entropy, SGD(model.parameters(), lr=0.5), epochs=6,
        progress=False, callbacks=[rec])
    out["recorder"] = clicked(rec)

    pg = Playground(compiled=False)
    w = pg.widget()
    w._message(w, {"type": "step"}, [])
    out["playground"] = {"status": w.status, "steps": len(pg.history),
                         "view": pg._repr_mimebundle_().get(VIEW), "model_id": w.model_id}
    print(json.dumps(out))
""")


@pytest.fixture(scope="module")
def colab_python(wheel, tmp_path_factory) -> Path:  # noqa: F811
    env_dir = tmp_path_factory.mktemp("venv7")
    venv.EnvBuilder(with_pip=True, system_site_packages=False).create(env_dir)
    python = env_dir / "bin" / "python"
    pip = [str(python), "-I", "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    for args in (["--no-deps", str(wheel), "ipywidgets==7.7.1", "anywidget"], COLAB + OTHERS):
        done = subprocess.run([*pip, *args], capture_output=True, text=True, timeout=600)
        # (pip's note that ipywidgets' front-end packages are missing is expected)
        assert done.returncode == 0, f"pip install {' '.join(args)} failed:\n{done.stderr}"
    return python


def test_widgets_work_with_ipywidgets_7(colab_python, tmp_path):
    done = subprocess.run([str(colab_python), "-I", "-c", SCRIPT], capture_output=True,
                          text=True, cwd=tmp_path, timeout=300)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["ipywidgets"] == "7.7.1"
    for name in ("stepper", "network", "recorder"):
        r = out[name]
        assert r["kinds"] == ["Button", "Button", "Play", "IntSlider", "Label"], name
        assert r["labels"] == ["Previous", "Next", "Play"], name
        assert r["icons"] == ["step-backward", "step-forward"] and r["repeat"] is False, name
        n, unit = r["n"], "frame" if name == "recorder" else "step"
        assert n >= 3 and r["frame1"][1] == f"{unit} 2 of {n}", name
        assert r["before"][1] == f"{unit} 1 of {n}", name
        # Next moved to the second frame: its picture and counter
        assert r["slider"] == 1 and r["after"][1] == f"{unit} 2 of {n}", name
        assert r["after"][0] == r["frame1"][0] != r["before"][0], name
        # shown in a kernel: the widget's view, not an error (7.x has no _repr_mimebundle_)
        assert r["view"] == {"version_major": 2, "version_minor": 0,
                             "model_id": r["model_id"]}, name
    pg = out["playground"]
    assert pg["steps"] == 1 and pg["status"].startswith("step 1 ")
    assert pg["view"]["model_id"] == pg["model_id"]
