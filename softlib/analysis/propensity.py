"""Dynamic propensity as the yardstick of a structural predictor.

Given the ensemble averages of :mod:`softlib.engine.isoconf` (the propensity ``P_i(t)`` of every
particle of K starting configurations) and a predictor's value ``x_i`` on the same starting
configurations, the field's benchmark (Jung et al., Nat. Rev. Phys. 2025) is the Pearson
correlation between ``x`` and ``P(t)`` over the A particles of all configurations, as a function of t.

* :func:`correlations`: Pearson and Spearman against time, pooled over configurations, with the
  spread over configurations (the standard error of the per-configuration correlations);
* :func:`ceiling`: how high any predictor can reach against a propensity averaged over a finite
  number M of replicas, from the agreement of two halves of the replicas;
* :func:`coarse_grain`: a predictor averaged over neighbours with weights ``exp(-r / L)``, the
  coarse-graining of Boattini et al. (Nat. Commun. 2021) and Jung et al. (PRL 2023).
"""
from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree
from scipy.stats import rankdata

__all__ = ["pearson", "correlations", "ceiling", "coarse_grain", "MIN_CONFIGURATIONS"]

#: fewest configurations whose spread of per-configuration correlations is quoted as an error
MIN_CONFIGURATIONS = 5


def pearson(x, y, axis=-1):
    """Pearson correlation of ``x`` and ``y`` along ``axis`` (NaN where either has zero spread)."""
    x = np.asarray(x, float)
    y = np.asarray(y, float)
    dx = x - x.mean(axis=axis, keepdims=True)
    dy = y - y.mean(axis=axis, keepdims=True)
    den = np.sqrt((dx * dx).sum(axis=axis) * (dy * dy).sum(axis=axis))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, (dx * dy).sum(axis=axis) / np.where(den > 0, den, 1.0), np.nan)


def _check(values, propensity):
    values = np.asarray(values, float)
    propensity = np.asarray(propensity, float)
    if propensity.ndim != 3 or values.shape != (propensity.shape[0], propensity.shape[2]):
        raise ValueError(f"values of shape {values.shape} and propensity of shape {propensity.shape}: "
                         "expected (K, n) and (K, n_t, n) for K configurations of n particles")
    if not np.all(np.isfinite(values)):
        raise ValueError(f"{int((~np.isfinite(values)).sum())} non-finite predictor values: a predictor "
                         "must be defined on every particle it is tested on")
    return values, propensity


def correlations(values, propensity):
    """Pearson and Spearman correlation of a predictor with the propensity at every time.

    Parameters
    ----------
    values : (K, n) float
        The predictor on n particles (e.g. the A particles) of K starting configurations.
    propensity : (K, n_t, n) float
        Their propensity at n_t times (sigma_AA).

    Returns
    -------
    dict
        ``pearson``, ``spearman`` (n_t,): over the K n particles pooled; ``pearson_per_config``
        (K, n_t); ``pearson_error`` (n_t,): standard error of the mean of the per-configuration
        correlations; NaN for fewer than :data:`MIN_CONFIGURATIONS` configurations, whose spread is no
        error estimate.
    """
    values, propensity = _check(values, propensity)
    K, n_t, n = propensity.shape
    x = np.broadcast_to(values.ravel()[None, :], (n_t, K * n))
    y = propensity.transpose(1, 0, 2).reshape(n_t, K * n)
    per = pearson(values[:, None, :], propensity)
    rx = rankdata(values.ravel())
    ry = rankdata(y, axis=1)
    err = per.std(axis=0, ddof=1) / np.sqrt(K) if K >= MIN_CONFIGURATIONS else np.full(n_t, np.nan)
    return {"pearson": pearson(x, y), "spearman": pearson(np.broadcast_to(rx, y.shape), ry),
            "pearson_per_config": per, "pearson_error": err}


def ceiling(half_a, half_b):
    """The finite-ensemble ceiling from two halves of the replicas.

    With ``r`` the pooled Pearson correlation between the propensities of the two halves (each
    averaged over M / 2 replicas), the Spearman-Brown formula gives the correlation expected
    between two independent M-replica estimates, ``R = 2 r / (1 + r)``; the correlation of the
    M-replica estimate with the exact (infinite-ensemble) propensity is ``sqrt(R)``, the most a
    perfect predictor can reach against our propensity.

    Parameters
    ----------
    half_a, half_b : (K, n_t, n) float

    Returns
    -------
    dict of (n_t,) arrays: ``halves`` (r), ``reliability`` (R), ``ceiling`` (sqrt R).
    """
    a = np.asarray(half_a, float)
    b = np.asarray(half_b, float)
    if a.shape != b.shape or a.ndim != 3:
        raise ValueError(f"the halves must have one shape (K, n_t, n), got {a.shape} and {b.shape}")
    K, n_t, n = a.shape
    r = pearson(a.transpose(1, 0, 2).reshape(n_t, -1), b.transpose(1, 0, 2).reshape(n_t, -1))
    R = 2 * r / (1 + r)
    return {"halves": r, "reliability": R, "ceiling": np.sqrt(np.clip(R, 0, None))}


def coarse_grain(values, positions, box, centers, L, r_cut=None):
    """``x_i^L = sum_j x_j exp(-r_ij / L) / sum_j exp(-r_ij / L)`` over the particles j of ``centers``.

    Parameters
    ----------
    values : (n,) float
        The predictor on the particles ``centers`` (e.g. the A particles), in that order.
    positions : (N, 3) float
        All positions (sigma_AA); ``box`` (3,) the periodic box.
    centers : (n,) int
        Indices (into positions) of the particles that carry ``values``; i runs over them too.
    L : float
        Coarse-graining length (sigma_AA); L = 0 returns ``values``.
    r_cut : float, optional
        Neighbours within r_cut (default 4 L, where the weight is e^-4 = 0.018; at most half the box).

    Returns
    -------
    (n,) float
    """
    values = np.asarray(values, float)
    centers = np.asarray(centers, np.int64)
    if values.shape != centers.shape:
        raise ValueError(f"values {values.shape} and centers {centers.shape} must match")
    if L == 0:
        return values.copy()
    if not (np.isfinite(L) and L > 0):
        raise ValueError(f"L must be a non-negative length (sigma_AA), got {L}")
    box = np.asarray(box, float)
    r_cut = min(4.0 * L if r_cut is None else float(r_cut), 0.5 * float(box.min()) - 1e-9)
    x = np.mod(np.asarray(positions, float)[centers], box)
    tree = cKDTree(x, boxsize=box)
    pairs = tree.sparse_distance_matrix(tree, r_cut, output_type="coo_matrix")
    off = pairs.row != pairs.col  # the self term (r = 0, weight 1) is added once below
    row, col, w = pairs.row[off], pairs.col[off], np.exp(-pairs.data[off] / L)
    num = np.bincount(row, w * values[col], minlength=len(values)) + values
    den = np.bincount(row, w, minlength=len(values)) + 1.0
    return num / den
