"""The run protocol, once: one run folder and one ``simulate`` driver for every MD engine.

A run folder is the contract between notebook 01 and everything downstream. Whatever engine
made it (:mod:`softlib.engine.md` or :mod:`softlib.engine.lammps`), it holds

``thermo.csv``
    :data:`THERMO_COLUMNS`, LF line endings, energies per particle (eps_AA), ``step`` and
    ``time`` (tau) counted from the start of the stage; one row at every stage start, every
    ``plan.thermo_interval`` and at every stage end, for the stages melt, equilibrate and
    production, each row exactly once. Values are ``repr(float)`` (exact round trip).
``linear.gsd``, ``log.gsd``
    the production frames of :func:`softlib.engine.schedule.plan_steps` (see
    :mod:`softlib.io.gsd`), steps and times from the start of production.
``checkpoint.json`` + ``checkpoint_<stage>_<step><engine suffix>``
    the last checkpoint: the protocol state (plan, engine, stage, step, wall-clock times) and
    the engine's own restart file. Written at every segment end (every
    ``plan.checkpoint_interval`` and every stage end); the restart file first, then the state
    that points to it, so a crash at any moment leaves one consistent checkpoint.
``run.json``
    written last: the plan, the engine, steps, frames, timings, the final thermo row and
    provenance. Its presence means: the run is complete.

A run goes through :data:`STAGES`: ``minimize`` (random start, overlaps removed), ``melt`` at
``plan.T_melt``, ``quench`` (velocities rescaled to ``plan.T``, zero steps), ``equilibrate`` and
``production`` at ``plan.T``. Each stage is cut into segments at multiples of
``plan.checkpoint_interval`` (:func:`segments`); an engine runs one segment at a time
(:class:`Engine`) and the driver :func:`simulate` records, checkpoints, resumes and finishes.

Resuming drops everything written after the checkpoint (thermo rows, GSD frames), so every row
and frame is written exactly once and a resumed run equals an uninterrupted one. A folder
records its plan: a folder made by another plan or engine is refused, never resumed or
returned. :func:`simulate` holds :class:`softlib.io.lock.FileLock` on the folder for the whole
run, so a second simulate() on the same folder fails at once with a LockedError.
"""
from __future__ import annotations

import json
import math
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import ka
from .._checks import as_temperature, check_box_cutoff
from .schedule import _nsteps, plan_steps

__all__ = ["STAGES", "MD_STAGES", "THERMO_COLUMNS", "SKIN", "Segment", "Engine", "RunFolder",
           "check_plan", "stage_steps", "segments", "thermo_steps", "simulate", "progress_bar"]

#: stages of one run, in order (minimize and quench take zero MD steps)
STAGES = ("minimize", "melt", "quench", "equilibrate", "production")
#: stages with MD steps and thermo rows
MD_STAGES = ("melt", "equilibrate", "production")
#: columns of thermo.csv (energies per particle; step and time count from the stage start)
THERMO_COLUMNS = ("stage", "step", "time", "T", "e_pot", "e_kin", "pressure", "e_conserved")
#: Verlet skin (sigma_AA) of both engines; a plan's box must exceed 2 (r_c + skin / 2)
SKIN = 0.3
#: engine names recorded by earlier softlib versions -> today's name (the numba engine moved from softlib.md
#: to softlib.engine.md; its runs are the same)
ENGINE_ALIASES = {"softlib.md": "softlib.engine.md"}
STATE_FILE = "checkpoint.json"
RUN_FILE = "run.json"


# --------------------------------------------------------------------------- the plan
def stage_steps(plan):
    """MD steps of each stage of ``plan``, a dict over :data:`STAGES`."""
    return {"minimize": 0, "melt": _nsteps(plan.t_melt, plan.dt), "quench": 0,
            "equilibrate": _nsteps(plan.t_equilibrate, plan.dt),
            "production": _nsteps(plan.t_production, plan.dt)}


