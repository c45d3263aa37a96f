"""Masking of personal data in free text: CPR-number-like strings and e-mail addresses."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pyarrow.compute as pc

# The look-behind makes a match start only where a run of address characters starts: without it, a long
# run with no "@" (a megabyte cell) costs quadratic time in the regex engine. Matches are unchanged.
EMAIL_RE = re.compile(r"(?<![\w.%+\-])[\w.%+\-]+@[\w\-]+(?:\.[\w\-]+)*\.[^\W\d_]{2,}")
# ddmmyy-xxxx with or without the dash; deliberately broad (no date check): better masked than leaked.
CPR_RE = re.compile(r"(?<!\d)\d{6}[-‐‑]?\d{4}(?!\d)")
EMAIL_MASK = "[e-mail]"
CPR_MASK = "[cpr-nr]"


def mask_text(series: pd.Series) -> tuple[pd.Series, int]:
    """The series (trimmed, blank = NA) with e-mail addresses and CPR-like numbers masked, and how many."""
    s = series.astype("str").str.strip()
    s = s.where(s != "")
    # Cheap vectorised pre-filter; the exact patterns then run only on candidate cells.
    positions = np.flatnonzero(_maybe_personal(s).to_numpy())
    if not len(positions):
        return s, 0
    masked, total = [], 0
    for value in s.iloc[positions]:
        value, n_email = EMAIL_RE.subn(EMAIL_MASK, value)
        value, n_cpr = CPR_RE.subn(CPR_MASK, value)
        masked.append(value)
        total += n_email + n_cpr
    s = s.copy()
    s.iloc[positions] = masked  # by position: no index alignment over the whole column
    return s, total


def _maybe_personal(s: pd.Series) -> pd.Series:
    """Cells that might hold an e-mail address or CPR-like number (a superset), via Arrow's regex when possible."""
    pattern = r"@|\d{6}[-‐‑]?\d{4}"
    to_arrow = getattr(s.array, "__arrow_array__", None)
    if to_arrow is not None and len(s):
        hit = pc.fill_null(pc.match_substring_regex(to_arrow(), pattern), False)
        return pd.Series(hit.to_numpy(zero_copy_only=False), index=s.index, dtype=bool)
    return s.str.contains(pattern, regex=True, na=False).astype(bool)


def mask_value(value: str) -> str:
    """One string masked (used for values quoted in messages)."""
    return CPR_RE.sub(CPR_MASK, EMAIL_RE.sub(EMAIL_MASK, value))

