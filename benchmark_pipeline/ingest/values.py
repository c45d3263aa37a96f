"""The vectorised steps that turn raw answer values into canonical codes, shared by every layout's mapping.

Values are factorised and each distinct value is looked up once, so a million-row export costs a few
passes over its columns, not a Python loop per respondent.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from benchmark_pipeline.instrument import MAX_RANK, Question, YearInstrument

from .pii import mask_value

NA_CODE, INVALID_CODE = -1, -2
_NUMBER_RE = re.compile(r"\+?0*(\d+)(?:\.0*)?")
MAX_SHOWN = 40
PROBLEM_COLUMNS = ["pos", "column", "rule", "message"]


def value_key(value: str) -> str:
    """How answer values are compared: NFC, whitespace collapsed, case-insensitive, "01"/"1.0" as "1"."""
    key = re.sub(r"\s+", " ", unicodedata.normalize("NFC", str(value))).strip().casefold()
    m = _NUMBER_RE.fullmatch(key)
    return m.group(1) if m else key


def shown(value: object) -> str:
    """A non-free-text value as quoted in a message: masked and shortened."""
    text = mask_value(str(value))
    return repr(text if len(text) <= MAX_SHOWN else text[: MAX_SHOWN - 1] + "…")

def _encoded(series: pd.Series) -> tuple[np.ndarray, object]:
    """Codes (-1 for NA) and the distinct values (an Arrow array or a pandas Index), hashed once.

    A categorical has them already; an Arrow-backed column is dictionary-encoded by Arrow, without a
    Python object per value.
    """
    if isinstance(series.dtype, pd.CategoricalDtype):
        return series.cat.codes.to_numpy(), series.cat.categories
    to_arrow = getattr(series.array, "__arrow_array__", None)
    if to_arrow is not None and len(series):
        arr = to_arrow()
        if isinstance(arr, pa.ChunkedArray):
            arr = arr.combine_chunks()
        encoded = arr.dictionary_encode()
        return pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False), encoded.dictionary
    return pd.factorize(series, use_na_sentinel=True)


def factorize(series: pd.Series) -> tuple[np.ndarray, list]:
    """Codes (-1 for NA) and the distinct values as a list."""
    codes, uniques = _encoded(series)
    return codes, uniques.to_pylist() if isinstance(uniques, pa.Array) else list(uniques)


def repeated(series: pd.Series) -> np.ndarray:
    """True where a value (not NA) occurs more than once: `duplicated(keep=False)`, hashed by Arrow."""
    codes, uniques = _encoded(series)
    if not len(uniques):
        return np.zeros(len(codes), dtype=bool)
    counts = np.bincount(codes[codes >= 0], minlength=len(uniques))
    return (codes >= 0) & (counts[np.maximum(codes, 0)] > 1)


def map_unique(series: pd.Series, func: Callable[[str], int], na: int = NA_CODE) -> np.ndarray:
    """func applied once per distinct value; NA and blank (whitespace only) give `na`.

    The result has the smallest signed integer type that holds the looked-up codes (a million rows of small
    codes stay small); a code of -1 (NA) picks the table's last entry.
    """
    codes, uniques = factorize(series)
    table = np.fromiter(
        (na if not str(u).strip() else func(u) for u in uniques), dtype=np.int64, count=len(uniques)
    )
    table = np.append(table, na)
    smallest = np.result_type(np.int8, np.min_scalar_type(table.min()), np.min_scalar_type(table.max()))
    return table.astype(smallest)[codes]


def binary_codes(series: pd.Series) -> np.ndarray:
    """Multi-select cells as 1/0 (blank = 0), INVALID_CODE elsewhere; pure Arrow when all cells are 0/1/blank."""
    to_arrow = getattr(series.array, "__arrow_array__", None)
    if to_arrow is not None and len(series) and not isinstance(series.dtype, pd.CategoricalDtype):
        arr = to_arrow()
        is_one = pc.equal(arr, "1")
        known = pc.fill_null(pc.or_(is_one, pc.equal(arr, "0")), True)
        if pc.all(known).as_py():
            return pc.fill_null(is_one, False).to_numpy(zero_copy_only=False).astype(np.int64)
    return map_unique(series, _binary, na=0)


def na_str(n: int) -> pd.Series:
    """An all-NA text column, built without a Python list."""
    return pd.Series(pa.nulls(n, pa.string()), dtype="str")


def take_str(values: list, idx: np.ndarray) -> pd.Series:
    """values[idx] as a text column (idx < 0 gives NA), through Arrow's take."""
    table = pa.array(list(values) + [None], type=pa.string())
    return pd.Series(table.take(pa.array(np.where(idx >= 0, idx, len(values)))), dtype="str")


