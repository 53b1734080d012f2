"""Notebook 02's steps: average structure per temperature (pooled over samples), the crystal check, the
caging analysis of every temperature, the sensitivity tables and the calibration file of Eq. 7."""
from __future__ import annotations

import numpy as np

from ..analysis import caging as cg
from ..analysis import structure as st
from ..io.store import provenance, save_npz, write_json
from ..io.trajectory import Trajectory, load


def _open(source, timestep=None):
    """A Trajectory from a path (any format softlib.io.trajectory.load reads), a RunSource (its dense
    frames, read with the run's own timestep and species) or a Trajectory as is."""
    if isinstance(source, Trajectory):
        return source
    if hasattr(source, "open"):
        return source.open("linear")
    return load(source, timestep=timestep)


def calibration_sources(ctx, trajectories=None):
    """{T: [trajectory of every usable sample]}: the preset's linear.gsd files, or the user's files.

    ``trajectories`` ({T: path or [paths]}) replaces the preset's runs (notebook 02's parameter). For a
    data set (``ctx.dataset``) the sources are its runs' :class:`~softlib.pipeline.sources.RunSource`.
    """
    if getattr(ctx, "dataset", None) is not None:
        return {T: [ctx.source(tag) for tag in ctx.tags[T]] for T in ctx.temperatures}
    if trajectories is not None:
        return {float(T): ([p] if isinstance(p, str) else list(p))
                for T, p in sorted(trajectories.items(), key=lambda kv: float(kv[0]))}
    return {T: [str(ctx.layout.trajectory(tag, "linear")) for tag in ctx.tags[T]] for T in ctx.temperatures}


def evenly_spaced(n_total, n):
    """Indices of up to ``n`` frames spread evenly over ``n_total`` (first and last included)."""
    return np.unique(np.linspace(0, n_total - 1, min(n, n_total)).round().astype(int))


def pool_structure(sources, n_frames=200, q_max=40.0, max_vectors=100, dq=0.2, timestep=None, layout=None,
                   dr=0.01):
    """Partial g(r) and S(q) per temperature, averaged over frames spread over every sample.

    Each sample contributes ``ceil(n_frames / samples)`` evenly spaced frames; the average weights the
    samples by their frame counts, so pooling equals averaging over all the frames together.

    Parameters
    ----------
    sources : {T: [paths or Trajectory]}
    layout : Layout, optional
        Where to store ``structure/T<T>.npz`` (q, S, r, g, n_frames) for the later notebooks.

    Returns
    -------
    {T: dict(q, S, r, g, n_frames, N, box, samples)}
    """
    structure = {}
    for T in sorted(sources):
        paths = sources[T]
        per = int(np.ceil(n_frames / len(paths)))  # frames per sample
        acc_S, acc_g, used = 0.0, 0.0, 0
        for path in paths:
            traj = _open(path, timestep)
            frames = evenly_spaced(traj.n_frames, per)
            sub = traj[frames]
            r, g = st.partial_rdf(sub, dr=dr)
            q, S = st.partial_structure_factor(sub, q_max=q_max, max_vectors=max_vectors, dq=dq)
            acc_S, acc_g, used = acc_S + S * len(frames), acc_g + g * len(frames), used + len(frames)
        structure[T] = dict(q=q, S=acc_S / used, r=r, g=acc_g / used, n_frames=used,
                            N=traj.n_particles, box=traj.box, samples=len(paths))
        if layout is not None:
            layout.structure.mkdir(parents=True, exist_ok=True)
            save_npz(layout.structure_of(T), q=q, S=acc_S / used, r=r, g=acc_g / used, n_frames=used)
    return structure


