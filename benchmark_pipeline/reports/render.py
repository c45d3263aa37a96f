"""Rendering one survey year's reports: the Jinja environment, `PreparedReports`, `render_reports` and the
national charts for the Dagster UI (see the package docstring)."""

from __future__ import annotations

import functools
import multiprocessing
import os
import threading
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pandas as pd
from jinja2 import Environment, FileSystemLoader, select_autoescape

from benchmark_pipeline.findings import highlights
from benchmark_pipeline.forking import can_fork, usable_cores
from benchmark_pipeline.gc_pause import collector_paused
from benchmark_pipeline.instrument import YearInstrument
from benchmark_pipeline.reference import NATIONAL_CODE, Kommuner
from benchmark_pipeline.settings import MIN_RESPONDENTS_FLOOR

from .charts import BarChart, LazySVG, TrendChart, chart_markdown
from .formatting import fmt_int
from .pages import (
    KommuneCharts,
    barrier_figure,
    geography_section,
    index_context,
    kommune_context,
    make_context,
    national_context,
    question_figure,
    superscript,
    trend_section,
)
from .workbook import write_workbook

TEMPLATE_DIR = Path(__file__).parent / "templates"
NATIONAL_CHARTS = ("use_contexts", "anchoring_levels", "barriers", "data_use_change", "further_potential",
                   "data_sources", "ai_use", "trend", "region", "kommunegruppe")


@functools.lru_cache(maxsize=1)
def environment() -> Environment:
    """The one Jinja environment of the process: its templates are compiled once, not per report."""
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATE_DIR)),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["sup"] = superscript
    return env


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


