"""Findings: every sentence states the numbers behind it, claims only what the tables support, and says
nothing about a suppressed value; on the published samples and on small constructed tables."""

from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from benchmark_pipeline import findings as fnd
from benchmark_pipeline.findings import (
    HIGHER,
    LOWER,
    NEUTRAL,
    Finding,
    direction_of,
    findings_for_year,
    highlights,
    rank_phrase,
    rank_position,
    read_tables,
)
from benchmark_pipeline.instrument import load_year
from benchmark_pipeline.reference import NATIONAL_CODE

NBSP = "\u00a0"
MINUS = "\u2212"
YEARS = (2023, 2024, 2025)
NOT_SIGNIFICANT = re.compile(r"ikke (er )?statistisk signifikant")
EVALUATIVE = re.compile(r"(?i)\b(bedre|dårligere|bedst\w*|dårligst\w*|svagest\w*|forbedr\w*|forværr\w*)\b")
RISE_FALL = re.compile(r"\b(steget|faldet|stigende|faldende)\b")


# -- reading the published tables -------------------------------------------------------------------

def release_tables(samples, year: int) -> dict[str, pd.DataFrame]:
    folder = samples.output_dir / "releases" / str(year) / samples.release_ids[year] / "tables"
    return {p.stem: pd.read_parquet(p) for p in sorted(folder.glob("*.parquet"))}


@pytest.fixture(scope="module")
def published(published_samples):
    return {year: release_tables(published_samples, year) for year in YEARS}


@pytest.fixture(scope="module")
def instruments(data_dir):
    return {year: load_year(data_dir, year) for year in YEARS}


# -- checking one finding against its sentence and its tables ----------------------------------------

def sentence_numbers(sentence: str) -> dict[str, list[str]]:
    """The numbers a sentence states, by kind, as displayed (signs kept apart)."""
    s = sentence.replace(f"95{NBSP}%-interval", " ").replace("af 100", " ")
    out: dict[str, list[str]] = {"pct": [], "pp": [], "score": [], "year": [], "int": [], "signed_pp": []}
    for low, high in re.findall(rf"(\d+)\u2013(\d+){NBSP}%", s):
        out["pct"] += [low, high]
    s = re.sub(rf"\d+\u2013\d+{NBSP}%", " ", s)
    out["pct"] += re.findall(rf"(\d+){NBSP}%", s)
    s = re.sub(rf"\d+{NBSP}%", " ", s)
    for sign, number in re.findall(rf"([+{MINUS}]?)(\d+,\d){NBSP}procentpoint", s):
        out["pp"].append(number)
        if sign:
            out["signed_pp"].append(sign + number)
    s = re.sub(rf"[+{MINUS}]?\d+,\d{NBSP}procentpoint", " ", s)
    out["score"] = re.findall(r"\d+,\d", s)
    s = re.sub(r"\d+,\d", " ", s)
    out["year"] = re.findall(r"\b(20\d\d)\b", s)
    s = re.sub(r"\b20\d\d\b", " ", s)
    out["int"] = re.findall(r"\d+", s)
    return out


def expected_numbers(f: Finding) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {"pct": [], "pp": [], "score": [], "year": [], "int": []}
    for name, value in f.stated().items():
        kind = fnd.NUMBER_FORMATS[name]
        out[kind].append(fnd.number_display(name, value))
    return out


def assert_states_its_numbers(f: Finding) -> None:
    got, want = sentence_numbers(f.sentence), expected_numbers(f)
    for kind in want:
        assert Counter(got[kind]) == Counter(want[kind]), (kind, f.sentence, f.numbers)
    for signed in got["signed_pp"]:  # a signed number has the sign of its value
        value = next(v for k, v in f.stated().items() if fnd.NUMBER_FORMATS[k] == "pp"
                     and fnd.number_display(k, v) == signed[1:])
        assert (signed[0] == "+") == (value > 0), f.sentence


def one_sentence(text: str) -> bool:
    return text.endswith(".") and not re.search(r"[.!?]\s+[A-ZÆØÅ]", text[:-1])


class Tables:
    """Row lookups into one year's tables as published (before findings read them)."""

    def __init__(self, tables: dict[str, pd.DataFrame]):
        t = read_tables(tables)
        self.raw = tables
        self.iv = {(r["geography_level"], r["geography_code"], r["indicator_id"]): r
                   for r in fnd.records(t["indicator_values"])}
        self.bs = {}
        for r in fnd.records(t["barrier_scores"]):
            self.bs.setdefault((r["geography_level"], r["geography_code"]), []).append(r)
        self.yoy = {(r["comparison"], r["geography_level"], r["geography_code"], r["indicator_id"]): r
                    for r in fnd.records(t["yoy_changes"])}
        self.trends = {(r["geography_level"], r["geography_code"], r["indicator_id"]): r
                       for r in fnd.records(t["trends"])}
        self.kb = {(r["kommune_kode"], r["indicator_id"]): r for r in fnd.records(t["kommune_benchmarks"])}
        raw_iv = tables["indicator_values"]
        self.suppressed = {(l, str(c), i) for l, c, i, s in zip(raw_iv["geography_level"], raw_iv["geography_code"],
                                                                 raw_iv["indicator_id"], raw_iv["suppressed"]) if s}


