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
per step. It uses the serial building blocks of :mod:`softlib.engine.forces` and
:mod:`softlib.engine.neighbors` only: numba 0.68 crashes when it loads a cached
function whose callees include a ``parallel=True`` function.

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
import time as _time
from pathlib import Path

import numpy as np
from numba import njit

from .. import ka
from . import forces as _forces_module
from . import neighbors as _neighbors_module
from .._checks import as_box, as_positions, as_species, as_temperature, check_box_cutoff
from .forces import PairForce, _chunk
from .forces import check_overlaps as _check_overlaps
from .neighbors import _build_rows, _sort_cells

__all__ = ["Simulation", "simulate", "random_configuration", "remove_overlaps",
           "check_overlaps", "MIN_SEPARATION", "STAGES", "THERMO_COLUMNS"]

#: smallest allowed pair distance in units of sigma_uv at the start of a run
MIN_SEPARATION = 0.6
#: stages of :func:`simulate`, in order
STAGES = ("melt", "equilibrate", "production")
#: columns of thermo.csv (energies per particle; step and time count from the stage start)
THERMO_COLUMNS = ("stage", "step", "time", "T", "e_pot", "e_kin", "pressure", "e_conserved")


# ---------------------------------------------------------------------------
# kernels
# ---------------------------------------------------------------------------
# Serial kernels only. softlib.engine.forces._compute and softlib.engine.neighbors._build_half
# also contain calls to parallel=True functions, and numba 0.68 crashes when it
# loads a cached function with such a callee back from its cache. So the step
# loop calls their serial building blocks (_sort_cells + _build_rows for the
# list, _chunk for the forces), composed here exactly as in their one-chunk
# branches; the tests compare the results with the numpy reference forces.
@njit(cache=True)
def _nl_build(x, species, box, ncell, runs, nruns, cut2):
    """Cell-sorted half Verlet list ``(perm, species_sorted, offsets, split, nbrs)``.

    Same list as ``softlib.engine.neighbors._build_half(..., nchunks=1)``; ``x`` must be finite.
    """
    n = x.shape[0]
    perm, start, ps = _sort_cells(x, box, ncell)
    ss = np.empty(n, dtype=np.int32)
    for k in range(n):
        ss[k] = species[perm[k]]
    rowlen = np.empty(n, dtype=np.int64)
    na = np.empty(n, dtype=np.int64)
    cap = 56 * n + 1024  # ~46 pairs per particle at rho = 1.2 with skin 0.3, plus one row
    count = -1
    while count < 0:  # -1: the buffer was too short, retry with twice the room
        buf = np.empty(cap, dtype=np.uint32)
        count = _build_rows(ps, ss, box, start, runs, nruns, cut2, 0, start.shape[0] - 1,
                            buf, rowlen, na)
        cap *= 2
    offsets = np.empty(n + 1, dtype=np.int64)
    split = np.empty(n, dtype=np.int64)
    offsets[0] = 0
    for i in range(n):
        split[i] = offsets[i] + na[i]
        offsets[i + 1] = offsets[i] + rowlen[i]
    return perm, ss, offsets, split, buf[:count].copy()


@njit(cache=True)
def _nl_forces(x, box, nl, params, work, f):
    """(energy, virial); forces into ``f`` (original order).

    ``nl`` from :func:`_nl_build`, ``work`` (1, 2, 3, N) scratch of a one-thread
    PairForce.
    """
    perm, ss, offsets, split, nbrs = nl
    n = x.shape[0]
    e, w = _chunk(x, perm, ss, box, offsets, split, nbrs, params, 0, n, work[0])
    for k in range(n):
        q = perm[k]
        f[q, 0] = work[0, 1, 0, k]
        f[q, 1] = work[0, 1, 1, k]
        f[q, 2] = work[0, 1, 2, k]
    return e, w


