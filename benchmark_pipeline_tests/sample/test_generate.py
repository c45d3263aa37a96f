"""The seeded answer generator: determinism, canonical shape, validity, scale."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest

from benchmark_pipeline.instrument import MAX_RANK
from benchmark_pipeline.sample import generate_answers


@pytest.mark.parametrize("year", [2023, 2024, 2025])
def test_columns_and_dtypes_are_the_canonical_frame(year, data_dir):
    from benchmark_pipeline.instrument import load_year

    instrument = load_year(data_dir, year)
    answers = generate_answers(instrument, 500, seed=1)
    assert list(answers.columns) == instrument.canonical_columns()
    assert answers["respondent_id"].dtype == "str" and answers["kommune"].dtype == "str"
    for q in instrument.questions:
        if q.kind == "single":
            assert isinstance(answers[q.id].dtype, pd.CategoricalDtype)
            assert list(answers[q.id].cat.categories) == list(q.option_ids)
        if q.kind == "multi":
            assert all(answers[c].dtype == np.int8 for c in q.canonical_columns())
        if q.kind == "ranked":
            assert all(list(answers[c].cat.categories) == list(q.option_ids) for c in q.canonical_columns())
    assert ("ai_use" in answers) == (year >= 2024)


def test_same_seed_same_frame_different_seed_different(instrument_2024):
    a = generate_answers(instrument_2024, 2000, seed=7)
    b = generate_answers(instrument_2024, 2000, seed=7)
    c = generate_answers(instrument_2024, 2000, seed=8)
    pd.testing.assert_frame_equal(a, b)
    assert not a.drop(columns="respondent_id").equals(c.drop(columns="respondent_id"))


def test_every_row_is_valid_and_answers_something(instrument_2024, kommuner):
    answers = generate_answers(instrument_2024, 5000, seed=3)
    assert answers["respondent_id"].is_unique
    assert set(answers["kommune"]) <= set(kommuner.codes)
    ranks = answers[[f"barriers__{r}" for r in range(1, MAX_RANK + 1)]].astype(object).to_numpy()
    for row in ranks[:2000]:
        present = [v for v in row if v is not None and v == v]
        assert len(present) == len(set(present))  # no option ranked twice
        # no rank 2/3 without rank 1, no gaps
        assert all(v is not None and v == v for v in row[: len(present)])
    for q in instrument_2024.of_kind("multi"):
        m = answers[list(q.canonical_columns())].to_numpy()
        assert set(np.unique(m)) <= {0, 1}
    # item non-response and partial rankings exist (warnings), but every respondent answers something
    assert answers["barriers__3"].isna().any() and answers["barriers__1"].notna().mean() > 0.9
    assert answers["data_use_change"].notna().all() or answers["data_use_change"].notna().mean() > 0.95


def test_ingen_is_mostly_exclusive(instrument_2023):
    answers = generate_answers(instrument_2023, 20000, seed=5)
    levels = [c for c in instrument_2023.question("anchoring_levels").canonical_columns() if not c.endswith("ingen")]
    ingen = answers["anchoring_levels__ingen"] == 1
    assert ingen.sum() > 0
    mixed = (answers.loc[ingen, levels].sum(axis=1) > 0).mean()
    assert 0 < mixed < 0.25


def test_andet_text_columns_only_on_request(instrument_2025):
    plain = generate_answers(instrument_2025, 2000, seed=1)
    assert not [c for c in plain.columns if c.endswith("__andet_tekst")]
    rich = generate_answers(instrument_2025, 2000, seed=1, andet_text=True)
    own = rich["fagomraade__andet_tekst"].notna()
    assert own.any() and (rich.loc[own, "fagomraade"] == "andet").all()
    assert not (rich.loc[own, "fagomraade__andet_tekst"].str.contains(";")).any()


def test_comments_include_masking_targets(instrument_2024):
    answers = generate_answers(instrument_2024, 20000, seed=2)
    comments = answers["kommentar"].dropna()
    assert 0.03 < len(comments) / len(answers) < 0.1
    assert comments.str.contains(r"\d{6}-?\d{4}").any() and comments.str.contains("@").any()


def test_a_million_respondents_quickly(instrument_2024):
    start = time.perf_counter()
    answers = generate_answers(instrument_2024, 1_000_000, seed=0)
    elapsed = time.perf_counter() - start
    assert len(answers) == 1_000_000
    assert elapsed < 30, f"generation took {elapsed:.1f}s"
    assert answers.memory_usage(deep=True).sum() < 200e6