def trimmed(series: pd.Series) -> pd.Series:
    s = series.astype("str").str.strip()
    return s.where(s != "")


@dataclass
class Problems:
    """Row problems (quarantine rules) or warnings, as positions into the raw frame."""

    parts: list[pd.DataFrame] = field(default_factory=list)

    def add(self, positions, column: str, rule: str, message) -> None:
        positions = np.asarray(positions, dtype=np.int64)
        if len(positions):
            self.parts.append(pd.DataFrame({"pos": positions, "column": column, "rule": rule, "message": message}))

    def frame(self) -> pd.DataFrame:
        if not self.parts:
            return pd.DataFrame({c: pd.Series([], dtype="int64" if c == "pos" else "str") for c in PROBLEM_COLUMNS})
        out = pd.concat(self.parts, ignore_index=True)
        return out.astype({"pos": "int64", "column": "str", "rule": "str", "message": "str"})


@dataclass
class Decoded:
    """One multi-select or ranked question decoded from however many raw columns the layout spreads it over."""

    values: np.ndarray  # multi: rows x options, 1/0 (int8); ranked: rows x MAX_RANK option indexes, NA_CODE none
    answered: np.ndarray  # the row answered the question (an invalid value counts as an answer where it shows)
    own_texts: pd.Series | None = None  # the respondent's own "Andet" text, where the layout carries it here


def option_lookup(q: Question, layout, instrument: YearInstrument) -> dict[str, int]:
    """Value key -> option index: the keys `layout.option_keys` gives each option, then its label changes."""
    lookup: dict[str, int] = {}
    aliases = {(c.option, value_key(v)) for c in instrument.label_changes if c.question == q.id for v in (c.before, c.after)}
    for i, o in enumerate(q.options):
        for k in layout.option_keys(o) + [k for (opt, k) in aliases if opt == o.id]:
            lookup.setdefault(k, i)
    return lookup


def option_codes(series: pd.Series, lookup: dict[str, int]) -> np.ndarray:
    """Option index per value, INVALID_CODE where the lookup does not know it, NA_CODE for blank."""
    return map_unique(series, lambda v: lookup.get(value_key(v), INVALID_CODE))


def idx_mask(n: int, positions: np.ndarray) -> np.ndarray:
    mask = np.zeros(n, dtype=bool)
    mask[positions] = True
    return mask


def _binary(v: str) -> int:
    key = value_key(v)
    return 1 if key == "1" else 0 if key == "0" else INVALID_CODE


def rank_value(v: str) -> int:
    key = value_key(v)
    return int(key) if key in ("1", "2", "3") else INVALID_CODE


def invalid_messages(s: pd.Series, bad: np.ndarray, q: Question, layout) -> list[str]:
    return [f"{shown(v)} is not a {layout.value_names} of {q.id}" for v in s.iloc[bad].to_numpy()]


def binary_columns(q: Question, frame: pd.DataFrame, columns: list[str], problems: Problems) -> Decoded:
    """A multi-select as one column per option holding 1, 0 or blank."""
    n = len(frame)
    matrix = np.zeros((n, len(q.options)), dtype=np.int8, order="F")  # columns contiguous
    answered = np.zeros(n, dtype=bool)
    for i, (o, col) in enumerate(zip(q.options, columns)):
        s = frame[col]
        idx = binary_codes(s)
        matrix[:, i] = idx == 1
        bad = np.flatnonzero(idx == INVALID_CODE)
        if len(bad):
            vals = s.iloc[bad].to_numpy()
            problems.add(
                bad, col, "invalid_value",
                [f"{q.id}.{o.id}: a multi-select cell must be 1, 0 or blank, not {shown(v)}" for v in vals],
            )
        answered |= (idx == 1) | (idx == INVALID_CODE)
    return Decoded(matrix, answered)


def rank_rules(ranks: np.ndarray, q: Question, column: str, problems: Problems, check_repeats: bool = True) -> None:
    """A rank used twice (the same option at two ranks), or rank 2/3 without rank 1."""
    if check_repeats:
        ranked_twice = np.zeros(len(ranks), dtype=bool)
        for a in range(MAX_RANK):
            for b in range(a + 1, MAX_RANK):
                ranked_twice |= (ranks[:, a] >= 0) & (ranks[:, a] == ranks[:, b])
        problems.add(np.flatnonzero(ranked_twice), column, "invalid_rank", f"{q.id}: the same option is ranked twice")
    no_first = (ranks[:, 0] == NA_CODE) & ((ranks[:, 1:] >= 0).any(axis=1))
    problems.add(np.flatnonzero(no_first), column, "invalid_rank", f"{q.id}: rank 2 or 3 is given without a rank 1")
