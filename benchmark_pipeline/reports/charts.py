"""Static charts with matplotlib (Agg, no pyplot state): Danish labels, decimal commas, interval whiskers.

A chart is described by a small spec (`BarChart`, `TrendChart`) that carries its alt text, and rendered
to an inline SVG (`to_svg`: no embedded fonts, no external references, `role="img"` with a `<title>` and
`aria-label` that carry the published numbers) or to PNG bytes / markdown for the Dagster UI
(`chart_png`, `chart_markdown`). Suppressed values never reach a spec: callers leave them out, and the
alt text says "ikke offentliggjort" without a number.
"""

from __future__ import annotations

import base64
import io
import re
import textwrap
from collections.abc import Iterable, Mapping
from dataclasses import InitVar, dataclass, field

import matplotlib

matplotlib.use("Agg")  # noqa: E402  (before any figure is made; harmless when already set)

from matplotlib import rc_context  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.backends.backend_svg import FigureCanvasSVG  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.transforms import blended_transform_factory  # noqa: E402
from markupsafe import Markup, escape  # noqa: E402

from .formatting import NBSP, danish_key, fmt_pct, fmt_pct_interval, fmt_score, fmt_score_interval  # noqa: E402

# One colour per meaning on every page and chart (the Okabe-Ito colour-blind-safe set), each with at least
# 3:1 contrast against white for graphical objects (WCAG 1.4.11). Charts pick colours by meaning only.
PALETTE = {
    "kommune": "#D55E00",  # the kommune itself: vermillion, 3.9:1
    "region": "#009E73",  # its region: bluish green, 3.4:1
    "kommunegruppe": "#CC79A7",  # its kommunegruppe: reddish purple, 3.1:1
    "national": "#0072B2",  # hele landet: blue, 5.2:1
    "current": "#1a1a1a",  # the survey year's values (filled markers, bold labels): 17:1
    "earlier": "#595959",  # earlier years' values (hollow markers, grey labels): 7.0:1
    "suppressed": "#767676",  # not shown (ikke offentliggjort): 4.5:1, also enough for text
}
# The meanings under the names earlier callers used as colours (`colour=ch.PRIMARY` keeps working).
PRIMARY, REGION, GROUP, NATIONAL = "kommune", "region", "kommunegruppe", "national"
INK = "#1a1a1a"
GRID = "#d9d9d9"
FIG_WIDTH = 5.4  # inches = 388.8 SVG units, about a phone screen's width
FONT = 12.5  # pt = SVG units; every text of a chart uses it: >= 11 px on a 390 px phone, where the page's
# padding leaves a chart about 350 px wide (12.5 x 350 / 388.8 = 11.3; test_accessibility measures it)
PHONE_PX = 390
LINE_IN = FONT * 1.25 / 72  # one line of chart text
CHAR_IN = FONT * 0.6 / 72  # an average character, generous for the browsers' own sans-serif fonts
SERIES_STYLES = (("o", "-"), ("s", "--"), ("^", ":"), ("D", "-."))  # series of one meaning: marker, line

RC = {
    "svg.fonttype": "none",  # text stays text: small SVG, searchable, readable by screen readers
    "svg.hashsalt": "benchmark_pipeline",  # deterministic ids
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans", "Arial", "Helvetica", "Liberation Sans"],
    "font.size": FONT,
    "axes.edgecolor": "#8c8c8c",
    "axes.labelcolor": INK,
    "axes.labelsize": FONT,
    "xtick.color": INK,
    "ytick.color": INK,
    "xtick.labelsize": FONT,
    "ytick.labelsize": FONT,
    "legend.fontsize": FONT,
    "text.color": INK,
    "axes.titlesize": FONT,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "figure.dpi": 100,
    "savefig.dpi": 100,
}