def crystal_check(sources, timestep=None):
    """Largest fraction of crystal-like A particles and mean q6bar of the first, middle and last frame.

    Returns {str(source): {'T', 'fraction', 'mean_q6'}} (``structure.crystalline_fraction``).
    """
    crystal = {}
    for T in sorted(sources):
        for path in sources[T]:
            traj = _open(path, timestep)
            checks = [st.crystalline_fraction(traj[k].positions[0], traj.species, traj.box)
                      for k in (0, traj.n_frames // 2, traj.n_frames - 1)]
            crystal[str(path)] = {"T": T, "fraction": max(c["fraction"] for c in checks),
                                  "mean_q6": float(np.mean([c["mean"] for c in checks]))}
    return crystal


def system_of(sources, timestep=None):
    """The density and composition the analysis uses (:func:`softlib.pipeline.sources.resolve_system`),
    checked on the first frame's species and box of every source."""
    from .sources import resolve_system, system_facts

    facts = {}
    for T in sorted(sources):
        for src in sources[T]:
            tr = _open(src, timestep)
            facts[f"T = {T:.3f}: {src}"] = system_facts(tr.species, tr.box)
    return resolve_system(facts, "the calibration's trajectories")


def analyse_temperatures(structure, dr_fit=0.03, threshold=1e-3, delta=0.09, system=None, **record):
    """:func:`caging.analyse_temperature` at every temperature; ``record`` (q_max, dq, ...) is stored with it.

    ``system``: {'x', 'rho'} (:func:`system_of`); default the Kob-Andersen x = (0.8, 0.2), rho = 1.2."""
    results = {}
    kw = {} if system is None else {"x": tuple(system["x"]), "rho": float(system["rho"])}
    for T in sorted(structure):
        s = structure[T]
        res = cg.analyse_temperature(T, s["q"], s["S"], s["r"], s["g"], dr_fit=dr_fit, threshold=threshold,
                                     delta=delta, **kw)
        res.update(n_frames=s["n_frames"], samples=s["samples"], **record)
        results[T] = res
    return results


def calibration_columns(results):
    """S_av, Phi_q, Phi_r and 1/S_av as arrays over the sorted temperatures (Fig. 1)."""
    ts = sorted(results)
    col = {k: np.array([results[T][k] for T in ts]) for k in ("S_av", "Phi_q", "Phi_r")}
    col["inv_S"] = 1 / col["S_av"]
    col["T"] = np.array(ts)
    return col


def sensitivity(structure, windows=(0.02, 0.03, 0.05, 0.1), q_maxes=(20.0, 30.0), q_max=40.0, dr_fit=0.03,
                x=cg.X_KA):
    """S_av at several fit windows and q_max (the same S(q), truncated), and from the exact curvature.

    Returns {'windows', 'q_maxes', 'by_window' {T: [S_av]}, 'curvature' {T: S_av}, 'by_q_max' {T: [S_av]}}.
    """
    qms = [q for q in (*q_maxes, q_max) if q <= q_max]
    out = {"windows": list(windows), "q_maxes": qms, "by_window": {}, "curvature": {}, "by_q_max": {}}
    for T in sorted(structure):
        q, S = structure[T]["q"], structure[T]["S"]
        out["by_window"][T] = [cg.softness_fit(q, S, w, x)["S_av"] for w in windows]
        out["curvature"][T] = 1.0 / cg.softness_curvature(q, S, x)
        out["by_q_max"][T] = [cg.softness_fit(q[q <= qm], S[q <= qm], dr_fit, x)["S_av"] for qm in qms]
    return out


def shell_check(source, q_max=40.0, dq=0.2, max_vectors=100, dr_fit=0.03, n_frames=50, timestep=None, x=cg.X_KA):
    """S(q) of one trajectory with the default shells (2 pi / L, 300 vectors) and with ours, side by side.

    Returns a list of {'label', 'n_frames', 'S_AA_peak', 'Phi_q', 'S_av'}.
    """
    traj = _open(source, timestep)
    sub = traj[evenly_spaced(traj.n_frames, n_frames)]
    rows = []
    for label, kw in (("default shells 2 pi/L, 300 vectors", dict(dq=None, max_vectors=300)),
                      (f"dq = {dq}, {max_vectors} vectors", dict(dq=dq, max_vectors=max_vectors))):
        q5, S5 = st.partial_structure_factor(sub, q_max=q_max, **kw)
        fit = cg.softness_fit(q5, S5, dr_fit, x)
        rows.append({"label": label, "n_frames": sub.n_frames, "S_AA_peak": float(S5[:, 0, 0].max()),
                     "Phi_q": fit["Phi_q"], "S_av": fit["S_av"]})
    return rows


def write_calibration(layout, results, structure, crystal, sources, system=None, **parameters):
    """Fit Eq. 7 (:func:`caging.calibrate`) and write ``<data>/<preset>/calibration.json``.

    ``parameters`` (q_max, dq, max_vectors, dr_fit, threshold, n_frames, delta) go into the provenance;
    ``system`` ({'x', 'rho'} used, :func:`system_of`) is stored under ``system``. With two temperatures the
    lines are exact: their errors and R^2 are None (null).
    """
    temps = sorted(results)
    cal = cg.calibrate(results, provenance=provenance(
        preset=layout.preset, N=int(structure[temps[0]]["N"]), temperatures=temps,
        sources={f"{T:.3f}": [str(p) for p in sources[T]] for T in temps}, **parameters))
    cal["crystal_check"] = crystal
    if system is not None:
        cal["system"] = {k: system[k] for k in ("x", "rho", "model", "notes")}
    write_json(layout.calibration, cal)
    return cal
