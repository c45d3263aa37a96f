"""Kommune benchmarks: each kommune beside the national, regional and kommunegruppe shares, with an
empirical-Bayes (beta-binomial) shrunk share toward its kommunegruppe and a percentile rank.

Only published values go in: the function receives the published `indicator_values`, so the priors and
ranks can be reproduced from the release itself and never use a suppressed kommune's answers.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from scipy.special import betaln, digamma, expit, gammaln, logit

from benchmark_pipeline.reference import NATIONAL_CODE, Kommuner
from benchmark_pipeline.stats.geography import Geography
from benchmark_pipeline.stats.indicators import empty_frame
from benchmark_pipeline.stats.tables import KOMMUNE_BENCHMARKS_COLUMNS, as_bool, single_year

MIN_KOMMUNER_FOR_FIT = 3  # fewer published kommuner in a group: the between-kommune spread is not estimable
KAPPA_MIN = 1e-2  # prior strength α+β bounds: ~no shrinkage ... full pooling
KAPPA_MAX = 1e5
MU_EPS = 1e-6


@dataclass(frozen=True)
class BetaPrior:
    mean: float  # μ = α / (α + β)
    strength: float  # κ = α + β (prior "respondents")
    method: str  # "mle" | "moments" | "pooled_moments" | "group_share" | "none"

    @property
    def alpha(self) -> float:
        return self.mean * self.strength

    @property
    def beta(self) -> float:
        return (1 - self.mean) * self.strength

    def shrink(self, count, n):
        """Posterior mean (count + α) / (n + α + β)."""
        count, n = np.asarray(count, float), np.asarray(n, float)
        if self.method == "none":
            with np.errstate(divide="ignore", invalid="ignore"):
                return count / n
        return (count + self.alpha) / (n + self.strength)


def fit_moments(count, n) -> BetaPrior | None:
    """Method-of-moments beta prior from kommune counts; None when there is too little data."""
    count, n = np.asarray(count, float), np.asarray(n, float)
    ok = n > 0
    count, n = count[ok], n[ok]
    if len(n) < 2:
        return None
    p = count / n
    mu = float(np.clip(count.sum() / n.sum(), MU_EPS, 1 - MU_EPS))
    observed_var = float(np.var(p, ddof=1))
    sampling_var = mu * (1 - mu) * float(np.mean(1 / n))
    between = observed_var - sampling_var
    if between <= 0:
        kappa = KAPPA_MAX  # no spread beyond sampling noise: pool fully
    else:
        kappa = float(np.clip(mu * (1 - mu) / between - 1, KAPPA_MIN, KAPPA_MAX))
    return BetaPrior(mu, kappa, "moments")


def beta_binomial_loglik(count, n, a: float, b: float) -> float:
    """Beta-binomial log-likelihood, Σ scipy.stats.betabinom.logpmf(count, n, a, b), via betaln."""
    count, n = np.asarray(count, float), np.asarray(n, float)
    log_choose = gammaln(n + 1) - gammaln(count + 1) - gammaln(n - count + 1)
    return float(np.sum(log_choose + betaln(count + a, n - count + b) - betaln(a, b)))


def beta_binomial_nll(theta, count, n) -> tuple[float, np.ndarray]:
    """Negative log-likelihood (without the binomial constant) and its gradient in θ = (logit μ, log κ).

    The same likelihood as `scipy.stats.betabinom.logpmf` up to a constant that does not depend on the
    prior, written with `betaln`/`digamma` so that the hundreds of fits per year take well under a second.
    """
    return _BetaBinomialNLL(np.asarray(count, float), np.asarray(n, float))(theta)


class _BetaBinomialNLL:
    """`beta_binomial_nll` of one data set, evaluated once per θ.

    TNC asks for the value and the gradient at every point; `minimize` takes them as two callables that
    share this one-point cache, which costs less per evaluation inside scipy than `jac=True`. Keep the
    operations and their order in `_evaluate`: the priors are reproducible bit for bit only while every
    value and gradient is, and an algebraically equal rewrite moves the optimiser's path in the last bits.
    """

    def __init__(self, count: np.ndarray, n: np.ndarray):
        self.count, self.n, self.rest = count, n, n - count
        self._theta: bytes | None = None
        self._result: tuple[float, np.ndarray] | None = None

    def __call__(self, theta) -> tuple[float, np.ndarray]:
        theta = np.asarray(theta, dtype=float)
        key = theta.tobytes()
        if key != self._theta:
            self._result, self._theta = self._evaluate(theta), key
        return self._result

    def value(self, theta) -> float:
        return self(theta)[0]

    def gradient(self, theta) -> np.ndarray:
        return self(theta)[1]

    def _evaluate(self, theta) -> tuple[float, np.ndarray]:
        mu = expit(theta[0])
        kappa = np.exp(theta[1])
        a, b = mu * kappa, (1 - mu) * kappa
        count_a, rest_b = self.count + a, self.rest + b
        ll = np.add.reduce(betaln(count_a, rest_b) - betaln(a, b))
        common = -digamma(self.n + kappa) + digamma(kappa)
        d_a = np.add.reduce(digamma(count_a) - digamma(a) + common)
        d_b = np.add.reduce(digamma(rest_b) - digamma(b) + common)
        g0 = (d_a - d_b) * kappa * mu * (1 - mu)
        g1 = d_a * a + d_b * b
        return -float(ll), -np.array([g0, g1])


def fit_mle(count, n) -> BetaPrior | None:
    """Maximum-likelihood beta-binomial prior (scipy); None when the optimiser does not converge."""
    count, n = np.asarray(count, float), np.asarray(n, float)
    ok = n > 0
    count, n = count[ok], n[ok]
    if len(n) < MIN_KOMMUNER_FOR_FIT:
        return None
    mu0 = float(np.clip(count.sum() / n.sum(), 1e-3, 1 - 1e-3))
    nll = _BetaBinomialNLL(count, n)

    moments = fit_moments(count, n)  # a close starting point saves most of the iterations
    kappa0 = float(np.clip(moments.strength if moments is not None else 10.0, KAPPA_MIN * 10, KAPPA_MAX / 10))
    start_at = np.array([logit(mu0), np.log(kappa0)])
    start = nll(start_at)[0]  # also the optimiser's first evaluation, which the cache then answers

    bounds = [(logit(MU_EPS), logit(1 - MU_EPS)), (np.log(KAPPA_MIN), np.log(KAPPA_MAX))]
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        res = minimize(nll.value, x0=start_at, method="TNC", bounds=bounds, jac=nll.gradient,
                       options={"maxfun": 500})
    if not np.all(np.isfinite(res.x)) or not np.isfinite(res.fun):
        return None
    if not res.success and not res.fun <= start:
        return None
    return BetaPrior(float(expit(res.x[0])), float(np.exp(res.x[1])), "mle")


def fit_prior(count, n, fallback_mean: float | None = None, fallback_strength: float | None = None,
              mle=None) -> BetaPrior:
    """The kommunegruppe prior: MLE, else method of moments, else a pooled fallback.

    With fewer than MIN_KOMMUNER_FOR_FIT published kommuner, the prior mean is `fallback_mean` (the
    published kommunegruppe share, else the pooled share of its published kommuner) and the strength is
    `fallback_strength` (fitted over all published kommuner nationally); without those, no shrinkage.
    `mle` replaces `fit_mle` (e.g. by a memoised one).
    """
    count, n = np.asarray(count, float), np.asarray(n, float)
    prior = (mle or fit_mle)(count, n)
    if prior is None and len(n) >= MIN_KOMMUNER_FOR_FIT:
        prior = fit_moments(count, n)
    if prior is not None:
        return prior
    mean = fallback_mean
    if mean is None or not np.isfinite(mean):
        mean = float(count.sum() / n.sum()) if n.sum() > 0 else None
    if mean is None or fallback_strength is None or not np.isfinite(fallback_strength):
        return BetaPrior(float("nan") if mean is None else float(mean), 0.0, "none")
    return BetaPrior(float(np.clip(mean, MU_EPS, 1 - MU_EPS)), float(fallback_strength), "group_share")


def _aggregate_shares(ind: pd.DataFrame, suppressed: np.ndarray, codes: np.ndarray, level: str
                      ) -> dict[tuple[str, str], float]:
    """(indicator_id, geography code) -> published share at one level (the last row wins, as in a dict)."""
    rows = (ind["geography_level"] == level).to_numpy(dtype=bool) & ~suppressed
    return dict(zip(zip(ind["indicator_id"].to_numpy(dtype=object)[rows].tolist(), codes[rows].tolist()),
                    ind["share"].to_numpy()[rows].astype(float).tolist()))


class _MemoisedMLE:
    """`fit_mle` once per distinct data set. A fit depends on nothing but its data, and in a small sample
    about half of the (indicator, kommunegruppe) data sets repeat one fitted before (all zero, say)."""

    def __init__(self):
        self._fits: dict[tuple[bytes, bytes], BetaPrior | None] = {}

    def __call__(self, count, n) -> BetaPrior | None:
        count, n = np.asarray(count, float), np.asarray(n, float)
        key = (count.tobytes(), n.tobytes())
        if key not in self._fits:
            self._fits[key] = fit_mle(count, n)
        return self._fits[key]


def _shrink_toward_groups(count: np.ndarray, n: np.ndarray, published: np.ndarray, group_arr: np.ndarray,
                          group_shares: dict[str, float | None], mle: _MemoisedMLE) -> np.ndarray:
    """Shrunk share of every published kommune of one indicator toward its kommunegruppe prior (NaN elsewhere)."""
    national_strength: list[float | None] = []  # fitted lazily: only groups with too few kommuner need it

    def fallback_strength() -> float | None:
        """The national prior strength: the fallback for groups with too few published kommuner."""
        if not national_strength:
            prior = mle(count[published], n[published]) or fit_moments(count[published], n[published])
            national_strength.append(prior.strength if prior is not None else None)
        return national_strength[0]

    shrunk = np.full(len(n), np.nan)
    for g, group_share in group_shares.items():
        members = published & (group_arr == g)
        if not members.any():
            continue
        few = int(members.sum()) < MIN_KOMMUNER_FOR_FIT
        prior = fit_prior(count[members], n[members], fallback_mean=group_share,
                          fallback_strength=fallback_strength() if few else None, mle=mle)
        shrunk[members] = prior.shrink(count[members], n[members])
    return shrunk


def _spread(shares: np.ndarray) -> dict[str, np.ndarray]:
    """Lowest, median and highest published share per indicator (row) and how many are published."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # an indicator with no published kommune: NaN
        return {"min": np.nanmin(shares, axis=1), "median": np.nanmedian(shares, axis=1),
                "max": np.nanmax(shares, axis=1), "published": np.isfinite(shares).sum(axis=1)}


