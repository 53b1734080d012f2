"""The Kob-Andersen 80:20 binary Lennard-Jones mixture (paper Eq. 1).

Units: sigma_AA = eps_AA = m = k_B = 1. Species are integers, 0 = A, 1 = B.
Each pair type uv interacts through a Lennard-Jones potential truncated at
``2.5 sigma_uv`` and shifted by its value there (energy shift only: the force
jumps to zero at the cutoff, as with LAMMPS ``pair_modify shift yes``).

This module holds the model only (constants and the pair potential in numpy); the
numba force routines are :mod:`softlib.engine.forces` (``energy_forces``, ``PairForce``).
"""
from __future__ import annotations

import numpy as np

#: number of species (A, B)
NSPECIES = 2
#: interaction strengths eps_uv, indexed [u, v]
EPSILON = np.array([[1.0, 1.5], [1.5, 0.5]])
#: diameters sigma_uv, indexed [u, v]
SIGMA = np.array([[1.0, 0.8], [0.8, 0.88]])
#: cutoff in units of sigma_uv
RCUT_FACTOR = 2.5
#: cutoff radii r_c,uv = 2.5 sigma_uv
RCUT = RCUT_FACTOR * SIGMA
#: largest cutoff of any pair type (sets cell and Verlet list sizes)
RCUT_MAX = float(RCUT.max())
#: number fraction of A particles
X_A = 0.8
#: total number density of the standard KA liquid
RHO = 1.2
#: masses m_A = m_B = 1
MASS = 1.0


def _lj(r, eps, sig):
    sr6 = (sig / r) ** 6
    return 4.0 * eps * (sr6 * sr6 - sr6)


#: energy shift U_LJ(r_c,uv) subtracted inside the cutoff, indexed [u, v]
ESHIFT = _lj(RCUT, EPSILON, SIGMA)


def pair_potential(r, u, v):
    """Shifted, truncated KA pair potential U_uv(r).

    Parameters
    ----------
    r : array_like
        Pair distances (sigma_AA), any shape, > 0.
    u, v : int
        Species of the two particles (0 = A, 1 = B).

    Returns
    -------
    ndarray
        U_uv(r) in eps_AA, same shape as ``r``; zero beyond 2.5 sigma_uv.
    """
    r = np.asarray(r, dtype=float)
    if u not in (0, 1) or v not in (0, 1):
        raise ValueError(f"species must be 0 (A) or 1 (B), got {u}, {v}")
    eps, sig, rc = EPSILON[u, v], SIGMA[u, v], RCUT[u, v]
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        val = _lj(r, eps, sig) - ESHIFT[u, v]
    return np.where(r < rc, val, 0.0)


def pair_force(r, u, v):
    """Magnitude of the pair force -dU_uv/dr (positive = repulsive).

    Same arguments as :func:`pair_potential`; zero beyond the cutoff.
    """
    r = np.asarray(r, dtype=float)
    eps, sig, rc = EPSILON[u, v], SIGMA[u, v], RCUT[u, v]
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        sr6 = (sig / r) ** 6
        val = 24.0 * eps * (2.0 * sr6 * sr6 - sr6) / r
    return np.where(r < rc, val, 0.0)


def composition(n, x_a=X_A):
    """Species array for ``n`` particles: the first round(x_a n) are A, the rest B."""
    n_a = int(round(x_a * n))
    species = np.ones(n, dtype=np.int32)
    species[:n_a] = 0
    return species


def box_length(n, rho=RHO):
    """Edge of the cubic box holding ``n`` particles at number density ``rho``."""
    return float((n / rho) ** (1.0 / 3.0))

