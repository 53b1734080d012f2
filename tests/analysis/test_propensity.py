"""Propensity correlations, the finite-ensemble ceiling and coarse-graining against independent references."""
import numpy as np
import pytest
from scipy import stats

from softlib.analysis import propensity as pp

import helpers


def test_correlations_match_scipy_pooled_and_per_configuration(rng):
    K, n_t, n = 5, 4, 50
    x = rng.normal(size=(K, n))
    y = 0.5 * x[:, None, :] + rng.normal(size=(K, n_t, n)) * np.arange(1, n_t + 1)[None, :, None]
    out = pp.correlations(x, y)
    for t in range(n_t):
        yt = y[:, t, :].ravel()
        assert out["pearson"][t] == pytest.approx(stats.pearsonr(x.ravel(), yt)[0], abs=1e-12)
        assert out["spearman"][t] == pytest.approx(stats.spearmanr(x.ravel(), yt)[0], abs=1e-12)
        per = [stats.pearsonr(x[k], y[k, t])[0] for k in range(K)]
        np.testing.assert_allclose(out["pearson_per_config"][:, t], per, atol=1e-12)
        assert out["pearson_error"][t] == pytest.approx(np.std(per, ddof=1) / np.sqrt(K))
    # noise grows with t: the correlation falls
    assert np.all(np.diff(out["pearson"]) < 0)


def test_correlations_refuse_nan_and_bad_shapes():
    with pytest.raises(ValueError, match="non-finite"):
        pp.correlations(np.array([[1.0, np.nan]]), np.ones((1, 2, 2)))
    with pytest.raises(ValueError, match="expected"):
        pp.correlations(np.ones((2, 3)), np.ones((2, 4, 4)))


def test_ceiling_recovers_the_correlation_with_the_exact_propensity(rng):
    """Synthetic ensemble: true propensity + independent replica noise; sqrt(R) equals the measured
    correlation of the M-replica mean with the truth (a second, direct estimate)."""
    K, n, M, noise = 4, 4000, 32, 2.0
    truth = rng.normal(size=(K, 1, n))
    reps = truth[None] + noise * rng.normal(size=(M, K, 1, n))
    est = reps.mean(0)
    out = pp.ceiling(reps[0::2].mean(0), reps[1::2].mean(0))
    direct = stats.pearsonr(est.ravel(), truth.ravel())[0]
    expected = np.sqrt(1 / (1 + noise ** 2 / M))  # analytic
    assert out["ceiling"][0] == pytest.approx(direct, abs=0.01)
    assert out["ceiling"][0] == pytest.approx(expected, abs=0.01)


def test_coarse_grain_against_brute_force():
    x, s, box = helpers.ka_fluid(300, 3)
    a = np.flatnonzero(s == 0)
    vals = np.random.default_rng(0).normal(size=a.size)
    L = 0.7  # 4 L = 2.8 < half the box (3.15)
    got = pp.coarse_grain(vals, x, box, a, L)
    want = np.empty(a.size)
    for i in range(a.size):
        d = np.sqrt((helpers.minimum_image(x[a] - x[a[i]], box) ** 2).sum(1))
        w = np.where(d < 4 * L, np.exp(-d / L), 0.0)
        want[i] = (w * vals).sum() / w.sum()
    np.testing.assert_allclose(got, want, rtol=1e-12)
    np.testing.assert_array_equal(pp.coarse_grain(vals, x, box, a, 0.0), vals)
    # a constant field stays constant
    np.testing.assert_allclose(pp.coarse_grain(np.ones(a.size), x, box, a, 2.0), 1.0)


def test_no_error_is_quoted_from_fewer_than_five_configurations(rng):
    x = rng.normal(size=(2, 30))
    out = pp.correlations(x, x[:, None, :] + rng.normal(size=(2, 3, 30)))
    assert np.all(np.isnan(out["pearson_error"])) and np.all(np.isfinite(out["pearson"]))
