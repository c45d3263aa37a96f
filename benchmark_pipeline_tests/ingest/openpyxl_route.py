"""The workbook reader as it was with openpyxl (read-only, cached values), kept as the reference the calamine
reader is compared with (`test_calamine_route.py`): same sheets, same frames, same refusals.

A copy of the reading half of `ingest/workbook.py` before it moved to python-calamine; the archive check and
the formula scan are the production ones (they run before either reader).
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd

from benchmark_pipeline.ingest.errors import LayoutError, UnreadableExportError
from benchmark_pipeline.ingest.raw import unique_header
from benchmark_pipeline.ingest.workbook import (
    MAX_ROWS_ABOVE_HEADER,
    MAX_TITLE_CELLS,
    Sheet,
    WorkbookSource,
    cell_text,
    check_archive,
    formula_refusal,
    sheet_scan,
)
from benchmark_pipeline.ingest.values import shown


def _filled(values) -> list[str]:
    return [text for text in map(cell_text, values) if text is not None]


def _header_not_on_row_1(ws, path: Path, title: list[str], number: int) -> UnreadableExportError:
    above = f"row 1 holds only {' and '.join(map(shown, title))}" if title else "row 1 is blank"
    return UnreadableExportError(
        f"the header must be on row 1 of sheet {ws.title!r}: {above} and row {number} looks like the header; "
        "delete the rows above it and try again",
        file=path,
    )


def _outside_header(ws, path: Path, header: list, row: tuple, number: int) -> UnreadableExportError:
    title = _filled(header)
    if number <= MAX_ROWS_ABOVE_HEADER and len(title) <= MAX_TITLE_CELLS and len(_filled(row)) > len(title):
        return _header_not_on_row_1(ws, path, title, number)
    return UnreadableExportError("a cell lies outside the header's columns", file=path, row=number)


def _no_header(ws, path: Path, rows) -> UnreadableExportError:
    for number, row in enumerate(rows, start=2):
        if number > MAX_ROWS_ABOVE_HEADER:
            break
        if _filled(row):
            return _header_not_on_row_1(ws, path, [], number)
    return UnreadableExportError(f"sheet {ws.title!r} has no header in row 1", file=path)


def sheet_frame(ws, path: Path) -> pd.DataFrame:
    ws.reset_dimensions()
    rows = ws.iter_rows(values_only=True)
    header = None
    for header_row in rows:
        header = list(header_row)
        break
    if header is None or all(v is None for v in header):
        raise _no_header(ws, path, rows)
    while header and header[-1] is None:
        header.pop()
    names = unique_header([cell_text(v) or "" for v in header], path)
    refusal = formula_refusal(path, ws.title, names, sheet_scan(path, ws.title))
    if refusal is not None:
        raise refusal
    width = len(names)
    data, numbers = [], []
    for number, row in enumerate(rows, start=2):
        if len(row) > width and any(cell_text(v) is not None for v in row[width:]):
            raise _outside_header(ws, path, header, row, number)
        values = [cell_text(v) for v in row[:width]]
        if not any(v is not None for v in values):
            continue
        values.extend([None] * (width - len(values)))
        data.append(values)
        numbers.append(number)
    frame = pd.DataFrame(data, columns=names, dtype="str") if data else pd.DataFrame(
        {n: pd.Series([], dtype="str") for n in names}
    )
    frame["source_row"] = np.asarray(numbers, dtype="int64")
    return frame


class OpenpyxlSource(WorkbookSource):
    """The workbook source the layouts read, its sheets listed and read by openpyxl. Which sheet is chosen is
    the production rule (`WorkbookSource`), applied to the sheet list openpyxl gives."""

    def frame(self, sheet: Sheet) -> pd.DataFrame:
        if sheet.title not in self.frames:
            self.frames[sheet.title] = sheet_frame(self.workbook[sheet.title], self.path)
        return self.frames[sheet.title]


def _sheets(wb) -> list[Sheet]:
    """Every sheet in workbook order, as openpyxl lists it (chart sheets are not among its worksheets)."""
    worksheets = {ws.title for ws in wb.worksheets}
    return [Sheet(title, wb[title].sheet_state, title in worksheets) for title in wb.sheetnames]


@contextmanager
def open_openpyxl_source(path: Path):
    import openpyxl

    check_archive(path)
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:
        raise UnreadableExportError(f"not a readable .xlsx workbook ({type(exc).__name__})", file=path) from None
    try:
        yield OpenpyxlSource(path, wb, _sheets(wb))
    except (UnreadableExportError, LayoutError):
        raise
    except Exception as exc:
        raise UnreadableExportError(f"not a readable .xlsx workbook ({type(exc).__name__})", file=path) from None
    finally:
        wb.close()
