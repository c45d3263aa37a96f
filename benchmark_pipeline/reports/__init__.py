"""Danish reports of one survey year: national.html, a page per kommune, the kommune index and a workbook.

Everything is rendered from the year's *published* tables (suppressed rows have empty values and stay
unshown), offline (inline CSS, inline SVG charts, no external URL) and escaped by Jinja2's autoescape.

    render_reports(out_dir, survey_year, tables, history, instrument, kommuner, min_respondents=5,
                   release_id=None) -> list[Path]
    prepare_reports(...) -> PreparedReports   (.write(out_dir), .chart_markdown(chart): one context for both)

`release_id` is the release the reports belong to, shown on every page and in the workbook (the pipeline
renders before staging, with `ReleaseStore.next_release_id`); without it, the id the tables carry, if any.
    national_chart_markdown(survey_year, tables, instrument, kommuner, chart="barriers") -> str

The names are loaded on first use (`render.py`, `charts.py`), so `benchmark_pipeline.reports.formatting`
(which `benchmark_pipeline.findings` uses) imports without Jinja2 or matplotlib.
"""

from __future__ import annotations

from importlib import import_module

__all__ = [
    "render_reports",
    "prepare_reports",
    "PreparedReports",
    "national_chart_markdown",
    "national_chart",
    "chart_markdown",
    "chart_png",
    "to_svg",
    "BarChart",
    "TrendChart",
]

_FROM = {
    **dict.fromkeys(("render_reports", "prepare_reports", "PreparedReports", "national_chart_markdown",
                     "national_chart", "environment", "NATIONAL_CHARTS", "TEMPLATE_DIR"), ".render"),
    **dict.fromkeys(("chart_markdown", "chart_png", "to_svg", "BarChart", "TrendChart"), ".charts"),
}


def __getattr__(name: str):
    if name in _FROM:
        value = getattr(import_module(_FROM[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_FROM})
