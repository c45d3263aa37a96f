"""Assets and checks called directly, as the anchors test them: with `build_asset_context`, real resources
and real inputs (the shipped 2024 export), no run."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import pytest
from dagster import build_asset_check_context, build_asset_context

from benchmark_pipeline.defs.assets.ingestion import raw_survey_responses, validated_responses
from benchmark_pipeline.defs.assets.statistics import comparison_base, indicators, kommune_benchmarks
from benchmark_pipeline.defs.checks import quarantine_share, validated_schema
from benchmark_pipeline.defs.resources import BenchmarkSettings
from benchmark_pipeline.settings import Settings
from benchmark_pipeline.stats import compute_indicators, compute_kommune_benchmarks

YEAR = "2024"


@pytest.fixture(scope="module")
def resource(data_dir, tmp_path_factory) -> BenchmarkSettings:
    output_dir = tmp_path_factory.mktemp("out")
    return BenchmarkSettings.from_settings(Settings.from_env(environ={}, data_dir=data_dir, output_dir=output_dir))


def context(resource):
    return build_asset_context(partition_key=YEAR, resources={"benchmark": resource})


@pytest.fixture(scope="module")
def validated(resource):
    [raw] = raw_survey_responses(context(resource))
    raw = raw.value
    return validated_responses(context(resource), raw_survey_responses=raw)


def test_the_raw_asset_is_the_export_as_read_with_its_content_hash_as_data_version(resource):
    [output] = raw_survey_responses(context(resource))
    assert output.value.layout == "surveyxact_csv" and len(output.value.frame) > 0
    assert output.data_version.value == output.metadata["export_sha256"].value[:16]


def test_validated_responses_account_for_every_row(validated):
    counts = validated.counts
    assert counts["rows_valid"] == len(validated.valid) > 0
    assert validated.status == "ok"


def test_the_validation_checks_pass_on_the_shipped_export_and_fail_past_the_limit(resource, validated):
    # validated_schema reads the partition, which only an asset context carries
    assert validated_schema(context(resource), validated_responses=validated).passed
    check_context = build_asset_check_context(resources={"benchmark": resource})
    assert quarantine_share(check_context, validated_responses=validated).passed
    valid = validated.counts["rows_valid"]
    at_limit = replace(validated, counts={**validated.counts, "rows_quarantined": valid // 4})  # 20 %
    past_limit = replace(validated, counts={**validated.counts, "rows_quarantined": valid // 4 + 1})
    assert quarantine_share(check_context, validated_responses=at_limit).passed
    result = quarantine_share(check_context, validated_responses=past_limit)
    assert not result.passed and result.metadata["limit"].value == 0.2


def test_indicators_and_benchmarks_are_the_domain_functions_behind_a_thin_asset(resource, validated):
    tables = indicators(context(resource), validated_responses=validated)
    instrument, kommuner = resource.instrument(int(YEAR)), resource.kommuner()
    expected = compute_indicators(validated.valid, instrument, kommuner, min_respondents=5)
    pd.testing.assert_frame_equal(tables["indicator_values"], expected["indicator_values"])
    benchmarks = kommune_benchmarks(context(resource), indicators=tables)
    pd.testing.assert_frame_equal(benchmarks, compute_kommune_benchmarks(tables["indicator_values"], kommuner))


def test_a_year_without_its_export_is_skipped_by_both_root_assets_with_the_reason(resource):
    """2026 has neither mapping nor export here: the roots yield nothing, so Dagster skips the year."""
    year_context = build_asset_context(partition_key="2026", resources={"benchmark": resource})
    assert list(raw_survey_responses(year_context)) == []
    assert list(comparison_base(year_context)) == []
