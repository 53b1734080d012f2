"""Numba molecular dynamics engine for the Kob-Andersen mixture.

Integrator: velocity Verlet, optionally with a Nose-Hoover chain thermostat
(Martyna, Tuckerman and Klein 1992, chain length 3 by default) applied with
the Trotter splitting of LAMMPS ``fix nvt``:

1. thermostat half-step (chain variables, then velocity scaling),
2. velocity half-kick ``v += F dt / 2``,
3. drift ``x += v dt``,
4. forces at the new positions (Verlet list, rebuilt when any particle
   moved more than half the skin since the last build),
5. velocity half-kick,
6. thermostat half-step.

Chain masses follow LAMMPS: ``Q_1 = N_f T tdamp**2`` and
``Q_k = T tdamp**2`` (k > 1), with ``N_f = 3 N - 3`` because the
centre-of-mass momentum is removed at the start and conserved afterwards.
The conserved quantity of the NVT dynamics is

    H = K + U + N_f T eta_1 + sum_{k>1} T eta_k + sum_k Q_k xi_k**2 / 2,

with eta_k the chain positions and xi_k their velocities.

The steps between two output events run inside one numba function
(``_run_block``), Verlet-list rebuilds included, so Python costs nothing
per step. It calls the shared serial kernels ``neighbors.needs_rebuild``,
``neighbors.build_half`` and ``forces.compute_serial`` (the same code that
:class:`softlib.engine.forces.PairForce` runs with one thread), never their
``parallel=True`` twins: numba 0.68 crashes when it loads a cached function
whose callees include a parallel one (numba issue #8578).

Runs of a :class:`softlib.pipeline.presets.RunPlan` (:func:`simulate`) follow
the run protocol of :mod:`softlib.engine.protocol`; this module provides its
engine, :class:`NumbaEngine`. Start-up configurations: :mod:`softlib.engine.start`.

Exact restarts: a checkpoint stores positions, velocities, forces, the
chain state, the step and the RNG state; the neighbour list is rebuilt
at every checkpoint both in the run that continues and in the run that
resumes, so both sum the same pairs in the same order and stay
bit-identical. How a run is cut into blocks (output events) does not
change the trajectory at all.

Units: LJ (sigma_AA, eps_AA, m = 1, k_B = 1); all masses are 1.
"""
from __future__ import annotations

import json
import math
import os
import sys
from pathlib import Path

import numpy as np
from numba import njit

from .. import ka
from .._checks import as_box, as_positions, as_species, as_temperature, check_box_cutoff
from . import protocol
from .forces import PairForce, compute_serial
from .neighbors import build_half, needs_rebuild
from .protocol import THERMO_COLUMNS
from .start import (
    MIN_SEPARATION,
    check_overlaps,
    maxwell_boltzmann,
    random_configuration,
    remove_overlaps,
)

__all__ = ["Simulation", "NumbaEngine", "simulate", "random_configuration", "remove_overlaps",
           "check_overlaps", "MIN_SEPARATION", "THERMO_COLUMNS"]


# ---------------------------------------------------------------------------
# kernels
# ---------------------------------------------------------------------------
class _ForceField:
    """Serial KA forces: list geometry and constants of a one-thread PairForce, shared kernels."""

    def __init__(self, species, box, skin):
        pf = PairForce(species, box, skin=skin, nthreads=1)
        vl = pf.nlist
        self.species, self.box = pf.species, pf.box
        self.geo = (vl.ncell, vl.runs, vl.nruns, vl.cut2)
        self.half_skin2 = vl.half_skin2
        self.params, self.work = pf.params, pf.work

    def build(self, x):
        """Cell-sorted half list ``(perm, species_sorted, offsets, split, nbrs)`` for ``x`` (N, 3)."""
        return build_half(x, self.species, self.box, *self.geo)

    def forces(self, x, nl, f):
        """(energy, virial) in eps_AA; forces (N, 3) into ``f``."""
        perm, ss, offsets, split, nbrs = nl
        return compute_serial(x, perm, ss, self.box, offsets, split, nbrs, self.params,
                              self.work, f)


