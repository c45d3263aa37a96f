"""Realistic published tables for report tests, built here (not with benchmark_pipeline.stats).

Synthetic respondents are drawn per kommune, aggregated to kommune, region, kommunegruppe and national
level, and disclosure control is applied the way the methodology describes (primary below 5,
complementary within regions and kommunegrupper), so the fixture holds suppressed kommuner of every
reason. Tables carry the columns of docs/architecture.md and a leading `release_id`, with the columns being
added to the published tables (yoy_changes `comparison`; kommune_benchmarks `percentile_of` and the national
and kommunegruppe spread).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import (
    confint_proportions_2indep,
    proportion_confint,
    test_proportions_2indep,
)

MIN_N = 5
# Kommuner with a fixed, designed profile so tests can rely on clear cases:
# København: large n, far above the national share of `mere`, and a big rise since last year.
DESIGNED = {
    "101": {"n": (40, 45), "mere": (0.40, 0.92), "ja": (0.80, 0.80)},
    "751": {"n": (45, 45), "mere": (0.95, 0.05), "ja": (0.85, 0.85)},  # Aarhus: far below, significant fall
    "461": {"n": (12, 14), "mere": (0.55, 0.62), "ja": (0.75, 0.80)},  # Odense: within the interval
    "851": {"n": (9, 11), "mere": (0.60, 0.60), "ja": (0.80, 0.80)},  # Aalborg
    "400": {"n": (3, 3), "mere": (0.60, 0.60), "ja": (0.80, 0.80)},  # Bornholm: below minimum
}


def _indicators(instrument):
    """(indicator_id, question_id, option_id, measure) in instrument order."""
    out = []
    for q in instrument.questions:
        if q.kind in ("single", "multi"):
            out += [(f"{q.id}.{o.id}", q.id, o.id, "share") for o in q.options]
        elif q.kind == "ranked":
            out += [(f"{q.id}.{o.id}.top3", q.id, o.id, "top3") for o in q.options]
            out += [(f"{q.id}.{o.id}.first", q.id, o.id, "first") for o in q.options]
    return out


def _respondents(year_index, instrument, kommuner, rng):
    codes = kommuner.codes
    sizes = {}
    responding = rng.choice([c for c in codes if c not in DESIGNED], size=34, replace=False)
    for c in responding:
        sizes[c] = int(rng.choice([1, 2, 3, 4, 5, 6, 7, 8, 10, 12]))
    for c, spec in DESIGNED.items():
        sizes[c] = spec["n"][year_index]
    rows = []
    for kode, n in sizes.items():
        spec = DESIGNED.get(kode, {})
        p_mere = spec.get("mere", (0.55, 0.62))[year_index]
        p_ja = spec.get("ja", (0.78, 0.80))[year_index]
        for _ in range(n):
            r = {"kommune": kode}
            for q in instrument.questions:
                answered = rng.random() < (0.9 if q.id == "ai_use" else 0.97)
                if q.id in ("kommune", "kommentar") or q.kind == "text":
                    continue
                ids = [o.id for o in q.options]
                if q.kind == "single":
                    if not answered:
                        r[q.id] = None
                        continue
                    if q.id == "data_use_change":
                        r[q.id] = "mere" if rng.random() < p_mere else rng.choice(["samme", "mindre", "ved_ikke"], p=[0.7, 0.1, 0.2])
                    elif q.id == "further_potential":
                        r[q.id] = "ja" if rng.random() < p_ja else rng.choice(["nej", "ved_ikke"])
                    else:
                        r[q.id] = rng.choice(ids)
                elif q.kind == "multi":
                    probs = np.linspace(0.8, 0.15, len(ids))
                    chosen = [o for o, p in zip(ids, probs) if answered and rng.random() < p]
                    if answered and not chosen:
                        chosen = [ids[0]]
                    for o in ids:
                        r[f"{q.id}__{o}"] = int(o in chosen)
                elif q.kind == "ranked":
                    weights = np.array([5.0 if o == "tid" else 6.0 if o == "ledelse" else 1.5 for o in ids])
                    picks = rng.choice(ids, size=3, replace=False, p=weights / weights.sum()) if answered else []
                    for rank in (1, 2, 3):
                        r[f"{q.id}__{rank}"] = picks[rank - 1] if len(picks) >= rank else None
            rows.append(r)
    return pd.DataFrame(rows)


def _kommune_counts(frame, instrument, kommuner):
    """Long frame: kommune_kode, indicator_id, n, count (all 98 kommuner, zeros where nobody answered)."""
    recs = []
    for ind, qid, opt, measure in _indicators(instrument):
        q = instrument.question(qid)
        if q.kind == "single":
            answered = frame[qid].notna()
            hit = frame[qid] == opt
        elif q.kind == "multi":
            cols = [f"{qid}__{o}" for o in q.option_ids]
            answered = frame[cols].sum(axis=1) > 0
            hit = frame[f"{qid}__{opt}"] == 1
        else:
            cols = [f"{qid}__{r}" for r in (1, 2, 3)]
            answered = frame[cols].notna().any(axis=1)
            hit = (frame[cols] == opt).any(axis=1) if measure == "top3" else frame[f"{qid}__1"] == opt
        g = pd.DataFrame({"kommune": frame["kommune"], "n": answered.astype(int), "count": (hit & answered).astype(int)})
        agg = g.groupby("kommune")[["n", "count"]].sum()
        for kode in kommuner.codes:
            n, c = (int(agg.loc[kode, "n"]), int(agg.loc[kode, "count"])) if kode in agg.index else (0, 0)
            recs.append({"kommune_kode": kode, "indicator_id": ind, "question_id": qid, "option_id": opt,
                         "measure": measure, "n": n, "count": c})
    return pd.DataFrame(recs)


def _suppress_kommuner(n_by_kommune, kommuner):
    """kode -> reason for one question (primary, then complementary within regions and groups)."""
    reason = {}
    for kode, n in n_by_kommune.items():
        if n == 0:
            reason[kode] = "no_respondents"
        elif n < MIN_N:
            reason[kode] = "below_minimum"
    t = kommuner.table
    changed = True
    while changed:
        changed = False
        for col in ("region_kode", "kommunegruppe_kode"):
            for _, members in t.groupby(col)["kommune_kode"]:
                supp = [k for k in members if k in reason and n_by_kommune[k] > 0]
                total = sum(n_by_kommune[k] for k in supp)
                if supp and total < MIN_N:
                    published = sorted((n_by_kommune[k], k) for k in members if k not in reason and n_by_kommune[k] > 0)
                    if published:
                        reason[published[0][1]] = "complementary"
                        changed = True
    return reason


def build_year(survey_year, instrument, kommuner, seed, year_index, previous=None):
    rng = np.random.default_rng(seed)
    frame = _respondents(year_index, instrument, kommuner, rng)
    kc = _kommune_counts(frame, instrument, kommuner)
    t = kommuner.table.set_index("kommune_kode")
    kc["region"] = kc["kommune_kode"].map(t["region_kode"])
    kc["group"] = kc["kommune_kode"].map(t["kommunegruppe_kode"])

    reasons = {}  # (kode, question) -> reason
    for qid, sub in kc.groupby("question_id"):
        n_by = sub.drop_duplicates("kommune_kode").set_index("kommune_kode")["n"].to_dict()
        for kode, why in _suppress_kommuner(n_by, kommuner).items():
            reasons[(kode, qid)] = why

    rows = []
    for level, key in (("national", None), ("region", "region"), ("kommunegruppe", "group"), ("kommune", "kommune_kode")):
        if key is None:
            agg = kc.groupby(["indicator_id", "question_id", "option_id", "measure"], sort=False)[["n", "count"]].sum().reset_index()
            agg["geography_code"] = "DK"
        else:
            agg = kc.groupby([key, "indicator_id", "question_id", "option_id", "measure"], sort=False)[["n", "count"]].sum().reset_index()
            agg = agg.rename(columns={key: "geography_code"})
        for r in agg.to_dict("records"):
            why = reasons.get((r["geography_code"], r["question_id"])) if level == "kommune" else (
                "no_respondents" if r["n"] == 0 else "below_minimum" if r["n"] < MIN_N else None)
            base = {"survey_year": survey_year, "geography_level": level, "geography_code": r["geography_code"],
                    "indicator_id": r["indicator_id"], "question_id": r["question_id"], "option_id": r["option_id"],
                    "measure": r["measure"]}
            if why:
                rows.append({**base, "n": np.nan, "count": np.nan, "share": np.nan, "ci_low": np.nan,
                             "ci_high": np.nan, "suppressed": True, "suppression_reason": why})
                continue
            lo, hi = proportion_confint(r["count"], r["n"], method="wilson")
            rows.append({**base, "n": r["n"], "count": np.nan if level == "kommune" else r["count"],
                         "share": r["count"] / r["n"], "ci_low": lo, "ci_high": hi, "suppressed": False,
                         "suppression_reason": None})
    iv = pd.DataFrame(rows)
    iv["n"] = iv["n"].astype("Int64")
    iv["count"] = iv["count"].astype("Int64")
    iv["suppression_reason"] = iv["suppression_reason"].astype("string")

    # barrier scores
    bq = instrument.question("barriers")
    cols = ["barriers__1", "barriers__2", "barriers__3"]
    frame["region"] = frame["kommune"].map(t["region_kode"])
    frame["group"] = frame["kommune"].map(t["kommunegruppe_kode"])
    answered = frame[cols].notna().any(axis=1)
    bs_rows = []
    for level, key in (("national", None), ("region", "region"), ("kommunegruppe", "group"), ("kommune", "kommune")):
        codes = ["DK"] if key is None else (sorted(t["region_kode"].unique()) if key == "region" else
                                            sorted(t["kommunegruppe_kode"].unique()) if key == "group" else kommuner.codes)
        for code in codes:
            sel = frame[answered] if key is None else frame[answered & (frame[key] == code)]
            n = len(sel)
            why = reasons.get((code, "barriers")) if level == "kommune" else (
                "no_respondents" if n == 0 else "below_minimum" if n < MIN_N else None)
            for opt in bq.option_ids:
                base = {"survey_year": survey_year, "geography_level": level, "geography_code": code, "barrier_id": opt}
                if why:
                    bs_rows.append({**base, "n": np.nan, "score": np.nan, "score_ci_low": np.nan, "score_ci_high": np.nan,
                                    "top3_share": np.nan, "first_share": np.nan, "suppressed": True, "suppression_reason": why})
                    continue
                pts = (3 * (sel["barriers__1"] == opt) + 2 * (sel["barriers__2"] == opt) + 1 * (sel["barriers__3"] == opt)) / 3 * 100
                mean, se = pts.mean(), pts.std(ddof=1) / np.sqrt(n)
                bs_rows.append({**base, "n": n, "score": mean, "score_ci_low": max(mean - 1.96 * se, 0),
                                "score_ci_high": mean + 1.96 * se, "top3_share": (pts > 0).mean(),
                                "first_share": (sel["barriers__1"] == opt).mean(), "suppressed": False,
                                "suppression_reason": None})
    bs = pd.DataFrame(bs_rows)
    bs["n"] = bs["n"].astype("Int64")

    # year over year (counts are available here because we hold the respondents)
    yoy = _yoy(survey_year, iv, kc, previous)

    kb = _benchmarks(survey_year, iv, kommuner)
    n_resp = len(frame)
    non_resp, quarantined = int(rng.integers(20, 60)), int(rng.integers(1, 6))
    ys = {"survey_year": survey_year, "respondents": n_resp, "responding_kommuner": frame["kommune"].nunique(),
          "non_responses": non_resp, "quarantined_rows": quarantined}
    if previous is not None:
        p = previous["year_summary"].iloc[0]
        for k in ("respondents", "responding_kommuner", "non_responses", "quarantined_rows"):
            ys[f"{k}_change"] = ys[k] - int(p[k])
    else:
        for k in ("respondents", "responding_kommuner", "non_responses", "quarantined_rows"):
            ys[f"{k}_change"] = pd.NA
    year_summary = pd.DataFrame([ys])
    qs = pd.DataFrame([
        {"survey_year": survey_year, "rule": "unknown_kommune", "column": "kommune", "rows": max(quarantined - 1, 1)},
        {"survey_year": survey_year, "rule": "invalid_rank", "column": "barriers", "rows": 1},
    ])
    tables = {"indicator_values": iv, "barrier_scores": bs, "yoy_changes": yoy, "kommune_benchmarks": kb,
              "year_summary": year_summary, "quarantine_summary": qs}
    release = f"{survey_year}-r1-{'ab' * 6}"
    out = {}
    for name, df in tables.items():
        df = df.copy()
        df.insert(0, "release_id", release)
        out[name] = df
    return out


def _yoy(survey_year, iv, kc, previous):
    cols = ["survey_year", "base_year", "comparison", "geography_level", "geography_code", "indicator_id", "share",
            "share_base", "diff_pp", "diff_ci_low_pp", "diff_ci_high_pp", "p_value", "q_value", "significant",
            "relative_growth"]
    if previous is None:
        return pd.DataFrame(columns=cols)
    prev = previous["indicator_values"]
    key = ["geography_level", "geography_code", "indicator_id"]
    merged = iv.merge(prev[key + ["share", "n", "count", "suppressed"]], on=key, suffixes=("", "_base"))
    out = []
    pvals = []
    for r in merged.to_dict("records"):
        base = {"survey_year": survey_year, "base_year": survey_year - 1, "comparison": "previous_year",
                "geography_level": r["geography_level"],
                "geography_code": r["geography_code"], "indicator_id": r["indicator_id"]}
        if r["suppressed"] or r["suppressed_base"] or pd.isna(r["share"]) or pd.isna(r["share_base"]):
            out.append({**base, "share": np.nan, "share_base": np.nan, "diff_pp": np.nan, "diff_ci_low_pp": np.nan,
                        "diff_ci_high_pp": np.nan, "p_value": np.nan, "significant": pd.NA, "relative_growth": np.nan})
            pvals.append(np.nan)
            continue
        n1, n0 = int(r["n"]), int(r["n_base"])
        c1, c0 = round(r["share"] * n1), round(r["share_base"] * n0)
        lo, hi = confint_proportions_2indep(c1, n1, c0, n0, method="newcomb", compare="diff")
        if (c1 == 0 and c0 == 0) or (c1 == n1 and c0 == n0):
            p = 1.0
        else:
            p = float(test_proportions_2indep(c1, n1, c0, n0, method="score").pvalue)
        out.append({**base, "share": r["share"], "share_base": r["share_base"],
                    "diff_pp": (r["share"] - r["share_base"]) * 100, "diff_ci_low_pp": lo * 100,
                    "diff_ci_high_pp": hi * 100, "p_value": p, "significant": pd.NA,
                    "relative_growth": (r["share"] - r["share_base"]) / r["share_base"] if r["share_base"] else np.nan})
        pvals.append(p)
    df = pd.DataFrame(out)
    mask = ~pd.isna(pd.Series(pvals))
    q = pd.Series(np.nan, index=df.index)
    if mask.any():
        q[mask] = multipletests(pd.Series(pvals)[mask], method="fdr_bh")[1]
    df["q_value"] = q
    df["significant"] = pd.array([pd.NA if pd.isna(v) else bool(v < 0.05) for v in q], dtype="boolean")
    return df[cols]


def _benchmarks(survey_year, iv, kommuner):
    t = kommuner.table.set_index("kommune_kode")
    shares = iv[iv["measure"].isin(["share", "top3", "first"])]
    pub = {(r["geography_level"], r["geography_code"], r["indicator_id"]): r for r in shares.to_dict("records")}
    rows = []
    for ind in shares["indicator_id"].unique():
        nat = pub[("national", "DK", ind)]["share"]
        for kode in kommuner.codes:
            r = pub[("kommune", kode, ind)]
            reg = pub.get(("region", t.loc[kode, "region_kode"], ind), {}).get("share", np.nan)
            grp = pub.get(("kommunegruppe", t.loc[kode, "kommunegruppe_kode"], ind), {}).get("share", np.nan)
            base = {"survey_year": survey_year, "kommune_kode": kode, "indicator_id": ind}
            if r["suppressed"]:
                rows.append({**base, "n": pd.NA, "share": np.nan, "share_shrunk": np.nan, "national_share": np.nan,
                             "region_share": np.nan, "group_share": np.nan, "diff_national_pp": np.nan,
                             "diff_region_pp": np.nan, "diff_group_pp": np.nan, "percentile": np.nan,
                             "suppressed": True, "suppression_reason": r["suppression_reason"]})
                continue
            shrunk = (r["share"] * r["n"] + 10 * (grp if not pd.isna(grp) else nat)) / (r["n"] + 10)
            rows.append({**base, "n": r["n"], "share": r["share"], "share_shrunk": shrunk, "national_share": nat,
                         "region_share": reg, "group_share": grp, "diff_national_pp": (r["share"] - nat) * 100,
                         "diff_region_pp": (r["share"] - reg) * 100, "diff_group_pp": (r["share"] - grp) * 100,
                         "percentile": np.nan, "suppressed": False, "suppression_reason": None})
    kb = pd.DataFrame(rows)
    pubmask = ~kb["suppressed"]
    kb.loc[pubmask, "percentile"] = kb[pubmask].groupby("indicator_id")["share_shrunk"].rank(pct=True) * 100
    kb["n"] = kb["n"].astype("Int64")
    # how many kommuner the percentile ranks among, and the published spread nationally and in the group
    share = kb["share"].where(pubmask)
    kb["percentile_of"] = share.groupby(kb["indicator_id"]).transform("count").where(pubmask)
    group = kb["kommune_kode"].map(t["kommunegruppe_kode"])
    for prefix, keys in (("national", [kb["indicator_id"]]), ("group", [kb["indicator_id"], group])):
        g = share.groupby(keys)
        for stat in ("min", "median", "max"):
            kb[f"{prefix}_{stat}"] = g.transform(stat).where(pubmask)
        kb[f"{prefix}_published"] = g.transform("count").where(pubmask)
    return kb


def build_history(instrument_2023, instrument_2024, kommuner):
    """(tables_2024, {2023: tables_2023}) as render_reports receives them."""
    with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        return _build_history(instrument_2023, instrument_2024, kommuner)


def _build_history(instrument_2023, instrument_2024, kommuner):
    t23 = build_year(2023, instrument_2023, kommuner, seed=2023, year_index=0)
    t24 = build_year(2024, instrument_2024, kommuner, seed=2024, year_index=1, previous=t23)
    strip = lambda d: {k: v for k, v in d.items() if not k.startswith("_")}  # noqa: E731
    return strip(t24), {2023: strip(t23)}
