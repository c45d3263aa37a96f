"""The exact disclosure audit (stats/attack.py) and the suppression that passes it (protect_question)."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benchmark_pipeline.instrument import load_year
from benchmark_pipeline.sample import generate_answers
from benchmark_pipeline.stats import compute_indicators
from benchmark_pipeline.stats.attack import audit_question, audit_tables, published_question, tables_seen_together
from benchmark_pipeline.stats.disclosure import protect_question, public_reasons
from benchmark_pipeline.stats.geography import Geography
from benchmark_pipeline_tests.stats.helpers import hillerod_case, rules_only

MIN = 5


def tiny_geography(regions: list[int], groups: list[int]) -> Geography:
    """Kommuner 1..k with the given region and kommunegruppe index each."""
    return Geography(
        kommune_codes=tuple(str(i + 1) for i in range(len(regions))),
        region_codes=tuple(f"R{i}" for i in range(max(regions) + 1)),
        group_codes=tuple(f"G{i}" for i in range(max(groups) + 1)),
        region_idx=np.array(regions, dtype=np.intp),
        group_idx=np.array(groups, dtype=np.intp),
    )


def view_of(geo, n, counts, suppressed, reason, kind="single", options=("ja", "nej")):
    return published_question(geo, 2023, "q", kind, options, n, counts, suppressed, reason)


def leaks_of(geo, view, **kw):
    return {(leak.geography_level, leak.geography_code, leak.what, leak.column, leak.value)
            for leak in audit_question(geo, view, MIN, **kw).leaks}


# --------------------------------------------------------------------------------------------------
# the cases the first version published


def test_region_minus_kommunegruppe_gives_a_small_kommunes_n_and_answers(kommuner):
    """The Hillerød case: region 1084's hidden kommuner minus kommunegruppe 1's leaves one kommune."""
    geo, n, counts = hillerod_case(kommuner)
    hillerod = geo.kommune_codes.index("219")
    suppressed, reason = rules_only(geo, n)
    assert suppressed[geo.cells[1] == "219"].all(), "the rules suppress Hillerød"
    leaks = leaks_of(geo, view_of(geo, n, counts, suppressed, reason))
    assert ("kommune", "219", "n", None, 3) in leaks
    assert ("kommune", "219", "count", "ja", int(counts[hillerod, 0])) in leaks

    decision = protect_question(geo, 2023, "q", "single", ("ja", "nej"), n, counts, MIN)
    assert decision.suppressed.sum() > suppressed.sum()
    assert leaks_of(geo, view_of(geo, n, counts, decision.suppressed, decision.reason)) == set()
    assert audit_question(geo, view_of(geo, n, counts, decision.suppressed, decision.reason), MIN).narrowest_n_range >= 1


def test_residual_of_an_aggregate_proves_a_hidden_share_of_100_percent():
    """Region R0 = kommuner 1, 2, 3; the published kommune 3 accounts for every 'nej' of the region."""
    geo = tiny_geography([0, 0, 0, 1, 1], [0, 1, 0, 1, 0])
    n = np.array([3, 4, 6, 6, 7])
    counts = np.array([[3, 0], [4, 0], [1, 5], [3, 3], [4, 3]])  # ja, nej
    suppressed = np.zeros(len(geo.cells[0]), dtype=bool)
    suppressed[[geo.cells[1].tolist().index("1"), geo.cells[1].tolist().index("2")]] = True
    reason = np.where(suppressed, "confidential", None).astype(object)
    leaks = leaks_of(geo, view_of(geo, n, counts, suppressed, reason))
    assert ("kommune", "1", "share_100", "ja", 100) in leaks
    assert ("kommune", "2", "share_100", "ja", 100) in leaks


def test_labels_are_known_to_the_attacker():
    """Two hidden kommuner with 7 respondents between them: `below_minimum` on the one and `complementary`
    on the other pin nothing alone, but the labels bound the small one to 1-4 and the other to >= 5: with
    7 in all, the small one has 1 or 2 (its range narrows) and a one-option question can leak."""
    geo = tiny_geography([0, 0, 0], [0, 0, 0])
    n = np.array([2, 5, 9])
    counts = np.array([[2, 0], [5, 0], [4, 5]])
    suppressed, labelled = rules_only(geo, n, labels=True)
    assert list(labelled[-3:]) == ["below_minimum", "complementary", None]
    with_labels = audit_question(geo, view_of(geo, n, counts, suppressed, labelled), MIN)
    without = audit_question(geo, view_of(geo, n, counts, suppressed, public_reasons(labelled)), MIN)
    assert any(leak.what == "share_100" for leak in with_labels.leaks)  # 'ja' is all 7 of the hidden
    assert not any(leak.what == "n" for leak in without.leaks)


# --------------------------------------------------------------------------------------------------
# the audit agrees with an attacker who tries every answer


def brute_force_leaks(geo, view, n_max=8):
    """Every assignment of (n, ja) to the hidden kommuner that fits the published sums; what is pinned."""
    level, code = geo.cells
    k0 = len(level) - len(geo.kommune_codes)
    hidden = [k for k in range(len(geo.kommune_codes))
              if view.suppressed[k0 + k] and view.reason[k0 + k] != "no_respondents"]
    members = {0: list(range(len(geo.kommune_codes)))}
    for i in range(len(geo.region_codes)):
        members[1 + i] = list(np.flatnonzero(geo.region_idx == i))
    for i in range(len(geo.group_codes)):
        members[1 + len(geo.region_codes) + i] = list(np.flatnonzero(geo.group_idx == i))
    per_kommune = [(a, b) for a in range(1, n_max + 1) for b in range(a + 1)]
    solutions = []
    for combo in itertools.product(per_kommune, repeat=len(hidden)):
        value = dict(zip(hidden, combo))
        ok = True
        for cell, ks in members.items():
            tot_n = sum(value[k][0] if k in value else (0 if view.suppressed[k0 + k] else view.n[k0 + k]) for k in ks)
            tot_c = sum(value[k][1] if k in value else (0 if view.suppressed[k0 + k] else view.counts[k0 + k, 0])
                        for k in ks)
            if view.suppressed[cell]:
                ok &= tot_n == 0 if view.reason[cell] == "no_respondents" else tot_n >= 1
            else:
                ok &= tot_n == view.n[cell] and tot_c == view.counts[cell, 0]
            if not ok:
                break
        if ok:
            solutions.append(value)
    leaks = set()
    cells = {k0 + k: [k] for k in hidden} | {c: ks for c, ks in members.items()
                                               if view.suppressed[c] and view.reason[c] != "no_respondents"}
    for cell, ks in cells.items():
        def total(s, j):
            return sum(s[k][j] if k in s else (0 if view.suppressed[k0 + k] else
                       (view.n[k0 + k] if j == 0 else view.counts[k0 + k, 0])) for k in ks)
        ns = {total(s, 0) for s in solutions}
        ja = {total(s, 1) for s in solutions}
        nej = {total(s, 0) - total(s, 1) for s in solutions}
        if len(ns) == 1:
            leaks.add((level[cell], code[cell], "n", None))
        for option, values in (("ja", ja), ("nej", nej)):
            if len(values) == 1 and values != {0}:
                leaks.add((level[cell], code[cell], "count", option))
        for option, j in (("ja", 1), ("nej", None)):
            if all((total(s, 1) if j else total(s, 0) - total(s, 1)) == total(s, 0) for s in solutions):
                leaks.add((level[cell], code[cell], "share_100", option))
    return leaks


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.integers(0, 7), min_size=5, max_size=5), st.data())
def test_audit_agrees_with_a_brute_force_attacker(n_list, data):
    geo = tiny_geography([0, 0, 1, 1, 1], [0, 1, 0, 1, 1])
    n = np.array(n_list)
    ja = np.array([data.draw(st.integers(0, int(v))) for v in n])
    counts = np.stack([ja, n - ja], axis=1)
    suppressed, reason = rules_only(geo, n)
    hidden = [k for k in range(5) if suppressed[-5 + k] and reason[-5 + k] != "no_respondents"]
    if len(hidden) > 3:
        return  # the brute force stays small
    view = view_of(geo, n, counts, suppressed, reason)
    found = {leak[:4] for leak in leaks_of(geo, view)}
    assert found == brute_force_leaks(geo, view)


# --------------------------------------------------------------------------------------------------
# what the suppression publishes is safe


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(st.data())
def test_protected_releases_leak_nothing_over_the_real_kommuner(kommuner, data):
    geo = Geography.from_kommuner(kommuner)
    nk = len(geo.kommune_codes)
    rng = np.random.default_rng(data.draw(st.integers(0, 10**6)))
    n = np.where(rng.random(nk) < 0.4, rng.integers(1, 12, nk), 0)
    kind = data.draw(st.sampled_from(["single", "multi"]))
    options = ("a", "b", "c")
    if kind == "single":
        pick = [rng.multinomial(v, [0.6, 0.3, 0.1]) for v in n]
        counts = np.array(pick, dtype=np.int64)
    else:  # each respondent ticks a non-empty set of options
        counts = np.zeros((nk, 3), dtype=np.int64)
        for k in range(nk):
            for _ in range(n[k]):
                ticks = rng.random(3) < (0.9, 0.5, 0.1)
                ticks[rng.integers(3)] |= not ticks.any()
                counts[k] += ticks
    decision = protect_question(geo, 2024, "q", kind, options, n, counts, MIN)
    view = published_question(geo, 2024, "q", kind, options, n, counts, decision.suppressed, decision.reason)
    assert audit_question(geo, view, MIN).leaks == []
    published = ~decision.suppressed
    assert (geo.stack(n)[published] >= MIN).all()


def test_a_ranking_is_protected_including_its_scores(kommuner):
    geo = Geography.from_kommuner(kommuner)
    nk = len(geo.kommune_codes)
    rng = np.random.default_rng(7)
    n = np.where(rng.random(nk) < 0.3, rng.integers(1, 9, nk), 0)
    m = 4
    first, second, third = (np.zeros((nk, m), dtype=np.int64) for _ in range(3))
    for k in range(nk):
        for _ in range(n[k]):
            order = rng.permutation(m)
            first[k, order[0]] += 1
            second[k, order[1]] += 1
            third[k, order[2]] += 1
    base = np.hstack([first, second, third])
    options = ("tid", "ledelse", "it", "jura")
    decision = protect_question(geo, 2024, "barriers", "ranked", options, n, base, MIN)
    view = published_question(geo, 2024, "barriers", "ranked", options, n, base, decision.suppressed, decision.reason)
    assert audit_question(geo, view, MIN).leaks == []


def test_contradicting_tables_are_refused():
    geo = tiny_geography([0, 0], [0, 0])
    n = np.array([6, 7])
    counts = np.array([[3, 3], [3, 4]])
    view = view_of(geo, n, counts, np.zeros(len(geo.cells[0]), dtype=bool), np.full(len(geo.cells[0]), None))
    view.n[0] = 99  # national n no longer the sum of its kommuner
    with pytest.raises(ValueError, match="contradict"):
        audit_question(geo, view, MIN)


@pytest.mark.parametrize(("year", "respondents", "seed"), [(2024, 1500, 3), (2025, 5000, 6)])
def test_a_generated_year_leaks_nothing_from_its_tables(data_dir, kommuner, year, respondents, seed):
    """What `generate-sample` makes, suppressed and then attacked from its tables alone: nothing to solve for."""
    instrument = load_year(data_dir, year)
    tables = compute_indicators(generate_answers(instrument, respondents, seed=seed), instrument, kommuner,
                                min_respondents=5)
    published = {name: tables[name] for name in ("indicator_values", "barrier_scores")}
    audit = audit_tables(published, Geography.from_kommuner(kommuner), 5)
    assert audit.n_cells > 0  # many kommuner are suppressed at this size: there is something to attack
    assert audit.passed, [str(leak) for leak in audit.leaks[:3]]


CELL = ["geography_level", "geography_code"]


def _suppressed_cells(tables) -> pd.DataFrame:
    values = tables["indicator_values"]
    return values.loc[values["suppressed"], ["question_id", *CELL]].drop_duplicates()


@pytest.mark.slow
def test_two_revisions_of_one_export_leak_nothing_together(data_dir, kommuner):
    """A second revision of the same answers (here: a higher minimum) suppresses differently; what the two
    publish together is attacked as one table. Without the first revision's cells withheld it leaks."""
    instrument = load_year(data_dir, 2024)
    answers = generate_answers(instrument, 1500, seed=3)
    geo = Geography.from_kommuner(kommuner)
    first = compute_indicators(answers, instrument, kommuner, min_respondents=5)
    withheld = _suppressed_cells(first)

    unaware = compute_indicators(answers, instrument, kommuner, min_respondents=7)
    assert not audit_tables(tables_seen_together(first, unaware), geo, 5).passed  # the threat is real

    second = compute_indicators(answers, instrument, kommuner, min_respondents=7, withheld_before=withheld)
    still = withheld.merge(_suppressed_cells(second), how="left", indicator=True)
    assert still["_merge"].eq("both").all()  # every cell the first withheld is still withheld
    audit = audit_tables(tables_seen_together(first, second), geo, 5)
    assert audit.passed, [str(leak) for leak in audit.leaks[:3]]


def test_a_revision_of_the_same_answers_and_settings_suppresses_exactly_as_before(data_dir, kommuner):
    """Withholding what an identical earlier revision withheld changes nothing, so an unchanged rerun's
    tables are the published ones."""
    instrument = load_year(data_dir, 2024)
    answers = generate_answers(instrument, 1500, seed=3)
    first = compute_indicators(answers, instrument, kommuner, min_respondents=5)
    again = compute_indicators(answers, instrument, kommuner, min_respondents=5,
                               withheld_before=_suppressed_cells(first))
    for name in ("indicator_values", "barrier_scores"):
        pd.testing.assert_frame_equal(again[name], first[name])
