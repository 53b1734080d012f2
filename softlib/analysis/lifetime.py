"""How long local softness lives: C_S(t), Q(t) and the softness propagator (METHODS 5).

All statistics are averages over pairs of frames (origin, origin + t) on an explicit
time grid. By default that grid is the log-spaced block schedule of
:mod:`softlib.engine.schedule` (time origins at block starts; targets inside the block and
at later block starts), built by :func:`softlib.analysis.dynamics.time_pairs`, so that Q(t),
C_S(t) and F_s(q, t) share their lags exactly. ``schedule='linear'`` uses the dense
frames instead (many more origins, long times only).

* Q(t), Eq. 10: fraction of particles with |r_i(t) - r_i(0)| <= a (a = 0.3).
* C_S(t), Eq. 9: Pearson correlation across particles of S_i(t') and S_i(t' + t),
  averaged over origins t'. Particles whose softness is NaN (non-positive denominator
  of Eq. 7) in either frame are left out of that pair and counted.
* G(S, S0, t): among particles with S_i(0) in a bin around S0 whose displacement from
  r_i(0) stayed below ``r_stay`` (0.5) at every stored frame up to t, the distribution
  of S_i(t); and its mean <S(t)>_S0 (Fig. 4b, c).

Positions must be unwrapped (as :func:`softlib.io.trajectory.load` returns them) and
refer to the same particles, in the same order, as the softness columns.
"""
from __future__ import annotations

import numpy as np

from .._checks import as_positions
from .dynamics import time_pairs


def _pairs(times, schedule, block, pairs, **grid):
    if pairs is not None:
        return pairs
    return time_pairs(np.asarray(times, dtype=float), schedule=schedule, block=block, **grid)


def _check_frames(name, arr, n_frames, ndim):
    a = np.asarray(arr)
    if a.ndim != ndim or a.shape[0] != n_frames:
        raise ValueError(f"{name} must have {ndim} axes with {n_frames} frames first, got shape {a.shape}")
    if a.shape[1] == 0:
        raise ValueError(f"{name} holds no particles: select the A particles (e.g. a_index from read_softness)")
    return a


def _take(positions, select):
    pos = np.asarray(positions, dtype=float)
    if select is not None:
        pos = pos[:, np.asarray(select)]
    return pos


def overlap(positions, times, a=0.3, select=None, schedule="log", block=None, pairs=None, **grid):
    """Overlap function Q(t) (paper Eq. 10).

    Parameters
    ----------
    positions : (F, N, 3) array_like
        Unwrapped positions (sigma_AA).
    times : (F,) array_like
        Frame times (tau).
    a : float
        Overlap radius (sigma_AA); a particle counts while |dr| <= a.
    select : array_like of int, optional
        Particle indices to use (e.g. the A particles); default all.
    schedule, block, **grid
        Time grid, see :func:`softlib.analysis.dynamics.time_pairs`.
    pairs : tuple, optional
        A precomputed ``time_pairs`` result.

    Returns
    -------
    t : (L,) float
        Lag times (tau).
    Q : (L,) float
    """
    if not a > 0:
        raise ValueError(f"overlap radius a must be > 0 (sigma_AA; the paper uses 0.3), got {a}")
    times = np.asarray(times, dtype=float)
    pos = as_positions(_check_frames("positions", _take(positions, select), times.size, 3), frames=True)
    lag, starts, org, tgt = _pairs(times, schedule, block, pairs, **grid)
    q = np.empty(lag.size)
    for k in range(lag.size):
        o, t = org[starts[k]:starts[k + 1]], tgt[starts[k]:starts[k + 1]]
        d2 = np.sum((pos[t] - pos[o]) ** 2, axis=-1)
        q[k] = np.mean(d2 <= a * a)
    return lag, q


