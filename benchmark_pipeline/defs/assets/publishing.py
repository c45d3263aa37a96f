"""Report artefacts, the staged release (checked before anyone sees it) and the published release."""


import shutil
from dataclasses import dataclass
from pathlib import Path

from dagster import AssetExecutionContext, Backoff, Jitter, MetadataValue, RetryPolicy, asset

from benchmark_pipeline.defs.alerts import quarantine_warning, record_alert
from benchmark_pipeline.defs.failures import user_facing_failures
from benchmark_pipeline.gc_pause import collector_paused
from benchmark_pipeline.defs.metadata import release_metadata
from benchmark_pipeline.defs.resources import BenchmarkSettings
from benchmark_pipeline.defs.partitions import survey_years
from benchmark_pipeline.candidate import ExportIdentity, ReleaseCandidate, build_candidate
from benchmark_pipeline.publication import history_tables
from benchmark_pipeline.release import Release, StagedRelease
from benchmark_pipeline.reports import prepare_reports
from benchmark_pipeline.versions import CODE_VERSIONS

OWNERS = ["team:benchmark-data"]
# The article's three figures, shown to analysts on the asset page (disclosure-controlled national values).
UI_CHARTS = ("use_contexts", "anchoring_levels", "barriers")
# Writing files and the warehouse can meet a passing fault (a locked SQLite file, a PostgreSQL restart).
TRANSIENT_RETRY = RetryPolicy(max_retries=2, delay=30, backoff=Backoff.EXPONENTIAL, jitter=Jitter.PLUS_MINUS)


@dataclass(frozen=True)
class ReportArtefacts:
    """The year's rendered reports and the release id they carry (the id the candidate gets when staged, or
    the reused release's own)."""

    path: Path
    release_id: str


@dataclass(frozen=True)
class StagedOutcome:
    """A staged release waiting for its checks, or the existing release an unchanged run reuses."""

    candidate: ReleaseCandidate
    staged: StagedRelease | None
    reused: Release | None

    @property
    def release_dir(self) -> Path:
        return Path(self.staged.path if self.staged is not None else self.reused.path)


@asset(
    partitions_def=survey_years,
    group_name="publishing",
    code_version=CODE_VERSIONS["staged_release"],  # the first half of what a staged release is
    owners=OWNERS,
    kinds={"pandas"},
    tags={"personal_data": "true"},  # it holds the free texts the privacy audit must not find
)
def release_candidate(
    context: AssetExecutionContext,
    benchmark: BenchmarkSettings,
    raw_survey_responses,
    validated_responses,
    indicators,
    comparison_base,
    year_over_year_growth,
    kommune_benchmarks,
) -> ReleaseCandidate:
    """Everything the year's release would publish, assembled once, and its fingerprint: the reports are
    drawn from it and the staged release holds it (or the year's latest release already does)."""
    year = int(context.partition_key)
    with user_facing_failures():
        candidate = build_candidate(
            year,
            ExportIdentity.of(raw_survey_responses.files),
            benchmark.instrument(year),
            benchmark.kommuner(),
            benchmark.settings(),
            CODE_VERSIONS,
            indicators,
            year_over_year_growth,
            kommune_benchmarks,
            validated_responses,
            comparison_base["release_id"],
        )
    context.add_output_metadata(
        {
            "fingerprint": candidate.fingerprint,
            "export_sha256": candidate.export.sha256,
            "compared_with": candidate.previous_release_id or "",
            **{f"rows/{name}": len(frame) for name, frame in candidate.tables.items()},
        }
    )
    return candidate


@asset(
    partitions_def=survey_years,
    group_name="reports",
    code_version=CODE_VERSIONS["report_artefacts"],
    owners=OWNERS,
    kinds={"html", "excel"},
)
def report_artefacts(context: AssetExecutionContext, benchmark: BenchmarkSettings, release_candidate) -> ReportArtefacts:
    """Danish reports for the year: a national report, a page per kommune with an index, and a workbook.

    Rendered from the candidate's disclosure-controlled tables into a work folder, stamped with the release
    id the candidate gets when staged; the staged release takes them in (re-stamped there and at publish
    should another publish of the year take that id first). When the year's latest release already holds
    this candidate (same fingerprint), its reports are the ones: nothing is drawn again.
    """
    year = int(context.partition_key)
    with user_facing_failures():
        store = benchmark.release_store()
        reused = store.reusable(year, release_candidate.fingerprint)
        release_id = None if reused is not None else store.next_release_id(year, release_candidate.fingerprint)
    if reused is not None:
        context.add_output_metadata(
            {
                "reused_release_id": reused.release_id,
                "national_report": MetadataValue.path(str(reused.reports_dir / "national.html")),
            }
        )
        return ReportArtefacts(reused.reports_dir, reused.release_id)
    with user_facing_failures(), collector_paused():
        settings = benchmark.settings()
        out_dir = settings.work_dir(year, context.run_id) / "reports"
        if out_dir.exists():
            shutil.rmtree(out_dir)
        out_dir.mkdir(parents=True)
        reports = prepare_reports(
            year,
            release_candidate.tables,
            history_tables(benchmark.release_store(), year),
            benchmark.instrument(year),
            benchmark.kommuner(),
            min_respondents=settings.min_respondents,
            release_id=release_id,
        )
        files = reports.write(out_dir)
        # From the context and figures the pages used: nothing is normalised or drawn twice.
        charts = {f"chart/{name}": MetadataValue.md(reports.chart_markdown(name)) for name in UI_CHARTS}
    context.add_output_metadata(
        {
            "release_id": release_id,  # as the reports show it, unless another publish takes it first
            "files": len(files),
            "national_report": MetadataValue.path(str(out_dir / "national.html")),
            "highlights": MetadataValue.md(reports.highlights_markdown()),  # "Det vigtigste i år", as the report says it
            **charts,
        }
    )
    return ReportArtefacts(out_dir, release_id)


