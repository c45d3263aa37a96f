"""The accessibility gate: axe-core (WCAG 2.1 A/AA rules) finds no violation on the published reports of every
sample year, and the pages fit a phone's width. axe-core is installed beside the virtualenv by `.ci/run` and
`make axe` (nothing is downloaded while the tests run)."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import pytest

from benchmark_pipeline_tests.conftest import require_or_skip


AXE_VERSION = "4.14.1"
AXE_JS = Path(__file__).resolve().parents[2] / ".venv" / "node" / "node_modules" / "axe-core" / "axe.min.js"
YEARS = (2023, 2024, 2025)
UNPUBLISHED = "153"  # Brøndby Kommune: no published numbers in any sample year
PAGES = ("national.html", "kommuner/index.html", "kommuner/101.html", "kommuner/751.html",
         f"kommuner/{UNPUBLISHED}.html")
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def axe_source() -> str:
    require_or_skip(AXE_JS.exists(), f"axe-core is not installed at {AXE_JS} (make axe)")
    text = AXE_JS.read_text(encoding="utf-8")
    assert f"axe v{AXE_VERSION}" in text[:300], f"{AXE_JS} is not axe-core {AXE_VERSION}"
    return text


@pytest.fixture(scope="module")
def reports(published_samples) -> dict[int, Path]:
    """Each sample year's published reports folder (releases/<year>/<release id>/reports)."""
    root = published_samples.output_dir / "releases"
    return {year: root / str(year) / published_samples.release_ids[year] / "reports" for year in YEARS}


def _violations(page, axe_source: str) -> list[dict]:
    page.add_script_tag(content=axe_source)
    result = page.evaluate("(tags) => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: "
                           "['violations']})", WCAG_TAGS)
    return [{"id": v["id"], "impact": v["impact"], "help": v["help"],
             "nodes": [n["target"] for n in v["nodes"][:5]]} for v in result["violations"]]


@pytest.mark.parametrize("year", YEARS)
def test_axe_finds_no_violation(browser, axe_source, reports, year):
    found = {}
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    for name in PAGES:
        path = reports[year] / name
        assert path.exists(), path
        page.goto(path.as_uri(), wait_until="load")
        violations = _violations(page, axe_source)
        if violations:
            found[name] = violations
    page.close()
    assert not found, json.dumps(found, ensure_ascii=False, indent=1)


def test_the_unpublished_kommune_is_unpublished(reports):
    for year in YEARS:
        html = (reports[year] / "kommuner" / f"{UNPUBLISHED}.html").read_text(encoding="utf-8")
        assert 'id="notice-title"' in html, year


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", path
    return struct.unpack(">II", data[16:24])


@pytest.mark.parametrize("name", ["national.html", "kommuner/101.html"])
@pytest.mark.parametrize("width", [1280, 390])
def test_screenshots_and_no_horizontal_scroll(browser, reports, tmp_path, name, width):
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.goto((reports[2025] / name).as_uri(), wait_until="load")
    shot = tmp_path / f"{name.replace('/', '_')}-{width}.png"
    page.screenshot(path=str(shot), full_page=True)
    w, h = _png_size(shot)
    assert w == width and h > 900 and shot.stat().st_size > 10_000
    if width == 390:
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        # chart text as drawn on the phone: each text's font size scaled by the chart's rendered width
        smallest = page.evaluate("""() => Math.min(...[...document.querySelectorAll('svg.chart')].flatMap(svg => {
            const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
            return [...svg.querySelectorAll('text')].map(t => parseFloat(getComputedStyle(t).fontSize) * scale);
        }))""")
        assert smallest >= 11, f"chart text drawn at {smallest:.1f} px on a 390 px screen"
    page.close()


def test_index_filter_narrows_the_list_by_name(browser, reports):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto((reports[2025] / "kommuner" / "index.html").as_uri(), wait_until="load")
    rows = page.locator("table.kommune-list tbody tr")
    assert rows.count() == 98 and page.locator("#filter").is_visible()
    page.fill("#filter-navn", "københavn")
    visible = [rows.nth(i).inner_text() for i in range(rows.count()) if rows.nth(i).is_visible()]
    assert len(visible) == 1 and visible[0].startswith("Københavns Kommune")
    assert page.inner_text("#filter-antal") == "1 kommune passer på søgningen."
    page.close()
