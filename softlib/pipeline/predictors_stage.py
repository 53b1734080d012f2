"""Notebook 07's steps: every predictor of a rearrangement on the same particle-frames, with the same metrics.

run_data               one run: p_hop, events, the feature frames ("grid"), all predictors there, the examples
temperature_analysis   one temperature: the SVM, the metrics of every predictor, P_R over deciles
arrhenius_by_predictor P_R(predictor) on shared bins, the Arrhenius fits and the onset (crossing) temperature
shoulders              P(S) decomposed by the number of first-shell neighbours; the Fig. 5(a) fraction with
                       the smoothed and the histogram mode
predictors_result      the contents of predictors.json
"""
from __future__ import annotations

import numpy as np
from scipy.stats import spearmanr

from ..analysis import predictors as pr
from ..analysis import rearrangements as rr
from ..analysis.dynamics import half_window_frames, p_hop, rearrangement_events
from ..analysis.local_softness import softness_parameters
from ..io.store import json_safe, provenance
from ..io.trajectory import load_positions
from . import rearrangement_stage as rs

#: predictors whose values mean the same at every temperature (the Arrhenius analysis applies)
GLOBAL = ("S", "beta_Phi_r", "S_ML_low_T", "epot", "coordination", "voronoi_volume")
#: decision functions of an SVM: their own threshold is 0
SVM_NAMES = ("S_ML", "S_ML_low_T")


def predictors_path(layout):
    """``<data>/<preset>/predictors.json`` (through ``layout.json`` once the stage is registered there)."""
    try:
        return layout.json("predictors")
    except ValueError:
        return layout.data / "predictors.json"


def inputs_of(layout, window, calibration):
    """p_c and tau_alpha per temperature from notebook 05's rearrangements.json (window, calibration checked)."""
    rear = rs.load_tables(layout, window, calibration)["rear"]
    return {float(T): {"p_c": v["p_c"], "tau_alpha": v["tau_alpha"]} for T, v in rear["per_temperature"].items()}


def grid_events(events, grid, h, tolerance):
    """(grid index, particle) of the events that start within ``tolerance`` frames after a grid frame.

    The structure of such an event is read at that grid frame, before the jump; left-censored events
    (first frame <= h) are never used.
    """
    first, part = np.asarray(events["first"]), np.asarray(events["particle"])
    ok = first > h
    first, part = first[ok], part[ok]
    grid = np.asarray(grid)
    k = np.searchsorted(grid, first, side="right") - 1
    keep = (k >= 0) & (first - grid[np.clip(k, 0, None)] < tolerance)
    return k[keep].astype(np.int64), part[keep].astype(np.int64)