def _comparison_group_spread(shares: np.ndarray, group_arr: np.ndarray) -> dict[str, np.ndarray]:
    """`national_*` and `group_*` spread columns in row order (indicator × kommune) from the published
    kommune shares (indicators × kommuner, NaN where suppressed): the whole country, and each kommune's
    kommunegruppe."""
    n_ind, n_codes = shares.shape
    columns = {f"national_{k}": np.repeat(v, n_codes) for k, v in _spread(shares).items()}
    by_group = {k: np.empty((n_ind, n_codes)) for k in ("min", "median", "max", "published")}
    for g in np.unique(group_arr):
        members = group_arr == g
        for k, v in _spread(shares[:, members]).items():
            by_group[k][:, members] = v[:, None]
    columns.update({f"group_{k}": v.reshape(-1) for k, v in by_group.items()})
    return columns


def compute_kommune_benchmarks(indicator_values: pd.DataFrame, kommuner: Kommuner) -> pd.DataFrame:
    """`kommune_benchmarks`: all 98 kommuner × every share indicator of the year.

    The frame is indexed once (kommune rows reindexed to indicator × kommune, the published aggregate
    shares in one dict per level) and built once; only the priors are fitted per indicator and group,
    and those fits are most of the time (a fixed cost: it does not grow with the respondents)."""
    if len(indicator_values) == 0:
        return empty_frame(KOMMUNE_BENCHMARKS_COLUMNS)
    geo = Geography.from_kommuner(kommuner)
    region_of, group_of = geo.region_of, geo.group_of
    codes = list(geo.kommune_codes)
    n_codes = len(codes)
    year = single_year(indicator_values)
    ind = indicator_values
    suppressed_all = as_bool(ind["suppressed"])
    geo_codes = ind["geography_code"].astype("str").to_numpy(dtype=object)
    indicator_ids = list(dict.fromkeys(ind["indicator_id"].tolist()))  # groupby(sort=False) order

    kommune_rows = (ind["geography_level"] == "kommune").to_numpy(dtype=bool)
    kom = ind.loc[kommune_rows, ["n", "share", "suppression_reason"]].copy()  # dtypes kept as published
    kom["suppressed"] = suppressed_all[kommune_rows]
    kom.index = pd.MultiIndex.from_arrays([ind["indicator_id"].to_numpy(dtype=object)[kommune_rows],
                                           geo_codes[kommune_rows]])
    kom = kom.reindex(pd.MultiIndex.from_product([indicator_ids, codes]))
    missing_mask = kom["suppressed"].isna().to_numpy()
    if missing_mask.any():
        first = int(np.flatnonzero(missing_mask)[0]) // n_codes
        block = missing_mask[first * n_codes:(first + 1) * n_codes]
        missing = [c for c, m in zip(codes, block) if m]
        raise ValueError(f"{indicator_ids[first]}: no kommune-level row for {missing[:5]}")
    suppressed_k = kom["suppressed"].to_numpy(dtype=bool)
    n_k = kom["n"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    share_k = kom["share"].to_numpy(dtype=float)
    reasons = kom["suppression_reason"].to_numpy()

    nationals = _aggregate_shares(ind, suppressed_all, geo_codes, "national")
    regions = _aggregate_shares(ind, suppressed_all, geo_codes, "region")
    groups = _aggregate_shares(ind, suppressed_all, geo_codes, "kommunegruppe")
    group_arr = np.array([group_of[c] for c in codes])

    n_ind = len(indicator_ids)
    row_indicator = np.repeat(np.array(indicator_ids, dtype=object), n_codes).tolist()
    row_region = [region_of[c] for c in codes] * n_ind
    row_group = group_arr.tolist() * n_ind
    national_all = np.array([nationals.get((i, NATIONAL_CODE), np.nan) for i in row_indicator], dtype=float)
    region_all = np.array([regions.get(key, np.nan) for key in zip(row_indicator, row_region)], dtype=float)
    group_all = np.array([groups.get(key, np.nan) for key in zip(row_indicator, row_group)], dtype=float)
    count_k = np.round(share_k * n_k)  # counts are not published at kommune level

    shrunk_all = np.full(n_ind * n_codes, np.nan)
    mle = _MemoisedMLE()
    for k, indicator_id in enumerate(indicator_ids):
        sl = slice(k * n_codes, (k + 1) * n_codes)
        group_shares = {g: groups.get((indicator_id, g)) for g in geo.group_codes}
        shrunk_all[sl] = _shrink_toward_groups(count_k[sl], n_k[sl], ~suppressed_k[sl], group_arr, group_shares,
                                               mle)
    # percentile rank among the published kommuner, per indicator (a column each), and how many they are
    ranked = np.where(suppressed_k, np.nan, shrunk_all).reshape(n_ind, n_codes).T
    percentile_all = pd.DataFrame(ranked).rank(pct=True).to_numpy().T.reshape(-1) * 100
    percentile_of = np.repeat(np.isfinite(ranked).sum(axis=0), n_codes)

    published = ~suppressed_k
    spread = _comparison_group_spread(np.where(published, share_k, np.nan).reshape(n_ind, n_codes), group_arr)
    nan_if_supp = lambda a: np.where(published, a, np.nan)  # noqa: E731
    int_if_supp = lambda a: pd.arrays.IntegerArray(np.asarray(a, dtype=np.int64), suppressed_k.copy())  # noqa: E731
    frame = pd.DataFrame(
        {
            "survey_year": np.full(n_ind * n_codes, year, dtype=np.int64),
            "kommune_kode": pd.array(codes * n_ind, dtype="str"),
            "indicator_id": pd.array(np.repeat(np.array(indicator_ids, dtype=object), n_codes), dtype="str"),
            "n": pd.array(np.where(published, n_k, np.nan), dtype="Float64").astype("Int64"),
            "share": nan_if_supp(share_k),
            "share_shrunk": nan_if_supp(shrunk_all),
            "national_share": nan_if_supp(national_all),
            "region_share": nan_if_supp(region_all),
            "group_share": nan_if_supp(group_all),
            "diff_national_pp": nan_if_supp((share_k - national_all) * 100),
            "diff_region_pp": nan_if_supp((share_k - region_all) * 100),
            "diff_group_pp": nan_if_supp((share_k - group_all) * 100),
            "percentile": nan_if_supp(percentile_all),
            "percentile_of": int_if_supp(percentile_of),
            **{name: int_if_supp(values) if name.endswith("_published") else nan_if_supp(values)
               for name, values in spread.items()},
            "suppressed": suppressed_k,
            "suppression_reason": pd.array(reasons, dtype="str"),
        }
    )
    return frame[KOMMUNE_BENCHMARKS_COLUMNS]
