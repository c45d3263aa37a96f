"""The layout registry: every layout a mapping may name has one module that reads, maps and writes it."""

from __future__ import annotations

import pytest

from benchmark_pipeline.ingest import export_files, find_export, is_ignored
from benchmark_pipeline.ingest.layouts import BY_NAME, LAYOUTS
from benchmark_pipeline.ingest.raw import RawColumns, RawExport
from benchmark_pipeline.instrument import InstrumentError, load_year
from benchmark_pipeline.sample import build_export, generate_answers


def test_a_mapping_may_name_exactly_the_registered_layouts(tmp_path, data_dir):
    assert len(LAYOUTS) == len(BY_NAME)
    assert len({layout.sample_seed for layout in LAYOUTS}) == len(LAYOUTS)
    folder = tmp_path / "instrument"
    folder.mkdir()
    (folder / "questions.yaml").write_bytes((data_dir / "instrument" / "questions.yaml").read_bytes())
    text = (data_dir / "instrument" / "2024.yaml").read_text(encoding="utf-8")
    for name in BY_NAME:
        (folder / "2024.yaml").write_text(text.replace("layout: surveyxact_csv", f"layout: {name}"), encoding="utf-8")
        assert load_year(tmp_path, 2024).layout == name
    (folder / "2024.yaml").write_text(text.replace("layout: surveyxact_csv", "layout: stata_dta"), encoding="utf-8")
    with pytest.raises(InstrumentError, match="layout 'stata_dta' is not one of canonical_csv, msforms_xlsx"):
        load_year(tmp_path, 2024)


@pytest.mark.parametrize("name, year", [("canonical_csv", 2023), ("surveyxact_xlsx", 2023),
                                        ("surveyxact_csv", 2024), ("msforms_xlsx", 2025)])
def test_the_writer_names_the_columns_the_mapping_plans(name, year, data_dir, kommuner):
    """Reader and writer take their column names from the layout's naming methods."""
    layout, instrument = BY_NAME[name], load_year(data_dir, year)
    answers = generate_answers(instrument, 5, seed=1, kommuner=kommuner)
    frame = next(iter(build_export(answers, instrument, name, kommuner=kommuner).values()))
    columns = RawColumns(RawExport(None, [], name, None, None, frame))
    columns.get(layout.id_column(instrument), "respondent id")
    for q in instrument.questions:
        layout.planned(q, columns)
    assert columns.missing == []


def test_export_files_leave_out_readme_hidden_and_lock_files(tmp_path):
    for name in ("b.csv", "a.xlsx", "README.md", "readme.txt", ".DS_Store", "~$a.xlsx", "labels.csv"):
        (tmp_path / name).write_text("x")
    (tmp_path / "sub").mkdir()
    assert [p.name for p in export_files(tmp_path)] == ["a.xlsx", "b.csv", "labels.csv"]
    assert is_ignored(tmp_path / "~$a.xlsx") and is_ignored(tmp_path / "README.md")
    assert not is_ignored(tmp_path / "b.csv")
    assert export_files(tmp_path / "missing") == []


def test_find_export_picks_among_the_export_files(tmp_path):
    for name in ("README.md", "~$dataset.csv", "dataset.csv", "Labels.csv"):
        (tmp_path / name).write_text("x")
    assert find_export(tmp_path) == tmp_path / "dataset.csv"
