"""Where data, outputs and the warehouse live, and the settings that change results.

Flags, environment variables (`BENCHMARK_DATA_DIR`, `BENCHMARK_OUTPUT_DIR`, `BENCHMARK_WAREHOUSE_URL`,
`BENCHMARK_MIN_RESPONDENTS`, `BENCHMARK_MAX_QUARANTINE_SHARE`) and the Dagster resources all resolve
through `Settings.from_env`, so the CLI and the UI read the same places.
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

    def __post_init__(self) -> None:
        if self.min_respondents < MIN_RESPONDENTS_FLOOR:
            raise SettingsError(
                f"min_respondents is {self.min_respondents}; disclosure control never allows fewer than "
                f"{MIN_RESPONDENTS_FLOOR}"
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

    @property
    def releases_dir(self) -> Path:
        return Path(self.output_dir) / "releases"

    def quarantine_dir(self, survey_year: int) -> Path:
        return Path(self.output_dir) / "quarantine" / str(survey_year)

    @property
    def private_dir(self) -> Path:
        """Respondent-level intermediate data (personal data): never inside a release."""
        return Path(self.output_dir) / "private"

    def result_settings(self) -> dict:
        """The settings that change published numbers; part of every release fingerprint."""
        return {"min_respondents": self.min_respondents, "max_quarantine_share": self.max_quarantine_share}

    @classmethod
    def from_env(cls, environ: dict | None = None, **overrides) -> "Settings":
        env = os.environ if environ is None else environ
        values: dict = {}
        if env.get("BENCHMARK_DATA_DIR"):
            values["data_dir"] = Path(env["BENCHMARK_DATA_DIR"])
        if env.get("BENCHMARK_OUTPUT_DIR"):
            values["output_dir"] = Path(env["BENCHMARK_OUTPUT_DIR"])
        if env.get("BENCHMARK_WAREHOUSE_URL"):
            values["warehouse_url"] = env["BENCHMARK_WAREHOUSE_URL"]
        try:
            if env.get("BENCHMARK_MIN_RESPONDENTS"):
                values["min_respondents"] = int(env["BENCHMARK_MIN_RESPONDENTS"])
            if env.get("BENCHMARK_MAX_QUARANTINE_SHARE"):
                values["max_quarantine_share"] = float(env["BENCHMARK_MAX_QUARANTINE_SHARE"])
        except ValueError as exc:
            raise SettingsError(f"invalid number in environment: {exc}") from exc
        values.update({k: v for k, v in overrides.items() if v is not None})
        for key in ("data_dir", "output_dir"):
            if key in values:
                values[key] = Path(values[key]).expanduser().resolve()
        return replace(cls(), **values)
