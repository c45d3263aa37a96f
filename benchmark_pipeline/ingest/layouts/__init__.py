"""The export layouts, one module each; adding a layout is adding its module and its line here.

The order is the order of detection within a kind of file: the canonical CSV before SurveyXact's CSV,
SurveyXact's workbook (a `Dataset` sheet) before Microsoft Forms' (the first visible sheet); an SPSS file has
one layout, SurveyXact's .sav, listed beside the other SurveyXact layouts.
"""

from __future__ import annotations

from .base import Layout
from .canonical import CANONICAL_CSV
from .forms import MSFORMS_XLSX
from .spss import SPSS_SAV
from .surveyxact import SURVEYXACT_CSV, SURVEYXACT_XLSX

LAYOUTS: tuple[Layout, ...] = (CANONICAL_CSV, SURVEYXACT_XLSX, SURVEYXACT_CSV, SPSS_SAV, MSFORMS_XLSX)
BY_NAME: dict[str, Layout] = {layout.name: layout for layout in LAYOUTS}
FILE_KINDS = tuple(dict.fromkeys(layout.kind for layout in LAYOUTS))

__all__ = ["BY_NAME", "FILE_KINDS", "LAYOUTS", "Layout"]