def near(a, b) -> bool:
    return a is not None and b is not None and abs(float(a) - float(b)) < 1e-9


def check_finding(f: Finding, t: Tables, kommuner) -> None:
    """The finding's sentence against its numbers, and its numbers against the table rows."""
    assert f.kind in fnd.KINDS
    assert one_sentence(f.sentence), f.sentence
    assert_states_its_numbers(f)
    v = f.values
    level, code, ind = f.geography_level, f.geography_code, f.indicator_id
    if level == "kommune":
        name = kommuner.official_name()[code]
        assert f.geography_name == name and name in f.sentence
    # nothing about a suppressed value: the geography's own value is published
    if ind:
        assert (level, code, ind) not in t.suppressed, f.sentence
        assert (level, code, ind) in t.iv and fnd.as_float(t.iv[(level, code, ind)]["share"]) is not None
    # "steget/faldet" only for a significant change or trend
    assert bool(RISE_FALL.search(f.sentence)) == f.significant, f.sentence
    # "over/under landsgennemsnittet" only when the interval excludes the national share
    if "landsgennemsnittet" in f.sentence:
        assert f.kind == "versus_national"
    # better/worse only for an option with a direction
    if EVALUATIVE.search(f.sentence):
        assert f.direction != NEUTRAL, f.sentence
    if f.direction == NEUTRAL:
        assert f.tone == "neutral"

    if f.kind in ("change_previous_year", "change_first_year"):
        comparison = "first_year" if f.kind == "change_first_year" else "previous_year"
        row = t.yoy[(comparison, level, code, ind)]
        assert fnd._true(row["significant"])
        for col in ("share", "share_base", "diff_pp"):
            assert near(v[col], row[col]), (col, f.sentence)
        assert v["base_year"] == int(row["base_year"])
        assert ("steget" in f.sentence) == (row["diff_pp"] > 0)
    elif f.kind == "trend":
        row = t.trends[(level, code, ind)]
        assert fnd._true(row["significant"])
        for col in ("share", "share_first", "slope_pp_per_year"):
            assert near(v[col], row[col]), (col, f.sentence)
        assert v["first_year"] == int(row["first_year"])
        assert ("steget" in f.sentence) == (row["slope_pp_per_year"] > 0)
    elif f.kind == "versus_national":
        row, nat = t.iv[("kommune", code, ind)], t.iv[("national", NATIONAL_CODE, ind)]
        assert (("national", NATIONAL_CODE, ind)) not in t.suppressed
        for col in ("share", "ci_low", "ci_high"):
            assert near(v[col], row[col])
        assert near(v["national_share"], nat["share"])
        above, below = row["ci_low"] > nat["share"], row["ci_high"] < nat["share"]
        assert above or below
        assert ("over landsgennemsnittet" in f.sentence) == above
        assert ("under landsgennemsnittet" in f.sentence) == below
        assert near(v["diff_national_pp"], (row["share"] - nat["share"]) * 100)
    elif f.kind == "group_extreme":
        group = kommuner.group_of()[code]
        members = [k for k, g in kommuner.group_of().items() if g == group]
        shares = [t.iv[("kommune", k, ind)]["share"] for k in members
                  if fnd.as_float(t.iv[("kommune", k, ind)]["share"]) is not None]
        assert f.direction != NEUTRAL and len(shares) == v["group_published"] >= fnd.MIN_GROUP
        assert near(v["share"], t.iv[("kommune", code, ind)]["share"])
        assert near(v["group_median"], float(np.median(shares)))
        end = max(shares) if "højeste" in f.sentence else min(shares)
        assert near(v["share"], end) and shares.count(end) == 1
        assert ("bedste" in f.sentence) == (f.tone == "positive")
    elif f.kind == "top_barrier":
        rows = sorted((r for r in t.bs[(level, code)] if fnd.as_float(r["score"]) is not None),
                      key=lambda r: -r["score"])
        assert ind == f"barriers.{rows[0]['barrier_id']}.top3" and rows[0]["score"] > rows[1]["score"]
        assert near(v["score"], rows[0]["score"]) and near(v["runner_up_score"], rows[1]["score"])
        assert near(v["top3_share"], rows[0]["top3_share"])
        changes = [t.yoy.get((c, level, code, ind)) for c in ("previous_year", "first_year")]
        changes = [c for c in changes if c is not None and fnd.as_float(c["diff_pp"]) is not None]
        if changes:
            change = next((c for c in changes if fnd._true(c["significant"])), changes[0])
            assert near(v["top3_diff_pp"], change["diff_pp"]) and near(v["top3_share_base"], change["share_base"])
            assert v["base_year"] == int(change["base_year"])
            assert f.significant == fnd._true(change["significant"])
            if not f.significant:
                assert NOT_SIGNIFICANT.search(f.sentence), f.sentence
        else:
            assert "top3_diff_pp" not in v
    elif f.kind == "level":
        row = t.iv[("national", NATIONAL_CODE, ind)]
        for col in ("share", "ci_low", "ci_high"):
            assert near(v[col], row[col])
        change = t.yoy.get(("previous_year", "national", NATIONAL_CODE, ind))
        if "diff_pp" in v:
            assert near(v["diff_pp"], change["diff_pp"]) and not fnd._true(change["significant"])
            assert NOT_SIGNIFICANT.search(f.sentence), f.sentence
    elif f.kind == "no_significant_change":
        rows = [r for (c, lv, _code, i), r in t.yoy.items() if c == "previous_year" and lv == "national"
                and fnd.counts_as_finding(i) and fnd.as_float(r["diff_pp"]) is not None]
        assert v["tests"] == len(rows) > 0 and not any(fnd._true(r["significant"]) for r in rows)


