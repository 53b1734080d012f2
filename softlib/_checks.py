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


def _species_from_names(s):
    """Map names 'A'/'B' (any case, or numbers 0/1 among them) to 0/1; refuse anything else clearly."""
    out = np.empty(s.size, dtype=np.int64)
    bad = []
    for k, v in enumerate(s.tolist()):
        name = v.decode() if isinstance(v, bytes) else v
        digit = isinstance(name, str) and name.strip() in ("0", "1")
        integer = isinstance(name, (int, np.integer)) and not isinstance(name, bool) and name in (0, 1)
        if isinstance(name, str) and name.strip().upper() in ("A", "B"):
            out[k] = "AB".index(name.strip().upper())
        elif digit or integer:
            out[k] = int(name)
        elif name not in bad:
            bad.append(name)
    if bad:
        raise ValueError(
            f"unknown species {bad[:5]}: give 0 / 'A' for A and 1 / 'B' for B; to map other type names "
            "(LAMMPS types or type labels) pass species={type: 'A' or 'B'} to softlib.io.trajectory.load"
        )
    return out


def as_species(species, n=None):
    """Return species as int32 array of 0 (A) and 1 (B).

    Accepts integers 0/1 (or integral floats) and the names 'A'/'B' (str, any case).
    """
    s = np.asarray(species)
    if s.ndim != 1:
        raise ValueError(f"species must be a 1-d array of 0 (A) / 1 (B), got shape {s.shape}")
    if s.size == 0:
        raise ValueError("species is empty: there are no particles")
    if s.dtype.kind in "USO":
        s = _species_from_names(s)
    elif not np.issubdtype(s.dtype, np.integer):
        if s.dtype.kind in "fb" and np.all(np.mod(s, 1) == 0):
            s = s.astype(np.int64)
        else:
            raise ValueError(f"species must be integers 0 (A) or 1 (B) or names 'A'/'B', got dtype {s.dtype}")
    bad = np.setdiff1d(np.unique(s), [0, 1])
    if bad.size:
        raise ValueError(
            f"unknown species {bad.tolist()}: use 0 for A and 1 for B "
            "(map LAMMPS types 1/2 or names 'A'/'B' with softlib.io.trajectory.load)"
        )
    if n is not None and s.size != n:
        raise ValueError(f"species has {s.size} entries but there are {n} particles")
    return np.ascontiguousarray(s, dtype=np.int32)


#: Closest pair distance (sigma_AA) a Kob-Andersen configuration can have. At r = 0.5 the LJ energy of
#: the softest pair, AB (eps 1.5, sigma 0.8), is 4 * 1.5 * (1.6**12 - 1.6**6) = 1590 eps_AA (AA 16000,
#: BB 1720): a Boltzmann factor below exp(-790) even at T = 2. Simulated KA liquids (T = 0.6-1.0,
#: N = 500) have no pair closer than 0.74. A closer pair means a duplicated particle, coordinates in
#: other units or scaled, a wrong box, or a blown-up run.
MIN_PAIR_DISTANCE = 0.5
#: Two particles closer than this (sigma_AA) sit at the same place: a duplicated particle in any system.
#: The default of the generic estimators (g(r), S(q), local g(r)), which also serve non-interacting
#: (ideal-gas) references; an ideal gas at rho = 1.2 has such a pair with probability ~ 2.5e-9 N per frame.
COINCIDENT = 1e-3


