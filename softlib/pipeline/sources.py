"""Where a run's frames come from: a simulation folder of a preset or the files of a data set.

The stages read every run through a :class:`RunSource`: ``open('linear')`` / ``open('log')`` give the
dense and the log-spaced frames as a :class:`softlib.io.trajectory.Trajectory`, ``plan`` the facts
the stages need (T, t_production, dense_interval, log_block, N). A preset's run reads
``runs/<tag>/{linear,log}.gsd`` and ``run.json``; a data set's run reads the user's files and takes
those facts from the trajectory itself (``log_block`` None: a run without log-spaced frames is
analysed on log-spaced lags of its dense frames).

Also here: the density and composition of the data against the model (:func:`system_facts`,
:func:`resolve_system`) and the equilibration check of a data set's runs (:func:`summarize_run`,
:func:`dataset_summaries`), which stands in for notebook 01's summary.
"""
from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np

#: relative tolerance within which the data's N/V counts as the model's density (then the model's
#: exact value is used, so that a preset's numbers do not move with the float32 box of its files)
RHO_TOL = 1e-4
#: absolute tolerance of the number fraction x_A against the model's
X_TOL = 1e-9
#: what a data set's summary says about the energy drift
NO_ENERGY = "energy drift: not checked (the trajectory files hold no energies)"


class RunSource:
    """One run (one sample at one temperature): its trajectory files and its facts."""

    def __init__(self, tag, T, linear, log=None, timestep=None, species=None, plan=None, sample=0,
                 kind="preset", cache_dir=None):
        self.tag, self.T, self.sample, self.kind = tag, float(T), int(sample), kind
        self.cache_dir = None if cache_dir is None else Path(cache_dir)
        self.files = {"linear": Path(linear)}
        if log is not None:
            self.files["log"] = Path(log)
        self.timestep, self.species = timestep, species
        self.swapped = False    # a data set run without a species table whose types were swapped (A = majority)
        self._plan = plan
        self._open = {}

    @classmethod
    def from_run_dir(cls, run_dir, tag=None):
        """A preset's simulation folder (must hold run.json: the run is complete)."""
        run_dir = Path(run_dir)
        if not (run_dir / "run.json").exists():
            raise ValueError(f"{run_dir}/run.json is missing: the run is not complete (finish the simulation first)")
        plan = json.loads((run_dir / "run.json").read_text())["plan"]
        log = run_dir / "log.gsd"
        return cls(tag or run_dir.name, plan["T"], run_dir / "linear.gsd", log, plan=plan,
                   sample=plan.get("sample", 0), kind="preset")

    def __str__(self):
        return str(self.files["linear"])

    def __repr__(self):
        return f"RunSource({self.tag!r}, T={self.T}, {self.kind}, {sorted(self.files)})"

    @property
    def schedules(self):
        return tuple(s for s in ("linear", "log") if s in self.files)

    def has(self, schedule):
        return schedule in self.files

    def path(self, schedule="linear"):
        try:
            return self.files[schedule]
        except KeyError:
            raise ValueError(f"run {self.tag} has no {schedule!r} frames (it has {list(self.schedules)})") from None

    def open(self, schedule="linear"):
        """The Trajectory of one schedule (opened once per process and kept).

        A data set's file that is not GSD (a text dump is slow to parse: MDAnalysis reads a LAMMPS dump
        at tens of frames per second) is read once through :func:`softlib.io.trajectory.load` and its
        unwrapped positions kept in ``cache_dir`` (``<build>/<name>/runs/<tag>/``, float64 .npy, keyed by
        the file's size, modification time, timestep and species); later reads, by any notebook, map that
        file. The positions are the reader's, unchanged. Without a species table the larger species is A
        (the 80 % of the Kob-Andersen mixture): the reader's mapping is swapped where needed (``swapped``).
        """
        if schedule not in self._open:
            from ..io.trajectory import load

            path = self.path(schedule)
            cached = self.cache_dir is not None and not str(path).lower().endswith(".gsd")
            tr = self._cached(schedule) if cached else load(path, species=self.species, timestep=self.timestep)
            self.swapped = self.swapped or tr.species_swapped  # load makes the majority type A
            self._open[schedule] = tr
        return self._open[schedule]

    def _cached(self, schedule, chunk=256):
        import os

        from ..io.store import atomic_write_bytes
        from ..io.trajectory import Trajectory, load

        d = self.cache_dir
        key = json.loads(json.dumps({**_file_key(self.path(schedule)), "timestep": self.timestep,
                                     "species": self.species, "reader": 2}))
        key_path, npy, meta = d / f"{schedule}.key.json", d / f"{schedule}.positions.npy", d / f"{schedule}.meta.npz"
        if not (key_path.exists() and npy.exists() and meta.exists()
                and json.loads(key_path.read_text()) == key):
            d.mkdir(parents=True, exist_ok=True)
            key_path.unlink(missing_ok=True)
            tr = load(self.path(schedule), species=self.species, timestep=self.timestep)
            tmp = d / f"{schedule}.positions.{os.getpid()}.npy"
            out = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.float64,
                                            shape=(tr.n_frames, tr.n_particles, 3))
            for a in range(0, tr.n_frames, chunk):
                out[a:a + chunk] = tr[a:min(a + chunk, tr.n_frames)].positions
            out.flush()
            del out
            tmp_meta = d / f"{schedule}.meta.{os.getpid()}.npz"
            with open(tmp_meta, "wb") as f:
                np.savez(f, times=np.asarray(tr.times), species=np.asarray(tr.species), box=np.asarray(tr.box),
                         swapped=tr.species_swapped)
            os.replace(tmp, npy)
            os.replace(tmp_meta, meta)
            atomic_write_bytes(key_path, json.dumps(key).encode())  # last: marks the cache complete
        with np.load(meta) as m:
            times, species, box = m["times"], m["species"], m["box"]
            self.swapped = self.swapped or bool(m["swapped"])
        return Trajectory.from_arrays(np.load(npy, mmap_mode="r"), species, box, times)

    @property
    def plan(self):
        """{'T', 'N', 't_production', 'dense_interval', 'log_block'}: run.json's plan, or from the frames."""
        if self._plan is None:
            tr = self.open("linear")
            t = np.asarray(tr.times)
            self._plan = {"T": self.T, "N": int(tr.n_particles), "t_production": float(t[-1] - t[0]),
                          "dense_interval": float(np.median(np.diff(t))) if t.size > 1 else float("nan"),
                          "log_block": None, "sample": self.sample}
        return self._plan

    def positions(self, schedule="linear"):
        """(times, unwrapped positions (F, N, 3)) of one schedule."""
        tr = self.open(schedule)
        return np.asarray(tr.times), np.asarray(tr[:].positions)


