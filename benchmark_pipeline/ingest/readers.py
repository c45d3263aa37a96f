"""Finding and reading one survey year's export, whatever its layout, encoding and separator.

A reader returns raw values only (text, blank = NA) with the row number a person sees in the source file;
a text export's coded columns arrive as categoricals of their raw texts, ids and free text as `str`.
Mapping onto the stable ids happens in `mapping.py`.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from benchmark_pipeline.instrument import YearInstrument
from benchmark_pipeline.reference import Kommuner

from .encoding import BOMS, NUL_MESSAGE, sniff_separator, utf8_bytes
from .errors import ExportNotFoundError, LayoutError, UnreadableExportError
from .pii import is_personal_column

EXCEL_SUFFIXES = {".xlsx", ".xlsm"}
TEXT_SUFFIXES = {".csv", ".tsv", ".txt"}
EXPORT_SUFFIXES = EXCEL_SUFFIXES | TEXT_SUFFIXES | {".xls"}
LAYOUT_FAMILY = {
    "surveyxact_xlsx": "surveyxact",
    "surveyxact_csv": "surveyxact",
    "msforms_xlsx": "msforms",
    "canonical_csv": "canonical",
}
HEAD_BYTES = 1 << 16  # enough for any header line; a longer one sends the file down the whole-file path
DEFAULT_BLOCK_SIZE = 1 << 20  # pyarrow's default CSV block; a cell larger than a block is re-read as one block
MAX_BLOCK_SIZE = (1 << 31) - 1
FORMS_MARKERS = {"starttidspunkt", "fuldførelsestidspunkt", "start time", "completion time"}


def header_key(name: object) -> str:
    """How column headers are compared: NFC, whitespace collapsed, case-insensitive."""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFC", str(name))).strip().casefold()


@dataclass
class RawExport:
    """One export as read: raw text values (blank = NA; a text export's coded columns as categoricals of
    their texts) plus `source_row`, before any mapping."""

    path: Path
    files: list[Path]
    layout: str
    encoding: str | None  # None for .xlsx
    separator: str | None  # None for .xlsx
    frame: pd.DataFrame
    labels: pd.DataFrame | None = None  # SurveyXact Labels: variable, value, label
    labels_path: Path | None = None
    sheet: str | None = None
    dropped_columns: list[str] = field(default_factory=list)  # personal-data columns removed on reading
    pii_masked: int = 0  # CPR-like numbers and e-mail addresses masked in free-text columns on reading
    masked: bool = False  # free-text columns already masked (mapping need not scan them again)

    @property
    def rows_read(self) -> int:
        return len(self.frame)


# --------------------------------------------------------------------------- finding the export


def _labels_partner(path: Path) -> Path | None:
    """The labels file belonging to a SurveyXact dataset file, if it is there."""
    if "dataset" not in path.name.casefold():
        return None
    wanted = re.sub("dataset", "labels", path.name, flags=re.IGNORECASE).casefold()
    for sibling in path.parent.iterdir():
        if sibling.is_file() and sibling.name.casefold() == wanted:
            return sibling
    return None


def _is_labels_of_dataset(path: Path) -> bool:
    if "labels" not in path.name.casefold():
        return False
    wanted = re.sub("labels", "dataset", path.name, flags=re.IGNORECASE).casefold()
    return any(s.is_file() and s.name.casefold() == wanted for s in path.parent.iterdir())


def is_ignored(path: Path) -> bool:
    """README*, hidden files and Office lock files (`~$…`) are not part of an export."""
    name = path.name
    return name.startswith((".", "~$")) or name.casefold().startswith("readme")


def export_files(raw_dir: Path) -> list[Path]:
    """The files of a year's export folder that count (top level only, `is_ignored` ones left out), by name.

    An export is these files: `find_export` picks the export among them, and a change to any of them is a
    change of the export. A missing folder has none; a folder that cannot be listed raises OSError.
    """
    raw_dir = Path(raw_dir)
    if not raw_dir.is_dir():
        return []
    return sorted((p for p in raw_dir.iterdir() if p.is_file() and not is_ignored(p)), key=lambda p: p.name)


def find_export(path: Path) -> Path:
    """PATH itself if it is a file; else the one export file in the folder (README* and hidden files ignored)."""
    path = Path(path)
    if path.is_file():
        return path
    if not path.exists():
        raise ExportNotFoundError("no such file or folder", file=path)
    if not path.is_dir():
        raise ExportNotFoundError("not a file or folder", file=path)
    try:
        files = export_files(path)
    except OSError as exc:
        raise ExportNotFoundError(f"cannot list the folder ({exc.strerror or exc})", file=path) from None
    candidates = [f for f in files if f.suffix.casefold() in EXPORT_SUFFIXES and not _is_labels_of_dataset(f)]
    if not candidates:
        raise ExportNotFoundError(
            "the folder holds no export file (.xlsx, .csv, .tsv or .txt; README and hidden files are ignored)",
            file=path,
        )
    if len(candidates) > 1:
        names = ", ".join(c.name for c in candidates)
        raise ExportNotFoundError(f"the folder holds several export files ({names}); expected exactly one", file=path)
    return candidates[0]


# --------------------------------------------------------------------------- text files


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise UnreadableExportError(f"cannot read the file ({exc.strerror or exc})", file=path) from None


def _unique_header(names: list[str], path: Path) -> list[str]:
    """Header names, blank ones given a placeholder; a repeated non-blank name is ambiguous."""
    out, seen = [], set()
    for i, name in enumerate(names):
        name = "" if name is None else str(name).strip()
        if not name:
            name = f"__blank_{i + 1}"
        elif name == "source_row":  # reserved for the row number; a re-exported frame's copy is not data
            name = "__export_source_row"
        if name in seen:
            raise UnreadableExportError(f"the header names column {name!r} twice", file=path, column=name)
        seen.add(name)
        out.append(name)
    return out


def header_names(header_line: str, sep: str, path: Path) -> list[str]:
    """The column names of a delimited file's header line (see `_unique_header`)."""
    if not header_line.strip():
        raise UnreadableExportError("the file is empty or its first line is blank", file=path)
    try:
        header = next(csv.reader([header_line], delimiter=sep))
    except (csv.Error, StopIteration):
        raise UnreadableExportError("the header line cannot be parsed", file=path, row=1) from None
    return _unique_header(header, path)


