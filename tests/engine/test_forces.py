"""KA forces: finite differences, analytic pairs, a numpy twin, virial, invariances, bad input."""
import numpy as np
import pytest

from softlib import ka
from softlib.engine.forces import (
    PairForce,
    check_overlaps,
    energy_forces,
    energy_forces_numpy,
    min_pair_distance,
)

EPS = {(0, 0): 1.0, (0, 1): 1.5, (1, 1): 0.5}
SIG = {(0, 0): 1.0, (0, 1): 0.8, (1, 1): 0.88}


def lj(r, a, b):
    """Analytic shifted LJ energy and radial force, written out independently of softlib."""
    key = (min(a, b), max(a, b))
    e, s = EPS[key], SIG[key]
    rc = 2.5 * s
    if r >= rc:
        return 0.0, 0.0
    u = 4 * e * ((s / r) ** 12 - (s / r) ** 6) - 4 * e * ((s / rc) ** 12 - (s / rc) ** 6)
    f = 24 * e * (2 * (s / r) ** 12 - (s / r) ** 6) / r
    return u, f


def liquid(n, seed, steps=60):
    """Dense random KA configuration (rho 1.2) after a short capped steepest descent."""
    rng = np.random.default_rng(seed)
    L = ka.box_length(n)
    m = int(np.ceil(n ** (1 / 3)))
    grid = np.stack(np.meshgrid(*[np.arange(m)] * 3, indexing="ij"), -1).reshape(-1, 3)
    pos = (grid[rng.permutation(len(grid))[:n]] + 0.5) * (L / m) + rng.normal(0, 0.15, (n, 3))
    species = rng.permutation(ka.composition(n))
    for _ in range(steps):
        _, f = energy_forces(pos, species, L)
        pos += np.clip(2e-3 * f, -0.02, 0.02)
    return pos, species, L


@pytest.fixture(scope="module")
def conf():
    return liquid(250, 11)


def test_forces_match_finite_differences(conf):
    pos, s, L = conf
    e0, f = energy_forces(pos, s, L)
    assert np.abs(f).max() < 500  # relaxed: no huge forces
    h = 1e-5
    for i in (0, 17, 123, 249):
        for d in range(3):
            p, m = pos.copy(), pos.copy()
            p[i, d] += h
            m[i, d] -= h
            fd = -(energy_forces(p, s, L)[0] - energy_forces(m, s, L)[0]) / (2 * h)
            assert f[i, d] == pytest.approx(fd, rel=1e-6, abs=1e-6)


