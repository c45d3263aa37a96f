import codecs

import pytest
from hypothesis import given
from hypothesis import strategies as st

from benchmark_pipeline.ingest import IngestError, decode_bytes, sniff_separator
from benchmark_pipeline.ingest.encoding import is_utf8, utf8_bytes
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


def test_undecodable_bytes_are_an_ingest_error():
    with pytest.raises(UnreadableExportError) as info:
        decode_bytes(b"a,b\n\x81\x8d\x8f,1\n")
    assert info.value.exit_code == 2


def test_utf16_without_bom_is_rejected_clearly():
    with pytest.raises(IngestError, match="NUL"):
        decode_bytes("a,b\n1,2\n".encode("utf-16-le"))


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


def test_utf8_bytes_refuses_nul_bytes_in_valid_utf8():
    with pytest.raises(UnreadableExportError, match="NUL bytes"):
        utf8_bytes(b"a,b\n1,\x00\n")