def check_year(tables, instrument, kommuner, year) -> dict[str, list[Finding]]:
    result = findings_for_year(tables, instrument, kommuner, year)
    assert list(result) == [NATIONAL_CODE, *kommuner.codes]
    t = Tables(tables)
    for code, found in result.items():
        for f in found:
            assert f.geography_code == code and f.survey_year == year
            check_finding(f, t, kommuner)
        strengths = [f.strength for f in found]
        assert strengths == sorted(strengths, reverse=True)
    return result


# -- the published samples ----------------------------------------------------------------------------

def test_every_sentence_on_the_published_samples_states_its_numbers(published, instruments, kommuner):
    seen, significant = Counter(), Counter()
    for year in YEARS:
        result = check_year(published[year], instruments[year], kommuner, year)
        seen.update(f.kind for found in result.values() for f in found)
        significant.update((f.geography_level, f.kind) for found in result.values() for f in found if f.significant)
    assert seen["top_barrier"] >= 3 and seen["level"] >= 6 and seen["versus_national"] >= 1
    assert seen["group_extreme"] >= 1
    # the samples' story is told: significant changes nationally and in a kommune, each in a checked sentence
    assert significant["national", "change_previous_year"] and significant["national", "change_first_year"], significant
    assert significant["kommune", "change_first_year"] and significant["kommune", "trend"], significant


def future_tables(published, year: int) -> dict[str, pd.DataFrame]:
    """The year's published tables with the columns being added, filled the way the new statistics would
    fill them (significance at p < 0.05 standing in for BH within families, first-year comparisons and
    trends from the published shares): every kind of finding on real numbers."""
    tables = {name: df.copy() for name, df in published[year].items()}
    yoy = tables["yoy_changes"]
    if "comparison" not in yoy.columns:
        yoy.insert(yoy.columns.get_loc("base_year") + 1, "comparison", "previous_year")
    if not yoy["significant"].fillna(False).astype(bool).any():
        yoy["q_value"] = yoy["p_value"]
        yoy["significant"] = (yoy["p_value"] < 0.05).astype("boolean")
    if (yoy["comparison"] == "first_year").any() and "trends" in tables and len(tables["trends"]):
        return tables  # the release has them already
    first = published[YEARS[0]]["indicator_values"]
    cur = tables["indicator_values"]
    key = ["geography_level", "geography_code", "indicator_id"]
    both = cur.merge(first[key + ["share", "suppressed"]], on=key, suffixes=("", "_first"))
    both = both[~both["suppressed"].astype(bool) & ~both["suppressed_first"].astype(bool)]
    both = both[both["geography_level"].isin(["national", "kommune"])]
    diff = (both["share"] - both["share_first"]) * 100
    first_rows = pd.DataFrame({
        "release_id": both["release_id"], "survey_year": year, "base_year": YEARS[0], "comparison": "first_year",
        **{c: both[c] for c in key}, "share": both["share"], "share_base": both["share_first"], "diff_pp": diff,
        "diff_ci_low_pp": diff - 8, "diff_ci_high_pp": diff + 8, "p_value": np.where(diff.abs() > 8, 0.01, 0.5),
        "q_value": np.where(diff.abs() > 8, 0.02, 0.6), "significant": pd.array(diff.abs() > 8, dtype="boolean"),
        "relative_growth": np.nan})
    yoy = yoy[yoy["comparison"] != "first_year"]
    tables["yoy_changes"] = pd.concat([yoy, first_rows[yoy.columns]], ignore_index=True)
    slope = diff / (year - YEARS[0])
    tables["trends"] = pd.DataFrame({
        "release_id": both["release_id"], "survey_year": year, **{c: both[c] for c in key},
        "first_year": YEARS[0], "years": year - YEARS[0] + 1, "share_first": both["share_first"],
        "share": both["share"], "slope_pp_per_year": slope, "slope_ci_low_pp": slope - 3, "slope_ci_high_pp": slope + 3,
        "p_value": np.where(slope.abs() > 3, 0.01, 0.5), "q_value": np.where(slope.abs() > 3, 0.03, 0.7),
        "significant": pd.array(slope.abs() > 3, dtype="boolean")})
    return tables