def _pearson(x, y):
    """Row-wise Pearson correlation of x, y (P, N) over entries finite in both; (r, n_used)."""
    m = np.isfinite(x) & np.isfinite(y)
    n = m.sum(axis=1)
    xz, yz = np.where(m, x, 0.0), np.where(m, y, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mx = xz.sum(1) / n
        my = yz.sum(1) / n
        dx = np.where(m, x - mx[:, None], 0.0)
        dy = np.where(m, y - my[:, None], 0.0)
        r = (dx * dy).sum(1) / np.sqrt((dx * dx).sum(1) * (dy * dy).sum(1))
    return r, n


def softness_correlation(softness, times, schedule="log", block=None, pairs=None, **grid):
    """Softness autocorrelation C_S(t) (paper Eq. 9).

    Parameters
    ----------
    softness : (F, N_A) array_like
        Local softness S_i per frame (NaN where undefined; those entries are excluded).
    times : (F,) array_like
        Frame times (tau).
    schedule, block, pairs, **grid
        Time grid, as in :func:`overlap`.

    Returns
    -------
    t : (L,) float
        Lag times (tau).
    C : (L,) float
        Pearson correlation across particles, averaged over origins.
    n_excluded : int
        Particle-pairs left out because S was NaN in one of the two frames.
    """
    times = np.asarray(times, dtype=float)
    s = _check_frames("softness", softness, times.size, 2).astype(float)
    lag, starts, org, tgt = _pairs(times, schedule, block, pairs, **grid)
    c = np.empty(lag.size)
    excluded = 0
    for k in range(lag.size):
        o, t = org[starts[k]:starts[k + 1]], tgt[starts[k]:starts[k + 1]]
        r, n = _pearson(s[o], s[t])
        if np.any(~np.isfinite(r)):
            raise ValueError(
                f"C_S undefined at t = {lag[k]:.4g}: a frame has constant softness or fewer than 2 "
                "defined values; check the softness arrays"
            )
        c[k] = r.mean()
        excluded += int(s.shape[1] * len(o) - n.sum())
    return lag, c, excluded


def _check_edges(name, edges):
    e = np.asarray(edges, dtype=float)
    if e.ndim != 1 or e.size < 2 or np.any(np.diff(e) <= 0):
        raise ValueError(f"{name} must be increasing bin edges (at least 2), got {edges!r}")
    return e


def propagator(softness, positions, times, s0_edges, s_edges, r_stay=0.5, select=None, schedule="log",
               block=None, pairs=None, **grid):
    """Softness propagator G(S, S0, t) and <S(t)>_S0 of particles that stayed near home.

    Parameters
    ----------
    softness : (F, N_A) array_like
        S_i per frame (NaN = undefined, excluded).
    positions : (F, N, 3) array_like
        Unwrapped positions (sigma_AA); ``select`` picks the softness columns' particles.
    times : (F,) array_like
        Frame times (tau), increasing.
    s0_edges : (B0 + 1,) array_like
        Bins of the initial softness S0.
    s_edges : (B + 1,) array_like
        Bins of S(t) for the histogram G.
    r_stay : float
        A particle counts at lag t only while |r_i(t'') - r_i(0)| < r_stay at every stored
        frame t'' between the origin and t (sigma_AA).
    select, schedule, block, pairs, **grid
        As in :func:`overlap`.

    Returns
    -------
    dict
        ``times`` (L + 1,) lag times with 0 first; ``G`` (L + 1, B0, B) normalised histograms
        (probability densities in S; NaN rows where no particle qualifies); ``mean`` (L + 1, B0)
        <S(t)>_S0; ``count`` (L + 1, B0) particle-origin pairs behind each row; ``s0_centres``,
        ``s_centres``, ``s0_edges``, ``s_edges``, ``r_stay``.
    """
    if not r_stay > 0:
        raise ValueError(f"r_stay must be > 0 (sigma_AA; METHODS 5 uses 0.5), got {r_stay}")
    times = np.asarray(times, dtype=float)
    s = _check_frames("softness", softness, times.size, 2).astype(float)
    pos = as_positions(_check_frames("positions", _take(positions, select), times.size, 3), frames=True)
    if pos.shape[1] != s.shape[1]:
        raise ValueError(f"softness has {s.shape[1]} particles but positions {pos.shape[1]}: pass select=a_index")
    e0, e = _check_edges("s0_edges", s0_edges), _check_edges("s_edges", s_edges)
    lag, starts, org, tgt = _pairs(times, schedule, block, pairs, **grid)
    nl, b0, nb = lag.size + 1, e0.size - 1, e.size - 1
    hist = np.zeros((nl, b0, nb))
    ssum = np.zeros((nl, b0))
    count = np.zeros((nl, b0), dtype=np.int64)
    lag_of = np.empty(org.size, dtype=np.int64)
    for k in range(lag.size):
        lag_of[starts[k]:starts[k + 1]] = k + 1
    for o in np.unique(org):
        sel = org == o
        ts, ls = tgt[sel], lag_of[sel]
        bin0 = np.digitize(s[o], e0) - 1  # -1 or b0: outside the S0 bins
        ok0 = np.isfinite(s[o]) & (bin0 >= 0) & (bin0 < b0)
        # running maximum of the displacement over every stored frame from o to the last target
        span = pos[o:ts.max() + 1] - pos[o]
        stayed = np.maximum.accumulate(np.sum(span**2, axis=-1), axis=0) < r_stay**2
        _accumulate(hist, ssum, count, 0, s[o], bin0, ok0, e)  # t = 0: the S0 bins themselves
        for t, li in zip(ts, ls):
            _accumulate(hist, ssum, count, li, s[t], bin0, ok0 & stayed[t - o] & np.isfinite(s[t]), e)
    width = np.diff(e)
    with np.errstate(invalid="ignore", divide="ignore"):
        g = hist / (count[..., None] * width)
        mean = ssum / count
    return {"times": np.r_[0.0, lag], "G": g, "mean": mean, "count": count,
            "s0_centres": 0.5 * (e0[1:] + e0[:-1]), "s_centres": 0.5 * (e[1:] + e[:-1]),
            "s0_edges": e0, "s_edges": e, "r_stay": float(r_stay)}


def _accumulate(hist, ssum, count, li, st, bin0, ok, edges):
    """Add S(t) of the qualifying particles to row li, per S0 bin."""
    b0 = hist.shape[1]
    nb = hist.shape[2]
    b = bin0[ok]
    v = st[ok]
    k = np.digitize(v, edges) - 1
    inside = (k >= 0) & (k < nb)
    np.add.at(hist[li], (b[inside], k[inside]), 1.0)
    ssum[li] += np.bincount(b, weights=v, minlength=b0)
    count[li] += np.bincount(b, minlength=b0)


def combine(results):
    """Pool :func:`propagator` results of several runs (the same lags and bins), weighted by their counts.

    G and the mean of each (lag, S0 bin) become the count-weighted averages over the runs, the counts
    add up; so pooling runs equals one propagator over all their particle-origin pairs. Entries
    without any pair stay NaN. Everything else (times, bin edges and centres) is taken from the first.
    """
    results = list(results)
    if not results:
        raise ValueError("combine needs at least one propagator result")
    shapes = {np.shape(p["count"]) for p in results}
    if len(shapes) != 1:
        raise ValueError(f"propagators of different shapes (lags x S0 bins) cannot be pooled: {sorted(shapes)}")
    cnt = sum(p["count"] for p in results)
    with np.errstate(invalid="ignore"):
        g = sum(np.nan_to_num(p["G"]) * p["count"][..., None] for p in results) / cnt[..., None]
        m = sum(np.nan_to_num(p["mean"]) * p["count"] for p in results) / cnt
    return {**results[0], "G": g, "mean": m, "count": cnt}