def check_no_overlap(positions, box, min_distance=MIN_PAIR_DISTANCE, what="the configuration"):
    """Refuse a pair of particles closer than ``min_distance`` (minimum image) in any frame.

    positions (N, 3) or (F, N, 3), finite (see :func:`as_positions`); ``min_distance=None`` skips the check.
    """
    if min_distance is None:
        return
    md = float(min_distance)
    if not (np.isfinite(md) and md > 0):
        raise ValueError(f"min_distance must be a positive distance (sigma_AA) or None, got {min_distance!r}")
    from scipy.spatial import cKDTree

    L = as_box(box)
    p = np.asarray(positions, dtype=float)
    for f, x in enumerate(p[None] if p.ndim == 2 else p):
        w = np.mod(x, L)
        w = np.where(w >= L, 0.0, w)  # np.mod of a tiny negative number can round up to L
        pairs = cKDTree(w, boxsize=L).query_pairs(md, output_type="ndarray")
        if len(pairs):
            d = x[pairs[:, 1]] - x[pairs[:, 0]]
            d -= L * np.rint(d / L)
            r = np.sqrt((d * d).sum(1))
            k = int(np.argmin(r))
            i, j = (int(v) for v in pairs[k])
            where = f"frame {f}, " if p.ndim == 3 else ""
            raise ValueError(
                f"{what}: {where}particles {i} and {j} are {r[k]:.3g} sigma_AA apart, closer than {md:g} "
                f"({len(pairs)} such pair(s)): overlapping particles, which no Kob-Andersen liquid has (its "
                "closest pairs are ~0.7 apart); a particle is duplicated, the coordinates are scaled or in "
                "other units, or the box is wrong. Fix the input (min_distance=None skips this check for "
                "a non-interacting reference)"
            )


def as_temperature(T):
    """Return T as a positive float."""
    try:
        t = float(T)
    except (TypeError, ValueError):
        raise ValueError(f"temperature must be a number, got {T!r}") from None
    if not np.isfinite(t) or t <= 0:
        raise ValueError(f"temperature must be positive (k_B T in eps_AA), got {T}")
    return t


def check_box_cutoff(box, cutoff, what="the KA cutoff 2.5"):
    """The minimum-image convention needs every box edge > 2 * cutoff.

    Parameters
    ----------
    box : float or (3,) array_like
        Box edges (sigma_AA).
    cutoff : float
        Largest distance at which neighbours are looked for (sigma_AA).
    what : str
        What sets the cutoff, for the message.

    Returns
    -------
    (3,) float ndarray, the validated box.
    """
    b = as_box(box)
    if np.any(b <= 2.0 * cutoff):
        n_min = int(np.floor(1.2 * (2.0 * cutoff) ** 3)) + 1
        raise ValueError(
            f"box {b.round(4).tolist()} is not larger than twice the cutoff {cutoff:.3f} ({what}), as the "
            f"minimum-image convention needs: use more particles (at rho = 1.2, N >= {n_min}) or a smaller "
            "cutoff"
        )
    return b


#: the two pair types whose integrals define the depth (A is the tagged species)
PAIRS = ("AA", "AB")


def check_limits(limits):
    """Validate integration limits {'AA': (r_lo, r_hi), 'AB': (r_lo, r_hi)} and return them as floats.

    Both ends must be finite with 0 < r_lo < r_hi (sigma_AA): the limits come from
    :func:`softlib.analysis.caging.integration_limits` or a calibration file.
    """
    if not isinstance(limits, dict) or any(k not in limits for k in PAIRS):
        raise ValueError(
            f"limits must map 'AA' and 'AB' to (r_lo, r_hi), got {limits!r}: take them from "
            "softlib.analysis.caging.integration_limits or calibration['per_temperature'][T]['limits']"
        )
    out = {}
    for k in PAIRS:
        try:
            lo, hi = (float(x) for x in limits[k])
        except (TypeError, ValueError):
            raise ValueError(f"limits[{k!r}] = {limits[k]!r} must be two numbers (r_lo, r_hi)") from None
        if not (0 < lo < hi and np.isfinite(hi)):
            raise ValueError(f"limits[{k!r}] = ({lo}, {hi}) must satisfy 0 < r_lo < r_hi < inf")
        out[k] = (lo, hi)
    return out


def check_delta(delta):
    """The Gaussian width delta of Eq. 8 (sigma_AA) as a positive float."""
    try:
        d = float(delta)
    except (TypeError, ValueError):
        raise ValueError(f"delta must be a positive number (sigma_AA), got {delta!r}") from None
    if not np.isfinite(d) or d <= 0:
        raise ValueError(
            f"delta must be > 0 (width of the Gaussian in Eq. 8, sigma_AA; the paper uses 0.09), got {delta}"
        )
    return d
