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
- 2024 and 2025 use the 2024 instrument (`ai_use`, barrier `ny_teknologi`) and drift upwards.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from benchmark_pipeline.ingest.layouts import BY_NAME
from benchmark_pipeline.ingest.layouts.writing import response_mask
from benchmark_pipeline.ingest.textfile import TEXT
from benchmark_pipeline.instrument import MAX_RANK, YearInstrument, load_year
from benchmark_pipeline.reference import Kommuner, load_kommuner
from benchmark_pipeline.sample.generate import answers_from_kommuner, generate_answers
from benchmark_pipeline.sample.profiles import profile_for
from benchmark_pipeline.sample.texts import COMMENTS, PII_COMMENTS
from benchmark_pipeline.sample.writers import write_export

DEFAULT_SEED = 2023
MIN_BIG = 5  # the disclosure minimum the samples are designed around


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
    2024: SampleSpec(respondents=163, nonresponses=23, filename="dataset.csv", encoding="cp1252", separator=";",
                     newline="\r\n"),
    2025: SampleSpec(respondents=178, nonresponses=7, filename="dataunderstoettelse_2025_syntetisk.xlsx"),
}

# Figure orders of the 2023 article (most common / highest first) over the options they rank.
ORDER_2023 = {
    "use_contexts": ("monitorering", "foranalyse", "ressourcer", "politik", "implementering", "evaluering"),
    "anchoring_levels": ("medarbejdere", "teams", "mellemledelse", "politisk", "topledelse"),
    "barriers": ("ledelse", "tid", "kompetencer", "adgang", "samarbejde", "datakvalitet", "it", "okonomi", "jura",
                 "andet"),
}


# ------------------------------------------------------------------------------------------ kommuner


def design_kommune_counts(rng: np.random.Generator, kommuner: Kommuner, n_valid: int) -> tuple[np.ndarray, dict]:
    """Respondents per kommune (array over `kommuner.codes`) with the disclosure-exercising shape.

    One region R and one kommunegruppe G are chosen; every responding kommune in R or G has >= 5
    respondents except exactly one in R (not in G) and exactly one in G (not in R). Outside R and G,
    4-6 more kommuner get >= 5 and the rest of the respondents spread 1-4 per kommune.
    """
    table = kommuner.table
    region = table["region_kode"].to_numpy()
    group = table["kommunegruppe_kode"].to_numpy()
    k = len(table)
    regions = sorted(set(region))
    r_star = regions[rng.integers(len(regions))]
    in_r = region == r_star
    groups = [g for g in sorted(set(group)) if ((group == g) & ~in_r).sum() >= 3 and (in_r & (group != g)).sum() >= 3]
    g_star = groups[rng.integers(len(groups))]
    in_g = group == g_star
    counts = np.zeros(k, dtype=np.int64)
    big_r = rng.choice(np.flatnonzero(in_r & ~in_g), size=2, replace=False)
    small_r = rng.choice(np.setdiff1d(np.flatnonzero(in_r & ~in_g), big_r))
    big_g = rng.choice(np.flatnonzero(in_g & ~in_r), size=2, replace=False)
    small_g = rng.choice(np.setdiff1d(np.flatnonzero(in_g & ~in_r), big_g))
    outside = np.flatnonzero(~(in_r | in_g))
    big_out = rng.choice(outside, size=int(rng.integers(4, 7)), replace=False)
    bigs = np.concatenate([big_r, big_g, big_out])
    counts[bigs] = rng.integers(MIN_BIG, 10, size=len(bigs))
    counts[[small_r, small_g]] = rng.integers(1, MIN_BIG, size=2)
    remaining = n_valid - int(counts.sum())
    if remaining < 0:
        raise ValueError(f"{n_valid} respondents are too few for the designed sample shape")
    for idx in rng.permutation(np.setdiff1d(outside, big_out)):
        if remaining == 0:
            break
        take = min(int(rng.integers(1, MIN_BIG)), remaining)
        counts[idx] = take
        remaining -= take
    i = 0
    while remaining > 0:  # more respondents than small kommuner can hold: grow the big ones
        counts[bigs[i % len(bigs)]] += 1
        remaining -= 1
        i += 1
    codes = list(kommuner.codes)
    design = {
        "region": r_star, "kommunegruppe": g_star,
        "region_small": codes[small_r], "kommunegruppe_small": codes[small_g],
        "protected": np.flatnonzero(in_r | in_g),
    }
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
    counts, design = design_kommune_counts(rng, kommuner, spec.respondents)
    kommune_index = np.repeat(np.arange(len(counts)), counts)
    kommune_index = rng.permutation(kommune_index)
    may_skip_kommune = (counts >= 7)
    may_skip_kommune[design["protected"]] = False
    may_skip = may_skip_kommune[kommune_index]
    profile = profile_for(survey_year)
    codes = tuple(kommuner.codes)
    for _attempt in range(500):
        valid = answers_from_kommuner(rng, instrument, codes, kommune_index, profile=profile, may_skip=may_skip,
                                      andet_text=BY_NAME[instrument.layout].own_text_in_choice)
        for qid in ("data_use_change", "further_potential"):
            if not instrument.has(qid):
                continue
            option_ids = instrument.question(qid).option_ids
            fixed = (spec.fixed_counts or {}).get(qid)
            if fixed is None:
                answered = int(valid[qid].notna().sum())
                fixed = _largest_remainder({o: profile.single[qid].get(o, 0.0) for o in option_ids}, answered)
            _fix_single(rng, valid, qid, option_ids, fixed)
        if survey_year != 2023:
            break
        _relabel_multi(valid, "use_contexts", ORDER_2023["use_contexts"])
        _relabel_multi(valid, "anchoring_levels", ORDER_2023["anchoring_levels"])
        _relabel_ranked(valid, instrument.question("barriers").option_ids, ORDER_2023["barriers"])
        if orders_hold_2023(valid, instrument):
            break
    else:  # pragma: no cover - the profile makes this practically impossible
        raise RuntimeError(f"could not draw a {survey_year} sample with the article's figure orders")
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
**English.** The files in this folder are **synthetic**: generated by `benchmark-pipeline generate-sample`
(seed {seed}); they contain no real responses, people or personal data. They imitate the {year} export
({layout_en}) of the survey on Danish kommuner's use of citizen-related data so the pipeline can be run and
tested. Names, e-mail addresses and CPR-like numbers in the files are invented.
{headline_en}
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
    layout = BY_NAME[instrument.layout]
    encoding = "—" if layout.kind is not TEXT else (
        f"{spec.encoding}, `{spec.separator}`" + (", CRLF" if spec.newline == "\r\n" else ""))
    readme = README.format(
        year=survey_year, seed=seed, layout=layout.name, layout_da=layout.title[0],
        layout_en=layout.title[1], headline_da=headline_da, headline_en=headline_en,
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
