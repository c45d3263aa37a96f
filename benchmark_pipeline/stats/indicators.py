"""Share indicators and barrier scores at every geography, with disclosure control applied.

Everything is computed from per-kommune sufficient statistics (bincounts over respondents), which are
then summed up the geography hierarchy, so the work over respondents is a handful of vectorised passes.
The rows are assembled as numpy columns and become a DataFrame once per table: at a million respondents,
building a DataFrame per question and level cost as much as all the counting.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from statsmodels.stats.proportion import proportion_confint

from benchmark_pipeline.instrument import Question, YearInstrument
from benchmark_pipeline.reference import Kommuner
from benchmark_pipeline.settings import MIN_RESPONDENTS_FLOOR
from benchmark_pipeline.stats.disclosure import protect_questions
from benchmark_pipeline.stats.geography import Geography, factorize
from benchmark_pipeline.stats.tables import (
    BARRIER_SCORES_COLUMNS,
    CONFIDENCE,
    INDICATOR_VALUES_COLUMNS,
    LEVELS,
    SUPPRESSION_TRAIL_COLUMNS,
    check_min_respondents,
)


def wilson_interval(count, n, confidence: float = CONFIDENCE) -> tuple[np.ndarray, np.ndarray]:
    """95% Wilson score interval (statsmodels); NaN where n is 0."""
    count, n = np.broadcast_arrays(np.asarray(count, dtype=float), np.asarray(n, dtype=float))
    low = np.full(count.shape, np.nan)
    high = low.copy()
    ok = n > 0
    if ok.any():
        lo, hi = proportion_confint(count[ok], n[ok], alpha=1 - confidence, method="wilson")
        low[ok] = np.clip(lo, 0.0, 1.0)
        high[ok] = np.clip(hi, 0.0, 1.0)
        # exact bounds at the edges (the closed form is exactly 0 at 0/n and 1 at n/n; floats drift by 1e-17)
        low[ok & (count == 0)] = 0.0
        high[ok & (count == n)] = 1.0
    return low, high


def barrier_score(first, second, third, n, confidence: float = CONFIDENCE):
    """Weighted score (3·first + 2·second + 1·third) / (3·n) × 100 with a score-type interval bounded by 0–100.

    Each respondent who ranked at least one barrier gets 3, 2, 1 or 0 points for the option; the score is
    the mean points scaled to 0–100. The interval inverts the score test of that mean with the largest
    variance points on 0–3 can have at a mean μ, μ(3 − μ) (every respondent giving 0 or 3 points): the
    Wilson interval of points/3 over n respondents. It stays inside 0–100, contains the score, has width
    at every n (also when every respondent gave 0 points) and is never narrower than the data warrant.
    The normal interval it replaces gave "0–0" and "0–78" at small n. NaN where n is 0.
    """
    f, s, t, n = (np.asarray(x, dtype=float) for x in (first, second, third, n))
    points = 3 * f + 2 * s + t
    with np.errstate(divide="ignore", invalid="ignore"):
        score = np.where(n > 0, points / (3 * n) * 100, np.nan)
    low, high = wilson_interval(points / 3, n, confidence)
    return score, low * 100, high * 100


# --------------------------------------------------------------------------------------------------
# respondent-level decoding


def _option_codes(series: pd.Series, options: tuple[str, ...], column: str) -> np.ndarray:
    """Index of each respondent's option in `options`; -1 where not answered. Raises on unknown values."""
    codes, labels = factorize(series)
    pos = {o: i for i, o in enumerate(options)}
    lut = np.array([pos.get(label, -2) for label in labels] + [-1], dtype=np.int16)  # small: fewer bytes to move
    codes = lut[codes]  # code -1 (missing) picks the trailing -1
    if (codes == -2).any():
        bad = sorted(set(series[codes == -2].astype("str")))[:5]
        raise ValueError(f"column {column!r} holds values that are not options of this year: {bad}")
    return codes


def _require(validated: pd.DataFrame, columns) -> None:
    missing = [c for c in columns if c not in validated.columns]
    if missing:
        raise ValueError(f"validated frame lacks columns of this year's instrument: {missing}")


def _count_by_kommune(kidx: np.ndarray, codes: np.ndarray, n_kommuner: int, n_options: int) -> np.ndarray:
    """(kommuner × options) counts of respondents per kommune and option; code -1 (not answered) is skipped.

    Unanswered respondents are counted in a column that is dropped, which is cheaper than filtering them out."""
    width = n_options + 1
    flat = np.bincount(kidx * width + (codes + 1), minlength=n_kommuner * width)
    return flat.reshape(n_kommuner, width)[:, 1:].astype(np.int64)


