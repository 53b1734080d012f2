"""Local softness: a caging-potential depth and softness for every A particle in every frame.

The average theory (paper Eqs. 5-7, METHODS 3) turns the partial rdfs g_Av(r) into a
depth beta Phi_r and, through the calibration 1/S = c0 + c1 beta Phi_r, into a
softness. Here the same functional is applied to one particle at a time, with the
average rdf replaced by that particle's own Gaussian-smeared rdf (Eq. 8, METHODS 4)

    g^i_Av(r) = 1 / (4 pi r^2 rho_v) sum_{j in v, j != i} G_delta(r - r_ij),
    G_delta(x) = (2 pi delta^2)^(-1/2) exp(-x^2 / (2 delta^2)),

and put into both the HNC direct correlation function and the rdf of the integrand

    beta Phi_r^i = -(1/2) sum_v sqrt(x_A x_v) int_{r_lo,Av}^{r_hi,Av} 4 pi r^2 rho C^i_Av g^i_Av dr,
    C g = g (-beta U + g - 1 - ln g).

Choices (named parameters, see METHODS 4):

* ``rho_v`` counts the *other* particles a tagged one can see: ``(N_v - delta_uv) / V``.
  Averaged over particles, g^i then has exactly the pair-count normalisation
  ``N_u (N_v - delta_uv) / V`` of a histogram rdf (freud's convention), so the
  average of local rdfs tends to 1 at large r for any N.
* The Gaussian is summed over neighbours closer than ``r_max + 6 delta``
  (:data:`GAUSS_CUT`); the neglected tail is below exp(-18) = 1.5e-8 of a peak.
* The r-grid of the depth integral runs from r_lo to r_hi with spacing <= delta / 10;
  Simpson's rule by default (error ~1e-6 relative at delta / 10, trapezoid ~1e-3),
  ``rule='trapezoid'`` matches :func:`softlib.caging.real_space_depth` term by term.

Speed: the Gaussians of all neighbours are put on the grid by a recurrence,
exp(-(x + h)^2 / 2d^2) = exp(-x^2 / 2d^2) q,  q -> q exp(-h^2 / d^2), restarted
with two direct exponentials per neighbour every 6.4 delta of grid (so nothing
underflows and rounding cannot accumulate), and the loop over neighbours runs in
SIMD lanes; exp and log are written out in arithmetic so that they vectorise too.
Particles are processed in parallel (numba prange) and neighbours come from a cell
list. About 2 us per A particle and frame on one core (benchmarks/bench_local.py).

Public API
----------
local_rdf, smear_rdf            Eq. 8 for inspection (Fig. 2) and its average
local_depth, depth_functional   beta Phi_r^i of every A particle; the functional alone
local_softness                  S_i = 1 / (c0 + c1 beta Phi_r^i), NaN + count where <= 0
softness_parameters             c0, c1, limits at T from calibration.json ('paper'/'smeared')
compute_run_softness            one run, both schedules, streamed to build/<preset>/softness/<tag>/
SoftnessWriter, write_softness, read_softness
                                <schedule>.{depth,softness}.npy (float32, frames x A) + <schedule>.json
"""
from __future__ import annotations

import json
import math
import os
from pathlib import Path

import numba
import numpy as np
from numba import njit, prange

from . import ka
from ._checks import as_box, as_positions, as_species, as_temperature
from .provenance import provenance, write_json

#: Gaussian tails beyond GAUSS_CUT * delta are neglected (exp(-18) ~ 1.5e-8 of the peak)
GAUSS_CUT = 6.0
#: default grid spacing of the depth integral, in units of delta (METHODS 4: <= delta / 10)
GRID_PER_DELTA = 10
#: the recurrence is restarted with direct exponentials after at most this many delta
_SEGMENT_DELTAS = 6.4
#: below exp(-_UNDERFLOW) a Gaussian is set to zero at a segment start (no denormals)
_UNDERFLOW = 300.0
# reassociation lets LLVM vectorise the sum over neighbours; no nnan/ninf (NaN checks stay valid)
_FM = {"reassoc", "contract", "nsz", "arcp"}
PAIRS = ("AA", "AB")
#: A particles per parallel work item of local_depth
_BLOCK = 32


# ----------------------------------------------------------------------------------------
# numba kernels
# ----------------------------------------------------------------------------------------
# error_model="numpy": no ZeroDivisionError branches, so the loops vectorise
_JIT = {"cache": True, "error_model": "numpy"}
_JIT_FM = {**_JIT, "fastmath": _FM}

#: cells are at least cutoff / _CELL_DIV wide and the stencil reaches _CELL_DIV cells each way:
#: (2 * 2 + 1)^3 cells of side >= rc / 2 hold ~40 % fewer candidates than 3^3 of side >= rc
_CELL_DIV = 2

# exp and log in plain arithmetic, so that LLVM can vectorise loops of them (numba's
# math.exp/log are scalar libm calls): Cody-Waite reduction + degree-12 Taylor for exp
# (relative error < 3e-14 on [-708, 708]), mantissa/exponent split + atanh series for log
# (absolute error < 5e-16). Tested against numpy in tests/test_local.py.
_LOG2E = 1.4426950408889634
_LN2_HI = 0.6931471803691238  # fdlibm split of ln 2: k * _LN2_HI is exact for |k| < 2^11
_LN2_LO = 1.9082149292705877e-10
_LN2 = 0.6931471805599453
_SQRT2 = 1.4142135623730951
_MANT = 0xFFFFFFFFFFFFF
_ONE_BITS = 0x3FF0000000000000


@njit(**_JIT_FM)
def _vexp(x, out, ibuf, n):
    """out[j] = exp(x[j]) for j < n, x in [-708, 708]; ibuf is int64 scratch of length >= n."""
    for j in range(n):
        kf = math.floor(x[j] * _LOG2E + 0.5)
        r = (x[j] - kf * _LN2_HI) - kf * _LN2_LO
        p = 1.0 / 479001600.0
        p = p * r + 1.0 / 39916800.0
        p = p * r + 1.0 / 3628800.0
        p = p * r + 1.0 / 362880.0
        p = p * r + 1.0 / 40320.0
        p = p * r + 1.0 / 5040.0
        p = p * r + 1.0 / 720.0
        p = p * r + 1.0 / 120.0
        p = p * r + 1.0 / 24.0
        p = p * r + 1.0 / 6.0
        p = p * r + 0.5
        p = p * r + 1.0
        out[j] = p * r + 1.0
        ibuf[j] = (np.int64(kf) + 1023) << 52  # the bits of 2^k
    scale = ibuf.view(np.float64)
    for j in range(n):
        out[j] *= scale[j]