class _ForceField:
    """Serial KA forces with a Verlet list: geometry from softlib.engine.forces.PairForce."""

    def __init__(self, species, box, skin):
        pf = PairForce(species, box, skin=skin, nthreads=1)
        vl = pf.nlist
        self.species, self.box = pf.species, pf.box
        self.geo = (vl.ncell, vl.runs, vl.nruns, vl.cut2)
        self.half_skin2 = vl.half_skin2
        self.params, self.work = pf.params, pf.work

    def build(self, x):
        return _nl_build(x, self.species, self.box, *self.geo)

    def forces(self, x, nl, f):
        return _nl_forces(x, self.box, nl, self.params, self.work, f)


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
def _moved_too_far(x, xref, half_skin2):
    """True if some particle moved more than skin / 2 since the list was built (or is NaN)."""
    for i in range(x.shape[0]):
        d0 = x[i, 0] - xref[i, 0]
        d1 = x[i, 1] - xref[i, 1]
        d2 = x[i, 2] - xref[i, 2]
        if not (d0 * d0 + d1 * d1 + d2 * d2 <= half_skin2):
            return True
    return False


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
        if _moved_too_far(x, xref, half_skin2):
            if not np.all(np.isfinite(x)):
                stats[1] = 1
                return nl
            nl = _nl_build(x, species, box, ncell, runs, nruns, cut2)
            xref[:, :] = x
            stats[0] += 1
        e, w = _nl_forces(x, box, nl, params, work, f)
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

    files = [Path(__file__)] + [Path(m.__file__) for m in modules]
    digest = hashlib.sha256(b"".join(f.read_bytes() for f in files)).digest()
    for d in dispatchers:
        try:
            d._cache._cache_file._source_stamp = digest
        except AttributeError:  # another numba version: fall back to its own stamp
            pass


_tie_cache(_nl_build, _nl_forces, _run_block, modules=(_forces_module, _neighbors_module, ka))


def _run_block_numpy(sim, nsteps):
    """Plain numpy twin of :func:`_run_block` (reference for tests; slow).

    Uses the O(N^2) numpy force ``softlib.engine.forces.energy_forces_numpy``
    (no neighbour list) and the same operator splitting, so it must agree
    with the numba block to roundoff over a few steps.
    """
    from .forces import energy_forces_numpy

    x, v, f = sim._x.copy(), sim._v.copy(), sim._f.copy()
    eta, eta_dot, eta_dotdot = sim._eta.copy(), sim._eta_dot.copy(), sim._eta_dotdot.copy()
    nvt = sim.ensemble == "nvt"
    for _ in range(nsteps):
        if nvt:
            _nhc_half_step.py_func(v, eta, eta_dot, eta_dotdot, sim._q, sim.T, sim.n_dof, sim.dt)
        v += 0.5 * sim.dt * f
        x += sim.dt * v
        f = energy_forces_numpy(x, sim.species, sim.box)[2]
        v += 0.5 * sim.dt * f
        if nvt:
            _nhc_half_step.py_func(v, eta, eta_dot, eta_dotdot, sim._q, sim.T, sim.n_dof, sim.dt)
    return x, v, eta, eta_dot


# ---------------------------------------------------------------------------
# start-up configurations
# ---------------------------------------------------------------------------
def random_configuration(N, rho=ka.RHO, seed=0, x_a=ka.X_A):
    """Uniformly random positions of an 80:20 KA mixture (overlaps NOT removed).

    Parameters
    ----------
    N : int
        Number of particles; the first round(0.8 N) are A.
    rho : float
        Number density (sigma_AA**-3).
    seed : int or sequence of int
        Seed of the numpy Generator (a sequence is SeedSequence entropy).

    Returns
    -------
    positions : (N, 3) float64
        In [0, L)^3.
    species : (N,) int32
    box : (3,) float64
    """
    N = int(N)
    if N < 2:
        raise ValueError(f"need at least 2 particles, got N = {N}")
    if not rho > 0:
        raise ValueError(f"density must be positive, got rho = {rho}")
    box = np.full(3, ka.box_length(N, rho))
    check_box_cutoff(box, ka.RCUT_MAX)
    rng = np.random.default_rng(seed)
    return rng.random((N, 3)) * box, ka.composition(N, x_a), box


