"""The LAMMPS text-dump source behind :func:`softlib.io.trajectory.load`: plain, gzip or bzip2 dumps read
here, in float64, in one streaming pass (headers, atom-line offsets, species), positions on demand.

Every frame is checked as it is read: a non-finite position raises a ValueError that names
the file, the frame and the particle. Every error names the problem and the fix.
"""
from __future__ import annotations

import contextlib
import weakref
import zlib
from collections import namedtuple
from itertools import islice

import numpy as np

from .._checks import as_box
from ._sources import (
    _DT_RTOL,
    _check_finite,
    _check_reduced_density,
    _check_times,
    _map_species,
    _Source,
)

# --------------------------------------------------------------------------- LAMMPS text dumps
#: coordinate columns of a LAMMPS dump in order of preference: (names, scaled, unwrapped as stored)
_DUMP_COORDS = ((("xu", "yu", "zu"), False, True), (("xsu", "ysu", "zsu"), True, True),
                (("x", "y", "z"), False, False), (("xs", "ys", "zs"), True, False))
_IMAGES = ("ix", "iy", "iz")
#: columns read (id, 3 coordinates, 3 image flags or none), the type column, scaled?, unwrapped?
_Layout = namedtuple("_Layout", "usecols type_col scaled unwrapped")


def _open_bytes(path):
    """A binary stream of a plain, gzip or bzip2 file (told by its first bytes), decompressed as read."""
    with open(path, "rb") as f:
        magic = f.read(3)
    if magic[:2] == b"\x1f\x8b":
        import gzip
        return gzip.open(path, "rb")
    if magic == b"BZh":
        import bz2
        return bz2.open(path, "rb")
    return open(path, "rb")


@contextlib.contextmanager
def _dump_errors(path):
    """Turn what a truncated or corrupt (compressed) text file raises into a ValueError naming the fix."""
    try:
        yield
    except EOFError as e:
        raise ValueError(f"{path}: the compressed file is truncated ({e}): it was cut short, e.g. by an "
                         "interrupted copy or write; copy or compress it again from the original") from None
    except (OSError, UnicodeDecodeError, zlib.error) as e:
        raise ValueError(f"{path}: cannot read it ({type(e).__name__}: {e}): the file is corrupt or not a "
                         "LAMMPS dump; copy it again from the original") from None


class _Stream:
    """Lines of a (compressed) text file read forward from byte offsets; it rewinds only to go back."""

    def __init__(self, path):
        self.path, self._f, self._pos, self._close = path, None, 0, None

    def lines(self, offset, n):
        """The ``n`` lines (bytes) from byte ``offset`` of the (decompressed) text."""
        if self._f is None or offset < self._pos:
            self.close()
            self._f, self._pos = _open_bytes(self.path), 0
            self._close = weakref.finalize(self, self._f.close)
        if offset != self._pos:
            self._f.seek(offset)  # gzip and bzip2: decompresses forward, no copy kept
        out = list(islice(self._f, n))
        self._pos = offset + sum(map(len, out))
        return out

    def close(self):
        if self._close is not None:
            self._close()
        self._f = self._close = None


def _dump_header(f, path, frame):
    """The items of one frame up to its 'ITEM: ATOMS' line, and the bytes they take.

    Returns ``(None, nbytes)`` at the end of the file, else ``(h, nbytes)`` with h = {'step', 'n',
    'lo' (3,), 'box' (3,) edges, 'columns' [str], and 'time', 'units' when the dump has them}.
    """
    h, nbytes, started = {}, 0, False
    while True:
        line = f.readline()
        nbytes += len(line)
        if not line and not started:
            return None, nbytes
        if not line:
            raise _truncated_header(path, frame)
        text = line.decode().strip()
        if not text and not started:
            continue  # blank lines between frames
        if not line.endswith(b"\n"):
            raise _truncated_header(path, frame)
        started = True
        if not text.startswith("ITEM:"):
            raise ValueError(f"{path}: frame {frame}: expected an 'ITEM:' line, got {text[:60]!r}: not a LAMMPS "
                             "text dump, or a corrupt one (a frame with other than NUMBER OF ATOMS atom lines)")
        item = text[5:].strip()
        if item.startswith("ATOMS"):
            h["columns"] = item.split()[1:]
            return _checked_header(h, path, frame), nbytes
        rows = [f.readline() for _ in range(3 if item.startswith("BOX BOUNDS") else 1)]
        nbytes += sum(map(len, rows))
        if not rows[-1].endswith(b"\n"):
            raise _truncated_header(path, frame)
        _header_item(h, item, [r.decode().split() for r in rows], path, frame)


