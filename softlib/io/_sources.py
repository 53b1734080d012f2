"""Trajectory sources behind :func:`softlib.io.trajectory.load`: in-memory arrays, GSD (gsd) and
everything MDAnalysis reads (LAMMPS dumps, DCD, XTC, TRR, H5MD, ...).

Every frame is checked as it is read: a non-finite position raises a ValueError that names
the file, the frame and the particle.
"""
from __future__ import annotations

import os
import warnings

import numpy as np

from .._checks import as_box, as_positions, as_species

#: unwrapping by continuity refuses jumps larger than this fraction of the smallest edge
MAX_STEP_FRACTION = 0.25
#: frames between stored image checkpoints of continuity unwrapping
_CHECKPOINT_EVERY = 64
_DUMP_EXT = (".lammpstrj", ".dump", ".lammpsdump", ".lammps")
_GSD_TIME = "log/softlib/time"


# --------------------------------------------------------------------------- helpers
def _map_species(types, override, n):
    """Species (N,) 0/1 from per-atom type names, or from the user's override."""
    if override is not None:
        if isinstance(override, dict):
            missing = sorted(set(types) - set(map(str, override)))
            if missing:
                raise ValueError(f"species dict lacks type(s) {missing}: map every type to 0 (A) or 1 (B)")
            table = {str(k): v for k, v in override.items()}
            return as_species(np.array([table[t] for t in types]), n=n)
        return as_species(override, n=n)
    names = sorted(set(types))
    if len(names) != 2:
        raise ValueError(
            f"found {len(names)} particle type(s) {names}; the binary-mixture analysis needs exactly two: "
            "pass species= an (N,) array of 0 (A) / 1 (B) or a dict {type: 0 or 1}"
        )
    upper = [t.upper() for t in names]
    if upper == ["A", "B"]:
        table = {names[0]: 0, names[1]: 1}
    elif names == ["1", "2"]:
        table = {"1": 0, "2": 1}
    else:
        raise ValueError(
            f"type names {names} are not 'A'/'B' or LAMMPS types 1/2: pass species= a dict "
            f"such as {{{names[0]!r}: 0, {names[1]!r}: 1}} (0 = A, the 80 % species)"
        )
    return np.array([table[t] for t in types], dtype=np.int32)


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


# --------------------------------------------------------------------------- sources
class _Source:
    """A readable trajectory: metadata in memory, positions on demand."""

    path = "<arrays>"
    mode = "unwrapped"  # 'unwrapped' (raw frames are unwrapped) or 'continuity'

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

    def _build_checkpoints(self):
        """One pass over the file storing the image counts every _CHECKPOINT_EVERY frames."""
        img = np.zeros((self.n_particles, 3), dtype=np.int64)
        prev, ckpts = None, []
        for i, x in enumerate(self._iter_raw()):
            if prev is not None:
                img -= self._jump(prev, x, i)
            if i % _CHECKPOINT_EVERY == 0:
                ckpts.append(img.copy())
            prev = x
        self._ckpts = ckpts
        self._state = None

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
        self.species = _map_species([types[t] for t in self._typeid], species, self.n_particles)
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


