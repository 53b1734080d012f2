"""Average structure of a binary mixture: partial g_uv(r), S_uv(q) and C_uv(q) (METHODS 2).

Conventions
-----------
* Species 0 = A, 1 = B; box (3,) orthorhombic edge lengths; lengths in sigma_AA.
* Partial rdfs are normalised by the ideal gas of each species pair, so that
  g_uv(r) -> 1 at large r even in a finite box (like pairs by N_u (N_u - 1)).
* Partial structure factors follow Ashcroft-Langreth:
  ``S_uv(k) = < Re[rho_u(k) rho_v(k)^*] > / sqrt(N_u N_v)`` with
  ``rho_u(k) = sum_{j in u} exp(-i k . r_j)``, so that ``S_uv -> delta_uv`` at
  large k. They are computed directly on the reciprocal lattice of the box,
  ``k = 2 pi (n_x / L_x, n_y / L_y, n_z / L_z)``, never from g(r).

Every function takes a :class:`softlib.io.trajectory.Trajectory` (streamed frame
chunk by chunk, so long trajectories never sit in memory at once) or plain
arrays ``positions`` (N, 3) / (F, N, 3) with ``species=`` and ``box=``.

The hot loops are numba kernels; each has a plain numpy twin
(``_rdf_counts_numpy``, ``_rho_k_numpy``) used by the tests and the benchmark.
"""
from __future__ import annotations

import types

import numba
import numpy as np
from numba import njit, prange

from .._checks import COINCIDENT, as_box, as_positions, as_species, check_no_overlap

#: pair-type index of the (u, v) species pair in the kernels: AA 0, AB 1, BB 2
_PAIR = np.array([[0, 1], [1, 2]])
#: frames processed at once when streaming a Trajectory
_CHUNK = 32
#: position of the main peak of S_AA(q) of the KA liquid (1 / sigma_AA)
Q_FIRST_PEAK = 7.2


# --------------------------------------------------------------------------- input handling
def _checked(chunks, box, min_distance):
    """Each (F, N, 3) chunk validated: finite (as_positions) and without overlapping particles."""
    for c in chunks:
        p = as_positions(c, frames=True)
        check_no_overlap(p, box, min_distance)
        yield p


def _frames(traj, species=None, box=None, min_distance=COINCIDENT):
    """Return (species, box, iterator over (F, N, 3) position chunks, n_frames).

    Accepts a Trajectory (streamed) or positions (N, 3) / (F, N, 3) arrays. Every chunk is
    checked as it is used: finite positions, no pair closer than ``min_distance``.
    """
    if hasattr(traj, "iter_chunks") and hasattr(traj, "species"):
        if species is not None or box is not None:
            raise ValueError("species and box come from the Trajectory: do not pass them as well")
        if traj.n_frames == 0:
            raise ValueError("the trajectory has no frames: nothing to average")
        b = as_box(traj.box)
        chunks = _checked((c.positions for c in traj.iter_chunks(_CHUNK)), b, min_distance)
        return as_species(traj.species, n=getattr(traj, "n_particles", None)), b, chunks, traj.n_frames
    if species is None or box is None:
        raise ValueError(
            "plain position arrays need species= (N,) and box= (3,); "
            "or pass a softlib.io.trajectory.Trajectory from softlib.io.trajectory.load"
        )
    p = np.asarray(traj, dtype=float)
    if p.ndim == 2:
        p = p[None]
    p = as_positions(p, frames=True)
    if p.shape[0] == 0:
        raise ValueError("positions hold no frames: nothing to average")
    s = as_species(species, n=p.shape[1])
    b = as_box(box)
    return s, b, _checked([p], b, min_distance), p.shape[0]


def _counts(species):
    n = np.bincount(species, minlength=2)[:2].astype(float)
    if np.any(n == 0):
        raise ValueError(
            f"both species are needed for partial quantities, got N_A = {n[0]:.0f}, N_B = {n[1]:.0f}; "
            "check the species mapping (softlib.io.trajectory.load(..., species=...))"
        )
    return n


# --------------------------------------------------------------------------- g(r)
def _renamed(f, name):
    """A copy of f under another name: numba's on-disk cache is keyed by the function's name."""
    g = types.FunctionType(f.__code__, f.__globals__, name, f.__defaults__, f.__closure__)
    g.__qualname__ = name
    return g


