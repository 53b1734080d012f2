"""figures_field: the slab, the rearranging particles and the frames of the softness-field figure, on a
synthetic run checked against direct loops."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pytest

from softlib.io.trajectory import Trajectory
from softlib.pipeline import figures_field as ff

BOX = np.array([6.0, 5.0, 4.0])
F, N, H = 30, 40, 3            # frames (dt = 1 tau), particles, frames without p_hop at each end
P_C, TAU = 0.9, 5.0


def synthetic_run(seed=1):
    """Unwrapped positions (several box lengths away), 30 A among 40 particles, softness on every second
    frame and a p_hop that is NaN where its window would not fit."""
    rng = np.random.default_rng(seed)
    times = np.arange(F, dtype=float)
    pos = rng.uniform(0, 1, (F, N, 3)) * BOX + rng.integers(-3, 4, (F, N, 3)) * BOX
    species = np.ones(N, dtype=np.int32)
    a_index = np.sort(rng.choice(N, 30, replace=False))
    species[a_index] = 0
    p_hop = rng.uniform(0, 1, (F, a_index.size))
    p_hop[:H], p_hop[F - H:] = np.nan, np.nan
    soft = {"times": times[::2], "softness": rng.uniform(1e-3, 2e-3, (F // 2, a_index.size)), "a_index": a_index}
    return Trajectory.from_arrays(pos, species, BOX, times), soft, {"t": times, "p_hop": p_hop}, pos, species


def direct_slab(p, axis, centre, thickness):
    """Indices of the particles whose minimum-image distance to the mid-plane is at most thickness / 2."""
    out = []
    for i, x in enumerate(p):
        d = x[axis] - centre
        d -= BOX[axis] * round(d / BOX[axis])
        if abs(d) <= thickness / 2:
            out.append(i)
    return out


def direct_marked(p_hop, t0):
    """Columns with p_hop > P_C at some frame t in [t0, t0 + TAU] (frames are at t = 0, 1, 2, ...)."""
    return [i for i in range(p_hop.shape[1]) if any(p_hop[f, i] > P_C for f in range(F) if t0 <= f <= t0 + TAU)]


def test_slab_and_marks_match_direct_loops_at_both_times():
    traj, soft, trace, pos, species = synthetic_run()
    snap = ff.field_snapshot(traj, soft, trace, P_C, TAU, later=3.2, thickness=1.5, axis=1, centre=5.3)
    # first softness frame (even t) with p_hop over [t, t + 5] inside [3, 26]: t = 4; then 4 + 3.2 * 5 = 20
    assert [p["t"] for p in snap["panels"]] == [4.0, 20.0] and snap["later"] == pytest.approx(16 / 5)
    assert snap["centre"] == pytest.approx(0.3)   # 5.3 modulo the box edge 5
    a = list(soft["a_index"])
    for p in snap["panels"]:
        f = int(p["t"])
        members = direct_slab(pos[f], 1, 0.3, 1.5)
        a_cols = [a.index(i) for i in members if species[i] == 0]
        assert p["column"].tolist() == a_cols
        np.testing.assert_allclose(p["xy"], np.mod(pos[f][[a[c] for c in a_cols]][:, [0, 2]], BOX[[0, 2]]))
        assert len(p["xy_B"]) == sum(species[i] == 1 for i in members)
        np.testing.assert_array_equal(p["S"], soft["softness"][f // 2, a_cols])
        marked = direct_marked(trace["p_hop"], f)
        assert p["marked"].tolist() == [c in marked for c in a_cols]
        assert 0 < p["marked"].sum() < len(a_cols) and len(p["xy_B"]) > 0  # the case is not vacuous
        # enrichment over all A particles: the 6 softest of 30, and the share of the marked among them
        S = soft["softness"][f // 2]
        top = set(np.argsort(S)[-6:].tolist())
        e = p["enrichment"]
        assert (e["n"], e["n_marked"], e["n_soft"]) == (30, len(marked), 6)
        assert e["marked_in_soft"] == pytest.approx(len(top & set(marked)) / len(marked))
        assert e["rate_all"] == pytest.approx(len(marked) / 30)


def test_second_panel_stops_where_the_next_tau_alpha_still_has_p_hop():
    traj, soft, trace, *_ = synthetic_run()
    snap = ff.field_snapshot(traj, soft, trace, P_C, TAU, later=100.0)
    # p_hop defined up to t = 26: the last even t with t + 5 <= 26 is 20
    assert [p["t"] for p in snap["panels"]] == [4.0, 20.0] and snap["later"] == pytest.approx(3.2)
    assert snap["panels"][1]["marked"].size == snap["panels"][1]["column"].size


def test_a_tau_alpha_the_run_cannot_hold_gives_a_shorter_look_ahead_and_says_so():
    traj, soft, trace, *_ = synthetic_run()
    for tau in (30.0, float("nan")):
        snap = ff.field_snapshot(traj, soft, trace, P_C, tau, later=3.0)
        # p_hop over [3, 26]: 23 tau shared by t0's look-ahead, 3 look-aheads to the second panel and its own
        assert snap["horizon"] == pytest.approx(23 / 4) and "does not fit" in snap["note"]
        assert [p["t"] for p in snap["panels"]] == [4.0, 20.0]  # 4 + 3 x 5.75 = 21.25 > 20.25: the last usable
        for p in snap["panels"]:
            marked = [i for i in range(30) if any(trace["p_hop"][f, i] > P_C for f in range(F)
                                                  if p["t"] <= f <= p["t"] + 23 / 4)]
            assert p["enrichment"]["n_marked"] == len(marked)
    snap = ff.field_snapshot(traj, soft, trace, P_C, TAU)
    assert snap["horizon"] == TAU and snap["note"] == ""


def test_rearranging_within_counts_only_frames_of_the_interval_and_never_nan():
    p = np.array([[np.nan, 0.0], [2.0, 0.0], [0.0, 0.0], [0.0, 2.0]])
    t = np.array([0.0, 1.0, 2.0, 3.0])
    assert ff.rearranging_within(p, t, 1.0, 1.0, 1.0).tolist() == [True, False]
    assert ff.rearranging_within(p, t, 2.0, 1.0, 1.0).tolist() == [False, True]
    assert ff.rearranging_within(p, t, 0.0, 0.5, -1.0).tolist() == [False, True]  # NaN is not above


def test_figure_draws_every_slab_particle_and_rings_the_marked():
    traj, soft, trace, *_ = synthetic_run()
    snap = ff.field_snapshot(traj, soft, trace, P_C, TAU, thickness=2.0)
    fig = ff.fig_softness_field(snap, 0.6)
    panels = [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]
    assert len(panels) == 2
    for ax, p in zip(panels, snap["panels"]):
        plain, ringed, b = ax.collections
        assert len(plain.get_offsets()) + len(ringed.get_offsets()) == p["S"].size
        assert len(ringed.get_offsets()) == int(p["marked"].sum()) and len(b.get_offsets()) == len(p["xy_B"])
    assert "S" in fig.axes[-1].get_ylabel() and "sigma_{AA}^2" in fig.axes[-1].get_ylabel()
    plt.close(fig)
