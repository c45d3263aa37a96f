"""What stands out in one survey year's published tables: typed, ranked findings, each with one Danish sentence.

    read_tables(tables, kommuner=None) -> dict[name, DataFrame]      the one reader of the published tables
    findings_for_year(tables, instrument, kommuner) -> dict[geography_code, list[Finding]]
    highlights(findings, limit=6) -> list[Finding]                   the strongest, one per option
    direction_of(indicator_id) -> HIGHER | LOWER | NEUTRAL
    rank_position(percentile, percentile_of, indicator_id) / rank_phrase(...)   "nr. X af N"

The national report, every kommune page and (later) the workbook and the UI read the same findings, so this
module knows nothing of Dagster or HTML (it imports only reports/formatting.py, which loads neither Jinja2
nor matplotlib). `findings_for_year` returns a list for the national total ("DK")
and for every one of the 98 kommuner (empty when nothing stands out or nothing is published), strongest
first.

The kinds (`KINDS`) and what each needs:

- `top_barrier`: the barrier with the highest weighted score at the geography (published, no tie, not
  "Andet"), with the runner-up, its top-3 share, and that share's change: since last year when significant,
  else since the first year when that is significant, else last year's, stated as not significant.
- `change_previous_year` / `change_first_year`: a change in `yoy_changes` (comparison "previous_year" or
  "first_year") that is significant.
- `trend`: a significant slope in `trends` (three or more published years).
  (Changes, trends and the comparisons below cover every option of the substantive questions, barriers by
  their top-3 and their first-place share; not the respondents' background, fagområde and stilling.)
- `versus_national` (kommuner): the kommune's 95 % Wilson interval (indicator_values ci_low..ci_high)
  excludes the national share.
- `group_extreme` (kommuner): the kommune alone has the highest or the lowest published share of its
  kommunegruppe (at least `MIN_GROUP` published kommuner), only for options with a direction.
- `level` (national): the value of the two headline indicators, stated with its interval.
- `no_significant_change` (national): none of the national changes since last year is significant.

The rules the sentences keep (tested against the published samples):

- "steget"/"faldet" only for a significant change or trend; a non-significant change is called that.
- "over/under landsgennemsnittet" only when the kommune's interval excludes the national share.
- Nothing about a suppressed value: `read_tables` empties every value of a suppressed row, and a finding
  needs its values.
- Options have a direction where it matters (`DIRECTIONS`: more "Nej" to potential or a barrier named by
  more respondents is not better); the default is neutral, and a neutral option is never called better or
  worse: its sentence states the value.
- Numbers as the reports show them (reports/formatting.py): whole percent for shares, one decimal for
  points and scores, Danish decimal comma. Every number a sentence states is in the finding's `numbers`,
  unrounded as published.

Strength (for ranking) is in percentage points where the finding is about points: the size of a change or
of a difference from the national share, the change along a trend (slope x years), half the distance from
the group median for a group extreme; a top barrier's strength is its score (0-100), so the largest barrier
leads; a stated level is weak (5) and "no significant change" weaker (1).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from benchmark_pipeline.instrument import YearInstrument
from benchmark_pipeline.reference import NATIONAL_CODE, Kommuner
from benchmark_pipeline.reports.formatting import (
    NBSP,
    as_float,
    fmt_int,
    fmt_pct,
    fmt_pct_interval,
    fmt_pp,
    fmt_score,
    is_missing,
    pp_phrase,
    round_half_up,
)

# -- the published tables, read once --------------------------------------------------------------

# Every column the reports read, per table; a column a release lacks (an older release, or a table from
# before a column was added) is supplied empty, a missing table as an empty frame with these columns.
TABLE_COLUMNS: dict[str, tuple[str, ...]] = {
    "indicator_values": ("survey_year", "geography_level", "geography_code", "indicator_id", "question_id",
                         "option_id", "measure", "n", "count", "share", "ci_low", "ci_high", "suppressed",
                         "suppression_reason"),
    "barrier_scores": ("survey_year", "geography_level", "geography_code", "barrier_id", "n", "score",
                       "score_ci_low", "score_ci_high", "top3_share", "first_share", "suppressed",
                       "suppression_reason"),
    "yoy_changes": ("survey_year", "base_year", "comparison", "geography_level", "geography_code", "indicator_id",
                    "share", "share_base", "diff_pp", "diff_ci_low_pp", "diff_ci_high_pp", "p_value", "q_value",
                    "significant", "relative_growth"),
    "kommune_benchmarks": ("survey_year", "kommune_kode", "indicator_id", "n", "share", "share_shrunk",
                           "national_share", "region_share", "group_share", "diff_national_pp", "diff_region_pp",
                           "diff_group_pp", "percentile", "percentile_of", "national_min", "national_median",
                           "national_max", "national_published", "group_min", "group_median", "group_max",
                           "group_published", "suppressed", "suppression_reason"),
    "trends": ("survey_year", "geography_level", "geography_code", "indicator_id", "first_year", "years",
               "share_first", "share", "slope_pp_per_year", "slope_ci_low_pp", "slope_ci_high_pp", "p_value",
               "q_value", "significant"),
    "year_summary": ("survey_year", "respondents", "responding_kommuner", "non_responses", "quarantined_rows",
                     "respondents_change", "responding_kommuner_change", "non_responses_change",
                     "quarantined_rows_change"),
    "quarantine_summary": ("survey_year", "rule", "column", "rows"),
}
# Kept on a suppressed row; every other value is emptied.
KEY_COLUMNS = frozenset({"survey_year", "base_year", "comparison", "geography_level", "geography_code",
                         "kommune_kode", "indicator_id", "question_id", "option_id", "measure", "barrier_id",
                         "suppressed", "suppression_reason"})
CODE_COLUMNS = ("geography_code", "kommune_kode")
PREVIOUS_YEAR, FIRST_YEAR = "previous_year", "first_year"
# A yoy_changes table from before the `comparison` column compares with the previous year only.
COLUMN_DEFAULTS = {("yoy_changes", "comparison"): PREVIOUS_YEAR}
SPREAD_COLUMNS = ("national_min", "national_median", "national_max", "national_published", "group_min",
                  "group_median", "group_max", "group_published")


def _true(value: object) -> bool:
    """Only an explicit true is true (NA, None and False are not)."""
    return not is_missing(value) and bool(value) is True


def _read_one(name: str, df: pd.DataFrame | None) -> pd.DataFrame:
    columns = TABLE_COLUMNS[name]
    if df is None or len(df.columns) == 0:
        df = pd.DataFrame({c: pd.Series([], dtype=object) for c in columns})
    out = df.drop(columns=["release_id"], errors="ignore").copy()
    for col in columns:
        if col not in out.columns:
            out[col] = COLUMN_DEFAULTS.get((name, col))
    for col in CODE_COLUMNS:
        if col in out.columns:
            out[col] = [None if is_missing(v) else str(v) for v in out[col]]
    if "suppressed" in out.columns and len(out):
        mask = pd.Series([_true(v) for v in out["suppressed"]], index=out.index)
        if mask.any():
            for col in out.columns:
                if col not in KEY_COLUMNS:
                    out[col] = out[col].astype(object).where(~mask, None)
    if name == "indicator_values" and len(out):  # no counts at kommune level, whatever the table holds
        kommune = (out["geography_level"] == "kommune").to_numpy()
        out["count"] = out["count"].astype(object).where(~kommune, None)
    return out


def _spread(kb: pd.DataFrame, kommuner: Kommuner | None, present: set[str]) -> pd.DataFrame:
    """percentile_of and the national and kommunegruppe spread of published kommune shares, for tables
    published before kommune_benchmarks carried them (their definitions: docs/methodology.md)."""
    if kb.empty:
        return kb
    share = pd.to_numeric(kb["share"], errors="coerce")
    if "percentile_of" not in present:
        published = pd.to_numeric(kb["percentile"], errors="coerce").notna()
        kb["percentile_of"] = published.groupby(kb["indicator_id"]).transform("sum").where(published)
    groups = []
    if not {"national_min", "national_median", "national_max", "national_published"} <= present:
        groups.append(("national", kb["indicator_id"]))
    if kommuner is not None and not {"group_min", "group_median", "group_max", "group_published"} <= present:
        group_of = kommuner.group_of()
        groups.append(("group", [kb["indicator_id"], kb["kommune_kode"].map(group_of)]))
    for prefix, by in groups:
        g = share.groupby(by)
        published = share.notna()
        kb[f"{prefix}_min"] = g.transform("min").where(published)
        kb[f"{prefix}_median"] = g.transform("median").where(published)
        kb[f"{prefix}_max"] = g.transform("max").where(published)
        kb[f"{prefix}_published"] = g.transform("count").where(published)
    return kb


def read_tables(tables: Mapping[str, pd.DataFrame | None] | None, kommuner: Kommuner | None = None
                ) -> dict[str, pd.DataFrame]:
    """The year's published tables as findings and pages read them: every table of `TABLE_COLUMNS` (empty
    when absent), every column (empty when a release lacks it), codes as text, no `release_id`, and every
    value of a suppressed row emptied (so nothing can be said about it), no kommune-level counts.

    A kommune_benchmarks table without `percentile_of` or the national/kommunegruppe spread (releases made
    before those columns) gets them from its own published rows (with `kommuner` for the groups)."""
    tables = tables or {}
    out = {}
    for name in TABLE_COLUMNS:
        raw = tables.get(name)
        out[name] = _read_one(name, raw)
        if name == "kommune_benchmarks":
            present = set(raw.columns) if raw is not None else set()
            if not set(SPREAD_COLUMNS) | {"percentile_of"} <= present:
                out[name] = _spread(out[name], kommuner, present)
    return out


def records(df: pd.DataFrame) -> list[dict]:
    cols = list(df.columns)
    return [dict(zip(cols, row)) for row in zip(*(df[c].tolist() for c in cols))]


# -- directions -----------------------------------------------------------------------------------

HIGHER, LOWER, NEUTRAL = "higher_is_better", "lower_is_better", "neutral"
# Keyed by indicator id, "question.option" or question (first match wins); everything else is neutral:
# the sentence then states the value and never calls it better or worse.
DIRECTIONS: dict[str, str] = {
    "data_use_change.mere": HIGHER,
    "data_use_change.mindre": LOWER,
    "further_potential.ja": HIGHER,
    "further_potential.nej": LOWER,  # more "Nej" to potential is not better
    "anchoring_levels.ingen": LOWER,  # "Ikke forankret"
    "barriers": LOWER,  # a barrier named by more respondents is not better
    "barriers.andet": NEUTRAL,
}


def split_indicator(indicator_id: str) -> tuple[str, str, str]:
    """'barriers.ledelse.top3' -> ('barriers', 'ledelse', 'top3'); 'ai_use.nej' -> ('ai_use', 'nej', 'share')."""
    parts = str(indicator_id).split(".")
    return parts[0], parts[1] if len(parts) > 1 else "", parts[2] if len(parts) > 2 else "share"


def direction_of(indicator_id: str) -> str:
    question, option, _measure = split_indicator(indicator_id)
    for key in (indicator_id, f"{question}.{option}", question):
        if key in DIRECTIONS:
            return DIRECTIONS[key]
    return NEUTRAL


def tone_of(direction: str, sign: float) -> str:
    """'positive', 'negative' or 'neutral': what a higher (sign > 0) or lower value means for the option."""
    if direction == NEUTRAL or sign == 0:
        return "neutral"
    return "positive" if (sign > 0) == (direction == HIGHER) else "negative"


def rank_position(percentile: object, percentile_of: object, indicator_id: str | None = None
                  ) -> tuple[int, int] | None:
    """(X, N): the kommune's place among N published kommuner, counted from the highest share (from the
    lowest for an option where less is better; from the highest whatever the option without an
    `indicator_id`). `percentile` is rank / N x 100 (ties share their average rank), the highest 100."""
    p, n = as_float(percentile), as_float(percentile_of)
    if p is None or n is None or n < 1:
        return None
    rank_from_lowest = p / 100 * n
    lowest_first = indicator_id is not None and direction_of(indicator_id) == LOWER
    position = rank_from_lowest if lowest_first else n + 1 - rank_from_lowest
    return max(1, min(int(n), int(round_half_up(position)))), int(n)


def rank_phrase(percentile: object, percentile_of: object, indicator_id: str) -> str:
    """'nr. 3 af 6 offentliggjorte kommuner, hvor 1 er den højeste andel' (never 'bedst')."""
    pos = rank_position(percentile, percentile_of, indicator_id)
    if pos is None:
        return ""
    end = "laveste" if direction_of(indicator_id) == LOWER else "højeste"
    return f"nr. {pos[0]} af {pos[1]} offentliggjorte kommuner, hvor 1 er den {end} andel"


# -- what an indicator says, in words -------------------------------------------------------------

BACKGROUND_QUESTIONS = ("fagomraade", "stilling")  # who answered, not what they answered: no findings
HEADLINE_INDICATORS = ("data_use_change.mere", "further_potential.ja")
MIN_GROUP = 3  # published kommuner a kommunegruppe needs before one of them is called its highest or lowest

# Completes "andelen, der ..." (present tense, plural respondents).
WHAT: dict[str, str] = {
    "data_use_change.mere": "bruger borgerrelaterede data mere end for et år siden",
    "data_use_change.samme": "bruger borgerrelaterede data det samme som for et år siden",
    "data_use_change.mindre": "bruger borgerrelaterede data mindre end for et år siden",
    "further_potential.ja": "ser potentiale for yderligere brug af borgerrelaterede data i kommunen",
    "further_potential.nej": "ikke ser potentiale for yderligere brug af borgerrelaterede data i kommunen",
    "anchoring_levels.ingen": "svarer, at brugen af data ikke er forankret i organisationen",
}
# By question: the option label goes in {label}.
WHAT_BY_QUESTION: dict[str, str] = {
    "data_use_change": "svarer »{label}« til, om de bruger borgerrelaterede data mere eller mindre end for et år siden",
    "further_potential": "svarer »{label}« til, om der er potentiale for yderligere brug af borgerrelaterede data",
    "ai_use": "svarer »{label}« til, om de anvender kunstig intelligens på borgerrelaterede data",
    "use_contexts": "peger på »{label}« som en af de sammenhænge, hvor data om borgerne oftest bruges",
    "anchoring_levels": "peger på »{label}« som et sted i organisationen, hvor brugen af data er forankret",
    "data_sources": "bruger datakilden »{label}«",
}
WHAT_BARRIER = {"top3": "har »{label}« blandt deres tre væsentligste barrierer",
                "first": "har »{label}« som den væsentligste barriere"}


class Words:
    """The instrument's Danish labels, and an indicator's phrase."""

    def __init__(self, instrument: YearInstrument):
        self.instrument = instrument
        self.labels = {(q.id, o.id): o.label for q in instrument.questions for o in q.options}
        self.kinds = {q.id: q.kind for q in instrument.questions}
        self.texts = {q.id: q.text for q in instrument.questions}

    def label(self, question: str, option: str) -> str:
        return self.labels.get((question, option), option)

    def what(self, indicator_id: str) -> str:
        question, option, measure = split_indicator(indicator_id)
        if indicator_id in WHAT:
            return WHAT[indicator_id]
        label = self.label(question, option)
        if question == "barriers" or self.kinds.get(question) == "ranked":
            return WHAT_BARRIER.get(measure, WHAT_BARRIER["top3"]).format(label=label)
        if question in WHAT_BY_QUESTION:
            return WHAT_BY_QUESTION[question].format(label=label)
        return f"svarer »{label}« på spørgsmålet »{self.texts.get(question, question)}«"


def counts_as_finding(indicator_id: str) -> bool:
    """Every option of the substantive questions; not the respondents' background (fagområde, stilling)."""
    return split_indicator(indicator_id)[0] not in BACKGROUND_QUESTIONS


