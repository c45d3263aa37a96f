"""What a year draws on from what is already published: its export's presence, the releases it compares
with (the previous year's and every earlier year's latest), earlier years for the reports' trends, and
earlier revisions of itself. Shared by the Dagster layer and the CLI."""

from __future__ import annotations

import pandas as pd

from benchmark_pipeline.errors import EXIT_CONTENT, PipelineError
from benchmark_pipeline.instrument import mapped_years, mapping_path
from benchmark_pipeline.release.manifest import export_key
from benchmark_pipeline.release.model import Release
from benchmark_pipeline.settings import Settings

# Tables earlier years contribute to a report's trends.
HISTORY_TABLES = ("indicator_values", "barrier_scores", "year_summary")
# Tables the exact disclosure audit reads (every value of a question at every geography is in them).
DISCLOSURE_TABLES = ("indicator_values", "barrier_scores")


def missing_inputs(settings: Settings, survey_year: int) -> str | None:
    """Why the year cannot run yet (no mapping, or no export file), or None when it has both.

    An export folder that holds something unusable (two export files, say) is not "missing": the run reads
    it and says what is wrong, so a bad drop fails loudly instead of being skipped quietly.
    """
    from benchmark_pipeline.ingest import export_candidates

    mapping = mapping_path(settings.data_dir, survey_year)
    if survey_year not in mapped_years(settings.data_dir):
        return (f"survey year {survey_year} has no mapping ({mapping}): add the mapping first, "
                f"then drop the export in {settings.raw_dir(survey_year)} (docs/operations.md, 'Adding a year')")
    raw_dir = settings.raw_dir(survey_year)
    try:
        if export_candidates(raw_dir):
            return None
    except OSError:
        return None  # the run says why the folder cannot be read
    return (f"survey year {survey_year} has no export yet: no .xlsx, .csv, .tsv or .txt file in {raw_dir} "
            "(README and hidden files are ignored)")


def has_export(settings: Settings, survey_year: int) -> bool:
    """Whether the year has a mapping and something in its export folder to read."""
    return missing_inputs(settings, survey_year) is None


def previous_release(store, settings: Settings, survey_year: int):
    """The release year t compares with: t-1's latest. A t-1 export without a release must be published first."""
    base_year = survey_year - 1
    release = store.latest(base_year)
    if release is None and has_export(settings, base_year):
        raise PipelineError(
            f"survey year {base_year} has an export in {settings.raw_dir(base_year)} but no published release, "
            f"so {survey_year} cannot be compared with it: publish {base_year} first "
            f"(benchmark-pipeline run --year {base_year}, or materialise partition {base_year} in the UI)",
            EXIT_CONTENT,
        )
    return release


def earlier_releases(store, survey_year: int) -> dict[int, Release]:
    """Each earlier survey year's latest release (a year whose releases are all withdrawn is left out), by year."""
    years = sorted({release.survey_year for release in store.releases() if release.survey_year < survey_year})
    latest = {year: store.latest(year) for year in years}
    return {year: release for year, release in latest.items() if release is not None}


def history_tables(store, survey_year: int) -> dict[int, dict[str, pd.DataFrame]]:
    """Earlier years' published tables (their latest releases), for trends in the reports."""
    return {
        year: {name: store.read_table(name, year=year, release=release.release_id) for name in HISTORY_TABLES}
        for year, release in earlier_releases(store, survey_year).items()
    }


def earlier_indicator_values(store, releases: dict[int, Release]) -> pd.DataFrame | None:
    """The published `indicator_values` of the given releases ({year: release}) in one frame; None without any.
    What a year's changes since the previous and the first year, and its trends, are computed from."""
    if not releases:
        return None
    return pd.concat(
        [store.read_table("indicator_values", year=year, release=release.release_id)
         for year, release in sorted(releases.items())],
        ignore_index=True,
    )


def withheld_in_earlier_revisions(store, survey_year: int) -> pd.DataFrame:
    """The cells (question_id, geography_level, geography_code) any published revision of the year withheld,
    withdrawn ones included (a reader may still hold them): a new revision withholds them too."""
    parts = []
    for release in store.releases(survey_year):
        values = store.read_table("indicator_values", year=survey_year, release=release.release_id)
        parts.append(values.loc[values["suppressed"].astype(bool), ["question_id", "geography_level", "geography_code"]])
    if not parts:
        return pd.DataFrame(columns=["question_id", "geography_level", "geography_code"])
    return pd.concat(parts, ignore_index=True).drop_duplicates(ignore_index=True)


def revisions_of_the_same_export(store, survey_year: int, inputs: list[dict]) -> list[dict[str, pd.DataFrame]]:
    """The tables the exact audit reads of every published revision of the year made from the same input
    files (`release.manifest.export_key`), withdrawn ones included."""
    key = export_key({"survey_year": survey_year, "inputs": inputs})
    return [
        {name: store.read_table(name, year=survey_year, release=release.release_id) for name in DISCLOSURE_TABLES}
        for release in store.releases(survey_year)
        if export_key(release.manifest) == key
    ]
