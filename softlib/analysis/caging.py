"""The mean-field caging potential, its softness, the HNC real-space depth and the calibration.

From the partial structure factors (METHODS 2, paper Eqs. 3-4)::

    beta Phi(dr) = -(1 / 2 pi^2) int q^2 dq  F(q) exp(-q^2 dr^2 / 6),
    F(q) = sum_uv C_uv(q) sqrt(x_u x_v) [S_uv(q) - delta_uv],

the depth beta Phi_q = beta Phi(0) and the softness S^av from
beta Phi(dr) - beta Phi(0) = dr^2 / (2 S^av) near dr = 0. From the rdfs with the
HNC closure (METHODS 3, Eqs. 5-6) the real-space depth of a tagged A particle::

    beta Phi_r = -(1/2) sum_v sqrt(x_A x_v) int_{r_lo,Av}^{r_hi,Av} 4 pi r^2 rho C_Av(r) g_Av(r) dr,
    C g = g (-beta U + g - 1 - ln g).

Linear fits over temperature give a0, a1 (1/S^av against beta Phi_q), b0, b1
(beta Phi_q against beta Phi_r) and c0, c1 (1/S^av against beta Phi_r, Eq. 7),
collected by :func:`calibrate` into the calibration file read by
:func:`load_calibration`.
"""
from __future__ import annotations

import os

import numpy as np
from scipy import stats

from .. import ka
from .._checks import as_temperature, check_delta, check_limits
from ..io.store import json_safe, read_json
from .structure import direct_correlation

#: default number fractions (x_A, x_B) of the KA mixture
X_KA = (ka.X_A, 1.0 - ka.X_A)
#: keys every calibration file carries (CONTEXT contract)
CALIBRATION_KEYS = ("c0", "c1", "c0_err", "c1_err", "a0", "a1", "a0_err", "a1_err",
                    "b0", "b1", "b0_err", "b1_err", "r2", "temperatures", "per_temperature",
                    "smeared", "provenance")


# --------------------------------------------------------------------------- q-space
def _fractions(x):
    x = np.asarray(x, dtype=float)
    if x.shape != (2,) or np.any(x <= 0) or abs(x.sum() - 1.0) > 1e-6:
        raise ValueError(f"x must be the two number fractions (x_A, x_B), positive, summing to 1; got {x}")
    return x


def _check_qS(q, S):
    q = np.asarray(q, dtype=float)
    S = np.asarray(S, dtype=float)
    if q.ndim != 1 or S.shape != (q.size, 2, 2):
        raise ValueError(f"need q (nq,) and S (nq, 2, 2); got {q.shape} and {S.shape}")
    if q.size < 2 or np.any(np.diff(q) <= 0) or q[0] < 0:
        raise ValueError("q must be non-negative and strictly increasing with at least two points")
    return q, S


#: the caging integrals (Eqs. 3, 4) need S(q) to well past its main peak (~7.2 / sigma_AA), where
#: C(q) (S(q) - 1) has decayed: refuse a shorter q range (1 / sigma_AA; METHODS 2 uses 40)
Q_MAX_MIN = 15.0


def _check_q_max(q):
    q_max = float(np.asarray(q, dtype=float)[-1])
    if not q_max >= Q_MAX_MIN:
        raise ValueError(
            f"S(q) reaches only q_max = {q_max:g} / sigma_AA: the caging integral needs S(q) well past its "
            f"main peak (~7.2), up to q_max >= {Q_MAX_MIN:g}; compute S(q) with q_max >= 20 (default 40)"
        )


def caging_integrand(q, S, x=X_KA):
    """F(q) = sum_uv C_uv(q) sqrt(x_u x_v) [S_uv(q) - delta_uv]  (dimensionless, shape (nq,))."""
    q, S = _check_qS(q, S)
    x = _fractions(x)
    C = direct_correlation(S)
    w = np.sqrt(np.outer(x, x))
    return np.einsum("quv,uv,quv->q", C, w, S - np.eye(2)[None])


def _q_integral(q, f):
    """int_0^q_max f dq by the trapezoid rule, with f(0) = 0 added (the integrand goes as q^2)."""
    if q[0] > 0:
        q = np.concatenate([[0.0], q])
        f = np.concatenate([np.zeros(f.shape[:-1] + (1,)), f], axis=-1)
    return np.trapezoid(f, q, axis=-1)


