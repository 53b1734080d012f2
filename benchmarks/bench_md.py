"""Our numba MD engine (softlib.engine.md) against LAMMPS on the same Kob-Andersen liquid.

Both run NVT (Nose-Hoover chain, tdamp 0.25), dt 0.0025, T 0.8, rho 1.2, no
output, from the same equilibrated configuration (positions and velocities
from a short LAMMPS melt + equilibration written to a data file). Every
configuration runs at each skin of --skins and is reported at its best skin:

* LAMMPS, 1 MPI rank, ``pair_style lj/cut/opt`` (the fastest serial style);
* LAMMPS, 2 MPI ranks (``mpiexec -n 2 lmp``), ``lj/cut/opt``;
* LAMMPS, 1 rank with 2 OpenMP threads (``package omp 2``, ``suffix omp``);
* softlib.engine.md with 1 numba thread and with 2 numba threads.

LAMMPS timings are the "Loop time" of its log (set-up excluded), after a
warm-up run in the same process; ours time ``Simulation.run`` after a
warm-up run (compilation excluded). Each measurement is repeated
``--repeat`` times and the fastest kept (the machine is shared).

Ends with ``md_vs_lammps_1rank: <ratio>`` and ``md_vs_lammps_2core: <ratio>``
(ours / LAMMPS particle-steps per second at N = 1000, or the first N when
1000 is not measured); the 2-core line compares ours on 2 threads with the
faster of LAMMPS 2 ranks and LAMMPS 2 OpenMP threads.

Usage: python benchmarks/bench_md.py [--N 1000,4000] [--steps S] [--skins 0.2,0.3,0.4]
"""
from __future__ import annotations

import argparse
import dataclasses
import inspect
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from softlib import ka  # noqa: E402
from softlib.engine import lammps as backend  # noqa: E402
from softlib.pipeline.presets import get_preset  # noqa: E402

T = 0.8
DT = 0.0025
TDAMP = 0.25
LOOP = re.compile(r"Loop time of ([0-9.eE+-]+) on (\d+) procs for (\d+) steps")


# ------------------------------------------------------------------ start configuration
def prepare_liquid(n, workdir, seed=4242):
    """Melt (T 2, 5 tau) and equilibrate (T 0.8, 10 tau) with LAMMPS; write a data file.

    Returns (data_path, positions (N, 3), velocities (N, 3), species (N,), box (3,)),
    arrays sorted by atom id.
    """
    plan = dataclasses.replace(get_preset("quick").plan(T), N=n, seed=seed)
    lmp = backend.new_lammps()
    path = Path(workdir) / f"ka_{n}.data"
    try:
        for c in (backend.placement_commands(plan) + backend.ka_pair_commands()
                  + [f"timestep {DT}", "thermo 0"] + backend.minimize_commands()
                  + [f"velocity all create 2.0 {seed} dist gaussian mom yes rot no",
                     f"fix hot all nvt temp 2.0 2.0 {TDAMP}", "run 2000", "unfix hot",
                     f"velocity all scale {T}", f"fix eq all nvt temp {T} {T} {TDAMP}",
                     "run 4000", "unfix eq", "reset_timestep 0", f"write_data {path} nocoeff"]):
            lmp.command(c)
        x = np.ctypeslib.as_array(lmp.gather_atoms("x", 1, 3)).reshape(n, 3).copy()
        v = np.ctypeslib.as_array(lmp.gather_atoms("v", 1, 3)).reshape(n, 3).copy()
        types = np.ctypeslib.as_array(lmp.gather_atoms("type", 0, 1)).copy()
    finally:
        lmp.close()
    box = np.full(3, ka.box_length(n, plan.rho))
    return path, x, v, types.astype(np.int32) - 1, box


# ------------------------------------------------------------------ LAMMPS
LAMMPS_CONFIGS = {
    # name: (launcher ranks, pair style, omp threads)
    "LAMMPS 1 rank (lj/cut/opt)": (1, "lj/cut/opt", 0),
    "LAMMPS 2 ranks (lj/cut/opt)": (2, "lj/cut/opt", 0),
    "LAMMPS 2 OpenMP threads (lj/cut/omp)": (1, "lj/cut", 2),
}


