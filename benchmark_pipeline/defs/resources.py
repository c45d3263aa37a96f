"""The Dagster resources, built from one `Settings` (`build_resources`), so the UI and the CLI read the same
folders and warehouse."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from dagster import ConfigurableResource, EnvVar

from benchmark_pipeline.defs.io import StepOutputIOManager
from benchmark_pipeline.instrument import YearInstrument, load_year
from benchmark_pipeline.reference import Kommuner, load_kommuner
from benchmark_pipeline.release import ReleaseStore
from benchmark_pipeline.settings import ENVIRONMENT, IN_PROCESS, Settings


class BenchmarkSettings(ConfigurableResource):
    """`Settings` as the assets, checks and sensors see it. Built by `from_settings` only: the defaults and
    rules are `Settings`'; a credential read from the environment stays an `EnvVar`, so the UI shows the
    variable's name, never its value."""

    data_dir: str
    output_dir: str
    warehouse_url: str  # "" = the SQLite file in the output folder
    alert_webhook_url: str  # "" = no webhook
    min_respondents: int
    max_quarantine_share: float

    @classmethod
    def from_settings(cls, settings: Settings, environ: Mapping[str, str] | None = None) -> BenchmarkSettings:
        env = os.environ if environ is None else environ

        def credential(field: str):
            value, name = getattr(settings, field) or "", ENVIRONMENT[field]
            return EnvVar(name) if value and env.get(name) == value else value

        return cls(
            data_dir=str(settings.data_dir),
            output_dir=str(settings.output_dir),
            warehouse_url=credential("warehouse_url"),
            alert_webhook_url=credential("alert_webhook_url"),
            min_respondents=settings.min_respondents,
            max_quarantine_share=settings.max_quarantine_share,
        )

    def settings(self) -> Settings:
        return Settings(
            data_dir=Path(self.data_dir),
            output_dir=Path(self.output_dir),
            warehouse_url=self.warehouse_url or None,
            alert_webhook_url=self.alert_webhook_url or None,
            min_respondents=self.min_respondents,
            max_quarantine_share=self.max_quarantine_share,
        )

    def instrument(self, survey_year: int) -> YearInstrument:
        return load_year(Path(self.data_dir), survey_year)

    def kommuner(self) -> Kommuner:
        return load_kommuner(Path(self.data_dir))

    def release_store(self) -> ReleaseStore:
        settings = self.settings()
        return ReleaseStore(settings.output_dir, settings.resolved_warehouse_url)


# The respondent-level outputs: large, and read by several steps of the same run.
HANDED_ON = ("raw_survey_responses", "validated_responses")


def consumers(definitions, keys) -> dict[str, int]:
    """How many of the given assets and checks load each of `keys` as an input."""
    counts = dict.fromkeys(keys, 0)
    for definition in definitions:
        for key in definition.keys_by_input_name.values():
            if key.to_user_string() in counts:
                counts[key.to_user_string()] += 1
    return counts


def build_resources(settings: Settings) -> dict:
    """Every resource the assets need; intermediate values are personal data and stay in private/."""
    from benchmark_pipeline.defs.assets import ALL_ASSETS
    from benchmark_pipeline.defs.checks import ALL_CHECKS

    # Only the in-process executor runs a step's consumers in its process; a worker holding a value for
    # steps that run elsewhere would only hold memory.
    in_process = settings.executor == IN_PROCESS
    return {
        "benchmark": BenchmarkSettings.from_settings(settings),
        "io_manager": StepOutputIOManager(
            base_dir=str(settings.dagster_io_dir),
            handed_on=consumers([*ALL_ASSETS, *ALL_CHECKS], HANDED_ON) if in_process else {},
        ),
    }
