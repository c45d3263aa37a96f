"""Where data, outputs and the warehouse live, and the settings that change results.

Flags, environment variables (`ENVIRONMENT`) and the Dagster resource all resolve through
`Settings.from_env`, so the CLI and the UI read the same places; every path the pipeline writes is
derived here.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA_DIR = REPO_ROOT / "data"
DEFAULT_OUTPUT_DIR = REPO_ROOT / "output"
MIN_RESPONDENTS_FLOOR = 5  # disclosure control: never publish a value resting on fewer respondents
DEFAULT_MAX_QUARANTINE_SHARE = 0.20
FIRST_SURVEY_YEAR = 2023  # LIFA's survey; the first yearly partition


# The environment variable behind each setting.
ENVIRONMENT = {
    "data_dir": "BENCHMARK_DATA_DIR",
    "output_dir": "BENCHMARK_OUTPUT_DIR",
    "warehouse_url": "BENCHMARK_WAREHOUSE_URL",
    "min_respondents": "BENCHMARK_MIN_RESPONDENTS",
    "max_quarantine_share": "BENCHMARK_MAX_QUARANTINE_SHARE",
    "alert_webhook_url": "BENCHMARK_ALERT_WEBHOOK_URL",
    "dagster_io_base": "BENCHMARK_DAGSTER_IO_DIR",
    "executor": "BENCHMARK_EXECUTOR",
    "celery_broker_url": "BENCHMARK_CELERY_BROKER_URL",
    "celery_backend_url": "BENCHMARK_CELERY_BACKEND_URL",
    "celery_queue": "BENCHMARK_CELERY_QUEUE",
    "last_survey_year": "BENCHMARK_LAST_SURVEY_YEAR",
}

# Where the yearly job's steps run (docs/operations.md): in this process (the embedded default), or as
# tasks on Celery workers (the scaled-out profile: RabbitMQ broker, Redis results, a shared instance).
IN_PROCESS, CELERY = "in_process", "celery"
EXECUTORS = (IN_PROCESS, CELERY)
DEFAULT_CELERY_BROKER_URL = "amqp://127.0.0.1:5672//"
DEFAULT_CELERY_BACKEND_URL = "redis://127.0.0.1:6379/0"
DEFAULT_CELERY_QUEUE = "dagster"


class SettingsError(ValueError):
    """A setting has a value the pipeline must not run with (a misuse)."""

    exit_code = 2


def default_warehouse_url(output_dir: str | Path) -> str:
    """The embedded warehouse: a SQLite file in the output folder."""
    return f"sqlite:///{(Path(output_dir) / 'warehouse.sqlite').resolve()}"


def normalise_warehouse_url(url: str) -> str:
    """Bare PostgreSQL URLs would make SQLAlchemy 2.1 pick psycopg 3; the project ships psycopg2."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg2://" + url[len(prefix):]
    return url


