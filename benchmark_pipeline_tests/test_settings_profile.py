"""The deployment settings: which executor, where the broker and backend are, where Dagster's stored values live."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmark_pipeline.settings import (
    DEFAULT_CELERY_BACKEND_URL,
    DEFAULT_CELERY_BROKER_URL,
    ENVIRONMENT,
    Settings,
    SettingsError,
)


def test_the_embedded_default_is_in_process_with_stored_values_in_the_private_area(tmp_path):
    settings = Settings.from_env(environ={}, output_dir=tmp_path / "out")
    assert settings.executor == "in_process"
    assert settings.dagster_io_dir == (tmp_path / "out").resolve() / "private" / "dagster_io"
    assert settings.dagster_io_dir.is_relative_to(settings.private_dir)
    assert (settings.celery_broker_url, settings.celery_backend_url) == (DEFAULT_CELERY_BROKER_URL, DEFAULT_CELERY_BACKEND_URL)
    assert settings.celery_queue == "dagster"


def test_one_variable_each_chooses_the_profile_and_where_it_connects(tmp_path):
    environ = {
        "BENCHMARK_EXECUTOR": "celery",
        "BENCHMARK_CELERY_BROKER_URL": "amqp://bench:secret@mq.internal:5672/benchmark",
        "BENCHMARK_CELERY_BACKEND_URL": "redis://cache.internal:6379/3",
        "BENCHMARK_CELERY_QUEUE": "benchmark",
        "BENCHMARK_DAGSTER_IO_DIR": str(tmp_path / "shared" / ".." / "shared" / "io"),
    }
    settings = Settings.from_env(environ=environ)
    assert settings.executor == "celery"
    assert settings.celery_broker_url == environ["BENCHMARK_CELERY_BROKER_URL"]
    assert settings.celery_backend_url == environ["BENCHMARK_CELERY_BACKEND_URL"]
    assert settings.celery_queue == "benchmark"
    assert settings.dagster_io_dir == (tmp_path / "shared" / "io").resolve()  # resolved, like the other folders
    for name in environ:
        assert name in ENVIRONMENT.values()


def test_an_unknown_executor_is_a_misuse_that_names_the_choices():
    with pytest.raises(SettingsError, match="in_process, celery") as raised:
        Settings.from_env(environ={"BENCHMARK_EXECUTOR": "k8s"})
    assert raised.value.exit_code == 2


def test_a_flag_overrides_the_stored_values_folder(tmp_path):
    settings = Settings.from_env(environ={"BENCHMARK_DAGSTER_IO_DIR": "/elsewhere"}, dagster_io_base=tmp_path / "io")
    assert settings.dagster_io_dir == (tmp_path / "io").resolve()
    assert isinstance(settings.dagster_io_dir, Path)


def test_the_last_survey_year_is_a_year_from_the_first_survey_on():
    assert Settings.from_env(environ={}).last_survey_year is None
    assert Settings.from_env(environ={"BENCHMARK_LAST_SURVEY_YEAR": "2032"}).last_survey_year == 2032
    with pytest.raises(SettingsError, match="first survey year is 2023"):
        Settings.from_env(environ={"BENCHMARK_LAST_SURVEY_YEAR": "2022"})
    with pytest.raises(SettingsError, match="BENCHMARK_LAST_SURVEY_YEAR must be a number, not 'next'"):
        Settings.from_env(environ={"BENCHMARK_LAST_SURVEY_YEAR": "next"})
