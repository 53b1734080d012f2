"""Single-particle dynamics: MSD, alpha_2, F_s(q, t), tau_alpha and p_hop (METHODS 1 and 6).

Two kinds of time grid are supported by every displacement statistic:

* ``schedule="log"``: the log-spaced block schedule of :mod:`softlib.engine.schedule`.
  Every block start is a time origin; from an origin we use the frames inside its
  own block (lags = the log offsets) and every later block start (lags = whole
  multiples of the block length). Lags are therefore exactly the schedule's own
  offsets, never interpolated.
* ``schedule="linear"``: uniformly spaced frames, origins every ``origin_every``
  frames, lags given in frames (all of them by default).

``p_hop`` (Candelier's cage-jump indicator, Eq. 2 in units of length^2) runs on
the dense linear frames with prefix sums: O(frames x particles).
"""
from __future__ import annotations

import warnings

import numpy as np
from numba import njit, prange

from .._checks import as_positions, as_species

#: the wave number of the first peak of S_AA(q) used for F_s (METHODS 1)
Q_PEAK = 7.25


# --------------------------------------------------------------------------- time grids
def _uniform_spacing(times, what):
    """Frame spacing of uniformly spaced ``times``; ValueError naming the offending gap."""
    t = np.asarray(times, dtype=float)
    if t.ndim != 1 or t.size < 2:
        raise ValueError(f"{what}: times must be a 1-d array of at least 2 frame times, got shape {t.shape}")
    gaps = np.diff(t)
    dt = float(np.median(gaps))
    if dt <= 0 or np.any(np.abs(gaps - dt) > 1e-6 * dt + 1e-9):
        k = int(np.argmax(np.abs(gaps - dt)))
        raise ValueError(
            f"{what} needs uniformly spaced frames, but the gap after frame {k} is {gaps[k]:.6g} "
            f"while the typical gap is {dt:.6g}: use the dense linear trajectory (linear.gsd), "
            "or the log schedule (schedule='log') for displacement statistics"
        )
    return dt


def log_block_origins(times, block=None):
    """Indices of the block starts (time origins) of a log-spaced block schedule.

    Parameters
    ----------
    times : (F,) float
        Frame times (tau), increasing.
    block : float, optional
        Block length (tau), e.g. ``RunPlan.log_block``. Without it the block starts are
        found where the frame spacing resets (the gap after a block start is the
        smallest of the schedule, the gap before it the largest).

    Returns
    -------
    (n_origins,) int array, always starting with frame 0.
    """
    t = np.asarray(times, dtype=float)
    if t.ndim != 1 or t.size < 2 or np.any(np.diff(t) <= 0):
        raise ValueError("times must be a strictly increasing 1-d array of at least 2 frame times")
    if block is not None:
        if block <= 0:
            raise ValueError(f"block length must be positive, got {block}")
        k = (t - t[0]) / block
        idx = np.flatnonzero(np.abs(k - np.round(k)) < 1e-6)
        return idx.astype(np.int64)
    gaps = np.diff(t)
    # a block start i > 0 follows the longest gap of a block (about a quarter of the block) and
    # precedes the first log offset: the gap shrinks by far more than inside a block (<= 4x)
    starts = [0] + [i for i in range(1, t.size - 1) if gaps[i] < 0.1 * gaps[i - 1]]
    if len(starts) >= 2:
        return log_block_origins(t, block=t[starts[1]] - t[0])
    return np.zeros(1, dtype=np.int64)


def _group_by_lag(times, org, tgt):
    """Sort (origin, target) pairs by lag; return lag times, CSR starts, origins, targets."""
    lag = times[tgt] - times[org]
    if lag.size == 0:
        raise ValueError("no (origin, later frame) pairs: the trajectory needs at least 2 frames")
    tick = 1e-6 * np.min(lag)  # steps * dt are exact to far better than this
    key = np.round(lag / tick).astype(np.int64)
    order = np.argsort(key, kind="stable")
    key, org, tgt, lag = key[order], org[order], tgt[order], lag[order]
    first = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    starts = np.r_[first, key.size].astype(np.int64)
    lag_times = np.add.reduceat(lag, first) / np.diff(starts)
    return lag_times, starts, org.astype(np.int64), tgt.astype(np.int64)