def remove_overlaps(positions, species, box, f_tol=10.0, max_iter=20000, max_move=0.1):
    """Relax a configuration with FIRE until the largest force is below ``f_tol``.

    FIRE (Bitzek et al., PRL 97, 170201, 2006) with unit masses and a cap
    of ``max_move`` on any particle's displacement per iteration, so that
    the enormous forces of a random start cannot throw particles across
    the box.

    Parameters
    ----------
    positions : (N, 3) float
        Start (unwrapped or wrapped).
    species : (N,) int
    box : float or (3,) float
    f_tol : float
        Stop when max_i |F_i| < f_tol (eps_AA / sigma_AA). 10 is small
        compared with thermal forces at T = 2, which is all a start needs.
    max_iter : int
    max_move : float
        Largest displacement per iteration (sigma_AA).

    Returns
    -------
    (N, 3) float64
        Relaxed positions.
    """
    box = check_box_cutoff(box, ka.RCUT_MAX)
    x = as_positions(positions).copy()
    species = as_species(species, len(x))
    dt, dt_max, alpha, n_pos = 0.002, 0.02, 0.1, 0
    v = np.zeros_like(x)
    ff = _ForceField(species, box, skin=0.0)
    f = np.zeros_like(x)
    ff.forces(x, ff.build(x), f)
    for _ in range(max_iter):
        fnorm = np.sqrt((f * f).sum(axis=1))
        if fnorm.max() < f_tol:
            return x
        p = float((f * v).sum())
        if p > 0:
            vn, fn = np.sqrt((v * v).sum()), np.sqrt((f * f).sum())
            v = (1 - alpha) * v + alpha * vn * f / fn
            n_pos += 1
            if n_pos > 5:
                dt, alpha = min(1.1 * dt, dt_max), 0.99 * alpha
        else:
            v[:] = 0.0
            dt, alpha, n_pos = 0.5 * dt, 0.1, 0
        v += dt * f
        dx = dt * v
        step = np.sqrt((dx * dx).sum(axis=1)).max()
        if step > max_move:
            dx *= max_move / step
        x += dx
        ff.forces(x, ff.build(x), f)
    raise RuntimeError(f"remove_overlaps: max force still {fnorm.max():.3g} after {max_iter} "
                       "iterations; raise max_iter or start from a lattice")


def check_overlaps(positions, species, box, min_separation=MIN_SEPARATION):
    """Raise ValueError if two particles are closer than ``min_separation`` sigma_uv."""
    _check_overlaps(positions, species, box, factor=min_separation)


# ---------------------------------------------------------------------------
# the simulation object
# ---------------------------------------------------------------------------
def _maxwell_boltzmann(rng, n, T):
    """Velocities from N(0, T) per component, zero total momentum, rescaled to exactly T."""
    v = rng.normal(0.0, math.sqrt(T), size=(n, 3))
    v -= v.mean(axis=0)
    v *= math.sqrt(T * (3 * n - 3) / (v * v).sum())
    return v


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
            v = _maxwell_boltzmann(self._rng, len(x), T)
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
        bar = _progress_bar(nsteps, progress, "md")
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


def _progress_bar(total, progress, desc):
    if not progress:
        return None
    from tqdm import tqdm  # plain text bar on stderr (no widget in notebooks)

    return tqdm(total=total, desc=desc, unit="step", smoothing=0.05, mininterval=1.0,
                file=sys.stderr)


# ---------------------------------------------------------------------------
# one run of a preset: melt, quench, equilibrate, production
# ---------------------------------------------------------------------------
def _check_plan(plan):
    from .schedule import _nsteps

    as_temperature(plan.T)
    as_temperature(plan.T_melt)
    if int(plan.N) < 2:
        raise ValueError(f"plan.N = {plan.N}: need at least 2 particles")
    check_box_cutoff(ka.box_length(plan.N, plan.rho), ka.RCUT_MAX + 0.15)
    if not plan.dt > 0:
        raise ValueError(f"plan.dt must be positive, got {plan.dt}")
    lengths = {}
    for name in ("t_melt", "t_equilibrate", "t_production", "thermo_interval",
                 "checkpoint_interval", "dense_interval", "log_block"):
        val = getattr(plan, name)
        if not (np.isfinite(val) and val >= 0):
            raise ValueError(f"plan.{name} must be a non-negative time, got {val}")
        lengths[name] = _nsteps(val, plan.dt)
    for name in ("thermo_interval", "checkpoint_interval", "t_production"):
        if lengths[name] <= 0:
            raise ValueError(f"plan.{name} = {getattr(plan, name)} is shorter than one step")
    return lengths


def _read_thermo(path):
    """Rows of thermo.csv as lists of strings (header excluded)."""
    with open(path) as fh:
        lines = fh.read().splitlines()
    return [ln.split(",") for ln in lines[1:] if ln]


def _truncate_thermo(path, stage, step):
    """Keep the rows written up to (stage, step) inclusive, atomically."""
    from ..io.store import atomic_write_bytes

    order = {s: i for i, s in enumerate(STAGES)}
    rows = _read_thermo(path) if path.exists() else []
    keep = [r for r in rows if (order[r[0]], int(r[1])) <= (order[stage], step)]
    text = ",".join(THERMO_COLUMNS) + "\n" + "".join(",".join(r) + "\n" for r in keep)
    atomic_write_bytes(path, text.encode())


