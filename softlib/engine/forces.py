"""Kob-Andersen pair forces with Verlet neighbour lists (numba).

Public
------
``PairForce(species, box, skin=0.3, nthreads=None)``
    stateful force field: ``compute(positions) -> (energy, virial, forces)``,
    rebuilding its :class:`softlib.engine.neighbors.VerletList` when needed
    (``n_builds``).
``energy_forces(positions, species, box) -> (energy, forces)``
    stateless, validated.
``energy_forces_numpy(positions, species, box)``
    plain numpy O(N^2) twin for tests and benchmarks.
``min_pair_distance(positions, box)``, ``check_overlaps(positions, species, box)``
    detect overlapping particles before a run.

Conventions: energy U = sum over pairs of the shifted, truncated KA potential
(paper Eq. 1, constants from :mod:`softlib.ka`); virial W = sum over pairs of
r_ij . f_ij, so that P = (N T + W / 3) / V; forces (N, 3) on each particle.

Raw numba kernels (for numba step loops, e.g. :mod:`softlib.engine.md`)
---------------------------------------------------------------
The Verlet list works in cell-sorted order (particles sorted by cell at every
build, for cache locality); ``perm`` maps sorted -> original index, and
the kernels gather the positions and scatter the forces themselves, so callers
only ever see the original order.

``ka_params() -> params``, float64 (2, 2, 6): per species pair
    ``[c12, c6, 12 c12, 6 c6, rc^2, shift]`` with c12 = 4 eps sig^12,
    c6 = 4 eps sig^6; U = c12/r^12 - c6/r^6 - shift for r^2 < rc^2.
``compute_serial(pos, perm, ss, box, offsets, split, nbrs, params, work, forces)
-> (energy, virial)``
    pos (N, 3) float64 (wrapped or not), ``perm, ss, offsets, split, nbrs`` from
    ``neighbors.build_half``, ``work`` float64 (1, 2, 3, N) scratch; overwrites
    ``forces`` (N, 3).
``compute_parallel(pos, perm, ss, box, offsets, split, nbrs, params, bounds, work,
forces) -> (energy, virial)``
    the same in one prange region over row chunks,
    ``bounds = neighbors.balance(offsets, nchunks)``, ``work`` (nchunks, 2, 3, N),
    a force buffer per chunk (no write conflicts); agrees with the serial kernel
    to rounding (~1e-13 relative). ``build_half_parallel`` and
    ``compute_parallel`` must be called from Python, never from a ``cache=True``
    numba function (numba 0.68 segfaults loading such a function from its cache,
    numba issue #8578); a cached numba step loop uses the serial kernels.
``_chunk(pos, perm, ss, box, offsets, split, nbrs, params, r0, r1, buf)``
    the building block: rows r0..r1-1 into ``buf`` (2, 3, N) (sorted positions,
    forces in sorted order); returns (energy, virial) of those rows.

A serial numba step loop does (names from :mod:`softlib.engine.neighbors` and this
module, the constant arrays from a :class:`PairForce` ``pf``, ``nl = pf.nlist``)::

    if needs_rebuild(pos, pos_at_build, nl.box, nl.half_skin2):
        perm, ss, offsets, split, nbrs = build_half(
            pos, species, nl.box, nl.ncell, nl.runs, nl.nruns, nl.cut2)
        pos_at_build[:] = pos
    e, w = compute_serial(pos, perm, ss, nl.box, offsets, split, nbrs, pf.params,
                           pf.work, forces)

``pos`` must be finite before ``build_half`` (``needs_rebuild`` returns True
on NaN, so check ``np.isfinite(pos).all()`` when it does, and stop the run).
"""
from __future__ import annotations

import numba
import numpy as np
from numba import njit, prange

from .. import ka
from .._checks import as_positions, as_species, check_box_cutoff
from .neighbors import VerletList, balance, neighbor_pairs

_NPARAM = 6


def ka_params():
    """Per-species-pair LJ constants, float64 (2, 2, 6); see the module docstring."""
    p = np.empty((2, 2, _NPARAM))
    c12 = 4.0 * ka.EPSILON * ka.SIGMA**12
    c6 = 4.0 * ka.EPSILON * ka.SIGMA**6
    p[..., 0] = c12
    p[..., 1] = c6
    p[..., 2] = 12.0 * c12
    p[..., 3] = 6.0 * c6
    p[..., 4] = ka.RCUT**2
    p[..., 5] = ka.ESHIFT
    return p


_FM = {"contract", "arcp", "nsz", "reassoc"}
_PAD = 8  # rows are processed in whole blocks of 8 (one AVX-512 register of doubles)


