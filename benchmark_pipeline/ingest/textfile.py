"""Delimited text exports, read and written: encoding, separator, header, and pyarrow's parser.

Every text layout reads through `TEXT` and `TextSource.table`, so a layout only says which columns are
ids or free text; reading a million rows stays one pyarrow pass however many layouts there are.
"""

from __future__ import annotations

import csv
import io
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from .encoding import BOMS, ENCODINGS, NUL_MESSAGE, SEPARATORS, sniff_separator, utf8_bytes
from .errors import ExportError, UnreadableExportError
from .raw import FileKind, header_key, unique_header

TEXT_SUFFIXES = frozenset({".csv", ".tsv", ".txt"})
HEAD_BYTES = 1 << 16  # enough for any header line; a longer one sends the file down the whole-file path
DEFAULT_BLOCK_SIZE = 1 << 20  # pyarrow's default CSV block; a cell larger than a block is re-read as one block
MAX_BLOCK_SIZE = (1 << 31) - 1


def read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise UnreadableExportError(f"cannot read the file ({exc.strerror or exc})", file=path) from None


def header_names(header_line: str, sep: str, path: Path) -> list[str]:
    """The column names of a delimited file's header line (see `raw.unique_header`)."""
    if not header_line.strip():
        raise UnreadableExportError("the file is empty or its first line is blank", file=path)
    try:
        header = next(csv.reader([header_line], delimiter=sep))
    except (csv.Error, StopIteration):
        raise UnreadableExportError("the header line cannot be parsed", file=path, row=1) from None
    return unique_header(header, path)


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
        row = _first_ragged_row(data if data is not None else read_bytes(path), sep, expected)
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
class TextFile:
    """A text export as UTF-8 bytes (None: read by pyarrow straight from disk), with its header line and separator."""

    data: bytes | None
    header_line: str
    encoding: str
    separator: str


def read_head(path: Path) -> bytes:
    try:
        with open(path, "rb") as handle:
            return handle.read(HEAD_BYTES)
    except OSError as exc:
        raise UnreadableExportError(f"cannot read the file ({exc.strerror or exc})", file=path) from None


def load_text_file(path: Path, whole: bool = False) -> TextFile:
    """The export's header and separator; its bytes too unless pyarrow can read it from disk.

    A file with no BOM whose header line is UTF-8 is read by pyarrow itself (no copy of a large export in
    memory; pyarrow checks every cell for UTF-8 and `parse_text_table` asks for the whole-file path when
    one is not). Otherwise, or with `whole`, the bytes are decoded in the order of `utf8_bytes`.
    """
    head = read_head(path)
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
            return TextFile(None, header_line, "utf-8", sniff_separator(header_line))
    data, encoding = utf8_bytes(read_bytes(path), path)
    end = data.find(b"\n")
    header_line = (data if end < 0 else data[:end]).decode("utf-8").rstrip("\r")
    return TextFile(data, header_line, encoding, sniff_separator(header_line))


def read_text_file(path: Path) -> tuple[pd.DataFrame, str, str]:
    """A small text file (a SurveyXact labels file) with every column as text."""
    text = load_text_file(path, whole=True)
    return parse_text_table(text.data, text.header_line, text.separator, path), text.encoding, text.separator


# --------------------------------------------------------------------------- the opened file


@dataclass
class TextSource:
    """An opened text export: its header read, its table parsed once a layout says which columns are plain."""

    path: Path
    text: TextFile
    names: list[str]

    @property
    def header(self) -> set[str]:
        return {header_key(c) for c in self.names}

    def table(self, plain_columns: frozenset[str]) -> pd.DataFrame:
        """The rows (see `parse_text_table`); `text` says the encoding and separator they were read with."""
        try:
            return self._parse(plain_columns)
        except _NotUtf8:  # a Windows-1252 export with an ASCII header: decode it whole, as `utf8_bytes` does
            self.text = load_text_file(self.path, whole=True)
            return self._parse(plain_columns)

    def _parse(self, plain_columns: frozenset[str]) -> pd.DataFrame:
        return parse_text_table(self.text.data, self.text.header_line, self.text.separator, self.path, plain_columns)


def open_text(path: Path) -> nullcontext:
    text = load_text_file(path)
    return nullcontext(TextSource(path, text, header_names(text.header_line, text.separator, path)))


TEXT = FileKind("a text export", TEXT_SUFFIXES, None, open_text)


# --------------------------------------------------------------------------- writing (synthetic samples)


def check_text_options(encoding: str, separator: str) -> None:
    if encoding.lower() not in ENCODINGS:
        raise ExportError(f"encoding {encoding!r} is not one of {', '.join(ENCODINGS)}")
    if separator not in SEPARATORS:
        raise ExportError(f"separator {separator!r} is not one of {', '.join(map(repr, SEPARATORS))}")


def write_csv(frame: pd.DataFrame, path: Path, encoding: str, separator: str, newline: str) -> None:
    encoding = encoding.lower()
    if encoding in ("utf-8", "utf-8-sig"):
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