def run_data(trajectory, soft, p_c, tau_alpha, limits, window=15.0, frame_interval=1.0, max_frames=100,
             soft_tolerance=1.0, hard_window=1.0, mu=pr.MU_DEFAULT, width=pr.WIDTH_DEFAULT, angular=False,
             label_window=None, read_at_event=True, max_soft=500, seed=0):
    """Everything notebook 07 needs from one run, on a grid of feature frames.

    Parameters
    ----------
    trajectory : path or (times, species, box, positions)
        The run's ``linear.gsd`` (dense frames, all particles).
    soft : dict
        :func:`softlib.io.softness_store.read_softness` of the run (schedule 'linear').
    p_c, tau_alpha : float
        Threshold (sigma^2) and structural relaxation time (tau) of the temperature (notebook 05).
    limits : dict
        First-shell ranges {'AA': (lo, hi), 'AB': (lo, hi)} of the calibration at this temperature.
    window : float
        Delta t of p_hop (tau).
    frame_interval : float
        Feature frames at least this far apart (tau); more when ``max_frames`` would be exceeded.
    max_frames : int
        At most this many feature frames per run (bounds the cost).
    soft_tolerance : float
        A "soft" example starts its event within this time after the feature frame (tau).
    hard_window : float
        A "hard" example keeps p_hop <= p_c over hard_window * tau_alpha centred on the frame.
    mu, width, angular
        Shells of the radial structure functions; add the angular functions.
    label_window : float, optional
        Delta t of the p_hop that labels the training and test examples (tau); default ``window``. The
        first frame of an event lies up to half this window before the jump, and example frames are
        spaced by the window: a window of order tau_alpha reads the structure long before the jump and
        leaves few independent frames (Schoenholz et al. use a window much shorter than tau_alpha).
        Fig. 5(a) fractions, P_R and the Arrhenius analysis always use ``window`` (notebook 05's).
    read_at_event : bool
        Read every predictor of a soft example at the first frame of its event (as Schoenholz et al.), not
        at the example frame up to ``soft_tolerance`` earlier; hard examples stay on their example frame.
        Falls back to the example frame where the softness was not stored at the event's first frame.
    max_soft : int
        At most this many soft examples per run (a random subset, ``seed``): each costs a Voronoi
        tessellation of its frame, and hot runs have thousands of events.

    Returns
    -------
    dict with ``grid`` (G,) frame indices, ``X`` (G, N_A, P) float32 features, ``values`` {predictor:
    (G, N_A)}, ``p_hop`` (G, N_A), ``examples`` (:func:`predictors.training_examples`), ``events`` (grid
    index, particle) for P(S|R), ``h``, ``dt``, ``n_events`` and ``tolerance`` (frames); ``read_frame`` (E,),
    ``example_X`` (E, P) and ``example_values`` {predictor: (E,)}: each example at the frame it is read.
    """
    if isinstance(trajectory, tuple):
        times, species, box, pos = trajectory
    elif hasattr(trajectory, "open"):  # a RunSource of the notebook's Context: its own timestep and species
        tr = trajectory.open("linear")
        times, species, box, pos = (np.asarray(tr.times), np.asarray(tr.species), np.asarray(tr.box),
                                    np.asarray(tr.positions))
    else:
        times, species, box, pos = load_positions(trajectory)
    a = np.asarray(soft["a_index"], dtype=np.int64)
    h = half_window_frames(times, window)
    dt = float(np.median(np.diff(times)))
    ph = p_hop(pos[:, a], times, window)
    events = rearrangement_events(ph, p_c)
    sf = rr.match_frames(soft["times"], times)
    ok = np.flatnonzero((sf >= h) & (sf <= len(times) - 1 - h))
    if ok.size == 0:
        raise ValueError("no softness frame lies where p_hop is defined: the run is shorter than the window")
    soft_step = float(np.median(np.diff(sf))) if sf.size > 1 else 1.0  # softness frames may be a subset
    step = max(1, int(round(frame_interval / dt / soft_step)), int(np.ceil(ok.size / max_frames)))
    pick = ok[::step]
    grid = sf[pick]
    feats, extra = [], {"epot": [], "coordination": [], "voronoi_volume": []}
    for f in grid:
        ff = pr.frame_features(pos[f], species, box, a, limits, mu, width)
        x = ff["G"].reshape(a.size, -1)
        if angular:
            x = np.hstack([x, pr.angular_functions(pos[f], box, a)])
        feats.append(x.astype(np.float32))
        extra["epot"].append(ff["epot"])
        extra["coordination"].append(ff["count"].sum(1).astype(float))
        extra["voronoi_volume"].append(pr.voronoi_volumes(pos[f], box)[a])
    values = {"S": np.asarray(soft["softness"][pick], dtype=float),
              "beta_Phi_r": np.asarray(soft["depth"][pick], dtype=float),
              **{k: np.asarray(v) for k, v in extra.items()}}
    tol = max(1, int(round(soft_tolerance / dt)))
    hw = int(round(0.5 * hard_window * tau_alpha / dt))
    if label_window is None or float(label_window) == float(window):
        ph_l, ev_l, h_l = ph, events, h
    else:
        h_l = half_window_frames(times, label_window)
        ph_l = p_hop(pos[:, a], times, label_window)
        ev_l = rearrangement_events(ph_l, p_c)
    ex = pr.training_examples(ph_l, p_c, ev_l, grid, h_l, hw, tol)
    soft_ex = np.flatnonzero(ex["label"] == 1)
    if soft_ex.size > max_soft:
        drop = np.random.default_rng(seed).choice(soft_ex, soft_ex.size - int(max_soft), replace=False)
        keep = np.setdiff1d(np.arange(ex["label"].size), drop)
        ex = {k: v[keep] for k, v in ex.items()}
    ev = grid_events(events, grid, h, tol)
    X = np.stack(feats)
    read = read_frames(ex, ev_l, grid, h_l, tol, sf) if read_at_event else grid[ex["frame"]]
    ex_X, ex_values = example_features(ex, read, grid, X, values, pos, species, box, a, soft, sf, limits, mu,
                                       width, angular)
    return {"grid": grid, "times": np.asarray(times)[grid], "X": X, "values": values,
            "example_X": ex_X, "example_values": ex_values, "read_frame": read,
            "p_hop": ph[grid], "examples": ex, "events": ev, "h": h, "dt": dt, "tolerance": tol,
            "n_events": int(events["first"].size), "h_label": h_l}


