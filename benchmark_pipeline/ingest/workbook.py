"""Excel workbook exports, read and written: every workbook layout reads its sheets through `WORKBOOK`."""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import LayoutError, UnreadableExportError
from .raw import FileKind, header_key, unique_header

EXCEL_SUFFIXES = frozenset({".xlsx", ".xlsm"})


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


def sheet_frame(ws, path: Path) -> pd.DataFrame:
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
    names = unique_header([cell_text(v) or "" for v in header], path)
    width = len(names)
    data, numbers = [], []
    for number, row in enumerate(rows, start=2):
        values = [cell_text(v) for v in row[:width]]
        if not any(v is not None for v in values):
            if any(v is not None for v in row[width:]):
                raise UnreadableExportError("a cell lies outside the header's columns", file=path, row=number)
            continue
        if any(cell_text(v) is not None for v in row[width:]):
            raise UnreadableExportError("a cell lies outside the header's columns", file=path, row=number)
        values.extend([None] * (width - len(values)))
        data.append(values)
        numbers.append(number)
    frame = pd.DataFrame(data, columns=names, dtype="str") if data else pd.DataFrame(
        {n: pd.Series([], dtype="str") for n in names}
    )
    frame["source_row"] = np.asarray(numbers, dtype="int64")
    return frame


def open_workbook(path: Path):
    import openpyxl

    try:
        return openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, OSError, KeyError, ValueError, TypeError, IndexError, EOFError) as exc:
        raise UnreadableExportError(f"not a readable .xlsx workbook ({type(exc).__name__})", file=path) from None
    except Exception as exc:  # openpyxl raises a wide variety on corrupt archives
        raise UnreadableExportError(f"not a readable .xlsx workbook ({type(exc).__name__})", file=path) from None


# --------------------------------------------------------------------------- the opened file


@dataclass
class WorkbookSource:
    """An opened workbook; each sheet is read into a frame once, however many layouts look at it."""

    path: Path
    workbook: object
    frames: dict[str, pd.DataFrame] = field(default_factory=dict)

    def sheet(self, name: str):
        """The sheet called `name` (case and surrounding blanks ignored), or None."""
        title = next((t for t in self.workbook.sheetnames if t.strip().casefold() == name.casefold()), None)
        return self.workbook[title] if title is not None else None

    def first_sheet(self):
        if not self.workbook.sheetnames:
            raise UnreadableExportError("the workbook has no sheets", file=self.path)
        return self.workbook[self.workbook.sheetnames[0]]

    def frame(self, ws) -> pd.DataFrame:
        if ws.title not in self.frames:
            self.frames[ws.title] = sheet_frame(ws, self.path)
        return self.frames[ws.title]

    def header(self, ws) -> set[str]:
        return {header_key(c) for c in self.frame(ws).columns if c != "source_row"}


@contextmanager
def open_workbook_source(path: Path):
    """The workbook at `path`, closed afterwards; what goes wrong inside it is an unreadable workbook."""
    wb = open_workbook(path)
    try:
        yield WorkbookSource(path, wb)
    except (UnreadableExportError, LayoutError):
        raise
    except Exception as exc:  # corrupt sheet XML surfaces lazily while iterating
        raise UnreadableExportError(f"not a readable .xlsx workbook ({type(exc).__name__})", file=path) from None
    finally:
        try:
            wb.close()
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