def palette_colour(meaning: str) -> str:
    """The palette colour of a meaning; an unknown meaning is an error, never a silent default."""
    try:
        return PALETTE[meaning]
    except KeyError:
        raise ValueError(f"unknown chart meaning {meaning!r}; choose one of {', '.join(PALETTE)}") from None


def pct_axis(x: float, _pos: object = None) -> str:
    return f"{round(x * 100):d}{NBSP}%"


def axis_max(scale: str) -> float:
    """Shares are fractions shown as 0-100 %, scores are 0-100: the axis always ends there."""
    return 1.0 if scale == "share" else 100.0


def axis_ticks(scale: str) -> tuple[list[float], list[str]]:
    top = axis_max(scale)
    ticks = [i / 5 * top for i in range(6)]
    return ticks, [pct_axis(t) if scale == "share" else f"{t:.0f}" for t in ticks]


def _clip(v: float | None, scale: str) -> float | None:
    return None if v is None else min(max(v, 0.0), axis_max(scale))


# -- order ----------------------------------------------------------------------------------------

def geography_order(names: Mapping[tuple[str, str], str], level: str,
                    codes: Iterable[str] | None = None) -> list[str]:
    """The codes of one level ("region", "kommunegruppe", "kommune") in Danish name order, so that a chart
    and the table beside it list the geographies in the same order. `names` maps (level, code) to the
    name shown; `codes` limits the result (default: every code of the level in `names`)."""
    if codes is None:
        codes = [code for lvl, code in names if lvl == level]
    return sorted({str(c) for c in codes}, key=lambda c: danish_key(names.get((level, c), c)))


# -- specs ----------------------------------------------------------------------------------------

@dataclass
class Bar:
    """One bar: a published value with its interval; `role` is its meaning (a PALETTE key) and gives its
    colour; `text` is the value label shown at the bar."""

    label: str
    value: float
    low: float | None = None
    high: float | None = None
    role: str = "national"
    text: str = ""
    colour: InitVar[str | None] = None  # the former name of `role`

    def __post_init__(self, colour: str | None) -> None:
        if colour is not None:
            self.role = colour
        palette_colour(self.role)  # fail early on an unknown meaning


@dataclass
class Panel:
    title: str
    bars: list[Bar]
    notes: list[str] = field(default_factory=list)  # e.g. "Region X: ikke offentliggjort" (alt text only)
    reference: float | None = None  # a dashed national mark over this panel only (e.g. the national share)


@dataclass
class BarChart:
    """Horizontal bars with interval whiskers, in one or more stacked panels sharing the x axis. Each label
    stands on its own line above its bar, so that bars keep the full width of a phone."""

    key: str  # unique within a page; prefixes the SVG's ids
    alt: str
    panels: list[Panel]
    scale: str = "share"  # "share" (0-1, shown as %) or "score" (0-100)
    reference: float | None = None  # a dashed national mark at each bar (e.g. the national share)
    reference_label: str = ""
    xlabel: str = ""
    wrap: int | None = None  # characters per label line; default: what fits the figure's width
    left_in: float | None = None  # no effect since labels stand above the bars; kept for existing callers


@dataclass
class Series:
    """One line of a trend chart; series of the same role are told apart by marker and line style."""

    label: str
    years: list[int]
    values: list[float]
    lows: list[float | None]
    highs: list[float | None]
    role: str = "national"
    marker: str = ""  # default: by the series' place among those of its role
    colour: InitVar[str | None] = None  # the former name of `role`

    def __post_init__(self, colour: str | None) -> None:
        if colour is not None:
            self.role = colour
        palette_colour(self.role)


@dataclass
class TrendChart:
    """Values by year; a series with one year is drawn as points without a line (a line needs two)."""

    key: str
    alt: str
    series: list[Series]
    scale: str = "share"
    ylabel: str = ""


def bar_text(value: float, scale: str) -> str:
    return fmt_pct(value) if scale == "share" else fmt_score(value)


