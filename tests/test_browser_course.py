"""tinygrad_edu.browser: what a notebook does in the browser course when a module is missing.

In the browser (Pyodide), NumPy and matplotlib load from Pyodide's CDN and PyTorch not at all.
A cell then skips what needs the missing module and prints what it skipped; everything else
runs. tests/site/ sees it happen in Chromium; here the rewrite itself, on cells as the
notebooks write them.
"""

from __future__ import annotations

import asyncio

from tinygrad_edu import browser

REASONS = {"matplotlib": "no matplotlib here", "torch": "no torch here"}


def missing(module: str) -> str | None:
    module = browser.NEEDS.get(module, module)
    return REASONS.get(module.split(".")[0])


def run(cells: list[str]) -> tuple[list[str], dict]:
    """Rewrite and run ``cells`` in one namespace, as a kernel would."""
    skipper = browser.Skipper(missing)
    namespace: dict = {}
    rewritten = []
    for cell in cells:
        code = skipper.rewrite(cell)
        rewritten.append(code)
        exec(compile(code, "<cell>", "exec"), namespace)
    return rewritten, namespace


def test_a_plot_is_skipped_and_the_rest_runs(capsys):
    cells = [
        "import math\n\nimport matplotlib.pyplot as plt\n\nfrom tinygrad_edu import Value\n",
        "xs = [i / 10 for i in range(5)]\nfig, ax = plt.subplots()\n"
        "ax.plot(xs, [math.sin(x) for x in xs])\nplt.show()\ntotal = sum(xs)\n",
        "print(total, Value(2.0).data)\n",
    ]
    rewritten, namespace = run(cells)
    out = capsys.readouterr().out.splitlines()
    assert out == [
        "Skipped in the browser: line 3 of this cell (no matplotlib here); the rest of it ran.",
        "Skipped in the browser: lines 2-4 of this cell (no matplotlib here); the rest of it ran.",
        "1.0 2.0",
    ]
    assert "plt" not in namespace and "fig" not in namespace and namespace["total"] == 1.0
    assert rewritten[2] == cells[2]  # nothing to skip: the cell is left as written


def test_names_made_from_a_skipped_name_are_skipped_until_bound_again(capsys):
    cells = [
        "import torch\nfrom tinygrad_edu.interop import to_torch\n",
        "t = torch.tensor(1.0)\nu = t * 2\n",
        "def double(v):\n    return u * v\n",
        "@staticmethod\ndef helper():\n    return torch\n",
        "u = 5\nprint(u)\n",
    ]
    _, namespace = run(cells)
    out = capsys.readouterr().out.splitlines()
    assert out == [
        "Skipped in the browser: this cell (no torch here).",
        "Skipped in the browser: this cell (no torch here).",
        "Skipped in the browser: this cell (no torch here).",
        "Skipped in the browser: this cell (no torch here).",
        "5",
    ]
    assert namespace["u"] == 5 and "double" not in namespace and "to_torch" not in namespace


def test_tinygrad_edu_plot_counts_as_matplotlib():
    assert missing("tinygrad_edu.plot") == "no matplotlib here"
    rewritten, _ = run(["from tinygrad_edu.plot import plot_activations\nplot_activations()\n"])
    assert rewritten[0].startswith("print('Skipped in the browser: this cell (no matplotlib")


def test_ipython_syntax_is_left_to_ipython():
    cell = "%matplotlib inline\nimport matplotlib\n"
    assert browser.Skipper(missing).rewrite(cell) == cell


def test_why_missing_names_the_reason():
    assert browser.why_missing("math") is None
    assert browser.why_missing("torch") == "PyTorch does not run in a browser"
    assert browser.why_missing("tinygrad_edu.interop") == "PyTorch does not run in a browser"
    assert browser.why_missing("no_such_module_xyz") == (
        "no_such_module_xyz is not available in the browser")


def test_setup_does_nothing_outside_a_browser(capsys):
    assert asyncio.run(browser.setup(needs=["matplotlib"])) is None
    assert capsys.readouterr().out == ""