# -- findings -------------------------------------------------------------------------------------

KINDS = ("top_barrier", "change_previous_year", "change_first_year", "trend", "versus_national", "group_extreme",
         "level", "no_significant_change")

# How each number a finding states is shown; EVIDENCE numbers stand behind it without being stated.
PCT, PP, SCORE, YEAR, INT, EVIDENCE = "pct", "pp", "score", "year", "int", "evidence"
NUMBER_FORMATS: dict[str, str] = {
    "share": PCT, "share_base": PCT, "share_first": PCT, "national_share": PCT, "ci_low": PCT, "ci_high": PCT,
    "top3_share": PCT, "top3_share_base": PCT, "group_median": PCT,
    "diff_pp": PP, "slope_pp_per_year": PP, "diff_national_pp": PP, "top3_diff_pp": PP,
    "score": SCORE, "runner_up_score": SCORE,
    "survey_year": YEAR, "base_year": YEAR, "first_year": YEAR,
    "group_published": INT, "tests": INT,
}


@dataclass(frozen=True)
class Finding:
    """One fact that stands out, with the numbers behind it and one Danish sentence made from them."""

    kind: str  # one of KINDS
    survey_year: int
    geography_level: str  # "national" | "kommune"
    geography_code: str  # "DK" or a 3-digit kommune code
    geography_name: str  # "Hele landet" or the kommune's official name
    indicator_id: str  # "" for no_significant_change
    direction: str  # the option's direction: HIGHER, LOWER or NEUTRAL
    tone: str  # what the finding means given the direction: "positive", "negative" or "neutral"
    numbers: tuple[tuple[str, float], ...]  # unrounded, as published (names: NUMBER_FORMATS or evidence)
    strength: float  # for ranking: larger is stronger (rounded to 6 decimals, so ties are ties)
    sentence: str  # one Danish sentence stating the numbers
    significant: bool = False  # the change or trend it reports is significant (q < 0.05)

    @property
    def values(self) -> dict[str, float]:
        return dict(self.numbers)

    def get(self, name: str) -> float | None:
        return self.values.get(name)

    @property
    def question_id(self) -> str:
        return split_indicator(self.indicator_id)[0] if self.indicator_id else ""

    @property
    def option_id(self) -> str:
        return split_indicator(self.indicator_id)[1] if self.indicator_id else ""

    def stated(self) -> dict[str, float]:
        """The numbers the sentence states (all but the evidence), by name."""
        return {k: v for k, v in self.numbers if NUMBER_FORMATS.get(k, EVIDENCE) != EVIDENCE}