def _truncated_header(path, frame):
    return ValueError(f"{path}: the file ends inside the header of frame {frame}: it is truncated; cut the "
                      "partial last frame or copy the file again")


def _header_item(h, item, rows, path, frame):
    """Store the value of one header item in h (items LAMMPS does not write are skipped)."""
    if item.startswith("BOX BOUNDS"):
        h["lo"], h["box"] = _box_bounds(item, rows, path, frame)
        return
    keys = {"TIMESTEP": ("step", int), "NUMBER OF ATOMS": ("n", int), "TIME": ("time", float),
            "UNITS": ("units", str)}
    if item in keys:
        key, kind = keys[item]
        try:
            h[key] = kind(rows[0][0])
        except (IndexError, ValueError):
            raise ValueError(f"{path}: frame {frame}: cannot read ITEM: {item} (value {rows[0]}): the file is "
                             "corrupt or truncated; copy it again") from None


def _box_bounds(item, rows, path, frame):
    """(lo (3,), edges (3,)) of an orthorhombic 'BOX BOUNDS' item; a tilted or non-periodic box is refused."""
    flags = item.split()[2:]
    try:
        v = np.array([[float(x) for x in r] for r in rows])
    except ValueError:
        v = np.empty((0, 0))
    if "abc" in flags or v.shape not in ((3, 2), (3, 3)):
        text = " / ".join(map(" ".join, rows))
        raise ValueError(f"{path}: frame {frame}: cannot read 'ITEM: {item}' ({text}): a general triclinic or "
                         "corrupt box; only orthorhombic boxes (xlo xhi / ylo yhi / zlo zhi) are supported")
    if v.shape[1] == 3 and np.any(v[:, 2] != 0):
        raise ValueError(f"{path}: frame {frame} has a non-orthorhombic (triclinic) box, tilt factors "
                         f"xy xz yz = {v[:, 2].tolist()}; only orthorhombic boxes are supported")
    bounds = [b for b in flags if b not in ("xy", "xz", "yz")]
    if bounds and bounds != ["pp"] * 3:
        raise ValueError(f"{path}: frame {frame}: boundaries {' '.join(bounds)} are not periodic (pp pp pp): "
                         "the analysis needs a periodic box; dump a run with 'boundary p p p'")
    if np.any(v[:, 1] <= v[:, 0]) or not np.all(np.isfinite(v)):
        raise ValueError(f"{path}: frame {frame}: box bounds {v[:, :2].tolist()} are not a box; the file is corrupt")
    return v[:, 0], v[:, 1] - v[:, 0]


def _checked_header(h, path, frame):
    missing = [item for key, item in (("step", "TIMESTEP"), ("n", "NUMBER OF ATOMS"), ("lo", "BOX BOUNDS"))
               if key not in h]
    if missing:
        raise ValueError(f"{path}: frame {frame} has no ITEM: {', '.join(missing)}: not a LAMMPS text dump, or a "
                         "corrupt one; copy it again or write it with dump atom / dump custom")
    if h.get("units", "lj") != "lj":
        raise ValueError(f"{path}: the dump is in LAMMPS units {h['units']!r}, not 'lj': its lengths are not "
                         "sigma_AA nor its times tau; rerun with 'units lj', or convert positions, box and "
                         "timestep to reduced units and write the dump again")
    return h


