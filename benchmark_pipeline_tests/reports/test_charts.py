"""The report charts: fixed 0-100 % axes, one colour per meaning, Danish name order, text readable on a phone,
no one-point trend line, byte-identical SVG."""

from __future__ import annotations

import re

import pytest
from matplotlib.colors import to_hex

from benchmark_pipeline.reports import charts as ch

NBSP = "\u00a0"
REGIONS = {("region", "1081"): "Region Nordjylland", ("region", "1082"): "Region Midtjylland",
           ("region", "1083"): "Region Syddanmark", ("region", "1084"): "Region Hovedstaden",
           ("region", "1085"): "Region Sjælland", ("kommunegruppe", "1"): "Hovedstadskommuner",
           ("national", "0"): "Hele landet"}


def kommune_chart() -> ch.BarChart:
    bars = [ch.Bar("Københavns Kommune", 0.97, 0.9, 1.04, role="kommune"),  # an interval past 100 %
            ch.Bar("Region Hovedstaden", 0.58, 0.52, 0.64, role="region"),
            ch.Bar("Hovedstadskommuner (kommunegruppe)", 0.55, 0.5, 0.6, role="kommunegruppe"),
            ch.Bar("Hele landet", 0.6, 0.57, 0.63, role="national")]
    return ch.BarChart(key="fig-kommune", alt="Kommunen", panels=[ch.Panel("Bruger data mere", bars)],
                       xlabel="Andel (vandrette streger: 95\u00a0%-konfidensinterval)")


def region_chart() -> ch.BarChart:
    codes = ch.geography_order(REGIONS, "region")
    bars = [ch.Bar(REGIONS[("region", c)], 0.5 + i / 20, 0.45 + i / 20, 0.55 + i / 20, role="region")
            for i, c in enumerate(codes)]
    return ch.BarChart(key="fig-region", alt="Regionerne", panels=[ch.Panel("Bruger data mere", bars, reference=0.57)],
                       reference_label="Landsgennemsnit")


def score_chart() -> ch.BarChart:
    bars = [ch.Bar("Manglende tid og ressourcer til at arbejde med data i den daglige drift", 71.3, 65.0, 101.0),
            ch.Bar("Jura og GDPR", 45.0, 40.0, 50.0)]
    return ch.BarChart(key="fig-barriers", alt="Barrierer", panels=[ch.Panel("", bars)], scale="score",
                       xlabel="Vægtet score, 0-100 (3 point for 1. plads, 2 for 2., 1 for 3.)")


def trend_chart(years=(2023, 2024, 2025)) -> ch.TrendChart:
    n = len(years)
    return ch.TrendChart(key="fig-trend", alt="Udviklingen", series=[
        ch.Series("Bruger data mere", list(years), [0.6] * n, [0.55] * n, [0.65] * n),
        ch.Series("Ser potentiale", list(years), [0.97] * n, [0.92] * n, [1.03] * n)])


CHARTS = {"bars": kommune_chart, "reference": region_chart, "score": score_chart, "trend": trend_chart}


def _contrast(hex_colour: str) -> float:
    rgb = [int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
    lum = 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]
    return 1.05 / (lum + 0.05)


def test_share_and_score_axes_end_at_100_and_intervals_stay_inside():
    ax = ch.figure(kommune_chart()).axes[0]
    assert ax.get_xlim() == (0.0, 1.0)
    assert [t.get_text() for t in ax.get_xticklabels()] == [f"{v}{NBSP}%" for v in (0, 20, 40, 60, 80, 100)]
    whiskers = [seg for coll in ax.collections for seg in coll.get_segments()]
    assert whiskers and max(x for seg in whiskers for x, _y in seg) <= 1.0
    assert max(p.get_width() for p in ax.patches if p.get_height() < 1) <= 1.0
    ax = ch.figure(score_chart()).axes[0]
    assert ax.get_xlim() == (0.0, 100.0)
    assert max(x for coll in ax.collections for seg in coll.get_segments() for x, _y in seg) <= 100.0
    ax = ch.figure(trend_chart()).axes[0]
    assert ax.get_ylim() == (0.0, 1.0)
    assert [t.get_text() for t in ax.get_yticklabels()] == [f"{v}{NBSP}%" for v in (0, 20, 40, 60, 80, 100)]
    caps = [line for line in ax.lines if line.get_marker() in ("_", "|")]
    assert all(0.0 <= y <= 1.0 for line in ax.lines for y in line.get_ydata())
    assert not caps or all(y <= 1.0 for line in caps for y in line.get_ydata())


def test_palette_is_keyed_by_meaning_with_3_to_1_contrast_on_white():
    assert {"kommune", "region", "kommunegruppe", "national", "current", "earlier", "suppressed"} <= set(ch.PALETTE)
    for meaning, value in ch.PALETTE.items():
        assert _contrast(value) >= 3.0, meaning
    graphic = [ch.PALETTE[m] for m in ("kommune", "region", "kommunegruppe", "national")]
    assert len(set(graphic)) == 4
    with pytest.raises(ValueError, match="meaning"):
        ch.Bar("x", 0.5, role="blue")


