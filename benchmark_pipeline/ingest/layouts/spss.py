"""SurveyXact's SPSS export: the year's SurveyXact variables in one .sav file, read and written with pyreadstat.

The variables are named and decoded exactly as in SurveyXact's `Dataset` (this layout is a `SurveyXact`),
and the file's value labels stand in for the `Labels` sheet, checked against the mapping the same way.
A value the file declares user-missing is a blank, as SPSS treats it; a declared missing value that the
mapping reads as an answer (9 "Ved ikke") stops the year rather than silently dropping those answers.
"""

from __future__ import annotations

import datetime as dt
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import ExportError, LabelsContradictionError, UnreadableExportError
from ..raw import FileKind, RawExport, header_key, unique_header
from ..textfile import read_head
from ..values import shown, value_key
from ..workbook import cell_text, xlsx_timestamp
from .surveyxact import LABEL_COLUMNS, SHEETS, SurveyXact
from .writing import response_mask

SAV_SUFFIXES = frozenset({".sav", ".zsav"})
# "$FL2" starts a .sav, "$FL3" a compressed .zsav: their common prefix, since a FileKind has one signature.
SAV_SIGNATURE = b"$FL"
MISSING = "Missing"  # the writer's table of user-missing declarations: variable, value, label
NOT_ANSWERED = "Ikke besvaret"  # the label of the code a skipped single choice gets in the synthetic samples
# Cases x variables a file may declare: pyreadstat allocates them before reading, and a compressed .zsav of a
# few megabytes can declare gigabytes (2 million zeros pack into 24 kB). A million respondents of the 2024
# survey are 45 million cells; the limit is 500 million (4 GB as numbers).
MAX_CELLS = 500_000_000

# The file header's creation date ("01 Oct 24") and time ("12:00:00"): readstat writes the clock there.
_CREATION_DATE, _CREATION_TIME = slice(92, 101), slice(101, 109)
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


# --------------------------------------------------------------------------- reading


@contextmanager
def _readable(path: Path):
    """pyreadstat's failures on a damaged file as an unreadable export naming the file, never a traceback."""
    import pyreadstat

    try:
        yield
    except (pyreadstat.ReadstatError, pyreadstat.PyreadstatError, OSError, UnicodeError) as exc:
        reason = str(exc).strip().rstrip(".") or type(exc).__name__
        raise UnreadableExportError(
            f"not a readable SPSS .sav file, perhaps truncated or damaged (pyreadstat: {reason}); export it again",
            file=path,
        ) from None


@dataclass
class SavSource:
    """An opened .sav file: its dictionary read (with the declared missing values), its cases on request."""

    path: Path
    meta: object  # pyreadstat's metadata_container

    def cases(self) -> pd.DataFrame:
        """The cases; declared missing values arrive as blanks (pyreadstat's `user_missing=False`)."""
        import pyreadstat

        with _readable(self.path):
            data, _ = pyreadstat.read_sav(self.path, user_missing=False)
        return data


@contextmanager
def open_sav(path: Path):
    if not read_head(path):
        raise UnreadableExportError("the file is empty (0 bytes): export it again", file=path)
    import pyreadstat

    with _readable(path):
        _, meta = pyreadstat.read_sav(path, metadataonly=True, user_missing=True)
    cells = max(meta.number_rows or 0, 0) * max(meta.number_columns or 0, 0)
    if cells > MAX_CELLS:
        raise UnreadableExportError(
            f"the file declares {meta.number_rows:,} cases of {meta.number_columns:,} variables, {cells:,} "
            f"values (the limit is {MAX_CELLS:,}): far more than a survey export holds, so it is not read; "
            "export it again", file=path)
    yield SavSource(path, meta)


SAV = FileKind("an SPSS file", SAV_SUFFIXES, SAV_SIGNATURE, open_sav)


def sav_frame(cases: pd.DataFrame, path: Path) -> pd.DataFrame:
    """The cases as raw text (blank = NA), as the workbook reader gives cells: a number as "1", not "1.0",
    numeric columns as categoricals of those texts, string variables as `str`; `source_row` is the case
    number + 1, as if the variable names were row 1."""
    names = unique_header(list(cases.columns), path)
    out = {}
    for name, column in zip(names, cases.columns):
        s = cases[column]
        if isinstance(s.dtype, pd.StringDtype):
            s = s.astype("str")
            out[name] = s.where(s != "")
            continue
        codes, uniques = pd.factorize(s, use_na_sentinel=True)
        texts = pd.Index([cell_text(u) for u in uniques], dtype="str")
        categories = texts.dropna().unique()
        at = np.append(categories.get_indexer(texts), -1)  # an NA code (-1) picks the appended -1
        out[name] = pd.Categorical.from_codes(at[codes], categories=categories)
    frame = pd.DataFrame(out, index=pd.RangeIndex(len(cases)))
    frame["source_row"] = np.arange(2, len(cases) + 2, dtype="int64")
    return frame


