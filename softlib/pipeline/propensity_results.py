"""Notebook 08's steps: every predictor on the ensembles' starting configurations against the propensity.

load_ensemble      the ensemble averages and plan of one temperature (``make ensembles``)
svm_at             the SVM softness of notebook 07, trained on the preset's run at that temperature
predictors_at      theory S and beta Phi_r, S_ML, e_pot, coordination, Voronoi volume on the starting frames
analyse            Pearson / Spearman against time, the coarse-grained S over several lengths, the ceiling
propensity_result  the contents of data/<preset>/propensity.json
"""
from __future__ import annotations

import json

import numpy as np

from ..analysis import predictors as pr
from ..analysis import propensity as pp
from ..analysis.local_softness import local_depth, local_softness, softness_parameters
from ..engine.isoconf import EnsemblePlan
from ..io.store import json_safe, provenance, read_json

#: Pearson correlation with the displacement propensity at t = tau_alpha, trained and tested at one
#: temperature, as listed in the result files (FIG1, FIG5) of the GlassBench data set (Jung et al., Nat.
#: Rev. Phys. 2025; KA 3D, N = 4096, 500 configurations x 32 runs per T), read from a public cache of them.
PUBLISHED = {
    "models": ("SE(3)-GNN", "CAGE", "GlassMLP", "BOTAN"),
    "pearson_at_tau_alpha": {0.64: (0.672, 0.633, 0.555, 0.658), 0.56: (0.715, 0.694, 0.641, 0.668),
                             0.50: (0.771, 0.764, 0.718, 0.691), 0.44: (0.815, 0.779, 0.768, 0.755)},
    "tau_alpha": {0.64: 16.5, 0.56: 52.0, 0.50: 217.0, 0.44: 4120.0},
    "physics_at_0.44": {"epot_coarse_grained": 0.51, "local_density": -0.25},
    "ceiling_at_0.44": 0.94,
    "reference": "Jung et al., Roadmap on machine learning glassy dynamics, Nat. Rev. Phys. (2025); "
                 "data set GlassBench (Shiba et al., J. Chem. Phys. 158, 084503 (2023))",
}

#: the predictors of notebook 07 evaluated here, in the order of the tables
NAMES = ("S", "beta_Phi_r", "S_ML", "epot", "coordination", "voronoi_volume")


def load_ensemble(layout, T):
    """(propensity.npz arrays, EnsemblePlan) of the ensemble at T; a clear error when it is not complete."""
    folder = layout.ensemble(T)
    path = folder / "propensity.npz"
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: run `make PRESET={layout.preset} ensembles` first (it "
                                "resumes an interrupted ensemble)")
    plan = EnsemblePlan(**read_json(folder / "plan.json")["plan"])
    with np.load(path, allow_pickle=False) as z:
        data = {k: z[k] for k in z.files}
    data["meta"] = json.loads(str(data["meta"]))
    return data, plan


def complete_temperatures(layout, temperatures, say=print):
    """The temperatures whose ensemble is complete (propensity.npz written); says which are not and why."""
    done = []
    for T in temperatures:
        folder = layout.ensemble(T)
        if (folder / "propensity.npz").exists():
            done.append(T)
            continue
        n = len(list((folder / "replicas").glob("*.npz"))) if (folder / "replicas").is_dir() else 0
        say(f"T = {T:.2f}: ensemble not complete ({n} replicas written): left out; `make "
            f"PRESET={layout.preset} ensembles` resumes it")
    if not done:
        raise FileNotFoundError(f"no complete ensemble under {layout.build / 'propensity'}: run `make "
                                f"PRESET={layout.preset} ensembles` first")
    return done


def svm_at(ctx, T, tags, inputs, cal, soft, calibration="paper", run_options=None, svm_options=None):
    """The fitted SVM (sklearn pipeline) of notebook 07 at T, or None when there are too few examples.

    Trained exactly as notebook 07 trains it (:func:`predictors_stage.run_data` and
    :func:`predictors_stage.temperature_analysis` on the preset's runs at T).
    """
    from . import predictors_stage as ps
    from . import rearrangement_stage as rs

    runs = [ps.run_data(src, s, inputs[T]["p_c"], inputs[T]["tau_alpha"], ps.limits_of(cal, T, calibration),
                        **(run_options or {})) for src, s in rs.samples_of(ctx, tags[T], soft)]
    res = ps.temperature_analysis(runs, inputs[T]["p_c"], **(svm_options or {}))
    return None if res["svm"] is None else res["svm"]["model"]


