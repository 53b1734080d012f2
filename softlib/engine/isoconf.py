"""Iso-configurational ensembles: the same starting positions, fresh velocities, many replicas.

A particle's *dynamic propensity* (Widmer-Cooper, Harrowell and Fynewever, PRL 93, 135701 (2004))
is its displacement averaged over an iso-configurational ensemble: M replicas of NVT dynamics
that all start from one configuration, each with its own Maxwell-Boltzmann velocities. What
survives the average over velocities is what the structure alone decides; a structural
predictor is judged by how well it correlates with it.

An ensemble lives in one folder::

    plan.json                  the EnsemblePlan (a folder of another plan is refused)
    configurations.npz         the K starting configurations (positions, species, box, source)
    replicas/c003_r17.npz      |r_i(t) - r_i(0)| of replica 17 of configuration 3 on the time grid
    propensity.npz             the ensemble averages (written by :func:`collect`, last)

Each replica is one resumable unit: it is written atomically when it is complete, so an
interrupted ensemble resumes with the replicas still missing and, since every replica's
velocities come from its own seed ``(plan.seed, k, m)`` and both engines are deterministic, a
resumed ensemble gives bit-identical propensities. Replicas run in ``jobs`` processes.

Both engines run a replica from the same positions and the same velocities, drawn here:
the numba engine (:class:`softlib.engine.md.Simulation`) or LAMMPS as a library
(:func:`lammps_replica`); the thermostat is the production run's Nose-Hoover chain
(damping 0.25 tau, started at rest).
"""
from __future__ import annotations

import json
import math
import os
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from .. import ka
from .._checks import as_temperature, check_box_cutoff
from .protocol import SKIN, progress_bar
from .schedule import _nsteps

__all__ = ["EnsemblePlan", "time_grid", "replica_velocities", "starting_configurations",
           "numba_replica", "lammps_replica", "run_ensemble", "collect", "cost",
           "ENGINES", "RATE_GUESS"]

#: planning rate of one core (particle-steps per second) for the printed cost estimate
RATE_GUESS = 3.5e6


