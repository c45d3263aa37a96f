"""The Dagster code location (see workspace.yaml); settings come from BENCHMARK_* environment variables."""

from benchmark_pipeline.defs.build import build_definitions
from benchmark_pipeline.settings import Settings

defs = build_definitions(Settings.from_env())
