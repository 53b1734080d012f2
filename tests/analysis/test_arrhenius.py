"""softlib.analysis.arrhenius on synthetic data with known answers."""
import numpy as np
import pytest
from scipy.optimize import curve_fit

from softlib.analysis import arrhenius as ar
from softlib.analysis import rearrangements as rr

T_STAR, LN_P_STAR = 0.8, np.log(0.3)   # where all lines of the synthetic law cross


def _delta_e(s):
    return 5.0 - 4.0 * s


def _ln_p0(s):
    # lines ln P_R = ln P0 - Delta E x all pass through (1 / T_STAR, LN_P_STAR)
    return LN_P_STAR + _delta_e(s) / T_STAR


def _synthetic(temps, n_particles, n_frames, rng, levels):
    """Softness on discrete levels (one per bin), rearranging with P_R = P0 exp(-Delta E / T)."""
    out = []
    for T in temps:
        s = rng.choice(levels, size=(n_frames, n_particles))
        p = np.exp(_ln_p0(s) - _delta_e(s) / T)
        p_hop = np.where(rng.random(s.shape) < p, 2.0, 0.5)
        p_hop[:2] = np.nan                                   # window does not fit there
        out.append((s, p_hop))
    return out


LEVELS = np.linspace(0.8, 1.2, 6)
EDGES = np.linspace(0.76, 1.24, 7)                           # one level per bin, at its center


def test_exact_law_is_recovered():
    temps = [0.5, 0.55, 0.6, 0.7]
    tables = []
    for T in temps:  # expected counts, no noise: 10^6 frames per bin in one 'particle'
        n_all = np.full((1, 6), 10**6)
        n_r = np.round(n_all * np.exp(_ln_p0(LEVELS) - _delta_e(LEVELS) / T)).astype(np.int64)
        tables.append((n_all, n_r))
    fit = ar.fit_arrhenius(temps, tables, EDGES, n_boot=20)
    np.testing.assert_allclose(fit.centers, LEVELS, atol=1e-12)
    np.testing.assert_allclose(fit.delta_e, _delta_e(LEVELS), rtol=1e-3)
    np.testing.assert_allclose(fit.ln_p0, _ln_p0(LEVELS), atol=2e-3)
    assert fit.crossing["T"] == pytest.approx(T_STAR, rel=1e-3)
    assert fit.crossing["ln_p"] == pytest.approx(LN_P_STAR, abs=2e-3)
    assert fit.excluded == []
    bt = ar.barrier_trend(fit)
    assert bt["S"]["slope"] == pytest.approx(-4.0, rel=1e-3) and bt["S"]["r2"] > 0.9999
    x, y = ar.collapse(fit)
    np.testing.assert_allclose(y, np.exp(-x), rtol=1e-2)  # P_R / P0 = exp(-Delta E / T)


def test_noisy_law_recovered_within_errors():
    rng = np.random.default_rng(11)
    temps = [0.5, 0.55, 0.6, 0.7]
    data = _synthetic(temps, 400, 300, rng, LEVELS)
    tables = [rr.rearrangement_table(s, p, 1.0, EDGES) for s, p in data]
    fit = ar.fit_arrhenius(temps, tables, EDGES, n_boot=200, seed=1)
    z = (fit.delta_e - _delta_e(LEVELS)) / fit.delta_e_err
    assert np.all(np.abs(z) < 4)
    z0 = (fit.ln_p0 - _ln_p0(LEVELS)) / fit.ln_p0_err
    assert np.all(np.abs(z0) < 4)
    c = fit.crossing
    assert c["low"] < T_STAR < c["high"] and c["n_failed"] == 0
    assert c["high"] - c["low"] < 0.2
    assert np.all(np.isfinite(fit.chi2_dof)) and fit.dof == 2


def test_empty_bins_are_excluded_and_reported():
    rng = np.random.default_rng(12)
    temps = [0.5, 0.6, 0.7]
    data = _synthetic(temps, 100, 100, rng, LEVELS[1:])      # nothing ever in bin 0
    tables = [rr.rearrangement_table(s, p, 1.0, EDGES) for s, p in data]
    fit = ar.fit_arrhenius(temps, tables, EDGES, n_boot=50)
    assert not fit.kept[0] and fit.kept[1:].all()
    assert fit.excluded[0]["bin"] == 0 and "particle-frames at T = 0.5" in fit.excluded[0]["reason"]
    assert np.isnan(fit.delta_e[0]) and np.all(np.isfinite(fit.delta_e[1:]))
    # a bin without rearrangements at one T is excluded with its own reason
    a, r = tables[0]
    r = r.copy()
    r[:, 3] = 0
    fit = ar.fit_arrhenius(temps, [(a, r)] + tables[1:], EDGES, n_boot=50)
    assert any(e["bin"] == 3 and "no rearranging" in e["reason"] for e in fit.excluded)


def test_temperature_restriction():
    rng = np.random.default_rng(13)
    temps = [0.5, 0.6, 0.7, 0.8]
    tables = [rr.rearrangement_table(s, p, 1.0, EDGES) for s, p in _synthetic(temps, 50, 100, rng, LEVELS)]
    fit = ar.fit_arrhenius(temps, tables, EDGES, t_max=0.6, n_boot=50)
    assert fit.temperatures.tolist() == [0.5, 0.6]
    assert fit.dof == 0 and np.all(np.isnan(fit.chi2_dof))  # two points: no chi^2 to speak of
    with pytest.raises(ValueError, match="at least 2 temperatures"):
        ar.fit_arrhenius(temps, tables, EDGES, t_max=0.55)
    with pytest.raises(ValueError, match="one .* table per temperature"):
        ar.fit_arrhenius(temps[:3], tables, EDGES)


def test_too_few_bins_raise():
    tables = [(np.full((1, 6), 100), np.zeros((1, 6), int)) for _ in range(3)]
    with pytest.raises(ValueError, match="populated at every temperature"):
        ar.fit_arrhenius([0.5, 0.6, 0.7], tables, EDGES)


def test_weighted_line_against_curve_fit():
    rng = np.random.default_rng(14)
    x = np.linspace(1, 2, 7)
    s = rng.uniform(0.05, 0.2, 7)
    y = 1.0 - 2.0 * x + rng.normal(size=7) * s
    a, b, cov, chi2, dof = ar.weighted_line(x, y, s)
    popt, pcov = curve_fit(lambda x, a, b: a + b * x, x, y, sigma=s, absolute_sigma=True)
    np.testing.assert_allclose([a, b], popt, rtol=1e-8)
    np.testing.assert_allclose(cov, pcov, rtol=1e-6)
    assert dof == 5


def test_crossing_point():
    xs, ys = 1.3, -0.7
    b = np.array([-1.0, -2.0, -3.5])
    assert ar.crossing_point(ys - b * xs, b) == pytest.approx((xs, ys))
    with pytest.raises(ValueError, match="parallel"):
        ar.crossing_point([0.0, 1.0], [2.0, 2.0])