def _nums(**values: object) -> tuple[tuple[str, float], ...]:
    """Only published numbers, in a fixed order (as given)."""
    out = []
    for k, v in values.items():
        f = as_float(v)
        if f is not None:
            out.append((k, int(f) if NUMBER_FORMATS.get(k) in (YEAR, INT) else f))
    return tuple(out)


def _place(level: str, name: str) -> str:
    return "I hele landet" if level == "national" else f"I {name}"


class _Year:
    """The tables of one year, indexed for the finding rules."""

    def __init__(self, tables: Mapping[str, pd.DataFrame | None], instrument: YearInstrument, kommuner: Kommuner,
                 survey_year: int | None):
        self.t = read_tables(tables, kommuner)
        self.words = Words(instrument)
        self.kommuner = kommuner
        self.survey_year = int(survey_year if survey_year is not None else instrument.survey_year)
        self.names = {("national", NATIONAL_CODE): "Hele landet",
                      **{("kommune", k): v for k, v in kommuner.official_name().items()}}
        self.group_of = kommuner.group_of()
        self.group_names = dict(zip(kommuner.table["kommunegruppe_kode"].astype(str),
                                    kommuner.table["kommunegruppe_navn"]))
        self.iv = {(r["geography_level"], r["geography_code"], r["indicator_id"]): r
                   for r in records(self.t["indicator_values"]) if as_float(r["share"]) is not None}
        self.bs: dict[tuple[str, str], list[dict]] = {}
        for r in records(self.t["barrier_scores"]):
            if as_float(r["score"]) is not None:
                self.bs.setdefault((r["geography_level"], r["geography_code"]), []).append(r)
        self.yoy = {(str(r["comparison"]), r["geography_level"], r["geography_code"], r["indicator_id"]): r
                    for r in records(self.t["yoy_changes"]) if as_float(r["diff_pp"]) is not None}
        self.trends = [r for r in records(self.t["trends"]) if as_float(r["slope_pp_per_year"]) is not None]
        self.kb = [r for r in records(self.t["kommune_benchmarks"]) if as_float(r["share"]) is not None]

    def name(self, level: str, code: str) -> str:
        return self.names.get((level, code), code)

    def finding(self, kind: str, level: str, code: str, indicator_id: str, tone: str, numbers, strength: float,
                sentence: str, significant: bool = False) -> Finding:
        return Finding(kind=kind, survey_year=self.survey_year, geography_level=level, geography_code=code,
                       geography_name=self.name(level, code), indicator_id=indicator_id,
                       direction=direction_of(indicator_id) if indicator_id else NEUTRAL, tone=tone,
                       numbers=numbers, strength=round(float(strength), 6), sentence=sentence,
                       significant=significant)