def dataset_sources(ds, layout=None):
    """{tag: RunSource} of every file of a :class:`softlib.pipeline.dataset.Dataset`; with ``layout``, text
    files are read once and cached under ``<build>/<name>/runs/<tag>/`` (:meth:`RunSource.open`)."""
    out = {}
    for run in ds.runs:
        for k, f in enumerate(run.files):
            out[run.tag(k)] = RunSource(run.tag(k), run.T, f, run.log_files[k] if run.log_files else None,
                                        timestep=run.timestep, species=run.species, sample=k, kind="dataset",
                                        cache_dir=None if layout is None else layout.run(run.tag(k)))
    return out


def _file_key(p):
    st = Path(p).stat()
    return {"path": str(p), "size": st.st_size, "mtime_ns": st.st_mtime_ns}


# --------------------------------------------------------------------------- density and composition
def system_facts(species, box):
    """N, N_A, N_B, x = (x_A, x_B), rho = N / V of one configuration."""
    species = np.asarray(species)
    box = np.asarray(box, dtype=float) * np.ones(3)
    n, na = int(species.size), int(np.sum(species == 0))
    return {"N": n, "N_A": na, "N_B": n - na, "x": [na / n, (n - na) / n], "rho": float(n / np.prod(box)),
            "box": box.tolist()}


