"""Writers that turn an answers frame into every export layout of SURVEY.md section 2.

Two steps, so tests can break an export on purpose:

- `build_export(answers, instrument, layout)` returns the export's tables as DataFrames, named as the
  sheets or files they become (`Dataset` + `Labels`; `dataset` + `labels`; `Sheet1`; `canonical`);
- `write_tables(tables, layout, path, ...)` writes such tables; `write_export` does both.

Values in `answers` are the stable option ids (categorical or str). A value that is not an option id of
the question, or a kommune that is not in the reference table, is written through unchanged, so a test
can plant an invalid code by editing the answers or the built tables.

Layout conventions (what an ingestion must read back):

- `surveyxact_xlsx` / `surveyxact_csv`: `Dataset` (`dataset.csv`) has the respondent id variable, the
  system columns `statstatus` (1 answered, 0 invited without answering) and `statcompleted`, then the
  year's variables: kommune as its DST code, single choices as option codes, one column per multi-select
  option (1 chosen, 0 not chosen, blank when the respondent answered none of the question's options), one
  column per ranked option holding its rank 1-3 (blank if not ranked), free text as text.
  `Labels` (`labels.csv`) has `variable`, `value`, `label`: for the kommune and each single-choice
  variable one row per option (code, label); for each multi-select or ranked option column one row with
  that option's code and label. Every row therefore repeats a (variable, code, label) triple of the mapping.
- `msforms_xlsx`: one sheet `Sheet1` with `ID`, `Starttidspunkt`, `Fuldførelsestidspunkt`, `Mail`,
  `Navn`, then one column per question headed by its column/Danish text: kommune name (sometimes the
  official name, "Aarhus Kommune"), single choice label, multi-select labels joined by `;` (usually with a
  trailing `;`), the ranking as every option label in the respondent's order (ranked ones first; a partial
  ranking, which Forms itself cannot produce, is written as just the ranked labels). Where the answers
  have `<q>__andet_tekst`, that own text replaces the label `Andet` in the cell.
- `canonical_csv`: the columns of `YearInstrument.canonical_columns()`, values as option ids, multi-selects
  as 1/0. Written with pyarrow in one pass for UTF-8 (with or without BOM), else with pandas.

Every written file is byte-for-byte deterministic for the same answers and `seed` (xlsx timestamps are
fixed to the survey year).
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from benchmark_pipeline.instrument import LAYOUTS, MAX_RANK, SUBSTANTIVE_QUESTIONS, Question, YearInstrument
from benchmark_pipeline.reference import Kommuner
from benchmark_pipeline.sample.generate import default_kommuner

ENCODINGS = ("utf-8", "utf-8-sig", "utf-16", "cp1252")
SEPARATORS = (",", ";", "\t")
FORMS_FIXED_COLUMNS = ("ID", "Starttidspunkt", "Fuldførelsestidspunkt", "Mail", "Navn")
FORMS_SHEET = "Sheet1"
SURVEYXACT_CSV_FILES = ("dataset.csv", "labels.csv")


class ExportError(ValueError):
    """The answers cannot be written in the requested layout, encoding or separator."""


# ---------------------------------------------------------------------------------------------- helpers


def _answered_mask(answers: pd.DataFrame, q: Question) -> np.ndarray:
    """Whether each respondent answered question `q` (any option ticked / any rank / a value)."""
    cols = [c for c in q.canonical_columns() if c in answers.columns]
    if not cols:
        return np.zeros(len(answers), dtype=bool)
    if q.kind == "multi":
        return (answers[cols].fillna(0).astype("int64").to_numpy() == 1).any(axis=1)
    return answers[cols].notna().to_numpy().any(axis=1)


def response_mask(answers: pd.DataFrame, instrument: YearInstrument) -> np.ndarray:
    """True for rows that answer at least one substantive question (False = non-response)."""
    mask = np.zeros(len(answers), dtype=bool)
    for q in instrument.questions:
        if q.id in SUBSTANTIVE_QUESTIONS:
            mask |= _answered_mask(answers, q)
    return mask


def _as_object(series: pd.Series) -> np.ndarray:
    """Values as an object array with None for missing."""
    arr = series.astype(object).to_numpy()
    return np.where(pd.isna(arr), None, arr)


def _map_through(series: pd.Series, mapping: dict) -> pd.Series:
    """Map known values, keep unknown ones as they are (so invalid values can be planted), NA stays NA."""
    obj = series.astype(object)
    mapped = obj.map(mapping)
    return mapped.where(mapped.notna(), obj)


def _numeric_or_text(series: pd.Series) -> pd.Series:
    """Int64 when every present value is an integer (or integer literal), else the values unchanged."""
    obj = series.astype(object)
    num = pd.to_numeric(obj, errors="coerce")
    present = obj.notna().to_numpy()
    values = num.to_numpy(dtype="float64", na_value=np.nan)
    if np.isnan(values[present]).any() or (np.mod(values[present], 1) != 0).any():
        # Mixed with planted non-numeric values: keep integral numbers as ints, the rest as they are.
        return obj.map(lambda v: int(v) if isinstance(v, (float, np.floating)) and float(v).is_integer() else v)
    return num.astype("Int64")


def _rank_columns(answers: pd.DataFrame, q: Question) -> list[np.ndarray]:
    """The option id at each rank (object arrays, None for no option)."""
    return [_as_object(answers[c]) if c in answers.columns else np.full(len(answers), None, dtype=object)
            for c in q.canonical_columns()]


def _multi_matrix(answers: pd.DataFrame, q: Question) -> np.ndarray:
    cols = []
    for c in q.canonical_columns():
        cols.append(answers[c].fillna(0).astype("int64").to_numpy() if c in answers.columns
                    else np.zeros(len(answers), dtype=np.int64))
    return np.column_stack(cols) if cols else np.zeros((len(answers), 0), dtype=np.int64)


def _timestamps(rng: np.random.Generator, survey_year: int, n: int) -> tuple[pd.Series, pd.Series]:
    start = pd.Timestamp(f"{survey_year}-09-01 08:00:00") + pd.to_timedelta(
        rng.integers(0, 30 * 24 * 3600, size=n), unit="s")
    done = start + pd.to_timedelta(rng.integers(120, 1500, size=n), unit="s")
    return pd.Series(start), pd.Series(done)


# ---------------------------------------------------------------------------------------------- tables


def _surveyxact_tables(answers, instrument, kommuner, rng) -> dict[str, pd.DataFrame]:
    n = len(answers)
    responded = response_mask(answers, instrument)
    out: dict[str, object] = {instrument.respondent_id: _numeric_or_text(answers["respondent_id"])}
    out["statstatus"] = pd.array(np.where(responded, 1, 0), dtype="Int64")
    _, done = _timestamps(rng, instrument.survey_year, n)
    out["statcompleted"] = done.dt.strftime("%d-%m-%Y %H:%M").where(responded, None).astype(object)
    labels: list[tuple[str, int, str]] = []
    for q in instrument.questions:
        if q.kind == "kommune":
            var = q.variable or "kommune"
            out[var] = _numeric_or_text(answers["kommune"]) if "kommune" in answers else pd.array([None] * n)
            table = kommuner.table
            labels += [(var, int(c), name) for c, name in zip(table["kommune_kode"], table["kommune_navn"])]
        elif q.kind == "single":
            codes = {o.id: o.code for o in q.options}
            out[q.variable] = _numeric_or_text(_map_through(answers[q.id], codes)) if q.id in answers else \
                pd.array([None] * n, dtype="Int64")
            labels += [(q.variable, o.code, o.label) for o in q.options]
        elif q.kind == "multi":
            m = _multi_matrix(answers, q)
            answered = (m == 1).any(axis=1)
            for j, o in enumerate(q.options):
                out[o.variable] = pd.array(np.where(answered, m[:, j], 0), dtype="Int64")
                out[o.variable][~answered] = pd.NA
                labels.append((o.variable, o.code, o.label))
        elif q.kind == "ranked":
            ranks = _rank_columns(answers, q)
            for o in q.options:
                col = np.full(n, None, dtype=object)
                for r, ids in enumerate(ranks, start=1):
                    col[ids == o.id] = r
                out[o.variable] = pd.array(col, dtype="Int64")
                labels.append((o.variable, o.code, o.label))
        elif q.kind == "text":
            out[q.variable] = answers[q.id].astype(object).where(answers[q.id].notna(), None) \
                if q.id in answers else pd.array([None] * n)
    dataset = pd.DataFrame(out)
    label_frame = pd.DataFrame(labels, columns=["variable", "value", "label"])
    return {"Dataset": dataset, "Labels": label_frame}


def _join_labels(parts: list[np.ndarray], counts: np.ndarray | None = None) -> np.ndarray:
    """Join per-row label columns with `;`; None/"" parts are skipped; `counts` limits to the first k."""
    n = len(parts[0]) if parts else 0
    acc = np.full(n, "", dtype=object)
    for j, part in enumerate(parts):
        use = np.array([p is not None and p != "" for p in part], dtype=bool) if part.dtype == object else part != ""
        if counts is not None:
            use &= j < counts
        acc = np.where(use & (acc != ""), acc + ";" + part.astype(object), np.where(use, part, acc))
    return acc


def _forms_tables(answers, instrument, kommuner, rng) -> dict[str, pd.DataFrame]:
    n = len(answers)
    start, done = _timestamps(rng, instrument.survey_year, n)
    ids = _numeric_or_text(answers["respondent_id"])
    serial = np.arange(1, n + 1)
    out: dict[str, object] = {
        "ID": ids,
        "Starttidspunkt": start,
        "Fuldførelsestidspunkt": done,
        "Mail": pd.Series([f"respondent{i:05d}@kommune.example" for i in serial], dtype=object),
        "Navn": pd.Series([f"Syntetisk Respondent {i}" for i in serial], dtype=object),
    }
    trailing = rng.random(n) < 0.8
    for q in instrument.questions:
        header = q.column or q.text
        if q.kind == "kommune":
            table = kommuner.table
            short = dict(zip(table["kommune_kode"], table["kommune_navn"]))
            official = dict(zip(table["kommune_kode"], table["officielt_navn"]))
            use_official = rng.random(n) < 0.1
            k = answers["kommune"].astype(object)
            names = np.where(use_official, _map_through(k, official), _map_through(k, short))
            out[header] = pd.Series(np.where(pd.isna(k.to_numpy()), None, names), dtype=object)
        elif q.kind == "single":
            lab = _map_through(answers[q.id], {o.id: o.label for o in q.options}) if q.id in answers \
                else pd.Series([None] * n, dtype=object)
            own = f"{q.id}__andet_tekst"
            if q.has_andet and own in answers:
                typed = answers[own].notna().to_numpy() & (answers[q.id].astype(object) == "andet").to_numpy()
                lab = lab.where(~typed, answers[own].astype(object))
            out[header] = _as_object(lab)
        elif q.kind == "multi":
            m = _multi_matrix(answers, q)
            own = f"{q.id}__andet_tekst"
            parts = []
            for j, o in enumerate(q.options):
                label = np.full(n, o.label, dtype=object)
                if o.id == "andet" and own in answers:
                    text = _as_object(answers[own])
                    label = np.where(text == None, label, text)  # noqa: E711 (elementwise)
                parts.append(np.where(m[:, j] == 1, label, ""))
            joined = _join_labels(parts)
            joined = np.where((joined != "") & trailing, joined + ";", joined)
            out[header] = np.where(joined == "", None, joined)
        elif q.kind == "ranked":
            ranks = _rank_columns(answers, q)
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
            joined = _join_labels([labels[:, j] for j in range(len(opt_ids))], limit)
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
            out[header] = _as_object(answers[q.id]) if q.id in answers else np.full(n, None, dtype=object)
    return {FORMS_SHEET: pd.DataFrame(out)}


def _canonical_table(answers: pd.DataFrame, instrument: YearInstrument) -> pd.DataFrame:
    cols = {}
    for c in instrument.canonical_columns():
        if c in answers.columns:
            cols[c] = answers[c]
        elif "__" in c and not c.split("__")[1].isdigit():
            cols[c] = pd.Series(np.zeros(len(answers), dtype=np.int8), index=answers.index)
        else:
            cols[c] = pd.Series([None] * len(answers), index=answers.index, dtype=object)
    return pd.DataFrame(cols)


def build_export(
    answers: pd.DataFrame,
    instrument: YearInstrument,
    layout: str | None = None,
    *,
    kommuner: Kommuner | None = None,
    seed: int = 0,
) -> dict[str, pd.DataFrame]:
    """The tables of one export of `answers` (names: `Dataset`/`Labels`, `dataset`/`labels`, `Sheet1`,
    `canonical`). `layout` defaults to the instrument's; `seed` drives timestamps and Forms cosmetics."""
    layout = layout or instrument.layout
    if layout not in LAYOUTS:
        raise ExportError(f"unknown layout {layout!r}; expected one of {', '.join(LAYOUTS)}")
    rng = np.random.default_rng([int(seed), instrument.survey_year, LAYOUTS.index(layout)])
    if layout == "canonical_csv":
        return {"canonical": _canonical_table(answers, instrument)}
    kommuner = kommuner or default_kommuner(instrument)
    if layout in ("surveyxact_xlsx", "surveyxact_csv"):
        missing = [q.id for q in instrument.questions if q.kind in ("kommune", "single", "text") and not q.variable]
        missing += [f"{q.id}.{o.id}" for q in instrument.of_kind("multi", "ranked") for o in q.options if not o.variable]
        if missing:
            raise ExportError(f"the {instrument.survey_year} mapping has no SurveyXact variable for {', '.join(missing)}")
        tables = _surveyxact_tables(answers, instrument, kommuner, rng)
        if layout == "surveyxact_csv":
            return {"dataset": tables["Dataset"], "labels": tables["Labels"]}
        return tables
    return _forms_tables(answers, instrument, kommuner, rng)