def _change(y: _Year, row: dict) -> Finding | None:
    ind, level, code = row["indicator_id"], row["geography_level"], row["geography_code"]
    diff = as_float(row["diff_pp"])
    if not _true(row.get("significant")) or not diff or as_float(row.get("share_base")) is None:
        return None
    first = str(row["comparison"]) == FIRST_YEAR
    verb = "steget" if diff > 0 else "faldet"
    sentence = (f"{_place(level, y.name(level, code))} er andelen, der {y.words.what(ind)}, {verb} fra "
                f"{fmt_pct(row['share_base'])} i {int(row['base_year'])} til {fmt_pct(row['share'])} i "
                f"{y.survey_year} ({fmt_pp(diff)}{NBSP}procentpoint).")
    numbers = _nums(share_base=row["share_base"], base_year=row["base_year"], share=row["share"],
                    survey_year=y.survey_year, diff_pp=diff, diff_ci_low_pp=row.get("diff_ci_low_pp"),
                    diff_ci_high_pp=row.get("diff_ci_high_pp"), p_value=row.get("p_value"),
                    q_value=row.get("q_value"))
    kind = "change_first_year" if first else "change_previous_year"
    return y.finding(kind, level, code, ind, tone_of(direction_of(ind), diff), numbers,
                     abs(diff) * (0.9 if first else 1.0), sentence, significant=True)