def caging_potential(q, S, dr, x=X_KA):
    """The caging potential beta Phi(dr) of Eq. 3.

    Parameters
    ----------
    q : (nq,) array_like
        Wave numbers (1 / sigma_AA), increasing; the integral runs from 0
        (integrand ~ q^2) to q[-1] by the trapezoid rule.
    S : (nq, 2, 2) array_like
        Partial structure factors (Ashcroft-Langreth).
    dr : float or array_like
        Displacement(s) of the tagged particle from its cage centre (sigma_AA).
    x : (2,) float
        Number fractions (x_A, x_B).

    Returns
    -------
    float or ndarray
        beta Phi(dr) in units of k_B T, shape of ``dr``.
    """
    F = caging_integrand(q, S, x)
    _check_q_max(q)
    q = np.asarray(q, dtype=float)
    dr = np.asarray(dr, dtype=float)
    gauss = np.exp(-np.multiply.outer(dr ** 2, q ** 2) / 6.0)
    out = -_q_integral(q, q ** 2 * F * gauss) / (2.0 * np.pi ** 2)
    return float(out) if out.ndim == 0 else out


def caging_depth(q, S, x=X_KA):
    """Depth beta Phi_q(0) of Eq. 4 (the potential at dr = 0), in k_B T."""
    return caging_potential(q, S, 0.0, x)


def softness_curvature(q, S, x=X_KA):
    """1 / S^av from the analytic curvature of Eq. 3 at dr = 0.

    Expanding exp(-q^2 dr^2 / 6) to first order gives
    beta Phi(dr) - beta Phi(0) = dr^2 / (2 S) with 1/S = (1 / 6 pi^2) int q^4 F(q) dq.
    Returns 1/S (sigma_AA^-2).
    """
    F = caging_integrand(q, S, x)
    _check_q_max(q)
    q = np.asarray(q, dtype=float)
    return float(_q_integral(q, q ** 4 * F) / (6.0 * np.pi ** 2))


def softness_fit(q, S, dr_fit=0.03, x=X_KA, n_points=31):
    """Average softness S^av from a harmonic fit of beta Phi(dr) on [0, dr_fit] (METHODS 2).

    Least squares of beta Phi(dr) - beta Phi(0) = dr^2 / (2 S) (a parabola
    through the origin) on ``n_points`` equally spaced dr in [0, dr_fit].

    Returns
    -------
    dict
        ``S_av`` (sigma_AA^2), ``inv_S`` = 1/S_av, ``Phi_q`` = beta Phi(0),
        ``dr`` (n_points,), ``Phi`` (n_points,) the potential on that grid,
        ``fit_window`` = dr_fit.
    """
    dr_fit = float(dr_fit)
    if not dr_fit > 0 or int(n_points) < 3:
        raise ValueError(f"need dr_fit > 0 and n_points >= 3, got {dr_fit}, {n_points}")
    dr = np.linspace(0.0, dr_fit, int(n_points))
    phi = caging_potential(q, S, dr, x)
    z = dr ** 2 / 2.0
    inv_s = float(np.dot(z, phi - phi[0]) / np.dot(z, z))
    if not inv_s > 0:
        raise ValueError(
            f"the caging potential has no minimum at dr = 0 (fitted 1/S = {inv_s:.4g}): S(q) is too "
            "noisy or q_max too small; average more frames"
        )
    return {"S_av": 1.0 / inv_s, "inv_S": inv_s, "Phi_q": float(phi[0]), "dr": dr, "Phi": phi,
            "fit_window": dr_fit}


# --------------------------------------------------------------------------- real space
def hnc_cg(g, beta_u):
    """HNC product C g = g (-beta U + g - 1 - ln g) (Eq. 6 times g), elementwise.

    Parameters
    ----------
    g : array_like
        Radial distribution function values, >= 0.
    beta_u : array_like
        beta U(r), broadcastable against ``g``; may be +inf where g = 0.

    Returns
    -------
    ndarray
        C g; exactly 0 where g = 0 (g ln g -> 0 and g beta U -> 0 where the
        particles never come), finite wherever g > 0 and beta U is finite.
    """
    g = np.asarray(g, dtype=float)
    beta_u = np.asarray(beta_u, dtype=float)
    if np.any(g < 0) or np.any(np.isnan(g)):
        raise ValueError("g must be >= 0 and not NaN: check the rdf normalisation")
    g, beta_u = np.broadcast_arrays(g, beta_u)
    pos = g > 0
    out = np.zeros(g.shape)
    gp = g[pos]
    out[pos] = gp * (-beta_u[pos] + gp - 1.0 - np.log(gp))
    return out


