"""Decoding of text exports and separator sniffing, in the fixed order SURVEY.md section 2 prescribes.

No general-purpose detector: they misread Danish Windows-1252 as Central European code pages.
"""

from __future__ import annotations

import codecs
import re
from pathlib import Path

import pyarrow as pa

from .errors import UnreadableExportError

ENCODINGS = ("utf-8", "utf-8-sig", "utf-16", "cp1252")  # what a text export may be in (SURVEY.md section 2)
SEPARATORS = (",", ";", "\t")
NUL_MESSAGE = "the file contains NUL bytes: not a text export (UTF-16 without a byte-order mark?)"
BOMS = (codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


def is_utf8(raw: bytes) -> bool:
    """Strict UTF-8 (as `bytes.decode("utf-8")` judges it), checked by Arrow without building a Python string."""
    offsets = pa.array([0, len(raw)], type=pa.int64()).buffers()[1]
    text = pa.Array.from_buffers(pa.large_string(), 1, [None, offsets, pa.py_buffer(raw)])
    try:
        text.validate(full=True)
    except pa.ArrowInvalid:
        return False
    return True


def utf8_bytes(raw: bytes, path: Path | None = None) -> tuple[bytes, str]:
    """The file as UTF-8 bytes without a BOM, and the encoding it was in (the order of `decode_bytes`).

    A file that is UTF-8 already is handed on as it is: a large export is not decoded into a Python
    string and encoded back.
    """
    if not raw.startswith(BOMS) and is_utf8(raw):
        if b"\x00" in raw:
            raise UnreadableExportError(NUL_MESSAGE, file=path)
        return raw, "utf-8"
    text, encoding = decode_bytes(raw, path)
    if encoding == "utf-8-sig":
        return raw[len(codecs.BOM_UTF8):], encoding
    return text.encode("utf-8"), encoding


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
        _reject_mixed_encodings(raw, path)
        try:
            text, encoding = raw.decode("cp1252"), "cp1252"
        except UnicodeDecodeError as exc:
            raise UnreadableExportError(
                f"the file is neither UTF-8 nor Windows-1252 (undecodable byte at position {exc.start})", file=path
            ) from None
    if "\x00" in text:
        raise UnreadableExportError(NUL_MESSAGE, file=path)
    return text, encoding


# UTF-8 encodings of the letters Danish exports use beyond ASCII (æ ø å Æ Ø Å é ü ö ä): in a file that is
# not valid UTF-8 they mean part of it was saved as UTF-8 and part in a legacy encoding.
_UTF8_LETTERS = re.compile(rb"\xc3[\x80-\xbf]")


def _reject_mixed_encodings(raw: bytes, path: Path | None) -> None:
    """A file that is partly UTF-8 and partly Windows-1252 has no single right reading: stop, naming lines."""
    if not _UTF8_LETTERS.search(raw):
        return
    utf8_line = legacy_line = None
    for number, line in enumerate(raw.split(b"\n"), start=1):
        if line.isascii():
            continue
        try:
            line.decode("utf-8")
            utf8_line = utf8_line or number
        except UnicodeDecodeError:
            legacy_line = legacy_line or number
        if utf8_line and legacy_line:
            raise UnreadableExportError(
                f"the file mixes encodings: line {utf8_line} is UTF-8, line {legacy_line} is not (Windows-1252?); "
                "save the whole export in one encoding (UTF-8) and try again",
                file=path,
                row=legacy_line,
            )


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
