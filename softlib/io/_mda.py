"""The MDAnalysis source behind :func:`softlib.io.trajectory.load`: every format MDAnalysis reads (DCD, XTC,
TRR, H5MD, ...), positions as stored and unwrapped by continuity, DCD times from the file's header.

Every frame is checked as it is read: a non-finite position raises a ValueError that names
the file, the frame and the particle. Every error names the problem and the fix.
"""
from __future__ import annotations

import os
import warnings

import numpy as np

from .._checks import as_box
from ._sources import (
    _DT_RTOL,
    _base_ext,
    _check_finite,
    _check_reduced_density,
    _check_times,
    _map_species,
    _orthorhombic,
    _Source,
)


# --------------------------------------------------------------------------- MDAnalysis
def _universe(path, topology, species, fmt):
    """An MDAnalysis Universe of the file, lengths and times as stored (no unit conversion)."""
    import MDAnalysis as mda

    h5md = (fmt or _base_ext(path).lstrip(".")).upper() == "H5MD"
    if h5md and topology is None and species is None:
        raise ValueError(
            f"{path}: an H5MD file read without topology= gives no particle types (MDAnalysis reads no species "
            "from it): pass topology= a file with the same particles and their types (a LAMMPS data file, a PDB "
            "or one of our GSD files), or species= an (N,) array of 0 (A) / 1 (B) in the file's particle order"
        )
    kwargs = {} if fmt is None else {"format": fmt}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if topology is not None:
                return mda.Universe(os.fspath(topology), path, convert_units=False, **kwargs)
            if h5md:  # mda.Universe(path) fails on H5MD alone (TypeError): N particles, no types
                from MDAnalysis.coordinates.H5MD import H5MDReader

                u = mda.Universe.empty(H5MDReader.parse_n_atoms(path), trajectory=False)
                u.load_new(path, format="H5MD", convert_units=False)
                return u
            return mda.Universe(path, convert_units=False, **kwargs)
    except ImportError as e:
        raise ValueError(f"{path}: reading this format needs an optional package ({e}); install it") from None
    except Exception as e:  # noqa: BLE001 - MDAnalysis raises many types for unreadable input
        hint = "" if topology is not None else "; formats without types need topology="
        raise ValueError(f"{path}: MDAnalysis cannot read it ({type(e).__name__}: {e}){hint}") from None


def _mda_types(u, path, topology, species):
    """Type names (N,) of the Universe's particles; without types only an array species= will do."""
    try:
        return np.asarray(u.atoms.types, dtype=str)
    except Exception:  # noqa: BLE001 - topology without types
        if species is None:
            where = "the topology has" if topology is not None else "no topology= was given, and the file has"
            raise ValueError(f"{path}: {where} no atom types: pass topology= (a file with types, "
                             "e.g. a LAMMPS data file or one of our GSD files) or species=") from None
        return np.full(len(u.atoms), "?")


def _is_dcd(path, fmt):
    return (fmt or _base_ext(path).lstrip(".")).upper() in ("DCD", "LAMMPS")


def _dcd_times(path, timestep):
    """Times (F,) of a DCD's frames from its header: (istart + k nsavc) x delta.

    delta is the header's timestep (LAMMPS writes it; HOOMD writes 0): without it ``timestep`` gives it;
    with both they must agree. A header without a frame interval (nsavc = 0) gives no times.
    MDAnalysis' ts.time is no substitute: it converts delta from AKMA to ps whatever the units.
    """
    from MDAnalysis.lib.formats.libdcd import DCDFile

    try:
        with DCDFile(path) as f:
            header, n_frames = f.header, f.n_frames
    except (OSError, RuntimeError, ValueError) as e:
        raise ValueError(f"{path}: cannot read the DCD header ({e}); the file is truncated or corrupt") from None
    istart, nsavc = int(header["istart"]), int(header["nsavc"])
    delta = float(str(np.float32(header["delta"])))  # the float32 field as written: 0.0025, not 0.00249999994
    if nsavc <= 0:
        raise ValueError(f"{path}: the DCD header has no frame interval (nsavc = {nsavc}), so the frames' times "
                         "are unknown: write the DCD with it (LAMMPS dump dcd and MDAnalysis' DCDWriter(nsavc=) "
                         "do), or convert the trajectory to a LAMMPS dump or GSD, which keep step numbers")
    if timestep is not None and delta > 0 and abs(delta - timestep) > _DT_RTOL * timestep:
        raise ValueError(f"{path}: the DCD header's timestep {delta:g} disagrees with the timestep given, "
                         f"{timestep:g} (the data set's timestep): correct the timestep in the data set file "
                         "(or load(timestep=)), or check that this is the right file")
    dt = float(timestep) if timestep is not None else delta
    if not dt > 0:
        raise ValueError(f"{path}: the DCD header has no timestep (delta = {delta:g}; HOOMD and some writers leave "
                         "it out), so the frames' times are unknown: give it, e.g. timestep = 0.0025 in the data "
                         "set's [[runs]] table, or load(..., timestep=0.0025)")
    return (istart + nsavc * np.arange(n_frames)) * dt


