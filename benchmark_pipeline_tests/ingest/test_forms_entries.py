"""Forms decodes each distinct cell once (and a ranking from its first three entries): the same matrix, answered
rows, own texts and problems, in the same order, as decoding every row's entries (the reference below, the
decoder before)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benchmark_pipeline.instrument import MAX_RANK
from benchmark_pipeline.ingest.layouts.forms import MSFORMS_XLSX
from benchmark_pipeline.ingest.values import (
    INVALID_CODE,
    NA_CODE,
    Problems,
    invalid_messages,
    na_str,
    option_codes,
    option_lookup,
    rank_rules,
)


def reference_entries(layout, q, s, column, instrument, problems):
    """Every row's `;`-joined entries decoded, row by row of tokens."""
    n = len(s)
    tokens = s.reset_index(drop=True).str.split(";").explode()
    tokens = tokens.str.strip()
    tokens = tokens[tokens.notna() & (tokens != "")]
    has_answer = np.zeros(n, dtype=bool)
    has_answer[tokens.index.to_numpy(dtype=np.int64)] = True
    if q.kind == "ranked":
        order = tokens.groupby(level=0).cumcount().to_numpy()
        tokens = tokens[order < MAX_RANK]
        order = order[order < MAX_RANK]
    idx = option_codes(tokens, option_lookup(q, layout, instrument))
    rows = tokens.index.to_numpy(dtype=np.int64)
    unknown = idx == INVALID_CODE
    texts = na_str(n)
    if unknown.any():
        if q.has_andet:
            idx[unknown] = q.option_ids.index("andet")
            texts = tokens[unknown].groupby(level=0).agg("; ".join).reindex(range(n)).astype("str")
        else:
            problems.add(rows[unknown], column, "invalid_value", invalid_messages(tokens, np.flatnonzero(unknown), q,
                                                                                   layout))
    ok = idx >= 0
    if q.kind == "multi":
        values = np.zeros((n, len(q.options)), dtype=np.int8, order="F")
        values[rows[ok], idx[ok]] = 1
    else:
        values = np.full((n, MAX_RANK), NA_CODE, dtype=np.int16, order="F")
        values[rows[ok], order[ok]] = idx[ok]
        rank_rules(values, q, column, problems)
    return values, has_answer, texts if q.has_andet else None


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