def _rdf_counts_py(pos, species, box, r_max, dr, nbins, nchunks):
    """Histogram of unordered pair distances per pair type (3, nbins), all pairs, minimum image.

    Two passes per row i: the bin indices of all j > i first (branch-free, so the compiler
    vectorises it), then the scatter into the histogram; bin ``nbins`` collects everything
    beyond the last bin and is dropped. ``r_max`` is implied by ``nbins * dr``.
    """
    n = pos.shape[0]
    hist = np.zeros((nchunks, 3, nbins + 1), dtype=np.int64)
    buf = np.empty((nchunks, n), dtype=np.int64)
    inv = 1.0 / dr
    lx, ly, lz = box[0], box[1], box[2]
    ix, iy, iz = 1.0 / lx, 1.0 / ly, 1.0 / lz
    x = pos[:, 0].copy()
    y = pos[:, 1].copy()
    z = pos[:, 2].copy()
    for c in prange(nchunks):
        h = hist[c]
        b = buf[c]
        # interleaved rows balance the triangular loop between threads
        for i in range(c, n, nchunks):
            si = species[i]
            xi, yi, zi = x[i], y[i], z[i]
            for j in range(i + 1, n):
                dx = x[j] - xi
                dy = y[j] - yi
                dz = z[j] - zi
                dx -= lx * np.rint(dx * ix)
                dy -= ly * np.rint(dy * iy)
                dz -= lz * np.rint(dz * iz)
                # bin index in [0, nbins] on any input: rb >= 0 for finite positions, and a NaN
                # (which the callers refuse) fails the comparison and goes to the dropped bin nbins
                rb = np.sqrt(dx * dx + dy * dy + dz * dz) * inv
                b[j] = int(rb) if rb < nbins else nbins
            for j in range(i + 1, n):  # si + species[j] in 0..2: species are validated 0/1
                h[si + species[j], b[j]] += 1
    return hist.sum(axis=0)[:, :nbins]


#: the kernel, threaded over interleaved row chunks
_rdf_counts = njit(cache=True, parallel=True)(_rdf_counts_py)
#: the same kernel on one thread: below this many particles a frame takes about a millisecond
#: and waking threads (or waiting for one descheduled on a busy machine) costs more than it saves
_rdf_counts_serial = njit(cache=True)(_renamed(_rdf_counts_py, "_rdf_counts_serial"))
_SERIAL_BELOW = 2000


def _rdf_counts_numpy(pos, species, box, r_max, dr, nbins):
    """Plain numpy twin of :func:`_rdf_counts` (O(N^2) memory; tests and benchmarks)."""
    d = pos[None, :, :] - pos[:, None, :]
    d -= box * np.rint(d / box)
    r = np.sqrt((d * d).sum(-1))
    iu, ju = np.triu_indices(len(pos), 1)
    r = r[iu, ju]
    t = species[iu] + species[ju]
    keep = r < r_max
    b = (r[keep] / dr).astype(np.int64)
    ok = b < nbins
    hist = np.zeros((3, nbins), dtype=np.int64)
    np.add.at(hist, (t[keep][ok], b[ok]), 1)
    return hist