def time_pairs(times, schedule="auto", block=None, origin_every=1, lags=None):
    """(origin, target) frame pairs of a schedule, grouped by lag.

    Parameters
    ----------
    times : (F,) float
        Frame times (tau), e.g. ``frame.log['softlib/time']``.
    schedule : {'auto', 'log', 'linear'}
        'auto' picks 'linear' when the frames are uniformly spaced, else 'log'.
    block : float, optional
        Block length of the log schedule (inferred from the spacing when omitted).
    origin_every : int
        Linear schedule: a time origin every ``origin_every`` frames.
    lags : array of int, optional
        Linear schedule: lags in frames (default: every lag 1 .. F-1).

    Returns
    -------
    lag_times : (L,) float
        Lag times (tau), increasing.
    starts : (L+1,) int
        Pairs of lag ``l`` are ``origins[starts[l]:starts[l+1]]``, ``targets[...]``.
    origins, targets : (P,) int
        Frame indices.
    """
    t = np.asarray(times, dtype=float)
    if t.ndim != 1 or t.size < 2 or np.any(np.diff(t) <= 0):
        raise ValueError("times must be a strictly increasing 1-d array of at least 2 frame times")
    if schedule == "auto":
        try:
            _uniform_spacing(t, "linear schedule")
            schedule = "linear"
        except ValueError:
            schedule = "log"
    if schedule == "linear":
        return _linear_pairs(t, origin_every, lags)
    if schedule == "log":
        return _log_pairs(t, block)
    raise ValueError(f"schedule must be 'log', 'linear' or 'auto', got {schedule!r}")


def _linear_pairs(t, origin_every, lags):
    _uniform_spacing(t, "schedule='linear'")
    F = t.size
    if int(origin_every) < 1:
        raise ValueError(f"origin_every must be a positive number of frames, got {origin_every}")
    origins = np.arange(0, F - 1, int(origin_every))
    lag_frames = np.arange(1, F) if lags is None else np.unique(np.asarray(lags, dtype=np.int64))
    if lag_frames.size == 0 or lag_frames[0] < 1 or lag_frames[-1] > F - 1:
        raise ValueError(f"lags must be frame counts in 1 .. {F - 1}, got {lags}")
    org = np.concatenate([origins[origins + m < F] for m in lag_frames])
    tgt = np.concatenate([origins[origins + m < F] + m for m in lag_frames])
    return _group_by_lag(t, org, tgt)


def _log_pairs(t, block):
    starts = log_block_origins(t, block)
    org, tgt = [], []
    bounds = np.r_[starts, t.size]
    for k, o in enumerate(starts):
        inside = np.arange(o + 1, bounds[k + 1])      # the log offsets of this block
        later = starts[k + 1:]                       # whole blocks later
        targets = np.unique(np.r_[inside, later])
        org.append(np.full(targets.size, o))
        tgt.append(targets)
    return _group_by_lag(t, np.concatenate(org), np.concatenate(tgt))


# --------------------------------------------------------------------------- moments
@njit(parallel=True, cache=True)
def _moments_kernel(pos, starts, org, tgt, q):  # pragma: no cover - compiled
    """Sums over pairs and particles of r^2, r^4 and sin(qr)/(qr), one row per lag."""
    # no index derived from positions: lag rows come from starts, frames a, b from time_pairs
    # (all in [0, F)), particles from range(n)
    n_lags = starts.size - 1
    n = pos.shape[1]
    out = np.zeros((n_lags, 3))
    for lag in prange(n_lags):
        s2 = 0.0
        s4 = 0.0
        ss = 0.0
        for p in range(starts[lag], starts[lag + 1]):
            a = org[p]
            b = tgt[p]
            for i in range(n):
                dx = pos[b, i, 0] - pos[a, i, 0]
                dy = pos[b, i, 1] - pos[a, i, 1]
                dz = pos[b, i, 2] - pos[a, i, 2]
                r2 = dx * dx + dy * dy + dz * dz
                s2 += r2
                s4 += r2 * r2
                qr = q * np.sqrt(r2)
                ss += 1.0 if qr < 1e-8 else np.sin(qr) / qr
        out[lag, 0] = s2
        out[lag, 1] = s4
        out[lag, 2] = ss
    return out


