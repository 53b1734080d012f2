"""Per-particle depth and softness on disk: frames x A particles, float32, streamed and resumable."""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from .store import provenance, read_json, write_json

# ----------------------------------------------------------------------------------------
# storage: frames x A particles, float32, streamed and resumable
# ----------------------------------------------------------------------------------------
_FIELDS = ("depth", "softness")


_RECOMPUTE = "recompute it with softlib.pipeline.stages.compute_run_softness"


def _intact(path, shape):
    """True when ``path`` is a whole float32 .npy of ``shape`` (header and all data present)."""
    try:
        a = np.load(path, mmap_mode="r")
    except (ValueError, OSError, EOFError):
        return False
    return a.shape == tuple(shape) and a.dtype == np.float32


def _sidecar(path):
    """A sidecar's content, or None when it is missing, truncated or corrupt (the writer then starts over)."""
    try:
        meta = read_json(path)
    except (OSError, ValueError):
        return None
    return meta if isinstance(meta, dict) else None


def _paths(folder, schedule):
    folder = Path(folder)
    final = {f: folder / f"{schedule}.{f}.npy" for f in _FIELDS}
    part = {f: folder / f"{schedule}.{f}.partial.npy" for f in _FIELDS}
    return final, part, folder / f"{schedule}.json", folder / f"{schedule}.partial.json"


class SoftnessWriter:
    """Stream per-frame depth and softness of one run and schedule to disk, resumably.

    Data go to ``<schedule>.{depth,softness}.partial.npy`` (``np.lib.format.open_memmap``,
    float32, (F, N_A)) with a progress sidecar ``<schedule>.partial.json`` that records
    how many frames are done (written atomically after the data are flushed). When all
    frames are written the arrays are renamed to ``<schedule>.{depth,softness}.npy`` and
    the final sidecar ``<schedule>.json`` (``complete: true``) is written last, so a file
    set that looks complete is complete. A new writer with the same ``key`` resumes at
    ``n_done``; a different key starts over.

    :meth:`finalize` first marks the partial sidecar ``finalizing`` (all frames are on disk),
    then renames the arrays and writes the final sidecar: a writer opened after a kill at any
    step of it completes the renames instead of recomputing. Stray temporary files of
    interrupted atomic writes are removed when a writer opens.

    Parameters
    ----------
    folder : path
        ``build/<preset>/softness/<run tag>/``.
    schedule : str
        'linear' or 'log'.
    times : (F,) array_like
        Frame times (tau).
    a_index : (N_A,) array_like
        Indices of the A particles in the full trajectory.
    key : dict
        Everything the numbers depend on (source, delta, T, limits, c0, c1, ...); JSON-able.
    """

    def __init__(self, folder, schedule, times, a_index, key):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.schedule = schedule
        self.times = np.asarray(times, dtype=float)
        self.a_index = np.asarray(a_index, dtype=np.int64)
        self.key = json.loads(json.dumps(key, default=float))
        self.final, self.part, self.side, self.pside = _paths(folder, schedule)
        self.shape = (self.times.size, self.a_index.size)
        self.n_done, self.n_nonpositive = 0, 0
        self._open()

    def _matches(self, meta):
        return (meta.get("key") == self.key and meta.get("shape") == list(self.shape)
                and meta.get("a_index") == self.a_index.tolist()
                and np.allclose(meta.get("times", []), self.times, rtol=1e-12, atol=0))

    def _clean_tmp(self):
        for p in self.folder.glob(f"{self.schedule}.*.tmp"):  # interrupted atomic writes (store.atomic_write_bytes)
            p.unlink(missing_ok=True)

    def _open(self):
        self.finalized = False
        self._clean_tmp()
        if self.side.exists() and all(p.exists() for p in self.final.values()):
            meta = _sidecar(self.side)
            if (meta is not None and meta.get("complete") and self._matches(meta)
                    and all(_intact(p, self.shape) for p in self.final.values())):
                self.n_done, self.n_nonpositive = self.shape[0], int(meta["n_nonpositive"])
                self.finalized = True
                self.pside.unlink(missing_ok=True)  # killed after the final sidecar, before this
                return
        meta = _sidecar(self.pside) if self.pside.exists() else None
        if meta is not None and self._matches(meta):
            if meta.get("finalizing") and self._finish(meta):
                return
            if not meta.get("finalizing") and all(p.exists() for p in self.part.values()):
                self.n_done = int(meta["n_done"])
                self.n_nonpositive = int(meta["n_nonpositive"])
                self.mm = {f: np.lib.format.open_memmap(self.part[f], mode="r+") for f in _FIELDS}
                return
        for p in [self.side, *self.final.values(), self.pside, *self.part.values()]:
            if p.exists():
                p.unlink()  # stale or different parameters: never mix old and new numbers
        self.n_done, self.n_nonpositive = 0, 0
        self.mm = {f: np.lib.format.open_memmap(self.part[f], mode="w+", dtype=np.float32, shape=self.shape)
                   for f in _FIELDS}
        self._progress()

    def _finish(self, meta, **extra):
        """The steps of finalize after the 'finalizing' mark: renames (those not done yet), final sidecar.

        Returns False when an array is neither at its partial nor at its final name (then start over).
        """
        for f in _FIELDS:
            src = self.part[f] if self.part[f].exists() else self.final[f]
            if not _intact(src, self.shape):
                return False
        for f in _FIELDS:
            if self.part[f].exists():
                os.replace(self.part[f], self.final[f])
        self.n_done, self.n_nonpositive = self.shape[0], int(meta["n_nonpositive"])
        final = {k: v for k, v in meta.items() if k != "finalizing"}
        final.update(complete=True, provenance=provenance(**self.key), **extra)
        write_json(self.side, final)
        self.pside.unlink(missing_ok=True)
        self.finalized = True
        return True

    @property
    def complete(self):
        return self.n_done >= self.shape[0]

    def _meta(self):
        return {"schedule": self.schedule, "shape": list(self.shape), "n_done": self.n_done,
                "n_nonpositive": self.n_nonpositive, "a_index": self.a_index.tolist(),
                "times": self.times.tolist(), "key": self.key}

    def _progress(self):
        write_json(self.pside, self._meta())

    def write(self, start, depth, softness, n_nonpositive):
        """Store frames [start, start + len(depth)); ``start`` must equal ``n_done``."""
        if start != self.n_done:
            raise ValueError(f"frames must be written in order: expected start {self.n_done}, got {start}")
        stop = start + len(depth)
        self.mm["depth"][start:stop] = depth
        self.mm["softness"][start:stop] = softness
        for m in self.mm.values():
            m.flush()
        self.n_done = stop
        self.n_nonpositive += int(n_nonpositive)
        self._progress()

    def finalize(self, **extra):
        """Rename the arrays to their final names and write the final sidecar (last)."""
        if self.finalized:
            return self.side
        if not self.complete:
            raise ValueError(f"only {self.n_done} of {self.shape[0]} frames written; cannot finalize")
        for m in self.mm.values():
            m.flush()
        del self.mm
        meta = self._meta()
        meta["finalizing"] = True  # every frame is on disk: from here on a new writer completes, never recomputes
        write_json(self.pside, meta)
        if not self._finish(meta, **extra):
            raise RuntimeError(f"{self.folder}: the softness arrays vanished while finalizing; {_RECOMPUTE}")
        return self.side


