"""Resources built from one `Settings`, so the UI and the CLI read the same folders and warehouse."""

from __future__ import annotations

from pathlib import Path

from dagster import ConfigurableResource, FilesystemIOManager

from benchmark_pipeline.instrument import YearInstrument, instrument_dir, load_year
from benchmark_pipeline.reference import Kommuner, load_kommuner
from benchmark_pipeline.release import ReleaseStore
from benchmark_pipeline.settings import Settings


class BenchmarkSettings(ConfigurableResource):
    """Paths, warehouse URL and the result-changing settings (from BENCHMARK_* environment variables)."""

    data_dir: str
    output_dir: str
    warehouse_url: str = ""
    min_respondents: int = 5
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
        return _instrument(Path(self.data_dir), survey_year)

    def kommuner(self) -> Kommuner:
        return load_kommuner(Path(self.data_dir))

    def release_store(self) -> ReleaseStore:
        settings = self.settings()
        return ReleaseStore(settings.output_dir, settings.resolved_warehouse_url)


_INSTRUMENTS: dict[tuple, YearInstrument] = {}
_INSTRUMENTS_KEPT = 16


def _instrument_files(data_dir: Path, survey_year: int) -> tuple[bytes, bytes]:
    folder = instrument_dir(data_dir)
    return (folder / "questions.yaml").read_bytes(), (folder / f"{survey_year}.yaml").read_bytes()


def _instrument(data_dir: Path, survey_year: int) -> YearInstrument:
    """`load_year`, parsed once per file content: most assets and checks of a run ask for the year's
    instrument, and parsing its YAML takes ~20 ms each time. Keyed by the files' bytes, so an edited
    mapping is read again; a missing or unreadable file goes to `load_year`, which reports it."""
    try:
        key = (str(data_dir), survey_year, *_instrument_files(data_dir, survey_year))
    except OSError:
        return load_year(data_dir, survey_year)
    instrument = _INSTRUMENTS.get(key)
    if instrument is None:
        instrument = load_year(data_dir, survey_year)
        try:
            unchanged = _instrument_files(data_dir, survey_year) == key[2:]
        except OSError:
            unchanged = False
        if unchanged:  # not edited while it was read: the parse belongs to the key
            if len(_INSTRUMENTS) >= _INSTRUMENTS_KEPT:
                _INSTRUMENTS.clear()
            _INSTRUMENTS[key] = instrument
    return instrument


def build_resources(settings: Settings) -> dict:
    """Every resource the assets need; intermediate values are personal data and stay in private/."""
    return {
        "benchmark": BenchmarkSettings.from_settings(settings),
        "io_manager": FilesystemIOManager(base_dir=str(settings.private_dir / "dagster_io")),
    }