def check_plan(plan):
    """Validate a :class:`softlib.pipeline.presets.RunPlan` before anything is written.

    Temperatures positive, N >= 2 with a box larger than twice the cutoff plus half the skin,
    dt > 0, every time a non-negative whole number of steps dt, the thermo and checkpoint
    intervals and the production at least one step.

    Returns
    -------
    dict
        :func:`stage_steps` of the plan.
    """
    as_temperature(plan.T)
    as_temperature(plan.T_melt)
    if int(plan.N) < 2:
        raise ValueError(f"plan.N = {plan.N}: a run needs at least 2 particles")
    check_box_cutoff(ka.box_length(plan.N, plan.rho), ka.RCUT_MAX + SKIN / 2,
                     f"the KA cutoff 2.5 plus half the Verlet skin {SKIN}")
    if not (np.isfinite(plan.dt) and plan.dt > 0):
        raise ValueError(f"plan.dt must be a positive time (tau), got {plan.dt}")
    for name in ("t_melt", "t_equilibrate", "t_production", "thermo_interval",
                 "checkpoint_interval", "dense_interval", "log_block"):
        val = getattr(plan, name)
        if not (np.isfinite(val) and val >= 0):
            raise ValueError(f"plan.{name} must be a non-negative time, got {val}")
        _nsteps(val, plan.dt)  # raises unless a whole number of steps
    for name in ("t_production", "thermo_interval", "checkpoint_interval"):
        if _nsteps(getattr(plan, name), plan.dt) == 0:
            raise ValueError(f"plan.{name} = {getattr(plan, name)} is shorter than one step "
                             f"dt = {plan.dt}")
    return stage_steps(plan)


def segments(plan):
    """[(stage, s0, s1)] in order: each stage cut at multiples of the checkpoint interval.

    A zero-step stage is one segment (stage, 0, 0). Every segment end is a checkpoint.
    """
    every = _nsteps(plan.checkpoint_interval, plan.dt)
    out = []
    for stage, n in stage_steps(plan).items():
        edges = list(range(0, n, every)) + [n] if n else [0, 0]
        out += [(stage, a, b) for a, b in zip(edges[:-1], edges[1:])]
    return out


def thermo_steps(plan, stage):
    """Stage-local steps with a thermo row: 0, every thermo interval and the stage end."""
    if stage not in MD_STAGES:
        return []
    n = stage_steps(plan)[stage]
    every = _nsteps(plan.thermo_interval, plan.dt)
    return sorted(set(range(0, n + 1, every)) | {n})


def _rank(stage, step):
    """Order of (stage, step) in a run."""
    return STAGES.index(stage), int(step)


def _plan_json(plan):
    return json.loads(json.dumps(plan.asdict()))


def _check_recorded(outdir, path, recorded, plan, engine):
    """Refuse a folder whose ``path`` (run.json or a checkpoint) comes from another plan or engine."""
    if recorded.get("plan") is None:
        raise ValueError(f"{path} records no plan (written by an older softlib), so it cannot be "
                         f"resumed safely: delete {outdir} to run again, or choose another build dir")
    want, got = _plan_json(plan), recorded["plan"]
    diff = [f"{k}: {got.get(k)!r} in the folder, {want.get(k)!r} in the plan"
            for k in sorted(set(want) | set(got)) if got.get(k) != want.get(k)]
    if ENGINE_ALIASES.get(recorded.get("engine"), recorded.get("engine")) not in (None, engine):
        diff.append(f"engine: {recorded['engine']!r} in the folder, {engine!r} now")
    if diff:
        raise ValueError(f"{outdir} holds a run of a different plan ({path.name}: "
                         + "; ".join(diff) + f"): delete {outdir} to run this plan there, or "
                         "choose another build dir")


# --------------------------------------------------------------------------- segments
@dataclass(frozen=True)
class Segment:
    """One stretch of one stage between two checkpoints, as an engine runs it.

    Attributes
    ----------
    stage : str
        One of :data:`STAGES`.
    s0, s1 : int
        Stage-local steps: the segment advances from s0 to s1 (equal for zero-step stages).
    n : int
        Steps of the whole stage.
    T : float
        Thermostat temperature of the stage (eps_AA / k_B).
    events : tuple of int
        Sorted steps where the engine stops and calls ``record``: s0 at the start (s0 == 0)
        of an MD stage, every thermo step and production frame in (s0, s1], and s1.
    frames : frozenset of int
        Steps of ``events`` that are production frames (positions needed).
    thermo : frozenset of int
        Steps of ``events`` with a thermo row.
    """

    stage: str
    s0: int
    s1: int
    n: int
    T: float
    events: tuple
    frames: frozenset
    thermo: frozenset

    def thermo_at(self, step):
        """True when ``step`` has a thermo row."""
        return step in self.thermo

    def frame_at(self, step):
        """True when ``step`` is a production frame."""
        return step in self.frames


