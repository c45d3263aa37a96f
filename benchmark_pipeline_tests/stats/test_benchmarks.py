"""Kommune benchmarks: comparisons, empirical-Bayes shrinkage toward the kommunegruppe, percentiles."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import check_grad
from scipy.stats import betabinom

from benchmark_pipeline.stats import benchmarks as bm
from benchmark_pipeline.stats import compute_indicators, compute_kommune_benchmarks, verify_disclosure
from benchmark_pipeline.stats.tables import KOMMUNE_BENCHMARKS_COLUMNS
from benchmark_pipeline_tests.stats.helpers import random_frame


@pytest.fixture(scope="module")
def year(instrument_2024, kommuner):
    rng = np.random.default_rng(11)
    counts = {c: int(rng.choice([0, 3, 8, 15, 30])) for c in kommuner.codes}
    iv = compute_indicators(random_frame(instrument_2024, counts, 11), instrument_2024, kommuner)["indicator_values"]
    return iv, compute_kommune_benchmarks(iv, kommuner)


def test_shape_and_columns(year, kommuner):
    iv, kb = year
    assert list(kb.columns) == KOMMUNE_BENCHMARKS_COLUMNS
    assert len(kb) == 98 * iv["indicator_id"].nunique()
    assert set(kb["kommune_kode"]) == set(kommuner.codes)
    assert kb["survey_year"].eq(2024).all()


def test_comparisons_against_published_aggregates(year, kommuner):
    iv, kb = year
    region_of, group_of = kommuner.region_of(), kommuner.group_of()
    shares = iv.set_index(["geography_level", "geography_code", "indicator_id"])
    pub = kb[~kb["suppressed"]]
    assert len(pub) > 0
    for r in pub.sample(40, random_state=1).itertuples():
        own = shares.loc[("kommune", r.kommune_kode, r.indicator_id)]
        assert r.share == pytest.approx(own["share"]) and r.n == own["n"]
        nat = shares.loc[("national", "DK", r.indicator_id), "share"]
        assert r.national_share == pytest.approx(nat)
        assert r.diff_national_pp == pytest.approx((r.share - nat) * 100)
        reg = shares.loc[("region", region_of[r.kommune_kode], r.indicator_id)]
        if reg["suppressed"]:
            assert np.isnan(r.region_share) and np.isnan(r.diff_region_pp)
        else:
            assert r.diff_region_pp == pytest.approx((r.share - reg["share"]) * 100)
        grp = shares.loc[("kommunegruppe", group_of[r.kommune_kode], r.indicator_id)]
        if not grp["suppressed"]:
            assert r.diff_group_pp == pytest.approx((r.share - grp["share"]) * 100)


def test_suppressed_kommuner_have_reason_and_no_values(year):
    iv, kb = year
    supp = kb[kb["suppressed"]]
    assert len(supp) > 0
    assert supp.drop(columns=["survey_year", "kommune_kode", "indicator_id", "suppressed",
                              "suppression_reason"]).isna().all().all()
    kom = iv[iv["geography_level"] == "kommune"].set_index(["geography_code", "indicator_id"])
    reasons = kom.loc[list(zip(supp["kommune_kode"], supp["indicator_id"])), "suppression_reason"].to_numpy()
    assert (supp["suppression_reason"].to_numpy() == reasons).all()


def test_shrunk_share_lies_between_kommune_share_and_prior(year, kommuner):
    iv, kb = year
    group_of = kommuner.group_of()
    pub = kb[~kb["suppressed"]].copy()
    pub["group"] = pub["kommune_kode"].map(group_of)
    checked = 0
    for (indicator, g), block in pub.groupby(["indicator_id", "group"]):
        count = np.round(block["share"] * block["n"].astype(float)).to_numpy()
        n = block["n"].astype(float).to_numpy()
        if len(n) < bm.MIN_KOMMUNER_FOR_FIT:
            continue
        prior = bm.fit_prior(count, n)
        lo = np.minimum(block["share"], prior.mean) - 1e-9
        hi = np.maximum(block["share"], prior.mean) + 1e-9
        assert ((block["share_shrunk"] >= lo) & (block["share_shrunk"] <= hi)).all(), (indicator, g)
        # and toward the kommunegruppe share, wherever the kommune is further from it than the prior mean is
        gs = block["group_share"].to_numpy()
        far = np.abs(block["share"].to_numpy() - gs) > np.abs(prior.mean - gs) + 1e-9
        s, k = block["share"].to_numpy()[far], block["share_shrunk"].to_numpy()[far]
        assert (np.abs(k - gs[far]) <= np.abs(s - gs[far]) + 1e-9).all()
        checked += len(block)
    assert checked > 100


def test_percentile_is_rank_of_shrunk_share_among_published(year):
    _, kb = year
    for _, block in list(kb.groupby("indicator_id"))[:10]:
        pub = block[~block["suppressed"]]
        expected = pub["share_shrunk"].rank(pct=True) * 100
        np.testing.assert_allclose(pub["percentile"].to_numpy(), expected.to_numpy())
        assert pub["percentile"].max() == pytest.approx(100.0)
        assert block.loc[block["suppressed"], "percentile"].isna().all()


def test_percentile_is_published_with_the_number_of_kommuner_it_ranks_among(year):
    _, kb = year
    pub = kb[~kb["suppressed"]]
    counts = pub.groupby("indicator_id")["kommune_kode"].transform("size")
    assert (pub["percentile_of"] == counts).all() and str(kb["percentile_of"].dtype) == "Int64"
    ranks = (pub["percentile"] * pub["percentile_of"] / 100).to_numpy(float)  # ties share an average rank
    np.testing.assert_allclose(ranks * 2, np.round(ranks * 2))


def test_comparison_group_spread_is_of_published_kommune_shares(year, kommuner):
    """Lowest, median and highest published kommune share, nationally and in the kommune's kommunegruppe,
    with how many are published; a suppressed row keeps only its keys."""
    iv, kb = year
    kom = iv[(iv["geography_level"] == "kommune") & ~iv["suppressed"]].copy()
    kom["group"] = kom["geography_code"].map(kommuner.group_of())
    pub = kb[~kb["suppressed"]].copy()
    pub["group"] = pub["kommune_kode"].map(kommuner.group_of())
    national = kom.groupby("indicator_id")["share"].agg(["min", "median", "max", "size"])
    group = kom.groupby(["indicator_id", "group"])["share"].agg(["min", "median", "max", "size"])
    want_national = national.loc[pub["indicator_id"]].to_numpy()
    want_group = group.loc[list(zip(pub["indicator_id"], pub["group"]))].to_numpy()
    got_national = pub[["national_min", "national_median", "national_max", "national_published"]].to_numpy(float)
    got_group = pub[["group_min", "group_median", "group_max", "group_published"]].to_numpy(float)
    np.testing.assert_allclose(got_national, want_national.astype(float))
    np.testing.assert_allclose(got_group, want_group.astype(float))
    assert (pub["national_min"] <= pub["share"]).all() and (pub["share"] <= pub["group_max"]).all()
    supp = kb[kb["suppressed"]]
    spread = [c for c in KOMMUNE_BENCHMARKS_COLUMNS if c.startswith(("national_", "group_", "percentile"))]
    assert supp[spread].isna().all().all()


def test_values_hidden_in_suppressed_rows_change_no_benchmark(year, kommuner):
    """The benchmarks read published kommune values only, so what a suppressed row hides never shows."""
    iv, kb = year
    leaky = iv.copy()
    hidden = leaky["suppressed"]
    leaky.loc[hidden, "n"] = 7
    leaky.loc[hidden, "share"] = 1.0
    pd.testing.assert_frame_equal(compute_kommune_benchmarks(leaky, kommuner), kb)


def test_loglik_equals_scipy_betabinom_and_gradient_is_right():
    count = np.array([0, 3, 5, 9, 2.0])
    n = np.array([10, 10, 12, 20, 4.0])
    a, b = 2.5, 4.0
    assert bm.beta_binomial_loglik(count, n, a, b) == pytest.approx(betabinom.logpmf(count, n, a, b).sum())
    # the optimised objective differs from scipy's only by the prior-free binomial constant
    theta = np.array([np.log(a / b), np.log(a + b)])
    const = bm.beta_binomial_loglik(count, n, a, b) + bm.beta_binomial_nll(theta, count, n)[0]
    theta2 = np.array([0.3, 1.1])
    mu, kappa = 1 / (1 + np.exp(-0.3)), np.exp(1.1)
    assert bm.beta_binomial_loglik(count, n, mu * kappa, (1 - mu) * kappa) + bm.beta_binomial_nll(
        theta2, count, n)[0] == pytest.approx(const)
    err = check_grad(lambda t: bm.beta_binomial_nll(t, count, n)[0], lambda t: bm.beta_binomial_nll(t, count, n)[1],
                     np.array([0.2, 1.5]))
    assert err < 1e-4


def test_mle_recovers_a_known_prior():
    rng = np.random.default_rng(3)
    n = np.full(400, 60)
    count = rng.binomial(n, rng.beta(3, 7, size=400))
    prior = bm.fit_mle(count, n)
    assert prior.method == "mle"
    assert prior.mean == pytest.approx(0.3, abs=0.02)
    assert prior.strength == pytest.approx(10, rel=0.3)
    moments = bm.fit_moments(count, n)
    assert moments.mean == pytest.approx(0.3, abs=0.02) and moments.strength == pytest.approx(10, rel=0.35)


def test_no_spread_beyond_sampling_noise_pools_fully():
    n = np.full(10, 50)
    prior = bm.fit_prior(np.full(10, 20), n)
    assert prior.strength > 1000
    assert prior.shrink([20], [50])[0] == pytest.approx(0.4, abs=1e-3)


def test_fallbacks(monkeypatch):
    count, n = np.array([1, 4, 6, 9]), np.array([10, 10, 12, 15])
    monkeypatch.setattr(bm, "fit_mle", lambda c, m: None)
    assert bm.fit_prior(count, n).method == "moments"
    # too few published kommuner in the group: group share as mean, the national strength
    few = bm.fit_prior(count[:2], n[:2], fallback_mean=0.25, fallback_strength=12.0)
    assert (few.method, few.mean, few.strength) == ("group_share", 0.25, 12.0)
    shrunk = few.shrink(count[:2], n[:2])
    own = count[:2] / n[:2]
    assert (shrunk >= np.minimum(own, 0.25)).all() and (shrunk <= np.maximum(own, 0.25)).all()
    none = bm.fit_prior(count[:1], n[:1])
    assert none.method == "none" and none.shrink(count[:1], n[:1])[0] == pytest.approx(0.1)


def test_benchmarks_pass_the_verifier(year, kommuner):
    iv, kb = year
    assert verify_disclosure({"indicator_values": iv, "kommune_benchmarks": kb}, kommuner, 5) == []
    tampered = kb.copy()
    idx = tampered.index[tampered["suppressed"]][0]
    tampered.loc[idx, "share"] = 0.5
    assert verify_disclosure({"indicator_values": iv, "kommune_benchmarks": tampered}, kommuner, 5)


def test_empty_input(kommuner):
    kb = compute_kommune_benchmarks(pd.DataFrame(columns=["survey_year", "indicator_id"]), kommuner)
    assert list(kb.columns) == KOMMUNE_BENCHMARKS_COLUMNS and len(kb) == 0


def _reference_nll(theta, count, n):
    """The objective as first written; the published priors were fitted with exactly this arithmetic."""
    from scipy.special import betaln, digamma, expit

    mu = expit(theta[0])
    kappa = np.exp(theta[1])
    a, b = mu * kappa, (1 - mu) * kappa
    ll = np.sum(betaln(count + a, n - count + b) - betaln(a, b))
    common = -digamma(n + kappa) + digamma(kappa)
    d_a = np.sum(digamma(count + a) - digamma(a) + common)
    d_b = np.sum(digamma(n - count + b) - digamma(b) + common)
    return -float(ll), -np.array([(d_a - d_b) * kappa * mu * (1 - mu), d_a * a + d_b * b])


def _data_sets(seed: int, how_many: int):
    rng = np.random.default_rng(seed)
    for i in range(how_many):
        size = int(rng.integers(3, 60))
        n = rng.integers(1, [8, 200, 20000][i % 3], size).astype(float)
        count = np.round(n * rng.beta(0.5 + 3 * rng.random(), 2, size)) if i % 5 else np.zeros(size)
        yield count, n


def test_objective_is_bit_identical_to_the_reference_arithmetic():
    """The optimiser's path, and so every published prior, depends on the last bit of each evaluation."""
    rng = np.random.default_rng(5)
    for count, n in _data_sets(5, 300):
        theta = np.array([rng.normal(0, 4), rng.uniform(np.log(bm.KAPPA_MIN), np.log(bm.KAPPA_MAX))])
        value, grad = bm.beta_binomial_nll(theta, count, n)
        ref_value, ref_grad = _reference_nll(theta, count, n)
        assert value == ref_value or (np.isnan(value) and np.isnan(ref_value))
        np.testing.assert_array_equal(grad, ref_grad)