def resolve_system(facts, where="the data"):
    """The x and rho every step of the analysis uses, from the facts of all runs ({name: system_facts}).

    All runs must share one density and one composition (an isochore of one mixture, as in the paper),
    and A must be the majority species. When the data match the Kob-Andersen model (rho = 1.2 within
    RHO_TOL, x_A = 0.8 exactly) the model's values are used; otherwise the data's, with a note: 02's
    average depth then uses them, and 03's local depth uses each frame's N/V and species counts, so both
    agree. Returns {'x', 'rho', 'model' (bool), 'notes' [str], 'N' [...]}.
    """
    from .. import ka

    if not facts:
        raise ValueError(f"{where}: no runs to check")
    for name, f in facts.items():
        if f["N_A"] == 0 or f["N_B"] == 0:
            raise ValueError(f"{name}: only one species ({f['N_A']} A, {f['N_B']} B): the KA analysis needs both; "
                             "check the type column or give species = {1 = \"A\", 2 = \"B\"}")
        if f["N_A"] < f["N_B"]:
            raise ValueError(f"{name}: species A has {f['N_A']} particles and B {f['N_B']}: in the Kob-Andersen "
                             "mixture A is the 80 % majority; swap them with species = {1 = \"B\", 2 = \"A\"} in the "
                             "[[runs]] table (or fix the type column)")
    rhos = np.array([f["rho"] for f in facts.values()])
    xa = np.array([f["x"][0] for f in facts.values()])
    if np.ptp(rhos) > RHO_TOL * rhos.mean():
        raise ValueError(f"{where}: the runs have different densities N/V "
                         + ", ".join(f"{k}: {f['rho']:.5g}" for k, f in facts.items())
                         + "; the calibration of Eq. 7 is made along one isochore: analyse each density as its "
                         "own data set")
    if np.ptp(xa) > 1e-6:
        raise ValueError(f"{where}: the runs have different compositions x_A "
                         + ", ".join(f"{k}: {f['x'][0]:.4f}" for k, f in facts.items())
                         + "; analyse each composition as its own data set")
    rho, x = float(rhos.mean()), (float(xa[0]), float(1 - xa[0]))
    model_x = (ka.X_A, 1.0 - ka.X_A)
    same = abs(rho - ka.RHO) <= RHO_TOL * ka.RHO and abs(x[0] - model_x[0]) <= X_TOL
    notes = []
    if same:
        rho, x = float(ka.RHO), model_x
    else:
        notes.append(f"the data have rho = N/V = {rho:.5g} and x_A = {x[0]:.4g}, not the Kob-Andersen state "
                     f"rho = {ka.RHO}, x_A = {ka.X_A}: the analysis uses the data's values everywhere (02: "
                     "the caging potential and the average depth; 03: each frame's N/V and species counts). "
                     "The pair potential is still KA's.")
    return {"x": [float(x[0]), float(x[1])], "rho": rho, "model": bool(same), "notes": notes,
            "N": sorted({f["N"] for f in facts.values()})}


# --------------------------------------------------------------------------- equilibration of a data set's run
def _source_key(src):
    out = {sch: _file_key(src.path(sch)) for sch in src.schedules}
    return {"files": out, "timestep": src.timestep, "species": src.species, "T": src.T}