def _moments_numpy(pos, starts, org, tgt, q):
    """Plain numpy twin of :func:`_moments_kernel` (tests)."""
    out = np.zeros((starts.size - 1, 3))
    for lag in range(starts.size - 1):
        sl = slice(starts[lag], starts[lag + 1])
        d = pos[tgt[sl]] - pos[org[sl]]
        r2 = np.einsum("pik,pik->pi", d, d)
        qr = q * np.sqrt(r2)
        out[lag] = r2.sum(), (r2 * r2).sum(), np.sinc(qr / np.pi).sum()
    return out


class Moments:
    """Displacement statistics of one species on one time grid.

    Attributes
    ----------
    times : (L,) float
        Lag times (tau).
    msd : (L,) float
        <dr^2> (sigma^2).
    r4 : (L,) float
        <dr^4> (sigma^4).
    fs : (L,) float
        Self intermediate scattering F_s(q, t), exact isotropic average
        <sin(q dr) / (q dr)> (no sampling of directions).
    n_samples : (L,) int
        Number of (origin, particle) displacements behind each lag.
    q : float
        Wave number (1/sigma).
    """

    def __init__(self, times, sums, counts, n_particles, q):
        self.times = times
        n = counts * n_particles
        self.n_samples = n
        self.msd = sums[:, 0] / n
        self.r4 = sums[:, 1] / n
        self.fs = sums[:, 2] / n
        self.q = q

    @property
    def alpha2(self):
        """3-D non-Gaussian parameter 3 <dr^4> / (5 <dr^2>^2) - 1 (zero for Gaussian dr in 3-D)."""
        return 3.0 * self.r4 / (5.0 * self.msd**2) - 1.0


def _select(positions, species, select):
    pos = as_positions(positions, frames=True)
    if species is None or select is None:
        return pos
    sp = as_species(species, n=pos.shape[1])
    if select not in (0, 1):
        raise ValueError(f"select must be 0 (A), 1 (B) or None (all particles), got {select!r}")
    mask = sp == select
    if not mask.any():
        raise ValueError(f"no particles of species {select} ({'AB'[select]}): check the species array")
    return np.ascontiguousarray(pos[:, mask])


def displacement_moments(positions, times, species=None, select=0, schedule="auto", block=None,
                         origin_every=1, lags=None, q=Q_PEAK):
    """MSD, <dr^4> and F_s(q, t) of one species, averaged over particles and time origins.

    Parameters
    ----------
    positions : (F, N, 3) float
        Unwrapped positions (sigma).
    times : (F,) float
        Frame times (tau).
    species : (N,) int, optional
        0 = A, 1 = B. Without it every particle is used.
    select : {0, 1, None}
        Species to average over (default A).
    schedule, block, origin_every, lags
        Time grid, see :func:`time_pairs`.
    q : float
        Wave number for F_s (default 7.25, the first peak of S_AA).

    Returns
    -------
    Moments
    """
    pos = _select(positions, species, select)
    t = np.asarray(times, dtype=float)
    if t.shape != (pos.shape[0],):
        raise ValueError(f"times has shape {t.shape} but positions hold {pos.shape[0]} frames")
    if not q > 0:
        raise ValueError(f"q must be a positive wave number (1/sigma), got {q}")
    lag_times, starts, org, tgt = time_pairs(t, schedule, block, origin_every, lags)
    sums = _moments_kernel(pos, starts, org, tgt, float(q))
    return Moments(lag_times, sums, np.diff(starts), pos.shape[1], float(q))


def msd(positions, times, species=None, select=0, **grid):
    """Mean squared displacement (sigma^2) against lag time; see :func:`displacement_moments`.

    Returns ``(lag_times (L,), msd (L,))``.
    """
    m = displacement_moments(positions, times, species, select, **grid)
    return m.times, m.msd


def non_gaussian(positions, times, species=None, select=0, **grid):
    """Non-Gaussian parameter alpha_2(t) = 3 <dr^4> / (5 <dr^2>^2) - 1 (valid in 3-D only).

    Returns ``(lag_times (L,), alpha2 (L,))``.
    """
    m = displacement_moments(positions, times, species, select, **grid)
    return m.times, m.alpha2


def self_intermediate_scattering(positions, times, species=None, select=0, q=Q_PEAK, **grid):
    """F_s(q, t) = < sin(q dr) / (q dr) >, the exact average over directions of exp(i q.dr).

    Returns ``(lag_times (L,), F_s (L,))``.
    """
    m = displacement_moments(positions, times, species, select, q=q, **grid)
    return m.times, m.fs


