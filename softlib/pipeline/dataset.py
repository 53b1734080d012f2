"""A data set: someone's own trajectories, described in a TOML file, analysed by notebooks 02-06.

Standard library only at import (the Makefile asks it for the output name before ``.venv`` exists).
The file (paths are relative to the TOML file; unknown keys are refused)::

    name = "my_ka"                   # folder name of the outputs: build/<name>, data/<name>, figures/<name>
    model = "kob-andersen"           # the only model supported now
    require_equilibrated = true      # optional (default true): leave out runs that fail the checks
    [[runs]]
    T = 0.60
    files = ["ka_T0.60.lammpstrj.gz"]  # one or more independent samples
    timestep = 0.0025                # for formats that store step numbers (LAMMPS dumps)
    # species = {1 = "A", 2 = "B"}   # optional; default: softlib.io.trajectory.load's mapping
    # log_files = ["ka_T0.60_log.lammpstrj.gz"]  # optional log-spaced frames, one per file, same samples

``python -m softlib.pipeline.dataset name PATH`` prints ``name: <name>`` and ``files: <paths>`` (or
``error: <message>``), for the Makefile.
"""
from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

#: the models a data set may name (a [model] table with other potentials is future work)
MODELS = ("kob-andersen",)
TOP_KEYS = {"name": "folder name of the outputs (required)", "model": '"kob-andersen" (required)',
            "require_equilibrated": "true or false (optional)", "runs": "the [[runs]] tables (required)"}
RUN_KEYS = {"T": "temperature (required)", "files": "list of trajectory files (required)",
            "timestep": "integration step in tau (for LAMMPS dumps)", "species": 'e.g. {1 = "A", 2 = "B"}',
            "log_files": "log-spaced frames of the same samples, one per file (optional)"}
_DUMP_EXT = (".lammpstrj", ".dump", ".lammpsdump", ".lammps")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")


class DatasetError(ValueError):
    """A data set file that cannot be used; the message names the file, the key and the fix."""


def _toml():
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        try:
            import tomli as tomllib
        except ModuleNotFoundError:
            raise DatasetError("reading a data set file needs Python >= 3.11 (tomllib) or the tomli package "
                               "(pip install tomli)") from None
    return tomllib


@dataclass(frozen=True)
class DatasetRun:
    """One temperature of a data set: its files (absolute paths), one per independent sample."""

    T: float
    files: tuple
    timestep: float | None = None
    species: dict | None = None      # {type name: 0 (A) or 1 (B)} or None (the reader decides)
    log_files: tuple = ()

    def tag(self, sample):
        """Run id of one file, in the presets' format ('T0.600_s0')."""
        return f"T{self.T:.3f}_s{sample}"

    @property
    def tags(self):
        return [self.tag(k) for k in range(len(self.files))]


@dataclass(frozen=True)
class Dataset:
    """A parsed and validated data set file (:func:`load_dataset`)."""

    name: str
    model: str
    path: Path
    runs: tuple
    require_equilibrated: bool = True
    extra: dict = field(default_factory=dict)

    @property
    def temperatures(self):
        return sorted(r.T for r in self.runs)

    def run_at(self, T):
        for r in self.runs:
            if abs(r.T - float(T)) < 1e-9:
                return r
        raise KeyError(f"{self.path}: no run at T = {T} (it has {self.temperatures})")

    @property
    def tags(self):
        """{T: [run ids]}."""
        return {r.T: r.tags for r in sorted(self.runs, key=lambda r: r.T)}

    def files(self):
        """Every trajectory file of the data set (dense and log-spaced)."""
        return [f for r in self.runs for f in (*r.files, *r.log_files)]


def _where(path, key, k=None):
    return f"{path}: " + (f"[[runs]] #{k + 1} ({key})" if k is not None else f"{key}")