def summarize_run(src, min_tau=10.0, origin_every=1.0, max_frames=8000):
    """The equilibration check of one data set run, on its dense frames (stands in for notebook 01's).

    tau_alpha from F_s(q = 7.25, t) of A on log-spaced lags of the dense frames; the run must last at
    least ``min_tau`` tau_alpha; tau_alpha and MSD_A(tau_alpha) of the two halves must agree
    (:func:`softlib.analysis.equilibration.halves`). The energy drift cannot be checked without energies
    (``no_energy_drift`` is None). The run's state before the file began is unknown
    (``n_tau_equilibration`` is None).
    """
    from ..analysis import dynamics as dyn
    from ..analysis import equilibration as eq

    tr = src.open("linear")
    t_all = np.asarray(tr.times)
    facts = system_facts(tr.species, tr.box)
    stride = max(1, int(np.ceil(t_all.size / max_frames)))
    sub = tr[::stride]
    t, pos, species = np.asarray(sub.times), np.asarray(sub.positions), np.asarray(tr.species)
    notes = [NO_ENERGY]
    dt = float(np.median(np.diff(t)))
    if np.any(np.abs(np.diff(t) - dt) > 1e-6 * max(dt, 1e-12) + 1e-9):
        raise ValueError(f"{src.path('linear')}: the frames are not evenly spaced in time; the dense frames "
                         "(files) must be; put log-spaced frames under log_files")
    m = dyn.displacement_moments(pos, t, species, 0, schedule="linear",
                                 origin_every=max(1, int(round(origin_every / dt))), lags=dyn.log_lags(t.size, 16))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        tau = float(dyn.tau_alpha(m.times, m.fs, missing="nan"))
    duration = float(t_all[-1] - t_all[0])
    n_tau = duration / tau if np.isfinite(tau) else float("nan")
    halves = None
    if np.isfinite(tau) and duration >= 8 * tau:
        halves = eq.halves(t, pos, species, tau)
        if halves["poor_statistics"]:
            notes.append(f"two halves: sub-blocks of {halves['sub_block_length']:.0f} tau are shorter than "
                         "3 tau_alpha: the test has little power at this length")
    else:
        notes.append("two halves: not tested (" + ("F_s does not reach 1/e" if not np.isfinite(tau)
                                                 else f"the run lasts only {n_tau:.1f} tau_alpha") + ")")
    checks = {
        "duration_covers_10_tau": bool(np.isfinite(tau) and n_tau >= min_tau),
        "no_energy_drift": None,
        "halves_agree_tau": (bool(halves["tau_compare"]["agree"]) if halves is not None
                             and np.isfinite(halves["tau_compare"]["error"]) else None),
        "halves_agree_msd": bool(halves["msd_compare"]["agree"]) if halves is not None else None,
    }
    return {"tag": src.tag, "T": src.T, "sample": src.sample, "N": facts["N"], "tau_alpha": tau,
            "n_tau_equilibration": None, "n_tau_production": n_tau, "duration": duration,
            "dense_interval": float(np.median(np.diff(t_all))), "n_frames": int(t_all.size),
            "e_pot": None, "checks": checks, "equilibrated": all(v is not False for v in checks.values()),
            "halves": halves, "notes": notes, "system": facts, "made_by": "dataset check (notebook 02 set-up)",
            "source": _source_key(src), "fs": {"t": m.times, "fs": m.fs}}


def dataset_summaries(sources, layout, compute=True, log=print):
    """Equilibration summaries of every data set run, and the system (x, rho) they share.

    A summary is read from ``<data>/<name>/simulate/<tag>.json`` when it was made from the same files
    (path, size, modification time, timestep, species), else computed (:func:`summarize_run`) and written
    there; ``compute=False`` raises instead of computing. The density and composition of all runs are
    checked (:func:`resolve_system`) before any summary is computed, so a wrong file fails in seconds.

    Returns (summaries {tag: dict}, system).
    """
    from ..io.store import json_safe, provenance, write_json

    out, facts, todo = {}, {}, []
    for tag, src in sources.items():
        path = layout.summary(tag)
        key = json.loads(json.dumps(_source_key(src)))
        old = json.loads(path.read_text()) if path.exists() else None
        if old is not None and old.get("source") == key:
            out[tag], facts[f"{tag} ({src.path('linear').name})"] = old, old["system"]
            continue
        if not compute:
            raise FileNotFoundError(f"no current equilibration summary {path} for {src.path('linear')}: run notebook "
                                    f"02 on this data set first (make analysis DATASET=...)")
        tr = src.open("linear")
        facts[f"{tag} ({src.path('linear').name})"] = system_facts(tr.species, tr.box)
        todo.append(tag)
    system = resolve_system(facts, "the data set")
    for tag in todo:
        src = sources[tag]
        log(f"checking the equilibration of {tag} ({src.path('linear').name}) on its dense frames ...")
        s_ = summarize_run(src)
        s_["provenance"] = provenance(notebook="02_calibrate (dataset check)", tag=tag, T=src.T)
        write_json(layout.summary(tag), json_safe(s_))
        out[tag] = json.loads(layout.summary(tag).read_text())
    return {t: out[t] for t in sources}, system
