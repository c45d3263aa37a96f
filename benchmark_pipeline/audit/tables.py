"""Disclosure control as published: the release tables (Parquet, CSV) and tables shown in workbooks and HTML.

A `Grid` is a header and rows from any artefact. Release tables (`display=False`) are held to the
contract in docs/architecture.md: a suppressed row keeps its keys, `suppressed` and
`suppression_reason`, and every other value is empty. Display tables (workbook sheets, HTML tables,
`display=True`) are recognised by their headers (English column names or common Danish ones) and only
cells that read as numbers count as values there, so "–" or "færre end 5 svar" in a suppressed row is fine.
Shown numbers are read the Danish way: "59,9 %" is 59.9 and "1.970" is 1970 (a dot between groups of three
digits separates thousands).
"""

from __future__ import annotations

import contextlib
import csv
import functools
import io
import itertools
import math
import re
import sys
import unicodedata
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from benchmark_pipeline.audit import model
from benchmark_pipeline.audit.context import AuditContext
from benchmark_pipeline.audit.detect import DECIMAL_RE, HARD, TextStream

# Tables whose rows carry geography below national level, and the columns disclosure is verified on.
REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    "indicator_values": ("geography_level", "geography_code", "indicator_id", "n", "suppressed",
                         "suppression_reason"),
    "barrier_scores": ("geography_level", "geography_code", "barrier_id", "n", "suppressed", "suppression_reason"),
    "yoy_changes": ("geography_level", "geography_code", "indicator_id"),
    "trends": ("geography_level", "geography_code", "indicator_id"),
    "kommune_benchmarks": ("kommune_kode", "indicator_id", "n", "suppressed", "suppression_reason"),
}

_LEVEL = {"geography_level", "niveau", "geografisk_niveau", "geografiniveau", "geografi_niveau", "level"}
_KOMMUNE = {"kommune_kode", "kommunekode", "kommune", "kommunenummer", "kommune_nr", "kommunenr"}
_SUPPRESSED = {"suppressed", "undertrykt", "diskretioneret"}
_REASON = {"suppression_reason", "årsag", "aarsag", "undertrykkelsesårsag", "begrundelse"}
# Respondent counts: allowed at kommune level (they are the "n" of a published value), checked against the minimum.
_N = {"n", "antal_svar", "antal_besvarelser", "antal_respondenter", "respondenter", "besvarelser",
      "svarpersoner", "antal_svarpersoner", "svar_i_alt", "n_svar"}
_N_RE = re.compile(r"n_[a-z0-9_]+|[a-z0-9_]+_n")
# Numerators: not published below kommunegruppe level.
_COUNT_RE = re.compile(r"(?:^|_)(?:counts?|antal|tæller|taeller|numerators?|frekvens|hyppighed)(?:_|$)")
_KEYS = {
    "release_id", "survey_year", "base_year", "geography_level", "geography_code", "kommune_kode", "region_kode",
    "kommunegruppe_kode", "indicator_id", "question_id", "option_id", "measure", "barrier_id", "comparison",
    "first_year",
    "år", "aar", "year", "årgang", "undersøgelsesår", "basisår", "indikator", "spørgsmål", "svarmulighed",
    "barriere", "kode", "region", "kommunegruppe", "geografi", "område",
}
_KEY_RE = re.compile(r"(?:kode|code|_id|nummer|udgivelse|sammenlignet_med)$")
_LABEL_RE = re.compile(r"(?:^|_)(?:navn|name|label|labels|beskrivelse|description|titel|title|tekst)$")
# Columns that mean respondent-level or personal data sits in a release table.
_PERSONAL = {"respondent_id", "respondentid", "mail", "email", "e_mail", "kommentar", "cpr", "cpr_nr",
             "cpr_nummer", "personnummer", "source_row", "ip_adresse", "ip_address"}

_TRUE = {"true", "1", "yes", "ja", "t", "x", "sand", "undertrykt"}
# A shown whole number with Danish thousands separators ("1.970", "12.400"); Danish decimals use a comma.
_THOUSANDS = re.compile(r"[-+]?[1-9][0-9]{0,2}(?:\.[0-9]{3})+")


@functools.lru_cache(maxsize=4096)
def _canon(header: str) -> str:
    h = unicodedata.normalize("NFKC", header).casefold().strip()
    return re.sub(r"[^\w]+", "_", h).strip("_")


def canon(header: object) -> str:
    return _canon("" if header is None else str(header))


