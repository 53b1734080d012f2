"""Structure against machine learning: per-particle predictors of rearrangements and their metrics.

Predictors of a rearrangement, all per A particle and frame:

* radial structure functions G_A(i; mu), G_B(i; mu) (Gaussian shells of width L, Schoenholz et al.,
  Nat. Phys. 12, 469 (2016)) and, optionally, species-blind angular functions; a linear SVM on them
  gives the machine-learning softness S_ML (the signed distance to the hyperplane);
* physics baselines: the potential energy e_i = 1/2 sum_j U(r_ij) (the KA potential of
  :mod:`softlib.ka`), the number of neighbours inside the first shell [r_lo, r_hi] of g_AA / g_AB,
  and the Voronoi volume (freud).

Training data (:func:`training_examples`) follow Schoenholz et al.: "soft" = A particles at the first
frame of a rearrangement event (p_hop > p_c), "hard" = A particles whose p_hop stays below p_c over a
window of about tau_alpha around the frame; balanced classes, example frames spaced by at least the
p_hop window, training and test sets on different frames.

Metrics (:func:`classification_metrics`): ROC AUC (Mann-Whitney form), balanced accuracy at a
threshold chosen on the training set, bootstrap errors over the test frames (examples of one frame are
correlated) or, without frame ids, over the test examples of each class; :func:`decile_contrast` (P_R
in the top against the bottom decile of a predictor).
"""
from __future__ import annotations

import numpy as np
from scipy.ndimage import maximum_filter1d
from scipy.stats import rankdata

from .. import ka
from .._checks import as_box, as_positions, as_species
from . import _predictor_kernels as _k

#: default shells of the radial structure functions (sigma_AA): 0.4 ... 5.0 in steps of 0.1
MU_DEFAULT = np.round(np.arange(0.4, 5.0 + 1e-9, 0.1), 10)
#: default Gaussian width L of a shell (sigma_AA)
WIDTH_DEFAULT = 0.1
#: default angular parameter triples (xi, lambda, zeta)
ANGULAR_DEFAULT = tuple((xi, lam, z) for xi in (1.0, 1.5, 2.0) for lam in (-1.0, 1.0) for z in (1.0, 2.0))


# --------------------------------------------------------------------------- features of one frame
def _limits_arrays(limits):
    """(r_lo, r_hi), each (2,), from {'AA': (lo, hi), 'AB': (lo, hi)} (A centre, neighbour A or B)."""
    lo = np.array([limits["AA"][0], limits["AB"][0]], dtype=float)
    hi = np.array([limits["AA"][1], limits["AB"][1]], dtype=float)
    if np.any(~(hi > lo)) or np.any(lo < 0):
        raise ValueError(f"limits need 0 <= r_lo < r_hi for AA and AB, got {limits}")
    return lo, hi


def frame_features(positions, species, box, centers=None, limits=None, mu=MU_DEFAULT, width=WIDTH_DEFAULT):
    """Radial structure functions, potential energy and first-shell neighbour counts (numba).

    Parameters
    ----------
    positions : (N, 3) float
        One frame (sigma; wrapped or not).
    species : (N,) int
        0 = A, 1 = B.
    box : (3,) float
        Orthorhombic box edges (sigma).
    centers : (C,) int, optional
        Particles to describe (default: all A particles).
    limits : dict, optional
        First-shell range {'AA': (r_lo, r_hi), 'AB': (r_lo, r_hi)} of an A centre (sigma), e.g. the
        integration limits of the calibration; default (0, 1.45) and (0, 1.25).
    mu : (M,) float
        Uniformly spaced shell centres (sigma).
    width : float
        Shell width L (sigma).

    Returns
    -------
    dict with ``G`` (C, 2, M) (G[:, 0] from A neighbours, G[:, 1] from B), ``epot`` (C,) in eps_AA,
    ``count`` (C, 2) int neighbours of each species in [r_lo, r_hi], ``centers`` (C,).
    """
    pos = as_positions(positions)
    sp = as_species(species, pos.shape[0]).astype(np.int64)
    b = as_box(box)
    c = np.flatnonzero(sp == 0) if centers is None else np.asarray(centers, dtype=np.int64)
    mu = np.asarray(mu, dtype=float)
    if mu.ndim != 1 or mu.size < 1 or (mu.size > 1 and np.ptp(np.diff(mu)) > 1e-9 * max(1.0, mu[-1])):
        raise ValueError("mu must be a 1-d array of uniformly spaced shell centres")
    if not width > 0:
        raise ValueError(f"width must be positive, got {width}")
    lo, hi = _limits_arrays(limits or {"AA": (0.0, 1.45), "AB": (0.0, 1.25)})
    G, e, n = _k.frame_features(pos, sp, b, c, mu, float(width), ka.EPSILON, ka.SIGMA, ka.RCUT, ka.ESHIFT, lo, hi)
    return {"G": G, "epot": e, "count": n, "centers": c}