def interval_text(low: float | None, high: float | None, scale: str) -> str:
    if low is None or high is None:
        return ""
    return fmt_pct_interval(low, high) if scale == "share" else fmt_score_interval(low, high)


def describe_bars(title: str, panels: list[Panel], scale: str) -> str:
    """An alt text that carries every published number of the chart."""
    parts = [title.rstrip(".") + "."]
    for panel in panels:
        items = []
        for b in panel.bars:
            t = f"{b.label}: {bar_text(b.value, scale)}"
            ci = interval_text(b.low, b.high, scale)
            if ci:
                t += f" (95{NBSP}%-interval {ci})"
            items.append(t)
        items.extend(panel.notes)
        prefix = f"{panel.title}: " if panel.title and len(panels) > 1 else ""
        parts.append(prefix + "; ".join(items) + ".")
    return " ".join(parts)


# -- figures --------------------------------------------------------------------------------------

# bar charts, in inches (the y data unit is an inch from the top of the axes)
AX_LEFT_IN = 0.24  # room for half of the "0 %" tick label
AX_RIGHT_IN = 0.66  # room for the value label of a bar at 100 %
HEADING_IN = 0.36
GAP_IN = 0.14  # above each label
BAR_IN = 0.22
PANEL_GAP_IN = 0.16


def _wrap(text: str, width: int) -> str:
    return "\n".join(textwrap.wrap(text, width)) or text


def _text_width() -> int:
    """Characters per line across the figure."""
    return int((FIG_WIDTH - AX_LEFT_IN - 0.1) / CHAR_IN)


@dataclass
class _Layout:
    rows: list  # (y of the label's bottom, y of the bar's centre, label, bar or None for a heading)
    marks: list  # (y centre, reference) of the national marks
    y_end: float
    height: float
    bottom_in: float
    xlabel: str
    shape: tuple


def _bar_layout(chart: BarChart) -> _Layout:
    width = chart.wrap or _text_width()
    rows: list[tuple[float, float, str, Bar | None]] = []
    marks: list[tuple[float, float]] = []
    y = 0.0
    for i, panel in enumerate(chart.panels):
        if panel.title:
            rows.append((y + HEADING_IN * 0.75, y + HEADING_IN * 0.5, _wrap(panel.title, width), None))
            y += HEADING_IN
        ref = panel.reference if panel.reference is not None else chart.reference
        for b in panel.bars:
            label = _wrap(b.label, width)
            label_bottom = y + GAP_IN + LINE_IN * (label.count("\n") + 1)
            centre = label_bottom + 0.04 + BAR_IN / 2
            rows.append((label_bottom, centre, label, b))
            if ref is not None:
                marks.append((centre, ref))
            y = centre + BAR_IN / 2
        if i < len(chart.panels) - 1:
            y += PANEL_GAP_IN
    y_end = max(y, 0.5) + 0.06
    xlabel = _wrap(chart.xlabel, _text_width()) if chart.xlabel else ""
    legend = bool(marks and chart.reference_label)
    bottom_in = 0.36 + (LINE_IN * (xlabel.count("\n") + 1) + 0.06 if xlabel else 0.0) + (LINE_IN + 0.1 if legend else 0)
    height = 0.08 + y_end + bottom_in
    shape = (tuple((round(lb, 4), round(c, 4), b is None) for lb, c, _l, b in rows), xlabel,
             chart.reference_label if legend else "", len(marks), chart.scale)
    return _Layout(rows, marks, y_end, height, bottom_in, xlabel, shape)


