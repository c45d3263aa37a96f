"""What analysts see in the Dagster UI: the metadata of a real in-process publish of the shipped 2023-2025
years, held against the published release tables (published values only)."""

from __future__ import annotations

import pandas as pd
import pytest
from dagster import AssetKey, AssetRecordsFilter, DagsterInstance

from benchmark_pipeline.defs.runner import run_year
from benchmark_pipeline.findings import HEADLINE_INDICATORS
from benchmark_pipeline.release import ReleaseStore
from benchmark_pipeline.settings import Settings

pytestmark = pytest.mark.integration

YEARS = (2023, 2024, 2025)


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    """Every shipped year published oldest first into a fresh output folder and instance: the store, and
    each (asset, year)'s materialisation metadata."""
    instance = DagsterInstance.ephemeral()
    settings = Settings.from_env(output_dir=tmp_path_factory.mktemp("out"))
    for year in YEARS:
        outcome = run_year(settings, year, instance)
        assert outcome.ok, outcome.messages
    store = ReleaseStore(settings.output_dir, settings.resolved_warehouse_url)

    def metadata(asset: str, year: int) -> dict:
        [record] = instance.fetch_materializations(
            AssetRecordsFilter(asset_key=AssetKey(asset), asset_partitions=[str(year)]), limit=1
        ).records
        return {key: value.value for key, value in record.asset_materialization.metadata.items()}

    return store, metadata


def markdown_rows(table: str) -> list[dict]:
    """A Markdown pipe table as dicts by header (to_markdown's layout: header, rule, rows)."""
    lines = [line.strip().strip("|") for line in table.strip().splitlines()]
    header = [cell.strip() for cell in lines[0].split("|")]
    return [dict(zip(header, (cell.strip() for cell in line.split("|")))) for line in lines[2:]]


@pytest.mark.parametrize("year", YEARS)
def test_the_headline_indicators_are_numbers_equal_to_the_published_national_shares(published, year):
    store, metadata = published
    meta = metadata("indicators", year)
    values = store.read_table("indicator_values", year=year)
    national = values[values["geography_level"].eq("national") & ~values["suppressed"]].set_index("indicator_id")
    for indicator in HEADLINE_INDICATORS:
        shown = meta[f"national/{indicator}"]
        assert isinstance(shown, float)
        assert shown == pytest.approx(national.loc[indicator, "share"] * 100, abs=0.05)
    assert meta["respondents"] == int(store.read_table("year_summary", year=year)["respondents"].iloc[0])
    kommuner = values[values["geography_level"].eq("kommune") & ~values["suppressed"]]
    assert meta["kommuner_published"] == kommuner["geography_code"].nunique() > 0


@pytest.mark.parametrize("year", YEARS)
def test_the_growth_table_is_never_empty_and_shows_every_significant_national_change(published, year):
    store, metadata = published
    meta = metadata("year_over_year_growth", year)
    table = meta["largest_changes"]
    assert "(no rows)" not in table and table.strip()
    yoy = store.read_table("yoy_changes", year=year)
    national = yoy[yoy["geography_level"].eq("national")]
    significant = national[national["significant"].fillna(False).astype(bool)]
    for comparison in ("previous_year", "first_year"):
        expected = int((significant["comparison"] == comparison).sum())
        assert meta[f"significant_national_changes/{comparison}"] == expected
    if year == YEARS[0]:
        assert table == "2023 er det første undersøgelsesår: der er intet tidligere år at sammenligne med."
        assert "Ingen tendenser endnu" in meta["significant_national_trends"]
        return
    rows = markdown_rows(table)
    assert 15 <= len(rows) <= max(15, len(national))
    label = {"previous_year": "sidste år", "first_year": "første år"}
    shown = {(r["indikator"].rsplit("(", 1)[1].rstrip(")"), r["sammenligning"].split(" (")[0])
             for r in rows if r["vurdering"] == "signifikant"}
    assert shown == {(i, label[c]) for i, c in zip(significant["indicator_id"], significant["comparison"])}
    assert {r["vurdering"] for r in rows} <= {"signifikant", "ikke signifikant"}


def test_2025_has_significant_changes_and_trends_to_show(published):
    """The shipped samples do change by 2025: the tables above are not vacuously equal."""
    _, metadata = published
    meta = metadata("year_over_year_growth", 2025)
    assert meta["significant_national_changes/previous_year"] > 0
    assert meta["significant_national_changes/first_year"] > 0
    trends = markdown_rows(meta["significant_national_trends"])
    assert "data_use_change.mere" in {r["indikator"].rsplit("(", 1)[1].rstrip(")") for r in trends}


@pytest.mark.parametrize("year", YEARS)
def test_the_release_row_counts_and_report_paths_are_the_releases(published, year):
    store, metadata = published
    meta = metadata("published_release", year)
    release = store.latest(year)
    assert release.tables, "the release lists its tables"
    for name, path in release.tables.items():
        assert meta[f"rows/{name}"] == len(pd.read_parquet(path)), name
    assert meta["national_report"] == str(release.reports_dir / "national.html")
    assert meta["kommune_index"] == str(release.reports_dir / "kommuner" / "index.html")
    assert (release.reports_dir / "kommuner" / "index.html").is_file()


def test_a_suppressed_value_never_reaches_the_metadata():
    """National is never suppressed at the shipped sizes; if it were, its headline key is left out."""
    from benchmark_pipeline.defs.metadata import headline_metadata

    values = pd.DataFrame({
        "geography_level": ["national", "national", "kommune", "kommune"],
        "geography_code": ["DK", "DK", "101", "147"],
        "indicator_id": list(HEADLINE_INDICATORS) + [HEADLINE_INDICATORS[0]] * 2,
        "share": [0.6, None, 0.5, None],
        "suppressed": [False, True, False, True],
    })
    meta = headline_metadata(values, respondents=10)
    assert meta[f"national/{HEADLINE_INDICATORS[0]}"].value == 60.0
    assert f"national/{HEADLINE_INDICATORS[1]}" not in meta
    assert meta["kommuner_published"].value == 1