@njit(**_JIT_FM)
def _vlog(x, out, ibuf, n):
    """out[j] = ln x[j] for j < n and normal positive x; ibuf is int64 scratch."""
    xb = x.view(np.int64)
    for j in range(n):
        b = xb[j]
        ibuf[j] = (b & _MANT) | _ONE_BITS  # mantissa in [1, 2)
        out[j] = np.float64((b >> 52) - 1023)
    mant = ibuf.view(np.float64)
    for j in range(n):
        m = mant[j]
        e = out[j]
        if m > _SQRT2:
            m *= 0.5
            e += 1.0
        s = (m - 1.0) / (m + 1.0)  # |s| <= 0.172: ln m = 2 atanh s converges fast
        z = s * s
        p = 1.0 / 21.0
        p = p * z + 1.0 / 19.0
        p = p * z + 1.0 / 17.0
        p = p * z + 1.0 / 15.0
        p = p * z + 1.0 / 13.0
        p = p * z + 1.0 / 11.0
        p = p * z + 1.0 / 9.0
        p = p * z + 1.0 / 7.0
        p = p * z + 1.0 / 5.0
        p = p * z + 1.0 / 3.0
        p = p * z + 1.0
        out[j] = e * _LN2 + 2.0 * s * p


@njit(**_JIT)
def _ncells(box, rc):
    nc = np.empty(3, np.int64)
    for d in range(3):
        nc[d] = max(1, int(box[d] * _CELL_DIV / rc))
    if nc[0] < 2 * _CELL_DIV + 1 or nc[1] < 2 * _CELL_DIV + 1 or nc[2] < 2 * _CELL_DIV + 1:
        # the stencil would visit a cell twice: fall back to one cell (all pairs)
        nc[:] = 1
    return nc


@njit(**_JIT)
def _cells(pos, box, nc, species, start, spos, sspec, scell, slot):
    """Counting-sort cell list (cells >= rc / _CELL_DIV wide, see :func:`_ncells`).

    Fills start (ncell + 1,), spos (N, 3) positions wrapped into [0, L) and sorted by cell,
    sspec (N,) their species, scell (N,) their cell, slot (N,) the slot of each particle:
    cell c holds slots start[c]:start[c + 1].
    """
    n = pos.shape[0]
    ntot = nc[0] * nc[1] * nc[2]
    cell = np.empty(n, np.int64)
    wpos = np.empty((n, 3))
    for i in range(n):
        c = 0
        for d in range(3):
            s = pos[i, d] / box[d]
            s -= math.floor(s)
            k = int(s * nc[d])
            if k >= nc[d]:
                k = nc[d] - 1
            wpos[i, d] = s * box[d]
            c = c * nc[d] + k
        cell[i] = c
    start[:] = 0
    for i in range(n):
        start[cell[i] + 1] += 1
    for c in range(ntot):
        start[c + 1] += start[c]
    fill = start[:-1].copy()
    for i in range(n):
        m = fill[cell[i]]
        fill[cell[i]] += 1
        slot[i] = m
        scell[m] = cell[i]
        sspec[m] = species[i]
        for d in range(3):
            spos[m, d] = wpos[i, d]


@njit(inline="always", **_JIT_FM)
def _scan(lo, hi, sx, sy, sz, xi, yi, zi, mi, spos, sspec, c0, c1, buf, nb):
    """Append slots lo..hi-1 (shifted by s) that lie within the cutoff of their species.

    Branch-free: every candidate is stored (squared distance, negative for B) and the
    count only advances for accepted ones; this beats an unpredictable branch per pair.
    """
    for m in range(lo, hi):
        dx = spos[m, 0] + sx - xi
        dy = spos[m, 1] + sy - yi
        dz = spos[m, 2] + sz - zi
        r2 = dx * dx + dy * dy + dz * dz
        isa = sspec[m] == 0
        buf[nb] = r2 if isa else -r2
        nb += np.int64((m != mi) & (r2 < (c0 if isa else c1)))
    return nb


@njit(**_JIT)
def _wrap_cell(c, n, L):
    if c < 0:
        return c + n, -L
    if c >= n:
        return c - n, L
    return c, 0.0


