"""Excel workbook exports, read and written: every workbook layout reads its sheets through `WORKBOOK`.

Workbooks are read with python-calamine. Before it opens one, the archive's declared sizes are checked (a zip
bomb is refused); before it reads a sheet, one pass through the sheet's XML finds what calamine cannot say or
would suffer from: formulas without a calculated value (read as blank answers), error values such as `#N/A`
(read as blanks; the answer is their text), and how far the cells reach (a stray value in XFD1048576 would have
calamine build a grid of 17 billion cells). Values are then made text as openpyxl's reader made them, which
`benchmark_pipeline_tests/ingest/test_calamine_route.py` checks against it.
"""

from __future__ import annotations

import datetime as dt
import html
import itertools
import io
import re
import zipfile
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from benchmark_pipeline.gc_pause import collector_paused
from benchmark_pipeline.ooxml import sheet_parts

from .errors import LayoutError, UnreadableExportError
from .raw import FileKind, header_key, unique_header
from .values import shown

EXCEL_SUFFIXES = frozenset({".xlsx", ".xlsm"})
HIDDEN_STATES = frozenset({"hidden", "veryHidden"})


def cell_text(value: object) -> str | None:
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


# --------------------------------------------------------------------------- the archive, before it is opened

# Limits on what a workbook may unpack to, from the declared sizes in the zip's directory. Measured on the
# sample writer's workbooks (`generate-sample --layout msforms_xlsx|surveyxact_xlsx`) and on the same
# workbooks rewritten as Excel stores them (text as shared strings):
#   100,000 respondents: Forms 11.3 MB packed, 124 MB unpacked (sheet ratio 10.9; as Excel: sheet 7.2,
#     sharedStrings.xml 20.6); SurveyXact 10.6 MB, 104 MB (9.8; as Excel: 8.9 and 12.3);
#   1,000,000 respondents, Forms: 113 MB packed, 1.26 GB unpacked (ratio 11.1; as Excel: 0.96 GB,
#     sheet 7.3, sharedStrings.xml 388 MB at 21.1);
#   the most repetitive sheets a real export could hold (100,000 rows of 40 zeros, of non-responses, of one
#     repeated string): ratios 13.8, 7.6 and 7.7, since every cell spells its own row number.
# A zip bomb is out of all proportion: 400 MB of shared strings in 0.4-1.4 MB is a ratio of 300-1,000.
MAX_UNPACKED_BYTES = 4 * 1024**3  # 3.4 times the million-respondent workbook
MAX_COMPRESSION_RATIO = 100  # 4.7 times the highest ratio measured (21.1)
RATIO_CHECKED_FROM_BYTES = 1024**2  # smaller parts cannot cost memory whatever their ratio


def _mb(size: int) -> str:
    return f"{size / 1e6:,.1f} MB"


