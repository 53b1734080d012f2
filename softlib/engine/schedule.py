"""Frame schedules of a production run, as integer step numbers.

Two schedules share one production run (METHODS 1):

* **linear** ("dense"): a frame every ``dense_interval`` time units, for p_hop;
* **log**: blocks of length ``log_block``; inside each block frames at the block
  start and at ``log_first * 10**(j / per_decade)`` after it, for C_S(t), Q(t),
  the MSD and the propagator. Every block start is a time origin.

Steps are counted from the start of production (step 0 = first frame). Both
engines (numba and LAMMPS) write exactly these frames.
"""
from __future__ import annotations

import numpy as np


def _nsteps(t, dt):
    n = int(round(t / dt))
    if abs(n * dt - t) > 1e-6 * max(1.0, t):
        raise ValueError(f"time {t} is not a whole number of timesteps dt = {dt}")
    return n


def linear_steps(t_production, dense_interval, dt):
    """Steps of the dense linear frames: 0, k, 2k, ... up to the end of production."""
    every = max(1, int(round(dense_interval / dt)))
    total = _nsteps(t_production, dt)
    return np.arange(0, total + 1, every, dtype=np.int64)


def log_offsets(log_block, log_first, per_decade, dt):
    """Offsets (steps) of the log-spaced frames inside one block, 0 included, < block length."""
    block = _nsteps(log_block, dt)
    if log_first <= 0 or per_decade < 1:
        raise ValueError("log_first must be > 0 and per_decade >= 1")
    j = np.arange(0, int(np.ceil(per_decade * np.log10(max(block * dt / log_first, 1.0)))) + 1)
    offs = np.unique(np.round(log_first * 10.0 ** (j / per_decade) / dt).astype(np.int64))
    offs = offs[(offs > 0) & (offs < block)]
    return np.concatenate([[0], offs]).astype(np.int64)


def log_steps(t_production, log_block, log_first, per_decade, dt):
    """Steps of the log-spaced frames over the whole production run (blocks repeated)."""
    total = _nsteps(t_production, dt)
    block = _nsteps(log_block, dt)
    offs = log_offsets(log_block, log_first, per_decade, dt)
    starts = np.arange(0, total + 1, block, dtype=np.int64)
    steps = (starts[:, None] + offs[None, :]).ravel()
    return np.unique(steps[steps <= total])


def plan_steps(plan):
    """(linear, log) step arrays of a :class:`softlib.pipeline.presets.RunPlan`."""
    lin = linear_steps(plan.t_production, plan.dense_interval, plan.dt)
    lg = log_steps(plan.t_production, plan.log_block, plan.log_first, plan.log_per_decade, plan.dt)
    return lin, lg