def read_frames(examples, events, grid, h, tolerance, soft_frames):
    """Frame where each example is read: the first frame of a soft example's event, a hard example's own frame.

    Parameters
    ----------
    examples : dict of :func:`predictors.training_examples` (``frame`` indexes ``grid``).
    events : dict, the label events (:func:`rearrangement_events`) behind the examples.
    grid : (G,) int; h : int, half-window of the label p_hop (events at or before h are censored);
    tolerance : int, frames; soft_frames : (K,) int, frames where the softness is stored.

    Returns
    -------
    (E,) int trajectory frames; a soft example whose event starts on a frame without softness keeps its
    example frame.
    """
    g = np.asarray(grid)[examples["frame"]]
    out = g.copy()
    first, part = np.asarray(events["first"]), np.asarray(events["particle"])
    ok = first > h
    order = np.lexsort((first[ok], part[ok]))
    f_s, p_s = first[ok][order], part[ok][order]
    have = np.zeros(int(max(np.max(soft_frames, initial=0), np.max(g, initial=0))) + 2, dtype=bool)
    have[np.asarray(soft_frames)] = True
    for e in np.flatnonzero(examples["label"] == 1):
        p = examples["particle"][e]
        lo, hi = np.searchsorted(p_s, p, "left"), np.searchsorted(p_s, p, "right")
        f = f_s[lo:hi]
        f = f[(f >= g[e]) & (f < g[e] + tolerance)]
        if f.size and f[0] < have.size and have[f[0]]:
            out[e] = f[0]
    return out


def example_features(examples, read, grid, X, values, pos, species, box, a, soft, soft_frames, limits, mu,
                     width, angular):
    """Features (E, P) float32 and every predictor (E,) of each example at its read frame.

    Examples read on a grid frame reuse the grid's arrays; the others (soft examples read at their event's
    first frame) are computed for their particles only, which costs little: the kernel's work scales with
    the number of centres.
    """
    frame, part = examples["frame"], examples["particle"]
    E = frame.size
    ex_X = np.zeros((E, X.shape[2]), dtype=np.float32)
    ex_v = {k: np.zeros(E) for k in values}
    on_grid = read == grid[frame]
    ex_X[on_grid] = X[frame[on_grid], part[on_grid]]
    for k in values:
        ex_v[k][on_grid] = values[k][frame[on_grid], part[on_grid]]
    row = {int(f): k for k, f in enumerate(soft_frames)}
    for f in np.unique(read[~on_grid]):
        sel = np.flatnonzero(~on_grid & (read == f))
        c = a[part[sel]]
        ff = pr.frame_features(pos[f], species, box, c, limits, mu, width)
        x = ff["G"].reshape(c.size, -1)
        if angular:
            x = np.hstack([x, pr.angular_functions(pos[f], box, c)])
        ex_X[sel] = x
        ex_v["epot"][sel] = ff["epot"]
        ex_v["coordination"][sel] = ff["count"].sum(1)
        ex_v["voronoi_volume"][sel] = pr.voronoi_volumes(pos[f], box)[c]
        ex_v["S"][sel] = soft["softness"][row[int(f)], part[sel]]
        ex_v["beta_Phi_r"][sel] = soft["depth"][row[int(f)], part[sel]]
    return ex_X, ex_v