def partial_rdf(traj, dr=0.01, r_max=None, *, species=None, box=None, min_distance=COINCIDENT):
    """Frame-averaged partial radial distribution functions g_uv(r).

    Parameters
    ----------
    traj : Trajectory or array_like
        A :class:`softlib.io.trajectory.Trajectory`, or positions (N, 3) or (F, N, 3)
        (wrapped or unwrapped; minimum image is applied) with ``species`` and ``box``.
    dr : float
        Bin width (sigma_AA). Default 0.01 (METHODS 2).
    r_max : float, optional
        Largest distance; default and maximum half the smallest box edge.
    species : (N,) int, optional
        Only with plain arrays: 0 = A, 1 = B.
    box : float or (3,) float, optional
        Only with plain arrays: box edge lengths.
    min_distance : float or None
        Refuse (ValueError naming the pair) any frame with two particles closer than this
        (sigma_AA; default 1e-3: duplicated particles). Pass
        ``softlib._checks.MIN_PAIR_DISTANCE`` (0.5) to refuse anything no KA liquid has,
        None to skip.

    Returns
    -------
    r : (nbins,) ndarray
        Bin centres (sigma_AA).
    g : (2, 2, nbins) ndarray
        g[u, v] normalised by the ideal gas of the pair: shell volume
        4/3 pi (r_hi^3 - r_lo^3) times N_u N_v / V for u != v and
        N_u (N_u - 1) / V for u = v; symmetric in (u, v).
    """
    s, b, chunks, nf = _frames(traj, species, box, min_distance)
    half = 0.5 * float(b.min())
    if r_max is None:
        r_max = half
    dr, r_max = float(dr), float(r_max)
    if not (dr > 0 and r_max > 0):
        raise ValueError(f"dr and r_max must be positive, got dr={dr}, r_max={r_max}")
    if r_max > half * (1 + 1e-12):
        raise ValueError(
            f"r_max = {r_max} exceeds half the smallest box edge ({half:.4f}): the minimum image "
            "would miss pairs; lower r_max or use a larger system"
        )
    nbins = int(np.floor(r_max / dr + 1e-9))
    if nbins < 1:
        raise ValueError(f"r_max = {r_max} is smaller than one bin dr = {dr}")
    n = _counts(s)
    hist = np.zeros((3, nbins), dtype=np.int64)
    kernel, nchunks = ((_rdf_counts_serial, 1) if len(s) < _SERIAL_BELOW
                       else (_rdf_counts, 4 * numba.get_num_threads()))
    for chunk in chunks:
        for p in chunk:
            hist += kernel(np.ascontiguousarray(p), s, b, r_max, dr, nbins, nchunks)
    edges = dr * np.arange(nbins + 1)
    shell = 4.0 / 3.0 * np.pi * (edges[1:] ** 3 - edges[:-1] ** 3)
    volume = float(np.prod(b))
    g = np.empty((2, 2, nbins))
    for u in range(2):
        for v in range(2):
            # unordered like pairs: N_u (N_u - 1) / 2 of them; unlike: N_u N_v
            pairs = n[u] * (n[u] - 1) / 2.0 if u == v else n[u] * n[v]
            g[u, v] = hist[_PAIR[u, v]] * volume / (pairs * shell * nf)
    return 0.5 * (edges[1:] + edges[:-1]), g


# --------------------------------------------------------------------------- S(q)
def _half_space_vectors(box, q_max):
    """Integer vectors n (K, 3) with 0 < |k| <= q_max, one of each +-k pair, and |k| (K,)."""
    nmax = np.floor(q_max * box / (2.0 * np.pi)).astype(int)
    axes = [np.arange(-m, m + 1) for m in nmax]
    n = np.stack(np.meshgrid(*axes, indexing="ij"), -1).reshape(-1, 3)
    # keep one of k and -k: Re[rho_u rho_v^*] is the same for both
    half = (n[:, 0] > 0) | ((n[:, 0] == 0) & ((n[:, 1] > 0) | ((n[:, 1] == 0) & (n[:, 2] > 0))))
    n = n[half]
    k = np.sqrt((((2.0 * np.pi / box) * n) ** 2).sum(1))
    keep = k <= q_max
    return n[keep].astype(np.int64), k[keep], nmax


def _shell_vectors(box, q_max, max_vectors, seed, dq=None):
    """Vectors grouped in shells of width dq (default 2 pi / L_max), at most ``max_vectors`` a shell."""
    n, k, nmax = _half_space_vectors(box, q_max)
    dk = 2.0 * np.pi / float(box.max()) if dq is None else float(dq)
    shell = np.rint(k / dk).astype(np.int64)
    rng = np.random.default_rng(seed)
    keep = []
    for m in np.unique(shell):
        idx = np.flatnonzero(shell == m)
        if max_vectors is not None and idx.size > max_vectors:
            # fixed seed: the same vectors in every run and at every temperature
            idx = np.sort(rng.choice(idx, size=max_vectors, replace=False))
        keep.append(idx)
    keep = np.concatenate(keep)
    return n[keep], k[keep], shell[keep], nmax