def lammps_input(data, skin, pair_style, omp, steps, warmup):
    cmds = []
    if omp:
        cmds += [f"package omp {omp}", "suffix omp"]
    cmds += ["units lj", "atom_style atomic", f"read_data {data}"]
    cmds += backend.ka_pair_commands(skin=skin, pair_style=pair_style)
    cmds += [f"timestep {DT}", f"fix nvt all nvt temp {T} {T} {TDAMP}", "thermo 0",
             f"run {warmup}", f"run {steps}"]
    return "\n".join(cmds) + "\n"


def time_lammps(config, data, skin, steps, workdir, warmup=200):
    """Seconds per step of one LAMMPS configuration (Loop time of the timed run)."""
    ranks, style, omp = LAMMPS_CONFIGS[config]
    inp = Path(workdir) / "in.bench"
    log = Path(workdir) / "log.bench"
    inp.write_text(lammps_input(data, skin, style, omp, steps, warmup))
    cmd = [backend.executable("lmp"), "-in", str(inp), "-log", str(log), "-screen", "none",
           "-nocite"]
    if ranks > 1:
        cmd = [backend.executable("mpiexec"), "-n", str(ranks)] + cmd
    env = dict(os.environ, OMP_NUM_THREADS=str(max(omp, 1)))
    res = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if res.returncode != 0:
        raise RuntimeError(f"{config} failed:\n{log.read_text()[-1500:] if log.exists() else ''}"
                           f"\n{res.stderr[-1500:]}")
    loops = LOOP.findall(log.read_text())
    seconds, _, nsteps = loops[-1]
    assert int(nsteps) == steps
    return float(seconds) / steps


# ------------------------------------------------------------------ ours
def time_ours(threads, x, v, species, box, skin, steps, warmup=200):
    """Seconds per step of softlib.engine.md.Simulation.run with ``threads`` numba threads."""
    import numba

    from softlib.engine.md import Simulation

    numba.set_num_threads(threads)
    kw = {"nthreads": threads} if "nthreads" in inspect.signature(Simulation).parameters else {}
    sim = Simulation(x, species, box, T, dt=DT, tdamp=TDAMP, skin=skin, seed=1, velocities=v,
                     **kw)
    sim.run(warmup)
    t0 = time.perf_counter()
    sim.run(steps)
    return (time.perf_counter() - t0) / steps


def same_dynamics(data, x, v, species, box, steps=200):
    """Max |x_ours - x_LAMMPS| after ``steps`` NVT steps from the same state.

    Shows that both sides do the same work (same integrator, thermostat and
    forces): roundoff-level agreement, not just similar speed.
    """
    from softlib.engine.md import Simulation

    n = len(species)
    lmp = backend.new_lammps()
    try:
        for c in (["units lj", "atom_style atomic", f"read_data {data}"]
                  + backend.ka_pair_commands() + [f"timestep {DT}",
                  f"fix nvt all nvt temp {T} {T} {TDAMP}", f"run {steps}"]):
            lmp.command(c)
        xl = (np.ctypeslib.as_array(lmp.gather_atoms("x", 1, 3)).reshape(n, 3)
              + np.ctypeslib.as_array(lmp.gather_atoms("image", 0, 3)).reshape(n, 3) * box)
    finally:
        lmp.close()
    sim = Simulation(x, species, box, T, dt=DT, tdamp=TDAMP, seed=1, velocities=v).run(steps)
    d = sim.positions - xl
    d -= box * np.round(d / box)  # the data file keeps LAMMPS's image flags, x is wrapped
    return float(np.abs(d).max())