def _trend(y: _Year, row: dict) -> Finding | None:
    ind, level, code = row["indicator_id"], row["geography_level"], row["geography_code"]
    slope = as_float(row["slope_pp_per_year"])
    first_year = as_float(row.get("first_year"))
    if not _true(row.get("significant")) or not slope or first_year is None:
        return None
    if as_float(row.get("share_first")) is None or as_float(row.get("share")) is None:
        return None
    verb = "steget" if slope > 0 else "faldet"
    sentence = (f"{_place(level, y.name(level, code))} er andelen, der {y.words.what(ind)}, {verb} med "
                f"gennemsnitligt {pp_phrase(slope)} om året fra {int(first_year)} til {y.survey_year} "
                f"(fra {fmt_pct(row['share_first'])} til {fmt_pct(row['share'])}).")
    numbers = _nums(slope_pp_per_year=slope, first_year=first_year, survey_year=y.survey_year,
                    share_first=row["share_first"], share=row["share"], years=row.get("years"),
                    slope_ci_low_pp=row.get("slope_ci_low_pp"), slope_ci_high_pp=row.get("slope_ci_high_pp"),
                    p_value=row.get("p_value"), q_value=row.get("q_value"))
    span = max(1, y.survey_year - int(first_year))
    return y.finding("trend", level, code, ind, tone_of(direction_of(ind), slope), numbers,
                     abs(slope) * span * 0.9, sentence, significant=True)


