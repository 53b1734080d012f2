"""``make propensity``: the iso-configurational ensembles of a preset, one temperature at a time.

Each ensemble starts from the last production frame of the preset's run at that temperature
(``runs/T<T>_s0/linear.gsd``, equilibrated by notebook 01's checks) and uses the tau_alpha that
notebook 06 recorded in ``data/<preset>/results.json``; its sizes come from
:data:`softlib.pipeline.presets.PROPENSITY`. The runner is :mod:`softlib.engine.isoconf`; the
folder is :meth:`softlib.pipeline.layout.Layout.ensemble`.

Command line (the Makefile's ``propensity`` target)::

    python -m softlib.pipeline.propensity_stage run --preset paper --T 0.56 --jobs 2
"""
from __future__ import annotations

import argparse
import sys

import numpy as np

from ..engine import isoconf
from ..io.store import read_json
from .layout import Layout
from .presets import PROPENSITY, get_preset


def ensemble_temperatures(preset):
    """Temperatures with an ensemble in ``preset``, highest (cheapest) first."""
    return sorted(PROPENSITY.get(preset, {}), reverse=True)


def tau_alpha_of(layout, T):
    """tau_alpha (tau) at T from ``data/<preset>/results.json`` (notebook 06)."""
    path = layout.json("results")
    if not path.exists():
        raise ValueError(f"{path} is missing: the ensembles need the measured tau_alpha; run "
                         f"`make PRESET={layout.preset} analysis` (or make paper) first")
    tau = read_json(path)["tau_alpha"].get(f"{float(T):.3f}")
    if tau is None or not np.isfinite(tau):
        raise ValueError(f"{path} has no finite tau_alpha at T = {T}: the run at that temperature "
                         "did not relax; choose a temperature of the preset")
    return float(tau)


def ensemble_plan(preset, T, tau_alpha):
    """The :class:`softlib.engine.isoconf.EnsemblePlan` of ``preset`` at ``T``.

    Lengths in units of tau_alpha from PROPENSITY, rounded to 0.1 tau (whole steps).
    """
    try:
        spec = PROPENSITY[preset][T]
    except KeyError:
        raise ValueError(f"no ensemble at T = {T} in preset {preset!r}: choose one of "
                         f"{ensemble_temperatures(preset)}") from None
    p = get_preset(preset)
    return isoconf.EnsemblePlan(T=float(T), N=p.N, rho=p.rho, dt=p.dt, n_configurations=spec["K"],
                                n_replicas=spec["M"], tau_alpha=float(tau_alpha),
                                t_max=round(spec["t_max"] * tau_alpha, 1),
                                spacing=round(spec["spacing"] * tau_alpha, 1), seed=p.seed + 7)


def source_frame(layout, T):
    """(positions (N, 3) unwrapped, species, box, path) of the last dense frame of the run at T."""
    import gsd.hoomd

    path = layout.trajectory(f"T{float(T):.3f}_s0")
    if not path.exists():
        raise ValueError(f"{path} is missing: simulate the preset first (make PRESET={layout.preset} "
                         "simulate)")
    with gsd.hoomd.open(str(path), "r") as f:
        fr = f[len(f) - 1]
        box = np.asarray(fr.configuration.box[:3], float)
        x = fr.particles.position.astype(np.float64) + fr.particles.image * box
        return x, fr.particles.typeid.astype(np.int32), box, f"{path} frame {len(f) - 1}"


def run(layout, T, jobs=1, engine="numba", progress=True, only=None):
    """Run or resume the ensemble of ``layout.preset`` at ``T``; returns :func:`isoconf.collect` (None while
    replicas are missing: ``only`` runs the replicas of some configurations, e.g. one job of a job array)."""
    T = min(PROPENSITY.get(layout.preset, {}), key=lambda t: abs(t - float(T)), default=float(T))
    plan = ensemble_plan(layout.preset, T, tau_alpha_of(layout, T))
    out = layout.ensemble(T)
    conf = None
    if not (out / "configurations.npz").exists():
        x, s, box, src = source_frame(layout, T)
        conf = isoconf.starting_configurations(plan, x, s, box, source=src, progress=progress)
    return isoconf.run_ensemble(plan, out, conf, engine=engine, jobs=jobs, progress=progress, only=only)


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m softlib.pipeline.propensity_stage")
    ap.add_argument("what", choices=["run", "temperatures"])
    ap.add_argument("--preset", default="quick")
    ap.add_argument("--T", type=float)
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--engine", default="numba", choices=sorted(isoconf.ENGINES))
    ap.add_argument("--build-dir", default="build")
    ap.add_argument("--data-dir", default="data")
    ap.add_argument("--only", type=int, nargs="*", help="configuration indices to run (a job array's share)")
    a = ap.parse_args(argv)
    if a.what == "temperatures":
        print(" ".join(f"{t:.3f}" for t in ensemble_temperatures(a.preset)))
        return
    if a.T is None:
        ap.error("--T is required for run")
    layout = Layout(a.preset, a.build_dir, a.data_dir)
    res = run(layout, a.T, jobs=a.jobs, engine=a.engine, only=a.only)
    if res is None:
        print(f"propensity T = {a.T}: this share is done; other configurations still missing", file=sys.stderr)
        return
    print(f"propensity T = {a.T}: {res['mean_abs'].shape[0]} configurations, {len(res['times'])} times "
          f"-> {layout.ensemble(a.T) / 'propensity.npz'}", file=sys.stderr)


if __name__ == "__main__":  # pragma: no cover
    main()
