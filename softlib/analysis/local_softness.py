"""Local softness: a caging-potential depth and softness for every A particle in every frame.

The average theory (paper Eqs. 5-7, METHODS 3) turns the partial rdfs g_Av(r) into a
depth beta Phi_r and, through the calibration 1/S = c0 + c1 beta Phi_r, into a
softness. Here the same functional is applied to one particle at a time, with the
average rdf replaced by that particle's own Gaussian-smeared rdf (Eq. 8, METHODS 4)

    g^i_Av(r) = 1 / (4 pi r^2 rho_v) sum_{j in v, j != i} G_delta(r - r_ij),
    G_delta(x) = (2 pi delta^2)^(-1/2) exp(-x^2 / (2 delta^2)),

and put into both the HNC direct correlation function and the rdf of the integrand

    beta Phi_r^i = -(1/2) sum_v sqrt(x_A x_v) int_{r_lo,Av}^{r_hi,Av} 4 pi r^2 rho C^i_Av g^i_Av dr,
    C g = g (-beta U + g - 1 - ln g).

Choices (named parameters, see METHODS 4):

* ``rho_v`` counts the *other* particles a tagged one can see: ``(N_v - delta_uv) / V``.
  Averaged over particles, g^i then has exactly the pair-count normalisation
  ``N_u (N_v - delta_uv) / V`` of a histogram rdf (freud's convention), so the
  average of local rdfs tends to 1 at large r for any N.
* The Gaussian is summed over neighbours closer than ``r_max + 6 delta``
  (:data:`GAUSS_CUT`); the neglected tail is below exp(-18) = 1.5e-8 of a peak.
* The r-grid of the depth integral runs from r_lo to r_hi with spacing <= delta / 10;
  Simpson's rule by default (error ~1e-6 relative at delta / 10, trapezoid ~1e-3),
  ``rule='trapezoid'`` matches :func:`softlib.analysis.caging.real_space_depth` term by term.

Speed: the Gaussians of all neighbours are put on the grid by a recurrence,
exp(-(x + h)^2 / 2d^2) = exp(-x^2 / 2d^2) q,  q -> q exp(-h^2 / d^2), restarted
with two direct exponentials per neighbour every 6.4 delta of grid (so nothing
underflows and rounding cannot accumulate), and the loop over neighbours runs in
SIMD lanes; exp and log are written out in arithmetic so that they vectorise too.
Particles are processed in parallel (numba prange) and neighbours come from a cell
list. About 2 us per A particle and frame on one core (benchmarks/bench_local.py).

Public API
----------
local_rdf                       Eq. 8 for inspection (Fig. 2); its average is caging.smear_rdf
local_depth, depth_functional   beta Phi_r^i of every A particle; the functional alone
local_softness                  S_i = 1 / (c0 + c1 beta Phi_r^i), NaN + count where <= 0
softness_parameters             c0, c1, limits at T from calibration.json ('paper'/'smeared')

The numba kernels live in :mod:`softlib.analysis._local_kernels`; storing a run's softness on
disk is :mod:`softlib.io.softness_store`, and the per-run driver is
:func:`softlib.pipeline.stages.compute_run_softness`.
"""
from __future__ import annotations

import math
from pathlib import Path

import numba
import numpy as np

from .. import ka
from .._checks import (
    COINCIDENT,
    MIN_PAIR_DISTANCE,
    PAIRS,
    as_box,
    as_positions,
    as_species,
    as_temperature,
    check_box_cutoff,
    check_delta,
    check_limits,
    check_no_overlap,
)
from ._local_kernels import (
    _BLOCK,
    _SEGMENT_DELTAS,
    GAUSS_CUT,
    GRID_PER_DELTA,
    _depth_frames,
    _functional,
    _rdf_frame,
)
from .caging import _number
from .caging import load_calibration as _load_calibration_file


# ----------------------------------------------------------------------------------------
# public API
# ----------------------------------------------------------------------------------------
def _pair_densities(species, box, center=0):
    """rho_v = (N_v - delta_uv) / V seen by a tagged particle of species ``center``."""
    vol = float(np.prod(box))
    n_v = np.array([np.sum(species == 0), np.sum(species == 1)], dtype=float)
    n_v[center] -= 1.0
    return n_v / vol


