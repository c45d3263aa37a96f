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
from typing import Callable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from .encoding import BOMS, ENCODINGS, SEPARATORS, first_line_end, sniff_separator, utf8_bytes
from .errors import ExportError, UnreadableExportError
from .raw import FileKind, header_key, unique_header

TEXT_SUFFIXES = frozenset({".csv", ".tsv", ".txt"})
HEAD_BYTES = 1 << 16  # enough for any header line; a longer one sends the file down the whole-file path
DEFAULT_BLOCK_SIZE = 1 << 20  # pyarrow's default CSV block; a cell larger than a block is re-read as one block
MAX_BLOCK_SIZE = (1 << 31) - 1
STRAY_NUL = ("the file contains NUL bytes, the first in {where}: a text export cannot hold them; remove the stray "
             "character (or export the file again) and try again")


def read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise UnreadableExportError(f"cannot read the file ({exc.strerror or exc})", file=path) from None


def on_line(row: int, line: int) -> str:
    """The words " (line N of the file)" where a row does not start on the line of its number (rows above it
    span lines), else nothing."""
    return f" (line {line} of the file)" if line != row else ""


def header_names(header_line: str, sep: str, path: Path) -> list[str]:
    """The column names of a delimited file's header line (see `raw.unique_header`)."""
    if not header_line.strip():
        raise UnreadableExportError("the file is empty or its first line is blank", file=path)
    try:
        header = next(csv.reader([header_line], delimiter=sep))
    except (csv.Error, StopIteration):
        raise UnreadableExportError("the header line cannot be parsed", file=path, row=1) from None
    nul = next((number for number, name in enumerate(header, start=1) if "\x00" in name), None)
    if nul is not None:
        raise UnreadableExportError(STRAY_NUL.format(where=f"the header, column {nul}"), file=path, row=1)
    return unique_header(header, path)


class _NotUtf8(Exception):
    """A file read straight from disk turned out not to be UTF-8: read it whole and decode it instead."""


def parse_text_table(
    data: bytes | None, header_line: str, sep: str, path: Path, plain_columns: frozenset[str] | None = None
) -> tuple[pd.DataFrame, np.ndarray | None]:
    """UTF-8 delimited bytes (or, with `data=None`, the file at `path`, which pyarrow reads itself and
    checks for UTF-8) as a frame of raw text (blank = NA) with `source_row` (header = row 1), and the line
    each row starts on where rows span lines (`record_lines`; None when every row is one line).

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
        ragged = _first_ragged_row(data if data is not None else read_bytes(path), sep, expected)
        if ragged is not None:
            row, line, fields = ragged
            raise UnreadableExportError(
                f"the row{on_line(row, line)} has {fields} fields, the header has {expected} columns; separator "
                f"{sep!r} (a truncated file, a stray separator or mixed separators?)",
                file=path,
                row=row,
            ) from None
        if bad_rows or "columns" in str(exc):
            msg = f"a row does not have the header's {expected} columns"
        else:
            msg = "the file cannot be parsed as a delimited table"
        raise UnreadableExportError(f"{msg}; separator {sep!r}", file=path) from None
    lines = record_lines(table)
    _refuse_nul(table, names, path, lines)
    frame = table.to_pandas()
    frame.columns = names
    for name in names:
        if isinstance(frame[name].dtype, pd.CategoricalDtype):
            if frame[name].cat.categories.dtype != "str":  # an all-blank column has no categories to type
                frame[name] = frame[name].cat.set_categories(frame[name].cat.categories.astype("str"))
        elif frame[name].dtype != "str":
            frame[name] = frame[name].astype("str")
    frame["source_row"] = np.arange(2, len(frame) + 2, dtype="int64")
    return frame, lines


def _per_row(column: pa.ChunkedArray, count: Callable[[pa.Array], pa.Array]) -> np.ndarray | None:
    """`count` of each row's cell, None when it is 0 in every row. A coded column's distinct texts are
    counted once, in one call over all its chunks' dictionaries, so the cost is in the plain columns."""
    coded = pa.types.is_dictionary(column.type)
    texts = [chunk.dictionary for chunk in column.chunks] if coded else column.chunks
    if not texts:
        return None
    counts = count(pa.concat_arrays(texts) if coded else column)
    if not (pc.max(counts).as_py() or 0):
        return None
    if coded:
        ends = np.cumsum([len(t) for t in texts])
        rows = [pc.take(counts[end - len(t):end], chunk.indices) for t, end, chunk in zip(texts, ends, column.chunks)]
    else:
        rows = counts.chunks
    return np.concatenate([pc.fill_null(r, 0).to_numpy(zero_copy_only=False) for r in rows])


