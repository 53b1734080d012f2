"""End to end: someone's LAMMPS trajectories through `make analysis DATASET=...` (notebooks 02-06).

Two small runs of the KA mixture (N = 500, T = 1.0 and 1.2, 50 tau of production) are simulated with the
numba engine and written as gzipped LAMMPS dumps (`dump custom id type xu yu zu`, a frame every 0.2 tau)
by hand, as a user's LAMMPS run would; T = 1.2 also gets its log-spaced frames as `log_files`, T = 1.0 has
the dense frames only. Then the Makefile runs the whole chain into tmp_path, and the headline numbers of
results.json are checked against direct calls of the analysis functions on the same files. Not marked
slow: it runs in `make test` (about 2 minutes on 2 cores).
"""
from __future__ import annotations

import dataclasses
import gzip
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
DT = 0.0025


def _write_dump(path, traj, species_types=(1, 2)):
    """A LAMMPS `dump custom id type xu yu zu` text file, gzipped (step = time / DT)."""
    box = np.asarray(traj.box)
    types = np.where(np.asarray(traj.species) == 0, species_types[0], species_types[1])
    pos = np.asarray(traj.positions)
    ids = np.arange(1, types.size + 1)
    with gzip.open(path, "wt") as f:
        for t, x in zip(traj.times, pos):
            f.write(f"ITEM: TIMESTEP\n{int(round(t / DT))}\nITEM: NUMBER OF ATOMS\n{types.size}\n"
                    "ITEM: BOX BOUNDS pp pp pp\n" + "".join(f"0 {L:.10g}\n" for L in box)
                    + "ITEM: ATOMS id type xu yu zu\n")
            f.write("".join(f"{i} {ty} {a:.6f} {b:.6f} {c:.6f}\n" for i, ty, (a, b, c) in zip(ids, types, x)))


@pytest.fixture(scope="module")
def user_files(tmp_path_factory):
    """Two temperatures of a user's LAMMPS dumps, with a data set file beside them."""
    from softlib.engine.md import simulate
    from softlib.io.trajectory import load
    from softlib.pipeline.presets import get_preset

    d = tmp_path_factory.mktemp("user")
    for T in (1.0, 1.2):
        plan = dataclasses.replace(get_preset("quick").plan(T), t_equilibrate=20.0, t_production=50.0,
                                   dense_interval=0.2, log_block=10.0, checkpoint_interval=100.0)
        simulate(plan, d / f"run{T}", progress=False)
        _write_dump(d / f"ka_T{T:.2f}.lammpstrj.gz", load(d / f"run{T}" / "linear.gsd"))
        if T == 1.2:
            _write_dump(d / f"ka_T{T:.2f}_log.lammpstrj.gz", load(d / f"run{T}" / "log.gsd"))
    (d / "data").mkdir()
    (d / "data" / "my_ka.toml").write_text(
        'name = "my_ka"\nmodel = "kob-andersen"\n\n'
        '[[runs]]\nT = 1.0\nfiles = ["../ka_T1.00.lammpstrj.gz"]\ntimestep = 0.0025\n\n'
        '[[runs]]\nT = 1.2\nfiles = ["../ka_T1.20.lammpstrj.gz"]\nlog_files = ["../ka_T1.20_log.lammpstrj.gz"]\n'
        'timestep = 0.0025\nspecies = {1 = "A", 2 = "B"}\n')
    return d


def test_make_analysis_on_a_dataset(user_files, tmp_path):
    from softlib.analysis import dynamics as dyn
    from softlib.io.trajectory import load

    toml = user_files / "data" / "my_ka.toml"
    out = tmp_path / "out"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    stamp = tmp_path / "stamp"  # the environment is the running one: do not let make reinstall it
    stamp.touch()
    cmd = ["make", "-C", str(ROOT), "analysis", f"DATASET={toml}", f"BUILD_ROOT={out}", f"DATA_ROOT={out}/data",
           f"FIG_ROOT={out}/figures", f"STAMP={stamp}", f"PY={sys.executable}"]
    t0 = time.time()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    wall = time.time() - t0
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    print(f"make analysis DATASET=...: {wall:.0f} s")

    # outputs under <root>/my_ka only, never a preset's folders
    res_path = out / "data" / "my_ka" / "results.json"
    res = json.loads(res_path.read_text())
    preset_keys = set(json.loads((ROOT / "data" / "quick" / "results.json").read_text()))
    assert set(res) == preset_keys
    assert res["preset"] == "my_ka" and res["temperatures"] == [1.0, 1.2]
    for stage in ("calibration", "local_softness", "lifetime", "rearrangements"):
        assert (out / "data" / "my_ka" / f"{stage}.json").exists()
    assert (out / "figures" / "my_ka" / "fig5b.png").exists() and not (out / "quick").exists()
    assert sorted(p.name for p in (out / "data" / "my_ka" / "simulate").glob("*.json")) == \
        ["T1.000_s0.json", "T1.200_s0.json"]

    # two temperatures: exact lines, errors and R^2 unavailable
    cal = json.loads((out / "data" / "my_ka" / "calibration.json").read_text())
    assert cal["c0_err"] is None and cal["r2"]["c"] is None and np.isfinite(cal["c1"])
    # the report does not call two temperatures 'not linear'
    text = " ".join(res["differences"])
    assert "not linear" not in text and "cannot test linearity" in text

    # headline numbers against direct calls on the same files
    tr = load(user_files / "ka_T1.00.lammpstrj.gz", timestep=DT)
    t, pos, sp = tr.times, tr.positions, tr.species
    every = int(round(1.0 / np.median(np.diff(t))))
    m = dyn.displacement_moments(pos, t, sp, 0, schedule="linear", origin_every=every,
                                 lags=dyn.log_lags(t.size, 16))
    tau = dyn.tau_alpha(m.times, m.fs)
    p_c, _ = dyn.hop_threshold(m.times, m.msd, m.alpha2, 5)
    assert res["tau_alpha"]["1.000"] == pytest.approx(tau, rel=1e-9)
    assert res["p_c"]["1.000"] == pytest.approx(p_c, rel=1e-9)
    summary = json.loads((out / "data" / "my_ka" / "simulate" / "T1.000_s0.json").read_text())
    assert summary["tau_alpha"] == pytest.approx(tau, rel=1e-9)

    # resumable: a second make does nothing
    again = subprocess.run(cmd, capture_output=True, text=True, env=env)
    assert again.returncode == 0 and "softlib.pipeline.notebook run" not in again.stdout
