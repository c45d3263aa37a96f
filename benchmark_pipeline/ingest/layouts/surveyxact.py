"""SurveyXact exports: a `Dataset` of codes with its `Labels`, as one .xlsx or as dataset.csv + labels.csv.

Both variants share the year's SurveyXact variables, the mapping and the Labels check; they differ only
in how the two tables are stored. Multi-select: one column per option, 1 chosen, 0 or blank not; ranking:
one column per option holding its rank 1-3. System columns (`stat...`) are not read.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from benchmark_pipeline.instrument import MAX_RANK

from ..errors import ExportError, LabelsContradictionError, UnreadableExportError
from ..raw import RawExport, header_key
from ..textfile import read_text_file, write_csv
from ..values import INVALID_CODE, NA_CODE, Decoded, map_unique, rank_rules, rank_value, shown, value_key
from .base import Layout, TextLayout, WorkbookLayout
from .writing import map_through, multi_matrix, numeric_or_text, rank_columns, response_mask, timestamps

SHEETS = ("Dataset", "Labels")
FILES = ("dataset.csv", "labels.csv")
LABEL_COLUMNS = ("variable", "value", "label")


def labels_frame(frame: pd.DataFrame, path: Path) -> pd.DataFrame:
    """The Labels table's variable, value, label (and source_row) columns, whatever their case."""
    cols = {header_key(c): c for c in frame.columns}
    missing = [c for c in LABEL_COLUMNS if c not in cols]
    if missing:
        raise LabelsContradictionError(
            f"the labels table lacks the column(s) {', '.join(missing)} (expected variable, value, label)",
            file=path,
        )
    out = frame[[cols["variable"], cols["value"], cols["label"], "source_row"]].copy()
    out.columns = [*LABEL_COLUMNS, "source_row"]
    return out