def _versus_national(y: _Year, row: dict) -> Finding | None:
    ind, code = row["indicator_id"], row["geography_code"]
    nat = y.iv.get(("national", NATIONAL_CODE, ind))
    share, low, high = as_float(row["share"]), as_float(row.get("ci_low")), as_float(row.get("ci_high"))
    if nat is None or low is None or high is None:
        return None
    national = as_float(nat["share"])
    if low > national:
        side = "over"
    elif high < national:
        side = "under"
    else:
        return None
    diff = (share - national) * 100
    sentence = (f"{_place('kommune', y.name('kommune', code))} er andelen, der {y.words.what(ind)}, "
                f"{fmt_pct(share)} (95{NBSP}%-interval {fmt_pct_interval(low, high)}), {pp_phrase(diff)} {side} "
                f"landsgennemsnittet på {fmt_pct(national)}.")
    numbers = _nums(share=share, ci_low=low, ci_high=high, diff_national_pp=diff, national_share=national,
                    n=row.get("n"))
    return y.finding("versus_national", "kommune", code, ind, tone_of(direction_of(ind), diff), numbers, abs(diff),
                     sentence)


def _group_extremes(y: _Year) -> list[Finding]:
    out = []
    by_group: dict[tuple[str, str], list[dict]] = {}
    for r in y.kb:
        by_group.setdefault((r["indicator_id"], y.group_of.get(r["kommune_kode"])), []).append(r)
    for r in y.kb:
        ind, code = r["indicator_id"], r["kommune_kode"]
        direction = direction_of(ind)
        if direction == NEUTRAL or not counts_as_finding(ind):
            continue
        share = as_float(r["share"])
        low, median, high = (as_float(r.get(c)) for c in ("group_min", "group_median", "group_max"))
        published = as_float(r.get("group_published"))
        if None in (low, median, high, published) or published < MIN_GROUP or low == high:
            continue
        if share == high:
            end, sign = "højeste", 1
        elif share == low:
            end, sign = "laveste", -1
        else:
            continue
        if sum(as_float(o["share"]) == share for o in by_group[(ind, y.group_of.get(code))]) != 1:
            continue  # shared with another kommune: not "the" highest or lowest
        tone = tone_of(direction, sign)
        verdict = "bedste" if tone == "positive" else "svageste"
        group = y.group_names.get(str(y.group_of.get(code)), "")
        sentence = (f"Blandt de {fmt_int(published)} kommuner i kommunegruppen {group} med offentliggjorte tal har "
                    f"{y.name('kommune', code)} den {end} andel, der {y.words.what(ind)}: {fmt_pct(share)} mod "
                    f"gruppens median på {fmt_pct(median)}, og det er gruppens {verdict} resultat.")
        numbers = _nums(group_published=published, share=share, group_median=median, group_min=low, group_max=high)
        out.append(y.finding("group_extreme", "kommune", code, ind, tone, numbers,
                             abs(share - median) * 100 * 0.5, sentence))
    return out