class _NotUtf8(Exception):
    """A file read straight from disk turned out not to be UTF-8: read it whole and decode it instead."""


def parse_text_table(
    data: bytes | None, header_line: str, sep: str, path: Path, plain_columns: frozenset[str] | None = None
) -> pd.DataFrame:
    """UTF-8 delimited bytes (or, with `data=None`, the file at `path`, which pyarrow reads itself and
    checks for UTF-8) as a frame of raw text (blank = NA) with `source_row` (header = row 1).

    Columns named in `plain_columns` (ids, free text: nearly every value distinct) are read as text
    (`str`); every other column holds coded answers that repeat, and is read as a categorical of its
    distinct raw texts, so a million rows cost one string per distinct value, not one per cell.
    `plain_columns=None` reads every column as text.
    Values are not trimmed here (that would cost a pass over every column); mapping compares
    values whitespace-insensitively and trims the id and free-text columns.
    """
    names = header_names(header_line, sep, path)
    internal = [f"c{i}" for i in range(len(names))]
    coded = pa.dictionary(pa.int32(), pa.string())
    types = {
        c: pa.large_string() if plain_columns is None or name in plain_columns else coded
        for c, name in zip(internal, names)
    }
    bad_rows: list[int | None] = []

    def on_invalid(row) -> str:
        bad_rows.append(row.number)
        return "error"

    def read(block_size: int):
        return pacsv.read_csv(
            pa.BufferReader(data) if data is not None else str(path),
            read_options=pacsv.ReadOptions(
                column_names=internal, skip_rows=1, use_threads=True, block_size=block_size
            ),
            parse_options=pacsv.ParseOptions(
                # pyarrow hands the handler the row as text: only bytes known to be UTF-8 can be handed
                delimiter=sep, newlines_in_values=True, invalid_row_handler=on_invalid if data is not None else None
            ),
            convert_options=pacsv.ConvertOptions(
                column_types=types,
                null_values=[""],
                strings_can_be_null=True,
                quoted_strings_can_be_null=True,
            ),
        )

    try:
        try:
            table = read(DEFAULT_BLOCK_SIZE)
        except pa.ArrowInvalid as exc:
            if "straddl" not in str(exc) or bad_rows:
                raise
            # a cell larger than a block (a very long free text): read the file as one block
            size = len(data) if data is not None else path.stat().st_size
            table = read(min(max(size + 1, DEFAULT_BLOCK_SIZE), MAX_BLOCK_SIZE))
    except (pa.ArrowException, ValueError, OverflowError) as exc:
        if data is None and "invalid UTF8" in str(exc):
            raise _NotUtf8() from None
        expected = len(names)
        row = _first_ragged_row(data if data is not None else _read_bytes(path), sep, expected)
        if row is not None:
            raise UnreadableExportError(
                f"the row has {row[1]} fields, the header has {expected} columns; separator {sep!r} "
                "(a truncated file, a stray separator or mixed separators?)",
                file=path,
                row=row[0],
            ) from None
        if bad_rows or "columns" in str(exc):
            msg = f"a row does not have the header's {expected} columns"
        else:
            msg = "the file cannot be parsed as a delimited table"
        raise UnreadableExportError(f"{msg}; separator {sep!r}", file=path) from None
    frame = table.to_pandas()
    frame.columns = names
    for name in names:
        if isinstance(frame[name].dtype, pd.CategoricalDtype):
            if frame[name].cat.categories.dtype != "str":  # an all-blank column has no categories to type
                frame[name] = frame[name].cat.set_categories(frame[name].cat.categories.astype("str"))
        elif frame[name].dtype != "str":
            frame[name] = frame[name].astype("str")
    if data is None:
        _refuse_nul(frame, path)
    frame["source_row"] = np.arange(2, len(frame) + 2, dtype="int64")
    return frame


