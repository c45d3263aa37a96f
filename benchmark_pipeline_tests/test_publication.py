"""What a release holds and what a year compares with."""

from __future__ import annotations

import pandas as pd
import pytest

from benchmark_pipeline.errors import EXIT_CONTENT, PipelineError
from benchmark_pipeline.publication import free_texts, has_export, input_files, previous_release
from benchmark_pipeline.release import ReleaseStore
from benchmark_pipeline.settings import Settings


def test_free_texts_collects_comments_and_andet_texts_only():
    valid = pd.DataFrame(
        {
            "respondent_id": ["1", "2", "3"],
            "kommune": ["101", "147", "151"],
            "kommentar": ["Vi mangler tid til analyser", None, "Vi mangler tid til analyser"],
            "use_contexts__andet_tekst": [None, "Borgerrettede kampagner", None],
        }
    )
    assert free_texts(valid) == ("Borgerrettede kampagner", "Vi mangler tid til analyser")


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


def test_input_files_are_ordered_by_name(tmp_path):
    assert [p.name for p in input_files([tmp_path / "labels.csv", tmp_path / "dataset.csv"])] == [
        "dataset.csv",
        "labels.csv",
    ]
