"""What a year draws on from what is published: its export, the release it compares with."""

from __future__ import annotations

import pytest

from benchmark_pipeline.errors import EXIT_CONTENT, PipelineError
from benchmark_pipeline.publication import has_export, previous_release
from benchmark_pipeline.release import ReleaseStore
from benchmark_pipeline.settings import Settings


def test_has_export_needs_a_mapping_and_a_file(tmp_path, data_dir):
    settings = Settings.from_env(data_dir=data_dir, output_dir=tmp_path)
    assert has_export(settings, 2023)
    assert not has_export(settings, 2022)  # no mapping


def test_first_year_has_no_previous_release(tmp_path, data_dir):
    settings = Settings.from_env(data_dir=data_dir, output_dir=tmp_path)
    with ReleaseStore(settings.output_dir, settings.resolved_warehouse_url) as store:
        assert previous_release(store, settings, 2023) is None


def test_unpublished_previous_year_with_an_export_must_be_published_first(tmp_path, data_dir):
    settings = Settings.from_env(data_dir=data_dir, output_dir=tmp_path)
    with ReleaseStore(settings.output_dir, settings.resolved_warehouse_url) as store:
        with pytest.raises(PipelineError) as raised:
            previous_release(store, settings, 2024)
    assert raised.value.exit_code == EXIT_CONTENT
    assert "publish 2023 first" in str(raised.value)


def test_a_year_compares_with_every_earlier_years_latest_release(tmp_path):
    """Changes since the first year and trends need every earlier year, each as readers see it now."""
    from benchmark_pipeline.publication import earlier_indicator_values, earlier_releases, history_tables
    from benchmark_pipeline_tests.release.conftest import Publisher

    with ReleaseStore(tmp_path / "out", f"sqlite:///{tmp_path / 'warehouse.sqlite'}") as store:
        publisher = Publisher(store, tmp_path / "inputs")
        first = publisher.publish(2023)
        publisher.publish(2024)
        revised = publisher.publish(2024, bump=0.01)
        publisher.publish(2025)
        assert earlier_releases(store, 2023) == {} and earlier_indicator_values(store, {}) is None
        earlier = earlier_releases(store, 2025)
        assert {year: r.release_id for year, r in earlier.items()} == {2023: first.release_id,
                                                                         2024: revised.release_id}
        values = earlier_indicator_values(store, earlier)
        assert set(zip(values["survey_year"], values["release_id"])) == {(2023, first.release_id),
                                                                         (2024, revised.release_id)}
        store.withdraw(revised.release_id, "a test")
        assert earlier_releases(store, 2025)[2024].revision == 1  # the year's latest is the one before
        assert list(history_tables(store, 2025)) == [2023, 2024]