def test_every_sentence_with_significant_changes_and_trends(published, instruments, kommuner):
    tables = future_tables(published, 2025)
    result = check_year(tables, instruments[2025], kommuner, 2025)
    kinds = Counter(f.kind for found in result.values() for f in found)
    assert kinds["change_previous_year"] and kinds["change_first_year"] and kinds["trend"], kinds
    rises = [f for found in result.values() for f in found if RISE_FALL.search(f.sentence)]
    assert rises and all(f.significant for f in rises)


def test_steget_faldet_never_for_a_non_significant_change(published, instruments, kommuner):
    for year in YEARS:
        for found in findings_for_year(published[year], instruments[year], kommuner, year).values():
            for f in found:
                assert not RISE_FALL.search(f.sentence) or f.significant, f.sentence


def test_no_finding_names_a_suppressed_value(published, instruments, kommuner):
    """Plant values in every suppressed row: the findings are the same as on the published tables."""
    for year in (2024, 2025):
        planted = {name: df.copy() for name, df in published[year].items()}
        for name, cols in (("indicator_values", {"n": 4, "share": 0.987654, "ci_low": 0.95, "ci_high": 0.99}),
                           ("barrier_scores", {"n": 4, "score": 99.5, "top3_share": 0.99}),
                           ("kommune_benchmarks", {"n": 4, "share": 0.987654, "percentile": 100.0})):
            df = planted[name]
            mask = df["suppressed"].astype(bool)
            for col, value in cols.items():
                df[col] = df[col].astype("float64")
                df.loc[mask, col] = value
        assert findings_for_year(planted, instruments[year], kommuner, year) == \
            findings_for_year(published[year], instruments[year], kommuner, year)


