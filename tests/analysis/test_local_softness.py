"""softlib.analysis.local_softness against independent references: numpy pair sums, scipy quadrature,
softlib.analysis.caging's average functional, symmetry (hypothesis) and bad input."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as hst
from scipy.integrate import quad

from helpers import ka_fluid, pair_distances

from softlib import ka
from softlib.analysis import _local_kernels as lk
from softlib.analysis import local_softness as lc
from softlib.analysis.caging import smear_rdf

LIMITS = {"AA": (0.88, 1.42), "AB": (0.73, 1.22)}


@pytest.fixture(scope="module")
def fluid(ka_fluid_200):
    return ka_fluid_200


def _local_rdf_numpy(pos, species, box, i, r, delta):
    """Eq. 8 from all pair distances (no cutoff, no recurrence)."""
    rr = pair_distances(pos, box, i)
    vol = np.prod(box)
    out = np.zeros((2, r.size))
    for v in range(2):
        m = (species == v) & (np.arange(len(pos)) != i)
        gs = np.exp(-((r[:, None] - rr[m][None]) ** 2) / (2 * delta**2)).sum(1) / np.sqrt(2 * np.pi * delta**2)
        rho_v = (np.sum(species == v) - (species[i] == v)) / vol
        out[v] = gs / (4 * np.pi * r**2 * rho_v)
    return out


# --------------------------------------------------------------------------- elementary kernels
def test_vectorised_exp_and_log_match_numpy():
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.uniform(-708, 708, 5000), rng.uniform(-4, 4, 5000), [0.0, -300.0]])
    out = np.empty_like(x)
    lk._vexp(x, out, np.empty(x.size, np.int64), x.size)
    np.testing.assert_allclose(out, np.exp(x), rtol=5e-14)
    y = np.exp(rng.uniform(-690, 700, 5000))
    y = np.concatenate([y, [1.0, 1.0 + 1e-12, 0.5, 2.0, np.sqrt(2.0)]])
    lg = np.empty_like(y)
    lk._vlog(y, lg, np.empty(y.size, np.int64), y.size)
    np.testing.assert_allclose(lg, np.log(y), rtol=1e-15, atol=4e-16)


@pytest.mark.parametrize("delta,h_frac,n", [(0.09, 0.1, 61), (0.05, 0.1, 300), (0.02, 0.05, 900), (0.12, 0.07, 5)])
def test_gaussian_recurrence_equals_direct_exp(delta, h_frac, n):
    rng = np.random.default_rng(3)
    d = np.sort(rng.uniform(0.3, 3.0, 57))
    h = delta * h_frac
    r0 = 0.8
    seg = max(1, int(lk._SEGMENT_DELTAS * delta / h))
    m = 2 * d.size + n
    acc = np.empty(n)
    lk._gauss_grid(d, d.size, r0, h, n, delta, seg, acc, np.empty(d.size), np.empty(d.size), np.empty(m),
                   np.empty(m), np.empty(m, np.int64))
    r = r0 + h * np.arange(n)
    ref = np.exp(-((r[:, None] - d[None]) ** 2) / (2 * delta**2)).sum(1)
    # the recurrence drops only terms below exp(-162) (far neighbours); rounding ~1e-14
    np.testing.assert_allclose(acc, ref, rtol=1e-12, atol=1e-60)
    acc2 = np.empty(n)
    lk._gauss_direct(d, d.size, r, delta, acc2)
    np.testing.assert_allclose(acc2, ref, rtol=1e-13)


# --------------------------------------------------------------------------- local rdf
def test_local_rdf_matches_pair_sum(fluid):
    pos, species, box = fluid
    r = np.linspace(0.6, 2.0, 141)
    g = lc.local_rdf(pos, species, box, r, delta=0.09)
    a_idx = np.flatnonzero(species == 0)
    for k in (0, 7, 100):
        ref = _local_rdf_numpy(pos, species, box, a_idx[k], r, 0.09)
        # only the Gaussian tails beyond r_max + 6 delta are missing (< 1.5e-8 of a peak)
        np.testing.assert_allclose(g[k], ref, rtol=0, atol=1e-7 * ref.max())


def test_local_rdf_nonuniform_grid_and_b_centres(fluid):
    pos, species, box = fluid
    r = np.sort(np.random.default_rng(2).uniform(0.7, 1.9, 40))
    g = lc.local_rdf(pos, species, box, r, delta=0.05, center=1)
    b = np.flatnonzero(species == 1)[3]
    ref = _local_rdf_numpy(pos, species, box, b, r, 0.05)
    np.testing.assert_allclose(g[3], ref, rtol=0, atol=1e-7 * ref.max())


@pytest.mark.parametrize("delta", [0.05, 0.09, 0.12])
def test_average_local_rdf_is_smeared_histogram_rdf(delta):
    """Average over A particles and frames = the pair-distance rdf convolved with the same Gaussian."""
    frames = [ka_fluid(200, s) for s in (5, 6)]
    r = np.linspace(0.5, 2.0, 76)  # r + 6 delta stays below half the box (L = 5.5)
    avg = np.mean([lc.local_rdf(p, s, b, r, delta).mean(0) for p, s, b in frames], axis=0)
    exact = np.zeros((2, r.size))
    edges = np.linspace(0.0, 3.2, 32001)
    g_hist = np.zeros((2, edges.size - 1))
    shell = 4 / 3 * np.pi * (edges[1:] ** 3 - edges[:-1] ** 3)
    for p, s, b in frames:
        a_idx = np.flatnonzero(s == 0)
        vol = np.prod(b)
        for v in range(2):
            rr = np.concatenate([pair_distances(p, b, i)[(s == v) & (np.arange(len(p)) != i)] for i in a_idx])
            rho_v = (np.sum(s == v) - (v == 0)) / vol
            # the smeared rdf as a sum of Gaussians over every A-v pair distance (no binning)
            gs = np.exp(-((r[:, None] - rr[None]) ** 2) / (2 * delta**2)).sum(1) / np.sqrt(2 * np.pi * delta**2)
            exact[v] += gs / (4 * np.pi * r**2 * rho_v * a_idx.size) / len(frames)
            g_hist[v] += np.histogram(rr, edges)[0] / (a_idx.size * rho_v * shell) / len(frames)
    # tight: only Gaussian tails beyond r + 6 delta are missing from the local rdfs (< 1.5e-8)
    np.testing.assert_allclose(avg, exact, rtol=1e-9, atol=1e-8)
    # the histogram route (what notebook 03 plots): binning moves each pair by < dr / 2 = 5e-5,
    # a first-order error of order (dr / 2 delta) / sqrt(pairs per delta) in the smeared rdf
    np.testing.assert_allclose(avg, smear_rdf(edges, g_hist, r, delta), rtol=1e-3, atol=1e-5)


# --------------------------------------------------------------------------- local depth: quadrature
def _depth_quad(pos, species, box, i, T, limits, delta):
    """METHODS 4 integrated with scipy.integrate.quad (independent of the grid code)."""
    rr = pair_distances(pos, box, i)
    n = len(pos)
    vol = np.prod(box)
    x = np.array([np.sum(species == 0), np.sum(species == 1)]) / n
    rho = n / vol
    total = 0.0
    for v, key in enumerate(("AA", "AB")):
        if x[v] == 0:  # no B particles: the AB term has weight sqrt(x_A x_B) = 0
            continue
        d = rr[(species == v) & (np.arange(n) != i)]
        rho_v = (np.sum(species == v) - (species[i] == v)) / vol

        def integrand(r, d=d, v=v, rho_v=rho_v):
            g = np.sum(np.exp(-((r - d) ** 2) / (2 * delta**2))) / np.sqrt(2 * np.pi * delta**2)
            g /= 4 * np.pi * r**2 * rho_v
            if g == 0.0:
                return 0.0
            bu = float(ka.pair_potential(r, 0, v)) / T
            return 4 * np.pi * r**2 * rho * g * (-bu + g - 1 - np.log(g))

        lo, hi = limits[key]
        pts = [p for p in d if lo < p < hi]
        val = quad(integrand, lo, hi, points=pts or None, limit=400, epsabs=0, epsrel=1e-11)[0]
        total += np.sqrt(x[0] * x[v]) * val
    return -0.5 * total


@pytest.mark.parametrize("config", ["two", "three"])
def test_few_particle_depth_against_quadrature(config):
    box = np.array([9.0, 10.0, 11.0])
    if config == "two":
        pos = np.array([[1.0, 1.0, 1.0], [2.05, 1.2, 0.9]])
        species = np.array([0, 0])
        limits = {"AA": (0.9, 1.5), "AB": (0.75, 1.3)}
    else:  # an A-A pair and a B between them, one neighbour across the periodic boundary
        pos = np.array([[0.3, 5.0, 5.0], [8.3, 5.4, 5.1], [0.5, 6.0, 5.0]])
        species = np.array([0, 0, 1])
        limits = LIMITS
    T = 0.7
    a_idx = np.flatnonzero(species == 0)
    ref = np.array([_depth_quad(pos, species, box, i, T, limits, 0.09) for i in a_idx])
    simpson = lc.local_depth(pos, species, box, T, limits, 0.09)
    np.testing.assert_allclose(simpson, ref, rtol=2e-6)
    trap_fine = lc.local_depth(pos, species, box, T, limits, 0.09, spacing=0.09 / 200, rule="trapezoid")
    np.testing.assert_allclose(trap_fine, ref, rtol=2e-5)
    trap = lc.local_depth(pos, species, box, T, limits, 0.09, rule="trapezoid")  # METHODS grid, h = delta/10
    np.testing.assert_allclose(trap, ref, rtol=5e-3)


def test_depth_of_dense_fluid_against_quadrature(fluid):
    pos, species, box = fluid
    got = lc.local_depth(pos, species, box, 0.6, LIMITS, 0.09)
    a_idx = np.flatnonzero(species == 0)
    for k in (0, 50, 159):
        # Simpson at h = delta / 10: ~1e-6 of the integrand's magnitude (terms of order 10 cancel)
        np.testing.assert_allclose(got[k], _depth_quad(pos, species, box, a_idx[k], 0.6, LIMITS, 0.09),
                                   rtol=1e-5, atol=1e-4)


def test_kernel_is_the_functional_of_the_local_rdf(fluid):
    """local_depth == depth_functional(local_rdf) on the kernel's own grid (same limits for AA, AB)."""
    pos, species, box = fluid
    lim = {"AA": (0.8, 1.5), "AB": (0.8, 1.5)}
    n = 70  # the kernel's trapezoid grid: ceil((1.5 - 0.8) / 0.009) = 78 intervals
    m = int(np.ceil(0.7 / 0.009 - 1e-9))
    r = np.linspace(0.8, 1.5, m + 1)
    g = lc.local_rdf(pos, species, box, r, 0.09)
    got = lc.local_depth(pos, species, box, 0.8, lim, 0.09, rule="trapezoid")
    x = (0.8, 0.2)
    ref = [lc.depth_functional(r, g[k], 0.8, lim, x=x, rho=len(pos) / np.prod(box)) for k in range(n)]
    np.testing.assert_allclose(got[:n], ref, rtol=1e-9)


