"""Cell lists and Verlet neighbour lists for an orthorhombic periodic box.

Public
------
``neighbor_pairs(positions, box, cutoff) -> (i, j, r)``
    all pairs closer than ``cutoff`` (i < j, minimum image), for analysis code.
``VerletList(species, box, cutoff, skin)``
    half neighbour list with a skin, rebuilt when the largest displacement since
    the last build exceeds skin / 2 (``needs_rebuild(pos)``, ``build(pos)``,
    ``n_builds``).
``cell_list(positions, box, cell_min) -> (ncell, cell_start, cell_atoms)``
    particles binned into cells of edge >= ``cell_min`` (CSR).
``cell_grid(box, cell_min)``
    number of cells per axis for cells of edge >= ``cell_min``.

Raw numba kernels (for numba step loops, e.g. :mod:`softlib.engine.md`)
---------------------------------------------------------------
``needs_rebuild(pos, pos_at_build, box, half_skin2) -> bool``
    True when some particle moved (minimum image) by more than
    ``sqrt(half_skin2)`` since ``pos_at_build``, or a position is not finite.
``build_half(pos, species, box, ncell, runs, nruns, cut2) ->
(perm, ss, offsets, split, nbrs)``
    half list in CSR form over *cell-sorted* indices: ``perm`` (N,) sorted ->
    original index, ``ss`` (N,) int32 species in sorted order. Row ``i`` holds the
    partners ``j > i`` with ``r_ij^2 < cut2[ss_i, ss_j]``: species-0 partners in
    ``nbrs[offsets[i]:split[i]]``, species-1 partners in
    ``nbrs[split[i]:offsets[i + 1]]`` (uint32). ``ncell``, ``runs``, ``nruns``
    describe the cell grid and are precomputed by :class:`VerletList`.
    ``pos`` must be finite.
``build_half_parallel(..., nchunks)``
    the same, ``nchunks`` cell ranges built in parallel (prange). Call it from
    Python only: numba 0.68 segfaults when it loads a ``cache=True`` function
    that calls a ``parallel=True`` one from its cache (numba issue #8578).
``balance(offsets, nchunks) -> bounds``
    row boundaries (nchunks + 1,) giving each chunk about the same number of pairs.

How the build is organised: cells of edge >= (cutoff + skin) / 2 and, for each
cell, the forward cells (index >= its own, within two cells, pruned by their
closest distance) merged into runs of consecutive indices. After sorting the
particles by cell, the candidates of a cell are a few contiguous slices; they are
copied into one buffer, tested in a branch-free loop that vectorises, and
compacted into the row.
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange

from .._checks import as_box, as_positions, as_species, check_box_cutoff


def cell_grid(box, cell_min):
    """Number of cells per axis, shape (3,) int64, each cell edge >= ``cell_min``."""
    box = np.asarray(box, dtype=float)
    return np.maximum(np.floor(box / float(cell_min)).astype(np.int64), 1)


@njit(cache=True)
def _wrap_coord(x, L):
    x = x - L * np.floor(x / L)
    if x >= L:  # x slightly negative rounds up to L
        x -= L
    return x


@njit(cache=True)
def _cell_index(x, L, n):
    """Cell along one axis; clamped so that even a non-finite x cannot index out of
    bounds (callers validate positions, this only guards memory)."""
    c = int(_wrap_coord(x, L) * n / L)
    return min(max(c, 0), n - 1)


@njit(cache=True)
def _bin(pos, box, ncell):
    """Counting sort of particles into cells (CSR).

    Returns ``cell_start`` (ncells + 1,) and ``cell_atoms`` (N,): the particles of
    cell c are ``cell_atoms[cell_start[c]:cell_start[c + 1]]`` in increasing order.
    """
    n = pos.shape[0]
    nx, ny, nz = ncell[0], ncell[1], ncell[2]
    cell = np.empty(n, dtype=np.int64)
    for i in range(n):
        cx = _cell_index(pos[i, 0], box[0], nx)
        cy = _cell_index(pos[i, 1], box[1], ny)
        cz = _cell_index(pos[i, 2], box[2], nz)
        cell[i] = (cx * ny + cy) * nz + cz
    ncells = nx * ny * nz
    start = np.zeros(ncells + 1, dtype=np.int64)
    for i in range(n):
        start[cell[i] + 1] += 1
    for c in range(ncells):
        start[c + 1] += start[c]
    fill = start[:-1].copy()
    atoms = np.empty(n, dtype=np.int64)
    for i in range(n):
        atoms[fill[cell[i]]] = i
        fill[cell[i]] += 1
    return start, atoms


@njit(cache=True)
def _stencil_1d(c, n, out):
    """Distinct cells among c-1, c, c+1 (periodic, n cells); returns how many."""
    k = 0
    for d in (-1, 0, 1):
        cc = (c + d) % n
        dup = False
        for m in range(k):
            if out[m] == cc:
                dup = True
        if not dup:
            out[k] = cc
            k += 1
    return k


@njit(cache=True)
def _neighbor_cells(ncell, out):
    """For every cell the distinct neighbouring cells (itself included).

    Fills ``out`` (ncells, 27) and returns the count per cell.
    """
    nx, ny, nz = ncell[0], ncell[1], ncell[2]
    count = np.zeros(nx * ny * nz, dtype=np.int64)
    sx = np.empty(3, np.int64)
    sy = np.empty(3, np.int64)
    sz = np.empty(3, np.int64)
    for cx in range(nx):
        kx = _stencil_1d(cx, nx, sx)
        for cy in range(ny):
            ky = _stencil_1d(cy, ny, sy)
            for cz in range(nz):
                kz = _stencil_1d(cz, nz, sz)
                c = (cx * ny + cy) * nz + cz
                k = 0
                for a in range(kx):
                    for b in range(ky):
                        for d in range(kz):
                            out[c, k] = (sx[a] * ny + sy[b]) * nz + sz[d]
                            k += 1
                count[c] = k
    return count


@njit(cache=True)
def _min_image(d, L, invL):
    return d - L * np.rint(d * invL)


@njit(cache=True)
def _cell_runs(ncell, box, radius, reach):
    """Forward cell neighbourhood of every cell as runs of consecutive cell indices.

    Cells have edges ``box / ncell`` >= ``reach / radius``. For cell c the cells c' >= c
    within ``radius`` cells along each axis (periodic, duplicates removed when the grid
    is small) whose closest points are nearer than ``reach`` are merged into runs
    ``[runs[c, r, 0], runs[c, r, 1])``, r < nruns[c]. Own-cell pairs j > i plus all pairs
    with the other cells of the runs visit every pair of particles closer than
    ``reach`` exactly once (and with j > i in cell-sorted order).
    """
    nx, ny, nz = ncell[0], ncell[1], ncell[2]
    wx, wy, wz = box[0] / nx, box[1] / ny, box[2] / nz
    ncells = nx * ny * nz
    width = 2 * radius + 1
    stamp = np.full(ncells, -1, dtype=np.int64)
    found = np.empty(width**3, dtype=np.int64)
    runs = np.empty((ncells, width**3, 2), dtype=np.int64)
    nruns = np.zeros(ncells, dtype=np.int64)
    reach2 = reach * reach
    for cx in range(nx):
        for cy in range(ny):
            for cz in range(nz):
                c = (cx * ny + cy) * nz + cz
                m = 0
                for ox in range(-radius, radius + 1):
                    gx = max(abs(ox) - 1, 0) * wx
                    for oy in range(-radius, radius + 1):
                        gy = max(abs(oy) - 1, 0) * wy
                        for oz in range(-radius, radius + 1):
                            gz = max(abs(oz) - 1, 0) * wz
                            if gx * gx + gy * gy + gz * gz >= reach2:
                                continue  # no point of that cell can be within reach
                            cc = (((cx + ox) % nx) * ny + (cy + oy) % ny) * nz + (cz + oz) % nz
                            if cc >= c and stamp[cc] != c:
                                stamp[cc] = c
                                found[m] = cc
                                m += 1
                cells = np.sort(found[:m])
                r = 0
                runs[c, 0, 0] = cells[0]
                for q in range(1, m):
                    if cells[q] != cells[q - 1] + 1:
                        runs[c, r, 1] = cells[q - 1] + 1
                        r += 1
                        runs[c, r, 0] = cells[q]
                runs[c, r, 1] = cells[m - 1] + 1
                nruns[c] = r + 1
    return runs[:, : nruns.max()].copy(), nruns


@njit(cache=True)
def _sort_cells(pos, box, ncell):
    """Order particles by cell.

    Returns ``perm`` (N,) with sorted index -> original index, ``cell_start``
    (ncells + 1,) so that cell c holds sorted indices ``cell_start[c]:cell_start[c + 1]``,
    and the wrapped positions in sorted order, shape (3, N).
    """
    n = pos.shape[0]
    nx, ny, nz = ncell[0], ncell[1], ncell[2]
    key = np.empty(n, dtype=np.int64)
    wrapped = np.empty((3, n))
    for i in range(n):
        x = _wrap_coord(pos[i, 0], box[0])
        y = _wrap_coord(pos[i, 1], box[1])
        z = _wrap_coord(pos[i, 2], box[2])
        wrapped[0, i] = x
        wrapped[1, i] = y
        wrapped[2, i] = z
        cx = _cell_index(x, box[0], nx)
        cy = _cell_index(y, box[1], ny)
        cz = _cell_index(z, box[2], nz)
        key[i] = (cx * ny + cy) * nz + cz
    ncells = nx * ny * nz
    start = np.zeros(ncells + 1, dtype=np.int64)
    for i in range(n):
        start[key[i] + 1] += 1
    for c in range(ncells):
        start[c + 1] += start[c]
    fill = start[:-1].copy()
    perm = np.empty(n, dtype=np.int64)
    for i in range(n):
        perm[fill[key[i]]] = i
        fill[key[i]] += 1
    ps = np.empty((3, n))
    for k in range(n):
        for d in range(3):
            ps[d, k] = wrapped[d, perm[k]]
    return perm, start, ps


@njit(cache=True, fastmath={"contract", "nsz"})
def _classify(xi, yi, zi, bx, by, bz, ca, cb, gx, gy, gz, gs, code):
    """code[q] = 1 for gathered candidates closer than sqrt(ca) (species 0) or
    sqrt(cb) (species 1), else 0. Branch-free and contiguous, so that it vectorises."""
    ix, iy, iz = 1.0 / bx, 1.0 / by, 1.0 / bz
    for q in range(gx.shape[0]):
        dx = xi - gx[q]
        dy = yi - gy[q]
        dz = zi - gz[q]
        dx -= bx * np.rint(dx * ix)
        dy -= by * np.rint(dy * iy)
        dz -= bz * np.rint(dz * iz)
        r2 = dx * dx + dy * dy + dz * dz
        c2 = ca if gs[q] == 0 else cb
        code[q] = r2 < c2


@njit(cache=True)
def _build_rows(ps, ss, box, start, runs, nruns, cut2, c0, c1, nbrs, rowlen, na):
    """Rows of the particles in cells c0..c1-1 into ``nbrs`` (contiguous, row after row).

    Writes the row lengths to ``rowlen[i]`` and the species-0 counts to ``na[i]``;
    returns the number of entries written, or -1 if ``nbrs`` is too short.
    """
    n = ps.shape[1]
    bx, by, bz = box[0], box[1], box[2]
    cap = nbrs.shape[0]
    tmp = np.empty(n + 1, dtype=np.uint32)
    # candidates of one cell, gathered contiguously (own cell first)
    gx = np.empty(n)
    gy = np.empty(n)
    gz = np.empty(n)
    gs = np.empty(n, dtype=np.int32)
    gj = np.empty(n, dtype=np.uint32)
    code = np.empty(n, dtype=np.int32)
    k = 0
    for c in range(c0, c1):
        if start[c] == start[c + 1]:
            continue
        m = 0
        for r in range(nruns[c]):  # runs are sorted: the first one starts at c
            lo = start[runs[c, r, 0]]
            hi = start[runs[c, r, 1]]
            px, py, pz, sp = ps[0, lo:hi], ps[1, lo:hi], ps[2, lo:hi], ss[lo:hi]
            for q in range(hi - lo):
                gx[m + q] = px[q]
                gy[m + q] = py[q]
                gz[m + q] = pz[q]
                gs[m + q] = sp[q]
                gj[m + q] = lo + q
            m += hi - lo
        for i in range(start[c], start[c + 1]):
            if k + m + 1 > cap:  # one more row (plus a branch-free spare) must fit
                return -1
            si = ss[i]
            q0 = i - start[c] + 1  # own-cell partners j > i come first
            _classify(ps[0, i], ps[1, i], ps[2, i], bx, by, bz, cut2[si, 0], cut2[si, 1],
                      gx[q0:m], gy[q0:m], gz[q0:m], gs[q0:m], code)
            k0 = k
            for q in range(m - q0):  # branch-free compaction
                nbrs[k] = gj[q0 + q]
                k += code[q]
            # stable partition of the (short) row by species: 0 first, then 1
            ka = k0
            kb = 0
            for q in range(k0, k):
                j = nbrs[q]
                nbrs[ka] = j
                ka += ss[j] == 0
                tmp[kb] = j
                kb += ss[j] == 1
            nbrs[ka:k] = tmp[:kb]
            na[i] = ka - k0
            rowlen[i] = k - k0
    return k


@njit(cache=True)
def _cell_chunks(start, nchunks):
    """Cell boundaries (nchunks + 1,) splitting the particles into equal parts."""
    ncells = start.shape[0] - 1
    n = start[ncells]
    out = np.empty(nchunks + 1, dtype=np.int64)
    out[0] = 0
    c = 0
    for k in range(1, nchunks):
        while c < ncells and start[c] < (n * k) // nchunks:
            c += 1
        out[k] = c
    out[nchunks] = ncells
    return out


@njit(cache=True)
def _prepare(pos, species, box, ncell):
    """Cell sort: ``perm, start, ps`` from :func:`_sort_cells` and the sorted species."""
    perm, start, ps = _sort_cells(pos, box, ncell)
    ss = np.empty(pos.shape[0], dtype=np.int32)
    for k in range(pos.shape[0]):
        ss[k] = species[perm[k]]
    return perm, start, ps, ss


@njit(cache=True)
def _assemble(rowlen, na, bufs, count):
    """CSR ``offsets, split, nbrs`` from row lengths and the chunks' row buffers."""
    n = rowlen.shape[0]
    offsets = np.empty(n + 1, dtype=np.int64)
    split = np.empty(n, dtype=np.int64)
    offsets[0] = 0
    for i in range(n):
        split[i] = offsets[i] + na[i]
        offsets[i + 1] = offsets[i] + rowlen[i]
    nbrs = np.empty(offsets[n], dtype=np.uint32)
    k = 0
    for t in range(count.shape[0]):
        nbrs[k:k + count[t]] = bufs[t, :count[t]]
        k += count[t]
    return offsets, split, nbrs


