"""Decoding of text exports and separator sniffing, in the fixed order SURVEY.md section 2 prescribes.

No general-purpose detector: they misread Danish Windows-1252 as Central European code pages.
"""

from __future__ import annotations

import codecs
from pathlib import Path

from .errors import UnreadableExportError

SEPARATORS = (",", ";", "\t")


def decode_bytes(raw: bytes, path: Path | None = None) -> tuple[str, str]:
    """Return (text, encoding): a BOM decides; else strict UTF-8; else Windows-1252."""
    try:
        if raw.startswith(codecs.BOM_UTF8):
            return raw[len(codecs.BOM_UTF8):].decode("utf-8"), "utf-8-sig"
        if raw.startswith(codecs.BOM_UTF16_LE) or raw.startswith(codecs.BOM_UTF16_BE):
            return raw.decode("utf-16"), "utf-16"
    except UnicodeDecodeError as exc:
        raise UnreadableExportError(
            f"the file starts with a byte-order mark but is not valid {exc.encoding} (byte {exc.start})", file=path
        ) from None
    try:
        text, encoding = raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        try:
            text, encoding = raw.decode("cp1252"), "cp1252"
        except UnicodeDecodeError as exc:
            raise UnreadableExportError(
                f"the file is neither UTF-8 nor Windows-1252 (undecodable byte at position {exc.start})", file=path
            ) from None
    if "\x00" in text:
        raise UnreadableExportError(
            "the file contains NUL bytes: not a text export (UTF-16 without a byte-order mark?)", file=path
        )
    return text, encoding


def _count_outside_quotes(line: str, sep: str) -> int:
    count, quoted = 0, False
    for ch in line:
        if ch == '"':
            quoted = not quoted
        elif ch == sep and not quoted:
            count += 1
    return count


def sniff_separator(text: str) -> str:
    """The separator (`,` `;` or tab) occurring most often in the header line outside quotes."""
    end = text.find("\n")
    header = text if end < 0 else text[:end]
    counts = {sep: _count_outside_quotes(header, sep) for sep in SEPARATORS}
    best = max(SEPARATORS, key=lambda s: counts[s])
    return best if counts[best] > 0 else ","
