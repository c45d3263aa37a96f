"""The bad-input corpus through `check` (every case, CLI with --json and the summary) and `run` (a
representative subset, real subprocesses on a temporary data folder): right exit code, a message naming the
file (and row/column where there is one), nothing published from a rejected year, no traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from benchmark_pipeline.cli.main import cli
from benchmark_pipeline.settings import DEFAULT_DATA_DIR
from benchmark_pipeline_tests.reliability.corpus import CASES, build_case, case_id
from benchmark_pipeline_tests.reliability.helpers import copy_data, finish, sqlite_url, start_cli, warehouse_rows

RUN_CASES = [c for c in CASES if c.run]


def test_the_corpus_is_big_enough_and_covers_every_outcome():
    assert len(CASES) >= 30
    assert {(c.exit_code, c.status) for c in CASES} == {(0, "ok"), (1, "quarantine"), (1, "rejected"), (2, "rejected")}
    assert 7 <= len(RUN_CASES) <= 10


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_check(case, tmp_path):
    path = build_case(case, tmp_path / "raw" / str(case.year))
    runner = CliRunner()
    args = ["check", str(path), "--year", str(case.year), "--data-dir", str(DEFAULT_DATA_DIR)]
    result = runner.invoke(cli, [*args, "--json"], catch_exceptions=False)
    assert result.exit_code == case.exit_code, result.output
    report = json.loads(result.stdout)
    assert report["status"] == case.status and report["exit_code"] == case.exit_code
    summary = runner.invoke(cli, args, catch_exceptions=False)
    assert summary.exit_code == case.exit_code
    text = summary.output
    assert "Traceback" not in text
    if case.status == "rejected":
        assert report["errors"], report
        message = " ".join(report["errors"])
        named = {Path(report["file"]).name, case.name, "labels.csv"}
        assert any(name in message for name in named), message
    else:
        message = " ".join(f"row {q['row']} {q['column']} {q['rule']} {q['message']}" for q in report["quarantine"])
        assert str(path) in text or Path(report["file"]).name in text
    for phrase in case.phrases:
        assert phrase.lower() in (message + text).lower(), f"{phrase!r} not in {message}"
    # values quoted in messages are shortened and masked; free text is never shown
    assert len(text) < 20_000
    for secret in ("010203-1234", "anne@example.dk", "lang kommentar lang"):
        assert secret not in text and secret not in result.stdout


@pytest.fixture(scope="module")
def corpus_runs(tmp_path_factory):
    """Every `run` case at once, each a real `benchmark-pipeline run --year Y` on its own data folder."""
    root = tmp_path_factory.mktemp("corpus-runs")
    procs = {}
    for i, case in enumerate(RUN_CASES):
        base = root / f"{i}-{case_id(case)}"
        data = copy_data(base / "data")
        build_case(case, data / "raw" / str(case.year))
        out = base / "out"
        procs[case_id(case)] = (out, start_cli("run", "--year", case.year, "--data-dir", data, "--output-dir", out))
    return {name: (out, finish(proc)) for name, (out, proc) in procs.items()}


@pytest.mark.slow
@pytest.mark.parametrize("case", RUN_CASES, ids=case_id)
def test_run(case, corpus_runs):
    out, result = corpus_runs[case_id(case)]
    text = result.stdout + result.stderr
    assert "Traceback" not in text, text
    published = case.exit_code == 0 or case.status == "quarantine"
    if published:  # rows set aside, the year published without them
        assert result.returncode == 0, text
        assert f"{case.year}: published {case.year}-r1-" in result.stdout
        assert (out / "quarantine" / str(case.year)).is_dir()
        if case.status == "quarantine":  # reported in the summary and alerted as a warning
            alerts = [json.loads(line) for line in (out / "alerts" / "alerts.jsonl").read_text().splitlines()]
            (warning,) = [a for a in alerts if a["kind"] == "quarantine_warning"]
            assert warning["survey_year"] == case.year and warning["exit_code"] == 0
            assert f"warning: {warning['rows_quarantined']} row(s) quarantined" in result.stdout
            assert warning["rows_quarantined"] > 0 and warning["release_id"] in result.stdout
        return
    assert result.returncode == case.exit_code, text
    assert f"{case.year}: not published (exit {case.exit_code})" in result.stderr
    assert case.name in text or "labels.csv" in text, text
    for phrase in case.phrases:
        assert phrase.lower() in text.lower(), f"{phrase!r} not in {text}"
    # nothing published from a rejected year: no release folder, no warehouse rows
    year_dir = out / "releases" / str(case.year)
    assert not year_dir.exists() or not [p for p in year_dir.iterdir() if p.is_dir()]
    rows = warehouse_rows(sqlite_url(out)) if (out / "warehouse.sqlite").exists() else {}
    assert all(not r for r in rows.values()), rows