def column_role(header: object) -> str:
    h = canon(header)
    if h in _LEVEL:
        return "level"
    if h in _KOMMUNE:
        return "kommune"
    if h in _SUPPRESSED:
        return "suppressed"
    if h in _REASON:
        return "reason"
    if h in _N or _N_RE.fullmatch(h):
        return "n"
    if _COUNT_RE.search(h):
        return "count"
    if h in _KEYS or _LABEL_RE.search(h) or _KEY_RE.search(h):
        return "key"
    return "value"


def is_empty(value: object) -> bool:
    if value is None:
        return True
    t = type(value)
    if t is str:
        return not value.strip()
    if t is int or t is bool:
        return False
    if t is float:
        return math.isnan(value)
    if isinstance(value, float):
        return math.isnan(value)
    return value is pd.NA or value is pd.NaT


def to_number(value: object, *, display: bool = False) -> float | None:
    if is_empty(value) or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    memo = _NUMBERS.get()
    if memo is None:
        return _parse_number(str(value), display)
    key = (str(value), display)
    if key in memo:
        return memo[key]
    number = memo[key] = _parse_number(*key)
    return number


_NUMBERS: ContextVar[dict[tuple[str, bool], float | None] | None] = ContextVar("benchmark_pipeline_audit_numbers",
                                                                             default=None)


@contextlib.contextmanager
def memoised_numbers() -> Iterator[None]:
    """Within one audit run each distinct cell text is read as a number once (pages and sheets show the
    same few hundred texts thousands of times). The memo ends with the run, like detect's."""
    token = _NUMBERS.set({})
    try:
        yield
    finally:
        _NUMBERS.reset(token)


def _parse_number(value: str, display: bool) -> float | None:
    text = unicodedata.normalize("NFKC", value).strip().replace("\u2212", "-")
    if display:
        text = re.sub(r"\s*(%|pct\.?|procent|pp|procentpoint|point)$", "", text, flags=re.IGNORECASE)
        text = text.replace(" ", "")
        if "," in text:
            text = text.replace(".", "").replace(",", ".")
        elif _THOUSANDS.fullmatch(text):  # "1.970": Danish digit grouping, not a decimal point
            text = text.replace(".", "")
    try:
        number = float(text)
    except ValueError:
        return None
    return None if math.isnan(number) else number


def is_true(value: object) -> bool:
    if isinstance(value, bool):
        return value
    if is_empty(value):
        return False
    if isinstance(value, (int, float)):
        return value != 0
    return str(value).strip().casefold() in _TRUE


