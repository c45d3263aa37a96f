"""Finding and reading one survey year's export, whatever its layout, encoding and separator.

A reader returns raw values only (text, blank = NA) with the row number a person sees in the source file;
a text export's coded columns arrive as categoricals of their raw texts, ids and free text as `str`.
Which layout a file is, and how it is read, each layout in `layouts/` says; mapping happens in `mapping.py`.
"""

from __future__ import annotations

from pathlib import Path


from benchmark_pipeline.instrument import YearInstrument
from benchmark_pipeline.reference import Kommuner

from .errors import ExportNotFoundError, LayoutError, UnreadableExportError
from .layouts import BY_NAME, FILE_KINDS, LAYOUTS
from .mapping import ColumnPlan
from .pii import mask_text
from .raw import FileKind, RawExport
from .textfile import TEXT, read_head

REFUSED_SUFFIXES = {".xls": "old binary Excel (.xls) is not supported: save the export as .xlsx"}
EXPORT_SUFFIXES = frozenset().union(*(kind.suffixes for kind in FILE_KINDS), REFUSED_SUFFIXES)


# --------------------------------------------------------------------------- finding the export


def is_ignored(path: Path) -> bool:
    """README*, hidden files and Office lock files (`~$…`) are not part of an export."""
    name = path.name
    return name.startswith((".", "~$")) or name.casefold().startswith("readme")


def export_files(raw_dir: Path) -> list[Path]:
    """The files of a year's export folder that count (top level only, `is_ignored` ones left out), by name.

    An export is these files: `find_export` picks the export among them, and a change to any of them is a
    change of the export. A missing folder has none; a folder that cannot be listed raises OSError.
    """
    raw_dir = Path(raw_dir)
    if not raw_dir.is_dir():
        return []
    return sorted((p for p in raw_dir.iterdir() if p.is_file() and not is_ignored(p)), key=lambda p: p.name)


def export_candidates(raw_dir: Path) -> list[Path]:
    """The files of the folder that could be the export (an export suffix, not a layout's companion file)."""
    return [
        f for f in export_files(raw_dir)
        if f.suffix.casefold() in EXPORT_SUFFIXES and not any(layout.is_companion(f) for layout in LAYOUTS)
    ]


def find_export(path: Path) -> Path:
    """PATH itself if it is a file; else the one export file in the folder (README* and hidden files ignored)."""
    path = Path(path)
    if path.is_file():
        return path
    if not path.exists():
        raise ExportNotFoundError("no such file or folder", file=path)
    if not path.is_dir():
        raise ExportNotFoundError("not a file or folder", file=path)
    try:
        candidates = export_candidates(path)
    except OSError as exc:
        raise ExportNotFoundError(f"cannot list the folder ({exc.strerror or exc})", file=path) from None
    if not candidates:
        raise ExportNotFoundError(
            "the folder holds no export file (.xlsx, .csv, .tsv, .txt or .sav; README and hidden files are ignored)",
            file=path,
        )
    if len(candidates) > 1:
        names = ", ".join(c.name for c in candidates)
        raise ExportNotFoundError(f"the folder holds several export files ({names}); expected exactly one", file=path)
    return candidates[0]


# --------------------------------------------------------------------------- reading it


def _file_kind(path: Path) -> FileKind:
    """By suffix; under another suffix by the file's first bytes (a workbook saved as .dat); else text."""
    suffix = path.suffix.casefold()
    if suffix in REFUSED_SUFFIXES:
        raise UnreadableExportError(REFUSED_SUFFIXES[suffix], file=path)
    for kind in FILE_KINDS:
        if suffix in kind.suffixes:
            return kind
    head = read_head(path)
    return next((kind for kind in FILE_KINDS if kind.signature and head.startswith(kind.signature)), TEXT)


def check_layout(layout: str, instrument: YearInstrument, path: Path) -> None:
    """A detected layout must fit the mapping; the canonical CSV is keyed by stable ids and fits every year."""
    found = BY_NAME[layout]
    expected = BY_NAME.get(instrument.layout)
    if not found.fits_every_year and found.family != (expected.family if expected else None):
        raise LayoutError(
            f"the file is a {layout} export, but the {instrument.survey_year} mapping "
            f"({instrument.path.name if instrument.path else 'mapping'}) expects {instrument.layout}",
            file=path,
        )


def _keep_used(raw: RawExport, instrument: YearInstrument) -> None:
    """Keep only the columns the year's mapping uses: anything else (names, e-mails, a tool's system
    columns, a column under a blank or merged header) is dropped as it is read, so no stored copy holds
    it. Only the dropped headers are kept, to be listed; never their values."""
    used = set(ColumnPlan.of(raw, instrument).used)
    dropped = [c for c in raw.frame.columns if c != "source_row" and c not in used]
    if dropped:
        raw.frame = raw.frame.drop(columns=dropped)
    raw.dropped_columns = dropped


def _mask_free_text(raw: RawExport, instrument: YearInstrument) -> None:
    """Mask personal data in free text as soon as it is read, so no stored copy holds it unmasked."""
    columns = BY_NAME[raw.layout].free_text_columns(raw.frame.columns, instrument)
    raw.masked = True
    if not columns:
        return
    masked = {}
    for col in columns:
        masked[col], count = mask_text(raw.frame[col])
        raw.pii_masked += count
    raw.frame = raw.frame.assign(**masked)  # copy-on-write: the other columns are not copied


def read_export(path: Path, instrument: YearInstrument, kommuner: Kommuner | None = None) -> RawExport:
    """Read PATH (an export file or a folder holding one) into raw text values, detecting its layout."""
    path = find_export(Path(path))
    kind = _file_kind(path)
    with kind.open(path) as source:
        return read_source(source, kind, instrument)


def read_source(source, kind: FileKind, instrument: YearInstrument) -> RawExport:
    """The opened export `source` (of file kind `kind`) read into raw text values: its layout detected, the
    columns the mapping does not use dropped, free text masked."""
    layouts = [layout for layout in LAYOUTS if layout.kind is kind]
    layout = next((layout for layout in layouts if layout.detect(source, instrument)), None)
    if layout is None:
        looked_at = getattr(source, "sheets_looked_at", "")
        raise LayoutError(
            f"unknown layout: {kind.what} needs " + " or ".join(layout.hint for layout in layouts)
            + (f"; read {looked_at}" if looked_at else ""), file=source.path
        )
    raw = layout.read(source, instrument)
    check_layout(raw.layout, instrument, source.path)
    _keep_used(raw, instrument)
    _mask_free_text(raw, instrument)
    return raw
