"""Per-run drivers of the pipeline: read a run folder, call the analysis, store the result."""
from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from .._checks import as_species, as_temperature
from ..analysis.dynamics import (Q_PEAK, _uniform_spacing, displacement_moments, hop_threshold, log_lags,
                                 tau_alpha)
from .._checks import check_delta
from ..analysis.local_softness import (_check_centers, local_depth, local_softness,
                                       softness_parameters)
from ..io.softness_store import SoftnessWriter
from ..io.trajectory import load, load_positions


# ----------------------------------------------------------------------------------------
# driver
# ----------------------------------------------------------------------------------------
def _chunk_reader(path, source=None, schedule="linear"):
    """(n_frames, species, box, times, read(a, b) -> (b - a, N, 3) positions) of one trajectory file."""
    traj = load(path) if source is None else source.open(schedule)
    return (traj.n_frames, np.asarray(traj.species), np.asarray(traj.box), np.asarray(traj.times),
            lambda a, b: np.asarray(traj[a:b].positions))


def compute_run_softness(run_dir, out_dir, calibration, T=None, delta=0.09, schedule=("linear", "log"),
                         chunk=256, variant="paper", progress=True, rule="simpson"):
    """Compute and store the local depth and softness of every A particle of one run.

    Reads ``<run_dir>/<schedule>.gsd`` chunk by chunk, computes :func:`local_depth` and
    :func:`local_softness`, and streams them to ``out_dir`` (see :class:`SoftnessWriter`);
    an interrupted computation resumes where it stopped, a finished one is not redone.

    Parameters
    ----------
    run_dir : path or RunSource
        ``build/<preset>/runs/T0.600_s0`` (must contain run.json: the run is complete), or the
        :class:`softlib.pipeline.sources.RunSource` of a run (a data set's files).
    out_dir : path
        ``build/<preset>/softness/T0.600_s0``.
    calibration : dict or path
        ``data/<preset>/calibration.json`` or its contents.
    T : float, optional
        Temperature; default from run.json.
    delta : float
        Gaussian width (sigma_AA).
    schedule : str or tuple of str
        'linear' and/or 'log'; a schedule the run does not have (a data set run without log files)
        is skipped and absent from the result.
    chunk : int
        Frames per read/compute/write step.
    variant : {'paper', 'smeared'}
        Which c0, c1 of the calibration.
    progress : bool
        tqdm bar.

    Returns
    -------
    dict
        Per schedule: ``n_frames``, ``n_a``, ``n_nonpositive``, ``path``.
    """
    from .sources import RunSource

    src = run_dir if isinstance(run_dir, RunSource) else RunSource.from_run_dir(run_dir)
    out_dir = Path(out_dir)
    delta = check_delta(delta)
    if T is None:
        T = src.T
    T = as_temperature(T)
    par = softness_parameters(calibration, T, variant)
    schedules = (schedule,) if isinstance(schedule, str) else tuple(schedule)
    chunk = max(1, int(chunk))
    result = {}
    for sch in schedules:
        if sch not in ("linear", "log"):
            raise ValueError(f"schedule must be 'linear' or 'log', got {sch!r}")
        if not src.has(sch):
            continue
        path = src.path(sch)
        if not path.exists():
            raise ValueError(f"{path} not found: schedule must be 'linear' or 'log' of a complete run")
        n, species, box, times, read = _chunk_reader(path, None if src.kind == "preset" else src, sch)
        species = as_species(species)
        a_idx = _check_centers(species, 0)
        st = path.stat()
        key = {"source": str(path.resolve()), "source_size": st.st_size, "T": T, "delta": delta,
               "limits": par["limits"], "c0": par["c0"], "c1": par["c1"], "variant": variant,
               "rule": rule, "n_particles": int(species.size), "box": box.tolist()}
        w = SoftnessWriter(out_dir, sch, times, a_idx, key)
        if not w.complete:
            bar = None
            if progress:
                from tqdm import tqdm

                bar = tqdm(total=n, initial=w.n_done, desc=f"{src.tag} {sch}", unit="frame")
            for a in range(w.n_done, n, chunk):
                b = min(n, a + chunk)
                dep = local_depth(read(a, b), species, box, T, par["limits"], delta, rule=rule)
                s, nbad = local_softness(dep, par["c0"], par["c1"])
                w.write(a, dep, s, nbad)
                if bar is not None:
                    bar.update(b - a)
            if bar is not None:
                bar.close()
        w.finalize()
        result[sch] = {"n_frames": n, "n_a": int(a_idx.size), "n_nonpositive": w.n_nonpositive,
                       "path": str(out_dir)}
    return result


