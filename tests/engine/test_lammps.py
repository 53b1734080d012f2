"""LAMMPS as an independent reference, and the LAMMPS backend's output contract.

* ``softlib.engine.forces.energy_forces`` and ``softlib.engine.forces.PairForce`` against LAMMPS
  single-point energies, forces and pair virials (``run 0``) on dense random
  KA configurations (rho 1.2, cubic and non-cubic boxes, unwrapped input).
* ``softlib.engine.lammps.simulate`` on a tiny plan: files, frame steps and times,
  thermo rows, run.json, resume after an interruption, and the mpiexec path.
"""
import csv
import dataclasses
import json

import gsd.hoomd
import helpers
import numpy as np
import pytest

from softlib import ka
from softlib.engine import lammps as backend
from softlib.engine.forces import energy_forces
from softlib.engine.lammps import ka_pair_commands, new_lammps
from softlib.engine.schedule import plan_steps
from softlib.pipeline.presets import get_preset

# CI installs lammps + mpich; elsewhere the fixture skips with the reason
pytestmark = pytest.mark.usefixtures("lammps_module")


# ----------------------------------------------------------------- single points
def random_dense(n, box, seed):
    """A dense KA configuration (rho ~ 1.2, no pair closer than 0.75 sigma_AA), unwrapped.

    Contacts at 0.75 sigma_AA are strongly repulsive (forces ~1e3), which tests
    the steep part of the potential as well as the cutoffs.
    """
    pos, species, box = helpers.ka_fluid(n, seed, box=box)
    rng = np.random.default_rng(seed)
    # unwrapped input: shift whole particles by random periodic images
    return pos + rng.integers(-2, 3, (n, 3)) * box, species


def lammps_single_point(pos, species, box):
    """(energy, pair virial W = sum r.f, forces) from LAMMPS ``run 0``."""
    box = np.asarray(box, float)
    lmp = new_lammps()
    try:
        for c in ["units lj", "atom_style atomic", "boundary p p p", "atom_modify map array",
                  f"region box block 0 {float(box[0])!r} 0 {float(box[1])!r} 0 {float(box[2])!r}",
                  "create_box 2 box", "mass * 1.0"]:
            lmp.command(c)
        n = len(species)
        wrapped = pos - box * np.floor(pos / box)
        lmp.create_atoms(n, list(range(1, n + 1)), (np.asarray(species) + 1).tolist(),
                         wrapped.ravel().tolist())
        assert lmp.get_natoms() == n
        for c in ka_pair_commands(skin=0.3) + [
                "compute pvir all pressure NULL virial", "thermo_style custom step pe press c_pvir",
                "thermo_modify norm no", "run 0"]:
            lmp.command(c)
        e = lmp.get_thermo("pe")
        # virial part of the pressure, P_vir = W / (3 V); velocities are zero, so the
        # total pressure must equal it (a check that the compute was evaluated)
        p_vir = lmp.extract_compute("pvir", 0, 0)
        assert p_vir == pytest.approx(lmp.get_thermo("press"), rel=1e-12)
        w = 3.0 * np.prod(box) * p_vir
        f = np.ctypeslib.as_array(lmp.gather_atoms("f", 1, 3)).reshape(n, 3).copy()
    finally:
        lmp.close()
    return e, w, f


BOXES = [
    (300, ka.box_length(300)),
    (600, np.array([7.0, 8.5, 600 / 1.2 / (7.0 * 8.5)])),
    (1000, np.array([12.0, 6.5, 1000 / 1.2 / (12.0 * 6.5)])),
]


@pytest.fixture(scope="module", params=range(len(BOXES)), ids=["cubic300", "box600", "box1000"])
def dense(request):
    n, box = BOXES[request.param]
    box = np.broadcast_to(np.asarray(box, float), (3,)).copy()
    pos, species = random_dense(n, box, seed=100 + request.param)
    return pos, species, box, lammps_single_point(pos, species, box)


def test_energy_forces_match_lammps(dense):
    pos, species, box, (e_ref, _, f_ref) = dense
    e, f = energy_forces(pos, species, box)
    assert abs(e - e_ref) < 1e-10 * abs(e_ref)
    scale = np.abs(f_ref).max()
    assert scale > 100  # the configuration really probes the repulsive core
    np.testing.assert_allclose(f, f_ref, rtol=1e-10, atol=1e-10 * scale)


def test_pair_virial_matches_lammps(dense):
    from softlib.engine.forces import PairForce

    pos, species, box, (e_ref, w_ref, f_ref) = dense
    e, w, f = PairForce(species, box, skin=0.3, nthreads=1).compute(pos)
    assert abs(e - e_ref) < 1e-10 * abs(e_ref)
    assert abs(w - w_ref) < 1e-10 * abs(w_ref)


