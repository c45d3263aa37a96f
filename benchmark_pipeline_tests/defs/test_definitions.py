"""The code location loads, and every asset carries what the UI needs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from dagster import AssetKey

from benchmark_pipeline.defs.build import build_definitions
from benchmark_pipeline.settings import REPO_ROOT, Settings

EXPECTED_GROUPS = {
    "raw_survey_responses": "ingestion",
    "validated_responses": "ingestion",
    "indicators": "statistics",
    "comparison_base": "statistics",
    "year_over_year_growth": "statistics",
    "kommune_benchmarks": "statistics",
    "release_candidate": "publishing",
    "report_artefacts": "reports",
    "staged_release": "publishing",
    "published_release": "publishing",
}


def test_definitions_module_loads():
    from benchmark_pipeline.definitions import defs

    assert defs.resolve_job_def("yearly_benchmark") is not None


def test_every_asset_has_group_description_and_code_version(tmp_path):
    graph = build_definitions(Settings.from_env(output_dir=tmp_path)).resolve_asset_graph()
    for name, group in EXPECTED_GROUPS.items():
        node = graph.get(AssetKey(name))
        assert node.group_name == group, name
        assert node.description and len(node.description) > 40, name
        assert node.code_version, name
        assert node.partitions_def is not None, name


def test_blocking_checks_guard_validation_and_publishing(tmp_path):
    graph = build_definitions(Settings.from_env(output_dir=tmp_path)).resolve_asset_graph()
    checks = {(key.asset_key.to_user_string(), key.name): graph.get(key).blocking for key in graph.asset_check_keys}
    assert checks[("validated_responses", "validated_schema")] is True
    assert checks[("validated_responses", "quarantine_share")] is True
    assert checks[("validated_responses", "validation_warnings")] is False
    assert checks[("staged_release", "disclosure_control")] is True
    assert checks[("staged_release", "privacy_audit")] is True


def test_a_year_depends_on_no_other_years_partition_so_a_backfill_runs_each_year_whole(tmp_path):
    """The previous year comes from its published release (comparison_base waits for it, defs/ordering.py),
    never through a partition mapping: one run per year, and no partition a backfill did not select."""
    graph = build_definitions(Settings.from_env(output_dir=tmp_path)).resolve_asset_graph()
    assert graph.get(AssetKey("comparison_base")).parent_keys == set()
    assert AssetKey("comparison_base") in graph.get(AssetKey("year_over_year_growth")).parent_keys
    for key in graph.get_all_asset_keys():
        for parent in graph.get(key).parent_keys:
            mapping = graph.get_partition_mapping(key, parent)
            assert (mapping.start_offset, mapping.end_offset) == (0, 0), (key, parent, mapping)  # the same year


def test_dagster_cli_validates_the_workspace(tmp_path):
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path), "BENCHMARK_OUTPUT_DIR": str(tmp_path / "out")}
    result = subprocess.run(
        [str(Path(sys.executable).parent / "dagster"), "definitions", "validate", "-w", "workspace.yaml"],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
