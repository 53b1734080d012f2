"""The run protocol (softlib.engine.protocol) that both engines share.

A folder records its plan and is refused to another plan (finished or interrupted, numba and
LAMMPS); a resume keeps exactly the rows up to the checkpoint (LF only, also after LAMMPS);
both engines write the same files and columns; two concurrent simulate() calls on one folder
give one correct run and a LockedError; a too large dt stops the run with a message naming dt.
"""
import json
import multiprocessing as mp

import gsd.hoomd
import pytest

from softlib.engine import md, protocol
from softlib.engine.protocol import THERMO_COLUMNS, RunFolder, thermo_steps
from softlib.io.lock import LockedError
from softlib.pipeline.presets import RunPlan

MD_STAGES = ("melt", "equilibrate", "production")


def tiny_plan(**kw):
    """N = 250, 0.5 + 0.5 + 1.5 tau: 200 + 200 + 600 steps, thermo every 20, checkpoints every 100."""
    base = dict(T=0.8, sample=0, seed=7, N=250, rho=1.2, dt=0.0025, t_melt=0.5, T_melt=2.0,
                t_equilibrate=0.5, t_production=1.5, dense_interval=0.1, log_first=0.01,
                log_per_decade=4, log_block=0.5, thermo_interval=0.05, checkpoint_interval=0.25)
    return RunPlan(**{**base, **kw})


class Stop(Exception):
    pass


def stop_at(stage, step):
    def cb(st, k, sim):
        if (st, k) == (stage, step):
            raise Stop
    return cb


def lammps_simulate(plan, out, die_in_production=False, monkeypatch=None):
    """LAMMPS (in-process) run; optionally killed in production after its first checkpoint."""
    from softlib.engine import lammps

    if die_in_production:
        original = lammps.LammpsEngine.run_segment

        def dying(self, seg, record):
            if seg.stage == "production" and seg.s0 > 0:
                raise KeyboardInterrupt
            return original(self, seg, record)

        monkeypatch.setattr(lammps.LammpsEngine, "run_segment", dying)
        with pytest.raises(KeyboardInterrupt):
            lammps.simulate(plan, out, ranks=1)
        monkeypatch.setattr(lammps.LammpsEngine, "run_segment", original)
        return None
    return lammps.simulate(plan, out, ranks=1)


def rows(path):
    return [ln.split(",") for ln in path.read_text().splitlines()]


@pytest.fixture(scope="module")
def numba_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("numba") / "T0.800_s0"
    return out, md.simulate(tiny_plan(), out, progress=False)


@pytest.fixture(scope="module")
def lammps_run(tmp_path_factory, lammps_module):
    out = tmp_path_factory.mktemp("lammps") / "T0.800_s0"
    return out, lammps_simulate(tiny_plan(), out)


# ----------------------------------------------------------------------------- the plan check
def test_finished_numba_folder_refuses_another_plan(numba_run):
    out, res = numba_run
    with pytest.raises(ValueError, match=r"different plan \(run.json: T: 0.8 in the folder, 0.9 "
                                         r"in the plan\).*delete .*another build dir"):
        md.simulate(tiny_plan(T=0.9), out, progress=False)
    assert md.simulate(tiny_plan(), out, progress=False) == res  # the same plan: returned


def test_a_run_of_the_numba_engine_under_its_old_module_name_is_accepted(numba_run, tmp_path):
    """Runs recorded as 'softlib.md' (the engine before it moved to softlib.engine.md) are the same engine's."""
    import shutil

    out, res = numba_run
    old = tmp_path / "old"
    shutil.copytree(out, old)
    info = json.loads((old / "run.json").read_text())
    (old / "run.json").write_text(json.dumps({**info, "engine": "softlib.md"}))
    assert md.simulate(tiny_plan(), old, progress=False)["engine"] == "softlib.md"
    from softlib.engine import lammps

    with pytest.raises(ValueError, match="engine: 'softlib.md' in the folder, 'lammps'"):
        lammps.simulate(tiny_plan(), old)


def test_finished_lammps_folder_refuses_another_plan_and_engine(lammps_run, numba_run):
    from softlib.engine import lammps

    out, res = lammps_run
    with pytest.raises(ValueError, match="different plan.*t_production: 1.5 in the folder, 2.0"):
        lammps.simulate(tiny_plan(t_production=2.0), out)
    assert lammps.simulate(tiny_plan(), out) == res
    # a numba folder is not a LAMMPS run of the same plan
    with pytest.raises(ValueError, match="engine: 'softlib.engine.md' in the folder, 'lammps'"):
        lammps.simulate(tiny_plan(), numba_run[0])


