"""Real in-process Dagster runs of the yearly job on the shipped sample exports."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from dagster import AssetKey, AssetRecordsFilter, DagsterEventType, DagsterInstance

from benchmark_pipeline.candidate import ExportIdentity
from benchmark_pipeline.cli.audit import audit
from benchmark_pipeline.defs.assets.publishing import UI_CHARTS
from benchmark_pipeline.ingest import export_files
from benchmark_pipeline.defs.runner import run_year
from benchmark_pipeline.errors import EXIT_CONTENT
from benchmark_pipeline.instrument import load_year
from benchmark_pipeline.publication import HISTORY_TABLES
from benchmark_pipeline.reference import load_kommuner
from benchmark_pipeline.reports import national_chart_markdown
from benchmark_pipeline.release import ReleaseStore
from benchmark_pipeline.settings import Settings


@pytest.fixture(scope="module")
def instance():
    return DagsterInstance.ephemeral()


@pytest.fixture(scope="module")
def two_years(tmp_path_factory, instance):
    """2023 and 2024 published in order into a fresh output folder and instance."""
    settings = Settings.from_env(output_dir=tmp_path_factory.mktemp("out"))
    outcomes = {year: run_year(settings, year, instance) for year in (2023, 2024)}
    store = ReleaseStore(settings.output_dir, settings.resolved_warehouse_url)
    return settings, store, outcomes


def test_both_years_publish(two_years):
    _, store, outcomes = two_years
    for year, outcome in outcomes.items():
        assert outcome.ok, outcome.messages
        assert outcome.release_id.startswith(f"{year}-r1-")
        assert store.latest(year).release_id == outcome.release_id


def test_first_year_has_no_growth_rows_and_second_year_has(two_years):
    _, store, _ = two_years
    assert len(store.read_table("yoy_changes", year=2023)) == 0
    yoy = store.read_table("yoy_changes", year=2024)
    assert len(yoy) > 0
    assert set(yoy["base_year"]) == {2023}
    national = yoy[(yoy["geography_level"] == "national") & (yoy["indicator_id"] == "data_use_change.mere")]
    assert len(national) == 1


def test_2023_reproduces_the_articles_headline_numbers(two_years):
    _, store, _ = two_years
    values = store.read_table("indicator_values", year=2023)
    national = values[values["geography_level"] == "national"].set_index("indicator_id")
    assert national.loc["data_use_change.mere", "n"] == 142
    assert national.loc["data_use_change.mere", "count"] == 85
    assert round(national.loc["data_use_change.mere", "share"] * 100) == 60
    assert national.loc["further_potential.ja", "count"] == 111
    assert round(national.loc["further_potential.ja", "share"] * 100) == 78


def test_national_report_exists_for_each_year(two_years):
    _, store, _ = two_years
    for year in (2023, 2024):
        report = store.latest(year).path / "reports" / "national.html"
        assert report.is_file()
        assert "2023" in report.read_text(encoding="utf-8")


def test_report_artefacts_show_the_articles_three_charts(two_years, instance):
    """The UI charts come from the pages' context and figures; they are the charts of the published tables."""
    settings, store, _ = two_years
    records = instance.fetch_materializations(
        AssetRecordsFilter(asset_key=AssetKey("report_artefacts"), asset_partitions=["2024"]), limit=1
    ).records
    metadata = records[0].asset_materialization.metadata
    tables = {name: store.read_table(name, year=2024) for name in HISTORY_TABLES + (
        "yoy_changes", "kommune_benchmarks", "quarantine_summary")}
    instrument, kommuner = load_year(settings.data_dir, 2024), load_kommuner(settings.data_dir)
    for chart in UI_CHARTS:
        shown = metadata[f"chart/{chart}"].value
        assert shown.startswith("![Vandret søjlediagram") and "(data:image/png;base64," in shown
        assert shown == national_chart_markdown(2024, tables, instrument, kommuner, chart=chart), chart


def test_one_export_hash_is_the_data_version_the_sensor_cursor_and_the_release_input(two_years, instance):
    """The raw asset's data version, what the sensor would put in its cursor and the release's recorded
    input hash are one hash of the export files."""
    settings, store, outcomes = two_years
    sensor_sees = ExportIdentity.of(export_files(settings.raw_dir(2024))).sha256
    event = instance.get_latest_data_version_record(AssetKey("raw_survey_responses"), partition_key="2024")
    assert event.asset_materialization.tags["dagster/data_version"] == sensor_sees[:16]
    release_row = store.warehouse.release_rows(release_id=outcomes[2024].release_id)[0]
    assert release_row["input_sha256"] == sensor_sees


