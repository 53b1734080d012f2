"""Our trajectory format: HOOMD-schema GSD files (read by gsd, MDAnalysis, freud, OVITO).

Every frame stores

* ``configuration.step`` (int) and ``configuration.box`` = [Lx, Ly, Lz, 0, 0, 0]
* ``particles.N``, ``particles.types`` = ['A', 'B'], ``particles.typeid`` (0 = A, 1 = B)
* ``particles.position``: wrapped into [-L/2, L/2), float32 (the HOOMD schema)
* ``particles.image``: periodic image counts, int32, so that the unwrapped
  position is ``position + image * L``
* ``log['softlib/time']``: the simulation time (tau), float64, because readers
  such as MDAnalysis report only frame indices for GSD.

Files are opened in append mode, so a resumed run extends the file it left.
"""
from __future__ import annotations

import os

import gsd.hoomd
import numpy as np

TYPES = ["A", "B"]
TIME_KEY = "softlib/time"


def wrap(positions, box):
    """Split unwrapped positions (N, 3) into wrapped positions in [-L/2, L/2) and images."""
    box = np.asarray(box, dtype=float)
    image = np.floor(positions / box + 0.5)
    wrapped = positions - image * box
    return wrapped, image.astype(np.int32)


class GSDWriter:
    """Append frames of one run to a GSD file.

    Parameters
    ----------
    path : str or Path
        Output file; created if missing, appended to otherwise.
    species : (N,) int
        0 = A, 1 = B.
    box : (3,) float
        Box edge lengths.
    """

    def __init__(self, path, species, box):
        self.path = os.fspath(path)
        self.species = np.asarray(species, dtype=np.uint32)
        self.box = np.asarray(box, dtype=float)
        mode = "r+" if os.path.exists(self.path) and os.path.getsize(self.path) > 0 else "w"
        self._file = gsd.hoomd.open(self.path, mode=mode)

    def __len__(self):
        return len(self._file)

    def last_step(self):
        """Step of the last frame in the file, or None when empty."""
        n = len(self._file)
        return None if n == 0 else int(self._file[n - 1].configuration.step)

    def append(self, step, time, positions_unwrapped):
        """Write one frame from unwrapped positions (N, 3)."""
        wrapped, image = wrap(np.asarray(positions_unwrapped, dtype=float), self.box)
        frame = gsd.hoomd.Frame()
        frame.configuration.step = int(step)
        frame.configuration.box = [*self.box.tolist(), 0.0, 0.0, 0.0]
        frame.particles.N = len(self.species)
        frame.particles.types = TYPES
        frame.particles.typeid = self.species
        frame.particles.position = wrapped.astype(np.float32)
        frame.particles.image = image
        frame.log[TIME_KEY] = np.array([time], dtype=np.float64)
        self._file.append(frame)

    def flush(self):
        self._file.flush()

    def close(self):
        self._file.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def truncate_after(path, step):
    """Rewrite ``path`` keeping only frames with configuration.step <= ``step``.

    Used on resume: frames written after the last checkpoint are dropped, so
    that the resumed run writes them again exactly once. The rewrite goes to a
    temporary file that replaces the original atomically.
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        return 0
    with gsd.hoomd.open(path, mode="r") as f:
        n = len(f)
        keep = [i for i in range(n) if f[i].configuration.step <= step]
        if len(keep) == n:
            return n
        tmp = path + ".tmp"
        with gsd.hoomd.open(tmp, mode="w") as out:
            for i in keep:
                out.append(f[i])
    os.replace(tmp, path)
    return len(keep)


def frame_steps(path):
    """``configuration.step`` of every frame of ``path`` (list of int), read chunk by chunk.

    The file layer reads one small chunk per frame instead of whole frames; a frame
    without the chunk has the HOOMD default step 0.
    """
    import gsd.fl

    key = "configuration/step"
    with gsd.fl.open(os.fspath(path), mode="r") as f:
        return [int(f.read_chunk(i, key)[0]) if f.chunk_exists(i, key) else 0
                for i in range(f.nframes)]