class Engine:
    """What :func:`simulate` needs from an MD engine; the numba engine
    (:class:`softlib.engine.md.NumbaEngine`) and LAMMPS
    (:class:`softlib.engine.lammps.LammpsEngine`) both implement it.

    Attributes
    ----------
    name : str
        Recorded in run.json and the checkpoint; a folder of another engine is refused.
    suffix : str
        Extension of the engine's restart files (e.g. '.npz', '.restart').
    settings : dict
        Engine settings recorded in run.json and its provenance (e.g. MPI ranks).
    """

    name = "engine"
    suffix = ".ckpt"
    settings = {}

    def start(self, outdir, state):
        """Fresh start (``state`` None) or load the checkpoint ``outdir / state['file']``."""
        raise NotImplementedError

    def run_segment(self, seg, record):
        """Advance from ``seg.s0`` to ``seg.s1``; at every step of ``seg.events`` call
        ``record(step, thermo, positions)``.

        ``thermo``: a dict over ``THERMO_COLUMNS[3:]`` (energies per particle) or None;
        ``positions``: unwrapped (N, 3) float (sigma_AA) when ``seg.frame_at(step)``, else None.
        Stage ``minimize``: random start and overlap removal; ``quench``: velocities rescaled
        to ``seg.T``; an MD stage starts its thermostat at ``seg.T`` when ``seg.s0 == 0``.
        """
        raise NotImplementedError

    def checkpoint(self, path, meta):
        """Write a restart file at ``path``; ``meta`` (plan, engine, stage, step) may go in it."""
        raise NotImplementedError

    def info(self):
        """Results of the run for run.json (dict), e.g. neighbour-list rebuilds."""
        return {}

    def close(self):
        """Release resources; called also when the run fails."""


