"""Decoding of text exports and separator sniffing, in the fixed order SURVEY.md section 2 prescribes.

No general-purpose detector: they misread Danish Windows-1252 as Central European code pages.
Lines are counted as an editor counts them: `\\r\\n`, `\\r` (old Mac) and `\\n` each end one.
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
SAVE_AS_UTF8 = "save the whole file as UTF-8 and try again"
_UTF16_SAMPLE = 1 << 16  # bytes looked at to tell UTF-16 text from stray NUL bytes
_LINE_END = re.compile(r"[\r\n]")
_LINE_END_BYTES = re.compile(rb"[\r\n]")


def is_utf8(raw: bytes) -> bool:
    """Strict UTF-8 (as `bytes.decode("utf-8")` judges it), checked by Arrow without building a Python string."""
    offsets = pa.array([0, len(raw)], type=pa.int64()).buffers()[1]
    text = pa.Array.from_buffers(pa.large_string(), 1, [None, offsets, pa.py_buffer(raw)])
    try:
        text.validate(full=True)
    except pa.ArrowInvalid:
        return False
    return True


def first_line_end(data: bytes) -> int:
    """Where the first line ends (its `\\r` or `\\n`), -1 if the data is one line."""
    found = _LINE_END_BYTES.search(data)
    return found.start() if found else -1


def line_and_column(before: str) -> tuple[int, int]:
    """(line, column) of the character that follows `before`, the text in front of it, both from 1."""
    line = before.count("\n") + before.count("\r") - before.count("\r\n") + 1
    start = max(before.rfind("\n"), before.rfind("\r")) + 1
    return line, len(before) - start + 1


def looks_like_utf16(raw: bytes) -> bool:
    """NUL bytes in every other byte: the high bytes of UTF-16 text in a Latin script (not a stray character)."""
    sample = raw[:_UTF16_SAMPLE]
    even, odd = sample[0::2].count(0), sample[1::2].count(0)
    most, fewest = max(even, odd), min(even, odd)
    return most > 0 and most * 4 >= len(sample) and fewest * 10 <= most


def _refuse_utf16_without_bom(raw: bytes, path: Path | None) -> None:
    if b"\x00" in raw and looks_like_utf16(raw):
        raise UnreadableExportError(NUL_MESSAGE, file=path)


def utf8_bytes(raw: bytes, path: Path | None = None) -> tuple[bytes, str]:
    """The file as UTF-8 bytes without a BOM, and the encoding it was in (the order of `decode_bytes`).

    A file that is UTF-8 already is handed on as it is: a large export is not decoded into a Python
    string and encoded back. A stray NUL byte is handed on too: the parsed table says in which cell it is.
    """
    if not raw.startswith(BOMS) and is_utf8(raw):
        _refuse_utf16_without_bom(raw, path)
        return raw, "utf-8"
    if raw.startswith(codecs.BOM_UTF8) and is_utf8(body := raw[len(codecs.BOM_UTF8):]):
        return body, "utf-8-sig"
    text, encoding = decode_bytes(raw, path)
    return text.encode("utf-8"), encoding


def decode_bytes(raw: bytes, path: Path | None = None) -> tuple[str, str]:
    """Return (text, encoding): a BOM decides; else strict UTF-8; else Windows-1252.

    UTF-16 without a BOM is refused; a stray NUL character stays in the text for the table to locate.
    """
    for bom, encoding, name in ((codecs.BOM_UTF8, "utf-8-sig", "UTF-8"), (codecs.BOM_UTF16_LE, "utf-16", "UTF-16"),
                                (codecs.BOM_UTF16_BE, "utf-16", "UTF-16")):
        if raw.startswith(bom):
            try:
                return raw.decode(encoding), encoding
            except UnicodeDecodeError as exc:
                raise _undecodable(exc, f"the file starts with a {name} byte-order mark, but {{where}} is not {name} "
                                        "({bytes}: was part of the file saved in another encoding, such as "
                                        "Windows-1252?)", path) from None
    _refuse_utf16_without_bom(raw, path)
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        _reject_mixed_encodings(raw, path)
    try:
        return raw.decode("cp1252"), "cp1252"
    except UnicodeDecodeError as exc:
        raise _undecodable(exc, "the file is neither UTF-8 nor Windows-1252: {where} holds {bytes}, which is not "
                                "a character in either", path) from None


def _undecodable(exc: UnicodeDecodeError, message: str, path: Path | None) -> UnreadableExportError:
    """The first undecodable byte named by line and column (as an editor counts them), and what to do."""
    before = exc.object[:exc.start].decode(exc.encoding)
    if before.startswith("\ufeff"):  # a UTF-16 error holds the BOM too (a UTF-8 one only the bytes after it)
        before = before[1:]
    line, column = line_and_column(before)
    bad = exc.object[exc.start:exc.end]
    shown = f"byte{'s' if len(bad) > 1 else ''} " + " ".join(f"0x{b:02X}" for b in bad)
    where = f"line {line}, column {column}"
    return UnreadableExportError(f"{message.format(where=where, bytes=shown)}; {SAVE_AS_UTF8}", file=path)


# UTF-8 encodings of the letters Danish exports use beyond ASCII (æ ø å Æ Ø Å é ü ö ä): in a file that is
# not valid UTF-8 they mean part of it was saved as UTF-8 and part in a legacy encoding.
_UTF8_LETTERS = re.compile(rb"\xc3[\x80-\xbf]")


def _reject_mixed_encodings(raw: bytes, path: Path | None) -> None:
    """A file that is partly UTF-8 and partly Windows-1252 has no single right reading: stop, naming lines."""
    if not _UTF8_LETTERS.search(raw):
        return
    utf8_line = legacy_line = None
    for number, line in enumerate(raw.splitlines(), start=1):
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
    end = _LINE_END.search(text)
    header = text if end is None else text[:end.start()]
    counts = {sep: _count_outside_quotes(header, sep) for sep in SEPARATORS}
    best = max(SEPARATORS, key=lambda s: counts[s])
    return best if counts[best] > 0 else ","