def _first_minimum(r, g, i_peak, width):
    """Index of the first minimum of g after i_peak, on g smoothed over ``width`` bins."""
    k = np.ones(width) / width
    gs = np.convolve(np.pad(g, width, mode="edge"), k, mode="same")[width:-width]
    below = np.flatnonzero(gs[i_peak:] < 1.0)
    if below.size == 0:
        raise ValueError("g never falls below 1 after its first peak: no first shell to integrate")
    a = i_peak + below[0]
    above = np.flatnonzero(gs[a:] > 1.0)
    b = a + above[0] if above.size else len(g) - 1
    if above.size == 0:
        raise ValueError(
            f"g does not rise above 1 again after r = {r[a]:.3f}: r_max of the rdf is too small to "
            "locate its first minimum; compute g to larger r"
        )
    return a + int(np.argmin(gs[a:b + 1])), gs


def _parabola_vertex(r, y, i):
    """Sub-bin position of an extremum at index i from a parabola through i-1, i, i+1."""
    if i <= 0 or i >= len(r) - 1:
        return float(r[i])
    y0, y1, y2 = y[i - 1], y[i], y[i + 1]
    den = y0 - 2 * y1 + y2
    if den == 0:
        return float(r[i])
    return float(r[i] + 0.5 * (y0 - y2) / den * (r[1] - r[0]))


def integration_limits(r, g, threshold=1e-3, smooth=0.05):
    """Integration limits of the real-space depth from the average partial rdfs (METHODS 3).

    Parameters
    ----------
    r : (nbins,) array_like
        Equally spaced bin centres (sigma_AA).
    g : (2, 2, nbins) array_like
        Average partial rdfs.
    threshold : float
        r_lo is where g first rises above it (linear interpolation between bins).
    smooth : float
        Width (sigma_AA) of the running mean used to find the first minimum
        through histogram noise; the minimum is then placed by a parabola.

    Returns
    -------
    dict
        {'AA': (r_lo, r_hi), 'AB': (r_lo, r_hi)}; r_hi is the first minimum of
        g after its first peak.
    """
    r = np.asarray(r, dtype=float)
    g = np.asarray(g, dtype=float)
    if r.ndim != 1 or g.shape != (2, 2, r.size):
        raise ValueError(f"need r (nbins,) and g (2, 2, nbins); got {r.shape} and {g.shape}")
    if r.size < 10 or np.any(np.abs(np.diff(r) - (r[1] - r[0])) > 1e-6 * (r[1] - r[0])):
        raise ValueError("r must be an equally spaced grid of at least 10 bins (the rdf histogram)")
    if not threshold >= 0:
        raise ValueError(f"threshold must be >= 0, got {threshold}")
    width = 2 * int(round(smooth / (2 * (r[1] - r[0])))) + 1  # odd: centred running mean
    out = {}
    for name in ("AA", "AB"):
        gv = g[0, 0] if name == "AA" else g[0, 1]
        above = np.flatnonzero(gv > threshold)
        if above.size == 0:
            raise ValueError(f"g_{name} never exceeds the threshold {threshold}: empty rdf")
        i = above[0]
        if i == 0:
            r_lo = float(r[0])
        else:  # linear interpolation of the crossing
            f = (threshold - gv[i - 1]) / (gv[i] - gv[i - 1])
            r_lo = float(r[i - 1] + f * (r[i] - r[i - 1]))
        i_min, gs = _first_minimum(r, gv, int(np.argmax(gv)), width)
        out[name] = (r_lo, _parabola_vertex(r, gs, i_min))
    return out


def _segment_integral(r, f, lo, hi):
    """int_lo^hi f dr on the grid r by the trapezoid rule, ends linearly interpolated."""
    if lo < r[0] - 1e-12 or hi > r[-1] + 1e-12:
        raise ValueError(f"integration range [{lo:.4f}, {hi:.4f}] leaves the r grid "
                         f"[{r[0]:.4f}, {r[-1]:.4f}]: compute g to larger r")
    inside = (r > lo) & (r < hi)
    rr = np.concatenate([[lo], r[inside], [hi]])
    f_lo = np.array([np.interp(lo, r, fi) for fi in f.reshape(-1, r.size)])
    f_hi = np.array([np.interp(hi, r, fi) for fi in f.reshape(-1, r.size)])
    ff = np.concatenate([f_lo.reshape(f.shape[:-1] + (1,)), f[..., inside],
                         f_hi.reshape(f.shape[:-1] + (1,))], axis=-1)
    return np.trapezoid(ff, rr, axis=-1)


