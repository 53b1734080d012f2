"""softlib.analysis.rearrangements: P(S), P(S|R), P_R(S), the fraction above the peak, frame matching."""
import numpy as np
import pytest
from scipy import stats

from softlib.analysis import rearrangements as rr
from softlib.io.store import json_safe



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
