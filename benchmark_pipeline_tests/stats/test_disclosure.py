"""Disclosure control: hand-worked cases, properties over random kommune counts, and the verifier."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benchmark_pipeline.stats import compute_indicators, decide_suppression, verify_disclosure
from benchmark_pipeline.stats.verify import _hierarchy, audit_subtraction
from benchmark_pipeline.stats.tables import SUPPRESSION_REASONS
from benchmark_pipeline_tests.stats.helpers import random_frame


def _reasons(decision: pd.DataFrame) -> dict[tuple[str, str], str | None]:
    return {
        (r.geography_level, r.geography_code): (r.suppression_reason if r.suppressed else None)
        for r in decision.itertuples()
    }


def test_minimum_below_five_is_refused(kommuner):
    with pytest.raises(ValueError):
        decide_suppression({"101": 10}, kommuner, 4)


def test_primary_and_no_respondents(kommuner):
    d = _reasons(decide_suppression({"101": 10, "147": 5, "151": 4, "153": 2}, kommuner, 5))
    assert d[("kommune", "147")] is None  # exactly the minimum is published
    assert d[("kommune", "151")] == "below_minimum"
    assert d[("kommune", "153")] == "below_minimum"
    assert d[("kommune", "155")] == "no_respondents"
    assert d[("region", "1081")] == "no_respondents"


def test_complementary_within_region_suppresses_smallest_lowest_code(kommuner):
    # Region Syddanmark (1082), all three in kommunegruppe 3: 615 has 2 respondents; 657 and 661 tie at 6.
    d = _reasons(decide_suppression({"615": 2, "657": 6, "661": 6}, kommuner, 5))
    assert d[("kommune", "615")] == "below_minimum"
    assert d[("kommune", "657")] == "complementary"  # smallest published, tie broken by the lowest code
    assert d[("kommune", "661")] is None
    assert d[("region", "1082")] is None and d[("kommunegruppe", "3")] is None
    assert d[("national", "DK")] is None


def test_complementary_is_not_needed_when_suppressed_members_reach_the_minimum(kommuner):
    # Aalborg (851, region 1081) and Aarhus (751, region 1082), both kommunegruppe 2, 3 respondents each.
    d = _reasons(decide_suppression({"851": 3, "751": 3}, kommuner, 5))
    assert d[("kommune", "851")] == d[("kommune", "751")] == "below_minimum"
    assert d[("region", "1081")] == d[("region", "1082")] == "below_minimum"
    assert d[("kommunegruppe", "2")] is None  # 6 respondents in two suppressed members: nothing recoverable
    assert d[("national", "DK")] is None


def test_national_total_over_regions_and_groups(kommuner):
    # Region 1081 has only Aalborg with 3; region 1084 has København 10 and Frederiksberg 12 (group 1).
    decision = decide_suppression({"851": 3, "101": 10, "147": 12}, kommuner, 5)
    d = _reasons(decision)
    assert d[("region", "1081")] == "below_minimum"
    assert d[("region", "1084")] == "complementary"  # else 1081 = national - 1084
    # 1084 would still follow from its two published kommuner, and national − all published kommuner
    # would be 851's 3: the smaller of them (101) is suppressed too; 851 + 101 = 13 is all that follows.
    assert d[("kommune", "101")] == "complementary" and d[("kommune", "147")] is None
    assert d[("kommunegruppe", "2")] == "below_minimum"
    assert d[("kommunegruppe", "1")] == "complementary"
    assert d[("national", "DK")] is None
    assert _audit(decision, kommuner) == []


def test_one_level_rule_alone_would_leak_and_is_closed(kommuner):
    """The example that shows why a complementary cell must not be the only unknown of another sum.

    Region 1081: 851 (group 2) 3, 840 (group 4) 10, 773 and 787 (group 5) 8 and 6. The one-level rule
    alone suppresses 851, 787 and kommunegruppe 4 (national over groups); then 787 = group 5 − 773 and
    group 4 = 840, so group 2 = national − group 4 − group 5 = 3 and 851 = region − 840 − 773 − 787 = 3.
    """
    counts = {"851": 3, "840": 10, "773": 8, "787": 6}
    decision = decide_suppression(counts, kommuner, 5)
    d = _reasons(decision)
    assert d[("kommune", "851")] == "below_minimum"
    assert d[("kommune", "787")] == "complementary"
    assert d[("kommunegruppe", "4")] == "complementary"
    assert d[("kommune", "773")] == "complementary"  # else 787 = group 5 - 773
    assert d[("kommune", "840")] == "complementary"  # else group 4 = 840
    assert d[("region", "1081")] is None and d[("national", "DK")] is None
    assert _audit(decision, kommuner) == []


def _audit(decision: pd.DataFrame, kommuner, minimum: int = 5) -> list[str]:
    cells = {
        (r.geography_level, r.geography_code): (
            (0 if r.suppression_reason == "no_respondents" else None) if r.suppressed else int(r.n)
        )
        for r in decision.itertuples()
    }
    return audit_subtraction(cells, _hierarchy(kommuner), minimum, "test")


def _partitions(kommuner):
    t = kommuner.table
    parts = [(("region", r), [("kommune", k) for k in g["kommune_kode"]]) for r, g in t.groupby("region_kode")]
    parts += [
        (("kommunegruppe", r), [("kommune", k) for k in g["kommune_kode"]]) for r, g in t.groupby("kommunegruppe_kode")
    ]
    parts.append((("national", "DK"), [("region", r) for r in t["region_kode"].unique()]))
    parts.append((("national", "DK"), [("kommunegruppe", r) for r in t["kommunegruppe_kode"].unique()]))
    return parts


def _check_no_recovery(decision: pd.DataFrame, kommuner, minimum: int) -> None:
    cells = list(zip(decision["geography_level"], decision["geography_code"]))
    n = dict(zip(cells, decision["n"].astype(int)))
    published = dict(zip(cells, ~decision["suppressed"].to_numpy(dtype=bool)))
    reason = dict(zip(cells, decision["suppression_reason"]))
    for cell in cells:
        # primary: nothing published under the minimum, at any level
        assert not (published[cell] and n[cell] < minimum), cell
        assert (reason[cell] == "no_respondents") == (n[cell] == 0), cell
    for total, members in _partitions(kommuner):
        if not published[total]:
            continue
        # what subtraction from the published total reveals: the combined n of its suppressed members
        residual = n[total] - sum(n[m] for m in members if published[m])
        assert residual == 0 or residual >= minimum, (total, residual)
        hidden = [m for m in members if not published[m] and n[m] > 0]
        assert len(hidden) != 1, (total, hidden)  # a single suppressed member would equal the residual


kommune_counts = st.lists(
    st.one_of(st.just(0), st.integers(1, 4), st.integers(5, 40)), min_size=98, max_size=98
)


@pytest.mark.slow
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(counts=kommune_counts, minimum=st.sampled_from([5, 5, 5, 8]))
def test_property_nothing_recoverable(kommuner, counts, minimum):
    n_by_kommune = dict(zip(kommuner.codes, counts))
    decision = decide_suppression(n_by_kommune, kommuner, minimum)
    assert len(decision) == 1 + 5 + 5 + 98
    _check_no_recovery(decision, kommuner, minimum)
    assert _audit(decision, kommuner, minimum) == []
    kom = decision[decision["geography_level"] == "kommune"].set_index("geography_code")
    assert not (~kom["suppressed"] & (kom["n"] < minimum)).any()


@settings(
    max_examples=12, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@pytest.mark.slow
@given(counts=kommune_counts, seed=st.integers(0, 10_000))
def test_property_published_tables_pass_verification(kommuner, instrument_2024, counts, seed):
    """End to end: random respondents per kommune → indicators → the independent verifier finds nothing."""
    frame = random_frame(instrument_2024, dict(zip(kommuner.codes, counts)), seed)
    tables = compute_indicators(frame, instrument_2024, kommuner, 5)
    iv = tables["indicator_values"]
    kom = iv[iv["geography_level"] == "kommune"]
    assert not (~kom["suppressed"] & (kom["n"].astype("Float64") < 5).fillna(True)).any()
    assert kom["count"].isna().all()
    assert verify_disclosure(tables, kommuner, 5) == []
    # subtraction from every published region and kommunegruppe total, per question, from the published table
    t = kommuner.table
    for question, block in iv.groupby("question_id"):
        one = block.drop_duplicates(["geography_level", "geography_code"])
        cells = list(zip(one["geography_level"], one["geography_code"]))
        n = dict(zip(cells, one["n"].astype("Float64").fillna(0).astype(int)))
        supp = dict(zip(cells, one["suppressed"]))
        for level, col in (("region", "region_kode"), ("kommunegruppe", "kommunegruppe_kode")):
            for code, members in t.groupby(col)["kommune_kode"]:
                if supp[(level, code)]:
                    continue
                published_n = sum(n[("kommune", k)] for k in members if not supp[("kommune", k)])
                residual = n[(level, code)] - published_n
                assert residual == 0 or residual >= 5, (question, level, code, residual)


@pytest.fixture(scope="module")
def published(kommuner, instrument_2024):
    rng = np.random.default_rng(7)
    counts = {c: int(rng.choice([0, 2, 6, 12])) for c in kommuner.codes}
    return compute_indicators(random_frame(instrument_2024, counts, 7), instrument_2024, kommuner, 5)


def test_all_indicators_of_a_question_share_the_decision(published):
    iv = published["indicator_values"]
    per = iv.groupby(["question_id", "geography_level", "geography_code"])["suppressed"].nunique()
    assert (per == 1).all()


def test_suppressed_rows_keep_keys_and_carry_no_values(published):
    for name, fields in (
        ("indicator_values", ["n", "count", "share", "ci_low", "ci_high"]),
        ("barrier_scores", ["n", "score", "score_ci_low", "score_ci_high", "top3_share", "first_share"]),
    ):
        t = published[name]
        supp = t[t["suppressed"]]
        assert len(supp) > 0
        assert supp[fields].isna().all().all()
        assert supp["suppression_reason"].isin(SUPPRESSION_REASONS).all()
        assert supp[["geography_level", "geography_code"]].notna().all().all()
        assert t.loc[~t["suppressed"], "suppression_reason"].isna().all()


def test_verifier_catches_changes_trends_and_spread_resting_on_a_suppressed_value(published, kommuner):
    """A change or trend row exists only where this year's value is published; a suppressed benchmark row
    keeps only its keys (the spread columns included)."""
    from benchmark_pipeline.stats import compute_kommune_benchmarks, compute_trends, compute_yoy

    iv = published["indicator_values"]
    earlier = pd.concat([iv.assign(survey_year=2022), iv.assign(survey_year=2023)], ignore_index=True)
    tables = {"indicator_values": iv, "yoy_changes": compute_yoy(iv, earlier),
              "trends": compute_trends(iv, earlier),
              "kommune_benchmarks": compute_kommune_benchmarks(iv, kommuner)}
    assert len(tables["trends"]) and set(tables["yoy_changes"]["comparison"]) == {"previous_year", "first_year"}
    assert verify_disclosure(tables, kommuner, 5) == []
    hidden = iv[(iv["geography_level"] == "kommune") & iv["suppressed"]].iloc[0]
    for name in ("yoy_changes", "trends"):
        row = tables[name].iloc[[0]].assign(geography_level="kommune", geography_code=hidden["geography_code"],
                                            indicator_id=hidden["indicator_id"])
        tampered = {**tables, name: pd.concat([tables[name], row], ignore_index=True)}
        assert any(p.startswith(f"{name}: 1 rows for indicators suppressed") for p in
                   verify_disclosure(tampered, kommuner, 5)), name
    kb = tables["kommune_benchmarks"].copy()
    kb.loc[kb.index[kb["suppressed"]][0], "group_median"] = 0.5
    assert any("kommune_benchmarks" in p and "carry a value" in p
               for p in verify_disclosure({**tables, "kommune_benchmarks": kb}, kommuner, 5))


def test_barrier_scores_follow_the_barriers_decision(published):
    iv = published["indicator_values"]
    b = iv[iv["question_id"] == "barriers"].groupby(["geography_level", "geography_code"])["suppressed"].first()
    s = published["barrier_scores"].groupby(["geography_level", "geography_code"])["suppressed"].first()
    pd.testing.assert_series_equal(b.sort_index(), s.sort_index(), check_names=False)


def test_verifier_accepts_and_then_catches_tampering(published, kommuner):
    assert verify_disclosure(published, kommuner, 5) == []
    iv = published["indicator_values"]
    kom_pub = iv.index[(iv["geography_level"] == "kommune") & ~iv["suppressed"]][0]

    t = iv.copy()
    t.loc[kom_pub, "count"] = 3
    assert any("count" in p for p in verify_disclosure({"indicator_values": t}, kommuner, 5))

    t = iv.copy()
    trail = published["suppression_trail"]
    small = trail[(trail["geography_level"] == "kommune") & (trail["rule"] == "below_minimum")].iloc[0]
    supp = t.index[(t["geography_level"] == "kommune") & (t["geography_code"] == small["geography_code"])
                   & (t["question_id"] == small["question_id"])]
    t.loc[supp[0], "share"] = 0.5
    assert any("suppressed rows carry a value" in p for p in verify_disclosure({"indicator_values": t}, kommuner, 5))

    # publishing a below-minimum kommune (unsuppressing it) is caught as a small published n
    t = iv.copy()
    q = t.loc[supp[0], "question_id"]
    rows = (t["question_id"] == q) & (t["geography_code"] == t.loc[supp[0], "geography_code"]) & (
        t["geography_level"] == "kommune"
    )
    t.loc[rows, ["suppressed", "suppression_reason"]] = [False, None]
    t.loc[rows, "n"] = 2
    t.loc[rows, "share"] = 0.5
    assert any("fewer than 5" in p for p in verify_disclosure({"indicator_values": t}, kommuner, 5))


def test_verifier_catches_recovery_by_subtraction(kommuner, instrument_2024):
    # Region 1082 (all kommunegruppe 3): 615 has 2, 657 and 661 have 6 respondents. Publishing the
    # complementary cell 657 lets 615 = region − 657 − 661 = 2.
    frame = random_frame(instrument_2024, {"615": 2, "657": 6, "661": 6}, 3)
    tables = compute_indicators(frame, instrument_2024, kommuner, 5)
    assert verify_disclosure(tables, kommuner, 5) == []
    iv = tables["indicator_values"].copy()
    trail = tables["suppression_trail"]
    complementary = trail[(trail["geography_code"] == "657") & (trail["rule"] == "complementary")]["question_id"]
    comp = (iv["geography_code"] == "657") & iv["question_id"].isin(complementary)
    assert comp.any()
    iv.loc[comp, ["suppressed", "suppression_reason"]] = [False, None]
    iv.loc[comp, "n"] = 6
    iv.loc[comp, "share"] = 0.5
    problems = verify_disclosure({"indicator_values": iv}, kommuner, 5)
    assert any("recoverable by subtraction" in p or "leaves" in p for p in problems)


def test_verifier_refuses_minimum_below_five(published, kommuner):
    with pytest.raises(ValueError):
        verify_disclosure(published, kommuner, 3)


def survey_rule_only(n_by_kommune: dict, kommuner, minimum: int) -> dict:
    """A plain reference implementation of SURVEY.md section 4's rule alone (no single-unknown check)."""
    t = kommuner.table
    n = {("kommune", k): n_by_kommune.get(k, 0) for k in t["kommune_kode"]}
    for level, col in (("region", "region_kode"), ("kommunegruppe", "kommunegruppe_kode")):
        for code, members in t.groupby(col)["kommune_kode"]:
            n[(level, code)] = sum(n_by_kommune.get(k, 0) for k in members)
    n[("national", "DK")] = sum(n_by_kommune.values())
    reason = {c: ("no_respondents" if v == 0 else "below_minimum" if v < minimum else None) for c, v in n.items()}

    def key(cell):
        return (n[cell], int(cell[1]))

    partitions = sorted(_partitions(kommuner)[:-2], key=lambda p: (p[0][0] != "region", int(p[0][1])))
    partitions += [(("national", "DK"), sorted(p[1], key=lambda c: int(c[1]))) for p in _partitions(kommuner)[-2:]]
    changed = True
    while changed:
        changed = False
        for total, members in partitions:
            hidden = [m for m in members if reason[m] is not None and n[m] > 0]
            if hidden and sum(n[m] for m in hidden) < minimum:
                published = [m for m in members if reason[m] is None]
                if published:
                    reason[min(published, key=key)] = "complementary"
                    changed = True
                elif reason[total] is None:
                    reason[total] = "complementary"
                    changed = True
    return reason