def test_fit_takes_the_same_steps_as_minimize_with_jac_true_on_the_reference_objective():
    """Value and gradient as two callables sharing a cache must not move any fitted prior by a bit."""
    from scipy.optimize import minimize
    from scipy.special import expit, logit

    bounds = [(logit(bm.MU_EPS), logit(1 - bm.MU_EPS)), (np.log(bm.KAPPA_MIN), np.log(bm.KAPPA_MAX))]
    for count, n in _data_sets(9, 60):
        moments = bm.fit_moments(count, n)
        mu0 = float(np.clip(count.sum() / n.sum(), 1e-3, 1 - 1e-3))
        kappa0 = float(np.clip(moments.strength if moments else 10.0, bm.KAPPA_MIN * 10, bm.KAPPA_MAX / 10))
        with np.errstate(all="ignore"):
            res = minimize(lambda t: _reference_nll(t, count, n), x0=np.array([logit(mu0), np.log(kappa0)]),
                           method="TNC", bounds=bounds, jac=True, options={"maxfun": 500})
        prior = bm.fit_mle(count, n)
        assert prior is not None
        assert (prior.mean, prior.strength) == (float(expit(res.x[0])), float(np.exp(res.x[1])))


def test_memoised_fit_returns_the_fit_of_its_data():
    mle = bm._MemoisedMLE()
    for count, n in list(_data_sets(2, 20)) * 2:
        assert mle(count, n) == bm.fit_mle(count, n)
    assert len(mle._fits) == 20
