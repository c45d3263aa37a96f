"""What the privacy audit reports: findings, their kinds, and the report of one release folder."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from benchmark_pipeline.settings import MIN_RESPONDENTS_FLOOR

# Finding kinds. Every finding fails the audit.
FREE_TEXT = "free_text"
CPR_NUMBER = "cpr_number"
EMAIL_ADDRESS = "email_address"
SMALL_CELL = "small_cell"
SUPPRESSED_VALUE = "suppressed_value"
KOMMUNE_COUNT = "kommune_count"
UNVERIFIABLE_VALUE = "unverifiable_value"
MISSING_DISCLOSURE_COLUMNS = "missing_disclosure_columns"
PERSONAL_DATA_COLUMN = "personal_data_column"
UNAUDITABLE_FILE = "unauditable_file"
UNREADABLE_FILE = "unreadable_file"
TRUNCATED = "more_findings"

KIND_DESCRIPTIONS: dict[str, str] = {
    FREE_TEXT: "a respondent's free-text answer",
    CPR_NUMBER: "a CPR-number-like string",
    EMAIL_ADDRESS: "an e-mail address",
    SMALL_CELL: "a value resting on fewer respondents than the minimum",
    SUPPRESSED_VALUE: "a suppressed row or cell that still carries a value",
    KOMMUNE_COUNT: "a count (numerator) below kommunegruppe level",
    UNVERIFIABLE_VALUE: "a value whose respondent count is missing, so disclosure control cannot be verified",
    MISSING_DISCLOSURE_COLUMNS: "a table without the columns disclosure control is verified on",
    PERSONAL_DATA_COLUMN: "a column that holds respondent-level or personal data",
    UNAUDITABLE_FILE: "a file the audit cannot read",
    UNREADABLE_FILE: "a file that does not parse as its format",
    TRUNCATED: "further findings of the same kind in the same file (not listed one by one)",
}
KINDS = frozenset(KIND_DESCRIPTIONS)


@dataclass(frozen=True)
class Finding:
    """One problem: where it is and what it is. The message never repeats the leaked value in full."""

    file: str  # path relative to the release folder, with forward slashes
    location: str  # table row/column, sheet and cell, HTML line and element, JSON path, ...
    kind: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"file": self.file, "location": self.location, "kind": self.kind, "message": self.message}

    def __str__(self) -> str:
        where = f"{self.file}, {self.location}" if self.location else self.file
        return f"{where}: {self.message} [{self.kind}]"


@dataclass
class AuditReport:
    """The result of auditing one release folder; `passed` is True only when there are no findings."""

    release_dir: Path
    findings: list[Finding] = field(default_factory=list)
    files_scanned: list[str] = field(default_factory=list)  # relative paths of every file read
    notes: list[str] = field(default_factory=list)  # what was read but could not be inspected fully
    min_respondents: int = MIN_RESPONDENTS_FLOOR
    forbidden_texts_checked: int = 0  # free texts long enough to be compared
    forbidden_texts_ignored: int = 0  # free texts shorter than the minimum length

    @property
    def passed(self) -> bool:
        return not self.findings

    def counts_by_kind(self) -> dict[str, int]:
        counts: Counter[str] = Counter()
        for f in self.findings:
            if f.kind == TRUNCATED:
                continue
            counts[f.kind] += 1
        return dict(sorted(counts.items()))

    def to_dict(self) -> dict:
        return {
            "release_dir": str(self.release_dir),
            "passed": self.passed,
            "min_respondents": self.min_respondents,
            "files_scanned": list(self.files_scanned),
            "forbidden_texts_checked": self.forbidden_texts_checked,
            "forbidden_texts_ignored": self.forbidden_texts_ignored,
            "counts_by_kind": self.counts_by_kind(),
            "findings": [f.to_dict() for f in self.findings],
            "notes": list(self.notes),
        }

    def summary(self) -> str:
        name = self.release_dir.name
        n_files = len(self.files_scanned)
        files_word = "file" if n_files == 1 else "files"
        if self.passed:
            lines = [
                f"Privacy audit of release {name}: passed. {n_files} {files_word} scanned, nothing found that "
                f"could identify a respondent (minimum {self.min_respondents} respondents per published value, "
                f"{self.forbidden_texts_checked} free-text answers compared)."
            ]
        else:
            bad_files = len({f.file for f in self.findings})
            listed = [f for f in self.findings if f.kind != TRUNCATED]
            hidden = sum(_hidden_count(f) for f in self.findings if f.kind == TRUNCATED)
            total = len(listed) + hidden
            lines = [
                f"Privacy audit of release {name}: FAILED. {total} finding{'s' if total != 1 else ''} in "
                f"{bad_files} of {n_files} {files_word} scanned; the release must not be published."
            ]
            for kind, count in self.counts_by_kind().items():
                lines.append(f"  {count} x {KIND_DESCRIPTIONS.get(kind, kind)}")
            lines.append("Findings:")
            lines.extend(f"  - {f}" for f in self.findings)
        if self.forbidden_texts_ignored:
            lines.append(
                f"Note: {self.forbidden_texts_ignored} free-text answer(s) shorter than the minimum length were "
                "not compared (too short to tell apart from ordinary words)."
            )
        lines.extend(f"Note: {note}" for note in self.notes)
        return "\n".join(lines)


def _hidden_count(finding: Finding) -> int:
    head = finding.message.split(" ", 1)[0]
    return int(head) if head.isdigit() else 0
