"""Yearly partitioned assets, one module per stage."""

from benchmark_pipeline.defs.assets.ingestion import raw_survey_responses, validated_responses
from benchmark_pipeline.defs.assets.publishing import (
    published_release,
    release_candidate,
    report_artefacts,
    staged_release,
)
from benchmark_pipeline.defs.assets.statistics import (
    comparison_base,
    indicators,
    kommune_benchmarks,
    year_over_year_growth,
)

ALL_ASSETS = [
    raw_survey_responses,
    validated_responses,
    indicators,
    comparison_base,
    year_over_year_growth,
    kommune_benchmarks,
    release_candidate,
    report_artefacts,
    staged_release,
    published_release,
]