def _dump_layout(columns, path):
    """The :data:`_Layout` of an 'ITEM: ATOMS' header: which columns give ids, types and positions."""
    col = {c: k for k, c in enumerate(columns)}
    for need, why in (("id", "LAMMPS writes atoms in any order, so they cannot be followed without ids"),
                      ("type", "the species come from it")):
        if need not in col:
            raise ValueError(f"{path}: the dump has no '{need}' column ({why}): write 'id type' and the "
                             "coordinates, e.g. dump custom ... id type xu yu zu, or dump atom")
    for names, scaled, unwrapped in _DUMP_COORDS:
        if all(c in col for c in names):
            images = not unwrapped and all(c in col for c in _IMAGES)
            use = ["id", *names, *(_IMAGES if images else ())]
            return _Layout([col[c] for c in use], col["type"], scaled, unwrapped or images)
    raise ValueError(f"{path}: no coordinate columns (xu yu zu, xsu ysu zsu, x y z or xs ys zs) in "
                     f"'ITEM: ATOMS {' '.join(columns)}': dump positions, best unwrapped (xu yu zu) or with "
                     "image flags (ix iy iz)")


def _atom_lines(f, n, path, frame):
    """The n atom lines (bytes) of one frame; fewer, or a last line cut short, is a truncated file."""
    lines = list(islice(f, n))
    if len(lines) < n or (n and not lines[-1].endswith(b"\n")):
        raise ValueError(f"{path}: frame {frame} ends after {len(lines)} of its {n} atom lines (or inside one): "
                         "the file is truncated; cut the partial last frame or copy the file again")
    return lines


def _dump_times(path, steps, file_times, timestep):
    """Times (F,) of a dump's frames: step x timestep, or its TIME items; both must agree."""
    have = all(t is not None for t in file_times)
    if timestep is None:
        if have:
            return np.asarray(file_times, dtype=float)
        raise ValueError(f"{path} is a LAMMPS dump, which stores step numbers only: pass timestep= (e.g. 0.0025; "
                         "in a data set file: timestep = 0.0025 in the [[runs]] table) to get times")
    times = steps * float(timestep)
    if have and not np.allclose(np.diff(file_times), np.diff(times), rtol=_DT_RTOL, atol=0.0):
        k = int(np.argmax(np.abs(np.diff(file_times) - np.diff(times))))
        raise ValueError(f"{path}: the dump's TIME items (t = {file_times[k]:g} -> {file_times[k + 1]:g}) disagree "
                         f"with step x timestep = {times[k]:g} -> {times[k + 1]:g} for timestep {timestep:g} (the "
                         "data set's timestep): correct the timestep given")
    return times


