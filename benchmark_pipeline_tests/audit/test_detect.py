"""The text detectors: CPR numbers, e-mail addresses, free text, and no false positives on ordinary numbers."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import tempfile
import uuid
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benchmark_pipeline.audit import audit_release, is_cpr_like
from benchmark_pipeline.audit.detect import Detectors, TextStream, normalise


@pytest.mark.parametrize("text", [
    "010190-1234", "0101901234", "CPR: 311299-4321.", "cpr 290200–1234 (en dash)", "(150786-1234)",
    "nr.1507861234", "\u200b150786-1234", "１５０７８６-１２３４",
])
def test_cpr_like_strings_are_found(text):
    assert is_cpr_like(text)


@pytest.mark.parametrize("text", [
    "320190-1234",  # day 32
    "011390-1234",  # month 13
    "300290-1234",  # 30 February
    "000190-1234",  # day 0
    "01019012345",  # 11 digits
    "010190123",  # 9 digits
    "010190 1234",  # space-separated groups are not the CPR shape
    "1234567890,5", "0,0101901234", "1.0101901234", "59,9 %", "2024", "0101", "860",
    "a" + "0101901234" + "f", hashlib.sha256(b"0101901234").hexdigest(),
    "e3b0c44298fc1c149afbf4c8996fb924" + "0101901234" + "27ae41e4649b934ca495991b",
    "2024-r1-0101901234ab", "2023-010190-1234", "010190-1234-5678", "010190/1234", "20240115-1234",
])
def test_non_cpr_strings_are_not_found(text):
    assert not is_cpr_like(text)


def test_email_detection_and_masking():
    d = Detectors([], 5)
    hits = d.hits(normalise("Skriv til Jens.Hansen@kk.dk eller se icon@2x.png"))
    assert [h.kind for h in hits] == ["email_address"]
    assert "jens" not in hits[0].message and "j***@***.dk" in hits[0].message


def test_free_text_normalisation():
    d = Detectors(["  Vi  har\tikke TID til data-arbejde  ", "kort"], 5)
    assert d.ignored == 1 and len(d.forbidden) == 1
    stream = TextStream()
    stream.add("vi har", "a", "")
    stream.add("ikke tid", "b", " ")
    stream.add(" til data-\u00adarbejde", "c", "")
    hits = d.hits(stream.text)
    assert [h.kind for h in hits] == ["free_text"] and stream.location_at(hits[0].pos) == "a"
    assert "ikke tid" not in hits[0].message


def test_small_n_in_prose():
    d = Detectors([], 5)
    assert [h.kind for h in d.hits(normalise("Andel 33 % (N = 3)"))] == ["small_cell"]
    assert d.hits(normalise("(n = 142) n=5 n = 0 n = 3,5 min=3")) == []


# --- property: ordinary numbers never look like CPR numbers ----------------------------------------------------

def _danish(x: float, decimals: int) -> str:
    s = f"{x:,.{decimals}f}"
    return s.replace(",", "\x00").replace(".", ",").replace("\x00", ".")


number_tokens = st.one_of(
    st.integers(-(10**9) + 1, 10**9 - 1).map(str),
    st.integers(0, 10**12).map(lambda n: f"{n:,}".replace(",", ".")),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.floats(allow_nan=False, allow_infinity=False).map(str),
    st.floats(-1e12, 1e12).map(lambda x: _danish(x, 1) + " %"),
    st.floats(-1e12, 1e12).map(lambda x: _danish(x, 4)),
    st.floats(0, 1).map(lambda x: f"[{_danish(x, 4)}; {_danish(min(1, x + 0.1), 4)}]"),
    st.integers(1900, 2100).map(str),
    st.integers(101, 860).map(lambda n: f"{n:04d}"),
    st.dates().map(lambda d: d.isoformat()),
    st.datetimes().map(lambda d: d.isoformat()),
    st.binary(max_size=32).map(lambda b: hashlib.sha256(b).hexdigest()),
    st.binary(max_size=32).map(lambda b: f"2024-r3-{hashlib.sha256(b).hexdigest()[:12]}"),
    st.uuids().map(str),
)
separators = st.sampled_from([" ", "; ", ", ", "\n", " | ", "\t", " = ", ": ", " / "])


@given(st.lists(number_tokens, min_size=1, max_size=30), separators)
def test_numbers_are_never_cpr_like(tokens, sep):
    assert not is_cpr_like(sep.join(tokens))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.tuples(st.integers(-(10**9) + 1, 10**9 - 1), st.floats(allow_nan=True, allow_infinity=False),
                       st.floats(0, 1)), min_size=1, max_size=40),
    st.lists(number_tokens, min_size=1, max_size=40),
)
def test_numeric_tables_and_pages_pass_the_audit(rows, tokens):
    with tempfile.TemporaryDirectory() as tmp:
        release = Path(tmp)
        (release / "tables").mkdir()
        (release / "reports").mkdir()
        df = pd.DataFrame(rows, columns=["respondents", "value", "share"])
        df.insert(0, "survey_year", 2024)
        df.to_parquet(release / "tables/year_summary.parquet", index=False)
        df.to_csv(release / "tables/year_summary.csv", index=False, encoding="utf-8-sig")
        cells = "".join(f"<td>{t}</td>" for t in tokens)
        (release / "reports/national.html").write_text(
            f"<html><body><p>{' '.join(tokens)}</p><table><tr>{cells}</tr></table>"
            f'<svg aria-label="{" ".join(tokens)}"><title>{"; ".join(tokens)}</title></svg></body></html>',
            encoding="utf-8")
        (release / "manifest.json").write_text(json.dumps({
            "created_at": dt.datetime(2024, 11, 3).isoformat(), "id": str(uuid.uuid4()),
            "outputs": [{"sha256": hashlib.sha256(str(t).encode()).hexdigest(), "rows": len(rows)} for t in tokens],
            "tokens": tokens}), encoding="utf-8")
        report = audit_release(release)
        assert report.findings == [], report.summary()
