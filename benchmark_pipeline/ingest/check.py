"""`check`: validate an export without publishing, for the people who drop exports in."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from benchmark_pipeline.instrument import InstrumentError, load_year
from benchmark_pipeline.reference import load_kommuner

from .errors import IngestError, MappingError
from .pii import mask_text, mask_value
from .raw import RawExport
from .readers import find_export, read_export
from .validate import COUNT_KEYS, ValidationResult, validate_export


@dataclass
class CheckReport:
    """What `check` prints. Each quarantine or warning entry: row (header = row 1), respondent_id (masked
    where it looks like personal data), column, rule, message, and line where the export's rows span lines."""

    file: str
    year: int
    layout: str | None = None
    encoding: str | None = None
    separator: str | None = None
    dropped_columns: list[str] = field(default_factory=list)  # headers the mapping does not use: not read
    status: str = "rejected"  # "ok" | "quarantine" | "rejected"
    counts: dict[str, int] = field(default_factory=lambda: {k: 0 for k in COUNT_KEYS})
    quarantine: list[dict] = field(default_factory=list)
    warnings: list[dict] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    exit_code: int = 2
    result: ValidationResult | None = field(default=None, repr=False)

    def to_dict(self) -> dict:
        return {
            "file": self.file,
            "year": self.year,
            "layout": self.layout,
            "encoding": self.encoding,
            "separator": self.separator,
            "dropped_columns": self.dropped_columns,
            "status": self.status,
            **{k: int(self.counts.get(k, 0)) for k in COUNT_KEYS},
            "quarantine": self.quarantine,
            "warnings": self.warnings,
            "errors": self.errors,
            "exit_code": self.exit_code,
        }

    def summary(self) -> str:
        sep = {",": "comma", ";": "semicolon", "\t": "tab"}.get(self.separator or "", self.separator)
        lines = [f"{self.file} (survey year {self.year})"]
        if self.layout:
            fmt = f"layout {self.layout}"
            if self.encoding:
                fmt += f", encoding {self.encoding}, separator {sep}"
            lines.append(fmt)
        if self.dropped_columns:
            listed = ", ".join(self.dropped_columns[:20]) + (" …" if len(self.dropped_columns) > 20 else "")
            lines.append(f"columns the mapping does not use, not kept ({len(self.dropped_columns)}): {listed}")
        c = self.counts
        if self.result is not None or c.get("rows_read"):
            lines.append(
                f"rows read {c['rows_read']}: valid {c['rows_valid']}, quarantined {c['rows_quarantined']}, "
                f"duplicates collapsed {c['duplicates_collapsed']}, without answers {c['rows_empty']}; "
                f"personal data masked in free text: {c['pii_masked']}"
            )
        for q in self.quarantine[:50]:
            rid = q["respondent_id"] if q["respondent_id"] is not None else "-"
            row = f"row {q['row']}" + (f" (line {q['line']})" if q.get("line", q["row"]) != q["row"] else "")
            lines.append(f"  quarantined {row} (id {rid}) {q['column']}: {q['rule']}: {q['message']}")
        if len(self.quarantine) > 50:
            lines.append(f"  ... and {len(self.quarantine) - 50} more quarantine entries (use --json for all)")
        if self.warnings:
            lines.append(f"warnings: {len(self.warnings)} (kept rows; use --json to list them)")
        for e in self.errors:
            lines.append(f"error: {e}")
        verdict = {
            "ok": "OK: every answered row is valid",
            "quarantine": "QUARANTINE: some rows are set aside; the year can be published without them",
            "rejected": "REJECTED: the year cannot be published from this export",
        }[self.status]
        lines.append(verdict)
        return "\n".join(lines)


def _entries(frame: pd.DataFrame, raw: RawExport | None) -> list[dict]:
    """Quarantine or warning entries as printed: respondent ids that look like personal data (CPR-like, an
    e-mail address) masked, since a terminal is an artefact too (values in messages are masked already), and
    "line" where the export's rows span lines."""
    ids, _ = mask_text(frame["respondent_id"])
    records = frame[["row", "column", "rule", "message"]].assign(respondent_id=ids)
    records = records[["row", "respondent_id", "column", "rule", "message"]].astype(object)
    records = records.where(records.notna(), None)
    out = records.to_dict("records")
    lines = _lines_of(raw, frame["row"].to_numpy())
    for number, r in enumerate(out):
        r["row"] = int(r["row"])
        if lines is not None:
            r["line"] = int(lines[number])
    return out


def _lines_of(raw: RawExport | None, rows: np.ndarray) -> np.ndarray | None:
    """The line each of `rows` (source rows) starts on, where the export's rows span lines."""
    if raw is None or raw.lines is None:
        return None
    source_rows = raw.frame["source_row"].to_numpy()
    return raw.lines[np.searchsorted(source_rows, rows)]


def _fill(report: CheckReport, result: ValidationResult, raw: RawExport | None) -> None:
    report.result = result
    report.counts = {k: int(result.counts[k]) for k in COUNT_KEYS}
    report.quarantine = _entries(result.quarantine, raw)
    report.warnings = _entries(result.warnings, raw)


def check_export(path: Path, survey_year: int, data_dir: Path, max_quarantine_share: float = 0.20) -> CheckReport:
    """Validate PATH as the export for `survey_year` without publishing anything; never raises IngestError."""
    report = CheckReport(file=str(path), year=int(survey_year))
    raw: RawExport | None = None
    try:
        try:
            instrument = load_year(Path(data_dir), int(survey_year))
        except InstrumentError as exc:
            raise MappingError(str(exc)) from None
        try:
            kommuner = load_kommuner(Path(data_dir))
        except (OSError, ValueError) as exc:
            raise MappingError(f"the kommune reference cannot be loaded: {exc}") from None
        report.file = str(find_export(Path(path)))
        raw = read_export(Path(path), instrument, kommuner)
        report.layout, report.encoding, report.separator = raw.layout, raw.encoding, raw.separator
        report.dropped_columns = [mask_value(c) for c in raw.dropped_columns]
        result = validate_export(raw, instrument, kommuner, max_quarantine_share)
    except IngestError as exc:
        report.status = "rejected"
        report.exit_code = exc.exit_code
        report.errors.append(str(exc))
        if exc.result is not None:
            _fill(report, exc.result, raw)
        return report
    _fill(report, result, raw)
    report.status = result.status
    report.exit_code = 0 if result.status == "ok" else 1
    return report