def predictors_at(positions, species, box, T, cal, calibration="paper", delta=0.09, model=None,
                  mu=pr.MU_DEFAULT, width=pr.WIDTH_DEFAULT):
    """Every predictor on the A particles of K frames.

    Parameters
    ----------
    positions : (K, N, 3) float
        The starting configurations (sigma_AA); ``species`` (N,), ``box`` (3,).
    T : float
        Their temperature (one of the calibration's).
    cal : dict
        The calibration (data/<preset>/calibration.json).
    model : sklearn estimator, optional
        The SVM of :func:`svm_at` (its decision function is S_ML); absent: no S_ML.

    Returns
    -------
    dict
        name -> (K, N_A) float for :data:`NAMES` (S_ML only with a model); ``a_index`` (N_A,).
    """
    par = softness_parameters(cal, T, calibration)
    a = np.flatnonzero(np.asarray(species) == 0)
    depth = np.asarray(local_depth(positions, species, box, T, par["limits"], delta))
    S, n_bad = local_softness(depth, par["c0"], par["c1"])
    if n_bad:
        raise ValueError(f"{n_bad} A particles have no harmonic cage (c0 + c1 beta Phi_r <= 0) at T = {T}: "
                         "their softness is undefined; check the calibration at this temperature")
    out = {"S": S, "beta_Phi_r": depth, "epot": [], "coordination": [], "voronoi_volume": []}
    X = []
    for x in positions:
        ff = pr.frame_features(x, species, box, a, par["limits"], mu, width)
        out["epot"].append(ff["epot"])
        out["coordination"].append(ff["count"].sum(1).astype(float))
        out["voronoi_volume"].append(pr.voronoi_volumes(x, box)[a])
        X.append(ff["G"].reshape(a.size, -1))
    if model is not None:
        out["S_ML"] = np.array([model.decision_function(x) for x in X])
    out = {k: np.asarray(v, float) for k, v in out.items()}
    out["a_index"] = a
    return out


def analyse(data, plan, values, lengths=(0.5, 1.0, 1.5, 2.0, 3.0)):
    """Correlations of every predictor with the A particles' propensity (mean |dr|) against time.

    Returns
    -------
    dict
        ``times`` (n_t,), ``i_tau`` (index of tau_alpha), ``corr`` {name: correlations()},
        ``S_cg`` {L: correlations()} of the coarse-grained S, ``best_L`` (largest Pearson at tau_alpha),
        ``ceiling`` (:func:`propensity.ceiling`), ``n_a`` (A particles pooled).
    """
    a = values["a_index"]
    prop = data["mean_abs"][:, :, a]
    i_tau = int(np.flatnonzero(data["steps"] == int(round(plan.tau_alpha / plan.dt)))[0])
    corr = {k: pp.correlations(values[k], prop) for k in NAMES if k in values}
    cg = {}
    for L in lengths:
        s_cg = np.array([pp.coarse_grain(values["S"][k], data["positions"][k], data["box"], a, L)
                         for k in range(prop.shape[0])])
        cg[float(L)] = pp.correlations(s_cg, prop)
    best = max(cg, key=lambda L: cg[L]["pearson"][i_tau])
    corr["S_cg"] = cg[best]
    return {"times": data["times"], "i_tau": i_tau, "corr": corr, "S_cg": cg, "best_L": best,
            "ceiling": pp.ceiling(data["half_abs"][0][:, :, a], data["half_abs"][1][:, :, a]),
            "n_a": int(prop.shape[0] * prop.shape[2])}


def table_rows(per_T):
    """Rows (T, predictor -> Pearson at tau_alpha, ceiling) of our ensembles, lowest T first."""
    rows = []
    for T in sorted(per_T):
        r = per_T[T]
        rows.append({"T": T, "tau_alpha": float(r["times"][r["i_tau"]]), "n_a": r["n_a"],
                     "pearson": {k: float(c["pearson"][r["i_tau"]]) for k, c in r["corr"].items()},
                     "error": {k: float(c["pearson_error"][r["i_tau"]]) for k, c in r["corr"].items()},
                     "ceiling": float(r["ceiling"]["ceiling"][r["i_tau"]]), "best_L": r["best_L"]})
    return rows


def grows_on_cooling(rows, name, z=2.0):
    """+1 / -1 / 0: |Pearson at tau_alpha| of ``name`` rises / falls as T falls, by more than ``z`` combined
    standard errors at every step; 0 when any step is within the errors or the trend changes sign; None when a
    temperature has no error (too few configurations) and the trend cannot be judged."""
    r = [r for r in sorted(rows, key=lambda r: -r["T"]) if name in r["pearson"]]
    if len(r) < 2:
        return 0
    d = np.diff([abs(x["pearson"][name]) for x in r])
    e = np.hypot([x["error"][name] for x in r[:-1]], [x["error"][name] for x in r[1:]])
    if not np.all(np.isfinite(e)):
        return None
    if np.all(d > z * e):
        return 1
    return -1 if np.all(d < -z * e) else 0