def _refuse_nul(frame: pd.DataFrame, path: Path) -> None:
    """What `utf8_bytes` refuses in a file read whole: a NUL byte, which only a cell can hold here."""
    for name in frame.columns:
        column = frame[name]
        values = column.cat.categories.to_series() if isinstance(column.dtype, pd.CategoricalDtype) else column
        if values.str.contains("\x00", regex=False, na=False).any():
            raise UnreadableExportError(NUL_MESSAGE, file=path)


def _first_ragged_row(data: bytes, sep: str, expected: int) -> tuple[int, int] | None:
    """(row number as a person sees it, field count) of the first row whose width differs from the header.

    Only called when parsing failed, so the slow, exact pass over the file costs nothing on good files.
    """
    text = data.decode("utf-8", errors="replace")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep)
    number = 0  # records, as `source_row` counts them: the header is row 1
    try:
        for number, record in enumerate(reader, start=1):
            if number > 1 and record and len(record) != expected:
                return number, len(record)
    except csv.Error:
        return number + 1, 0
    return None


# Signatures of binary formats people save under a text name.
_BINARY_SIGNATURES = (
    (b"PK\x03\x04", "an Excel workbook or another zip archive, not a text export: if it is the .xlsx export, "
                     "give it the .xlsx extension"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old binary Excel (.xls) or Word file, not a text export: "
                                             "save the export as .xlsx or CSV"),
    (b"%PDF", "a PDF document, not a text export"),
    (b"\x89PNG", "a PNG image, not a text export"),
)


