"""BenchmarkSettings.instrument: parsed once per content of the mapping files, read again when they change."""

from __future__ import annotations

import pytest

from benchmark_pipeline.defs import resources
from benchmark_pipeline.instrument import InstrumentError, load_year


def test_instrument_is_parsed_once_per_file_content(benchmark_resource, scratch_data_dir):
    first = benchmark_resource.instrument(2024)
    assert benchmark_resource.instrument(2024) is first
    assert first == load_year(scratch_data_dir, 2024)
    mapping = scratch_data_dir / "instrument" / "2024.yaml"
    mapping.write_text(mapping.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    edited = benchmark_resource.instrument(2024)
    assert edited is not first and edited.sha256 != first.sha256
    assert edited == load_year(scratch_data_dir, 2024)
    registry = scratch_data_dir / "instrument" / "questions.yaml"
    registry.write_text(registry.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    assert benchmark_resource.instrument(2024) is not edited


def test_missing_or_broken_mappings_still_raise_every_time(benchmark_resource, scratch_data_dir):
    with pytest.raises(InstrumentError, match="no mapping for survey year 2031"):
        benchmark_resource.instrument(2031)
    mapping = scratch_data_dir / "instrument" / "2024.yaml"
    mapping.write_text("survey_year: [", encoding="utf-8")
    for _ in range(2):
        with pytest.raises(InstrumentError, match="not a readable YAML file"):
            benchmark_resource.instrument(2024)


def test_the_cache_stays_small(benchmark_resource, scratch_data_dir, monkeypatch):
    monkeypatch.setattr(resources, "_INSTRUMENTS", {})
    mapping = scratch_data_dir / "instrument" / "2024.yaml"
    text = mapping.read_text(encoding="utf-8")
    for i in range(resources._INSTRUMENTS_KEPT + 3):
        mapping.write_text(text + f"\n# {i}\n", encoding="utf-8")
        benchmark_resource.instrument(2024)
    assert len(resources._INSTRUMENTS) <= resources._INSTRUMENTS_KEPT
