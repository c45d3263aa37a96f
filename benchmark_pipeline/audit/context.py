"""The state of one audit run: its detectors, the findings so far, and the files read."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from benchmark_pipeline.audit import model
from benchmark_pipeline.audit.detect import Detectors, TextStream

# Beyond this many findings of one kind in one file, the rest are counted in one summary finding.
MAX_FINDINGS_PER_FILE_AND_KIND = 25


class AuditContext:
    def __init__(self, release_dir: Path, detectors: Detectors, min_respondents: int) -> None:
        self.release_dir = release_dir
        self.detectors = detectors
        self.min_respondents = min_respondents
        self.findings: list[model.Finding] = []
        self.notes: list[str] = []
        self.files_scanned: list[str] = []
        self._seen: set[tuple[str, str, str, str]] = set()
        self._counts: Counter[tuple[str, str]] = Counter()
        self._clean: dict[str, bool] = {}
        # (survey_year, kommune code, indicator id) -> suppressed, from indicator_values, for cross-checks
        self.kommune_suppressed: dict[tuple[str, str, str], bool] = {}

    def report(self, file: str, location: str, kind: str, message: str) -> None:
        key = (file, location, kind, message)
        if key in self._seen:
            return
        self._seen.add(key)
        self._counts[(file, kind)] += 1
        if self._counts[(file, kind)] <= MAX_FINDINGS_PER_FILE_AND_KIND:
            self.findings.append(model.Finding(file=file, location=location, kind=kind, message=message))

    def scan(self, file: str, stream: TextStream, *, small_n: bool = True) -> None:
        """Run the text detectors over one artefact's stream and report what they find."""
        if not stream:
            return
        for hit in self.detectors.hits(stream.text, small_n=small_n):
            self.report(file, stream.location_at(hit.pos), hit.kind, hit.message)

    def safe_label(self, text: object, placeholder: str) -> str:
        """A name for use in a location (sheet, column, key), or a placeholder when the name itself leaks."""
        text = "" if text is None else str(text)
        return text if self.is_clean(text) else placeholder

    def is_clean(self, text: str) -> bool:
        """Whether the text on its own holds nothing the detectors find (remembered for the run). A text
        that is clean and would be a HARD segment of a stream can be left out of it: no match spans segments."""
        clean = self._clean.get(text)
        if clean is None:
            clean = self._clean[text] = self.detectors.is_clean(text)
        return clean

    def recorder(self) -> RecordingContext:
        """A context for scanning one file: it shares this run's detectors, minimum, suppression index and
        label cache, and records what is reported instead of reporting it (see audit.parallel)."""
        recorder = RecordingContext(self.release_dir, self.detectors, self.min_respondents)
        recorder.kommune_suppressed = self.kommune_suppressed
        recorder._clean = self._clean
        return recorder

    def finish(self) -> list[model.Finding]:
        extra = []
        for (file, kind), count in self._counts.items():
            if count > MAX_FINDINGS_PER_FILE_AND_KIND:
                hidden = count - MAX_FINDINGS_PER_FILE_AND_KIND
                extra.append(model.Finding(
                    file=file, location="", kind=model.TRUNCATED,
                    message=f"{hidden} more finding(s) of kind {kind} in this file are not listed one by one"))
        return self.findings + extra


class RecordingContext(AuditContext):
    """Records every report, in order and before de-duplication, to be replayed into the run's context."""

    def __init__(self, release_dir: Path, detectors: Detectors, min_respondents: int) -> None:
        super().__init__(release_dir, detectors, min_respondents)
        self.calls: list[tuple[str, str, str, str]] = []

    def report(self, file: str, location: str, kind: str, message: str) -> None:
        self.calls.append((file, location, kind, message))