def check_archive(path: Path) -> None:
    """Refuse a workbook whose parts would unpack to far more than any survey export, before anything is
    unpacked.

    The declared sizes bound what reading can cost: Python's zipfile (3.11, `ZipExtFile._read1`) inflates a
    stored or deflated member in steps of at most the size asked for and cuts it at the `file_size` the
    zip's central directory declares, then refuses it with "Bad CRC-32" if it was longer (verified in
    test_workbook.py). Other compression methods inflate a whole step at once, and Excel never uses them.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            parts = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise UnreadableExportError(f"not a readable .xlsx workbook ({type(exc).__name__})", file=path) from None
    again = "export it again from the survey tool (or open it in Excel and save a copy) and try again"
    for part in parts:
        if part.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise UnreadableExportError(
                f"the workbook's part {part.filename!r} is compressed with method {part.compress_type}, which "
                f"Excel does not write; {again}", file=path)
        ratio = part.file_size / max(part.compress_size, 1)
        if part.file_size >= RATIO_CHECKED_FROM_BYTES and ratio > MAX_COMPRESSION_RATIO:
            raise UnreadableExportError(
                f"the workbook's part {part.filename!r} would unpack from {_mb(part.compress_size)} to "
                f"{_mb(part.file_size)}, {ratio:,.0f} times its packed size (survey exports stay near 10-20 "
                f"times, the limit is {MAX_COMPRESSION_RATIO}); a file like this is a zip bomb, so it is not "
                f"opened; {again}", file=path)
    total = sum(part.file_size for part in parts)
    if total > MAX_UNPACKED_BYTES:
        raise UnreadableExportError(
            f"the workbook would unpack to {_mb(total)} in all, more than the limit of "
            f"{_mb(MAX_UNPACKED_BYTES)} (a million respondents unpack to about 1,300 MB), so it is not opened; "
            f"{again}", file=path)


# --------------------------------------------------------------------------- what the sheet's XML says

# The sheet's root element, whose prefix (`<x:worksheet ...>`, rare) its cells and formulas share.
SHEET_ROOT = re.compile(rb"<([A-Za-z_][\w.-]*:)?worksheet[\s>]")
TAG_ENDS = frozenset(b" \t\r\n/>")  # what follows a tag's name
SHEET_HEAD_BYTES = 4096  # where the root element is (after the XML declaration)
CHUNK_BYTES = 1 << 22
MAX_CELL_BYTES = 1 << 20
SPLIT_TAG_BYTES = 64  # kept for the next chunk where no cell starts: a tag may be split there
FORMULA_CELLS_SHOWN = 3

# calamine holds a sheet as a grid from its first to its last cell, ~32 bytes a cell, so one stray value far
# from the answers (typed in XFD5 after Ctrl+Right) would ask for gigabytes and end the process. The grid of
# a million respondents with 128 columns is 4.3 GB; nothing a survey tool exports is larger.
MAX_SHEET_CELLS = 1_048_576 * 128


def column_number(letters: str) -> int:
    """'A' -> 1, 'AA' -> 27 (Excel's column letters)."""
    number = 0
    for char in letters.upper():
        number = number * 26 + ord(char) - 64
    return number


def column_letters(number: int) -> str:
    letters = ""
    while number > 0:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _above(digits: str, alphabet: str) -> bytes:
    """A regex for the strings of `alphabet` above `digits` in the order of numbers written in it (longer is
    more, same length by place): column letters past a column, or row numbers past a row."""
    top, length = alphabet[-1], len(digits)
    any_ = f"[{alphabet[0]}-{top}]"
    options = [f"{any_}{{{length + 1},}}"]
    for i, char in enumerate(digits):
        if char != top:
            higher = chr(ord(char) + 1)
            options.append(f"{re.escape(digits[:i])}[{higher}-{top}]{any_}{{{length - i - 1}}}")
    return "|".join(options).encode()


class _SheetTags:
    """The byte patterns of one sheet's cells, formulas and values, with the sheet's prefix."""

    def __init__(self, prefix: bytes):
        self.cell, self.cell_end, self.formula = b"<" + prefix + b"c", b"</" + prefix + b"c>", b"<" + prefix + b"f"
        self.row = b"<" + prefix + b"row"
        p = re.escape(prefix)
        self.p = p
        # a value: a <v> open tag not closed at once (`<v></v>` and `<v/>` are no value)
        self.value = re.compile(rb"<" + p + rb"v(?:\s[^>]*[^/>])?>(?!</" + p + rb"v>)")
        self.value_text = re.compile(rb"<" + p + rb"v(?:\s[^>]*)?>([^<]*)</" + p + rb"v>")
        self.reference = re.compile(rb"""\sr\s*=\s*["']([A-Za-z]+)(\d+)["']""")
        self.text_result = re.compile(rb"""\st\s*=\s*["']str["']""")
        self.error_result = re.compile(rb"""\st\s*=\s*["']e["']""")
        self.row_number = re.compile(rb"""\sr\s*=\s*["'](\d+)["']""")
        self._far: dict[tuple[int, int], re.Pattern] = {}

    def far(self, columns: int, rows: int) -> re.Pattern:
        """A cell spelled otherwise than `<c r="A1"` (its place must then be counted), or one past `columns`
        columns or `rows` rows."""
        key = (columns, rows)
        if key not in self._far:
            letters = _above(column_letters(columns), "ABCDEFGHIJKLMNOPQRSTUVWXYZ") if columns else b"[A-Z]+"
            numbers = _above(str(rows), "0123456789") if rows else b"[1-9][0-9]*"
            self._far[key] = re.compile(
                rb"<" + self.p + rb'c(?:[\s>/](?!r="[A-Z]{1,3}[1-9])|(\sr="(?:' + letters + rb')\d)'
                rb'|(\sr="[A-Z]{1,3}+(?:' + numbers + rb')(?!\d)))')
        return self._far[key]

    def tag_at(self, buf: bytes, pos: int, tag: bytes) -> bool:
        end = pos + len(tag)
        return end < len(buf) and buf[end] in TAG_ENDS

    def cell_start(self, buf: bytes, before: int) -> int:
        """Where the last cell starting before `before` starts (`<c ...`, not `<col` or `<color`), or -1."""
        pos = before
        while (pos := buf.rfind(self.cell, 0, pos)) != -1 and not self.tag_at(buf, pos, self.cell):
            pass
        return pos

    def cell_around(self, buf: bytes, pos: int):
        """(head, body) of the cell whose content holds `pos`, or None."""
        start, end = self.cell_start(buf, pos), buf.find(self.cell_end, pos)
        head_end = buf.find(b">", start) if start != -1 else -1
        if head_end == -1 or end == -1 or buf[head_end - 1] == ord("/") or head_end >= pos:
            return None
        if buf.find(self.cell_end, start, pos) != -1:
            return None
        return buf[start:head_end], buf[head_end + 1:end], end

    def place(self, head: bytes) -> tuple[int, int] | None:
        """(row, column) from 1 of a cell's reference, or None (a cell without one)."""
        ref = self.reference.search(head)
        return (int(ref.group(2)), column_number(ref.group(1).decode())) if ref else None


@dataclass
class SheetScan:
    """What the sheet's XML says that calamine does not: its formulas without a calculated value (the first
    few references and how many), its error values (`#N/A`, read as blanks by calamine) by (row, column)
    from 1, and how far its cells reach (`counted`: some cell has no reference, so it is an exact count)."""

    formulas: list[str] = field(default_factory=list)
    formula_count: int = 0
    errors: dict[tuple[int, int], str] = field(default_factory=dict)
    rows: int = 0
    columns: int = 0
    counted: bool = False


def _scan_contents(buf: bytes, stop: int, tags: _SheetTags, scan: SheetScan) -> None:
    """Formulas without a calculated value and error values."""
    pos = buf.find(tags.formula, 0, stop)
    while pos != -1:
        if tags.tag_at(buf, pos, tags.formula):  # not `<formula1>` of a data validation
            cell = tags.cell_around(buf, pos)
            if cell is not None:
                head, body, end = cell
                if tags.value.search(body) is None and tags.text_result.search(head) is None:
                    scan.formula_count += 1
                    place = tags.place(head)
                    if place is not None and len(scan.formulas) < FORMULA_CELLS_SHOWN:
                        scan.formulas.append(f"{column_letters(place[1])}{place[0]}")
                pos = end
        pos = buf.find(tags.formula, pos + 1, stop)
    pos = buf.find(b">#", 0, stop)  # an error value: <v>#N/A</v> in a cell of type "e"
    while pos != -1:
        cell = tags.cell_around(buf, pos)
        if cell is not None:
            head, body, end = cell
            value, place = tags.value_text.search(body), tags.place(head)
            if tags.error_result.search(head) and value and place:
                scan.errors[place] = html.unescape(value.group(1).decode("utf-8", "replace")).strip()
            pos = end
        pos = buf.find(b">#", pos + 1, stop)


def _scan_extent(buf: bytes, stop: int, tags: _SheetTags, scan: SheetScan) -> None:
    """How far the cells reach: the last row's number, and any cell past the furthest seen so far."""
    last_row = buf.rfind(tags.row, 0, stop)
    while last_row != -1 and not tags.tag_at(buf, last_row, tags.row):
        last_row = buf.rfind(tags.row, 0, last_row)
    if last_row != -1:
        number = tags.row_number.search(buf, last_row, buf.find(b">", last_row))
        if number:
            scan.rows = max(scan.rows, int(number.group(1)))
    pos = 0
    while (far := tags.far(scan.columns, scan.rows).search(buf, pos, stop)) is not None:
        if far.group(1) is None and far.group(2) is None:
            scan.counted = True  # a cell without a reference, or spelled otherwise: count them all
            return
        head = buf[far.start():buf.find(b">", far.start())]
        place = tags.place(head)
        if not head.endswith(b"/") and place is not None:  # a cell without a value takes no place
            scan.rows, scan.columns = max(scan.rows, place[0]), max(scan.columns, place[1])
        pos = far.end()


def _counted_extent(archive: zipfile.ZipFile, part: str) -> tuple[int, int]:
    """How far the sheet's cells with values reach, placed as readers place them: by reference, else after
    the row's previous cell (slow; for sheets whose cells are not all written as Excel writes them)."""
    rows = columns = row = column = 0
    with archive.open(part) as stream:
        for event, element in ElementTree.iterparse(stream, events=("start", "end")):
            tag = element.tag.rsplit("}", 1)[-1]
            if event == "start" and tag == "row":
                number = element.get("r", "")
                row, column = (int(number) if number.isdigit() else row + 1), 0
            elif event == "end" and tag == "c":
                ref = re.fullmatch(r"([A-Za-z]{1,3})(\d+)", element.get("r", ""))
                at_row, column = (int(ref[2]), column_number(ref[1])) if ref else (row, column + 1)
                if len(element):  # a value, inline string or formula
                    rows, columns = max(rows, at_row), max(columns, column)
            if event == "end" and tag == "row":
                element.clear()
    return rows, columns


def scan_sheet(archive: zipfile.ZipFile, part: str, chunk_bytes: int = CHUNK_BYTES,
               extent: bool = True, contents: bool = True) -> SheetScan:
    """One pass through the sheet's XML in chunks (a few byte searches, a fraction of what reading it costs;
    text cannot hold a raw "<", so only tags match), for how far its cells reach (`extent`) and for its
    formulas and error values (`contents`). A formula's value is any non-empty `<v>`, or an empty one in a
    text result (Excel saves `=IF(...;"")` so); openpyxl saves formulas with an empty `<v>` and no type. A
    cell without a reference (rare) is counted, not listed."""
    with archive.open(part) as stream:
        root = SHEET_ROOT.search(stream.read(SHEET_HEAD_BYTES))
    tags = _SheetTags((root.group(1) or b"") if root else b"")
    scan = SheetScan()
    with archive.open(part) as stream:
        chunk = stream.read(chunk_bytes)
        carry = b""
        while chunk:
            buf = carry + chunk
            chunk = stream.read(chunk_bytes)
            # the last cell may go on in the next chunk: keep it (or a few bytes, a split tag) for then; a cell
            # longer than MAX_CELL_BYTES is no cell Excel writes (32,767 characters at most) and is not kept
            stop = len(buf) if not chunk else tags.cell_start(buf, len(buf))
            if stop == -1:
                stop = max(len(buf) - SPLIT_TAG_BYTES, 0)
            elif len(buf) - stop > MAX_CELL_BYTES:
                stop = len(buf)
            if contents:
                _scan_contents(buf, stop, tags, scan)
            if extent and not scan.counted:
                _scan_extent(buf, stop, tags, scan)
            carry = buf[stop:]
    if extent and scan.counted:
        scan.rows, scan.columns = _counted_extent(archive, part)
    return scan


def formulas_without_values(archive: zipfile.ZipFile, part: str,
                            chunk_bytes: int = CHUNK_BYTES) -> tuple[list[str], int]:
    """The cells of a sheet holding a formula but no calculated value: the first few references and how many."""
    scan = scan_sheet(archive, part, chunk_bytes)
    return scan.formulas, scan.formula_count


def sheet_scan(path: Path, title: str, extent: bool = True, contents: bool = True) -> SheetScan | None:
    """`scan_sheet` of the sheet titled `title`, or None where the package lists no such sheet."""
    with zipfile.ZipFile(path) as archive:
        part = sheet_parts(archive).get(title)
        if part is None or part not in archive.namelist():
            return None  # a sheet the package does not list is one no reader finds either
        return scan_sheet(archive, part, extent=extent, contents=contents)


def formula_refusal(path: Path, title: str, names: list[str], scan: SheetScan | None) -> UnreadableExportError | None:
    """The stop for cells of the sheet holding formulas without a result: a workbook saved by a script and
    never calculated has none stored, and a reader would take its answers for blanks."""
    if scan is None or not scan.formula_count:
        return None
    first, count = scan.formulas, scan.formula_count
    named: set[str] = set()

    def where(ref: str) -> str:
        """'cell D14 (row 14, column 'data_use_change')'; the column is named once."""
        letters, row = re.fullmatch(r"([A-Z]+)(\d+)", ref).groups()
        if row == "1":
            return f"cell {ref} (the header)"
        index = column_number(letters)
        name = names[index - 1] if index <= len(names) and not names[index - 1].startswith("__blank_") else None
        if name is None or letters in named:
            return f"cell {ref} (row {row})"
        named.add(letters)
        return f"cell {ref} (row {row}, column {name!r})"

    cells = ", ".join(map(where, first))
    listed = f": {cells}{f' and {count - len(first)} more' if count > len(first) else ''}" if first else ""
    return UnreadableExportError(
        f"sheet {title!r} has {count} cell{'s' if count > 1 else ''} holding a formula without a calculated "
        f"value, which would be read as blank answers{listed}; open the workbook in Excel so it calculates, "
        "save it, and try again, or paste the values in place of the formulas",
        file=path,
    )


def _refuse_far_cells(path: Path, title: str, scan: SheetScan) -> None:
    cells = scan.rows * scan.columns
    if cells > MAX_SHEET_CELLS:
        raise UnreadableExportError(
            f"sheet {title!r} has values as far as row {scan.rows:,} and column {column_letters(scan.columns)}, a "
            f"grid of {cells:,} cells, more than any survey export (the limit is {MAX_SHEET_CELLS:,}); a stray "
            "value far from the answers does this: in Excel, Ctrl+End shows the last cell; delete the rows and "
            "columns past the answers, save, and try again",
            file=path,
        )


# --------------------------------------------------------------------------- a sheet as a frame

MAX_ROWS_ABOVE_HEADER = 10  # a title and a few notes; a wider row further down is a stray cell
MAX_TITLE_CELLS = 2  # a title, perhaps a date beside it
DISTINCT_SAMPLE = 1000  # values looked at to tell a column of distinct texts (ids, names, free text)
ROWS_AT_ONCE = 16384  # rows taken from calamine at a time: its Python values for all rows at once cost more memory


def _filled(values) -> list[str]:
    return [text for text in map(cell_text, values) if text is not None]


def _header_not_on_row_1(title_: str, path: Path, title: list[str], number: int) -> UnreadableExportError:
    above = f"row 1 holds only {' and '.join(map(shown, title))}" if title else "row 1 is blank"
    return UnreadableExportError(
        f"the header must be on row 1 of sheet {title_!r}: {above} and row {number} looks like the header; "
        "delete the rows above it and try again",
        file=path,
    )


def _outside_header(title_: str, path: Path, header: list, row: list, number: int) -> UnreadableExportError:
    """A row with cells past the header's columns: the header is further down (row 1 is a title), or the
    row holds a stray cell."""
    title = _filled(header)
    if number <= MAX_ROWS_ABOVE_HEADER and len(title) <= MAX_TITLE_CELLS and len(_filled(row)) > len(title):
        return _header_not_on_row_1(title_, path, title, number)
    return UnreadableExportError("a cell lies outside the header's columns", file=path, row=number)


def _no_header(title_: str, path: Path, rows) -> UnreadableExportError:
    """Row 1 is blank: the header is further down, or the sheet is empty."""
    for number, row in enumerate(rows, start=2):
        if number > MAX_ROWS_ABOVE_HEADER:
            break
        if _filled(row):
            return _header_not_on_row_1(title_, path, [], number)
    return UnreadableExportError(f"sheet {title_!r} has no header in row 1", file=path)


def _value(value: object) -> object:
    """A calamine value as openpyxl gave it (the rules the readers always had): "" is a blank; a date-formatted
    whole day is a datetime (calamine gives a date), so it reads "2024-01-02T00:00:00" as before."""
    if value == "" and type(value) is str:
        return None
    if type(value) is dt.date:
        return dt.datetime(value.year, value.month, value.day)
    return value


def _text(value: object) -> str | None:
    return cell_text(_value(value))


def _texts(values: np.ndarray) -> pa.Array:
    """`cell_text` of a column's calamine values (an object array), as an Arrow string array: dates and
    numbers converted at once, text stripped once per distinct text, anything else once per distinct value."""
    kind = pd.api.types.infer_dtype(values, skipna=False)
    if kind in ("datetime", "date"):  # "date" includes datetimes (a subclass); a whole day is a date in calamine
        return _datetime_texts(values)
    if kind == "floating":
        return pa.array(_number_texts(values), type=pa.string())
    if kind == "string":
        if len(set(values[:DISTINCT_SAMPLE])) > DISTINCT_SAMPLE // 2:  # ids, names, free text
            return _stripped_texts(values)
        codes, distinct = pd.factorize(values)
        return _stripped_texts(distinct).take(pa.array(codes))
    # 1, 1.0 and True are one value here: their texts agree ("1")
    codes, distinct = pd.factorize(values, use_na_sentinel=False)
    return pa.array([_text(v) for v in distinct], type=pa.string()).take(pa.array(codes))


# What `str.strip()` takes away (the characters `str.isspace` is true for; none is above U+3000, which
# test_workbook.py checks), as an RE2 class for Arrow.
LAST_SPACE = 0x3000
_SPACE = "[" + "".join(f"\\x{{{code:x}}}" for code in range(LAST_SPACE + 1) if chr(code).isspace()) + "]"
_SPACE_AT_AN_END = f"^{_SPACE}|{_SPACE}$"


def _stripped_texts(values: np.ndarray) -> pa.Array:
    """`text.strip() or None` of each text, converted at once; only texts with a space at an end (or none
    at all) are stripped one by one."""
    texts = pa.array(values, type=pa.string())
    uneven = pc.or_(pc.match_substring_regex(texts, _SPACE_AT_AN_END), pc.equal(pc.binary_length(texts), 0))
    where = np.flatnonzero(uneven.to_numpy(zero_copy_only=False))
    if not len(where):
        return texts
    stripped = pa.array([values[i].strip() or None for i in where], type=pa.string())
    return pc.replace_with_mask(texts, uneven, stripped)


def _datetime_texts(values: np.ndarray) -> pa.Array:
    """`datetime.isoformat()` of each (a date as its midnight), at once: seconds, or microseconds where there
    are some."""
    values = [v if type(v) is dt.datetime else dt.datetime(v.year, v.month, v.day) for v in values]
    stamps = pa.array(values, type=pa.timestamp("us"))
    seconds = pc.cast(stamps, pa.timestamp("s"), safe=False)
    texts = pc.replace_substring(pc.cast(seconds, pa.string()), " ", "T", max_replacements=1)
    fraction = pc.not_equal(pc.cast(seconds, pa.timestamp("us")), stamps).to_numpy(zero_copy_only=False)
    if fraction.any():
        texts = texts.to_numpy(zero_copy_only=False).astype(object)
        for i in np.flatnonzero(fraction):
            texts[i] = values[i].isoformat()
        texts = pa.array(texts, type=pa.string())
    return texts


def _number_texts(values: list) -> np.ndarray:
    """`cell_text` of each float at once: whole numbers without a decimal point, others as `repr`."""
    numbers = np.array(values, dtype=np.float64)
    whole = (np.trunc(numbers) == numbers) & (np.abs(numbers) < 2**63)
    texts = np.where(whole, numbers, 0).astype(np.int64).astype(str).astype(object)
    for i in np.flatnonzero(~whole):
        texts[i] = cell_text(values[i])
    return texts


def _calamine_columns(sheet, scan: SheetScan | None) -> tuple[list[np.ndarray], int]:
    """The sheet's cells as columns (object arrays of calamine values) from column A, and the row number of
    their first row."""
    end = sheet.end
    rows, count = sheet.iter_rows(), 0
    chunk = list(itertools.islice(rows, ROWS_AT_ONCE))
    if end is None or not chunk:
        return [], 1
    cells = np.empty((end[0] + 1, len(chunk[0])), dtype=object)  # at most every row up to the last
    while chunk:
        cells[count:count + len(chunk)] = chunk
        count += len(chunk)
        chunk = list(itertools.islice(rows, ROWS_AT_ONCE))
    cells = cells[:count]
    first_row = end[0] + 2 - count  # iter_rows may or may not start at row 1: count back from the last
    lead = end[1] + 1 - cells.shape[1]  # nor at column A
    columns = [np.full(count, "", dtype=object) for _ in range(lead)] + list(cells.T)
    for (row, column), text in (scan.errors.items() if scan else ()):
        index = row - first_row
        if 0 <= index < count and column <= len(columns):
            columns[column - 1][index] = text
    return columns, first_row


def sheet_frame(source: WorkbookSource, sheet: Sheet) -> pd.DataFrame:
    """A worksheet as text (blank = NA); fully blank rows are not rows; `source_row` is the sheet row."""
    path, title = source.path, sheet.title
    if not sheet.is_worksheet:
        raise UnreadableExportError(f"sheet {title!r} is a chart or macro sheet, not a table of answers; export "
                                    "the answers again and try again", file=path)
    extent = sheet_scan(path, title, contents=False)
    if extent is not None:
        _refuse_far_cells(path, title, extent)
    # calamine reads the sheet without the GIL while this thread looks for formulas and error values
    with ThreadPoolExecutor(max_workers=1) as pool:
        reading = pool.submit(source.workbook.get_sheet_by_name, title)
        scan = sheet_scan(path, title, extent=False)
        columns, first_row = _calamine_columns(reading.result(), scan)
    height = len(columns[0]) if columns else 0

    def row(number: int) -> list:
        index = number - first_row
        return [_value(c[index]) for c in columns] if 0 <= index < height else []

    header = row(1)
    if not header or all(v is None for v in header):
        raise _no_header(title, path, (row(n) for n in range(2, MAX_ROWS_ABOVE_HEADER + 1)))
    while header and header[-1] is None:
        header.pop()
    names = unique_header([cell_text(v) or "" for v in header], path)
    refusal = formula_refusal(path, title, names, scan)
    if refusal is not None:
        raise refusal
    width = len(names)
    start = max(2 - first_row, 0)  # the first data row's index
    texts = [_texts(c[start:]) for c in columns]
    numbers = np.arange(first_row + start, first_row + height, dtype="int64")
    outside = [c.is_valid().to_numpy(zero_copy_only=False).argmax() for c in texts[width:] if c.null_count < len(c)]
    if outside:
        number = int(numbers[min(outside)])
        raise _outside_header(title, path, header, row(number), number)
    frame = pd.DataFrame({n: pd.Series(t, dtype="str") for n, t in zip(names, texts)}) if texts and height > start \
        else pd.DataFrame({n: pd.Series([], dtype="str") for n in names})
    answered = frame.notna().any(axis=1).to_numpy() if len(frame) else np.zeros(0, dtype=bool)
    if not answered.all():
        frame = frame[answered].reset_index(drop=True)
        numbers = numbers[answered]
    frame["source_row"] = numbers[: len(frame)] if len(frame) else np.asarray([], dtype="int64")
    return frame


# --------------------------------------------------------------------------- the opened file


def _quoted(titles: list[str]) -> str:
    return ", ".join(repr(t) for t in titles)


@dataclass(frozen=True)
class Sheet:
    """One sheet of the workbook as the workbook lists it: title, state ("visible", "hidden", "veryHidden")
    and whether it is a worksheet (not a chart or macro sheet)."""

    title: str
    sheet_state: str
    is_worksheet: bool


@dataclass
class WorkbookSource:
    """An opened workbook; each sheet is read into a frame once, however many layouts look at it."""

    path: Path
    workbook: object  # python-calamine's CalamineWorkbook
    sheets: list[Sheet]
    frames: dict[str, pd.DataFrame] = field(default_factory=dict)
    looked_at: dict[str, str] = field(default_factory=dict)  # sheet title -> how it was chosen ("" by name)

    @property
    def worksheets(self) -> list[Sheet]:
        return [s for s in self.sheets if s.is_worksheet]

    def sheet(self, name: str) -> Sheet | None:
        """The sheet called `name` (case and surrounding blanks ignored), or None."""
        sheet = next((s for s in self.sheets if s.title.strip().casefold() == name.casefold()), None)
        if sheet is not None:
            self.looked_at.setdefault(sheet.title, "")
        return sheet

    def first_visible_sheet(self) -> Sheet:
        """The worksheet Excel opens on: hidden helper sheets placed first are not the export."""
        worksheets = self.worksheets
        if not worksheets:
            raise UnreadableExportError("the workbook has no sheets", file=self.path)
        ws = next((ws for ws in worksheets if ws.sheet_state not in HIDDEN_STATES), None)
        if ws is None:
            raise UnreadableExportError(
                f"every sheet of the workbook is hidden ({_quoted([w.title for w in worksheets])}); unhide the "
                "sheet that holds the answers, save, and try again",
                file=self.path,
            )
        self.looked_at.setdefault(ws.title, "the first visible sheet")
        return ws

    @property
    def sheets_looked_at(self) -> str:
        """The sheets the layouts looked at, for a message saying none recognised them, e.g. "sheet 'Ark1'
        (the first visible sheet; hidden: 'Hjælp')"; "" when none was looked at."""
        if not self.looked_at:
            return ""
        titles = list(self.looked_at)
        hidden = [ws.title for ws in self.worksheets if ws.sheet_state in HIDDEN_STATES]
        unread = [s.title for s in self.sheets if s.title not in self.looked_at and s.title not in hidden]
        notes = [how for how in self.looked_at.values() if how]
        notes += [f"not read: {_quoted(unread)}"] if unread else []
        notes += [f"hidden: {_quoted(hidden)}"] if hidden else []
        what = f"sheet {titles[0]!r}" if len(titles) == 1 else f"sheets {_quoted(titles)}"
        return f"{what} ({'; '.join(notes)})" if notes else what

    def frame(self, sheet: Sheet) -> pd.DataFrame:
        if sheet.title not in self.frames:
            with collector_paused():  # a cell is an object: millions of them, and no cycles among them
                self.frames[sheet.title] = sheet_frame(self, sheet)
        return self.frames[sheet.title]

    def header(self, sheet: Sheet) -> set[str]:
        return {header_key(c) for c in self.frame(sheet).columns if c != "source_row"}


def _unreadable(path: Path, exc: BaseException) -> UnreadableExportError:
    return UnreadableExportError(f"not a readable .xlsx workbook ({type(exc).__name__})", file=path)


def open_workbook(path: Path) -> WorkbookSource:
    """The workbook at `path` opened with python-calamine, after `check_archive`."""
    from python_calamine import CalamineWorkbook, SheetTypeEnum, SheetVisibleEnum

    states = [(SheetVisibleEnum.Hidden, "hidden"), (SheetVisibleEnum.VeryHidden, "veryHidden")]
    check_archive(path)
    try:
        workbook = CalamineWorkbook.from_path(str(path))
        sheets = [Sheet(m.name, next((s for v, s in states if m.visible == v), "visible"), m.typ == SheetTypeEnum.WorkSheet)
                  for m in workbook.sheets_metadata]
    except Exception as exc:  # calamine's errors, and whatever a corrupt archive raises
        raise _unreadable(path, exc) from None
    return WorkbookSource(path, workbook, sheets)


@contextmanager
def open_workbook_source(path: Path):
    """The workbook at `path`, closed afterwards; what goes wrong inside it is an unreadable workbook."""
    source = open_workbook(path)
    try:
        yield source
    except (UnreadableExportError, LayoutError):
        raise
    except Exception as exc:  # corrupt sheet XML surfaces when a sheet is read
        raise _unreadable(path, exc) from None
    finally:
        try:
            source.workbook.close()
        except Exception:
            pass


WORKBOOK = FileKind("a workbook", EXCEL_SUFFIXES, b"PK\x03\x04", open_workbook_source)


# --------------------------------------------------------------------------- writing (synthetic samples)


def xlsx_timestamp(survey_year: int | None) -> dt.datetime:
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


def write_xlsx(tables: dict[str, pd.DataFrame], path: Path, when: dt.datetime) -> None:
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