def test_the_published_reports_show_the_findings(published_samples, published, instruments, kommuner):
    """The national report and the kommune pages of the real run carry the same findings' sentences."""
    from html import unescape

    year = 2025
    reports = published_samples.output_dir / "releases" / str(year) / published_samples.release_ids[year] / "reports"
    result = findings_for_year(published[year], instruments[year], kommuner, year)

    def text(path: Path) -> str:
        html = path.read_text(encoding="utf-8")
        return re.sub(r"[ \t\r\n]+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))

    national = text(reports / "national.html")
    top = highlights(result[NATIONAL_CODE])
    assert 3 <= len(top) <= 6
    assert national.index("Det vigtigste i år") < national.index("Hovedtal")
    for f in top:
        assert f.sentence in national
    assert "ledelse" in top[0].sentence.lower()  # ledelse is the top barrier in 2025
    for code, found in result.items():
        if code == NATIONAL_CODE or not found:
            continue
        page = text(reports / "kommuner" / f"{code}.html")
        assert "Det skiller sig ud" in page
        for f in highlights(found):
            assert f.sentence in page


def test_findings_are_deterministic(published, instruments, kommuner):
    a = findings_for_year(published[2025], instruments[2025], kommuner)
    b = findings_for_year(published[2025], instruments[2025], kommuner)
    assert a == b


# -- constructed tables: each kind and the direction rules ------------------------------------------

KOMMUNE, OTHER, THIRD, FOURTH = "101", "147", "151", "153"  # all four in kommunegruppe 1 (Hovedstadskommuner)


def iv_row(level, code, ind, n, share, ci=(None, None), suppressed=False):
    q, o, m = fnd.split_indicator(ind)
    if suppressed:
        return {"survey_year": 2025, "geography_level": level, "geography_code": code, "indicator_id": ind,
                "question_id": q, "option_id": o, "measure": m, "n": None, "count": None, "share": None,
                "ci_low": None, "ci_high": None, "suppressed": True, "suppression_reason": "confidential"}
    low, high = ci if ci != (None, None) else (max(0.0, share - 0.1), min(1.0, share + 0.1))
    return {"survey_year": 2025, "geography_level": level, "geography_code": code, "indicator_id": ind,
            "question_id": q, "option_id": o, "measure": m, "n": n, "count": None if level == "kommune" else
            round(share * n), "share": share, "ci_low": low, "ci_high": high, "suppressed": False,
            "suppression_reason": None}


def yoy_row(level, code, ind, share, base, significant, comparison="previous_year", base_year=2024):
    diff = (share - base) * 100
    return {"survey_year": 2025, "base_year": base_year, "comparison": comparison, "geography_level": level,
            "geography_code": code, "indicator_id": ind, "share": share, "share_base": base, "diff_pp": diff,
            "diff_ci_low_pp": diff - 5, "diff_ci_high_pp": diff + 5, "p_value": 0.001 if significant else 0.4,
            "q_value": 0.01 if significant else 0.6, "significant": significant, "relative_growth": None}


def build(iv=(), yoy=(), bs=(), kb=(), trends=()):
    return {"indicator_values": pd.DataFrame(list(iv)), "yoy_changes": pd.DataFrame(list(yoy)),
            "barrier_scores": pd.DataFrame(list(bs)), "kommune_benchmarks": pd.DataFrame(list(kb)),
            "trends": pd.DataFrame(list(trends))}


def kinds_of(result, code, kind):
    return [f for f in result[code] if f.kind == kind]


def test_a_significant_change_is_a_rise_or_fall_and_a_non_significant_one_is_no_finding(instrument_2025, kommuner):
    tables = build(
        iv=[iv_row("national", "DK", "data_use_change.mere", 200, 0.70),
            iv_row("national", "DK", "further_potential.nej", 200, 0.20),
            iv_row("national", "DK", "use_contexts.politik", 200, 0.40)],
        yoy=[yoy_row("national", "DK", "data_use_change.mere", 0.70, 0.55, True),
             yoy_row("national", "DK", "further_potential.nej", 0.20, 0.10, True),
             yoy_row("national", "DK", "use_contexts.politik", 0.40, 0.30, False),
             yoy_row("national", "DK", "data_use_change.mere", 0.70, 0.50, True, "first_year", 2023)])
    result = findings_for_year(tables, instrument_2025, kommuner)
    changes = {(f.kind, f.indicator_id): f for f in result["DK"] if f.kind.startswith("change")}
    assert set(changes) == {("change_previous_year", "data_use_change.mere"),
                            ("change_previous_year", "further_potential.nej"),
                            ("change_first_year", "data_use_change.mere")}
    mere = changes[("change_previous_year", "data_use_change.mere")]
    assert mere.sentence == ("I hele landet er andelen, der bruger borgerrelaterede data mere end for et år siden, "
                             f"steget fra 55{NBSP}% i 2024 til 70{NBSP}% i 2025 (+15,0{NBSP}procentpoint).")
    assert mere.tone == "positive" and mere.direction == HIGHER
    nej = changes[("change_previous_year", "further_potential.nej")]
    assert nej.tone == "negative" and nej.direction == LOWER  # more "Nej" to potential is not better
    assert "2023" in changes[("change_first_year", "data_use_change.mere")].sentence
    assert not any("politik" in f.indicator_id for f in result["DK"] if f.kind.startswith("change"))
    for f in result["DK"]:
        assert_states_its_numbers(f)


def test_a_suppressed_change_or_value_gives_no_finding(instrument_2025, kommuner):
    empty = {**yoy_row("kommune", KOMMUNE, "data_use_change.mere", 0.7, 0.5, True), "share": None,
             "share_base": None, "diff_pp": None, "diff_ci_low_pp": None, "diff_ci_high_pp": None, "p_value": None,
             "q_value": None, "significant": None}
    tables = build(iv=[iv_row("national", "DK", "data_use_change.mere", 200, 0.50),
                       iv_row("kommune", KOMMUNE, "data_use_change.mere", None, None, suppressed=True)],
                   yoy=[empty])
    result = findings_for_year(tables, instrument_2025, kommuner)
    assert result[KOMMUNE] == []


def test_over_and_under_only_when_the_interval_excludes_the_national_share(instrument_2025, kommuner):
    ind = "data_use_change.mere"
    tables = build(iv=[iv_row("national", "DK", ind, 200, 0.60),
                       iv_row("kommune", KOMMUNE, ind, 40, 0.85, (0.71, 0.93)),
                       iv_row("kommune", OTHER, ind, 40, 0.30, (0.18, 0.45)),
                       iv_row("kommune", THIRD, ind, 10, 0.80, (0.49, 0.94)),
                       iv_row("kommune", FOURTH, ind, 10, 0.75, (0.60, 0.86))])  # touching is not excluding
    result = findings_for_year(tables, instrument_2025, kommuner)
    over, = kinds_of(result, KOMMUNE, "versus_national")
    assert over.sentence == (f"I Københavns Kommune er andelen, der bruger borgerrelaterede data mere end for et år "
                             f"siden, 85{NBSP}% (95{NBSP}%-interval 71–93{NBSP}%), 25,0{NBSP}procentpoint over "
                             f"landsgennemsnittet på 60{NBSP}%.")
    under, = kinds_of(result, OTHER, "versus_national")
    assert "under landsgennemsnittet" in under.sentence and under.tone == "negative"
    assert not kinds_of(result, THIRD, "versus_national") and not kinds_of(result, FOURTH, "versus_national")


def kb_row(code, ind, share, **extra):
    return {"survey_year": 2025, "kommune_kode": code, "indicator_id": ind, "n": 20, "share": share,
            "share_shrunk": share, "national_share": 0.5, "region_share": 0.5, "group_share": 0.5,
            "diff_national_pp": (share - 0.5) * 100, "diff_region_pp": 0.0, "diff_group_pp": 0.0,
            "percentile": extra.pop("percentile", 50.0), "suppressed": False, "suppression_reason": None, **extra}


@pytest.mark.parametrize(("ind", "highest_tone"), [("data_use_change.mere", "positive"),
                                                  ("barriers.jura.top3", "negative"),
                                                  ("further_potential.nej", "negative")])
def test_group_extremes_respect_the_direction(instrument_2025, kommuner, ind, highest_tone):
    shares = {KOMMUNE: 0.9, OTHER: 0.5, THIRD: 0.4, FOURTH: 0.2}
    tables = build(iv=[iv_row("kommune", k, ind, 20, s, (s - 0.01, s + 0.01)) for k, s in shares.items()]
                   + [iv_row("national", "DK", ind, 200, 0.5, (0.45, 0.55))],
                   kb=[kb_row(k, ind, s) for k, s in shares.items()])
    result = findings_for_year(tables, instrument_2025, kommuner)
    top, = kinds_of(result, KOMMUNE, "group_extreme")
    bottom, = kinds_of(result, FOURTH, "group_extreme")
    assert top.tone == highest_tone and bottom.tone != highest_tone
    assert "den højeste andel" in top.sentence and "den laveste andel" in bottom.sentence
    assert ("gruppens bedste resultat" in top.sentence) == (highest_tone == "positive")
    assert ("gruppens svageste resultat" in top.sentence) == (highest_tone == "negative")
    assert "Hovedstadskommuner" in top.sentence and "Blandt de 4 kommuner" in top.sentence
    assert not kinds_of(result, OTHER, "group_extreme")
    for f in (top, bottom):
        assert_states_its_numbers(f)


def test_no_best_or_worst_for_a_neutral_option_a_tie_or_a_small_group(instrument_2025, kommuner):
    neutral = "use_contexts.politik"
    assert direction_of(neutral) == NEUTRAL
    rows = {neutral: {KOMMUNE: 0.9, OTHER: 0.5, THIRD: 0.4, FOURTH: 0.2},
            "data_use_change.mere": {KOMMUNE: 0.9, OTHER: 0.9, THIRD: 0.4, FOURTH: 0.2},  # a tie at the top
            "further_potential.ja": {KOMMUNE: 0.9, OTHER: 0.5}}  # two published: too few
    iv, kb = [], []
    for ind, shares in rows.items():
        iv += [iv_row("kommune", k, ind, 20, s, (s - 0.01, s + 0.01)) for k, s in shares.items()]
        iv.append(iv_row("national", "DK", ind, 200, 0.5))
        kb += [kb_row(k, ind, s) for k, s in shares.items()]
    result = findings_for_year(build(iv=iv, kb=kb), instrument_2025, kommuner)
    extremes = [f for found in result.values() for f in found if f.kind == "group_extreme"]
    assert [(f.geography_code, f.indicator_id) for f in extremes] == [(FOURTH, "data_use_change.mere")]
    for found in result.values():
        for f in found:
            if f.direction == NEUTRAL:
                assert not EVALUATIVE.search(f.sentence) and f.tone == "neutral", f.sentence


def bs_row(level, code, barrier, score, top3, n=200):
    return {"survey_year": 2025, "geography_level": level, "geography_code": code, "barrier_id": barrier, "n": n,
            "score": score, "score_ci_low": max(0.0, score - 5), "score_ci_high": min(100.0, score + 5),
            "top3_share": top3, "first_share": top3 / 2, "suppressed": False, "suppression_reason": None}


def test_the_top_barrier_and_its_change(instrument_2025, kommuner):
    tables = build(
        iv=[iv_row("national", "DK", "barriers.ledelse.top3", 200, 0.67),
            iv_row("national", "DK", "barriers.tid.top3", 200, 0.56)],
        bs=[bs_row("national", "DK", "ledelse", 46.0227, 0.67), bs_row("national", "DK", "tid", 39.96, 0.56),
            bs_row("national", "DK", "andet", 2.1, 0.03)],
        yoy=[yoy_row("national", "DK", "barriers.ledelse.top3", 0.67, 0.55, True)])
    result = findings_for_year(tables, instrument_2025, kommuner)
    top, = kinds_of(result, "DK", "top_barrier")
    assert top.sentence == (
        "I hele landet har »Manglende ledelsesopbakning og prioritering« den højeste vægtede score blandt "
        f"barriererne, 46,0 af 100, foran »Manglende tid« med 40,0; 67{NBSP}% har den blandt deres tre "
        f"væsentligste barrierer, og den andel er steget fra 55{NBSP}% i 2024 (+12,0{NBSP}procentpoint).")
    assert top.significant and top.tone == "negative"  # a rising barrier is not better
    assert result["DK"][0] is top and highlights(result["DK"])[0] is top
    assert_states_its_numbers(top)
    # not significant: the change is stated as such, never as a rise
    tables["yoy_changes"]["significant"] = False
    top, = kinds_of(findings_for_year(tables, instrument_2025, kommuner), "DK", "top_barrier")
    assert not RISE_FALL.search(top.sentence) and NOT_SIGNIFICANT.search(top.sentence)
    # a tie at the top is no finding
    tables["barrier_scores"].loc[1, "score"] = 46.0227
    assert not kinds_of(findings_for_year(tables, instrument_2025, kommuner), "DK", "top_barrier")


def test_a_significant_trend(instrument_2025, kommuner):
    ind = "data_use_change.mere"
    trend = {"survey_year": 2025, "geography_level": "national", "geography_code": "DK", "indicator_id": ind,
             "first_year": 2023, "years": 3, "share_first": 0.60, "share": 0.70, "slope_pp_per_year": 5.04,
             "slope_ci_low_pp": 1.0, "slope_ci_high_pp": 9.0, "p_value": 0.01, "q_value": 0.02, "significant": True}
    flat = {**trend, "indicator_id": "further_potential.ja", "slope_pp_per_year": 2.0, "significant": False}
    tables = build(iv=[iv_row("national", "DK", ind, 200, 0.70), iv_row("national", "DK", "further_potential.ja",
                                                                        200, 0.8)], trends=[trend, flat])
    result = findings_for_year(tables, instrument_2025, kommuner)
    t, = kinds_of(result, "DK", "trend")
    assert t.sentence == ("I hele landet er andelen, der bruger borgerrelaterede data mere end for et år siden, "
                          f"steget med gennemsnitligt 5,0{NBSP}procentpoint om året fra 2023 til 2025 "
                          f"(fra 60{NBSP}% til 70{NBSP}%).")
    assert t.indicator_id == ind and t.strength == pytest.approx(5.04 * 2 * 0.9)


def test_levels_and_no_significant_change(instrument_2025, kommuner):
    tables = build(iv=[iv_row("national", "DK", "data_use_change.mere", 178, 125 / 178, (0.63, 0.76))],
                   yoy=[yoy_row("national", "DK", "data_use_change.mere", 0.70, 0.65, False),
                        yoy_row("national", "DK", "ai_use.drift", 0.11, 0.06, False),
                        yoy_row("national", "DK", "stilling.teamleder", 0.16, 0.05, True)])  # background: not counted
    result = findings_for_year(tables, instrument_2025, kommuner)
    level, = kinds_of(result, "DK", "level")
    assert level.sentence == ("I hele landet er andelen, der bruger borgerrelaterede data mere end for et år siden, "
                              f"70{NBSP}% (95{NBSP}%-interval 63–76{NBSP}%), og ændringen siden 2024 "
                              f"(+5,0{NBSP}procentpoint) er ikke statistisk signifikant.")
    none, = kinds_of(result, "DK", "no_significant_change")
    assert none.get("tests") == 2 and "Ingen af de 2 sammenligninger med 2024" in none.sentence
    assert not [f for f in result["DK"] if "stilling" in f.indicator_id]


def test_directions():
    assert direction_of("data_use_change.mere") == HIGHER
    assert direction_of("further_potential.ja") == HIGHER
    assert direction_of("further_potential.nej") == LOWER
    assert direction_of("barriers.ledelse.top3") == LOWER and direction_of("barriers.ny_teknologi.first") == LOWER
    assert direction_of("barriers.andet.top3") == NEUTRAL
    for neutral in ("ai_use.drift", "ai_use.nej", "use_contexts.politik", "data_sources.cpr", "data_use_change.samme",
                    "anchoring_levels.topledelse", "unknown.option"):
        assert direction_of(neutral) == NEUTRAL
    assert fnd.tone_of(LOWER, +1) == "negative" and fnd.tone_of(HIGHER, +1) == "positive"
    assert fnd.tone_of(NEUTRAL, -1) == "neutral"


def test_rank_follows_the_direction():
    # 6 published kommuner; percentile 100 is the highest share
    assert rank_position(100.0, 6, "data_use_change.mere") == (1, 6)
    assert rank_position(100 / 6, 6, "data_use_change.mere") == (6, 6)
    assert rank_position(100 / 6, 6, "barriers.ledelse.top3") == (1, 6)  # 1 = the lowest share
    assert rank_position(100.0, 6, None) == (1, 6)
    assert rank_phrase(100 / 6, 6, "barriers.ledelse.top3") == \
        "nr. 1 af 6 offentliggjorte kommuner, hvor 1 er den laveste andel"
    assert rank_phrase(50.0, 6, "ai_use.drift") == "nr. 4 af 6 offentliggjorte kommuner, hvor 1 er den højeste andel"
    assert "bedst" not in rank_phrase(100.0, 6, "data_use_change.mere")
    assert rank_position(None, 6, "x.y") is None and rank_position(50.0, None, "x.y") is None


# -- reading the tables -----------------------------------------------------------------------------------

def test_read_tables_supplies_missing_tables_and_columns_and_empties_suppressed_rows(kommuner):
    iv = pd.DataFrame([iv_row("kommune", KOMMUNE, "data_use_change.mere", 20, 0.5),
                       iv_row("kommune", OTHER, "data_use_change.mere", 20, 0.5)])
    iv.loc[1, "suppressed"] = True  # a leaked value in a suppressed row
    iv["count"] = [10, 10]
    iv.insert(0, "release_id", "2025-r1-x")
    out = read_tables({"indicator_values": iv, "yoy_changes": pd.DataFrame({"indicator_id": ["a.b"]})}, kommuner)
    assert set(out) == set(fnd.TABLE_COLUMNS)
    for name, cols in fnd.TABLE_COLUMNS.items():
        assert set(cols) <= set(out[name].columns), name
    assert out["trends"].empty and "release_id" not in out["indicator_values"].columns
    assert out["yoy_changes"]["comparison"].tolist() == ["previous_year"]
    r = out["indicator_values"]
    assert r["share"].tolist()[1] is None and r["n"].tolist()[1] is None
    assert all(v is None for v in r["count"])  # no counts at kommune level


def test_spread_of_older_releases_is_taken_from_their_published_rows(kommuner):
    rng = np.random.default_rng(3)
    rows = []
    for ind in ("data_use_change.mere", "further_potential.ja"):
        for code in kommuner.codes:
            if rng.random() < 0.4:
                rows.append({**kb_row(code, ind, 0.0), "n": None, "share": None, "share_shrunk": None,
                             "diff_national_pp": None, "suppressed": True, "percentile": None})
            else:
                rows.append(kb_row(code, ind, float(rng.integers(0, 20)) / 20))
    kb = pd.DataFrame(rows)
    pub = kb[~kb.suppressed]
    kb.loc[~kb.suppressed, "percentile"] = pub.groupby("indicator_id")["share_shrunk"].rank(pct=True) * 100
    out = read_tables({"kommune_benchmarks": kb}, kommuner)["kommune_benchmarks"]
    group_of = kommuner.group_of()
    for r in fnd.records(out):
        if r["share"] is None:
            assert r["percentile_of"] is None or pd.isna(r["percentile_of"])
            continue
        published_rows = [o for o in rows if o["indicator_id"] == r["indicator_id"] and not o["suppressed"]]
        group = [o["share"] for o in published_rows if group_of[o["kommune_kode"]] == group_of[r["kommune_kode"]]]
        everyone = [o["share"] for o in published_rows]
        assert r["percentile_of"] == len(everyone)
        assert (r["group_min"], r["group_max"], r["group_published"]) == (min(group), max(group), len(group))
        assert r["group_median"] == pytest.approx(float(np.median(group)))
        assert (r["national_min"], r["national_max"]) == (min(everyone), max(everyone))
        assert r["national_median"] == pytest.approx(float(np.median(everyone)))


def test_findings_import_without_the_report_renderer():
    """findings is a plain module for the workbook and the UI: importing it loads neither Jinja2 nor
    matplotlib, and importing it first does not break the reports (which import it)."""
    code = ("import sys, benchmark_pipeline.findings as f; "
            "assert 'jinja2' not in sys.modules and 'matplotlib' not in sys.modules; "
            "from benchmark_pipeline.reports import render_reports; print('ok')")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr
