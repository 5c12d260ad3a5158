"""Sphinx configuration for the flask-crossorigin documentation.

Build (the README's commands): ``python -m pip install -e '.[docs]'``, then
``python -m sphinx -W --keep-going -b html docs docs/_build/html`` (and ``-b doctest``
to run the examples); or ``tox -e docs``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
# The package from this checkout, and the local extension that renders the option table.
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE / "_ext"))

import flask_crossorigin  # noqa: E402

project = "flask-crossorigin"
author = "flask-crossorigin developers"
copyright = "flask-crossorigin developers"
release = flask_crossorigin.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.doctest",
    "myst_parser",  # only to include CHANGELOG.md
    "crossorigin_docs",  # the option table and the refusal reasons, from the code
]

exclude_patterns = ["_build"]
# The repository's CHANGELOG.md is included by changelog.rst; no page is written in Markdown.
source_suffix = {".rst": "restructuredtext"}
root_doc = "index"
default_role = "literal"
# Option texts quote values ('*', 'null'): keep them as typed, not typographic quotes.
smartquotes = False
pygments_style = "friendly"
pygments_dark_style = "monokai"

html_theme = "furo"
html_title = f"flask-crossorigin {release}"
html_static_path = ["_static"]

autodoc_member_order = "bysource"
autodoc_typehints = "description"

# The doctest builder runs every ``>>>`` block, ``testcode`` and ``doctest`` directive.
# Output is compared exactly, except that runs of whitespace match (so long lines wrap).
import doctest  # noqa: E402

doctest_default_flags = (
    doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE | doctest.DONT_ACCEPT_TRUE_FOR_1
)
doctest_global_setup = """
__name__ = "__main__"  # as when the example is run as a script: Flask(__name__) works
from flask import Flask
from flask_crossorigin import CORS, ConfigurationError, cross_origin


def cors_headers(response):
    '''The status and the CORS headers of a test-client response, one per line.'''
    print(response.status_code)
    for name, value in response.headers:
        if name.startswith("Access-Control-") or name == "Vary":
            print(f"{name}: {value}")
"""


def _optional_pages(app: Any, docname: str, source: list[str]) -> None:
    # docs/performance.rst is written with the benchmarks; list it once it exists.
    if docname == "index" and not (HERE / "performance.rst").exists():
        source[0] = source[0].replace("   performance\n", "")


def setup(app: Any) -> None:
    app.connect("source-read", _optional_pages)