def real_space_depth(r, g, T, limits, x=X_KA, rho=ka.RHO):
    """Real-space depth beta Phi_r of a tagged A particle (Eq. 5 with the HNC closure, METHODS 3).

    Parameters
    ----------
    r : (nbins,) array_like
        Increasing grid (sigma_AA) on which g is given.
    g : (..., 2, 2, nbins) array_like
        Partial rdfs (average, or local rdfs of single particles; only
        g[..., 0, 0] and g[..., 0, 1] are used). Leading axes are batch axes.
    T : float
        Temperature (eps_AA / k_B); beta U = U_KA / T.
    limits : dict
        {'AA': (r_lo, r_hi), 'AB': (r_lo, r_hi)} as from :func:`integration_limits`.
    x : (2,) float
        Number fractions (x_A, x_B).
    rho : float
        Total number density.

    Returns
    -------
    float or ndarray
        beta Phi_r (k_B T); an array of the batch shape when g has leading axes.
    """
    r = np.asarray(r, dtype=float)
    g = np.asarray(g, dtype=float)
    if r.ndim != 1 or g.shape[-3:] != (2, 2, r.size):
        raise ValueError(f"need r (nbins,) and g (..., 2, 2, nbins); got {r.shape} and {g.shape}")
    if np.any(np.diff(r) <= 0):
        raise ValueError("r must be strictly increasing")
    beta = 1.0 / as_temperature(T)
    x = _fractions(x)
    lims = check_limits(limits)
    total = 0.0
    for v, name in ((0, "AA"), (1, "AB")):
        with np.errstate(over="ignore"):
            bu = beta * ka.pair_potential(r, 0, v)
        f = 4.0 * np.pi * r ** 2 * rho * hnc_cg(g[..., 0, v, :], bu)
        total = total + np.sqrt(x[0] * x[v]) * _segment_integral(r, f, *lims[name])
    out = -0.5 * total
    if not np.all(np.isfinite(out)):
        raise ValueError("the real-space depth is not finite: g > 0 where beta U is infinite "
                         "(r too small); raise r_lo")
    return float(out) if np.ndim(out) == 0 else out


def smear_rdf(edges, g, r, delta=0.09):
    """A histogram rdf convolved with the Gaussian of Eq. 8: what averaged local rdfs tend to.

    The local rdf puts a Gaussian of width delta on every neighbour distance and divides
    by 4 pi r^2 rho_v; its average over tagged particles is the pair density smeared with
    that Gaussian,

        g_delta(r) = 1 / (4 pi r^2) sum_k G_delta(r - r_k) g_k V_k,

    with r_k the bin centres and V_k the shell volumes of the histogram (exact for pairs
    sitting at the bin centres; binning moves a pair by at most half a bin).

    Parameters
    ----------
    edges : (nb + 1,) array_like
        Increasing bin edges of the histogram rdf (sigma_AA).
    g : (..., nb) array_like
        Histogram rdf(s), ideal-gas normalised per shell.
    r : (nr,) array_like
        Distances > 0 at which to evaluate the smeared rdf (sigma_AA).
    delta : float
        Gaussian width (sigma_AA), > 0; the paper's value is 0.09.

    Returns
    -------
    ndarray, shape (..., nr). Within about 3 delta of edges[-1] it misses pairs beyond the
    histogram and is biased low.
    """
    delta = check_delta(delta)
    edges = np.asarray(edges, dtype=float)
    g = np.asarray(g, dtype=float)
    r = np.asarray(r, dtype=float)
    if edges.ndim != 1 or edges.size < 3 or np.any(np.diff(edges) <= 0) or g.shape[-1] != edges.size - 1:
        raise ValueError(f"need increasing edges (nb + 1,) and g (..., nb); got {edges.shape} and {g.shape}")
    if r.ndim != 1 or np.any(r <= 0):
        raise ValueError("r must be a 1-d array of distances > 0")
    centres = 0.5 * (edges[1:] + edges[:-1])
    shell = 4.0 / 3.0 * np.pi * (edges[1:] ** 3 - edges[:-1] ** 3)
    kern = np.exp(-((r[:, None] - centres[None, :]) ** 2) / (2 * delta**2)) / (np.sqrt(2 * np.pi) * delta)
    return (g * shell) @ kern.T / (4.0 * np.pi * r**2)


