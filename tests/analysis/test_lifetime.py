"""softlib.analysis.lifetime on synthetic trajectories with known answers."""
import numpy as np
import pytest

from softlib.analysis import lifetime as lt
from softlib.analysis.dynamics import decay_time, log_block_origins, time_pairs
from softlib.engine.schedule import log_steps

DT = 0.0025


@pytest.fixture(scope="module")
def log_times():
    """Three log-spaced blocks of 10 tau (origins at 0, 10, 20, 30), as the engines write them."""
    return log_steps(30.0, 10.0, 0.01, 8, DT) * DT


def test_overlap_of_particles_with_prescribed_speeds(log_times):
    """|r_i(t) - r_i(0)| = v_i t: Q(t) is the fraction with v_i t <= a, at every origin."""
    rng = np.random.default_rng(0)
    n = 400
    speed = rng.uniform(0.0, 0.2, n)
    direction = rng.normal(size=(n, 3))
    direction /= np.linalg.norm(direction, axis=1)[:, None]
    pos = rng.uniform(0, 10, (1, n, 3)) + log_times[:, None, None] * (speed[:, None] * direction)[None]
    t, q = lt.overlap(pos, log_times, a=0.3, block=10.0)
    expect = np.array([np.mean(speed * tt <= 0.3) for tt in t])
    np.testing.assert_allclose(q, expect, atol=1e-12)
    assert t[0] == pytest.approx(0.01) and t[-1] == pytest.approx(30.0)
    # selection: only the slow half
    slow = np.flatnonzero(speed < 0.1)
    _, q_slow = lt.overlap(pos, log_times, a=0.3, block=10.0, select=slow)
    np.testing.assert_allclose(q_slow, [np.mean(speed[slow] * tt <= 0.3) for tt in t], atol=1e-12)


def test_softness_correlation_frozen_shuffled_and_partial(log_times):
    rng = np.random.default_rng(1)
    f, n = log_times.size, 2000
    s0 = rng.gamma(5.0, 0.002, n)
    # frozen up to a frame-wise affine change (Pearson does not see shifts and scales)
    frozen = s0[None] * (1 + 0.1 * rng.random((f, 1))) + 0.001 * rng.random((f, 1))
    t, c, excl = lt.softness_correlation(frozen, log_times, block=10.0)
    np.testing.assert_allclose(c, 1.0, atol=1e-12)
    assert excl == 0
    shuffled = np.array([rng.permutation(s0) for _ in range(f)])
    _, c, _ = lt.softness_correlation(shuffled, log_times, block=10.0)
    assert np.all(np.abs(c) < 5 / np.sqrt(n))
    # S(t) = rho S(0) + sqrt(1 - rho^2) xi  =>  C = rho for every lag from an origin
    z0 = rng.normal(size=n)
    mixed = np.empty((f, n))
    mixed[:] = z0
    lag, starts, org, tgt = time_pairs(log_times, schedule="log", block=10.0)
    origins = log_block_origins(log_times, 10.0)  # 0, 10, 20, 30 (the last has no targets)
    other = np.setdiff1d(np.arange(f), origins)
    mixed[other] = 0.6 * z0 + 0.8 * rng.normal(size=(other.size, n))
    _, c, _ = lt.softness_correlation(mixed, log_times, pairs=(lag, starts, org, tgt))
    inside = lag < 10.0 - 1e-9  # lags within one block: target is a non-origin frame
    np.testing.assert_allclose(c[inside], 0.6, atol=5 / np.sqrt(n))
    np.testing.assert_allclose(c[~inside], 1.0, atol=1e-12)  # origin to origin: identical


def test_softness_correlation_excludes_nan(log_times):
    rng = np.random.default_rng(2)
    s = np.tile(rng.random(300), (log_times.size, 1))
    s[5, :10] = np.nan
    t, c, excl = lt.softness_correlation(s, log_times, block=10.0)
    np.testing.assert_allclose(c, 1.0, atol=1e-12)
    lag, starts, org, tgt = time_pairs(log_times, schedule="log", block=10.0)
    assert excl == 10 * np.sum((org == 5) | (tgt == 5))


def test_propagator_frozen_and_escaping(log_times):
    rng = np.random.default_rng(3)
    f, n = log_times.size, 500
    s0 = rng.uniform(0.0, 1.0, n)
    soft = np.tile(s0, (f, 1))
    pos = np.tile(rng.uniform(0, 10, (n, 3)), (f, 1, 1))
    # particles 0..99 jump by 0.8 at one frame in the first block and come back at the next
    k = 12
    pos[k, :100, 0] += 0.8
    e0 = np.array([0.0, 0.25, 0.5, 1.0])
    e = np.linspace(0, 1, 21)
    res = lt.propagator(soft, pos, log_times, e0, e, r_stay=0.5, block=10.0)
    lag, starts, org, tgt = time_pairs(log_times, schedule="log", block=10.0)
    assert res["times"][0] == 0 and np.allclose(res["times"][1:], lag)
    b0 = np.digitize(s0, e0) - 1
    # frozen softness: <S(t)>_S0 is the mean S0 of the bin among the particles that count
    for li in range(1, res["times"].size):
        o, t = org[starts[li - 1]:starts[li]], tgt[starts[li - 1]:starts[li]]
        cnt = np.zeros(3)
        ssum = np.zeros(3)
        for oo, tt in zip(o, t):
            escaped = (np.arange(n) < 100) & (oo <= k <= tt)  # the jump frame lies in [origin, t]
            for b in range(3):
                m = (b0 == b) & ~escaped
                cnt[b] += m.sum()
                ssum[b] += s0[m].sum()
        np.testing.assert_array_equal(res["count"][li], cnt)
        np.testing.assert_allclose(res["mean"][li], ssum / cnt, rtol=1e-12)
    # each G row is a normalised density concentrated in the S bins of its S0 bin
    g = res["G"]
    np.testing.assert_allclose((g * np.diff(e)).sum(-1), 1.0, rtol=1e-12)
    assert np.all(g[:, 0, e[:-1] >= 0.25] == 0)


def test_decay_time_of_an_exponential():
    t = np.logspace(-2, 3, 200)
    assert decay_time(t, np.exp(-t / 7.0)) == pytest.approx(7.0, rel=2e-3)
    with pytest.warns(RuntimeWarning, match="never falls"):
        assert np.isnan(decay_time(t, np.full(t.size, 0.9), missing="nan"))
    # already below 1/e at the first lag: the crossing is not inside the window either
    with pytest.raises(ValueError, match="already below"):
        decay_time(t, np.exp(-t / 1e-3))


def test_bad_input(log_times):
    with pytest.raises(ValueError, match="no particles"):
        lt.softness_correlation(np.empty((log_times.size, 0)), log_times, block=10.0)
    with pytest.raises(ValueError, match="frames first"):
        lt.overlap(np.zeros((3, 5, 3)), log_times, block=10.0)
    with pytest.raises(ValueError, match="a must be > 0"):
        lt.overlap(np.zeros((log_times.size, 5, 3)), log_times, a=0)
    with pytest.raises(ValueError, match="select=a_index"):
        lt.propagator(np.ones((log_times.size, 4)), np.zeros((log_times.size, 5, 3)), log_times,
                      [0, 1], [0, 1], block=10.0)
