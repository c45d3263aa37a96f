"""The shipped sample years: 2023 headline numbers and figure orders, disclosure-exercising shape, validity,
the large kommuner published every year, the national story (significant where it should be), and that
data/raw holds exactly what the generator writes."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import test_proportions_2indep as score_test

from benchmark_pipeline.instrument import MAX_RANK, load_year
from benchmark_pipeline.sample import (
    DEFAULT_SEED,
    SAMPLE_YEARS,
    build_sample_year,
    profile_for,
    response_mask,
    write_sample_years,
)
from benchmark_pipeline.sample.profiles import LARGE_KOMMUNER
from benchmark_pipeline.sample.shipped import MIN_BIG, barrier_scores, design_kommune_counts, expected_ranked_shares
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


def _cell(kommuner):
    table = kommuner.table.set_index("kommune_kode")
    return table["region_kode"].astype(str) + "/" + table["kommunegruppe_kode"].astype(str)


@pytest.mark.parametrize("seed", [0, 1, 2023])
@pytest.mark.parametrize("n_valid", [142, 214, 263, 400])
def test_designed_kommune_counts(kommuner, seed, n_valid):
    fixed = LARGE_KOMMUNER
    counts, design = design_kommune_counts(np.random.default_rng(seed), kommuner, n_valid, fixed)
    per = pd.Series(counts, index=list(kommuner.codes))
    assert per.sum() == n_valid
    others = per.drop(list(fixed))
    for code, (lo, _) in fixed.items():
        assert per[code] >= lo and per[code] > others.max()
    cell = _cell(kommuner)
    table = kommuner.table.set_index("kommune_kode")
    responding = per[per > 0]
    small = responding[responding < MIN_BIG]
    for level, key in (("region_kode", "region"), ("kommunegruppe_kode", "kommunegruppe")):
        members = responding[table.loc[responding.index, level].astype(str).to_numpy() == str(design[key])]
        assert (members < MIN_BIG).sum() == 1, (level, members.to_dict())
    # every small kommune has published neighbours in its own cell, which protect it first
    for code in small.index:
        neighbours = responding[(cell[responding.index] == cell[code]).to_numpy()].drop(code)
        assert (neighbours >= MIN_BIG).sum() >= 2, code
    assert set(table.loc[responding.index, "region_kode"].astype(str)) == set(table["region_kode"].astype(str))


def test_designed_kommune_counts_refuses_bad_ranges(kommuner):
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="not in the reference"):
        design_kommune_counts(rng, kommuner, 200, {"999": (10, 12)})
    with pytest.raises(ValueError, match="at least"):
        design_kommune_counts(rng, kommuner, 200, {"101": (3, 12)})
    with pytest.raises(ValueError, match="too few"):
        design_kommune_counts(rng, kommuner, 40, LARGE_KOMMUNER)


@pytest.mark.parametrize("year", YEARS)
def test_large_kommuner_answer_every_year(samples, year):
    _, valid = _valid(samples, year)
    per_kommune = valid["kommune"].value_counts()
    large = profile_for(year).kommune_respondents
    assert set(large) == set(LARGE_KOMMUNER) >= {"101", "751", "461", "851"} and len(large) >= 5
    for code, (lo, _) in large.items():
        assert per_kommune[code] >= max(lo, 8)
        assert per_kommune[code] > per_kommune.drop(list(large)).max()


@pytest.mark.parametrize("year", YEARS)
def test_large_kommuner_are_published_every_year(samples, kommuner, year):
    """At kommune level every question of the large kommuner is published (not suppressed) by the project's
    own disclosure control, so their pages show a trend across all years."""
    from benchmark_pipeline.stats import compute_indicators

    instrument, valid = _valid(samples, year)
    values = compute_indicators(valid, instrument, kommuner, MIN_BIG)["indicator_values"]
    at_kommune = values[(values["geography_level"] == "kommune") & values["geography_code"].isin(list(LARGE_KOMMUNER))]
    hidden = at_kommune[at_kommune["suppressed"].astype(bool)]
    assert hidden.empty, sorted(set(zip(hidden["geography_code"], hidden["question_id"])))
    assert len(at_kommune) == len(LARGE_KOMMUNER) * values["indicator_id"].nunique()


@pytest.mark.parametrize("year", YEARS)
def test_marginals_are_the_profiles(samples, year):
    """Single-choice and multi-select shares are the profile's (exact up to rounding), 2023's headline counts
    aside; the ranking is drawn, within a few standard errors of the profile's expected shares."""
    instrument, valid = _valid(samples, year)
    profile = profile_for(year)
    for q in instrument.of_kind("single"):
        if year == 2023 and q.id in SAMPLE_YEARS[2023].fixed_counts:
            continue
        answered = valid[q.id].dropna()
        weights = profile.single[q.id]
        total = sum(weights.values())
        for o in q.option_ids:
            assert abs((answered == o).sum() - weights[o] / total * len(answered)) < 1, (q.id, o)
    for q in instrument.of_kind("multi"):
        excl = profile.exclusive.get(q.id, (None, 0))[0]
        block = valid[[f"{q.id}__{o}" for o in q.option_ids]]
        rows = block.sum(axis=1) > 0
        if excl:
            rows &= block[f"{q.id}__{excl}"] == 0
        for o in q.option_ids:
            if o != excl:
                expected = profile.multi[q.id][o] * rows.sum()
                assert abs(block.loc[rows, f"{q.id}__{o}"].sum() - expected) <= 0.5, (q.id, o)
    q = instrument.question("barriers")
    ranks = valid[[f"barriers__{r}" for r in range(1, MAX_RANK + 1)]].astype(object)
    n = ranks.notna().any(axis=1).sum()
    _, top = expected_ranked_shares(q, profile)
    drawn = np.array([(ranks == o).any(axis=1).sum() for o in q.option_ids]) / n
    assert (np.abs(drawn - top) <= 2 * np.sqrt(top * (1 - top) / n) + 1 / n).all()


