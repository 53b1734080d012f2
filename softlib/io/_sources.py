"""Trajectory sources behind :func:`softlib.io.trajectory.load`: the species mapping, the checks every
source applies, the :class:`_Source` base (positions on demand, continuity unwrapping), in-memory arrays
and GSD (gsd). LAMMPS text dumps are read in :mod:`._lammps_dump`, everything else MDAnalysis reads
(DCD, XTC, TRR, H5MD, ...) in :mod:`._mda`; both build on this module.

Every frame is checked as it is read: a non-finite position raises a ValueError that names
the file, the frame and the particle. Every error names the problem and the fix.
"""
from __future__ import annotations

import os

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


# --------------------------------------------------------------------------- source choice
def _base_ext(path):
    root, ext = os.path.splitext(os.fspath(path).lower())
    if ext in (".gz", ".bz2"):
        ext = os.path.splitext(root)[1]
    return ext
