"""audit_release: read every file of a release folder and report anything that could identify a respondent."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path

from benchmark_pipeline.audit import model
from benchmark_pipeline.audit.binary import scan_png
from benchmark_pipeline.audit.context import AuditContext
from benchmark_pipeline.audit.detect import HARD, SOFT, Detectors, TextStream, memoised_normalisation
from benchmark_pipeline.audit.markup import scan_markup
from benchmark_pipeline.audit.parallel import scan_files
from benchmark_pipeline.audit.tables import (
    Grid, check_grid, decode_text, index_suppression, memoised_numbers, read_csv, read_parquet, scan_grid_text,
)
from benchmark_pipeline.gc_pause import collector_paused
from benchmark_pipeline.settings import MIN_RESPONDENTS_FLOOR

_MARKUP = (".html", ".htm", ".xhtml", ".svg")
_WORKBOOK = (".xlsx", ".xlsm")
_JSON = (".json", ".geojson", ".jsonl")
_SNIFF_BYTES = 8192


def audit_release(
    release_dir: Path,
    *,
    forbidden_texts: Iterable[str] = (),
    min_respondents: int = MIN_RESPONDENTS_FLOOR,
    allowed_emails: Iterable[str] = (),
    processes: int | None = None,
) -> model.AuditReport:
    """Audit every file under `release_dir` (a staged or published release folder).

    `forbidden_texts` are the survey's free-text answers (compared normalised; texts shorter than
    `detect.MIN_FREE_TEXT_LENGTH` characters are not compared). `allowed_emails` are addresses the release
    may show on purpose (e.g. a published contact address). `processes` caps the processes that read the
    files (None: one per core for a large release, see `parallel`; 1: this process only); the report is
    the same with any number. Raises FileNotFoundError when the folder does
    not exist and ValueError when `min_respondents` is below the floor of 5.
    """
    release_dir = Path(release_dir)
    if not release_dir.is_dir():
        raise FileNotFoundError(f"release folder not found: {release_dir}")
    if min_respondents < MIN_RESPONDENTS_FLOOR:
        raise ValueError(f"min_respondents is {min_respondents}; disclosure control never allows fewer than "
                         f"{MIN_RESPONDENTS_FLOOR}")
    # Millions of short-lived strings and tuples with no cycles: the collector would walk them all for nothing.
    with memoised_normalisation(), memoised_numbers(), collector_paused():
        return _audit(release_dir, Detectors(forbidden_texts, min_respondents, allowed_emails), min_respondents,
                      processes)


def _audit(release_dir: Path, detectors: Detectors, min_respondents: int,
           processes: int | None) -> model.AuditReport:
    ctx = AuditContext(release_dir, detectors, min_respondents)
    files = _list_files(ctx, release_dir)
    # Tables first: indicator_values tells which kommune values the other tables must leave empty.
    grids: dict[str, Grid | None] = {}
    for path, rel in files:
        suffix = path.suffix.lower()
        if suffix == ".parquet":
            grids[rel] = read_parquet(path, rel, ctx)
        elif suffix in (".csv", ".tsv"):
            grids[rel] = read_csv(path, rel, ctx)
    for grid in grids.values():
        if grid is not None and grid.name == "indicator_values":
            index_suppression(grid, ctx.kommune_suppressed, min_respondents)

    for outcome in scan_files(ctx, files, grids, processes, scan_file):
        outcome.replay(ctx)

    report = model.AuditReport(
        release_dir=release_dir,
        findings=ctx.finish(),
        files_scanned=ctx.files_scanned,
        notes=ctx.notes,
        min_respondents=min_respondents,
        forbidden_texts_checked=len(detectors.forbidden),
        forbidden_texts_ignored=detectors.ignored,
    )
    return report


def scan_file(ctx: AuditContext, path: Path, rel: str, grids: dict[str, Grid | None]) -> None:
    """Scan one file of the release (its table, if it is one, read beforehand into `grids`)."""
    ctx.files_scanned.append(rel)
    suffix = path.suffix.lower()
    if rel in grids:
        grid = grids[rel]
        if grid is not None:
            scan_grid_text(ctx, grid)
            check_grid(ctx, grid)
        elif suffix != ".parquet":
            _scan_text(ctx, rel, decode_text(path.read_bytes()))
    elif suffix in _MARKUP:
        scan_markup(ctx, rel, decode_text(path.read_bytes()))
    elif suffix in _WORKBOOK:
        from benchmark_pipeline.audit.workbook import scan_workbook

        scan_workbook(ctx, path, rel)
    elif suffix in _JSON:
        _scan_json_file(ctx, rel, path.read_bytes())
    elif suffix == ".png":
        if not scan_png(ctx, rel, path.read_bytes()):
            ctx.files_scanned.pop()
    else:
        raw = path.read_bytes()
        if _looks_like_text(raw):
            _scan_text(ctx, rel, decode_text(raw))
        else:
            ctx.files_scanned.pop()
            ctx.report(rel, "", model.UNAUDITABLE_FILE,
                       f"binary file ({path.suffix or 'no extension'}) cannot be audited; a release holds only "
                       "tables (Parquet, CSV), JSON, HTML, SVG, PNG, workbooks and text files")


def _list_files(ctx: AuditContext, root: Path) -> list[tuple[Path, str]]:
    files: list[tuple[Path, str]] = []
    for folder, dirs, names in os.walk(root, followlinks=False):
        base = Path(folder)
        for d in sorted(dirs):
            if (base / d).is_symlink():
                rel = (base / d).relative_to(root).as_posix()
                ctx.report(rel, "", model.UNAUDITABLE_FILE, "symbolic link to a folder is not followed, so its "
                           "contents cannot be audited")
        dirs.sort()
        for name in sorted(names):
            path = base / name
            rel = path.relative_to(root).as_posix()
            if not path.is_file():
                ctx.report(rel, "", model.UNAUDITABLE_FILE, "not a regular file (broken link, device or pipe)")
                continue
            files.append((path, rel))
    return files


def _looks_like_text(raw: bytes) -> bool:
    head = raw[:_SNIFF_BYTES]
    if head.startswith((b"\xff\xfe", b"\xfe\xff", b"\xef\xbb\xbf")):
        return True
    if b"\0" in head:
        return False
    try:
        head.decode("utf-8")
        return True
    except UnicodeDecodeError as exc:
        return exc.start >= len(head) - 4  # a multi-byte character cut at the sniff boundary


def _scan_text(ctx: AuditContext, rel: str, text: str) -> None:
    stream = TextStream()
    for number, line in enumerate(text.splitlines(), start=1):
        stream.add(line, f"line {number}", SOFT)
    ctx.scan(rel, stream)


def _scan_json_file(ctx: AuditContext, rel: str, raw: bytes) -> None:
    text = decode_text(raw)
    try:
        if rel.endswith(".jsonl"):
            documents = [json.loads(line) for line in text.splitlines() if line.strip()]
        else:
            documents = [json.loads(text)]
    except ValueError:
        ctx.report(rel, "", model.UNREADABLE_FILE, "not valid JSON; its text was scanned line by line")
        _scan_text(ctx, rel, text)
        return
    stream = TextStream()
    for document in documents:
        _walk_json(ctx, document, "$", stream)
    ctx.scan(rel, stream)


def _walk_json(ctx: AuditContext, value: object, path: str, stream: TextStream) -> None:
    if isinstance(value, dict):
        for number, (key, item) in enumerate(value.items(), start=1):
            stream.add(key, f"{path} (key #{number})", HARD)
            label = ctx.safe_label(key, f"<key #{number}>")
            _walk_json(ctx, item, f"{path}.{label}", stream)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _walk_json(ctx, item, f"{path}[{i}]", stream)
    elif isinstance(value, str):
        stream.add(value, path, HARD)
    elif isinstance(value, int) and not isinstance(value, bool):
        stream.add(str(value), path, HARD)  # a CPR number stored without its dash is an integer
