"""What the generic ingestion and the sample writers ask of an export layout.

Each layout module subclasses `Layout` once per layout; `layouts/__init__.py` lists the instances, and
the generic code (finding, reading, mapping, validating, writing) loops over them instead of branching
on a layout's name. Column names come from one place, the naming methods, for reader, mapping and writer.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from benchmark_pipeline.instrument import Option, Question, YearInstrument
from benchmark_pipeline.reference import Kommuner

from ..raw import FileKind, RawColumns, RawExport, header_key
from ..textfile import TEXT, TextSource, check_text_options
from ..values import Decoded, Problems, binary_columns, value_key
from ..workbook import WORKBOOK, write_xlsx, xlsx_timestamp


class Layout:
    """One export layout: how it is named, detected, read, mapped and written."""

    name: str  # as mappings, `check` and `generate-sample --layout` spell it
    sample_seed: int  # mixed into the sample writer's random seed; fixed so the shipped samples regenerate exactly
    family: str  # the survey tool: a year's mapping fits every layout of its family
    kind: FileKind  # text or workbook
    hint: str  # what the unknown-layout message asks of a file to be this layout
    title: tuple[str, str]  # (Danish, English), as the shipped samples' READMEs name the layout
    fits_every_year = False  # keyed by the stable ids rather than by one year's mapping
    own_text_in_choice = False  # an unknown entry of a question with "andet" is "andet", its text own text
    serial_ids = False  # the tool numbers respondents 1, 2, 3, ... (the samples imitate it)
    value_names = "code, id or label"  # what a choice cell may hold, as an invalid value's message says
    writes_kommune = True  # the writer needs the kommune reference (names, codes, labels)

    # --------------------------------------------------------------------- naming

    def id_column(self, instrument: YearInstrument) -> str:
        return instrument.respondent_id

    def column_of(self, q: Question) -> str | None:
        """The raw column of a kommune, single-choice or text question (or of any question, for Forms)."""
        raise NotImplementedError

    def answer_columns(self, q: Question) -> list[tuple[str | None, str]]:
        """(column, how a missing one is reported) for each raw column of a multi-select or ranking."""
        raise NotImplementedError

    def own_text_column(self, q: Question) -> str | None:
        """A column of its own for the respondent's "Andet" text of `q`, where the layout has one."""
        return None

    def option_keys(self, o: Option) -> list[str]:
        """The value keys a choice cell may hold for option `o`."""
        return [str(o.code), value_key(o.id), value_key(o.label)]

    def free_text_columns(self, columns, instrument: YearInstrument) -> list[str]:
        """Raw columns that can hold a respondent's own words: text questions, own "Andet" texts."""
        wanted = set()
        for q in instrument.questions:
            if q.kind == "text":
                wanted.add(header_key(self.column_of(q) or q.id))
            elif q.has_andet and q.kind in ("single", "multi", "ranked"):
                column = self.column_of(q) if self.own_text_in_choice else self.own_text_column(q)
                if column is not None:
                    wanted.add(header_key(column))
        return [c for c in columns if c != "source_row" and header_key(c) in wanted]

    # --------------------------------------------------------------------- reading

    def is_companion(self, path: Path) -> bool:
        """`path` is read with another file of this layout (a SurveyXact labels file), not as an export."""
        return False

    def detect(self, source, instrument: YearInstrument) -> bool:
        """The opened file (a `TextSource` or `WorkbookSource`) is an export of this layout."""
        raise NotImplementedError

    def read(self, source, instrument: YearInstrument) -> RawExport:
        raise NotImplementedError

    def check_beside(self, raw: RawExport, instrument: YearInstrument, kommuner: Kommuner) -> None:
        """Stop the year when what came with the export (SurveyXact's labels) contradicts the mapping."""

    # --------------------------------------------------------------------- mapping

    def planned(self, q: Question, columns: RawColumns) -> str | list[str | None] | None:
        """The raw column of `q`, or its columns (one per option or rank)."""
        if q.kind in ("kommune", "single", "text"):
            return columns.get(self.column_of(q), q.id, required=q.kind != "text")
        return [columns.get(name, what) for name, what in self.answer_columns(q)]

    def decode_multi(self, q: Question, frame: pd.DataFrame, spec, instrument: YearInstrument,
                     problems: Problems) -> Decoded:
        return binary_columns(q, frame, spec, problems)

    def decode_ranked(self, q: Question, frame: pd.DataFrame, spec, instrument: YearInstrument,
                      problems: Problems) -> Decoded:
        raise NotImplementedError

    # --------------------------------------------------------------------- writing (synthetic samples)

    def tables(self, answers: pd.DataFrame, instrument: YearInstrument, kommuner: Kommuner | None,
               rng: np.random.Generator) -> dict[str, pd.DataFrame]:
        """The export's tables, named as the sheets or files they become."""
        raise NotImplementedError

    def write(self, tables: dict[str, pd.DataFrame], path: Path, *, encoding: str, separator: str, newline: str,
              survey_year: int | None) -> list[Path]:
        raise NotImplementedError


class TextLayout(Layout):
    """A layout of delimited text files: read through `TEXT`, with ids and free text as plain text."""

    kind = TEXT

    def read(self, source: TextSource, instrument: YearInstrument) -> RawExport:
        id_key = header_key(self.id_column(instrument))
        names = source.names
        plain = frozenset(self.free_text_columns(names, instrument)) | {c for c in names if header_key(c) == id_key}
        frame = source.table(plain)
        return RawExport(source.path, [source.path], self.name, source.text.encoding, source.text.separator, frame,
                         lines=source.lines)

    def write(self, tables, path, *, encoding, separator, newline, survey_year):
        check_text_options(encoding, separator)
        return self.write_text(tables, path, encoding, separator, newline)

    def write_text(self, tables, path: Path, encoding: str, separator: str, newline: str) -> list[Path]:
        raise NotImplementedError


class WorkbookLayout(Layout):
    """A layout of .xlsx workbooks: read through `WORKBOOK`, one frame per sheet."""

    kind = WORKBOOK

    def write(self, tables, path, *, encoding, separator, newline, survey_year):
        path.parent.mkdir(parents=True, exist_ok=True)
        write_xlsx(tables, path, xlsx_timestamp(survey_year))
        return [path]
