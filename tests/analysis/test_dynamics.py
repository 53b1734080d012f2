"""softlib.analysis.dynamics against analytic cases, direct twins and freud."""
import numpy as np
import pytest

from softlib.analysis import dynamics as dyn
from softlib.pipeline import stages
from softlib.engine.schedule import log_offsets, log_steps

DT = 0.0025


def _log_times(t_prod=300.0, block=100.0):
    return log_steps(t_prod, block, 0.01, 8, DT) * DT


def _brownian(times, n, D, rng, offset=0.0):
    """Gaussian random walk sampled at ``times``: increments of variance 2 D dt per component."""
    dt = np.diff(np.r_[times[0], times])
    inc = rng.normal(size=(times.size, n, 3)) * np.sqrt(2.0 * D * dt)[:, None, None]
    return np.cumsum(inc, axis=0) + offset


# --------------------------------------------------------------------------- time grids
def test_log_origins_inferred_equal_block_starts():
    t = _log_times()
    starts = dyn.log_block_origins(t)
    assert np.allclose(t[starts], [0.0, 100.0, 200.0, 300.0])
    assert np.array_equal(starts, dyn.log_block_origins(t, block=100.0))


def test_log_lags_are_offsets_and_whole_blocks():
    t = _log_times()
    lags, starts, org, tgt = dyn.time_pairs(t, "log")
    offs = log_offsets(100.0, 0.01, 8, DT)[1:] * DT
    assert np.allclose(lags, np.r_[offs, 100.0, 200.0, 300.0])
    # 3 full blocks give 3 origins for each offset; whole blocks: 3, 2, 1 pairs
    assert np.array_equal(np.diff(starts), np.r_[np.full(offs.size, 3), 3, 2, 1])
    assert np.all(np.isin(org, dyn.log_block_origins(t)))


def test_linear_pairs_count():
    t = np.arange(20) * 0.5
    lags, starts, org, tgt = dyn.time_pairs(t, "linear", origin_every=3)
    assert np.allclose(lags, np.arange(1, 20) * 0.5)
    origins = np.arange(0, 19, 3)
    assert np.array_equal(np.diff(starts), [(origins + m < 20).sum() for m in range(1, 20)])
    assert np.all(org % 3 == 0)


# --------------------------------------------------------------------------- moments
def test_moments_kernel_matches_numpy_twin():
    rng = np.random.default_rng(1)
    t = _log_times()
    pos = _brownian(t, 50, 0.1, rng, offset=rng.uniform(-20, 20, (1, 50, 3)))
    lags, starts, org, tgt = dyn.time_pairs(t, "log")
    a = dyn._moments_kernel(pos, starts, org, tgt, 7.25)
    b = dyn._moments_numpy(pos, starts, org, tgt, 7.25)
    np.testing.assert_allclose(a, b, rtol=1e-10)


def test_msd_matches_freud_direct_and_window():
    freud = pytest.importorskip("freud")
    rng = np.random.default_rng(2)
    F, N = 60, 40
    t = np.arange(F) * 0.2
    pos = _brownian(t, N, 0.3, rng, offset=rng.uniform(0, 5, (1, N, 3)))
    ref = freud.msd.MSD(mode="direct").compute(pos).msd
    lag, m = dyn.msd(pos, t, schedule="linear", origin_every=F)  # the single origin t = 0
    np.testing.assert_allclose(lag, t[1:], rtol=1e-12)
    np.testing.assert_allclose(m, ref[1:], rtol=1e-5)
    ref_w = freud.msd.MSD(mode="window").compute(pos).msd
    lag, m = dyn.msd(pos, t, schedule="linear", origin_every=1)
    np.testing.assert_allclose(m, ref_w[1:], rtol=1e-5)


def test_species_selection():
    rng = np.random.default_rng(3)
    t = np.arange(10) * 0.1
    pos = _brownian(t, 30, 0.1, rng)
    species = np.r_[np.zeros(20, int), np.ones(10, int)]
    _, mb = dyn.msd(pos, t, species, select=1, schedule="linear")
    _, ref = dyn.msd(pos[:, 20:], t, schedule="linear")
    np.testing.assert_allclose(mb, ref, rtol=1e-12)
    with pytest.raises(ValueError, match="no particles of species"):
        dyn.msd(pos, t, np.zeros(30, int), select=1)