class SurveyXact(Layout):
    family = "surveyxact"

    def column_of(self, q):
        return q.variable

    def answer_columns(self, q):
        return [(o.variable, f"{q.id}.{o.id}") for o in q.options]

    def decode_ranked(self, q, frame, spec, instrument, problems):
        """One column per option holding its rank 1-3."""
        n = len(frame)
        rank_of = np.zeros((n, len(q.options)), dtype=np.int8)
        answered = np.zeros(n, dtype=bool)
        for i, (o, col) in enumerate(zip(q.options, spec)):
            s = frame[col]
            idx = map_unique(s, rank_value)
            bad = np.flatnonzero(idx == INVALID_CODE)
            if len(bad):
                vals = s.iloc[bad].to_numpy()
                problems.add(bad, col, "invalid_rank",
                             [f"{q.id}.{o.id}: rank {shown(v)} is not 1, 2, 3 or blank" for v in vals])
            rank_of[:, i] = np.where(idx > 0, idx, 0)
            answered |= idx != NA_CODE
        ranks = np.full((n, MAX_RANK), NA_CODE, dtype=np.int16, order="F")
        for r in range(1, MAX_RANK + 1):
            hit = rank_of == r
            count = hit.sum(axis=1)
            ranks[:, r - 1] = np.where(count > 0, hit.argmax(axis=1), NA_CODE)
            twice = np.flatnonzero(count > 1)
            problems.add(twice, spec[0], "invalid_rank",
                         [f"{q.id}: rank {r} is given to {c} options" for c in count[twice]])
        rank_rules(ranks, q, spec[0], problems, check_repeats=False)
        return Decoded(ranks, answered)

    def check_beside(self, raw, instrument, kommuner):
        """Stop the year when the Labels sheet/file says a code means something else than the mapping."""
        labels = raw.labels
        if labels is None or labels.empty:
            return
        where = raw.labels_path or raw.path
        aliases: dict[tuple[str, str], set[str]] = {}
        for c in instrument.label_changes:
            aliases.setdefault((c.question, c.option), set()).update({value_key(c.before), value_key(c.after)})
        singles, option_vars, kommune_var = {}, {}, None
        for q in instrument.questions:
            if q.kind == "single" and q.variable:
                singles[header_key(q.variable)] = q
            elif q.kind == "kommune" and q.variable:
                kommune_var = header_key(q.variable)
            elif q.kind in ("multi", "ranked"):
                for o in q.options:
                    if o.variable:
                        option_vars[header_key(o.variable)] = (q, o)

        def accepted(q, o) -> set[str]:
            return {value_key(o.label)} | aliases.get((q.id, o.id), set())

        problems = []
        for var, value, label, row in labels[["variable", "value", "label", "source_row"]].itertuples(index=False):
            if pd.isna(var) or pd.isna(value):
                continue
            key = header_key(var)
            label_key = value_key(label) if not pd.isna(label) else ""
            if key in singles:
                q = singles[key]
                by_code = {str(o.code): o for o in q.options}
                o = by_code.get(value_key(value))
                if o is None:
                    problems.append((row, f"variable {var!r} has code {shown(value)}, which the mapping does not know "
                                          f"for {q.id}"))
                elif label_key not in accepted(q, o):
                    problems.append((row, f"variable {var!r} code {value_key(value)} is labelled {shown(label)}, the "
                                          f"mapping says {o.label!r} ({q.id}.{o.id})"))
            elif key in option_vars:
                q, o = option_vars[key]
                others = {k: p for p in q.options if p.id != o.id for k in accepted(q, p)}
                if label_key in others and label_key not in accepted(q, o):
                    problems.append((row, f"variable {var!r} is labelled {shown(label)}, which is "
                                          f"{q.id}.{others[label_key].id}; the mapping says {q.id}.{o.id} ({o.label!r})"))
            elif key == kommune_var and not pd.isna(label):
                by_value, by_label = kommuner.resolve(value), kommuner.resolve(label)
                if by_value is not None and by_label is not None and by_value != by_label:
                    problems.append((row, f"kommune code {shown(value)} is labelled {shown(label)}"))
        if problems:
            listed = "; ".join(f"row {r}: {m}" for r, m in problems[:5])
            more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
            raise LabelsContradictionError(
                f"the labels contradict the {instrument.survey_year} mapping: {listed}{more}",
                file=where, row=problems[0][0] if len(problems) == 1 else None,
            )

    def tables(self, answers, instrument, kommuner, rng):
        """`Dataset` (id, `statstatus`, `statcompleted`, the year's variables as codes) and `Labels`."""
        missing = [q.id for q in instrument.questions if q.kind in ("kommune", "single", "text") and not q.variable]
        missing += [f"{q.id}.{o.id}" for q in instrument.of_kind("multi", "ranked") for o in q.options if not o.variable]
        if missing:
            raise ExportError(f"the {instrument.survey_year} mapping has no SurveyXact variable for {', '.join(missing)}")
        n = len(answers)
        responded = response_mask(answers, instrument)
        out: dict[str, object] = {instrument.respondent_id: numeric_or_text(answers["respondent_id"])}
        out["statstatus"] = pd.array(np.where(responded, 1, 0), dtype="Int64")
        _, done = timestamps(rng, instrument.survey_year, n)
        out["statcompleted"] = done.dt.strftime("%d-%m-%Y %H:%M").where(responded, None).astype(object)
        labels: list[tuple[str, int, str]] = []
        for q in instrument.questions:
            if q.kind == "kommune":
                var = self.column_of(q) or "kommune"
                out[var] = numeric_or_text(answers["kommune"]) if "kommune" in answers else pd.array([None] * n)
                table = kommuner.table
                labels += [(var, int(c), name) for c, name in zip(table["kommune_kode"], table["kommune_navn"])]
            elif q.kind == "single":
                codes = {o.id: o.code for o in q.options}
                out[self.column_of(q)] = numeric_or_text(map_through(answers[q.id], codes)) if q.id in answers else \
                    pd.array([None] * n, dtype="Int64")
                labels += [(self.column_of(q), o.code, o.label) for o in q.options]
            elif q.kind == "multi":
                m = multi_matrix(answers, q)
                answered = (m == 1).any(axis=1)
                for j, o in enumerate(q.options):
                    out[o.variable] = pd.array(np.where(answered, m[:, j], 0), dtype="Int64")
                    out[o.variable][~answered] = pd.NA
                    labels.append((o.variable, o.code, o.label))
            elif q.kind == "ranked":
                ranks = rank_columns(answers, q)
                for o in q.options:
                    col = np.full(n, None, dtype=object)
                    for r, ids in enumerate(ranks, start=1):
                        col[ids == o.id] = r
                    out[o.variable] = pd.array(col, dtype="Int64")
                    labels.append((o.variable, o.code, o.label))
            elif q.kind == "text":
                out[self.column_of(q)] = answers[q.id].astype(object).where(answers[q.id].notna(), None) \
                    if q.id in answers else pd.array([None] * n)
        dataset = pd.DataFrame(out)
        label_frame = pd.DataFrame(labels, columns=list(LABEL_COLUMNS))
        return dict(zip(SHEETS, (dataset, label_frame)))


