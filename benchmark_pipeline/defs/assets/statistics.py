"""Statistics: indicators with disclosure control, changes and trends against earlier years, kommune benchmarks."""


from dagster import AssetExecutionContext, MetadataValue, Output, asset

from benchmark_pipeline.defs.failures import user_facing_failures
from benchmark_pipeline.defs.metadata import growth_metadata, headline_metadata, table_preview, table_schema
from benchmark_pipeline.defs.ordering import wait_for_year
from benchmark_pipeline.defs.partitions import survey_years
from benchmark_pipeline.defs.resources import BenchmarkSettings
from benchmark_pipeline.defs.skips import skipped_for_missing_inputs
from benchmark_pipeline.publication import (
    earlier_indicator_values,
    earlier_releases,
    previous_release,
    withheld_in_earlier_revisions,
)
from benchmark_pipeline.stats import (
    compute_indicators,
    compute_kommune_benchmarks,
    compute_trends,
    compute_year_summary,
    compute_yoy,
)
from benchmark_pipeline.stats.tables import REASON_DISCLOSURE_AUDIT, REASON_EARLIER_REVISION
from benchmark_pipeline.versions import CODE_VERSIONS

OWNERS = ["team:benchmark-data"]


def _table_metadata(frame, preview_filter=None) -> dict:
    shown = frame if preview_filter is None else frame[preview_filter(frame)]
    return {
        "dagster/row_count": len(frame),
        "dagster/column_schema": table_schema(frame),
        "suppressed_rows": int(frame["suppressed"].sum()) if "suppressed" in frame else 0,
        "preview": table_preview(shown),
    }


@asset(
    partitions_def=survey_years,
    group_name="statistics",
    code_version=CODE_VERSIONS["indicators"],
    owners=OWNERS,
    kinds={"pandas", "statsmodels"},
)
def indicators(context: AssetExecutionContext, benchmark: BenchmarkSettings, validated_responses) -> dict:
    """Share indicators (Wilson intervals) and weighted barrier scores at every geography level.

    Disclosure control is applied here, before anything downstream sees a value: the minimum, complementary
    suppression, and more suppression until the exact audit (an attacker's integer program over the tables)
    can solve for no suppressed value. A cell an earlier revision of the year withheld stays withheld.
    """
    year = int(context.partition_key)
    with user_facing_failures():
        settings = benchmark.settings()
        tables = compute_indicators(
            validated_responses.valid,
            benchmark.instrument(year),
            benchmark.kommuner(),
            min_respondents=settings.min_respondents,
            withheld_before=withheld_in_earlier_revisions(benchmark.release_store(), year),
        )
    values = tables["indicator_values"]
    trail = tables["suppression_trail"]
    national = lambda f: f["geography_level"].eq("national")  # noqa: E731
    context.add_output_metadata(
        {
            **_table_metadata(values, national),
            **headline_metadata(values, respondents=len(validated_responses.valid)),
            # counts of suppressed cells only: the rule behind each one is the private trail
            "suppressed_cells": len(trail),
            "suppressed_by_exact_audit": int(trail["rule"].eq(REASON_DISCLOSURE_AUDIT).sum()),
            "suppressed_as_in_earlier_revisions": int(trail["rule"].eq(REASON_EARLIER_REVISION).sum()),
            "barrier_scores_rows": len(tables["barrier_scores"]),
            "barrier_scores_preview": table_preview(tables["barrier_scores"][national(tables["barrier_scores"])]),
        }
    )
    return tables