# --------------------------------------------------------------------------- one run
def run_dynamics(run_dir, select=0, origin_every=1.0, per_decade=16, points=5, q=Q_PEAK):
    """Displacement statistics, tau_alpha, t* and p_c of one simulation run (docs/methods.md §1, §5).

    The log-spaced frames (``log.gsd``, origins at block starts) give the short
    times; the dense linear frames (``linear.gsd``, an origin every ``origin_every``
    tau, log-spaced lags) give the long times with far more time origins, so t*,
    p_c and tau_alpha are taken from them (the log blocks of a short run hold only
    a few origins, and alpha_2 near its flat maximum is then mostly noise). The
    log-frame values are returned beside them as a check.

    Parameters
    ----------
    run_dir : path or RunSource
        ``build/<preset>/runs/T0.600_s0`` with ``run.json``, ``linear.gsd`` and ``log.gsd``, or the
        :class:`softlib.pipeline.sources.RunSource` of a run. A run without log-spaced frames (a data
        set's) has ``log`` None and NaN ``log_values``; everything else comes from the dense frames.
    select : {0, 1}
        Species (default A).
    origin_every : float
        Spacing of time origins on the linear frames (tau).
    per_decade : int
        Lags per decade on the linear frames.
    points : int
        Lags in the parabola through the alpha_2 maximum (:func:`t_star`).
    q : float
        Wave number of F_s.

    Returns
    -------
    dict with ``T``, ``plan``, ``log`` and ``linear`` (:class:`Moments`), and for each of
    ``linear`` and ``log`` the values ``tau_alpha``, ``t_star``, ``p_c`` (NaN when not
    found, with the reason in ``notes``), plus ``tau_alpha``, ``t_star``, ``p_c`` (linear).
    """
    from .sources import RunSource

    src = run_dir if isinstance(run_dir, RunSource) else RunSource.from_run_dir(run_dir)
    plan = src.plan
    out = {"T": float(plan["T"]), "plan": plan, "notes": []}
    if src.has("log"):
        t, sp, pos = _times_positions(src, "log")
        out["log"] = displacement_moments(pos, t, sp, select, schedule="log", block=plan.get("log_block"), q=q)
    else:
        out["log"] = None
        out["notes"].append("log: no log-spaced frames; short times from the dense frames only")
    t, sp, pos = _times_positions(src, "linear")
    dt = _uniform_spacing(t, "linear.gsd")
    every = max(1, int(round(origin_every / dt)))
    out["linear"] = displacement_moments(pos, t, sp, select, schedule="linear", origin_every=every,
                                         lags=log_lags(t.size, per_decade), q=q)
    for name in ("linear", "log"):
        m = out[name]
        if m is None:
            out[name + "_values"] = {"tau_alpha": np.nan, "t_star": np.nan, "p_c": np.nan}
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            tau = tau_alpha(m.times, m.fs, missing="nan")
        if np.isnan(tau):
            out["notes"].append(f"{name}: F_s does not reach 1/e within {m.times[-1]:.3g} tau")
        try:
            pc, ts = hop_threshold(m.times, m.msd, m.alpha2, points)
        except ValueError as e:
            pc, ts = np.nan, np.nan
            out["notes"].append(f"{name}: {e}")
        out[name + "_values"] = {"tau_alpha": tau, "t_star": ts, "p_c": pc}
    out.update(out["linear_values"])
    return out


def _times_positions(src, schedule):
    """(times, species, unwrapped positions) of one schedule of a run (GSD of a preset: as before)."""
    if src.kind == "preset":
        t, sp, _, pos = load_positions(src.path(schedule))
        return t, sp, pos
    tr = src.open(schedule)
    return np.asarray(tr.times), np.asarray(tr.species), np.asarray(tr[:].positions)
