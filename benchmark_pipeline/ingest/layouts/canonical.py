"""The project's canonical CSV: the canonical frame written down, keyed by the stable ids, so it fits every year.

Columns are `YearInstrument.canonical_columns()` (plus `<q>__andet_tekst` where given); values may be
option ids, labels or codes; multi-selects 1/0; the ranking as `<q>__1..3` holding option ids.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from benchmark_pipeline.instrument import MAX_RANK, Question

from ..schema import andet_column
from ..textfile import write_csv
from ..values import INVALID_CODE, NA_CODE, Decoded, invalid_messages, option_codes, option_lookup, rank_rules
from .base import TextLayout


class CanonicalCSV(TextLayout):
    name = "canonical_csv"
    sample_seed = 3
    family = "canonical"
    hint = "a 'respondent_id' column (canonical CSV)"
    title = ("projektets kanoniske CSV", "the project's canonical CSV")
    fits_every_year = True
    writes_kommune = False

    def id_column(self, instrument):
        return "respondent_id"

    def column_of(self, q):
        return q.id

    def answer_columns(self, q: Question):
        if q.kind == "multi":
            whats = [f"{q.id}.{o.id}" for o in q.options]
        else:
            whats = [f"{q.id} rank {r}" for r in range(1, MAX_RANK + 1)]
        return list(zip(q.canonical_columns(), whats))

    def own_text_column(self, q):
        return andet_column(q.id)

    def detect(self, source, instrument):
        return "respondent_id" in source.header and "kommune" in source.header

    def decode_ranked(self, q, frame, spec, instrument, problems):
        """One column per rank holding an option (id, label or code)."""
        lookup = option_lookup(q, self, instrument)
        n = len(frame)
        ranks = np.full((n, MAX_RANK), NA_CODE, dtype=np.int16, order="F")
        answered = np.zeros(n, dtype=bool)
        for r, col in enumerate(spec):
            s = frame[col]
            idx = option_codes(s, lookup)
            bad = np.flatnonzero(idx == INVALID_CODE)
            if len(bad):
                problems.add(bad, col, "invalid_value", invalid_messages(s, bad, q, self))
            ranks[:, r] = idx
            answered |= idx != NA_CODE
        rank_rules(ranks, q, spec[0], problems)
        return Decoded(ranks, answered)

    def tables(self, answers, instrument, kommuner, rng):
        cols = {}
        for c in instrument.canonical_columns():
            if c in answers.columns:
                cols[c] = answers[c]
            elif "__" in c and not c.split("__")[1].isdigit():
                cols[c] = pd.Series(np.zeros(len(answers), dtype=np.int8), index=answers.index)
            else:
                cols[c] = pd.Series([None] * len(answers), index=answers.index, dtype=object)
        return {"canonical": pd.DataFrame(cols)}

    def write_text(self, tables, path, encoding, separator, newline):
        path.parent.mkdir(parents=True, exist_ok=True)
        write_csv(tables["canonical"], path, encoding, separator, newline)
        return [path]


CANONICAL_CSV = CanonicalCSV()
