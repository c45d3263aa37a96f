"""The yearly partitions: from the first survey year to the current one, or to the year a setting names."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime
from zoneinfo import ZoneInfo

from benchmark_pipeline.defs.partitions import TIMEZONE, survey_years_until
from benchmark_pipeline.settings import FIRST_SURVEY_YEAR, REPO_ROOT


def years(partitions) -> list[int]:
    return [int(key) for key in partitions.get_partition_keys()]


def test_by_default_the_partitions_end_with_the_current_year():
    this_year = datetime.now(ZoneInfo(TIMEZONE)).year
    assert years(survey_years_until(None)) == list(range(FIRST_SURVEY_YEAR, this_year + 1))


def test_a_last_survey_year_after_this_one_adds_the_later_years():
    assert years(survey_years_until(2032)) == list(range(2023, 2033))


def test_a_last_survey_year_before_this_one_ends_the_partitions_there():
    assert years(survey_years_until(2024)) == [2023, 2024]


def test_the_partitions_stay_at_the_last_year_when_the_definitions_load_in_a_later_year():
    # A code server started in 2030 computes another offset from its clock; the set is still 2023-2032,
    # then and in any later year.
    started = datetime(2030, 6, 1, tzinfo=ZoneInfo(TIMEZONE))
    for now in (started, datetime(2031, 2, 1, tzinfo=ZoneInfo(TIMEZONE)), datetime(2040, 1, 2, tzinfo=ZoneInfo(TIMEZONE))):
        keys = survey_years_until(2032, now=started).get_partition_keys(current_time=now)
        assert [int(key) for key in keys] == list(range(2023, 2033)), now


def test_the_setting_reaches_the_jobs_partitions_when_the_definitions_load():
    script = (
        "from benchmark_pipeline.definitions import defs;"
        "job = defs.resolve_job_def('yearly_benchmark');"
        "print(','.join(job.partitions_def.get_partition_keys()))"
    )
    env = {**os.environ, "BENCHMARK_LAST_SURVEY_YEAR": "2032"}
    result = subprocess.run([sys.executable, "-c", script], cwd=REPO_ROOT, env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == ",".join(str(y) for y in range(2023, 2033))


def test_a_year_outside_the_partitions_is_refused_with_the_years_and_the_setting(tmp_path):
    from benchmark_pipeline.defs.runner import run_year
    from benchmark_pipeline.errors import EXIT_INPUT
    from benchmark_pipeline.settings import Settings

    this_year = datetime.now(ZoneInfo(TIMEZONE)).year
    outcome = run_year(Settings(output_dir=tmp_path / "out"), this_year + 5)
    assert outcome.exit_code == EXIT_INPUT
    [message] = outcome.messages
    assert f"the yearly partitions are {FIRST_SURVEY_YEAR}-{this_year}" in message
    assert "BENCHMARK_LAST_SURVEY_YEAR" in message
    assert not (tmp_path / "out" / "releases").exists()
