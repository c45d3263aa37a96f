"""A survey year without its mapping or its export is skipped, not failed.

A backfill of every partition includes years whose survey has not been exported yet (the partitions run
to next year). The two root assets of the year, `raw_survey_responses` and `comparison_base`, then yield
no output, so Dagster skips everything downstream and the run succeeds; the reason is logged and recorded
as an observation of the asset, where the UI shows it.
"""

from __future__ import annotations

from dagster import AssetExecutionContext, AssetObservation, MetadataValue

from benchmark_pipeline.defs.resources import BenchmarkSettings
from benchmark_pipeline.publication import missing_inputs


def skipped_for_missing_inputs(context: AssetExecutionContext, benchmark: BenchmarkSettings) -> bool:
    """True (after logging why) when the partition's year cannot run yet."""
    reason = missing_inputs(benchmark.settings(), int(context.partition_key))
    if reason is None:
        return False
    context.log.info(f"skipped: {reason}")
    context.log_event(
        AssetObservation(
            asset_key=context.asset_key,
            partition=context.partition_key,
            metadata={"skipped": MetadataValue.text(reason)},
        )
    )
    return True
