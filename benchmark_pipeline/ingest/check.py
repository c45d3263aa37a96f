"""`check`: validate an export without publishing, for the people who drop exports in."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from benchmark_pipeline.instrument import InstrumentError, load_year
from benchmark_pipeline.reference import load_kommuner

from .errors import IngestError, MappingError
from .raw import RawExport
from .readers import find_export, read_export
from .validate import COUNT_KEYS, ValidationResult, validate_export


@dataclass
class CheckReport:
    file: str
    year: int
    layout: str | None = None
    encoding: str | None = None
    separator: str | None = None
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
        c = self.counts
        if self.result is not None or c.get("rows_read"):
            lines.append(
                f"rows read {c['rows_read']}: valid {c['rows_valid']}, quarantined {c['rows_quarantined']}, "
                f"duplicates collapsed {c['duplicates_collapsed']}, without answers {c['rows_empty']}; "
                f"personal data masked in free text: {c['pii_masked']}"
            )
        for q in self.quarantine[:50]:
            rid = q["respondent_id"] if q["respondent_id"] is not None else "-"
            lines.append(f"  quarantined row {q['row']} (id {rid}) {q['column']}: {q['rule']}: {q['message']}")
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


def _entries(frame) -> list[dict]:
    records = frame[["row", "respondent_id", "column", "rule", "message"]].astype(object)
    records = records.where(records.notna(), None)
    out = records.to_dict("records")
    for r in out:
        r["row"] = int(r["row"])
    return out


def _fill(report: CheckReport, result: ValidationResult) -> None:
    report.result = result
    report.counts = {k: int(result.counts[k]) for k in COUNT_KEYS}
    report.quarantine = _entries(result.quarantine)
    report.warnings = _entries(result.warnings)


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
        result = validate_export(raw, instrument, kommuner, max_quarantine_share)
    except IngestError as exc:
        report.status = "rejected"
        report.exit_code = exc.exit_code
        report.errors.append(str(exc))
        if exc.result is not None:
            _fill(report, exc.result)
        return report
    _fill(report, result)
    report.status = result.status
    report.exit_code = 0 if result.status == "ok" else 1
    return report