# ---------------------------------------------------------------------------------------------- files


def _xlsx_timestamp(survey_year: int | None) -> dt.datetime:
    return dt.datetime(survey_year or 2023, 10, 1, 12, 0, 0)


def _freeze_xlsx(path: Path, when: dt.datetime) -> None:
    """Make an openpyxl workbook byte-for-byte reproducible: fixed document and zip-entry timestamps."""
    stamp = when.strftime("%Y-%m-%dT%H:%M:%SZ")
    src = path.read_bytes()
    buf = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(src)) as zin, zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == "docProps/core.xml":
                text = data.decode("utf-8")
                text = re.sub(r"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:\2>)", rf"\g<1>{stamp}\g<3>", text)
                data = text.encode("utf-8")
            entry = zipfile.ZipInfo(info.filename, date_time=when.timetuple()[:6])
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o600 << 16
            zout.writestr(entry, data)
    path.write_bytes(buf.getvalue())


def _cell(value):
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and np.isnan(value):
        return None
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    return value


def _write_xlsx(tables: dict[str, pd.DataFrame], path: Path, when: dt.datetime) -> None:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    wb.properties.creator = "benchmark_pipeline synthetic sample"
    wb.properties.created = when
    for name, frame in tables.items():
        ws = wb.create_sheet(title=name)
        ws.append([str(c) for c in frame.columns])
        columns = [frame[c].astype(object).to_numpy() for c in frame.columns]
        for row in zip(*columns):
            ws.append([_cell(v) for v in row])
    wb.save(path)
    _freeze_xlsx(path, when)


