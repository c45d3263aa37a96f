"""Forms decodes each distinct cell once (and a ranking from its first three entries): the same matrix, answered
rows, own texts and problems, in the same order, as decoding every row's entries (the reference below, the
decoder before)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benchmark_pipeline.ingest.layouts.forms import MSFORMS_XLSX
from benchmark_pipeline.ingest.values import Problems, rank_rules


def reference_entries(layout, q, s, column, instrument, problems):
    """Every row's `;`-joined entries decoded as they stand, each row its own cell (the decoder before distinct
    cells; the token decoding is the layout's own)."""
    values, has_answer, texts = layout._distinct_entries(q, s.reset_index(drop=True), column, instrument, problems)
    values = np.asfortranarray(values)
    if q.kind == "ranked":
        rank_rules(values, q, column, problems)
    if not q.has_andet:
        return values, has_answer, None
    return values, has_answer, pd.Series(texts or [None] * len(s), dtype="str")


@st.composite
def cells(draw, labels):
    entry = st.one_of(st.sampled_from(labels), st.sampled_from(["", " ", "Ukendt", "andet tekst", " \u00a0", "\x1c"]),
                      st.text(max_size=4))
    cell = st.one_of(st.none(), st.lists(entry, max_size=9).map(";".join))
    pool = draw(st.lists(cell, min_size=1, max_size=6))
    return draw(st.lists(st.sampled_from(pool), max_size=40))


@settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_distinct_cells_decode_as_every_row(data, instrument_2025):
    questions = [q for q in instrument_2025.questions if q.kind in ("multi", "ranked")]
    q = data.draw(st.sampled_from(questions))
    values = data.draw(cells([o.label for o in q.options]))
    s = pd.Series(values, dtype="str", name="col")
    expected_problems, problems = Problems(), Problems()
    if s.isna().all():  # the row-by-row decoder failed on a column without answers (pandas' .str on floats)
        got = MSFORMS_XLSX._entries(q, s, "col", instrument_2025, problems)
        assert not got.answered.any() and not problems.parts and (got.values <= 0).all()
        return
    values_, answered, texts = reference_entries(MSFORMS_XLSX, q, s, "col", instrument_2025, expected_problems)
    got = MSFORMS_XLSX._entries(q, s, "col", instrument_2025, problems)
    assert np.array_equal(got.values, values_) and got.values.dtype == values_.dtype
    assert got.values.flags.f_contiguous
    assert np.array_equal(got.answered, answered)
    if texts is None:
        assert got.own_texts is None
    else:
        pd.testing.assert_series_equal(got.own_texts, texts, check_names=texts.name is not None)
    pd.testing.assert_frame_equal(problems.frame(), expected_problems.frame())