def test_numba_checkpoint_of_another_plan_refused(tmp_path):
    with pytest.raises(Stop):
        md.simulate(tiny_plan(), tmp_path, progress=False, callback=stop_at("equilibrate", 160))
    with pytest.raises(ValueError, match=rf"{tmp_path} holds a run of a different plan "
                                         r"\(checkpoint.json: seed: 7 in the folder, 8"):
        md.simulate(tiny_plan(seed=8), tmp_path, progress=False)


def test_lammps_checkpoint_of_another_plan_refused(tmp_path, monkeypatch, lammps_module):
    """The reported bug: a T = 1.0 checkpoint resumed under a T = 0.8 plan."""
    lammps_simulate(tiny_plan(T=1.0), tmp_path, die_in_production=True, monkeypatch=monkeypatch)
    assert json.loads((tmp_path / "checkpoint.json").read_text())["stage"] == "production"
    with pytest.raises(ValueError, match=r"different plan \(checkpoint.json: T: 1.0 in the "
                                         r"folder, 0.8 in the plan\)"):
        lammps_simulate(tiny_plan(T=0.8), tmp_path)
    assert not (tmp_path / "run.json").exists()


def test_bad_plans_write_nothing(tmp_path):
    for plan, match in ((tiny_plan(T=0.0), "temperature must be positive"),
                        (tiny_plan(N=100), "more particles"),
                        (tiny_plan(thermo_interval=0.001), "whole number"),
                        (tiny_plan(checkpoint_interval=0.0), "shorter than one step")):
        with pytest.raises(ValueError, match=match):
            md.simulate(plan, tmp_path / "run", progress=False)
    assert not any(tmp_path.iterdir())


# ----------------------------------------------------------------------------- resume
def test_resume_truncates_thermo_to_the_checkpoint(numba_run, tmp_path):
    ref, _ = numba_run
    plan = tiny_plan()
    # killed at production step 440: rows 420 and 440 are on disk, the checkpoint is at 400
    with pytest.raises(Stop):
        md.simulate(plan, tmp_path, progress=False, callback=stop_at("production", 440))
    before = rows(tmp_path / "thermo.csv")
    assert before[-1][:2] == ["production", "440"]
    folder = RunFolder(plan, tmp_path)
    state = folder.read_state(md.NumbaEngine.name)
    assert (state["stage"], state["step"]) == ("production", 400)
    folder.reset(state)
    after = (tmp_path / "thermo.csv").read_bytes()
    n_keep = 1 + sum(len(thermo_steps(plan, s)) for s in ("melt", "equilibrate")) + 400 // 20 + 1
    assert after == b"".join(ln + b"\n" for ln in (ref / "thermo.csv").read_bytes().split(b"\n")[:n_keep])
    assert after.count(b"\n") == n_keep
    # the frames after the checkpoint are gone as well
    with gsd.hoomd.open(tmp_path / "linear.gsd") as f:
        assert f[len(f) - 1].configuration.step == 400


def test_lammps_resume_keeps_lf_and_each_row_once(lammps_run, tmp_path, monkeypatch):
    ref, _ = lammps_run
    plan = tiny_plan()
    lammps_simulate(plan, tmp_path, die_in_production=True, monkeypatch=monkeypatch)
    lammps_simulate(plan, tmp_path)
    text = (tmp_path / "thermo.csv").read_bytes()
    assert b"\r" not in text
    got = [r[:2] for r in rows(tmp_path / "thermo.csv")]
    assert got == [r[:2] for r in rows(ref / "thermo.csv")]
    assert len(got) == len({tuple(r) for r in got})