def structure_functions_numpy(positions, species, box, centers=None, mu=MU_DEFAULT, width=WIDTH_DEFAULT):
    """Plain numpy version of the structure functions (all periodic images within reach), (C, 2, M).

    The reference of the benchmark and of the tests: no numba, one vectorised exp per
    (image pair, shell).
    """
    pos = as_positions(positions)
    sp = as_species(species, pos.shape[0])
    b = as_box(box)
    c = np.flatnonzero(sp == 0) if centers is None else np.asarray(centers, dtype=np.int64)
    mu = np.asarray(mu, dtype=float)
    r_max = mu[-1] + 6.0 * width
    n = np.ceil(r_max / b).astype(int)
    shifts = np.array(np.meshgrid(*[np.arange(-k, k + 1) for k in n], indexing="ij")).reshape(3, -1).T * b
    out = np.zeros((c.size, 2, mu.size))
    for a, i in enumerate(c):
        d = pos - pos[i]
        d -= b * np.rint(d / b)
        r = np.linalg.norm(d[None, :, :] + shifts[:, None, :], axis=-1)  # (images, N)
        ok = (r > 0) & (r <= r_max)
        for v in (0, 1):
            rv = r[ok & (sp == v)[None, :]]
            out[a, v] = np.exp(-((rv[:, None] - mu[None, :]) ** 2) / (2 * width**2)).sum(0)
    return out


def angular_functions(positions, box, centers, params=ANGULAR_DEFAULT, r_cut=None):
    """Species-blind angular structure functions Psi(i; xi, lambda, zeta), (C, P) (numba).

    ``r_cut`` defaults to 2 max(xi) (the Gaussian factor is below e^-8 beyond) and must stay below half
    the box: the neighbours are found by minimum image.
    """
    pos = as_positions(positions)
    b = as_box(box)
    p = np.asarray(params, dtype=float).reshape(-1, 3)
    r_cut = 2.0 * p[:, 0].max() if r_cut is None else float(r_cut)
    if r_cut > 0.5 * b.min():
        raise ValueError(f"r_cut {r_cut:g} exceeds half the box {0.5 * b.min():g}: use smaller xi")
    return _k.angular_features(pos, b, np.asarray(centers, dtype=np.int64), p[:, 0].copy(), p[:, 1].copy(),
                               p[:, 2].copy(), r_cut)


def voronoi_volumes(positions, box):
    """Voronoi cell volume of every particle (sigma^3) with freud (periodic orthorhombic box), (N,)."""
    import freud

    b = as_box(box)
    pos = as_positions(positions)
    wrapped = pos - b * np.floor(pos / b) - 0.5 * b  # freud wants [-L/2, L/2)
    fbox = freud.box.Box(Lx=b[0], Ly=b[1], Lz=b[2])
    vor = freud.locality.Voronoi()
    vor.compute((fbox, wrapped.astype(np.float64)))
    return np.asarray(vor.volumes, dtype=float)


# --------------------------------------------------------------------------- training examples
def hard_mask(p_hop, p_c, half_width):
    """(F, N) bool: p_hop stays finite and <= p_c over frames [f - half_width, f + half_width]."""
    p = np.asarray(p_hop, dtype=float)
    bad = np.where(np.isfinite(p), p, np.inf)  # an undefined p_hop never makes a particle hard
    run_max = maximum_filter1d(bad, size=2 * int(half_width) + 1, axis=0, mode="constant", cval=np.inf)
    return run_max <= p_c