@njit(cache=True, fastmath=_FM, error_model="numpy")
def _row(x, y, z, fx, fy, fz, i, bx, by, bz, nb, na, pa, pb, tmp):
    """All pairs (i, nb[q]) of one row; adds -f_ij to f[j] and f_i to f[i].

    ``nb[:na]`` are species-0 partners (constants ``pa``), the rest species 1 (``pb``).
    The partners' coordinates are first copied into ``tmp`` so that the LJ loop runs
    on contiguous data and vectorises (LLVM will not emit gathers on AMD Zen);
    it runs over whole blocks of 8 with the tail masked, then a scalar loop scatters
    the partners' forces. Returns (U, W) of the row.
    """
    m = nb.shape[0]
    xi, yi, zi = x[i], y[i], z[i]
    tx, ty, tz = tmp[0], tmp[1], tmp[2]
    for q in range(m):
        j = nb[q]
        tx[q] = x[j]
        ty[q] = y[j]
        tz[q] = z[j]
    ibx, iby, ibz = 1.0 / bx, 1.0 / by, 1.0 / bz
    a12, a6, a12x, a6x, arc, ash = pa[0], pa[1], pa[2], pa[3], pa[4], pa[5]
    b12, b6, b12x, b6x, brc, bsh = pb[0], pb[1], pb[2], pb[3], pb[4], pb[5]
    gx = 0.0
    gy = 0.0
    gz = 0.0
    e = 0.0
    w = 0.0
    for q in range((m + _PAD - 1) // _PAD * _PAD):  # tail entries are masked out
        isa = q < na
        c12 = a12 if isa else b12
        c6 = a6 if isa else b6
        c12x = a12x if isa else b12x
        c6x = a6x if isa else b6x
        rc2 = arc if isa else brc
        sh = ash if isa else bsh
        dx = xi - tx[q]
        dy = yi - ty[q]
        dz = zi - tz[q]
        dx -= bx * np.rint(dx * ibx)
        dy -= by * np.rint(dy * iby)
        dz -= bz * np.rint(dz * ibz)
        r2 = dx * dx + dy * dy + dz * dz
        ir2 = 1.0 / r2
        ir6 = ir2 * ir2 * ir2
        inside = (r2 < rc2) & (q < m)
        eu = ir6 * (c12 * ir6 - c6) - sh
        wp = ir6 * (c12x * ir6 - c6x)
        e += eu if inside else 0.0
        w += wp if inside else 0.0
        fr = wp * ir2 if inside else 0.0  # also kills inf/NaN from stale tail data
        ux = fr * dx
        uy = fr * dy
        uz = fr * dz
        gx += ux
        gy += uy
        gz += uz
        tx[q] = ux
        ty[q] = uy
        tz[q] = uz
    for q in range(m):
        j = nb[q]
        fx[j] -= tx[q]
        fy[j] -= ty[q]
        fz[j] -= tz[q]
    fx[i] += gx
    fy[i] += gy
    fz[i] += gz
    return e, w


@njit(cache=True, error_model="numpy")
def _rows(ps, ss, box, offsets, split, nbrs, params, f, r0, r1):
    """Rows r0..r1-1 of the half list; ps, f are (3, N) in sorted order. Returns (U, W)."""
    # scratch for one row: partners' coordinates, then their forces (finite, zeroed)
    tmp = np.zeros((3, ps.shape[1] + _PAD))
    x, y, z = ps[0], ps[1], ps[2]
    fx, fy, fz = f[0], f[1], f[2]
    bx, by, bz = box[0], box[1], box[2]
    e = 0.0
    w = 0.0
    for i in range(r0, r1):
        si = ss[i]
        e1, w1 = _row(x, y, z, fx, fy, fz, i, bx, by, bz, nbrs[offsets[i]:offsets[i + 1]],
                      split[i] - offsets[i], params[si, 0], params[si, 1], tmp)
        e += e1
        w += w1
    return e, w


@njit(cache=True)
def _chunk(pos, perm, ss, box, offsets, split, nbrs, params, r0, r1, buf):
    """Rows r0..r1-1 with ``buf`` (2, 3, N): sorted positions in, forces out.

    Rows >= r0 only touch particles >= r0 (half list: j > i), so only those are
    gathered and zeroed. Returns (U, W) of the chunk.
    """
    n = pos.shape[0]
    ps = buf[0]
    f = buf[1]
    for k in range(r0, n):
        q = perm[k]
        ps[0, k] = pos[q, 0]
        ps[1, k] = pos[q, 1]
        ps[2, k] = pos[q, 2]
    f[:, r0:] = 0.0
    return _rows(ps, ss, box, offsets, split, nbrs, params, f, r0, r1)


@njit(cache=True)
def compute_serial(pos, perm, ss, box, offsets, split, nbrs, params, work, forces):
    """Forces, energy and virial from a cell-sorted half list, one thread.

    ``work`` (>= 1, 2, 3, N) scratch (only work[0] is used); overwrites ``forces``
    (N, 3) in the original particle order. Returns (energy, virial).
    """
    n = pos.shape[0]
    e, w = _chunk(pos, perm, ss, box, offsets, split, nbrs, params, 0, n, work[0])
    for k in range(n):
        q = perm[k]
        forces[q, 0] = work[0, 1, 0, k]
        forces[q, 1] = work[0, 1, 1, k]
        forces[q, 2] = work[0, 1, 2, k]
    return e, w


@njit(cache=True, parallel=True)
def compute_parallel(pos, perm, ss, box, offsets, split, nbrs, params, bounds, work, forces):
    """:func:`compute_serial` over ``len(bounds) - 1`` row chunks in one prange region.

    ``bounds`` from ``neighbors.balance``; ``work`` (nchunks, 2, 3, N): each chunk
    gathers its own copy of the positions and adds into its own force buffer (no
    write conflicts); the buffers are summed afterwards. Call it from Python only:
    numba segfaults when it loads a ``cache=True`` function that calls a parallel
    one from its cache (numba issue #8578).
    """
    nchunks = bounds.shape[0] - 1
    n = pos.shape[0]
    ew = np.zeros((nchunks, 8))  # padded rows: no false sharing
    for c in prange(nchunks):
        e, w = _chunk(pos, perm, ss, box, offsets, split, nbrs, params, bounds[c],
                      bounds[c + 1], work[c])
        ew[c, 0] = e
        ew[c, 1] = w
    for k in range(n):  # serial: a second parallel region costs more than it saves
        q = perm[k]
        for d in range(3):
            s = 0.0
            for c in range(nchunks):
                if k >= bounds[c]:
                    s += work[c, 1, d, k]
            forces[q, d] = s
    e = 0.0
    w = 0.0
    for c in range(nchunks):
        e += ew[c, 0]
        w += ew[c, 1]
    return e, w


class PairForce:
    """Kob-Andersen forces, energy and virial with a self-maintained Verlet list.

    Parameters
    ----------
    species : array_like of int, shape (N,)
        0 (A) or 1 (B).
    box : float or array_like, shape (3,)
        Box edge lengths (sigma_AA), each > 2 * 2.5.
    skin : float
        Verlet skin (sigma_AA); the list is rebuilt once some particle moved
        more than skin / 2.
    nthreads : int, optional
        1 selects the serial kernels, more the parallel ones (list build and
        forces) with that many chunks; default ``numba.get_num_threads()``. The
        parallel kernels synchronise every step: on a machine whose cores are
        busy with other work they can be much slower than ``nthreads=1``.

    Attributes
    ----------
    nlist : softlib.engine.neighbors.VerletList
    params : ndarray (2, 2, 6)
        Pair constants, see :func:`ka_params`.
    n_builds : int
        Number of neighbour-list builds so far.
    """

    def __init__(self, species, box, skin=0.3, nthreads=None):
        self.species = as_species(species)
        self.box = check_box_cutoff(box, ka.RCUT_MAX)
        n = self.species.size
        if nthreads is None:
            nthreads = numba.get_num_threads()
        self.nthreads = max(1, int(nthreads))
        self.nlist = VerletList(self.species, self.box, ka.RCUT, skin, nthreads=self.nthreads)
        self.params = ka_params()
        self.work = np.zeros((self.nthreads, 2, 3, n))
        self.bounds = None

    @property
    def n_builds(self):
        return self.nlist.n_builds

    def compute(self, positions, out=None):
        """Energy, virial and forces for one configuration.

        Parameters
        ----------
        positions : ndarray, shape (N, 3)
            Positions (sigma_AA), wrapped or unwrapped.
        out : ndarray, shape (N, 3), optional
            Array to write the forces into (avoids an allocation per step).

        Returns
        -------
        energy : float
            Total potential energy (eps_AA).
        virial : float
            W = sum over pairs of r_ij . f_ij (eps_AA).
        forces : ndarray, shape (N, 3)
            Force on each particle (eps_AA / sigma_AA); ``out`` if given.
        """
        pos = positions
        if not (isinstance(pos, np.ndarray) and pos.dtype == np.float64
                and pos.flags.c_contiguous and pos.shape == (self.species.size, 3)):
            pos = as_positions(positions, n=self.species.size)
        nl = self.nlist
        if nl.needs_rebuild(pos):
            nl.build(pos)  # validates (NaN, shape)
            if self.nthreads > 1:
                self.bounds = balance(nl.offsets, self.nthreads)
        if out is None:
            forces = np.empty((pos.shape[0], 3))
        elif (isinstance(out, np.ndarray) and out.dtype == np.float64
              and out.flags.c_contiguous and out.shape == pos.shape):
            forces = out
        else:
            raise ValueError("out must be a C-contiguous float64 array of shape (N, 3)")
        args = (pos, nl.perm, nl.species_sorted, self.box, nl.offsets, nl.split, nl.nbrs,
                self.params)
        if self.nthreads > 1:
            e, w = compute_parallel(*args, self.bounds, self.work, forces)
        else:
            e, w = compute_serial(*args, self.work, forces)
        if not np.isfinite(e + w):
            raise ValueError(
                f"non-finite energy or virial ({e}, {w}): two particles (nearly) coincide; "
                "remove overlaps with softlib.engine.md.remove_overlaps or start from a lattice"
            )
        return e, w, forces


def energy_forces(positions, species, box):
    """Total KA potential energy and forces of one configuration.

    Parameters
    ----------
    positions : array_like, shape (N, 3)
        Positions (sigma_AA), wrapped or unwrapped; must be finite.
    species : array_like of int, shape (N,)
        0 (A) or 1 (B).
    box : float or array_like, shape (3,)
        Box edge lengths (sigma_AA), each > 2 * 2.5.

    Returns
    -------
    energy : float
        Total potential energy (eps_AA).
    forces : ndarray of float64, shape (N, 3)
        Force on each particle (eps_AA / sigma_AA).
    """
    species = as_species(species)
    pos = as_positions(positions, n=species.size)
    pf = PairForce(species, box, skin=0.0, nthreads=1)
    e, _, f = pf.compute(pos)
    return float(e), f


def energy_forces_numpy(positions, species, box):
    """O(N^2) numpy twin of :func:`energy_forces`, also returning the virial.

    Returns
    -------
    energy : float
    virial : float
    forces : ndarray, shape (N, 3)
    """
    pos = np.asarray(positions, dtype=float)
    s = np.asarray(species)
    box = np.broadcast_to(np.asarray(box, dtype=float), (3,))
    i, j = np.triu_indices(len(pos), k=1)
    d = pos[i] - pos[j]
    d -= box * np.rint(d / box)
    r2 = (d * d).sum(axis=1)
    si, sj = s[i], s[j]
    eps, sig, rc = ka.EPSILON[si, sj], ka.SIGMA[si, sj], ka.RCUT[si, sj]
    inside = r2 < rc * rc
    sr6 = (sig * sig / r2) ** 3
    u = np.where(inside, 4 * eps * (sr6 * sr6 - sr6) - ka.ESHIFT[si, sj], 0.0)
    rf = np.where(inside, 24 * eps * (2 * sr6 * sr6 - sr6), 0.0)  # r . f
    fvec = (rf / r2)[:, None] * d
    forces = np.zeros_like(pos)
    np.add.at(forces, i, fvec)
    np.add.at(forces, j, -fvec)
    return float(u.sum()), float(rf.sum()), forces


def min_pair_distance(positions, box, cutoff=1.0):
    """Smallest minimum-image pair distance (sigma_AA), ``inf`` if none below ``cutoff``.

    ``cutoff`` only limits the search (and must be below half the box edge).
    """
    _, _, r = neighbor_pairs(positions, box, cutoff)
    return float(r.min()) if r.size else np.inf


def check_overlaps(positions, species, box, factor=0.5):
    """Raise ValueError if two particles are closer than ``factor * sigma_uv``.

    Returns the smallest ratio r_ij / sigma_uv found (inf if all > 1).
    """
    s = as_species(species)
    pos = as_positions(positions, n=s.size)
    i, j, r = neighbor_pairs(pos, box, float(ka.SIGMA.max()))
    if r.size == 0:
        return np.inf
    ratio = r / ka.SIGMA[s[i], s[j]]
    k = int(np.argmin(ratio))
    if ratio[k] < factor:
        raise ValueError(
            f"overlapping particles at start: {i[k]} and {j[k]} are {r[k]:.3g} apart "
            f"({ratio[k]:.3g} sigma_uv < {factor}); remove overlaps with "
            "softlib.engine.md.remove_overlaps or start from a lattice"
        )
    return float(ratio[k])