def _split(runs, rng):
    """Train / test example indices per run: sample 0 against the others, else alternating example frames."""
    out = []
    for k, d in enumerate(runs):
        ex = d["examples"]
        if len(runs) >= 2:
            train = np.full(ex["label"].size, k == 0)
        else:
            train = ex["slot"] % 2 == 0
        out.append(train)
    sets = {}
    for name, want in (("train", True), ("test", False)):
        rows = [(k, np.flatnonzero(tr == want)) for k, tr in enumerate(out)]
        run = np.concatenate([np.full(i.size, k) for k, i in rows]) if rows else np.zeros(0, int)
        idx = np.concatenate([i for _, i in rows]) if rows else np.zeros(0, int)
        lab = np.concatenate([runs[k]["examples"]["label"][i] for k, i in rows]) if rows else np.zeros(0, int)
        n_min = min(int((lab == 1).sum()), int((lab == 0).sum()))
        keep = pr.balance(lab, rng) if n_min > 0 else np.zeros(0, int)
        sets[name] = (run[keep], idx[keep], lab[keep])
    return sets


def _groups(runs, sel):
    """Frame id (run, example slot) of each example of ``sel`` = (run, index, label), as one int: the unit of
    the grouped cross-validation and of the bootstrap (examples of one frame are correlated)."""
    run, idx, _ = sel
    slot = np.asarray([runs[k]["examples"]["slot"][i] for k, i in zip(run, idx)], dtype=np.int64)
    return np.asarray(run, dtype=np.int64) * 1_000_000 + slot


def _gather(runs, sel, key):
    """Values of predictor ``key`` (or the features, key=None) at the examples ``sel`` = (run, index, label)."""
    run, idx, _ = sel
    out = []
    for k, i in zip(run, idx):
        ex = runs[k]["examples"]
        f, p = ex["frame"][i], ex["particle"][i]
        if "example_X" in runs[k]:  # each example at its own read frame (run_data)
            out.append(runs[k]["example_X"][i] if key is None else runs[k]["example_values"][key][i])
        else:
            out.append(runs[k]["X"][f, p] if key is None else runs[k]["values"][key][f, p])
    return np.asarray(out, dtype=float)


def temperature_analysis(runs, p_c, low_model=None, Cs=(1e-3, 1e-2, 1e-1, 1.0), cv=5, min_per_class=10,
                         n_boot=200, seed=0):
    """The SVM and every predictor's metrics at one temperature (samples pooled).

    Parameters
    ----------
    runs : list of :func:`run_data` results (the samples of one temperature).
    p_c : float
    low_model : fitted SVM pipeline of the lowest temperature, applied here as ``S_ML_low_T`` (optional).
    Cs, cv : SVM penalties and folds; min_per_class : fewest examples per class in each of train and test.
    n_boot, seed : bootstrap replicates and seed.

    Returns
    -------
    dict: ``metrics`` {predictor: {...}}, ``svm`` (model, C, ...) or None, ``notes``, ``n_examples``, ``roc``
    {predictor: (oriented test scores, labels)}, ``values`` (adds S_ML, S_ML_low_T to each run's values).
    """
    rng = np.random.default_rng(seed)
    sets = _split(runs, rng)
    n_tr, n_te = len(sets["train"][2]) // 2, len(sets["test"][2]) // 2
    notes, svm = [], None
    res = {"n_examples": {"train_per_class": n_tr, "test_per_class": n_te}, "notes": notes, "metrics": {},
           "roc": {}}
    if min(n_tr, n_te) < min_per_class:
        notes.append(f"too few examples to train and test (per class: {n_tr} train, {n_te} test, need "
                     f">= {min_per_class}): no metrics at this temperature")
        res["svm"] = None
        return res
    y_tr, y_te = sets["train"][2], sets["test"][2]
    g_tr, g_te = _groups(runs, sets["train"]), _groups(runs, sets["test"])
    svm = pr.fit_svm(_gather(runs, sets["train"], None), y_tr, Cs, cv, seed, groups=g_tr)
    for d in runs:
        G, N, P = d["X"].shape
        flat = d["X"].reshape(-1, P)
        d["values"]["S_ML"] = svm["model"].decision_function(flat).reshape(G, N)
        if low_model is not None:
            d["values"]["S_ML_low_T"] = low_model.decision_function(flat).reshape(G, N)
        if "example_X" in d:
            d["example_values"]["S_ML"] = svm["model"].decision_function(d["example_X"])
            if low_model is not None:
                d["example_values"]["S_ML_low_T"] = low_model.decision_function(d["example_X"])
    res["svm"] = svm
    for name in runs[0]["values"]:
        tr, te = _gather(runs, sets["train"], name), _gather(runs, sets["test"], name)
        m = pr.classification_metrics(tr, y_tr, te, y_te, 0.0 if name in SVM_NAMES else None, n_boot, seed,
                                      test_groups=g_te)
        m.update(_population_metrics(runs, name, m["sign"], p_c, n_boot, seed))
        res["metrics"][name] = m
        res["roc"][name] = (m["sign"] * te, y_te)
    return res