def _missing_ranges(meta) -> dict[str, list[tuple[object, object]]]:
    """Each variable's declared missing values as (low, high) ranges, keyed by `header_key`."""
    return {header_key(var): [(r["lo"], r["hi"]) for r in ranges] for var, ranges in meta.missing_ranges.items()}


def _declared_missing(ranges: list[tuple[object, object]], value: object) -> bool:
    for lo, hi in ranges:
        if isinstance(lo, str) or isinstance(hi, str):  # string variables declare single values
            if value_key(lo) == value_key(value):
                return True
        elif isinstance(value, (int, float)) and lo <= value <= hi:
            return True
    return False


def labels_of(meta, missing: dict[str, list[tuple[object, object]]]) -> pd.DataFrame:
    """The value labels as SurveyXact's Labels table (variable, value, label, source_row), without the labels
    of declared missing values, which name no answer; `source_row` numbers the entries in the file's order."""
    rows = []
    for var, labels in meta.variable_value_labels.items():
        ranges = missing.get(header_key(var), [])
        rows += [(var, cell_text(value), label) for value, label in labels.items()
                 if not _declared_missing(ranges, value)]
    frame = pd.DataFrame(rows, columns=list(LABEL_COLUMNS), dtype="str")
    frame["source_row"] = np.arange(1, len(frame) + 1, dtype="int64")
    return frame


@dataclass
class SavExport(RawExport):
    """A .sav export as read, with the values its variables declare missing (read as blanks)."""

    missing_ranges: dict[str, list[tuple[object, object]]] = field(default_factory=dict)


# --------------------------------------------------------------------------- the layout


def _not_answered_code(codes: list[int]) -> int:
    """99, 999, ...: the first above every option code, so the declared missing value is no answer."""
    code = 99
    while code <= max(codes, default=0):
        code = code * 10 + 9
    return code


def _number(value: object) -> int | float:
    number = float(value)
    return int(number) if number.is_integer() else number


def _is_number_column(s: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype)


def _dictionary(tables: dict[str, pd.DataFrame], numeric: set[str], path: Path) -> tuple[dict, dict]:
    """The value labels (from `Labels` and `Missing`) and the user-missing declarations (from `Missing`) of the
    Dataset's variables, each value typed as its variable is (a number, or a string)."""
    value_labels: dict[str, dict] = {}
    missing_ranges: dict[str, list] = {}
    variables = set(tables[SHEETS[0]].columns)
    declared = tables.get(MISSING, pd.DataFrame(columns=list(LABEL_COLUMNS)))
    for table, is_missing in ((tables[SHEETS[1]], False), (declared, True)):
        for var, value, label in table[list(LABEL_COLUMNS)].itertuples(index=False):
            if var not in variables:
                continue
            try:
                key = _number(value) if var in numeric else str(value)
            except (TypeError, ValueError):
                raise ExportError(f"{path}: variable {var!r} is numeric, its labelled value {value!r} is not") from None
            value_labels.setdefault(var, {})[key] = str(label)
            if is_missing:
                missing_ranges.setdefault(var, []).append(key)
    return value_labels, missing_ranges


def _freeze_sav(path: Path, when: dt.datetime) -> None:
    """Make a readstat-written .sav byte-for-byte reproducible: a fixed creation date and time in its header."""
    data = bytearray(path.read_bytes())
    if not data.startswith(SAV_SIGNATURE):
        raise ExportError(f"{path}: the written file is not an SPSS file")
    data[_CREATION_DATE] = f"{when.day:02d} {_MONTHS[when.month - 1]} {when.year % 100:02d}".encode("ascii")
    data[_CREATION_TIME] = when.strftime("%H:%M:%S").encode("ascii")
    path.write_bytes(bytes(data))