# --------------------------------------------------------------------------- characteristic times
def _check_curve(t, y, name):
    t = np.asarray(t, dtype=float)
    y = np.asarray(y, dtype=float)
    if t.ndim != 1 or t.shape != y.shape or t.size < 3:
        raise ValueError(f"{name}: lag times and values must be 1-d arrays of equal length >= 3")
    if np.any(t <= 0) or np.any(np.diff(t) <= 0):
        raise ValueError(f"{name}: lag times must be positive and increasing (they are used on a log axis)")
    if not np.all(np.isfinite(y)):
        raise ValueError(f"{name}: values contain NaN or inf")
    return t, y


def decay_time(t, y, level=np.exp(-1.0), missing="raise", name="the curve"):
    """First time a decaying curve falls to ``level`` (default 1/e), interpolated linearly in ln t.

    The one definition of a relaxation time in softlib: tau_alpha (F_s), tau_C_S (softness
    autocorrelation) and tau_Q (overlap) all use it.

    Parameters
    ----------
    t : (L,) float
        Lag times (tau), positive and increasing, L >= 3.
    y : (L,) float
        Curve values (F_s, C_S, Q, ...), finite.
    level : float
        Threshold (default 1/e).
    missing : {'raise', 'nan'}
        What to do when the crossing is not inside the window (the curve never falls to
        ``level``, or is already below it at the first lag, where the crossing time is only
        bounded by t[0]): raise a ValueError (default), or return NaN with a RuntimeWarning.
    name : str
        What the curve is, for the messages.

    Returns
    -------
    float, the crossing time (tau).
    """
    t, y = _check_curve(t, y, name)
    if missing not in ("raise", "nan"):
        raise ValueError(f"missing must be 'raise' or 'nan', got {missing!r}")
    below = np.flatnonzero(y <= level)
    if below.size == 0 or below[0] == 0:
        msg = (f"{name} never falls to {level:.4f} between t = {t[0]:.3g} and {t[-1]:.3g} "
               f"(last value {y[-1]:.3f})" if below.size == 0 else
               f"{name} is already below {level:.4f} at the first lag t = {t[0]:.3g}")
        msg += ": its decay time is outside the time window; use a longer run or log block"
        if missing == "nan":
            warnings.warn(msg, RuntimeWarning, stacklevel=2)
            return float("nan")
        raise ValueError(msg)
    k = below[0]
    x0, x1 = np.log(t[k - 1]), np.log(t[k])
    y0, y1 = y[k - 1], y[k]
    return float(np.exp(x0 + (level - y0) * (x1 - x0) / (y1 - y0)))


def tau_alpha(t, fs, level=np.exp(-1.0), missing="raise"):
    """Alpha-relaxation time: :func:`decay_time` of F_s(q, t) (tau; see there for the parameters)."""
    return decay_time(t, fs, level, missing, name="F_s")


