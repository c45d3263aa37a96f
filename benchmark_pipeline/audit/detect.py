"""Text detectors: respondents' free text, CPR-number-like strings, e-mail addresses and "n = 3" in prose.

Every artefact is turned into a `TextStream`: normalised text (NFKC, zero-width characters removed,
casefolded, runs of whitespace collapsed to one space) made of segments that each know their location.
Segments joined with `SOFT` or `INLINE` may be matched across (text split over inline HTML elements or
lines); segments joined with `HARD` (table cells, attribute values, JSON strings) never are.
"""

from __future__ import annotations

import calendar
import contextlib
import re
import unicodedata
from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass

from benchmark_pipeline.audit import model

HARD = "\x00"  # never part of a match
SOFT = " "  # a word break (block element, line break)
INLINE = ""  # no break at all (text continues inside an inline element)

# Free texts shorter than this (after normalisation) are not compared: short answers such as "Ingen
# kommentarer" or "ved ikke" are ordinary words that also appear in labels and would fail clean releases.
MIN_FREE_TEXT_LENGTH = 12

_ZERO_WIDTH = re.compile("[\u00ad\u200b\u200c\u200d\u2060\ufeff]")
_WHITESPACE = re.compile(r"\s+")

_DASHES = "\\-\u2010\u2011\u2012\u2013\u2014"
# A CPR number: ddmmyy-xxxx or ddmmyyxxxx as a whole token. Not inside a longer word, number or hex string
# (word boundaries), not the integer or fractional part of a decimal number, not one group of a longer
# dashed, slashed or dotted run of digits.
CPR_RE = re.compile(
    rf"(?<![\w])(?<!\d[.,/:{_DASHES}])"
    rf"(?P<dd>\d\d)(?P<mm>\d\d)(?P<yy>\d\d)[{_DASHES}]?(?P<seq>\d{{4}})"
    rf"(?![\w])(?![.,/:{_DASHES}]\d)"
)
EMAIL_RE = re.compile(
    r"(?<![\w.+%-])(?P<local>[\w.+%-]+)@(?P<domain>[\w-]+(?:\.[\w-]+)*)\.(?P<tld>[^\W\d_]{2,24})(?![\w-])"
)
_RETINA = re.compile(r"\d+x")  # "icon@2x.png" is a file name, not an address
# "n = 3", "n=4", "(N: 2)" in prose, alt texts and chart labels.
SMALL_N_RE = re.compile(r"(?<![\w.])n ?[=:] ?(?P<n>\d{1,6})(?!\d)(?![.,]\d)")


# A decimal number as a table cell holds it ("0.0597919", "-1.5e-05"). Alone in a HARD segment it cannot
# be or contain a CPR number (its digit runs are parts of a decimal; an exponent has at most three digits),
# an e-mail address or "n = 3"; only a free text made of the same characters could be part of it.
DECIMAL_RE = re.compile(r"-?[0-9]+\.[0-9]+(?:[eE][-+]?[0-9]{1,3})?")
_DECIMAL_CHARACTERS = re.compile(r"[0-9.e+-]+")


def _normalise(text: object) -> str:
    s = unicodedata.normalize("NFKC", str(text))
    s = _ZERO_WIDTH.sub("", s).casefold()
    return _WHITESPACE.sub(" ", s).replace(HARD, " ")


_MEMO: ContextVar[dict[str, str] | None] = ContextVar("benchmark_pipeline_audit_normalised", default=None)


@contextlib.contextmanager
def memoised_normalisation() -> Iterator[None]:
    """Within one audit run each distinct text is normalised once (a release repeats the same class names,
    numbers and labels thousands of times). The memo ends with the run: no text outlives it."""
    token = _MEMO.set({})
    try:
        yield
    finally:
        _MEMO.reset(token)


def normalise(text: object) -> str:
    memo = _MEMO.get()
    if memo is None:
        return _normalise(text)
    key = text if type(text) is str else str(text)
    out = memo.get(key)
    if out is None:
        out = memo[key] = _normalise(key)
    return out


def plausible_cpr_date(dd: str, mm: str, yy: str) -> bool:
    day, month = int(dd), int(mm)
    if not 1 <= month <= 12:
        return False
    # Feb 29 exists in some year of every century the two digits can stand for.
    days = 29 if month == 2 else calendar.monthrange(2001, month)[1]
    return 1 <= day <= days


def is_cpr_like(text: str) -> bool:
    """Whether the text contains a CPR-number-like token (for tests and callers)."""
    return any(plausible_cpr_date(m["dd"], m["mm"], m["yy"]) for m in CPR_RE.finditer(normalise(text)))


def mask_email(local: str, domain: str, tld: str) -> str:
    return f"{local[:1]}***@***.{tld}"


def mask_text(text: str, keep: int = 3) -> str:
    return f"{text[:keep]}…" if len(text) > keep else "…"


# A location is a string, a callable that builds it, or a format string and its arguments as one tuple of
# strings and numbers (built only when a finding needs it; such a tuple is not tracked by the garbage
# collector, so thousands of them cost no collections).
Location = str | Callable[[], str] | tuple