def _line_breaks(values: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """Line breaks in each text, counted as `encoding.line_and_column` counts them."""
    breaks = pc.count_substring(values, "\n")
    returns = pc.count_substring(values, "\r")
    if pc.max(returns).as_py():
        breaks = pc.subtract(pc.add(breaks, returns), pc.count_substring(values, "\r\n"))
    return breaks


def record_lines(table: pa.Table) -> np.ndarray | None:
    """The line of the file each row starts on (the header is line 1), None when every row is one line.

    A row spans lines only where a quoted cell holds line breaks, so counting them in the cells gives every
    row's line without another pass over the file. (Blank lines, which the parser skips, are not seen.)
    """
    extra = None
    for column in table.columns:
        breaks = _per_row(column, _line_breaks)
        if breaks is not None:
            extra = breaks if extra is None else extra + breaks
    if extra is None:
        return None
    return np.arange(2, len(extra) + 2, dtype=np.int64) + np.cumsum(extra) - extra


def _refuse_nul(table: pa.Table, names: list[str], path: Path, lines: np.ndarray | None) -> None:
    """A NUL byte in a cell (a stray control character; UTF-16 without a BOM is refused before parsing):
    stop, naming the row, line and column of the first."""
    first = None  # (row position, column position) of the first NUL
    for index, column in enumerate(table.columns):
        nuls = _per_row(column, lambda values: pc.count_substring(values, "\x00"))
        if nuls is not None:
            found = (int(np.argmax(nuls > 0)), index)
            first = found if first is None else min(first, found)
    if first is None:
        return
    position, index = first
    row = position + 2
    line = int(lines[position]) if lines is not None else row
    raise UnreadableExportError(
        STRAY_NUL.format(where=f"this cell{on_line(row, line)}"), file=path, row=row, column=names[index]
    )


def _first_ragged_row(data: bytes, sep: str, expected: int) -> tuple[int, int, int] | None:
    """(row as `source_row` counts it, the line it starts on, its field count) of the first row whose width
    differs from the header's.

    Only called when parsing failed, so the slow, exact pass over the file costs nothing on good files.
    """
    text = data.decode("utf-8", errors="replace")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep)
    row, line = 0, 1  # the header is row 1 and line 1; blank lines are no rows (the parser skips them)
    try:
        for record in reader:
            if record:
                row += 1
                if row > 1 and len(record) != expected:
                    return row, line, len(record)
            line = reader.line_num + 1
    except csv.Error:
        return row + 1, line, 0
    return None


# Signatures of binary formats people save under a text name.
_BINARY_SIGNATURES = (
    (b"PK\x03\x04", "an Excel workbook or another zip archive, not a text export: if it is the .xlsx export, "
                     "give it the .xlsx extension"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old binary Excel (.xls) or Word file, not a text export: "
                                             "save the export as .xlsx or CSV"),
    (b"%PDF", "a PDF document, not a text export"),
    (b"$FL", "an SPSS file, not a text export: if it is the .sav export, give it the .sav extension"),
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
    end = first_line_end(head)
    if not whole and end >= 0 and not head.startswith(BOMS) and b"\x00" not in head[:end]:
        try:
            header_line = head[:end].decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            return TextFile(None, header_line, "utf-8", sniff_separator(header_line))
    data, encoding = utf8_bytes(read_bytes(path), path)
    end = first_line_end(data)
    header_line = (data if end < 0 else data[:end]).decode("utf-8")
    return TextFile(data, header_line, encoding, sniff_separator(header_line))


def read_text_file(path: Path) -> tuple[pd.DataFrame, str, str]:
    """A small text file (a SurveyXact labels file) with every column as text."""
    text = load_text_file(path, whole=True)
    frame, _ = parse_text_table(text.data, text.header_line, text.separator, path)
    return frame, text.encoding, text.separator


# --------------------------------------------------------------------------- the opened file


@dataclass
class TextSource:
    """An opened text export: its header read, its table parsed once a layout says which columns are plain."""

    path: Path
    text: TextFile
    names: list[str]
    lines: np.ndarray | None = None  # once parsed: the line each row starts on, where rows span lines

    @property
    def header(self) -> set[str]:
        return {header_key(c) for c in self.names}

    def table(self, plain_columns: frozenset[str]) -> pd.DataFrame:
        """The rows (see `parse_text_table`); `text` says the encoding and separator they were read with,
        `lines` the line each row starts on."""
        try:
            frame, self.lines = self._parse(plain_columns)
        except _NotUtf8:  # a Windows-1252 export with an ASCII header: decode it whole, as `utf8_bytes` does
            self.text = load_text_file(self.path, whole=True)
            frame, self.lines = self._parse(plain_columns)
        return frame

    def _parse(self, plain_columns: frozenset[str]) -> tuple[pd.DataFrame, np.ndarray | None]:
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
