"""Display rounding: half up, whole percent for shares, one decimal for points, Danish decimal comma."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from benchmark_pipeline.reports.formatting import (
    MINUS,
    NBSP,
    fmt_int,
    fmt_p,
    fmt_pct,
    fmt_pct_interval,
    fmt_pp,
    fmt_score,
    is_missing,
)


@pytest.mark.parametrize(
    ("share", "expected"),
    [
        (85 / 142, "60"),  # the article's headline: 59.9 % -> "60 %"
        (111 / 142, "78"),  # 78.2 % -> "78 %"
        (0.125, "13"),  # half up, not banker's rounding
        (0.145, "15"),  # 0.145 * 100 is 14.499999... in binary; the stored value rounds half up
        (0.0049, "0"),
        (1.0, "100"),
    ],
)
def test_shares_are_whole_percent_rounded_half_up(share, expected):
    assert fmt_pct(share) == f"{expected}{NBSP}%"


def test_points_have_one_decimal_comma_and_sign():
    assert fmt_pp(10) == "+10,0"
    assert fmt_pp(3.25) == "+3,3"
    assert fmt_pp(-3.25) == f"{MINUS}3,3"
    assert fmt_pp(0.04) == "0,0"
    assert fmt_pp(-0.04) == "0,0"  # never "-0,0"


def test_scores_intervals_and_integers():
    assert fmt_score(41.25) == "41,3"
    assert fmt_pct_interval(0.551, 0.6449) == f"55\u201364{NBSP}%"
    assert fmt_int(1234) == "1.234"
    assert fmt_p(0.0004) == "<0,001"


@pytest.mark.parametrize("missing", [None, float("nan"), pd.NA, math.nan])
def test_missing_values_show_as_empty(missing):
    assert is_missing(missing)
    assert fmt_pct(missing) == ""
    assert fmt_pp(missing, empty="-") == "-"