def _bar_figure(chart: BarChart, layout: _Layout | None = None) -> Figure:
    """One axes; panels are stacked row groups with a bold heading. Layout is computed, not measured
    (tight_layout draws the figure twice and costs more than the SVG itself). The data-dependent
    artists are kept on the figure so that `_bar_update` can reuse it for a chart of the same shape."""
    lay = layout or _bar_layout(chart)
    fig = Figure(figsize=(FIG_WIDTH, lay.height))
    fig.subplots_adjust(left=AX_LEFT_IN / FIG_WIDTH, right=1 - AX_RIGHT_IN / FIG_WIDTH,
                        top=1 - 0.08 / lay.height, bottom=lay.bottom_in / lay.height)
    ax = fig.add_subplot()
    bars = [(c, b) for _lb, c, _l, b in lay.rows if b is not None]
    ys = [c for c, _ in bars]
    container = ax.barh(ys, [0.0] * len(ys), height=BAR_IN, zorder=2)
    hl = ax.hlines([], [], [], colors=INK, linewidth=1.2, zorder=3)
    vl = ax.vlines([], [], [], colors=INK, linewidth=1.2, zorder=3)
    texts = [ax.text(0, c, "", va="center", ha="left", color=INK, zorder=4, clip_on=False) for c in ys]
    label_x = blended_transform_factory(ax.transAxes, ax.transData)
    labels = [ax.text(0, lb, "", transform=label_x, ha="left", va="bottom" if b is not None else "center",
                      fontweight="normal" if b is not None else "bold", linespacing=1.1)
              for lb, c, _l, b in lay.rows]
    refs = ax.vlines([], [], [], colors=palette_colour("national"), linestyles=(0, (2, 1.5)), linewidth=2.2, zorder=4)
    ax.set_yticks([])
    ax.set_ylim(lay.y_end, 0)
    ax.set_xlim(0, axis_max(chart.scale))
    ax.set_xticks(*axis_ticks(chart.scale))
    ax.grid(axis="x", color=GRID, linewidth=0.8, zorder=0)
    ax.set_axisbelow(True)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    ax.tick_params(axis="x", length=0, pad=4)
    if lay.xlabel:
        ax.set_xlabel(lay.xlabel, loc="left", labelpad=6)
    if lay.marks and chart.reference_label:
        fig.text(AX_LEFT_IN / FIG_WIDTH, 0.08 / lay.height, f"\u2506  {chart.reference_label}",
                 color=palette_colour("national"), ha="left", va="bottom")
    fig._bench_artists = {"ax": ax, "bars": container, "hl": hl, "vl": vl, "texts": texts, "labels": labels,
                          "refs": refs, "shape": lay.shape}
    _bar_update(fig, chart, lay)
    return fig


def _bar_update(fig: Figure, chart: BarChart, lay: _Layout) -> None:
    a = fig._bench_artists
    top = axis_max(chart.scale)
    bars = [(c, b) for _lb, c, _l, b in lay.rows if b is not None]
    for rect, (_c, b) in zip(a["bars"].patches, bars):
        rect.set_width(_clip(b.value, chart.scale))
        rect.set_facecolor(palette_colour(b.role))
    whisk = [(c, _clip(b.low, chart.scale), _clip(b.high, chart.scale)) for c, b in bars
             if b.low is not None and b.high is not None]
    a["hl"].set_segments([[(lo, c), (hi, c)] for c, lo, hi in whisk])
    a["vl"].set_segments([[(x, c - 0.07), (x, c + 0.07)] for c, lo, hi in whisk for x in (lo, hi)])
    refs = dict(lay.marks)
    for text, (c, b) in zip(a["texts"], bars):
        right = max(b.high if b.high is not None else b.value, b.value, refs.get(c, 0.0))  # clear of the mark
        text.set_position((_clip(right, chart.scale) + top * 0.015, c))
        text.set_text(b.text or bar_text(b.value, chart.scale))
    for text, (_lb, _c, label, _b) in zip(a["labels"], lay.rows):
        text.set_text(label)
    a["refs"].set_segments([[(_clip(ref, chart.scale), c - 0.17), (_clip(ref, chart.scale), c + 0.17)]
                            for c, ref in lay.marks])