def _thermo_line(stage, stage_step, sim):
    t = sim.thermo()
    vals = [stage_step * sim.dt, t["T"], t["e_pot"], t["e_kin"], t["pressure"], t["e_conserved"]]
    return f"{stage},{stage_step}," + ",".join(repr(float(v)) for v in vals) + "\n"


def _stage_events(stage, start, n, steps):
    """Sorted event steps in (start, n] of one stage and the flags of each."""
    ev = set(range(steps["thermo"], n + 1, steps["thermo"]))
    ev |= set(range(steps["checkpoint"], n + 1, steps["checkpoint"]))
    ev.add(n)
    if stage == "production":
        ev |= set(steps["linear"].tolist()) | set(steps["log"].tolist())
    return sorted(e for e in ev if start < e <= n)


def simulate(plan, outdir, progress=True, callback=None):
    """Run one :class:`softlib.pipeline.presets.RunPlan` with the numba engine; resumable.

    Protocol: random start with overlaps removed (FIRE), melt at
    ``plan.T_melt`` for ``plan.t_melt``, instantaneous quench to ``plan.T``
    (velocity rescale, thermostat restarted), equilibrate for
    ``plan.t_equilibrate``, production for ``plan.t_production``.

    Writes into ``outdir``: ``linear.gsd`` and ``log.gsd`` (frames of
    :func:`softlib.engine.schedule.plan_steps`, steps and times from the start of
    production), ``thermo.csv`` (per-particle energies, stage-local step
    and time, every ``plan.thermo_interval``), ``checkpoint.npz`` (every
    ``plan.checkpoint_interval`` and at every stage end) and, last,
    ``run.json``.

    If ``run.json`` exists it is returned and nothing runs. Otherwise, if
    ``checkpoint.npz`` exists the run resumes there: output written after
    that checkpoint is dropped first, so every frame and thermo row is
    written exactly once and the result is bit-identical to an
    uninterrupted run.

    Parameters
    ----------
    plan : softlib.pipeline.presets.RunPlan
    outdir : str or Path
    progress : bool
        tqdm bar on stderr.
    callback : callable, optional
        ``callback(stage, stage_step, sim)`` after every output event
        (tests use it to interrupt a run).

    Returns
    -------
    dict
        The content of ``run.json``.
    """
    from ..io.store import provenance, read_json, write_json
    from .schedule import plan_steps

    lengths = _check_plan(plan)
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    if (outdir / "run.json").exists():
        return read_json(outdir / "run.json")
    lin, lg = plan_steps(plan)
    steps = {"thermo": lengths["thermo_interval"], "checkpoint": lengths["checkpoint_interval"],
             "linear": lin, "log": lg}
    n_stage = {"melt": lengths["t_melt"], "equilibrate": lengths["t_equilibrate"],
               "production": lengths["t_production"]}
    sim, stage, k, book = _start_or_resume(plan, outdir, {"linear": lin, "log": lg})
    sim._advance(0)  # compile or load the step loop before the stage clocks start
    total = sum(n_stage.values())
    done = sum(n_stage[s] for s in STAGES[:STAGES.index(stage)]) + k
    bar = _progress_bar(total, progress, f"T={plan.T:.3f} s{plan.sample}")
    if bar is not None:
        bar.update(done)
    try:
        for stage in STAGES[STAGES.index(stage):]:
            k = _run_stage(sim, plan, outdir, stage, k, n_stage[stage], steps, book, bar, callback)
            k = 0
    finally:
        if bar is not None:
            bar.close()
    _check_frames(outdir, {"linear": lin, "log": lg})
    wall = sum(book["wall"].values())
    result = {
        "plan": plan.asdict(), "engine": "softlib.engine.md", "complete": True,
        "steps": n_stage, "wall_seconds": book["wall"], "wall_time": wall,
        "steps_per_second": (book["steps_timed"] / wall) if wall > 0 else None,
        "n_rebuilds": sim.n_rebuilds,
        "n_frames": {"linear": int(len(lin)), "log": int(len(lg))},
        "final": sim.thermo(),
        "provenance": provenance(engine="softlib.engine.md", **plan.asdict()),
    }
    write_json(outdir / "run.json", result)
    return result