def _single_stats(validated, q: Question, kidx, nk):
    _require(validated, [q.id])
    codes = _option_codes(validated[q.id], q.option_ids, q.id)
    counts = _count_by_kommune(kidx, codes, nk, len(q.options))
    return counts.sum(axis=1), counts  # every respondent who answered chose exactly one option


def _ticks(block: pd.DataFrame, question_id: str) -> np.ndarray:
    """The 0/1 answers of a multi-select question (respondents × options); a missing value is 0."""
    if all(isinstance(d, np.dtype) and d.kind in "biu" for d in block.dtypes):
        x = block.to_numpy()  # plain integer columns (the canonical int8): nothing missing, nothing to convert
        zero_one = x.size == 0 or (x.min() >= 0 and x.max() <= 1)  # whole numbers: the range says it
    else:
        x = np.column_stack(
            [pd.to_numeric(block[c], errors="raise").fillna(0).to_numpy(dtype=float) for c in block.columns]
        )
        zero_one = ((x == 0) | (x == 1)).all()
    if not zero_one:
        raise ValueError(f"multi-select columns of {question_id!r} must hold 0/1")
    return x.astype(np.uint8)


def _tick_counts(kidx: np.ndarray, x: np.ndarray, nk: int) -> np.ndarray:
    """(kommuner × options) counts of ticks in a 0/1 (uint8) matrix.

    Up to 8 options at a time are read as one answer pattern per respondent (bit j: option j ticked), so a
    single bincount over kommune × pattern replaces one weighted bincount per option; the option counts
    are then the pattern counts times the pattern bits."""
    parts = []
    for start in range(0, x.shape[1], 8):
        block = x[:, start:start + 8]
        k = block.shape[1]
        pattern = np.zeros(len(block), dtype=np.uint8)
        for j in range(k):
            pattern |= block[:, j] << j
        key = (kidx << k) | pattern  # kommune in the high bits, pattern in the low k bits
        by_pattern = np.bincount(key, minlength=nk << k).reshape(nk, 1 << k)
        bits = (np.arange(1 << k)[:, None] >> np.arange(k)) & 1  # (patterns × options)
        parts.append(by_pattern @ bits)
    return np.hstack(parts).astype(np.int64)


def _multi_stats(validated, q: Question, kidx, nk):
    cols = list(q.canonical_columns())
    _require(validated, cols)
    x = _ticks(validated[cols], q.id)
    n = np.bincount(kidx[x.any(axis=1)], minlength=nk).astype(np.int64)
    return n, _tick_counts(kidx, x, nk)


def _ranked_stats(validated, q: Question, kidx, nk):
    cols = list(q.canonical_columns())
    _require(validated, cols)
    m = len(q.options)
    codes = [_option_codes(validated[c], q.option_ids, c) for c in cols]
    # An option counts once per respondent, at its best rank (validation quarantines repeats anyway).
    dedup = []
    for r, c in enumerate(codes):
        keep = c.copy()
        for prev in codes[:r]:
            keep = np.where(keep == prev, -1, keep)
        dedup.append(keep)
    by_rank = [_count_by_kommune(kidx, c, nk, m) for c in dedup]  # first, second, third
    ranked_any = np.zeros(len(validated), dtype=bool)
    for c in codes:
        ranked_any |= c >= 0
    n = np.bincount(kidx[ranked_any], minlength=nk).astype(np.int64)
    return n, by_rank


# --------------------------------------------------------------------------------------------------
# table assembly: rows are dicts of equally long numpy columns until the final DataFrame


def _long_rows(geo: Geography, n_kommune, values: dict, labels: dict, decision, option_major: bool = False) -> dict:
    """One row per geography cell × option (internal, before the table is finished).

    `values` maps a column to a (kommuner × options) array, summed up to every cell; `labels` maps a column
    to one label per option. Rows run cell by cell (options inside), or option by option with
    `option_major`. `decision` is (suppressed, public reason) per cell, from `protect_question`."""
    n_cells = len(geo.cells[0])
    m = len(next(iter(labels.values())))
    if option_major:
        cell, col = np.tile(np.arange(n_cells), m), np.repeat(np.arange(m), n_cells)
    else:
        cell, col = np.repeat(np.arange(n_cells), m), np.tile(np.arange(m), n_cells)
    suppressed, reason = decision
    rows = {"cell": cell, "n": geo.stack(n_kommune).astype(np.int64)[cell]}
    rows.update({name: np.asarray(geo.stack(v), dtype=np.int64)[cell, col] for name, v in values.items()})
    rows.update({name: np.array(v, dtype=object)[col] for name, v in labels.items()})
    rows.update(suppressed=suppressed[cell], suppression_reason=reason[cell])
    return rows


def _concat(parts: list[dict]) -> dict:
    return {name: np.concatenate([p[name] for p in parts]) for name in parts[0]}


