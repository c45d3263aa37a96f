"""`generate-sample`: regenerate the samples into a data dir, or write one export of any size."""

from __future__ import annotations

import shutil

import pandas as pd
from click.testing import CliRunner

from benchmark_pipeline.cli.sample import generate_sample


def _data_copy(data_dir, tmp_path):
    target = tmp_path / "data"
    shutil.copytree(data_dir / "instrument", target / "instrument")
    shutil.copytree(data_dir / "reference", target / "reference")
    return target


def test_regenerates_the_sample_years(data_dir, tmp_path):
    copy = _data_copy(data_dir, tmp_path)
    result = CliRunner().invoke(generate_sample, ["--data-dir", str(copy)])
    assert result.exit_code == 0, result.output
    for year in (2023, 2024, 2025):
        assert (copy / "raw" / str(year) / "README.md").exists()
    assert (copy / "raw" / "2024" / "dataset.csv").exists()
    assert "wrote" in result.output


def test_one_year_only(data_dir, tmp_path):
    copy = _data_copy(data_dir, tmp_path)
    result = CliRunner().invoke(generate_sample, ["--data-dir", str(copy), "--year", "2024", "--seed", "3"])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (copy / "raw").iterdir()) == ["2024"]


def test_writes_one_export_of_any_size(data_dir, tmp_path):
    out = tmp_path / "bench" / "big.csv"
    result = CliRunner().invoke(generate_sample, [
        "--data-dir", str(data_dir), "--year", "2024", "--respondents", "5000", "--layout", "canonical_csv",
        "--out", str(out), "--seed", "4", "--separator", "tab", "--encoding", "utf-16"])
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(out, sep="\t", encoding="utf-16", dtype=str)
    assert len(frame) == 5000 and "ai_use" in frame


def test_misuse_exits_2(data_dir, tmp_path):
    runner = CliRunner()
    assert runner.invoke(generate_sample, ["--out", str(tmp_path / "x.csv")]).exit_code == 2
    assert runner.invoke(generate_sample, ["--respondents", "5"]).exit_code == 2
    result = runner.invoke(generate_sample, ["--data-dir", str(data_dir), "--year", "1999", "--respondents", "5",
                                             "--out", str(tmp_path / "x.csv")])
    assert result.exit_code == 2 and "no mapping" in result.output
    assert runner.invoke(generate_sample, ["--year", "2030"]).exit_code == 2
