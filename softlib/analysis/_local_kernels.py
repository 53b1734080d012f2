"""numba kernels of the local softness (Eq. 8 and the depth functional), kept apart from the API.

Called by :mod:`softlib.analysis.local_softness` only; see its docstring for the method.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

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
            # s in [0, 1] for finite positions (rounding can give exactly 1), so k in [0, nc]; the
            # clamps keep k in [0, nc - 1] on any input (a NaN, refused by the callers, gives an
            # arbitrary int): cell c < ntot and every start/fill index below stays in bounds
            k = int(s * nc[d])
            if k >= nc[d]:
                k = nc[d] - 1
            k = max(k, 0)
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
    # buf = dist[0] has n + 1 entries: each slot is scanned at most once (the stencil visits a
    # cell once, nc >= 2 _CELL_DIV + 1 or one cell) and buf[nb] is written with nb <= accepted
    # so far <= n - 1, so no index passes n.
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