def example_frames(grid, first_ok, last_ok, spacing):
    """Grid frames inside [first_ok, last_ok], greedily spaced by at least ``spacing`` frames."""
    out, last = [], -np.inf
    for g in np.asarray(grid, dtype=np.int64):
        if first_ok <= g <= last_ok and g - last >= spacing:
            out.append(int(g))
            last = g
    return np.asarray(out, dtype=np.int64)


def training_examples(p_hop, p_c, events, grid, h, hard_half_width, tolerance, spacing=None):
    """Soft and hard examples of one run on the frames of ``grid``.

    Parameters
    ----------
    p_hop : (F, N_A) float
        On every dense frame (NaN where the window does not fit).
    p_c : float
        Threshold (sigma^2).
    events : dict
        :func:`softlib.analysis.dynamics.rearrangement_events` of ``p_hop``.
    grid : (G,) int
        Frames where features exist (increasing).
    h : int
        Frames per half-window of p_hop; events starting at or before frame h are left-censored and
        never used.
    hard_half_width : int
        A hard particle keeps p_hop <= p_c over [g - hard_half_width, g + hard_half_width] (frames).
    tolerance : int
        A soft example at grid frame g is a particle whose event starts in [g, g + tolerance) (frames):
        the structure is read at most ``tolerance`` frames before the jump starts, never after.
    spacing : int, optional
        Example frames are at least this many frames apart (default 2 h, the p_hop window).

    Returns
    -------
    dict of (E,) arrays ``frame`` (index into ``grid``), ``particle``, ``label`` (1 soft, 0 hard) and
    ``slot`` (0, 1, ... the rank of the example frame, for train/test splits by frame).
    """
    p = np.asarray(p_hop, dtype=float)
    F = p.shape[0]
    grid = np.asarray(grid, dtype=np.int64)
    spacing = 2 * int(h) if spacing is None else int(spacing)
    w = max(int(hard_half_width), 0)
    # the hard window must lie where p_hop is defined (frames h .. F - 1 - h); soft events start after h
    lo, hi = int(h) + max(w, 1), F - 1 - int(h) - w
    frames = example_frames(grid, lo, hi, spacing)
    hard = hard_mask(p, p_c, w)
    first, part = np.asarray(events["first"]), np.asarray(events["particle"])
    ok = first > h
    first, part = first[ok], part[ok]
    rows = {"frame": [], "particle": [], "label": [], "slot": []}
    gpos = {int(g): k for k, g in enumerate(grid)}
    for slot, g in enumerate(frames):
        soft = np.unique(part[(first >= g) & (first < g + tolerance)])
        hd = np.setdiff1d(np.flatnonzero(hard[g]), soft)
        for lab, idx in ((1, soft), (0, hd)):
            rows["frame"].append(np.full(idx.size, gpos[int(g)]))
            rows["particle"].append(idx)
            rows["label"].append(np.full(idx.size, lab))
            rows["slot"].append(np.full(idx.size, slot))
    return {k: (np.concatenate(v).astype(np.int64) if v else np.zeros(0, np.int64)) for k, v in rows.items()}


def balance(labels, rng):
    """Indices of a class-balanced subset: the larger class subsampled (without replacement) to the smaller."""
    y = np.asarray(labels)
    pos, neg = np.flatnonzero(y == 1), np.flatnonzero(y == 0)
    n = min(pos.size, neg.size)
    keep = np.concatenate([rng.choice(pos, n, replace=False), rng.choice(neg, n, replace=False)])
    return np.sort(keep)


# --------------------------------------------------------------------------- classification metrics
def roc_auc(scores, labels):
    """Area under the ROC curve as the Mann-Whitney statistic U / (n_1 n_0) (ties count one half).

    Higher scores are taken to mean class 1 (soft). NaN when a class is empty.
    """
    s = np.asarray(scores, dtype=float)
    y = np.asarray(labels).astype(bool)
    n1, n0 = int(y.sum()), int((~y).sum())
    if n1 == 0 or n0 == 0:
        return np.nan
    r = rankdata(s)
    return float((r[y].sum() - n1 * (n1 + 1) / 2.0) / (n1 * n0))


