"""Softness and rearrangements: P(S), P(S|R), P_R(S) and the fraction above the peak.

Inputs per temperature are plain arrays, so the module does not care where they come from:

* ``softness``: (F, N_A) local softness of the A particles on some frames (NaN where
  the denominator of Eq. 7 was non-positive: such particle-frames are excluded and
  counted by the caller, never silently used);
* ``p_hop``: (F, N_A) on the same frames (NaN where the window does not fit);
* ``p_c``: the threshold of that temperature.

Errors come from a bootstrap over particles (a particle's frames are strongly
correlated, so they are resampled together): every statistic below is a sum over
particles of per-particle counts, and a bootstrap replicate just reweights those
counts with multinomial weights.
"""
from __future__ import annotations

import warnings

import numpy as np
from scipy.ndimage import gaussian_filter1d

from .dynamics import half_window_frames, p_hop, rearrangement_events


# --------------------------------------------------------------------------- frames and events
def match_frames(times_sub, times_all, what="softness"):
    """Index into ``times_all`` of every time in ``times_sub`` (which must all be there)."""
    ts = np.asarray(times_sub, dtype=float)
    ta = np.asarray(times_all, dtype=float)
    k = np.clip(np.searchsorted(ta, ts), 1, ta.size - 1)
    k = np.where(np.abs(ta[k - 1] - ts) < np.abs(ta[k] - ts), k - 1, k)
    tol = 1e-6 * max(1.0, float(np.max(np.abs(ta))))
    bad = np.flatnonzero(np.abs(ta[k] - ts) > tol)
    if bad.size:
        raise ValueError(
            f"{what} frame at t = {ts[bad[0]]:.6g} is not a frame of the p_hop trajectory: compute "
            "the softness on the frames of linear.gsd (any stride) so that both share times"
        )
    return k


def event_softness(events, phop_times, soft_times, softness, lag=0.0, first_valid=None):
    """Softness at the start of each rearrangement event (the input of P(S|R)).

    Parameters
    ----------
    events : dict
        From :func:`softlib.analysis.dynamics.rearrangement_events` on p_hop of the A particles
        (``particle`` indexes the columns of ``softness``).
    phop_times : (F,) float
        Times of the p_hop frames.
    soft_times : (F_s,) float
        Times of the softness frames (a subset of ``phop_times``).
    softness : (F_s, N_A) float
    lag : float
        Take the softness this long (tau) before the event's first frame; the latest
        softness frame at or before that time is used.
    first_valid : int, optional
        First frame where p_hop is defined (h). Events starting there began before the
        window could see them (left-censored): they are dropped.

    Returns
    -------
    values : (E,) float
        Softness, finite values only.
    particle : (E,) int
        Column of each value.
    dropped : dict
        Counts of events dropped, by reason.
    """
    first = np.asarray(events["first"])
    part = np.asarray(events["particle"])
    keep = np.ones(first.size, dtype=bool)
    dropped = {"left_censored": 0, "before_first_softness_frame": 0, "nan_softness": 0}
    if first_valid is not None:
        cens = first <= first_valid
        dropped["left_censored"] = int(cens.sum())
        keep &= ~cens
    t_want = np.asarray(phop_times)[first] - lag
    k = np.searchsorted(np.asarray(soft_times), t_want + 1e-9, side="right") - 1
    early = keep & (k < 0)
    dropped["before_first_softness_frame"] = int(early.sum())
    keep &= k >= 0
    vals = np.full(first.size, np.nan)
    vals[keep] = np.asarray(softness)[k[keep], part[keep]]
    nan = keep & ~np.isfinite(vals)
    dropped["nan_softness"] = int(nan.sum())
    keep &= np.isfinite(vals)
    return vals[keep], part[keep], dropped