def _file_list(value, path, key, k, base):
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v.strip() for v in value):
        raise DatasetError(f"{_where(path, key, k)} must be a non-empty list of file names, e.g. "
                           f'{key} = ["ka_T0.60.lammpstrj.gz"] (paths relative to the TOML file)')
    out = []
    for v in value:
        p = Path(v).expanduser()
        p = p if p.is_absolute() else (base / p)
        if not p.is_file():
            raise DatasetError(f"{_where(path, key, k)}: no file {p} (paths are relative to the folder of "
                               f"{path.name}, {base})")
        out.append(p.resolve())
    if len(set(out)) != len(out):
        raise DatasetError(f"{_where(path, key, k)} lists a file twice: each file is one independent sample")
    return tuple(out)


def _species(value, path, k):
    if value is None:
        return None
    if not isinstance(value, dict) or len(value) != 2:
        raise DatasetError(f"{_where(path, 'species', k)} must map the two particle types to 'A' and 'B', "
                           f'e.g. species = {{1 = "A", 2 = "B"}}; got {value!r}')
    table = {}
    for t, s in value.items():
        s_up = str(s).strip().upper()
        if s_up in ("A", "0"):
            table[str(t)] = 0
        elif s_up in ("B", "1"):
            table[str(t)] = 1
        else:
            raise DatasetError(f"{_where(path, 'species', k)}: type {t!r} maps to {s!r}; use \"A\" or \"B\"")
    if sorted(table.values()) != [0, 1]:
        raise DatasetError(f"{_where(path, 'species', k)} must map one type to \"A\" and the other to \"B\"; "
                           f"got {value!r}")
    return table


def _is_dump(p):
    name = str(p).lower()
    for z in (".gz", ".bz2"):
        if name.endswith(z):
            name = name[: -len(z)]
    return name.endswith(_DUMP_EXT)