@asset(
    partitions_def=survey_years,
    group_name="publishing",
    code_version=CODE_VERSIONS["staged_release"],
    owners=OWNERS,
    retry_policy=TRANSIENT_RETRY,
    kinds={"parquet", "csv"},
)
def staged_release(
    context: AssetExecutionContext, benchmark: BenchmarkSettings, release_candidate, report_artefacts: ReportArtefacts,
) -> StagedOutcome:
    """The candidate written where no consumer looks, with its reports; the disclosure and privacy checks
    block on it. An unchanged run (same fingerprint as the year's latest release) reuses that release."""
    candidate: ReleaseCandidate = release_candidate
    with user_facing_failures():
        store = benchmark.release_store()
        reused = store.reusable(candidate.survey_year, candidate.fingerprint)
        if reused is not None:
            context.add_output_metadata({"reused_release_id": reused.release_id, "fingerprint": candidate.fingerprint})
            return StagedOutcome(candidate, None, reused)
        staged = store.stage(
            candidate.survey_year,
            candidate.fingerprint,
            candidate.tables,
            inputs=list(candidate.export.files),
            code_versions=candidate.code_versions,
            settings=candidate.settings,
            previous_release_id=candidate.previous_release_id,
            reports_dir=report_artefacts.path,
            reports_release_id=report_artefacts.release_id,
        )
    context.add_output_metadata(
        {
            "staged_release_id": staged.release_id,
            "fingerprint": candidate.fingerprint,
            "staging_path": MetadataValue.path(str(staged.path)),
        }
    )
    return StagedOutcome(candidate, staged, None)


@asset(
    partitions_def=survey_years,
    group_name="publishing",
    code_version=CODE_VERSIONS["published_release"],
    owners=OWNERS,
    retry_policy=TRANSIENT_RETRY,
    pool="benchmark_warehouse",  # one publish into the warehouse at a time, across years
    kinds={"sql", "parquet"},
)
def published_release(context: AssetExecutionContext, benchmark: BenchmarkSettings, staged_release: StagedOutcome):
    """The immutable, versioned release consumers read: files moved into place, warehouse rows and the
    `releases` row committed in one transaction, then the year's latest pointer moved."""
    with user_facing_failures():
        store = benchmark.release_store()
        release = staged_release.reused or store.publish(staged_release.staged)
    candidate = staged_release.candidate
    if staged_release.reused is None and candidate.rows_quarantined:
        _warn_of_quarantine(context, benchmark, candidate, release.release_id)
    manifest = release.manifest
    outputs = manifest.get("files", [])
    context.add_output_metadata(
        {
            "release_id": release.release_id,
            "revision": release.revision,
            "reused": staged_release.reused is not None,
            "rows_quarantined": candidate.rows_quarantined,
            "release_path": MetadataValue.path(str(release.path)),
            **release_metadata(manifest, release.reports_dir),
            "outputs": MetadataValue.json(outputs if isinstance(outputs, (list, dict)) else str(outputs)),
        }
    )
    return release


def _warn_of_quarantine(context: AssetExecutionContext, benchmark: BenchmarkSettings, candidate, release_id: str) -> None:
    """Published, but without some rows: a warning on the alert channel (the release stands whatever happens
    to the alert, so a failure to record it is logged, not raised)."""
    settings = benchmark.settings()
    quarantine_dir = settings.quarantine_dir(candidate.survey_year) / context.run_id
    alert = quarantine_warning(context.run_id, candidate, release_id, quarantine_dir)
    try:
        record_alert(alert, settings.alerts_file, webhook_url=settings.alert_webhook_url, log=context.log)
    except OSError as exc:
        context.log.warning(f"the quarantine warning could not be recorded in {settings.alerts_file}: {exc}")
