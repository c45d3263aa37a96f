"""PNG images: their text chunks are read; their pixels cannot be audited.

A chart's numbers must also be in the page's alt text and tables (DESIGN.md, WCAG), which the audit
reads; so a valid PNG passes with a note, and its tEXt/zTXt/iTXt metadata is scanned like any text.
A file named .png that is not a PNG is a finding.
"""

from __future__ import annotations

import struct
import zlib

from benchmark_pipeline.audit import model
from benchmark_pipeline.audit.context import AuditContext
from benchmark_pipeline.audit.detect import HARD, TextStream

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def scan_png(ctx: AuditContext, rel: str, data: bytes, *, where: str = "") -> bool:
    """Scan a PNG's text chunks; False (with a finding) when the bytes are not a PNG."""
    label = where.rstrip(", ") or ""
    if not data.startswith(PNG_SIGNATURE):
        ctx.report(rel, label, model.UNAUDITABLE_FILE, "not a PNG image although named or declared as one; it cannot "
                   "be audited")
        return False
    stream = TextStream()
    pos = len(PNG_SIGNATURE)
    while pos + 8 <= len(data):
        length, ctype = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        pos += 12 + length
        try:
            text = _chunk_text(ctype, body)
        except (zlib.error, ValueError, UnicodeDecodeError):
            ctx.report(rel, f"{where}{ctype.decode('latin-1')} chunk", model.UNREADABLE_FILE,
                       "a text chunk cannot be decoded, so it cannot be audited")
            continue
        if text is not None:
            stream.add(text, f"{where}{ctype.decode('latin-1')} chunk", HARD)
        if ctype == b"IEND":
            break
    ctx.scan(rel, stream)
    note = (f"{rel}: PNG image(s); text chunks scanned, pixels not inspected (a chart's numbers are checked in "
            "the page's alt text and tables)")
    if note not in ctx.notes:
        ctx.notes.append(note)
    return True


def _chunk_text(ctype: bytes, body: bytes) -> str | None:
    if ctype == b"tEXt":
        key, _, value = body.partition(b"\0")
        return f"{key.decode('latin-1')} {value.decode('latin-1')}"
    if ctype == b"zTXt":
        key, _, rest = body.partition(b"\0")
        return f"{key.decode('latin-1')} {zlib.decompress(rest[1:]).decode('latin-1')}"
    if ctype == b"iTXt":
        key, _, rest = body.partition(b"\0")
        compressed, _method = rest[0], rest[1]
        lang, _, rest = rest[2:].partition(b"\0")
        translated, _, text = rest.partition(b"\0")
        if compressed:
            text = zlib.decompress(text)
        return " ".join((key.decode("latin-1"), translated.decode("utf-8"), text.decode("utf-8")))
    return None
