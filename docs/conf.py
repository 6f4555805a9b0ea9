"""Sphinx configuration of the documentation site (`make docs`, scripts/build_docs.py).

The site is built offline and asks the network for nothing: furo's theme (system fonts),
MathJax from the npm package (scripts/build_docs.py copies it into _static/mathjax), the
notebooks' committed outputs (never executed here) and Sphinx's own search.
"""

project = "tinygrad_edu"
author = "tinygrad_edu contributors"
copyright = "tinygrad_edu contributors"

extensions = [
    "myst_nb",  # Markdown pages and executed notebooks (with their committed outputs)
    "sphinx.ext.autodoc",
    "sphinx.ext.mathjax",
]
source_suffix = {".md": "myst-nb", ".ipynb": "myst-nb", ".rst": "restructuredtext"}
exclude_patterns = ["_build", "**/.ipynb_checkpoints", "**/sources"]

myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence"]
myst_heading_anchors = 3
nb_execution_mode = "off"  # the notebooks are committed executed: their outputs are the pages'
nb_ipywidgets_js = {}  # no widget manager from a CDN (the saved notebooks hold no widget state)
nb_merge_streams = True

# The docstrings are written for help() and editors, not as strict reStructuredText: their
# markup slips (a "|x|" read as a substitution) are not errors of the site.
suppress_warnings = ["docutils"]
autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_default_options = {"members": True, "show-inheritance": True}

html_theme = "furo"
html_title = "tinygrad_edu"
html_static_path = ["_static"]
html_show_sourcelink = False
# MathJax from this site (scripts/build_docs.py puts npm's mathjax into _static/mathjax).
mathjax_path = "mathjax/tex-chtml.js"
