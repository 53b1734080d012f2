"""Start-up configurations of a run: random KA placement, FIRE overlap removal, overlap check.

Units: LJ (sigma_AA, eps_AA, m = 1).
"""
from __future__ import annotations

import math

import numpy as np

from .. import ka
from .._checks import as_positions, as_species, check_box_cutoff
from .forces import PairForce, compute_serial
from .forces import check_overlaps as _check_overlaps
from .neighbors import build_half

__all__ = ["random_configuration", "remove_overlaps", "check_overlaps", "maxwell_boltzmann",
           "MIN_SEPARATION"]

#: smallest allowed pair distance in units of sigma_uv at the start of a run
MIN_SEPARATION = 0.6


def _serial_forces(species, box):
    """``forces(x, f)``: KA forces (N, 3) into ``f`` from a fresh list for every call.

    The same serial kernels as the numba step loop (:func:`build_half`, :func:`compute_serial`),
    so a start relaxed here is reproduced bit for bit by any engine version using them.
    """
    pf = PairForce(species, box, skin=0.0, nthreads=1)
    vl = pf.nlist

    def forces(x, f):
        perm, ss, offsets, split, nbrs = build_half(x, pf.species, pf.box, vl.ncell, vl.runs,
                                                    vl.nruns, vl.cut2)
        return compute_serial(x, perm, ss, pf.box, offsets, split, nbrs, pf.params, pf.work, f)

    return forces


def random_configuration(N, rho=ka.RHO, seed=0, x_a=ka.X_A):
    """Uniformly random positions of an 80:20 KA mixture (overlaps NOT removed).

    Parameters
    ----------
    N : int
        Number of particles; the first round(0.8 N) are A.
    rho : float
        Number density (sigma_AA**-3).
    seed : int or sequence of int
        Seed of the numpy Generator (a sequence is SeedSequence entropy).

    Returns
    -------
    positions : (N, 3) float64
        In [0, L)^3.
    species : (N,) int32
    box : (3,) float64
    """
    N = int(N)
    if N < 2:
        raise ValueError(f"need at least 2 particles, got N = {N}")
    if not rho > 0:
        raise ValueError(f"density must be positive, got rho = {rho}")
    box = np.full(3, ka.box_length(N, rho))
    check_box_cutoff(box, ka.RCUT_MAX)
    rng = np.random.default_rng(seed)
    return rng.random((N, 3)) * box, ka.composition(N, x_a), box


def remove_overlaps(positions, species, box, f_tol=10.0, max_iter=20000, max_move=0.1):
    """Relax a configuration with FIRE until the largest force is below ``f_tol``.

    FIRE (Bitzek et al., PRL 97, 170201, 2006) with unit masses and a cap
    of ``max_move`` on any particle's displacement per iteration, so that
    the enormous forces of a random start cannot throw particles across
    the box.

    Parameters
    ----------
    positions : (N, 3) float
        Start (unwrapped or wrapped).
    species : (N,) int
    box : float or (3,) float
    f_tol : float
        Stop when max_i |F_i| < f_tol (eps_AA / sigma_AA). 10 is small
        compared with thermal forces at T = 2, which is all a start needs.
    max_iter : int
    max_move : float
        Largest displacement per iteration (sigma_AA).

    Returns
    -------
    (N, 3) float64
        Relaxed positions.
    """
    box = check_box_cutoff(box, ka.RCUT_MAX)
    x = as_positions(positions).copy()
    species = as_species(species, len(x))
    dt, dt_max, alpha, n_pos = 0.002, 0.02, 0.1, 0
    v = np.zeros_like(x)
    forces = _serial_forces(species, box)
    f = np.zeros_like(x)
    forces(x, f)
    for _ in range(max_iter):
        fnorm = np.sqrt((f * f).sum(axis=1))
        if fnorm.max() < f_tol:
            return x
        p = float((f * v).sum())
        if p > 0:
            vn, fn = np.sqrt((v * v).sum()), np.sqrt((f * f).sum())
            v = (1 - alpha) * v + alpha * vn * f / fn
            n_pos += 1
            if n_pos > 5:
                dt, alpha = min(1.1 * dt, dt_max), 0.99 * alpha
        else:
            v[:] = 0.0
            dt, alpha, n_pos = 0.5 * dt, 0.1, 0
        v += dt * f
        dx = dt * v
        step = np.sqrt((dx * dx).sum(axis=1)).max()
        if step > max_move:
            dx *= max_move / step
        x += dx
        forces(x, f)
    raise RuntimeError(f"remove_overlaps: max force still {fnorm.max():.3g} after {max_iter} "
                       "iterations; raise max_iter or start from a lattice")


def check_overlaps(positions, species, box, min_separation=MIN_SEPARATION):
    """Raise ValueError if two particles are closer than ``min_separation`` sigma_uv."""
    _check_overlaps(positions, species, box, factor=min_separation)


def maxwell_boltzmann(rng, n, T):
    """Velocities (N, 3) from N(0, T) per component, zero total momentum, rescaled to exactly T
    (kinetic temperature with N_f = 3 N - 3); ``rng`` a numpy Generator."""
    v = rng.normal(0.0, math.sqrt(T), size=(n, 3))
    v -= v.mean(axis=0)
    v *= math.sqrt(T * (3 * n - 3) / (v * v).sum())
    return v