def _key(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


@dataclass
class Grid:
    """A header and rows read from one artefact."""

    file: str
    name: str | None  # release table name (file stem) or None for a display table
    columns: list[str]
    rows: list[list]
    row_location: Callable[[int], str]
    display: bool


def check_grid(ctx: AuditContext, grid: Grid) -> None:
    """Disclosure rules: small cells, suppressed rows with values, numerators at kommune level, missing columns."""
    minimum = ctx.min_respondents
    canon_cols = [canon(c) for c in grid.columns]
    roles = [column_role(c) for c in grid.columns]
    safe_cols = [ctx.safe_label(c, f"#{i + 1}") for i, c in enumerate(grid.columns)]

    if not grid.display:
        required = REQUIRED_COLUMNS.get(grid.name or "")
        if required:
            missing = [c for c in required if c not in canon_cols]
            if missing:
                ctx.report(grid.file, "columns", model.MISSING_DISCLOSURE_COLUMNS,
                           f"table {grid.name} lacks {', '.join(missing)}: its disclosure control cannot be "
                           "verified")
        for i, c in enumerate(canon_cols):
            if c in _PERSONAL or c.endswith("andet_tekst") or c.endswith("_tekst") and "__" in c:
                ctx.report(grid.file, f"column {safe_cols[i]}", model.PERSONAL_DATA_COLUMN,
                           "column name says it holds respondent-level or personal data; no release table may "
                           "have it")

    level_i = roles.index("level") if "level" in roles else None
    kommune_i = roles.index("kommune") if "kommune" in roles else None
    if grid.display and level_i is None and kommune_i is None:
        return
    suppressed_i = roles.index("suppressed") if "suppressed" in roles else None
    n_cols = [i for i, r in enumerate(roles) if r == "n"]
    count_cols = [i for i, r in enumerate(roles) if r == "count"]
    value_cols = [i for i, r in enumerate(roles) if r in ("value", "n", "count")]
    geo_code_i = canon_cols.index("geography_code") if "geography_code" in canon_cols else kommune_i
    indicator_i = canon_cols.index("indicator_id") if "indicator_id" in canon_cols else None
    year_i = canon_cols.index("survey_year") if "survey_year" in canon_cols else None
    barrier_i = canon_cols.index("barrier_id") if "barrier_id" in canon_cols else None
    cross_check = (not grid.display and grid.name != "indicator_values" and indicator_i is not None
                   and geo_code_i is not None and bool(ctx.kommune_suppressed))

    display = grid.display
    used = [i for i in (level_i, kommune_i, suppressed_i, geo_code_i, indicator_i, year_i, barrier_i, *value_cols)
            if i is not None]
    width = max(used) + 1 if used else 0

    def where_of(r: int, row: list) -> str:
        where = grid.row_location(r)
        if not display:
            keys = [str(row[i]) for i in (geo_code_i, indicator_i, barrier_i)
                    if i is not None and i < len(row) and not is_empty(row[i])]
            if keys:
                where += " (" + ctx.safe_label(", ".join(keys), "keys masked") + ")"
        return where

    for r, row in enumerate(grid.rows):
        # a short row reads as empty cells beyond its end
        cells = row if len(row) >= width else [*row, *([None] * (width - len(row)))]
        if level_i is not None:
            level = canon(cells[level_i])
            if kommune_i is not None and is_empty(cells[level_i]):
                level = "kommune"
            at_kommune = level in ("kommune", "kommuner")
        else:
            at_kommune = kommune_i is not None
        level_word = "kommune" if at_kommune else (canon(cells[level_i]) if level_i is not None else "this")
        suppressed = is_true(cells[suppressed_i]) if suppressed_i is not None else False
        if display:
            valued = [i for i in value_cols if to_number(cells[i], display=True) is not None]
        else:
            valued = [i for i in value_cols if not is_empty(cells[i])]

        if suppressed:
            if valued:
                ctx.report(grid.file, where_of(r, row), model.SUPPRESSED_VALUE,
                           f"suppressed {level_word} row still carries values in "
                           f"{', '.join(safe_cols[i] for i in valued)}; every value, n included, must be empty")
            continue

        for i in n_cols:
            n = to_number(cells[i], display=display)
            if n is not None and 0 < n < minimum:
                ctx.report(grid.file, f"{where_of(r, row)}, column {safe_cols[i]}", model.SMALL_CELL,
                           f"{level_word} value published with {safe_cols[i]} below the minimum of {minimum} "
                           "respondents; it must be suppressed")
        if n_cols and any(i not in n_cols for i in valued):
            if all(to_number(cells[i], display=display) is None for i in n_cols):
                ctx.report(grid.file, where_of(r, row), model.UNVERIFIABLE_VALUE,
                           f"{level_word} row publishes values but no respondent count, so it cannot be verified "
                           "against the minimum")

        if at_kommune:
            for i in count_cols:
                if i in valued:
                    ctx.report(grid.file, f"{where_of(r, row)}, column {safe_cols[i]}", model.KOMMUNE_COUNT,
                               "a count (numerator) is published at kommune level; counts are published only for "
                               "national, region and kommunegruppe")
            if cross_check:
                key = (_key(cells[year_i]) if year_i is not None else "", _key(cells[geo_code_i]),
                       _key(cells[indicator_i]))
                if ctx.kommune_suppressed.get(key) or (year_i is None and ctx.kommune_suppressed.get(("",) + key[1:])):
                    if valued:
                        ctx.report(grid.file, where_of(r, row), model.SUPPRESSED_VALUE,
                                   f"kommune row carries values in {', '.join(safe_cols[i] for i in valued)} although "
                                   "indicator_values suppresses this kommune's value")


def index_suppression(grid: Grid, into: dict[tuple[str, str, str], bool], minimum: int) -> None:
    """Record which kommune values indicator_values suppresses (for yoy_changes and kommune_benchmarks)."""
    cols = [canon(c) for c in grid.columns]
    try:
        level_i, code_i, ind_i = (cols.index(c) for c in ("geography_level", "geography_code", "indicator_id"))
    except ValueError:
        return
    sup_i = cols.index("suppressed") if "suppressed" in cols else None
    n_i = cols.index("n") if "n" in cols else None
    year_i = cols.index("survey_year") if "survey_year" in cols else None
    for row in grid.rows:
        if canon(row[level_i]) != "kommune":
            continue
        suppressed = is_true(row[sup_i]) if sup_i is not None else False
        if n_i is not None:
            n = to_number(row[n_i])
            suppressed = suppressed or (n is not None and n < minimum)
        year = _key(row[year_i]) if year_i is not None else ""
        for key in ((year, _key(row[code_i]), _key(row[ind_i])), ("", _key(row[code_i]), _key(row[ind_i]))):
            into[key] = into.get(key, False) or suppressed


def scan_grid_text(ctx: AuditContext, grid: Grid, *, header_label: str = "column header") -> None:
    """Free text, CPR numbers and e-mail addresses in the header and in every text (and integer) cell."""
    stream = TextStream()
    for i, c in enumerate(grid.columns):
        stream.add(c, f"{header_label} #{i + 1}", HARD)
    safe_cols = [ctx.safe_label(c, f"#{i + 1}") for i, c in enumerate(grid.columns)]
    skip_decimals, decimal = ctx.detectors.decimals_are_clean, DECIMAL_RE.fullmatch
    # the grid's columns in one pass (a short row reads as None beyond its end, like Grid.column)
    columns = list(itertools.zip_longest(*grid.rows)) if grid.rows else []
    for i, _ in enumerate(grid.columns):
        values = columns[i] if i < len(columns) else ()
        rows_of: dict[str, list[int]] = {}
        for r, v in enumerate(values):
            t = type(v)
            if t is str:  # the common cases first, with the same outcome as the general rule below
                if not v.strip():
                    continue
                key = v
            elif t is int:
                key = str(v)
            elif v is None or t is float or t is bool:
                continue
            else:
                if isinstance(v, bool) or isinstance(v, float) or is_empty(v):
                    continue  # floats cannot hold a CPR number or text; integers can (a CPR without its dash)
                key = str(v)
            rows = rows_of.get(key)
            if rows is None:
                rows_of[key] = [r]
            else:
                rows.append(r)
        for text, rows in rows_of.items():
            if skip_decimals and decimal(text):
                continue  # a CSV's numbers (a HARD segment each): nothing can be found in them
            stream.add(text, _rows_location(grid, rows, safe_cols[i]), HARD)
    ctx.scan(grid.file, stream, small_n=grid.display)


def _rows_location(grid: Grid, rows: list[int], column: str) -> Callable[[], str]:
    def locate() -> str:
        more = f" (and {len(rows) - 1} more row{'s' if len(rows) > 2 else ''})" if len(rows) > 1 else ""
        return f"{grid.row_location(rows[0])}, column {column}{more}"
    return locate


def read_parquet(path: Path, rel: str, ctx: AuditContext) -> Grid | None:
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except Exception as exc:  # noqa: BLE001 - any parse failure means the file cannot be audited
        ctx.report(rel, "", model.UNREADABLE_FILE, f"not a readable Parquet file ({type(exc).__name__}); it cannot "
                   "be audited and must not be published")
        return None
    metadata = table.schema.metadata or {}
    if metadata:
        stream = TextStream()
        for key, value in metadata.items():
            stream.add(key.decode("utf-8", "replace"), "schema metadata", HARD)
            stream.add(value.decode("utf-8", "replace"), "schema metadata", HARD)
        ctx.scan(rel, stream, small_n=False)
    columns = [str(c) for c in table.column_names]
    data = [table.column(i).to_pylist() for i in range(table.num_columns)]
    rows = [list(r) for r in zip(*data)] if data else []
    return Grid(rel, path.stem, columns, rows, lambda r: f"row {r + 1}", display=False)


def decode_text(raw: bytes) -> str:
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16", "replace")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("cp1252", "replace")


def read_csv(path: Path, rel: str, ctx: AuditContext) -> Grid | None:
    text = decode_text(path.read_bytes())
    first = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=first.count)
    csv.field_size_limit(sys.maxsize)
    records: list[list[str]] = []
    lines: list[int] = []
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        previous_end = 0
        for record in reader:
            records.append(record)
            lines.append(previous_end + 1)
            previous_end = reader.line_num
    except csv.Error:
        ctx.report(rel, "", model.UNREADABLE_FILE, "not a readable CSV file; its text was scanned line by line")
        return None
    if not records:
        return None
    header, rows = records[0], records[1:]
    return Grid(rel, path.stem, header, rows, lambda r: f"row {r + 1} (line {lines[r + 1]})", display=False)