@dataclass(frozen=True)
class EnsemblePlan:
    """Everything an iso-configurational ensemble at one temperature needs.

    Attributes
    ----------
    T : float
        Temperature (eps_AA / k_B) of the NVT replicas.
    N : int
        Particles; ``rho`` the number density (sigma_AA^-3).
    n_configurations : int
        K starting configurations, ``spacing`` (tau) of NVT dynamics apart.
    n_replicas : int
        M replicas per configuration.
    t_max : float
        Length of each replica (tau).
    tau_alpha : float
        The alpha-relaxation time (tau) of the source run; the time grid contains it.
    dt : float
        Time step (tau).
    seed : int
        Replica m of configuration k draws its velocities from ``default_rng([seed, k, m])``;
        the chain of starting configurations uses ``default_rng([seed, 2**31])``.
    t_first : float
        First time of the log-spaced grid (tau); ``per_decade`` grid points per decade.
    """

    T: float
    N: int
    n_configurations: int
    n_replicas: int
    t_max: float
    tau_alpha: float
    spacing: float
    rho: float = ka.RHO
    dt: float = 0.0025
    seed: int = 2022
    t_first: float = 0.05
    per_decade: int = 8

    def asdict(self):
        return asdict(self)

    @property
    def steps(self):
        """The time grid in steps (:func:`time_grid`)."""
        return time_grid(self.t_max, self.dt, self.tau_alpha, self.t_first, self.per_decade)

    @property
    def times(self):
        return self.steps * self.dt

    def check(self):
        """Validate the plan; returns it."""
        as_temperature(self.T)
        check_box_cutoff(ka.box_length(self.N, self.rho), ka.RCUT_MAX + SKIN / 2,
                         f"the KA cutoff 2.5 plus half the Verlet skin {SKIN}")
        for name in ("n_configurations", "n_replicas"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.n_replicas < 2:
            raise ValueError("n_replicas must be >= 2: the finite-ensemble ceiling compares two "
                             "halves of the replicas")
        for name in ("t_max", "tau_alpha", "spacing", "t_first"):
            v = getattr(self, name)
            if not (np.isfinite(v) and v > 0):
                raise ValueError(f"{name} must be a positive time (tau), got {v}")
        _nsteps(self.t_max, self.dt)
        _nsteps(self.spacing, self.dt)
        if self.tau_alpha > self.t_max:
            raise ValueError(f"tau_alpha = {self.tau_alpha} is beyond t_max = {self.t_max}: the "
                             "grid must contain tau_alpha; raise t_max")
        return self


def time_grid(t_max, dt, tau_alpha, t_first=0.05, per_decade=8):
    """Steps of the propensity time grid: log-spaced from ``t_first`` to ``t_max`` plus tau_alpha.

    Returns
    -------
    (n_t,) int64
        Increasing, unique, > 0; ``round(tau_alpha / dt)`` among them.
    """
    n_max = _nsteps(t_max, dt)
    decades = math.log10(t_max / t_first)
    t = t_first * 10.0 ** (np.arange(int(np.ceil(decades * per_decade)) + 1) / per_decade)
    steps = np.unique(np.round(np.append(t, [tau_alpha, t_max]) / dt).astype(np.int64))
    return steps[(steps > 0) & (steps <= n_max)]


def replica_velocities(plan, k, m):
    """Maxwell-Boltzmann velocities (N, 3) of replica ``m`` of configuration ``k`` at plan.T."""
    from .start import maxwell_boltzmann

    return maxwell_boltzmann(np.random.default_rng([plan.seed, k, m]), plan.N, plan.T)


# --------------------------------------------------------------------------- the starting configurations
def starting_configurations(plan, positions, species, box, source="", progress=False):
    """K configurations of NVT dynamics at plan.T, ``plan.spacing`` apart, from ``positions``.

    The first is ``positions`` itself (an equilibrated frame of a run at plan.T); each next
    one follows after ``plan.spacing`` of NVT dynamics (numba engine, velocities from
    ``default_rng([plan.seed, 2**31])``), so that successive ones are decorrelated when the
    spacing is a few tau_alpha.

    Returns
    -------
    dict
        ``positions`` (K, N, 3), ``species`` (N,), ``box`` (3,), ``source`` (str).
    """
    from .md import Simulation
    from .start import maxwell_boltzmann

    x = np.asarray(positions, dtype=np.float64)
    if x.shape != (plan.N, 3):
        raise ValueError(f"positions of shape {x.shape} for a plan of N = {plan.N}: start from a "
                         "frame of a run with the plan's N")
    v = maxwell_boltzmann(np.random.default_rng([plan.seed, 2**31]), plan.N, plan.T)
    sim = Simulation(x, species, box, plan.T, dt=plan.dt, skin=SKIN, velocities=v)
    out = [x.copy()]
    n = _nsteps(plan.spacing, plan.dt)
    bar = progress_bar((plan.n_configurations - 1) * n, progress, f"configurations T={plan.T}")
    for _ in range(plan.n_configurations - 1):
        sim._advance(n)
        out.append(sim.positions)
        if bar is not None:
            bar.update(n)
    if bar is not None:
        bar.close()
    return {"positions": np.array(out), "species": np.asarray(species), "box": np.asarray(box, float),
            "source": str(source)}


# --------------------------------------------------------------------------- one replica
def numba_replica(x0, v0, species, box, T, dt, steps):
    """|r_i(t) - r_i(0)| (n_t, N) of one NVT replica with the numba engine, on ``steps``."""
    from .md import Simulation

    sim = Simulation(x0, species, box, T, dt=dt, skin=SKIN, velocities=v0)
    out = np.empty((len(steps), len(x0)))
    k = 0
    for i, s in enumerate(steps):
        sim._advance(int(s) - k)
        k = int(s)
        out[i] = np.linalg.norm(sim._x - x0, axis=1)
    return out


def lammps_replica(x0, v0, species, box, T, dt, steps):
    """The same replica as :func:`numba_replica`, with LAMMPS as a library (one rank).

    Same positions, velocities, pair potential, skin and Nose-Hoover chain (``fix nvt``, damping
    0.25 tau), with ``lj/cut/opt``, LAMMPS' fastest serial pair style; positions are unwrapped
    with LAMMPS' image flags.
    """
    from .lammps import TDAMP, ka_pair_commands, new_lammps

    box = np.asarray(box, dtype=float)
    lx, ly, lz = (float(b) for b in box)
    n = len(x0)
    lmp = new_lammps()
    try:
        for c in ["units lj", "atom_style atomic", "boundary p p p", "atom_modify map array",
                  f"region box block 0 {lx!r} 0 {ly!r} 0 {lz!r}", "create_box 2 box",
                  "mass * 1.0"]:
            lmp.command(c)
        xw = np.mod(x0, box)
        lmp.create_atoms(n, list(range(1, n + 1)), [int(s) + 1 for s in species],
                         xw.ravel().tolist(), np.asarray(v0).ravel().tolist())
        for c in ka_pair_commands(SKIN, "lj/cut/opt") + [f"timestep {float(dt)!r}", "thermo 0",
                                           f"fix nvt all nvt temp {float(T)!r} {float(T)!r} {TDAMP!r}"]:
            lmp.command(c)
        out = np.empty((len(steps), n))
        k, pre = 0, "yes"
        for i, s in enumerate(steps):
            lmp.command(f"run {int(s) - k} pre {pre} post no")
            k, pre = int(s), "no"
            x = np.ctypeslib.as_array(lmp.gather_atoms("x", 1, 3)).reshape(n, 3)
            img = np.ctypeslib.as_array(lmp.gather_atoms("image", 0, 3)).reshape(n, 3)
            out[i] = np.linalg.norm(x + img * box - xw, axis=1)
        return out
    finally:
        lmp.close()


#: replica runners by engine name
ENGINES = {"numba": numba_replica, "lammps": lammps_replica}


# --------------------------------------------------------------------------- the ensemble
def cost(plan):
    """Particle-steps of the whole ensemble and a planning estimate of its time on one core (s)."""
    ps = plan.N * plan.n_configurations * plan.n_replicas * _nsteps(plan.t_max, plan.dt)
    return ps, ps / RATE_GUESS


def _replica_path(outdir, k, m):
    return Path(outdir) / "replicas" / f"c{k:03d}_r{m:02d}.npz"


def _one(args):
    """Worker: run replica (k, m) and write it atomically; returns (k, m, seconds)."""
    from ..io.store import save_npz

    outdir, plan_d, engine, k, m, x0, species, box = args
    plan = EnsemblePlan(**plan_d)
    t0 = time.perf_counter()
    disp = ENGINES[engine](x0, replica_velocities(plan, k, m), species, box, plan.T, plan.dt,
                           plan.steps)
    save_npz(_replica_path(outdir, k, m), displacement=disp.astype(np.float32),
             steps=plan.steps, k=k, m=m)
    return k, m, time.perf_counter() - t0


def _prepare(plan, outdir, configurations, engine):
    """Write or check plan.json and configurations.npz; returns the configurations."""
    from ..io.store import read_json, save_npz, write_json

    outdir = Path(outdir)
    (outdir / "replicas").mkdir(parents=True, exist_ok=True)
    want = json.loads(json.dumps({"plan": plan.asdict(), "engine": engine}))
    path = outdir / "plan.json"
    if path.exists():
        got = read_json(path)
        if {k: got.get(k) for k in want} != want:
            raise ValueError(f"{outdir} holds an ensemble of another plan or engine ({got.get('plan')}, "
                             f"{got.get('engine')}): delete {outdir} or choose another folder")
    cpath = outdir / "configurations.npz"
    if not cpath.exists():
        if configurations is None:
            raise ValueError(f"{cpath} is missing: pass the starting configurations "
                             "(starting_configurations) the first time")
        save_npz(cpath, **configurations)
    if not path.exists():
        write_json(path, want)
    with np.load(cpath, allow_pickle=False) as z:
        conf = {k: z[k] for k in z.files}
    if conf["positions"].shape != (plan.n_configurations, plan.N, 3):
        raise ValueError(f"{cpath} holds positions of shape {conf['positions'].shape}, the plan "
                         f"wants ({plan.n_configurations}, {plan.N}, 3): delete {outdir}")
    return conf


def run_ensemble(plan, outdir, configurations=None, engine="numba", jobs=1, progress=True,
                 callback=None, say=print, only=None):
    """Run (or resume) every missing replica of ``plan`` in ``outdir``; then :func:`collect`.

    Parameters
    ----------
    plan : EnsemblePlan
    outdir : path
        The ensemble folder (see the module docstring).
    configurations : dict, optional
        :func:`starting_configurations` output; needed only the first time.
    engine : {'numba', 'lammps'}
    jobs : int
        Worker processes (each single-threaded); 1 runs in this process.
    callback : callable, optional
        ``callback(k, m)`` after each replica is written (tests use it to interrupt).
    only : iterable of int, optional
        Run the replicas of these configurations only (one job of a cluster's job array per
        configuration; the folder must be shared). The last job to finish collects.

    Returns
    -------
    dict or None
        :func:`collect` of the folder; None while replicas of other configurations are missing.
    """
    from ..io.lock import FileLock

    plan.check()
    if engine not in ENGINES:
        raise ValueError(f"engine {engine!r}: choose one of {sorted(ENGINES)}")
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    with FileLock(outdir, what=f"iso-configurational ensemble T = {plan.T}"):
        conf = _prepare(plan, outdir, configurations, engine)
        ks = range(plan.n_configurations) if only is None else sorted({int(k) for k in only})
        if ks and not 0 <= min(ks) <= max(ks) < plan.n_configurations:
            raise ValueError(f"only = {list(ks)}: configurations are numbered 0 .. {plan.n_configurations - 1}")
        todo = [(k, m) for k in ks for m in range(plan.n_replicas) if not _replica_path(outdir, k, m).exists()]
        ps, secs = cost(plan)
        say(f"ensemble T = {plan.T}: {plan.n_configurations} configurations x {plan.n_replicas} "
            f"replicas x {plan.t_max} tau ({ps:.3g} particle-steps, about {secs / 60 / jobs:.0f} min "
            f"on {jobs} core(s) in all); {len(todo)} replicas to run")
        args = [(str(outdir), plan.asdict(), engine, k, m, conf["positions"][k], conf["species"],
                 conf["box"]) for k, m in todo]
        bar = progress_bar(len(todo), progress, f"replicas T={plan.T}")
        t0 = time.perf_counter()
        try:
            for k, m, _ in _map(args, jobs):
                if bar is not None:
                    bar.update(1)
                if callback is not None:
                    callback(k, m)
        finally:
            if bar is not None:
                bar.close()
        wall = time.perf_counter() - t0
        if any(not _replica_path(outdir, k, m).exists() for k in range(plan.n_configurations)
               for m in range(plan.n_replicas)):
            return None
        return collect(plan, outdir, wall=wall if todo else None)


def _map(args, jobs):
    """Yield :func:`_one` over ``args``, in this process (jobs 1) or in ``jobs`` spawned workers."""
    if jobs <= 1 or len(args) <= 1:
        for a in args:
            yield _one(a)
        return
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    os.environ.setdefault("NUMBA_NUM_THREADS", "1")  # the step loop is serial: one core each
    with ProcessPoolExecutor(jobs, mp_context=mp.get_context("spawn")) as ex:
        yield from ex.map(_one, args)


def collect(plan, outdir, wall=None):
    """Average the replicas of ``outdir`` into ``propensity.npz`` (atomically); returns its arrays.

    Returns
    -------
    dict
        ``times`` (n_t,) tau; ``mean_abs`` and ``mean_sq`` (K, n_t, N): the mean over the M
        replicas of |dr| and |dr|^2 (sigma_AA, sigma_AA^2); ``half_abs`` (2, K, n_t, N): the
        mean |dr| over the even and over the odd replicas (for the finite-ensemble ceiling);
        ``positions`` (K, N, 3), ``species``, ``box`` of the starting configurations.
    """
    from ..io.store import provenance, save_npz

    outdir = Path(outdir)
    K, M, steps = plan.n_configurations, plan.n_replicas, plan.steps
    missing = [(k, m) for k in range(K) for m in range(M) if not _replica_path(outdir, k, m).exists()]
    if missing:
        raise ValueError(f"{outdir}: {len(missing)} replicas missing (first {missing[0]}): run "
                         "run_ensemble again to finish them")
    s1 = np.zeros((K, len(steps), plan.N))
    s2 = np.zeros_like(s1)
    half = np.zeros((2,) + s1.shape)
    for k in range(K):
        for m in range(M):
            with np.load(_replica_path(outdir, k, m)) as z:
                d = z["displacement"].astype(np.float64)
                if not np.array_equal(z["steps"], steps):
                    raise ValueError(f"{_replica_path(outdir, k, m)} has another time grid: delete it")
            s1[k] += d
            s2[k] += d * d
            half[m % 2, k] += d
    with np.load(outdir / "configurations.npz", allow_pickle=False) as z:
        conf = {k: z[k] for k in z.files}
    n_half = np.array([(M + 1) // 2, M // 2], float)
    out = {"times": steps * plan.dt, "steps": steps, "mean_abs": s1 / M, "mean_sq": s2 / M,
           "half_abs": half / n_half[:, None, None, None], "positions": conf["positions"],
           "species": conf["species"], "box": conf["box"]}
    meta = provenance(**plan.asdict(), wall_seconds=wall, python=sys.version.split()[0])
    save_npz(outdir / "propensity.npz", **out, meta=np.array(json.dumps(meta, default=str)))
    return out
