"""Whole-year stops of ingestion, each with the CLI exit code it maps to.

Exit code 2: the input cannot be used at all (unreadable, undecodable, unknown layout, no mapping).
Exit code 1: the year stopped on its content (required variables missing, labels contradict the mapping,
no valid rows, too many quarantined rows).
`ExportError` is not a stop: it is the layouts' writers refusing to write a synthetic sample.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


class IngestError(Exception):
    """A survey year's export cannot be ingested; the message names the file and the cause."""

    exit_code: int = 2

    def __init__(
        self,
        message: str,
        *,
        file: Path | str | None = None,
        column: str | None = None,
        row: int | None = None,
        result: Any = None,
    ) -> None:
        self.file = Path(file) if file is not None else None
        self.column = column
        self.row = row
        self.result = result  # a ValidationResult when the stop came after row validation
        self.reason = message
        where = []
        if self.file is not None:
            where.append(str(self.file))
        if row is not None:
            where.append(f"row {row}")
        if column is not None:
            where.append(f"column {column!r}")
        super().__init__(f"{', '.join(where)}: {message}" if where else message)

    @property
    def message(self) -> str:
        return str(self)


class ExportNotFoundError(IngestError):
    """No export file (or more than one) where one was expected."""

    exit_code = 2


class UnreadableExportError(IngestError):
    """The file cannot be opened, decoded or parsed as a table."""

    exit_code = 2


class LayoutError(IngestError):
    """The layout is unknown, or differs from the one the year's mapping names."""

    exit_code = 2


class MappingError(IngestError):
    """No usable mapping (data/instrument/<year>.yaml) for the survey year."""

    exit_code = 2


class ContentError(IngestError):
    """The file was read but its content stops the year."""

    exit_code = 1


class MissingVariablesError(ContentError):
    """Variables the year's mapping requires are not in the export."""


class LabelsContradictionError(ContentError):
    """The export's Labels sheet/file disagrees with the year's mapping."""


class NoValidRowsError(ContentError):
    """Not a single row passed validation."""


class TooManyQuarantinedError(ContentError):
    """The quarantined share of responses is above the configured maximum."""


class ExportError(ValueError):
    """The answers cannot be written in the requested layout, encoding or separator (synthetic samples)."""