class FigurePool:
    """Reuses one bar-chart figure per shape (same rows, line counts and notes): on a page rendered 98
    times, only the data-dependent artists change and the figure is not rebuilt."""

    def __init__(self) -> None:
        self._figures: dict[tuple, Figure] = {}

    def figure(self, chart: BarChart) -> Figure:
        lay = _bar_layout(chart)
        fig = self._figures.get(lay.shape)
        with rc_context(RC):
            if fig is None:
                fig = self._figures[lay.shape] = _bar_figure(chart, lay)
            else:
                _bar_update(fig, chart, lay)
        return fig


def _trend_shape(chart: TrendChart) -> tuple:
    """What decides a trend figure's artists: its series (meaning, label, marker, years), scale and label."""
    return (tuple((s.role, s.label, s.marker, tuple(s.years)) for s in chart.series), chart.scale, chart.ylabel)


def _trend_points(chart: TrendChart, i: int, s: Series) -> tuple[list, list, list, list]:
    """x positions, clipped values and the whiskers' lengths below and above of series `i`."""
    n = len(chart.series)
    offset = (i - (n - 1) / 2) * 0.06  # keep whiskers of overlapping series apart
    xs = [y + offset for y in s.years]
    vs = [_clip(v, chart.scale) for v in s.values]
    lo = [v - (_clip(lw, chart.scale) if lw is not None else v) for v, lw in zip(vs, s.lows)]
    hi = [(_clip(h, chart.scale) if h is not None else v) - v for v, h in zip(vs, s.highs)]
    return xs, vs, lo, hi


def _trend_update(fig: Figure, chart: TrendChart) -> None:
    """Give a trend figure of the same shape (`_trend_shape`) the values of `chart`: the lines, the survey
    year's points, the whiskers and caps and the value labels; nothing else depends on the values."""
    current = max((y for s in chart.series for y in s.years), default=None)
    for i, (s, artists) in enumerate(zip(chart.series, fig._bench_artists["series"])):
        line, now_line, (low_cap, high_cap), whiskers, labels = artists
        xs, vs, lo, hi = _trend_points(chart, i, s)
        line.set_data(xs, vs)
        if now_line is not None:
            now = [(x, v) for x, y, v in zip(xs, s.years, vs) if y == current]
            now_line.set_data([x for x, _ in now], [v for _, v in now])
        lows = [v - d for v, d in zip(vs, lo)]
        highs = [v + d for v, d in zip(vs, hi)]
        low_cap.set_data(xs, lows)
        high_cap.set_data(xs, highs)
        whiskers.set_segments([[(x, lw), (x, h)] for x, lw, h in zip(xs, lows, highs)])
        for label, x, v, h in zip(labels, xs, vs, highs):
            label.xy = (x, h)
            label.set_text(bar_text(v, chart.scale))


class TrendPool:
    """Reuses one trend figure per shape (`_trend_shape`): the 98 kommune pages' trend charts differ only in
    their values, so only the value-dependent artists change (the SVG is the same as a new figure's)."""

    def __init__(self) -> None:
        self._figures: dict[tuple, Figure] = {}

    def figure(self, chart: TrendChart) -> Figure:
        shape = _trend_shape(chart)
        fig = self._figures.get(shape)
        with rc_context(RC):
            if fig is None:
                fig = self._figures[shape] = _trend_figure(chart)
            else:
                _trend_update(fig, chart)
        return fig