def balanced_accuracy(predicted, labels):
    """Mean of the true-positive and true-negative rates of 0/1 predictions."""
    p = np.asarray(predicted).astype(bool)
    y = np.asarray(labels).astype(bool)
    if y.all() or (~y).all():
        raise ValueError("balanced accuracy needs examples of both classes")
    return float(0.5 * (p[y].mean() + (~p[~y]).mean()))


def best_threshold(scores, labels):
    """The threshold t (predict soft when score > t) with the largest balanced accuracy on these data.

    Candidates are the midpoints between consecutive distinct scores (and below the smallest).
    """
    s = np.asarray(scores, dtype=float)
    y = np.asarray(labels).astype(bool)
    u = np.unique(s)
    cand = np.r_[u[0] - 1.0, 0.5 * (u[1:] + u[:-1])] if u.size > 1 else u - 1.0
    # rates for all candidates at once: counts of each class above every candidate
    s1, s0 = np.sort(s[y]), np.sort(s[~y])
    tpr = 1.0 - np.searchsorted(s1, cand, side="right") / max(s1.size, 1)
    tnr = np.searchsorted(s0, cand, side="right") / max(s0.size, 1)
    return float(cand[int(np.argmax(0.5 * (tpr + tnr)))])


def orientation(scores, labels):
    """+1 when larger scores mean soft (AUC >= 1/2 on these data), else -1."""
    a = roc_auc(scores, labels)
    return 1.0 if not np.isfinite(a) or a >= 0.5 else -1.0


def classification_metrics(train_scores, train_labels, test_scores, test_labels, threshold=None, n_boot=200,
                           seed=0, test_groups=None):
    """AUC and balanced accuracy on the test set, orientation and threshold from the training set.

    Parameters
    ----------
    train_scores, train_labels, test_scores, test_labels : (E,) arrays
        Scores of a predictor and 0/1 labels (1 = soft).
    threshold : float, optional
        Fixed threshold on the oriented score (e.g. 0 for an SVM's decision function); default the best
        single threshold on the training set (:func:`best_threshold`).
    n_boot : int
        Bootstrap replicates over test examples, each class resampled separately.
    test_groups : (E_test,) int, optional
        Example frame of each test example. Examples of one frame are correlated (neighbours rearrange
        together), so when given the bootstrap resamples whole frames instead of examples; this gives
        the larger, honest error.

    Returns
    -------
    dict ``auc``, ``auc_error``, ``balanced_accuracy``, ``balanced_accuracy_error``, ``sign`` (+1/-1),
    ``threshold``, ``auc_train``, ``n_train``, ``n_test``.
    """
    tr_s, te_s = np.asarray(train_scores, float), np.asarray(test_scores, float)
    tr_y, te_y = np.asarray(train_labels).astype(int), np.asarray(test_labels).astype(int)
    sign = orientation(tr_s, tr_y) if threshold is None else 1.0
    tr_s, te_s = sign * tr_s, sign * te_s
    thr = best_threshold(tr_s, tr_y) if threshold is None else float(threshold)
    auc = roc_auc(te_s, te_y)
    ba = balanced_accuracy(te_s > thr, te_y)
    rng = np.random.default_rng(seed)
    i1, i0 = np.flatnonzero(te_y == 1), np.flatnonzero(te_y == 0)
    if test_groups is not None:
        g = np.asarray(test_groups)
        if g.shape != te_y.shape:
            raise ValueError(f"test_groups needs one entry per test example, got {g.shape} for {te_y.shape}")
        members = [np.flatnonzero(g == k) for k in np.unique(g)]
    boot = np.full((n_boot, 2), np.nan)
    for b in range(n_boot):
        if test_groups is None:
            idx = np.r_[rng.choice(i1, i1.size), rng.choice(i0, i0.size)]
        else:
            idx = np.concatenate([members[k] for k in rng.integers(0, len(members), len(members))])
        if 0 < te_y[idx].sum() < idx.size:  # a resample of frames may, rarely, miss a class
            boot[b] = roc_auc(te_s[idx], te_y[idx]), balanced_accuracy(te_s[idx] > thr, te_y[idx])
    err = np.nanstd(boot, axis=0, ddof=1) if n_boot > 1 else np.full(2, np.nan)
    return {"auc": auc, "auc_error": float(err[0]), "balanced_accuracy": ba, "balanced_accuracy_error": float(err[1]),
            "sign": sign, "threshold": thr, "auc_train": roc_auc(tr_s, tr_y), "n_train": int(tr_y.size),
            "n_test": int(te_y.size)}


