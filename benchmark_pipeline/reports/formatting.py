"""Danish display formatting: half-up rounding, decimal comma, percent and percentage points.

Stored values are never rounded; these functions are used only where a number is shown to a reader
(HTML text, tables, chart labels and alt texts). Rounding is half up on the value as stored (its shortest
decimal representation), so 0.145 shows as "15 %" and not as "14 %" because of binary floating point.
"""

from __future__ import annotations

import math
import unicodedata
from decimal import ROUND_HALF_UP, Decimal

import pandas as pd

NBSP = "\u00a0"  # between a number and its unit, so "60 %" never breaks across lines
MINUS = "\u2212"  # typographic minus sign
EN_DASH = "\u2013"

SHARE_DECIMALS = 0  # whole percent for shares
POINT_DECIMALS = 1  # one decimal for percentage points
SCORE_DECIMALS = 1  # weighted barrier scores (0-100)


def is_missing(value: object) -> bool:
    """True for None, NaN, pd.NA and NaT: a value that is not published."""
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    kind = type(value)
    if kind is float:  # the common cases without pandas (called for every cell of every page)
        return value != value
    if kind is int or kind is str or kind is bool:
        return False
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def as_float(value: object) -> float | None:
    """A published number as float, or None when it is empty."""
    if is_missing(value):
        return None
    out = float(value)
    return None if math.isnan(out) else out


def round_half_up(value: float, decimals: int = 0, scale: int = 1) -> Decimal:
    """`value * scale` rounded half up to `decimals` places, computed in decimal arithmetic."""
    exact = Decimal(repr(float(value))) * scale
    quantum = Decimal(1).scaleb(-decimals)
    out = exact.quantize(quantum, rounding=ROUND_HALF_UP)
    return out if out != 0 else abs(out)  # never "-0"


def _danish(number: Decimal, decimals: int, signed: bool = False) -> str:
    text = f"{abs(number):,.{decimals}f}".replace(",", "\u202f").replace(".", ",")
    # thousands separator: Danish uses a point; a narrow no-break space is the unambiguous choice
    # recommended for tables, but for readers of Danish reports a point is what they expect.
    text = text.replace("\u202f", ".")
    if number < 0:
        return f"{MINUS}{text}"
    if signed and number > 0:
        return f"+{text}"
    return text


def fmt_number(value: object, decimals: int = 0, signed: bool = False, empty: str = "") -> str:
    """A plain number with Danish decimal comma ("1.234", "41,3")."""
    v = as_float(value)
    if v is None:
        return empty
    return _danish(round_half_up(v, decimals), decimals, signed)


def fmt_int(value: object, empty: str = "") -> str:
    return fmt_number(value, 0, empty=empty)


def fmt_signed_int(value: object, empty: str = "") -> str:
    return fmt_number(value, 0, signed=True, empty=empty)


def pct_value(share: object) -> Decimal | None:
    """A share (0-1) as the whole percent shown to readers."""
    v = as_float(share)
    return None if v is None else round_half_up(v, SHARE_DECIMALS, scale=100)


def fmt_pct(share: object, empty: str = "", unit: bool = True) -> str:
    """A share stored as a fraction (0.599) shown as "60 %"."""
    v = as_float(share)
    if v is None:
        return empty
    text = _danish(round_half_up(v, SHARE_DECIMALS, scale=100), SHARE_DECIMALS)
    return f"{text}{NBSP}%" if unit else text


def fmt_pct_interval(low: object, high: object, empty: str = "") -> str:
    """A 95 % interval of a share: "55–65 %"."""
    lo, hi = as_float(low), as_float(high)
    if lo is None or hi is None:
        return empty
    return f"{fmt_pct(lo, unit=False)}{EN_DASH}{fmt_pct(hi, unit=False)}{NBSP}%"


def fmt_pp(points: object, empty: str = "", signed: bool = True) -> str:
    """A difference in percentage points, one decimal: "+10,0"."""
    return fmt_number(points, POINT_DECIMALS, signed=signed, empty=empty)


def fmt_pp_interval(low: object, high: object, empty: str = "") -> str:
    lo, hi = as_float(low), as_float(high)
    if lo is None or hi is None:
        return empty
    return f"{fmt_pp(lo)} til {fmt_pp(hi)}"


def fmt_score(score: object, empty: str = "") -> str:
    return fmt_number(score, SCORE_DECIMALS, empty=empty)


def fmt_score_interval(low: object, high: object, empty: str = "") -> str:
    lo, hi = as_float(low), as_float(high)
    if lo is None or hi is None:
        return empty
    return f"{fmt_score(lo)}{EN_DASH}{fmt_score(hi)}"


def fmt_relative(value: object, empty: str = "") -> str:
    """Relative growth (0.25) as "+25 %"."""
    v = as_float(value)
    if v is None:
        return empty
    return f"{_danish(round_half_up(v, 0, scale=100), 0, signed=True)}{NBSP}%"


def fmt_p(value: object, empty: str = "") -> str:
    v = as_float(value)
    if v is None:
        return empty
    if v < 0.001:
        return "<0,001"
    return fmt_number(v, 3)


def pp_phrase(points: object) -> str:
    """'10,0 procentpoint' without sign (for prose: 'steget med ...')."""
    return f"{fmt_pp(abs(as_float(points) or 0.0), signed=False)}{NBSP}procentpoint"


_DA_LAST = {"æ": "{", "ø": "|", "å": "}"}  # the three characters after "z" in ASCII, in Danish order


def danish_key(text: str) -> tuple[str, str]:
    """A sort key in Danish alphabetical order: Æ, Ø, Å after Z, "aa" as "å" (Aabenraa with the Å's),
    other accents ignored, case ignored (the text itself breaks ties, so the order is total)."""
    folded = text.casefold().replace("aa", "å")
    out = []
    for c in folded:
        if c in _DA_LAST:
            out.append(_DA_LAST[c])
        else:
            out.append("".join(d for d in unicodedata.normalize("NFKD", c) if not unicodedata.combining(d)))
    return "".join(out), text
