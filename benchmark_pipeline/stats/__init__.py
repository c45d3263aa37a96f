"""Statistics: indicators, barrier scores, disclosure control, year-over-year and first-year changes, trends,
kommune benchmarks and the year summary (SURVEY.md section 4; table layouts in docs/architecture.md)."""

from benchmark_pipeline.stats.benchmarks import compute_kommune_benchmarks
from benchmark_pipeline.stats.disclosure import decide_suppression
from benchmark_pipeline.stats.indicators import compute_indicators
from benchmark_pipeline.stats.summary import compute_year_summary
from benchmark_pipeline.stats.trends import compute_trends
from benchmark_pipeline.stats.verify import verify_disclosure
from benchmark_pipeline.stats.yoy import compute_yoy

__all__ = [
    "compute_indicators",
    "compute_kommune_benchmarks",
    "compute_trends",
    "compute_year_summary",
    "compute_yoy",
    "decide_suppression",
    "verify_disclosure",
]