# --------------------------------------------------------------------------- the folder
class RunFolder:
    """The files of one run folder: thermo rows, GSD frames, checkpoints, run.json.

    Parameters
    ----------
    plan : softlib.pipeline.presets.RunPlan
        A plan that passed :func:`check_plan`.
    outdir : path
        The run folder (created).
    """

    def __init__(self, plan, outdir):
        self.plan = plan
        self.dir = Path(outdir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.steps = stage_steps(plan)
        self.schedules = dict(zip(("linear", "log"), plan_steps(plan)))
        self.species = ka.composition(plan.N)
        self.box = np.full(3, ka.box_length(plan.N, plan.rho))
        self._thermo = None
        self._writers = None
        self._last = {}  # stage -> conserved energy of the last row (for the sanity check)

    @property
    def thermo_path(self):
        return self.dir / "thermo.csv"

    def gsd_path(self, which):
        return self.dir / f"{which}.gsd"

    def segment(self, stage, s0, s1):
        """The :class:`Segment` (stage, s0, s1) of this plan."""
        th = frozenset(s for s in thermo_steps(self.plan, stage) if s0 < s <= s1 or s == s0 == 0)
        fr = frozenset()
        if stage == "production":
            fs = np.union1d(*self.schedules.values())
            fr = frozenset(int(s) for s in fs if s0 < s <= s1 or s == s0 == 0)
        ev = set(th) | set(fr)
        if stage in MD_STAGES:
            ev |= {s1} | ({0} if s0 == 0 else set())
        T = self.plan.T_melt if stage in ("minimize", "melt") else self.plan.T
        return Segment(stage, s0, s1, self.steps[stage], float(T), tuple(sorted(ev)), fr, th)

    # ---- checkpoints
    def read_state(self, engine):
        """The last checkpoint's state (dict) or None; refuses one of another plan or engine."""
        path = self.dir / STATE_FILE
        if path.exists():
            from ..io.store import read_json

            state = read_json(path)
        elif (self.dir / "checkpoint.npz").exists():
            state, path = self._legacy_state(), self.dir / "checkpoint.npz"
        else:
            return None
        _check_recorded(self.dir, path, state, self.plan, engine)
        if not (self.dir / state["file"]).exists():
            raise ValueError(f"{path} names {state['file']}, which is missing: delete {self.dir} "
                             "to start the run again")
        return state

    def _legacy_state(self):
        """The state of a numba checkpoint.npz written before checkpoint.json existed."""
        with np.load(self.dir / "checkpoint.npz", allow_pickle=False) as z:
            meta = json.loads(str(z["extra"]))
        book = meta.get("book", {})
        stage, step = meta.get("stage", "melt"), int(meta.get("stage_step", 0))
        return {"plan": meta.get("plan"), "engine": "softlib.engine.md", "stage": stage,
                "step": step, "done": step >= self.steps[stage], "file": "checkpoint.npz",
                "wall": dict.fromkeys(STAGES, 0.0) | book.get("wall", {}),
                "steps_timed": int(book.get("steps_timed", 0))}

    def reset(self, state):
        """Drop what was written after the checkpoint ``state`` (all output when None).

        Keeps exactly the thermo rows and frames up to (state stage, state step) and checks
        that they are the ones the plan promises; an inconsistent folder raises ValueError.
        """
        self.close()
        if state is None:
            for p in (self.thermo_path, self.gsd_path("linear"), self.gsd_path("log")):
                p.unlink(missing_ok=True)
            self._write_thermo_rows([])
            return
        from ..io.gsd import frame_steps, truncate_after

        stage, step = state["stage"], int(state["step"])
        for which, sched in self.schedules.items():
            path = self.gsd_path(which)
            if stage != "production":
                path.unlink(missing_ok=True)
                continue
            truncate_after(path, step)
            got = frame_steps(path) if path.exists() else []
            if got != sched[sched <= step].tolist():
                raise ValueError(f"{path} holds {len(got)} frames up to step {step}, the checkpoint "
                                 f"expects {int((sched <= step).sum())}: the folder is "
                                 f"inconsistent; delete {self.dir} and run again")
        rows = self._read_thermo_rows() if self.thermo_path.exists() else []
        keep = [r for r in rows if _rank(r[0], r[1]) <= _rank(stage, step)]
        want = [(s, k) for s in MD_STAGES for k in thermo_steps(self.plan, s)
                if _rank(s, k) <= _rank(stage, step)]
        if [(r[0], int(r[1])) for r in keep] != want:
            raise ValueError(f"{self.thermo_path} does not hold the rows up to the checkpoint "
                             f"({stage}, {step}): the folder is inconsistent; delete {self.dir} "
                             "and run again")
        self._write_thermo_rows(keep)

    def _read_thermo_rows(self):
        with open(self.thermo_path, newline="") as f:
            lines = f.read().splitlines()
        if not lines or lines[0].split(",") != list(THERMO_COLUMNS):
            raise ValueError(f"{self.thermo_path} lacks the header {','.join(THERMO_COLUMNS)}: "
                             f"delete {self.dir} and run again")
        return [ln.split(",") for ln in lines[1:] if ln]

    def _write_thermo_rows(self, rows):
        """Atomically (fsynced) rewrite thermo.csv with ``rows`` (lists of str), LF endings."""
        from ..io.store import atomic_write_bytes

        text = ",".join(THERMO_COLUMNS) + "\n" + "".join(",".join(r) + "\n" for r in rows)
        atomic_write_bytes(self.thermo_path, text.encode())

    def commit(self, engine, stage, step, wall, steps_timed, old):
        """Checkpoint after (stage, step): output made durable, restart file, then the state."""
        from ..io.store import write_json

        self.flush()
        name = f"checkpoint_{stage}_{step}{engine.suffix}"
        meta = {"plan": _plan_json(self.plan), "engine": engine.name, "stage": stage,
                "step": step}
        engine.checkpoint(self.dir / name, meta)
        state = {**meta, "done": step >= self.steps[stage], "file": name, "wall": dict(wall),
                 "steps_timed": steps_timed}
        write_json(self.dir / STATE_FILE, state)
        if old is not None and old["file"] != name:
            (self.dir / old["file"]).unlink(missing_ok=True)
        return state

    # ---- rows and frames
    def record(self, seg, step, thermo=None, positions=None):
        """Write the thermo row and / or the frame of ``seg`` at ``step`` (when scheduled)."""
        if thermo is not None and seg.thermo_at(step):
            vals = [float(thermo[c]) for c in THERMO_COLUMNS[3:]]
            self._watch(seg, step, vals)
            if self._thermo is None:
                self._thermo = open(self.thermo_path, "a", newline="")  # LF, never CRLF
            self._thermo.write(f"{seg.stage},{step},{step * self.plan.dt!r},"
                               + ",".join(repr(v) for v in vals) + "\n")
        if positions is not None and seg.frame_at(step):
            if self._writers is None:
                from ..io.gsd import GSDWriter

                self._writers = {w: GSDWriter(self.gsd_path(w), self.species, self.box)
                                 for w in self.schedules}
            for which, sched in self.schedules.items():
                if step in sched:
                    self._writers[which].append(step, step * self.plan.dt, positions)

    def _watch(self, seg, step, vals):
        """Stop a run whose integration failed, seen in its thermo row: non-finite values,
        a temperature collapsed to ~0 or exploded, or a conserved energy that jumps.

        The limits are far from any sane run: a thermostatted KA liquid stays within ~30 % of
        its target after the first rows, and its conserved energy changes by ~1e-4 eps per
        particle between rows. A too large dt drains the velocities through the thermostat
        (T -> 0) or heats the system without bound (energies of 1e100).
        """
        T, e_cons = vals[0], vals[4]
        last = self._last.get(seg.stage)
        why = None
        if not all(math.isfinite(v) for v in vals):
            why = f"non-finite thermo values {vals}"
        elif not 0.1 * seg.T < T < 10.0 * seg.T:
            why = f"temperature {T:.3g} for a target of {seg.T:.3g}"
        elif last is not None and abs(e_cons - last) > 1.5 * seg.T:
            why = f"conserved energy jumped from {last:.6g} to {e_cons:.6g} per particle"
        if why:
            raise ValueError(f"the integration failed in {seg.stage} at step {step}: {why}. "
                             f"dt = {self.plan.dt} is too large: use a smaller dt (the paper "
                             f"uses 0.0025) and delete {self.dir} first")
        self._last[seg.stage] = e_cons

    def flush(self):
        """Make what was written durable (thermo fsynced, GSD flushed) before a checkpoint."""
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

    # ---- the end
    def check_complete(self):
        """The folder holds exactly the scheduled frames and thermo rows; returns the rows."""
        from ..io.gsd import frame_steps

        for which, sched in self.schedules.items():
            got = frame_steps(self.gsd_path(which))
            if got != sched.tolist():
                raise RuntimeError(f"{self.gsd_path(which)} holds {len(got)} frames, the schedule "
                                   f"{len(sched)}: the trajectory is inconsistent; delete "
                                   f"{self.dir} and run again")
        rows = self._read_thermo_rows()
        want = [(s, k) for s in MD_STAGES for k in thermo_steps(self.plan, s)]
        if [(r[0], int(r[1])) for r in rows] != want:
            raise RuntimeError(f"{self.thermo_path} does not hold each scheduled row once: delete "
                               f"{self.dir} and run again")
        return rows

    def finish(self, engine, wall, steps_timed):
        """Check the folder and write run.json (last); returns its content."""
        from ..io.store import provenance, read_json, write_json

        self.close()
        rows = self.check_complete()
        last = rows[-1]
        final = {"stage": last[0], "step": int(last[1]),
                 **dict(zip(THERMO_COLUMNS[2:], map(float, last[2:])))}
        md_wall = sum(wall[s] for s in MD_STAGES)
        info = {"plan": self.plan.asdict(), "engine": engine.name, "complete": True,
                **engine.settings, **engine.info(), "steps": self.steps,
                "wall_seconds": dict(wall), "wall_time": sum(wall.values()),
                "steps_per_second": steps_timed / md_wall if md_wall > 0 else None,
                "n_frames": {w: len(s) for w, s in self.schedules.items()}, "final": final,
                "provenance": provenance(engine=engine.name, **engine.settings,
                                         **self.plan.asdict())}
        write_json(self.dir / RUN_FILE, info)
        return read_json(self.dir / RUN_FILE)


def _finished(outdir, plan, engine):
    """run.json's content when ``outdir`` holds a complete run of ``plan`` by ``engine``."""
    path = Path(outdir) / RUN_FILE
    if not path.exists():
        return None
    from ..io.store import read_json

    info = read_json(path)
    _check_recorded(Path(outdir), path, info, plan, engine)
    return info


def progress_bar(total, progress, desc):
    """A tqdm bar over ``total`` steps on stderr, or None when ``progress`` is false."""
    if not progress:
        return None
    from tqdm import tqdm  # plain text bar on stderr (no widget in notebooks)

    return tqdm(total=total, desc=desc, unit="step", smoothing=0.05, mininterval=1.0,
                file=sys.stderr)


# --------------------------------------------------------------------------- the driver
def simulate(engine, plan, outdir, progress=False, callback=None):
    """Run (or resume, or return) ``plan`` with ``engine`` in the run folder ``outdir``.

    Parameters
    ----------
    engine : Engine
        E.g. :class:`softlib.engine.md.NumbaEngine`, :class:`softlib.engine.lammps.LammpsEngine`.
    plan : softlib.pipeline.presets.RunPlan
    outdir : str or Path
        The run folder (its files: see the module docstring).
    progress : bool
        tqdm bar (MD steps) on stderr.
    callback : callable, optional
        ``callback(stage, step, engine)`` after every recorded event past the segment start,
        at a segment end after its checkpoint; tests use it to interrupt a run.

    Returns
    -------
    dict
        The content of run.json. A complete folder of the same plan and engine is returned
        without running anything.

    Raises
    ------
    ValueError
        A bad plan; a folder (run.json or checkpoint) of another plan or engine; an
        inconsistent folder; a failed integration (the message names dt).
    softlib.io.lock.LockedError
        Another process runs simulate() on this folder.
    """
    from ..io.lock import FileLock

    steps = check_plan(plan)
    outdir = Path(outdir)
    with FileLock(outdir, what=f"simulating {plan.tag} with {engine.name}"):
        done = _finished(outdir, plan, engine.name)
        if done is not None:
            return done
        run = RunFolder(plan, outdir)
        state = run.read_state(engine.name)
        run.reset(state)
        wall = dict.fromkeys(STAGES, 0.0) if state is None else dict(state["wall"])
        steps_timed = 0 if state is None else int(state["steps_timed"])
        bar = progress_bar(sum(steps.values()), progress, f"{engine.name} {plan.tag}")
        try:
            engine.start(outdir, state)
            for stage, s0, s1 in segments(plan):
                if state is not None and _rank(stage, s1) <= _rank(state["stage"], state["step"]):
                    if bar is not None:
                        bar.update(s1 - s0)
                    continue
                seg = run.segment(stage, s0, s1)
                t0 = time.perf_counter()
                at = [s0]  # last step recorded (progress bar)

                def record(step, thermo=None, positions=None, seg=seg, at=at):
                    run.record(seg, step, thermo, positions)
                    if bar is not None and step > at[0]:
                        bar.update(step - at[0])
                    at[0] = max(at[0], step)
                    if callback is not None and seg.s0 < step < seg.s1:
                        callback(seg.stage, step, engine)

                engine.run_segment(seg, record)
                if bar is not None and s1 > at[0]:
                    bar.update(s1 - at[0])
                steps_timed += s1 - s0
                wall[stage] += time.perf_counter() - t0
                state = run.commit(engine, stage, s1, wall, steps_timed, state)
                if callback is not None:
                    callback(stage, s1, engine)
        finally:
            if bar is not None:
                bar.close()
            run.close()
            engine.close()
        return run.finish(engine, wall, steps_timed)
