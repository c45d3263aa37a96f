"""Microsoft Forms exports: one sheet, one column per question headed by its Danish text, answers as labels.

The export is read from the first visible sheet, the one Excel opens on: a hidden helper sheet placed
before it is not the export.

Multi-select and ranking cells hold `;`-joined labels (only the first three ranks count), and Forms writes a
respondent's own "Andet" text into the choice cell itself, so an unknown entry of a question that has an
`andet` option is `andet` with that text as free text. `Mail` and `Navn` are personal data.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from benchmark_pipeline.instrument import MAX_RANK

from ..raw import RawExport, header_key
from ..schema import andet_column
from ..values import (
    INVALID_CODE,
    NA_CODE,
    Decoded,
    Problems,
    invalid_messages,
    na_str,
    option_codes,
    option_lookup,
    rank_rules,
    take_str,
    value_key,
)
from .base import WorkbookLayout
from .writing import as_object, map_through, multi_matrix, numeric_or_text, rank_columns, timestamps

FIXED_COLUMNS = ("ID", "Starttidspunkt", "Fuldførelsestidspunkt", "Mail", "Navn")
MARKERS = {header_key(c) for c in FIXED_COLUMNS[1:3]} | {"start time", "completion time"}
SHEET = "Sheet1"


def join_labels(parts: list[np.ndarray], counts: np.ndarray | None = None) -> np.ndarray:
    """Join per-row label columns with `;`; None/"" parts are skipped; `counts` limits to the first k."""
    n = len(parts[0]) if parts else 0
    acc = np.full(n, "", dtype=object)
    for j, part in enumerate(parts):
        use = np.array([p is not None and p != "" for p in part], dtype=bool) if part.dtype == object else part != ""
        if counts is not None:
            use &= j < counts
        acc = np.where(use & (acc != ""), acc + ";" + part.astype(object), np.where(use, part, acc))
    return acc


# A cell up to its MAX_RANK-th entry with text (blank entries before it kept as they are, so the cell splits
# and strips as before): a ranking is decoded from no more. `\s` is what `str.strip` takes away.
_TEXT_ENTRY = r"[^;]*[^;\s][^;]*"
FIRST_ENTRIES = re.compile(rf"(?:\s*;)*{_TEXT_ENTRY}(?:;(?:\s*;)*{_TEXT_ENTRY}){{{MAX_RANK - 1}}}")


def _first_entries(cells: list[str]) -> list[str]:
    return [m.group(0) if (m := FIRST_ENTRIES.match(cell)) else cell for cell in cells]


class MicrosoftForms(WorkbookLayout):
    name = "msforms_xlsx"
    sample_seed = 2
    family = "msforms"
    hint = "Microsoft Forms columns (ID, Starttidspunkt, ...)"
    title = ("Microsoft Forms, Excel", "Microsoft Forms, Excel")
    own_text_in_choice = True
    serial_ids = True
    value_names = "label"

    def column_of(self, q):
        return q.column or q.text

    def option_keys(self, o):
        return [value_key(o.label)]

    def planned(self, q, columns):
        return columns.get(self.column_of(q), q.id, required=q.kind != "text")

    def detect(self, source, instrument):
        header = source.header(source.first_visible_sheet())
        if "id" in header and header & MARKERS:
            return True
        if instrument is not None and instrument.layout == self.name:
            columns = {header_key(self.column_of(q)) for q in instrument.questions}
            return header_key(instrument.respondent_id) in header and len(columns & header) >= len(columns) / 2
        return False

    def read(self, source, instrument):
        ws = source.first_visible_sheet()
        return RawExport(source.path, [source.path], self.name, None, None, source.frame(ws), None, None, ws.title)

    def decode_multi(self, q, frame, spec, instrument, problems):
        return self._entries(q, frame[spec], spec, instrument, problems)

    def decode_ranked(self, q, frame, spec, instrument, problems):
        return self._entries(q, frame[spec], spec, instrument, problems)

    def _entries(self, q, s, column, instrument, problems) -> Decoded:
        """A cell of `;`-joined labels: the multi-select matrix or the first three ranks, and "Andet" texts.

        Each distinct cell is decoded once (a question has a few hundred distinct cells in 100,000 rows) and
        the result spread to the rows holding it; problems keep the order of rows, then of entries."""
        n = len(s)
        codes, distinct = pd.factorize(s.reset_index(drop=True))
        if q.kind == "ranked":  # Forms orders every option: cells agreeing on the first three decode alike
            again, distinct = pd.factorize(pd.Series(_first_entries(distinct.tolist()), dtype=object))
            codes = np.append(again, -1)[codes]  # a blank (-1) stays blank
        m = len(distinct)
        found = Problems()
        values_d, has_d, texts_d = self._distinct_entries(q, pd.Series(distinct, dtype="str"), column, instrument,
                                                          found)
        where = np.where(codes >= 0, codes, m)  # blank cells take the blank row appended below
        blank = np.zeros((1, values_d.shape[1]), dtype=values_d.dtype) if q.kind == "multi" else \
            np.full((1, values_d.shape[1]), NA_CODE, dtype=values_d.dtype)
        values = np.asfortranarray(np.concatenate([values_d, blank])[where])
        has_answer = np.append(has_d, False)[where]
        if found.parts:
            bad = found.frame()
            messages: dict[int, list[str]] = {}
            for pos, message in zip(bad["pos"].to_numpy(), bad["message"].tolist()):
                messages.setdefault(int(pos), []).append(message)
            rows = np.flatnonzero(np.isin(codes, np.fromiter(messages, dtype=np.int64)))
            per_row = [messages[int(c)] for c in codes[rows]]
            problems.add(np.repeat(rows, [len(m_) for m_ in per_row]), column, "invalid_value",
                         [message for row in per_row for message in row])
        if q.kind == "ranked":
            rank_rules(values, q, column, problems)
        texts = None
        if q.has_andet:
            texts = na_str(n) if texts_d is None else take_str(texts_d, np.where(codes >= 0, codes, -1)).rename(s.name)
        return Decoded(values, has_answer, texts)

    def _distinct_entries(self, q, s, column, instrument, problems):
        """`_entries` of distinct cells (no blanks): their matrix rows, whether answered, own texts (None where
        there are none), unknown labels as problems at their position."""
        n = len(s)
        tokens = s.str.split(";").explode()
        tokens = tokens.str.strip()
        tokens = tokens[tokens.notna() & (tokens != "")]
        has_answer = np.zeros(n, dtype=bool)
        has_answer[tokens.index.to_numpy(dtype=np.int64)] = True
        if q.kind == "ranked":
            order = tokens.groupby(level=0).cumcount().to_numpy()
            tokens = tokens[order < MAX_RANK]
            order = order[order < MAX_RANK]
        idx = option_codes(tokens, option_lookup(q, self, instrument))
        rows = tokens.index.to_numpy(dtype=np.int64)
        unknown = idx == INVALID_CODE
        texts = None
        if unknown.any():
            if q.has_andet:
                idx[unknown] = q.option_ids.index("andet")
                joined = tokens[unknown].groupby(level=0).agg("; ".join)
                texts = joined.reindex(range(n)).astype(object).where(lambda t: t.notna(), None).tolist()
            else:
                problems.add(rows[unknown], column, "invalid_value",
                             invalid_messages(tokens, np.flatnonzero(unknown), q, self))
        ok = idx >= 0
        if q.kind == "multi":
            values = np.zeros((n, len(q.options)), dtype=np.int8)
            values[rows[ok], idx[ok]] = 1
        else:
            values = np.full((n, MAX_RANK), NA_CODE, dtype=np.int16)
            values[rows[ok], order[ok]] = idx[ok]
        return values, has_answer, texts

    def tables(self, answers, instrument, kommuner, rng):
        """`Sheet1`: the fixed columns, then one column per question (labels; kommune names, some official)."""
        n = len(answers)
        start, done = timestamps(rng, instrument.survey_year, n)
        ids = numeric_or_text(answers["respondent_id"])
        serial = np.arange(1, n + 1)
        out: dict[str, object] = dict(zip(FIXED_COLUMNS, (
            ids,
            start,
            done,
            pd.Series([f"respondent{i:05d}@kommune.example" for i in serial], dtype=object),
            pd.Series([f"Syntetisk Respondent {i}" for i in serial], dtype=object),
        )))
        trailing = rng.random(n) < 0.8
        for q in instrument.questions:
            header = self.column_of(q)
            if q.kind == "kommune":
                table = kommuner.table
                short = dict(zip(table["kommune_kode"], table["kommune_navn"]))
                official = dict(zip(table["kommune_kode"], table["officielt_navn"]))
                use_official = rng.random(n) < 0.1
                k = answers["kommune"].astype(object)
                names = np.where(use_official, map_through(k, official), map_through(k, short))
                out[header] = pd.Series(np.where(pd.isna(k.to_numpy()), None, names), dtype=object)
            elif q.kind == "single":
                lab = map_through(answers[q.id], {o.id: o.label for o in q.options}) if q.id in answers \
                    else pd.Series([None] * n, dtype=object)
                own = andet_column(q.id)
                if q.has_andet and own in answers:
                    typed = answers[own].notna().to_numpy() & (answers[q.id].astype(object) == "andet").to_numpy()
                    lab = lab.where(~typed, answers[own].astype(object))
                out[header] = as_object(lab)
            elif q.kind == "multi":
                m = multi_matrix(answers, q)
                own = andet_column(q.id)
                parts = []
                for j, o in enumerate(q.options):
                    label = np.full(n, o.label, dtype=object)
                    if o.id == "andet" and own in answers:
                        text = as_object(answers[own])
                        label = np.where(text == None, label, text)  # noqa: E711 (elementwise)
                    parts.append(np.where(m[:, j] == 1, label, ""))
                joined = join_labels(parts)
                joined = np.where((joined != "") & trailing, joined + ";", joined)
                out[header] = np.where(joined == "", None, joined)
            elif q.kind == "ranked":
                ranks = rank_columns(answers, q)
                opt_ids = list(q.option_ids)
                index = {o: i for i, o in enumerate(opt_ids)}
                keys = rng.random((n, len(opt_ids)))
                counts = np.zeros(n, dtype=np.int64)
                for r, col in enumerate(ranks):
                    has = np.array([v is not None for v in col], dtype=bool)
                    known = has & np.array([v in index for v in col], dtype=bool)
                    rows = np.flatnonzero(known)
                    keys[rows, [index[v] for v in col[rows]]] = r - 10.0
                    counts = np.where(has, r + 1, counts)
                order = np.argsort(keys, axis=1)
                labels = np.array([o.label for o in q.options], dtype=object)[order]
                # Forms orders every option; a partial ranking keeps only the ranked labels.
                full = counts == MAX_RANK
                limit = np.where(full, len(opt_ids), counts)
                joined = join_labels([labels[:, j] for j in range(len(opt_ids))], limit)
                # Values that are not option ids are written through as they are (to plant invalid values).
                unknown = np.zeros(n, dtype=bool)
                for col in ranks:
                    unknown |= np.array([v is not None and v not in index for v in col], dtype=bool)
                if unknown.any():
                    raw = [";".join(str(v) for v in row if v is not None) for row in zip(*(c[unknown] for c in ranks))]
                    joined[unknown] = raw
                joined = np.where((joined != "") & trailing, joined + ";", joined)
                out[header] = np.where(joined == "", None, joined)
            elif q.kind == "text":
                out[header] = as_object(answers[q.id]) if q.id in answers else np.full(n, None, dtype=object)
        return {SHEET: pd.DataFrame(out)}


MSFORMS_XLSX = MicrosoftForms()
