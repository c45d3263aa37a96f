"""The release candidate's parts that stand alone: the export's identity and the free texts."""

from __future__ import annotations

import pandas as pd

from benchmark_pipeline.candidate import ExportIdentity, free_texts
from benchmark_pipeline.release.fingerprint import release_fingerprint


def test_free_texts_collects_comments_and_andet_texts_only():
    valid = pd.DataFrame(
        {
            "respondent_id": ["1", "2", "3"],
            "kommune": ["101", "147", "151"],
            "kommentar": ["Vi mangler tid til analyser", None, "Vi mangler tid til analyser"],
            "use_contexts__andet_tekst": [None, "Borgerrettede kampagner", None],
        }
    )
    assert free_texts(valid) == ("Borgerrettede kampagner", "Vi mangler tid til analyser")


def test_export_files_are_ordered_by_name_and_hashed_by_content(tmp_path):
    (tmp_path / "labels.csv").write_text("kode;tekst\n", encoding="utf-8")
    (tmp_path / "dataset.csv").write_text("id;s_1\n1;101\n", encoding="utf-8")
    identity = ExportIdentity.of([tmp_path / "labels.csv", tmp_path / "dataset.csv"])
    assert [p.name for p in identity.files] == ["dataset.csv", "labels.csv"]

    (tmp_path / "renamed").mkdir()
    (tmp_path / "dataset.csv").rename(tmp_path / "renamed" / "data.csv")
    renamed = ExportIdentity.of([tmp_path / "labels.csv", tmp_path / "renamed" / "data.csv"])
    assert renamed.sha256 == identity.sha256  # a name changes no published number

    (tmp_path / "labels.csv").write_text("kode;tekst\n1;Ja\n", encoding="utf-8")
    assert ExportIdentity.of(renamed.files).sha256 != identity.sha256


def test_the_fingerprint_reads_the_same_content_hashes(tmp_path):
    export = tmp_path / "export.csv"
    export.write_text("id;s_1\n1;101\n", encoding="utf-8")
    identity = ExportIdentity.of([export])
    common = (2024, "mapping", "reference", {"indicators": "3"}, {"min_respondents": 5}, [])
    assert release_fingerprint(common[0], identity.by_name, *common[1:]) == release_fingerprint(common[0], [export], *common[1:])


def test_the_fingerprint_covers_every_earlier_release_the_figures_rest_on():
    from benchmark_pipeline.candidate import compared_release_ids

    growth = {"compared_release_ids": ["2024-r2-bbbbbbbbbbbb", "2023-r1-aaaaaaaaaaaa"]}
    assert compared_release_ids(growth, "2024-r2-bbbbbbbbbbbb") == ["2023-r1-aaaaaaaaaaaa", "2024-r2-bbbbbbbbbbbb"]
    assert compared_release_ids({}, "2024-r2-bbbbbbbbbbbb") == ["2024-r2-bbbbbbbbbbbb"]
    assert compared_release_ids({"compared_release_ids": []}, None) == []
    common = (2025, {"export.csv": "e" * 64}, "mapping", "reference", {"indicators": "3"}, {"min_respondents": 5})
    # a new release of the first year alone changes the year's fingerprint
    newer = {"compared_release_ids": ["2024-r2-bbbbbbbbbbbb", "2023-r2-cccccccccccc"]}
    assert (release_fingerprint(*common, compared_release_ids(growth, None))
            != release_fingerprint(*common, compared_release_ids(newer, None)))


def test_a_release_publishes_the_trends_of_the_growth_step():
    from types import SimpleNamespace

    from benchmark_pipeline.candidate import publishable_tables
    from benchmark_pipeline.release import TABLE_NAMES

    validation = SimpleNamespace(quarantine_summary=lambda: pd.DataFrame({"rule": [], "column": [], "rows": []}))
    frames = {name: pd.DataFrame({"survey_year": [2025]}) for name in TABLE_NAMES}
    tables = publishable_tables(2025, frames, frames, frames["kommune_benchmarks"], validation)
    assert set(tables) == set(TABLE_NAMES) and tables["trends"] is frames["trends"]
