"""Which files of a year's folder make its export: the rule `find_export` and the raw-export sensor share."""

from __future__ import annotations

from benchmark_pipeline.ingest import export_files, find_export, is_ignored


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
