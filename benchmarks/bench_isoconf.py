"""The iso-configurational runner with the numba engine against the same ensemble run with LAMMPS.

One process, side by side: an ensemble of K = 1 configuration (N = 1000, T = 0.8, equilibrated by a short
numba run) with M replicas of --steps steps each, run by :func:`softlib.engine.isoconf.run_ensemble` with
``engine='numba'`` and with ``engine='lammps'`` (LAMMPS as a library, 1 rank, ``lj/cut/opt``), each with
``--jobs`` worker processes. Both do the same work: same positions, velocities, thermostat, skin, time grid,
output files. Throughput = N * M * steps / wall time of run_ensemble (start-up, compilation or cache load,
I/O included).

The overhead of our runner is the part of its wall time that is not MD: the same replicas timed as bare
``Simulation._advance`` calls (warm, in this process) against run_ensemble with jobs = 1.

Ends with ``isoconf_vs_lammps: <ratio>`` (numba / LAMMPS particle-steps per second, --jobs workers each) and
``isoconf_overhead: <fraction>``.

Usage: python benchmarks/bench_isoconf.py [--replicas 8] [--steps 4000] [--jobs 2]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from softlib.engine import isoconf  # noqa: E402
from softlib.engine.md import Simulation  # noqa: E402
from softlib.engine.start import random_configuration, remove_overlaps  # noqa: E402

N, T, DT = 1000, 0.8, 0.0025


def start():
    x, s, box = random_configuration(N, seed=3)
    sim = Simulation(remove_overlaps(x, s, box), s, box, T, dt=DT, seed=4)
    sim.run(4000)
    return sim.positions, s, box


def ensemble(engine, conf, plan, jobs):
    with tempfile.TemporaryDirectory() as d:
        t0 = time.perf_counter()
        isoconf.run_ensemble(plan, d, conf, engine=engine, jobs=jobs, progress=False, say=lambda *_: None)
        return time.perf_counter() - t0


def bare_md(conf, plan):
    """The replicas' MD alone: warm Simulation._advance over the same grid, no files."""
    x0, s, box = conf["positions"][0], conf["species"], conf["box"]
    isoconf.numba_replica(x0, isoconf.replica_velocities(plan, 0, 0), s, box, T, DT, plan.steps[:1])  # warm
    t0 = time.perf_counter()
    for m in range(plan.n_replicas):
        isoconf.numba_replica(x0, isoconf.replica_velocities(plan, 0, m), s, box, T, DT, plan.steps)
    return time.perf_counter() - t0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--replicas", type=int, default=8)
    ap.add_argument("--steps", type=int, default=4000)
    ap.add_argument("--jobs", type=int, default=2)
    a = ap.parse_args()
    t_max = a.steps * DT
    plan = isoconf.EnsemblePlan(T=T, N=N, n_configurations=1, n_replicas=a.replicas, t_max=t_max,
                                tau_alpha=t_max / 2, spacing=1.0, dt=DT)
    x, s, box = start()
    conf = isoconf.starting_configurations(plan, x, s, box)
    work = N * a.replicas * a.steps
    rates, walls = {}, {}
    for jobs in sorted({1, a.jobs}):
        for engine in ("numba", "lammps"):
            walls[engine, jobs] = wall = ensemble(engine, conf, plan, jobs)
            rates[engine, jobs] = work / wall
            print(f"{engine:7s} {jobs} job(s): {wall:7.2f} s, {rates[engine, jobs]:.3g} particle-steps/s")
    md = bare_md(conf, plan)
    print(f"bare MD of the same replicas (numba, warm, no files): {md:.2f} s")
    if a.jobs != 1:
        print(f"isoconf_vs_lammps_1job: {rates['numba', 1] / rates['lammps', 1]:.2f}")
    print(f"isoconf_vs_lammps: {rates['numba', a.jobs] / rates['lammps', a.jobs]:.2f}")
    print(f"isoconf_overhead: {max(0.0, walls['numba', 1] - md) / walls['numba', 1]:.3f}")


if __name__ == "__main__":
    main()
