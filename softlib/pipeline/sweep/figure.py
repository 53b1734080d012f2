"""The figure of a sweep: headline numbers against the swept parameter, the main build for reference."""
from __future__ import annotations

from .spec import MAIN, format_value
from .table import _number, _one, _points, _sel, parameter_columns


def _axis(df):
    """The x parameter (the first that varies among the points), its positions and tick labels."""
    import numpy as np

    cols = parameter_columns(df)
    pts = _points(df)
    rows = df.drop_duplicates("point").set_index("point")
    x = next((c for c in cols if rows.loc[pts, c].nunique() > 1), cols[0]) if pts else cols[0]
    vals = list(dict.fromkeys(rows.loc[pts + ([MAIN] if MAIN in rows.index else []), x]))
    numeric = all(isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_))
                  for v in vals)
    pos = {v: (float(v) if numeric else float(k)) for k, v in enumerate(vals)}
    return x, {p: pos[rows.loc[p, x]] for p in rows.index}, (None if numeric else vals)


def _series(df, x):
    """{label: [points]}: points grouped by the values of the parameters other than ``x``."""
    rows = df.drop_duplicates("point").set_index("point")
    others = [c for c in parameter_columns(df) if c != x]
    out = {}
    for p in _points(df):
        label = ", ".join(f"{c} = {format_value(rows.loc[p, c])}" for c in others) or "sweep"
        out.setdefault(label, []).append(p)
    return out


def _main_line(ax, df, quantity, low=None, high=None):
    v, _ = _one(df, quantity, MAIN)
    if v is None:
        return
    ax.axhline(v, color="0.4", ls=":", lw=1, label="main build")
    if low and high:
        lo, hi = _one(df, low, MAIN)[0], _one(df, high, MAIN)[0]
        if lo is not None and hi is not None:
            ax.axhspan(lo, hi, color="0.85", zorder=0)


def _scalar_panel(ax, df, x, pos, series, quantity, yerr="error", **kw):
    for k, (label, pts) in enumerate(series.items()):
        xs, ys, lo, hi = [], [], [], []
        for p in pts:
            d = _sel(df, quantity, p)
            if not len(d):
                continue
            v = float(d["value"].iloc[0])
            xs.append(pos[p])
            ys.append(v)
            if yerr == "interval":
                low, high = _one(df, f"{quantity}_low", p)[0], _one(df, f"{quantity}_high", p)[0]
                lo.append(0.0 if low is None else v - low)
                hi.append(0.0 if high is None else high - v)
            else:
                lo.append(_number(d["error"].iloc[0]) or 0.0)
                hi.append(lo[-1])
        if xs:
            order = sorted(range(len(xs)), key=xs.__getitem__)
            ax.errorbar([xs[i] for i in order], [ys[i] for i in order],
                        yerr=[[lo[i] for i in order], [hi[i] for i in order]], capsize=3,
                        color=f"C{k}", label=label if len(series) > 1 else None, **kw)


def _curves_panel(ax, df, quantity, xq=None, key="T", err=True):
    import matplotlib

    pts = _points(df)
    cmap = matplotlib.colormaps["viridis"]
    for k, p in enumerate(pts + ([MAIN] if MAIN in set(df["point"]) else [])):
        d = _sel(df, quantity, p).sort_values(key)
        if not len(d):
            continue
        xs = d[key].astype(float).to_numpy() if xq is None else \
            _sel(df, xq, p).set_index("bin").loc[d["bin"], "value"].to_numpy()
        style = {"color": "k", "ls": "--", "label": MAIN} if p == MAIN else \
            {"color": cmap(0.88 * k / max(1, len(pts) - 1)), "label": p}
        ax.errorbar(xs, d["value"], yerr=d["error"].fillna(0) if err else None, marker="o", ms=3, capsize=2,
                    **style)


def plot_sweep(df, title=""):
    """Headline numbers against the swept parameter (grey dotted: the main build, band: its interval).

    Panels: (a) fraction above the peak of P(S) and its baseline, (b) onset temperature with its interval,
    (c) slope of Delta E against S, (d) Delta E per softness bin, (e) p_c and (f) tau_alpha per temperature.
    """
    from ..figures import _plt
    from ..plotting import S_LABEL, UNITS, legend_outside

    fig, axes = _plt().subplots(2, 3, figsize=(15, 8))
    a = axes.ravel()
    if not len(df):
        fig.text(0.5, 0.5, "no point has results yet", ha="center")
        return fig
    x, pos, ticks = _axis(df)
    series = _series(df, x)
    line = {} if ticks is None else {"ls": "none"}  # categories: no line between them
    _scalar_panel(a[0], df, x, pos, series, "fraction_above_peak", marker="o", **line)
    _scalar_panel(a[0], df, x, pos, {f"{k} baseline": v for k, v in series.items()}, "baseline_above_peak",
                  marker="s", mfc="none", **({"ls": "--"} | line))
    _main_line(a[0], df, "fraction_above_peak")
    a[0].set(ylabel="fraction", title="(a) rearranging softer than the peak (o), baseline (s)")
    sel, _ = _one(df, "onset_fit_selective", MAIN)
    q = "onset_temperature_selective" if sel == 1.0 else "onset_temperature_all"
    _scalar_panel(a[1], df, x, pos, series, q, yerr="interval", marker="o", **line)
    _main_line(a[1], df, q, f"{q}_low", f"{q}_high")
    a[1].set(ylabel=f"$T^*$ ({UNITS['T']})", title=f"(b) onset temperature ({q.rsplit('_', 1)[-1]} temperatures)")
    _scalar_panel(a[2], df, x, pos, series, "barrier_slope_S", marker="o", **line)
    _main_line(a[2], df, "barrier_slope_S")
    a[2].axhline(0, color="k", lw=0.8)
    a[2].set(ylabel=r"$d\Delta E/dS$", title=r"(c) slope of $\Delta E$ against $S$")
    for ax in a[:3]:
        ax.set_xlabel(x)
        if ticks is not None:
            ax.set_xticks(range(len(ticks)), [format_value(t) for t in ticks])
            ax.margins(x=0.25)
    _curves_panel(a[3], df, "delta_E", xq="softness_bin_center", key="bin")
    a[3].set(xlabel=S_LABEL, ylabel=rf"$\Delta E$ ({UNITS['E']})", title=r"(d) barrier per softness bin")
    _curves_panel(a[4], df, "p_c", err=False)
    a[4].set(xlabel=f"$T$ ({UNITS['T']})", ylabel=f"$p_c$ ({UNITS['S']})", title="(e) $p_c$")
    _curves_panel(a[5], df, "tau_alpha", err=False)
    a[5].set(xlabel=f"$T$ ({UNITS['T']})", ylabel=rf"$\tau_\alpha$ ({UNITS['t']})", yscale="log",
             title=r"(f) $\tau_\alpha$")
    legend_outside(a[5])
    if len(series) > 1:
        legend_outside(a[2])
    fig.suptitle(f"sweep {title}" if title else "sweep")
    fig.tight_layout()
    return fig