def _trend_figure(chart: TrendChart) -> Figure:
    """Lines in the colour of their meaning; the survey year's points filled and labelled in bold, earlier
    years' hollow and grey; intervals clipped to the axis; the legend below the plot (a phone's width).
    The value-dependent artists are kept on the figure for `_trend_update` (`TrendPool`)."""
    n = len(chart.series)
    legend_in = 0.12 + n * (LINE_IN + 0.06)
    bottom_in = 0.36 + legend_in
    top_in = 0.34  # room for the label of a value at the top of the axis
    height = 2.7 + bottom_in + top_in
    fig = Figure(figsize=(FIG_WIDTH, height))
    left_in = 0.72 + (LINE_IN + 0.05 if chart.ylabel else 0.0)
    fig.subplots_adjust(left=left_in / FIG_WIDTH, right=1 - 0.3 / FIG_WIDTH, top=1 - top_in / height,
                        bottom=bottom_in / height)
    ax = fig.add_subplot()
    years = sorted({y for s in chart.series for y in s.years})
    current = years[-1] if years else None
    seen: dict[str, int] = {}
    kept = []
    for i, s in enumerate(chart.series):
        k = seen[s.role] = seen.get(s.role, -1) + 1
        marker, line = SERIES_STYLES[k % len(SERIES_STYLES)]
        marker = s.marker or marker
        c = palette_colour(s.role)
        xs, vs, lo, hi = _trend_points(chart, i, s)
        (drawn,) = ax.plot(xs, vs, color=c, linestyle=line if len(xs) >= 2 else "none", linewidth=2,
                           marker=marker, markersize=7, markerfacecolor="white", markeredgewidth=1.8,
                           label=s.label, zorder=3)
        now = [(x, v) for x, y, v in zip(xs, s.years, vs) if y == current]
        now_line = None
        if now:
            (now_line,) = ax.plot([x for x, _ in now], [v for _, v in now], linestyle="none", marker=marker,
                                  markersize=7, color=c, markeredgewidth=1.8, zorder=4)
        bars = ax.errorbar(xs, vs, yerr=[lo, hi], fmt="none", ecolor=c, elinewidth=1.2, capsize=3, zorder=2)
        labels = []
        for x, y, v, h in zip(xs, s.years, vs, (v + d for v, d in zip(vs, hi))):  # labels above the whiskers
            labels.append(ax.annotate(bar_text(v, chart.scale), (x, h), xytext=(0, 3), textcoords="offset points",
                                      ha="center", va="bottom",
                                      color=palette_colour("current" if y == current else "earlier"),
                                      fontweight="bold" if y == current else "normal", annotation_clip=False))
        kept.append((drawn, now_line, bars.lines[1], bars.lines[2][0], labels))
    ax.set_xticks(years, [str(y) for y in years])
    for label, y in zip(ax.get_xticklabels(), years):
        if y == current:
            label.set_fontweight("bold")
    if len(years) == 1:
        ax.set_xlim(years[0] - 0.6, years[0] + 0.6)
    elif years:
        ax.set_xlim(years[0] - 0.3, years[-1] + 0.3)
    ax.set_ylim(0, axis_max(chart.scale))
    ax.set_yticks(*axis_ticks(chart.scale))
    ax.grid(axis="y", color=GRID, linewidth=0.8, zorder=0)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    if chart.ylabel:
        ax.set_ylabel(chart.ylabel)
    if chart.series:
        fig.legend(*ax.get_legend_handles_labels(), loc="lower left", frameon=False, ncols=1,
                   bbox_to_anchor=(0.1 / FIG_WIDTH, 0.06 / height), borderaxespad=0, borderpad=0)
    fig._bench_artists = {"series": kept}
    return fig


def figure(chart: BarChart | TrendChart) -> Figure:
    with rc_context(RC):
        return _bar_figure(chart) if isinstance(chart, BarChart) else _trend_figure(chart)


# -- output ---------------------------------------------------------------------------------------

_ID_RE = re.compile(r'\bid="([^"]+)"')
_REF_RE = re.compile(r'(url\(#|href="#)([^")]+)')
_XMLNS_RE = re.compile(r'\s+xmlns(:\w+)?="[^"]*"')
_STYLE_RE = re.compile(r"<style[^>]*>.*?</style>\s*", re.S)