def test_functional_of_average_rdf_equals_caging_real_space_depth():
    """The kernel's integration stage fed the average g reproduces softlib.analysis.caging.real_space_depth."""
    caging = pytest.importorskip("softlib.analysis.caging")
    r = np.arange(1, 301) * 0.01
    # a smooth liquid-like rdf pair (peaks near 1.08 and 0.85), not from any simulation
    g_aa = np.where(r > 0.8, 1 + 2.0 * np.exp(-((r - 1.08) / 0.1) ** 2) - 0.4 * np.exp(-((r - 1.5) / 0.15) ** 2), 0)
    g_ab = np.where(r > 0.7, 1 + 3.0 * np.exp(-((r - 0.85) / 0.08) ** 2) - 0.5 * np.exp(-((r - 1.2) / 0.1) ** 2), 0)
    g_aa *= 1 - np.exp(-np.clip(r - 0.8, 0, None) * 50)
    g_ab *= 1 - np.exp(-np.clip(r - 0.7, 0, None) * 50)
    g = np.zeros((2, 2, r.size))
    g[0, 0], g[0, 1] = g_aa, g_ab
    lim = {"AA": (0.85, 1.45), "AB": (0.72, 1.25)}  # on grid points
    for T in (0.47, 0.8):
        ref = caging.real_space_depth(r, g, T, lim, x=(0.8, 0.2), rho=1.2)
        got = lc.depth_functional(r, g[0], T, lim, x=(0.8, 0.2), rho=1.2, rule="trapezoid")
        np.testing.assert_allclose(got, ref, rtol=1e-12)


