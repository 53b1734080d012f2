"""Slow: the numba engine and LAMMPS, same plan, sample the same liquid.

N = 400 at T = 1.0, 300 tau of production each (different seeds, so independent runs): the mean
potential energy per particle (block averages of thermo.csv) and tau_alpha (F_s(q = 7.25, t) of
the A particles decaying to 1/e, one value per log block of 10 tau, i.e. 30 independent time
origins) agree within four combined standard errors. A wrong force, thermostat or frame
bookkeeping in either engine shifts one of them by far more: e_pot is known to ~1e-3 and
tau_alpha to a few per cent.
"""
import dataclasses

import gsd.hoomd
import numpy as np
import pandas as pd
import pytest

from softlib.analysis.dynamics import tau_alpha
from softlib.analysis.equilibration import block_averages
from softlib.pipeline.presets import get_preset

pytestmark = pytest.mark.slow

Q = 7.25  # first peak of S(q) of the A particles (sigma_AA^-1)


def mean_e_pot(run):
    th = pd.read_csv(run / "thermo.csv")
    b = block_averages(th.loc[th["stage"] == "production", "e_pot"].to_numpy(), 10)
    return b.mean(), b.std(ddof=1) / np.sqrt(len(b))


def block_tau_alpha(run, block):
    """tau_alpha of each log block of log.gsd: F_s(Q, t) of A from the block's first frame."""
    with gsd.hoomd.open(run / "log.gsd") as f:
        steps = np.array([fr.configuration.step for fr in f])
        times = np.array([fr.log["softlib/time"][0] for fr in f])
        box = np.asarray(f[0].configuration.box[:3])
        a = f[0].particles.typeid == 0
        pos = np.array([fr.particles.position[a] + fr.particles.image[a] * box for fr in f],
                       dtype=float)
    taus = []
    for start in np.flatnonzero(np.isclose(np.mod(times, block), 0) & (times + block <= times[-1] + 1e-9)):
        inside = (times > times[start]) & (times < times[start] + block - 1e-9)
        dr = np.linalg.norm(pos[inside] - pos[start], axis=2)
        fs = np.mean(np.sinc(Q * dr / np.pi), axis=1)  # sin(q r) / (q r)
        taus.append(tau_alpha(times[inside] - times[start], fs, missing="nan"))
    taus = np.array(taus)
    assert np.isfinite(taus).all() and len(taus) >= 20, (steps[:3], taus)
    return taus.mean(), taus.std(ddof=1) / np.sqrt(len(taus))


@pytest.fixture(scope="module")
def both(tmp_path_factory, lammps_module):
    from softlib.engine import lammps, md

    plan = dataclasses.replace(get_preset("quick").plan(1.0), N=400, t_melt=10.0,
                               t_equilibrate=50.0, t_production=300.0, log_block=10.0,
                               dense_interval=5.0, thermo_interval=0.5, checkpoint_interval=100.0)
    out = tmp_path_factory.mktemp("slow_engines")
    md.simulate(plan, out / "numba", progress=False)
    lammps.simulate(dataclasses.replace(plan, seed=plan.seed + 1), out / "lammps", ranks=1)
    return out / "numba", out / "lammps", plan


def test_mean_potential_energy_agrees(both):
    a, b, _ = both
    (ea, da), (eb, db) = mean_e_pot(a), mean_e_pot(b)
    print(f"e_pot: numba {ea:.5f} +- {da:.5f}, lammps {eb:.5f} +- {db:.5f}")
    assert 0 < da < 0.01 and 0 < db < 0.01
    assert abs(ea - eb) < 4 * np.hypot(da, db)


def test_tau_alpha_agrees(both):
    a, b, plan = both
    (ta, da), (tb, db) = block_tau_alpha(a, plan.log_block), block_tau_alpha(b, plan.log_block)
    print(f"tau_alpha: numba {ta:.4f} +- {da:.4f}, lammps {tb:.4f} +- {db:.4f}")
    assert 0.05 < ta < 5 and 0 < da < 0.2 * ta
    assert abs(ta - tb) < 4 * np.hypot(da, db)
