"""The softness field in real space (notebook 05): a slab of the liquid, every A particle a disc coloured by
its local softness S, the particles that rearrange within the next tau_alpha ringed, at a time t0 and a few
tau_alpha later (after Fig. 1 of Schoenholz et al., Nat. Phys. 12, 469 (2016)).

field_snapshot      the arrays of both panels: slab members, their S, which of them rearrange, and the
                    enrichment of rearranging particles among the softest fifth of all A particles
fig_softness_field  the two panels with one colour scale

A particle *rearranges within [t, t + tau_alpha]* when its p_hop exceeds p_c at some dense frame in that
interval: the criterion of notebook 05's P_R(S) (``rearrangement_stage.pool_rearrangements``), with the same
p_hop window and threshold.
"""
from __future__ import annotations

import numpy as np

from ..analysis.rearrangements import match_frames
from .plotting import UNITS


def _plt():
    import matplotlib.pyplot as plt

    return plt


def rearranging_within(p_hop, times, t_start, duration, p_c):
    """Which particles have p_hop > p_c at some frame of [t_start, t_start + duration].

    Parameters
    ----------
    p_hop : (F, N) float
        p_hop on the dense frames (sigma_AA^2; NaN where its window does not fit, never counted).
    times : (F,) float
        Frame times (tau).
    t_start, duration : float
        The interval (tau), both ends included.
    p_c : float
        Threshold (sigma_AA^2).

    Returns
    -------
    (N,) bool.
    """
    t = np.asarray(times, dtype=float)
    rows = (t >= t_start - 1e-9) & (t <= t_start + duration + 1e-9)
    with np.errstate(invalid="ignore"):
        return np.any(np.asarray(p_hop)[rows] > p_c, axis=0)


def slab_members(positions, box, thickness, axis=2, centre=None):
    """Particles of a periodic slab and their in-plane coordinates.

    Parameters
    ----------
    positions : (N, 3) float
        Positions (sigma_AA), wrapped or not.
    box : (3,) float
        Edge lengths of the orthorhombic box (sigma_AA).
    thickness : float
        Slab thickness (sigma_AA) along ``axis``.
    axis : int
        Normal of the slab (0, 1, 2 for x, y, z).
    centre : float, optional
        Slab centre along ``axis`` (sigma_AA, taken modulo the box); default: half the box.

    Returns
    -------
    inside : (N,) bool
        Minimum-image distance from the mid-plane <= thickness / 2.
    plane : (N, 2) float
        The two other coordinates wrapped into [0, L) (sigma_AA), in axis order.
    """
    box = np.asarray(box, dtype=float)
    pos = np.asarray(positions, dtype=float)
    L = box[axis]
    c = 0.5 * L if centre is None else float(centre)
    d = np.mod(pos[:, axis] - c + 0.5 * L, L) - 0.5 * L
    others = [k for k in range(3) if k != axis]
    return np.abs(d) <= 0.5 * thickness, np.mod(pos[:, others], box[others])


def _horizon(t, p_hop, tau_alpha, later):
    """How far ahead rearrangements are looked for (tau): tau_alpha where the run has p_hop over that long,
    else (also for a NaN tau_alpha) a (later + 1)-th of the time with p_hop, with a note saying so."""
    defined = np.flatnonzero(np.isfinite(np.asarray(p_hop)).all(axis=1))
    if defined.size < 2:
        raise ValueError("p_hop is defined on fewer than 2 frames: the run is hardly longer than its window")
    t_lo, t_hi = t[defined[0]], t[defined[-1]]
    if np.isfinite(tau_alpha) and 0 < tau_alpha <= t_hi - t_lo:
        return float(tau_alpha), "", t_lo, t_hi
    h = (t_hi - t_lo) / (later + 1.0)
    return h, (f"tau_alpha = {tau_alpha:.3g} tau does not fit in the {t_hi - t_lo:.3g} tau where p_hop is defined: "
               f"rings mark p_hop > p_c within the next {h:.3g} tau"), t_lo, t_hi


def _panel_frames(t, soft_times, horizon, later, t_lo, t_hi, t0):
    """Trajectory frames (k0, k1) of the two panels among the softness frames whose [t, t + horizon] has p_hop:
    the first (or the one nearest ``t0``) and the one nearest t0 + later horizon (the last usable one when the
    run is shorter)."""
    k = match_frames(soft_times, t)
    usable = k[(t[k] >= t_lo - 1e-9) & (t[k] + horizon <= t_hi + 1e-9)]
    if usable.size == 0:
        raise ValueError(f"no softness frame t with p_hop over [t, t + {horizon:.3g}] (p_hop covers "
                         f"[{t_lo:g}, {t_hi:g}] tau): store the softness on more frames")
    k0 = usable[0] if t0 is None else usable[np.argmin(np.abs(t[usable] - t0))]
    k1 = usable[np.argmin(np.abs(t[usable] - min(t[k0] + later * horizon, t[usable[-1]])))]
    return int(k0), int(k1)


