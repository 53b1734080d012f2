"""Long checks of the analysis kernels (``pytest -m slow``; not part of ``make test``).

The fast suite checks a few particles of small systems; these check every particle of
systems of the paper's size against independent references.
"""
import numpy as np
import pytest
from scipy import integrate

from helpers import hard_sphere_system, ka_fluid, pair_distances

from softlib import ka
from softlib.analysis import local_softness as lc
from softlib.analysis import structure as st

pytestmark = pytest.mark.slow

LIMITS = {"AA": (0.88, 1.42), "AB": (0.73, 1.22)}


def _depth_quad(pos, species, box, i, T, limits, delta):
    """beta Phi_r^i of Eq. 8 by adaptive quadrature of the local rdf built from all pair distances."""
    n_v = np.array([np.sum(species == 0) - 1, np.sum(species == 1)], float)
    rho_v, rho, x = n_v / np.prod(box), len(species) / np.prod(box), np.array([0.8, 0.2])
    r_i = pair_distances(pos, box, i)
    total = 0.0
    for v, key in ((0, "AA"), (1, "AB")):
        d = r_i[(species == v) & (np.arange(len(species)) != i)]

        def integrand(r):
            g = np.exp(-((r - d) ** 2) / (2 * delta**2)).sum() / (np.sqrt(2 * np.pi) * delta * 4 * np.pi * r**2 * rho_v[v])
            if g <= 0:
                return 0.0
            bu = ka.pair_potential(r, 0, v) / T
            return 4 * np.pi * r**2 * rho * g * (-bu + g - 1 - np.log(g))

        lo, hi = limits[key]
        total += -0.5 * np.sqrt(x[0] * x[v]) * integrate.quad(integrand, lo, hi, limit=400, epsabs=1e-10)[0]
    return total


def test_local_depth_of_every_particle_of_an_n1000_fluid():
    pos, species, box = ka_fluid(1000, 7)
    got = lc.local_depth(pos, species, box, 0.5, LIMITS, 0.09)
    a_idx = np.flatnonzero(species == 0)
    ref = np.array([_depth_quad(pos, species, box, i, 0.5, LIMITS, 0.09) for i in a_idx])
    np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-4)


def test_structure_factor_tends_to_one_for_n4000():
    rng = np.random.default_rng(3)
    frames, species, box = hard_sphere_system(4000, 0.6, 4, rng)
    q, S = st.partial_structure_factor(frames, q_max=40.0, max_vectors=300, species=species, box=box)
    tail = q > 30
    # S_uv(q) -> delta_uv at large q; the shell averages of 300 vectors over 4 frames scatter by ~3 %
    np.testing.assert_allclose(S[tail, 0, 0].mean(), 1.0, atol=0.02)
    np.testing.assert_allclose(S[tail, 1, 1].mean(), 1.0, atol=0.02)
    np.testing.assert_allclose(S[tail, 0, 1].mean(), 0.0, atol=0.02)