@dataclass(frozen=True)
class _TextFile:
    """A text export as UTF-8 bytes (None: read by pyarrow straight from disk), with its header line and separator."""

    data: bytes | None
    header_line: str
    encoding: str
    separator: str


def _read_head(path: Path) -> bytes:
    try:
        with open(path, "rb") as handle:
            return handle.read(HEAD_BYTES)
    except OSError as exc:
        raise UnreadableExportError(f"cannot read the file ({exc.strerror or exc})", file=path) from None


def _load_text_file(path: Path, whole: bool = False) -> _TextFile:
    """The export's header and separator; its bytes too unless pyarrow can read it from disk.

    A file with no BOM whose header line is UTF-8 is read by pyarrow itself (no copy of a large export in
    memory; pyarrow checks every cell for UTF-8 and `parse_text_table` asks for the whole-file path when
    one is not). Otherwise, or with `whole`, the bytes are decoded in the order of `utf8_bytes`.
    """
    head = _read_head(path)
    for signature, what in _BINARY_SIGNATURES:
        if head.startswith(signature):
            raise UnreadableExportError(f"the file is {what}", file=path)
    end = head.find(b"\n")
    if not whole and end >= 0 and not head.startswith(BOMS) and b"\x00" not in head[:end]:
        try:
            header_line = head[:end].decode("utf-8").rstrip("\r")
        except UnicodeDecodeError:
            pass
        else:
            return _TextFile(None, header_line, "utf-8", sniff_separator(header_line))
    data, encoding = utf8_bytes(_read_bytes(path), path)
    end = data.find(b"\n")
    header_line = (data if end < 0 else data[:end]).decode("utf-8").rstrip("\r")
    return _TextFile(data, header_line, encoding, sniff_separator(header_line))


def _read_text_file(path: Path) -> tuple[pd.DataFrame, str, str]:
    """A small text file (a SurveyXact labels file) with every column as text."""
    text = _load_text_file(path, whole=True)
    return parse_text_table(text.data, text.header_line, text.separator, path), text.encoding, text.separator


# --------------------------------------------------------------------------- Excel


def _cell_text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        if value != value:  # NaN
            return None
        if value.is_integer():
            return str(int(value))
        return repr(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    text = str(value).strip()
    return text or None


def _sheet_frame(ws, path: Path) -> pd.DataFrame:
    """A worksheet as text (blank = NA); fully blank rows are not rows; `source_row` is the sheet row."""
    try:
        ws.reset_dimensions()
    except AttributeError:
        pass
    rows = ws.iter_rows(values_only=True)
    header = None
    for header_row in rows:
        header = list(header_row)
        break
    if header is None or all(v is None for v in header):
        raise UnreadableExportError(f"sheet {ws.title!r} has no header in row 1", file=path)
    while header and header[-1] is None:
        header.pop()
    names = _unique_header([_cell_text(v) or "" for v in header], path)
    width = len(names)
    data, numbers = [], []
    for number, row in enumerate(rows, start=2):
        values = [_cell_text(v) for v in row[:width]]
        if not any(v is not None for v in values):
            if any(v is not None for v in row[width:]):
                raise UnreadableExportError("a cell lies outside the header's columns", file=path, row=number)
            continue
        if any(_cell_text(v) is not None for v in row[width:]):
            raise UnreadableExportError("a cell lies outside the header's columns", file=path, row=number)
        values.extend([None] * (width - len(values)))
        data.append(values)
        numbers.append(number)
    frame = pd.DataFrame(data, columns=names, dtype="str") if data else pd.DataFrame(
        {n: pd.Series([], dtype="str") for n in names}
    )
    frame["source_row"] = np.asarray(numbers, dtype="int64")
    return frame


def _open_workbook(path: Path):
    import openpyxl

    try:
        return openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, OSError, KeyError, ValueError, TypeError, IndexError, EOFError) as exc:
        raise UnreadableExportError(f"not a readable .xlsx workbook ({type(exc).__name__})", file=path) from None
    except Exception as exc:  # openpyxl raises a wide variety on corrupt archives
        raise UnreadableExportError(f"not a readable .xlsx workbook ({type(exc).__name__})", file=path) from None


