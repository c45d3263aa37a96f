"""Where an Excel package (.xlsx) keeps its workbook and sheets, read from the package's own
relationships (the Open Packaging Conventions: `_rels/.rels` -> the workbook -> its parts), as any reader
finds them: the import reads sheets through it (the formula scan) and so does the privacy audit (its fast
cell reader), so neither depends on a library's private attributes."""

from __future__ import annotations

import posixpath
import zipfile
from dataclasses import dataclass
from xml.etree import ElementTree

_OFFICE_DOCUMENT = "/officeDocument"  # the relationship type (its end) naming the workbook part
_REL_NS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"


@dataclass(frozen=True)
class PackageSheet:
    """One `<sheet>` of the workbook part: its title, relationship type (worksheet, chartsheet, ...) and the
    zip member its relationship points to (which may be missing from the archive)."""

    title: str
    kind: str
    part: str


def relationships(archive: zipfile.ZipFile, part: str) -> list[tuple[str, str, str]]:
    """(Id, Type, target part) of a part's relationships, targets resolved against the part's folder."""
    folder, name = posixpath.split(part)
    rels = posixpath.join(folder, "_rels", f"{name}.rels")
    if rels not in archive.namelist():
        return []
    out = []
    for rel in ElementTree.fromstring(archive.read(rels)):
        target = rel.get("Target", "")
        resolved = target[1:] if target.startswith("/") else posixpath.normpath(posixpath.join(folder, target))
        out.append((rel.get("Id", ""), rel.get("Type", ""), resolved))
    return out


def workbook_part(archive: zipfile.ZipFile) -> str | None:
    """The workbook part the package names, or None."""
    workbook = next((t for _, kind, t in relationships(archive, "") if kind.endswith(_OFFICE_DOCUMENT)), None)
    return workbook if workbook is not None and workbook in archive.namelist() else None


def package_sheets(archive: zipfile.ZipFile) -> list[PackageSheet]:
    """The workbook's sheets in its order, each with the relationship it names."""
    workbook = workbook_part(archive)
    if workbook is None:
        return []
    targets = {rid: (kind, target) for rid, kind, target in relationships(archive, workbook)}
    sheets = []
    for element in ElementTree.fromstring(archive.read(workbook)).iter():
        if element.tag.rsplit("}", 1)[-1] == "sheet" and element.get(f"{_REL_NS}id") in targets:
            kind, part = targets[element.get(f"{_REL_NS}id")]
            sheets.append(PackageSheet(element.get("name", ""), kind, part))
    return sheets


def sheet_parts(archive: zipfile.ZipFile) -> dict[str, str]:
    """Each sheet's title and the zip member holding its XML."""
    return {sheet.title: sheet.part for sheet in package_sheets(archive)}
