"""Is a run equilibrated? The three checks of METHODS 1, each returning numbers with errors.

1. Length: equilibration and production lengths in units of the measured tau_alpha.
2. Stationarity: linear drift of the potential energy over production, judged against the
   scatter of block averages (blocks longer than tau_alpha are nearly independent).
3. Two halves: tau_alpha and the MSD of A particles from the first and second half of production
   agree within their noise.
"""
from __future__ import annotations

import warnings

import numpy as np
from scipy import stats


def block_averages(x, n_blocks):
    """Means of ``n_blocks`` consecutive equal blocks of ``x`` (the tail that does not fit is dropped)."""
    x = np.asarray(x, dtype=float)
    if n_blocks < 2 or x.size < 2 * n_blocks:
        raise ValueError(f"need at least 2 samples per block and 2 blocks, got {x.size} samples "
                         f"for {n_blocks} blocks")
    m = x.size // n_blocks
    return x[: m * n_blocks].reshape(n_blocks, m).mean(axis=1)


def energy_drift(time, energy, n_blocks=10):
    """Linear drift of ``energy`` over ``time`` measured on block averages.

    Returns
    -------
    dict
        ``slope`` and ``slope_err`` (energy per tau, from a least-squares line through the block
        means), ``total`` = slope x duration, ``block_std`` (scatter of block means),
        ``z`` = |total| / total_err (the drift in units of its own standard error), ``drifting`` =
        z beyond the two-sided 99.73 % Student-t quantile for n_blocks - 2 degrees of freedom
        (the 3-sigma coverage, corrected for an error estimated from few blocks).
    """
    t = block_averages(time, n_blocks)
    e = block_averages(energy, n_blocks)
    fit = stats.linregress(t, e)
    duration = float(np.ptp(time))
    total = fit.slope * duration
    total_err = fit.stderr * duration
    z = abs(total) / total_err if total_err > 0 else np.inf
    z_max = float(stats.t.ppf(0.99865, n_blocks - 2))
    return {"slope": float(fit.slope), "slope_err": float(fit.stderr), "total": float(total),
            "total_err": float(total_err), "block_std": float(e.std(ddof=1)), "z": float(z),
            "z_max": z_max, "drifting": bool(z > z_max), "n_blocks": int(n_blocks)}


def compare(a, a_err, b, b_err, n_sigma=3.0, dof=None):
    """Do two measurements agree within their combined standard error?

    With ``dof`` (degrees of freedom of the error estimates, e.g. 2 (n - 1) for two means of n
    sub-blocks each) the threshold is the two-sided Student-t quantile with the same coverage as
    ``n_sigma`` for a normal variable (99.73 % for 3): errors estimated from a handful of blocks are
    themselves uncertain, and a normal cut would reject equilibrated runs far too often.
    """
    diff = abs(a - b)
    err = float(np.hypot(a_err, b_err))
    coverage = stats.norm.cdf(n_sigma) - stats.norm.cdf(-n_sigma)
    k = n_sigma if dof is None else float(stats.t.ppf(0.5 + coverage / 2, dof))
    return {"difference": float(diff), "error": err, "threshold_sigma": k,
            "agree": bool(diff <= k * err)}


def _relaxation(times, positions, species, lags_max, origin_every):
    """F_s(q = 7.25) and MSD of A on a linear frame grid; returns (t, fs, msd)."""
    from . import dynamics

    dt = float(np.median(np.diff(times)))
    nlag = max(3, min(len(times) - 1, int(lags_max / dt)))
    # log-spaced lags (in frames) keep the cost low and resolve both short and long times
    lags = np.unique(np.round(np.geomspace(1, nlag, 60)).astype(np.int64))
    m = dynamics.displacement_moments(positions, times, species, select=0, schedule="linear",
                                      origin_every=origin_every, lags=lags)
    return m.times, m.fs, m.msd


def _tau_or_nan(t, fs):
    """tau_alpha, or NaN (quietly) where F_s does not cross 1/e inside the window."""
    from . import dynamics

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return dynamics.tau_alpha(t, fs, missing="nan")


def halves(times, positions, species, tau_estimate, n_sub=4):
    """tau_alpha and MSD_A(tau_alpha) from the first and the second half of a production run.

    Each half is cut into ``n_sub`` sub-blocks; the spread of the sub-block values gives the
    standard error used to judge whether the halves agree.

    Parameters
    ----------
    times : (F,) float
        Uniformly spaced frame times (dense linear frames).
    positions : (F, N, 3) float
        Unwrapped positions.
    species : (N,) int
    tau_estimate : float
        tau_alpha of the whole run, sets the lag range (3 tau) and the origin spacing.

    Returns
    -------
    dict with per half ``tau``, ``tau_err``, ``msd_tau``, ``msd_tau_err`` and the comparison;
    ``poor_statistics`` is True when a sub-block is shorter than 3 tau_alpha.
    """
    F = len(times)
    dt = float(np.median(np.diff(times)))
    origin_every = max(1, int(tau_estimate / (4 * dt)))
    out = {}
    sub_len = (times[-1] - times[0]) / (2 * n_sub)
    for name, sl in (("first", slice(0, F // 2)), ("second", slice(F // 2, F))):
        t_h, p_h = times[sl], positions[sl]
        taus, msds = [], []
        for block in np.array_split(np.arange(len(t_h)), n_sub):
            t, fs, msd = _relaxation(t_h[block], p_h[block], species, 3 * tau_estimate, origin_every)
            tau = _tau_or_nan(t, fs)
            taus.append(tau)
            msds.append(float(np.exp(np.interp(np.log(tau_estimate), np.log(t), np.log(msd)))))
        taus, msds = np.array(taus), np.array(msds)
        ok = np.isfinite(taus)
        out[name] = {
            "tau": float(np.mean(taus[ok])) if ok.any() else float("nan"),
            "tau_err": float(np.std(taus[ok], ddof=1) / np.sqrt(ok.sum())) if ok.sum() > 1 else float("nan"),
            "msd_tau": float(msds.mean()),
            "msd_tau_err": float(msds.std(ddof=1) / np.sqrt(len(msds))),
            "n_sub_blocks_with_tau": int(ok.sum()),
        }
    a, b = out["first"], out["second"]
    dof_tau = a["n_sub_blocks_with_tau"] + b["n_sub_blocks_with_tau"] - 2
    out["tau_compare"] = compare(a["tau"], a["tau_err"], b["tau"], b["tau_err"], dof=max(dof_tau, 1))
    out["msd_compare"] = compare(a["msd_tau"], a["msd_tau_err"], b["msd_tau"], b["msd_tau_err"],
                                 dof=2 * (n_sub - 1))
    out["poor_statistics"] = bool(sub_len < 3 * tau_estimate)
    out["sub_block_length"] = float(sub_len)
    return out


def tau_alpha_from_log(times, positions, species, block):
    """F_s(q = 7.25, t) of A on the log-spaced block schedule and its 1/e time (NaN if not reached)."""
    from . import dynamics

    t, fs = dynamics.self_intermediate_scattering(positions, times, species, select=0,
                                                  schedule="log", block=block)
    keep = t > 0
    return t[keep], fs[keep], _tau_or_nan(t[keep], fs[keep])
