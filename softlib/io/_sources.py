"""Trajectory sources behind :func:`softlib.io.trajectory.load`: in-memory arrays, GSD (gsd), LAMMPS
text dumps (read here, in float64, in one streaming pass) and everything else MDAnalysis reads (DCD,
XTC, TRR, H5MD, ...).

Every frame is checked as it is read: a non-finite position raises a ValueError that names
the file, the frame and the particle. Every error names the problem and the fix.
"""
from __future__ import annotations

import contextlib
import os
import warnings
import weakref
import zlib
from collections import namedtuple
from itertools import islice

import numpy as np

from .._checks import as_box, as_positions, as_species

#: unwrapping by continuity refuses jumps larger than this fraction of the smallest edge
MAX_STEP_FRACTION = 0.25
#: frames between stored image checkpoints of continuity unwrapping
_CHECKPOINT_EVERY = 64
_DUMP_EXT = (".lammpstrj", ".dump", ".lammpsdump", ".lammps")
_GSD_TIME = "log/softlib/time"
#: number fraction of the majority type that the default species mapping expects (the Kob-Andersen
#: 80:20 mixture), and its tolerance (N = 24 with 20 A gives 0.833)
X_MAJORITY, X_TOL = 0.8, 0.05
#: number densities N/V (per length unit cubed) accepted as reduced units in files other than GSD; KA has
#: 1.2 sigma_AA^-3, the same box in nm from sigma values taken as Angstrom 1200, in Angstrom 0.03
REDUCED_RHO = (0.1, 10.0)
#: relative tolerance of a timestep in a file against the one given (DCD headers hold float32)
_DT_RTOL = 1e-5


# --------------------------------------------------------------------------- species
def _natural(names):
    """Type names in natural order: numerically when all are integers ('1' < '2' < '10')."""
    if all(n.lstrip("-").isdigit() for n in names):
        return sorted(names, key=int)
    return sorted(names)


def _map_species(types, override, n, path="<arrays>"):
    """Species of per-particle type names: the one place where types become A and B.

    Parameters
    ----------
    types : sequence of str, length N
        Type name of every particle, in the order load returns them.
    override : None, (N,) array of 0/1 or 'A'/'B', or dict {type name: 'A'/'B' or 0/1}
        The caller's mapping (``species=``), obeyed whatever the composition.
    n : int
        Number of particles N.
    path : str
        File named in the messages.

    Returns
    -------
    species : (N,) int32
        0 = A, 1 = B.
    table : dict or None
        {type name: 0 or 1} used (None for an array override).
    swapped : bool
        True when the default made A the type that comes second in natural order ('2', 'B').

    Without an override the majority type is A; there must be exactly two types, and the majority's
    number fraction must be within X_TOL of X_MAJORITY, or the caller must say which type is A.
    """
    types = np.asarray(types, dtype=str)
    if override is not None:
        return _override_species(types, override, n)
    names, counts = np.unique(types, return_counts=True)
    count = dict(zip(names.tolist(), counts.tolist()))
    order = _natural(list(count))
    if len(order) != 2:
        raise ValueError(_not_two_types(path, count, order))
    major = order[1] if count[order[1]] > count[order[0]] else order[0]
    minor = order[0] if major == order[1] else order[1]
    x = count[major] / n
    if abs(x - X_MAJORITY) > X_TOL:
        raise ValueError(
            f"{path}: types {major!r} ({count[major]}) and {minor!r} ({count[minor]}) make a "
            f"{100 * x:.0f}:{100 * (1 - x):.0f} mixture, not the Kob-Andersen 80:20 (majority fraction "
            f"{X_MAJORITY} +- {X_TOL}), so which type is A cannot be taken from the counts: if this composition "
            f"is intended, say it with species={{{major!r}: 'A', {minor!r}: 'B'}} (in a data set file: "
            f'species = {{{major} = "A", {minor} = "B"}} in the [[runs]] table); otherwise check the type column'
        )
    return (types == minor).astype(np.int32), {major: 0, minor: 1}, major != order[0]


