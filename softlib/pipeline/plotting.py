"""Small helpers the notebooks share: figure style, output folders, saving, printing numbers.

Kept out of the kernels on purpose: nothing here computes physics.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

#: axis-label units, Lennard-Jones units of the A-A interaction: lengths sigma_AA, energies eps_AA, T eps_AA/k_B,
#: times tau = sigma_AA sqrt(m / eps_AA)
UNITS = {"t": r"$\tau$", "r": r"$\sigma_{AA}$", "S": r"$\sigma_{AA}^2$", "inv_S": r"$\sigma_{AA}^{-2}$",
         "E": r"$\epsilon_{AA}$", "T": r"$\epsilon_{AA}/k_B$", "inv_T": r"$k_B/\epsilon_{AA}$",
         "P": r"$\epsilon_{AA}/\sigma_{AA}^3$", "q": r"$\sigma_{AA}^{-1}$"}

#: the x label of the local softness of Eq. 7
S_LABEL = rf"$S$ ({UNITS['S']})"


def legend_outside(ax, **kw):
    """A legend to the right of ``ax``, outside the frame, so that it hides no data.

    ``kw`` go to :meth:`matplotlib.axes.Axes.legend` (e.g. ``title``, ``ncol``); the saved figure grows to
    hold it (:func:`savefig` uses a tight bounding box).
    """
    kw = {"fontsize": 8, "loc": "upper left", "bbox_to_anchor": (1.02, 1.0), "borderaxespad": 0.0, **kw}
    kw.setdefault("title_fontsize", kw["fontsize"])
    return ax.legend(**kw)


def use_style():
    """The seaborn style of every figure of the compendium."""
    import seaborn as sns

    sns.set_theme(style="ticks", context="notebook")


def output_dirs(preset, data_dir="data", fig_dir="figures"):
    """``(data/<preset>, figures/<preset>)`` as Paths, created if missing."""
    data_out, fig_out = Path(data_dir) / preset, Path(fig_dir) / preset
    for d in (data_out, fig_out):
        d.mkdir(parents=True, exist_ok=True)
    return data_out, fig_out


def savefig(fig, name, folder=".", dpi=150):
    """Write ``fig`` as ``<folder>/<name>.png`` and ``.pdf`` (tight bounding box), atomically.

    Each file is drawn into memory and written through a temporary file and a rename
    (:func:`softlib.io.store.atomic_write_bytes`), so a process killed while saving leaves the
    previous figure intact, never a truncated one. The set-up of every notebook binds the
    folder once (``ctx.savefig``).
    """
    import io

    from ..io.store import atomic_write_bytes

    for ext in ("png", "pdf"):
        buf = io.BytesIO()
        fig.savefig(buf, format=ext, dpi=dpi, bbox_inches="tight")
        atomic_write_bytes(Path(folder) / f"{name}.{ext}", buf.getvalue())


def sig(x, n=2):
    """``x`` rounded to ``n`` significant digits (NaN for None or non-finite).

    Printed numbers that nbval compares go through this, so that last-digit noise between
    platforms does not fail the comparison.
    """
    if x is None or not np.isfinite(x):
        return float("nan")
    return float(f"{x:.{n}g}")


def sig_text(x, n=2):
    """``x`` with ``n`` significant digits as text ('nan' for None or non-finite).

    Plain digits between 1e-4 and 1e5 (700, not 7e+02; 0.00021), scientific notation outside.
    """
    if x is None or not np.isfinite(x):
        return "nan"
    if x == 0 or 1e-4 <= abs(x) < 1e5:
        return np.format_float_positional(float(f"{x:.{n}g}"), trim="-")
    return f"{x:.{n}g}"


def na(x, n=2, fmt=None):
    """``x`` with ``n`` significant digits (or the format ``fmt``), or 'n/a' where it is unavailable (None:
    e.g. the error of a line through two points)."""
    if x is None:
        return "n/a"
    return format(x, fmt) if fmt else sig(x, n)


def tf(x):
    """A temperature with two decimals ('nan' when missing, 'inf' when lines never cross at T > 0)."""
    return "nan" if x is None else f"{x:.2f}"


def pm(d, scale=100, unit=" %"):
    """``{'value': v, 'error': e}`` as text, by default in per cent: '64 % +- 3 %'."""
    return f"{scale * d['value']:.0f}{unit} +- {scale * d['error']:.1g}{unit}"


def column(rows, width):
    """Right-aligned cells of one printed table row."""
    return "".join(f"{c:>{width}}" for c in rows)
