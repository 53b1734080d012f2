"""Validation at the public boundary: clear errors that name the problem and the fix."""
from __future__ import annotations

import numpy as np


def as_box(box, ndim_expected=3):
    """Return the box as a (3,) float64 array of positive edge lengths.

    Accepts a scalar (cubic box) or three lengths (orthorhombic box).
    """
    b = np.asarray(box, dtype=float)
    if b.ndim == 0:
        b = np.full(3, float(b))
    if b.shape != (3,):
        raise ValueError(
            f"box must be one edge length or three (Lx, Ly, Lz), got shape {b.shape}; "
            "triclinic boxes are not supported"
        )
    if not np.all(np.isfinite(b)) or np.any(b <= 0):
        raise ValueError(f"box lengths must be finite and positive, got {b}")
    return b


def as_positions(positions, n=None, frames=False):
    """Return positions as C-contiguous float64, shape (N, 3) or (F, N, 3)."""
    p = np.ascontiguousarray(positions, dtype=np.float64)
    want = 3 if frames else 2
    if p.ndim != want or p.shape[-1] != 3:
        shape = "(F, N, 3)" if frames else "(N, 3)"
        raise ValueError(f"positions must have shape {shape}, got {p.shape}")
    if n is not None and p.shape[-2] != n:
        raise ValueError(f"positions hold {p.shape[-2]} particles but species has {n}")
    if not np.all(np.isfinite(p)):
        bad = np.argwhere(~np.isfinite(p))[0]
        raise ValueError(
            f"positions contain NaN or inf (first at index {tuple(bad)}): "
            "the configuration is corrupt or the run blew up; restart from a checkpoint"
        )
    return p


def as_species(species, n=None):
    """Return species as int32 array of 0 (A) and 1 (B)."""
    s = np.asarray(species)
    if s.ndim != 1:
        raise ValueError(f"species must be a 1-d array of 0 (A) / 1 (B), got shape {s.shape}")
    if s.size == 0:
        raise ValueError("species is empty: there are no particles")
    if not np.issubdtype(s.dtype, np.integer):
        if np.all(np.mod(s, 1) == 0):
            s = s.astype(np.int64)
        else:
            raise ValueError(f"species must be integers 0 (A) or 1 (B), got dtype {s.dtype}")
    bad = np.setdiff1d(np.unique(s), [0, 1])
    if bad.size:
        raise ValueError(
            f"unknown species {bad.tolist()}: use 0 for A and 1 for B "
            "(map LAMMPS types 1/2 or names 'A'/'B' with softlib.io.trajectory.load)"
        )
    if n is not None and s.size != n:
        raise ValueError(f"species has {s.size} entries but there are {n} particles")
    return np.ascontiguousarray(s, dtype=np.int32)


def as_temperature(T):
    """Return T as a positive float."""
    try:
        t = float(T)
    except (TypeError, ValueError):
        raise ValueError(f"temperature must be a number, got {T!r}") from None
    if not np.isfinite(t) or t <= 0:
        raise ValueError(f"temperature must be positive (k_B T in eps_AA), got {T}")
    return t


def check_box_cutoff(box, cutoff):
    """Minimum-image convention needs every edge > 2 * cutoff."""
    b = as_box(box)
    if np.any(b <= 2.0 * cutoff):
        raise ValueError(
            f"box {b.round(4).tolist()} is smaller than twice the cutoff {cutoff:.3f}: "
            "use more particles (at rho = 1.2, N >= 150 for the KA cutoff 2.5) or a smaller cutoff"
        )
    return b