def _check_text_options(encoding: str, separator: str) -> None:
    if encoding.lower() not in ENCODINGS:
        raise ExportError(f"encoding {encoding!r} is not one of {', '.join(ENCODINGS)}")
    if separator not in SEPARATORS:
        raise ExportError(f"separator {separator!r} is not one of {', '.join(map(repr, SEPARATORS))}")


def _write_csv(frame: pd.DataFrame, path: Path, encoding: str, separator: str, newline: str) -> None:
    encoding = encoding.lower()
    if encoding in ("utf-8", "utf-8-sig"):
        import pyarrow as pa
        import pyarrow.compute as pc
        import pyarrow.csv as pacsv

        columns = []
        for c in frame.columns:
            s = frame[c]
            if s.dtype == object:
                s = s.astype("str")
            arr = pa.array(s, from_pandas=True)
            if pa.types.is_dictionary(arr.type) or pa.types.is_large_string(arr.type):
                arr = pc.cast(arr, pa.string())  # plain strings write about twice as fast
            columns.append(arr)
        table = pa.table(columns, names=[str(c) for c in frame.columns])
        opts = pacsv.WriteOptions(delimiter=separator, eol=newline, quoting_style="needed", quoting_header="none",
                                  batch_size=65536)
        with open(path, "wb") as fh:
            if encoding == "utf-8-sig":
                fh.write("\ufeff".encode("utf-8"))
            pacsv.write_csv(table, fh, write_options=opts)
        return
    try:
        frame.to_csv(path, sep=separator, index=False, encoding=encoding, lineterminator=newline, errors="strict")
    except UnicodeEncodeError as exc:
        raise ExportError(f"{path}: a value cannot be written in {encoding}: {exc}") from exc