@njit(cache=True)
def build_half(pos, species, box, ncell, runs, nruns, cut2):
    """Cell-sorted half Verlet list, one thread (see module doc).

    Returns ``perm, species_sorted, offsets, split, nbrs``; every index in the list
    is a sorted index (original index = perm[sorted index]) and row i holds j > i.
    """
    n = pos.shape[0]
    perm, start, ps, ss = _prepare(pos, species, box, ncell)
    rowlen = np.empty(n, dtype=np.int64)
    na = np.empty(n, dtype=np.int64)
    count = np.full(1, -1, dtype=np.int64)
    # ~41-52 partners per particle at rho = 1.2 for skins 0.2-0.4, plus one row;
    # a denser system retries with twice the room
    cap = 56 * n + n + 64
    while count[0] < 0:
        bufs = np.empty((1, cap), dtype=np.uint32)
        count[0] = _build_rows(ps, ss, box, start, runs, nruns, cut2, 0, start.shape[0] - 1,
                               bufs[0], rowlen, na)
        cap *= 2
    offsets, split, nbrs = _assemble(rowlen, na, bufs, count)
    return perm, ss, offsets, split, nbrs


@njit(cache=True, parallel=True)
def build_half_parallel(pos, species, box, ncell, runs, nruns, cut2, nchunks):
    """:func:`build_half` with ``nchunks`` cell ranges built in parallel (prange).

    Call it from Python, not from a ``cache=True`` numba function: numba segfaults
    when it loads a cached function that calls a parallel one (numba issue #8578).
    """
    n = pos.shape[0]
    perm, start, ps, ss = _prepare(pos, species, box, ncell)
    rowlen = np.empty(n, dtype=np.int64)
    na = np.empty(n, dtype=np.int64)
    chunks = _cell_chunks(start, nchunks)
    count = np.full(nchunks, -1, dtype=np.int64)
    cap = 56 * (n // nchunks) + n + 64
    while count.min() < 0:
        bufs = np.empty((nchunks, cap), dtype=np.uint32)
        for t in prange(nchunks):
            count[t] = _build_rows(ps, ss, box, start, runs, nruns, cut2, chunks[t],
                                   chunks[t + 1], bufs[t], rowlen, na)
        cap *= 2
    offsets, split, nbrs = _assemble(rowlen, na, bufs, count)
    return perm, ss, offsets, split, nbrs


@njit(cache=True)
def needs_rebuild(pos, pos_at_build, box, half_skin2):
    """True if any particle moved more than sqrt(half_skin2) (or is not finite)."""
    inv0, inv1, inv2 = 1.0 / box[0], 1.0 / box[1], 1.0 / box[2]
    for i in range(pos.shape[0]):
        dx = _min_image(pos[i, 0] - pos_at_build[i, 0], box[0], inv0)
        dy = _min_image(pos[i, 1] - pos_at_build[i, 1], box[1], inv1)
        dz = _min_image(pos[i, 2] - pos_at_build[i, 2], box[2], inv2)
        if not (dx * dx + dy * dy + dz * dz <= half_skin2):  # NaN -> rebuild
            return True
    return False


@njit(cache=True)
def balance(offsets, nchunks):
    """Row boundaries splitting the list into chunks of about equal pair count."""
    n = offsets.shape[0] - 1
    total = offsets[n]
    bounds = np.empty(nchunks + 1, dtype=np.int64)
    bounds[0] = 0
    row = 0
    for c in range(1, nchunks):
        target = (total * c) // nchunks
        while row < n and offsets[row] < target:
            row += 1
        bounds[c] = row
    bounds[nchunks] = n
    return bounds


@njit(cache=True)
def _pairs_within(pos, box, ncell, cutoff):
    """All pairs i < j closer than cutoff: (i, j, r) unsorted."""
    n = pos.shape[0]
    start, atoms = _bin(pos, box, ncell)
    ncells = ncell[0] * ncell[1] * ncell[2]
    ncells_nb = np.empty((ncells, 27), dtype=np.int64)
    nnb = _neighbor_cells(ncell, ncells_nb)
    inv = 1.0 / box
    cut2 = cutoff * cutoff
    cap = 16 * n + 16
    ii = np.empty(cap, np.int64)
    jj = np.empty(cap, np.int64)
    rr = np.empty(cap, np.float64)
    k = 0
    for c in range(ncells):
        for m in range(start[c], start[c + 1]):
            i = atoms[m]
            for a in range(nnb[c]):
                cc = ncells_nb[c, a]
                for q in range(start[cc], start[cc + 1]):
                    j = atoms[q]
                    if j <= i:
                        continue
                    dx = _min_image(pos[i, 0] - pos[j, 0], box[0], inv[0])
                    dy = _min_image(pos[i, 1] - pos[j, 1], box[1], inv[1])
                    dz = _min_image(pos[i, 2] - pos[j, 2], box[2], inv[2])
                    r2 = dx * dx + dy * dy + dz * dz
                    if r2 < cut2:
                        if k == cap:
                            cap *= 2
                            ii2 = np.empty(cap, np.int64)
                            jj2 = np.empty(cap, np.int64)
                            rr2 = np.empty(cap, np.float64)
                            ii2[:k] = ii[:k]
                            jj2[:k] = jj[:k]
                            rr2[:k] = rr[:k]
                            ii, jj, rr = ii2, jj2, rr2
                        ii[k] = i
                        jj[k] = j
                        rr[k] = np.sqrt(r2)
                        k += 1
    return ii[:k], jj[:k], rr[:k]


def neighbor_pairs(positions, box, cutoff):
    """All particle pairs closer than ``cutoff`` under the minimum-image convention.

    Parameters
    ----------
    positions : array_like, shape (N, 3)
        Positions (sigma_AA), wrapped or unwrapped.
    box : float or array_like, shape (3,)
        Orthorhombic box edge lengths; every edge must exceed ``2 * cutoff``.
    cutoff : float
        Pair distance cutoff (sigma_AA), > 0.

    Returns
    -------
    i, j : ndarray of int64, shape (P,)
        Pair indices with ``i < j``, sorted by ``i`` then ``j``.
    r : ndarray of float64, shape (P,)
        Minimum-image distances ``|r_i - r_j|`` < cutoff.
    """
    cutoff = float(cutoff)
    if not np.isfinite(cutoff) or cutoff <= 0:
        raise ValueError(f"cutoff must be a positive number, got {cutoff}")
    box = check_box_cutoff(box, cutoff)
    pos = as_positions(positions)
    i, j, r = _pairs_within(pos, box, cell_grid(box, cutoff), cutoff)
    order = np.lexsort((j, i))
    return i[order], j[order], r[order]


def cell_list(positions, box, cell_min):
    """Bin particles into cells of edge >= ``cell_min`` (periodic, orthorhombic).

    Returns
    -------
    ncell : ndarray of int64, shape (3,)
        Cells per axis; cell (a, b, c) has index ``(a * ncell[1] + b) * ncell[2] + c``.
    cell_start : ndarray of int64, shape (ncells + 1,)
    cell_atoms : ndarray of int64, shape (N,)
        The particles of cell k are ``cell_atoms[cell_start[k]:cell_start[k + 1]]``.
    """
    box = as_box(box)
    cell_min = float(cell_min)
    if not np.isfinite(cell_min) or cell_min <= 0:
        raise ValueError(f"cell_min must be a positive number, got {cell_min}")
    pos = as_positions(positions)
    ncell = cell_grid(box, cell_min)
    start, atoms = _bin(pos, box, ncell)
    return ncell, start, atoms


def _neighbor_pairs_numpy(positions, box, cutoff):
    """O(N^2) numpy twin of :func:`neighbor_pairs` (tests, benchmarks)."""
    pos = np.asarray(positions, dtype=float)
    box = as_box(box)
    i, j = np.triu_indices(len(pos), k=1)
    d = pos[i] - pos[j]
    d -= box * np.rint(d / box)
    r = np.sqrt((d * d).sum(axis=1))
    keep = r < cutoff
    return i[keep], j[keep], r[keep]


class VerletList:
    """Half Verlet neighbour list with a skin for one fixed set of particles.

    Parameters
    ----------
    species : array_like of int, shape (N,)
        0 (A) or 1 (B).
    box : float or array_like, shape (3,)
        Box edge lengths (sigma_AA); every edge must exceed ``2 * max(cutoff)``.
    cutoff : float or array_like, shape (2, 2)
        Interaction cutoff, one value or one per species pair (sigma_AA).
    skin : float
        Extra shell (sigma_AA), >= 0. The list holds pairs with
        ``r < cutoff[s_i, s_j] + skin`` and stays valid until some particle has
        moved more than ``skin / 2``.
    radius : int
        Cells have edges >= (max cutoff + skin) / radius and are searched
        ``radius`` cells deep; 2 was fastest at N = 1000 and 4000 (fewer candidate
        pairs than 1, less bookkeeping than 3).
    nthreads : int
        > 1 builds that many cell ranges in parallel.

    Attributes
    ----------
    perm, species_sorted, offsets, split, nbrs : ndarray
        Cell order and CSR half list in that order, see the module docstring
        (None before the first build).
    n_builds : int
        Number of builds so far.
    """

    def __init__(self, species, box, cutoff, skin, radius=2, nthreads=1):
        self.species = as_species(species)
        cut = np.broadcast_to(np.asarray(cutoff, dtype=float), (2, 2)).copy()
        if not np.all(np.isfinite(cut)) or np.any(cut <= 0):
            raise ValueError(f"cutoff must be positive, got {cutoff}")
        skin = float(skin)
        if not np.isfinite(skin) or skin < 0:
            raise ValueError(f"skin must be >= 0 (sigma_AA), got {skin}")
        self.box = check_box_cutoff(box, float(cut.max()))
        self.cutoff = cut
        self.skin = skin
        self.cut2 = (cut + skin) ** 2
        self.half_skin2 = (0.5 * skin) ** 2
        reach = float(cut.max()) + skin
        self.radius = int(radius)
        self.ncell = cell_grid(self.box, reach / self.radius)
        self.runs, self.nruns = _cell_runs(self.ncell, self.box, self.radius, reach)
        self.nthreads = max(1, int(nthreads))
        self.n_builds = 0
        self.pos_at_build = None
        self.perm = self.species_sorted = None
        self.offsets = self.split = self.nbrs = None

    @property
    def n_pairs(self):
        return 0 if self.offsets is None else int(self.offsets[-1])

    def needs_rebuild(self, pos):
        """True if the list must be rebuilt before it is used with ``pos``."""
        if self.pos_at_build is None:
            return True
        return bool(needs_rebuild(pos, self.pos_at_build, self.box, self.half_skin2))

    def build(self, pos):
        """Rebuild the list for positions ``pos`` (N, 3), wrapped or unwrapped."""
        pos = as_positions(pos, n=self.species.size)
        args = (pos, self.species, self.box, self.ncell, self.runs, self.nruns, self.cut2)
        if self.nthreads > 1:
            out = build_half_parallel(*args, self.nthreads)
        else:
            out = build_half(*args)
        self.perm, self.species_sorted, self.offsets, self.split, self.nbrs = out
        self.pos_at_build = pos.copy()
        self.n_builds += 1