def _pooled(runs, name, sign):
    """Oriented values of all runs side by side (G, sum N_A), event values and event particles (numbered across
    runs), and the per-run (values, p_hop) pairs."""
    G = min(d["values"][name].shape[0] for d in runs)
    vals, ev_v, ev_p, off = [], [], [], 0
    for d in runs:
        v = sign * d["values"][name]
        vals.append(v[:G])
        g, p = d["events"]
        keep = g < G
        ev_v.append(v[g[keep], p[keep]])
        ev_p.append(p[keep] + off)
        off += v.shape[1]
    ev_v, ev_p = np.concatenate(ev_v), np.concatenate(ev_p)
    fin = np.isfinite(ev_v)
    return np.hstack(vals), ev_v[fin], ev_p[fin]


def _population_metrics(runs, name, sign, p_c, n_boot, seed):
    """Fig. 5(a) fractions, P_R contrast over deciles and the rank correlation with S, on all particle-frames."""
    vals, ev_v, ev_p = _pooled(runs, name, sign)
    out = {}
    if ev_v.size:
        fr = rr.fraction_analysis(vals, ev_v, ev_p, n_boot=n_boot, seed=seed)
        for k in ("fraction_above_peak", "baseline_above_peak", "fraction_above_median"):
            out[k], out[k + "_error"] = fr[k]["value"], fr[k]["error"]
    edges = pr.decile_edges(vals)
    tabs = [rr.rearrangement_table(sign * d["values"][name], d["p_hop"], p_c, edges) for d in runs]
    p, e = rr.rearrangement_probability(np.vstack([t[0] for t in tabs]), np.vstack([t[1] for t in tabs]),
                                        n_boot, seed)
    out["contrast"], out["contrast_error"] = pr.decile_contrast(p, e)
    out["P_R_deciles"] = p
    s = np.hstack([d["values"]["S"][: vals.shape[0]] for d in runs])
    ok = np.isfinite(s) & np.isfinite(vals)
    take = np.flatnonzero(ok.ravel())[:: max(1, int(ok.sum()) // 200_000)]
    out["spearman_with_S"] = float(spearmanr(s.ravel()[take], sign * vals.ravel()[take]).statistic)
    return out


def arrhenius_by_predictor(runs_by_T, p_c_by_T, names=GLOBAL, signs=None, n_bins=8, t_selective=0.60,
                           min_frames=20, n_boot=200, seed=0):
    """P_R(predictor) on bins shared by all temperatures, the Arrhenius fits and the onset temperature.

    Reuses :func:`rearrangement_stage.arrhenius_fits` on per-particle tables of the feature frames.

    Returns {name: {'edges', 'P_R' {T: (p, err)}, 'fits', 'shown', 'onset' {T, low, high, fit}} or
    {'reason'}}.
    """
    temps = sorted(runs_by_T)
    out = {}
    for name in names:
        sg = (signs or {}).get(name, 1.0)
        try:
            if any(name not in d["values"] for T in temps for d in runs_by_T[T]):
                raise ValueError("not computed at every temperature")
            edges = rr.shared_bins([np.concatenate([(sg * d["values"][name]).ravel() for d in runs_by_T[T]])
                                    for T in temps], n_bins=n_bins)
            tables, pr_T = [], {}
            for T in temps:
                t = [rr.rearrangement_table(sg * d["values"][name], d["p_hop"], p_c_by_T[T], edges)
                     for d in runs_by_T[T]]
                tables.append((np.vstack([a for a, _ in t]), np.vstack([r for _, r in t])))
                pr_T[T] = dict(zip(("P_R", "P_R_err"), rr.rearrangement_probability(*tables[-1], n_boot, seed)))
            fits, reason = rs.arrhenius_fits(temps, tables, edges, t_selective, min_frames, n_boot, seed)
            shown, label = rs.shown_fit(fits, t_selective)
            c = fits[shown].crossing
            out[name] = {"edges": edges, "P_R": pr_T, "fits": fits, "shown": shown, "label": label,
                         "selective_reason": reason, "sign": sg,
                         "onset": {"T": c["T"], "low": c["low"], "high": c["high"], "fit": label[shown]}}
        except ValueError as e:
            out[name] = {"reason": str(e)}
    return out


def shoulders(runs, n_bins=60, quantiles=(0.0005, 0.9995)):
    """P(S) as a mixture over the number n of first-shell neighbours, and the Fig. 5(a) fraction with two modes.

    Returns dict: ``edges`` (n_bins + 1,), ``P_S`` (n_bins,), ``by_n`` {n: {'weight', 'mean_S', 'P'}} with
    P the density of the component scaled by its weight (components sum to P_S), ``mode_hist`` (the largest
    bin of the histogram), ``mode_smooth`` (:func:`rearrangements.fraction_analysis`' smoothed mode) and the
    fractions of events above each.
    """
    S = np.hstack([d["values"]["S"] for d in runs])
    n = np.hstack([d["values"]["coordination"] for d in runs])
    ok = np.isfinite(S)
    s, nn = S[ok], n[ok].astype(int)
    edges = np.linspace(*np.quantile(s, quantiles), n_bins + 1)
    total = np.histogram(s, edges)[0] / (s.size * np.diff(edges))
    by_n = {}
    for k in np.unique(nn):
        m = nn == k
        if m.mean() < 0.005:
            continue
        by_n[int(k)] = {"weight": float(m.mean()), "mean_S": float(s[m].mean()),
                        "P": np.histogram(s[m], edges)[0] / (s.size * np.diff(edges))}
    vals, ev_v, ev_p = _pooled(runs, "S", 1.0)
    fr = rr.fraction_analysis(vals, ev_v, ev_p, n_boot=50, seed=0)
    c = 0.5 * (edges[1:] + edges[:-1])
    mode_hist = float(c[int(np.argmax(total))])
    f_hist = float(np.mean(ev_v > mode_hist))
    return {"edges": edges, "P_S": total, "by_n": by_n, "mode_hist": mode_hist, "mode_smooth": fr["peak"],
            "fraction_above_mode_hist": f_hist, "fraction_above_mode_hist_error": float(
                np.sqrt(f_hist * (1 - f_hist) / max(ev_v.size, 1))),
            "fraction_above_mode_smooth": fr["fraction_above_peak"]["value"],
            "fraction_above_mode_smooth_error": fr["fraction_above_peak"]["error"], "n_events": int(ev_v.size)}


def limits_of(cal, T, calibration="paper"):
    """First-shell limits {'AA', 'AB'} of the calibration at T (the integration limits of the depth)."""
    return softness_parameters(cal, T, calibration)["limits"]


def mean_rdf(runs, mu, width, rho_a, rho_b):
    """g_AA, g_AB smoothed by the shells, from the mean structure functions of the A particles: (2, M)."""
    G = np.concatenate([d["X"][..., : 2 * mu.size].reshape(-1, 2, mu.size) for d in runs]).mean(0)
    shell = 4 * np.pi * mu**2 * np.sqrt(2 * np.pi) * width
    return G / (shell * np.array([rho_a, rho_b])[:, None])


def _metric_row(m):
    keys = ("auc", "auc_error", "balanced_accuracy", "balanced_accuracy_error", "fraction_above_peak",
            "fraction_above_peak_error", "baseline_above_peak", "baseline_above_peak_error",
            "fraction_above_median", "fraction_above_median_error", "contrast", "contrast_error",
            "spearman_with_S", "sign", "threshold", "auc_train", "n_train", "n_test", "P_R_deciles")
    return {k: m.get(k) for k in keys}


def predictors_result(preset, temperatures, per_T, arr, shoulder, params):
    """The contents of ``predictors.json`` (strict JSON).

    ``per_T``: {T: temperature_analysis result}; ``arr``: :func:`arrhenius_by_predictor`; ``shoulder``:
    {T: :func:`shoulders`}; ``params``: the notebook parameters (go into the provenance).
    """
    names = sorted({n for T in temperatures for n in per_T[T]["metrics"]})
    out = {"preset": preset, "temperatures": list(temperatures),
           "predictors": {n: {f"{T:.3f}": _metric_row(per_T[T]["metrics"][n]) for T in temperatures
                              if n in per_T[T]["metrics"]} for n in names},
           "svm": {f"{T:.3f}": ({"C": per_T[T]["svm"]["C"], "cv_auc": per_T[T]["svm"]["cv_auc"]}
                                if per_T[T]["svm"] else None) for T in temperatures},
           "examples": {f"{T:.3f}": per_T[T]["n_examples"] for T in temperatures},
           "notes": {f"{T:.3f}": per_T[T]["notes"] for T in temperatures},
           "onset_temperature": {n: (a["onset"] if "onset" in a else {"reason": a["reason"]}) for n, a in arr.items()},
           "shoulders": {f"{T:.3f}": {k: v for k, v in s.items() if k not in ("edges", "P_S", "by_n")}
                         | {"by_n": {str(k): {"weight": b["weight"], "mean_S": b["mean_S"]}
                                     for k, b in s["by_n"].items()}} for T, s in shoulder.items()},
           "provenance": provenance(notebook="07_predictors", preset=preset, **params)}
    return json_safe(out)


def all_temperatures(ctx, tags, temperatures, inputs, cal, soft, calibration="paper", run_options=None,
                     svm_options=None):
    """:func:`run_data` of every run and :func:`temperature_analysis` of every temperature, lowest first; the
    SVM of the lowest temperature with enough examples is applied to all (``S_ML_low_T``).

    Returns (runs_by_T {T: [run data]}, per_T {T: analysis}, T_model: the temperature of that SVM or None).
    """
    runs_by_T, per_T, low, T_model = {}, {}, None, None
    for T in sorted(temperatures):
        # the same (trajectory, softness) pairs as notebook 05 (ctx: the notebook's Context, or a Layout)
        runs_by_T[T] = [run_data(src, s, inputs[T]["p_c"], inputs[T]["tau_alpha"], limits_of(cal, T, calibration),
                                 **(run_options or {})) for src, s in rs.samples_of(ctx, tags[T], soft)]
        per_T[T] = temperature_analysis(runs_by_T[T], inputs[T]["p_c"], low, **(svm_options or {}))
        if low is None and per_T[T]["svm"] is not None:
            low, T_model = per_T[T]["svm"]["model"], T
            for d in runs_by_T[T]:  # at its own temperature the transferred model is the model itself
                d["values"]["S_ML_low_T"] = d["values"]["S_ML"]
                if "example_values" in d:
                    d["example_values"]["S_ML_low_T"] = d["example_values"]["S_ML"]
            per_T[T]["metrics"]["S_ML_low_T"] = per_T[T]["metrics"]["S_ML"]
    if T_model is not None:  # temperatures below T_model had too few examples: apply it there too
        for T in sorted(temperatures):
            if T < T_model:
                for d in runs_by_T[T]:
                    G, N, P = d["X"].shape
                    d["values"]["S_ML_low_T"] = low.decision_function(d["X"].reshape(-1, P)).reshape(G, N)
    return runs_by_T, per_T, T_model
