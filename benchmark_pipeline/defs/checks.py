"""Asset checks: validation guards (blocking) and the disclosure and privacy gates before publishing."""


from pathlib import Path

import pandas as pd
from dagster import AssetCheckResult, AssetCheckSeverity, MetadataValue, asset_check

from benchmark_pipeline.audit import audit_release
from benchmark_pipeline.defs.assets.ingestion import validated_responses
from benchmark_pipeline.defs.assets.publishing import StagedOutcome, staged_release
from benchmark_pipeline.defs.partitions import survey_years
from benchmark_pipeline.defs.resources import BenchmarkSettings
from benchmark_pipeline.ingest import canonical_schema
from benchmark_pipeline.stats import verify_disclosure
from benchmark_pipeline.publication import revisions_of_the_same_export
from benchmark_pipeline.stats.attack import audit_tables, tables_seen_together
from benchmark_pipeline.stats.geography import Geography

FINDINGS_SHOWN = 20


@asset_check(asset=validated_responses, partitions_def=survey_years, blocking=True)
def validated_schema(context, benchmark: BenchmarkSettings, validated_responses) -> AssetCheckResult:
    """The validated frame conforms to the year's pandera schema (all failures collected, lazily)."""
    import pandera.errors as pa_errors

    schema = canonical_schema(benchmark.instrument(int(context.partition_key)), benchmark.kommuner())
    try:
        schema.validate(validated_responses.valid, lazy=True)
    except pa_errors.SchemaErrors as exc:
        cases = exc.failure_cases[["column", "check"]].astype(str).drop_duplicates().head(FINDINGS_SHOWN)
        return AssetCheckResult(
            passed=False,
            metadata={"failures": len(exc.failure_cases), "failure_cases": MetadataValue.md(cases.to_markdown(index=False))},
        )
    return AssetCheckResult(passed=True, metadata={"columns": len(validated_responses.valid.columns)})


@asset_check(asset=validated_responses, partitions_def=survey_years, blocking=True)
def quarantine_share(context, benchmark: BenchmarkSettings, validated_responses) -> AssetCheckResult:
    """Quarantined rows stay below the configured share of the responses (valid + quarantined); above it
    the year stops here, before anything is computed from what is left."""
    counts = validated_responses.counts
    quarantined, responses = counts["rows_quarantined"], counts["rows_valid"] + counts["rows_quarantined"]
    share = quarantined / responses if responses else 0.0
    limit = benchmark.settings().max_quarantine_share
    by_rule = validated_responses.quarantine.groupby("rule").size()
    passed = share <= limit
    return AssetCheckResult(
        passed=passed,
        description=None if passed else (
            f"{validated_responses.file}: {quarantined} of {responses} responses ({share:.1%}) are quarantined, "
            f"above the allowed {limit:.0%}: "
            "fix the export (the quarantined rows and their reasons are in the files validated_responses lists as "
            "quarantine_files, under <output>/quarantine/<year>/<run id>/) and run the year again"
        ),
        metadata={
            "quarantine_share": float(share),
            "limit": float(limit),
            "rows_quarantined": int(quarantined),
            "responses": int(responses),
            "by_rule": MetadataValue.json({str(k): int(v) for k, v in by_rule.items()}),
        },
    )


@asset_check(asset=validated_responses, partitions_def=survey_years, blocking=False)
def validation_warnings(validated_responses) -> AssetCheckResult:
    """Rows kept with a warning (e.g. fewer than three barriers ranked): worth a look, not a stop."""
    warnings = validated_responses.warnings
    by_rule = warnings.groupby("rule").size() if len(warnings) else pd.Series(dtype=int)
    return AssetCheckResult(
        passed=len(warnings) == 0,
        severity=AssetCheckSeverity.WARN,
        metadata={"warnings": len(warnings), "by_rule": MetadataValue.json({str(k): int(v) for k, v in by_rule.items()})},
    )


@asset_check(asset=staged_release, partitions_def=survey_years, blocking=True)
def disclosure_control(benchmark: BenchmarkSettings, staged_release: StagedOutcome) -> AssetCheckResult:
    """No published value rests on fewer than the minimum respondents, and an attacker with every table of
    the release can solve for no suppressed value (exact audit).

    The rule check runs first (fast, and it names broken rows); the exact audit is what guarantees safety."""
    if staged_release.reused is not None:
        return AssetCheckResult(passed=True, metadata={"reused_release_id": staged_release.reused.release_id})
    minimum = benchmark.settings().min_respondents
    tables = staged_release.staged.frames()
    violations = verify_disclosure(tables, benchmark.kommuner(), minimum)
    if violations:
        return AssetCheckResult(
            passed=False,
            metadata={"violations": len(violations), "first_violations": MetadataValue.json(violations[:FINDINGS_SHOWN])},
        )
    geo = Geography.from_kommuner(benchmark.kommuner())
    audit = audit_tables(tables, geo, minimum)
    leaks = [str(leak) for leak in audit.leaks]
    # A reader holding an earlier revision of the same export sees both as one table.
    earlier = revisions_of_the_same_export(benchmark.release_store(), staged_release.candidate.survey_year,
                                           staged_release.staged.inputs)
    for tables_before in earlier:
        together = audit_tables(tables_seen_together(tables_before, tables), geo, minimum)
        leaks += [f"with an earlier revision of the same export: {leak}" for leak in together.leaks]
    return AssetCheckResult(
        passed=not leaks,
        metadata={
            "violations": 0,
            **audit.metadata(),
            "earlier_revisions_audited_with_it": len(earlier),
            "leaks": len(leaks),
            "first_leaks": MetadataValue.json(leaks[:FINDINGS_SHOWN]),
        },
    )


@asset_check(asset=staged_release, partitions_def=survey_years, blocking=True)
def privacy_audit(benchmark: BenchmarkSettings, staged_release: StagedOutcome) -> AssetCheckResult:
    """Every staged artefact is free of survey free text, CPR numbers, e-mail addresses and small-cell values."""
    if staged_release.reused is not None:
        return AssetCheckResult(passed=True, metadata={"reused_release_id": staged_release.reused.release_id})
    report = audit_release(
        Path(staged_release.staged.path),
        forbidden_texts=staged_release.candidate.free_texts,
        min_respondents=benchmark.settings().min_respondents,
    )
    findings = [f"{f.file}: {f.location}: {f.kind}" for f in report.findings[:FINDINGS_SHOWN]]
    return AssetCheckResult(
        passed=report.passed,
        metadata={"files_scanned": report.files_scanned, "findings": len(report.findings), "first_findings": MetadataValue.json(findings)},
    )


ALL_CHECKS = [validated_schema, quarantine_share, validation_warnings, disclosure_control, privacy_audit]