def _not_two_types(path, count, order):
    if len(order) < 2:
        return (f"{path}: all particles have type {order[0]!r}: the binary-mixture analysis needs exactly two "
                "species (A and B): check the type column, or pass species= an (N,) array of 0 (A) / 1 (B)")
    listed = ", ".join(f"{t!r} ({count[t]})" for t in order)
    example = ", ".join(f"{t!r}: {'A' if k == 0 else 'B'}" for k, t in enumerate(order))
    return (f"{path}: {len(order)} particle types {listed}; the binary-mixture analysis needs exactly two "
            f"species: pass species= a dict mapping every type to 'A' or 'B' (e.g. {{{example}}}) or an (N,) "
            "array of 0 (A) / 1 (B)")


def _override_species(types, override, n):
    """(species, table, False) of the caller's array or {type: species} dict."""
    if not isinstance(override, dict):
        return as_species(override, n=n), None, False
    table = {str(k): v for k, v in override.items()}
    missing = sorted(set(types.tolist()) - set(table))
    if missing:
        raise ValueError(f"species dict lacks type(s) {missing}: map every type to 0 (A) or 1 (B)")
    species = as_species(np.array([table[t] for t in types.tolist()]), n=n)
    first = {t: k for k, t in reversed(list(enumerate(types.tolist())))}
    return species, {t: int(species[k]) for t, k in first.items()}, False


# --------------------------------------------------------------------------- checks
def _check_times(times, path):
    times = np.asarray(times, dtype=float)
    if times.size > 1:
        bad = np.flatnonzero(np.diff(times) <= 0)
        if bad.size:
            i = int(bad[0]) + 1
            raise ValueError(
                f"{path}: frames out of time order: frame {i} has t = {times[i]:g} after "
                f"t = {times[i - 1]:g}; a restarted run may have appended duplicate frames: "
                "remove them (softlib.io.gsd.truncate_after) or sort the file"
            )
    return times


def _check_finite(pos, path, frame):
    """Refuse a frame with NaN or inf positions, naming the file, the frame and the particle."""
    ok = np.isfinite(pos)
    if not ok.all():
        bad = np.flatnonzero(~ok.all(axis=1))
        raise ValueError(
            f"{path}: frame {frame}, particle {int(bad[0])} (0-based, in the order load returns) has a non-finite "
            f"position {pos[bad[0]].tolist()} ({bad.size} particle(s) in that frame): the file is corrupt "
            "or the run blew up; cut the trajectory before this frame or rerun from a checkpoint"
        )
    return pos


def _orthorhombic(dimensions, path, frame):
    d = np.asarray(dimensions, dtype=float) if dimensions is not None else None
    if d is None or d.size < 3 or not np.all(np.isfinite(d[:3])) or np.any(d[:3] <= 0):
        raise ValueError(f"{path}: frame {frame} has no periodic box; give a file with box information")
    if d.size == 6 and np.any(np.abs(d[3:] - 90.0) > 1e-3):
        raise ValueError(f"{path}: frame {frame} has a non-orthorhombic box (angles {d[3:].tolist()}); "
                         "only orthorhombic boxes are supported")
    return d[:3]


def _check_reduced_density(n, box, path, unit=None):
    """Refuse N/V outside REDUCED_RHO: the lengths are then not sigma_AA.

    Parameters
    ----------
    n : int
        Number of particles.
    box : (3,) float
        Box edges in the file's length unit.
    path : str
        File named in the message.
    unit : str, optional
        The length unit the format stores ('nm' for XTC and TRR); None when the format does not say.
    """
    rho = n / float(np.prod(box))
    if REDUCED_RHO[0] <= rho <= REDUCED_RHO[1]:
        return
    if unit == "nm":
        fix = ("the format stores nm; sigma values taken as Angstrom and converted to nm (MDAnalysis' default) "
               "come out 0.1x: write the file again with lengths in sigma_AA (MDAnalysis: "
               "mda.Writer(..., convert_units=False); LAMMPS 'units lj' writes dump xtc in sigma), or divide "
               "positions and box by sigma_AA in nm")
    else:
        fix = ("a run in physical units (LAMMPS 'units real' or 'metal': Angstrom) must be converted: divide "
               "positions and box by sigma_AA in the file's unit, or rerun with 'units lj'")
    raise ValueError(
        f"{path}: N/V = {rho:.4g} particles per {unit or 'length unit'}^3 is not a density in reduced units (the "
        f"Kob-Andersen liquid has 1.2 per sigma_AA^3; accepted {REDUCED_RHO[0]}-{REDUCED_RHO[1]}), so the lengths "
        f"are not sigma_AA (they are {(1.2 / rho) ** (1 / 3):.3g}x those of KA's density): {fix}"
    )