class PreparedReports:
    """One survey year's reports built from one page context.

    `write` renders the files; `chart_markdown` gives the Dagster UI's PNG charts from the same context and,
    when the page has drawn a chart already, from the same matplotlib figure (a figure gives the same bytes
    for PNG and SVG whichever it draws first), so nothing is normalised or drawn twice."""

    def __init__(self, survey_year: int, tables: dict[str, pd.DataFrame], history: dict[int, dict[str, pd.DataFrame]],
                 instrument: YearInstrument, kommuner: Kommuner, min_respondents: int = MIN_RESPONDENTS_FLOOR,
                 release_id: str | None = None) -> None:
        self.survey_year = survey_year
        self.tables = tables
        self.kommuner = kommuner
        self.min_respondents = min_respondents
        self.ctx = make_context(survey_year, tables, history, instrument, kommuner, min_respondents)
        # The release the reports belong to: given by the pipeline before staging (the tables carry no id
        # yet), else the one the tables were read from ("" outside a release).
        self.release_id = release_id or self.ctx.year.release_id

    @functools.cached_property
    def national(self) -> dict:
        return national_context(self.ctx)

    def _section(self, chart: str) -> dict | None:
        if chart not in NATIONAL_CHARTS:
            raise ValueError(f"unknown chart {chart!r}; choose one of {', '.join(NATIONAL_CHARTS)}")
        n = self.national
        for section in (*n["figures"], *n["headline_details"], *n["sources"], n["trend"], *n["geographies"]):
            if section["spec"].key == f"fig-{chart}":
                return section if section.get("svg") else None  # no chart on the page (e.g. a first year's trend)
        return None

    def chart(self, chart: str) -> BarChart | TrendChart | None:
        """The spec of one national chart (one of NATIONAL_CHARTS), or None when the year lacks it."""
        section = self._section(chart)
        return section["spec"] if section else None

    def chart_markdown(self, chart: str, **kwargs) -> str:
        """Markdown (base64 PNG data URI + alt text) for `MetadataValue.md` in the Dagster UI."""
        section = self._section(chart)
        if not section:
            return ""
        svg = section.get("svg")
        return chart_markdown(section["spec"], fig=svg.figure if isinstance(svg, LazySVG) else None, **kwargs)

    def highlights_markdown(self) -> str:
        """The national report's "Det vigtigste i år" as a Markdown list (for `MetadataValue.md` in the UI)."""
        return "\n".join(f"- {f.sentence}" for f in highlights(self.ctx.findings.get(NATIONAL_CODE, [])))

    def write(self, out_dir: Path, workers: int | None = None) -> list[Path]:
        """Write national.html, kommuner/index.html, kommuner/<kode>.html (all 98) and workbook.xlsx.

        Returns the written paths (national first, then the index, the kommune pages and the workbook).

        The workbook and the kommune pages are written by `workers` forked processes (default: one per
        core, at most MAX_WORKERS) while this one writes the national report and the index; every file is
        the same whichever process writes it (each page depends only on the shared context, which is
        computed once here, before the fork). `workers=0`, a platform without fork or a process that may not
        have children writes everything here."""
        out_dir = Path(out_dir)
        ctx, codes = self.ctx, [str(code) for code in self.kommuner.codes]
        (out_dir / "kommuner").mkdir(parents=True, exist_ok=True)
        # one write at a time forks (the forked processes find their reports by parent); the workbook's and
        # the pages' cells are hundreds of thousands of objects without cycles: no collection among them
        with _FORK_LOCK, collector_paused():
            ctx.warm()  # findings and lookups: computed once, inherited by the forked processes
            return self._write_all(out_dir, codes, workers)

    def _write_all(self, out_dir: Path, codes: list[str], workers: int | None) -> list[Path]:
        pool = _pool(self, workers)
        try:
            if pool is None:
                national = self._write_national(out_dir)
                pages = self._write_kommuner(out_dir, codes)
                book = self._write_workbook(out_dir)
            else:
                jobs = [pool.submit(_forked_workbook, out_dir)]  # the longest task first
                jobs += [pool.submit(_forked_kommuner, out_dir, codes[i:i + KOMMUNE_CHUNK])
                         for i in range(0, len(codes), KOMMUNE_CHUNK)]
                national = self._write_national(out_dir)
                book, *chunks = [job.result() for job in jobs]
                pages = [path for chunk in chunks for path in chunk]
        finally:
            if pool is not None:
                pool.shutdown(wait=True, cancel_futures=True)
                _FORKED.clear()
        return [*national, *pages, book]

    def _common(self) -> dict:
        return {
            "year": self.survey_year,
            "release_id": self.release_id,
            "min_n": self.min_respondents,
            "base_year": self.ctx.base_year,
            "total_kommuner": len(self.kommuner.codes),
        }

    def _write_national(self, out_dir: Path) -> list[Path]:
        """national.html and kommuner/index.html."""
        ctx, env, common = self.ctx, environment(), self._common()
        s = ctx.year.summary or {}
        summary_line = ""
        if s:
            summary_line = (f"{fmt_int(s.get('respondents'))} besvarelser fra {fmt_int(s.get('responding_kommuner'))} "
                            f"kommuner.")
        html = env.get_template("national.html.j2").render(
            **common, page="national", root="", n=self.national, summary_line=summary_line)
        index_tpl = env.get_template("kommune_index.html.j2")
        return [_write(out_dir / "national.html", html),
                _write(out_dir / "kommuner" / "index.html",
                       index_tpl.render(**common, page="index", root="../", ix=index_context(ctx)))]

    def _write_kommuner(self, out_dir: Path, codes: list[str]) -> list[Path]:
        """kommuner/<kode>.html of `codes`, in their order."""
        ctx, common = self.ctx, self._common()
        kommune_tpl = environment().get_template("kommune.html.j2")
        charts = self._kommune_charts
        written = []
        for kode in codes:
            k = kommune_context(ctx, kode, charts)
            written.append(_write(out_dir / "kommuner" / f"{kode}.html",
                                  kommune_tpl.render(**common, page="kommune", root="../", k=k)))
        return written

    @functools.cached_property
    def _kommune_charts(self) -> KommuneCharts:
        """The kommune pages' figures, one per shape, kept for every chunk of pages this process writes (a
        forked process makes its own the first time)."""
        return KommuneCharts(self.ctx)

    def _write_workbook(self, out_dir: Path) -> Path:
        return write_workbook(out_dir / "workbook.xlsx", self.ctx, self.release_id)