def write_softness(folder, schedule, times, depth, softness, a_index, n_nonpositive, key=None):
    """Write complete (F, N_A) depth and softness arrays at once (float32, with provenance)."""
    depth = np.asarray(depth)
    w = SoftnessWriter(folder, schedule, times, a_index, key or {})
    if not w.finalized:
        if w.n_done:  # a partial file with the same key: rewrite it from the start
            w.n_done, w.n_nonpositive = 0, 0
        w.write(0, depth, np.asarray(softness), n_nonpositive)
    return w.finalize()


def read_softness(folder, schedule="linear", mmap=True):
    """Read the local depth and softness of one run and schedule.

    Parameters
    ----------
    folder : path
        ``build/<preset>/softness/<run tag>/``.
    schedule : {'linear', 'log'}
    mmap : bool
        Memory-map the arrays (read-only) instead of loading them.

    Returns
    -------
    dict
        ``times`` (F,), ``depth`` (F, N_A) float32 beta Phi_r^i, ``softness`` (F, N_A) float32 S_i
        (NaN where the denominator was non-positive), ``a_index`` (N_A,), ``n_nonpositive`` (int),
        ``key`` (parameters), ``provenance``.
    """
    final, part, side, pside = _paths(folder, schedule)
    if not side.exists():
        hint = (f" (an interrupted computation left {pside.name}: run compute_run_softness again to resume)"
                if pside.exists() else "")
        raise ValueError(f"no complete softness for schedule {schedule!r} in {folder}{hint}: "
                         "compute it with softlib.pipeline.stages.compute_run_softness")
    meta = read_json(side, rewrite="run softlib.pipeline.stages.compute_run_softness again")
    if not isinstance(meta, dict) or not meta.get("complete"):
        raise ValueError(f"{side} is not marked complete; {_RECOMPUTE}")
    mode = "r" if mmap else None
    out = {}
    for f in _FIELDS:
        if not final[f].exists():
            raise ValueError(f"{final[f]} is missing although {side.name} says complete; {_RECOMPUTE}")
        try:
            out[f] = np.load(final[f], mmap_mode=mode)
        except (ValueError, OSError, EOFError) as e:
            raise ValueError(f"{final[f]} is truncated or corrupt ({e}): {_RECOMPUTE} (it recomputes "
                             "a damaged file set)") from None
        if out[f].shape != tuple(meta["shape"]):
            raise ValueError(f"{final[f]} has shape {out[f].shape}, sidecar says {meta['shape']}: the file is "
                             f"damaged; {_RECOMPUTE}")
    out.update(times=np.asarray(meta["times"]), a_index=np.asarray(meta["a_index"], dtype=np.int64),
               n_nonpositive=int(meta["n_nonpositive"]), key=meta["key"],
               provenance=meta.get("provenance"))
    return out