def _edges_of(r):
    """Bin edges of an equally spaced grid of bin centres ``r``."""
    r = np.asarray(r, dtype=float)
    h = r[1] - r[0] if r.size > 1 else 0.0
    if r.ndim != 1 or r.size < 2 or h <= 0 or np.any(np.abs(np.diff(r) - h) > 1e-6 * h):
        raise ValueError("r must be the equally spaced increasing bin centres of a histogram rdf")
    return np.r_[r - 0.5 * h, r[-1] + 0.5 * h]


# --------------------------------------------------------------------------- fits
def linear_fit(x, y):
    """Ordinary least-squares line y = intercept + slope x with standard errors.

    Returns
    -------
    dict
        ``intercept``, ``slope``, ``intercept_err``, ``slope_err`` (standard
        errors, n - 2 degrees of freedom), ``r2`` and ``n``. Through exactly two
        points the line is exact and the errors and ``r2`` are None (unavailable).
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError(f"x and y must be 1-d of equal length, got {x.shape} and {y.shape}")
    if x.size < 2:
        raise ValueError(f"a line needs at least 2 points (temperatures; at least 3 for standard errors "
                         f"and R^2), got {x.size}")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        raise ValueError("x and y must be finite")
    if np.ptp(x) == 0:
        raise ValueError("all x are equal: the slope is undefined")
    if x.size == 2:  # a line through two points: exact, nothing left to estimate errors or R^2 from
        slope = float((y[1] - y[0]) / (x[1] - x[0]))
        return {"intercept": float(y[0] - slope * x[0]), "slope": slope, "intercept_err": None,
                "slope_err": None, "r2": None, "n": 2}
    res = stats.linregress(x, y)
    return {"intercept": float(res.intercept), "slope": float(res.slope),
            "intercept_err": float(res.intercept_stderr), "slope_err": float(res.stderr),
            "r2": float(res.rvalue ** 2), "n": int(x.size)}


def analyse_temperature(T, q, S, r, g, dr_fit=0.03, threshold=1e-3, delta=0.09, x=X_KA,
                        rho=ka.RHO):
    """Everything the calibration needs at one temperature.

    Returns a dict with ``S_av``, ``inv_S``, ``inv_S_curvature``, ``Phi_q``, ``Phi_r``,
    ``Phi_r_smeared`` (the depth of the delta-smeared average rdf, same limits),
    ``limits`` {'AA': [lo, hi], 'AB': [lo, hi]}, ``fit_window``, ``threshold``, ``delta``.
    """
    fit = softness_fit(q, S, dr_fit, x)
    lim = integration_limits(r, g, threshold)
    return {
        "S_av": fit["S_av"], "inv_S": fit["inv_S"], "inv_S_curvature": softness_curvature(q, S, x),
        "Phi_q": fit["Phi_q"], "Phi_r": real_space_depth(r, g, T, lim, x, rho),
        "Phi_r_smeared": real_space_depth(r, smear_rdf(_edges_of(r), g, r, delta), T, lim, x, rho),
        "limits": {k: list(v) for k, v in lim.items()}, "fit_window": fit["fit_window"],
        "threshold": float(threshold), "delta": float(delta),
    }


def calibrate(per_T_results, provenance=None):
    """Build the calibration dict (CONTEXT contract) from per-temperature results.

    Parameters
    ----------
    per_T_results : dict
        {T (float or str): dict} with at least ``S_av``, ``Phi_q``, ``Phi_r``,
        ``Phi_r_smeared``, ``limits``, ``fit_window`` (as from
        :func:`analyse_temperature`); further keys are kept.
    provenance : dict, optional
        Stored under ``provenance``.

    Returns
    -------
    dict
        ``a0, a1`` (1/S^av = a0 + a1 beta Phi_q), ``b0, b1`` (beta Phi_q = b0 + b1 beta Phi_r),
        ``c0, c1`` (1/S^av = c0 + c1 beta Phi_r), each with ``*_err``; ``r2``
        {'a', 'b', 'c'}; ``temperatures``; ``per_temperature`` keyed "0.600";
        ``smeared`` {delta, c0, c1, c0_err, c1_err, r2, Phi_r}; ``provenance``.
    """
    if not isinstance(per_T_results, dict) or len(per_T_results) < 2:
        raise ValueError("per_T_results must map at least 2 temperatures to their results "
                         "(a line through 2 points; at least 3 give its errors and R^2)")
    temps = sorted(float(t) for t in per_T_results)
    by_t = {float(t): v for t, v in per_T_results.items()}
    need = ("S_av", "Phi_q", "Phi_r", "Phi_r_smeared", "limits", "fit_window")
    for t in temps:
        missing = [k for k in need if k not in by_t[t]]
        if missing:
            raise ValueError(f"results at T = {t} lack {missing}: build them with analyse_temperature")
    col = {k: np.array([by_t[t][k] for t in temps], dtype=float)
           for k in ("S_av", "Phi_q", "Phi_r", "Phi_r_smeared")}
    inv_s = 1.0 / col["S_av"]
    fits = {"a": linear_fit(col["Phi_q"], inv_s), "b": linear_fit(col["Phi_r"], col["Phi_q"]),
            "c": linear_fit(col["Phi_r"], inv_s)}
    sm = linear_fit(col["Phi_r_smeared"], inv_s)
    out = {}
    for name, f in fits.items():
        out[f"{name}0"], out[f"{name}1"] = f["intercept"], f["slope"]
        out[f"{name}0_err"], out[f"{name}1_err"] = f["intercept_err"], f["slope_err"]
    out["r2"] = {k: f["r2"] for k, f in fits.items()}
    out["temperatures"] = temps
    out["per_temperature"] = {f"{t:.3f}": json_safe(by_t[t]) for t in temps}
    deltas = {by_t[t].get("delta") for t in temps}
    out["smeared"] = {"delta": deltas.pop() if len(deltas) == 1 else sorted(deltas),
                      "c0": sm["intercept"], "c1": sm["slope"], "c0_err": sm["intercept_err"],
                      "c1_err": sm["slope_err"], "r2": sm["r2"],
                      "Phi_r": {f"{t:.3f}": float(by_t[t]["Phi_r_smeared"]) for t in temps}}
    out["provenance"] = provenance or {}
    return out


def load_calibration(path):
    """Read a calibration file written by notebook 02 (``data/<preset>/calibration.json``).

    Raises
    ------
    FileNotFoundError
        When the file is missing, naming the notebook that writes it.
    ValueError
        When it lacks a contract key or c0, c1 are not finite.
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(
            f"no calibration at {path}: run notebook 02_calibrate for this preset first "
            "(e.g. `make quick` or papermill notebooks/02_calibrate.py with -p preset <name>)"
        )
    cal = read_json(path, rewrite="rerun notebook 02_calibrate")
    if not isinstance(cal, dict):
        raise ValueError(f"{path} holds a JSON {type(cal).__name__}, not a calibration: rerun notebook 02_calibrate")  # noqa: TRY004
    missing = [k for k in CALIBRATION_KEYS if k not in cal]
    if missing:
        raise ValueError(f"{path} lacks {missing}: it was written by an older softlib; rerun 02_calibrate")
    check_calibration(cal, path)
    return cal