def _find_sheet(wb, name: str):
    for title in wb.sheetnames:
        if title.strip().casefold() == name:
            return wb[title]
    return None


# --------------------------------------------------------------------------- layout detection


def _detect_text_layout(header: set[str], labels_beside: bool, instrument: YearInstrument | None) -> str | None:
    if "respondent_id" in header and "kommune" in header:
        return "canonical_csv"
    if labels_beside or "respondentid" in header:
        return "surveyxact_csv"
    if instrument is not None and LAYOUT_FAMILY.get(instrument.layout) == "surveyxact":
        if header_key(instrument.respondent_id) in header:
            return "surveyxact_csv"
    return None


def _detect_forms(header: set[str], instrument: YearInstrument | None) -> bool:
    if "id" in header and header & FORMS_MARKERS:
        return True
    if instrument is not None and instrument.layout == "msforms_xlsx":
        columns = {header_key(q.column or q.text) for q in instrument.questions}
        return header_key(instrument.respondent_id) in header and len(columns & header) >= len(columns) / 2
    return False


def check_layout(layout: str, instrument: YearInstrument, path: Path) -> None:
    """A detected layout must fit the mapping; the canonical CSV is keyed by stable ids and fits every year."""
    if layout == "canonical_csv":
        return
    if LAYOUT_FAMILY[layout] != LAYOUT_FAMILY.get(instrument.layout):
        raise LayoutError(
            f"the file is a {layout} export, but the {instrument.survey_year} mapping "
            f"({instrument.path.name if instrument.path else 'mapping'}) expects {instrument.layout}",
            file=path,
        )


def _drop_personal(frame: pd.DataFrame, instrument: YearInstrument) -> tuple[pd.DataFrame, list[str]]:
    keep_id = header_key(instrument.respondent_id)
    dropped = [
        c for c in frame.columns
        if c != "source_row" and header_key(c) != keep_id and is_personal_column(c, instrument.personal_columns)
    ]
    return (frame.drop(columns=dropped) if dropped else frame), dropped


def _labels_frame(frame: pd.DataFrame, path: Path) -> pd.DataFrame:
    cols = {header_key(c): c for c in frame.columns}
    missing = [c for c in ("variable", "value", "label") if c not in cols]
    if missing:
        from .errors import LabelsContradictionError

        raise LabelsContradictionError(
            f"the labels table lacks the column(s) {', '.join(missing)} (expected variable, value, label)",
            file=path,
        )
    out = frame[[cols["variable"], cols["value"], cols["label"], "source_row"]].copy()
    out.columns = ["variable", "value", "label", "source_row"]
    return out


def read_export(path: Path, instrument: YearInstrument, kommuner: Kommuner | None = None) -> RawExport:
    """Read PATH (an export file or a folder holding one) into raw text values, detecting its layout."""
    path = find_export(Path(path))
    suffix = path.suffix.casefold()
    if suffix == ".xls":
        raise UnreadableExportError("old binary Excel (.xls) is not supported: save the export as .xlsx", file=path)
    if suffix in EXCEL_SUFFIXES or (suffix not in TEXT_SUFFIXES and _read_bytes(path)[:4] == b"PK\x03\x04"):
        raw = _read_excel(path, instrument)
    else:
        raw = _read_text(path, instrument)
    check_layout(raw.layout, instrument, path)
    raw.frame, raw.dropped_columns = _drop_personal(raw.frame, instrument)
    _mask_free_text(raw, instrument)
    return raw