class TextStream:
    """Normalised text from one artefact, with the location of every segment."""

    def __init__(self) -> None:
        self._parts: list[str] = []
        self._starts: list[int] = []
        self._locations: list[Location] = []
        self._length = 0
        self._last_space = True
        self._text: str | None = None

    def add(self, text: object, location: Location, sep: str = HARD) -> None:
        if text is None:
            return
        piece = normalise(text)
        if sep == HARD:
            piece = piece.strip(" ")
            if not piece:
                return
            if self._length:
                self._parts.append(HARD)
                self._length += 1
        else:
            if sep == SOFT:
                piece = " " + piece.lstrip(" ")
            if self._last_space or not self._length:
                piece = piece.lstrip(" ")
            if not piece:
                return
        offset = len(piece) - len(piece.lstrip(" "))
        self._starts.append(self._length + offset)
        self._locations.append(location)
        # _append, inline: this runs for every cell, attribute and text run of a release
        self._parts.append(piece)
        self._length += len(piece)
        self._last_space = piece[-1] == " "
        self._text = None

    @property
    def text(self) -> str:
        if self._text is None:
            self._text = "".join(self._parts)
        return self._text

    def location_at(self, pos: int) -> str:
        if not self._locations:
            return ""
        i = max(bisect_right(self._starts, pos) - 1, 0)
        loc = self._locations[i]
        if type(loc) is tuple:
            return loc[0].format(*loc[1:])
        return loc() if callable(loc) else loc

    def __bool__(self) -> bool:
        return bool(self._length)


# What every match of CPR_RE, EMAIL_RE and SMALL_N_RE contains; cheap to search for (no lookbehind at
# every position), so the full patterns run only on the few HARD segments that contain one.
_CPR_CANDIDATE = re.compile(r"\d{6}")
_EMAIL_CANDIDATE = re.compile("@")
_SMALL_N_CANDIDATE = re.compile("n ?[=:]")


def _matches(pattern: re.Pattern, candidate: re.Pattern, text: str) -> Iterator[re.Match]:
    """`pattern.finditer(text)`, run only over the HARD-separated segments that contain a `candidate`.

    The same matches at the same positions: none of the three patterns can match the HARD separator, and
    each treats it as it treats the start or end of the text (not a word, digit or punctuation character;
    `finditer(text, pos, endpos)` keeps positions absolute). A match cannot span two segments, so the
    scan of one segment cannot change where the next one's matches start."""
    found = candidate.search(text)
    while found is not None:
        start = text.rfind(HARD, 0, found.start()) + 1
        end = text.find(HARD, found.end())
        if end == -1:
            end = len(text)
        yield from pattern.finditer(text, start, end)
        found = candidate.search(text, end)


@dataclass(frozen=True)
class Hit:
    pos: int
    kind: str
    message: str
    key: str  # identifies the leak for de-duplication (never shown)


class Detectors:
    """The text rules of one audit run: its free texts, minimum respondents and allowed addresses."""

    def __init__(self, forbidden_texts: Iterable[str], min_respondents: int, allowed_emails: Iterable[str] = ()):
        self.min_respondents = min_respondents
        self.allowed_emails = {normalise(e).strip() for e in allowed_emails}
        self.forbidden: list[tuple[int, str]] = []
        self.ignored = 0
        seen: set[str] = set()
        for number, text in enumerate(forbidden_texts, start=1):
            if text is None:
                continue
            norm = normalise(text).strip(" ")
            if len(norm) < MIN_FREE_TEXT_LENGTH:
                if norm:
                    self.ignored += 1
                continue
            if norm not in seen:
                seen.add(norm)
                self.forbidden.append((number, norm))
        # whether a segment that is one decimal number (DECIMAL_RE) can be left out of a stream: no hit can be in it
        self.decimals_are_clean = not any(_DECIMAL_CHARACTERS.fullmatch(norm) for _, norm in self.forbidden)

    def hits(self, text: str, *, small_n: bool = True) -> list[Hit]:
        found: list[Hit] = []
        for number, needle in self.forbidden:
            start = text.find(needle)
            while start != -1:
                found.append(Hit(start, model.FREE_TEXT,
                                 f"free-text answer no. {number} from the survey (starts '{mask_text(needle)}', "
                                 f"{len(needle)} characters) is published here", f"ft{number}"))
                start = text.find(needle, start + len(needle))
        for m in _matches(CPR_RE, _CPR_CANDIDATE, text):
            if plausible_cpr_date(m["dd"], m["mm"], m["yy"]):
                found.append(Hit(m.start(), model.CPR_NUMBER,
                                 "CPR-number-like string (******-****) is published here", "cpr" + m.group(0)))
        for m in _matches(EMAIL_RE, _EMAIL_CANDIDATE, text):
            if _RETINA.fullmatch(m["domain"]) or m.group(0) in self.allowed_emails:
                continue
            found.append(Hit(m.start(), model.EMAIL_ADDRESS,
                             f"e-mail address ({mask_email(m['local'], m['domain'], m['tld'])}) is published here",
                             "mail" + m.group(0)))
        if small_n:
            for m in _matches(SMALL_N_RE, _SMALL_N_CANDIDATE, text):
                if 0 < int(m["n"]) < self.min_respondents:
                    found.append(Hit(m.start(), model.SMALL_CELL,
                                     f"a number of respondents below the minimum of {self.min_respondents} "
                                     "is shown here", "n" + m.group(0)))
        return found

    def is_clean(self, text: object) -> bool:
        return not self.hits(normalise(text))
