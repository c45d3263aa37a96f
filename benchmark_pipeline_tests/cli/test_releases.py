"""`releases`, `export`, `withdraw`: output, round trips and exit codes."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from click.testing import CliRunner

from benchmark_pipeline.cli.releases import export, releases, withdraw
from benchmark_pipeline.release import ReleaseStore, schema
from benchmark_pipeline.release.files import read_csv
from benchmark_pipeline_tests.release.conftest import Publisher


@pytest.fixture
def published(tmp_path):
    out = tmp_path / "out"
    with ReleaseStore(out) as store:
        p = Publisher(store, tmp_path / "inputs")
        first = p.publish(2023)
        second = p.publish(2024, compared=[first.release_id])
        third = p.publish(2024, bump=0.01, compared=[first.release_id])
    return out, first, second, third


def run(command, *args, env=None):
    return CliRunner().invoke(command, [str(a) for a in args], env=env or {}, catch_exceptions=False)


def test_releases_lists_and_json(published):
    out, first, second, third = published
    result = run(releases, "--output-dir", out)
    assert result.exit_code == 0
    assert first.release_id in result.output and "superseded" in result.output and "latest" in result.output
    rows = json.loads(run(releases, "--output-dir", out, "--year", 2024, "--json").output)
    assert [(r["release_id"], r["status"]) for r in rows] == [
        (second.release_id, "superseded"),
        (third.release_id, "latest"),
    ]


def test_output_dir_from_the_environment(published):
    out, first, *_ = published
    result = run(releases, "--json", env={"BENCHMARK_OUTPUT_DIR": str(out)})
    assert result.exit_code == 0 and first.release_id in result.output


@pytest.mark.parametrize("fmt", ["csv", "parquet", "xlsx"])
def test_export_round_trips_the_rows(published, tmp_path, fmt):
    out, first, second, third = published
    with ReleaseStore(out) as store:
        for table in ("indicator_values", "quarantine_summary"):
            target = tmp_path / f"{table}.{fmt}"
            result = run(export, "--output-dir", out, "--year", 2024, "--table", table, "--format", fmt, "--out", target)
            assert result.exit_code == 0, result.output
            expected = store.read_table(table, year=2024)
            assert set(expected["release_id"]) == {third.release_id}
            if fmt == "csv":
                assert target.read_bytes().startswith(b"\xef\xbb\xbf")
                back = read_csv(table, target)
            elif fmt == "parquet":
                back = schema.coerce(table, pd.read_parquet(target))
            else:
                text = {c.name: "str" for c in schema.spec(table).columns if c.type == schema.STR}
                back = schema.coerce(table, pd.read_excel(target, sheet_name=table, dtype=text))
            pd.testing.assert_frame_equal(back, expected, check_exact=False, rtol=1e-12)


def test_export_a_named_release_and_a_folder_target(published, tmp_path):
    out, first, second, third = published
    result = run(
        export, "--output-dir", out, "--year", 2024, "--table", "year_summary", "--format", "csv",
        "--out", tmp_path, "--release", second.release_id,
    )
    assert result.exit_code == 0, result.output
    written = tmp_path / f"year_summary_{second.release_id}.csv"
    assert set(read_csv("year_summary", written)["release_id"]) == {second.release_id}


def test_withdraw_then_latest_falls_back(published):
    out, first, second, third = published
    result = run(withdraw, third.release_id, "--reason", "wrong mapping", "--output-dir", out)
    assert result.exit_code == 0 and second.release_id in result.output
    rows = json.loads(run(releases, "--output-dir", out, "--json", "--year", 2024).output)
    assert [r["status"] for r in rows] == ["latest", "withdrawn"]
    assert rows[1]["withdrawn_reason"] == "wrong mapping"
    again = run(withdraw, third.release_id, "--reason", "again", "--output-dir", out)
    assert again.exit_code == 2 and "already withdrawn" in again.output


@pytest.mark.parametrize(
    "args,message",
    [
        (["--year", 2024, "--table", "nope", "--format", "csv"], "unknown table"),
        (["--year", 2031, "--table", "year_summary", "--format", "csv"], "no published release for 2031"),
        (["--year", 2024, "--table", "year_summary", "--format", "csv", "--release", "2024-r7-abc"], "no published release"),
        (["--year", 2023, "--table", "year_summary", "--format", "csv", "--release", "SECOND"], "not 2023"),
        (["--year", 2024, "--table", "year_summary", "--format", "json"], "Invalid value"),
    ],
)
def test_misuse_exits_2_without_traceback(published, tmp_path, args, message):
    out, first, second, third = published
    args = [second.release_id if a == "SECOND" else a for a in args]
    result = run(export, "--output-dir", out, "--out", tmp_path / "x", *args)
    assert result.exit_code == 2 and message in result.output and "Traceback" not in result.output


def test_unknown_release_to_withdraw_exits_2(published):
    out, *_ = published
    result = run(withdraw, "2024-r9-000000000000", "--reason", "x", "--output-dir", out)
    assert result.exit_code == 2 and "no published release" in result.output


def test_unreachable_warehouse_exits_3(tmp_path):
    url = "postgresql+psycopg2://nobody@127.0.0.1:9/none?connect_timeout=2"
    for command, args in [
        (releases, []),
        (export, ["--year", 2024, "--table", "year_summary", "--format", "csv", "--out", tmp_path / "x.csv"]),
        (withdraw, ["2024-r1-000000000000", "--reason", "x"]),
    ]:
        result = run(command, *args, "--output-dir", tmp_path / "out", "--warehouse-url", url)
        assert result.exit_code == 3, result.output
        assert "warehouse" in result.output and "Traceback" not in result.output


def test_bad_warehouse_url_exits_2(tmp_path):
    result = run(releases, "--output-dir", tmp_path, "--warehouse-url", "not a url")
    assert result.exit_code == 2 and "not a database URL" in result.output


def test_disk_full_during_export_exits_3(published, tmp_path, monkeypatch):
    import errno

    from benchmark_pipeline.cli import releases as module

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(module, "write_csv", full)
    out, *_ = published
    result = run(
        export, "--output-dir", out, "--year", 2024, "--table", "year_summary", "--format", "csv",
        "--out", tmp_path / "x.csv",
    )
    assert result.exit_code == 3 and "No space left on device" in result.output
    assert not list(tmp_path.glob(".x.csv*"))  # the temporary file is gone
