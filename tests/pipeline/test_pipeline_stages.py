"""The pipeline steps moved out of notebooks 02-05, checked against independent expectations."""
import json

import numpy as np
import pytest

from softlib.analysis import lifetime as lt
from softlib.analysis._local_kernels import GAUSS_CUT
from softlib.io.store import write_json
from softlib.io.trajectory import Trajectory
from softlib.pipeline import calibration_stage as cs
from softlib.pipeline import lifetime_stage as ls
from softlib.pipeline import rearrangement_stage as rs
from softlib.pipeline import softness_stage as ss
from softlib.pipeline.layout import Layout


def _liquid(rng, frames, n=120, box=6.0):
    pos = rng.uniform(0, box, (frames, n, 3))
    species = np.r_[np.zeros(int(0.8 * n), int), np.ones(n - int(0.8 * n), int)]
    return pos, species, np.full(3, box)


# ------------------------------------------------------------------------------------ notebook 02
def test_pooling_two_samples_equals_one_trajectory_of_all_their_frames(tmp_path):
    rng = np.random.default_rng(1)
    p1, species, box = _liquid(rng, 3)
    p2, _, _ = _liquid(rng, 3)
    a = Trajectory.from_arrays(p1, species, box)
    b = Trajectory.from_arrays(p2, species, box)
    both = Trajectory.from_arrays(np.concatenate([p1, p2]), species, box)
    kw = dict(q_max=8.0, max_vectors=20, dq=0.5)
    lay = Layout("quick", tmp_path / "b", tmp_path / "d", tmp_path / "f")
    pooled = cs.pool_structure({0.6: [a, b]}, n_frames=6, layout=lay, **kw)[0.6]
    ref = cs.pool_structure({0.6: [both]}, n_frames=6, **kw)[0.6]
    assert pooled["n_frames"] == ref["n_frames"] == 6 and pooled["samples"] == 2 and pooled["N"] == 120
    np.testing.assert_allclose(pooled["g"], ref["g"], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(pooled["S"], ref["S"], rtol=1e-12, atol=1e-12)
    stored = np.load(lay.structure_of(0.6))
    np.testing.assert_array_equal(stored["S"], pooled["S"])
    # frames are spread evenly and include both ends
    assert cs.evenly_spaced(10, 4).tolist() == [0, 3, 6, 9] and cs.evenly_spaced(3, 10).tolist() == [0, 1, 2]


def test_calibration_sources_and_columns(tmp_path):
    class Ctx:
        layout = Layout("quick", tmp_path / "b", tmp_path / "d", tmp_path / "f")
        temperatures, tags = [0.6], {0.6: ["T0.600_s0", "T0.600_s1"]}

    src = cs.calibration_sources(Ctx)
    assert src == {0.6: [str(tmp_path / f"b/quick/runs/T0.600_s{k}/linear.gsd") for k in (0, 1)]}
    assert cs.calibration_sources(Ctx, {"0.5": "x.gsd", 0.7: ["y", "z"]}) == {0.5: ["x.gsd"], 0.7: ["y", "z"]}
    col = cs.calibration_columns({0.8: {"S_av": 0.5, "Phi_q": -1, "Phi_r": -2},
                                  0.6: {"S_av": 0.25, "Phi_q": -3, "Phi_r": -4}})
    assert col["T"].tolist() == [0.6, 0.8] and col["inv_S"].tolist() == [4.0, 2.0]
    assert col["Phi_r"].tolist() == [-4, -2]


# ------------------------------------------------------------------------------------ notebook 03
def test_eq8_terms_are_one_gaussian_per_neighbour_and_sum_to_the_local_rdf():
    rng = np.random.default_rng(2)
    pos, species, box = _liquid(rng, 1, n=200, box=7.0)
    r = np.linspace(0.5, 2.0, 151)
    delta = 0.09
    t = ss.neighbour_terms(pos[0], species, box, 3, r, delta, reach=GAUSS_CUT)
    total = t["terms"][0].sum(0), t["terms"][1].sum(0)
    np.testing.assert_allclose(np.array(total), t["g"], rtol=1e-6, atol=1e-9)
    # each term by hand: a unit Gaussian at r_ij over 4 pi r^2 rho_v
    rho_a = (np.sum(species == 0) - 1) / np.prod(box)
    x = t["r_ij"][0][0]
    hand = np.exp(-(r - x) ** 2 / (2 * delta**2)) / np.sqrt(2 * np.pi * delta**2) / (4 * np.pi * r**2 * rho_a)
    np.testing.assert_allclose(t["terms"][0][0], hand, rtol=1e-6)


def test_softness_moments_and_shared_histograms():
    rng = np.random.default_rng(3)
    data = {T: {"depth": rng.normal(-T, 1, 5000), "paper": rng.gamma(2, T, 4000), "smeared": rng.gamma(3, T, 4000),
                "paper_nonpositive": 2, "smeared_nonpositive": 0} for T in (0.6, 0.8)}
    cal = {"per_temperature": {"0.600": {"S_av": 1.0}, "0.800": {"S_av": 2.0}}}
    rows = ss.softness_moments(data, cal)
    assert rows[0.8]["paper"]["mean"] == pytest.approx(data[0.8]["paper"].mean())
    assert rows[0.8]["paper"]["ratio_to_S_av"] == pytest.approx(data[0.8]["paper"].mean() / 2.0)
    assert rows[0.6]["depth"]["n"] == 5000 and rows[0.6]["paper"]["n_nonpositive"] == 2
    x = data[0.6]["depth"]
    assert rows[0.6]["depth"]["skew"] == pytest.approx(np.mean((x - x.mean()) ** 3) / x.std() ** 3)
    h = ss.histograms(data, "depth", n_bins=30, quantiles=(0, 100))
    e = np.array(h["edges"])
    assert len(e) == 30 and set(h["density"]) == {"0.600", "0.800"}
    for dens in h["density"].values():  # densities over the shared edges integrate to 1
        assert np.sum(np.array(dens) * np.diff(e)) == pytest.approx(1.0)


# ------------------------------------------------------------------------------------ notebook 04
def _propagator_input(rng, n):
    times = np.r_[0.0, 0.01, 0.02, 0.05, 0.1, 1.0, 1.01, 1.02, 1.05, 1.1, 2.0]
    pos = np.cumsum(rng.normal(0, 0.05, (times.size, n, 3)), axis=0)
    S = rng.uniform(0, 1, (times.size, n))
    return times, pos, S


def test_combine_pools_propagators_like_one_run_of_all_particles():
    rng = np.random.default_rng(4)
    times, p1, S1 = _propagator_input(rng, 40)
    _, p2, S2 = _propagator_input(rng, 60)
    e0, e = np.array([0, 0.3, 0.7, 1.0]), np.linspace(0, 1, 11)
    kw = dict(r_stay=0.2, block=1.0)
    one = lt.propagator(np.hstack([S1, S2]), np.concatenate([p1, p2], axis=1), times, e0, e, **kw)
    pooled = lt.combine([lt.propagator(S1, p1, times, e0, e, **kw), lt.propagator(S2, p2, times, e0, e, **kw)])
    np.testing.assert_array_equal(pooled["count"], one["count"])
    np.testing.assert_allclose(pooled["G"], one["G"], rtol=1e-12, equal_nan=True)
    np.testing.assert_allclose(pooled["mean"], one["mean"], rtol=1e-12, equal_nan=True)
    # by hand: counts 1 and 3 with means 2 and 6 pool to 5; a bin without pairs stays NaN
    a = {"count": np.array([1, 0]), "mean": np.array([2.0, np.nan]), "G": np.array([[1.0], [np.nan]])}
    b = {"count": np.array([3, 0]), "mean": np.array([6.0, np.nan]), "G": np.array([[3.0], [np.nan]])}
    c = lt.combine([a, b])
    assert c["mean"][0] == 5.0 and np.isnan(c["mean"][1]) and c["G"][0, 0] == 2.5 and c["count"].tolist() == [4, 0]
    with pytest.raises(ValueError):
        lt.combine([a, {**b, "count": np.array([1, 2, 3])}])


def test_fig4a_temperatures_and_lags():
    assert ls.fig4a_temperatures([0.47, 0.5, 0.53, 0.8]) == [0.47, 0.53, 0.8]
    assert ls.fig4a_temperatures([0.6, 0.7, 0.8, 1.0]) == [0.6, 0.8, 1.0]
    assert ls.fig4a_temperatures([0.6, 0.7], [0.7]) == [0.7]
    with pytest.raises(ValueError, match="no usable run"):
        ls.fig4a_temperatures([0.6, 0.7], [0.65])
    hard = {"times": np.array([0.0, 0.01, 0.1, 1.0, 10.0, 100.0]),
            "count": np.array([[1000], [900], [800], [300], [90], [5]])}
    # 0 -> 0, 0.01 -> 1, tau/10 = 1 -> 3, longest lag with >= 100 pairs (a tenth of 1000) -> 3
    assert ls.fig4b_lags(hard, 10.0) == [0, 1, 3]
    assert ls.fig4b_lags(hard, np.nan, requested=[10.0, 90.0]) == [4, 5]
    assert ls.value_at([1.0, 100.0], [1.0, 0.0], 10.0) == pytest.approx(0.5)


def test_spread_check():
    s0 = {"times": np.array([0.0, 1.0, 2.0]), "mean": np.array([[1.0, 3.0], [1.5, 2.5], [2.0, 2.0]]),
          "count": np.array([[50, 50], [40, 31], [40, 29]])}
    sp = ls.spread_check(s0, min_count=30)
    assert sp == {"spread0": 2.0, "spread_end": 1.0, "t_end": 1.0}


# ------------------------------------------------------------------------------------ notebook 05
def _hopping_sample(rng, n_a, n_b, jumpers, frames=300, dt=0.1):
    """A particles at rest (small noise) except ``jumpers``, which jump by 1.5 once, mid-run."""
    t = dt * np.arange(frames)
    pos = rng.uniform(0, 8, (1, n_a + n_b, 3)) + rng.normal(0, 0.01, (frames, n_a + n_b, 3))
    for k, i in enumerate(jumpers):
        pos[100 + 30 * k:, i, 0] += 1.5
    soft = {"times": t, "softness": rng.uniform(0, 1, (frames, n_a)), "a_index": np.arange(n_a),
            "n_nonpositive": 0}
    return (t, pos), soft


def test_pooling_samples_equals_one_sample_with_all_particles():
    rng = np.random.default_rng(5)
    s1 = _hopping_sample(rng, 12, 3, jumpers=[0, 4])
    s2 = _hopping_sample(rng, 10, 2, jumpers=[1, 2, 7])
    (t, p1), (_, p2) = s1[0], s2[0]
    # one sample: the A particles of both, side by side (B particles are never used)
    pos = np.concatenate([p1[:, :12], p2[:, :10]], axis=1)
    soft = {"times": t, "softness": np.hstack([s1[1]["softness"], s2[1]["softness"]]), "a_index": np.arange(22)}
    edges = np.linspace(0, 1, 5)
    kw = dict(window=3.0, n_boot=20, seed=0)
    pooled = rs.pool_rearrangements([s1, s2], 0.5, edges, with_trace=True, keep_softness=True, **kw)
    one = rs.pool_rearrangements([((t, pos), soft)], 0.5, edges, **kw)
    assert pooled["n_events"] == one["n_events"] == 5  # one event per planted jump
    for k in ("n_all", "n_rearr", "ev_values", "ev_particle", "P_S", "P_S_given_R", "P_R", "P_R_err"):
        np.testing.assert_allclose(pooled[k], one[k], equal_nan=True, err_msg=k)
    assert pooled["fraction_rearranging"] == one["fraction_rearranging"]
    assert pooled["fractions"] == one["fractions"]
    assert sorted(set(pooled["ev_particle"].tolist())) == [0, 4, 13, 14, 19]  # second sample's A offset by 12
    assert pooled["S_all"].shape == (300, 22) and one["S_all"] is None
    assert pooled["trace"]["p_hop"].shape == (300, 12)  # the first sample's
    # the fraction of rearranging particle-frames, counted directly
    valid = np.isfinite(pooled["trace"]["p_hop"])
    assert valid.sum() > 0 and 0 < pooled["fraction_rearranging"] < 0.1


def test_pool_dynamics_averages_samples():
    runs = {"a": {"tau_alpha": 10.0, "t_star": 2.0, "p_c": 0.1, "notes": ["x"],
                  "log_values": {"tau_alpha": 9.0, "t_star": 1.0, "p_c": 0.2}},
            "b": {"tau_alpha": 30.0, "t_star": 4.0, "p_c": 0.3, "notes": [],
                  "log_values": {"tau_alpha": 11.0, "t_star": 3.0, "p_c": 0.4}}}
    per_T = rs.pool_dynamics(runs, {0.5: ["a", "b"]})
    assert per_T[0.5]["tau_alpha"] == 20.0 and per_T[0.5]["p_c"] == pytest.approx(0.2)
    assert per_T[0.5]["log_frames"]["t_star"] == 2.0 and per_T[0.5]["p_c_samples"] == [0.1, 0.3]
    assert per_T[0.5]["notes"] == ["x"]


def test_window_sensitivity_skips_long_windows_and_reruns_others(tmp_path):
    f = {"fraction_above_peak": 1, "baseline_above_peak": 2, "fraction_above_median": 3}
    base = {"fractions": f, "fraction_rearranging": 0.1, "n_events": 7}
    calls = []

    def rerun(w):
        calls.append(w)
        return {**base, "n_events": int(w)}

    out = rs.window_sensitivity([15.0, 30.0, 75.0], 15.0, base, rerun, t_production=100.0)
    assert calls == [30.0] and out[0]["n_events"] == 7 and out[1]["n_events"] == 30
    assert out[2] == {"window": 75.0, "skipped": "production 100 < 2 x window"}
    write_json(tmp_path / "r.json", {"softness_bins": [0.1, 0.2, 0.3]})
    assert rs.softness_edges({}, {}, bins_from=str(tmp_path / "r.json")).tolist() == [0.1, 0.2, 0.3]
    assert rs.rank_correlation([1, 2, 3, 4], [0.1, np.nan, 0.3, 0.4]) == pytest.approx(1.0)


def test_rearrangements_result_keeps_bulky_arrays_out(tmp_path):
    res = {0.6: {"n_all": np.ones((3, 2)), "n_rearr": np.zeros((3, 2)), "ev_values": np.ones(4),
                 "ev_particle": np.zeros(4, int), "trace": {"t": 1}, "S_all": np.ones(3),
                 "P_R": np.array([0.1, np.nan]), "n_events": 4}}
    out = rs.rearrangements_result("quick", [0.6], {0.6: ["T0.600_s0"]}, np.array([0.0, 0.5, 1.0]),
                                   {0.6: {"p_c": 0.2}}, res, {"T0.600_s0": {"n_nonpositive": 3}}, [], 15.0, 0.0,
                                   "paper", 8, 10, 0)
    pt = out["per_temperature"]["0.600"]
    assert not set(rs.BULKY) & set(pt)
    assert pt["P_R"] == [0.1, None] and pt["p_c"] == 0.2 and pt["n_nonpositive"] == 3 and pt["samples"] == ["T0.600_s0"]
    json.dumps(out, allow_nan=False)  # strict JSON
    lay = Layout("quick", tmp_path / "b", tmp_path / "d", tmp_path / "f").makedirs()
    rs.save_tables(lay.tables, np.array([0.0, 0.5, 1.0]), [0.6], res)
    write_json(lay.json("rearrangements"), {"window": 15.0, "calibration": "paper"})
    inp = rs.load_tables(lay, 15.0, "paper")
    assert inp["temperatures"] == [0.6] and inp["tables"][0][0].shape == (3, 2)
    with pytest.raises(ValueError, match="window"):
        rs.load_tables(lay, 30.0, "paper")