@njit(**_JIT)
def _neighbours(mi, spos, sspec, scell, box, nc, start, cut2, dist, nd):
    """Distances from slot mi to its species-v neighbours within sqrt(cut2[v]) -> dist[v, :nd[v]].

    Slots are sorted by cell, so the cells of one stencil row along z are one or two
    contiguous slot ranges; periodic images come from the cell offsets. With one cell
    (small boxes) every pair is checked at its minimum-image distance.
    """
    xi, yi, zi = spos[mi, 0], spos[mi, 1], spos[mi, 2]
    c0, c1 = cut2[0], cut2[1]
    buf = dist[0]
    nb = 0
    if nc[0] == 1:
        for m in range(spos.shape[0]):
            dx = spos[m, 0] - xi
            dy = spos[m, 1] - yi
            dz = spos[m, 2] - zi
            dx -= box[0] * np.rint(dx / box[0])
            dy -= box[1] * np.rint(dy / box[1])
            dz -= box[2] * np.rint(dz / box[2])
            r2 = dx * dx + dy * dy + dz * dz
            isa = sspec[m] == 0
            buf[nb] = r2 if isa else -r2
            nb += np.int64((m != mi) & (r2 < (c0 if isa else c1)))
    else:
        cell = scell[mi]
        cz = cell % nc[2]
        cy0 = (cell // nc[2]) % nc[1]
        cx0 = cell // (nc[1] * nc[2])
        zlo, zhi = cz - _CELL_DIV, cz + _CELL_DIV
        a, b = max(zlo, 0), min(zhi, nc[2] - 1)
        for ox in range(-_CELL_DIV, _CELL_DIV + 1):
            cx, sx = _wrap_cell(cx0 + ox, nc[0], box[0])
            for oy in range(-_CELL_DIV, _CELL_DIV + 1):
                cy, sy = _wrap_cell(cy0 + oy, nc[1], box[1])
                row = (cx * nc[1] + cy) * nc[2]
                nb = _scan(start[row + a], start[row + b + 1], sx, sy, 0.0, xi, yi, zi, mi, spos, sspec,
                           c0, c1, buf, nb)
                if zlo < 0:
                    nb = _scan(start[row + zlo + nc[2]], start[row + nc[2]], sx, sy, -box[2], xi, yi, zi, mi,
                               spos, sspec, c0, c1, buf, nb)
                if zhi >= nc[2]:
                    nb = _scan(start[row], start[row + zhi - nc[2] + 1], sx, sy, box[2], xi, yi, zi, mi,
                               spos, sspec, c0, c1, buf, nb)
    # split by species (in place: A entries only move down) and take square roots
    n0 = 0
    n1 = 0
    for j in range(nb):
        x = buf[j]
        if x >= 0.0:
            dist[0, n0] = math.sqrt(x)
            n0 += 1
        else:
            dist[1, n1] = math.sqrt(-x)
            n1 += 1
    nd[0] = n0
    nd[1] = n1


@njit(**_JIT_FM)
def _gauss_grid(d, nd, r0, h, n, delta, seg, acc, g, q, ebuf, obuf, ibuf):
    """acc[k] = sum_{j < nd} exp(-(r0 + k h - d[j])^2 / (2 delta^2)) for k < n (recurrence).

    Every ``seg`` grid points each neighbour restarts from two exponentials (vectorised);
    in between g_j(k + 1) = g_j(k) q_j(k), q_j(k + 1) = q_j(k) c with c = exp(-h^2/delta^2),
    four grid points per pass over the neighbours, which run in SIMD lanes.
    Scratch: g, q (>= nd), ebuf, obuf, ibuf (>= 2 nd).
    """
    inv2 = 0.5 / (delta * delta)
    c = math.exp(-h * h / (delta * delta))
    k0 = 0
    while k0 < n:
        k1 = min(n, k0 + seg)
        rk = r0 + k0 * h
        for j in range(nd):
            x = rk - d[j]
            # a neighbour more than 24 delta from the segment start is more than 18 delta
            # from all of it (< exp(-162)): it starts at zero instead of a denormal
            ebuf[j] = max(-x * x * inv2, -_UNDERFLOW)
            ebuf[nd + j] = -(2.0 * x * h + h * h) * inv2
        _vexp(ebuf, obuf, ibuf, 2 * nd)
        for j in range(nd):
            far = ebuf[j] <= -_UNDERFLOW
            g[j] = 0.0 if far else obuf[j]
            q[j] = 1.0 if far else obuf[nd + j]
        k = k0
        while k + 4 <= k1:
            s0 = 0.0
            s1 = 0.0
            s2 = 0.0
            s3 = 0.0
            for j in range(nd):
                g0 = g[j]
                q0 = q[j]
                g1 = g0 * q0
                q1 = q0 * c
                g2 = g1 * q1
                q2 = q1 * c
                g3 = g2 * q2
                q3 = q2 * c
                s0 += g0
                s1 += g1
                s2 += g2
                s3 += g3
                g[j] = g3 * q3
                q[j] = q3 * c
            acc[k] = s0
            acc[k + 1] = s1
            acc[k + 2] = s2
            acc[k + 3] = s3
            k += 4
        while k < k1:
            s = 0.0
            for j in range(nd):
                s += g[j]
                g[j] *= q[j]
                q[j] *= c
            acc[k] = s
            k += 1
        k0 = k1


@njit(**_JIT)
def _gauss_direct(d, nd, r, delta, acc):
    """Twin of :func:`_gauss_grid` with one libm exp per grid point and neighbour (any grid)."""
    inv2 = 0.5 / (delta * delta)
    for k in range(r.shape[0]):
        s = 0.0
        for j in range(nd):
            x = r[k] - d[j]
            s += math.exp(-x * x * inv2)
        acc[k] = s


@njit(**_JIT_FM)
def _functional(acc, norm, bu, w, n, gbuf, lbuf, ibuf):
    """sum_k w[k] C g at g = acc[k] norm[k] >= 0; C g = g(-bu + g - 1 - ln g) -> 0 as g -> 0."""
    for k in range(n):
        gbuf[k] = max(acc[k] * norm[k], 1e-300)  # g ln g at g < 1e-300 is zero to all digits
    _vlog(gbuf, lbuf, ibuf, n)
    tot = 0.0
    for k in range(n):
        gk = acc[k] * norm[k]
        tot += w[k] * gk * (-bu[k] + gk - 1.0 - lbuf[k])
    return tot


@njit(**_JIT)
def _frames_cells(nf, n, nc):
    """Empty cell-list arrays for nf frames of n particles."""
    ntot = nc[0] * nc[1] * nc[2]
    start = np.empty((nf, ntot + 1), np.int64)
    spos = np.empty((nf, n, 3))
    sspec = np.empty((nf, n), np.int32)
    scell = np.empty((nf, n), np.int64)
    slot = np.empty((nf, n), np.int64)
    return start, spos, sspec, scell, slot


@njit(**_JIT)
def _scratch(n, gmax):
    """Per-thread work arrays: dist, nd, acc, g, q, ebuf, obuf, ibuf."""
    m = 2 * n + gmax
    return (np.empty((2, n + 1)), np.zeros(2, np.int64), np.empty(gmax), np.empty(n), np.empty(n),
            np.empty(m), np.empty(m), np.empty(m, np.int64))


@njit(**_JIT)
def _depth_one(mi, spos, sspec, scell, box, nc, start, cut2, r0, h, ngrid, seg, delta, norm, bu, w, s):
    """Local depth of the particle in slot mi; ``s`` is the tuple from :func:`_scratch`."""
    dist, nd, acc, g, q, ebuf, obuf, ibuf = s
    _neighbours(mi, spos, sspec, scell, box, nc, start, cut2, dist, nd)
    tot = 0.0
    for v in range(2):
        _gauss_grid(dist[v], nd[v], r0[v], h[v], ngrid[v], delta, seg[v], acc, g, q, ebuf, obuf, ibuf)
        tot += _functional(acc, norm[v], bu[v], w[v], ngrid[v], ebuf, obuf, ibuf)
    return tot


@njit(cache=True, error_model="numpy", parallel=True)
def _depth_frames(pos, species, a_idx, box, cut2, r0, h, ngrid, seg, delta, norm, bu, w, nper, out):
    """out[f, a] = local depth of particle a_idx[a] in frame f (grid data per pair v = A, B).

    One parallel pass bins every frame, a second runs over (frame, block of ``nper`` tagged
    particles) work items: two parallel regions per call rather than one per frame.
    """
    nf, n = pos.shape[0], pos.shape[1]
    na = a_idx.shape[0]
    nc = _ncells(box, math.sqrt(max(cut2[0], cut2[1])))
    start, spos, sspec, scell, slot = _frames_cells(nf, n, nc)
    for f in prange(nf):
        _cells(pos[f], box, nc, species, start[f], spos[f], sspec[f], scell[f], slot[f])
    gmax = max(ngrid[0], ngrid[1])
    nblk = (na + nper - 1) // nper
    for it in prange(nf * nblk):
        f = it // nblk
        blk = it - f * nblk
        s = _scratch(n, gmax)
        for a in range(blk * nper, min(na, (blk + 1) * nper)):
            out[f, a] = _depth_one(slot[f, a_idx[a]], spos[f], sspec[f], scell[f], box, nc, start[f], cut2,
                                   r0, h, ngrid, seg, delta, norm, bu, w, s)


@njit(cache=True, error_model="numpy", parallel=True)
def _rdf_frame(pos, species, centers, box, cut2, r, uniform, delta, out):
    """out[c, v, k] = sum of exp(-(r_k - r_ij)^2 / 2 delta^2) over species-v neighbours of centre c."""
    n = pos.shape[0]
    nr = r.shape[0]
    nc = _ncells(box, math.sqrt(max(cut2[0], cut2[1])))
    start, spos, sspec, scell, slot = _frames_cells(1, n, nc)
    _cells(pos, box, nc, species, start[0], spos[0], sspec[0], scell[0], slot[0])
    h = (r[nr - 1] - r[0]) / max(nr - 1, 1)
    seg = max(1, int(_SEGMENT_DELTAS * delta / h)) if nr > 1 else 1
    for c in prange(centers.shape[0]):
        dist, nd, acc, g, q, ebuf, obuf, ibuf = _scratch(n, 1)
        _neighbours(slot[0, centers[c]], spos[0], sspec[0], scell[0], box, nc, start[0], cut2, dist, nd)
        for v in range(2):
            if uniform:
                _gauss_grid(dist[v], nd[v], r[0], h, nr, delta, seg, out[c, v], g, q, ebuf, obuf, ibuf)
            else:
                _gauss_direct(dist[v], nd[v], r, delta, out[c, v])


# ----------------------------------------------------------------------------------------
# public API
# ----------------------------------------------------------------------------------------
def _check_delta(delta):
    try:
        d = float(delta)
    except (TypeError, ValueError):
        raise ValueError(f"delta must be a positive number (sigma_AA), got {delta!r}") from None
    if not np.isfinite(d) or d <= 0:
        raise ValueError(
            f"delta must be > 0 (width of the Gaussian in Eq. 8, sigma_AA; the paper uses 0.09), got {delta}"
        )
    return d


def _pair_densities(species, box, center=0):
    """rho_v = (N_v - delta_uv) / V seen by a tagged particle of species ``center``."""
    vol = float(np.prod(box))
    n_v = np.array([np.sum(species == 0), np.sum(species == 1)], dtype=float)
    n_v[center] -= 1.0
    return n_v / vol


def _check_centers(species, center):
    if center not in (0, 1):
        raise ValueError(f"center must be 0 (A) or 1 (B), got {center!r}")
    idx = np.flatnonzero(species == center).astype(np.int64)
    if idx.size == 0:
        name = "AB"[center]
        raise ValueError(
            f"the configuration has no {name} particles (species == {center}): local softness is defined "
            "for tagged A particles; check the species array (0 = A, 1 = B)"
        )
    return idx


def _check_cutoff(box, cutoff, what):
    if np.any(box <= 2.0 * cutoff):
        raise ValueError(
            f"box {np.round(box, 4).tolist()} must exceed twice the neighbour cutoff {cutoff:.3f} "
            f"({what}) for the minimum-image convention: use a larger system, a smaller r range or delta"
        )


def local_rdf(positions, species, box, r, delta=0.09, center=0, particles=None):
    """Gaussian-smeared rdf of single particles (paper Eq. 8, METHODS 4).

    Parameters
    ----------
    positions : (N, 3) array_like
        Positions (sigma_AA), wrapped or unwrapped.
    species : (N,) int
        0 = A, 1 = B.
    box : float or (3,) array_like
        Box edge lengths (sigma_AA).
    r : (nr,) array_like
        Increasing distances > 0 (sigma_AA). A uniform grid uses the fast recurrence,
        any other grid one exponential per point and neighbour.
    delta : float
        Width of the Gaussian (sigma_AA), > 0.
    center : int
        Species of the tagged particles (0 = A).
    particles : array_like of int, optional
        Indices of tagged particles (all of species ``center``); default all of them.

    Returns
    -------
    ndarray, shape (n_tagged, 2, nr)
        g^i_{center,v}(r) for v = A (index 0) and B (index 1), dimensionless; averaged over
        tagged particles it approaches the Gaussian-smeared partial rdf.
    """
    species = as_species(species)
    pos = as_positions(positions, n=species.size)
    box = as_box(box)
    delta = _check_delta(delta)
    r = np.ascontiguousarray(r, dtype=float)
    if r.ndim != 1 or r.size < 1 or np.any(r <= 0) or np.any(np.diff(r) <= 0):
        raise ValueError("r must be a 1-d increasing array of distances > 0 (the rdf is normalised by 4 pi r^2)")
    idx = _check_centers(species, center)
    if particles is not None:
        idx = np.asarray(particles, dtype=np.int64).ravel()
        if np.any(idx < 0) or np.any(idx >= species.size):
            raise ValueError(f"particles must be indices in [0, {species.size}), got {idx.min()}..{idx.max()}")
        if np.any(species[idx] != center):
            raise ValueError(f"particles must all be of species center = {center} (their rho_v differs); "
                             "call local_rdf once per tagged species")
    cutoff = r[-1] + GAUSS_CUT * delta
    _check_cutoff(box, cutoff, f"r_max + {GAUSS_CUT:g} delta")
    cut2 = np.full(2, cutoff * cutoff)
    uniform = bool(r.size > 1 and np.allclose(np.diff(r), (r[-1] - r[0]) / (r.size - 1), rtol=1e-9, atol=0))
    out = np.zeros((idx.size, 2, r.size))
    _rdf_frame(pos, species, idx, box, cut2, r, uniform, delta, out)
    rho_v = _pair_densities(species, box, center)
    with np.errstate(divide="ignore", invalid="ignore"):
        norm = 1.0 / (np.sqrt(2.0 * np.pi) * delta * 4.0 * np.pi * r[None, :] ** 2 * rho_v[:, None])
    norm[~np.isfinite(norm)] = 0.0  # no particles of that species: g = 0
    return out * norm[None]


def smear_rdf(edges, g, r, delta):
    """A histogram rdf convolved with the Gaussian of Eq. 8 (what averaged local rdfs tend to).

    g_delta(r) = 1 / (4 pi r^2) sum_k G_delta(r - r_k) g_k V_k, with r_k the bin centres and
    V_k the shell volumes of the histogram.

    Parameters
    ----------
    edges : (nb + 1,) array_like
        Bin edges of the histogram rdf (sigma_AA).
    g : (..., nb) array_like
        Histogram rdf(s), ideal-gas normalised per shell.
    r : (nr,) array_like
        Distances > 0 at which to evaluate the smeared rdf.
    delta : float
        Gaussian width (sigma_AA).

    Returns
    -------
    ndarray, shape (..., nr)
    """
    delta = _check_delta(delta)
    edges = np.asarray(edges, dtype=float)
    g = np.asarray(g, dtype=float)
    r = np.asarray(r, dtype=float)
    if edges.ndim != 1 or g.shape[-1] != edges.size - 1:
        raise ValueError(f"g has {g.shape[-1]} bins but edges describe {edges.size - 1}")
    centres = 0.5 * (edges[1:] + edges[:-1])
    shell = 4.0 / 3.0 * np.pi * (edges[1:] ** 3 - edges[:-1] ** 3)
    kern = np.exp(-((r[:, None] - centres[None, :]) ** 2) / (2 * delta**2)) / (np.sqrt(2 * np.pi) * delta)
    return (g * shell) @ kern.T / (4.0 * np.pi * r**2)


class _Grid:
    """r-grids, weights and beta U of the depth integral for the pairs AA and AB."""

    def __init__(self, limits, T, delta, rho_v, x, rho, spacing=None, rule="simpson"):
        if rule not in ("simpson", "trapezoid"):
            raise ValueError(f"rule must be 'simpson' or 'trapezoid', got {rule!r}")
        h_max = delta / GRID_PER_DELTA if spacing is None else float(spacing)
        if not h_max > 0:
            raise ValueError(f"spacing must be > 0, got {spacing}")
        beta = 1.0 / T
        self.r, self.w, self.bu, self.norm = [], [], [], []
        for v, key in enumerate(PAIRS):
            lo, hi = limits[key]
            m = max(1, int(math.ceil((hi - lo) / h_max - 1e-9)))
            if rule == "simpson" and m % 2:
                m += 1
            r = np.linspace(lo, hi, m + 1)
            h = (hi - lo) / m
            if rule == "simpson":
                wt = np.full(m + 1, 2.0)
                wt[1::2] = 4.0
                wt[0] = wt[-1] = 1.0
                wt *= h / 3.0
            else:
                wt = np.full(m + 1, h)
                wt[0] = wt[-1] = 0.5 * h
            self.r.append(r)
            # -(1/2) sqrt(x_A x_v) 4 pi r^2 rho dr: the functional's prefactor folded into the weights
            self.w.append(-0.5 * math.sqrt(x[0] * x[v]) * 4.0 * np.pi * r**2 * rho * wt)
            self.bu.append(beta * ka.pair_potential(r, 0, v))
            with np.errstate(divide="ignore"):
                nrm = 1.0 / (math.sqrt(2.0 * np.pi) * delta * 4.0 * np.pi * r**2 * rho_v[v])
            self.norm.append(nrm if rho_v[v] > 0 else np.zeros_like(r))
        self.ngrid = np.array([len(r) for r in self.r], dtype=np.int64)
        self.r0 = np.array([r[0] for r in self.r])
        self.h = np.array([(r[-1] - r[0]) / max(len(r) - 1, 1) for r in self.r])
        self.seg = np.array([max(1, int(_SEGMENT_DELTAS * delta / hh)) for hh in self.h], dtype=np.int64)
        self.cut = np.array([limits[k][1] + GAUSS_CUT * delta for k in PAIRS])

    def padded(self, arrays):
        out = np.zeros((2, int(self.ngrid.max())))
        for v in range(2):
            out[v, : self.ngrid[v]] = arrays[v]
        return out


def check_limits(limits):
    """Validate {'AA': (r_lo, r_hi), 'AB': (r_lo, r_hi)} and return it as floats."""
    if not isinstance(limits, dict) or any(k not in limits for k in PAIRS):
        raise ValueError(
            f"limits must map 'AA' and 'AB' to (r_lo, r_hi), got {limits!r}: take them from "
            "softlib.caging.integration_limits or calibration['per_temperature'][T]['limits']"
        )
    out = {}
    for k in PAIRS:
        lo, hi = (float(x) for x in limits[k])
        if not (0 < lo < hi and np.isfinite(hi)):
            raise ValueError(f"limits[{k!r}] = ({lo}, {hi}) must satisfy 0 < r_lo < r_hi")
        out[k] = (lo, hi)
    return out


def local_depth(positions, species, box, T, limits, delta=0.09, spacing=None, rule="simpson"):
    """Local caging depth beta Phi_r^i of every A particle (METHODS 4).

    Parameters
    ----------
    positions : (N, 3) or (F, N, 3) array_like
        One frame or F frames (sigma_AA); wrapped or unwrapped.
    species : (N,) int
        0 = A, 1 = B.
    box : float or (3,) array_like
        Box edge lengths (sigma_AA).
    T : float
        Temperature (eps_AA / k_B) of the beta U in the HNC closure.
    limits : dict
        ``{'AA': (r_lo, r_hi), 'AB': (r_lo, r_hi)}`` integration limits (sigma_AA), from the
        average rdf at this temperature (calibration file).
    delta : float
        Gaussian width of Eq. 8 (sigma_AA).
    spacing : float, optional
        Largest grid spacing of the r-integral; default delta / 10.
    rule : {'simpson', 'trapezoid'}
        Quadrature on the r-grid.

    Returns
    -------
    ndarray, float64, shape (N_A,) or (F, N_A)
        beta Phi_r^i (dimensionless; negative = a deep cage) for the A particles in index order.
    """
    species = as_species(species)
    frames = np.ndim(positions) == 3
    pos = as_positions(positions, n=species.size, frames=frames)
    if not frames:
        pos = pos[None]
    box = as_box(box)
    T = as_temperature(T)
    delta = _check_delta(delta)
    limits = check_limits(limits)
    a_idx = _check_centers(species, 0)
    n = species.size
    x = np.array([np.sum(species == 0), np.sum(species == 1)]) / n
    grid = _Grid(limits, T, delta, _pair_densities(species, box, 0), x, n / np.prod(box), spacing, rule)
    _check_cutoff(box, grid.cut.max(), f"r_hi + {GAUSS_CUT:g} delta")
    if not all(np.all(np.isfinite(b)) for b in grid.bu):
        raise ValueError(f"beta U is infinite on the r-grid (limits {limits}): r_lo is too small; "
                         "take the limits from the average rdf (g > 1e-3)")
    out = np.empty((pos.shape[0], a_idx.size))
    # work items of _BLOCK particles handed out one at a time (dynamic schedule): a thread
    # that loses its core to another process does not hold the others up
    old = numba.set_parallel_chunksize(1)
    try:
        _depth_frames(pos, species, a_idx, box, grid.cut**2, grid.r0, grid.h, grid.ngrid, grid.seg, delta,
                      grid.padded(grid.norm), grid.padded(grid.bu), grid.padded(grid.w), _BLOCK, out)
    finally:
        numba.set_parallel_chunksize(old)
    if not np.all(np.isfinite(out)):
        raise ValueError("a local depth is not finite: check the positions and the limits")
    return out if frames else out[0]


def depth_functional(r, g, T, limits, x=(0.8, 0.2), rho=1.2, rule="trapezoid"):
    """The depth functional of :func:`local_depth` applied to given rdfs on a given grid.

    This is the integration stage of :func:`local_depth` on its own (same kernel), so it can
    be fed the average rdf and compared with :func:`softlib.caging.real_space_depth`.

    Parameters
    ----------
    r : (nr,) array_like
        Uniform grid (sigma_AA) that contains both pairs' limits as grid points.
    g : (2, nr) array_like
        g_AA and g_AB on ``r``.
    T, limits, x, rho, rule
        As in :func:`local_depth`; x = (x_A, x_B), rho = N / V.

    Returns
    -------
    float
        beta Phi_r.
    """
    r = np.asarray(r, dtype=float)
    g = np.asarray(g, dtype=float)
    if g.shape != (2, r.size):
        raise ValueError(f"g must have shape (2, {r.size}) (g_AA, g_AB on r), got {g.shape}")
    if np.any(~np.isfinite(g)) or np.any(g < 0):
        raise ValueError("g must be finite and non-negative")
    T = as_temperature(T)
    limits = check_limits(limits)
    beta = 1.0 / T
    tot = 0.0
    for v, key in enumerate(PAIRS):
        lo, hi = limits[key]
        sel = (r >= lo - 1e-9) & (r <= hi + 1e-9)
        rr = r[sel]
        m = rr.size - 1
        if m < 1:
            raise ValueError(f"the grid has fewer than two points inside limits[{key!r}] = {limits[key]}")
        h = (rr[-1] - rr[0]) / m
        if rule == "simpson":
            if m % 2:
                raise ValueError("Simpson's rule needs an even number of intervals between the limits")
            wt = np.full(m + 1, 2.0)
            wt[1::2] = 4.0
            wt[0] = wt[-1] = 1.0
            wt *= h / 3.0
        else:
            wt = np.full(m + 1, h)
            wt[0] = wt[-1] = 0.5 * h
        w = -0.5 * math.sqrt(x[0] * x[v]) * 4.0 * np.pi * rr**2 * rho * wt
        bu = beta * ka.pair_potential(rr, 0, v)
        gv = np.ascontiguousarray(g[v][sel])
        scratch = np.empty(rr.size)
        tot += _functional(gv, np.ones(rr.size), bu, w, rr.size, scratch, np.empty(rr.size),
                           np.empty(rr.size, np.int64))
    return float(tot)


def local_softness(depth, c0, c1):
    """Local softness S_i = 1 / (c0 + c1 beta Phi_r^i) (paper Eq. 7 applied locally).

    Parameters
    ----------
    depth : array_like
        beta Phi_r^i, any shape.
    c0, c1 : float
        Calibration of Eq. 7 (units sigma_AA^-2).

    Returns
    -------
    softness : ndarray, float64, same shape as ``depth``
        S_i (sigma_AA^2); NaN where the denominator c0 + c1 beta Phi_r^i is not positive
        (no harmonic cage: the linear calibration does not apply there).
    n_nonpositive : int
        How many denominators were <= 0 (each one is a NaN in ``softness``). Consumers must
        report this count and exclude those entries explicitly.
    """
    depth = np.asarray(depth, dtype=float)
    if not (np.isfinite(c0) and np.isfinite(c1)):
        raise ValueError(f"c0, c1 must be finite numbers, got {c0}, {c1}: check the calibration file")
    if np.any(~np.isfinite(depth)):
        raise ValueError("depth contains NaN or inf: the local depth computation failed upstream")
    den = c0 + c1 * depth
    bad = den <= 0
    with np.errstate(divide="ignore"):
        s = np.where(bad, np.nan, 1.0 / np.where(bad, 1.0, den))
    return s, int(bad.sum())


# ----------------------------------------------------------------------------------------
# calibration
# ----------------------------------------------------------------------------------------
VARIANTS = ("paper", "smeared")


def _tkey(T):
    return f"{float(T):.3f}"


def load_calibration(calibration):
    """A calibration dict from a dict or a path (``softlib.caging.load_calibration`` if present)."""
    if isinstance(calibration, dict):
        return calibration
    path = Path(calibration)
    if not path.exists():
        raise ValueError(
            f"calibration file {path} does not exist: run notebook 02 (make calibrate, "
            "notebooks/02_calibration.py) to write data/<preset>/calibration.json first"
        )
    try:
        from .caging import load_calibration as _load  # structure helper's reader
    except ImportError:
        _load = None
    if _load is not None:
        return _load(path)
    with open(path) as f:
        return json.load(f)


def softness_parameters(calibration, T, variant="paper"):
    """c0, c1 and the integration limits at temperature T from a calibration.

    Parameters
    ----------
    calibration : dict or path
        Contents of ``data/<preset>/calibration.json`` (or its path).
    T : float
        Temperature; must be one of the calibrated ones (key ``f"{T:.3f}"``).
    variant : {'paper', 'smeared'}
        'paper': c0, c1 fitted against the depth of the average rdf (the paper's method).
        'smeared': c0, c1 fitted against the depth of the delta-smeared average rdf.

    Returns
    -------
    dict
        ``c0``, ``c1``, ``limits`` {'AA': (lo, hi), 'AB': (lo, hi)}, ``variant``, and for the
        smeared variant its ``delta``.
    """
    cal = load_calibration(calibration)
    T = as_temperature(T)
    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {VARIANTS}, got {variant!r}")
    per_t = cal.get("per_temperature", {})
    key = _tkey(T)
    if key not in per_t:
        raise ValueError(
            f"temperature {key} is not in the calibration (has {sorted(per_t)}): calibrate this "
            "temperature in notebook 02 or choose one of those"
        )
    limits = check_limits({k: tuple(v) for k, v in per_t[key]["limits"].items()})
    if variant == "paper":
        src = cal
    else:
        if "smeared" not in cal:
            raise ValueError("the calibration has no 'smeared' section: rerun notebook 02 to add it")
        src = cal["smeared"]
    try:
        c0, c1 = float(src["c0"]), float(src["c1"])
    except KeyError as exc:
        raise ValueError(f"calibration ({variant}) lacks {exc}: rerun notebook 02") from None
    out = {"c0": c0, "c1": c1, "limits": limits, "variant": variant}
    if variant == "smeared":
        out["delta"] = float(src.get("delta", np.nan))
    return out


# ----------------------------------------------------------------------------------------
# storage: frames x A particles, float32, streamed and resumable
# ----------------------------------------------------------------------------------------
_FIELDS = ("depth", "softness")


def _paths(folder, schedule):
    folder = Path(folder)
    final = {f: folder / f"{schedule}.{f}.npy" for f in _FIELDS}
    part = {f: folder / f"{schedule}.{f}.partial.npy" for f in _FIELDS}
    return final, part, folder / f"{schedule}.json", folder / f"{schedule}.partial.json"


class SoftnessWriter:
    """Stream per-frame depth and softness of one run and schedule to disk, resumably.

    Data go to ``<schedule>.{depth,softness}.partial.npy`` (``np.lib.format.open_memmap``,
    float32, (F, N_A)) with a progress sidecar ``<schedule>.partial.json`` that records
    how many frames are done (written atomically after the data are flushed). When all
    frames are written the arrays are renamed to ``<schedule>.{depth,softness}.npy`` and
    the final sidecar ``<schedule>.json`` (``complete: true``) is written last, so a file
    set that looks complete is complete. A new writer with the same ``key`` resumes at
    ``n_done``; a different key starts over.

    Parameters
    ----------
    folder : path
        ``build/<preset>/softness/<run tag>/``.
    schedule : str
        'linear' or 'log'.
    times : (F,) array_like
        Frame times (tau).
    a_index : (N_A,) array_like
        Indices of the A particles in the full trajectory.
    key : dict
        Everything the numbers depend on (source, delta, T, limits, c0, c1, ...); JSON-able.
    """

    def __init__(self, folder, schedule, times, a_index, key):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.schedule = schedule
        self.times = np.asarray(times, dtype=float)
        self.a_index = np.asarray(a_index, dtype=np.int64)
        self.key = json.loads(json.dumps(key, default=float))
        self.final, self.part, self.side, self.pside = _paths(folder, schedule)
        self.shape = (self.times.size, self.a_index.size)
        self.n_done, self.n_nonpositive = 0, 0
        self._open()

    def _matches(self, meta):
        return (meta.get("key") == self.key and meta.get("shape") == list(self.shape)
                and meta.get("a_index") == self.a_index.tolist()
                and np.allclose(meta.get("times", []), self.times, rtol=1e-12, atol=0))

    def _open(self):
        self.finalized = False
        if self.side.exists() and all(p.exists() for p in self.final.values()):
            with open(self.side) as f:
                meta = json.load(f)
            if meta.get("complete") and self._matches(meta):
                self.n_done, self.n_nonpositive = self.shape[0], int(meta["n_nonpositive"])
                self.finalized = True
                return
        if self.pside.exists() and all(p.exists() for p in self.part.values()):
            with open(self.pside) as f:
                meta = json.load(f)
            if self._matches(meta):
                self.n_done = int(meta["n_done"])
                self.n_nonpositive = int(meta["n_nonpositive"])
                self.mm = {f: np.lib.format.open_memmap(self.part[f], mode="r+") for f in _FIELDS}
                return
        for p in [self.side, *self.final.values(), self.pside]:
            if p.exists():
                p.unlink()  # stale or different parameters: never mix old and new numbers
        self.mm = {f: np.lib.format.open_memmap(self.part[f], mode="w+", dtype=np.float32, shape=self.shape)
                   for f in _FIELDS}
        self._progress()

    @property
    def complete(self):
        return self.n_done >= self.shape[0]

    def _meta(self):
        return {"schedule": self.schedule, "shape": list(self.shape), "n_done": self.n_done,
                "n_nonpositive": self.n_nonpositive, "a_index": self.a_index.tolist(),
                "times": self.times.tolist(), "key": self.key}

    def _progress(self):
        write_json(self.pside, self._meta())

    def write(self, start, depth, softness, n_nonpositive):
        """Store frames [start, start + len(depth)); ``start`` must equal ``n_done``."""
        if start != self.n_done:
            raise ValueError(f"frames must be written in order: expected start {self.n_done}, got {start}")
        stop = start + len(depth)
        self.mm["depth"][start:stop] = depth
        self.mm["softness"][start:stop] = softness
        for m in self.mm.values():
            m.flush()
        self.n_done = stop
        self.n_nonpositive += int(n_nonpositive)
        self._progress()

    def finalize(self, **extra):
        """Rename the arrays to their final names and write the final sidecar (last)."""
        if self.finalized:
            return self.side
        if not self.complete:
            raise ValueError(f"only {self.n_done} of {self.shape[0]} frames written; cannot finalize")
        for m in self.mm.values():
            m.flush()
        del self.mm
        for f in _FIELDS:
            os.replace(self.part[f], self.final[f])
        meta = self._meta()
        meta.update(complete=True, provenance=provenance(**self.key), **extra)
        write_json(self.side, meta)
        self.pside.unlink()
        self.finalized = True
        return self.side


def write_softness(folder, schedule, times, depth, softness, a_index, n_nonpositive, key=None):
    """Write complete (F, N_A) depth and softness arrays at once (float32, with provenance)."""
    depth = np.asarray(depth)
    w = SoftnessWriter(folder, schedule, times, a_index, key or {})
    if not w.finalized:
        if w.n_done:  # a partial file with the same key: rewrite it from the start
            w.n_done, w.n_nonpositive = 0, 0
        w.write(0, depth, np.asarray(softness), n_nonpositive)
    return w.finalize()


def read_softness(folder, schedule="linear", mmap=True):
    """Read the local depth and softness of one run and schedule.

    Parameters
    ----------
    folder : path
        ``build/<preset>/softness/<run tag>/``.
    schedule : {'linear', 'log'}
    mmap : bool
        Memory-map the arrays (read-only) instead of loading them.

    Returns
    -------
    dict
        ``times`` (F,), ``depth`` (F, N_A) float32 beta Phi_r^i, ``softness`` (F, N_A) float32 S_i
        (NaN where the denominator was non-positive), ``a_index`` (N_A,), ``n_nonpositive`` (int),
        ``key`` (parameters), ``provenance``.
    """
    final, part, side, pside = _paths(folder, schedule)
    if not side.exists():
        hint = (f" (an interrupted computation left {pside.name}: run compute_run_softness again to resume)"
                if pside.exists() else "")
        raise ValueError(f"no complete softness for schedule {schedule!r} in {folder}{hint}: "
                         "compute it with softlib.local.compute_run_softness")
    with open(side) as f:
        meta = json.load(f)
    if not meta.get("complete"):
        raise ValueError(f"{side} is not marked complete; recompute with compute_run_softness")
    mode = "r" if mmap else None
    out = {f: np.load(final[f], mmap_mode=mode) for f in _FIELDS}
    if out["depth"].shape != tuple(meta["shape"]):
        raise ValueError(f"{final['depth']} has shape {out['depth'].shape}, sidecar says {meta['shape']}")
    out.update(times=np.asarray(meta["times"]), a_index=np.asarray(meta["a_index"], dtype=np.int64),
               n_nonpositive=int(meta["n_nonpositive"]), key=meta["key"],
               provenance=meta.get("provenance"))
    return out


# ----------------------------------------------------------------------------------------
# driver
# ----------------------------------------------------------------------------------------
def _gsd_reader(path):
    """(n_frames, species, box, times, read(a, b) -> (b - a, N, 3) positions) for our GSD files."""
    try:
        from .trajectory import load
    except ImportError:
        load = None
    if load is not None:
        traj = load(path)
        return (traj.n_frames, np.asarray(traj.species), np.asarray(traj.box), np.asarray(traj.times),
                lambda a, b: np.asarray(traj[a:b].positions))
    import gsd.hoomd

    from .gsdio import TIME_KEY

    f = gsd.hoomd.open(os.fspath(path), mode="r")
    n = len(f)
    if n == 0:
        raise ValueError(f"{path} holds no frames")
    f0 = f[0]
    box = np.asarray(f0.configuration.box[:3], dtype=float)
    species = np.asarray(f0.particles.typeid, dtype=np.int32)
    times = np.array([float(f[i].log[TIME_KEY][0]) for i in range(n)])

    def read(a, b):
        return np.stack([np.asarray(f[i].particles.position, dtype=np.float64) for i in range(a, b)])

    return n, species, box, times, read


def compute_run_softness(run_dir, out_dir, calibration, T=None, delta=0.09, schedule=("linear", "log"),
                         chunk=256, variant="paper", progress=True, rule="simpson"):
    """Compute and store the local depth and softness of every A particle of one run.

    Reads ``<run_dir>/<schedule>.gsd`` chunk by chunk, computes :func:`local_depth` and
    :func:`local_softness`, and streams them to ``out_dir`` (see :class:`SoftnessWriter`);
    an interrupted computation resumes where it stopped, a finished one is not redone.

    Parameters
    ----------
    run_dir : path
        ``build/<preset>/runs/T0.600_s0`` (must contain run.json: the run is complete).
    out_dir : path
        ``build/<preset>/softness/T0.600_s0``.
    calibration : dict or path
        ``data/<preset>/calibration.json`` or its contents.
    T : float, optional
        Temperature; default from run.json.
    delta : float
        Gaussian width (sigma_AA).
    schedule : str or tuple of str
        'linear' and/or 'log'.
    chunk : int
        Frames per read/compute/write step.
    variant : {'paper', 'smeared'}
        Which c0, c1 of the calibration.
    progress : bool
        tqdm bar.

    Returns
    -------
    dict
        Per schedule: ``n_frames``, ``n_a``, ``n_nonpositive``, ``path``.
    """
    run_dir, out_dir = Path(run_dir), Path(out_dir)
    delta = _check_delta(delta)
    if not (run_dir / "run.json").exists():
        raise ValueError(f"{run_dir}/run.json is missing: the run is not complete (finish the simulation first)")
    with open(run_dir / "run.json") as f:
        run = json.load(f)
    if T is None:
        T = run.get("plan", {}).get("T")
    T = as_temperature(T)
    par = softness_parameters(calibration, T, variant)
    schedules = (schedule,) if isinstance(schedule, str) else tuple(schedule)
    chunk = max(1, int(chunk))
    result = {}
    for sch in schedules:
        path = run_dir / f"{sch}.gsd"
        if not path.exists():
            raise ValueError(f"{path} not found: schedule must be 'linear' or 'log' of a complete run")
        n, species, box, times, read = _gsd_reader(path)
        species = as_species(species)
        a_idx = _check_centers(species, 0)
        st = path.stat()
        key = {"source": str(path.resolve()), "source_size": st.st_size, "T": T, "delta": delta,
               "limits": par["limits"], "c0": par["c0"], "c1": par["c1"], "variant": variant,
               "rule": rule, "n_particles": int(species.size), "box": box.tolist()}
        w = SoftnessWriter(out_dir, sch, times, a_idx, key)
        if not w.complete:
            bar = None
            if progress:
                from tqdm import tqdm

                bar = tqdm(total=n, initial=w.n_done, desc=f"{run_dir.name} {sch}", unit="frame")
            for a in range(w.n_done, n, chunk):
                b = min(n, a + chunk)
                dep = local_depth(read(a, b), species, box, T, par["limits"], delta, rule=rule)
                s, nbad = local_softness(dep, par["c0"], par["c1"])
                w.write(a, dep, s, nbad)
                if bar is not None:
                    bar.update(b - a)
            if bar is not None:
                bar.close()
        w.finalize()
        result[sch] = {"n_frames": n, "n_a": int(a_idx.size), "n_nonpositive": w.n_nonpositive,
                       "path": str(out_dir)}
    return result
