"""numba kernels behind :mod:`softlib.analysis.predictors` (private: call the wrappers there).

One pass over the neighbours of every centre particle of one frame gives, at once,

* the radial structure functions G_v(i; mu) = sum_{j in v} exp(-(r_ij - mu)^2 / 2 L^2) of
  Schoenholz et al. (Nat. Phys. 12, 469 (2016)) for both neighbour species v = A, B;
* the per-particle potential energy e_i = 1/2 sum_j U_{s_i s_j}(r_ij) with the KA constants;
* the number of neighbours of each species with r_lo,v <= r_ij <= r_hi,v.

Periodic images are enumerated explicitly (not just the minimum image): the structure
functions reach mu + 5 L ~ 5.5 sigma, more than half the box of N = 500 or 1000 at rho = 1.2.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit, prange


@njit(cache=True)
def _image_range(d, L, r_max):  # pragma: no cover - compiled
    """Lowest and highest integer shift n with |d + n L| <= r_max along one axis (d is min-image)."""
    lo = int(math.ceil((-r_max - d) / L))
    hi = int(math.floor((r_max - d) / L))
    return lo, hi


@njit(parallel=True, cache=True)
def frame_features(pos, species, box, centers, mu, width, eps, sig, rcut, shift, r_lo, r_hi):  # pragma: no cover
    """Structure functions, potential energy and neighbour counts of ``centers`` in one frame.

    Parameters
    ----------
    pos : (N, 3) float64 positions (any image; sigma)
    species : (N,) int64, 0 = A, 1 = B
    box : (3,) float64 edge lengths
    centers : (C,) int64 particle indices
    mu : (M,) float64 shell centres, uniformly spaced
    width : float, Gaussian width L of the shells
    eps, sig, rcut, shift : (2, 2) float64 KA parameters (softlib.ka)
    r_lo, r_hi : (2,) float64, counting range per neighbour species (for an A centre)

    Returns
    -------
    G : (C, 2, M) float64, epot : (C,) float64, count : (C, 2) int64
    """
    C = centers.size
    M = mu.size
    N = pos.shape[0]
    dmu = mu[1] - mu[0] if M > 1 else 1.0
    reach = 6.0 * width  # exp(-18) ~ 1.5e-8 of a shell's peak is neglected beyond this
    r_max = mu[M - 1] + reach
    rc_max = max(rcut.max(), r_hi.max())
    r_all = max(r_max, rc_max)
    G = np.zeros((C, 2, M))
    epot = np.zeros(C)
    count = np.zeros((C, 2), dtype=np.int64)
    inv2w2 = 0.5 / (width * width)
    step = math.exp(-2.0 * inv2w2 * dmu * dmu)
    for c in prange(C):
        i = centers[c]
        si = species[i]
        for j in range(N):
            sj = species[j]
            dx = pos[j, 0] - pos[i, 0]
            dy = pos[j, 1] - pos[i, 1]
            dz = pos[j, 2] - pos[i, 2]
            dx -= box[0] * np.rint(dx / box[0])
            dy -= box[1] * np.rint(dy / box[1])
            dz -= box[2] * np.rint(dz / box[2])
            lo0, hi0 = _image_range(dx, box[0], r_all)
            lo1, hi1 = _image_range(dy, box[1], r_all)
            lo2, hi2 = _image_range(dz, box[2], r_all)
            for n0 in range(lo0, hi0 + 1):
                x = dx + n0 * box[0]
                for n1 in range(lo1, hi1 + 1):
                    y = dy + n1 * box[1]
                    for n2 in range(lo2, hi2 + 1):
                        z = dz + n2 * box[2]
                        r2 = x * x + y * y + z * z
                        if r2 == 0.0:  # the particle itself (or an exact overlap, which MD never makes)
                            continue
                        r = math.sqrt(r2)
                        if r > r_all:
                            continue
                        if r < rcut[si, sj]:
                            s6 = (sig[si, sj] / r) ** 6
                            epot[c] += 0.5 * (4.0 * eps[si, sj] * (s6 * s6 - s6) - shift[si, sj])
                        if r_lo[sj] <= r <= r_hi[sj]:
                            count[c, sj] += 1
                        if r <= r_max:
                            k0 = max(0, int(math.ceil((r - reach - mu[0]) / dmu)))
                            k1 = min(M - 1, int(math.floor((r + reach - mu[0]) / dmu)))
                            # Gaussians on the uniform mu grid by a multiplicative recurrence: three
                            # exponentials per pair instead of one per shell
                            t = r - mu[k0]
                            e = math.exp(-t * t * inv2w2)
                            q = math.exp(inv2w2 * dmu * (2.0 * t - dmu))
                            for k in range(k0, k1 + 1):
                                G[c, sj, k] += e
                                e *= q
                                q *= step
    return G, epot, count


@njit(parallel=True, cache=True)
def angular_features(pos, box, centers, xi, lam, zeta, r_cut):  # pragma: no cover - compiled
    """Angular structure functions Psi(i; xi, lambda, zeta) of Schoenholz et al., species-blind.

    Psi = sum_{j < k} exp(-(r_ij^2 + r_ik^2 + r_jk^2) / xi^2) (1 + lambda cos theta_jik)^zeta over the
    neighbours within ``r_cut`` (minimum image: r_cut must stay below half the box).

    Returns (C, P) float64 for P = len(xi) parameter triples.
    """
    C = centers.size
    N = pos.shape[0]
    P = xi.size
    out = np.zeros((C, P))
    for c in prange(C):
        i = centers[c]
        nb = np.empty((N, 3))
        n = 0
        for j in range(N):
            if j == i:
                continue
            x = pos[j, 0] - pos[i, 0]
            y = pos[j, 1] - pos[i, 1]
            z = pos[j, 2] - pos[i, 2]
            x -= box[0] * np.rint(x / box[0])
            y -= box[1] * np.rint(y / box[1])
            z -= box[2] * np.rint(z / box[2])
            if x * x + y * y + z * z <= r_cut * r_cut:
                nb[n, 0], nb[n, 1], nb[n, 2] = x, y, z
                n += 1
        for a in range(n):
            ra2 = nb[a, 0] ** 2 + nb[a, 1] ** 2 + nb[a, 2] ** 2
            for b in range(a + 1, n):
                rb2 = nb[b, 0] ** 2 + nb[b, 1] ** 2 + nb[b, 2] ** 2
                dot = nb[a, 0] * nb[b, 0] + nb[a, 1] * nb[b, 1] + nb[a, 2] * nb[b, 2]
                rab2 = ra2 + rb2 - 2.0 * dot
                cos = dot / math.sqrt(ra2 * rb2)
                for p in range(P):
                    base = 1.0 + lam[p] * cos
                    if base <= 0.0:
                        continue
                    out[c, p] += math.exp(-(ra2 + rb2 + rab2) / (xi[p] * xi[p])) * base ** zeta[p]
    return out
