"""An export as read, before mapping, and how its column headers are found: shared by every layout."""

from __future__ import annotations

import re
import unicodedata
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from .errors import UnreadableExportError
from .values import shown


def header_key(name: object) -> str:
    """How column headers are compared: NFC, whitespace collapsed, case-insensitive."""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFC", str(name))).strip().casefold()


def unique_header(names: list[str], path: Path) -> list[str]:
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
    dropped_columns: list[str] = field(default_factory=list)  # headers of the columns the mapping does not use, dropped on reading
    pii_masked: int = 0  # CPR-like numbers and e-mail addresses masked in free-text columns on reading
    masked: bool = False  # free-text columns already masked (mapping need not scan them again)
    # A text export whose rows span lines (quoted line breaks): the line each row starts on, by position in
    # `frame` (aligned with `source_row`). None: every row is one line, or the export is a workbook.
    lines: np.ndarray | None = None

    @property
    def rows_read(self) -> int:
        return len(self.frame)


@dataclass(frozen=True)
class FileKind:
    """One kind of export file (text, workbook): how it is recognised and opened. The layouts of a kind
    detect themselves in, and read from, what `open(path)` yields."""

    what: str  # as the unknown-layout message names it: "a text export", "a workbook"
    suffixes: frozenset[str]
    signature: bytes | None  # leading bytes that give the kind away under another suffix
    open: Callable[[Path], AbstractContextManager]


class RawColumns:
    """Finds the raw columns a layout spells each canonical part with, collecting what is missing."""

    def __init__(self, raw: RawExport):
        self.path = raw.path
        self.by_key: dict[str, list[tuple[int, str]]] = {}
        for number, c in enumerate(raw.frame.columns, start=1):
            if c != "source_row":
                self.by_key.setdefault(header_key(c), []).append((number, c))
        self.missing: list[str] = []
        self.used: list[str] = []

    def get(self, name: str | None, what: str, required: bool = True) -> str | None:
        """The raw column spelt `name` (see `header_key`); two spellings of one name are refused, since
        picking either would silently publish the wrong column's answers."""
        if name is None:
            if required:
                self.missing.append(f"{what} (no variable in the mapping)")
            return None
        found = self.by_key.get(header_key(name))
        if not found:
            if required:
                self.missing.append(name)
            return None
        if len(found) > 1:
            spelled = " and ".join(f"column {number} ({shown(col)})" for number, col in found)
            raise UnreadableExportError(
                f"{what}: the header has {len(found)} columns that differ only in spacing or case, {spelled}; "
                "keep the one that holds the answers, delete or rename the other, and try again",
                file=self.path,
            )
        col = found[0][1]
        self.used.append(col)
        return col