def _level_order(rows: dict, geo: Geography) -> dict:
    """Stable order: level (national, region, kommunegruppe, kommune), then code, then build order."""
    level, code = geo.cells
    level_rank = np.array([LEVELS.index(lvl) for lvl in level])
    code_num = pd.to_numeric(pd.Series(code, dtype=object), errors="coerce").fillna(-1).to_numpy()
    cell = rows["cell"]
    order = np.lexsort((np.arange(len(cell)), code_num[cell], level_rank[cell]))
    return {name: column[order] for name, column in rows.items()}


def _blank(values: np.ndarray, suppressed: np.ndarray) -> np.ndarray:
    return np.where(suppressed, np.nan, values)


def _key_columns(rows: dict, geo: Geography, survey_year: int) -> dict:
    level, code = geo.cells
    return {
        "survey_year": np.full(len(rows["cell"]), survey_year, dtype=np.int64),
        "geography_level": pd.array(level[rows["cell"]], dtype="str"),
        "geography_code": pd.array(code[rows["cell"]], dtype="str"),
    }


def _finish_indicators(rows: dict, geo: Geography, survey_year: int) -> pd.DataFrame:
    """The published table: values of suppressed rows (n included) and counts at kommune level are empty."""
    n = rows["n"].astype(float)
    count = rows["count"].astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(n > 0, count / n, np.nan)
    low, high = wilson_interval(count, n)
    supp = rows["suppressed"]
    at_kommune = geo.cells[0][rows["cell"]] == "kommune"
    columns = _key_columns(rows, geo, survey_year)
    columns.update(
        {
            "indicator_id": pd.array(rows["indicator_id"], dtype="str"),
            "question_id": pd.array(rows["question_id"], dtype="str"),
            "option_id": pd.array(rows["option_id"], dtype="str"),
            "measure": pd.array(rows["measure"], dtype="str"),
            "n": pd.arrays.IntegerArray(rows["n"], supp.copy()),
            "count": pd.arrays.IntegerArray(rows["count"], supp | at_kommune),
            "share": _blank(share, supp),
            "ci_low": _blank(low, supp),
            "ci_high": _blank(high, supp),
            "suppressed": supp,
            "suppression_reason": pd.array(rows["suppression_reason"], dtype="str"),
        }
    )
    return pd.DataFrame(columns)[INDICATOR_VALUES_COLUMNS]


def _withheld_by_question(geo: Geography, withheld_before: pd.DataFrame | None) -> dict[str, np.ndarray]:
    """Per question, which cells (`geo.cells` order) are in `withheld_before`."""
    if withheld_before is None or withheld_before.empty:
        return {}
    cells = pd.MultiIndex.from_arrays(geo.cells)
    return {
        str(question_id): cells.isin(pd.MultiIndex.from_frame(rows[["geography_level", "geography_code"]].astype(str)))
        for question_id, rows in withheld_before.groupby("question_id")
    }