class SurveyXactWorkbook(SurveyXact, WorkbookLayout):
    name = "surveyxact_xlsx"
    sample_seed = 0
    hint = "a 'Dataset' sheet (SurveyXact)"
    title = ("SurveyXact, Excel med arkene Dataset og Labels", "SurveyXact, Excel with sheets Dataset and Labels")

    def detect(self, source, instrument):
        return source.sheet(SHEETS[0]) is not None

    def read(self, source, instrument):
        dataset = source.sheet(SHEETS[0])
        frame = source.frame(dataset)
        labels_ws = source.sheet(SHEETS[1])
        labels = labels_frame(source.frame(labels_ws), source.path) if labels_ws is not None else None
        return RawExport(source.path, [source.path], self.name, None, None, frame, labels, None, dataset.title)


def _partner(path: Path, word: str, other: str) -> Path | None:
    """What is beside `path` named like it with `word` replaced by `other` (any case), file or not."""
    if word not in path.name.casefold():
        return None
    wanted = re.sub(word, other, path.name, flags=re.IGNORECASE).casefold()
    return next((s for s in path.parent.iterdir() if s.name.casefold() == wanted), None)


def _labels_file(dataset: Path) -> Path | None:
    """The labels file beside `dataset`; one of that name that is no file stops the year, since reading the
    export without its labels would skip the check that they agree with the mapping."""
    labels = _partner(dataset, _DATASET, _LABELS)
    if labels is not None and not labels.is_file():
        what = "a folder, not a file" if labels.is_dir() else "not a regular file (a broken link?)"
        raise UnreadableExportError(
            f"{labels.name} is {what}: the labels of {dataset.name} must be a file beside it; "
            f"move or rename it and put the export's {labels.name} there",
            file=labels,
        )
    return labels


_DATASET, _LABELS = (Path(f).stem for f in FILES)


class SurveyXactText(SurveyXact, TextLayout):
    name = "surveyxact_csv"
    sample_seed = 1
    hint = "SurveyXact variables with a labels file beside it"
    title = ("SurveyXact, CSV-variant: dataset.csv og labels.csv", "SurveyXact CSV variant: dataset.csv and labels.csv")

    def is_companion(self, path):
        dataset = _partner(path, _LABELS, _DATASET)
        return dataset is not None and dataset.is_file()

    def detect(self, source, instrument):
        if _partner(source.path, _DATASET, _LABELS) is not None or "respondentid" in source.header:
            return True
        return (instrument is not None and instrument.layout in (SURVEYXACT_XLSX.name, SURVEYXACT_CSV.name)
                and header_key(instrument.respondent_id) in source.header)

    def read(self, source, instrument):
        labels_path = _labels_file(source.path)  # before the dataset is parsed: a stop costs no read
        raw = super().read(source, instrument)
        if labels_path is not None:
            frame, _, _ = read_text_file(labels_path)
            raw.labels, raw.labels_path = labels_frame(frame, labels_path), labels_path
            raw.files.append(labels_path)
        return raw

    def tables(self, answers, instrument, kommuner, rng):
        return dict(zip((_DATASET, _LABELS), super().tables(answers, instrument, kommuner, rng).values()))

    def write_text(self, tables, path, encoding, separator, newline):
        """`path` is a folder that receives dataset.csv and labels.csv, or a dataset file with labels.csv beside it."""
        if path.suffix.lower() == ".csv":
            folder, dataset_path = path.parent, path
        else:
            folder, dataset_path = path, path / FILES[0]
        labels_path = folder / FILES[1]
        if dataset_path == labels_path:
            raise ExportError(f"{path}: the dataset file cannot be named {FILES[1]}")
        folder.mkdir(parents=True, exist_ok=True)
        write_csv(tables[_DATASET], dataset_path, encoding, separator, newline)
        write_csv(tables[_LABELS], labels_path, encoding, separator, newline)
        return [dataset_path, labels_path]


SURVEYXACT_XLSX = SurveyXactWorkbook()
SURVEYXACT_CSV = SurveyXactText()