def _top_barrier(y: _Year, level: str, code: str) -> Finding | None:
    rows = sorted(y.bs.get((level, code), []), key=lambda r: (-as_float(r["score"]), r["barrier_id"]))
    if len(rows) < 2 or as_float(rows[0]["score"]) == as_float(rows[1]["score"]) or rows[0]["barrier_id"] == "andet":
        return None
    top, runner = rows[0], rows[1]
    ind = f"barriers.{top['barrier_id']}.top3"
    label, runner_label = (y.words.label("barriers", r["barrier_id"]) for r in (top, runner))
    # its change: since last year when that is significant, else since the first year when that is, else
    # last year's (stated as not significant)
    changes = [y.yoy.get((c, level, code, ind)) for c in (PREVIOUS_YEAR, FIRST_YEAR)]
    changes = [c for c in changes if c is not None and as_float(c.get("share_base")) is not None]
    change = next((c for c in changes if _true(c.get("significant")) and as_float(c["diff_pp"])),
                  changes[0] if changes else None)
    text = (f"{_place(level, y.name(level, code))} har »{label}« den højeste vægtede score blandt barriererne, "
            f"{fmt_score(top['score'])} af 100, foran »{runner_label}« med {fmt_score(runner['score'])}")
    tone, significant = "neutral", False
    extra = {}
    top3 = as_float(top.get("top3_share"))
    if top3 is not None:
        text += f"; {fmt_pct(top3)} har den blandt deres tre væsentligste barrierer"
        if change is not None:
            diff = as_float(change["diff_pp"])
            base = int(change["base_year"])
            extra = {"top3_share_base": change["share_base"], "base_year": base, "top3_diff_pp": diff,
                     "q_value": change.get("q_value")}
            if _true(change.get("significant")) and diff:
                significant = True
                tone = tone_of(LOWER, diff)
                text += (f", og den andel er {'steget' if diff > 0 else 'faldet'} fra "
                         f"{fmt_pct(change['share_base'])} i {base} ({fmt_pp(diff)}{NBSP}procentpoint)")
            else:
                text += (f", mod {fmt_pct(change['share_base'])} i {base} ({fmt_pp(diff)}{NBSP}procentpoint), "
                         "en ændring, der ikke er statistisk signifikant")
    numbers = _nums(score=top["score"], runner_up_score=runner["score"], top3_share=top3,
                    score_ci_low=top.get("score_ci_low"), score_ci_high=top.get("score_ci_high"), n=top.get("n"),
                    **extra)
    return y.finding("top_barrier", level, code, ind, tone, numbers, as_float(top["score"]), text + ".",
                     significant=significant)


def _level(y: _Year, ind: str) -> Finding | None:
    row = y.iv.get(("national", NATIONAL_CODE, ind))
    if row is None or as_float(row.get("ci_low")) is None:
        return None
    text = (f"I hele landet er andelen, der {y.words.what(ind)}, {fmt_pct(row['share'])} "
            f"(95{NBSP}%-interval {fmt_pct_interval(row['ci_low'], row['ci_high'])})")
    change = y.yoy.get((PREVIOUS_YEAR, "national", NATIONAL_CODE, ind))
    extra = {}
    if change is not None and not _true(change.get("significant")):
        diff = as_float(change["diff_pp"])
        extra = {"base_year": change["base_year"], "diff_pp": diff, "q_value": change.get("q_value")}
        text += (f", og ændringen siden {int(change['base_year'])} ({fmt_pp(diff)}{NBSP}procentpoint) er ikke "
                 "statistisk signifikant")
    numbers = _nums(share=row["share"], ci_low=row["ci_low"], ci_high=row["ci_high"], n=row.get("n"), **extra)
    return y.finding("level", "national", NATIONAL_CODE, ind, "neutral", numbers, 5.0, text + ".")


