"""Concurrent real runs: the same year twice ends with one release; different years both publish."""

from __future__ import annotations

import pytest

from benchmark_pipeline.release import ReleaseStore
from benchmark_pipeline_tests.reliability.helpers import check_invariants, copy_data, finish, start_cli


@pytest.mark.slow
def test_same_year_twice_at_once_on_sqlite_gives_one_release(tmp_path, output_with_2023):
    """With 2023 published, two `run --year 2024` at once (2024 compares with 2023's release)."""
    data = copy_data(tmp_path / "data", (2024,))
    procs = [start_cli("run", "--year", "2024", "--data-dir", data, "--output-dir", output_with_2023) for _ in range(2)]
    results = [finish(p) for p in procs]
    for r in results:
        assert r.returncode == 0, r.stdout + r.stderr
        assert "Traceback" not in r.stderr
    seen = check_invariants(output_with_2023, after_recovery=True)
    assert len(seen[2023]) == 1 and len(seen[2024]) == 1, seen
    release = seen[2024][0]
    assert all(release in r.stdout for r in results)
    with ReleaseStore(output_with_2023) as store:
        assert store.get(release).previous_release_id == seen[2023][0]
        assert set(store.read_table("year_summary", year=2024)["release_id"]) == {release}


@pytest.mark.slow
@pytest.mark.postgres
def test_same_year_twice_and_another_year_at_once_on_postgresql(tmp_path, pg_url):
    """PostgreSQL warehouse, one output folder: 2023 twice (one data folder) and 2025 (another) at once."""
    data_2023 = copy_data(tmp_path / "data-a", (2023,))
    data_2025 = copy_data(tmp_path / "data-b", (2025,))
    out = tmp_path / "out"
    runs = [(2023, data_2023), (2023, data_2023), (2025, data_2025)]
    procs = [
        start_cli("run", "--year", year, "--data-dir", data, "--output-dir", out, "--warehouse-url", pg_url)
        for year, data in runs
    ]
    results = [finish(p) for p in procs]
    for r in results:
        assert r.returncode == 0, r.stdout + r.stderr
        assert "Traceback" not in r.stderr
    seen = check_invariants(out, pg_url, after_recovery=True)
    assert len(seen[2023]) == 1 and len(seen[2025]) == 1, seen
    assert not (out / "warehouse.sqlite").exists()