class _MDASource(_Source):
    """Any other format MDAnalysis reads (LAMMPS dump, DCD, XTC, TRR, H5MD, ...)."""

    def __init__(self, path, topology, species, timestep, fmt):
        import MDAnalysis as mda

        self.path = path
        kwargs = {}
        ext = _base_ext(path)
        is_dump = (fmt or "").upper() == "LAMMPSDUMP" or (fmt is None and ext in _DUMP_EXT)
        if is_dump:
            conv, unwrap = _read_dump(path, _dump_convention)
            kwargs = dict(format="LAMMPSDUMP", lammps_coordinate_convention=conv, unwrap_images=unwrap)
            if timestep is None:
                raise ValueError(f"{path} is a LAMMPS dump, which stores step numbers only: pass "
                                 "timestep= (e.g. 0.0025) to get times")
            self.mode = "unwrapped" if unwrap or conv in ("unwrapped", "scaled_unwrapped") else "continuity"
            _read_dump(path, _check_dump_complete)
        else:
            if fmt is not None:
                kwargs["format"] = fmt
            self.mode = "continuity"
        args = (path,) if topology is None else (os.fspath(topology), path)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                u = mda.Universe(*args, convert_units=False, **kwargs)
        except ImportError as e:
            raise ValueError(f"{path}: reading this format needs an optional package ({e}); install it") from None
        except Exception as e:  # noqa: BLE001 - MDAnalysis raises many types for unreadable input
            hint = "" if topology is not None or is_dump else "; formats without types need topology="
            raise ValueError(f"{path}: MDAnalysis cannot read it ({type(e).__name__}: {e}){hint}") from None
        self._u = u
        self.n_particles = len(u.atoms)
        self.n_frames = len(u.trajectory)
        if self.n_frames == 0:
            raise ValueError(f"{path} has no frames")
        try:
            types = [str(t) for t in u.atoms.types]
        except Exception:  # noqa: BLE001 - topology without types
            if species is None:
                where = "the topology has" if topology is not None else "no topology= was given, and the file has"
                raise ValueError(f"{path}: {where} no atom types: pass topology= (a file with types, "
                                 "e.g. a LAMMPS data file or one of our GSD files) or species=") from None
            types = ["?"] * self.n_particles
        self.species = _map_species(types, species, self.n_particles)
        # DCD's ts.data['step'] is a file offset: trust step numbers only where they are steps
        self._scan(timestep, is_dump or ext in (".xtc", ".trr", ".h5md"))

    def _scan(self, timestep, has_steps):
        """One pass: times, box, N; continuity checkpoints when needed."""
        times, box = [], None
        img = np.zeros((self.n_particles, 3), dtype=np.int64)
        prev, ckpts = None, []
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
                    step = ts.data.get("step") if has_steps else None
                    if timestep is not None and step is not None and not isinstance(step, bool):
                        times.append(int(step) * float(timestep))
                    else:
                        times.append(float(ts.time))
                    if self.mode == "continuity":
                        x = _check_finite(ts.positions.astype(np.float64), self.path, i)
                        if prev is not None:
                            img -= self._jump(prev, x, i)
                        if i % _CHECKPOINT_EVERY == 0:
                            ckpts.append(img.copy())
                        prev = x
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
        self.times = _check_times(times, self.path)
        self._ckpts, self._state = ckpts, None

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


def _read_dump(path, fn):
    """fn(path), turning what a truncated or corrupt (compressed) text file raises into a clear ValueError."""
    try:
        return fn(path)
    except EOFError as e:
        raise ValueError(f"{path}: the compressed file is truncated ({e}): it was cut short, e.g. by an "
                         "interrupted copy or write; copy or compress it again from the original") from None
    except (OSError, UnicodeDecodeError) as e:
        raise ValueError(f"{path}: cannot read it ({type(e).__name__}: {e}): the file is corrupt or not a "
                         "LAMMPS dump; copy it again from the original") from None


def _check_dump_complete(path):
    """A LAMMPS dump of fixed N has (N + 9) lines a frame; anything else is truncated or has changing N."""
    from MDAnalysis.lib.util import anyopen

    with anyopen(path) as f:
        for _ in range(3):
            f.readline()
        line = f.readline()
        try:
            n = int(line)
        except ValueError:
            raise ValueError(f"{path}: line 4 should be the number of atoms, got {line.strip()[:40]!r}: "
                             "not a LAMMPS dump (or a corrupt one)") from None
        lines = 4 + sum(1 for _ in f)
    if lines % (n + 9):
        raise ValueError(f"{path}: {lines} lines are not a whole number of frames of {n} particles "
                         f"({n + 9} lines each): the file is truncated or N changes; "
                         "cut the partial last frame or rerun")


def _dump_convention(path):
    """(MDAnalysis coordinate convention, unwrap with images?) from the first ATOMS header."""
    from MDAnalysis.lib.util import anyopen

    with anyopen(path) as f:
        for _ in range(50):
            line = f.readline()
            if not line:
                break
            if line.startswith("ITEM: ATOMS"):
                cols = set(line.split()[2:])
                break
        else:
            cols = set()
    if not cols:
        raise ValueError(f"{path}: no 'ITEM: ATOMS' header found; not a LAMMPS dump or empty")
    if "type" not in cols:
        raise ValueError(f"{path}: the dump has no 'type' column; write 'id type x y z' (and ix iy iz)")
    images = {"ix", "iy", "iz"} <= cols
    for conv, names in (("unwrapped", "xu yu zu"), ("scaled_unwrapped", "xsu ysu zsu"),
                        ("unscaled", "x y z"), ("scaled", "xs ys zs")):
        if set(names.split()) <= cols:
            wrapped = conv in ("unscaled", "scaled")
            return conv, bool(wrapped and images)
    raise ValueError(f"{path}: no coordinate columns (x y z, xs ys zs, xu yu zu or xsu ysu zsu) in the dump")
