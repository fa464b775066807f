"""Legislation: structure of laws, comparison of editions, the trafficking-definition check.

    units      the LegalUnit tree: find_unit, citation, locate, provisions, path_to,
               structure_to_dict / structure_from_dict
    parse      parse_structure / parse_text / parse_pages -> LegalUnit tree
               (source: markup removed and publisher's notes marked before parsing;
               numbering: provision numbers and their keys)
    files      parse_law_file: a .md/.txt/.pdf law read the one way the CLI and the index do
    compare    compare_structures -> Comparison; comparison_to_dict; load_concordance
    elements   check_elements -> ElementsReport; report_to_dict (data: elements.toml)
    editions   edition_statuses: which editions are in force, which were repealed
    html       comparison_to_html;  render  render_structure, render_comparison,
               render_elements (Rich)

Nothing here imports Prefect or Whoosh. The names below are loaded on first use, so that
search (which needs only `editions`) does not load the stemmers and Rich.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_WHERE = {
    "Comparison": "compare",
    "compare_structures": "compare",
    "comparison_to_dict": "compare",
    "load_concordance": "compare",
    "ElementsReport": "elements",
    "check_elements": "elements",
    "report_to_dict": "elements",
    "comparison_to_html": "html",
    "LegalUnit": "units",
    "citation": "units",
    "find_unit": "units",
    "locate": "units",
    "parse_pages": "parse",
    "parse_structure": "parse",
    "parse_text": "parse",
    "render_structure": "render",
    "structure_from_dict": "units",
    "structure_to_dict": "units",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'kb.legal' has no attribute {name!r}")
    return getattr(import_module(f"kb.legal.{module}"), name)
