"""Notebook 05's steps (the core of Fig. 5: per temperature, all samples pooled) and notebook 06's fits.

pool_dynamics          tau_alpha, t*, p_c per temperature from the per-run dynamics (mean over samples)
load_linear_softness   the softness files of every run on the dense frames, calibration checked
softness_edges         the shared softness bins of P_R(S) (or those of another rearrangements.json)
pool_rearrangements    tables, events, fractions, P(S), P(S|R), P_R(S) of all samples of one temperature
window_sensitivity     the fractions at other p_hop windows
rearrangements_result  rearrangements.json; save_tables: the per-particle counts for notebook 06
arrhenius_fits         notebook 06: the fits over all and over the selective temperatures
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..analysis import arrhenius as ar
from ..analysis import rearrangements as rr
from ..io.softness_store import read_softness
from ..io.store import json_safe, provenance, read_json, save_npz
from ..io.trajectory import load_positions

#: keys of pool_rearrangements' result that stay out of rearrangements.json (arrays per particle-frame)
BULKY = ("trace", "S_all", "n_all", "n_rearr", "ev_values", "ev_particle")


def pool_dynamics(runs, tags):
    """Per temperature, the mean over samples of tau_alpha, t*, p_c (dense and log frames).

    ``runs``: {tag: stages.run_dynamics(...)}; ``tags``: {T: [tags]}.
    Returns {T: {'tau_alpha', 't_star', 'p_c', 'p_c_samples', 'log_frames', 'notes'}}.
    """
    keys = ("tau_alpha", "t_star", "p_c")
    per_T = {}
    for T in sorted(tags):
        rs = [runs[t] for t in tags[T]]
        v = {k: float(np.mean([r[k] for r in rs])) for k in keys}
        lv = {k: float(np.mean([r["log_values"][k] for r in rs])) for k in keys}
        per_T[T] = {**v, "p_c_samples": [r["p_c"] for r in rs], "log_frames": lv,
                    "notes": sum((r["notes"] for r in rs), [])}
    return per_T


def load_linear_softness(layout, tags, calibration="paper", softness_dir=None):
    """{tag: read_softness(<softness>/<tag>, 'linear')} with a check of the calibration variant."""
    root = Path(softness_dir) if softness_dir else layout.softness
    soft = {}
    for T in sorted(tags):
        for tag in tags[T]:
            s = read_softness(root / tag, "linear")
            used = s["key"].get("variant", calibration) if isinstance(s["key"], dict) else calibration
            if used != calibration:
                raise ValueError(f"{root / tag} holds softness of calibration {used!r}, not {calibration!r}: "
                                 "point softness_dir at the right files or change the calibration parameter")
            soft[tag] = s
    return soft


def softness_edges(soft, tags, n_bins=8, bins_from=""):
    """The shared softness bins of P_R(S): from ``bins_from`` (a rearrangements.json) if given, else the
    intersection of the 1-99 % quantile ranges of all temperatures (:func:`rearrangements.shared_bins`)."""
    if bins_from:
        return np.asarray(read_json(bins_from)["softness_bins"], dtype=float)
    return rr.shared_bins([np.concatenate([np.asarray(soft[t]["softness"]).ravel() for t in tags[T]])
                           for T in sorted(tags)], n_bins=n_bins)


def _positions(source):
    """(times, unwrapped positions) from a linear.gsd path, a RunSource (its dense frames) or a
    (times, positions) pair."""
    if isinstance(source, (str, Path)):
        t, _, _, pos = load_positions(source)
        return t, pos
    if hasattr(source, "open"):
        if source.kind == "preset":
            t, _, _, pos = load_positions(source.path("linear"))
            return t, pos
        return source.positions("linear")
    if len(source) == 4:  # (times, species, box, positions): a data set run's dense frames (samples_of)
        return source[0], source[3]
    return source


def pool_rearrangements(samples, p_c, edges, window=15.0, lag=0.0, n_boot=200, seed=0, with_trace=False,
                        keep_softness=False):
    """p_hop, events and the softness statistics of Fig. 5 for all samples of one temperature, pooled.

    Parameters
    ----------
    samples : list of (trajectory, softness)
        ``trajectory``: the run's ``linear.gsd`` or RunSource (loaded one at a time), a ``(times, positions)``
        pair or a ``(times, species, box, positions)`` tuple (a data set's run, :func:`samples_of`) of all
        particles; ``softness``: the run's :func:`read_softness` dict (``times``, ``softness``
        (frames, N_A), ``a_index``).
    p_c : float
        Mobility threshold of the temperature (sigma^2).
    edges : (nb + 1,) softness bins of P_R(S).
    window, lag : float
        Delta t of p_hop and the lag of the softness before an event (tau).
    n_boot, seed : bootstrap over particles.
    with_trace : bool
        Keep p_hop and the events of the first sample (``trace``) for the figure of traces.
    keep_softness : bool
        Keep the pooled softness (``S_all``, frames x particles of all samples) for Fig. 5(a).

    Returns
    -------
    dict: ``n_all``, ``n_rearr`` (per particle and bin, samples stacked), ``ev_values``, ``ev_particle``
    (particles numbered across samples), ``n_events``, ``dropped`` (events without softness, by reason),
    ``fraction_rearranging`` (particle-frames with p_hop > p_c among those with both values),
    ``fractions`` (:func:`rearrangements.fraction_analysis`), ``P_S``, ``P_S_given_R``, ``P_R``,
    ``P_R_err``, ``trace``, ``S_all``. Pooling samples equals one sample with all their particles.
    """
    n_all, n_r, S, ev_v, ev_p, dropped, n_ev, trace = [], [], [], [], [], {}, 0, None
    offset, n_valid, n_above = 0, 0, 0
    for source, s in samples:
        t, pos = _positions(source)
        S_run = np.asarray(s["softness"], dtype=float)
        rd = rr.rearrangement_data(t, pos[:, s["a_index"]], s["times"], S_run, p_c, window, lag)
        a, r = rr.rearrangement_table(S_run, rd["p_hop_s"], p_c, edges)
        n_all.append(a)
        n_r.append(r)
        S.append(S_run)
        ev_v.append(rd["ev_values"])
        ev_p.append(rd["ev_particle"] + offset)
        offset += S_run.shape[1]
        n_ev += rd["events"]["first"].size
        ok = np.isfinite(rd["p_hop_s"]) & np.isfinite(S_run)
        n_valid += int(ok.sum())
        n_above += int((rd["p_hop_s"][ok] > p_c).sum())
        for k, v in rd["dropped"].items():
            dropped[k] = dropped.get(k, 0) + v
        if with_trace and trace is None:
            trace = {"t": t, "p_hop": rd["p_hop"], "events": rd["events"]}
        del pos, rd
    nf = min(x.shape[0] for x in S)  # samples share a plan; guard against a ragged last frame
    S = np.hstack([x[:nf] for x in S])
    ev_v, ev_p = np.concatenate(ev_v), np.concatenate(ev_p)
    out = {"n_all": np.vstack(n_all), "n_rearr": np.vstack(n_r), "ev_values": ev_v, "ev_particle": ev_p,
           "n_events": n_ev, "dropped": dropped, "trace": trace,
           "fraction_rearranging": n_above / n_valid}
    out["fractions"] = rr.fraction_analysis(S, ev_v, ev_p, n_boot=n_boot, seed=seed)
    out["P_S"] = rr.softness_density(S, edges)
    out["P_S_given_R"] = rr.softness_density(ev_v, edges)
    out["P_R"], out["P_R_err"] = rr.rearrangement_probability(out["n_all"], out["n_rearr"], n_boot, seed)
    out["S_all"] = S if keep_softness else None
    return out


def samples_of(ctx, tags, soft):
    """The (dense frames, softness) pairs of :func:`pool_rearrangements` for one temperature's tags.

    ``ctx``: the notebook's Context (its run sources: a preset's linear.gsd or a data set's files), or a
    Layout (a preset's ``runs/<tag>/linear.gsd``)."""
    if hasattr(ctx, "source"):
        out = []
        for tag in tags:
            src = ctx.source(tag)
            if src.kind != "preset":
                # a data set's run as arrays (times, species, box, positions), read with its own timestep and
                # species: consumers that reload a path (predictors_stage.run_data) would lose them
                tr = src.open("linear")
                src = (np.asarray(tr.times), np.asarray(tr.species), np.asarray(tr.box), np.asarray(tr[:].positions))
            out.append((src, soft[tag]))
        return out
    return [(ctx.trajectory(tag, "linear"), soft[tag]) for tag in tags]


def window_sensitivity(windows, window, result, rerun, t_production):
    """The fractions at every window of ``windows``; ``result`` is the one at ``window``, ``rerun(w)`` computes
    another. A window longer than half the production is skipped (most frames would lack p_hop).

    Returns a list of dicts (``window`` and either ``skipped`` or the fractions and counts).
    """
    out = []
    for w in windows:
        if t_production < 2 * w:
            out.append({"window": w, "skipped": f"production {t_production:g} < 2 x window"})
            continue
        r = result if w == window else rerun(w)
        f = r["fractions"]
        out.append({"window": w, "fraction_rearranging": r["fraction_rearranging"], "n_events": r["n_events"],
                    **{k: f[k] for k in ("fraction_above_peak", "baseline_above_peak", "fraction_above_median")}})
    return out


def rank_correlation(centers, p_r):
    """Spearman rank correlation of P_R with S over the bins where P_R is finite."""
    from scipy.stats import spearmanr

    p = np.asarray(p_r, dtype=float)
    ok = np.isfinite(p)
    return float(spearmanr(np.asarray(centers)[ok], p[ok]).statistic)


def rearrangements_result(preset, temperatures, tags, edges, per_T, res, soft, sensitivity, window, lag,
                          calibration, n_bins, n_boot, seed, bins_from=""):
    """The contents of ``<data>/<preset>/rearrangements.json`` (strict JSON: NaN as null)."""
    out = {
        "preset": preset, "window": window, "lag": lag, "calibration": calibration,
        "temperatures": list(temperatures), "softness_bins": edges,
        "per_temperature": {f"{T:.3f}": {**per_T[T], **{k: v for k, v in res[T].items() if k not in BULKY},
                                        "n_nonpositive": int(sum(soft[t]["n_nonpositive"] for t in tags[T])),
                                        "samples": tags[T]} for T in temperatures},
        "window_sensitivity": sensitivity,
        "provenance": provenance(notebook="05_rearrangements", preset=preset, window=window, lag=lag,
                                 calibration=calibration, n_bins=n_bins, n_boot=n_boot, seed=seed,
                                 bins_from=bins_from),
    }
    return json_safe(out)


def save_tables(path, edges, temperatures, res):
    """The per-particle counts behind P_R(S) of every temperature, for notebook 06's bootstrap."""
    save_npz(path, edges=edges, temperatures=np.asarray(temperatures),
             **{f"n_all_{T:.3f}": res[T]["n_all"] for T in temperatures},
             **{f"n_rearr_{T:.3f}": res[T]["n_rearr"] for T in temperatures})


def load_tables(layout, window, calibration):
    """Notebook 06's inputs: rearrangements.json (checked against ``window``, ``calibration``) and the tables.

    Returns dict with ``rear`` (the json), ``temperatures``, ``edges``, ``tables`` [(n_all, n_rearr) per T]
    and the two input paths.
    """
    rear_path, tab_path = layout.json("rearrangements"), layout.tables
    for p in (rear_path, tab_path):
        if not p.exists():
            raise FileNotFoundError(f"{p} is missing: run notebook 05_rearrangements for preset "
                                    f"{layout.preset!r} first")
    rear = read_json(rear_path)
    if rear["window"] != window or rear["calibration"] != calibration:
        raise ValueError(f"{rear_path} was made with window {rear['window']}, calibration {rear['calibration']!r}; "
                         f"this notebook runs with window {window}, calibration {calibration!r}: rerun 05 with these")
    with np.load(tab_path) as tabs:
        temperatures = [float(t) for t in tabs["temperatures"]]
        edges = tabs["edges"]
        tables = [(tabs[f"n_all_{T:.3f}"], tabs[f"n_rearr_{T:.3f}"]) for T in temperatures]
    return {"rear": rear, "temperatures": temperatures, "edges": edges, "tables": tables,
            "inputs": [str(rear_path), str(tab_path)]}


def arrhenius_fits(temperatures, tables, edges, t_selective=0.60, min_frames=20, n_boot=200, seed=0):
    """The Arrhenius fits over all temperatures and over those <= t_selective.

    Returns (fits {'all': fit[, 'selective': fit]}, reason the selective fit is impossible or None).
    """
    fits = {"all": ar.fit_arrhenius(temperatures, tables, edges, min_frames=min_frames, n_boot=n_boot, seed=seed)}
    reason = None
    try:
        fits["selective"] = ar.fit_arrhenius(temperatures, tables, edges, t_max=t_selective,
                                             min_frames=min_frames, n_boot=n_boot, seed=seed)
    except ValueError as e:
        reason = str(e)
    return fits, reason


def shown_fit(fits, t_selective):
    """Which fit Fig. 5(c, d) show ('selective' when it has >= 3 temperatures) and the labels of both."""
    shown = "selective" if "selective" in fits and fits["selective"].temperatures.size >= 3 else "all"
    return shown, {"all": "all temperatures", "selective": f"T <= {t_selective}"}
