"""Render reference tables from the code, so the docs cannot drift from it.

``.. crossorigin-options::``
    Every option of :data:`flask_crossorigin.options.OPTIONS`: a summary table,
    then one ``corsoption`` entry per option (name, ``CORS_*`` key, type,
    default, meaning). Link to an entry with ``:corsoption:`origins```.

``.. crossorigin-reasons::``
    Every refusal reason of :data:`flask_crossorigin.reasons.REASONS`.
"""

from __future__ import annotations

import re
from typing import Any

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.util.docutils import SphinxDirective

from flask_crossorigin.options import OPTIONS, Option
from flask_crossorigin.reasons import REASONS

_SPECIAL = re.compile(r"([\\*`_|\[\]<>:])")


def escape(text: str) -> str:
    """Plain text as reST: every character that could start markup (or a URL) is escaped."""
    return _SPECIAL.sub(r"\\\1", text)


def python_literal(value: Any) -> str:
    """A default as the reader would type it."""
    if isinstance(value, tuple):
        return "[" + ", ".join(python_literal(item) for item in value) + "]"
    if isinstance(value, str):
        return f'"{value}"'
    return repr(value)


#: The user-guide page of the options that have one, linked from their reference entry.
GUIDES = {"csrf_protection": "csrf", "report_only": "tightening",
          "report_only_interval": "tightening", "metrics": "metrics"}


def applies_to(option: Option) -> str:
    if option.name == "metrics":
        return "``CORS(app)``, ``init_app(app)`` and ``app.config`` (app-wide)"
    if option.extension_only:
        return "``CORS()``, ``init_app()`` and ``app.config`` (not ``@cross_origin``)"
    return "``CORS()``, ``init_app()``, resource entries, ``@cross_origin`` and ``app.config``"


class OptionsDirective(SphinxDirective):
    has_content = False

    def run(self) -> list[nodes.Node]:
        lines = [
            ".. list-table::",
            "   :header-rows: 1",
            "   :widths: 25 35 40",
            "",
            "   * - Option",
            "     - ``app.config`` key",
            "     - Default",
        ]
        for option in OPTIONS:
            lines += [
                f"   * - :corsoption:`{option.name}`",
                f"     - ``{option.config_key}``",
                f"     - ``{python_literal(option.default)}``",
            ]
        lines.append("")
        for option in OPTIONS:
            lines += [
                f".. corsoption:: {option.name}",
                "",
                f"   :Config key: ``{option.config_key}``",
                f"   :Type: ``{option.type}``",
                f"   :Default: ``{python_literal(option.default)}``",
                f"   :Set in: {applies_to(option)}",
                *([f"   :Guide: :doc:`{GUIDES[option.name]}`"] if option.name in GUIDES else []),
                "",
                f"   {escape(option.help)}",
                "",
            ]
        return self.parse(lines)

    def parse(self, lines: list[str]) -> list[nodes.Node]:
        container = nodes.container()
        self.state.nested_parse(StringList(lines, source="flask_crossorigin.options"), 0,
                                container)
        return container.children


class ReasonsDirective(SphinxDirective):
    has_content = False

    def run(self) -> list[nodes.Node]:
        lines = [
            ".. list-table::",
            "   :header-rows: 1",
            "   :widths: 25 75",
            "",
            "   * - Code",
            "     - Message",
        ]
        for code, template in REASONS.items():
            lines += [f"   * - ``{code}``", f"     - {escape(template)}"]
        container = nodes.container()
        self.state.nested_parse(StringList(lines, source="flask_crossorigin.reasons"), 0,
                                container)
        return container.children


def setup(app: Any) -> dict[str, Any]:
    app.add_object_type(
        "corsoption", "corsoption", objname="CORS option",
        indextemplate="pair: %s; CORS option",
    )
    app.add_directive("crossorigin-options", OptionsDirective)
    app.add_directive("crossorigin-reasons", ReasonsDirective)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