def _check_centers(species, center):
    if center not in (0, 1):
        raise ValueError(f"center must be 0 (A) or 1 (B), got {center!r}")
    idx = np.flatnonzero(species == center).astype(np.int64)
    if idx.size == 0:
        name = "AB"[center]
        raise ValueError(
            f"the configuration has no {name} particles (species == {center}): local softness is defined "
            "for tagged A particles; check the species array (0 = A, 1 = B)"
        )
    return idx


def local_rdf(positions, species, box, r, delta=0.09, center=0, particles=None, *, min_distance=COINCIDENT):
    """Gaussian-smeared rdf of single particles (paper Eq. 8, METHODS 4).

    Parameters
    ----------
    positions : (N, 3) array_like
        Positions (sigma_AA), wrapped or unwrapped.
    species : (N,) int
        0 = A, 1 = B.
    box : float or (3,) array_like
        Box edge lengths (sigma_AA).
    r : (nr,) array_like
        Increasing distances > 0 (sigma_AA). A uniform grid uses the fast recurrence,
        any other grid one exponential per point and neighbour.
    delta : float
        Width of the Gaussian (sigma_AA), > 0.
    center : int
        Species of the tagged particles (0 = A).
    particles : array_like of int, optional
        Indices of tagged particles (all of species ``center``); default all of them.
    min_distance : float or None
        Refuse two particles closer than this (sigma_AA; default 1e-3: duplicated particles;
        ``softlib._checks.MIN_PAIR_DISTANCE`` = 0.5 refuses anything no KA liquid has; None skips).

    Returns
    -------
    ndarray, shape (n_tagged, 2, nr)
        g^i_{center,v}(r) for v = A (index 0) and B (index 1), dimensionless; averaged over
        tagged particles it approaches the Gaussian-smeared partial rdf.
    """
    species = as_species(species)
    pos = as_positions(positions, n=species.size)
    box = as_box(box)
    check_no_overlap(pos, box, min_distance)
    delta = check_delta(delta)
    r = np.ascontiguousarray(r, dtype=float)
    if r.ndim != 1 or r.size < 1 or np.any(r <= 0) or np.any(np.diff(r) <= 0):
        raise ValueError("r must be a 1-d increasing array of distances > 0 (the rdf is normalised by 4 pi r^2)")
    idx = _check_centers(species, center)
    if particles is not None:
        idx = np.asarray(particles, dtype=np.int64).ravel()
        if np.any(idx < 0) or np.any(idx >= species.size):
            raise ValueError(f"particles must be indices in [0, {species.size}), got {idx.min()}..{idx.max()}")
        if np.any(species[idx] != center):
            raise ValueError(f"particles must all be of species center = {center} (their rho_v differs); "
                             "call local_rdf once per tagged species")
    cutoff = r[-1] + GAUSS_CUT * delta
    check_box_cutoff(box, cutoff, f"r_max + {GAUSS_CUT:g} delta of the local rdf")
    cut2 = np.full(2, cutoff * cutoff)
    uniform = bool(r.size > 1 and np.allclose(np.diff(r), (r[-1] - r[0]) / (r.size - 1), rtol=1e-9, atol=0))
    out = np.zeros((idx.size, 2, r.size))
    _rdf_frame(pos, species, idx, box, cut2, r, uniform, delta, out)
    rho_v = _pair_densities(species, box, center)
    with np.errstate(divide="ignore", invalid="ignore"):
        norm = 1.0 / (np.sqrt(2.0 * np.pi) * delta * 4.0 * np.pi * r[None, :] ** 2 * rho_v[:, None])
    norm[~np.isfinite(norm)] = 0.0  # no particles of that species: g = 0
    return out * norm[None]


def _quadrature_weights(m, h, rule):
    """Weights (m + 1,) of Simpson's rule (m even) or the trapezoid rule on m intervals of width h."""
    if rule == "simpson":
        wt = np.full(m + 1, 2.0)
        wt[1::2] = 4.0
        wt[0] = wt[-1] = 1.0
        return wt * (h / 3.0)
    wt = np.full(m + 1, h)
    wt[0] = wt[-1] = 0.5 * h
    return wt