def _check_frames(outdir, schedules):
    """The GSD files hold exactly the scheduled production steps (run.json's promise)."""
    import gsd.fl

    key = "configuration/step"
    for name, want in schedules.items():
        # the file layer reads one small chunk per frame; a frame without the
        # chunk has the HOOMD default step 0
        with gsd.fl.open(str(outdir / f"{name}.gsd"), mode="r") as f:
            got = [int(f.read_chunk(i, key)[0]) if f.chunk_exists(i, key) else 0
                   for i in range(f.nframes)]
        if got != want.tolist():
            raise RuntimeError(f"{outdir / name}.gsd holds {len(got)} frames, the schedule "
                               f"{len(want)}: the trajectory is inconsistent; delete {outdir} "
                               "and run again")


def _start_or_resume(plan, outdir, schedules):
    """(sim, stage, stage_step, bookkeeping) from the checkpoint or a fresh start."""
    ckpt = outdir / "checkpoint.npz"
    thermo = outdir / "thermo.csv"
    gsds = [outdir / "linear.gsd", outdir / "log.gsd"]
    if ckpt.exists():
        sim = Simulation.from_checkpoint(ckpt)
        meta = sim.checkpoint_extra
        if meta.get("plan") != json.loads(json.dumps(plan.asdict())):
            raise ValueError(f"{ckpt} belongs to a different plan: delete {outdir} to start over "
                             "or pass the plan that wrote it")
        stage, k = meta["stage"], int(meta["stage_step"])
        _truncate_thermo(thermo, stage, k)
        from ..io.gsd import truncate_after

        for g in gsds:
            if stage == "production":
                kept = truncate_after(g, k)
                want = int((schedules[g.stem] <= k).sum())
                if kept != want:
                    raise ValueError(f"{g} holds {kept} frames up to step {k}, the checkpoint "
                                     f"expects {want}: the folder is inconsistent; delete "
                                     f"{outdir} and run again")
            elif g.exists():
                g.unlink()
        return sim, stage, k, meta["book"]
    # fresh start: output left by a run that died before its first checkpoint is stale
    for p in gsds + [thermo]:
        if p.exists():
            p.unlink()
    # positions and velocities from independent streams of the plan's seed
    x, species, box = random_configuration(plan.N, plan.rho, seed=(plan.seed, 1))
    x = remove_overlaps(x, species, box)
    sim = Simulation(x, species, box, plan.T_melt, dt=plan.dt, seed=plan.seed)
    thermo.write_text(",".join(THERMO_COLUMNS) + "\n")
    book = {"wall": {s: 0.0 for s in STAGES}, "steps_timed": 0}
    return sim, "melt", 0, book


def _run_stage(sim, plan, outdir, stage, k, n, steps, book, bar, callback):
    """Run one stage from stage-local step k to n with all its output events."""
    from ..io.gsd import GSDWriter

    if k == 0:
        if stage == "equilibrate":
            sim.set_temperature(plan.T, rescale=True)  # instantaneous quench
    writers = {}
    if stage == "production":
        writers = {name: GSDWriter(outdir / f"{name}.gsd", sim.species, sim.box)
                   for name in ("linear", "log")}
    frames = {"linear": set(steps["linear"].tolist()), "log": set(steps["log"].tolist())}
    ckpt_every, thermo_every = steps["checkpoint"], steps["thermo"]
    try:
        with open(outdir / "thermo.csv", "a") as th:
            if k == 0:
                _write_events(sim, stage, 0, th, writers, frames)
            t0 = _time.perf_counter()
            for e in _stage_events(stage, k, n, steps):
                sim._advance(e - k)
                if bar is not None:
                    bar.update(e - k)
                book["steps_timed"] += e - k
                k = e
                _write_events(sim, stage, k, th, writers, frames,
                              thermo=(k % thermo_every == 0 or k == n))
                if k % ckpt_every == 0 or k == n:
                    book["wall"][stage] += _time.perf_counter() - t0
                    t0 = _time.perf_counter()
                    th.flush()
                    for w in writers.values():
                        w.flush()
                    sim.save_checkpoint(outdir / "checkpoint.npz", extra={
                        "plan": plan.asdict(), "stage": stage, "stage_step": k, "book": book})
                if callback is not None:
                    callback(stage, k, sim)
            book["wall"][stage] += _time.perf_counter() - t0
    finally:
        for w in writers.values():
            w.close()
    return k


def _write_events(sim, stage, k, th, writers, frames, thermo=True):
    if thermo:
        th.write(_thermo_line(stage, k, sim))
    for name, w in writers.items():
        if k in frames[name]:
            w.append(k, k * sim.dt, sim._x)