def _no_significant_change(y: _Year) -> Finding | None:
    rows = [r for (comparison, level, _code, ind), r in y.yoy.items()
            if comparison == PREVIOUS_YEAR and level == "national" and counts_as_finding(ind)]
    if len(rows) < 2 or any(_true(r.get("significant")) for r in rows):
        return None
    base = max(int(r["base_year"]) for r in rows)
    sentence = (f"Ingen af de {fmt_int(len(rows))} sammenligninger med {base} i hele landet viser en statistisk "
                "signifikant ændring, så tallene viser ikke en sikker stigning eller et sikkert fald.")
    return y.finding("no_significant_change", "national", NATIONAL_CODE, "", "neutral",
                     _nums(tests=len(rows), base_year=base), 1.0, sentence)


def _ranked(findings: list[Finding]) -> list[Finding]:
    order = {k: i for i, k in enumerate(KINDS)}
    return sorted(findings, key=lambda f: (-f.strength, order[f.kind], f.indicator_id, f.sentence))


def findings_for_year(tables: Mapping[str, pd.DataFrame | None], instrument: YearInstrument, kommuner: Kommuner,
                      survey_year: int | None = None) -> dict[str, list[Finding]]:
    """Every finding of the year's published tables, by geography code ("DK" and each of the 98 kommuner,
    in reference order), strongest first. `survey_year` defaults to the instrument's."""
    y = _Year(tables, instrument, kommuner, survey_year)
    out: dict[str, list[Finding]] = {NATIONAL_CODE: [], **{str(k): [] for k in kommuner.codes}}
    wanted = {("national", NATIONAL_CODE)} | {("kommune", str(k)) for k in kommuner.codes}

    def add(f: Finding | None) -> None:
        if f is not None:
            out[f.geography_code].append(f)

    for (_comparison, level, code, ind), row in y.yoy.items():
        if (level, code) in wanted and counts_as_finding(ind):
            add(_change(y, row))
    for row in y.trends:
        if (row["geography_level"], row["geography_code"]) in wanted and counts_as_finding(row["indicator_id"]):
            add(_trend(y, row))
    for (level, code, ind), row in y.iv.items():
        if level == "kommune" and code in out and counts_as_finding(ind):
            add(_versus_national(y, row))
    for f in _group_extremes(y):
        if f.geography_code in out:
            add(f)
    for level, code in sorted(wanted):
        add(_top_barrier(y, level, code))
    for ind in HEADLINE_INDICATORS:
        add(_level(y, ind))
    add(_no_significant_change(y))
    return {code: _ranked(fs) for code, fs in out.items()}


def highlights(findings: list[Finding], limit: int = 6) -> list[Finding]:
    """The strongest findings, one per option (a barrier's top-3 and first-place shares count as one), at
    most `limit`; the top barrier always among them."""
    chosen: list[Finding] = []
    seen: set[tuple[str, str]] = set()
    ranked = _ranked(findings)
    for f in [f for f in ranked if f.kind == "top_barrier"][:1] + [f for f in ranked if f.kind != "top_barrier"]:
        key = (f.question_id, f.option_id) if f.indicator_id else (f.kind, "")  # a barrier's top 3 and first: one
        if key in seen:
            continue
        if f.kind == "no_significant_change" and any(c.kind.startswith("change") for c in chosen):
            continue
        seen.add(key)
        chosen.append(f)
        if len(chosen) >= limit:
            break
    return _ranked(chosen)


def number_display(name: str, value: float) -> str:
    """How a finding's number appears in its sentence (without sign or unit)."""
    kind = NUMBER_FORMATS.get(name, EVIDENCE)
    if kind == PCT:
        return fmt_pct(value, unit=False)
    if kind == PP:
        return fmt_pp(abs(value), signed=False)
    if kind == SCORE:
        return fmt_score(value)
    if kind == YEAR:
        return str(int(value))
    if kind == INT:
        return fmt_int(value)
    return ""


__all__ = ["Finding", "KINDS", "DIRECTIONS", "HIGHER", "LOWER", "NEUTRAL", "TABLE_COLUMNS", "read_tables",
           "findings_for_year", "highlights", "direction_of", "tone_of", "rank_position", "rank_phrase",
           "number_display", "split_indicator", "counts_as_finding"]