# ----------------------------------------------------------------------------- one folder layout
def test_both_engines_write_the_same_files(numba_run, lammps_run):
    (a, ra), (b, rb) = numba_run, lammps_run

    def layout(d):
        return sorted(p.name for p in d.iterdir() if not p.name.startswith("checkpoint_"))

    assert layout(a) == layout(b) == ["checkpoint.json", "linear.gsd", "log.gsd", "run.json",
                                      "thermo.csv"]
    assert [r[:2] for r in rows(a / "thermo.csv")] == [r[:2] for r in rows(b / "thermo.csv")]
    assert rows(a / "thermo.csv")[0] == rows(b / "thermo.csv")[0] == list(THERMO_COLUMNS)
    assert set(ra) - {"n_rebuilds"} == set(rb) - {"ranks"}
    assert ra["steps"] == rb["steps"] and ra["n_frames"] == rb["n_frames"]
    assert set(ra["final"]) == set(rb["final"]) == {"stage", "step", *THERMO_COLUMNS[2:]}
    for which in ("linear", "log"):
        with gsd.hoomd.open(a / f"{which}.gsd") as fa, gsd.hoomd.open(b / f"{which}.gsd") as fb:
            assert [f.configuration.step for f in fa] == [f.configuration.step for f in fb]
    sa, sb = (json.loads((d / "checkpoint.json").read_text()) for d in (a, b))
    assert set(sa) == set(sb) and sa["plan"] == sb["plan"] == ra["plan"]


# ----------------------------------------------------------------------------- concurrency
def _simulate_in_child(out, barrier, queue):
    barrier.wait()
    try:
        res = md.simulate(tiny_plan(), out, progress=False)
        queue.put(("ok", res["complete"]))
    except LockedError as e:
        queue.put(("locked", str(e)))
    except Exception as e:  # noqa: BLE001 - reported to the test
        queue.put(("error", repr(e)))


def test_two_concurrent_simulates_one_run_one_locked_error(numba_run, tmp_path):
    ref, _ = numba_run
    out = tmp_path / "T0.800_s0"
    ctx = mp.get_context("spawn")
    barrier, queue = ctx.Barrier(2), ctx.Queue()
    procs = [ctx.Process(target=_simulate_in_child, args=(out, barrier, queue)) for _ in range(2)]
    for p in procs:
        p.start()
    results = sorted(queue.get(timeout=600) for _ in procs)
    for p in procs:
        p.join(timeout=60)
    assert [r[0] for r in results] == ["locked", "ok"], results
    assert "is being written by pid" in results[0][1]
    # one complete, correct run: each row once, the same numbers as the reference
    assert (out / "thermo.csv").read_bytes() == (ref / "thermo.csv").read_bytes()
    assert json.loads((out / "run.json").read_text())["complete"]
    assert not out.with_name(out.name + ".lock").exists()


# ----------------------------------------------------------------------------- integrator sanity
def test_too_large_dt_stops_the_run_naming_dt(tmp_path):
    plan = tiny_plan(dt=0.05, t_melt=1.0, t_equilibrate=1.0, t_production=1.0,
                     thermo_interval=0.1, checkpoint_interval=0.5, log_block=0.5)
    with pytest.raises(ValueError, match=r"dt = 0.05 is too large.*smaller dt"):
        md.simulate(plan, tmp_path, progress=False)
    assert not (tmp_path / "run.json").exists()


def test_watch_passes_a_sane_run_and_catches_each_failure(tmp_path):
    folder = RunFolder(tiny_plan(), tmp_path)
    folder.reset(None)
    seg = folder.segment("equilibrate", 0, 100)
    good = {"T": 0.8, "e_pot": -6.9, "e_kin": 1.2, "pressure": 5.0, "e_conserved": -5.7}
    folder.record(seg, 0, good)
    folder.record(seg, 20, {**good, "T": 0.95, "e_conserved": -5.7001})
    for bad, why in (({"T": 0.0}, "temperature 0"), ({"T": 9.0}, "temperature 9"),
                     ({"e_pot": float("nan")}, "non-finite"),
                     ({"e_conserved": 2e121}, "conserved energy jumped")):
        with pytest.raises(ValueError, match=f"{why}.*dt = 0.0025"):
            folder.record(seg, 40, {**good, **bad})
    folder.close()
    assert [r[1] for r in rows(tmp_path / "thermo.csv")[1:]] == ["0", "20"]


def test_segments_cover_each_stage_once():
    plan = tiny_plan()
    segs = protocol.segments(plan)
    assert segs[0] == ("minimize", 0, 0) and ("quench", 0, 0) in segs
    for stage, n in protocol.stage_steps(plan).items():
        mine = [(a, b) for s, a, b in segs if s == stage]
        assert mine[0][0] == 0 and mine[-1][1] == n
        assert all(b0 == a1 for (_, b0), (a1, _) in zip(mine[:-1], mine[1:]))