def _clean_svg(raw: str, key: str) -> str:
    """Inline-ready SVG: no prolog, DOCTYPE, metadata or namespace URLs; ids unique per chart."""
    svg = raw[raw.index("<svg"):]
    svg = re.sub(r"<metadata>.*?</metadata>\s*", "", svg, flags=re.S)
    svg = _XMLNS_RE.sub("", svg)
    svg = _STYLE_RE.sub("", svg)  # matplotlib's `*{stroke-linejoin: round; ...}` would leak into the page
    prefix = re.sub(r"[^a-zA-Z0-9_-]", "-", key)
    svg = _ID_RE.sub(lambda m: f'id="{prefix}-{m.group(1)}"', svg)
    svg = _REF_RE.sub(lambda m: f"{m.group(1)}{prefix}-{m.group(2)}", svg)
    return svg.strip()


def _figure_svg(fig: Figure) -> str:
    buf = io.StringIO()
    with rc_context(RC):
        FigureCanvasSVG(fig).print_svg(buf, metadata={"Date": None, "Creator": None, "Format": None, "Type": None})
    return buf.getvalue()


def to_svg(chart: BarChart | TrendChart, fig: Figure | None = None) -> Markup:
    """The chart as inline SVG markup with role="img", aria-label and <title> carrying the alt text."""
    svg = _clean_svg(_figure_svg(fig if fig is not None else figure(chart)), chart.key)
    alt = escape(chart.alt)
    title_id = f"{chart.key}-title"
    head_end = svg.index(">") + 1
    head = svg[:head_end]
    head = head.replace("<svg", f'<svg role="img" aria-labelledby="{title_id}" aria-label="{alt}" '
                        f'class="chart" focusable="false"', 1)
    head = re.sub(r'\swidth="[^"]*"\s+height="[^"]*"', "", head, count=1)  # size comes from CSS + viewBox
    return Markup(f'{head}<title id="{title_id}">{alt}</title>{svg[head_end:]}')


class LazySVG:
    """A chart's inline SVG, drawn the first time a template shows it (never, when only the spec is used).
    Only for charts drawn on their own figure: a pooled figure is redrawn for the next chart, so pooled
    charts are drawn at once with `to_svg`. The figure is kept, so the Dagster UI's PNG of the same chart
    (`chart_png(chart, fig=lazy.figure)`) does not build it again."""

    __slots__ = ("chart", "_markup", "_figure")

    def __init__(self, chart: BarChart | TrendChart) -> None:
        self.chart = chart
        self._markup: Markup | None = None
        self._figure: Figure | None = None

    @property
    def figure(self) -> Figure:
        if self._figure is None:
            self._figure = figure(self.chart)
        return self._figure

    @property
    def markup(self) -> Markup:
        if self._markup is None:
            self._markup = to_svg(self.chart, self.figure)
        return self._markup

    def __html__(self) -> str:
        return str(self.markup)

    def __str__(self) -> str:
        return str(self.markup)

    def __bool__(self) -> bool:
        return True


def chart_png(chart: BarChart | TrendChart, dpi: int = 110, fig: Figure | None = None) -> bytes:
    """The chart as PNG bytes (e.g. for Dagster metadata or e-mail); `fig` is the chart's own figure when it
    has been drawn already (e.g. for the page's SVG): the PNG is the same."""
    fig = fig if fig is not None else figure(chart)
    buf = io.BytesIO()
    with rc_context(RC):
        FigureCanvasAgg(fig)
        fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None})
    return buf.getvalue()


def chart_markdown(chart: BarChart | TrendChart, dpi: int = 90, fig: Figure | None = None) -> str:
    """Markdown with the chart as a base64 PNG data URI and its alt text, for `MetadataValue.md`."""
    data = base64.b64encode(chart_png(chart, dpi=dpi, fig=fig)).decode("ascii")
    alt = chart.alt.replace("[", "(").replace("]", ")").replace("\n", " ")
    return f"![{alt}](data:image/png;base64,{data})\n\n{chart.alt}\n"