def test_unchanged_rerun_reuses_the_release(two_years):
    settings, store, outcomes = two_years
    again = run_year(settings, 2024, DagsterInstance.ephemeral())
    assert again.ok and again.reused
    assert again.release_id == outcomes[2024].release_id
    assert [r.revision for r in store.releases(2024)] == [1]
    assert not (settings.work_dir(2024, again.run_id) / "reports").exists()  # nothing drawn again
    assert (settings.work_dir(2024, outcomes[2024].run_id) / "reports" / "national.html").exists()


def test_a_revision_withholds_every_cell_its_earlier_revision_withheld(tmp_path):
    """A second revision of 2023 (a higher minimum) publishes nothing the first withheld: a reader who
    holds both must not learn more than from the first."""
    instance = DagsterInstance.ephemeral()
    first = run_year(Settings.from_env(output_dir=tmp_path), 2023, instance)
    second = run_year(Settings.from_env(output_dir=tmp_path, min_respondents=7), 2023, instance)
    assert first.ok and second.ok and second.release_id.startswith("2023-r2-"), second.messages
    store = ReleaseStore(tmp_path, Settings.from_env(output_dir=tmp_path).resolved_warehouse_url)
    cells = ["question_id", "geography_level", "geography_code"]
    withheld = {
        outcome.release_id: set(map(tuple, values.loc[values["suppressed"], cells].to_numpy()))
        for outcome in (first, second)
        for values in [store.read_table("indicator_values", year=2023, release=outcome.release_id)]
    }
    assert withheld[first.release_id] < withheld[second.release_id]
    # `benchmark-pipeline audit` attacks the two together as well, and finds nothing
    result = CliRunner().invoke(audit, ["--output-dir", str(tmp_path)], env={"BENCHMARK_OUTPUT_DIR": ""})
    assert result.exit_code == 0, result.output
    assert f"{first.release_id} and {second.release_id} (same export) together:" in result.output


def test_a_year_whose_previous_year_is_unpublished_stops_with_a_clear_message(tmp_path):
    settings = Settings.from_env(output_dir=tmp_path)
    outcome = run_year(settings, 2024, DagsterInstance.ephemeral())
    assert outcome.exit_code == EXIT_CONTENT
    assert any("publish 2023 first" in m for m in outcome.messages), outcome.messages
    assert not (tmp_path / "releases" / "2024").exists() or not any(
        p.name.startswith("2024-") for p in (tmp_path / "releases" / "2024").iterdir()
    )


def quarantine_evaluations(instance: DagsterInstance, run_id: str) -> list:
    return [
        record.dagster_event.event_specific_data
        for record in instance.all_logs(run_id, of_type=DagsterEventType.ASSET_CHECK_EVALUATION)
        if record.dagster_event.event_specific_data.check_name == "quarantine_share"
    ]


def test_the_quarantine_share_check_passes_in_a_real_run(two_years, instance):
    _, _, outcomes = two_years
    [evaluation] = quarantine_evaluations(instance, outcomes[2024].run_id)
    assert evaluation.passed and evaluation.metadata["limit"].value == 0.2


def test_a_year_over_the_quarantine_limit_stops_in_the_blocking_check_with_counts_by_rule(tmp_path):
    """30 % of the rows name an unknown kommune: validated_responses materialises (the UI shows what was
    quarantined), quarantine_share fails, and nothing downstream runs or is published."""
    from benchmark_pipeline_tests.reliability.corpus import over_quarantine_limit
    from benchmark_pipeline_tests.reliability.helpers import copy_data

    data = copy_data(tmp_path / "data")
    (data / "raw" / "2024").mkdir()
    over_quarantine_limit(data / "raw" / "2024")
    instance = DagsterInstance.ephemeral()
    outcome = run_year(Settings.from_env(environ={}, data_dir=data, output_dir=tmp_path / "out"), 2024, instance)
    assert outcome.exit_code == EXIT_CONTENT
    [message] = outcome.messages
    assert message.startswith("check quarantine_share failed for validated_responses: ")
    assert "export.csv: 18 of 60 responses (30.0%) are quarantined, above the allowed 20%: fix the export" in message
    [evaluation] = quarantine_evaluations(instance, outcome.run_id)
    assert not evaluation.passed
    by_rule = evaluation.metadata["by_rule"].value
    assert set(by_rule) == {"unknown_kommune"} and by_rule["unknown_kommune"] == evaluation.metadata["rows_quarantined"].value
    materialised = {
        record.dagster_event.event_specific_data.materialization.asset_key.to_user_string()
        for record in instance.all_logs(outcome.run_id, of_type=DagsterEventType.ASSET_MATERIALIZATION)
    }
    assert "validated_responses" in materialised and "indicators" not in materialised
    assert not (tmp_path / "out" / "releases" / "2024").exists()
