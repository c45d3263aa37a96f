"""Report fixtures: realistic published tables for 2023 and 2024 (built here) and one render of each."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmark_pipeline.reports import render_reports
from benchmark_pipeline_tests.conftest import require_or_skip

from .fixtures import build_history

CHROMIUM = Path("/usr/bin/chromium")  # Debian's package; never a downloaded browser
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="session")
def report_tables(instrument_2023, instrument_2024, kommuner):
    """(tables_2024, {2023: tables_2023})."""
    return build_history(instrument_2023, instrument_2024, kommuner)


@pytest.fixture(scope="session")
def rendered_2024(tmp_path_factory, report_tables, instrument_2024, kommuner):
    tables, history = report_tables
    out = tmp_path_factory.mktemp("reports_2024")
    paths = render_reports(out, 2024, tables, history, instrument_2024, kommuner)
    return {"dir": out, "paths": paths, "tables": tables, "history": history}


@pytest.fixture(scope="session")
def html_2024(rendered_2024):
    """{relative path: text} of every HTML file of the 2024 render."""
    out = rendered_2024["dir"]
    return {p.relative_to(out).as_posix(): p.read_text(encoding="utf-8")
            for p in rendered_2024["paths"] if p.suffix == ".html"}


@pytest.fixture(scope="module")
def browser():
    require_or_skip(CHROMIUM.exists(), f"{CHROMIUM} is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        yield b
        b.close()