# --------------------------------------------------------------------------- symmetry
@settings(max_examples=12, deadline=None)
@given(shift=hst.tuples(*[hst.floats(-50, 50)] * 3), seed=hst.integers(0, 2**31 - 1))
def test_depth_invariant_under_translation_permutation_images(fluid, shift, seed):
    pos, species, box = fluid
    base = lc.local_depth(pos, species, box, 0.6, LIMITS)
    rng = np.random.default_rng(seed)
    perm = rng.permutation(len(pos))
    moved = pos[perm] + np.asarray(shift) + box * rng.integers(-3, 4, (len(pos), 3))
    got = lc.local_depth(moved, species[perm], box, 0.6, LIMITS)
    # A particles come out in index order: map them back through the permutation
    a_new = np.flatnonzero(species[perm] == 0)
    a_old = np.searchsorted(np.flatnonzero(species == 0), perm[a_new])
    np.testing.assert_allclose(got, base[a_old], rtol=1e-10, atol=1e-10)


def test_small_box_all_pairs_path_and_frames(fluid):
    """A box too small for the 5x5x5 stencil uses all pairs; frames give the same per frame."""
    pos, species, box = ka_fluid(60, 4)  # L = 3.7: fewer than 5 cells per side
    lim = {"AA": (0.9, 1.2), "AB": (0.75, 1.1)}
    one = lc.local_depth(pos, species, box, 0.6, lim, 0.05)
    a_idx = np.flatnonzero(species == 0)
    ref = [_depth_quad(pos, species, box, i, 0.6, lim, 0.05) for i in a_idx[:5]]
    np.testing.assert_allclose(one[:5], ref, rtol=1e-5, atol=1e-4)
    p2, s2, b2 = fluid
    stack = np.stack([p2, p2 + 0.3, np.roll(p2, 1, axis=1)])
    many = lc.local_depth(stack, s2, b2, 0.6, LIMITS)
    assert many.shape == (3, np.sum(s2 == 0))
    for f in range(3):
        np.testing.assert_allclose(many[f], lc.local_depth(stack[f], s2, b2, 0.6, LIMITS), rtol=1e-12)


