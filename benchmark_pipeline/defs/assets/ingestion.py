"""Ingestion: the year's export as read, and the validated respondent-level frame.

Both are personal data: the UI shows their schema and counts, never rows.
"""


from dagster import AssetExecutionContext, DataVersion, MetadataValue, Output, asset

from benchmark_pipeline.candidate import ExportIdentity
from benchmark_pipeline.defs.failures import user_facing_failures
from benchmark_pipeline.defs.metadata import schema_and_rows
from benchmark_pipeline.defs.partitions import survey_years
from benchmark_pipeline.defs.resources import BenchmarkSettings
from benchmark_pipeline.defs.skips import skipped_for_missing_inputs
from benchmark_pipeline.errors import PipelineError
from benchmark_pipeline.ingest import IngestError, find_export, read_export, validate_export, write_quarantine
from benchmark_pipeline.versions import CODE_VERSIONS

OWNERS = ["team:benchmark-data"]


@asset(
    partitions_def=survey_years,
    group_name="ingestion",
    code_version=CODE_VERSIONS["raw_survey_responses"],
    owners=OWNERS,
    kinds={"pandas"},
    tags={"personal_data": "true"},
    output_required=False,
)
def raw_survey_responses(context: AssetExecutionContext, benchmark: BenchmarkSettings):
    """The survey year's export (SurveyXact, Microsoft Forms or canonical CSV) read from data/raw/<year>/.

    Its data version is the hash of the export files, so a changed export marks everything downstream stale.
    A year without its mapping or export yields nothing: the year is skipped (`defs/skips.py`).
    """
    if skipped_for_missing_inputs(context, benchmark):
        return
    year = int(context.partition_key)
    with user_facing_failures():
        settings = benchmark.settings()
        instrument = benchmark.instrument(year)
        raw = read_export(find_export(settings.raw_dir(year)), instrument, benchmark.kommuner())
    export_sha = ExportIdentity.of(raw.files).sha256
    yield Output(
        raw,
        data_version=DataVersion(export_sha[:16]),
        metadata={
            "files": MetadataValue.json([str(p) for p in raw.files]),
            "layout": raw.layout,
            "encoding": raw.encoding,
            "export_sha256": export_sha,
            # headers only: the columns the mapping does not use are not kept (their values never stored)
            "dropped_columns": MetadataValue.json(raw.dropped_columns),
            **schema_and_rows(raw.frame),
        },
    )


@asset(
    partitions_def=survey_years,
    group_name="ingestion",
    code_version=CODE_VERSIONS["validated_responses"],
    owners=OWNERS,
    kinds={"pandas", "pandera"},
    tags={"personal_data": "true"},
)
def validated_responses(context: AssetExecutionContext, benchmark: BenchmarkSettings, raw_survey_responses):
    """Respondents mapped onto the stable question ids and validated with pandera.

    Every input row ends in exactly one place: valid, quarantined (written to quarantine/<year>/<run>/
    for the people who fix the export), a collapsed duplicate, or a non-response. The share of quarantined
    rows is judged by the blocking `quarantine_share` check, where the UI shows the counts by rule.
    """
    year = int(context.partition_key)
    settings = benchmark.settings()
    quarantine_dir = settings.quarantine_dir(year) / context.run_id
    with user_facing_failures():
        try:
            # The pandera schema runs in the blocking `validated_schema` check, where the UI shows its failures.
            result = validate_export(
                raw_survey_responses,
                benchmark.instrument(year),
                benchmark.kommuner(),
                max_quarantine_share=1.0,  # the limit is the quarantine_share check's to enforce
                schema_check=False,
            )
        except IngestError as exc:
            if exc.result is None or not len(exc.result.quarantine):
                raise
            write_quarantine(exc.result, quarantine_dir)
            raise PipelineError(f"{exc}; the quarantined rows are in {quarantine_dir}", exc.exit_code) from exc
    quarantine_files = write_quarantine(result, quarantine_dir) if len(result.quarantine) else []
    by_rule = result.quarantine.groupby("rule").size().to_dict() if len(result.quarantine) else {}
    preview = result.quarantine[["row", "column", "rule"]].head(20)
    context.add_output_metadata(
        {
            **{k: int(v) for k, v in result.counts.items()},
            "quarantine_by_rule": MetadataValue.json({str(k): int(v) for k, v in by_rule.items()}),
            "quarantine_preview": MetadataValue.md(
                preview.to_markdown(index=False) if len(preview) else "_(no quarantined rows)_"
            ),
            "quarantine_files": MetadataValue.json([str(p) for p in quarantine_files]),
            "warnings": len(result.warnings),
            **schema_and_rows(result.valid),
        }
    )
    return result
