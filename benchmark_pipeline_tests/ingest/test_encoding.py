import codecs

import pytest
from hypothesis import given
from hypothesis import strategies as st

from benchmark_pipeline.ingest import IngestError, decode_bytes, sniff_separator
from benchmark_pipeline.ingest.encoding import is_utf8, line_and_column, looks_like_utf16, utf8_bytes
from benchmark_pipeline.ingest.errors import UnreadableExportError

TEXT = "kommune;navn\n492;Ærø\n825;Læsø\n"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (TEXT.encode("utf-8"), "utf-8"),
        (codecs.BOM_UTF8 + TEXT.encode("utf-8"), "utf-8-sig"),
        (TEXT.encode("utf-16"), "utf-16"),
        (codecs.BOM_UTF16_BE + TEXT.encode("utf-16-be"), "utf-16"),
        (TEXT.encode("cp1252"), "cp1252"),
    ],
)
def test_encoding_order_bom_then_utf8_then_cp1252(raw, expected):
    text, encoding = decode_bytes(raw)
    assert encoding == expected
    assert text == TEXT


def test_cp1252_is_never_read_as_central_european():
    text, encoding = decode_bytes("Ærø, Læsø, Æblehaven Å".encode("cp1252"))
    assert (text, encoding) == ("Ærø, Læsø, Æblehaven Å", "cp1252")


def test_undecodable_bytes_are_an_ingest_error_naming_line_and_column():
    with pytest.raises(UnreadableExportError) as info:
        decode_bytes(b"a,b\n\x81\x8d\x8f,1\n")
    assert info.value.exit_code == 2
    assert str(info.value) == (
        "the file is neither UTF-8 nor Windows-1252: line 2, column 1 holds byte 0x81, which is not a character "
        "in either; save the whole file as UTF-8 and try again"
    )


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_a_utf8_bom_over_windows_1252_names_line_and_column_of_the_first_bad_byte(newline):
    raw = codecs.BOM_UTF8 + newline.join(["kommune;navn", "492;Ærø"]).encode() + newline.encode()
    raw += "825;Læsø".encode("cp1252") + newline.encode()
    with pytest.raises(UnreadableExportError) as info:
        decode_bytes(raw)
    assert str(info.value) == (
        "the file starts with a UTF-8 byte-order mark, but line 3, column 6 is not UTF-8 (byte 0xE6: was part of "
        "the file saved in another encoding, such as Windows-1252?); save the whole file as UTF-8 and try again"
    )


def test_a_utf16_bom_over_bad_utf16_names_line_and_column():
    raw = "a,b\n1,2\n".encode("utf-16") + b"\x00\xd8" + "x".encode("utf-16-le")
    with pytest.raises(UnreadableExportError, match=r"UTF-16 byte-order mark, but line 3, column 1 is not UTF-16"):
        decode_bytes(raw)


@pytest.mark.parametrize(
    ("before", "expected"),
    [("", (1, 1)), ("abc", (1, 4)), ("a\nbc", (2, 3)), ("a\r\nbc", (2, 3)), ("a\rb\rc", (3, 2)), ("a\n\r\n", (3, 1))],
)
def test_line_and_column_count_as_an_editor_does(before, expected):
    assert line_and_column(before) == expected


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_without_bom_is_rejected_clearly(codec):
    raw = "kommune;navn\n492;Ærø\n".encode(codec)
    assert looks_like_utf16(raw)
    with pytest.raises(IngestError, match="UTF-16 without a byte-order mark"):
        decode_bytes(raw)
    with pytest.raises(IngestError, match="UTF-16 without a byte-order mark"):
        utf8_bytes(raw)


@pytest.mark.parametrize("sep", [",", ";", "\t"])
def test_sniff_separator(sep):
    header = sep.join(["respondent_id", "kommune", "kommentar"])
    assert sniff_separator(f"{header}\n1{sep}101{sep}\"a, b; c\"\n") == sep


def test_sniff_ignores_separators_inside_quotes():
    assert sniff_separator('"a,b,c";d;e\n') == ";"


def test_a_file_mixing_utf8_and_windows_1252_is_rejected_naming_lines():
    raw = "respondent_id,kommune\n1,Ærø\n".encode("utf-8") + "2,Læsø\n".encode("cp1252")
    with pytest.raises(UnreadableExportError, match="mixes encodings: line 2 is UTF-8, line 3 is not"):
        decode_bytes(raw)


def test_plain_windows_1252_is_not_taken_for_mixed():
    text, encoding = decode_bytes("a,b\n1,Ærø og Læsø\n".encode("cp1252"))
    assert encoding == "cp1252" and "Ærø" in text


@given(st.binary(max_size=64) | st.text(max_size=32).map(lambda t: t.encode("utf-8", "surrogatepass")))
def test_arrow_utf8_check_agrees_with_python(raw):
    try:
        raw.decode("utf-8")
        python_says = True
    except UnicodeDecodeError:
        python_says = False
    assert is_utf8(raw) == python_says


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "cp1252"])
def test_utf8_bytes_gives_what_decode_bytes_reads(encoding):
    raw = TEXT.encode(encoding)
    data, found = utf8_bytes(raw)
    text, expected = decode_bytes(raw)
    assert (data.decode("utf-8"), found) == (text, expected)


@pytest.mark.parametrize("raw", [b"a,b\n1,\x00\n", "a,b\n1,Ærø\x00\n".encode("cp1252"), b"\x00" + b"a,b\n" * 20])
def test_a_stray_nul_is_handed_on_for_the_table_to_locate(raw):
    """Not the every-other-byte pattern of UTF-16: a stray character, which the parsed table names by cell."""
    assert not looks_like_utf16(raw)
    data, _ = utf8_bytes(raw)
    assert data.count(b"\x00") == 1
