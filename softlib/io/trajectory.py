"""Reading trajectories: our GSD files directly, everything else through MDAnalysis.

:func:`load` returns a lazy :class:`Trajectory`: times, species and box are read
at once, positions only when asked for (``traj.positions``, a slice
``traj[a:b]`` or chunk by chunk with ``traj.iter_chunks(n)``), so a trajectory
larger than memory streams. Positions are always unwrapped, float64, in the
file's length unit (sigma_AA for ours; no reader converts units here):

* from image flags where the file has them (our GSD, HOOMD GSD; LAMMPS dumps
  with ``ix iy iz``),
* as stored where the file has unwrapped columns (LAMMPS ``xu yu zu``),
* otherwise by frame-to-frame minimum-image continuity, which is safe only
  when no particle moves more than a quarter of the box between frames;
  :func:`load` checks that and raises when frames are too far apart.

Precision is the file's: GSD, DCD and MDAnalysis hold float32 positions (XTC keeps three
decimals). MDAnalysis puts the origin of a LAMMPS dump at the box corner (positions shifted by
-(xlo, ylo, zlo)); a constant shift changes no analysis here.

Species are 0 = A, 1 = B: type names 'A'/'B' or LAMMPS numeric types 1/2 are
mapped automatically; anything else needs ``species=`` (an (N,) array or a
dict {type name: 0 or 1}).
"""
from __future__ import annotations

import os

import numpy as np

from ._sources import (  # noqa: F401 - MAX_STEP_FRACTION and the sources are part of the namespace
    _DUMP_EXT,
    MAX_STEP_FRACTION,
    _ArraySource,
    _base_ext,
    _GSDSource,
    _MDASource,
)


# --------------------------------------------------------------------------- public API
class Trajectory:
    """A trajectory of a binary mixture with unwrapped positions.

    Attributes
    ----------
    times : (F,) float64
        Frame times (LJ tau for our files), strictly increasing.
    species : (N,) int32
        0 = A, 1 = B.
    box : (3,) float64
        Orthorhombic box edge lengths (constant).
    positions : (F, N, 3) float64
        Unwrapped positions; read on first access and kept.
    n_frames, n_particles : int

    Slicing (``traj[a:b:c]``, an increasing integer array, or an int) returns a
    lazy view; ``iter_chunks(n)`` yields in-memory views of at most n frames.
    """

    def __init__(self, source, frames=None):
        self._src = source
        self._frames = np.arange(source.n_frames) if frames is None else np.asarray(frames, dtype=np.int64)
        self._pos = None

    @classmethod
    def from_arrays(cls, positions, species, box, times=None):
        """An in-memory trajectory from unwrapped positions (F, N, 3) (or (N, 3) for one frame)."""
        p = np.asarray(positions, dtype=float)
        if p.ndim == 2:
            p = p[None]
        return cls(_ArraySource(p, species, box, times))

    @property
    def path(self):
        return self._src.path

    @property
    def times(self):
        return self._src.times[self._frames]

    @property
    def species(self):
        return self._src.species.copy()

    @property
    def box(self):
        return self._src.box.copy()

    @property
    def n_frames(self):
        return len(self._frames)

    @property
    def n_particles(self):
        return self._src.n_particles

    @property
    def positions(self):
        if self._pos is None:
            self._pos = self._src.read(self._frames)
        return self._pos

    def __len__(self):
        return self.n_frames

    def __getitem__(self, key):
        if isinstance(key, (int, np.integer)):
            if not -self.n_frames <= key < self.n_frames:
                raise IndexError(f"frame {key} out of range for {self.n_frames} frames")
            frames = self._frames[[key]]
        elif isinstance(key, slice):
            frames = self._frames[key]
        else:
            idx = np.asarray(key)
            if idx.dtype == bool or not np.issubdtype(idx.dtype, np.integer) or idx.ndim != 1:
                raise TypeError("index a Trajectory with an int, a slice or a 1-d integer array")
            frames = self._frames[idx]
        if frames.size > 1 and np.any(np.diff(frames) <= 0):
            raise ValueError("frame selections must be increasing (time order is kept)")
        view = Trajectory(self._src, frames)
        if self._pos is not None:  # already in memory: share
            pos_index = {f: k for k, f in enumerate(self._frames)}
            view._pos = self._pos[[pos_index[f] for f in frames]]
        return view

    def iter_chunks(self, n):
        """Yield consecutive views of at most ``n`` frames with their positions loaded."""
        n = int(n)
        if n < 1:
            raise ValueError(f"chunk size must be >= 1, got {n}")
        for a in range(0, self.n_frames, n):
            chunk = self[a:a + n]
            chunk.positions  # noqa: B018 - load now: the caller gets an in-memory chunk
            yield chunk

    def __repr__(self):
        t = self.times
        span = f"t = {t[0]:g}..{t[-1]:g}" if len(t) else "empty"
        return (f"Trajectory({self.path!r}, {self.n_frames} frames, {self.n_particles} particles, "
                f"box {self._src.box.round(4).tolist()}, {span})")


