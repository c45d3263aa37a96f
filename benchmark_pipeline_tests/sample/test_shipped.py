"""The shipped sample years: 2023 headline numbers and figure orders, disclosure-exercising shape, validity,
drift between years, and that data/raw holds exactly what the generator writes."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook

from benchmark_pipeline.instrument import MAX_RANK, load_year
from benchmark_pipeline.sample import DEFAULT_SEED, SAMPLE_YEARS, build_sample_year, response_mask, write_sample_years
from benchmark_pipeline.sample.shipped import barrier_scores
from benchmark_pipeline_tests.sample.roundtrip import comparable, decode_forms, decode_surveyxact

YEARS = (2023, 2024, 2025)
CPR_LIKE = re.compile(r"\b\d{6}-?\d{4}\b")
EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")


@pytest.fixture(scope="module")
def samples(data_dir):
    out = {}
    for year in YEARS:
        instrument = load_year(data_dir, year)
        frame = build_sample_year(year, DEFAULT_SEED, data_dir)
        out[year] = (instrument, frame, response_mask(frame, instrument))
    return out


def _valid(samples, year):
    instrument, frame, responded = samples[year]
    return instrument, frame[responded].reset_index(drop=True)


def test_2023_headline_numbers(samples):
    _, valid = _valid(samples, 2023)
    assert len(valid) == 142
    assert valid["data_use_change"].notna().all() and valid["further_potential"].notna().all()
    mere = int((valid["data_use_change"] == "mere").sum())
    ja = int((valid["further_potential"] == "ja").sum())
    assert (mere, ja) == (85, 111)
    assert round(mere / 142 * 100) == 60 and round(ja / 142 * 100) == 78


def _multi_counts(valid, instrument, qid):
    return {o: int(valid[f"{qid}__{o}"].sum()) for o in instrument.question(qid).option_ids}


def _assert_2023_orders(valid, instrument):
    uc = _multi_counts(valid, instrument, "use_contexts")
    top_two = sorted(uc, key=uc.get, reverse=True)[:2]
    assert top_two == ["monitorering", "foranalyse"]
    assert max(uc["implementering"], uc["evaluering"]) < min(uc["monitorering"], uc["foranalyse"])
    assert max(uc["implementering"], uc["evaluering"]) < min(uc["ressourcer"], uc["politik"])
    al = _multi_counts(valid, instrument, "anchoring_levels")
    assert sorted(al, key=al.get, reverse=True)[:2] == ["medarbejdere", "teams"]
    assert al["topledelse"] < min(v for k, v in al.items() if k != "topledelse")
    scores = barrier_scores(valid, instrument.question("barriers").option_ids).sort_values(ascending=False)
    assert list(scores.index[:2]) == ["ledelse", "tid"]
    assert scores["ledelse"] > scores["tid"] > scores.iloc[2]
    bottom_half = set(scores.index[len(scores) // 2:])
    assert {"okonomi", "jura", "it", "datakvalitet"} <= bottom_half


def test_2023_figure_orders(samples):
    instrument, valid = _valid(samples, 2023)
    _assert_2023_orders(valid, instrument)


def test_barrier_score_by_hand(samples):
    instrument, valid = _valid(samples, 2023)
    ranked = valid[[f"barriers__{r}" for r in range(1, 4)]].astype(object)
    n = ranked.notna().any(axis=1).sum()
    points = sum((3 - r) * (ranked.iloc[:, r] == "ledelse").sum() for r in range(3))
    scores = barrier_scores(valid, instrument.question("barriers").option_ids)
    assert scores["ledelse"] == pytest.approx(points / (3 * n) * 100)


@pytest.mark.parametrize("seed", [1, 2, 99])
def test_2023_targets_hold_for_any_seed(seed, data_dir):
    instrument = load_year(data_dir, 2023)
    frame = build_sample_year(2023, seed, data_dir)
    valid = frame[response_mask(frame, instrument)]
    assert len(valid) == 142
    assert (valid["data_use_change"] == "mere").sum() == 85 and (valid["further_potential"] == "ja").sum() == 111
    _assert_2023_orders(valid, instrument)


@pytest.mark.parametrize("year", YEARS)
def test_disclosure_exercising_shape(samples, kommuner, year):
    _, valid = _valid(samples, year)
    per_kommune = valid["kommune"].value_counts()
    assert (per_kommune >= 5).sum() >= 8
    table = kommuner.table.set_index("kommune_kode")
    for level in ("region_kode", "kommunegruppe_kode"):
        small_members = per_kommune.groupby(table.loc[per_kommune.index, level].to_numpy()).apply(lambda s: (s < 5).sum())
        assert (small_members == 1).any(), f"no {level} with exactly one responding kommune below 5"


@pytest.mark.parametrize("year", YEARS)
def test_nonresponse_rows(samples, kommuner, year):
    instrument, frame, responded = samples[year]
    empty = frame[~responded]
    assert len(empty) == SAMPLE_YEARS[year].nonresponses > 0
    assert empty["kommune"].isin(kommuner.codes).all()  # pre-filled
    for q in instrument.substantive_questions:
        for col in q.canonical_columns():
            values = empty[col].astype(object)
            assert (values.isna() | (values == 0)).all(), col
    assert empty["kommentar"].isna().all()


@pytest.mark.parametrize("year", YEARS)
def test_nothing_would_be_quarantined(samples, kommuner, year):
    instrument, frame, _ = samples[year]
    assert frame["respondent_id"].notna().all() and frame["respondent_id"].is_unique
    assert frame["kommune"].isin(kommuner.codes).all()
    for q in instrument.of_kind("single"):
        assert set(frame[q.id].dropna().astype(str)) <= set(q.option_ids)
    ranks = frame[[f"barriers__{r}" for r in range(1, MAX_RANK + 1)]].astype(object)
    ranks = ranks.where(ranks.notna(), None).to_numpy()
    for row in ranks:
        present = [v for v in row if v is not None]
        assert len(set(present)) == len(present)
        assert list(row[: len(present)]) == present  # no rank 2/3 without the ranks before it


def test_some_warnings_but_only_warnings(samples):
    partial = 0
    for year in (2023, 2024):
        _, valid = _valid(samples, year)
        partial += int((valid["barriers__1"].notna() & valid["barriers__3"].isna()).sum())
    assert partial > 0


@pytest.mark.parametrize("year", YEARS)
def test_free_text_exercises_masking(samples, year):
    _, frame, _ = samples[year]
    comments = frame["kommentar"].dropna()
    assert len(comments) >= 3
    pii = comments[comments.str.contains(CPR_LIKE) & comments.str.contains(EMAIL)]
    assert len(pii) == 1
    assert all(m.endswith(("example.com", "example.org")) for m in EMAIL.findall(pii.iloc[0]))


def test_years_differ_and_drift(samples):
    shares = {}
    for year in YEARS:
        instrument, valid = _valid(samples, year)
        answered = valid["data_use_change"].notna()
        shares[year] = (valid["data_use_change"] == "mere").sum() / answered.sum()
        if year > 2023:
            assert valid["ai_use"].notna().mean() > 0.9
            assert (valid[["barriers__1", "barriers__2", "barriers__3"]].astype(object) == "ny_teknologi").any().any()
    assert shares[2023] < shares[2024] < shares[2025]
    for before, after in ((2023, 2024), (2024, 2025)):
        a, b = samples[before][1], samples[after][1]
        assert len(a) != len(b) or not a["kommune"].equals(b["kommune"])


def test_2025_has_own_andet_text(samples):
    _, frame, _ = samples[2025]
    own = [c for c in frame.columns if c.endswith("__andet_tekst")]
    assert own and frame[own].notna().any().any()


# -------------------------------------------------------------------------------------------- files on disk


def _shipped_files(data_dir: Path) -> dict[str, bytes]:
    raw = data_dir / "raw"
    return {str(p.relative_to(raw)): p.read_bytes() for y in YEARS for p in sorted((raw / str(y)).iterdir())}


def _data_copy(data_dir: Path, tmp_path: Path) -> Path:
    target = tmp_path / "data"
    shutil.copytree(data_dir / "instrument", target / "instrument")
    shutil.copytree(data_dir / "reference", target / "reference")
    return target


def test_data_raw_is_what_the_generator_writes(data_dir, tmp_path):
    copy = _data_copy(data_dir, tmp_path)
    write_sample_years(copy, DEFAULT_SEED)
    regenerated = _shipped_files(copy)
    shipped = {k: v for k, v in _shipped_files(data_dir).items() if k in regenerated}
    assert set(regenerated) <= set(_shipped_files(data_dir)), "run `benchmark-pipeline generate-sample`"
    assert shipped == regenerated, "data/raw is stale: run `benchmark-pipeline generate-sample`"


def test_regeneration_is_deterministic_per_seed(data_dir, tmp_path):
    a, b, c = (_data_copy(data_dir, tmp_path / n) for n in "abc")
    write_sample_years(a, 5)
    write_sample_years(b, 5)
    write_sample_years(c, 6)
    assert _shipped_files(a) == _shipped_files(b)
    files_a, files_c = _shipped_files(a), _shipped_files(c)
    for name in files_a:
        if not name.endswith("README.md") and not name.endswith("labels.csv"):
            assert files_a[name] != files_c[name], name


def test_file_names_and_readmes_say_synthetic(data_dir):
    for year in YEARS:
        folder = data_dir / "raw" / str(year)
        readme = (folder / "README.md").read_text(encoding="utf-8")
        assert "syntetisk" in readme.lower() and "synthetic" in readme.lower()
        for path in folder.iterdir():
            if path.name not in ("README.md", "dataset.csv", "labels.csv"):
                assert "syntetisk" in path.name
    assert sorted(p.name for p in (data_dir / "raw" / "2024").iterdir()) == ["README.md", "dataset.csv", "labels.csv"]


def test_shipped_2023_file_round_trips(data_dir, samples):
    instrument, frame, _ = samples[2023]
    wb = load_workbook(data_dir / "raw" / "2023" / SAMPLE_YEARS[2023].filename, read_only=True)
    rows = list(wb["Dataset"].values)
    data = pd.DataFrame(rows[1:], columns=list(rows[0]), dtype=object)
    answered = data["statstatus"] == 1
    assert answered.sum() == 142 and (~answered).sum() == SAMPLE_YEARS[2023].nonresponses
    assert (data.loc[answered, "s_4"] == 1).sum() == 85 and (data.loc[answered, "s_5"] == 1).sum() == 111
    pd.testing.assert_frame_equal(comparable(decode_surveyxact(data, instrument), instrument),
                                  comparable(frame, instrument))


def test_shipped_2024_is_windows_1252_with_semicolons(data_dir, samples):
    instrument, frame, _ = samples[2024]
    folder = data_dir / "raw" / "2024"
    raw = (folder / "labels.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    assert "Teknik, miljø og plan".encode("cp1252") in raw
    dataset = pd.read_csv(folder / "dataset.csv", sep=";", encoding="cp1252")
    pd.testing.assert_frame_equal(comparable(decode_surveyxact(dataset, instrument), instrument),
                                  comparable(frame, instrument))


def test_shipped_2025_is_microsoft_forms(data_dir, samples, kommuner):
    instrument, frame, _ = samples[2025]
    sheet = pd.read_excel(data_dir / "raw" / "2025" / SAMPLE_YEARS[2025].filename, dtype=object)
    assert list(sheet.columns[:5]) == ["ID", "Starttidspunkt", "Fuldførelsestidspunkt", "Mail", "Navn"]
    names = dict(zip(kommuner.table["kommune_navn"], kommuner.table["kommune_kode"]))
    names.update(dict(zip(kommuner.table["officielt_navn"], kommuner.table["kommune_kode"])))
    sheet = sheet.astype(object).where(sheet.notna(), None)
    decoded = decode_forms(sheet, instrument, names)
    pd.testing.assert_frame_equal(comparable(decoded, instrument), comparable(frame, instrument))
    assert np.isin(sheet["Hvilken kommune arbejder du i?"], list(kommuner.table["officielt_navn"])).any()