class SurveyXactSav(SurveyXact):
    name = "spss_sav"
    sample_seed = 4
    kind = SAV
    hint = "an SPSS .sav file (SurveyXact)"
    title = ("SurveyXact, SPSS-fil (.sav)", "SurveyXact, SPSS file (.sav)")

    def detect(self, source, instrument):
        return True  # the one SPSS layout; `check_layout` decides whether the year's mapping fits it

    def read(self, source: SavSource, instrument):
        missing = _missing_ranges(source.meta)
        return SavExport(
            source.path, [source.path], self.name, None, None, sav_frame(source.cases(), source.path),
            labels=labels_of(source.meta, missing), missing_ranges=missing,
        )

    def check_beside(self, raw, instrument, kommuner):
        """The value labels as a Labels sheet; and no declared missing value the mapping reads as an answer,
        since SPSS semantics would blank those answers out of every share."""
        ranges = raw.missing_ranges  # a SavExport: this layout's reader made it
        problems = []
        for var, value, what in self._answer_values(instrument):
            if _declared_missing(ranges.get(header_key(var), []), value):
                problems.append((var, f"variable {var!r} declares {shown(value)} a missing value, but the "
                                      f"{instrument.survey_year} mapping reads it as {what}"))
        if problems:
            listed = "; ".join(m for _, m in problems[:5])
            more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
            raise LabelsContradictionError(
                f"{listed}{more}; those answers would be read as blanks: remove the missing-value declaration "
                "(SPSS: Variable View, Missing) and export the file again",
                file=raw.path, column=problems[0][0] if len(problems) == 1 else None,
            )
        super().check_beside(raw, instrument, kommuner)

    def _answer_values(self, instrument):
        """(variable, value, what the mapping reads it as) for every value that is an answer."""
        for q in instrument.questions:
            if q.kind == "single" and q.variable:
                yield from ((q.variable, o.code, f"{q.id}.{o.id} ({o.label!r})") for o in q.options)
            elif q.kind == "multi":
                yield from ((o.variable, 1, f"{q.id}.{o.id} chosen") for o in q.options if o.variable)
            elif q.kind == "ranked":
                yield from ((o.variable, r, f"{q.id}.{o.id} at rank {r}")
                            for o in q.options if o.variable for r in (1, 2, 3))

    # --------------------------------------------------------------------- writing (synthetic samples)

    def tables(self, answers, instrument, kommuner, rng):
        """SurveyXact's `Dataset` (ids and free text as text) and `Labels`, and `Missing`: the user-missing
        code each single choice holds where a respondent skipped it, as SPSS tells skipped from not invited."""
        tables = super().tables(answers, instrument, kommuner, rng)
        dataset = tables[SHEETS[0]]
        for var in [instrument.respondent_id] + [self.column_of(q) for q in instrument.of_kind("text")]:
            dataset[var] = dataset[var].map(lambda v: None if pd.isna(v) else str(v)).astype(object)
        responded = response_mask(answers, instrument)
        missing = []
        for q in instrument.of_kind("single"):
            var, code = self.column_of(q), _not_answered_code([o.code for o in q.options])
            dataset.loc[responded & dataset[var].isna().to_numpy(), var] = code
            missing.append((var, code, NOT_ANSWERED))
        return {**tables, MISSING: pd.DataFrame(missing, columns=list(LABEL_COLUMNS))}

    def write(self, tables, path, *, encoding, separator, newline, survey_year):
        """One .sav: numbers as numeric variables, the rest as strings, value labels from `Labels`, the
        `Missing` declarations; byte-for-byte the same for the same tables (a fixed creation time)."""
        import pyreadstat

        dataset = tables[SHEETS[0]]
        numeric = {c for c in dataset.columns if _is_number_column(dataset[c])}
        cases = pd.DataFrame({
            c: dataset[c].astype("float64") if c in numeric
            else dataset[c].map(lambda v: "" if pd.isna(v) else str(v)).astype(object)
            for c in dataset.columns
        })
        value_labels, missing_ranges = _dictionary(tables, numeric, path)
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            pyreadstat.write_sav(
                cases, path, file_label="Syntetiske data / synthetic data (benchmark_pipeline)",
                variable_value_labels=value_labels, missing_ranges=missing_ranges,
            )
        except (pyreadstat.ReadstatError, pyreadstat.PyreadstatError) as exc:
            raise ExportError(f"{path}: cannot be written as an SPSS file ({exc})") from None
        _freeze_sav(path, xlsx_timestamp(survey_year))
        return [path]


SPSS_SAV = SurveyXactSav()