def _enrichment(S, marked, top=0.2):
    """Counts behind 'fraction of the rearranging particles among the softest ``top`` of all'."""
    ok = np.isfinite(S)
    s, m = S[ok], marked[ok]
    soft = s >= np.quantile(s, 1.0 - top)
    return {"n": int(s.size), "n_marked": int(m.sum()), "n_soft": int(soft.sum()),
            "n_marked_soft": int((m & soft).sum()),
            "marked_in_soft": float((m & soft).sum() / m.sum()) if m.any() else float("nan"),
            "soft_share": float(soft.mean()),
            "rate_soft": float(m[soft].mean()), "rate_all": float(m.mean())}


def _panel(inside, plane, a_index, is_b, S, marked):
    """One panel's arrays: the slab's A particles (``column``, ``xy``, ``S``, ``marked``), its B particles
    (``xy_B``) and the enrichment over all A particles (``S``, ``marked``: (N_A,) of the whole box)."""
    col = np.flatnonzero(inside[a_index])
    return {"xy": plane[a_index][col], "S": S[col], "marked": marked[col], "column": col,
            "xy_B": plane[is_b & inside], "enrichment": _enrichment(S, marked)}


def field_snapshot(trajectory, soft, trace, p_c, tau_alpha, later=3.0, thickness=1.8, axis=2, centre=None,
                   t0=None):
    """The data of the softness-field figure: one slab at two times.

    Parameters
    ----------
    trajectory : Trajectory
        The run's dense frames (``ctx.source(tag).open('linear')`` or
        :meth:`softlib.io.trajectory.Trajectory.from_arrays`): only the two panel frames are read.
    soft : dict
        The run's :func:`softlib.io.softness_store.read_softness` (``times`` (F_s,), ``softness`` (F_s, N_A)
        sigma_AA^2, ``a_index`` (N_A,)); its frames are frames of ``trajectory``.
    trace : dict
        ``t`` (F,) and ``p_hop`` (F, N_A) of the same run (``res[T]['trace']`` of notebook 05, columns in the
        order of ``a_index``).
    p_c, tau_alpha : float
        Threshold (sigma_AA^2) and structural relaxation time (tau) of the temperature. Where the run has p_hop
        over less than tau_alpha (or tau_alpha is NaN), the look-ahead ``horizon`` is a (later + 1)-th of
        that time instead, and ``note`` says so.
    later : float
        Second panel at t0 + ``later`` horizons, or at the last frame whose next horizon still has p_hop.
    thickness, axis, centre
        The slab (:func:`slab_members`; sigma_AA).
    t0 : float, optional
        First panel at the usable softness frame nearest t0 (tau); default: the first usable one, where p_hop
        is defined from t0 to t0 + horizon.

    Returns
    -------
    dict
        ``panels``: two dicts with ``t`` (tau), ``frame`` (trajectory frame), ``xy`` (n_A, 2) in-plane
        positions (sigma_AA) of the A particles of the slab, ``S`` (n_A,) their softness, ``marked`` (n_A,)
        rearranging within [t, t + horizon], ``column`` (n_A,) their softness columns, ``xy_B`` (n_B, 2),
        ``enrichment`` (:func:`_enrichment` over all A particles of the box: ``marked_in_soft``, the share
        of the rearranging particles that are in the softest fifth, against ``soft_share``, about 0.2);
        ``box`` (3,), ``axis``, ``thickness``, ``centre``, ``tau_alpha``, ``horizon`` (tau), ``note``, ``p_c``,
        ``later`` (the lag of the second panel in horizons, as drawn), ``S_scale`` (median, half-width) of the
        colour scale (sigma_AA^2).
    """
    a_index = np.asarray(soft["a_index"])
    S_all = np.asarray(soft["softness"], dtype=float)
    t_traj = np.asarray(trajectory.times, dtype=float)
    t_ph = np.asarray(trace["t"], dtype=float)
    if t_ph.shape != t_traj.shape or not np.allclose(t_ph, t_traj):
        raise ValueError("trace['t'] and the trajectory's frames differ: pass the trace of this run")
    horizon, note, t_lo, t_hi = _horizon(t_traj, trace["p_hop"], tau_alpha, later)
    k0, k1 = _panel_frames(t_traj, soft["times"], horizon, later, t_lo, t_hi, t0)
    sub = trajectory[np.array([k0, k1] if k1 != k0 else [k0])]
    pos, species, box = np.asarray(sub.positions), np.asarray(sub.species), np.asarray(sub.box, dtype=float)
    c = 0.5 * box[axis] if centre is None else float(np.mod(centre, box[axis]))
    is_b = np.ones(species.size, dtype=bool)
    is_b[a_index] = False
    row_of = {int(k): r for r, k in enumerate(match_frames(soft["times"], t_traj))}
    panels = []
    for j, k in enumerate((k0, k1)):
        marked = rearranging_within(trace["p_hop"], t_traj, t_traj[k], horizon, p_c)
        inside, plane = slab_members(pos[min(j, pos.shape[0] - 1)], box, thickness, axis, c)
        panels.append({"t": float(t_traj[k]), "frame": k, **_panel(inside, plane, a_index, is_b, S_all[row_of[k]],
                                                                    marked)})
    both = np.concatenate([S_all[row_of[k0]], S_all[row_of[k1]]])
    both = both[np.isfinite(both)]
    med = float(np.median(both))
    half = float(np.max(np.abs(np.quantile(both, [0.02, 0.98]) - med)))
    return {"panels": panels, "box": box, "axis": int(axis), "thickness": float(thickness), "centre": c,
            "tau_alpha": float(tau_alpha), "horizon": horizon, "note": note, "p_c": float(p_c),
            "later": (t_traj[k1] - t_traj[k0]) / horizon,
            "S_scale": (med, half)}


