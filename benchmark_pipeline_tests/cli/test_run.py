"""`benchmark-pipeline run` as a user calls it: a real process, real exit codes, no tracebacks."""

from __future__ import annotations

import shutil
from pathlib import Path

import sqlalchemy as sa

from benchmark_pipeline.settings import DEFAULT_DATA_DIR
from benchmark_pipeline_tests.reliability.helpers import run_cli  # the checkout's code, as a real process


def copy_data(tmp_path: Path, years: tuple[int, ...]) -> Path:
    data = tmp_path / "data"
    shutil.copytree(DEFAULT_DATA_DIR / "reference", data / "reference")
    shutil.copytree(DEFAULT_DATA_DIR / "instrument", data / "instrument")
    for year in years:
        shutil.copytree(DEFAULT_DATA_DIR / "raw" / str(year), data / "raw" / str(year))
    return data


def test_run_a_year_prints_where_the_release_went(tmp_path):
    data = copy_data(tmp_path, (2023,))
    result = run_cli("run", "--year", "2023", "--data-dir", str(data), "--output-dir", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    assert "2023: published 2023-r1-" in result.stdout
    assert str(tmp_path / "out" / "releases" / "2023") in result.stdout
    assert "Traceback" not in result.stderr


def test_run_without_year_or_all_is_misuse(tmp_path):
    result = run_cli("run", "--output-dir", str(tmp_path))
    assert result.returncode == 2
    assert "--year" in result.stderr and "Traceback" not in result.stderr


def test_a_year_without_mapping_is_unusable_input(tmp_path):
    data = copy_data(tmp_path, (2023,))
    (data / "raw" / "2031").mkdir()
    shutil.copy(next((data / "raw" / "2023").glob("*.xlsx")), data / "raw" / "2031" / "export.xlsx")
    result = run_cli("run", "--year", "2031", "--data-dir", str(data), "--output-dir", str(tmp_path / "out"))
    assert result.returncode == 2, result.stdout + result.stderr
    assert "2031" in result.stderr and "mapping" in result.stderr
    assert "Traceback" not in result.stderr


def test_env_variables_choose_the_folders(tmp_path):
    data = copy_data(tmp_path, (2023,))
    out = tmp_path / "env-out"
    result = run_cli("run", "--all", env_extra={"BENCHMARK_DATA_DIR": str(data), "BENCHMARK_OUTPUT_DIR": str(out)})
    assert result.returncode == 0, result.stderr
    assert (out / "warehouse.sqlite").is_file()
    assert any((out / "releases" / "2023").glob("2023-r1-*"))


def test_an_unreachable_warehouse_is_one_plain_line_and_exit_3_and_hides_the_password(tmp_path):
    """--year 2024 asks the warehouse for 2023's release before any run starts."""
    data = copy_data(tmp_path, (2023, 2024))
    url = sa.URL.create("postgresql+psycopg2", username="analyst", password="s3cret-pw", host="127.0.0.1", port=1,
                        database="benchmark", query={"connect_timeout": "2"}).render_as_string(hide_password=False)
    for args in (["--year", "2024"], ["--all"]):
        result = run_cli("run", *args, "--data-dir", str(data), "--output-dir", str(tmp_path / "out"),
                         "--warehouse-url", url)
        text = result.stdout + result.stderr
        assert result.returncode == 3, text
        assert "Traceback" not in text and "s3cret-pw" not in text
        assert "127.0.0.1:1" in text and "make sure the database server is running" in text
    first = run_cli("run", "--year", "2024", "--data-dir", str(data), "--output-dir", str(tmp_path / "out"),
                    "--warehouse-url", url)
    assert first.stderr.startswith("error: ") and len(first.stderr.strip().splitlines()) == 1, first.stderr


def test_a_file_given_as_a_folder_is_misuse_for_run_and_check(tmp_path):
    not_a_folder = tmp_path / "out.txt"
    not_a_folder.write_text("a file")
    export = DEFAULT_DATA_DIR / "raw" / "2024"
    for command in (["run", "--year", "2024"], ["check", str(export), "--year", "2024"]):
        result = run_cli(*command, env_extra={"BENCHMARK_OUTPUT_DIR": str(not_a_folder)})
        assert result.returncode == 2, result.stdout + result.stderr
        assert f"{not_a_folder} (--output-dir / BENCHMARK_OUTPUT_DIR) is a file, not a folder" in result.stderr
        assert "Traceback" not in result.stderr
