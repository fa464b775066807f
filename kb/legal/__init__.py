"""Legislation: structure of laws, comparison of editions, the trafficking-definition check.

    structure  parse_structure / parse_text / parse_pages -> LegalUnit tree; find_unit,
               citation, locate, structure_to_dict / structure_from_dict, render_structure
    compare    compare_structures -> Comparison; comparison_to_dict; load_concordance
    elements   check_elements -> ElementsReport; report_to_dict (data: elements.toml)
    html       comparison_to_html;  render  render_comparison, render_elements (Rich)

Nothing here imports Prefect or Whoosh.
"""

from kb.legal.compare import Comparison, compare_structures, comparison_to_dict, load_concordance
from kb.legal.elements import ElementsReport, check_elements, report_to_dict
from kb.legal.html import comparison_to_html
from kb.legal.structure import (
    LegalUnit,
    citation,
    find_unit,
    locate,
    parse_pages,
    parse_structure,
    parse_text,
    render_structure,
    structure_from_dict,
    structure_to_dict,
)

__all__ = [
    "Comparison",
    "ElementsReport",
    "LegalUnit",
    "check_elements",
    "citation",
    "compare_structures",
    "comparison_to_dict",
    "comparison_to_html",
    "find_unit",
    "load_concordance",
    "locate",
    "parse_pages",
    "parse_structure",
    "parse_text",
    "render_structure",
    "report_to_dict",
    "structure_from_dict",
    "structure_to_dict",
]