def test_one_colour_per_meaning_across_charts():
    kommune = ch.figure(kommune_chart()).axes[0]
    fills = {b.label: to_hex(p.get_facecolor()) for b, p in
             zip(kommune_chart().panels[0].bars, [p for p in kommune.patches if p.get_height() < 1])}
    assert fills == {"Københavns Kommune": ch.PALETTE["kommune"].lower(), "Region Hovedstaden": ch.PALETTE["region"].lower(),
                     "Hovedstadskommuner (kommunegruppe)": ch.PALETTE["kommunegruppe"].lower(),
                     "Hele landet": ch.PALETTE["national"].lower()}
    region = ch.figure(region_chart()).axes[0]
    assert {to_hex(p.get_facecolor()) for p in region.patches if p.get_height() < 1} == {ch.PALETTE["region"].lower()}
    national_mark = [c for c in region.collections if c.get_linestyle() != [(0, None)]]
    assert {to_hex(c.get_color()[0]) for c in national_mark} == {ch.PALETTE["national"].lower()}
    trend = ch.figure(trend_chart()).axes[0]
    assert {to_hex(line.get_color()) for line in trend.lines if line.get_marker() in ("o", "s")} == {
        ch.PALETTE["national"].lower()}
    # the same meanings in the SVG text itself
    svg = str(ch.to_svg(kommune_chart())).lower() + str(ch.to_svg(region_chart())).lower()
    for meaning in ("kommune", "region", "kommunegruppe", "national"):
        assert ch.PALETTE[meaning].lower() in svg


def test_legacy_colour_keyword_means_the_same_roles():
    assert ch.Bar("x", 0.5, colour=ch.PRIMARY).role == "kommune"
    assert ch.Bar("x", 0.5, colour=ch.NATIONAL).role == "national"
    assert ch.Series("x", [2024], [0.5], [None], [None], colour=ch.REGION).role == "region"


def test_geographies_in_danish_name_order():
    assert ch.geography_order(REGIONS, "region") == ["1084", "1082", "1081", "1085", "1083"]
    assert ch.geography_order(REGIONS, "region", codes=["1085", "1081"]) == ["1081", "1085"]
    names = {("kommune", str(i)): n for i, n in enumerate(
        ["Ærø", "Aabenraa", "Vejle", "Odder", "Ørsted", "Åby", "Zealand", "Egedal", "Ølstykke"])}
    order = [names[("kommune", c)] for c in ch.geography_order(names, "kommune")]
    assert order == ["Egedal", "Odder", "Vejle", "Zealand", "Ærø", "Ølstykke", "Ørsted", "Aabenraa", "Åby"]
    ax = ch.figure(region_chart()).axes[0]
    labels = [t.get_text() for t in ax.texts if t.get_text().startswith("Region")]
    assert labels == ["Region Hovedstaden", "Region Midtjylland", "Region Nordjylland", "Region Sjælland",
                      "Region Syddanmark"]


@pytest.mark.parametrize("kind", CHARTS)
def test_every_text_is_at_least_11_px_on_a_390_px_phone(kind):
    svg = str(ch.to_svg(CHARTS[kind]()))
    width = float(re.search(r'viewBox="0 0 ([\d.]+) [\d.]+"', svg).group(1))
    texts = re.findall(r"<text\b[^>]*>", svg)
    assert len(texts) > 5
    sizes = [float(m.group(1)) for t in texts for m in [re.search(r"font-size: ([\d.]+)px", t)] if m]
    assert len(sizes) == len(texts)  # every text element states its size
    assert min(sizes) * ch.PHONE_PX / width >= 11, (min(sizes), width)


def _drawn_lines(ax) -> list[str]:
    """The labels of the series drawn with a connecting line."""
    return [line.get_label() for line in ax.lines if line.get_linestyle() not in ("None", "none", "")]


def test_one_year_draws_points_without_a_line():
    ax = ch.figure(trend_chart(years=(2025,))).axes[0]
    assert _drawn_lines(ax) == []
    assert {line.get_marker() for line in ax.lines} >= {"o", "s"}  # the points are there
    mixed = ch.TrendChart(key="t", alt="a", series=[
        ch.Series("a", [2025], [0.5], [0.4], [0.6]), ch.Series("b", [2024, 2025], [0.5, 0.6], [0.4, 0.5], [0.6, 0.7])])
    assert _drawn_lines(ch.figure(mixed).axes[0]) == ["b"]


@pytest.mark.parametrize("kind", CHARTS)
def test_svg_is_byte_identical_on_reruns_and_from_a_reused_figure(kind):
    first = str(ch.to_svg(CHARTS[kind]()))
    assert first == str(ch.to_svg(CHARTS[kind]()))
    assert "<metadata" not in first and "dc:date" not in first
    if kind != "trend":
        pool = ch.FigurePool()
        other = CHARTS[kind]()
        for b in other.panels[0].bars:
            b.value *= 0.9
        ch.to_svg(other, pool.figure(other))  # the pooled figure drew another chart first
        assert str(ch.to_svg(CHARTS[kind](), pool.figure(CHARTS[kind]()))) == first
    else:
        pool = ch.TrendPool()
        other = CHARTS[kind]()
        for s in other.series:  # other values, intervals past both ends of the axis, a missing bound
            s.values = [v * 0.8 for v in s.values]
            s.lows = [None, -0.1, *(v - 0.05 for v in s.values[2:])]
            s.highs = [1.2, *(v + 0.05 for v in s.values[1:])]
        drawn = str(ch.to_svg(other, pool.figure(other)))
        assert drawn != first and drawn == str(ch.to_svg(other))
        assert str(ch.to_svg(CHARTS[kind](), pool.figure(CHARTS[kind]()))) == first
        assert len(pool._figures) == 1