def _number(v):
    """float(v) for a real number (not bool, not a string), else None."""
    if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
        return None
    return float(v)


def check_calibration(cal, where="the calibration"):
    """Refuse a calibration whose c0, c1 (also the smeared ones) are not finite numbers or whose
    temperatures lack integration limits; messages name ``where`` and the fix (rerun 02_calibrate)."""
    sections = [("", cal)] + ([("smeared ", cal["smeared"])] if isinstance(cal.get("smeared"), dict) else [])
    for name, sec in sections:
        for k in ("c0", "c1"):
            if k not in sec:
                continue
            v = _number(sec[k])
            if v is None or not np.isfinite(v):
                raise ValueError(f"{where}: {name}{k} = {sec[k]!r} is not a finite number; the file is corrupt "
                                 "or was edited by hand: rerun notebook 02_calibrate")
    per_t = cal.get("per_temperature", {})
    if not isinstance(per_t, dict):
        raise ValueError(f"{where}: per_temperature must map temperatures to results; rerun notebook 02_calibrate")  # noqa: TRY004
    for t, res in per_t.items():
        if not isinstance(res, dict) or "limits" not in res:
            raise ValueError(f"{where}: temperature {t} has no integration limits ('limits'); the local depth "
                             "needs them: rerun notebook 02_calibrate")
        check_limits(res["limits"])
    return cal
