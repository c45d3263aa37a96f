"""Seeded, vectorised synthetic answers in the canonical frame.

`generate_answers` draws any number of respondents for one survey year's instrument. Everything is drawn
per question over whole arrays (no Python loop per respondent), so a million respondents take seconds
and a few hundred MB at most. The same seed always gives the same frame.

The frame has the columns of `YearInstrument.canonical_columns()` (the canonical frame of
docs/architecture.md without `source_row`): `respondent_id` and `kommune` as `str`, single-choice
questions as `category` of the year's option ids (mapping order; NA = not answered), multi-selects as
`<q>__<option>` `int8` 0/1, the ranking as `barriers__1..3` `category` of option ids, `kommentar` as `str`.
With `andet_text=True`, `<q>__andet_tekst` (`str`) columns follow for questions with an `andet` option:
the respondent's own text (only the Microsoft Forms writer uses it).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from benchmark_pipeline.instrument import MAX_RANK, Question, YearInstrument
from benchmark_pipeline.reference import Kommuner
from benchmark_pipeline.sample.profiles import DEFAULT_OPTION_WEIGHT, YearProfile, profile_for
from benchmark_pipeline.sample.texts import ANDET_TEXTS, COMMENTS, PII_COMMENTS

# Questions whose first option (mere / ja) and, for use_contexts, every option move with the kommune effect.
_EFFECT_SINGLES = ("data_use_change", "further_potential")
_EFFECT_MULTIS = ("use_contexts",)


def _gumbel(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    u = rng.random(shape, dtype=np.float32)
    np.clip(u, np.float32(1e-12), np.float32(1 - 1e-7), out=u)
    return -np.log(-np.log(u))


def _categorical(codes: np.ndarray, categories: tuple[str, ...]) -> pd.Categorical:
    return pd.Categorical.from_codes(codes.astype(np.int8 if len(categories) < 127 else np.int16), categories=list(categories))


def _text_column(codes: np.ndarray, pool: tuple[str, ...]) -> pd.Series:
    """`str` column from pool indices; -1 is missing."""
    cat = pd.Categorical.from_codes(codes.astype(np.int16), categories=list(dict.fromkeys(pool)))
    return pd.Series(cat).astype("str")


def _single(rng, q: Question, profile: YearProfile, n: int, effect: np.ndarray | None) -> np.ndarray:
    weights = profile.single.get(q.id, {})
    w = np.array([weights.get(o, DEFAULT_OPTION_WEIGHT) for o in q.option_ids], dtype=np.float64)
    if effect is None or q.id not in _EFFECT_SINGLES:
        return rng.choice(len(w), size=n, p=w / w.sum()).astype(np.int16)
    keys = np.log(w / w.sum()).astype(np.float32)[None, :] + _gumbel(rng, (n, len(w)))
    keys[:, 0] += effect
    return keys.argmax(axis=1).astype(np.int16)


def _multi(rng, q: Question, profile: YearProfile, n: int, effect: np.ndarray | None) -> np.ndarray:
    """An (n, options) int8 0/1 matrix; every row has at least one option chosen."""
    probs = profile.multi.get(q.id, {})
    excl_id, excl_p = profile.exclusive.get(q.id, (None, 0.0))
    ids = q.option_ids
    p = np.array([0.0 if o == excl_id else probs.get(o, DEFAULT_OPTION_WEIGHT) for o in ids], dtype=np.float32)
    u = rng.random((n, len(ids)), dtype=np.float32)
    if effect is not None and q.id in _EFFECT_MULTIS:
        logit = np.log(p / (1 - p))[None, :] + effect[:, None]
        chosen = u < 1 / (1 + np.exp(-logit))
    else:
        chosen = u < p[None, :]
    nonexcl = p > 0
    # A respondent who answered ticked at least one option: draw one for the rows that ticked none.
    empty = ~chosen.any(axis=1)
    if empty.any():
        pick = rng.choice(len(ids), size=int(empty.sum()), p=p / p.sum())
        chosen[np.flatnonzero(empty), pick] = True
    if excl_id in ids:
        j = ids.index(excl_id)
        excl = rng.random(n) < excl_p
        chosen[excl] = False
        chosen[excl, j] = True
        # A few also tick another level: kept with a validation warning, as in real exports.
        mixed = excl & (rng.random(n) < profile.exclusive_mixed)
        if mixed.any():
            others = np.flatnonzero(nonexcl)
            pick = rng.choice(others, size=int(mixed.sum()), p=p[others] / p[others].sum())
            chosen[np.flatnonzero(mixed), pick] = True
    return chosen.astype(np.int8)


def _ranked(rng, q: Question, profile: YearProfile, n: int, may_skip: np.ndarray) -> np.ndarray:
    """An (n, 3) matrix of option indices ranked 1st..3rd; -1 = no option at that rank."""
    w = np.array([profile.barrier_weights.get(o, DEFAULT_OPTION_WEIGHT * 10) for o in q.option_ids])
    keys = np.log(w).astype(np.float32)[None, :] + _gumbel(rng, (n, len(w)))  # Plackett-Luce via Gumbel top-k
    top = np.argsort(-keys, axis=1)[:, :MAX_RANK].astype(np.int16)
    counts = rng.choice(MAX_RANK + 1, size=n, p=np.asarray(profile.ranked_counts) / sum(profile.ranked_counts))
    counts[(counts == 0) & ~may_skip] = MAX_RANK
    top[np.arange(MAX_RANK)[None, :] >= counts[:, None]] = -1
    return top


def answers_from_kommuner(
    rng: np.random.Generator,
    instrument: YearInstrument,
    kommune_codes: tuple[str, ...],
    kommune_index: np.ndarray,
    *,
    profile: YearProfile | None = None,
    may_skip: np.ndarray | None = None,
    andet_text: bool = False,
    respondent_ids: np.ndarray | None = None,
) -> pd.DataFrame:
    """Answers for respondents whose kommuner are given (indices into `kommune_codes`).

    `may_skip` (bool per respondent, default all True) allows item non-response; where False the
    respondent answers every question, which keeps per-question counts equal to respondent counts.
    """
    profile = profile or profile_for(instrument.survey_year)
    n = len(kommune_index)
    may_skip = np.ones(n, dtype=bool) if may_skip is None else np.asarray(may_skip, dtype=bool)
    kommune_effect = rng.normal(0.0, profile.kommune_effect_sd, size=len(kommune_codes)).astype(np.float32)
    effect = kommune_effect[kommune_index]
    if respondent_ids is None:
        respondent_ids = np.arange(1, n + 1)
    cols: dict[str, object] = {
        "respondent_id": pd.Series(respondent_ids).astype("str"),
        "kommune": pd.Series(_categorical(np.asarray(kommune_index), kommune_codes)).astype("str"),
    }
    andet: dict[str, pd.Series] = {}
    for q in instrument.questions:
        skip = may_skip & (rng.random(n) < profile.skip.get(q.id, 0.0)) if q.kind != "kommune" else None
        if q.kind == "single":
            codes = _single(rng, q, profile, n, effect)
            codes[skip] = -1
            cols[q.id] = _categorical(codes, q.option_ids)
            chose_andet = codes == q.option_ids.index("andet") if q.has_andet else None
        elif q.kind == "multi":
            m = _multi(rng, q, profile, n, effect)
            m[skip] = 0
            for j, o in enumerate(q.option_ids):
                cols[f"{q.id}__{o}"] = m[:, j]
            chose_andet = m[:, q.option_ids.index("andet")] == 1 if q.has_andet else None
        elif q.kind == "ranked":
            top = _ranked(rng, q, profile, n, may_skip)
            for r in range(MAX_RANK):
                cols[f"{q.id}__{r + 1}"] = _categorical(top[:, r], q.option_ids)
            chose_andet = None
        elif q.kind == "text":
            # Mostly plain comments; a small share carries a CPR-like number and an e-mail (to be masked).
            pool = COMMENTS + PII_COMMENTS
            has = rng.random(n) < profile.comment_share
            pii = rng.random(n) < profile.pii_comment_share
            plain = rng.integers(0, len(COMMENTS), size=n)
            codes = np.where(has, np.where(pii, len(COMMENTS) + plain % len(PII_COMMENTS), plain), -1)
            cols[q.id] = _text_column(codes, pool)
            continue
        else:
            continue
        if andet_text and chose_andet is not None and q.id in ANDET_TEXTS:
            pool = ANDET_TEXTS[q.id]
            typed = chose_andet & (rng.random(n) < profile.andet_text_share)
            andet[f"{q.id}__andet_tekst"] = _text_column(np.where(typed, rng.integers(0, len(pool), size=n), -1), pool)
    frame = pd.DataFrame(cols)
    for name, s in andet.items():
        frame[name] = s
    return frame


def generate_answers(
    instrument: YearInstrument,
    n_respondents: int,
    seed: int | None = 0,
    *,
    kommuner: Kommuner | None = None,
    profile: YearProfile | None = None,
    andet_text: bool = False,
    first_id: int = 1,
) -> pd.DataFrame:
    """`n_respondents` synthetic respondents of `instrument`'s year, deterministic for `seed`.

    Kommuner are drawn with seeded uneven weights (bigger and smaller response rates) from the 98 of the
    reference table (`kommuner`, default: the data dir of the instrument). Respondent ids are
    `first_id, first_id + 1, ...` as strings. Every row is a response (no non-response rows), no value
    would be quarantined; some questions are left blank and a few rankings are partial (warnings only).
    """
    if n_respondents < 0:
        raise ValueError("n_respondents must be >= 0")
    kommuner = kommuner or default_kommuner(instrument)
    rng = np.random.default_rng([int(seed or 0), instrument.survey_year])
    codes = tuple(kommuner.codes)
    weights = rng.gamma(1.5, size=len(codes))
    kommune_index = rng.choice(len(codes), size=n_respondents, p=weights / weights.sum()).astype(np.int16)
    return answers_from_kommuner(
        rng, instrument, codes, kommune_index, profile=profile, andet_text=andet_text,
        respondent_ids=np.arange(first_id, first_id + n_respondents),
    )


def default_kommuner(instrument: YearInstrument | None = None) -> Kommuner:
    """The reference table beside the instrument's mapping file, else the configured data dir."""
    from benchmark_pipeline.reference import load_kommuner
    from benchmark_pipeline.settings import Settings

    if instrument is not None and instrument.path is not None:
        return load_kommuner(instrument.path.parent.parent)
    return load_kommuner(Settings.from_env().data_dir)
