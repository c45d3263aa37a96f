"""The release candidate: everything one run of a survey year would publish, assembled once.

The reports are drawn from it and the release store stages it, or reuses the year's latest release when
the fingerprint is the same. The export's identity lives here too: one content hash of the export files,
which is the raw asset's data version and the fingerprint's input, and (with the mapping and the reference
files) the sensor's cursor.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from benchmark_pipeline.instrument import YearInstrument
from benchmark_pipeline.reference import Kommuner
from benchmark_pipeline.release.fingerprint import combined_input_sha256, release_fingerprint, sha256_file
from benchmark_pipeline.settings import Settings


_HASHED: dict[tuple, str] = {}  # (path, size, inode, mtime_ns, ctime_ns) -> sha256
_HASHED_KEPT = 32


def _sha256_unchanged(path: Path) -> str:
    """The file's sha256, hashed once per file state: a year run names its export in two steps (the raw
    asset's data version and the release fingerprint), and a 1M-respondent export takes ~0.3 s to hash.
    Any write changes ctime (which no program can set back), so a changed file is always hashed again."""
    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_ino, st.st_mtime_ns, st.st_ctime_ns)
    sha = _HASHED.get(key)
    if sha is None:
        sha = sha256_file(path)
        if len(_HASHED) >= _HASHED_KEPT:
            _HASHED.pop(next(iter(_HASHED)))
        _HASHED[key] = sha
    return sha


@dataclass(frozen=True)
class ExportIdentity:
    """A year's export files and their content hashes."""

    files: tuple[Path, ...]  # by name
    file_sha256: tuple[str, ...]

    @classmethod
    def of(cls, files: Iterable[str | Path]) -> ExportIdentity:
        ordered = tuple(sorted((Path(p) for p in files), key=lambda p: p.name))
        return cls(ordered, tuple(_sha256_unchanged(p) for p in ordered))

    @property
    def by_name(self) -> dict[str, str]:
        return {path.name: sha for path, sha in zip(self.files, self.file_sha256)}

    @property
    def sha256(self) -> str:
        """One hash of the contents. Names do not count: renaming a file changes no published number."""
        return combined_input_sha256(self.by_name)


def year_inputs_sha256(settings: Settings, survey_year: int) -> str:
    """One hash of everything a year's run reads from the data folder: the export, the year's mapping, the
    question registry and the reference tables. Fixing any of them is a change the sensor runs."""
    from benchmark_pipeline.ingest import export_files
    from benchmark_pipeline.instrument import mapping_path, registry_path
    from benchmark_pipeline.reference import reference_dir

    files = [mapping_path(settings.data_dir, survey_year), registry_path(settings.data_dir)]
    files += sorted(reference_dir(settings.data_dir).glob("*.csv"))
    parts = {"export": ExportIdentity.of(export_files(settings.raw_dir(survey_year))).sha256}
    parts |= {str(path): sha256_file(path) for path in files if path.is_file()}
    return combined_input_sha256(parts)


@dataclass(frozen=True)
class ReleaseCandidate:
    """What a year's release would hold, and what decides whether an existing release already holds it."""

    survey_year: int
    export: ExportIdentity
    fingerprint: str
    tables: dict[str, pd.DataFrame]  # the published tables, disclosure control applied
    free_texts: tuple[str, ...]  # the respondents' own words: the privacy audit must find none of them
    previous_release_id: str | None  # the release of year - 1 this year is compared with
    code_versions: Mapping[str, str]
    settings: Mapping[str, object]  # the result-changing settings
    rows_quarantined: int = 0  # left out of the tables (not of the fingerprint): a published year warns of them


def build_candidate(
    survey_year: int,
    export: ExportIdentity,
    instrument: YearInstrument,
    kommuner: Kommuner,
    settings: Settings,
    code_versions: Mapping[str, str],
    indicators: dict,
    growth: dict,
    benchmarks: pd.DataFrame,
    validation,
    previous_release_id: str | None,
) -> ReleaseCandidate:
    """The candidate from the statistics steps' outputs and the validation result."""
    result_settings = settings.result_settings()
    fingerprint = release_fingerprint(
        survey_year,
        export.by_name,
        instrument.sha256,
        kommuner.sha256,
        code_versions,
        result_settings,
        compared_release_ids(growth, previous_release_id),
    )
    return ReleaseCandidate(
        survey_year=survey_year,
        export=export,
        fingerprint=fingerprint,
        tables=publishable_tables(survey_year, indicators, growth, benchmarks, validation),
        free_texts=free_texts(validation.valid),
        previous_release_id=previous_release_id,
        code_versions=dict(code_versions),
        settings=result_settings,
        rows_quarantined=int(validation.counts["rows_quarantined"]),
    )


def compared_release_ids(growth: dict, previous_release_id: str | None) -> list[str]:
    """Every earlier release the year's figures rest on: the previous year's, and each earlier year's that
    the changes since the first year and the trends read (`growth["compared_release_ids"]`)."""
    ids = set(growth.get("compared_release_ids", ()))
    if previous_release_id:
        ids.add(previous_release_id)
    return sorted(ids)


def publishable_tables(survey_year: int, indicators: dict, growth: dict, benchmarks: pd.DataFrame, validation) -> dict:
    """The tables a release publishes, from the statistics steps and the validation counts."""
    summary = validation.quarantine_summary()
    summary.insert(0, "survey_year", survey_year)
    return {
        "indicator_values": indicators["indicator_values"],
        "barrier_scores": indicators["barrier_scores"],
        "yoy_changes": growth["yoy_changes"],
        "trends": growth["trends"],
        "kommune_benchmarks": benchmarks,
        "year_summary": growth["year_summary"],
        "quarantine_summary": summary,
    }


def free_texts(valid: pd.DataFrame) -> tuple[str, ...]:
    """The respondents' own words: what the privacy audit must find in no artefact."""
    columns = [c for c in valid.columns if c == "kommentar" or c.endswith("__andet_tekst")]
    texts = set()
    for column in columns:
        texts.update(str(t) for t in valid[column].dropna().unique())
    return tuple(sorted(texts))
