"""Shared builders and references for the test suite (imported as ``helpers``; tests/ is on sys.path).

Kept apart from softlib on purpose: these are independent references (plain numpy, no
softlib kernels), so a test that uses them compares softlib against something else.
"""
from __future__ import annotations

import numpy as np

from softlib import ka


def minimum_image(d, box):
    """Separation vectors ``d`` (..., 3) folded into the nearest periodic image of an orthorhombic ``box``."""
    box = np.asarray(box, dtype=float)
    return d - box * np.rint(d / box)


def pair_distances(pos, box, i):
    """Minimum-image distances (N,) from particle ``i`` to every particle (0 for itself)."""
    d = minimum_image(pos - pos[i], box)
    return np.sqrt((d * d).sum(1))


def ka_fluid(n, seed, box=None, rmin=0.75, x_b=0.2):
    """A cheap dense KA-like configuration: random sequential addition at rho = 1.2 with no pair closer than ``rmin``.

    Returns ``(positions (n, 3), species (n,) int32 with n * x_b B particles, box (3,))``.
    """
    rng = np.random.default_rng(seed)
    L = np.full(3, ka.box_length(n)) if box is None else np.broadcast_to(np.asarray(box, float), (3,)).copy()
    pos = np.empty((n, 3))
    k = 0
    while k < n:
        p = rng.uniform(0, L)
        if k == 0 or np.min((minimum_image(pos[:k] - p, L) ** 2).sum(1)) > rmin**2:
            pos[k] = p
            k += 1
    species = np.zeros(n, np.int32)
    species[rng.permutation(n)[: int(round(n * x_b))]] = 1
    return pos, species, L


def hard_sphere_packing(n, box, diameter, rng):
    """Random sequential addition of ``n`` hard spheres in a periodic ``box``: a structured, liquid-like configuration.

    Positions are centred on the origin (in [-L/2, L/2)).
    """
    from scipy.spatial import cKDTree

    box = np.broadcast_to(np.asarray(box, float), (3,))
    pos = np.empty((0, 3))
    while len(pos) < n:
        trial = rng.uniform(0, box, (512, 3))
        if len(pos):  # drop trials overlapping accepted spheres (periodic tree)
            d, _ = cKDTree(pos, boxsize=box).query(trial, distance_upper_bound=diameter)
            trial = trial[~np.isfinite(d)]
        for p in trial:  # then add them one by one, in order, against each other
            if len(pos) == n:
                break
            new = pos[-len(trial):] if len(pos) else pos
            dd = minimum_image(new - p, box)
            if len(new) == 0 or np.min((dd * dd).sum(1)) > diameter ** 2:
                pos = np.vstack([pos, p])
    return pos - box / 2


def hard_sphere_system(n, rho, n_frames, rng, x_b=0.2):
    """``n_frames`` independent hard-sphere packings (d = 1) at density ``rho`` with a random 80:20 labelling.

    Returns ``(frames (n_frames, n, 3), species (n,) int32, box (3,))``: a structured reference liquid for g(r), S(q).
    """
    box = np.full(3, (n / rho) ** (1 / 3))
    frames = np.array([hard_sphere_packing(n, box, 1.0, rng) for _ in range(n_frames)])
    species = np.zeros(n, np.int32)
    species[rng.permutation(n)[: int(round(n * x_b))]] = 1
    return frames, species, box


def box_crossing_walk(n, n_frames, start, drift, noise, seed):
    """Unwrapped positions (n_frames, n, 3) of a drifting random walk that crosses a periodic box many times.

    Each particle moves by a fixed vector of length ``drift`` plus Gaussian noise of width ``noise`` per
    frame (both well below a quarter box, so that the frames can be unwrapped by continuity); ``start``
    is a callable ``start(rng) -> (n, 3)`` of first positions.
    """
    rng = np.random.default_rng(seed)
    d = rng.normal(size=(n, 3))
    d *= drift / np.linalg.norm(d, axis=1, keepdims=True)
    steps = d + rng.normal(0.0, noise, (n_frames, n, 3))
    steps[0] = start(rng)
    return np.cumsum(steps, axis=0)