class _Grid:
    """r-grids, weights and beta U of the depth integral for the pairs AA and AB."""

    def __init__(self, limits, T, delta, rho_v, x, rho, spacing=None, rule="simpson"):
        if rule not in ("simpson", "trapezoid"):
            raise ValueError(f"rule must be 'simpson' or 'trapezoid', got {rule!r}")
        h_max = delta / GRID_PER_DELTA if spacing is None else float(spacing)
        if not h_max > 0:
            raise ValueError(f"spacing must be > 0, got {spacing}")
        beta = 1.0 / T
        self.r, self.w, self.bu, self.norm = [], [], [], []
        for v, key in enumerate(PAIRS):
            lo, hi = limits[key]
            m = max(1, int(math.ceil((hi - lo) / h_max - 1e-9)))
            if rule == "simpson" and m % 2:
                m += 1
            r = np.linspace(lo, hi, m + 1)
            h = (hi - lo) / m
            wt = _quadrature_weights(m, h, rule)
            self.r.append(r)
            # -(1/2) sqrt(x_A x_v) 4 pi r^2 rho dr: the functional's prefactor folded into the weights
            self.w.append(-0.5 * math.sqrt(x[0] * x[v]) * 4.0 * np.pi * r**2 * rho * wt)
            self.bu.append(beta * ka.pair_potential(r, 0, v))
            with np.errstate(divide="ignore"):
                nrm = 1.0 / (math.sqrt(2.0 * np.pi) * delta * 4.0 * np.pi * r**2 * rho_v[v])
            self.norm.append(nrm if rho_v[v] > 0 else np.zeros_like(r))
        self.ngrid = np.array([len(r) for r in self.r], dtype=np.int64)
        self.r0 = np.array([r[0] for r in self.r])
        self.h = np.array([(r[-1] - r[0]) / max(len(r) - 1, 1) for r in self.r])
        self.seg = np.array([max(1, int(_SEGMENT_DELTAS * delta / hh)) for hh in self.h], dtype=np.int64)
        self.cut = np.array([limits[k][1] + GAUSS_CUT * delta for k in PAIRS])

    def padded(self, arrays):
        out = np.zeros((2, int(self.ngrid.max())))
        for v in range(2):
            out[v, : self.ngrid[v]] = arrays[v]
        return out


def local_depth(positions, species, box, T, limits, delta=0.09, spacing=None, rule="simpson", *,
                min_distance=MIN_PAIR_DISTANCE):
    """Local caging depth beta Phi_r^i of every A particle (METHODS 4).

    Parameters
    ----------
    positions : (N, 3) or (F, N, 3) array_like
        One frame or F frames (sigma_AA); wrapped or unwrapped.
    species : (N,) int
        0 = A, 1 = B.
    box : float or (3,) array_like
        Box edge lengths (sigma_AA).
    T : float
        Temperature (eps_AA / k_B) of the beta U in the HNC closure.
    limits : dict
        ``{'AA': (r_lo, r_hi), 'AB': (r_lo, r_hi)}`` integration limits (sigma_AA), from the
        average rdf at this temperature (calibration file).
    delta : float
        Gaussian width of Eq. 8 (sigma_AA).
    spacing : float, optional
        Largest grid spacing of the r-integral; default delta / 10.
    rule : {'simpson', 'trapezoid'}
        Quadrature on the r-grid.
    min_distance : float or None
        Refuse (ValueError naming the frame and the pair) two particles closer than this
        (sigma_AA; default ``MIN_PAIR_DISTANCE`` = 0.5, closer than any KA liquid allows:
        the LJ energy there exceeds 1500 eps_AA). None skips the check.

    Returns
    -------
    ndarray, float64, shape (N_A,) or (F, N_A)
        beta Phi_r^i (dimensionless; negative = a deep cage) for the A particles in index order.
    """
    species = as_species(species)
    frames = np.ndim(positions) == 3
    pos = as_positions(positions, n=species.size, frames=frames)
    if not frames:
        pos = pos[None]
    box = as_box(box)
    T = as_temperature(T)
    delta = check_delta(delta)
    limits = check_limits(limits)
    a_idx = _check_centers(species, 0)
    n = species.size
    x = np.array([np.sum(species == 0), np.sum(species == 1)]) / n
    grid = _Grid(limits, T, delta, _pair_densities(species, box, 0), x, n / np.prod(box), spacing, rule)
    check_box_cutoff(box, grid.cut.max(), f"r_hi + {GAUSS_CUT:g} delta of the local depth")
    if not all(np.all(np.isfinite(b)) for b in grid.bu):
        raise ValueError(f"beta U is infinite on the r-grid (limits {limits}): r_lo is too small; "
                         "take the limits from the average rdf (g > 1e-3)")
    check_no_overlap(pos, box, min_distance)
    out = np.empty((pos.shape[0], a_idx.size))
    # work items of _BLOCK particles handed out one at a time (dynamic schedule): a thread
    # that loses its core to another process does not hold the others up
    old = numba.set_parallel_chunksize(1)
    try:
        _depth_frames(pos, species, a_idx, box, grid.cut**2, grid.r0, grid.h, grid.ngrid, grid.seg, delta,
                      grid.padded(grid.norm), grid.padded(grid.bu), grid.padded(grid.w), _BLOCK, out)
    finally:
        numba.set_parallel_chunksize(old)
    if not np.all(np.isfinite(out)):
        raise ValueError("a local depth is not finite: check the positions and the limits")
    return out if frames else out[0]