def test_alpha2_of_gaussian_displacements_vanishes():
    rng = np.random.default_rng(4)
    t = _log_times(200.0, 100.0)
    m = dyn.displacement_moments(_brownian(t, 4000, 0.05, rng), t, schedule="log")
    # the estimator's spread for n Gaussian samples is about sqrt(8 / (3 n)) at most
    tol = 5.0 * np.sqrt(8.0 / (3.0 * m.n_samples))
    assert np.all(np.abs(m.alpha2) < tol)
    np.testing.assert_allclose(m.msd, 6 * 0.05 * m.times, rtol=0.1)


def test_alpha2_of_two_populations_matches_3d_formula():
    # displacement Gaussian with variance s1^2 (half) and s2^2 = 4 s1^2 (half) per component:
    # alpha_2 = 2 (s1^4 + s2^4) / (s1^2 + s2^2)^2 - 1 = 0.36 in 3-D
    rng = np.random.default_rng(5)
    n = 200_000
    sig = np.r_[np.full(n // 2, 1.0), np.full(n // 2, 2.0)]
    pos = np.stack([np.zeros((n, 3)), rng.normal(size=(n, 3)) * sig[:, None]])
    m = dyn.displacement_moments(pos, np.array([0.0, 1.0]), schedule="linear")
    assert abs(m.alpha2[0] - 0.36) < 0.02


def test_fs_is_exact_isotropic_average():
    # every particle moves by exactly r in a random direction: F_s = sin(q r) / (q r)
    rng = np.random.default_rng(6)
    r, n = 0.37, 500
    u = rng.normal(size=(n, 3))
    u /= np.linalg.norm(u, axis=1)[:, None]
    pos = np.stack([np.zeros((n, 3)), r * u])
    _, fs = dyn.self_intermediate_scattering(pos, np.array([0.0, 1.0]), schedule="linear", q=7.25)
    assert fs[0] == pytest.approx(np.sin(7.25 * r) / (7.25 * r), rel=1e-10)


def test_fs_of_brownian_motion_and_tau_alpha():
    # Gaussian displacements: F_s = exp(-q^2 <dr^2> / 6) = exp(-q^2 D t), tau = 1 / (q^2 D)
    rng = np.random.default_rng(7)
    D = 0.05
    t = _log_times(200.0, 100.0)
    lag, fs = dyn.self_intermediate_scattering(_brownian(t, 3000, D, rng), t, schedule="log")
    ok = lag < 3.0
    np.testing.assert_allclose(fs[ok], np.exp(-7.25**2 * D * lag[ok]), atol=0.02)
    assert dyn.tau_alpha(lag, fs) == pytest.approx(1.0 / (7.25**2 * D), rel=0.05)


# --------------------------------------------------------------------------- characteristic times
def test_tau_alpha_exact_when_linear_in_log_t():
    t = np.logspace(-2, 3, 40)
    fs = 1.0 - 0.1 * np.log(t / 0.01)  # crosses 1/e at t = 0.01 exp((1 - 1/e) / 0.1)
    assert dyn.tau_alpha(t, fs) == pytest.approx(0.01 * np.exp((1 - np.exp(-1)) / 0.1), rel=1e-12)


def test_tau_alpha_missing_is_loud():
    t = np.logspace(-2, 1, 20)
    fs = np.exp(-t / 100.0)
    with pytest.raises(ValueError, match="never falls"):
        dyn.tau_alpha(t, fs)
    with pytest.warns(RuntimeWarning, match="never falls"):
        assert np.isnan(dyn.tau_alpha(t, fs, missing="nan"))


def test_t_star_and_hop_threshold():
    t = np.logspace(-2, 3, 41)
    t0 = 3.7
    a2 = 1.0 - (np.log(t) - np.log(t0)) ** 2
    assert dyn.t_star(t, a2) == pytest.approx(t0, rel=1e-10)
    p_c, ts = dyn.hop_threshold(t, 0.2 * t**0.6, a2)  # a power law is exact in log-log
    assert p_c == pytest.approx(0.2 * t0**0.6, rel=1e-10)
    with pytest.raises(ValueError, match="last lag"):
        dyn.t_star(t, np.log(t))


# --------------------------------------------------------------------------- p_hop
def test_p_hop_matches_direct_on_random_walks():
    rng = np.random.default_rng(8)
    t = np.arange(400) * 0.1
    pos = np.cumsum(rng.normal(scale=0.05, size=(400, 60, 3)), axis=0) + rng.uniform(-30, 30, (1, 60, 3))
    for window in (1.0, 3.0, 15.0):
        a = dyn.p_hop(pos, t, window)
        b = dyn.p_hop_direct(pos, t, window)
        assert np.array_equal(np.isnan(a), np.isnan(b))
        np.testing.assert_allclose(a, b, rtol=1e-8, atol=1e-14)
        h = int(round(window / 2 / 0.1))
        assert np.all(np.isnan(a[:h])) and np.all(np.isnan(a[-h:])) and np.all(np.isfinite(a[h:-h]))


def test_p_hop_single_jump_analytic():
    # A particle sits at 0 up to frame j - 1 and at d from frame j on (no noise). With
    # U = frames [t - h, t] and V = [t, t + h] (h + 1 frames each, sharing t), at t = j + k
    # (0 <= k <= h) U holds h - k frames at 0 and k + 1 at d, V only frames at d:
    #   <r>_U = (k + 1) d / (h + 1),   <r>_V = d,
    #   <(r - <r>_V)^2>_U = (h - k) / (h + 1) d^2,
    #   <(r - <r>_U)^2>_V = (d - (k + 1) d / (h + 1))^2 = ((h - k) / (h + 1))^2 d^2,
    # so p_hop(j + k) = d^2 ((h - k) / (h + 1))^(3/2). By symmetry p_hop(j - 1 - k) is the same:
    # the peak d^2 (h / (h + 1))^(3/2) sits on frames j - 1 and j, and p_hop = 0 beyond |k| > h.
    dt, window, F, j = 0.1, 15.0, 600, 300
    h = 75
    vec = np.array([0.3, -1.1, 0.6])
    d2 = vec @ vec
    pos = np.zeros((F, 2, 3)) + np.array([5.0, -2.0, 9.0])
    pos[j:, 0] += vec                      # particle 0 jumps, particle 1 stays
    p = dyn.p_hop(pos, np.arange(F) * dt, window)
    k = np.arange(h + 1)
    expect = d2 * ((h - k) / (h + 1.0)) ** 1.5
    np.testing.assert_allclose(p[j + k, 0], expect, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(p[j - 1 - k, 0], expect, rtol=1e-10, atol=1e-12)
    assert np.nanmax(p[:, 1]) == 0.0
    # events at p_c = d^2 / 2: frames with ((h - k) / (h + 1))^(3/2) > 1/2 on both sides
    kmax = int(np.max(k[((h - k) / (h + 1.0)) ** 1.5 > 0.5]))
    ev = dyn.rearrangement_events(p, 0.5 * d2)
    assert ev["particle"].tolist() == [0]
    assert (ev["first"][0], ev["last"][0], ev["peak_frame"][0]) == (j - 1 - kmax, j + kmax, j - 1)
    assert ev["peak"][0] == pytest.approx(d2 * (h / (h + 1.0)) ** 1.5, rel=1e-10)


def test_rearrangement_events_against_loop():
    rng = np.random.default_rng(9)
    p = rng.random((50, 7))
    p[:5] = np.nan
    p[-5:] = np.nan
    ev = dyn.rearrangement_events(p, 0.6)
    ref = []
    for i in range(7):
        f = 0
        while f < 50:
            if p[f, i] > 0.6:
                g = f
                while g + 1 < 50 and p[g + 1, i] > 0.6:
                    g += 1
                ref.append((i, f, g, np.max(p[f:g + 1, i]), f + int(np.argmax(p[f:g + 1, i]))))
                f = g + 1
            else:
                f += 1
    got = list(zip(ev["particle"], ev["first"], ev["last"], ev["peak"], ev["peak_frame"]))
    assert got == ref
    assert dyn.rearrangement_events(np.zeros((4, 3)), 1.0)["first"].size == 0


def test_p_hop_bad_input():
    t = np.arange(50) * 0.1
    pos = np.zeros((50, 3, 3))
    with pytest.raises(ValueError, match="longer than the trajectory"):
        dyn.p_hop(pos, t, window=15.0)
    with pytest.raises(ValueError, match="per half-window"):
        dyn.p_hop(pos, t, window=0.4)
    bad = t.copy()
    bad[20:] += 0.05
    with pytest.raises(ValueError, match="uniformly spaced"):
        dyn.p_hop(pos, bad, window=2.0)
    with pytest.raises(ValueError, match="shape"):
        dyn.p_hop(pos[:, :, :2], t, window=2.0)
    with pytest.raises(ValueError, match="frames"):
        dyn.p_hop(pos, t[:-1], window=2.0)
    pos[3, 1, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        dyn.p_hop(pos, t, window=2.0)


def test_log_lags():
    lags = dyn.log_lags(1001, per_decade=10)
    assert lags[0] == 1 and lags[-1] == 1000 and np.all(np.diff(lags) > 0)
    assert 20 <= lags.size <= 31


def _write_run(folder, rng, n=24, T=0.7):
    """A tiny run folder in our format: Brownian particles, linear and log schedules, run.json."""
    import json

    from softlib.io.gsd import GSDWriter

    box = np.full(3, 4.0)
    species = np.r_[np.zeros(n - 4, int), np.ones(4, int)]
    lin = np.arange(301) * 0.1
    lg = _log_times(30.0, 10.0)
    times = np.union1d(lin, lg)
    pos = _brownian(times, n, 0.05, rng, offset=rng.uniform(-2, 2, (1, n, 3)))
    for name, sel in (("linear", lin), ("log", lg)):
        with GSDWriter(folder / f"{name}.gsd", species, box) as w:
            for t in sel:
                k = int(np.searchsorted(times, t))
                w.append(int(round(t / DT)), t, pos[k])
    plan = {"T": T, "log_block": 10.0, "t_production": 30.0, "dense_interval": 0.1}
    (folder / "run.json").write_text(json.dumps({"plan": plan}))
    return times, pos, species


def test_run_dynamics_on_a_written_run(tmp_path):
    rng = np.random.default_rng(10)
    times, pos, species = _write_run(tmp_path, rng)
    r = stages.run_dynamics(tmp_path, origin_every=1.0)
    # the linear-frame MSD equals a direct computation on the same frames (float32 storage)
    lin = np.isin(times, np.arange(301) * 0.1)
    _, ref = dyn.msd(pos[lin], times[lin], species, 0, schedule="linear", origin_every=10,
                     lags=dyn.log_lags(301, 16))
    np.testing.assert_allclose(r["linear"].msd, ref, rtol=1e-4)
    assert r["log"].times[0] == pytest.approx(0.01)
    assert r["T"] == 0.7 and set(r["linear_values"]) == {"tau_alpha", "t_star", "p_c"}
    with pytest.raises(ValueError, match="run.json is missing"):
        stages.run_dynamics(tmp_path / "nothing")


def test_p_hop_invariances():
    # p_hop depends only on each particle's own path: invariant under a rigid rotation and
    # translation of all positions and under a permutation of particles (columns follow)
    rng = np.random.default_rng(11)
    t = np.arange(120) * 0.1
    pos = np.cumsum(rng.normal(scale=0.1, size=(120, 8, 3)), axis=0)
    q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    perm = rng.permutation(8)
    moved = pos[:, perm] @ q.T + np.array([3.0, -7.0, 11.0])
    np.testing.assert_allclose(dyn.p_hop(moved, t, 2.0), dyn.p_hop(pos, t, 2.0)[:, perm], rtol=1e-9, atol=1e-14)