def load(path, topology=None, species=None, timestep=None, format=None):  # noqa: A002
    """Open a trajectory of a binary mixture.

    Parameters
    ----------
    path : str or Path
        Trajectory file: our GSD (``.gsd``, read with gsd), a LAMMPS dump
        (``.lammpstrj``, ``.dump``, ``.lammpsdump``, optionally gzipped; with
        ``id type`` and coordinate columns), or any format MDAnalysis reads
        (DCD, XTC, TRR, H5MD, ... with ``topology``).
    topology : str or Path, optional
        Topology giving particle types (e.g. a LAMMPS data file, a PDB, or one
        of our GSD files) for trajectory-only formats.
    species : (N,) int or dict, optional
        Override of the species: an array of 0 (A) / 1 (B), or {type name: 0/1}.
    timestep : float, optional
        Integration step (tau) for formats that store step numbers (LAMMPS
        dump, XTC, GSD without 'softlib/time'): times = step x timestep.
    format : str, optional
        MDAnalysis format name when the extension does not tell it.

    Returns
    -------
    Trajectory

    Raises
    ------
    FileNotFoundError
        Missing file.
    ValueError
        Unknown format, changing N, non-orthorhombic or changing box, not two
        species, frames out of time order, empty or truncated file (also a gzip
        stream cut short), unsafe unwrapping, and a NaN or inf position (checked
        in every frame as it is read; the message names the file, frame and particle).
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"no trajectory at {path}: check the path (runs live in "
                                "build/<preset>/runs/T*_s*/linear.gsd)")
    if os.path.isfile(path) and os.path.getsize(path) == 0:
        raise ValueError(f"{path} is empty (0 bytes): the run or copy that wrote it did not get to write "
                         "a frame; rerun it or point at the right file")
    if topology is not None and not os.path.exists(os.fspath(topology)):
        raise FileNotFoundError(f"no topology at {os.fspath(topology)}")
    if timestep is not None and not float(timestep) > 0:
        raise ValueError(f"timestep must be positive, got {timestep}")
    ext = _base_ext(path)
    if (format or "").upper() == "GSD" or (format is None and ext == ".gsd"):
        return Trajectory(_GSDSource(path, species, timestep))
    if format is None and ext not in _DUMP_EXT:
        import MDAnalysis as mda

        known = set(mda._READERS)
        if ext.lstrip(".").upper() not in known:
            raise ValueError(
                f"{path}: unknown trajectory format {ext!r}; use GSD, a LAMMPS dump (.lammpstrj/.dump), "
                "or a format MDAnalysis reads (DCD, XTC, TRR, H5MD, ...), or pass format="
            )
    return Trajectory(_MDASource(path, topology, species, timestep, format))


def load_positions(path, frames=None):
    """Times (F,), species (N,), box (3,) and unwrapped positions (F, N, 3) of one trajectory file.

    A shortcut for ``load(path)[frames]`` as plain arrays; ``frames`` is an optional slice or
    index array.
    """
    tr = load(path)
    if frames is not None:
        tr = tr[frames]
    return np.asarray(tr.times), np.asarray(tr.species), np.asarray(tr.box), np.asarray(tr.positions)
