"""The reports in a real browser (Debian's headless Chromium): charts render, nothing is fetched."""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _open(browser, path: Path, width: int = 1280):
    page = browser.new_page(viewport={"width": width, "height": 900})
    requests: list[str] = []
    errors: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(path.as_uri(), wait_until="load")
    return page, requests, errors


@pytest.mark.parametrize(("name", "min_charts"), [("national.html", 8), ("kommuner/101.html", 1)])
def test_charts_render_and_nothing_is_fetched(browser, rendered_2024, tmp_path, name, min_charts):
    path = rendered_2024["dir"] / name
    page, requests, errors = _open(browser, path)
    charts = page.locator("svg.chart")
    assert charts.count() >= min_charts
    for i in range(charts.count()):
        chart = charts.nth(i)
        chart.scroll_into_view_if_needed()
        assert chart.is_visible()
        box = chart.bounding_box()
        assert box and box["width"] > 200 and box["height"] > 50, (i, box)
        assert chart.get_attribute("role") == "img"
        assert chart.locator("text").count() > 3  # labels are real text
    # every rect of a bar has a size; the page lays out in Danish
    assert page.evaluate("document.documentElement.lang") == "da"
    assert page.locator("h1").count() == 1
    shot = tmp_path / (name.replace("/", "_") + ".png")
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    page.set_viewport_size({"width": 390, "height": 844})  # phone: still no horizontal page scroll
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    page.screenshot(path=str(tmp_path / (name.replace("/", "_") + "-mobile.png")), full_page=False)
    assert all(u.startswith("file://") for u in requests), requests
    assert not errors
    page.close()


def test_skip_link_moves_focus_to_the_content(browser, rendered_2024):
    page, _req, _err = _open(browser, rendered_2024["dir"] / "kommuner" / "index.html")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent")
    assert focused.strip() == "Spring til indholdet"
    page.keyboard.press("Enter")
    assert page.evaluate("location.hash") == "#indhold"
    page.close()