def t_star(t, alpha2, points=3):
    """Time of the maximum of alpha_2 (tau): a parabola in ln t through the ``points`` lags around it.

    ``points`` (odd, >= 3) larger than 3 smooths a noisy curve (least squares). Raises
    ValueError when the maximum is the first or last lag (the peak is not resolved).
    """
    t, a = _check_curve(t, alpha2, "t_star")
    if points < 3 or points % 2 == 0:
        raise ValueError(f"points must be an odd number >= 3, got {points}")
    k = int(np.argmax(a))
    if k == 0 or k == t.size - 1:
        raise ValueError(
            f"alpha_2 is largest at the {'first' if k == 0 else 'last'} lag (t = {t[k]:.3g}): its peak "
            "is not inside the window; use a longer log block or earlier frames"
        )
    half = min(points // 2, k, t.size - 1 - k)
    x = np.log(t[k - half:k + half + 1])
    c2, c1, _ = np.polyfit(x - np.log(t[k]), a[k - half:k + half + 1], 2)
    xv = np.log(t[k]) - c1 / (2.0 * c2) if c2 < 0 else np.log(t[k])
    return float(np.exp(np.clip(xv, np.log(t[k - 1]), np.log(t[k + 1]))))


def log_lags(n_frames, per_decade=16):
    """Log-spaced lags in frames, 1 .. n_frames - 1 (unique integers), for the linear schedule."""
    if n_frames < 2:
        raise ValueError("need at least 2 frames for a lag")
    n = int(np.ceil(per_decade * np.log10(n_frames - 1))) + 1
    return np.unique(np.round(np.logspace(0, np.log10(n_frames - 1), max(n, 1))).astype(np.int64))


def hop_threshold(t, msd_values, alpha2, points=3):
    """p_c = MSD(t*) with t* the alpha_2 peak (METHODS 6, :func:`t_star`); MSD interpolated in log-log.

    Returns ``(p_c (sigma^2), t_star (tau))``.
    """
    ts = t_star(t, alpha2, points)
    t, m = _check_curve(t, msd_values, "hop_threshold")
    if np.any(m <= 0):
        raise ValueError("hop_threshold: the MSD must be positive at every lag")
    return float(np.exp(np.interp(np.log(ts), np.log(t), np.log(m)))), ts


# --------------------------------------------------------------------------- p_hop
def half_window_frames(times, window=15.0, min_frames=3):
    """Frames in each half-window of p_hop: h = round(window / 2 / dt).

    Both half-windows U = [t - h, t] and V = [t, t + h] hold h + 1 frames and share
    frame t, so p_hop exists for frames h .. F - 1 - h.
    """
    dt = _uniform_spacing(times, "p_hop")
    if not window > 0:
        raise ValueError(f"window must be a positive time (tau), got {window}")
    h = int(round(0.5 * window / dt))
    F = len(times)
    if h < min_frames:
        raise ValueError(
            f"window {window} holds only {h} frame(s) per half-window at frame spacing {dt:.4g}; "
            f"p_hop needs >= {min_frames}: use a longer window or denser frames"
        )
    if 2 * h + 1 > F:
        raise ValueError(
            f"window {window} ({2 * h + 1} frames) is longer than the trajectory ({F} frames, "
            f"{times[-1] - times[0]:.4g} tau): use a shorter window or a longer run"
        )
    return h


@njit(parallel=True, cache=True)
def _p_hop_kernel(pos, h):  # pragma: no cover - compiled
    """p_hop from per-particle prefix sums of r and |r|^2 (relative to r_i(0) to limit cancellation).

    The result is built particle-major, (N, F), so that each thread writes contiguous
    memory, and returned as its (F, N) transpose (a view, no copy).
    """
    # indices are frames only: f - h >= 0 and f + h + 1 <= F for f in [h, F - h); h >= 1 and
    # 2 h + 1 <= F are checked by half_window_frames; nothing is indexed by a position value
    F, N, _ = pos.shape
    out = np.empty((N, F))
    inv_w = 1.0 / (h + 1.0)
    for i in prange(N):
        c = np.empty((F + 1, 4))
        c[0, :] = 0.0
        x0, y0, z0 = pos[0, i, 0], pos[0, i, 1], pos[0, i, 2]
        for f in range(F):
            dx = pos[f, i, 0] - x0
            dy = pos[f, i, 1] - y0
            dz = pos[f, i, 2] - z0
            c[f + 1, 0] = c[f, 0] + dx
            c[f + 1, 1] = c[f, 1] + dy
            c[f + 1, 2] = c[f, 2] + dz
            c[f + 1, 3] = c[f, 3] + dx * dx + dy * dy + dz * dz
        for f in range(h):  # the window does not fit at the first and last h frames
            out[i, f] = np.nan
            out[i, F - 1 - f] = np.nan
        for f in range(h, F - h):
            # U = frames f-h..f -> prefix rows [f-h, f+1); V = frames f..f+h -> [f, f+h+1)
            ux = (c[f + 1, 0] - c[f - h, 0]) * inv_w
            uy = (c[f + 1, 1] - c[f - h, 1]) * inv_w
            uz = (c[f + 1, 2] - c[f - h, 2]) * inv_w
            vx = (c[f + h + 1, 0] - c[f, 0]) * inv_w
            vy = (c[f + h + 1, 1] - c[f, 1]) * inv_w
            vz = (c[f + h + 1, 2] - c[f, 2]) * inv_w
            var_u = (c[f + 1, 3] - c[f - h, 3]) * inv_w - (ux * ux + uy * uy + uz * uz)
            var_v = (c[f + h + 1, 3] - c[f, 3]) * inv_w - (vx * vx + vy * vy + vz * vz)
            # rounding can make a tiny variance negative: it is >= 0 exactly
            var_u = max(var_u, 0.0)
            var_v = max(var_v, 0.0)
            d2 = (ux - vx) ** 2 + (uy - vy) ** 2 + (uz - vz) ** 2
            # <(r - <r>_V)^2>_U = var_U + |<r>_U - <r>_V|^2, and the same with U, V swapped
            out[i, f] = np.sqrt((var_u + d2) * (var_v + d2))
    return out.T


def p_hop(positions, times, window=15.0):
    """Candelier's cage-jump indicator p_hop(i, t) (Eq. 2, units sigma^2), prefix sums.

    p_hop(i, t) = sqrt( <(r_i - <r_i>_V)^2>_U  <(r_i - <r_i>_U)^2>_V ),
    U = [t - window/2, t], V = [t, t + window/2] (both include frame t).

    Parameters
    ----------
    positions : (F, N, 3) float
        Unwrapped positions (sigma) on uniformly spaced frames.
    times : (F,) float
        Frame times (tau).
    window : float
        Full window Dt (tau); each half spans h = round(Dt / 2 / dt) frame gaps, so the
        window actually used is 2 h dt (equal to Dt when Dt / 2 is a multiple of dt;
        see :func:`half_window_frames`).

    Returns
    -------
    (F, N) float64, NaN at the first and last h frames where the window does not fit.
    Stored particle-major (column ``[:, i]`` is contiguous).
    """
    pos = as_positions(positions, frames=True)
    if np.asarray(times).shape != (pos.shape[0],):
        raise ValueError(f"times has shape {np.shape(times)} but positions hold {pos.shape[0]} frames")
    h = half_window_frames(times, window)
    return _p_hop_kernel(pos, h)


def p_hop_direct(positions, times, window=15.0):
    """Direct window version of :func:`p_hop` (numpy, O(frames x window x particles)); tests and benchmarks."""
    pos = as_positions(positions, frames=True)
    h = half_window_frames(times, window)
    F, N, _ = pos.shape
    out = np.full((F, N), np.nan)
    for f in range(h, F - h):
        U = pos[f - h:f + 1]
        V = pos[f:f + h + 1]
        mu, mv = U.mean(axis=0), V.mean(axis=0)
        a = ((U - mv) ** 2).sum(axis=-1).mean(axis=0)
        b = ((V - mu) ** 2).sum(axis=-1).mean(axis=0)
        out[f] = np.sqrt(a * b)
    return out


def rearrangement_events(p, p_c):
    """Maximal runs of consecutive frames with p_hop > p_c, for every particle.

    Parameters
    ----------
    p : (F, N) float
        p_hop (NaN where undefined; NaN never counts as above).
    p_c : float
        Threshold (sigma^2).

    Returns
    -------
    dict of (E,) arrays: ``particle``, ``first`` and ``last`` (frame indices, inclusive),
    ``peak`` (largest p_hop in the run) and ``peak_frame``; ordered by particle, then frame.
    """
    p = np.asarray(p, dtype=float)
    if p.ndim != 2:
        raise ValueError(f"p_hop must have shape (F, N), got {p.shape}")
    if not np.isfinite(p_c):
        raise ValueError(f"p_c must be a finite threshold, got {p_c}")
    F, N = p.shape
    # one row per particle, a False column after each row so that runs never join across particles
    above = np.zeros((N, F + 1), dtype=bool)
    with np.errstate(invalid="ignore"):
        above[:, :F] = (p > p_c).T
    flat = above.ravel()
    edges = np.diff(np.r_[False, flat].astype(np.int8))
    starts = np.flatnonzero(edges == 1)
    ends = np.flatnonzero(edges == -1)  # one past the last frame of each run
    vals = np.full((N, F + 1), -np.inf)
    vals[:, :F] = np.where(np.isfinite(p), p, -np.inf).T
    vals = vals.ravel()
    if starts.size:
        peak = np.maximum.reduceat(vals, np.c_[starts, ends].ravel())[::2]
        offs = [int(np.argmax(vals[s:e])) for s, e in zip(starts, ends)]
    else:
        peak, offs = np.zeros(0), []
    row = F + 1
    return {
        "particle": (starts // row).astype(np.int64),
        "first": (starts % row).astype(np.int64),
        "last": (ends - 1) % row,
        "peak": peak,
        "peak_frame": (starts % row + np.asarray(offs, dtype=np.int64)).astype(np.int64),
    }
