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