# --------------------------------------------------------------------------- sources
class _Source:
    """A readable trajectory: metadata in memory, positions on demand."""

    path = "<arrays>"
    mode = "unwrapped"  # 'unwrapped' (raw frames are unwrapped) or 'continuity'
    type_map = None  # {type name in the file: 0 (A) or 1 (B)} when types were mapped
    species_swapped = False  # the default mapping made the second type ('2', 'B') A, the majority

    def _raw(self, i):  # (N, 3) float64 as stored (wrapped in continuity mode)
        raise NotImplementedError

    def _iter_raw(self):
        for i in range(self.n_frames):
            yield self._raw(i)

    # continuity unwrapping -------------------------------------------------
    def _jump(self, prev, cur, i):
        d = cur - prev
        s = np.rint(d / self.box)
        step = np.abs(d - s * self.box).max() if d.size else 0.0
        limit = MAX_STEP_FRACTION * self.box.min()
        if step > limit:
            raise ValueError(
                f"{self.path}: a particle moves {step:.3f} between frames {i - 1} and {i}, more than "
                f"{MAX_STEP_FRACTION} of the box ({limit:.3f}): unwrapping by continuity is unsafe; "
                "write image flags or unwrapped coordinates, or denser frames"
            )
        return s.astype(np.int64)

    def _track(self, i, x):
        """Continuity unwrapping of frame i (frames in order from 0): image counts, checkpoints."""
        if i == 0:
            self._img, self._ckpts, self._state = np.zeros((self.n_particles, 3), dtype=np.int64), [], None
        else:
            self._img -= self._jump(self._prev, x, i)
        if i % _CHECKPOINT_EVERY == 0:
            self._ckpts.append(self._img.copy())
        self._prev = x

    def _build_checkpoints(self):
        """One pass over the file storing the image counts every _CHECKPOINT_EVERY frames."""
        for i, x in enumerate(self._iter_raw()):
            self._track(i, x)
        self._prev = self._img = None

    def _unwrapped(self, i):
        if self.mode == "unwrapped":
            return self._raw(i)
        st = self._state
        if st is None or st[0] > i or i // _CHECKPOINT_EVERY > st[0] // _CHECKPOINT_EVERY:
            c = (i // _CHECKPOINT_EVERY) * _CHECKPOINT_EVERY
            st = (c, self._raw(c), self._ckpts[c // _CHECKPOINT_EVERY].copy())
        p, x, img = st
        while p < i:  # walk forward frame by frame from the state
            p += 1
            y = self._raw(p)
            img = img - self._jump(x, y, p)
            x = y
        self._state = (p, x, img)
        return x + img * self.box

    def read(self, frames):
        """Unwrapped positions (len(frames), N, 3) float64 of increasing frame indices."""
        out = np.empty((len(frames), self.n_particles, 3))
        for k, i in enumerate(frames):
            out[k] = self._unwrapped(int(i))
        return out


class _ArraySource(_Source):
    def __init__(self, positions, species, box, times):
        self.positions = as_positions(positions, frames=True)
        self.n_frames, self.n_particles = self.positions.shape[:2]
        self.species = as_species(species, n=self.n_particles)
        self.box = as_box(box)
        self.times = _check_times(np.arange(self.n_frames, dtype=float) if times is None else times,
                                  self.path)
        if self.times.shape != (self.n_frames,):
            raise ValueError(f"times must have shape ({self.n_frames},), got {self.times.shape}")

    def _raw(self, i):
        return self.positions[i]


class _GSDSource(_Source):
    """Our GSD files (and HOOMD ones), read chunk by chunk with gsd."""

    def __init__(self, path, species, timestep):
        import gsd.hoomd

        self.path = path
        try:
            with gsd.hoomd.open(path, mode="r") as f:
                self._init(f, species, timestep)
        except (RuntimeError, OSError, KeyError) as e:
            raise ValueError(f"{path}: cannot read this GSD file ({e}); it is truncated or corrupt: "
                             "rerun or resume the simulation that wrote it") from None
        if self.mode == "continuity":
            self._build_checkpoints()

    def _chunk(self, fl, i, name):
        """Chunk of frame i, falling back to frame 0 (the HOOMD rule for unchanged data)."""
        if fl.chunk_exists(frame=i, name=name):
            return fl.read_chunk(frame=i, name=name)
        if fl.chunk_exists(frame=0, name=name):
            return fl.read_chunk(frame=0, name=name)
        return None

    def _init(self, f, species, timestep):
        fl = f.file
        nf = len(f)
        if nf == 0:
            raise ValueError(f"{self.path} has no frames")
        first = f[0]
        self.n_particles = int(first.particles.N)
        types = [str(t) for t in first.particles.types]
        self._typeid = np.asarray(first.particles.typeid).copy()
        self.species, self.type_map, self.species_swapped = _map_species(
            [types[t] for t in self._typeid], species, self.n_particles, self.path)
        steps, times, boxes, images = [], [], [], []
        for i in range(nf):
            n = self._chunk(fl, i, "particles/N")
            if n is not None and int(n[0]) != self.n_particles:
                raise ValueError(f"{self.path}: the number of particles changes from {self.n_particles} "
                                 f"to {int(n[0])} at frame {i}; only fixed N is supported")
            step = self._chunk(fl, i, "configuration/step")
            steps.append(0 if step is None else int(step[0]))
            t = fl.read_chunk(frame=i, name=_GSD_TIME) if fl.chunk_exists(frame=i, name=_GSD_TIME) else None
            times.append(None if t is None else float(t[0]))
            box = self._chunk(fl, i, "configuration/box")
            boxes.append(np.array([1, 1, 1, 0, 0, 0.0]) if box is None else np.asarray(box, float))
            images.append(fl.chunk_exists(frame=i, name="particles/image"))
        boxes = np.array(boxes)
        if np.any(np.abs(boxes[:, 3:]) > 1e-12):
            raise ValueError(f"{self.path}: the box is tilted (triclinic); only orthorhombic boxes are supported")
        if np.any(np.abs(boxes[:, :3] - boxes[0, :3]) > 1e-9 * boxes[0, :3]):
            raise ValueError(f"{self.path}: the box changes between frames; only fixed-volume (NVT/NVE) "
                             "trajectories are supported")
        self.box = as_box(boxes[0, :3])
        self.n_frames = nf
        self.steps = np.array(steps, dtype=np.int64)
        if all(t is not None for t in times):
            self.times = _check_times(times, self.path)
        elif timestep is not None:
            self.times = _check_times(self.steps * float(timestep), self.path)
        else:
            raise ValueError(f"{self.path} stores step numbers but no times: pass timestep= "
                             "(e.g. 0.0025 for our KA runs)")
        # HOOMD rule: a chunk missing from a frame takes frame 0's value, else the default
        # (zero images). A file with no image chunk anywhere may be plainly wrapped: unwrap
        # by continuity (identical when nothing crosses, and checked when something does).
        self.mode = "unwrapped" if any(images) else "continuity"

    def _raw(self, i):
        import gsd.fl

        try:
            with gsd.fl.open(self.path, mode="r") as fl:
                pos = np.asarray(fl.read_chunk(frame=i, name="particles/position"), dtype=np.float64)
                tid = fl.read_chunk(frame=i, name="particles/typeid") if fl.chunk_exists(
                    frame=i, name="particles/typeid") else None
                img = self._chunk(fl, i, "particles/image") if self.mode == "unwrapped" else None
        except (RuntimeError, OSError, KeyError) as e:
            raise ValueError(f"{self.path}: cannot read frame {i} ({e}); the file is truncated or corrupt") from None
        if pos.shape != (self.n_particles, 3):
            raise ValueError(f"{self.path}: frame {i} holds positions of shape {pos.shape}, "
                             f"expected ({self.n_particles}, 3); the file is corrupt")
        _check_finite(pos, self.path, i)
        if tid is not None and not np.array_equal(tid, self._typeid):
            raise ValueError(f"{self.path}: particle types change at frame {i}; particles must keep "
                             "their species and order")
        if img is not None:
            pos = pos + img.astype(np.float64) * self.box
        return pos


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


def _base_ext(path):
    root, ext = os.path.splitext(os.fspath(path).lower())
    if ext in (".gz", ".bz2"):
        ext = os.path.splitext(root)[1]
    return ext