# Report writing in forked processes: the prepared reports a fork inherits (never pickled), by process id of
# the parent, so that a fork of a fork cannot pick up a stale one.
MAX_WORKERS = 4
KOMMUNE_CHUNK = 10  # kommune pages per task: small enough to balance the processes, large enough to reuse figures
_FORKED: dict[int, PreparedReports] = {}
_FORK_LOCK = threading.Lock()


def _pool(reports: PreparedReports, workers: int | None) -> ProcessPoolExecutor | None:
    if workers is None:
        workers = min(usable_cores(), MAX_WORKERS)
    if workers < 1 or not can_fork():
        return None
    _FORKED.clear()
    _FORKED[os.getpid()] = reports
    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("fork"))


def _forked() -> PreparedReports:
    """In a forked worker: the reports its parent is writing."""
    return _FORKED[os.getppid()]


def _forked_workbook(out_dir: Path) -> Path:
    return _forked()._write_workbook(out_dir)


def _forked_kommuner(out_dir: Path, codes: list[str]) -> list[Path]:
    return _forked()._write_kommuner(out_dir, codes)


def prepare_reports(survey_year: int, tables: dict[str, pd.DataFrame], history: dict[int, dict[str, pd.DataFrame]],
                    instrument: YearInstrument, kommuner: Kommuner,
                    min_respondents: int = MIN_RESPONDENTS_FLOOR, release_id: str | None = None) -> PreparedReports:
    """The year's reports, ready to `write` and to give the UI charts (`chart_markdown`) from one context.

    `release_id` is the release they belong to (`ReleaseStore.next_release_id` before staging); without it,
    the id the tables carry."""
    return PreparedReports(survey_year, tables, history, instrument, kommuner, min_respondents, release_id)


def render_reports(out_dir: Path, survey_year: int, tables: dict[str, pd.DataFrame],
                   history: dict[int, dict[str, pd.DataFrame]], instrument: YearInstrument, kommuner: Kommuner,
                   min_respondents: int = MIN_RESPONDENTS_FLOOR, release_id: str | None = None,
                   workers: int | None = None) -> list[Path]:
    """Write national.html, kommuner/index.html, kommuner/<kode>.html (all 98) and workbook.xlsx.

    Returns the written paths (national first, then the index, the kommune pages and the workbook);
    `workers` as in `PreparedReports.write`."""
    return prepare_reports(survey_year, tables, history, instrument, kommuner, min_respondents,
                           release_id).write(out_dir, workers)


def national_chart(survey_year: int, tables: dict[str, pd.DataFrame], instrument: YearInstrument,
                   kommuner: Kommuner, chart: str = "barriers",
                   history: dict[int, dict[str, pd.DataFrame]] | None = None) -> BarChart | TrendChart | None:
    """The spec of one national chart (one of NATIONAL_CHARTS), or None when the year lacks it."""
    if chart not in NATIONAL_CHARTS:
        raise ValueError(f"unknown chart {chart!r}; choose one of {', '.join(NATIONAL_CHARTS)}")
    ctx = make_context(survey_year, tables, history or {}, instrument, kommuner)
    if chart == "barriers":
        section = barrier_figure(ctx)
    elif chart == "trend":
        section = trend_section(ctx)
    elif chart in ("region", "kommunegruppe"):
        section = geography_section(ctx, chart)
    else:
        section = question_figure(ctx, chart)
    return section["spec"] if section and section.get("svg") else None


def national_chart_markdown(survey_year: int, tables: dict[str, pd.DataFrame], instrument: YearInstrument,
                            kommuner: Kommuner, chart: str = "barriers", **kwargs) -> str:
    """Markdown (base64 PNG data URI + alt text) for `MetadataValue.md` in the Dagster UI."""
    spec = national_chart(survey_year, tables, instrument, kommuner, chart, kwargs.pop("history", None))
    return chart_markdown(spec, **kwargs) if spec else ""