def decile_edges(values, n=10):
    """Quantile edges of the finite values (duplicates merged, for discrete predictors), last edge nudged up
    so the largest value falls inside."""
    v = np.asarray(values, dtype=float).ravel()
    v = v[np.isfinite(v)]
    e = np.unique(np.quantile(v, np.linspace(0, 1, n + 1)))
    e[-1] = np.nextafter(e[-1], np.inf)
    return e


def decile_contrast(p_r, p_r_err):
    """P_R of the top bin over P_R of the bottom bin, with the propagated error (NaN if either is 0)."""
    p, e = np.asarray(p_r, float), np.asarray(p_r_err, float)
    if p.size < 2 or not (p[0] > 0 and p[-1] > 0):
        return np.nan, np.nan
    c = p[-1] / p[0]
    return float(c), float(c * np.hypot(e[-1] / p[-1], e[0] / p[0]))


# --------------------------------------------------------------------------- the linear SVM
def fit_svm(X, y, Cs=(1e-3, 1e-2, 1e-1, 1.0), cv=5, seed=0, groups=None):
    """Standardised features and a linear SVM, C chosen by stratified cross-validation (ROC AUC).

    Parameters
    ----------
    X : (E, P) float
        Features of the training examples.
    y : (E,) int
        1 = soft, 0 = hard.
    Cs : sequence of float
        Candidate penalties.
    cv : int
        Folds (reduced to the size of the smaller class, or to the number of groups, when that is smaller).
    groups : (E,) int, optional
        Example frame of each training example: folds then keep whole frames together
        (StratifiedGroupKFold), so that correlated examples of one frame never sit on both sides of a
        fold and the cross-validated AUC does not reward overfitting.

    Returns
    -------
    dict: ``model`` (fitted sklearn Pipeline; ``model.decision_function(X)`` is S_ML), ``C``, ``cv_auc``
    (mean cross-validated AUC at that C), ``weights`` (P,) in units of the standardised features.
    """
    from sklearn.model_selection import GridSearchCV, StratifiedGroupKFold, StratifiedKFold
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import LinearSVC

    y = np.asarray(y).astype(int)
    n_min = int(min((y == 1).sum(), (y == 0).sum()))
    if n_min < 2:
        raise ValueError(f"the SVM needs at least 2 examples of each class, got {n_min}")
    if groups is None:
        folds = StratifiedKFold(n_splits=max(2, min(int(cv), n_min)), shuffle=True, random_state=seed)
    else:
        n_groups = np.unique(groups).size
        if n_groups < 2:
            raise ValueError("grouped cross-validation needs examples from at least 2 frames")
        folds = StratifiedGroupKFold(n_splits=max(2, min(int(cv), n_min, n_groups)), shuffle=True,
                                     random_state=seed)
    pipe = make_pipeline(StandardScaler(), LinearSVC(max_iter=20000, random_state=seed))
    search = GridSearchCV(pipe, {"linearsvc__C": list(Cs)}, cv=folds, scoring="roc_auc")
    search.fit(np.asarray(X, dtype=float), y, groups=groups)
    best = search.best_estimator_
    return {"model": best, "C": float(search.best_params_["linearsvc__C"]), "cv_auc": float(search.best_score_),
            "weights": best.named_steps["linearsvc"].coef_.ravel().copy()}