@pytest.mark.parametrize("a, b, r", [(0, 0, 1.1), (0, 1, 0.8), (1, 1, 2.0), (0, 0, 2.49), (0, 1, 2.01)])
def test_two_particles_across_boundary(a, b, r):
    box = np.array([6.0, 7.0, 5.5])
    # particle 0 just inside the x = 0 face, particle 1 an image away on the far side
    p0 = np.array([0.1, 3.0, 5.4])
    direction = np.array([-1.0, 0.5, 0.3]) / np.linalg.norm([-1.0, 0.5, 0.3])
    p1 = p0 + r * direction + box * [1, 0, -1]
    u, fr = lj(r, a, b)
    for nt in (1, 2):
        e, w, f = PairForce([a, b], box, skin=0.2, nthreads=nt).compute(np.array([p0, p1]))
        assert e == pytest.approx(u, rel=1e-12, abs=1e-14)
        np.testing.assert_allclose(f[0], -fr * direction, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(f[1], fr * direction, rtol=1e-12, atol=1e-14)
        assert w == pytest.approx(fr * r, rel=1e-12, abs=1e-14)


def test_three_particles_sum_of_pairs():
    box = 5.5
    pos = np.array([[5.3, 0.2, 0.1], [0.4, 0.3, 5.2], [0.1, 5.0, 0.6]])
    s = [0, 1, 1]
    e, f = energy_forces(pos, s, box)
    u_ref, f_ref = 0.0, np.zeros((3, 3))
    for i in range(3):
        for j in range(i + 1, 3):
            d = pos[i] - pos[j]
            d = d - box * np.round(d / box)
            r = np.linalg.norm(d)
            u, fr = lj(r, s[i], s[j])
            u_ref += u
            f_ref[i] += fr * d / r
            f_ref[j] -= fr * d / r
    assert e == pytest.approx(u_ref, rel=1e-12)
    np.testing.assert_allclose(f, f_ref, rtol=1e-11, atol=1e-12)
    assert u_ref != 0 and np.abs(f_ref).max() > 0.1


@pytest.mark.parametrize("seed, stretch", [(0, (1, 1, 1)), (1, (1.0, 1.15, 0.9))])
def test_numba_matches_numpy_twin_and_parallel(seed, stretch):
    pos, s, L = liquid(400, seed, steps=20)
    pos, L = pos * stretch, L * np.array(stretch)  # also a non-cubic box
    pos = pos + L * np.random.default_rng(seed).integers(-3, 4, pos.shape)  # unwrapped
    e_np, w_np, f_np = energy_forces_numpy(pos, s, L)
    scale = np.abs(f_np).max()
    for nt in (1, 2, 3):
        pf = PairForce(s, L, skin=0.3, nthreads=nt)
        e, w, f = pf.compute(pos)
        assert e == pytest.approx(e_np, rel=1e-10)
        assert w == pytest.approx(w_np, rel=1e-10)
        np.testing.assert_allclose(f, f_np, rtol=0, atol=1e-10 * scale)
    e1, w1, f1 = PairForce(s, L, nthreads=1).compute(pos)
    e2, w2, f2 = PairForce(s, L, nthreads=2).compute(pos)
    assert abs(e1 - e2) <= 1e-12 * abs(e1) and abs(w1 - w2) <= 1e-12 * abs(w1)
    np.testing.assert_allclose(f1, f2, rtol=0, atol=1e-12 * scale)


def test_verlet_reuse_matches_fresh_list(conf):
    pos, s, L = conf
    pf = PairForce(s, L, skin=0.3, nthreads=1)
    out = np.empty_like(pos)
    rng = np.random.default_rng(5)
    p = pos.copy()
    for step in range(30):
        p += rng.normal(0, 0.01, p.shape)  # random walk: rebuilds now and then
        e, w, f = pf.compute(p, out=out)
        assert f is out
        e_np, w_np, f_np = energy_forces_numpy(p, s, L)
        assert e == pytest.approx(e_np, rel=1e-10)
        np.testing.assert_allclose(f, f_np, atol=1e-9 * np.abs(f_np).max())
    assert 1 < pf.n_builds < 30


def test_virial_equals_volume_derivative(conf):
    pos, s, L = conf
    _, w, _ = PairForce(s, L).compute(pos)
    h = 1e-6
    up = energy_forces(pos * (1 + h), s, L * (1 + h))[0]
    dn = energy_forces(pos * (1 - h), s, L * (1 - h))[0]
    # U(lambda): V = lambda^3 V0, so -dU/dV = -(dU/dlambda) / (3 V0) = W / (3 V0)
    dudl = (up - dn) / (2 * h)
    assert -dudl == pytest.approx(w, rel=1e-6)


def test_translation_and_permutation_invariance(conf):
    pos, s, L = conf
    e, f = energy_forces(pos, s, L)
    shift = np.array([0.37, -5.1, 12.9])
    e2, f2 = energy_forces(pos + shift, s, L)
    assert e2 == pytest.approx(e, rel=1e-12)
    np.testing.assert_allclose(f2, f, atol=1e-10 * np.abs(f).max())
    perm = np.random.default_rng(3).permutation(len(s))
    e3, f3 = energy_forces(pos[perm], s[perm], L)
    assert e3 == pytest.approx(e, rel=1e-12)
    np.testing.assert_allclose(f3, f[perm], atol=1e-10 * np.abs(f).max())
    assert np.abs(f.sum(axis=0)).max() < 1e-9 * np.abs(f).max()  # Newton's third law


def test_overlap_detection(conf):
    pos, s, L = conf
    assert min_pair_distance(pos, L) > 0.5
    assert check_overlaps(pos, s, L) > 0.5
    bad = pos.copy()
    bad[1] = bad[0] + [0.2, 0.0, 0.0]
    assert min_pair_distance(bad, L) == pytest.approx(0.2)
    with pytest.raises(ValueError, match="remove_overlaps"):
        check_overlaps(bad, s, L)


def test_bad_input():
    pos = np.random.default_rng(0).uniform(0, 6, (10, 3))
    s = np.zeros(10, int)
    nan = pos.copy()
    nan[4, 2] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        energy_forces(nan, s, 6.0)
    with pytest.raises(ValueError, match="NaN"):
        PairForce(s, 6.0).compute(nan)
    pf = PairForce(s, 6.0)
    pf.compute(pos)
    with pytest.raises(ValueError, match="NaN"):  # also after the first build
        pf.compute(nan)
    with pytest.raises(ValueError, match="unknown species"):
        energy_forces(pos, np.r_[s[:-1], 2], 6.0)
    with pytest.raises(ValueError, match="twice the cutoff"):
        energy_forces(pos, s, 4.9)
    with pytest.raises(ValueError, match="shape"):
        energy_forces(pos[:, :2], s, 6.0)
    with pytest.raises(ValueError, match="particles"):
        energy_forces(pos, s[:-1], 6.0)
    with pytest.raises(ValueError, match="particles"):
        PairForce(s, 6.0).compute(pos[:5])
    with pytest.raises(ValueError, match="out must be"):
        PairForce(s, 6.0).compute(pos, out=np.empty((10, 3), dtype=np.float32))
    same = pos.copy()
    same[1] = same[0]
    with pytest.raises(ValueError, match="coincide"):
        PairForce(s, 6.0).compute(same)


def test_return_types(conf):
    pos, s, L = conf
    e, f = energy_forces(pos.astype(np.float32), s.tolist(), [L, L, L])
    assert isinstance(e, float) and f.dtype == np.float64 and f.shape == pos.shape