def _discs(ax, xy, diameter, **kw):
    """Discs of ``diameter`` (data units) at ``xy`` (n, 2); ``kw`` go to EllipseCollection."""
    from matplotlib.collections import EllipseCollection

    ec = EllipseCollection(diameter, diameter, 0.0, units="xy", offsets=xy, offset_transform=ax.transData, **kw)
    ax.add_collection(ec)
    return ec


def fig_softness_field(snap, T, cmap="RdBu_r", d_A=0.8, d_B=0.35):
    """Two panels of :func:`field_snapshot`: the slab at t0 and about ``snap['later']`` tau_alpha later.

    A particles: discs of diameter ``d_A`` (sigma_AA) coloured by S on one diverging scale centred on the
    median S of both frames (soft red, hard blue; clipped at the 2-98 % quantiles); rearranging within the
    next tau_alpha: black ring. B particles: small grey discs (``d_B``), drawn on top (they are small).

    Returns
    -------
    matplotlib Figure.
    """
    from matplotlib.colors import Normalize

    med, half = snap["S_scale"]
    norm = Normalize(med - half, med + half)
    names = "xyz"
    ax_names = [names[k] for k in range(3) if k != snap["axis"]]
    box = [snap["box"][k] for k in range(3) if k != snap["axis"]]
    fig, axes = _plt().subplots(1, 2, figsize=(11.5, 5.4), constrained_layout=True)
    ahead = r"\tau_\alpha" if not snap["note"] else rf"{snap['horizon']:.3g}\,\tau"
    for ax, p, title in zip(axes, snap["panels"], ("$t_0$", rf"$t_0 + {snap['later']:.1f}\,{ahead}$")):
        for ring in (False, True):  # rings after the other A discs, so that none covers them
            m = p["marked"] == ring
            ec = _discs(ax, p["xy"][m], d_A, cmap=cmap, norm=norm, edgecolors="k" if ring else "0.35",
                        linewidths=1.8 if ring else 0.3)
            ec.set_array(p["S"][m])
        _discs(ax, p["xy_B"], d_B, facecolors="0.55", edgecolors="w", linewidths=0.4)
        ax.set(xlim=(0, box[0]), ylim=(0, box[1]), aspect="equal", xlabel=f"${ax_names[0]}$ ({UNITS['r']})",
               ylabel=f"${ax_names[1]}$ ({UNITS['r']})",
               title=f"{title} = {p['t']:g} $\\tau$: {int(p['marked'].sum())} of {p['S'].size} A ringed")
    sm = _plt().cm.ScalarMappable(norm=norm, cmap=cmap)
    cb = fig.colorbar(sm, ax=axes, shrink=0.85, extend="both")
    cb.set_label(rf"local softness $S$ ({UNITS['S']})")
    cb.formatter.set_powerlimits((-2, 3))
    fig.suptitle(f"T = {T:.2f}: slab of {snap['thickness']:g} $\\sigma_{{AA}}$ normal to "
                 f"{names[snap['axis']]}; grey: B; black rings: $p_{{hop}} > p_c$ within the next "
                 + (f"$\\tau_\\alpha$ = {snap['tau_alpha']:.3g} $\\tau$" if not snap["note"]
                    else f"{snap['horizon']:.3g} $\\tau$ ($\\tau_\\alpha$ = {snap['tau_alpha']:.3g} $\\tau$ does not "
                         "fit in the run)"), fontsize=11)
    return fig
