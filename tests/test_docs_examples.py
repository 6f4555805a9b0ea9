"""The code in the documentation (README.md, docs/*.md) runs and says what the page says.

`pycon` blocks (``>>>`` prompts) are doctests: each output must match. `python` blocks run in
order, one namespace per page, in a fresh folder (some write files). So an example that a
change breaks fails here, in `make test`, not in a reader's hands.
"""

from __future__ import annotations

import doctest
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"^```(python|pycon)\n(.*?)^```", re.S | re.M)


def blocks(page: Path) -> list[tuple[str, str, int]]:
    text = page.read_text(encoding="utf-8")
    return [(m.group(1), m.group(2), text[:m.start()].count("\n") + 2)
            for m in BLOCK.finditer(text)]


def test_the_docs_have_examples():
    kinds = [kind for page in PAGES for kind, _, _ in blocks(page)]
    assert kinds.count("pycon") >= 4 and kinds.count("python") >= 5


@pytest.mark.parametrize("page", [p for p in PAGES if blocks(p)], ids=lambda p: p.name)
def test_page_examples_run(page, tmp_path, monkeypatch):
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "__docs__"}
    parser, runner = doctest.DocTestParser(), doctest.DocTestRunner(
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    for kind, code, line in blocks(page):
        where = f"{page.name}, line {line}"
        if kind == "python":
            exec(compile(code, where, "exec"), namespace)
            continue
        test = parser.get_doctest(code, namespace, where, str(page), line)
        result = runner.run(test, out=lambda text: pytest.fail(text, pytrace=False))
        assert result.failed == 0
        namespace.update(test.globs)
    import matplotlib.pyplot as plt

    plt.close("all")