def free_text_columns(columns, layout: str, instrument: YearInstrument) -> list[str]:
    """Raw columns that can hold a respondent's own words: text questions, Forms "Andet" cells."""
    wanted = set()
    for q in instrument.questions:
        if q.kind == "text":
            name = q.id if layout == "canonical_csv" else (q.column or q.text) if layout == "msforms_xlsx" else q.variable
            wanted.add(header_key(name or q.id))
        elif q.has_andet and q.kind in ("single", "multi", "ranked"):
            if layout == "msforms_xlsx":
                wanted.add(header_key(q.column or q.text))
            elif layout == "canonical_csv":
                wanted.add(header_key(f"{q.id}__andet_tekst"))
    return [c for c in columns if c != "source_row" and header_key(c) in wanted]


def _mask_free_text(raw: RawExport, instrument: YearInstrument) -> None:
    """Mask personal data in free text as soon as it is read, so no stored copy holds it unmasked."""
    from .pii import mask_text

    columns = free_text_columns(raw.frame.columns, raw.layout, instrument)
    raw.masked = True
    if not columns:
        return
    masked = {}
    for col in columns:
        masked[col], count = mask_text(raw.frame[col])
        raw.pii_masked += count
    raw.frame = raw.frame.assign(**masked)  # copy-on-write: the other columns are not copied


def _read_excel(path: Path, instrument: YearInstrument) -> RawExport:
    wb = _open_workbook(path)
    try:
        try:
            dataset = _find_sheet(wb, "dataset")
            if dataset is not None:
                frame = _sheet_frame(dataset, path)
                labels_ws = _find_sheet(wb, "labels")
                labels = _labels_frame(_sheet_frame(labels_ws, path), path) if labels_ws is not None else None
                return RawExport(path, [path], "surveyxact_xlsx", None, None, frame, labels, None, dataset.title)
            if not wb.sheetnames:
                raise UnreadableExportError("the workbook has no sheets", file=path)
            ws = wb[wb.sheetnames[0]]
            frame = _sheet_frame(ws, path)
        except (UnreadableExportError, LayoutError):
            raise
        except Exception as exc:  # corrupt sheet XML surfaces lazily while iterating
            raise UnreadableExportError(f"not a readable .xlsx workbook ({type(exc).__name__})", file=path) from None
    finally:
        try:
            wb.close()
        except Exception:
            pass
    header = {header_key(c) for c in frame.columns if c != "source_row"}
    if _detect_forms(header, instrument):
        return RawExport(path, [path], "msforms_xlsx", None, None, frame, None, None, ws.title)
    raise LayoutError(
        "unknown layout: a workbook needs a 'Dataset' sheet (SurveyXact) or Microsoft Forms columns "
        "(ID, Starttidspunkt, ...)",
        file=path,
    )


def _read_text(path: Path, instrument: YearInstrument) -> RawExport:
    text = _load_text_file(path)
    names = header_names(text.header_line, text.separator, path)
    labels_path = _labels_partner(path)
    header = {header_key(c) for c in names}
    layout = _detect_text_layout(header, labels_path is not None, instrument)
    if layout is None:
        raise LayoutError(
            "unknown layout: a text export needs a 'respondent_id' column (canonical CSV) or "
            "SurveyXact variables with a labels file beside it",
            file=path,
        )
    id_key = header_key("respondent_id" if layout == "canonical_csv" else instrument.respondent_id)
    plain = frozenset(free_text_columns(names, layout, instrument)) | {c for c in names if header_key(c) == id_key}
    try:
        frame = parse_text_table(text.data, text.header_line, text.separator, path, plain)
    except _NotUtf8:  # a Windows-1252 export with an ASCII header: decode it whole, as `utf8_bytes` does
        text = _load_text_file(path, whole=True)
        frame = parse_text_table(text.data, text.header_line, text.separator, path, plain)
    files, labels = [path], None
    if layout == "surveyxact_csv" and labels_path is not None:
        labels_frame, _, _ = _read_text_file(labels_path)
        labels = _labels_frame(labels_frame, labels_path)
        files.append(labels_path)
    return RawExport(
        path, files, layout, text.encoding, text.separator, frame, labels, labels_path if labels is not None else None
    )