def depth_functional(r, g, T, limits, x=(0.8, 0.2), rho=1.2, rule="trapezoid"):
    """The depth functional of :func:`local_depth` applied to given rdfs on a given grid.

    This is the integration stage of :func:`local_depth` on its own (same kernel), so it can
    be fed the average rdf and compared with :func:`softlib.analysis.caging.real_space_depth`.

    Parameters
    ----------
    r : (nr,) array_like
        Uniform grid (sigma_AA) that contains both pairs' limits as grid points.
    g : (2, nr) array_like
        g_AA and g_AB on ``r``.
    T, limits, x, rho, rule
        As in :func:`local_depth`; x = (x_A, x_B), rho = N / V.

    Returns
    -------
    float
        beta Phi_r.
    """
    r = np.asarray(r, dtype=float)
    g = np.asarray(g, dtype=float)
    if g.shape != (2, r.size):
        raise ValueError(f"g must have shape (2, {r.size}) (g_AA, g_AB on r), got {g.shape}")
    if np.any(~np.isfinite(g)) or np.any(g < 0):
        raise ValueError("g must be finite and non-negative")
    T = as_temperature(T)
    limits = check_limits(limits)
    beta = 1.0 / T
    tot = 0.0
    for v, key in enumerate(PAIRS):
        lo, hi = limits[key]
        sel = (r >= lo - 1e-9) & (r <= hi + 1e-9)
        rr = r[sel]
        m = rr.size - 1
        if m < 1:
            raise ValueError(f"the grid has fewer than two points inside limits[{key!r}] = {limits[key]}")
        h = (rr[-1] - rr[0]) / m
        if rule == "simpson" and m % 2:
            raise ValueError("Simpson's rule needs an even number of intervals between the limits")
        wt = _quadrature_weights(m, h, rule)
        w = -0.5 * math.sqrt(x[0] * x[v]) * 4.0 * np.pi * rr**2 * rho * wt
        bu = beta * ka.pair_potential(rr, 0, v)
        gv = np.ascontiguousarray(g[v][sel])
        scratch = np.empty(rr.size)
        tot += _functional(gv, np.ones(rr.size), bu, w, rr.size, scratch, np.empty(rr.size),
                           np.empty(rr.size, np.int64))
    return float(tot)