def parse(data, path, presets=None):
    """Validate the contents ``data`` (a dict, as from tomllib) of the data set file ``path``."""
    path = Path(path).resolve()
    base = path.parent
    if presets is None:
        from .presets import PRESETS
        presets = sorted(PRESETS)
    unknown = sorted(set(data) - set(TOP_KEYS))
    if unknown:
        raise DatasetError(f"{path}: unknown key(s) {unknown}; a data set file takes "
                           + "; ".join(f"{k}: {v}" for k, v in TOP_KEYS.items()))
    for key in ("name", "model", "runs"):
        if key not in data:
            raise DatasetError(f"{path}: the key {key!r} is missing ({TOP_KEYS[key]})")
    name = data["name"]
    if not isinstance(name, str) or not _NAME.match(name):
        raise DatasetError(f"{_where(path, 'name')} must be a folder name of letters, digits, '_', '-' and '.' "
                           f"(it names build/<name>, data/<name>, figures/<name>); got {name!r}")
    if name in presets:
        raise DatasetError(f"{_where(path, 'name')} = {name!r} is the name of a preset, whose folders would be "
                           f"overwritten: choose another name (presets: {', '.join(presets)})")
    model = data["model"]
    if not isinstance(model, str) or model.strip().lower() not in MODELS:
        raise DatasetError(f"{_where(path, 'model')} = {model!r} is not supported: only "
                           f"{', '.join(repr(m) for m in MODELS)} (the Kob-Andersen 80:20 Lennard-Jones mixture; "
                           "the caging potential needs its pair potential). Other models are future work.")
    req = data.get("require_equilibrated", True)
    if not isinstance(req, bool):
        raise DatasetError(f"{_where(path, 'require_equilibrated')} must be true or false, got {req!r}")
    runs_in = data["runs"]
    if not isinstance(runs_in, list) or not runs_in or not all(isinstance(r, dict) for r in runs_in):
        raise DatasetError(f"{_where(path, 'runs')} must be one or more [[runs]] tables (T, files, timestep)")
    runs = []
    for k, r in enumerate(runs_in):
        unknown = sorted(set(r) - set(RUN_KEYS))
        if unknown:
            raise DatasetError(f"{path}: [[runs]] #{k + 1}: unknown key(s) {unknown}; a run takes "
                               + "; ".join(f"{kk}: {v}" for kk, v in RUN_KEYS.items()))
        for key in ("T", "files"):
            if key not in r:
                raise DatasetError(f"{path}: [[runs]] #{k + 1}: the key {key!r} is missing ({RUN_KEYS[key]})")
        T = r["T"]
        if isinstance(T, bool) or not isinstance(T, (int, float)) or not 0 < T < 100:
            raise DatasetError(f"{_where(path, 'T', k)} must be a positive number (eps_AA / k_B), got {T!r}")
        files = _file_list(r["files"], path, "files", k, base)
        logs = ()
        if "log_files" in r:
            logs = _file_list(r["log_files"], path, "log_files", k, base)
            if len(logs) != len(files):
                raise DatasetError(f"{_where(path, 'log_files', k)}: {len(logs)} file(s) for {len(files)} in files; "
                                   "give one log-spaced file per sample, in the same order, or leave log_files out")
        ts = r.get("timestep")
        if ts is not None and (isinstance(ts, bool) or not isinstance(ts, (int, float)) or not ts > 0):
            raise DatasetError(f"{_where(path, 'timestep', k)} must be a positive number (tau), got {ts!r}")
        if ts is None and any(_is_dump(f) for f in (*files, *logs)):
            raise DatasetError(f"{_where(path, 'timestep', k)} is missing: LAMMPS dumps store step numbers only; "
                               "add e.g. timestep = 0.0025")
        runs.append(DatasetRun(T=float(T), files=files, timestep=None if ts is None else float(ts),
                               species=_species(r.get("species"), path, k), log_files=logs))
    temps = [r.T for r in runs]
    dup = sorted({T for T in temps if sum(abs(T - u) < 1e-9 for u in temps) > 1})
    if dup:
        raise DatasetError(f"{path}: T = {dup} appear(s) in more than one [[runs]] table: list all files of a "
                           "temperature in one table (files = [...], one per sample)")
    if len({round(T, 3) for T in temps}) != len(temps):
        raise DatasetError(f"{path}: temperatures {sorted(temps)} differ by less than 0.001, which the run ids "
                           "(T0.600_s0, ...) cannot tell apart")
    if len(runs) < 2:
        raise DatasetError(f"{path}: only one temperature ({temps[0]}); the calibration of Eq. 7 (notebook 02) "
                           "needs at least two (a line through two points; three or more give it error bars): "
                           "add a [[runs]] table")
    all_files = [f for r in runs for f in (*r.files, *r.log_files)]
    if len(set(all_files)) != len(all_files):
        raise DatasetError(f"{path}: a file appears in more than one place; each file is one sample of one "
                           "temperature")
    return Dataset(name=name, model=model.strip().lower(), path=path, runs=tuple(sorted(runs, key=lambda r: r.T)),
                   require_equilibrated=req)


def load_dataset(path):
    """Read and validate a data set file; raise :class:`DatasetError` naming the key and the fix."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise DatasetError(f"no data set file {path}: give the path of a TOML file (see README, "
                           "'Your own trajectories')")
    tomllib = _toml()
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as e:
        raise DatasetError(f"{path} is not valid TOML: {e}") from None
    return parse(data, path)


def main(argv=None):  # pragma: no cover - exercised through the Makefile
    argv = list(sys.argv[1:] if argv is None else argv)
    if len(argv) != 2 or argv[0] != "name":
        print("usage: python -m softlib.pipeline.dataset name DATASET.toml", file=sys.stderr)
        return 2
    try:
        ds = load_dataset(argv[1])
    except DatasetError as e:
        print(f"error: {e}")
        return 0  # the Makefile reads the message from stdout
    print(f"name: {ds.name}")
    print("files: " + " ".join(str(f) for f in [ds.path, *ds.files()] if " " not in str(f)))
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