@asset(
    partitions_def=survey_years,
    group_name="statistics",
    code_version=CODE_VERSIONS["comparison_base"],
    owners=OWNERS,
    kinds={"sql"},
    output_required=False,
)
def comparison_base(context: AssetExecutionContext, benchmark: BenchmarkSettings):
    """The earlier survey years' published figures this year's changes and trends are measured against:
    every earlier year's `indicator_values` and the previous year's summary.

    Taken from each year's latest published release (what readers saw), never from a stored intermediate,
    so a year runs on fresh storage. It has no asset dependency on the previous year (that would close a
    cycle); instead it waits for any run still publishing that year (`defs/ordering.py`), which waited for
    the year before in turn, so a backfill of every year publishes them oldest first. The first survey
    year has no base; a previous year with an export but no release must be published first.
    """
    if skipped_for_missing_inputs(context, benchmark):
        return
    year = int(context.partition_key)
    with user_facing_failures():
        wait_for_year(context.instance, year - 1, context.run_id, context.log.info)
        store = benchmark.release_store()
        base = previous_release(store, benchmark.settings(), year)
        earlier = earlier_releases(store, year)
        values = earlier_indicator_values(store, earlier)
        summary = store.read_table("year_summary", release=base.release_id) if base else None
    yield Output(
        {
            "release_id": base.release_id if base else None,  # the previous year's, recorded in the manifest
            "earlier_release_ids": {y: release.release_id for y, release in earlier.items()},
            "earlier_indicator_values": values,
            "year_summary": summary,
        },
        metadata={
            "base_release_id": base.release_id if base else "",
            "base_year": base.survey_year if base else 0,
            "earlier_release_ids": MetadataValue.json({str(y): r.release_id for y, r in earlier.items()}),
        },
    )


@asset(
    partitions_def=survey_years,
    group_name="statistics",
    code_version=CODE_VERSIONS["year_over_year_growth"],
    owners=OWNERS,
    kinds={"pandas", "statsmodels"},
)
def year_over_year_growth(
    context: AssetExecutionContext, benchmark: BenchmarkSettings, indicators, comparison_base, validated_responses
) -> dict:
    """Changes since the previous survey year and since each series' first year (Newcombe intervals, score
    tests, Benjamini-Hochberg q-values within families, relative growth), trends over three or more
    published years (binomial GLM), and the year summary with its change. The first survey year has no
    change or trend rows. `compared_release_ids` are the earlier releases all of it rests on (the
    release fingerprint covers them)."""
    year = int(context.partition_key)
    earlier = comparison_base["earlier_indicator_values"]
    with user_facing_failures():
        yoy = compute_yoy(indicators["indicator_values"], earlier)
        trends = compute_trends(indicators["indicator_values"], earlier)
        summary = compute_year_summary(
            year, validated_responses.counts, validated_responses.valid, comparison_base["year_summary"]
        )
    significant = yoy[yoy["significant"].fillna(False).astype(bool)] if len(yoy) else yoy
    first_year = not comparison_base["earlier_release_ids"]
    context.add_output_metadata(
        {
            "base_release_id": comparison_base["release_id"] or "",
            "dagster/row_count": len(yoy),
            "significant_changes": len(significant),
            **growth_metadata(year, yoy, trends, benchmark.instrument(year), first_year=first_year),
            "trends_rows": len(trends),
            "significant_trends": int(trends["significant"].sum()),
            "year_summary": table_preview(summary),
        }
    )
    return {
        "yoy_changes": yoy,
        "trends": trends,
        "year_summary": summary,
        "compared_release_ids": sorted(comparison_base["earlier_release_ids"].values()),
    }


@asset(
    partitions_def=survey_years,
    group_name="statistics",
    code_version=CODE_VERSIONS["kommune_benchmarks"],
    owners=OWNERS,
    kinds={"pandas", "scipy"},
)
def kommune_benchmarks(context: AssetExecutionContext, benchmark: BenchmarkSettings, indicators):
    """Each kommune beside national, region and kommunegruppe, with empirical-Bayes shrunk shares and percentiles."""
    with user_facing_failures():
        table = compute_kommune_benchmarks(indicators["indicator_values"], benchmark.kommuner())
    published = table[~table["suppressed"]]
    context.add_output_metadata(
        {
            **_table_metadata(table, lambda f: f["indicator_id"].eq("data_use_change.mere") & ~f["suppressed"]),
            "published_kommuner": int(published["kommune_kode"].nunique()),
        }
    )
    return table
