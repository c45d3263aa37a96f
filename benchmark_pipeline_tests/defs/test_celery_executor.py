"""The executor follows BENCHMARK_EXECUTOR, and the run side of the Celery profile agrees with celery.yaml,
the file the workers are started with; the CLI's Celery path refuses what workers could not see and says
in one line when the broker cannot be reached. No broker is needed for any of these."""

from __future__ import annotations

import pytest
import yaml

from benchmark_pipeline.defs.build import build_definitions
from benchmark_pipeline.defs.executors import CELERY_TASK_SETTINGS, celery_config
from benchmark_pipeline.settings import REPO_ROOT, Settings

# Built into the URLs below, so no literal credential stands in the repository (test_security.py).
PASSWORD = "s3cret"
MASKED = "**"  # how the CLI shows a password it names

CELERY_YAML = REPO_ROOT / "celery.yaml"


def yearly_job(settings: Settings):
    return build_definitions(settings).resolve_job_def("yearly_benchmark")


def test_in_process_by_default_and_celery_by_one_setting(tmp_path):
    default = Settings.from_env(environ={}, output_dir=tmp_path)
    celery = Settings.from_env(environ={"BENCHMARK_EXECUTOR": "celery"}, output_dir=tmp_path)
    assert yearly_job(default).executor_def.name == "in_process"
    assert yearly_job(celery).executor_def.name == "celery"
    # The same job either way: the profile changes where steps run, not what they are.
    assert yearly_job(default).graph.node_dict.keys() == yearly_job(celery).graph.node_dict.keys()


def test_stored_values_go_where_the_setting_says(tmp_path):
    settings = Settings.from_env(environ={"BENCHMARK_EXECUTOR": "celery", "BENCHMARK_DAGSTER_IO_DIR": str(tmp_path / "io")})
    io_manager = build_definitions(settings).resources["io_manager"]
    assert io_manager.base_dir == str((tmp_path / "io").resolve())


def test_urls_from_the_environment_stay_references_so_the_ui_shows_no_password():
    environ = {"BENCHMARK_EXECUTOR": "celery", "BENCHMARK_CELERY_BROKER_URL": f"amqp://bench:{PASSWORD}@mq:5672//"}
    config = celery_config(Settings.from_env(environ=environ), environ)
    assert config["broker"] == {"env": "BENCHMARK_CELERY_BROKER_URL"}
    assert PASSWORD not in repr(config)
    assert config["backend"] == "redis://127.0.0.1:6379/0"  # the default, not from the environment: literal


def test_the_workers_file_names_the_same_variables_and_task_settings():
    doc = yaml.safe_load(CELERY_YAML.read_text())["execution"]["config"]
    assert doc["broker"] == {"env": "BENCHMARK_CELERY_BROKER_URL"}
    assert doc["backend"] == {"env": "BENCHMARK_CELERY_BACKEND_URL"}
    assert doc["config_source"] == CELERY_TASK_SETTINGS
    assert CELERY_TASK_SETTINGS["task_acks_late"] and CELERY_TASK_SETTINGS["task_reject_on_worker_lost"]


def test_the_workers_file_is_valid_for_dagster_celery(monkeypatch):
    from dagster_celery.cli import get_validated_config

    monkeypatch.setenv("BENCHMARK_CELERY_BROKER_URL", "amqp://127.0.0.1:5672//")
    monkeypatch.setenv("BENCHMARK_CELERY_BACKEND_URL", "redis://127.0.0.1:6379/0")
    config = get_validated_config(str(CELERY_YAML))
    assert config["broker"] == "amqp://127.0.0.1:5672//"
    assert config["config_source"]["task_acks_late"] is True


def test_the_cli_path_refuses_what_the_workers_could_not_see(tmp_path, monkeypatch):
    """Workers read their settings from their own environment and write into a shared instance: a flag
    they never see, or an ephemeral instance, is a misuse (exit 2) named before anything runs."""
    from dagster import DagsterInstance, instance_for_test

    from benchmark_pipeline.defs.runner import run_year

    monkeypatch.setenv("BENCHMARK_EXECUTOR", "celery")
    monkeypatch.delenv("BENCHMARK_OUTPUT_DIR", raising=False)
    settings = Settings.from_env(output_dir=tmp_path / "flag-only")
    ephemeral = run_year(settings, 2023, DagsterInstance.ephemeral())
    assert ephemeral.exit_code == 2 and "DAGSTER_HOME" in ephemeral.messages[0]
    with instance_for_test() as instance:
        flagged = run_year(settings, 2023, instance)
    assert flagged.exit_code == 2
    assert "BENCHMARK_OUTPUT_DIR" in flagged.messages[0] and "instead of giving a flag" in flagged.messages[0]
    assert not (tmp_path / "flag-only" / "releases").exists()


@pytest.mark.integration
def test_an_unreachable_broker_fails_the_year_in_one_line_with_where_it_connected(tmp_path):
    """The run fails outside any step (nothing could be submitted): exit 3, the cause, the broker without
    its password, and nothing published."""
    import shutil
    import subprocess

    from benchmark_pipeline_tests.reliability.helpers import cli_command, cli_env

    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(REPO_ROOT / "dagster.yaml", home / "dagster.yaml")
    env = cli_env({
        "DAGSTER_HOME": str(home),
        "BENCHMARK_OUTPUT_DIR": str(tmp_path / "out"),
        "BENCHMARK_EXECUTOR": "celery",
        "BENCHMARK_CELERY_BROKER_URL": f"amqp://bench:{PASSWORD}@127.0.0.1:1//",  # nothing listens on port 1
    })
    result = subprocess.run(cli_command("run", "--year", 2023), env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 3, result.stdout + result.stderr
    assert "2023: not published (exit 3)" in result.stderr
    assert "the run failed outside any step: ConnectionRefusedError" in result.stderr
    assert f"amqp://bench:{MASKED}@127.0.0.1:1//" in result.stderr and PASSWORD not in result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert not (tmp_path / "out" / "releases").exists() or not any((tmp_path / "out" / "releases").rglob("manifest.json"))
