"""softlib.analysis.arrhenius on synthetic data with known answers."""
import numpy as np
import pytest
from scipy import stats
from scipy.optimize import curve_fit

from softlib.analysis import arrhenius as ar
from softlib.analysis import rearrangements as rr
from softlib.io.store import json_safe

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


def test_fraction_above_peak_of_gaussians():
    # P(S) = N(mu, s); events drawn from N(mu + k s, s): fraction above the mode = Phi(k)
    rng = np.random.default_rng(15)
    mu, s, k = 1.0, 0.1, 0.7
    soft = rng.normal(mu, s, size=(400, 500))
    n_ev = 20000
    ev = rng.normal(mu + k * s, s, n_ev)
    part = rng.integers(0, 500, n_ev)
    res = rr.fraction_analysis(soft, ev, part, n_boot=100)
    assert res["peak"] == pytest.approx(mu, abs=0.01)
    assert res["median"] == pytest.approx(mu, abs=0.002)
    expect = stats.norm.cdf(k)
    assert abs(res["fraction_above_peak"]["value"] - expect) < 0.03
    assert abs(res["fraction_above_median"]["value"] - expect) < 0.015
    assert abs(res["baseline_above_peak"]["value"] - 0.5) < 0.05
    for key in ("fraction_above_peak", "baseline_above_peak", "fraction_above_median"):
        assert 0 < res[key]["error"] < 0.05
    with pytest.raises(ValueError, match="no rearrangement events"):
        rr.fraction_analysis(soft, [], [])


def test_particle_bin_counts_against_histogram():
    rng = np.random.default_rng(16)
    s = rng.normal(size=(30, 5))
    s[0, 0] = np.nan
    m = rng.random(s.shape) < 0.5
    edges = np.linspace(-1, 1, 5)
    got = rr.particle_bin_counts(s, m, edges)
    for i in range(5):
        v = s[m[:, i] & np.isfinite(s[:, i]), i]
        assert np.array_equal(got[i], np.histogram(v, edges)[0])


def test_event_softness_lag_and_censoring():
    t = np.arange(20) * 0.5
    soft_t = t[::4]                                    # softness every 4th frame
    soft = np.arange(5 * 2, dtype=float).reshape(5, 2)
    soft[2, 1] = np.nan
    ev = {"particle": np.array([0, 1, 1, 0]), "first": np.array([3, 9, 10, 13])}
    vals, part, dropped = rr.event_softness(ev, t, soft_t, soft, lag=0.0, first_valid=3)
    # frame 3 is censored; frames 9 (t = 4.5) and 10 (t = 5.0) take softness frame 2 (t = 4.0),
    # NaN for particle 1; frame 13 (t = 6.5) takes softness frame 3 of particle 0
    assert dropped == {"left_censored": 1, "before_first_softness_frame": 0, "nan_softness": 2}
    assert vals.tolist() == [soft[3, 0]] and part.tolist() == [0]
    # a lag of 2 tau: frame 3 (t = 1.5 - 2 < 0) has no softness before it; 9 and 10 -> frame 1; 13 -> 2
    vals, part, dropped = rr.event_softness(ev, t, soft_t, soft, lag=2.0)
    assert dropped["before_first_softness_frame"] == 1
    assert vals.tolist() == [soft[1, 1], soft[1, 1], soft[2, 0]] and part.tolist() == [1, 1, 0]


def test_match_frames_and_shared_bins():
    t = np.arange(10) * 0.1
    assert rr.match_frames(t[::3], t).tolist() == [0, 3, 6, 9]
    with pytest.raises(ValueError, match="not a frame"):
        rr.match_frames([0.15], t)
    with pytest.raises(ValueError, match="do not overlap"):
        rr.shared_bins([np.linspace(0, 1, 100), np.linspace(2, 3, 100)])
    e = rr.shared_bins([np.linspace(0, 1, 1001), np.linspace(0.5, 2, 1001)], n_bins=4, quantiles=(0, 1))
    np.testing.assert_allclose(e, np.linspace(0.5, 1.0, 5))
    d = rr.softness_density(np.linspace(0, 1, 1000), np.linspace(0, 0.5, 11))
    assert np.sum(d * 0.05) == pytest.approx(0.5, abs=1e-3)


def test_rearrangement_data_aligns_softness_frames():
    rng = np.random.default_rng(17)
    t = np.arange(200) * 0.1
    pos = np.zeros((200, 3, 3))
    pos[100:, 1] += [1.0, 0.0, 0.0]            # particle 1 jumps once, at frame 100
    soft_t = t[::5]
    soft = rng.random((40, 3))
    rd = rr.rearrangement_data(t, pos, soft_t, soft, p_c=0.5, window=3.0)
    assert rd["h"] == 15 and rd["p_hop_s"].shape == (40, 3)
    assert rd["events"]["particle"].tolist() == [1]
    first = rd["events"]["first"][0]
    # the softness is read at the last softness frame at or before the event's first frame
    assert rd["ev_values"].tolist() == [soft[first // 5, 1]]
    with pytest.raises(ValueError, match="same order"):
        rr.rearrangement_data(t, pos[:, :2], soft_t, soft, 0.5, 3.0)


def test_rearrangement_probability_and_json_safe():
    n_all = np.array([[10, 0], [30, 0]])
    n_r = np.array([[5, 0], [5, 0]])
    p, err = rr.rearrangement_probability(n_all, n_r, n_boot=50)
    assert p[0] == pytest.approx(0.25) and np.isnan(p[1])
    assert err[0] >= np.sqrt(0.25 * 0.75 / 40) - 1e-12
    assert json_safe({"a": np.array([1.0, np.nan]), 2: np.float64(np.inf)}) == {"a": [1.0, None], "2": None}
