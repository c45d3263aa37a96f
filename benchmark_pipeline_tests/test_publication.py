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
