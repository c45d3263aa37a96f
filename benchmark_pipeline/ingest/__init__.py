"""Ingestion: read any export layout/encoding, map it onto the canonical frame, validate, quarantine.

Public API used by the Dagster layer and the CLI; nothing here imports dagster.
"""

from .check import CheckReport, check_export
from .encoding import decode_bytes, sniff_separator
from .errors import (
    ContentError,
    ExportNotFoundError,
    IngestError,
    LabelsContradictionError,
    LayoutError,
    MappingError,
    MissingVariablesError,
    NoValidRowsError,
    TooManyQuarantinedError,
    UnreadableExportError,
)
from .pii import mask_text
from .raw import RawExport
from .readers import export_candidates, export_files, find_export, is_ignored, read_export
from .schema import andet_column, canonical_column_order, canonical_schema
from .validate import ValidationResult, validate_export, write_quarantine

__all__ = [
    "CheckReport",
    "ContentError",
    "ExportNotFoundError",
    "IngestError",
    "LabelsContradictionError",
    "LayoutError",
    "MappingError",
    "MissingVariablesError",
    "NoValidRowsError",
    "RawExport",
    "TooManyQuarantinedError",
    "UnreadableExportError",
    "ValidationResult",
    "andet_column",
    "canonical_column_order",
    "canonical_schema",
    "check_export",
    "decode_bytes",
    "export_candidates",
    "export_files",
    "find_export",
    "is_ignored",
    "mask_text",
    "read_export",
    "sniff_separator",
    "validate_export",
    "write_quarantine",
]