def compute_indicators(
    validated: pd.DataFrame, instrument: YearInstrument, kommuner: Kommuner,
    min_respondents: int = MIN_RESPONDENTS_FLOOR, withheld_before: pd.DataFrame | None = None,
) -> dict[str, pd.DataFrame]:
    """`indicator_values` and `barrier_scores` for one survey year, disclosure control applied, and the
    private `suppression_trail` (which rule suppressed each cell; never published).

    `withheld_before` (question_id, geography_level, geography_code) lists the cells earlier revisions of
    the year withheld; they stay withheld, so the revisions together publish no more than the first."""
    minimum = check_min_respondents(min_respondents)
    geo = Geography.from_kommuner(kommuner)
    nk = len(geo.kommune_codes)
    _require(validated, ["kommune"])
    kidx = geo.kommune_index(validated["kommune"])
    year = int(instrument.survey_year)

    indicator_parts: list[dict] = []
    barrier_parts: list[dict] = []
    trail: list[pd.DataFrame] = []

    stats = []  # per question: n per kommune, and its counts (a ranking: first, second, third)
    for q in instrument.questions:
        if q.kind in ("single", "multi"):
            stats.append((q, *(_single_stats if q.kind == "single" else _multi_stats)(validated, q, kidx, nk)))
        elif q.kind == "ranked":
            n, (first, second, third) = _ranked_stats(validated, q, kidx, nk)
            stats.append((q, n, (first, second, third)))
    decisions = protect_questions(geo, year, [
        (q.id, q.kind, q.option_ids, n, np.hstack(counts) if q.kind == "ranked" else counts)
        for q, n, counts in stats
    ], minimum, _withheld_by_question(geo, withheld_before))

    level, code = geo.cells
    for (q, n, counts), decision in zip(stats, decisions):
        trail.append(pd.DataFrame({
            "survey_year": year, "question_id": q.id, "geography_level": level, "geography_code": code,
            "n": geo.stack(n), "rule": decision.detail, "audit_rounds": decision.audit_rounds,
        })[lambda f: f["rule"].notna()])
        published = (decision.suppressed, decision.reason)
        if q.kind in ("single", "multi"):
            labels = {
                "indicator_id": [f"{q.id}.{o}" for o in q.option_ids],
                "question_id": [q.id] * len(q.option_ids),
                "option_id": list(q.option_ids),
                "measure": ["share"] * len(q.option_ids),
            }
            indicator_parts.append(_long_rows(geo, n, {"count": counts}, labels, published))
        else:
            first, second, third = counts
            opts = q.option_ids
            # per option its top-3 rows, then its first-rank rows
            by_option = np.stack([first + second + third, first], axis=2).reshape(nk, 2 * len(opts))
            labels = {
                "indicator_id": [f"{q.id}.{o}.{m}" for o in opts for m in ("top3", "first")],
                "question_id": [q.id] * (2 * len(opts)),
                "option_id": [o for o in opts for _ in range(2)],
                "measure": ["top3", "first"] * len(opts),
            }
            rows = _long_rows(geo, n, {"count": by_option}, labels, published, option_major=True)
            indicator_parts.append(_level_order(rows, geo))
            values = {"first": first, "second": second, "third": third}
            barrier_parts.append(_long_rows(geo, n, values, {"barrier_id": list(opts)}, published))

    if indicator_parts:
        indicator_values = _finish_indicators(_level_order(_concat(indicator_parts), geo), geo, year)
    else:
        indicator_values = empty_frame(INDICATOR_VALUES_COLUMNS)
    if barrier_parts:
        barrier_scores = _finish_barriers(_level_order(_concat(barrier_parts), geo), geo, year)
    else:
        barrier_scores = empty_frame(BARRIER_SCORES_COLUMNS)
    suppression_trail = (pd.concat(trail, ignore_index=True) if trail
                         else pd.DataFrame(columns=SUPPRESSION_TRAIL_COLUMNS))
    return {"indicator_values": indicator_values, "barrier_scores": barrier_scores,
            "suppression_trail": suppression_trail}


def _finish_barriers(rows: dict, geo: Geography, survey_year: int) -> pd.DataFrame:
    """The published table: every value of a suppressed row (n included) is empty."""
    n = rows["n"].astype(float)
    f, s, t = (rows[c].astype(float) for c in ("first", "second", "third"))
    score, low, high = barrier_score(f, s, t, n)
    with np.errstate(divide="ignore", invalid="ignore"):
        top3 = np.where(n > 0, (f + s + t) / n, np.nan)
        first = np.where(n > 0, f / n, np.nan)
    supp = rows["suppressed"]
    columns = _key_columns(rows, geo, survey_year)
    columns.update(
        {
            "barrier_id": pd.array(rows["barrier_id"], dtype="str"),
            "n": pd.arrays.IntegerArray(rows["n"], supp.copy()),
            "score": _blank(score, supp),
            "score_ci_low": _blank(low, supp),
            "score_ci_high": _blank(high, supp),
            "top3_share": _blank(top3, supp),
            "first_share": _blank(first, supp),
            "suppressed": supp,
            "suppression_reason": pd.array(rows["suppression_reason"], dtype="str"),
        }
    )
    return pd.DataFrame(columns)[BARRIER_SCORES_COLUMNS]


_EMPTY_DTYPES = {
    "survey_year": "int64", "base_year": "int64", "first_year": "int64", "years": "int64", "n": "Int64",
    "count": "Int64", "suppressed": "bool", "significant": "bool", "percentile_of": "Int64",
    "national_published": "Int64", "group_published": "Int64", "respondents": "Int64",
    "responding_kommuner": "Int64", "non_responses": "Int64", "quarantined_rows": "Int64",
    "respondents_change": "Int64", "responding_kommuner_change": "Int64", "non_responses_change": "Int64",
    "quarantined_rows_change": "Int64",
}
_STR_COLUMNS = {
    "geography_level", "geography_code", "indicator_id", "question_id", "option_id", "measure",
    "suppression_reason", "barrier_id", "kommune_kode", "comparison",
}


def empty_frame(columns) -> pd.DataFrame:
    """A zero-row table with the contract's columns and dtypes."""
    data = {}
    for c in columns:
        if c in _EMPTY_DTYPES:
            data[c] = pd.Series([], dtype=_EMPTY_DTYPES[c])
        elif c in _STR_COLUMNS:
            data[c] = pd.Series([], dtype="str")
        else:
            data[c] = pd.Series([], dtype="float64")
    return pd.DataFrame(data)