# --------------------------------------------------------------------------- bins and counts
def shared_bins(softness_by_T, n_bins=10, quantiles=(0.01, 0.99), max_values=2_000_000):
    """Softness bin edges shared by all temperatures.

    The range is the intersection over temperatures of the [q_lo, q_hi] quantile
    ranges, so every bin holds particle-frames at every temperature.

    Parameters
    ----------
    softness_by_T : sequence of arrays
        Softness values per temperature (any shape; NaN ignored).
    n_bins : int
    quantiles : (float, float)
    max_values : int
        Quantiles are taken on at most about this many values per temperature (a
        regular stride through the array), to bound memory for long runs.

    Returns
    -------
    (n_bins + 1,) float edges.
    """
    lo, hi = -np.inf, np.inf
    for s in softness_by_T:
        v = np.asarray(s).ravel()
        v = np.asarray(v[:: max(1, v.size // int(max_values))], dtype=float)
        v = v[np.isfinite(v)]
        if v.size == 0:
            raise ValueError("a temperature has no finite softness values: check its softness file")
        a, b = np.quantile(v, quantiles)
        lo, hi = max(lo, a), min(hi, b)
    if not hi > lo:
        raise ValueError(
            f"the softness ranges of the temperatures do not overlap (common range [{lo:.4g}, {hi:.4g}]): "
            "widen `quantiles` or drop the temperature that does not overlap"
        )
    return np.linspace(lo, hi, int(n_bins) + 1)


def particle_bin_counts(softness, mask, edges):
    """Per-particle counts of particle-frames with ``mask`` true, in each softness bin.

    Parameters
    ----------
    softness : (F, N_A) float
    mask : (F, N_A) bool
        Which particle-frames to count (NaN softness never counts).
    edges : (nb + 1,) float

    Returns
    -------
    (N_A, nb) int64.
    """
    s = np.asarray(softness, dtype=float)
    m = np.asarray(mask, dtype=bool) & np.isfinite(s)
    if s.ndim != 2 or m.shape != s.shape:
        raise ValueError(f"softness and mask must both be (F, N_A), got {s.shape} and {np.shape(mask)}")
    nb = len(edges) - 1
    b = np.searchsorted(edges, s, side="right") - 1
    m &= (b >= 0) & (b < nb)
    col = np.broadcast_to(np.arange(s.shape[1]), s.shape)
    flat = col[m] * nb + b[m]
    return np.bincount(flat, minlength=s.shape[1] * nb).reshape(s.shape[1], nb).astype(np.int64)


def rearrangement_table(softness, p_hop, p_c, edges):
    """Per-particle counts behind P_R(S): (n_all, n_rearr), each (N_A, nb).

    n_all counts particle-frames with finite softness and finite p_hop in each bin,
    n_rearr those of them with p_hop > p_c.
    """
    p = np.asarray(p_hop, dtype=float)
    if p.shape != np.shape(softness):
        raise ValueError(f"p_hop {p.shape} and softness {np.shape(softness)} must be on the same frames")
    valid = np.isfinite(p)
    with np.errstate(invalid="ignore"):
        rearr = valid & (p > p_c)
    return particle_bin_counts(softness, valid, edges), particle_bin_counts(softness, rearr, edges)


def softness_density(values, edges):
    """Histogram density of the finite ``values`` on ``edges``, normalised by ALL finite values."""
    v = np.asarray(values, dtype=float).ravel()
    v = v[np.isfinite(v)]
    if v.size == 0:
        raise ValueError("no finite softness values to histogram")
    counts, _ = np.histogram(v, bins=edges)
    return counts / (v.size * np.diff(edges))


def _bootstrap_pr(tables, n_boot, rng):
    """(n_boot, nT, nb) P_R replicates: particles resampled independently at every T."""
    out = []
    for n_all, n_r in tables:
        n = n_all.shape[0]
        W = rng.multinomial(n, np.full(n, 1.0 / n), size=n_boot).astype(float)
        with np.errstate(invalid="ignore", divide="ignore"):
            out.append((W @ n_r) / (W @ n_all))
    return np.stack(out, axis=1)



def rearrangement_probability(n_all, n_rearr, n_boot=200, seed=0):
    """P_R per bin from per-particle counts, with its bootstrap error over particles.

    Parameters
    ----------
    n_all, n_rearr : (N_A, nb) int
        From :func:`rearrangement_table`.

    Returns
    -------
    p : (nb,) float
        P_R (NaN in a bin without particle-frames).
    err : (nb,) float
        Bootstrap standard deviation, floored by the binomial error of the counts.
    """
    n_all = np.asarray(n_all)
    n_rearr = np.asarray(n_rearr)
    tot = n_all.sum(0).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # empty bins stay NaN
        p = n_rearr.sum(0) / tot
        boot = _bootstrap_pr([(n_all, n_rearr)], n_boot, np.random.default_rng(seed))[:, 0]
        pc = np.clip(p, 1.0 / (tot + 1), tot / (tot + 1))
        err = np.maximum(np.nanstd(boot, axis=0, ddof=1), np.sqrt(pc * (1 - pc) / tot))
    return p, err


# --------------------------------------------------------------------------- fraction above the peak
def _mode_from_hist(h, edges, sigma_bins):
    """Mode of a fine histogram after Gaussian smoothing, refined by a parabola through the top bins."""
    hs = gaussian_filter1d(h.astype(float), sigma_bins, mode="constant")
    k = int(np.argmax(hs))
    c = 0.5 * (edges[1:] + edges[:-1])
    if 0 < k < h.size - 1:
        y0, y1, y2 = hs[k - 1], hs[k], hs[k + 1]
        den = y0 - 2 * y1 + y2
        off = 0.5 * (y0 - y2) / den if den < 0 else 0.0
        return float(c[k] + off * (edges[1] - edges[0]))
    return float(c[k])


def _fraction_above_hist(h, edges, threshold):
    """Fraction of a histogram above ``threshold``, linear inside the bin that holds it."""
    tot = h.sum()
    if tot == 0:
        return np.nan
    k = np.clip(np.searchsorted(edges, threshold, side="right") - 1, 0, h.size - 1)
    part = np.clip((edges[k + 1] - threshold) / (edges[k + 1] - edges[k]), 0.0, 1.0)
    return float((h[k + 1:].sum() + part * h[k]) / tot)


def _median_hist(h, edges):
    cdf = np.r_[0.0, np.cumsum(h)] / h.sum()
    return float(np.interp(0.5, cdf, edges))


def fraction_analysis(softness, ev_values, ev_particle, n_fine=400, bandwidth=None, n_boot=200, seed=0):
    """Fractions of P(S|R) above the mode and the median of P(S), with the baseline.

    Parameters
    ----------
    softness : (F, N_A) float
        Softness of all A particle-frames (NaN excluded).
    ev_values, ev_particle : (E,)
        Softness at event starts and the particle column of each (:func:`event_softness`).
    n_fine : int
        Bins of the fine histogram used for the mode and the bootstrap.
    bandwidth : float, optional
        Gaussian smoothing of P(S) before taking its mode (softness units). Default:
        Silverman's rule with the number of particles as sample size (frames of one
        particle are strongly correlated, so they do not count as independent).
    n_boot : int
        Bootstrap replicates over particles.

    Returns
    -------
    dict with ``peak``, ``median`` and, each as {value, error}: ``fraction_above_peak``
    (events), ``baseline_above_peak`` (all particle-frames), ``fraction_above_median``
    (events; the baseline is 1/2 by definition), plus ``n_events``, ``n_frames``, ``bandwidth``.
    """
    s = np.asarray(softness, dtype=float)
    ev_values = np.asarray(ev_values, dtype=float)
    ev_particle = np.asarray(ev_particle, dtype=np.int64)
    if ev_values.size == 0:
        raise ValueError("there are no rearrangement events: lower p_c, lengthen the run or check p_hop")
    fin = s[np.isfinite(s)]
    n_a = s.shape[1]
    if bandwidth is None:
        iqr = np.subtract(*np.quantile(fin, [0.75, 0.25]))
        bandwidth = 0.9 * min(fin.std(), iqr / 1.34) * n_a ** -0.2
    lo, hi = np.quantile(fin, [0.001, 0.999])
    lo, hi = min(lo, ev_values.min()), max(hi, ev_values.max())
    edges = np.linspace(lo, hi + 1e-12 * abs(hi), n_fine + 1)
    H = particle_bin_counts(s, np.ones(s.shape, bool), edges).astype(float)
    E = np.zeros((n_a, n_fine))
    eb = np.clip(np.searchsorted(edges, ev_values, side="right") - 1, 0, n_fine - 1)
    np.add.at(E, (ev_particle, eb), 1.0)
    sig = bandwidth / (edges[1] - edges[0])
    peak = _mode_from_hist(H.sum(0), edges, sig)
    median = float(np.median(fin))
    central = (np.mean(ev_values > peak), np.mean(fin > peak), np.mean(ev_values > median))
    rng = np.random.default_rng(seed)
    boot = np.empty((n_boot, 3))
    for b in range(n_boot):
        w = rng.multinomial(n_a, np.full(n_a, 1.0 / n_a)).astype(float)
        h, e = w @ H, w @ E
        pk = _mode_from_hist(h, edges, sig)
        boot[b] = (_fraction_above_hist(e, edges, pk), _fraction_above_hist(h, edges, pk),
                   _fraction_above_hist(e, edges, _median_hist(h, edges)))
    err = np.nanstd(boot, axis=0, ddof=1)
    out = {"peak": peak, "median": median, "bandwidth": float(bandwidth),
           "n_events": int(ev_values.size), "n_frames": int(fin.size)}
    for k, name in enumerate(("fraction_above_peak", "baseline_above_peak", "fraction_above_median")):
        out[name] = {"value": float(central[k]), "error": float(err[k])}
    return out


# --------------------------------------------------------------------------- one run
def rearrangement_data(times, positions_a, soft_times, softness, p_c, window=15.0, lag=0.0):
    """p_hop of the A particles, their events and the softness at event starts, for one run.

    Parameters
    ----------
    times : (F,) float
        Times of the dense linear frames.
    positions_a : (F, N_A, 3) float
        Unwrapped positions of the A particles, columns in the order of ``softness``.
    soft_times : (F_s,) float
        Times of the softness frames (a subset of ``times``).
    softness : (F_s, N_A) float
    p_c : float
        Threshold (sigma^2).
    window : float
        Dt of p_hop (tau).
    lag : float
        Softness taken this long before an event's first frame (tau).

    Returns
    -------
    dict: ``p_hop`` (F, N_A), ``h`` (frames per half-window), ``frames`` (index of each
    softness frame in ``times``), ``p_hop_s`` (F_s, N_A) p_hop on the softness frames,
    ``events`` (:func:`softlib.analysis.dynamics.rearrangement_events`), ``ev_values``, ``ev_particle``,
    ``dropped`` (events without a usable softness, by reason).
    """

    s = np.asarray(softness)
    if np.shape(positions_a)[1] != s.shape[1]:
        raise ValueError(f"positions hold {np.shape(positions_a)[1]} particles, softness {s.shape[1]}: "
                         "pass the A particles (softness['a_index']) in the same order")
    h = half_window_frames(times, window)
    ph = p_hop(positions_a, times, window)
    frames = match_frames(soft_times, times)
    events = rearrangement_events(ph, p_c)
    vals, part, dropped = event_softness(events, times, soft_times, s, lag, first_valid=h)
    return {"p_hop": ph, "h": h, "frames": frames, "p_hop_s": ph[frames], "events": events,
            "ev_values": vals, "ev_particle": part, "dropped": dropped}
