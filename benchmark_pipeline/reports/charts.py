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
from dataclasses import dataclass, field

import matplotlib

matplotlib.use("Agg")  # noqa: E402  (before any figure is made; harmless when already set)

from matplotlib import rc_context  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.backends.backend_svg import FigureCanvasSVG  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import FuncFormatter, MultipleLocator  # noqa: E402
from matplotlib.transforms import blended_transform_factory  # noqa: E402
from markupsafe import Markup, escape  # noqa: E402

from .formatting import NBSP, fmt_pct, fmt_pct_interval, fmt_score, fmt_score_interval  # noqa: E402

# Colours chosen for at least 3:1 contrast against white (WCAG 1.4.11) and to stay distinct for the
# common colour-vision deficiencies; the primary series is dark blue, comparisons grey/orange/purple.
PRIMARY = "#1f5a96"  # 7.0:1 on white
NATIONAL = "#4d4d4d"  # 8.5:1
REGION = "#a6501b"  # 5.4:1
GROUP = "#6a4c93"  # 6.9:1
INK = "#1a1a1a"
GRID = "#d9d9d9"
SERIES_COLOURS = (PRIMARY, REGION, GROUP, NATIONAL, "#2e7d32")

RC = {
    "svg.fonttype": "none",  # text stays text: small SVG, searchable, readable by screen readers
    "svg.hashsalt": "benchmark_pipeline",  # deterministic ids
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans", "Arial", "Helvetica", "Liberation Sans"],
    "font.size": 9.5,
    "axes.edgecolor": "#8c8c8c",
    "axes.labelcolor": INK,
    "xtick.color": INK,
    "ytick.color": INK,
    "text.color": INK,
    "axes.titlesize": 10.5,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "figure.dpi": 100,
    "savefig.dpi": 100,
}
FIG_WIDTH = 7.2  # inches; the SVG scales to the column through its viewBox


def pct_axis(x: float, _pos: object = None) -> str:
    return f"{round(x * 100):d}{NBSP}%"


@dataclass
class Bar:
    """One bar: a published value with its interval; `text` is the value label shown at the bar."""

    label: str
    value: float
    low: float | None = None
    high: float | None = None
    colour: str = PRIMARY
    text: str = ""


@dataclass
class Panel:
    title: str
    bars: list[Bar]
    notes: list[str] = field(default_factory=list)  # e.g. "Region X: ikke offentliggjort" (alt text only)
    reference: float | None = None  # a dashed vertical line over this panel only (e.g. the national share)


@dataclass
class BarChart:
    """Horizontal bars with interval whiskers, in one or more stacked panels sharing the x axis."""

    key: str  # unique within a page; prefixes the SVG's ids
    alt: str
    panels: list[Panel]
    scale: str = "share"  # "share" (0-1, shown as %) or "score" (0-100)
    reference: float | None = None  # a dashed vertical line (e.g. the national share)
    reference_label: str = ""
    xlabel: str = ""
    wrap: int = 34
    left_in: float | None = None  # fixed label margin (inches); computed from the labels when None


@dataclass
class Series:
    label: str
    years: list[int]
    values: list[float]
    lows: list[float | None]
    highs: list[float | None]
    colour: str = PRIMARY
    marker: str = "o"


@dataclass
class TrendChart:
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

@dataclass
class _Layout:
    rows: list  # (y, label, bar or None for a heading)
    spans: list  # (y from, y to, reference) per panel
    y_end: float
    height: float
    left_in: float
    bottom_in: float
    shape: tuple


def _bar_layout(chart: BarChart) -> _Layout:
    rows: list[tuple[float, str, Bar | None]] = []
    spans: list[tuple[float, float, float]] = []
    y = 0.0
    for i, panel in enumerate(chart.panels):
        if panel.title:
            rows.append((y, panel.title, None))
            y += 0.9
        first = y
        for b in panel.bars:
            rows.append((y, "\n".join(textwrap.wrap(b.label, chart.wrap)) or b.label, b))
            y += 1.0
        ref = panel.reference if panel.reference is not None else chart.reference
        if ref is not None and panel.bars:
            spans.append((first - 0.45, y - 0.55, ref))
        if i < len(chart.panels) - 1:
            y += 0.35
    n_lines = max((lbl.count("\n") + 1 for _, lbl, b in rows if b is not None), default=1)
    row_in = 0.27 if n_lines == 1 else 0.36
    bottom_in = 0.42 + (0.22 if chart.xlabel else 0.0) + (0.22 if spans and chart.reference_label else 0.0)
    top_in = 0.12
    height = top_in + bottom_in + row_in * max(y, 1.0)
    if chart.left_in is not None:
        left_in = chart.left_in
    else:
        longest = max((len(line) for _, lbl, b in rows if b is not None for line in lbl.split("\n")), default=10)
        # browsers render the SVG text with their own sans-serif font, often wider than DejaVu's metrics
        left_in = min(0.3 + 0.082 * longest, 3.4)
    shape = (tuple(len(p.bars) for p in chart.panels), tuple(bool(p.title) for p in chart.panels), round(height, 4),
             round(left_in, 4), chart.xlabel, chart.reference_label if spans else "", len(spans), chart.scale)
    return _Layout(rows, spans, y, height, left_in, bottom_in, shape)