def write_tables(
    tables: dict[str, pd.DataFrame],
    layout: str,
    path: str | Path,
    *,
    encoding: str = "utf-8",
    separator: str = ",",
    newline: str = "\n",
    survey_year: int | None = None,
) -> list[Path]:
    """Write tables made by `build_export` (possibly edited). Returns the written files.

    `path`: the .xlsx file for the xlsx layouts, the .csv file for canonical CSV; for the SurveyXact CSV
    variant a folder that receives `dataset.csv` and `labels.csv` (or a dataset file, with `labels.csv`
    written beside it). `encoding`/`separator`/`newline` apply to the text layouts.
    """
    path = Path(path)
    if layout not in LAYOUTS:
        raise ExportError(f"unknown layout {layout!r}; expected one of {', '.join(LAYOUTS)}")
    if layout in ("surveyxact_xlsx", "msforms_xlsx"):
        path.parent.mkdir(parents=True, exist_ok=True)
        _write_xlsx(tables, path, _xlsx_timestamp(survey_year))
        return [path]
    _check_text_options(encoding, separator)
    if layout == "canonical_csv":
        path.parent.mkdir(parents=True, exist_ok=True)
        _write_csv(tables["canonical"], path, encoding, separator, newline)
        return [path]
    if path.suffix.lower() == ".csv":
        folder, dataset_path = path.parent, path
    else:
        folder, dataset_path = path, path / SURVEYXACT_CSV_FILES[0]
    labels_path = folder / SURVEYXACT_CSV_FILES[1]
    if dataset_path == labels_path:
        raise ExportError(f"{path}: the dataset file cannot be named {SURVEYXACT_CSV_FILES[1]}")
    folder.mkdir(parents=True, exist_ok=True)
    _write_csv(tables["dataset"], dataset_path, encoding, separator, newline)
    _write_csv(tables["labels"], labels_path, encoding, separator, newline)
    return [dataset_path, labels_path]


def write_export(
    answers: pd.DataFrame,
    instrument: YearInstrument,
    layout: str | None,
    path: str | Path,
    encoding: str = "utf-8",
    separator: str = ",",
    *,
    newline: str = "\n",
    kommuner: Kommuner | None = None,
    seed: int = 0,
) -> list[Path]:
    """Write `answers` as one export of `layout` (default: the instrument's) at `path`; see `write_tables`."""
    layout = layout or instrument.layout
    tables = build_export(answers, instrument, layout, kommuner=kommuner, seed=seed)
    return write_tables(tables, layout, path, encoding=encoding, separator=separator, newline=newline,
                        survey_year=instrument.survey_year)
