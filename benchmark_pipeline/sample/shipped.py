"""The shipped synthetic sample years (data/raw/<year>/) and one-off exports of any size.

The samples are built so the benchmark's hardest rules are exercised by the data itself (SURVEY.md,
the paragraph before section 1):

- 2023 reproduces the published headline numbers exactly: 142 valid respondents, 85 `mere` (60%),
  111 `ja` to potential (78%); and the figure orders of the article (contexts, anchoring, weighted
  barriers). Marginals are fixed counts shuffled with the seed, orders are enforced by relabelling
  options by their drawn frequency, so they hold for every seed, not just the default one.
- every year: at least 8 kommuner with >= 5 respondents; one region and one kommunegruppe each with
  exactly one responding kommune below 5 (complementary suppression must act); non-response rows
  (kommune pre-filled, nothing else answered); free-text comments, one with a CPR-like number and an
  e-mail address; a few warnings (partial rankings), nothing that would be quarantined.
- every year: the large kommuner of the profile (`kommune_respondents`: København, Aarhus, Odense, Aalborg,
  Frederiksberg) with 9 or more respondents each, more than any other kommune, so that disclosure control
  reaches them last: they are published every year and their pages show a trend.
- 2024 and 2025 use the 2024 instrument (`ai_use`, barrier `ny_teknologi`) and have more respondents
  (214, 263).
- every year tells its profile's story, not the draw's: the national counts of every single-choice and
  multi-select option are the profile's shares exactly (2023's headline counts aside), and the ranking is
  drawn again until each option's first and top-3 share is within `RANKED_TOLERANCE` standard errors of
  what the profile's weights give. So between 2023 and 2025 the story's big moves are significant
  nationally (score test, BH q < 0.05 within each question family) and most changes are not, for any seed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from itertools import permutations
from pathlib import Path

import numpy as np
import pandas as pd

from benchmark_pipeline.ingest.layouts import BY_NAME
from benchmark_pipeline.ingest.layouts.writing import response_mask
from benchmark_pipeline.ingest.textfile import TEXT
from benchmark_pipeline.instrument import MAX_RANK, Question, YearInstrument, load_year
from benchmark_pipeline.reference import Kommuner, load_kommuner
from benchmark_pipeline.sample.generate import answers_from_kommuner, generate_answers
from benchmark_pipeline.sample.profiles import DEFAULT_OPTION_WEIGHT, YearProfile, profile_for
from benchmark_pipeline.sample.texts import COMMENTS, PII_COMMENTS
from benchmark_pipeline.sample.writers import write_export

DEFAULT_SEED = 2023
MIN_BIG = 5  # the disclosure minimum the samples are designed around
# A pool: the small kommuner of one cell (this many: each one the exact audit finds a value of costs one more
# suppression) and their respondents together (at least), beside this many big kommuner of the same cell.
POOL_SMALL = 2
POOL_HIDDEN = 6
BIGS_BESIDE_SMALL = 3
# How far (in standard errors) a year's drawn ranking may be from its profile's expected shares.
RANKED_TOLERANCE = 1.5


@dataclass(frozen=True)
class SampleSpec:
    """What one shipped sample year looks like on disk."""

    respondents: int  # valid respondents
    nonresponses: int  # invited, kommune pre-filled, nothing answered
    filename: str  # the export file (for surveyxact_csv: dataset.csv, with labels.csv written beside it)
    encoding: str = "utf-8"
    separator: str = ","
    newline: str = "\n"
    # Fixed marginals of the headline questions (option id -> count); None: from the year's profile.
    fixed_counts: dict[str, dict[str, int]] | None = None


SAMPLE_YEARS: dict[int, SampleSpec] = {
    2023: SampleSpec(
        respondents=142, nonresponses=17, filename="dataunderstoettelse_2023_syntetisk.xlsx",
        fixed_counts={
            "data_use_change": {"mere": 85, "samme": 44, "mindre": 6, "ved_ikke": 7},
            "further_potential": {"ja": 111, "nej": 18, "ved_ikke": 13},
        },
    ),
    2024: SampleSpec(respondents=214, nonresponses=29, filename="dataset.csv", encoding="cp1252", separator=";",
                     newline="\r\n"),
    2025: SampleSpec(respondents=263, nonresponses=12, filename="dataunderstoettelse_2025_syntetisk.xlsx"),
}

# Figure orders of the 2023 article (most common / highest first) over the options they rank.
ORDER_2023 = {
    "use_contexts": ("monitorering", "foranalyse", "ressourcer", "politik", "implementering", "evaluering"),
    "anchoring_levels": ("medarbejdere", "teams", "mellemledelse", "politisk", "topledelse"),
    "barriers": ("ledelse", "tid", "kompetencer", "adgang", "samarbejde", "datakvalitet", "it", "okonomi", "jura",
                 "andet"),
}


# ------------------------------------------------------------------------------------------ kommuner


def design_kommune_counts(
    rng: np.random.Generator, kommuner: Kommuner, n_valid: int, fixed: Mapping[str, tuple[int, int]] | None = None,
) -> tuple[np.ndarray, dict]:
    """Respondents per kommune (array over `kommuner.codes`) with the disclosure-exercising shape.

    Kommuner are placed by cell: the kommuner sharing a region and a kommunegruppe, which only their
    own published values tell apart. `fixed` (the profile's `kommune_respondents`) maps kommune codes to
    an inclusive range of respondents; each of those kommuner gets a count from its range. Every other
    kommune with 5 or more gets 5 up to one below the smallest fixed count: disclosure control gives up
    the smallest published kommune near a hidden one first, so it reaches a fixed kommune last, and a
    hidden kommune always has published ones of its own cell to be protected by (`BIGS_BESIDE_SMALL`).

    - One region R and one kommunegruppe G: every responding kommune in them has >= 5 respondents except
      exactly one in R (not in G) and exactly one in G (not in R), so complementary suppression acts.
      Each of the two small ones shares its cell with big ones.
    - Elsewhere, away from R, G and the cells of fixed kommuner, pools, a region at a time in turn (those
      without respondents first): in one cell `POOL_SMALL` small kommuner of 1-4 (together >=
      `POOL_HIDDEN`, so they protect each other) beside `BIGS_BESIDE_SMALL` big ones, while the
      respondents last.
    - What is left after that goes to the big kommuner in turn, the fixed ones first.
    """
    table = kommuner.table
    codes = list(kommuner.codes)
    fixed = dict(fixed or {})
    unknown = sorted(set(fixed) - set(codes))
    if unknown:
        raise ValueError(f"fixed kommuner not in the reference table: {unknown}")
    if any(lo < MIN_BIG or hi < lo for lo, hi in fixed.values()):
        raise ValueError(f"fixed kommuner need ranges of at least {MIN_BIG} respondents")
    region = table["region_kode"].to_numpy().astype(str)
    group = table["kommunegruppe_kode"].to_numpy().astype(str)
    cell = np.char.add(np.char.add(region, "/"), group)
    is_fixed = np.isin(np.asarray(codes, dtype=object), list(fixed))
    fixed_cells = set(cell[is_fixed])

    def usable(mask: np.ndarray, smalls: int) -> list[str]:
        """Cells inside `mask`, none with a fixed kommune, with room for `smalls` small kommuner and the big
        ones beside them."""
        need = smalls + BIGS_BESIDE_SMALL
        return sorted(c for c in set(cell[mask]) if c not in fixed_cells and ((cell == c) & ~is_fixed).sum() >= need)

    pairs = [(r, g) for r in sorted(set(region)) for g in sorted(set(group))
             if usable((region == r) & (group != g), 1) and usable((group == g) & (region != r), 1)]
    r_star, g_star = pairs[rng.integers(len(pairs))]
    in_r, in_g = region == r_star, group == g_star
    counts = np.zeros(len(codes), dtype=np.int64)
    fixed_idx = np.flatnonzero(is_fixed)
    for i in fixed_idx:
        lo, hi = fixed[codes[i]]
        counts[i] = rng.integers(lo, hi + 1)
    big_max = min((lo for lo, _ in fixed.values()), default=2 * MIN_BIG) - 1
    bigs: list[int] = []

    def big_sizes() -> np.ndarray:
        return rng.integers(MIN_BIG, big_max + 1, size=BIGS_BESIDE_SMALL)

    def place(cells: list[str], small: np.ndarray, big: np.ndarray) -> list[int]:
        """Small kommuner and the big ones beside them in one of `cells` (seeded); the small ones' indices."""
        members = rng.permutation(np.flatnonzero((cell == cells[rng.integers(len(cells))]) & ~is_fixed))
        counts[members[:len(small)]] = small
        counts[members[len(small):len(small) + len(big)]] = big
        bigs.extend(int(b) for b in members[len(small):len(small) + len(big)])
        return [int(m) for m in members[:len(small)]]

    smalls = {
        key: codes[place(usable(mask, 1), rng.integers(1, MIN_BIG, size=1), big_sizes())[0]]
        for mask, key in ((in_r & ~in_g, "region_small"), (in_g & ~in_r, "kommunegruppe_small"))
    }
    remaining = n_valid - int(counts.sum())
    if remaining < 0:
        raise ValueError(f"{n_valid} respondents are too few for the designed sample shape")

    # Pools a region at a time, the regions without respondents so far first (seeded order otherwise).
    outside = ~(in_r | in_g)
    order = sorted(rng.permutation(sorted(set(region))), key=lambda r: bool(counts[region == r].any()))
    by_region = [list(rng.permutation(usable(outside & (region == r), POOL_SMALL))) for r in order]
    while any(by_region):
        for cells in by_region:
            if not cells:
                continue
            small = rng.integers(1, MIN_BIG, size=POOL_SMALL)
            while small.sum() < POOL_HIDDEN:
                small = rng.integers(1, MIN_BIG, size=POOL_SMALL)
            big = big_sizes()
            if int(small.sum() + big.sum()) > remaining:
                by_region = []
                break
            place([cells.pop()], small, big)
            remaining -= int(small.sum() + big.sum())
    growing = np.concatenate([fixed_idx, np.asarray(bigs, dtype=np.int64)])
    i = 0
    while remaining > 0:  # still more: the big ones grow in turn, the fixed first (so they stay the largest)
        counts[growing[i % len(growing)]] += 1
        remaining -= 1
        i += 1
    design = {"region": r_star, "kommunegruppe": g_star, **smalls, "protected": np.flatnonzero(in_r | in_g)}
    return counts, design


# ------------------------------------------------------------------------------------------ calibration


def _largest_remainder(weights: dict[str, float], n: int) -> dict[str, int]:
    total = sum(weights.values())
    raw = {k: v / total * n for k, v in weights.items()}
    counts = {k: int(np.floor(v)) for k, v in raw.items()}
    for k in sorted(raw, key=lambda key: -(raw[key] - counts[key]))[: n - sum(counts.values())]:
        counts[k] += 1
    return counts


def _fix_single(rng, frame: pd.DataFrame, qid: str, option_ids: tuple[str, ...], counts: dict[str, int]) -> None:
    """Overwrite the answers of `qid` among those who answered it with exact, shuffled counts."""
    answered = np.flatnonzero(frame[qid].notna().to_numpy())
    if sum(counts.values()) != len(answered):
        raise ValueError(f"fixed counts of {qid} sum to {sum(counts.values())}, {len(answered)} answered")
    values = np.repeat(np.array(list(counts), dtype=object), list(counts.values()))
    codes = np.full(len(frame), -1, dtype=np.int16)
    codes[answered] = [option_ids.index(v) for v in rng.permutation(values)]
    frame[qid] = pd.Categorical.from_codes(codes, categories=list(option_ids))


def _ticks(frame: pd.DataFrame, q: Question, exclusive: str | None) -> tuple[list[str], np.ndarray, np.ndarray]:
    """The columns of multi-select `q`, a copy of their ticks, and which respondents answered it without its
    exclusive option (the ones whose ticks the marginals are made of)."""
    cols = [f"{q.id}__{o}" for o in q.option_ids]
    m = frame[cols].to_numpy(dtype=np.int8, copy=True)
    eligible = m.any(axis=1)
    if exclusive in q.option_ids:
        eligible &= m[:, q.option_ids.index(exclusive)] == 0
    return cols, m, eligible


def _fix_multi(rng, frame: pd.DataFrame, q: Question, probs: Mapping[str, float], exclusive: str | None) -> None:
    """Make the ticks of each option of multi-select `q` exact: round(p x n) of the n respondents who
    answered it without its exclusive option (those are left as drawn). Ticks are added to random
    respondents without one, or taken from random respondents with another tick left (so nobody who
    answered ends up with none)."""
    cols, m, eligible = _ticks(frame, q, exclusive)
    n = int(eligible.sum())
    for j, o in enumerate(q.option_ids):
        if o == exclusive:
            continue
        target = int(np.floor(probs.get(o, DEFAULT_OPTION_WEIGHT) * n + 0.5))
        have = int(m[eligible, j].sum())
        if have < target:
            rows = rng.choice(np.flatnonzero(eligible & (m[:, j] == 0)), size=target - have, replace=False)
            m[rows, j] = 1
        elif have > target:
            rows = np.flatnonzero(eligible & (m[:, j] == 1) & (m.sum(axis=1) > 1))
            m[rng.choice(rows, size=min(have - target, len(rows)), replace=False), j] = 0
    for j, col in enumerate(cols):
        frame[col] = m[:, j]


def _plant_kommune_shares(rng, frame: pd.DataFrame, q: Question, shares: Mapping[str, Mapping[str, float]],
                          exclusive: str | None) -> None:
    """Give kommuner their own share of options of multi-select `q` (`YearProfile.kommune_multi`), keeping
    every national count: each tick added in the kommune is taken from a respondent elsewhere, and each one
    taken there is given elsewhere (nobody who answered ends up with none)."""
    cols, m, eligible = _ticks(frame, q, exclusive)
    kommune = frame["kommune"].astype(str).to_numpy()
    for code, options in shares.items():
        here = eligible & (kommune == code)
        elsewhere = eligible & (kommune != code)
        for option, share in options.items():
            j = q.option_ids.index(option)
            change = int(np.floor(share * here.sum() + 0.5)) - int(m[here, j].sum())
            if change == 0:
                continue
            gain, lose = (here, elsewhere) if change > 0 else (elsewhere, here)
            add = rng.choice(np.flatnonzero(gain & (m[:, j] == 0)), size=abs(change), replace=False)
            take = rng.choice(np.flatnonzero(lose & (m[:, j] == 1) & (m.sum(axis=1) > 1)), size=abs(change),
                              replace=False)
            m[add, j], m[take, j] = 1, 0
    for j, col in enumerate(cols):
        frame[col] = m[:, j]


def _drop_own_text_not_chosen(frame: pd.DataFrame, instrument: YearInstrument) -> None:
    """After the marginals are fixed, an own "Andet" text stays only where `andet` is still chosen."""
    for q in instrument.questions:
        col = f"{q.id}__andet_tekst"
        if col not in frame:
            continue
        chosen = (frame[q.id].astype(object) == "andet") if q.kind == "single" else (frame[f"{q.id}__andet"] == 1)
        frame[col] = frame[col].where(chosen.to_numpy())


def _relabel_multi(frame: pd.DataFrame, qid: str, order: tuple[str, ...]) -> None:
    cols = [f"{qid}__{o}" for o in order]
    counts = frame[cols].sum().to_numpy()
    ranked = np.argsort(-counts, kind="stable")
    data = {f"{qid}__{order[pos]}": frame[cols[src]].to_numpy() for pos, src in enumerate(ranked)}
    for col, values in data.items():
        frame[col] = values


def barrier_scores(frame: pd.DataFrame, option_ids: tuple[str, ...]) -> pd.Series:
    """Weighted score (3*first + 2*second + 1*third) / (3n) * 100, n = respondents ranking any barrier."""
    cols = [f"barriers__{r}" for r in range(1, MAX_RANK + 1)]
    n = int(frame[cols].notna().any(axis=1).sum())
    points = pd.Series(0.0, index=list(option_ids))
    for r, col in enumerate(cols):
        vc = frame[col].astype(object).value_counts()
        points = points.add((MAX_RANK - r) * vc.reindex(points.index, fill_value=0), fill_value=0)
    return points / (3 * max(n, 1)) * 100


def expected_ranked_shares(q: Question, profile: YearProfile) -> tuple[np.ndarray, np.ndarray]:
    """The shares the profile's Plackett-Luce weights give each option of ranked `q`: ranked first, and in
    the top 3, among the respondents who ranked any (with the profile's mix of 1, 2 or 3 ranked)."""
    w = np.array([profile.barrier_weights.get(o, DEFAULT_OPTION_WEIGHT * 10) for o in q.option_ids], dtype=float)
    w = w / w.sum()
    within = np.zeros((MAX_RANK, len(w)))  # P(option ranked at position r)
    for order in permutations(range(len(w)), MAX_RANK):
        prob, left = 1.0, 1.0
        for o in order:
            prob *= w[o] / left
            left -= w[o]
        within[np.arange(MAX_RANK), order] += prob
    ranked = np.asarray(profile.ranked_counts[1:], dtype=float)
    ranked = ranked / ranked.sum()  # P(1, 2 or 3 ranked | any)
    top = sum(ranked[c - 1] * within[:c].sum(axis=0) for c in range(1, MAX_RANK + 1))
    return within[0], top


def _ranking_near_profile(frame: pd.DataFrame, q: Question, profile: YearProfile) -> bool:
    """The drawn ranking is within `RANKED_TOLERANCE` standard errors of the profile's expected first and
    top-3 share for every option, so that a year's barriers tell the profile's story, not the draw's."""
    cols = [f"{q.id}__{r}" for r in range(1, MAX_RANK + 1)]
    ranks = frame[cols].astype(object)
    any_ranked = ranks.notna().any(axis=1)
    n = int(any_ranked.sum())
    if n == 0:
        return True
    first, top = expected_ranked_shares(q, profile)
    drawn_first = np.array([(ranks[cols[0]] == o).sum() for o in q.option_ids]) / n
    drawn_top = np.array([(ranks == o).any(axis=1).sum() for o in q.option_ids]) / n
    for drawn, expected in ((drawn_first, first), (drawn_top, top)):
        se = np.sqrt(expected * (1 - expected) / n)
        if (np.abs(drawn - expected) > RANKED_TOLERANCE * se + 0.5 / n).any():
            return False
    return True


def _relabel_ranked(frame: pd.DataFrame, option_ids: tuple[str, ...], order: tuple[str, ...]) -> None:
    scores = barrier_scores(frame, option_ids)[list(order)].to_numpy()
    ranked = np.argsort(-scores, kind="stable")
    mapping = {order[src]: order[pos] for pos, src in enumerate(ranked)}
    for r in range(1, MAX_RANK + 1):
        col = f"barriers__{r}"
        frame[col] = pd.Categorical(frame[col].astype(object).map(lambda v: mapping.get(v, v)), categories=list(option_ids))


def orders_hold_2023(frame: pd.DataFrame, instrument: YearInstrument) -> bool:
    """The article's figure orders, strictly where they matter."""
    uc = {o: int(frame[f"use_contexts__{o}"].sum()) for o in instrument.question("use_contexts").option_ids}
    rest = [v for o, v in uc.items() if o not in ("monitorering", "foranalyse")]
    if not (uc["monitorering"] > uc["foranalyse"] > max(rest)):
        return False
    if not max(uc["implementering"], uc["evaluering"]) < min(uc["ressourcer"], uc["politik"]):
        return False
    al = {o: int(frame[f"anchoring_levels__{o}"].sum()) for o in instrument.question("anchoring_levels").option_ids}
    others = [v for o, v in al.items() if o not in ("medarbejdere", "teams")]
    if not (al["medarbejdere"] > al["teams"] > max(others)):
        return False
    if not al["topledelse"] < min(v for o, v in al.items() if o != "topledelse"):
        return False
    scores = barrier_scores(frame, instrument.question("barriers").option_ids).sort_values(ascending=False)
    top = list(scores.index)
    bottom = set(top[len(top) // 2:])
    if top[:2] != ["ledelse", "tid"] or not (scores.iloc[0] > scores.iloc[1] > scores.iloc[2]):
        return False
    if not {"okonomi", "jura", "it", "datakvalitet"} <= bottom:
        return False
    half = len(top) // 2
    return bool(scores.iloc[half - 1] > scores.iloc[half])


# ------------------------------------------------------------------------------------------ building


def _nonresponse_rows(valid: pd.DataFrame, kommune_codes: list[str]) -> pd.DataFrame:
    """Rows with only the kommune pre-filled, shaped like `valid`."""
    n = len(kommune_codes)
    cols = {}
    for c in valid.columns:
        s = valid[c]
        if c == "kommune":
            cols[c] = pd.Series(kommune_codes, dtype="str")
        elif isinstance(s.dtype, pd.CategoricalDtype):
            cols[c] = pd.Categorical.from_codes(np.full(n, -1, dtype=np.int8), dtype=s.dtype)
        elif s.dtype == np.int8:
            cols[c] = np.zeros(n, dtype=np.int8)
        else:
            cols[c] = pd.Series([None] * n, dtype=s.dtype)
    return pd.DataFrame(cols)


def build_sample_year(
    survey_year: int,
    seed: int = DEFAULT_SEED,
    data_dir: Path | None = None,
    *,
    instrument: YearInstrument | None = None,
    kommuner: Kommuner | None = None,
) -> pd.DataFrame:
    """The answers frame of one shipped sample year: valid respondents and non-response rows, shuffled,
    with respondent ids in row order. Deterministic for `seed`."""
    spec = SAMPLE_YEARS[survey_year]
    data_dir = Path(data_dir) if data_dir is not None else _default_data_dir()
    instrument = instrument or load_year(data_dir, survey_year)
    kommuner = kommuner or load_kommuner(data_dir)
    rng = np.random.default_rng([int(seed), survey_year, 7])
    profile = profile_for(survey_year)
    counts, design = design_kommune_counts(rng, kommuner, spec.respondents, profile.kommune_respondents)
    kommune_index = np.repeat(np.arange(len(counts)), counts)
    kommune_index = rng.permutation(kommune_index)
    may_skip_kommune = (counts >= 7)
    may_skip_kommune[design["protected"]] = False
    may_skip = may_skip_kommune[kommune_index]
    codes = tuple(kommuner.codes)
    for _attempt in range(500):
        valid = answers_from_kommuner(rng, instrument, codes, kommune_index, profile=profile, may_skip=may_skip,
                                      andet_text=BY_NAME[instrument.layout].own_text_in_choice)
        for q in instrument.of_kind("single"):
            fixed = (spec.fixed_counts or {}).get(q.id)
            if fixed is None and q.id in profile.single:
                answered = int(valid[q.id].notna().sum())
                weights = profile.single[q.id]
                fixed = _largest_remainder({o: weights.get(o, DEFAULT_OPTION_WEIGHT) for o in q.option_ids}, answered)
            if fixed is not None:
                _fix_single(rng, valid, q.id, q.option_ids, fixed)
        for q in instrument.of_kind("multi"):
            if q.id in profile.multi:
                _fix_multi(rng, valid, q, profile.multi[q.id], profile.exclusive.get(q.id, (None, 0.0))[0])
        _drop_own_text_not_chosen(valid, instrument)
        if survey_year == 2023:
            _relabel_multi(valid, "use_contexts", ORDER_2023["use_contexts"])
            _relabel_multi(valid, "anchoring_levels", ORDER_2023["anchoring_levels"])
            _relabel_ranked(valid, instrument.question("barriers").option_ids, ORDER_2023["barriers"])
            if not orders_hold_2023(valid, instrument):
                continue
        if all(_ranking_near_profile(valid, q, profile) for q in instrument.of_kind("ranked")):
            break
    else:  # pragma: no cover - the profile makes this practically impossible
        raise RuntimeError(f"could not draw a {survey_year} sample with the article's figure orders and a ranking "
                           "near its profile")
    for q in instrument.of_kind("multi"):  # after the draws, so the national figures are the same
        planted = {code: questions[q.id] for code, questions in profile.kommune_multi.items() if q.id in questions}
        if planted:
            _plant_kommune_shares(rng, valid, q, planted, profile.exclusive.get(q.id, (None, 0.0))[0])
    _ensure_free_text(rng, valid, instrument, survey_year)
    nonresp = _nonresponse_rows(valid, [codes[i] for i in rng.integers(0, len(codes), size=spec.nonresponses)])
    frame = pd.concat([valid, nonresp], ignore_index=True)
    for c in valid.columns:  # concat keeps categoricals only when dtypes agree; make sure
        if isinstance(valid[c].dtype, pd.CategoricalDtype):
            frame[c] = frame[c].astype(valid[c].dtype)
    frame = frame.iloc[rng.permutation(len(frame))].reset_index(drop=True)
    frame["respondent_id"] = _respondent_ids(rng, instrument, len(frame))
    return frame


def _respondent_ids(rng, instrument: YearInstrument, n: int) -> pd.Series:
    if BY_NAME[instrument.layout].serial_ids:
        ids = np.arange(1, n + 1)
    else:  # SurveyXact: large ids, increasing with gaps
        ids = 4_810_000 + (instrument.survey_year - 2023) * 250_000 + np.cumsum(rng.integers(1, 5, size=n))
    return pd.Series(ids).astype("str")


def _ensure_free_text(rng, valid: pd.DataFrame, instrument: YearInstrument, survey_year: int) -> None:
    """At least a few comments, one of them with a CPR-like number and an e-mail address; for Forms at least
    one own "Andet" text."""
    if instrument.has("kommentar"):
        comments = valid["kommentar"].astype(object).to_numpy().copy()
        drawn_pii = np.isin(comments, PII_COMMENTS)
        comments[drawn_pii] = COMMENTS[0]
        pii_row = int(rng.integers(len(valid)))
        comments[pii_row] = PII_COMMENTS[survey_year % len(PII_COMMENTS)]
        valid["kommentar"] = pd.Series(comments, dtype="str")
    if BY_NAME[instrument.layout].own_text_in_choice and "fagomraade__andet_tekst" in valid:
        own = [c for c in valid.columns if c.endswith("__andet_tekst")]
        if not valid[own].notna().any().any():
            row = int(rng.integers(len(valid)))
            valid.loc[row, "fagomraade"] = "andet"
            valid.loc[row, "fagomraade__andet_tekst"] = "Kultur og fritid"


# ------------------------------------------------------------------------------------------ writing

README = """# Syntetiske data / Synthetic data ({year})

**Dansk.** Filerne i denne mappe er **syntetiske**: de er genereret af `benchmark-pipeline generate-sample`
(seed {seed}) og indeholder ingen rigtige besvarelser, personer eller personoplysninger. De efterligner
{year}-eksporten ({layout_da}) af spørgeskemaet om kommunernes brug af borgerrelaterede data, så pipelinen
kan køres og testes. Navne, e-mailadresser og CPR-lignende numre i filerne er opdigtede.
{headline_da}
Årene fortæller én historie: kommunerne bruger langsomt data mere. {large_da}

**English.** The files in this folder are **synthetic**: generated by `benchmark-pipeline generate-sample`
(seed {seed}); they contain no real responses, people or personal data. They imitate the {year} export
({layout_en}) of the survey on Danish kommuner's use of citizen-related data so the pipeline can be run and
tested. Names, e-mail addresses and CPR-like numbers in the files are invented.
{headline_en}
The years tell one story: kommuner slowly use data more. {large_en}

| | |
|---|---|
| file(s) | {files} |
| layout | `{layout}` |
| encoding / separator | {encoding} |
| valid respondents | {respondents} |
| non-response rows (kommune pre-filled, nothing answered) | {nonresponses} |
| rows in total | {rows} |

Regenerate: `benchmark-pipeline generate-sample --seed {seed}` (writes all sample years).
"""


def write_sample_year(survey_year: int, data_dir: Path | None = None, seed: int = DEFAULT_SEED) -> list[Path]:
    """Write one shipped sample year into `<data_dir>/raw/<year>/` (export file(s) and README.md)."""
    data_dir = Path(data_dir) if data_dir is not None else _default_data_dir()
    spec = SAMPLE_YEARS[survey_year]
    instrument = load_year(data_dir, survey_year)
    kommuner = load_kommuner(data_dir)
    frame = build_sample_year(survey_year, seed, data_dir, instrument=instrument, kommuner=kommuner)
    folder = data_dir / "raw" / str(survey_year)
    written = write_export(frame, instrument, instrument.layout, folder / spec.filename, spec.encoding,
                           spec.separator, newline=spec.newline, kommuner=kommuner, seed=seed)
    responded = response_mask(frame, instrument)
    if survey_year == 2023:
        headline_da = ("\nSom i den offentliggjorte undersøgelse svarer 85 af 142 (60%) `Mere` og 111 af 142 (78%) `Ja` "
                       "til potentiale; figurernes rækkefølger holder også.\n")
        headline_en = ("\nAs in the published survey, 85 of 142 (60%) answer `Mere` and 111 of 142 (78%) `Ja` to "
                       "potential; the orders of the article's figures hold too.\n")
    else:
        headline_da = headline_en = ""
    per_kommune = frame.loc[responded, "kommune"].value_counts()
    names = dict(zip(kommuner.table["kommune_kode"], kommuner.table["kommune_navn"]))
    profile = profile_for(survey_year)
    large = ", ".join(f"{names[k]} {int(per_kommune.get(k, 0))}" for k in profile.kommune_respondents)
    large_da = f"Store kommuner med mange svar hvert år (respondenter i {survey_year}): {large}."
    large_en = f"Large kommuner with many respondents every year (respondents in {survey_year}): {large}."
    for code, questions in profile.kommune_multi.items():
        for qid, options in questions.items():
            labels = {o.id: o.label for o in instrument.question(qid).options}
            told = ", ".join(f"»{labels[o]}« {share * 100:.0f}" for o, share in options.items())
            large_da += f" {names[code]}s egen historie i {survey_year}: {told} % af svarene ({qid})."
            large_en += f" {names[code]}'s own story in {survey_year}: {told}% of its answers ({qid})."
    layout = BY_NAME[instrument.layout]
    encoding = "—" if layout.kind is not TEXT else (
        f"{spec.encoding}, `{spec.separator}`" + (", CRLF" if spec.newline == "\r\n" else ""))
    readme = README.format(
        year=survey_year, seed=seed, layout=layout.name, layout_da=layout.title[0],
        layout_en=layout.title[1], headline_da=headline_da, headline_en=headline_en, large_da=large_da,
        large_en=large_en,
        files=", ".join(f"`{p.name}`" for p in written), encoding=encoding,
        respondents=int(responded.sum()), nonresponses=int((~responded).sum()), rows=len(frame),
    )
    readme_path = folder / "README.md"
    readme_path.write_text(readme, encoding="utf-8")
    return [*written, readme_path]


def write_sample_years(data_dir: Path | None = None, seed: int = DEFAULT_SEED,
                       years: tuple[int, ...] | None = None) -> list[Path]:
    """Regenerate the shipped sample years (default: all of `SAMPLE_YEARS`). Returns the written files."""
    written: list[Path] = []
    for year in years or tuple(SAMPLE_YEARS):
        written += write_sample_year(year, data_dir, seed)
    return written


def generate_export(
    survey_year: int,
    n_respondents: int,
    out: str | Path,
    layout: str | None = "canonical_csv",
    *,
    seed: int = 0,
    data_dir: Path | None = None,
    encoding: str = "utf-8",
    separator: str = ",",
) -> list[Path]:
    """One synthetic export of any size for `survey_year` (a year with a mapping), e.g. for benchmarks.

    `layout` None means the year's own layout. Every row is a valid response.
    """
    data_dir = Path(data_dir) if data_dir is not None else _default_data_dir()
    instrument = load_year(data_dir, survey_year)
    kommuner = load_kommuner(data_dir)
    layout = layout or instrument.layout
    answers = generate_answers(instrument, n_respondents, seed, kommuner=kommuner,
                               andet_text=BY_NAME[layout].own_text_in_choice)
    return write_export(answers, instrument, layout, out, encoding, separator, kommuner=kommuner, seed=seed)


def _default_data_dir() -> Path:
    from benchmark_pipeline.settings import Settings

    return Settings.from_env().data_dir