def local_softness(depth, c0, c1):
    """Local softness S_i = 1 / (c0 + c1 beta Phi_r^i) (paper Eq. 7 applied locally).

    Parameters
    ----------
    depth : array_like
        beta Phi_r^i, any shape.
    c0, c1 : float
        Calibration of Eq. 7 (units sigma_AA^-2).

    Returns
    -------
    softness : ndarray, float64, same shape as ``depth``
        S_i (sigma_AA^2); NaN where the denominator c0 + c1 beta Phi_r^i is not positive
        (no harmonic cage: the linear calibration does not apply there).
    n_nonpositive : int
        How many denominators were <= 0 (each one is a NaN in ``softness``). Consumers must
        report this count and exclude those entries explicitly.
    """
    depth = np.asarray(depth, dtype=float)
    try:
        if isinstance(c0, (str, bytes)) or isinstance(c1, (str, bytes)):
            raise TypeError
        c0, c1 = float(c0), float(c1)
    except (TypeError, ValueError):
        raise ValueError(f"c0, c1 must be finite numbers, got {c0!r}, {c1!r}: check the calibration file") from None
    if not (np.isfinite(c0) and np.isfinite(c1)):
        raise ValueError(f"c0, c1 must be finite numbers, got {c0}, {c1}: check the calibration file")
    if np.any(~np.isfinite(depth)):
        raise ValueError("depth contains NaN or inf: the local depth computation failed upstream")
    den = c0 + c1 * depth
    bad = den <= 0
    with np.errstate(divide="ignore"):
        s = np.where(bad, np.nan, 1.0 / np.where(bad, 1.0, den))
    return s, int(bad.sum())


# ----------------------------------------------------------------------------------------
# calibration
# ----------------------------------------------------------------------------------------
VARIANTS = ("paper", "smeared")


def _tkey(T):
    return f"{float(T):.3f}"


def load_calibration(calibration):
    """A calibration dict from a dict or a path (read with :func:`softlib.analysis.caging.load_calibration`)."""
    if isinstance(calibration, dict):
        return calibration
    path = Path(calibration)
    if not path.exists():
        raise ValueError(
            f"calibration file {path} does not exist: run notebook 02 (notebooks/02_calibrate.py, "
            "make analysis) to write data/<preset>/calibration.json first"
        )
    return _load_calibration_file(path)


def softness_parameters(calibration, T, variant="paper"):
    """c0, c1 and the integration limits at temperature T from a calibration.

    Parameters
    ----------
    calibration : dict or path
        Contents of ``data/<preset>/calibration.json`` (or its path).
    T : float
        Temperature; must be one of the calibrated ones (key ``f"{T:.3f}"``).
    variant : {'paper', 'smeared'}
        'paper': c0, c1 fitted against the depth of the average rdf (the paper's method).
        'smeared': c0, c1 fitted against the depth of the delta-smeared average rdf.

    Returns
    -------
    dict
        ``c0``, ``c1``, ``limits`` {'AA': (lo, hi), 'AB': (lo, hi)}, ``variant``, and for the
        smeared variant its ``delta``.
    """
    cal = load_calibration(calibration)
    T = as_temperature(T)
    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {VARIANTS}, got {variant!r}")
    per_t = cal.get("per_temperature", {})
    key = _tkey(T)
    if key not in per_t:
        raise ValueError(
            f"temperature {key} is not in the calibration (has {sorted(per_t)}): calibrate this "
            "temperature in notebook 02 or choose one of those"
        )
    lim = per_t[key].get("limits") if isinstance(per_t[key], dict) else None
    if not isinstance(lim, dict):
        raise ValueError(  # noqa: TRY004 - a bad value in the file, not a caller's wrong type
            f"the calibration has no integration limits ('limits') at T = {key}: the local depth "
            "needs them; rerun notebook 02_calibrate (it stores per_temperature[T]['limits'])")
    try:
        limits = check_limits({k: tuple(v) for k, v in lim.items()})
    except TypeError:
        raise ValueError(f"the calibration's limits at T = {key} are not pairs (r_lo, r_hi): {lim!r}; "
                         "rerun notebook 02_calibrate") from None
    if variant == "paper":
        src = cal
    else:
        if "smeared" not in cal:
            raise ValueError("the calibration has no 'smeared' section: rerun notebook 02 to add it")
        src = cal["smeared"]
    try:
        c0, c1 = (_number(src[k]) for k in ("c0", "c1"))
    except KeyError as exc:
        raise ValueError(f"calibration ({variant}) lacks {exc}: rerun notebook 02") from None
    if c0 is None or c1 is None or not (np.isfinite(c0) and np.isfinite(c1)):
        raise ValueError(f"calibration ({variant}): c0 = {src['c0']!r}, c1 = {src['c1']!r} must be finite "
                         "numbers; the file is corrupt or was edited by hand: rerun notebook 02_calibrate")
    out = {"c0": c0, "c1": c1, "limits": limits, "variant": variant}
    if variant == "smeared":
        out["delta"] = float(src.get("delta", np.nan))
    return out