def test_a_kommune_tells_its_own_story(samples):
    """2025: København's own share of an option is the profile's (`kommune_multi`), while the national count
    stays the profile's (test_marginals_are_the_profiles); in 2023 it was far lower, so its page has a rise
    to tell (test_findings.py checks that the release calls it significant)."""
    planted = profile_for(2025).kommune_multi
    assert planted, "the 2025 profile plants no kommune story"
    for year in (2023, 2025):
        instrument, valid = _valid(samples, year)
        for code, questions in planted.items():
            for qid, options in questions.items():
                excl = profile_for(year).exclusive.get(qid, (None, 0))[0]
                block = valid[[f"{qid}__{o}" for o in instrument.question(qid).option_ids]]
                rows = (valid["kommune"] == code) & (block.sum(axis=1) > 0)
                if excl:
                    rows &= block[f"{qid}__{excl}"] == 0
                for option, share in options.items():
                    ticked = int(block.loc[rows, f"{qid}__{option}"].sum())
                    if year == 2025:
                        assert ticked == int(np.floor(share * rows.sum() + 0.5)), (code, qid, option)
                    else:  # 2023 is as drawn: far below, so the rise is the kommune's story
                        assert ticked / rows.sum() < min(options.values()) - 0.4, (code, qid, option, ticked)


def test_expected_ranked_shares_add_up(instrument_2024):
    profile = profile_for(2024)
    first, top = expected_ranked_shares(instrument_2024.question("barriers"), profile)
    assert first.sum() == pytest.approx(1)
    counts = np.asarray(profile.ranked_counts[1:]) / sum(profile.ranked_counts[1:])
    assert top.sum() == pytest.approx((counts * [1, 2, 3]).sum())
    assert np.argmax(first) == instrument_2024.question("barriers").option_ids.index("ledelse")


def _national_counts(instrument, valid) -> dict:
    """{(family, indicator): (count, n)} at national level, as SURVEY.md section 4 defines the shares."""
    out = {}
    for q in instrument.questions:
        if q.kind == "single":
            n = int(valid[q.id].notna().sum())
            for o in q.option_ids:
                out[(q.id, f"{q.id}.{o}")] = (int((valid[q.id] == o).sum()), n)
        elif q.kind == "multi":
            m = valid[[f"{q.id}__{o}" for o in q.option_ids]].to_numpy()
            n = int((m.sum(axis=1) > 0).sum())
            for j, o in enumerate(q.option_ids):
                out[(q.id, f"{q.id}.{o}")] = (int(m[:, j].sum()), n)
        elif q.kind == "ranked":
            ranks = valid[[f"{q.id}__{r}" for r in range(1, MAX_RANK + 1)]].astype(object)
            n = int(ranks.notna().any(axis=1).sum())
            for o in q.option_ids:
                out[(f"{q.id}.top3", f"{q.id}.{o}.top3")] = (int((ranks == o).any(axis=1).sum()), n)
                out[(f"{q.id}.first", f"{q.id}.{o}.first")] = (int((ranks.iloc[:, 0] == o).sum()), n)
    return out


def _significant(samples, year, base) -> tuple[set[str], int]:
    """National changes of `year` against `base` with BH q < 0.05 per question family (score test)."""
    current = _national_counts(*_valid(samples, year))
    before = _national_counts(*_valid(samples, base))
    families: dict[str, list] = {}
    for key, (c1, n1) in current.items():
        if key in before:
            c0, n0 = before[key]
            same = (c1 == 0 and c0 == 0) or (c1 == n1 and c0 == n0)
            with np.errstate(divide="ignore", invalid="ignore"):  # its ratio statistics, unused, at a share of 0
                p = 1.0 if same else score_test(c1, n1, c0, n0, method="score").pvalue
            families.setdefault(key[0], []).append((key[1], p))
    significant, tests = set(), 0
    for rows in families.values():
        q = multipletests([p for _, p in rows], method="fdr_bh")[1]
        significant |= {ind for (ind, _), qq in zip(rows, q) if qq < 0.05}
        tests += len(rows)
    return significant, tests


def test_the_national_story_is_significant_where_it_should_be(samples):
    """Kommuner slowly use data more: 2025 against 2023, `mere` and use in implementation and evaluation
    are clearly up; 2025 against 2024, AI use has moved; most changes are not significant."""
    since_2023, tests = _significant(samples, 2025, 2023)
    assert {"data_use_change.mere", "use_contexts.implementering", "use_contexts.evaluering"} <= since_2023
    assert len(since_2023) <= tests // 8
    since_2024, tests = _significant(samples, 2025, 2024)
    assert {"ai_use.drift", "ai_use.nej"} <= since_2024
    assert not since_2024 & {"data_use_change.mere", "further_potential.ja"}
    assert len(since_2024) <= tests // 8
    year_before, tests = _significant(samples, 2024, 2023)
    assert len(year_before) <= 2


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