def propensity_result(preset, per_T, plans, params):
    """data/<preset>/propensity.json: the keys promised by the issue and README, strict JSON."""
    Ts = sorted(per_T)
    key = [f"{T:.3f}" for T in Ts]
    names = list(per_T[Ts[0]]["corr"])
    out = {"preset": preset, "temperatures": Ts,
           "tau_alpha": {k: plans[T].tau_alpha for k, T in zip(key, Ts)},
           "times": {k: per_T[T]["times"] for k, T in zip(key, Ts)},
           "pearson": {n: {k: per_T[T]["corr"][n]["pearson"] for k, T in zip(key, Ts)} for n in names},
           "spearman": {n: {k: per_T[T]["corr"][n]["spearman"] for k, T in zip(key, Ts)} for n in names},
           "pearson_error": {n: {k: per_T[T]["corr"][n]["pearson_error"] for k, T in zip(key, Ts)} for n in names},
           "at_tau_alpha": {n: {k: float(per_T[T]["corr"][n]["pearson"][per_T[T]["i_tau"]]) for k, T in zip(key, Ts)}
                            for n in names},
           "S_cg_lengths": {k: {str(L): float(c["pearson"][per_T[T]["i_tau"]]) for L, c in per_T[T]["S_cg"].items()}
                            for k, T in zip(key, Ts)},
           "best_L": {k: per_T[T]["best_L"] for k, T in zip(key, Ts)},
           "ceiling": {k: float(per_T[T]["ceiling"]["ceiling"][per_T[T]["i_tau"]]) for k, T in zip(key, Ts)},
           "ceiling_vs_time": {k: per_T[T]["ceiling"]["ceiling"] for k, T in zip(key, Ts)},
           "n_configurations": {k: plans[T].n_configurations for k, T in zip(key, Ts)},
           "n_replicas": {k: plans[T].n_replicas for k, T in zip(key, Ts)},
           "n_a_particles": {k: per_T[T]["n_a"] for k, T in zip(key, Ts)},
           "N": plans[Ts[0]].N, "published": {**PUBLISHED, "pearson_at_tau_alpha": {
               f"{T:.2f}": v for T, v in PUBLISHED["pearson_at_tau_alpha"].items()},
               "tau_alpha": {f"{T:.2f}": v for T, v in PUBLISHED["tau_alpha"].items()}},
           "provenance": provenance(notebook="08_propensity", preset=preset, **params)}
    return json_safe(out)


def evaluate(ctx, temperatures, window=15.0, calibration="paper", delta=0.09, lengths=(0.5, 1.0, 1.5, 2.0, 3.0),
             run_options=None, svm_options=None, say=print):
    """Notebook 08 in one call: per temperature the ensemble, the SVM, every predictor and :func:`analyse`.

    Returns
    -------
    dict with ``per_T`` {T: analyse()}, ``plans`` {T: EnsemblePlan}, ``data`` {T: ensemble arrays},
    ``values`` {T: predictors_at()}.
    """
    from ..analysis.local_softness import load_calibration
    from . import predictors_stage as ps
    from . import rearrangement_stage as rs

    cal = load_calibration(ctx.layout.calibration)
    inputs = ps.inputs_of(ctx.layout, window, calibration)
    out = {"per_T": {}, "plans": {}, "data": {}, "values": {}}
    for T in sorted(temperatures):
        data, plan = load_ensemble(ctx.layout, T)
        soft = rs.load_linear_softness(ctx.layout, {T: ctx.tags[T]}, calibration)
        model = svm_at(ctx, T, ctx.tags, inputs, cal, soft, calibration, run_options, svm_options)
        if model is None:
            say(f"T = {T:.2f}: too few rearrangement examples to train the SVM; S_ML left out")
        values = predictors_at(data["positions"], data["species"], data["box"], T, cal, calibration, delta, model)
        out["per_T"][T] = analyse(data, plan, values, lengths)
        out["plans"][T], out["data"][T], out["values"][T] = plan, data, values
    return out


def at_published_tau_alpha(per_T, names=("S", "S_cg", "S_ML")):
    """Pearson of ``names`` at the grid time nearest the published tau_alpha of the nearest published T.

    The GlassBench tau_alpha (e.g. 16.5 at T = 0.64) is about twice ours near the same temperature (7.5 at
    0.65): the two definitions or protocols differ, so the table is read at both times. Returns
    [(T, published T, published tau_alpha, our grid time, {name: Pearson})], only where our grid reaches it.
    """
    rows = []
    for T in sorted(per_T):
        r = per_T[T]
        pT = min(PUBLISHED["tau_alpha"], key=lambda t: abs(t - T))
        tau = PUBLISHED["tau_alpha"][pT]
        if abs(pT - T) > 0.02 or tau > r["times"][-1] * 1.05:
            continue
        i = int(np.argmin(np.abs(np.log(r["times"] / tau))))
        rows.append((T, pT, tau, float(r["times"][i]),
                     {n: float(r["corr"][n]["pearson"][i]) for n in names if n in r["corr"]}))
    return rows