@dataclass(frozen=True)
class Settings:
    data_dir: Path = DEFAULT_DATA_DIR
    output_dir: Path = DEFAULT_OUTPUT_DIR
    warehouse_url: str | None = None  # None: a SQLite file inside output_dir
    min_respondents: int = MIN_RESPONDENTS_FLOOR
    max_quarantine_share: float = DEFAULT_MAX_QUARANTINE_SHARE
    alert_webhook_url: str | None = None  # where failed runs are also POSTed
    # None: private/dagster_io inside output_dir. With several machines, a folder every worker mounts;
    # it holds respondent-level values, so it must be as private as the private area.
    dagster_io_base: Path | None = None
    executor: str = IN_PROCESS
    celery_broker_url: str = DEFAULT_CELERY_BROKER_URL
    celery_backend_url: str = DEFAULT_CELERY_BACKEND_URL
    celery_queue: str = DEFAULT_CELERY_QUEUE  # the workers listen on it (`make workers`)
    # None: the yearly partitions end with the current year. Set, they end with this year (benchmarks and
    # rehearsals of synthetic later years); read when the definitions load, so every process of a
    # deployment (webserver, daemon, workers, CLI) must see the same value.
    last_survey_year: int | None = None

    def __post_init__(self) -> None:
        if self.executor not in EXECUTORS:
            raise SettingsError(
                f"BENCHMARK_EXECUTOR must be one of {', '.join(EXECUTORS)}, not {self.executor!r}"
            )
        if self.min_respondents < MIN_RESPONDENTS_FLOOR:
            raise SettingsError(
                f"min_respondents is {self.min_respondents}; disclosure control never allows fewer than "
                f"{MIN_RESPONDENTS_FLOOR}"
            )
        if self.last_survey_year is not None and self.last_survey_year < FIRST_SURVEY_YEAR:
            raise SettingsError(
                f"{ENVIRONMENT['last_survey_year']} is {self.last_survey_year}; the first survey year is {FIRST_SURVEY_YEAR}"
            )
        if not 0 <= self.max_quarantine_share <= 1:
            raise SettingsError(f"max_quarantine_share must be between 0 and 1, not {self.max_quarantine_share}")

    @property
    def resolved_warehouse_url(self) -> str:
        if not self.warehouse_url:
            return default_warehouse_url(self.output_dir)
        return normalise_warehouse_url(self.warehouse_url)

    def raw_dir(self, survey_year: int) -> Path:
        return Path(self.data_dir) / "raw" / str(survey_year)

    def quarantine_dir(self, survey_year: int) -> Path:
        return Path(self.output_dir) / "quarantine" / str(survey_year)

    @property
    def private_dir(self) -> Path:
        """Respondent-level intermediate data (personal data): never inside a release."""
        return Path(self.output_dir) / "private"

    @property
    def dagster_io_dir(self) -> Path:
        """Where Dagster's I/O manager keeps asset values between steps (personal data, so private)."""
        if self.dagster_io_base is not None:
            return Path(self.dagster_io_base)
        return self.private_dir / "dagster_io"

    def work_dir(self, survey_year: int, run_id: str) -> Path:
        """A run's scratch folder (reports before the staged release takes them in)."""
        return Path(self.output_dir) / "work" / str(survey_year) / run_id

    @property
    def alerts_file(self) -> Path:
        """One JSON line per failed run."""
        return Path(self.output_dir) / "alerts" / "alerts.jsonl"

    def result_settings(self) -> dict:
        """The settings that change published numbers; part of every release fingerprint."""
        return {"min_respondents": self.min_respondents, "max_quarantine_share": self.max_quarantine_share}

    @classmethod
    def from_env(cls, environ: dict | None = None, **overrides) -> "Settings":
        env = os.environ if environ is None else environ
        convert = {
            "data_dir": Path, "output_dir": Path, "dagster_io_base": Path,
            "min_respondents": int, "max_quarantine_share": float, "last_survey_year": int,
        }
        values: dict = {}
        for field, name in ENVIRONMENT.items():
            if env.get(name):
                try:
                    values[field] = convert.get(field, str)(env[name])
                except ValueError as exc:
                    raise SettingsError(f"{name} must be a number, not {env[name]!r}") from exc
        values.update({k: v for k, v in overrides.items() if v is not None})
        if "dagster_io_base" in values:
            values["dagster_io_base"] = Path(values["dagster_io_base"]).expanduser().resolve()
        for key in ("data_dir", "output_dir"):
            if key in values:
                values[key] = Path(values[key]).expanduser().resolve()
                if values[key].exists() and not values[key].is_dir():
                    flag = key.replace("_", "-")
                    raise SettingsError(
                        f"the {key.split('_')[0]} folder {values[key]} (--{flag} / {ENVIRONMENT[key]}) is a file, not a "
                        "folder: give a folder"
                    )
        return replace(cls(), **values)