@njit(cache=True)
def _nhc_half_step(v, eta, eta_dot, eta_dotdot, q, T, nf, dt):
    """Half-step dt/2 of the Nose-Hoover chain, scaling ``v`` in place.

    Same operator sequence as LAMMPS FixNH::nhc_temp_integrate with one
    Suzuki-Yoshida loop: chain velocities from the end of the chain
    inwards, scale particle velocities, advance chain positions, chain
    velocities from the start outwards. ``eta_dot`` has one trailing zero
    entry (a dummy thermostat beyond the last one).
    """
    m = eta.shape[0]
    dt2, dt4, dt8 = 0.5 * dt, 0.25 * dt, 0.125 * dt
    mv2 = 0.0
    for i in range(v.shape[0]):
        mv2 += v[i, 0] * v[i, 0] + v[i, 1] * v[i, 1] + v[i, 2] * v[i, 2]
    mv2_target = nf * T
    eta_dotdot[0] = (mv2 - mv2_target) / q[0]
    for k in range(m - 1, 0, -1):
        e = math.exp(-dt8 * eta_dot[k + 1])
        eta_dot[k] = (eta_dot[k] * e + eta_dotdot[k] * dt4) * e
    e0 = math.exp(-dt8 * eta_dot[1])
    eta_dot[0] = (eta_dot[0] * e0 + eta_dotdot[0] * dt4) * e0
    scale = math.exp(-dt2 * eta_dot[0])
    for i in range(v.shape[0]):
        v[i, 0] *= scale
        v[i, 1] *= scale
        v[i, 2] *= scale
    mv2 *= scale * scale
    eta_dotdot[0] = (mv2 - mv2_target) / q[0]
    for k in range(m):
        eta[k] += dt2 * eta_dot[k]
    eta_dot[0] = (eta_dot[0] * e0 + eta_dotdot[0] * dt4) * e0
    for k in range(1, m):
        e = math.exp(-dt8 * eta_dot[k + 1])
        eta_dot[k] *= e
        eta_dotdot[k] = (q[k - 1] * eta_dot[k - 1] * eta_dot[k - 1] - T) / q[k]
        eta_dot[k] = (eta_dot[k] + eta_dotdot[k] * dt4) * e


@njit(cache=True)
def _run_block(x, v, f, xref, species, box, geo, half_skin2, params, work, nl, nsteps, dt,
               nvt, eta, eta_dot, eta_dotdot, q, T, nf, stats, ev):
    """Advance ``nsteps`` velocity-Verlet (+ NHC) steps in place.

    Rebuilds the list when some particle moved more than skin / 2
    (``stats[0]`` counts rebuilds). Non-finite positions stop the loop with
    ``stats[1] = 1``. ``ev`` = [energy, virial] of the last force
    evaluation, updated in place. Returns the current list.
    """
    half = 0.5 * dt
    n = x.shape[0]
    ncell, runs, nruns, cut2 = geo
    for _ in range(nsteps):
        if nvt:
            _nhc_half_step(v, eta, eta_dot, eta_dotdot, q, T, nf, dt)
        for i in range(n):
            for d in range(3):
                v[i, d] += half * f[i, d]
                x[i, d] += dt * v[i, d]
        if needs_rebuild(x, xref, box, half_skin2):
            if not np.all(np.isfinite(x)):
                stats[1] = 1
                return nl
            nl = build_half(x, species, box, ncell, runs, nruns, cut2)
            xref[:, :] = x
            stats[0] += 1
        perm, ss, offsets, split, nbrs = nl
        e, w = compute_serial(x, perm, ss, box, offsets, split, nbrs, params, work, f)
        ev[0] = e
        ev[1] = w
        for i in range(n):
            for d in range(3):
                v[i, d] += half * f[i, d]
        if nvt:
            _nhc_half_step(v, eta, eta_dot, eta_dotdot, q, T, nf, dt)
    return nl


def _tie_cache(*dispatchers, modules=()):
    """Key the numba cache of ``dispatchers`` on the kernels they call, not only on md.py.

    numba stamps a cached function with the hash of its own source file, but
    the cached machine code also holds the callees from other files; after
    an edit of softlib/engine/forces.py a stale step loop would run the old force
    kernel (or crash if its arguments changed). With the stamp hashed over
    all these files any edit recompiles. Uses numba internals, hence guarded.
    """
    import hashlib

    files = [Path(__file__)] + sorted({Path(m.__file__) for m in modules})
    digest = hashlib.sha256(b"".join(f.read_bytes() for f in files)).digest()
    for d in dispatchers:
        try:
            d._cache._cache_file._source_stamp = digest
        except AttributeError:  # another numba version: fall back to its own stamp
            pass