def _cells(reason: dict, n: dict) -> dict:
    return {c: (n[c] if r is None else 0 if r == "no_respondents" else None) for c, r in reason.items()}


def test_reference_shows_the_leak_the_extra_rule_closes(kommuner):
    counts = {"851": 3, "840": 10, "773": 8, "787": 6}
    ref = survey_rule_only(counts, kommuner, 5)
    assert ref[("kommune", "773")] is None and ref[("kommune", "787")] == "complementary"
    assert ref[("kommunegruppe", "4")] == "complementary" and ref[("kommune", "840")] is None
    decision = decide_suppression(counts, kommuner, 5)
    n = dict(zip(zip(decision["geography_level"], decision["geography_code"]), decision["n"].astype(int)))
    problems = audit_subtraction(_cells(ref, n), _hierarchy(kommuner), 5, "survey rule only")
    assert any("kommune 851 is recoverable" in p for p in problems)


@pytest.mark.slow
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(counts=kommune_counts)
def test_property_same_as_survey_rule_whenever_that_is_already_safe(kommuner, counts):
    """The extra "no single unknown" rule only acts where SURVEY.md's rule alone leaves a value recoverable."""
    n_by_kommune = dict(zip(kommuner.codes, counts))
    decision = decide_suppression(n_by_kommune, kommuner, 5)
    n = dict(zip(zip(decision["geography_level"], decision["geography_code"]), decision["n"].astype(int)))
    ref = survey_rule_only(n_by_kommune, kommuner, 5)
    if audit_subtraction(_cells(ref, n), _hierarchy(kommuner), 5, "ref") == []:
        assert _reasons(decision) == ref


@pytest.mark.slow
def test_verifier_and_yoy_read_tables_back_from_csv_and_parquet(published, kommuner, tmp_path):
    """The blocking check runs on staged files (with a release_id column), which may come back from CSV."""
    from benchmark_pipeline.stats import compute_yoy

    back = {}
    for name, table in published.items():
        staged = table.copy()
        staged.insert(0, "release_id", "r1")
        staged.to_csv(tmp_path / f"{name}.csv", index=False)
        staged.to_parquet(tmp_path / f"{name}.parquet")
        back[name] = pd.read_csv(tmp_path / f"{name}.csv")
        assert verify_disclosure({name: pd.read_parquet(tmp_path / f"{name}.parquet")}, kommuner, 5) == []
    assert verify_disclosure(back, kommuner, 5) == []
    iv = published["indicator_values"]
    previous = back["indicator_values"].assign(survey_year=2023)
    from_csv = compute_yoy(iv, previous)
    direct = compute_yoy(iv, iv.assign(survey_year=2023))
    assert len(from_csv) == len(direct) > 0
    np.testing.assert_allclose(from_csv["p_value"], direct["p_value"])