@njit(cache=True)
def _phases(pos, box, nmax):
    """exp(-i 2 pi n x_j / L_a) for n = -m..m per axis a: (3, 2 m + 1, N) complex, m = max(nmax)."""
    npart = pos.shape[0]
    m = nmax.max()
    out = np.zeros((3, 2 * m + 1, npart), dtype=np.complex128)
    for a in range(3):
        for j in range(npart):
            theta = -2.0 * np.pi * pos[j, a] / box[a]
            for n in range(nmax[a] + 1):
                c, s = np.cos(n * theta), np.sin(n * theta)
                out[a, m + n, j] = c + 1j * s
                out[a, m - n, j] = c - 1j * s  # exp(+i ...) for -n
    return out


@njit(cache=True, parallel=True)
def _rho_k(ph, nvec, n_a):
    """Collective densities rho_A(k), rho_B(k) (K, 2) for species-sorted particles (A first)."""
    nk = nvec.shape[0]
    npart = ph.shape[2]
    m = (ph.shape[1] - 1) // 2
    out = np.zeros((nk, 2), dtype=np.complex128)
    for q in prange(nk):
        px = ph[0, m + nvec[q, 0]]
        py = ph[1, m + nvec[q, 1]]
        pz = ph[2, m + nvec[q, 2]]
        acc = 0j
        for j in range(n_a):
            acc += px[j] * py[j] * pz[j]
        out[q, 0] = acc
        acc = 0j
        for j in range(n_a, npart):
            acc += px[j] * py[j] * pz[j]
        out[q, 1] = acc
    return out


def _rho_k_numpy(pos, species, box, nvec):
    """Plain numpy twin of :func:`_phases` + :func:`_rho_k`: (K, 2) complex."""
    k = (2.0 * np.pi / box) * nvec
    e = np.exp(-1j * pos @ k.T)  # (N, K)
    return np.stack([e[species == 0].sum(0), e[species == 1].sum(0)], axis=1)


def partial_structure_factor(traj, q_max=40.0, max_vectors=300, *, dq=None, seed=0, species=None,
                             box=None, min_distance=COINCIDENT):
    """Frame-averaged partial structure factors S_uv(q), direct in k-space (METHODS 2).

    Parameters
    ----------
    traj : Trajectory or array_like
        A :class:`softlib.io.trajectory.Trajectory`, or positions (N, 3) / (F, N, 3)
        with ``species`` and ``box``.
    q_max : float
        Largest |k| (1 / sigma_AA). Default 40.
    max_vectors : int or None
        At most this many k vectors per shell (one of each +-k pair counts once),
        drawn with the fixed ``seed``; None uses all.
    dq : float, optional
        Shell width (1 / sigma_AA); default 2 pi / L_max (METHODS 2). Narrower
        shells resolve the main peak better in small boxes (the lattice |k| are
        spread between the multiples of 2 pi / L), at the price of more vectors.
    seed : int
        Seed of the vector sampling (the same vectors at every temperature).
    species, box : optional
        Only with plain arrays.
    min_distance : float or None
        As in :func:`partial_rdf`.

    Returns
    -------
    q : (nq,) ndarray
        Mean |k| of the vectors in each non-empty shell; shells have width
        dq and are centred on multiples of it.
    S : (nq, 2, 2) ndarray
        Ashcroft-Langreth partials, symmetric in (u, v), S_uv -> delta_uv at large q.
    """
    s, b, chunks, nf = _frames(traj, species, box, min_distance)
    q_max = float(q_max)
    if not q_max >= Q_FIRST_PEAK:
        raise ValueError(f"q_max = {q_max} is below the first peak of S(q) (q ~ {Q_FIRST_PEAK} / sigma_AA): "
                         "the structure would miss it; use q_max >= 20 (the caging integral needs "
                         "S(q) well past the peak; default 40)")
    if not q_max > 2.0 * np.pi / b.max():
        raise ValueError(f"q_max = {q_max} is below the smallest wave number 2 pi / L = "
                         f"{2 * np.pi / b.max():.4f}: raise q_max")
    if max_vectors is not None and int(max_vectors) < 1:
        raise ValueError(f"max_vectors must be >= 1 or None, got {max_vectors}")
    if dq is not None and not float(dq) > 0:
        raise ValueError(f"dq must be positive, got {dq}")
    n = _counts(s)
    nvec, kmag, shell, nmax = _shell_vectors(b, q_max, max_vectors, seed, dq)
    order = np.argsort(s, kind="stable")  # A first: the kernel splits by index
    n_a = int(n[0])
    acc = np.zeros((len(nvec), 3))
    for chunk in chunks:
        for p in chunk:
            wrapped = np.ascontiguousarray((p[order] % b))  # small phases stay accurate
            rho = _rho_k(_phases(wrapped, b, nmax), nvec, n_a)
            acc[:, 0] += (rho[:, 0] * rho[:, 0].conj()).real
            acc[:, 1] += (rho[:, 0] * rho[:, 1].conj()).real
            acc[:, 2] += (rho[:, 1] * rho[:, 1].conj()).real
    acc /= nf
    shells, inverse, counts = np.unique(shell, return_inverse=True, return_counts=True)
    mean = np.zeros((len(shells), 3))
    np.add.at(mean, inverse, acc)
    mean /= counts[:, None]
    q = np.bincount(inverse, weights=kmag) / counts
    S = np.empty((len(shells), 2, 2))
    S[:, 0, 0] = mean[:, 0] / n[0]
    S[:, 0, 1] = S[:, 1, 0] = mean[:, 1] / np.sqrt(n[0] * n[1])
    S[:, 1, 1] = mean[:, 2] / n[1]
    return q, S


