"""Seeded synthetic survey answers and writers for every export layout (`generate-sample`).

- `generate_answers(instrument, n, seed)`: a canonical answers frame of any size (vectorised).
- `build_export` / `write_tables` / `write_export`: answers -> SurveyXact xlsx, SurveyXact CSV,
  Microsoft Forms xlsx, canonical CSV.
- `build_sample_year` / `write_sample_years`: the shipped samples under data/raw/<year>/.
- `generate_export`: one synthetic export of any size (benchmarks).
"""

from benchmark_pipeline.ingest.encoding import ENCODINGS, SEPARATORS
from benchmark_pipeline.ingest.errors import ExportError
from benchmark_pipeline.ingest.layouts.writing import response_mask
from benchmark_pipeline.sample.generate import generate_answers
from benchmark_pipeline.sample.profiles import PROFILES, YearProfile, profile_for
from benchmark_pipeline.sample.shipped import (
    DEFAULT_SEED,
    SAMPLE_YEARS,
    build_sample_year,
    generate_export,
    write_sample_year,
    write_sample_years,
)
from benchmark_pipeline.sample.writers import build_export, write_export, write_tables

__all__ = [
    "DEFAULT_SEED", "ENCODINGS", "PROFILES", "SAMPLE_YEARS", "SEPARATORS", "ExportError", "YearProfile",
    "build_export", "build_sample_year", "generate_answers", "generate_export", "profile_for", "response_mask",
    "write_export", "write_sample_year", "write_sample_years", "write_tables",
]
