"""The numba engine and LAMMPS sample the same ensemble: NVT averages agree within their errors.

Both engines run the same protocol (softlib.pipeline.presets.RunPlan) from different random starts; the
mean kinetic temperature, potential energy and pressure of production must agree within a few
combined standard errors (block averages), and the kinetic temperature must hit the target.
"""
import dataclasses

import numpy as np
import pandas as pd
import pytest

from softlib.analysis.equilibration import block_averages
from softlib.engine import lammps as lammps_mod
from softlib.pipeline import presets


def _means(run_dir):
    th = pd.read_csv(run_dir / "thermo.csv")
    prod = th[th["stage"] == "production"]
    out = {}
    for col in ("T", "e_pot", "pressure"):
        b = block_averages(prod[col].to_numpy(), 8)
        out[col] = (b.mean(), b.std(ddof=1) / np.sqrt(len(b)))
    return out


@pytest.fixture(scope="module")
def both_runs(tmp_path_factory, lammps_module):
    from softlib.engine import md

    base = presets.get_preset("quick").plan(1.0)
    plan = dataclasses.replace(base, N=400, t_melt=5.0, t_equilibrate=20.0, t_production=80.0,
                               log_block=10.0, dense_interval=1.0, thermo_interval=0.5,
                               checkpoint_interval=40.0)
    out = tmp_path_factory.mktemp("engines")
    md.simulate(plan, out / "numba", progress=False)
    lammps_mod.simulate(dataclasses.replace(plan, seed=plan.seed + 1), out / "lammps", ranks=1)
    return _means(out / "numba"), _means(out / "lammps")


@pytest.mark.parametrize("col", ["T", "e_pot", "pressure"])
def test_nvt_averages_agree_between_engines(both_runs, col):
    (a, da), (b, db) = both_runs[0][col], both_runs[1][col]
    assert abs(a - b) < 4 * np.hypot(da, db) + 1e-9, f"{col}: numba {a:.4f}+-{da:.4f}, lammps {b:.4f}+-{db:.4f}"


def test_kinetic_temperature_hits_target(both_runs):
    for means in both_runs:
        T, dT = means["T"]
        assert abs(T - 1.0) < max(4 * dT, 0.01)