def _modules_of(*kernels):
    """The modules that define the numba ``kernels`` (their callees live in the same files)."""
    return [sys.modules[k.py_func.__module__] for k in kernels]


_tie_cache(_run_block, modules=_modules_of(build_half, needs_rebuild, compute_serial))


# ---------------------------------------------------------------------------
# the simulation object
# ---------------------------------------------------------------------------
class Simulation:
    """Velocity-Verlet MD of the KA mixture, NVT (Nose-Hoover chain) or NVE.

    Parameters
    ----------
    positions : (N, 3) float
        Start positions (sigma_AA), unwrapped or wrapped; must be free of
        overlaps (no pair closer than 0.6 sigma_uv).
    species : (N,) int
        0 = A, 1 = B.
    box : float or (3,) float
        Box edge lengths; every edge must exceed 2 * 2.5.
    T : float
        Target temperature (NVT) and the temperature of the initial
        Maxwell-Boltzmann velocities (eps_AA / k_B).
    dt : float
        Time step (tau).
    tdamp : float
        Thermostat damping time (tau); LAMMPS ``fix nvt temp T T tdamp``.
    chain : int
        Number of thermostats in the chain (>= 1).
    ensemble : {'nvt', 'nve'}
    skin : float
        Verlet-list skin (sigma_AA).
    seed : int
        Seed of the numpy Generator drawing the initial velocities.
    velocities : (N, 3) float, optional
        Initial velocities instead of Maxwell-Boltzmann; their centre-of-mass
        velocity is removed.

    Attributes
    ----------
    step : int
        Steps done since the start (``time = step * dt``).
    n_rebuilds : int
        Verlet-list rebuilds during the run (one more per checkpoint).
    n_dof : int
        3 N - 3.

    Notes
    -----
    ``positions`` stay unwrapped and in the caller's particle order.
    Properties (copies or floats): ``positions``, ``velocities``,
    ``forces``, ``time``, ``potential_energy``, ``kinetic_energy``,
    ``temperature`` (2 K / N_f), ``pressure``, ``thermostat_energy``,
    ``conserved_energy``, ``thermostat_state``; ``thermo()`` gives the
    per-particle row of thermo.csv.

    Examples
    --------
    >>> x, s, box = random_configuration(500, seed=1)
    >>> sim = Simulation(remove_overlaps(x, s, box), s, box, T=1.0, seed=2)
    >>> sim.run(1000).temperature  # doctest: +SKIP
    """

    def __init__(self, positions, species, box, T, dt=0.0025, tdamp=0.25, chain=3,
                 ensemble="nvt", skin=0.3, seed=0, velocities=None):
        species = as_species(species)
        x = as_positions(positions, n=len(species)).copy()
        box = check_box_cutoff(box, ka.RCUT_MAX)
        T = as_temperature(T)
        self._set_params(species, box, T, dt, tdamp, chain, ensemble, skin, seed)
        check_overlaps(x, species, box)
        self._rng = np.random.default_rng(seed)
        if velocities is None:
            v = maxwell_boltzmann(self._rng, len(x), T)
        else:
            v = np.array(velocities, dtype=np.float64)
            if v.shape != x.shape or not np.all(np.isfinite(v)):
                raise ValueError(f"velocities must be finite with shape {x.shape}, got "
                                 f"shape {v.shape}")
            v -= v.mean(axis=0)
        self._x, self._v = x, v
        self.step = 0
        self.n_rebuilds = 0
        self._reset_chain()
        self._rebuild()
        self._compute_forces()

    # -- set-up helpers ---------------------------------------------------
    def _set_params(self, species, box, T, dt, tdamp, chain, ensemble, skin, seed):
        if ensemble not in ("nvt", "nve"):
            raise ValueError(f"ensemble must be 'nvt' or 'nve', got {ensemble!r}")
        for name, val in (("dt", dt), ("tdamp", tdamp)):
            if not (np.isfinite(val) and val > 0):
                raise ValueError(f"{name} must be a positive time (tau), got {val}")
        if int(chain) < 1:
            raise ValueError(f"chain must be >= 1 thermostats, got {chain}")
        if not (np.isfinite(skin) and skin > 0):
            raise ValueError(f"skin must be positive (sigma_AA), got {skin}; 0.3 is a good choice")
        check_box_cutoff(box, ka.RCUT_MAX + skin / 2)
        self.species, self.box, self.T = species, box, float(T)
        self.dt, self.tdamp, self.chain = float(dt), float(tdamp), int(chain)
        self.ensemble, self.skin, self.seed = ensemble, float(skin), int(seed)
        self.n_dof = 3 * len(species) - 3
        self._q = np.empty(self.chain)
        self._ff = _ForceField(species, box, self.skin)

    def _reset_chain(self):
        """Chain at rest with LAMMPS masses for the current T (also after a change of T)."""
        m = self.chain
        self._q[0] = self.n_dof * self.T * self.tdamp ** 2
        self._q[1:] = self.T * self.tdamp ** 2
        self._eta = np.zeros(m)
        self._eta_dot = np.zeros(m + 1)         # trailing dummy stays 0
        self._eta_dotdot = np.zeros(m)
        self._eta_dotdot[1:] = -self.T / self._q[1:]  # as LAMMPS FixNH::setup with xi = 0

    def _rebuild(self):
        self._nl = self._ff.build(self._x)
        self._xref = self._x.copy()

    def _compute_forces(self):
        self._f = np.zeros_like(self._x)
        e, w = self._ff.forces(self._x, self._nl, self._f)
        self._ev = np.array([e, w])

    # -- public state -------------------------------------------------------
    @property
    def n_particles(self):
        return len(self.species)

    @property
    def positions(self):
        """Unwrapped positions (N, 3), a copy."""
        return self._x.copy()

    @property
    def velocities(self):
        return self._v.copy()

    @property
    def forces(self):
        return self._f.copy()

    @property
    def time(self):
        """Simulated time step * dt (tau)."""
        return self.step * self.dt

    @property
    def potential_energy(self):
        """Total potential energy (eps_AA)."""
        return float(self._ev[0])

    @property
    def kinetic_energy(self):
        return 0.5 * float((self._v * self._v).sum())

    @property
    def temperature(self):
        """Kinetic temperature 2 K / N_f with N_f = 3 N - 3."""
        return 2.0 * self.kinetic_energy / self.n_dof

    @property
    def volume(self):
        return float(np.prod(self.box))

    @property
    def pressure(self):
        """(2 K + W) / (3 V), W = sum over pairs r_ij . f_ij (as LAMMPS with N_f dof)."""
        return (2.0 * self.kinetic_energy + float(self._ev[1])) / (3.0 * self.volume)

    @property
    def thermostat_energy(self):
        """Energy of the chain: N_f T eta_1 + sum_k>1 T eta_k + sum_k Q_k xi_k^2 / 2."""
        if self.ensemble == "nve":
            return 0.0
        m = self.chain
        xi = self._eta_dot[:m]
        return float(self.n_dof * self.T * self._eta[0] + self.T * self._eta[1:].sum()
                     + 0.5 * (self._q * xi * xi).sum())

    @property
    def conserved_energy(self):
        """K + U (NVE) or the Nose-Hoover-chain extended energy H (NVT)."""
        return self.kinetic_energy + self.potential_energy + self.thermostat_energy

    @property
    def thermostat_state(self):
        """dict of copies of eta, eta_dot (chain velocities), eta_dotdot, Q."""
        return {"eta": self._eta.copy(), "eta_dot": self._eta_dot[:self.chain].copy(),
                "eta_dotdot": self._eta_dotdot.copy(), "mass": self._q.copy()}

    def thermo(self):
        """dict of step, time, T, e_pot, e_kin, pressure, e_conserved (energies per particle)."""
        n = self.n_particles
        return {"step": self.step, "time": self.time, "T": self.temperature,
                "e_pot": self.potential_energy / n, "e_kin": self.kinetic_energy / n,
                "pressure": self.pressure, "e_conserved": self.conserved_energy / n}

    # -- dynamics -------------------------------------------------------------
    def set_temperature(self, T, rescale=True):
        """Change the target T; optionally rescale velocities to it (instant quench).

        The thermostat chain restarts at rest with masses for the new T.
        """
        T = as_temperature(T)
        if rescale:
            if not self.temperature > 0:
                raise ValueError("cannot rescale velocities that are all zero: use rescale=False")
            self._v *= math.sqrt(T / self.temperature)
        self.T = T
        self._reset_chain()

    def _advance(self, nsteps):
        """Run ``nsteps`` steps in one numba call (0 only compiles / loads the kernel)."""
        nsteps = int(nsteps)
        if nsteps < 0:
            raise ValueError(f"nsteps must be >= 0, got {nsteps}")
        stats = np.zeros(2, dtype=np.int64)
        ff = self._ff
        self._nl = _run_block(self._x, self._v, self._f, self._xref, self.species, self.box,
                              ff.geo, ff.half_skin2, ff.params, ff.work, self._nl, nsteps,
                              self.dt, self.ensemble == "nvt", self._eta, self._eta_dot,
                              self._eta_dotdot, self._q, self.T, float(self.n_dof), stats,
                              self._ev)
        self.n_rebuilds += int(stats[0])
        self.step += nsteps
        if stats[1] or not np.isfinite(self._ev[0]):
            raise FloatingPointError(
                f"the run blew up before step {self.step} (non-finite positions or energy): "
                "reduce dt or relax the start with remove_overlaps; resume from the last "
                "checkpoint")

    def run(self, nsteps, callback=None, every=None, progress=False):
        """Advance ``nsteps`` steps.

        Parameters
        ----------
        nsteps : int
        callback : callable, optional
            ``callback(sim)`` after every ``every`` steps (and at the end).
        every : int, optional
            Steps between callbacks; default: only at the end.
        progress : bool
            tqdm progress bar on stderr.
        """
        nsteps = int(nsteps)
        if nsteps < 0:
            raise ValueError(f"nsteps must be >= 0, got {nsteps}")
        every = nsteps if not every else int(every)
        if every <= 0:
            raise ValueError(f"every must be a positive number of steps, got {every}")
        bar = protocol.progress_bar(nsteps, progress, "md")
        done = 0
        try:
            while done < nsteps:
                k = min(every, nsteps - done)
                if bar is not None and callback is None:
                    k = min(k, max(1, nsteps // 100))
                self._advance(k)
                done += k
                if bar is not None:
                    bar.update(k)
                if callback is not None and (done % every == 0 or done == nsteps):
                    callback(self)
        finally:
            if bar is not None:
                bar.close()
        return self

    # -- checkpoints ----------------------------------------------------------
    def save_checkpoint(self, path, extra=None):
        """Atomically write the complete state to ``path`` (.npz).

        The neighbour list is rebuilt here, so that this run and a run
        resumed from the file continue bit-identically.
        ``extra``: JSON-serialisable dict stored alongside (e.g. stage info).
        """
        from ..io.store import save_npz

        self._rebuild()
        self.n_rebuilds += 1
        params = {"T": self.T, "dt": self.dt, "tdamp": self.tdamp, "chain": self.chain,
                  "ensemble": self.ensemble, "skin": self.skin, "seed": self.seed,
                  "step": self.step, "n_rebuilds": self.n_rebuilds, "format": 1}
        save_npz(path, positions=self._x, velocities=self._v, forces=self._f,
                 energy_virial=self._ev, species=self.species, box=self.box,
                 eta=self._eta, eta_dot=self._eta_dot, eta_dotdot=self._eta_dotdot,
                 params=np.array(json.dumps(params)),
                 rng_state=np.array(json.dumps(self._rng.bit_generator.state)),
                 extra=np.array(json.dumps(extra or {})))

    @classmethod
    def from_checkpoint(cls, path):
        """Rebuild a Simulation from :meth:`save_checkpoint` output.

        The stored ``extra`` dict is available as ``sim.checkpoint_extra``.
        """
        path = os.fspath(path)
        if not os.path.exists(path):
            raise ValueError(f"no checkpoint at {path}: start a new Simulation instead")
        with np.load(path, allow_pickle=False) as z:
            data = {k: z[k] for k in z.files}
        p = json.loads(str(data["params"]))
        self = cls.__new__(cls)
        species = as_species(data["species"])
        self._set_params(species, as_box(data["box"]), p["T"], p["dt"], p["tdamp"], p["chain"],
                         p["ensemble"], p["skin"], p["seed"])
        self._x = as_positions(data["positions"], n=len(species)).copy()
        self._v = as_positions(data["velocities"], n=len(species)).copy()
        self._f = np.ascontiguousarray(data["forces"], dtype=np.float64).copy()
        self._ev = np.asarray(data["energy_virial"], dtype=np.float64).copy()
        self._reset_chain()
        self._eta[:] = data["eta"]
        self._eta_dot[:] = data["eta_dot"]
        self._eta_dotdot[:] = data["eta_dotdot"]
        self.step, self.n_rebuilds = int(p["step"]), int(p["n_rebuilds"])
        self._rng = np.random.default_rng()
        self._rng.bit_generator.state = json.loads(str(data["rng_state"]))
        self.checkpoint_extra = json.loads(str(data["extra"]))
        self._rebuild()
        return self


# ---------------------------------------------------------------------------
# one run of a preset: the engine behind softlib.engine.protocol.simulate
# ---------------------------------------------------------------------------
class NumbaEngine(protocol.Engine):
    """The numba engine as a :class:`softlib.engine.protocol.Engine`.

    ``minimize``: random start (positions from stream 1 of ``plan.seed``), FIRE overlap
    removal, Maxwell-Boltzmann velocities at ``T_melt`` (the Simulation's seed ``plan.seed``);
    ``quench``: velocities rescaled to ``plan.T``, thermostat restarted at rest. Checkpoints
    are :meth:`Simulation.save_checkpoint` files, which rebuild the neighbour list, so a
    resumed run continues bit-identically.

    Parameters
    ----------
    plan : softlib.pipeline.presets.RunPlan
    """

    name = "softlib.engine.md"
    suffix = ".npz"

    def __init__(self, plan):
        self.plan = plan
        self.sim = None

    def start(self, outdir, state):
        if state is not None:
            self.sim = Simulation.from_checkpoint(Path(outdir) / state["file"])
            self.sim._advance(0)  # compile or load the step loop before the clocks start

    def run_segment(self, seg, record):
        plan = self.plan
        if seg.stage == "minimize":
            x, species, box = random_configuration(plan.N, plan.rho, seed=(plan.seed, 1))
            x = remove_overlaps(x, species, box)
            self.sim = Simulation(x, species, box, plan.T_melt, dt=plan.dt, skin=protocol.SKIN,
                                  seed=plan.seed)
            self.sim._advance(0)
            return
        sim = self.sim
        if seg.stage == "quench":
            sim.set_temperature(seg.T, rescale=True)
            return
        k = seg.s0
        for e in seg.events:
            if e > k:
                try:
                    sim._advance(e - k)
                except FloatingPointError as err:  # the protocol's failure: name dt
                    raise ValueError(f"{err}; dt = {plan.dt} is too large? try a smaller dt") from err
                k = e
            record(e, sim.thermo(), sim._x if seg.frame_at(e) else None)

    def checkpoint(self, path, meta):
        self.sim.save_checkpoint(path, extra=meta)

    def info(self):
        return {"n_rebuilds": self.sim.n_rebuilds if self.sim is not None else 0}


def simulate(plan, outdir, progress=True, callback=None):
    """Run one :class:`softlib.pipeline.presets.RunPlan` with the numba engine; resumable.

    Protocol (:mod:`softlib.engine.protocol`): random start with overlaps removed (FIRE),
    melt at ``plan.T_melt`` for ``plan.t_melt``, instantaneous quench to ``plan.T``
    (velocity rescale, thermostat restarted), equilibrate for ``plan.t_equilibrate``,
    production for ``plan.t_production``; the run folder's files are those of
    :mod:`softlib.engine.protocol` (thermo.csv, linear.gsd, log.gsd, checkpoints, run.json).

    A complete folder of the same plan is returned without running; an interrupted one
    resumes from its last checkpoint, bit-identical to an uninterrupted run; a folder of
    another plan raises ValueError.

    Parameters
    ----------
    plan : softlib.pipeline.presets.RunPlan
    outdir : str or Path
    progress : bool
        tqdm bar on stderr.
    callback : callable, optional
        ``callback(stage, stage_step, sim)`` after every output event (tests use it to
        interrupt a run).

    Returns
    -------
    dict
        The content of ``run.json``.
    """
    cb = None if callback is None else (lambda stage, step, eng: callback(stage, step, eng.sim))
    return protocol.simulate(NumbaEngine(plan), plan, outdir, progress=progress, callback=cb)