# ------------------------------------------------------------------ driver
def versions():
    import numba

    out = {"python": platform.python_version(), "numpy": np.__version__, "numba": numba.__version__}
    lmp = backend.new_lammps()
    out["lammps"] = str(lmp.version())
    lmp.close()
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--N", default="1000,4000", help="particle numbers, comma separated")
    ap.add_argument("--steps", type=int, default=None,
                    help="timed steps per measurement (default: 3e6 particle-steps / N)")
    ap.add_argument("--skins", default="0.2,0.3,0.4", help="Verlet skins to try")
    ap.add_argument("--repeat", type=int, default=3, help="repetitions (fastest kept)")
    ap.add_argument("--no-ours", action="store_true", help="LAMMPS only")
    args = ap.parse_args(argv)
    sizes = [int(s) for s in args.N.split(",")]
    skins = [float(s) for s in args.skins.split(",")]
    have_ours = not args.no_ours
    if have_ours:
        try:
            import softlib.engine.md  # noqa: F401
        except ImportError as err:
            print(f"softlib.engine.md not importable ({err}): LAMMPS only")
            have_ours = False
    print(f"# bench_md: KA rho 1.2, T {T}, dt {DT}, NVT tdamp {TDAMP}; nproc {os.cpu_count()}, "
          f"load {os.getloadavg()[0]:.2f}; {versions()}")
    rows = []  # (N, config, skin, seconds per step)
    with tempfile.TemporaryDirectory() as work:
        for n in sizes:
            steps = args.steps or max(200, int(3e6 / n))
            data, x, v, species, box = prepare_liquid(n, work)
            if have_ours:
                print(f"  N {n:5d} same start, 200 NVT steps: max |x_ours - x_lammps| = "
                      f"{same_dynamics(data, x, v, species, box):.1e}", flush=True)
            # repeats go round-robin over all (skin, engine) pairs, so that a burst of
            # load from other processes hits every configuration alike; fastest kept
            for rep in range(args.repeat):
                for skin in skins:
                    for config in LAMMPS_CONFIGS:
                        t = time_lammps(config, data, skin, steps, work)
                        rows.append(log_row(n, config, skin, t, rep))
                    if have_ours:
                        for threads in (1, 2):
                            config = f"softlib.engine.md {threads} numba thread" + "s" * (threads > 1)
                            t = time_ours(threads, x, v, species, box, skin, steps)
                            rows.append(log_row(n, config, skin, t, rep))
    best = report(rows)
    print(f"# load after: {os.getloadavg()[0]:.2f}")
    n_ref = 1000 if 1000 in sizes else sizes[0]
    b = best[n_ref]
    if have_ours:
        one = b["softlib.engine.md 1 numba thread"][1] / b["LAMMPS 1 rank (lj/cut/opt)"][1]
        two_ref = max(b["LAMMPS 2 ranks (lj/cut/opt)"][1],
                      b["LAMMPS 2 OpenMP threads (lj/cut/omp)"][1])
        two = b["softlib.engine.md 2 numba threads"][1] / two_ref
        print(f"md_vs_lammps_1rank: {one:.3f}")
        print(f"md_vs_lammps_2core: {two:.3f}")
    else:
        print("md_vs_lammps_1rank: nan")
        print("md_vs_lammps_2core: nan")


def log_row(n, config, skin, t, rep):
    print(f"  [{rep}] N {n:5d} skin {skin:.2f} {config:38s} {n / t / 1e6:7.3f} M p-steps/s",
          flush=True)
    return n, config, skin, t


def report(rows):
    """Print the best-skin table; return {N: {config: (skin, particle-steps/s)}}.

    "best" is the fastest repeat at the best skin, "median" the median of the
    repeats at that skin (their gap shows how much the machine's load moved).
    """
    rates = {}
    for n, config, skin, t in rows:
        rates.setdefault(n, {}).setdefault(config, {}).setdefault(skin, []).append(n / t)
    best = {}
    print()
    print("| N | engine | best skin | timesteps/s | particle-steps/s (M), best | median "
          "| vs LAMMPS 1 rank |")
    print("|---|---|---|---|---|---|---|")
    for n, configs in rates.items():
        best[n] = {c: max(((sk, max(r)) for sk, r in by_skin.items()), key=lambda p: p[1])
                   for c, by_skin in configs.items()}
        ref = best[n]["LAMMPS 1 rank (lj/cut/opt)"][1]
        for config, (skin, rate) in best[n].items():
            med = float(np.median(configs[config][skin]))
            print(f"| {n} | {config} | {skin:.2f} | {rate / n:.0f} | {rate / 1e6:.3f} | "
                  f"{med / 1e6:.3f} | {rate / ref:.2f} |")
    print()
    return best


if __name__ == "__main__":
    main()