def test_equilibrated_frame_matches_lammps(tiny_run):
    """A thermalised liquid frame from the backend itself (wrapped + image -> unwrapped)."""
    _, out = tiny_run
    with gsd.hoomd.open(out / "linear.gsd") as f:
        fr = f[len(f) - 1]
    box = np.asarray(fr.configuration.box[:3], float)
    pos = fr.particles.position.astype(float) + fr.particles.image * box
    species = fr.particles.typeid.astype(int)
    e_ref, _, f_ref = lammps_single_point(pos, species, box)
    e, f = energy_forces(pos, species, box)
    assert abs(e - e_ref) < 1e-10 * abs(e_ref)
    np.testing.assert_allclose(f, f_ref, rtol=1e-10, atol=1e-10 * np.abs(f_ref).max())


# ----------------------------------------------------------------- dynamics
def test_md_engine_follows_lammps_nvt():
    """softlib.engine.md (velocity Verlet + Nose-Hoover chain) against LAMMPS ``fix nvt``.

    Same start (a LAMMPS melt quenched to T = 0.8, positions and velocities),
    same dt, tdamp and chain length: the two integrators must trace the same
    trajectory until roundoff, amplified by the chaotic dynamics, shows up
    (measured: 1e-14 after 100 steps, 2e-13 after 400).
    """
    from softlib.engine import md

    plan = tiny_plan()
    n = plan.N
    box = np.full(3, ka.box_length(n, plan.rho))
    lmp = new_lammps()
    try:
        for c in (backend.placement_commands(plan) + ka_pair_commands()
                  + ["timestep 0.0025", "thermo_modify norm no"] + backend.minimize_commands()
                  + ["velocity all create 2.0 7 dist gaussian mom yes rot no",
                     "fix hot all nvt temp 2.0 2.0 0.25", "run 1000", "unfix hot",
                     "velocity all scale 0.8", "fix nvt all nvt temp 0.8 0.8 0.25", "run 0"]):
            lmp.command(c)

        def gather(name, kind):
            return np.ctypeslib.as_array(lmp.gather_atoms(name, kind, 3)).reshape(n, 3).copy()

        x0 = gather("x", 1) + gather("image", 0) * box
        v0 = gather("v", 1)
        species = np.ctypeslib.as_array(lmp.gather_atoms("type", 0, 1)).astype(int) - 1
        sim = md.Simulation(x0, species, box, 0.8, dt=0.0025, tdamp=0.25, velocities=v0)
        for steps, tol in ((100, 1e-11), (300, 1e-9)):
            lmp.command(f"run {steps}")
            sim.run(steps)
            x_ref = gather("x", 1) + gather("image", 0) * box
            assert np.abs(sim.positions - x_ref).max() < tol
            assert sim.potential_energy == pytest.approx(lmp.get_thermo("pe"), rel=1e-9)
            assert sim.temperature == pytest.approx(lmp.get_thermo("temp"), rel=1e-9)
            assert sim.conserved_energy == pytest.approx(lmp.get_thermo("econserve"), rel=1e-9)
    finally:
        lmp.close()


# ----------------------------------------------------------------- simulate()
def tiny_plan(**kw):
    base = get_preset("quick").plan(0.8)
    args = dict(N=300, t_melt=0.5, t_equilibrate=0.5, t_production=1.5, log_block=0.5,
                checkpoint_interval=0.5, thermo_interval=0.25)
    return dataclasses.replace(base, **{**args, **kw})


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    plan = tiny_plan()
    out = tmp_path_factory.mktemp("lmp") / plan.tag
    backend.simulate(plan, out, ranks=1)
    return plan, out


def read_gsd(path):
    with gsd.hoomd.open(path) as f:
        steps = np.array([fr.configuration.step for fr in f])
        times = np.array([fr.log["softlib/time"][0] for fr in f])
        pos = np.array([fr.particles.position + fr.particles.image * fr.configuration.box[:3]
                        for fr in f], dtype=float)
        types = [fr.particles.typeid for fr in f]
    return steps, times, pos, types


