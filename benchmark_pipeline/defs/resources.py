"""Resources built from one `Settings`, so the UI and the CLI read the same folders and warehouse."""

from __future__ import annotations

from pathlib import Path

from dagster import ConfigurableResource, FilesystemIOManager

from benchmark_pipeline.instrument import YearInstrument, load_year
from benchmark_pipeline.reference import Kommuner, load_kommuner
from benchmark_pipeline.release import ReleaseStore
from benchmark_pipeline.settings import MIN_RESPONDENTS_FLOOR, Settings


class BenchmarkSettings(ConfigurableResource):
    """Paths, warehouse URL and the result-changing settings (from BENCHMARK_* environment variables)."""

    data_dir: str
    output_dir: str
    warehouse_url: str = ""
    min_respondents: int = MIN_RESPONDENTS_FLOOR
    max_quarantine_share: float = 0.2

    @classmethod
    def from_settings(cls, settings: Settings) -> "BenchmarkSettings":
        return cls(
            data_dir=str(settings.data_dir),
            output_dir=str(settings.output_dir),
            warehouse_url=settings.warehouse_url or "",
            min_respondents=settings.min_respondents,
            max_quarantine_share=settings.max_quarantine_share,
        )

    def settings(self) -> Settings:
        return Settings(
            data_dir=Path(self.data_dir),
            output_dir=Path(self.output_dir),
            warehouse_url=self.warehouse_url or None,
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


def build_resources(settings: Settings) -> dict:
    """Every resource the assets need; intermediate values are personal data and stay in private/."""
    return {
        "benchmark": BenchmarkSettings.from_settings(settings),
        "io_manager": FilesystemIOManager(base_dir=str(settings.private_dir / "dagster_io")),
    }
