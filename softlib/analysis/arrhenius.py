"""Arrhenius analysis of the rearrangement probability P_R(S) (METHODS 7).

For every softness bin S (bins shared by all temperatures), ln P_R(S) is fitted against 1/T
with a weighted straight line, ln P_R(S) = ln P0(S) - Delta E(S) / T
(:func:`fit_arrhenius`, :func:`weighted_line`); the lines of the different bins cross near a
common point, the crossing temperature, found by least squares (:func:`crossing_point`) with a
bootstrap interval. :func:`collapse` gives the points of P_R / P0 against Delta E / T and
:func:`barrier_trend` the fits of Delta E against S and 1/S.

Inputs are the per-particle count tables (n_all, n_rearr) of
:func:`softlib.analysis.rearrangements.rearrangement_table`, one per temperature: the P_R errors
and the crossing interval come from a bootstrap over particles (their frames resampled
together), floored by the binomial error of the counts. Bins that are empty, too thin or
without a rearranging particle-frame at some temperature are excluded and listed with the
reason.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np

from .rearrangements import _bootstrap_pr


# --------------------------------------------------------------------------- Arrhenius fits
def weighted_line(x, y, sigma):
    """Weighted least squares y = a + b x.

    Returns ``(a, b, cov (2, 2), chi2, dof)``; cov is the unscaled inverse normal matrix.
    """
    x, y, s = (np.asarray(v, dtype=float) for v in (x, y, sigma))
    if x.size < 2 or np.ptp(x) == 0:
        raise ValueError(f"a line needs at least 2 distinct x values, got {x.size}")
    if np.any(~(s > 0)):
        raise ValueError("every point needs a positive, finite error")
    w = 1.0 / s**2
    A = np.c_[np.ones_like(x), x]
    cov = np.linalg.inv(A.T @ (A * w[:, None]))
    a, b = cov @ (A.T @ (w * y))
    chi2 = float(np.sum(w * (y - a - b * x) ** 2))
    return float(a), float(b), cov, chi2, x.size - 2


def crossing_point(intercepts, slopes):
    """Least-squares common point (x*, y*) of the lines y = a_k + b_k x.

    Minimises sum_k (a_k + b_k x - y)^2 (vertical distances, every line weighted
    equally): x* = -cov(a, b) / var(b), y* = mean(a) + mean(b) x*.
    """
    a = np.asarray(intercepts, dtype=float)
    b = np.asarray(slopes, dtype=float)
    if a.size < 2:
        raise ValueError("a crossing needs at least 2 lines")
    vb = np.sum((b - b.mean()) ** 2)
    if vb == 0:
        raise ValueError("all lines are parallel: they have no crossing point")
    x = -np.sum((b - b.mean()) * (a - a.mean())) / vb
    return float(x), float(a.mean() + b.mean() * x)


@dataclass
class ArrheniusFit:
    """Per-bin Arrhenius fits ln P_R = ln P0 - Delta E / T and their crossing (METHODS 7).

    Arrays over bins have one entry per bin of ``edges``; excluded bins hold NaN and
    are listed with the reason in ``excluded``.
    """

    temperatures: np.ndarray          # (nT,) used in the fit
    edges: np.ndarray                 # (nb + 1,)
    p_r: np.ndarray                   # (nT, nb)
    p_r_err: np.ndarray               # (nT, nb) bootstrap over particles
    n_all: np.ndarray                 # (nT, nb) particle-frames
    n_rearr: np.ndarray               # (nT, nb)
    kept: np.ndarray                  # (nb,) bool
    excluded: list                    # [{bin, center, reason}]
    delta_e: np.ndarray               # (nb,)
    delta_e_err: np.ndarray
    ln_p0: np.ndarray
    ln_p0_err: np.ndarray
    chi2_dof: np.ndarray              # NaN when dof = 0 (two temperatures)
    dof: int
    crossing: dict = field(default_factory=dict)

    @property
    def centers(self):
        return 0.5 * (self.edges[1:] + self.edges[:-1])


def _check_tables(temperatures, tables, edges):
    T = np.asarray(temperatures, dtype=float)
    if T.ndim != 1 or len(tables) != T.size:
        raise ValueError(f"give one (n_all, n_rearr) table per temperature: {T.size} T, {len(tables)} tables")
    nb = len(edges) - 1
    for t, (a, r) in zip(T, tables):
        if np.shape(a) != np.shape(r) or np.ndim(a) != 2 or np.shape(a)[1] != nb:
            raise ValueError(f"T = {t}: tables must be (N_A, {nb}) per-particle counts on the shared bins")
        if np.any(np.asarray(r) > np.asarray(a)):
            raise ValueError(f"T = {t}: more rearranging than total particle-frames in some bin")
    return T


def fit_arrhenius(temperatures, tables, edges, t_max=None, min_frames=20, n_boot=200, seed=0,
                  interval=0.95):
    """Per-bin weighted fits of ln P_R(S) against 1/T and the least-squares crossing.

    Parameters
    ----------
    temperatures : (nT,) float
    tables : list of (n_all, n_rearr)
        Per-particle counts per temperature (:func:`rearrangement_table`), (N_A, nb) each.
    edges : (nb + 1,) float
        The shared softness bins.
    t_max : float, optional
        Use only temperatures <= t_max (e.g. 0.60, where p_hop is selective).
    min_frames : int
        A bin needs at least this many particle-frames at every temperature.
    n_boot : int
        Bootstrap replicates over particles (for P_R errors and the crossing interval).
    interval : float
        Central probability of the crossing interval.

    Returns
    -------
    ArrheniusFit. Bins that are empty, too thin, or without any rearranging
    particle-frame at some temperature are excluded and listed with the reason.
    """
    edges = np.asarray(edges, dtype=float)
    T = _check_tables(temperatures, tables, edges)
    use = np.ones(T.size, bool) if t_max is None else T <= t_max + 1e-9
    if use.sum() < 2:
        raise ValueError(
            f"an Arrhenius fit needs at least 2 temperatures; {int(use.sum())} "
            f"{'is' if use.sum() == 1 else 'are'} <= t_max = {t_max} among {T.tolist()}: "
            "add temperatures or raise t_max"
        )
    T = T[use]
    tables = [(np.asarray(a), np.asarray(r)) for (a, r), u in zip(tables, use) if u]
    n_all = np.array([a.sum(0) for a, _ in tables], dtype=float)
    n_r = np.array([r.sum(0) for _, r in tables], dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = n_r / n_all
    rng = np.random.default_rng(seed)
    boot = _bootstrap_pr(tables, n_boot, rng)
    kept, excluded = _select_bins(T, edges, n_all, n_r, min_frames)
    # error of P_R: bootstrap spread, floored by the binomial error of the counts
    pc = np.clip(p, 1.0 / (n_all + 1), n_all / (n_all + 1))
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # empty bins: NaN, excluded just below
        p_err = np.maximum(np.nanstd(boot, axis=0, ddof=1), np.sqrt(pc * (1 - pc) / n_all))
    nb = edges.size - 1
    res = {k: np.full(nb, np.nan) for k in ("de", "de_err", "lp0", "lp0_err", "chi2")}
    x = 1.0 / T
    for k in np.flatnonzero(kept):
        a, b, cov, chi2, dof = weighted_line(x, np.log(p[:, k]), p_err[:, k] / p[:, k])
        # inflate the errors by the Birge ratio when the points scatter more than their errors
        scale = np.sqrt(max(1.0, chi2 / dof)) if dof > 0 else 1.0
        res["de"][k], res["lp0"][k] = -b, a
        res["de_err"][k], res["lp0_err"][k] = scale * np.sqrt(cov[1, 1]), scale * np.sqrt(cov[0, 0])
        res["chi2"][k] = chi2 / dof if dof > 0 else np.nan
    fit = ArrheniusFit(T, edges, p, p_err, n_all, n_r, kept, excluded, res["de"], res["de_err"],
                       res["lp0"], res["lp0_err"], res["chi2"], T.size - 2)
    fit.crossing = _crossing_with_interval(fit, boot, interval)
    return fit


def _select_bins(T, edges, n_all, n_r, min_frames):
    c = 0.5 * (edges[1:] + edges[:-1])
    kept = np.ones(c.size, bool)
    excluded = []
    for k in range(c.size):
        reasons = []
        for i, t in enumerate(T):
            if n_all[i, k] < min_frames:
                reasons.append(f"only {int(n_all[i, k])} particle-frames at T = {t:g} (< {min_frames})")
            elif n_r[i, k] == 0:
                reasons.append(f"no rearranging particle-frame at T = {t:g} (ln P_R undefined)")
        if reasons:
            kept[k] = False
            excluded.append({"bin": k, "center": float(c[k]), "reason": "; ".join(reasons)})
    if kept.sum() < 2:
        raise ValueError(
            f"only {int(kept.sum())} softness bin(s) are populated at every temperature "
            f"(excluded: {excluded}): use fewer, wider bins or longer runs"
        )
    return kept, excluded


def _crossing_with_interval(fit, boot, interval):
    k = np.flatnonzero(fit.kept)
    x_c, y_c = crossing_point(fit.ln_p0[k], -fit.delta_e[k])
    x = 1.0 / fit.temperatures
    sig = fit.p_r_err[:, k] / fit.p_r[:, k]
    xs = []
    n_failed = 0
    for pb in boot[:, :, k]:
        if not np.all(pb > 0):
            n_failed += 1  # a kept bin lost all its rearranging frames in this replicate
            continue
        lines = [weighted_line(x, np.log(pb[:, j]), sig[:, j])[:2] for j in range(k.size)]
        a, b = np.array(lines).T
        try:
            xs.append(crossing_point(a, b)[0])
        except ValueError:
            n_failed += 1
    xs = np.asarray(xs)
    q = 0.5 * (1.0 - interval)
    lo_x, hi_x = (np.quantile(xs, [q, 1 - q]) if xs.size >= 10 else (np.nan, np.nan))
    inv = lambda v: 1.0 / v if v > 0 else np.inf  # noqa: E731 - 1/T -> T, no crossing at T > 0
    return {"T": inv(x_c), "inv_T": x_c, "ln_p": y_c,
            "low": inv(hi_x) if np.isfinite(hi_x) else np.nan,
            "high": inv(lo_x) if np.isfinite(lo_x) else np.nan,
            "interval": interval, "n_boot": int(boot.shape[0]), "n_failed": n_failed,
            "bins": k.tolist()}


def collapse(fit):
    """Points of the collapse P_R / P0 against Delta E / T: (x, y) arrays (nT, n_kept)."""
    k = np.flatnonzero(fit.kept)
    x = fit.delta_e[k][None, :] / fit.temperatures[:, None]
    y = fit.p_r[:, k] / np.exp(fit.ln_p0[k])[None, :]
    return x, y


def barrier_trend(fit):
    """Weighted linear fits of Delta E against S and against 1/S over the kept bins.

    Returns dict with, for 'S' and 'inv_S': intercept, slope, their errors and R^2.
    """
    k = np.flatnonzero(fit.kept)
    s = fit.centers[k]
    out = {}
    for name, xv in (("S", s), ("inv_S", 1.0 / s)):
        a, b, cov, chi2, dof = weighted_line(xv, fit.delta_e[k], fit.delta_e_err[k])
        y = fit.delta_e[k]
        r2 = 1.0 - np.sum((y - a - b * xv) ** 2) / np.sum((y - y.mean()) ** 2)
        out[name] = {"intercept": a, "slope": b, "intercept_err": float(np.sqrt(cov[0, 0])),
                     "slope_err": float(np.sqrt(cov[1, 1])), "r2": float(r2)}
    return out