class _DumpSource(_Source):
    """A LAMMPS text dump (plain, gzip or bzip2): one streaming pass at load, positions in float64 on demand.

    Positions are relative to the box corner (xlo, ylo, zlo), in the dump's length unit (sigma_AA with
    'units lj'): xu - xlo; xsu L; (x - xlo) + ix L; xs L + ix L; or, with neither unwrapped columns nor
    image flags, x - xlo (or xs L) unwrapped by continuity.
    """

    def __init__(self, path, species, timestep):
        self.path = path
        self._stream = _Stream(path)
        with _dump_errors(path), _open_bytes(path) as f:
            steps, file_times = self._scan(f, species)
        self.steps = np.asarray(steps, dtype=np.int64)
        self.times = _check_times(_dump_times(path, self.steps, file_times, timestep), path)

    def _scan(self, f, species):
        """One pass: headers, byte offsets of the atom lines, species; continuity image counts."""
        steps, file_times, self._offsets, at = [], [], [], 0
        while True:
            i = len(steps)
            h, nbytes = _dump_header(f, self.path, i)
            if h is None:
                break
            at += nbytes
            self._frame_header(h, i)
            lines = _atom_lines(f, self.n_particles, self.path, i)
            self._offsets.append(at)
            at += sum(map(len, lines))
            if i == 0:
                self._first_frame(lines, species)
            if self.mode == "continuity":
                self._track(i, self._positions(lines, i))
            steps.append(h["step"])
            file_times.append(h.get("time"))
        if not steps:
            raise ValueError(f"{self.path} has no frames (no 'ITEM: TIMESTEP'): not a LAMMPS dump, or an empty one")
        self.n_frames, self._prev, self._img = len(steps), None, None
        return steps, file_times

    def _frame_header(self, h, i):
        """Take N, box and columns from frame 0; later frames must repeat them."""
        if i == 0:
            if h["n"] < 1:
                raise ValueError(f"{self.path}: frame 0 has no atoms (NUMBER OF ATOMS {h['n']}): dump the run's atoms")
            self.n_particles, self._lo, self.box = h["n"], h["lo"], as_box(h["box"])
            _check_reduced_density(self.n_particles, self.box, self.path)
            self._columns, self._layout = h["columns"], _dump_layout(h["columns"], self.path)
            self.mode = "unwrapped" if self._layout.unwrapped else "continuity"
            return
        if h["n"] != self.n_particles:
            raise ValueError(f"{self.path}: the number of atoms changes from {self.n_particles} to {h['n']} at "
                             f"frame {i}: the file is truncated or N changes; only a fixed N is supported: cut "
                             "the file before that frame")
        if h["columns"] != self._columns:
            raise ValueError(f"{self.path}: the atom columns change at frame {i} ({' '.join(h['columns'])} after "
                             f"{' '.join(self._columns)}): write every frame with the same dump command")
        if np.any(np.abs(np.r_[h["lo"] - self._lo, h["box"] - self.box]) > 1e-6 * self.box.max()):
            raise ValueError(f"{self.path}: the box changes at frame {i}; only fixed-volume (NVT/NVE) "
                             "trajectories are supported")

    def _first_frame(self, lines, species):
        """Particle ids and species from frame 0 (particles in id order)."""
        _, order = self._values(lines, 0)
        tc = self._layout.type_col
        try:
            types = [lines[k].split()[tc].decode() for k in order]
        except IndexError:
            raise ValueError(f"{self.path}: frame 0 has an atom line without a type column; the file is "
                             "corrupt") from None
        self.species, self.type_map, self.species_swapped = _map_species(types, species, self.n_particles,
                                                                         self.path)

    def _values(self, lines, i):
        """The used columns (N, 4 or 7) float64 of one frame's atom lines in id order, and that order."""
        try:
            v = np.loadtxt(b"".join(lines).decode().splitlines(), usecols=self._layout.usecols, ndmin=2)
        except (ValueError, UnicodeDecodeError) as e:
            raise ValueError(f"{self.path}: frame {i}: cannot read the atom lines ({e}): the file is corrupt; "
                             "copy it again or cut it before this frame") from None
        order = np.argsort(v[:, 0], kind="stable")
        v = v[order]
        if i == 0:
            self._ids = v[:, 0].copy()
            if np.any(np.diff(self._ids) == 0):
                raise ValueError(f"{self.path}: frame 0 lists a particle id twice; the file is corrupt")
        elif not np.array_equal(v[:, 0], self._ids):
            raise ValueError(f"{self.path}: frame {i} holds other particle ids than frame 0: the same particles "
                             "must be in every frame (no atoms added or deleted)")
        return v, order

    def _positions(self, lines, i):
        """Positions (N, 3) float64 of one frame in id order, from the box corner; unwrapped where stored."""
        v, _ = self._values(lines, i)
        p = v[:, 1:4] * self.box if self._layout.scaled else v[:, 1:4] - self._lo
        if v.shape[1] == 7:  # image flags
            p += v[:, 4:7] * self.box
        return _check_finite(p, self.path, i)

    def _raw(self, i):
        with _dump_errors(self.path):
            lines = self._stream.lines(self._offsets[i], self.n_particles)
        return self._positions(lines, i)
