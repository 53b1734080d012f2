"""Reading trajectories: GSD with gsd, LAMMPS text dumps with our own reader, everything else
through MDAnalysis.

:func:`load` returns a lazy :class:`Trajectory`: times, species and box are read
at once, positions only when asked for (``traj.positions``, a slice
``traj[a:b]`` or chunk by chunk with ``traj.iter_chunks(n)``), so a trajectory
larger than memory streams. Positions are always unwrapped, float64, in the
file's length unit (sigma_AA for ours; no reader converts units here, and files
whose format stores nm (XTC, TRR) must hold a reduced-unit density):

* from image flags where the file has them (our GSD, HOOMD GSD; LAMMPS dumps
  with ``ix iy iz``, scaled ``xs ys zs`` or not: x = xs L + ix L),
* as stored where the file has unwrapped columns (LAMMPS ``xu yu zu``, ``xsu ysu zsu``),
* otherwise by frame-to-frame minimum-image continuity, which is safe only
  when no particle moves more than a quarter of the box between frames;
  :func:`load` checks that and raises when frames are too far apart.

Precision is the file's: GSD, DCD and MDAnalysis hold float32 positions (XTC keeps three
decimals); a LAMMPS text dump is read in float64 as written. A LAMMPS dump's positions are
relative to its box corner (xlo, ylo, zlo); a constant shift changes no analysis here.

Species are 0 = A, 1 = B. By default the majority type is A, whatever the types are called
(LAMMPS 1/2, 'A'/'B', labels): the file must hold exactly two types in about the Kob-Andersen
80:20 proportion (``X_MAJORITY`` +- ``X_TOL``). Anything else needs ``species=`` (an (N,)
array, or a dict {type name: 'A'/'B' or 0/1}), which is obeyed as given.
"""
from __future__ import annotations

import os

import numpy as np

from ._lammps_dump import _DumpSource
from ._mda import _MDASource
from ._sources import (  # noqa: F401 - the constants and the sources are part of the namespace
    _DUMP_EXT,
    MAX_STEP_FRACTION,
    REDUCED_RHO,
    X_MAJORITY,
    X_TOL,
    _ArraySource,
    _base_ext,
    _GSDSource,
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
    type_map : dict or None
        {type name in the file: 0 (A) or 1 (B)} as mapped by :func:`load`; None for arrays.
    species_swapped : bool
        True when the default mapping made A the type that comes second ('2', 'B') because it
        is the majority.
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
    def type_map(self):
        return None if self._src.type_map is None else dict(self._src.type_map)

    @property
    def species_swapped(self):
        return bool(self._src.species_swapped)

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
        Trajectory file: our GSD (``.gsd``, read with gsd; HOOMD's too), a LAMMPS text
        dump (``.lammpstrj``, ``.dump``, ``.lammpsdump``, ``.lammps``, optionally gzip or
        bzip2 compressed; ``dump atom`` or ``dump custom`` with ``id type`` and coordinates;
        read by us in one streaming pass, in float64), or any format MDAnalysis reads (DCD,
        XTC, TRR, H5MD, ... with ``topology`` or ``species``).
    topology : str or Path, optional
        Topology giving particle types (e.g. a LAMMPS data file, a PDB, or one of our GSD
        files) for trajectory-only formats (DCD, XTC, TRR, H5MD).
    species : (N,) int or dict, optional
        The species, obeyed as given: an array of 0 (A) / 1 (B), or {type name: 'A'/'B' or
        0/1} covering every type. Without it the majority type is A, and the file must hold
        two types in about 80:20 (see the module docstring).
    timestep : float, optional
        Integration step (tau). Times are step x timestep for formats that store step numbers
        (LAMMPS dump, XTC, TRR, H5MD, GSD without 'softlib/time'). A DCD's times are
        (istart + k nsavc) x delta from its header; ``timestep`` stands in for a missing delta
        and must agree with a present one.
    format : str, optional
        'GSD', 'LAMMPSDUMP' or an MDAnalysis format name when the extension does not tell it.

    Returns
    -------
    Trajectory

    Raises
    ------
    FileNotFoundError
        Missing file.
    ValueError
        Unknown format; changing N, non-orthorhombic, non-periodic or changing box; not two
        species or, without ``species``, not about 80:20; frames out of time order; times
        missing (a dump or a DCD without timestep) or disagreeing with ``timestep``; lengths
        in nm that are not reduced units (XTC, TRR); a LAMMPS dump in other units than lj;
        H5MD without topology or species; empty or truncated file (also a gzip stream cut
        short); unsafe unwrapping; and a NaN or inf position (checked in every frame as it is
        read; the message names the file, frame and particle).
    """
    path = _checked_path(path, topology, timestep)
    kind = _kind(path, format)
    if kind == "GSD":
        return Trajectory(_GSDSource(path, species, timestep))
    if kind == "LAMMPSDUMP":
        return Trajectory(_DumpSource(path, species, timestep))
    return Trajectory(_MDASource(path, topology, species, timestep, format))


def _checked_path(path, topology, timestep):
    """The path as str, after refusing a missing or empty file, a missing topology and a bad timestep."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"no trajectory at {path}: check the path (runs live in "
                                "build/<preset>/runs/T*_s*/linear.gsd)")
    if os.path.isfile(path) and os.path.getsize(path) == 0:
        raise ValueError(f"{path} is empty (0 bytes): the run or copy that wrote it did not get to write "
                         "a frame; rerun it or point at the right file")
    if topology is not None and not os.path.exists(os.fspath(topology)):
        raise FileNotFoundError(f"no topology at {os.fspath(topology)}: check the path")
    if timestep is not None and not float(timestep) > 0:
        raise ValueError(f"timestep must be positive, got {timestep}")
    return path


def _kind(path, fmt):
    """'GSD', 'LAMMPSDUMP' or 'MDA' (MDAnalysis) from ``format`` or the extension."""
    if fmt is not None:
        return fmt.upper() if fmt.upper() in ("GSD", "LAMMPSDUMP") else "MDA"
    ext = _base_ext(path)
    if ext == ".gsd":
        return "GSD"
    if ext in _DUMP_EXT:
        return "LAMMPSDUMP"
    import MDAnalysis as mda

    if ext.lstrip(".").upper() not in set(mda._READERS):
        raise ValueError(
            f"{path}: unknown trajectory format {ext!r}; use GSD, a LAMMPS dump (.lammpstrj/.dump), "
            "or a format MDAnalysis reads (DCD, XTC, TRR, H5MD, ...), or pass format="
        )
    return "MDA"


def load_positions(path, frames=None):
    """Times (F,), species (N,), box (3,) and unwrapped positions (F, N, 3) of one trajectory file.

    A shortcut for ``load(path)[frames]`` as plain arrays; ``frames`` is an optional slice or
    index array.
    """
    tr = load(path)
    if frames is not None:
        tr = tr[frames]
    return np.asarray(tr.times), np.asarray(tr.species), np.asarray(tr.box), np.asarray(tr.positions)