# --------------------------------------------------------------------------- softness and bad input
def test_local_softness_counts_nonpositive_denominators():
    depth = np.array([[-10.0, -2.0, 0.5], [-20.0, 3.0, -7.5]])
    s, bad = lc.local_softness(depth, c0=-30.0, c1=-4.0)
    den = -30.0 - 4.0 * depth  # 10, -22, -32, 50, -42, 0 (zero counts as non-positive)
    assert bad == 4
    np.testing.assert_array_equal(np.isnan(s), den <= 0)
    np.testing.assert_allclose(s[den > 0], 1 / den[den > 0])
    with pytest.raises(ValueError, match="NaN"):
        lc.local_softness([np.nan], 1.0, 1.0)


@pytest.mark.parametrize("delta", [0, -0.1, float("nan"), "x"])
def test_bad_delta(fluid, delta):
    pos, species, box = fluid
    with pytest.raises(ValueError, match="delta"):
        lc.local_depth(pos, species, box, 0.6, LIMITS, delta=delta)
    with pytest.raises(ValueError, match="delta"):
        lc.local_rdf(pos, species, box, [1.0], delta=delta)


def test_bad_inputs(fluid, tmp_path):
    pos, species, box = fluid
    with pytest.raises(ValueError, match="no A particles"):
        lc.local_depth(pos, np.ones_like(species), box, 0.6, LIMITS)
    with pytest.raises(ValueError, match="limits"):
        lc.local_depth(pos, species, box, 0.6, {"AA": (0.9, 1.4)})
    with pytest.raises(ValueError, match="r_lo < r_hi"):
        lc.local_depth(pos, species, box, 0.6, {"AA": (1.4, 0.9), "AB": (0.7, 1.2)})
    with pytest.raises(ValueError, match="twice the cutoff"):
        lc.local_depth(pos[:20], species[:20], 3.0, 0.6, LIMITS)
    with pytest.raises(ValueError, match="calibration file"):
        lc.softness_parameters(tmp_path / "missing.json", 0.6)
    cal = {"c0": 1.0, "c1": -0.1, "per_temperature": {"0.600": {"limits": {"AA": [0.9, 1.4], "AB": [0.7, 1.2]}}}}
    with pytest.raises(ValueError, match="not in the calibration"):
        lc.softness_parameters(cal, 0.7)
    with pytest.raises(ValueError, match="smeared"):
        lc.softness_parameters(cal, 0.6, variant="smeared")
    p = lc.softness_parameters(cal, 0.6)
    assert p["c0"] == 1.0 and p["limits"]["AA"] == (0.9, 1.4)