def direct_correlation(S):
    """Matrix direct correlation C(q) = 1 - S(q)^-1 at every q.

    Parameters
    ----------
    S : (nq, 2, 2) array_like
        Partial structure factors (Ashcroft-Langreth).

    Returns
    -------
    C : (nq, 2, 2) ndarray
    """
    S = np.asarray(S, dtype=float)
    if S.ndim != 3 or S.shape[1:] != (2, 2):
        raise ValueError(f"S must have shape (nq, 2, 2), got {S.shape}")
    if not np.all(np.isfinite(S)):
        raise ValueError("S contains NaN or inf: recompute the structure factor")
    det = S[:, 0, 0] * S[:, 1, 1] - S[:, 0, 1] * S[:, 1, 0]
    scale = np.abs(S).max(axis=(1, 2))
    bad = np.abs(det) <= 1e-12 * scale ** 2
    if np.any(bad):
        raise ValueError(
            f"S(q) is singular at q index {np.flatnonzero(bad)[:5].tolist()}: C = 1 - S^-1 is "
            "undefined there; average more frames or drop those q"
        )
    return np.eye(2)[None] - np.linalg.inv(S)


def crystalline_fraction(positions, species, box, *, select=0, r_max=1.45, threshold=0.35):
    """Fraction of particles with crystal-like local bond order (averaged Steinhardt q6).

    A check that a supercooled run is still a liquid: the Kob-Andersen mixture can crystallise
    (A-rich fcc) in long runs of small systems. For each particle of species ``select`` we take
    the Lechner-Dellago average of q6 over itself and its ``select``-neighbours within
    ``r_max`` (freud's ``Steinhardt(l=6, average=True)``). The liquid gives values around
    0.15-0.25, fcc about 0.5, so ``threshold`` = 0.35 separates them.

    Parameters
    ----------
    positions : (N, 3) float
        One frame (sigma_AA).
    species : (N,) int
    box : (3,) float
        Orthorhombic box lengths.

    Returns
    -------
    dict
        ``fraction`` above the threshold and ``mean`` averaged q6 of the selected particles.
    """
    import freud

    pos = as_positions(positions)
    sp = as_species(species, len(pos))
    L = as_box(box)
    sel = pos[sp == select]
    if len(sel) < 13:
        raise ValueError(f"only {len(sel)} particles of species {select}: too few for a bond-order check")
    fbox = freud.box.Box(Lx=L[0], Ly=L[1], Lz=L[2])
    q6 = freud.order.Steinhardt(l=6, average=True)
    q6.compute((fbox, fbox.wrap(sel)), neighbors={"r_max": r_max, "exclude_ii": True})
    q = np.asarray(q6.particle_order)
    return {"fraction": float(np.mean(q > threshold)), "mean": float(np.mean(q))}
