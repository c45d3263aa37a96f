"""load_year: parsed once per content of the mapping files, parsed again when they change."""

from __future__ import annotations

import shutil

import pytest

from benchmark_pipeline.instrument import InstrumentError, load_year
from benchmark_pipeline.settings import DEFAULT_DATA_DIR


@pytest.fixture
def data_dir(tmp_path):
    shutil.copytree(DEFAULT_DATA_DIR / "instrument", tmp_path / "instrument")
    return tmp_path


def test_a_year_is_parsed_once_per_file_content(data_dir):
    first = load_year(data_dir, 2024)
    assert load_year(data_dir, 2024) is first
    mapping = data_dir / "instrument" / "2024.yaml"
    mapping.write_text(mapping.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    edited = load_year(data_dir, 2024)
    assert edited is not first and edited.sha256 != first.sha256
    assert edited.questions == first.questions
    registry = data_dir / "instrument" / "questions.yaml"
    registry.write_text(registry.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    assert load_year(data_dir, 2024) is not edited


def test_missing_or_broken_mappings_raise_every_time(data_dir):
    with pytest.raises(InstrumentError, match="no mapping for survey year 2031"):
        load_year(data_dir, 2031)
    mapping = data_dir / "instrument" / "2024.yaml"
    mapping.write_text("survey_year: [", encoding="utf-8")
    for _ in range(2):
        with pytest.raises(InstrumentError, match="not a readable YAML file"):
            load_year(data_dir, 2024)