class _MDASource(_Source):
    """Formats MDAnalysis reads (DCD, XTC, TRR, H5MD, ...): positions as stored (float32), unwrapped by
    continuity; lengths not converted, and checked to be reduced units where the format says nm."""

    mode = "continuity"

    def __init__(self, path, topology, species, timestep, fmt):
        self.path = path
        dcd_times = _dcd_times(path, timestep) if _is_dcd(path, fmt) else None  # before MDAnalysis trips on it
        self._u = u = _universe(path, topology, species, fmt)
        self.n_particles = len(u.atoms)
        self.n_frames = len(u.trajectory)
        if self.n_frames == 0:
            raise ValueError(f"{path} has no frames")
        types = _mda_types(u, path, topology, species)
        self.species, self.type_map, self.species_swapped = _map_species(types, species, self.n_particles, path)
        unit = "nm" if (u.trajectory.units or {}).get("length") == "nm" else None  # XTC, TRR; H5MD saying nm
        _check_reduced_density(self.n_particles, _orthorhombic(u.trajectory.ts.dimensions, path, 0), path, unit)
        steps, file_times = self._scan()
        times = dcd_times if dcd_times is not None else self._times(steps, file_times, timestep)
        if len(times) != self.n_frames:
            raise ValueError(f"{path}: the DCD header counts {len(times)} frames but {self.n_frames} were read: "
                             "the file is truncated or corrupt")
        self.times = _check_times(times, path)

    def _times(self, steps, file_times, timestep):
        """Times (F,) of a file other than DCD: step x timestep where it has steps, else its own."""
        if timestep is not None and None not in steps:
            return np.asarray(steps, dtype=float) * float(timestep)
        if None in file_times:
            fix = ("pass timestep= (in a data set file: timestep = 0.0025)" if None not in steps else
                   "convert it to a format that keeps times or step numbers (GSD, a LAMMPS dump, XTC)")
            raise ValueError(f"{self.path}: the file stores no times: {fix}")
        return np.asarray(file_times, dtype=float)

    def _scan(self):
        """One pass: steps and times as stored, box, N; continuity checkpoints."""
        steps, times, box = [], [], None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # MDAnalysis warns about missing dt on every frame
            try:
                for i, ts in enumerate(self._u.trajectory):
                    b = _orthorhombic(ts.dimensions, self.path, i)
                    if box is None:
                        box = b
                        self.box = as_box(b)
                    elif np.any(np.abs(b - box) > 1e-6 * box):
                        raise ValueError(f"{self.path}: the box changes at frame {i}; only fixed-volume "
                                         "trajectories are supported")
                    if ts.n_atoms != self.n_particles:
                        raise ValueError(f"{self.path}: the number of particles changes at frame {i}")
                    step = ts.data.get("step")
                    steps.append(None if step is None or isinstance(step, bool) else int(step))
                    times.append(ts.data.get("time"))
                    self._track(i, _check_finite(ts.positions.astype(np.float64), self.path, i))
            except ValueError as e:
                if str(e).startswith(self.path):
                    raise
                raise ValueError(f"{self.path}: cannot read frame {len(times)} ({e}); the file is truncated, "
                                 "corrupt, or its number of particles changes") from None
            except (EOFError, IndexError, OSError, RuntimeError) as e:
                raise ValueError(f"{self.path}: cannot read frame {len(times)} ({type(e).__name__}: {e}); "
                                 "the file is truncated or corrupt") from None
        if len(times) != self.n_frames:
            raise ValueError(f"{self.path}: {self.n_frames} frames announced but {len(times)} read: "
                             "the file is truncated")
        self._prev = self._img = None
        return steps, times

    def _raw(self, i):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ts = self._u.trajectory[i]
        return _check_finite(ts.positions.astype(np.float64), self.path, i)