def _bar_figure(chart: BarChart, layout: _Layout | None = None) -> Figure:
    """One axes; panels are stacked row groups with a bold heading. Layout is computed, not measured
    (tight_layout draws the figure twice and costs more than the SVG itself). The data-dependent
    artists are kept on the figure so that `_bar_update` can reuse it for a chart of the same shape."""
    lay = layout or _bar_layout(chart)
    xmax = 1.0 if chart.scale == "share" else 100.0
    fig = Figure(figsize=(FIG_WIDTH, lay.height))
    fig.subplots_adjust(left=lay.left_in / FIG_WIDTH, right=0.985, top=1 - 0.12 / lay.height,
                        bottom=lay.bottom_in / lay.height)
    ax = fig.add_subplot()
    bars = [(yy, b) for yy, _, b in lay.rows if b is not None]
    ys = [yy for yy, _ in bars]
    container = ax.barh(ys, [0.0] * len(ys), height=0.64, zorder=2)
    hl = ax.hlines([], [], [], colors=INK, linewidth=1.1, zorder=3)
    vl = ax.vlines([], [], [], colors=INK, linewidth=1.1, zorder=3)
    texts = [ax.text(0, yy, "", va="center", ha="left", fontsize=9, color=INK, zorder=4) for yy in ys]
    label_x = blended_transform_factory(fig.transFigure, ax.transData)
    headings = [ax.text(0.012, yy, "", transform=label_x, ha="left", va="center", fontweight="bold", fontsize=10)
                for yy, _t, b in lay.rows if b is None]
    refs = ax.vlines([], [], [], colors=NATIONAL, linestyles=(0, (4, 3)), linewidth=1.4, zorder=3)
    ax.set_yticks(ys, [""] * len(ys))
    ax.set_ylim(lay.y_end - 0.5, -0.6)
    ax.set_xlim(0, xmax * 1.13)
    ticks = [i / 5 * xmax for i in range(6)]
    ax.set_xticks(ticks, [pct_axis(t) if chart.scale == "share" else f"{t:.0f}" for t in ticks])
    ax.grid(axis="x", color=GRID, linewidth=0.8, zorder=0)
    ax.set_axisbelow(True)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    ax.tick_params(axis="y", length=0, pad=6)
    ax.tick_params(axis="x", length=0, pad=4)
    if chart.xlabel:
        ax.set_xlabel(chart.xlabel)
    if lay.spans and chart.reference_label:
        fig.text(lay.left_in / FIG_WIDTH, 0.08 / lay.height, f"- - -  {chart.reference_label}", fontsize=8.5,
                 color=NATIONAL, ha="left", va="bottom")
    fig._bench_artists = {"ax": ax, "bars": container, "hl": hl, "vl": vl, "texts": texts, "headings": headings,
                          "refs": refs, "shape": lay.shape}
    _bar_update(fig, chart, lay)
    return fig


def _bar_update(fig: Figure, chart: BarChart, lay: _Layout) -> None:
    a = fig._bench_artists
    xmax = 1.0 if chart.scale == "share" else 100.0
    bars = [(yy, b) for yy, _, b in lay.rows if b is not None]
    for rect, (_yy, b) in zip(a["bars"].patches, bars):
        rect.set_width(b.value)
        rect.set_facecolor(b.colour)
    whisk = [(yy, b) for yy, b in bars if b.low is not None and b.high is not None]
    a["hl"].set_segments([[(b.low, yy), (b.high, yy)] for yy, b in whisk])
    a["vl"].set_segments([[(x, yy - 0.16), (x, yy + 0.16)] for yy, b in whisk for x in (b.low, b.high)])
    for text, (yy, b) in zip(a["texts"], bars):
        right = max(b.high if b.high is not None else b.value, b.value)
        text.set_position((right + xmax * 0.012, yy))
        text.set_text(b.text or bar_text(b.value, chart.scale))
    for text, title in zip(a["headings"], [t for _yy, t, b in lay.rows if b is None]):
        text.set_text(title)
    a["refs"].set_segments([[(ref, y0), (ref, y1)] for y0, y1, ref in lay.spans])
    a["ax"].set_yticklabels([lbl for _, lbl, b in lay.rows if b is not None])


class FigurePool:
    """Reuses one bar-chart figure per shape (same panels, bar counts and margins): on a page rendered
    98 times, only the data-dependent artists change and the figure is not rebuilt."""

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


def _trend_figure(chart: TrendChart) -> Figure:
    fig = Figure(figsize=(FIG_WIDTH, 3.3))
    ax = fig.subplots()
    years = sorted({y for s in chart.series for y in s.years})
    n = len(chart.series)
    for i, s in enumerate(chart.series):
        offset = (i - (n - 1) / 2) * 0.06  # keep whiskers of overlapping series apart
        xs = [y + offset for y in s.years]
        ax.plot(xs, s.values, color=s.colour, marker=s.marker, linewidth=2, markersize=6, label=s.label, zorder=3)
        lo = [v - (lw if lw is not None else v) for v, lw in zip(s.values, s.lows)]
        hi = [(h if h is not None else v) - v for v, h in zip(s.values, s.highs)]
        ax.errorbar(xs, s.values, yerr=[lo, hi], fmt="none", ecolor=s.colour, elinewidth=1, capsize=3, zorder=2)
        for x, v in zip(xs, s.values):
            ax.annotate(bar_text(v, chart.scale), (x, v), xytext=(7, 0), textcoords="offset points",
                        va="center", fontsize=8.5, color=INK)
    ax.set_xticks(years, [str(y) for y in years])
    if len(years) == 1:
        ax.set_xlim(years[0] - 0.6, years[0] + 0.6)
    else:
        ax.set_xlim(years[0] - 0.35, years[-1] + 0.45)
    if chart.scale == "share":
        ax.set_ylim(0, 1.0)
        ax.yaxis.set_major_locator(MultipleLocator(0.2))
        ax.yaxis.set_major_formatter(FuncFormatter(pct_axis))
    else:
        ax.set_ylim(0, 100)
    ax.grid(axis="y", color=GRID, linewidth=0.8, zorder=0)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    if chart.ylabel:
        ax.set_ylabel(chart.ylabel)
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False, fontsize=9)
    fig.tight_layout()
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