def check_layout(plan, out, ranks):
    info = json.loads((out / "run.json").read_text())
    assert info["engine"] == "lammps" and info["ranks"] == ranks and info["complete"]
    assert info["plan"] == json.loads(json.dumps(plan.asdict()))
    assert set(info["wall_seconds"]) >= {"melt", "equilibrate", "production"}
    assert info["provenance"]["git_revision"]
    species = ka.composition(plan.N)
    for which, ref in zip(("linear", "log"), plan_steps(plan)):
        steps, times, pos, types = read_gsd(out / f"{which}.gsd")
        np.testing.assert_array_equal(steps, ref)
        np.testing.assert_allclose(times, ref * plan.dt, rtol=0, atol=1e-12)
        assert all(np.array_equal(t, species) for t in types)
        assert info["n_frames"][which] == len(ref)
        # unwrapped trajectories: no particle jumps by a box length between frames
        assert np.abs(np.diff(pos, axis=0)).max() < 1.0
    with open(out / "thermo.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == list(backend.THERMO_COLUMNS)
    every = int(round(plan.thermo_interval / plan.dt))
    for stage, t_stage in (("melt", plan.t_melt), ("equilibrate", plan.t_equilibrate),
                           ("production", plan.t_production)):
        got = [int(r["step"]) for r in rows if r["stage"] == stage]
        assert got == list(range(0, int(round(t_stage / plan.dt)) + 1, every)), stage
    prod = [r for r in rows if r["stage"] == "production"]
    assert all(abs(float(r["time"]) - int(r["step"]) * plan.dt) < 1e-12 for r in prod)
    # Nose-Hoover: the conserved energy drifts far less than e_pot fluctuates
    ec = np.array([float(r["e_conserved"]) for r in prod])
    ep = np.array([float(r["e_pot"]) for r in prod])
    assert np.ptp(ec) < 0.2 * np.ptp(ep) + 1e-3
    return info


def test_simulate_layout(tiny_run):
    plan, out = tiny_run
    check_layout(plan, out, ranks=1)
    # a complete run is not run again
    before = (out / "run.json").read_text()
    assert backend.simulate(plan, out)["n_frames"] == json.loads(before)["n_frames"]
    assert (out / "run.json").read_text() == before


def interrupt_in_production(monkeypatch, engine_class):
    """Make engine_class.run_segment die inside production, after its first checkpoint."""
    original = engine_class.run_segment

    def dying(self, seg, record):
        if seg.stage == "production" and seg.s0 > 0:
            raise KeyboardInterrupt
        return original(self, seg, record)

    monkeypatch.setattr(engine_class, "run_segment", dying)
    return original


@pytest.mark.parametrize("ranks", [1, 2], ids=["in-process", "mpiexec2"])
def test_simulate_resumes_after_interruption(tiny_run, tmp_path, monkeypatch, ranks):
    plan, ref_out = tiny_run
    out = tmp_path / plan.tag
    engine = backend.LammpsEngine if ranks == 1 else backend.LammpsMPIEngine
    original = interrupt_in_production(monkeypatch, engine)
    with pytest.raises(KeyboardInterrupt):
        backend.simulate(plan, out, ranks=ranks)
    assert not (out / "run.json").exists()
    state = json.loads((out / "checkpoint.json").read_text())
    assert state["stage"] == "production" and state["step"] > 0
    monkeypatch.setattr(engine, "run_segment", original)
    backend.simulate(plan, out, ranks=ranks)
    check_layout(plan, out, ranks=ranks)
    assert not (out / "segment.tmp").exists()
    if ranks == 1:
        # same seed, same engine: the same trajectory (a restart may change roundoff only)
        for which in ("linear", "log"):
            _, _, a, _ = read_gsd(out / f"{which}.gsd")
            _, _, b, _ = read_gsd(ref_out / f"{which}.gsd")
            np.testing.assert_allclose(a, b, atol=1e-4)


def test_bad_ranks(tmp_path):
    with pytest.raises(ValueError, match="ranks"):
        backend.simulate(tiny_plan(), tmp_path, ranks=0)


def test_read_dump_sorts_by_id(tmp_path):
    text = ("ITEM: TIMESTEP\n40\nITEM: NUMBER OF ATOMS\n2\nITEM: BOX BOUNDS pp pp pp\n"
            "0 5\n0 5\n0 5\nITEM: ATOMS id type xu yu zu\n2 2 1.5 2 3\n1 1 -1 0.25 7\n")
    (tmp_path / "d.txt").write_text(text)
    [(step, pos)] = list(backend.read_dump(tmp_path / "d.txt"))
    assert step == 40
    np.testing.assert_array_equal(pos, [[-1, 0.25, 7], [1.5, 2, 3]])


def test_bad_plan(tmp_path):
    with pytest.raises(ValueError, match="temperature"):
        backend.simulate(tiny_plan(T=-0.5), tmp_path)
    with pytest.raises(ValueError, match="whole number"):
        backend.simulate(tiny_plan(t_equilibrate=0.001), tmp_path)
    assert not any(tmp_path.iterdir())  # nothing written
